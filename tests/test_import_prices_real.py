"""genai-prices import on real eval ids (issue 14, item 5): every price equals genai-prices' own
`calc_price` for 1M input and 1M output tokens at the stated request time, 2025-06-01T12:00:00Z (outside
DeepSeek's off-peak window 16:30-00:30 UTC and its peak windows), at the first-party provider."""

from __future__ import annotations

import importlib.util
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price, types
from typer.testing import CliRunner

from router_opt.cli import app
from router_opt.importers.genai_prices import prices_from_genai_prices, stated_timestamp
from router_opt.io import load_catalog

AS_OF = date(2025, 6, 1)
STATED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
OFF_PEAK = datetime(2025, 6, 1, 20, 0, tzinfo=UTC)  # inside DeepSeek's discount window
MTOK = 1_000_000

# real eval ids -> the first-party provider genai-prices must price them at
FIRST_PARTY = {
    "gpt-4o": "openai",
    "gpt-4o-mini": "openai",
    "o3-mini": "openai",
    "claude-sonnet-4-20250514": "anthropic",
    "claude-3-5-haiku-20241022": "anthropic",
    "claude-3-5-sonnet-20241022": "anthropic",
    "deepseek-chat": "deepseek",
    "deepseek-reasoner": "deepseek",
    "mistral-large-latest": "mistral",
    "gemini-1.5-pro": "google",
    "gemini-2.0-flash": "google",
    "grok-3": "x-ai",
    "grok-3-mini": "x-ai",
    "grok-4-fast-non-reasoning": "x-ai",
    "grok-4-fast-reasoning": "x-ai",
}
# no vendor API in the package: priced at the one host that lists it (with --providers all)
HOSTED_ONLY = {"llama-3.1-405b": "openrouter"}


def _tiered(price) -> bool:
    return any(isinstance(getattr(price, k, None), types.TieredPrices) for k in ("input_mtok", "output_mtok"))


def their_prices(model_ref: str, provider_id: str, when: datetime = STATED) -> tuple[Decimal, Decimal]:
    """$/M input and output by genai-prices' calc_price: 1M input tokens, then 1M output tokens. Where the
    package has prompt-length tiers, 1M prompt tokens would be above the first tier, so input is measured
    on 1,000 tokens (x 1000), below every tier; output tiers follow the prompt length, so output is
    measured with no input tokens."""
    first = calc_price(Usage(input_tokens=MTOK), model_ref, provider_id=provider_id, genai_request_timestamp=when)
    if _tiered(first.model_price):
        inp = calc_price(Usage(input_tokens=1000), model_ref, provider_id=provider_id, genai_request_timestamp=when)
        input_usd = inp.input_price * 1000
    else:
        input_usd = first.input_price
    out = calc_price(Usage(output_tokens=MTOK), model_ref, provider_id=provider_id, genai_request_timestamp=when)
    return input_usd, out.output_price


def as_decimal(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(Decimal("1e-9"))


def test_stated_time_is_the_one_the_import_uses():
    assert stated_timestamp(AS_OF) == STATED


@pytest.fixture(scope="module")
def by_name():
    names = [*FIRST_PARTY, *HOSTED_ONLY]
    source = prices_from_genai_prices(["all"], as_of=AS_OF, names=names)
    found = {m.id: m for m in source.models if m.id in names}
    assert set(found) == set(names), source.notes
    return found


@pytest.mark.parametrize("name", [*FIRST_PARTY, *HOSTED_ONLY])
def test_real_ids_at_first_party_equal_calc_price(by_name, name):
    model = by_name[name]
    provider = FIRST_PARTY.get(name) or HOSTED_ONLY[name]
    assert model.provider_key == provider
    input_usd, output_usd = their_prices(name, provider)
    assert (as_decimal(model.input_usd_per_mtok), as_decimal(model.output_usd_per_mtok)) == (
        input_usd.quantize(Decimal("1e-9")),
        output_usd.quantize(Decimal("1e-9")),
    )
    # and genai-prices' own choice of provider, where it makes one, is the same first-party vendor
    if name in FIRST_PARTY:
        assert calc_price(Usage(input_tokens=1), name, genai_request_timestamp=STATED).provider.id == provider


def test_deepseek_at_its_standard_price_with_the_window_recorded(by_name):
    chat, reasoner = by_name["deepseek-chat"], by_name["deepseek-reasoner"]
    assert (chat.input_usd_per_mtok, chat.output_usd_per_mtok) == (0.27, 1.1)  # was 0.135 / 0.55
    assert (reasoner.input_usd_per_mtok, reasoner.output_usd_per_mtok) == (0.55, 2.19)  # was 0.135 / 0.55
    # the package's discount really is in force off-peak: the stated hour matters
    assert their_prices("deepseek-chat", "deepseek", OFF_PEAK) == (Decimal("0.135"), Decimal("0.55"))
    assert any("off-peak discount" in n and "16:30-00:30 UTC" in n and "$0.135/M" in n for n in chat.notes)
    assert any("2025-06-01T12:00:00Z" in n for n in chat.notes)


def test_resold_copies_are_not_taken(by_name):
    assert by_name["claude-3-5-haiku-20241022"].provider == "Anthropic"  # not Google's (Vertex) copy
    assert by_name["claude-3-5-haiku-20241022"].gateway_model == "anthropic/claude-3-5-haiku-20241022"
    assert by_name["mistral-large-latest"].gateway_model == "mistral/mistral-large-latest"
    assert any("'claude-sonnet-4-0'" in n for n in by_name["claude-sonnet-4-20250514"].notes)


def test_every_listed_model_equals_calc_price():
    """Every model of every provider in the package (deprecated too), by its own id at its own provider."""
    source = prices_from_genai_prices(["all"], as_of=AS_OF, include_deprecated=True)
    assert len(source.models) > 1000
    wrong, unmatched = [], 0
    for model in source.models:
        try:
            input_usd, output_usd = their_prices(model.id, model.provider_key)
        except LookupError:  # the package's own match rules do not match the id it lists (85 of 2,044)
            unmatched += 1
            continue
        ours = (as_decimal(model.input_usd_per_mtok), as_decimal(model.output_usd_per_mtok))
        if ours != (input_usd.quantize(Decimal("1e-9")), output_usd.quantize(Decimal("1e-9"))):
            wrong.append((model.provider_key, model.id, ours, input_usd, output_usd))
    assert not wrong, wrong[:10]
    assert unmatched < len(source.models) / 10


QUALITY = """\
quality_scale: {min: 0, max: 100, unit: percent}
source: real eval ids
models:
""" + "".join(f"  {name}: {{general: {80 + i}}}\n" for i, name in enumerate([*FIRST_PARTY, *HOSTED_ONLY]))


def test_catalog_import_with_real_eval_ids(tmp_path: Path):
    quality = tmp_path / "q.yaml"
    quality.write_text(QUALITY)
    out = tmp_path / "c.yaml"
    result = CliRunner().invoke(
        app,
        [
            "catalog",
            "import",
            "--from",
            "genai-prices",
            "--quality",
            str(quality),
            "--as-of",
            "2025-06-01",
            "-o",
            str(out),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    catalog = load_catalog(out)
    ids = {m.id: m for m in catalog.models}
    # default providers are first-party vendors: llama-3.1-405b (only at hosts) has no price here, said so
    assert set(ids) == set(FIRST_PARTY)
    assert "llama-3.1-405b" in result.output and "no price here" in result.output
    for name, provider in FIRST_PARTY.items():
        input_usd, output_usd = their_prices(name, provider)
        assert as_decimal(ids[name].input_usd_per_mtok) == input_usd.quantize(Decimal("1e-9")), name
        assert as_decimal(ids[name].output_usd_per_mtok) == output_usd.quantize(Decimal("1e-9")), name
    assert ids["claude-3-5-haiku-20241022"].provider == "Anthropic"
    assert ids["claude-3-5-haiku-20241022"].gateway_model == "anthropic/claude-3-5-haiku-20241022"
    assert any("off-peak discount" in s for s in ids["deepseek-chat"].sources)
    assert "2025-06-01T12:00:00Z" in out.read_text().split("models:")[0]


# --- tiers and `catalog check` on real ids (issue 14, item 6) ------------------------------------

# LiteLLM's own bundled price map, found without importing litellm (only the file is read)
_SPEC = importlib.util.find_spec("litellm")
LITELLM_MAP = (
    Path(_SPEC.origin).parent / "model_prices_and_context_window_backup.json" if _SPEC and _SPEC.origin else None
)
needs_map = pytest.mark.skipif(LITELLM_MAP is None, reason="litellm (its bundled price map) not installed")


def test_non_reasoning_is_never_reasoning():
    from router_opt.importers.litellm import prices_from_litellm
    from router_opt.importers.tiers import load_tier_mapping
    from router_opt.models import Tier

    mapping, _ = load_tier_mapping()
    source = prices_from_genai_prices(["x-ai"], as_of=AS_OF, include_deprecated=True)
    tiers = {m.id: mapping.tier_for(m) for m in source.models}
    assert tiers["grok-4-fast-non-reasoning"][0] is not Tier.REASONING
    assert "passed over" in tiers["grok-4-fast-non-reasoning"][1]
    assert tiers["grok-4-fast-reasoning"][0] is Tier.REASONING
    models = list(source.models) + (list(prices_from_litellm(LITELLM_MAP).models) if LITELLM_MAP else [])
    non = [m for m in models if "non-reasoning" in m.id]
    assert len(non) >= 5
    assert all(mapping.tier_for(m)[0] is not Tier.REASONING for m in non)


def _check(*args: str) -> dict:
    import json

    result = CliRunner().invoke(
        app, ["catalog", "check", *args, "--as-of", "2025-06-01", "-f", "json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@needs_map
def test_check_compares_like_with_like():
    import json

    from router_opt.gateway import provider_host

    data = _check("genai-prices", str(LITELLM_MAP))
    assert data["mismatches"] and data["joined"] > 400
    for m in data["mismatches"]:  # the same host on both sides, and each side's own provider named
        assert provider_host(m["a_provider"]) == provider_host(m["b_provider"]) == m["host"].split("/")[0], m
    # llama-3.1-405b-instruct: OpenRouter's $0.80 in genai-prices, OCI's $10.68 in LiteLLM: not compared
    assert not [m for m in data["mismatches"] if m["key"] == "llama-3.1-405b-instruct"]
    assert data["other_hosts_only"] > 100
    # deepseek-chat at DeepSeek: genai-prices' standard price (calc_price at the stated hour) against the
    # map's own figures, read here from the file
    spec = json.loads(LITELLM_MAP.read_text())["deepseek-chat"]
    (row,) = [m for m in data["mismatches"] if m["key"] == "deepseek-chat"]
    assert (row["host"], row["a_provider"], row["b_provider"]) == ("deepseek", "deepseek", "deepseek")
    theirs = their_prices("deepseek-chat", "deepseek")
    assert (Decimal(repr(row["a_input_usd_per_mtok"])), Decimal(repr(row["a_output_usd_per_mtok"]))) == theirs
    assert row["b_input_usd_per_mtok"] == pytest.approx(spec["input_cost_per_token"] * 1e6)
    assert row["b_output_usd_per_mtok"] == pytest.approx(spec["output_cost_per_token"] * 1e6)


@needs_map
def test_one_providers_list_for_both_sources():
    both = _check("genai-prices", str(LITELLM_MAP), "--providers", "google,gemini")
    assert both["joined"] > 10
    assert all(m["host"].startswith("google") for m in both["mismatches"])
    # the same hosts whichever source's name is used
    for spelling in ("google", "gemini", "vertex_ai"):
        again = _check("genai-prices", str(LITELLM_MAP), "--providers", spelling)
        assert (again["joined"], again["mismatches"]) == (both["joined"], both["mismatches"]), spelling
    # and Google-hosted Claude is compared with Vertex AI's Claude, not AI Studio's
    claude = [m for m in both["mismatches"] if "claude" in m["key"]]
    assert all(m["host"] == "google/vertex_ai" and m["b_provider"].startswith("vertex_ai") for m in claude)


@needs_map
def test_providers_vocabulary_in_both_importers():
    from router_opt.importers.litellm import prices_from_litellm

    genai = prices_from_genai_prices(["gemini"], as_of=AS_OF)
    assert {m.provider_key for m in genai.models} == {"google"}
    lite = prices_from_litellm(LITELLM_MAP, providers=["google"], as_of=AS_OF)
    keys = {m.provider_key for m in lite.models}
    assert "gemini" in keys and "vertex_ai-language-models" in keys and "vertex_ai-anthropic_models" in keys
    assert keys == {m.provider_key for m in prices_from_litellm(LITELLM_MAP, providers=["gemini"], as_of=AS_OF).models}
    bedrock = {m.provider_key for m in prices_from_litellm(LITELLM_MAP, providers=["aws"], as_of=AS_OF).models}
    assert {"bedrock", "bedrock_converse"} <= bedrock
