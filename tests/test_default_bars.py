"""Quality bars when no policy is given (issue 14, item 8). The bundled policies/default.yaml sets bars
for the bundled catalog's models; with a catalog of one's own and no --policy, each task type's bar is
the baseline model's own quality on it, and the run says so (stderr, warnings, settings)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router_opt.bundled import DEFAULT_CATALOG, DEFAULT_POLICY
from router_opt.cli import app
from router_opt.io import load_catalog
from router_opt.models import Policy
from router_opt.plan import BASELINE_BARS

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]

# The baseline (big) reaches 99 on classification and 98 on faq; mid matches it at $4/M; cheap reaches
# 96 / 93, above the bundled policy's classification 95 / faq 92 but below what big delivers.
CATALOG = """\
name: own
prices_as_of: 2025-06-01
baseline: big
models:
  - {id: big, tier: Commercial Large, provider: openai, usd_per_mtok: 10.0, quality: {classification: 99, faq: 98}}
  - {id: mid, tier: Commercial Small, provider: anthropic, usd_per_mtok: 4.0, quality: {classification: 99, faq: 98}}
  - {id: cheap, tier: Open-Source, provider: mistral, usd_per_mtok: 0.5, quality: {classification: 96, faq: 93}}
"""
# 10 workers: Triage 100 calls x 1,000 tokens = 1M tokens/day; Answer 50 calls x 1,000 = 0.5M/day.
WORKLOAD = """\
department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens
Support,Agent,10,Triage,classification,100,500,500
Support,Agent,10,Answer,faq,50,800,200
"""


@pytest.fixture
def own(tmp_path: Path) -> list[str]:
    catalog, workload = tmp_path / "catalog.yaml", tmp_path / "workload.csv"
    catalog.write_text(CATALOG)
    workload.write_text(WORKLOAD)
    return ["-c", str(catalog), "-w", str(workload)]


def run(*args: str):
    result = runner.invoke(app, ["optimize", *args])
    assert result.exit_code == 0, result.output
    return result


def test_baseline_bars_by_hand():
    catalog = load_catalog(ROOT / DEFAULT_CATALOG)
    quality = catalog.baseline_model.quality
    bars = Policy.baseline_bars(catalog, ["faq", "classification", "faq", "no-such-type"])
    assert bars.min_quality_by_task_type == {"faq": quality["faq"], "classification": quality["classification"]}
    # A task type the baseline does not rate gets no bar (the implicit default, which sets none).
    assert bars.threshold(None, None, "no-such-type") == (0.0, False)


def test_own_catalog_without_policy_keeps_the_baselines_quality(own):
    # Bars 99 / 98 (big's own): only mid ($4/M) or big qualify, so 1.5M tokens/day cost 1.5 x 4 = $6/day
    # against all-large 1.5 x 10 = $15/day: 2.5x, and the baseline falls short on no task.
    result = run(*own, "-f", "json")
    assert result.stderr.startswith("note: no --policy for catalog 'own'")
    assert "classification 99, faq 98" in result.stderr
    plan = json.loads(result.stdout)
    totals = plan["totals"]
    assert totals["optimal_usd_per_day"] == pytest.approx(6.0, rel=1e-12)
    assert totals["baseline_usd_per_day"] == pytest.approx(15.0, rel=1e-12)
    assert totals["overspend_ratio"] == pytest.approx(2.5, rel=1e-12)
    assert totals["baseline_tasks_below_threshold"] == 0
    assert {a["model"] for a in plan["assignments"]} == {"mid"}
    assert {t["task"]: t["min_quality"] for t in plan["tasks"]} == {"Triage": 99, "Answer": 98}
    # Said in the result: the first warning, and settings name no policy file or its hash.
    assert plan["warnings"][0] == result.stderr.removeprefix("note: ").strip()
    assert plan["settings"]["policy_path"] == BASELINE_BARS
    assert "policy" not in plan["settings"]["input_sha256"]
    table = run(*own).stdout
    assert "Warning: no --policy for catalog 'own'" in table


def test_the_bundled_policy_given_explicitly_still_applies(own):
    # With -p policies/default.yaml its bars (classification 95, faq 92) apply: cheap ($0.50/M) meets
    # both, 1.5 x 0.5 = $0.75/day, 20x, and the run says nothing extra.
    result = run(*own, "-p", str(ROOT / DEFAULT_POLICY), "-f", "json")
    assert result.stderr == ""
    plan = json.loads(result.stdout)
    assert plan["totals"]["optimal_usd_per_day"] == pytest.approx(0.75, rel=1e-12)
    assert plan["totals"]["overspend_ratio"] == pytest.approx(20.0, rel=1e-12)
    assert plan["warnings"] == []


def test_min_quality_and_row_bars_take_no_default(own, tmp_path):
    # --min-quality 96: every task needs 96; cheap (96 / 93) meets classification only:
    # Triage 1 x 0.5 + Answer 0.5 x 4 = $2.50/day. No note: the bar was given.
    result = run(*own, "--min-quality", "96", "-f", "json")
    assert result.stderr == ""
    assert json.loads(result.stdout)["totals"]["optimal_usd_per_day"] == pytest.approx(2.5, rel=1e-12)
    # Every row with its own min_quality: nothing takes a default bar, so nothing to say.
    rows = tmp_path / "rows.csv"
    rows.write_text(
        "department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens,min_quality\n"
        "Support,Agent,10,Triage,classification,100,500,500,90\n"
        "Support,Agent,10,Answer,faq,50,800,200,90\n"
    )
    result = run("-c", own[1], "-w", str(rows), "-f", "json")
    assert result.stderr == ""
    plan = json.loads(result.stdout)
    assert plan["totals"]["optimal_usd_per_day"] == pytest.approx(0.75, rel=1e-12)
    assert plan["warnings"] == []
    # One row with its own bar (90), one without: the note counts the one task that takes big's 98.
    rows.write_text(
        "department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens,min_quality\n"
        "Support,Agent,10,Triage,classification,100,500,500,90\n"
        "Support,Agent,10,Answer,faq,50,800,200,\n"
    )
    result = run("-c", own[1], "-w", str(rows), "-f", "json")
    assert "(1 task(s): faq 98)" in result.stderr
    # Triage on cheap 1 x 0.5 + Answer on mid 0.5 x 4 = $2.50/day.
    assert json.loads(result.stdout)["totals"]["optimal_usd_per_day"] == pytest.approx(2.5, rel=1e-12)


def test_a_task_type_the_baseline_does_not_rate(tmp_path):
    catalog, workload = tmp_path / "c.yaml", tmp_path / "w.csv"
    catalog.write_text(
        CATALOG.replace("quality: {classification: 96, faq: 93}", "quality: {classification: 96, faq: 93, haiku: 50}")
    )
    workload.write_text(WORKLOAD + "Support,Agent,10,Poem,haiku,10,100,100\n")
    result = run("-c", str(catalog), "-w", str(workload), "-f", "json")
    assert "big rates no haiku: no bar there." in result.stderr
    plan = json.loads(result.stdout)
    # haiku has no bar: it goes to cheap, and the existing no-bar warning names it.
    assert any(w.startswith("1 task(s) have no quality bar") and "haiku" in w for w in plan["warnings"])
    assert {a["model"] for a in plan["assignments"] if a["task"] == "Poem"} == {"cheap"}


def test_bundled_catalog_keeps_the_bundled_policy(tmp_path):
    # No files: today's behaviour, nothing on stderr, the bundled policy named in settings.
    default = run("-f", "json")
    assert default.stderr == ""
    plan = json.loads(default.stdout)
    assert plan["settings"]["policy_path"] == DEFAULT_POLICY and plan["warnings"] == []
    # The bundled catalog given by path (or a byte-identical copy) is still the catalog the bundled
    # policy was written for.
    copy = tmp_path / "seven.yaml"
    copy.write_bytes((ROOT / DEFAULT_CATALOG).read_bytes())
    given = run("-c", str(copy), "-f", "json")
    assert given.stderr == ""
    again = json.loads(given.stdout)
    assert again["totals"] == plan["totals"] and again["settings"]["policy_path"] == DEFAULT_POLICY


def test_bundled_bars_above_the_baseline_no_longer_apply_silently(tmp_path):
    # The case: the bundled policy's bar (classification 95) is above what the baseline delivers
    # (90), so it forced a dearer model and reported the baseline short. 1M tokens/day (10 workers x 100
    # calls x 1,000 tokens): with -p policies/default.yaml only premium ($20/M) reaches 95: $20/day
    # against all-large's $10/day, 0.5x, the baseline short on 1 task. Without -p the bar is big's 90:
    # cheap ($1/M) meets it, $1/day, 10x, short on none.
    catalog, workload = tmp_path / "c.yaml", tmp_path / "w.csv"
    catalog.write_text(
        "name: own\nprices_as_of: 2025-06-01\nbaseline: big\nmodels:\n"
        "  - {id: big, tier: Commercial Large, provider: openai, usd_per_mtok: 10.0, quality: {classification: 90}}\n"
        "  - {id: premium, tier: Reasoning, provider: openai, usd_per_mtok: 20.0, quality: {classification: 96}}\n"
        "  - {id: cheap, tier: Open-Source, provider: mistral, usd_per_mtok: 1.0, quality: {classification: 90}}\n"
    )
    workload.write_text(WORKLOAD.splitlines()[0] + "\n" + WORKLOAD.splitlines()[1] + "\n")
    args = ["-c", str(catalog), "-w", str(workload), "-f", "json"]
    bundled = json.loads(run(*args, "-p", str(ROOT / DEFAULT_POLICY)).stdout)["totals"]
    assert bundled["optimal_usd_per_day"] == pytest.approx(20.0, rel=1e-12)
    assert bundled["overspend_ratio"] == pytest.approx(0.5, rel=1e-12)
    assert bundled["baseline_tasks_below_threshold"] == 1
    result = run(*args)
    assert "classification 90" in result.stderr
    default = json.loads(result.stdout)["totals"]
    assert default["optimal_usd_per_day"] == pytest.approx(1.0, rel=1e-12)
    assert default["overspend_ratio"] == pytest.approx(10.0, rel=1e-12)
    assert default["baseline_tasks_below_threshold"] == 0


def test_the_rule_holds_for_every_command_that_solves(own, tmp_path):
    # frontier and trajectory load inputs the same way: the note is given and the bars are big's.
    from router_opt.plan import load_inputs

    inputs = load_inputs(own[1], own[3])
    assert inputs.quality_bars == "baseline"
    assert inputs.policy.min_quality_by_task_type == {"classification": 99, "faq": 98}
    assert "policy" not in inputs.sha256
    for command in (["frontier", "--points", "2"], ["trajectory", "--to-year", "2025"]):
        result = runner.invoke(app, [*command, *own, "-f", "json"])
        assert result.exit_code == 0, result.output
        assert result.stderr.startswith("note: no --policy for catalog 'own'"), command
    # The bundled catalog, even copied elsewhere, keeps the bundled policy.
    copy = tmp_path / "copy.yaml"
    copy.write_bytes((ROOT / DEFAULT_CATALOG).read_bytes())
    assert load_inputs(copy).quality_bars == "bundled policy"
