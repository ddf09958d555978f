"""Prices from pydantic's genai-prices package: the snapshot bundled with the installed package
(`genai_prices.data.providers`), read offline. Its network updater (`UpdatePrices`) is never used.

Per model: input, output and cache-read $/M and the context window. Where the package has more than
one price, the catalog takes one and says so in the model's `sources`:
- tiered prices (a higher rate above some prompt length): the base rate, below the first tier;
- prices that change on a date: the one in force on the import's `as_of` date;
- time-of-day prices (off-peak discounts): the standard, all-day price;
- request variants (batch, flex or priority service tiers): the standard price.
"""

from __future__ import annotations

import re
from datetime import date

from router_opt.errors import RouterOptError
from router_opt.importers.common import PricedModel, PriceSource

DEFAULT_PROVIDERS = (
    "openai", "anthropic", "google", "mistral", "deepseek", "x-ai", "cohere", "moonshotai", "zai", "minimax",
)
"""First-party API vendors; `--providers all` takes every provider in the package (hosts and routers
such as azure, aws, openrouter, together list the same models again)."""

# genai-prices provider id -> LiteLLM's provider prefix, for the catalog's `gateway_model`.
LITELLM_PREFIX = {
    "openai": "openai", "anthropic": "anthropic", "google": "gemini", "mistral": "mistral",
    "deepseek": "deepseek", "x-ai": "xai", "cohere": "cohere", "groq": "groq", "together": "together_ai",
    "fireworks": "fireworks_ai", "openrouter": "openrouter", "azure": "azure", "aws": "bedrock",
}


def package_version() -> str:
    from importlib.metadata import version

    return version("genai-prices")


def _decimal_base(value) -> tuple[float | None, object]:
    """(base price, the TieredPrices object or None)."""
    from genai_prices import types

    if value is None:
        return None, None
    if isinstance(value, types.TieredPrices):
        return float(value.base), value
    return float(value), None


def _price_in_force(model, as_of: date):
    """The ModelPrice in force on `as_of`, ignoring time-of-day conditions; and notes."""
    from genai_prices import types

    if isinstance(model.prices, types.ModelPrice):
        return model.prices, []
    notes = []
    chosen = None
    for conditional in reversed(model.prices):
        constraint = conditional.constraint
        if constraint is None or (
            isinstance(constraint, types.StartDateConstraint) and constraint.start_date <= as_of
        ):
            chosen = conditional.prices
            break
    if chosen is None:
        chosen = model.prices[0].prices
    kinds = {type(c.constraint).__name__ for c in model.prices if c.constraint is not None}
    if "TimeOfDateConstraint" in kinds:
        notes.append("time-of-day (off-peak) prices exist; the standard all-day price is used")
    later = sorted(
        c.constraint.start_date
        for c in model.prices
        if isinstance(c.constraint, types.StartDateConstraint) and c.constraint.start_date > as_of
    )
    if later:
        notes.append(f"a price change from {later[0].isoformat()} is not yet in force on {as_of.isoformat()}")
    elif any(isinstance(c.constraint, types.StartDateConstraint) for c in model.prices):
        notes.append(f"the price in force on {as_of.isoformat()} (the package lists earlier prices too)")
    return chosen, notes


def _tier_note(what: str, tiered) -> str:
    first = tiered.tiers[0]
    return (
        f"{what}: base rate ${float(tiered.base):g}/M taken; from {first.start:,} prompt tokens the package "
        f"charges ${float(first.price):g}/M (tiered, not used)"
    )


def prices_from_genai_prices(
    providers: list[str] | None = None,
    models: str | None = None,
    as_of: date | None = None,
    include_deprecated: bool = False,
) -> PriceSource:
    """The bundled snapshot's text models (those with both an input and an output token price)."""
    from genai_prices.data import providers as all_providers

    as_of = as_of or date.today()
    version = package_version()
    known = {p.id: p for p in all_providers}
    if providers is None:
        chosen = [known[p] for p in DEFAULT_PROVIDERS if p in known]
    elif [p.lower() for p in providers] == ["all"]:
        # First-party vendors first, so that an id several providers list is first met at its vendor.
        chosen = [known[p] for p in DEFAULT_PROVIDERS if p in known]
        chosen += [p for p in all_providers if p.id not in DEFAULT_PROVIDERS]
    else:
        unknown = [p for p in providers if p.lower() not in known]
        if unknown:
            raise RouterOptError(
                f"--providers: unknown genai-prices provider(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        chosen = [known[p.lower()] for p in providers]
    try:
        pattern = re.compile(models, re.IGNORECASE) if models else None
    except re.error as exc:
        raise RouterOptError(f"--models: not a valid regular expression: {exc}") from None

    out: list[PricedModel] = []
    skipped = {"no input or output token price (embeddings, image, audio)": 0, "deprecated": 0, "filtered by --models": 0}
    for provider in chosen:
        for model in provider.models:
            if pattern is not None and not pattern.search(model.id):
                skipped["filtered by --models"] += 1
                continue
            if model.deprecated and not include_deprecated:
                skipped["deprecated"] += 1
                continue
            price, notes = _price_in_force(model, as_of)
            input_usd, input_tiers = _decimal_base(getattr(price, "input_mtok", None))
            output_usd, output_tiers = _decimal_base(getattr(price, "output_mtok", None))
            if input_usd is None or output_usd is None:
                skipped["no input or output token price (embeddings, image, audio)"] += 1
                continue
            cached, _ = _decimal_base(getattr(price, "cache_read_mtok", None))
            if input_tiers is not None:
                notes.append(_tier_note("input", input_tiers))
            if output_tiers is not None:
                notes.append(_tier_note("output", output_tiers))
            if getattr(model, "price_variants", None):
                kinds = sorted({f"{k}={v}" for variant in model.price_variants for k, v in variant.when.items()})
                notes.append(f"standard price; request variants not used ({', '.join(kinds)})")
            prefix = LITELLM_PREFIX.get(provider.id)
            out.append(
                PricedModel(
                    id=model.id,
                    provider=provider.name,
                    provider_key=provider.id,
                    input_usd_per_mtok=input_usd,
                    output_usd_per_mtok=output_usd,
                    cached_input_usd_per_mtok=cached,
                    context_window=model.context_window,
                    gateway_model=f"{prefix}/{model.id}" if prefix and "/" not in model.id else None,
                    notes=tuple(notes),
                )
            )
    notes = [f"{len(out)} models priced from genai-prices {version} ({len(chosen)} providers), prices in force on {as_of.isoformat()}"]
    notes += [f"skipped {n}: {why}" for why, n in skipped.items() if n]
    return PriceSource(
        label=f"genai-prices {version} bundled snapshot",
        prices_as_of=as_of,
        models=tuple(out),
        header=(
            f"Source: the price data bundled in the genai-prices {version} Python package (genai_prices/data.py),",
            "read offline (its network updater is never used).",
            f"Providers: {', '.join(p.id for p in chosen)}.",
            "Tiered, dated, time-of-day and per-request prices: one price taken, as each model's `sources` says.",
        ),
        notes=tuple(notes),
        default_name=f"genai-prices-{version}",
    )
