"""Renderers: a result in, text or bytes out. They only format; every figure comes from the result.

Human formats (table, markdown, html) are built from the same `Section`s, so they show the same
rounded figures; machine formats (json, csv, focus, xlsx) carry full precision.

The package, leaves first (a module imports only those above it; none imports this file):
- text: `Section`, and a list of them as a terminal's table or as Markdown
- cells: CSV cells a spreadsheet cannot run (`SafeCsvWriter`)
- registry: every --format of every command with its renderer; `render`, `render_sections`
- plan: the plan's sections and its table, markdown, json and csv; xlsx, html (with charts) and
  focus: the plan's other formats
- analyses, scenarios, catalog: the other commands' reports

This file re-exports what callers outside the package use, so `from router_opt.report import
render` keeps working."""

from router_opt.report.cells import FORMULA_TRIGGERS, SafeCsvWriter, csv_cell, safe_text_cell
from router_opt.report.plan import (
    ASSIGNMENT_COLUMNS,
    headline,
    sections,
    to_csv,
    to_json,
    to_markdown,
    to_table,
)
from router_opt.report.registry import PLAN_FORMATS, render, render_sections
from router_opt.report.scenarios import diff_sections
from router_opt.report.text import Section, markdown_table, sections_as_text

FORMATS = tuple(PLAN_FORMATS)
"""The formats of `optimize`, in --help order."""
BINARY_FORMATS = tuple(f.name for f in PLAN_FORMATS.values() if f.binary)

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "BINARY_FORMATS",
    "FORMATS",
    "FORMULA_TRIGGERS",
    "PLAN_FORMATS",
    "SafeCsvWriter",
    "Section",
    "csv_cell",
    "diff_sections",
    "headline",
    "markdown_table",
    "render",
    "render_sections",
    "safe_text_cell",
    "sections",
    "sections_as_text",
    "to_csv",
    "to_json",
    "to_markdown",
    "to_table",
]
