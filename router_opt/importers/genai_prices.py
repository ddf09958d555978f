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
from datetime import UTC, date, datetime, time, timedelta

from router_opt.errors import RouterOptError
from router_opt.gateway import litellm_model_name, litellm_provider, provider_host
from router_opt.importers.common import PricedModel, PriceSource, model_key

DEFAULT_PROVIDERS = (
    "openai",
    "anthropic",
    "google",
    "mistral",
    "deepseek",
    "x-ai",
    "cohere",
    "moonshotai",
    "zai",
    "minimax",
)
"""First-party API vendors; `--providers all` takes every provider in the package (hosts and routers
such as azure, aws, openrouter, together list the same models again)."""


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


STATED_TIME = time(12, 0, tzinfo=UTC)
"""The time of day (UTC) whose prices are imported: outside every time-of-day window of the bundled
snapshot (DeepSeek's off-peak discount 16:30-00:30 UTC, its peak surcharges 01:00-04:00 and 06:00-10:00
UTC). A model whose standard price is not in force then is priced at the start of its longest
standard stretch instead, and its `sources` say when."""


def stated_timestamp(as_of: date) -> datetime:
    """The request time the import prices at: `as_of` at 12:00 UTC."""
    return datetime.combine(as_of, STATED_TIME)


def _same(a, b) -> bool:
    return a == b


def _standard_price(model, as_of: date):
    """(ModelPrice, request time it is priced at, notes): genai-prices' own `ModelInfo.get_prices` at a
    time of `as_of` when no time-of-day window is in force. Where the package has time-of-day prices, the
    standard price is the one in force for most of the day (the rest are discount or surcharge windows,
    recorded in the notes)."""
    from genai_prices import types

    when = stated_timestamp(as_of)
    if isinstance(model.prices, types.ModelPrice):
        return model.prices, when, []
    notes = []
    windows = [c.constraint for c in model.prices if isinstance(c.constraint, types.TimeOfDateConstraint)]
    if windows:
        bounds = {time(0, 0, tzinfo=UTC)} | {_utc(w.start_time) for w in windows} | {_utc(w.end_time) for w in windows}
        starts = sorted(datetime.combine(as_of, b) for b in bounds)
        day_end = datetime.combine(as_of, time(0, 0, tzinfo=UTC)) + timedelta(days=1)
        segments = []  # (start, end, price)
        for i, begin in enumerate(starts):
            finish = starts[i + 1] if i + 1 < len(starts) else day_end
            segments.append((begin, finish, model.get_prices(begin)))
        prices: list = []
        for _, _, price in segments:
            if not any(_same(price, known) for known in prices):
                prices.append(price)

        def hours(price) -> float:
            return sum((b - a).total_seconds() for a, b, p in segments if _same(p, price)) / 3600

        def dearness(price) -> float:
            return sum(_decimal_base(getattr(price, key, None))[0] or 0.0 for key in ("input_mtok", "output_mtok"))

        standard = max(prices, key=lambda p: (hours(p), dearness(p)))
        if not _same(model.get_prices(when), standard):
            when = max((seg for seg in segments if _same(seg[2], standard)), key=lambda seg: seg[1] - seg[0])[0]
        for price in prices:
            if _same(price, standard):
                continue
            spans = ", ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b, p in _merged(segments) if _same(p, price))
            kind = "off-peak discount" if dearness(price) < dearness(standard) else "peak surcharge"
            notes.append(
                f"time-of-day price ({kind}) in force {spans} UTC not used: input ${_g(price, 'input_mtok')}/M, "
                f"output ${_g(price, 'output_mtok')}/M"
            )
        notes.append(
            f"standard price: the one in force {hours(standard):g} h a day, taken at {when.isoformat().replace('+00:00', 'Z')} "
            "(genai-prices' calc_price at that time gives these prices)"
        )
    dated = [c.constraint.start_date for c in model.prices if isinstance(c.constraint, types.StartDateConstraint)]
    later = sorted(d for d in dated if d > as_of)
    if later:
        notes.append(f"a price change from {later[0].isoformat()} is not yet in force on {as_of.isoformat()}")
    elif dated:
        notes.append(f"the price in force on {as_of.isoformat()} (the package lists earlier prices too)")
    return model.get_prices(when), when, notes


def _utc(moment: time) -> time:
    """A constraint's time of day in UTC (naive times are UTC, as genai-prices reads them)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return datetime.combine(date(1970, 1, 1), moment).astimezone(UTC).timetz()


def _merged(segments):
    """Adjacent segments with the same price joined, and the one crossing midnight joined across it."""
    out = []
    for a, b, p in segments:
        if out and _same(out[-1][2], p) and out[-1][1] == a:
            out[-1] = (out[-1][0], b, p)
        else:
            out.append((a, b, p))
    if len(out) > 1 and _same(out[0][2], out[-1][2]):
        out[0] = (out[-1][0], out[0][1], out[0][2])
        out.pop()
    return out


def _g(price, key: str) -> str:
    value = getattr(price, key, None)
    base, _ = _decimal_base(value)
    return f"{base:g}" if base is not None else "-"


def _tier_note(what: str, tiered) -> str:
    first = tiered.tiers[0]
    return (
        f"{what}: base rate ${float(tiered.base):g}/M taken; from {first.start:,} prompt tokens the package "
        f"charges ${float(first.price):g}/M (tiered, not used)"
    )


def _priced(
    provider, model, as_of: date, model_id: str | None = None, notes: tuple[str, ...] = ()
) -> PricedModel | None:
    """`model` at `provider` as a PricedModel (under `model_id`, default the package's id), or None
    when it has no input or no output token price."""
    price, _when, price_notes = _standard_price(model, as_of)
    notes = [*notes, *price_notes]
    input_usd, input_tiers = _decimal_base(getattr(price, "input_mtok", None))
    output_usd, output_tiers = _decimal_base(getattr(price, "output_mtok", None))
    if input_usd is None or output_usd is None:
        return None
    cached, _ = _decimal_base(getattr(price, "cache_read_mtok", None))
    if input_tiers is not None:
        notes.append(_tier_note("input", input_tiers))
    if output_tiers is not None:
        notes.append(_tier_note("output", output_tiers))
    if getattr(model, "price_variants", None):
        kinds = sorted({f"{k}={v}" for variant in model.price_variants for k, v in variant.when.items()})
        notes.append(f"standard price; request variants not used ({', '.join(kinds)})")
    model_id = model_id or model.id
    if litellm_provider(provider.id, model_id) is None:
        notes.append(
            f"gateway: LiteLLM has no provider for genai-prices' '{provider.id}', so gateway_model is an "
            "OpenAI-compatible endpoint (openai/...): give it the host's api_base and key"
        )
    return PricedModel(
        id=model_id,
        provider=provider.name,
        provider_key=provider.id,
        input_usd_per_mtok=input_usd,
        output_usd_per_mtok=output_usd,
        cached_input_usd_per_mtok=cached,
        context_window=model.context_window,
        gateway_model=litellm_model_name(provider.id, model_id),
        notes=tuple(notes),
    )


def resolve_name(name: str, chosen: list) -> tuple[object, object] | None:
    """(provider, model) genai-prices' own matcher gives for the model name `name` (an eval's or a
    gateway's id such as `claude-sonnet-4-20250514` or `mistral-large-latest`), at the first-party
    provider where it is among `chosen`: the provider genai-prices itself picks for the name
    (`find_provider`, by each provider's `model_match`: anthropic for claude, deepseek for deepseek, ...),
    else the first of `chosen` whose own model list matches (no fallback to another provider's list)."""
    from genai_prices.data_snapshot import get_snapshot

    ref = name.strip().lower()
    try:
        first_party = get_snapshot().find_provider(ref, None, None)
    except LookupError:
        first_party = None
    order = [p for p in chosen if first_party is not None and p.id == first_party.id]
    order += [p for p in chosen if first_party is None or p.id != first_party.id]
    for provider in order:
        model = provider.find_model(ref)
        if model is not None:
            return provider, model
    return None


def _choose_providers(providers: list[str] | None, lenient: bool) -> list:
    from genai_prices.data import providers as all_providers

    known = {p.id: p for p in all_providers}
    if providers is None:
        return [known[p] for p in DEFAULT_PROVIDERS if p in known]
    if [p.lower() for p in providers] == ["all"]:
        # First-party vendors first, so that an id several providers list is first met at its vendor.
        chosen = [known[p] for p in DEFAULT_PROVIDERS if p in known]
        return chosen + [p for p in all_providers if p.id not in DEFAULT_PROVIDERS]
    # One vocabulary (router_opt.gateway.provider_host): `gemini` or `vertex_ai` choose genai-prices' `google`.
    wanted = {provider_host(p) for p in providers}
    chosen = [
        p for p in all_providers if p.id.lower() in {w.lower() for w in providers} or provider_host(p.id) in wanted
    ]
    matched = {provider_host(p.id) for p in chosen} | {p.id for p in chosen}
    unknown = [p for p in providers if provider_host(p) not in matched and p.lower() not in matched]
    if (unknown and not lenient) or not chosen:
        raise RouterOptError(
            f"`providers`: unknown genai-prices provider(s) {', '.join(unknown or providers)}; "
            f"known: {', '.join(sorted(known))} (LiteLLM's names such as gemini, bedrock, xai are understood too)",
            option="providers",
        )
    order = {p: i for i, p in enumerate(DEFAULT_PROVIDERS)}
    return sorted(chosen, key=lambda p: order.get(p.id, len(order)))


NO_TOKEN_PRICE = "no input or output token price (embeddings, image, audio)"


def _priced_names(
    names, chosen: list, pattern: re.Pattern | None, as_of: date, skipped: dict[str, int]
) -> tuple[list[PricedModel], list[tuple[str, object, object]], list[str]]:
    """The quality file's names that `pattern` keeps, each priced under its own name where genai-prices'
    matcher finds it: (priced models, (name, provider, model) matched, names not matched)."""
    out: list[PricedModel] = []
    resolved: list[tuple[str, object, object]] = []
    unresolved: list[str] = []
    for name in names:
        if pattern is not None and not pattern.search(name):
            continue
        found = resolve_name(name, chosen)
        if found is None:
            unresolved.append(name)
            continue
        provider, model = found
        note = f"genai-prices matches '{name}' to its {provider.id} model '{model.id}'"
        if model.deprecated:
            note += " (which it marks deprecated)"
        priced = _priced(provider, model, as_of, model_id=name, notes=(note,))
        if priced is None:
            skipped[NO_TOKEN_PRICE] += 1
            continue
        out.append(priced)
        resolved.append((name, provider, model))
    return out, resolved, unresolved


def _priced_listings(
    chosen: list,
    resolved: list[tuple[str, object, object]],
    pattern: re.Pattern | None,
    as_of: date,
    include_deprecated: bool,
    skipped: dict[str, int],
) -> tuple[list[PricedModel], int]:
    """The chosen providers' own listings, but the copies of models already priced under a quality-file
    name (counted), those `pattern` drops and deprecated ones (counted in `skipped`)."""
    out: list[PricedModel] = []
    copies = 0
    resolved_keys = {model_key(name) for name, _p, _m in resolved}
    for provider in chosen:
        for model in provider.models:
            if model_key(model.id) in resolved_keys or any(model is m or model.is_match(n) for n, _p, m in resolved):
                copies += 1  # priced under the quality file's name, at its first-party provider
                continue
            if pattern is not None and not pattern.search(model.id):
                skipped["filtered by --models"] += 1
                continue
            if model.deprecated and not include_deprecated:
                skipped["deprecated"] += 1
                continue
            priced = _priced(provider, model, as_of)
            if priced is None:
                skipped[NO_TOKEN_PRICE] += 1
                continue
            out.append(priced)
    return out, copies


def prices_from_genai_prices(
    providers: list[str] | None = None,
    models: str | None = None,
    as_of: date | None = None,
    include_deprecated: bool = False,
    names: list[str] | tuple[str, ...] | None = None,
    lenient_providers: bool = False,
) -> PriceSource:
    """The bundled snapshot's text models (those with both an input and an output token price), priced
    as genai-prices' `calc_price` prices a request at `stated_timestamp(as_of)`.

    `names` (the quality file's model names): each is looked up with genai-prices' own matcher
    (`resolve_name`) and imported under that name, at its first-party provider; the listings of the same
    model at other providers (resold copies, which the matcher also matches) are then left out.
    `lenient_providers`: provider names the package lacks are ignored (as long as one is known), for
    `catalog check`, where one --providers list serves two sources."""
    as_of = as_of or date.today()
    version = package_version()
    chosen = _choose_providers(providers, lenient_providers)
    try:
        pattern = re.compile(models, re.IGNORECASE) if models else None
    except re.error as exc:
        raise RouterOptError(f"`models`: not a valid regular expression: {exc}", option="models") from None

    skipped = {NO_TOKEN_PRICE: 0, "deprecated": 0, "filtered by --models": 0}
    out, resolved, unresolved = _priced_names(names or (), chosen, pattern, as_of, skipped)
    listed, copies = _priced_listings(chosen, resolved, pattern, as_of, include_deprecated, skipped)
    out += listed
    when = stated_timestamp(as_of).isoformat().replace("+00:00", "Z")
    notes = [
        (
            f"{len(out)} models priced from genai-prices {version} ({len(chosen)} providers), as its calc_price "
            f"prices a request at {when}"
        )
    ]
    if names:
        notes.append(
            f"{len(resolved)} of {len(names)} quality-file names matched by genai-prices' own matcher "
            f"(first-party provider); {copies} listings of the same models elsewhere left out"
        )
        if unresolved:
            notes.append(
                f"{len(unresolved)} names genai-prices does not match at these providers: {', '.join(unresolved[:15])}"
                + (" ..." if len(unresolved) > 15 else "")
            )
    notes += [f"skipped {n}: {why}" for why, n in skipped.items() if n]
    return PriceSource(
        label=f"genai-prices {version} bundled snapshot",
        prices_as_of=as_of,
        models=tuple(out),
        header=(
            f"Source: the price data bundled in the genai-prices {version} Python package (genai_prices/data.py),",
            "read offline (its network updater is never used).",
            f"Providers: {', '.join(p.id for p in chosen)}.",
            f"Prices: what genai-prices' calc_price charges for a request at {when}, outside every time-of-day",
            "window (off-peak discounts, peak surcharges); tiered, dated and per-request prices: one price taken,",
            "as each model's `sources` says.",
        ),
        notes=tuple(notes),
        default_name=f"genai-prices-{version}",
    )
