"""Every output format, in one place: for each command's --format, its choices in --help order, and
per format the renderer, what it returns, whether it needs --output, its file extension and its help.

`render()` (optimize), `render_sections()` (diff, drift, batch, ranges, catalog check), the analyses'
and the catalog's renderers dispatch through these tables, and the CLI builds each --format's choices
(`Formats.choices`) and help text (`Formats.help`) from them. Adding a format to `optimize` is one
renderer function plus one `Format` in PLAN_FORMATS.

Kept light on purpose: the CLI imports this module at every start, so a renderer is named as
"module:function" and imported only when its format is rendered (xlsxwriter, matplotlib and the
analyses are slow to import). A leaf of the package: on import it loads no other module of
router_opt.report."""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from router_opt.errors import RouterOptError

if TYPE_CHECKING:
    from router_opt.report.text import Section
    from router_opt.result import Result


@dataclass(frozen=True)
class Format:
    """One --format choice of a command."""

    name: str
    renderer: str | None
    """`module:function` that renders it; None where the command writes it itself (its result as JSON)."""
    help: str = ""
    """What it is for, shown in parentheses after its name in --help ('': the name alone)."""
    extension: str = "txt"
    """The file extension its output takes (`FILE.xlsx` in the --output message)."""
    returns: type = str
    """str, or bytes (JSON as UTF-8, a workbook)."""
    binary: bool = False
    """Its bytes are not text: never printed to a terminal."""
    needs_output: str = ""
    """What it writes when it must go to a file ('a workbook'): it refuses to run without --output."""
    options: tuple[str, ...] = ()
    """Which of the dispatcher's keyword options (top, explain, preamble) the renderer takes."""

    def renderer_function(self) -> Callable:
        if self.renderer is None:
            raise ValueError(f"--format {self.name} is written by its command, not by a renderer")
        return _function(self.renderer)


@functools.cache
def _function(path: str) -> Callable:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


class Formats:
    """One command's formats, in the order --help lists them (the first is the default)."""

    def __init__(self, label: str, *formats: Format, last_separator: str = " or ") -> None:
        self.label = label
        self.last_separator = last_separator
        """Between the last two formats in --help: ' or ', or ', ' for a list that reads as one."""
        self._formats = {f.name: f for f in formats}

    def __iter__(self) -> Iterator[str]:
        return iter(self._formats)

    def __len__(self) -> int:
        return len(self._formats)

    def __contains__(self, name: object) -> bool:
        return name in self._formats

    def __getitem__(self, name: str) -> Format:
        try:
            return self._formats[name]
        except KeyError:
            raise ValueError(f"unknown format {name!r}; {self.label} formats: {', '.join(self)}") from None

    def values(self) -> list[Format]:
        return list(self._formats.values())

    @property
    def help(self) -> str:
        """The --format help: each name with its help in parentheses (`needs --output` added where it does)."""
        shown = []
        for f in self._formats.values():
            notes = [n for n in (f.help, "needs --output" if f.needs_output else "") if n]
            shown.append(f"{f.name} ({', '.join(notes)})" if notes else f.name)
        if len(shown) == 1:
            return shown[0] + "."
        return ", ".join(shown[:-1]) + self.last_separator + shown[-1] + "."

    def choices(self, enum_name: str) -> type[StrEnum]:
        """The formats as the StrEnum a typer option takes (its members are the names)."""
        return StrEnum(enum_name, [(name, name) for name in self._formats], module=__name__)

    def render(self, name: str, *args, **options) -> str | bytes:
        """Render with format `name`'s renderer, passing it the options it takes."""
        chosen = self[name]
        return chosen.renderer_function()(*args, **{k: v for k, v in options.items() if k in chosen.options})

    def require_output(self, name: str, output: Path | None) -> None:
        """Refuse a format that must be written to a file when no --output is given."""
        chosen = self[name]
        if chosen.needs_output and output is None:
            raise RouterOptError(
                f"`output_format` {name} writes {chosen.needs_output}: give `output` FILE.{chosen.extension}",
                option=("output_format", "output"),
            )


PLAN_FORMATS = Formats(
    "plan",
    Format("table", "router_opt.report.plan:to_table", "terminal", options=("top", "explain")),
    Format("markdown", "router_opt.report.plan:to_markdown", "pull requests", "md", options=("top", "explain")),
    Format("json", "router_opt.report.plan:to_json", "full result; decision records with --explain", "json", bytes),
    Format("csv", "router_opt.report.plan:to_csv", "assignments", "csv"),
    Format("xlsx", "router_opt.report.xlsx:to_xlsx", "workbook", "xlsx", bytes, binary=True, needs_output="a workbook"),
    Format("html", "router_opt.report.html:to_html", "self-contained report", "html", options=("top", "explain")),
    Format("focus", "router_opt.report.focus:to_focus", "FinOps FOCUS CSV", "csv"),
    last_separator=", ",
)
"""`router-opt optimize --format`."""

ANALYSIS_FORMATS = Formats(
    "analysis",
    Format("table", "router_opt.report.analyses:to_table", "terminal"),
    Format("json", "router_opt.report.analyses:to_json", "every figure at full precision", "json"),
    Format("markdown", "router_opt.report.analyses:to_markdown", extension="md"),
)
"""The economics analyses (frontier, frontier-budget, reasoning, trajectory, breakeven,
training-cost) and ranges: summaries, not per-task plans."""

SECTION_FORMATS = Formats(
    "section",
    Format("table", "router_opt.report.text:sections_as_text", options=("preamble",)),
    Format("markdown", "router_opt.report.text:sections_as_markdown", extension="md", options=("preamble",)),
    Format("json", None, extension="json"),
)
"""Commands that show a list of Sections (diff, drift, batch): json is the command's own result."""

CATALOG_FORMATS = Formats(
    "catalog",
    Format("table", "router_opt.report.catalog:catalog_table"),
    Format("json", "router_opt.report.catalog:catalog_json", extension="json"),
    Format("csv", "router_opt.report.catalog:catalog_csv", "text cells safe to open in a spreadsheet", "csv"),
    Format("markdown", "router_opt.report.catalog:catalog_markdown", extension="md"),
)
"""`router-opt catalog show --format`."""

PRICE_CHECK_FORMATS = Formats(
    "price check",
    Format("table", None),
    Format("json", None, extension="json"),
    Format("markdown", None, extension="md"),
    Format("csv", None, extension="csv"),
)
"""`router-opt catalog check --format`: rendered by router_opt.importers.check.render_check."""


def render(result: Result, output_format: str, top: int = 10, explain: bool = False) -> str | bytes:
    """The plan (a `Result`) in `output_format`, one of PLAN_FORMATS; json and xlsx give bytes (json
    as UTF-8 text)."""
    return PLAN_FORMATS.render(output_format, result, top=top, explain=explain)


def render_sections(parts: list[Section], output_format: str, preamble: str | None = None) -> str:
    """Table or Markdown for any list of Sections (used by commands other than optimize)."""
    return SECTION_FORMATS.render(output_format, parts, preamble=preamble)
