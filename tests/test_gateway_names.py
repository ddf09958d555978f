"""Gateway model names (router_opt.gateway) checked against the installed LiteLLM itself: every name an
importer or the engine's default writes must be one `litellm.get_llm_provider` resolves and
`litellm.Router` accepts (issue 14, item 4)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network: LiteLLM's own bundled map
litellm = pytest.importorskip("litellm")

from litellm.litellm_core_utils.get_llm_provider_logic import (
    PROVIDERS_THAT_AUTHENTICATE_ON_PROVIDER_INFO,
    resolve_model_and_provider_for_metadata,
)

from router_opt.gateway import LITELLM_PROVIDERS, litellm_model_name, litellm_provider
from router_opt.importers.genai_prices import prices_from_genai_prices
from router_opt.importers.litellm import prices_from_litellm
from router_opt.io import load_catalog

LITELLM_DIR = Path(litellm.__file__).parent
PRICE_MAP = LITELLM_DIR / "model_prices_and_context_window_backup.json"
ROOT = Path(__file__).resolve().parents[1]


def resolved_provider(name: str) -> str:
    """The provider LiteLLM resolves `name` to; raises where LiteLLM rejects it. github_copilot and
    chatgpt run an OAuth device flow inside get_llm_provider (network), so for them LiteLLM's own
    metadata resolver is used, which takes the declared prefix."""
    if name.split("/", 1)[0] in PROVIDERS_THAT_AUTHENTICATE_ON_PROVIDER_INFO:
        return resolve_model_and_provider_for_metadata(name)[1]
    return litellm.get_llm_provider(name)[1]


def one_per_provider(models) -> list[str]:
    """One gateway name per (source provider, LiteLLM prefix): a Router takes ~10 ms per deployment,
    and every name was resolved one by one already (Router resolves each the same way)."""
    picked: dict[tuple[str, str], str] = {}
    for m in models:
        picked.setdefault((m.provider_key, m.gateway_model.split("/", 1)[0]), m.gateway_model)
    return sorted(picked.values())


def router_accepts(names: list[str]) -> None:
    litellm.Router(model_list=[{"model_name": f"m{i}", "litellm_params": {"model": n}} for i, n in enumerate(names)])


def test_provider_table_is_litellms_own():
    known = {str(getattr(p, "value", p)) for p in litellm.provider_list}
    known |= set(json.loads((LITELLM_DIR / "llms/openai_like/providers.json").read_text()))
    assert LITELLM_PROVIDERS <= known, sorted(LITELLM_PROVIDERS - known)
    assert "anyscale" not in known  # the reason anyscale gets an openai/ name


@pytest.mark.parametrize(
    ("provider", "model_id", "deployment", "expected", "litellm_says"),
    [
        ("Google", "claude-3-5-haiku-20241022", None, "vertex_ai/claude-3-5-haiku-20241022", "vertex_ai"),
        ("google", "claude-sonnet-4-5", None, "vertex_ai/claude-sonnet-4-5", "vertex_ai"),
        ("Google", "gemini-2.0-flash", None, "gemini/gemini-2.0-flash", "gemini"),
        ("vertex_ai-language-models", "gemini-2.5-flash", None, "vertex_ai/gemini-2.5-flash", "vertex_ai"),
        (
            "vertex_ai-anthropic_models",
            "vertex_ai/claude-3-5-haiku@20241022",
            None,
            "vertex_ai/claude-3-5-haiku@20241022",
            "vertex_ai",
        ),
        (
            "bedrock_converse",
            "us.anthropic.claude-3-5-haiku-20241022-v1:0",
            None,
            "bedrock/converse/us.anthropic.claude-3-5-haiku-20241022-v1:0",
            "bedrock",
        ),
        (
            "aws",
            "anthropic.claude-3-haiku-20240307-v1:0",
            None,
            "bedrock/anthropic.claude-3-haiku-20240307-v1:0",
            "bedrock",
        ),
        (
            "anyscale",
            "anyscale/meta-llama/Llama-2-70b-chat-hf",
            None,
            "openai/meta-llama/Llama-2-70b-chat-hf",
            "openai",
        ),
        ("x-ai", "grok-3", None, "xai/grok-3", "xai"),
        ("xAI", "grok-4-fast-non-reasoning", None, "xai/grok-4-fast-non-reasoning", "xai"),
        (
            "together",
            "meta-llama/Llama-3.3-70B-Instruct-Turbo",
            None,
            "together_ai/meta-llama/Llama-3.3-70B-Instruct-Turbo",
            "together_ai",
        ),
        ("openrouter", "anthropic/claude-3.5-sonnet", None, "openrouter/anthropic/claude-3.5-sonnet", "openrouter"),
        ("Mistral AI", "mistral-large-latest", None, "mistral/mistral-large-latest", "mistral"),
        ("moonshotai", "kimi-k2", None, "moonshot/kimi-k2", "moonshot"),
        (
            "huggingface_together",
            "Qwen/Qwen2.5-7B-Instruct",
            None,
            "huggingface/together/Qwen/Qwen2.5-7B-Instruct",
            "huggingface",
        ),
        ("Self-hosted", "ticket-clf-8b", None, "openai/ticket-clf-8b", "openai"),
        ("Rented GPU", "llama-70b-ft", "self-hosted", "openai/llama-70b-ft", "openai"),
        ("OpenAI", "gpt-4o", "api", "openai/gpt-4o", "openai"),
        ("gemini", "gemini/gemini-2.5-flash", None, "gemini/gemini-2.5-flash", "gemini"),
        ("", "bedrock/claude-3-haiku", None, "bedrock/claude-3-haiku", "bedrock"),
    ],
)
def test_names_litellm_resolves(provider, model_id, deployment, expected, litellm_says):
    name = litellm_model_name(provider, model_id, deployment)
    assert name == expected
    assert resolved_provider(name) == litellm_says
    router_accepts([name])


def test_rejected_spellings_of_the_old_importers_really_are_rejected():
    """The names the importers wrote before (issue 14): LiteLLM refuses them, so the test above is not
    passing for want of a strict LiteLLM."""
    for old in (
        "vertex_ai-language-models/gemini-2.5-flash",
        "bedrock_converse/amazon.nova-lite-v1:0",
        "anyscale/meta-llama/Llama-2-70b-chat-hf",
    ):
        with pytest.raises(Exception, match="LLM Provider NOT provided"):
            litellm.get_llm_provider(old)
        with pytest.raises(Exception, match="LLM Provider NOT provided"):
            router_accepts([old])


def test_every_model_of_litellms_own_price_map_gets_a_name_litellm_accepts():
    source = prices_from_litellm(PRICE_MAP)
    assert len(source.models) > 1000
    for model in source.models:
        provider = resolved_provider(model.gateway_model)
        if model.provider_key.startswith("vertex_ai"):
            assert provider == "vertex_ai", model
        elif model.provider_key == "bedrock_converse":
            assert provider == "bedrock" and model.gateway_model.startswith("bedrock/"), model
        elif model.provider_key == "anyscale":
            assert provider == "openai" and any("no provider 'anyscale'" in n for n in model.notes), model
        elif model.gateway_model != model.id:
            # a prefix we added goes to the provider we meant (LiteLLM itself sends `ai21/` to `ai21_chat`);
            # names already spelled LiteLLM's way are its own (`azure/mistral-large-latest` resolves to its
            # OpenAI-compatible route)
            meant = (litellm_provider(model.provider_key, model.id) or "openai").split("/")[0]
            assert provider == meant or (meant, provider) == ("ai21", "ai21_chat"), model
    router_accepts(one_per_provider(source.models))  # one bad name would refuse the whole config


def test_genai_prices_import_names_are_accepted():
    source = prices_from_genai_prices(["all"], include_deprecated=True)
    names = [m.gateway_model for m in source.models]
    assert all(names)
    for model in source.models:
        resolved_provider(model.gateway_model)
    router_accepts(one_per_provider(source.models))
    by = {(m.provider_key, m.id): m.gateway_model for m in source.models}
    assert by["google", "claude-3-5-haiku"] == "vertex_ai/claude-3-5-haiku"
    assert by["google", "gemini-1.5-pro"] == "gemini/gemini-1.5-pro"
    assert by["anthropic", "claude-3-5-haiku-latest"] == "anthropic/claude-3-5-haiku-latest"


def _old_default(model) -> str:
    """The engine's default before this change (router_opt.result._default_gateway_model at 5d4cb3b),
    copied so the comparison does not depend on result.py moving to the new function."""
    if model.deployment == "self-hosted" or model.provider.lower() == "self-hosted":
        return f"openai/{model.id}"
    table = {
        "google": "gemini",
        "amazon": "bedrock",
        "aws": "bedrock",
        "microsoft": "azure",
        "mistral ai": "mistral",
        "x.ai": "xai",
        "meta": "meta_llama",
    }
    return f"{table.get(model.provider.lower(), model.provider.lower().replace(' ', '-'))}/{model.id}"


def test_drop_in_for_the_engines_default_on_the_bundled_catalogs():
    """Same name as the engine's old default wherever LiteLLM accepted that one; a name LiteLLM accepts
    everywhere."""
    catalogs = sorted((ROOT / "catalogs").glob("*.yaml")) + sorted((ROOT / "examples").rglob("catalog*.yaml"))
    catalogs = [c for c in catalogs if c.name not in {"tier-mapping.yaml", "arena-task-types.yaml"}]
    seen = 0
    for path in catalogs:
        for model in load_catalog(path).models:
            new = litellm_model_name(model.provider, model.id, model.deployment)
            resolved_provider(new)
            old = _old_default(model)
            try:
                resolved_provider(old)
            except litellm.BadRequestError:  # the old name was rejected: nothing to be compatible with
                continue
            if not (model.provider.lower() == "google" and "claude" in model.id):
                assert new == old, (path, model.id)
            seen += 1
    assert seen >= 10
