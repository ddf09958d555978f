"""What every price importer shares: a priced model before it is a catalog entry, matching model ids
across sources, and assembling (and writing, with comments) a catalog from prices, tiers and quality.

Model ids across sources (`model_key`, `pair_keys`), the rule documented in README:

1. lower case, surrounding spaces removed;
2. a provider prefix is dropped: everything up to the last `/` (`openrouter/anthropic/claude-3.5-sonnet`,
   `azure/gpt-4o`, `models/gemini-2.0-flash`), and Bedrock's dotted vendor prefix and `-vN:M` suffix
   (`us.anthropic.claude-3-haiku-20240307-v1:0` -> `claude-3-haiku-20240307`);
3. ids are first joined on that key; only ids left unmatched are then joined with a trailing date
   removed (`-2024-08-06`, `-20240806`, `@20240806`), and only where the dateless key is unique on
   both sides. So `gpt-4o-2024-05-13` never joins `gpt-4o` when both sides list `gpt-4o` (they are
   priced differently), but `claude-3-5-haiku-20241022` joins `claude-3-5-haiku` when it is the only
   candidate. Short suffixes such as `-0613` or `-1106` are never taken for dates.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from pydantic import ValidationError

from router_opt.errors import RouterOptError
from router_opt.models import Catalog

# --- priced models ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PricedModel:
    """One model as a price source lists it."""

    id: str
    """The id as the source spells it."""
    provider: str
    """Who serves it, for the catalog's `provider` (e.g. `OpenAI`)."""
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    provider_key: str = ""
    """The source's short provider id (`openai`, `azure`), used to tell apart one model id listed
    by several providers."""
    cached_input_usd_per_mtok: float | None = None
    """Prompt-cache read price, where the source has one (recorded in `sources`; the optimizer
    prices every input token at the input price)."""
    context_window: int | None = None
    license: str | None = None
    gateway_model: str | None = None
    """LiteLLM-style `provider/model` name for export-policy, where the source implies one."""
    notes: tuple[str, ...] = ()
    """Caveats about the prices (tiers or conditions not used), copied into `sources`."""

    @property
    def blended_usd_per_mtok(self) -> float:
        return blended(self.input_usd_per_mtok, self.output_usd_per_mtok)


def blended(input_usd: float, output_usd: float) -> float:
    """The blended $/M of a 3:1 input:output token mix: (3 × input + output) / 4. Used for the tier
    price bands and to pick the dearest model as baseline."""
    return (3 * input_usd + output_usd) / 4


@dataclass(frozen=True)
class PriceSource:
    """The prices of one source, ready to become a catalog."""

    label: str
    """Short name for comments and `sources` (e.g. `genai-prices 0.2.3 bundled snapshot`)."""
    prices_as_of: date
    models: tuple[PricedModel, ...]
    header: tuple[str, ...] = ()
    """Lines for the catalog's header comment: where the figures come from and how they were read."""
    notes: tuple[str, ...] = ()
    """What a person should know about the import (entries skipped and why)."""
    default_name: str = "imported"


def money(value: float) -> float:
    """A price rounded to 10 significant digits (per-token prices times 10⁶ pick up float noise)."""
    return float(f"{value:.10g}")


# --- model ids across sources -------------------------------------------------------------------

_BEDROCK_PREFIX = re.compile(
    r"^(?:(?:us|eu|apac|global)\.)?(?:anthropic|meta|mistral|amazon|cohere|ai21|deepseek|openai|qwen|writer)\."
)
_BEDROCK_VERSION = re.compile(r"-v\d+:\d+$")
_DATE_SUFFIX = re.compile(r"[-@_](20\d\d)-?(0[1-9]|1[0-2])-?(0[1-9]|[12]\d|3[01])$")


def model_key(model_id: str) -> str:
    """Lower case, without a provider prefix (rules 1 and 2 of the module docstring)."""
    key = model_id.strip().lower().rsplit("/", 1)[-1]
    key = _BEDROCK_PREFIX.sub("", key)
    return _BEDROCK_VERSION.sub("", key)


def dateless_key(key: str) -> str:
    """A key without its trailing date (rule 3)."""
    return _DATE_SUFFIX.sub("", key)


def pair_keys(left: Iterable[str], right: Iterable[str]) -> dict[str, str]:
    """Left key -> right key: equal keys first, then equal dateless keys where unique on both sides."""
    left, right = set(left), set(right)
    pairs = {key: key for key in left & right}
    by_date_left: dict[str, list[str]] = {}
    by_date_right: dict[str, list[str]] = {}
    for key in left - set(pairs):
        by_date_left.setdefault(dateless_key(key), []).append(key)
    for key in right - set(pairs.values()):
        by_date_right.setdefault(dateless_key(key), []).append(key)
    for stem, keys in by_date_left.items():
        others = by_date_right.get(stem, [])
        if len(keys) == 1 and len(others) == 1:
            pairs[keys[0]] = others[0]
    return pairs


def preferred(ids: Sequence[str]) -> str:
    """Of several ids with the same key, the one spelled without a prefix, else the first."""
    return next((i for i in ids if i.strip().lower() == model_key(i)), ids[0])


def group_by_key(ids: Iterable[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for model_id in ids:
        groups.setdefault(model_key(model_id), []).append(model_id)
    return groups


# --- assembling a catalog -----------------------------------------------------------------------


@dataclass
class ImportedCatalog:
    catalog: Catalog
    yaml_text: str
    notes: list[str] = field(default_factory=list)
    unrated: list[str] = field(default_factory=list)
    """Ids left out of the catalog because no quality source rates them."""


def unique_ids(models: Sequence[PricedModel]) -> list[str]:
    """Catalog ids: the source's id for its first listing, `provider_key/id` for a later provider
    listing the same id (sources list first-party vendors first)."""
    first: set[str] = set()
    ids = []
    for m in models:
        key = m.id.lower()
        ids.append(f"{m.provider_key}/{m.id}" if key in first and m.provider_key else m.id)
        first.add(key)
    seen: dict[str, int] = {}
    out = []
    for i in ids:  # still equal (same provider listing an id twice): number them
        seen[i] = seen.get(i, 0) + 1
        out.append(i if seen[i] == 1 else f"{i}#{seen[i]}")
    return out


def build_catalog(
    source: PriceSource,
    quality,  # QualityFile | None (router_opt.importers.quality)
    tiers,  # TierMapping (router_opt.importers.tiers)
    *,
    tiers_label: str,
    quality_label: str | None = None,
    baseline: str | None = None,
    name: str | None = None,
) -> ImportedCatalog:
    """The catalog of `source`'s models that `quality` rates, placed in tiers by `tiers`.

    Models no quality source rates are left out (a model without quality cannot be routed to, and the
    catalog schema asks every model to rate at least one task type): they are listed in the notes and
    as commented-out entries at the end of the YAML, ready to be given quality and uncommented.
    """
    from router_opt.models import QualityScale

    if not source.models:
        raise RouterOptError(
            f"{source.label}: no models left to import (check `providers` and `models`)", option=("providers", "models")
        )
    ids = unique_ids(source.models)
    rated = _rated(ids, quality)
    entries, unrated, unrated_lines = _entries(ids, source, tiers, rated)
    if not entries:
        _no_entries(len(ids), quality, quality_label)
    baseline, baseline_reason = _baseline(entries, baseline)
    scale = quality.quality_scale if quality is not None else QualityScale()
    data = _catalog_data(source, entries, baseline, scale, name, tiers_label, quality, quality_label)
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as exc:
        raise RouterOptError(f"the imported catalog does not validate: {exc}") from None

    header = [
        f"Catalog imported by `router-opt catalog import` from {source.label}.",
        *source.header,
        f"Prices as of {source.prices_as_of.isoformat()}, USD per million tokens.",
        f"Tiers: {tiers_label} (first matching rule, else the price band of the blended 3:1 $/M).",
        f"Quality: {quality.source or quality_label}"
        + (f" ({quality.method})" if quality.method else "")
        + f", on the scale {scale.min:g}..{scale.max:g} ({scale.unit}); thresholds must be on this scale too.",
        baseline_reason + ".",
        f"{len(entries)} models rated and routable; {len(unrated)} without quality are listed, commented out, at the end.",
    ]
    notes = list(source.notes) + _import_notes(entries, baseline, scale, unrated, quality, rated)
    text = _catalog_yaml(data, header, entries, source, unrated_lines)
    return ImportedCatalog(catalog=catalog, yaml_text=text, notes=notes, unrated=unrated)


def _rated(ids: list[str], quality) -> dict[str, tuple[str, dict[str, float]]]:
    """Catalog id -> (the quality file's name for it, its scores), for the ids the quality file rates
    (joined by model key, as the module docstring describes)."""
    rated: dict[str, tuple[str, dict[str, float]]] = {}
    if quality is None:
        return rated
    catalog_groups = group_by_key(ids)
    quality_groups = group_by_key(quality.models)
    for ckey, qkey in pair_keys(catalog_groups, quality_groups).items():
        qname = preferred(quality_groups[qkey])
        for model_id in catalog_groups[ckey]:
            rated[model_id] = (qname, dict(quality.models[qname]))
    return rated


def _entries(ids: list[str], source: PriceSource, tiers, rated: dict) -> tuple[list[tuple], list[str], list[str]]:
    """(entries, unrated ids, unrated YAML lines): an entry (id, model, tier, tier reason, quality name,
    scores) per rated model; each unrated one as a commented-out catalog entry."""
    entries, unrated_lines, unrated = [], [], []
    for model_id, model in zip(ids, source.models):
        tier, tier_reason = tiers.tier_for(model)
        if model_id not in rated:
            unrated.append(model_id)
            unrated_lines.append(
                f"#  - {{id: {model_id}, tier: {tier}, provider: {model.provider}, "
                f"input_usd_per_mtok: {money(model.input_usd_per_mtok):g}, "
                f"output_usd_per_mtok: {money(model.output_usd_per_mtok):g}, quality: {{}}}}"
            )
            continue
        qname, scores = rated[model_id]
        entries.append((model_id, model, tier, tier_reason, qname, scores))
    return entries, unrated, unrated_lines


def _no_entries(n_ids: int, quality, quality_label: str | None) -> None:
    """Raise: no imported model has quality, with what to do about it."""
    hint = (
        "give `quality` FILE (from `router-opt quality import`) whose model names match these ids"
        if quality is None
        else f"none of the {n_ids} models matches a model in {quality_label or 'the quality file'} "
        "(ids are matched as README 'Importing real data' describes)"
    )
    raise RouterOptError(
        f"no imported model has quality, so there is no catalog to write: {hint}",
        option="quality" if quality is None else None,
    )


def _baseline(entries: list[tuple], baseline: str | None) -> tuple[str, str]:
    """(baseline id, why): the id given (matched exactly, else by model key), else the dearest
    (blended 3:1 $/M) of the models rating the most task types."""
    if baseline is None:
        most = max(len(e[5]) for e in entries)
        # ties (one model at several providers) go to the first listed: its own vendor
        baseline_entry = max(
            (e for e in entries if len(e[5]) == most), key=lambda e: (e[1].blended_usd_per_mtok, -entries.index(e))
        )
        chosen = baseline_entry[0]
        return (
            chosen,
            f"baseline {chosen}: the dearest (blended 3:1 $/M) of the models rating the most task types ({most})",
        )
    matches = [e[0] for e in entries if e[0] == baseline] or [
        e[0] for e in entries if model_key(e[0]) == model_key(baseline)
    ]
    if len(matches) != 1:
        known = ", ".join(e[0] for e in entries[:20]) + (" ..." if len(entries) > 20 else "")
        raise RouterOptError(
            f"`baseline` {baseline}: not a rated model of the imported catalog (ids: {known})", option="baseline"
        )
    return matches[0], f"baseline {matches[0]}: chosen with --baseline"


def _catalog_data(
    source: PriceSource,
    entries: list[tuple],
    baseline: str,
    scale,
    name: str | None,
    tiers_label: str,
    quality,
    quality_label: str | None,
) -> dict:
    """The catalog as plain data (what Catalog validates and the YAML writes), each model with the
    `sources` of its price, tier and quality."""
    data = {
        "name": name or source.default_name,
        "currency": "USD",
        "prices_as_of": source.prices_as_of,
        "baseline": baseline,
        "quality_scale": scale.model_dump(),
        "models": [],
    }
    for model_id, model, tier, tier_reason, qname, scores in entries:
        sources = [
            (
                f"price: {source.label}, {model.provider_key + ' ' if model.provider_key else ''}{model.id}, "
                f"as of {source.prices_as_of.isoformat()}"
            )
        ]
        sources += [f"price: {note}" for note in model.notes]
        if model.cached_input_usd_per_mtok is not None:
            sources.append(
                f"cached input: ${money(model.cached_input_usd_per_mtok):g}/M (recorded only: the optimizer "
                "prices all input at input_usd_per_mtok)"
            )
        sources.append(f"tier: {tier_reason} ({tiers_label})")
        quality_what = f"{quality.source or quality_label}" + (f", {quality.method}" if quality.method else "")
        sources.append(f"quality: {quality_what}, as '{qname}'")
        entry = {
            "id": model_id,
            "tier": str(tier),
            "provider": model.provider,
            "input_usd_per_mtok": money(model.input_usd_per_mtok),
            "output_usd_per_mtok": money(model.output_usd_per_mtok),
        }
        if model.context_window:
            entry["context_window"] = int(model.context_window)
        if model.gateway_model:
            entry["gateway_model"] = model.gateway_model
        entry["quality"] = {k: round(float(v), 2) for k, v in scores.items()}
        entry["sources"] = sources
        data["models"].append(entry)
    return data


def _import_notes(entries: list[tuple], baseline: str, scale, unrated: list[str], quality, rated: dict) -> list[str]:
    """What was written, and the models on either side that found no partner."""
    notes = [
        f"{len(entries)} models with quality written; baseline {baseline}; scale {scale.min:g}..{scale.max:g} {scale.unit}"
    ]
    if unrated:
        shown = ", ".join(unrated[:15]) + (f" and {len(unrated) - 15} more" if len(unrated) > 15 else "")
        notes.append(f"{len(unrated)} models have no quality and were left out (cannot be routed to): {shown}")
    if quality is not None:
        used = {q for q, _ in rated.values()}
        missing = [q for q in quality.models if q not in used]
        if missing:
            shown = ", ".join(missing[:15]) + (f" and {len(missing) - 15} more" if len(missing) > 15 else "")
            notes.append(f"{len(missing)} models of the quality file have no price here: {shown}")
    return notes


def _catalog_yaml(data: dict, header: list[str], entries, source: PriceSource, unrated_lines: list[str]) -> str:
    import io

    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    root = CommentedMap()
    for key in ("name", "currency", "prices_as_of", "baseline"):
        root[key] = data[key]
    scale = CommentedMap(data["quality_scale"])
    scale.fa.set_flow_style()
    root["quality_scale"] = scale
    models = CommentedSeq()
    for entry, (model_id, model, *_rest) in zip(data["models"], entries):
        item = CommentedMap()
        for key, value in entry.items():
            if key == "quality":
                value = CommentedMap(value)
                value.fa.set_flow_style()
            elif key == "sources":
                value = CommentedSeq(value)
            item[key] = value
        where = f"{source.label}{f' ({model.provider_key})' if model.provider_key else ''}, {source.prices_as_of.isoformat()}"
        item.yaml_add_eol_comment(f"# {where}", "input_usd_per_mtok")
        models.append(item)
    root["models"] = models
    root.yaml_set_start_comment("\n".join(header))
    yaml = YAML()
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(root, out)
    text = out.getvalue()
    if unrated_lines:
        text += (
            "\n# Models without quality (not routable): give each a `quality:` per task type on the scale above,\n"
            "# then move it into `models:`.\n" + "\n".join(unrated_lines) + "\n"
        )
    return text


def finite_price(value) -> float | None:
    """A price from a source file as a float, or None when absent, empty or not a finite number ≥ 0."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number >= 0 else None
