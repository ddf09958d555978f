"""Rendering a catalog for `router-opt catalog show` (its formats: CATALOG_FORMATS in
router_opt.report.registry)."""

from __future__ import annotations

import io
import json

from router_opt import formatting as fmt
from router_opt.models import Catalog
from router_opt.report.cells import SafeCsvWriter
from router_opt.report.registry import CATALOG_FORMATS
from router_opt.report.text import Section, markdown_section, sections_as_text


def catalog_section(catalog: Catalog) -> Section:
    task_types = catalog.task_types
    rows = tuple(
        (
            m.id + (" (baseline)" if m.id == catalog.baseline else ""),
            str(m.tier),
            m.provider,
            fmt.usd(m.input_usd_per_mtok),
            fmt.usd(m.output_usd_per_mtok),
            f"{len(m.quality)}/{len(task_types)}",
            f"{min(m.quality.values()):g}-{max(m.quality.values()):g}",
        )
        for m in catalog.models
    )
    return Section(
        f"Catalog {catalog.name} · prices as of {catalog.prices_as_of.isoformat()} · {catalog.currency}",
        ("Model", "Tier", "Provider", "Input $/M tok", "Output $/M tok", "Task types", "Quality range"),
        rows,
        frozenset({3, 4, 5, 6}),
    )


def catalog_table(catalog: Catalog) -> str:
    return sections_as_text([catalog_section(catalog)])


def catalog_markdown(catalog: Catalog) -> str:
    return markdown_section(catalog_section(catalog)) + "\n"


def catalog_json(catalog: Catalog) -> str:
    return json.dumps(catalog.model_dump(mode="json"), indent=2) + "\n"


def catalog_csv(catalog: Catalog) -> str:
    out = io.StringIO()
    writer = SafeCsvWriter(out)  # a model id or provider like "=cmd|..." must not run in a spreadsheet
    writer.writerow(("id", "tier", "provider", "input_usd_per_mtok", "output_usd_per_mtok", "task_types"))
    for m in catalog.models:
        writer.writerow(
            (m.id, str(m.tier), m.provider, repr(m.input_usd_per_mtok), repr(m.output_usd_per_mtok), len(m.quality))
        )
    return out.getvalue()


def render_catalog(catalog: Catalog, output_format: str) -> str:
    return CATALOG_FORMATS.render(output_format, catalog)
