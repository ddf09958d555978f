"""Catalog import (genai-prices, LiteLLM, Arena), tier placement, id matching and `catalog check`."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from importlib import metadata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router_opt.cli import app
from router_opt.errors import InputError, RouterOptError
from router_opt.importers.common import PricedModel, dateless_key, model_key, pair_keys
from router_opt.importers.genai_prices import prices_from_genai_prices
from router_opt.importers.tiers import load_tier_mapping
from router_opt.io import load_catalog
from router_opt.models import Tier

DATA = Path(__file__).parent / "data"
LITELLM = DATA / "litellm-prices.json"
# shared/ sits beside the repository (as in CI); the tests that need its Arena files say so when it is absent.
ARENA = Path(__file__).resolve().parents[2] / "shared" / "external" / "arena-catalog"
REPO = Path(__file__).resolve().parent.parent
AS_OF = date(2026, 11, 23)
runner = CliRunner()


def invoke(*args: str):
    return runner.invoke(app, [str(a) for a in args], catch_exceptions=False)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


QUALITY = """\
quality_scale: {min: 0, max: 100, unit: percent}
source: hand-written test scores
models:
  gpt-4o: {classification: 95, code_generation: 92}
  gpt-4o-mini: {classification: 90, code_generation: 80}
  claude-3-5-haiku: {classification: 91}
  claude-sonnet-4-5: {classification: 96, code_generation: 95}
  gemini-2.5-flash: {classification: 93, code_generation: 88}
"""

WORKLOAD = """\
department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens
Support,Agent,10,Ticket triage,classification,100,600,40
Engineering,Developer,5,Code generation,code_generation,40,2000,800
"""

POLICY = "min_quality_by_task_type: {classification: 92, code_generation: 90}\n"


# --- genai-prices -------------------------------------------------------------------------------

GENAI_MODELS = "^(gpt-4o|gpt-4o-mini|claude-sonnet-4-5|gemini-2.5-flash|gpt-5.4)$"


def test_genai_prices_import_loads_and_optimizes(tmp_path):
    quality = write(tmp_path / "q.yaml", QUALITY)
    out = tmp_path / "genai.yaml"
    result = invoke(
        "catalog",
        "import",
        "--from",
        "genai-prices",
        "--providers",
        "openai,anthropic,google",
        "--models",
        GENAI_MODELS,
        "--quality",
        quality,
        "--as-of",
        "2026-11-23",
        "-o",
        out,
    )
    assert result.exit_code == 0, result.output
    assert "gpt-5.4" in result.output and "no quality" in result.output  # named as left out
    catalog = load_catalog(out)
    ids = {m.id for m in catalog.models}
    assert {"gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "gemini-2.5-flash"} <= ids
    assert "gpt-5.4" not in ids  # no quality: left out, and commented at the end of the file
    text = out.read_text()
    installed = metadata.version("genai-prices")  # the snapshot is the installed package's: name it
    assert "#  - {id: gpt-5.4," in text and f"genai-prices {installed}" in text.split("models:")[0]
    assert catalog.prices_as_of == AS_OF
    by_id = {m.id: m for m in catalog.models}
    assert (by_id["gpt-4o"].input_usd_per_mtok, by_id["gpt-4o"].output_usd_per_mtok) == (2.5, 10.0)
    assert by_id["gpt-4o"].context_window == 128000
    assert by_id["gpt-4o"].gateway_model == "openai/gpt-4o"
    assert by_id["gpt-4o-mini"].tier is Tier.COMMERCIAL_SMALL
    assert any("cached input: $1.25/M" in s for s in by_id["gpt-4o"].sources)
    # claude-sonnet-4-5 has tiered prices: the base rate is taken and the sources say so
    assert any("base rate $3/M taken" in s and "tiered" in s for s in by_id["claude-sonnet-4-5"].sources)
    # baseline: the dearest of the models rating the most task types (2)
    assert catalog.baseline == "claude-sonnet-4-5"

    assert invoke("validate", out).exit_code == 0
    workload = write(tmp_path / "w.csv", WORKLOAD)
    policy = write(tmp_path / "p.yaml", POLICY)
    plan = invoke("optimize", "-c", out, "-w", workload, "-p", policy, "-f", "json")
    assert plan.exit_code == 0, plan.output
    data = json.loads(plan.stdout)
    chosen = {a["task"]: a["model"] for a in data["assignments"]}
    # classification >= 92: gemini-2.5-flash (93) is the cheapest; code >= 90: gpt-4o (92) beats sonnet
    assert chosen == {"Ticket triage": "gemini-2.5-flash", "Code generation": "gpt-4o"}
    triage = 10 * 100 * (600 * 0.30 + 40 * 2.50) / 1e6
    code = 5 * 40 * (2000 * 2.50 + 800 * 10.0) / 1e6
    assert data["totals"]["optimal_usd_per_day"] == pytest.approx(triage + code)


@pytest.mark.parametrize(
    ("provider", "model_id"),
    [
        ("openai", "gpt-4o"),
        ("openai", "gpt-4o-mini"),
        ("anthropic", "claude-sonnet-4-5"),
        ("google", "gemini-2.5-flash"),
        ("openai", "gpt-5.4"),
    ],
)
def test_prices_agree_with_calc_price(provider, model_id):
    """tokens x our $/M equals the package's own calc_price for the same model and tokens (below any
    tier threshold: gpt-5.4 and claude-sonnet-4-5 have tiered prices, and we take the base rate)."""
    from genai_prices import Usage, calc_price

    source = prices_from_genai_prices([provider], f"^{model_id}$", AS_OF)
    (model,) = [m for m in source.models if m.id == model_id]
    when = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    for input_tokens, output_tokens in [(1000, 500), (123_456, 7_890), (1, 0)]:
        ours = input_tokens * model.input_usd_per_mtok / 1e6 + output_tokens * model.output_usd_per_mtok / 1e6
        theirs = calc_price(
            Usage(input_tokens=input_tokens, output_tokens=output_tokens),
            model_id,
            provider_id=provider,
            genai_request_timestamp=when,
        )
        assert Decimal(repr(ours)).quantize(Decimal("1e-12")) == theirs.total_price.quantize(Decimal("1e-12"))


def test_known_genai_prices():
    source = prices_from_genai_prices(["openai", "anthropic"], "^(gpt-4o-mini|claude-haiku-4-5|gpt-5.4)$", AS_OF)
    prices = {m.id: (m.input_usd_per_mtok, m.output_usd_per_mtok, m.cached_input_usd_per_mtok) for m in source.models}
    assert prices == {
        "gpt-4o-mini": (0.15, 0.6, 0.075),
        "gpt-5.4": (2.5, 15.0, 0.25),
        "claude-haiku-4-5": (1.0, 5.0, 0.1),
    }
    (tiered,) = [m for m in source.models if m.id == "gpt-5.4"]
    assert any("from 272,000 prompt tokens" in n for n in tiered.notes)


def test_genai_prices_unknown_provider_is_an_error():
    with pytest.raises(RouterOptError, match="unknown genai-prices provider"):
        prices_from_genai_prices(["nope"])


def test_import_without_quality_says_how_to_get_it(tmp_path):
    result = runner.invoke(
        app, ["catalog", "import", "--from", "genai-prices", "--providers", "openai", "--models", "^gpt-4o$"]
    )
    assert result.exit_code == 2
    assert "no imported model has quality" in result.output and "quality import" in result.output


# --- LiteLLM ------------------------------------------------------------------------------------


def test_litellm_fixture_imports(tmp_path):
    quality = write(tmp_path / "q.yaml", QUALITY)
    out = tmp_path / "litellm.yaml"
    result = invoke(
        "catalog", "import", "--from", "litellm", LITELLM, "--quality", quality, "--as-of", "2025-06-01", "-o", out
    )
    assert result.exit_code == 0, result.output
    assert "mode embedding" in result.output and "mode image_generation" in result.output  # skipped, and said
    catalog = load_catalog(out)
    by_id = {m.id: m for m in catalog.models}
    # gpt-4o and azure/gpt-4o share a key; claude-3-5-haiku-20241022 joins `claude-3-5-haiku` by its date;
    # gpt-4o-2024-05-13 does not join gpt-4o (gpt-4o is there too, and priced differently): no quality.
    assert set(by_id) == {
        "gpt-4o",
        "azure/gpt-4o",
        "gpt-4o-mini",
        "claude-3-5-haiku-20241022",
        "claude-sonnet-4-5",
        "gemini/gemini-2.5-flash",
    }
    assert by_id["claude-3-5-haiku-20241022"].quality == {"classification": 91}
    assert (by_id["gpt-4o"].input_usd_per_mtok, by_id["gpt-4o"].output_usd_per_mtok) == (2.5, 10.0)
    assert (
        by_id["claude-3-5-haiku-20241022"].input_usd_per_mtok,
        by_id["claude-3-5-haiku-20241022"].output_usd_per_mtok,
    ) == (0.8, 4.0)
    assert by_id["claude-sonnet-4-5"].context_window == 200000  # given as a string in the file
    assert by_id["gemini/gemini-2.5-flash"].gateway_model == "gemini/gemini-2.5-flash"
    assert by_id["gpt-4o"].gateway_model == "openai/gpt-4o"
    assert any("above_200k_tokens" in s for s in by_id["claude-sonnet-4-5"].sources)
    assert catalog.prices_as_of == date(2025, 6, 1)
    text = out.read_text()
    assert "gpt-4o-2024-05-13" in text.split("# Models without quality")[1]
    workload = write(tmp_path / "w.csv", WORKLOAD)
    policy = write(tmp_path / "p.yaml", POLICY)
    assert invoke("optimize", "-c", out, "-w", workload, "-p", policy).exit_code == 0


def test_litellm_bad_json_names_the_line(tmp_path):
    bad = write(tmp_path / "bad.json", '{\n  "gpt-4o": {"input_cost_per_token": 1e-6,}\n}\n')
    result = runner.invoke(app, ["catalog", "import", "--from", "litellm", str(bad)])
    assert result.exit_code == 2 and "bad.json:2" in result.output


# --- ids and tiers ------------------------------------------------------------------------------


def test_model_key_rules():
    assert model_key("openrouter/anthropic/claude-3.5-sonnet") == "claude-3.5-sonnet"
    assert model_key(" Azure/GPT-4o ") == "gpt-4o"
    assert model_key("us.anthropic.claude-3-haiku-20240307-v1:0") == "claude-3-haiku-20240307"
    assert model_key("deepseek-v3") == "deepseek-v3"  # a version, not a Bedrock suffix
    assert dateless_key("gpt-4o-2024-08-06") == "gpt-4o"
    assert dateless_key("claude-3-5-haiku-20241022") == "claude-3-5-haiku"
    assert dateless_key("gpt-3.5-turbo-0613") == "gpt-3.5-turbo-0613"  # MMDD is not taken for a date
    # exact keys first; a dated id joins its stem only where that is the one candidate on both sides
    assert pair_keys({"gpt-4o", "gpt-4o-2024-05-13"}, {"gpt-4o"}) == {"gpt-4o": "gpt-4o"}
    assert pair_keys({"claude-3-5-haiku-20241022"}, {"claude-3-5-haiku"}) == {
        "claude-3-5-haiku-20241022": "claude-3-5-haiku"
    }
    assert pair_keys({"x-2024-01-01", "x-2024-02-01"}, {"x"}) == {}


def _priced(model_id: str, input_usd: float, output_usd: float, license: str | None = None) -> PricedModel:
    return PricedModel(
        id=model_id, provider="P", input_usd_per_mtok=input_usd, output_usd_per_mtok=output_usd, license=license
    )


def test_bundled_tier_mapping():
    mapping, _ = load_tier_mapping()
    cases = {
        "o3-mini": Tier.REASONING,
        "claude-opus-4-1": Tier.REASONING,
        "gpt-5-pro": Tier.REASONING,
        "deepseek-reasoner": Tier.REASONING,
        "ft:gpt-4o-mini": Tier.FINE_TUNED,
        "text-embedding-3-small": Tier.SPECIALIST,
        "llama-3.1-70b-instruct": Tier.OPEN_SOURCE,
        "gpt-3.5-turbo-instruct": Tier.INSTRUCT,
        "gpt-4o-mini": Tier.COMMERCIAL_SMALL,
        "gemini-2.5-flash": Tier.COMMERCIAL_SMALL,
        "claude-3-5-haiku": Tier.COMMERCIAL_SMALL,
    }
    for model_id, tier in cases.items():
        assert mapping.tier_for(_priced(model_id, 1, 1))[0] is tier, model_id
    # no rule: by blended (3:1) price; `gemini` must not count as `mini`
    assert mapping.tier_for(_priced("gemini-2.5-pro", 1.25, 10))[0] is Tier.COMMERCIAL_LARGE
    assert mapping.tier_for(_priced("some-model", 0.5, 1.0))[0] is Tier.COMMERCIAL_SMALL  # 0.625/M
    assert mapping.tier_for(_priced("some-model", 0.5, 2.5))[0] is Tier.COMMERCIAL_LARGE  # 1.0/M
    assert mapping.tier_for(_priced("acme-chat", 1, 1, license="Apache 2.0"))[0] is Tier.OPEN_SOURCE
    assert mapping.tier_for(_priced("acme-chat", 0.1, 0.1, license="Propretary"))[0] is Tier.COMMERCIAL_SMALL


def test_custom_tier_mapping_and_its_errors(tmp_path):
    good = write(
        tmp_path / "tiers.yaml",
        "rules:\n  - {tier: Specialist, match: '^gpt-4o$'}\nprice_bands:\n  - {tier: Instruct, from: 0}\n",
    )
    mapping, _label = load_tier_mapping(good)
    assert mapping.tier_for(_priced("gpt-4o", 2.5, 10))[0] is Tier.SPECIALIST
    assert mapping.tier_for(_priced("gpt-4o-mini", 0.15, 0.6))[0] is Tier.INSTRUCT
    bad = write(
        tmp_path / "bad.yaml",
        "rules:\n  - {tier: Specialist, match: '(('}\n  - {tier: Nope, match: x}\nprice_bands:\n  - {tier: Instruct, from: 1}\n",
    )
    with pytest.raises(InputError) as err:
        load_tier_mapping(bad)
    text = str(err.value)
    assert "bad.yaml:2" in text and "regular expression" in text
    assert "bad.yaml:3" in text and "Nope" in text
    no_zero = write(tmp_path / "no-zero.yaml", "price_bands:\n  - {tier: Instruct, from: 1}\n")
    with pytest.raises(InputError, match="from: 0"):
        load_tier_mapping(no_zero)


# --- catalog check ------------------------------------------------------------------------------


def test_check_finds_the_planted_mismatch_against_genai_prices():
    # tests/data/litellm-prices.json prices gpt-4o-mini input at $1.50/M: ten times the real $0.15/M
    result = invoke("catalog", "check", LITELLM, "genai-prices", "--as-of", "2026-11-23", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    by_key = {m["key"]: m for m in data["mismatches"]}
    planted = by_key["gpt-4o-mini"]
    assert (planted["a_input_usd_per_mtok"], planted["b_input_usd_per_mtok"]) == (1.5, 0.15)
    assert planted["input_difference"] == pytest.approx(0.9)
    assert planted["output_difference"] == 0
    assert "gpt-4o" not in by_key and "claude-sonnet-4-5" not in by_key  # these agree
    assert data["joined"] >= 6


def test_check_two_catalogs_with_tolerance(tmp_path):
    def catalog(prices: dict[str, tuple[float, float]]) -> str:
        models = "\n".join(
            f"  - {{id: {m}, tier: Commercial Large, provider: P, input_usd_per_mtok: {i}, output_usd_per_mtok: {o}, quality: {{x: 1}}}}"
            for m, (i, o) in prices.items()
        )
        first = next(iter(prices))
        return f"name: c\nprices_as_of: 2025-01-01\nbaseline: {first}\nmodels:\n{models}\n"

    a = write(
        tmp_path / "a.yaml",
        catalog({"gpt-4o": (2.5, 10), "small": (1.0, 2.0), "only-a": (1, 1), "x-2024-05-01": (3, 3)}),
    )
    b = write(
        tmp_path / "b.yaml", catalog({"openai/gpt-4o": (2.6, 10), "small": (1.0, 4.0), "only-b": (1, 1), "x": (3, 3.5)})
    )
    result = invoke("catalog", "check", a, b, "-f", "json")
    data = json.loads(result.stdout)
    assert (data["joined"], data["only_in_a"], data["only_in_b"]) == (3, 1, 1)
    assert [m["key"] for m in data["mismatches"]] == ["small", "x-2024-05-01"]  # gpt-4o: 3.8% < 5%
    assert data["mismatches"][0]["output_difference"] == pytest.approx(0.5)
    tight = json.loads(invoke("catalog", "check", a, b, "--tolerance", "0.01", "-f", "json").stdout)
    assert {m["key"] for m in tight["mismatches"]} == {"small", "x-2024-05-01", "gpt-4o"}
    table = invoke("catalog", "check", a, b)
    assert table.exit_code == 0 and "Price differences above 5%: 2 of 3" in table.stdout and "50.0%" in table.stdout
    markdown = invoke("catalog", "check", a, b, "-f", "markdown")
    # each side's host is named (both catalogs' provider P)
    assert "| small | P | = | P | $1.00 | $1.00 | 0.0% | $2.00 | $4.00 | 50.0% |" in markdown.stdout


# --- Arena --------------------------------------------------------------------------------------

needs_arena = pytest.mark.skipif(not (ARENA / "leaderboard-text.json").is_file(), reason="Arena files not present")


@needs_arena
def test_arena_catalog_optimizes(tmp_path):
    out = tmp_path / "arena.yaml"
    result = invoke("catalog", "import", "--from", "arena", ARENA, "--as-of", "2025-12-17", "-o", out)
    assert result.exit_code == 0, result.output
    catalog = load_catalog(out)
    assert catalog.quality_scale.unit == "elo" and catalog.quality_scale.min < 1000 < catalog.quality_scale.max
    assert len(catalog.models) >= 100
    board = json.loads((ARENA / "leaderboard-text.json").read_text())
    prices = {p["model_api_name"]: p for p in json.loads((ARENA / "scatterplot-data.json").read_text())}
    by_id = {m.id: m for m in catalog.models}
    gemini = by_id["gemini-2.5-pro"]
    assert gemini.quality["code_generation"] == round(board["coding"]["gemini-2.5-pro"]["rating"], 2)
    assert gemini.quality["math_reasoning"] == round(board["math"]["gemini-2.5-pro"]["rating"], 2)
    assert gemini.input_usd_per_mtok == float(prices["gemini-2.5-pro"]["input_token_price"])
    assert by_id["gemma-3-27b-it"].tier is Tier.OPEN_SOURCE  # by its licence
    assert "ernie-5.0-preview-1103" not in by_id  # no price in the file
    policy = REPO / "policies" / "arena-example.yaml"
    assert invoke("validate", out, policy).exit_code == 0
    plan = invoke("optimize", "-c", out, "-p", policy, "-f", "json")
    assert plan.exit_code == 0, plan.output
    data = json.loads(plan.stdout)
    assert data["totals"]["optimal_usd_per_day"] < data["totals"]["baseline_usd_per_day"]
    for a in data["assignments"]:
        assert a["quality"] >= 1300  # the policy's lowest bar, on the elo scale


@needs_arena
def test_arena_quality_lower_bound(tmp_path):
    out = tmp_path / "q.yaml"
    result = invoke("quality", "import", "--arena", ARENA, "--use", "lower-bound", "-o", out)
    assert result.exit_code == 0, result.output
    from router_opt.importers.quality import load_quality

    quality = load_quality(out)
    board = json.loads((ARENA / "leaderboard-text.json").read_text())
    assert quality.quality_scale.unit == "elo"
    assert quality.models["gemini-3-pro"]["code_generation"] == round(board["coding"]["gemini-3-pro"]["rating_q025"], 2)
    assert quality.models["gemini-3-pro"]["faq"] == round(board["full"]["gemini-3-pro"]["rating_q025"], 2)
