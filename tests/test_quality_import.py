"""`router-opt quality import --evals`: accuracy, counts and the Wilson bound per model and task type."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path

import pytest
from scipy.stats import binomtest
from typer.testing import CliRunner

from router_opt.cli import app
from router_opt.errors import InputError, RouterOptError
from router_opt.importers.common import PricedModel, PriceSource, build_catalog
from router_opt.importers.quality import QualityFile, load_quality, quality_from_evals, wilson_interval
from router_opt.importers.tiers import load_tier_mapping

runner = CliRunner()


@pytest.mark.parametrize(
    ("k", "n"), [(0, 10), (1, 10), (5, 10), (10, 10), (37, 50), (188, 200), (999, 1000), (3, 7), (1, 1)]
)
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_wilson_matches_scipy(k, n, confidence):
    ours = wilson_interval(k, n, confidence)
    ci = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert ours[0] == pytest.approx(ci.low, abs=1e-12)
    assert ours[1] == pytest.approx(ci.high, abs=1e-12)


def test_wilson_closed_form_by_hand():
    # 188 / 200 at 95%: p = 0.94, z = 1.959964
    z, p, n = 1.959963984540054, 0.94, 200
    lower = (p + z * z / (2 * n) - z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))) / (1 + z * z / n)
    assert wilson_interval(188, 200)[0] == pytest.approx(lower, rel=1e-12)
    assert round(lower, 4) == 0.8981


def _evals(tmp_path: Path) -> Path:
    """model-a: classification 18/20, code 6/10; model-b: classification 10/20 (and one prompt not
    run), code scores 0.5 each; a text column and a prompt-id column that are not models."""
    rows = ["prompt_id,prompt,task_type,model-a,model-b"]
    for i in range(20):
        b = "" if i == 19 else ("1" if i < 10 else "0")
        rows.append(f'{i + 1},"Classify ticket {i}",classification,{1 if i < 18 else 0},{b}')
    for i in range(10):
        rows.append(f"{21 + i},Write code {i},code_generation,{'true' if i < 6 else 'false'},0.5")
    path = tmp_path / "evals.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_evals_accuracy_counts_and_bounds(tmp_path):
    quality, notes = quality_from_evals(_evals(tmp_path))
    assert quality.quality_scale.unit == "percent"
    assert quality.models == {
        "model-a": {"classification": 90.0, "code_generation": 60.0},
        "model-b": {"classification": round(100 * 10 / 19, 2), "code_generation": 50.0},
    }
    ev = quality.evidence["model-a"]["classification"]
    assert ev["n"] == 20 and ev["mean"] == 90.0
    assert ev["wilson_lower"] == pytest.approx(100 * binomtest(18, 20).proportion_ci(method="wilson").low, abs=1e-4)
    assert quality.evidence["model-b"]["classification"]["n"] == 19  # the empty cell is not a prompt run
    assert quality.evidence["model-b"]["code_generation"]["n"] == 10
    assert any("prompt_id" in n and "prompt" in n for n in notes)  # skipped, and said

    lower, _ = quality_from_evals(_evals(tmp_path), use="lower-bound")
    expected = 100 * binomtest(18, 20).proportion_ci(method="wilson").low
    assert lower.models["model-a"]["classification"] == round(expected, 2)
    assert lower.models["model-a"]["classification"] < quality.models["model-a"]["classification"]
    assert "lower bound" in lower.method


def test_quality_import_cli_writes_a_file_that_builds_a_catalog(tmp_path):
    out = tmp_path / "quality.yaml"
    result = runner.invoke(
        app, ["quality", "import", "--evals", str(_evals(tmp_path)), "--use", "lower-bound", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    quality = load_quality(out)
    assert set(quality.models) == {"model-a", "model-b"}
    assert "Wilson 95% lower bound" in out.read_text()
    source = PriceSource(
        label="test prices",
        prices_as_of=date(2025, 1, 1),
        models=(
            PricedModel(id="Model-A", provider="A", input_usd_per_mtok=3, output_usd_per_mtok=15),
            PricedModel(id="vendor/model-b", provider="B", input_usd_per_mtok=0.1, output_usd_per_mtok=0.4),
            PricedModel(id="model-c", provider="C", input_usd_per_mtok=1, output_usd_per_mtok=1),
        ),
    )
    mapping, label = load_tier_mapping()
    imported = build_catalog(source, quality, mapping, tiers_label=label)
    assert [m.id for m in imported.catalog.models] == [
        "Model-A",
        "vendor/model-b",
    ]  # ids matched case- and prefix-blind
    assert imported.unrated == ["model-c"]
    assert imported.catalog.baseline == "Model-A"
    assert imported.catalog.quality_scale.unit == "percent"


def test_explicit_model_columns_and_task_type_column(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("kind;m1;m2\nfaq;1;0\nfaq;1;1\n", encoding="utf-8")
    quality, _ = quality_from_evals(path, task_type_column="kind", models=["m2"])
    assert quality.models == {"m2": {"faq": 50.0}}
    with pytest.raises(InputError, match="no task-type column"):
        quality_from_evals(path)


def test_bad_cell_names_line_and_column(tmp_path):
    path = tmp_path / "e.csv"
    path.write_text("task_type,m1\nfaq,1\nfaq,1.5\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        quality_from_evals(path, models=["m1"])
    assert "e.csv:3" in str(err.value) and "m1" in str(err.value)


def test_quality_file_scores_must_be_on_its_scale(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text("quality_scale: {min: 0, max: 100}\nmodels:\n  a: {faq: 120}\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_quality(path)
    assert "q.yaml" in str(err.value) and "outside the quality scale" in str(err.value)


def test_quality_import_needs_one_source():
    result = runner.invoke(app, ["quality", "import"])
    assert result.exit_code == 2 and "--evals" in result.output


def test_baseline_option_must_name_a_rated_model():
    quality = QualityFile(models={"a": {"faq": 90}})
    source = PriceSource(
        label="p",
        prices_as_of=date(2025, 1, 1),
        models=(PricedModel(id="a", provider="A", input_usd_per_mtok=1, output_usd_per_mtok=1),),
    )
    mapping, label = load_tier_mapping()
    with pytest.raises(RouterOptError, match="`baseline` zz") as err:
        build_catalog(source, quality, mapping, tiers_label=label, baseline="zz")
    assert err.value.option == "baseline"  # the CLI shows it as --baseline zz
