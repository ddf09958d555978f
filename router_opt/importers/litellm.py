"""Prices from a LiteLLM-style price map, read as a file (litellm itself is not a dependency): the JSON
object of LiteLLM's `model_prices_and_context_window.json`, model name -> spec with
`input_cost_per_token` and `output_cost_per_token` (USD per token), `cache_read_input_token_cost`,
`litellm_provider`, `max_input_tokens` and `mode`.

Imported: entries whose `mode` is chat, completion or responses (or absent) and that have both token
prices; the `sample_spec` entry (the file's own schema example) is skipped. Rates above a prompt length
(`input_cost_per_token_above_128k_tokens`, ...) and per-request variants (`..._batches`, `..._flex`,
`..._priority`) are not used: the base rate is, and the model's `sources` says so.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

from router_opt.errors import InputError, RouterOptError
from router_opt.gateway import LITELLM_PROVIDERS, litellm_model_name, litellm_provider, provider_host
from router_opt.importers.common import PricedModel, PriceSource, finite_price
from router_opt.io.text import read_text

TEXT_MODES = {"chat", "completion", "responses"}
PROVIDER_NAMES = {
    "openai": "OpenAI",
    "text-completion-openai": "OpenAI",
    "anthropic": "Anthropic",
    "gemini": "Google",
    "vertex_ai-language-models": "Google Vertex AI",
    "mistral": "Mistral",
    "deepseek": "DeepSeek",
    "xai": "xAI",
    "bedrock": "AWS Bedrock",
    "bedrock_converse": "AWS Bedrock",
    "azure": "Azure",
    "azure_ai": "Azure AI",
    "groq": "Groq",
    "together_ai": "Together AI",
    "fireworks_ai": "Fireworks",
    "openrouter": "OpenRouter",
    "cohere": "Cohere",
    "cohere_chat": "Cohere",
}
"""Display names; any `vertex_ai-*` key is Google Vertex AI (see `_provider_name`)."""
_ABOVE = re.compile(r"^(input|output)_cost_per_token_above_(\w+?)_tokens$")
_VARIANT = re.compile(r"^(input|output)_cost_per_token_(batches|flex|priority)$")


def _provider_name(provider_key: str) -> str:
    if provider_key in PROVIDER_NAMES:
        return PROVIDER_NAMES[provider_key]
    if provider_key.startswith("vertex_ai"):
        return "Google Vertex AI"
    return provider_key or "unknown"


def read_price_map(path: str | Path) -> dict:
    path = Path(path)
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError.single(str(path), f"not valid JSON: {exc.msg}", line=exc.lineno, column=exc.colno) from None
    if not isinstance(data, dict):
        raise InputError.single(str(path), "a LiteLLM price map is a JSON object: model name -> spec")
    return data


def _int(value) -> int | None:
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def _provider_key(name: str, spec: dict) -> str:
    """The entry's LiteLLM provider: its `litellm_provider`, else the id's own LiteLLM prefix."""
    provider_key = str(spec.get("litellm_provider") or "").strip()
    if not provider_key and name.split("/", 1)[0] in LITELLM_PROVIDERS and "/" in name:
        provider_key = name.split("/", 1)[0]
    return provider_key


def _skip_reason(name: str, spec, wanted: set[str] | None, pattern: re.Pattern | None) -> str | None:
    """Why an entry of the price map is not imported (the notes count each reason), or None."""
    if not isinstance(spec, dict):
        return "not an object"
    if wanted is not None and provider_host(_provider_key(name, spec)) not in wanted:
        return "other providers"
    if pattern is not None and not pattern.search(name):
        return "filtered by --models"
    mode = spec.get("mode")
    if mode is not None and mode not in TEXT_MODES:
        return f"mode {mode}"
    if (
        finite_price(spec.get("input_cost_per_token")) is None
        or finite_price(spec.get("output_cost_per_token")) is None
    ):
        return "no input or output token price"
    return None


def _priced_model(name: str, spec: dict) -> PricedModel:
    """An entry with both token prices as a PricedModel, with notes on the rates not used (above a
    context size, variants) and on a gateway name LiteLLM would not recognise."""
    provider_key = _provider_key(name, spec)
    notes = []
    for key, value in spec.items():
        above = _ABOVE.match(key)
        if above and finite_price(value) is not None:
            notes.append(f"{above.group(1)}: base rate taken; {key} = ${finite_price(value) * 1e6:g}/M not used")
        variant = _VARIANT.match(key)
        if variant and finite_price(value) is not None:
            notes.append(f"{variant.group(1)}: standard rate taken; {key} = ${finite_price(value) * 1e6:g}/M not used")
    cached = finite_price(spec.get("cache_read_input_token_cost"))
    gateway = litellm_model_name(provider_key, name)
    if litellm_provider(provider_key, name) is None and gateway != name:
        notes.append(
            f"gateway: LiteLLM has no provider '{provider_key or name.split('/', 1)[0]}', so gateway_model is "
            f"{gateway}, an OpenAI-compatible endpoint: give it the host's api_base and key (or drop the model)"
        )
    return PricedModel(
        id=name,
        provider=_provider_name(provider_key),
        provider_key=provider_key,
        input_usd_per_mtok=finite_price(spec.get("input_cost_per_token")) * 1e6,
        output_usd_per_mtok=finite_price(spec.get("output_cost_per_token")) * 1e6,
        cached_input_usd_per_mtok=cached * 1e6 if cached is not None else None,
        context_window=_int(spec.get("max_input_tokens")),
        gateway_model=gateway,
        notes=tuple(notes),
    )


def prices_from_litellm(
    path: str | Path,
    providers: list[str] | None = None,
    models: str | None = None,
    as_of: date | None = None,
) -> PriceSource:
    path = Path(path)
    data = read_price_map(path)
    if as_of is None:
        as_of = datetime.fromtimestamp(path.stat().st_mtime).date()
        date_note = f"the file's modification date {as_of.isoformat()} (give --as-of for the date it was fetched)"
    else:
        date_note = f"{as_of.isoformat()} (given with --as-of)"
    # one provider vocabulary with genai-prices (router_opt.gateway.provider_host): `google` or `gemini`
    # select gemini and every vertex_ai-* entry, `aws` or `bedrock` both Bedrock routes, ...
    wanted = {provider_host(p) for p in providers} if providers else None
    try:
        pattern = re.compile(models, re.IGNORECASE) if models else None
    except re.error as exc:
        raise RouterOptError(f"`models`: not a valid regular expression: {exc}", option="models") from None

    out: list[PricedModel] = []
    skipped: dict[str, int] = {}
    for name, spec in data.items():
        if name == "sample_spec":
            continue
        why = _skip_reason(name, spec, wanted, pattern)
        if why is not None:
            skipped[why] = skipped.get(why, 0) + 1
            continue
        out.append(_priced_model(name, spec))
    notes = [f"{len(out)} models priced from {path.name}, prices as of {date_note}"]
    notes += [f"skipped {n}: {why}" for why, n in sorted(skipped.items(), key=lambda kv: -kv[1])]
    return PriceSource(
        label=f"LiteLLM price map {path.name}",
        prices_as_of=as_of,
        models=tuple(out),
        header=(
            f"Source: the LiteLLM-style price map {path} (USD per token x 10^6), read as a file.",
            f"Price date: {date_note}.",
        ),
        notes=tuple(notes),
        default_name=path.stem,
    )
