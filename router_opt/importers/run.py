"""The three imports as one call each (what `router-opt catalog import`, `quality import` and `workload
from-logs` run): which source module to read with, how the pieces are put together, and the notes a
person should read, in the order to show them. Nothing here prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from router_opt.errors import RouterOptError
from router_opt.importers.common import ImportedCatalog, PriceSource
from router_opt.importers.logs import LogsResult

PRICE_SOURCES = ("genai-prices", "litellm", "arena")
QUALITY_USES = ("mean", "lower-bound")


def import_catalog(
    source: str,
    path: str | Path | None = None,
    *,
    providers: list[str] | None = None,
    models: str | None = None,
    tiers: str | Path | None = None,
    quality: str | Path | None = None,
    baseline: str | None = None,
    as_of: date | None = None,
    name: str | None = None,
    use: str = "mean",
    arena_map: str | Path | None = None,
    include_deprecated: bool = False,
) -> ImportedCatalog:
    """A catalog from `source` (one of PRICE_SOURCES): genai-prices' bundled snapshot (no `path`), a
    LiteLLM price map or the Arena folder at `path`. Models are placed in tiers by `tiers` (default: the
    bundled mapping); quality comes from the `quality` file, else for Arena its own ratings (`use`,
    `arena_map`); models without quality are left out and named in the notes."""
    from router_opt.importers.common import build_catalog
    from router_opt.importers.tiers import load_tier_mapping

    prices = _prices(source, path, providers, models, as_of, include_deprecated, quality)
    rated, quality_label, quality_notes = _catalog_quality(source, path, quality, use, arena_map)
    mapping, tiers_label = load_tier_mapping(tiers)
    imported = build_catalog(
        prices, rated, mapping, tiers_label=tiers_label, quality_label=quality_label, baseline=baseline, name=name
    )
    imported.notes = quality_notes + imported.notes
    return imported


def _prices(
    source: str,
    path: str | Path | None,
    providers: list[str] | None,
    models: str | None,
    as_of: date | None,
    include_deprecated: bool,
    quality: str | Path | None,
) -> PriceSource:
    """The prices of `source`; genai-prices reads its installed package (so takes no `path`), the
    others read `path`."""
    if source not in PRICE_SOURCES:
        raise RouterOptError(f"`source`: expected one of {', '.join(PRICE_SOURCES)}, got {source!r}", option="source")
    if source == "genai-prices":
        if path is not None:
            raise RouterOptError(
                "`source` genai-prices reads the installed package: give no `path`", option=("source", "path")
            )
        from router_opt.importers.genai_prices import prices_from_genai_prices
        from router_opt.importers.quality import load_quality

        # the quality file's model names are looked up with genai-prices' own matcher (first-party provider)
        names = list(load_quality(quality).models) if quality is not None else None
        return prices_from_genai_prices(providers, models, as_of, include_deprecated, names=names)
    if path is None:
        raise RouterOptError(
            f"`source` {source} needs `path`: the "
            + ("price-map JSON file" if source == "litellm" else "Arena catalog folder"),
            option=("source", "path"),
        )
    if source == "litellm":
        from router_opt.importers.litellm import prices_from_litellm

        return prices_from_litellm(path, providers, models, as_of)
    from router_opt.importers.arena import prices_from_arena

    return prices_from_arena(path, as_of)


def _catalog_quality(
    source: str, path: str | Path | None, quality: str | Path | None, use: str, arena_map: str | Path | None
) -> tuple[object | None, str | None, list[str]]:
    """(quality file, its label, notes on reading it): the `quality` file when given, else for Arena
    its own ratings, else none (and the import names every model as unrated)."""
    if quality is not None:
        from router_opt.importers.quality import load_quality

        return load_quality(quality), str(quality), []
    if source == "arena":
        from router_opt.importers.arena import load_arena_map, quality_from_arena

        mapping, map_label = load_arena_map(arena_map)
        rated, notes = quality_from_arena(path, use, mapping, map_label)
        return rated, f"{path}/leaderboard-text.json", list(notes)
    return None, None, []


@dataclass
class ImportedQuality:
    """A quality file for `catalog import --quality`, as commented YAML, and what to know about it."""

    yaml_text: str
    notes: list[str] = field(default_factory=list)


def import_quality(
    evals: str | Path | None = None,
    arena: str | Path | None = None,
    *,
    use: str = "mean",
    confidence: float = 0.95,
    task_type_column: str | None = None,
    models: list[str] | None = None,
    arena_map: str | Path | None = None,
) -> ImportedQuality:
    """Per-model quality per task type from exactly one of: eval results (`evals`: accuracy, count and
    Wilson interval, on 0-100) or the Arena folder (`arena`: ratings on the elo scale)."""
    from router_opt.importers.quality import quality_from_evals, quality_yaml

    if (evals is None) == (arena is None):
        raise RouterOptError("give one of `evals` FILE.csv or `arena` FOLDER", option=("evals", "arena"))
    if evals is not None:
        quality, notes = quality_from_evals(evals, use, confidence, task_type_column, models)
        header = [
            f"Quality imported by `router-opt quality import --evals {evals}`.",
            f"Score per model and task type = {quality.method}, on 0-100 (percent).",
            "evidence: n prompts, mean, and the Wilson interval bounds, all x 100.",
        ]
    else:
        from router_opt.importers.arena import load_arena_map, quality_from_arena

        mapping, map_label = load_arena_map(arena_map)
        quality, notes = quality_from_arena(arena, use, mapping, map_label)
        header = [
            f"Quality imported by `router-opt quality import --arena {arena}`.",
            f"Score = {quality.method}, one Arena category per task type ({map_label}).",
            (
                f"Ratings are not percentages: scale {quality.quality_scale.min:g}..{quality.quality_scale.max:g} elo; "
                "a catalog built from this file declares it, and policy thresholds must be ratings."
            ),
        ]
    return ImportedQuality(quality_yaml(quality, header), list(notes))


def workload_from_request_logs(
    logs: list[str | Path],
    mapping: dict[str, str] | None = None,
    *,
    days: int | None = None,
    memory_limit: str = "1GB",
) -> LogsResult:
    """`router_opt.importers.logs.workload_from_logs`, checked: its rows must load as a workload (the
    file written from them is one). Write it with `workload_csv`, and the routing with `routing_csv`."""
    from router_opt.importers.logs import as_workload, workload_from_logs

    result = workload_from_logs(logs, mapping, days=days, memory_limit=memory_limit)
    as_workload(result)
    return result
