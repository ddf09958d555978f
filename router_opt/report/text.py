"""Sections, the tables every human format is built from, and the two ways a list of them prints as
text: boxed tables for a terminal, GitHub-flavoured Markdown.

A leaf of the package: it imports nothing else of router_opt.report, so every renderer may import it."""

from __future__ import annotations

import io
from dataclasses import dataclass


@dataclass(frozen=True)
class Section:
    """One table of a report: a title, a header and rows of text already rounded for people."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    right_aligned: frozenset[int] = frozenset()
    total_row: bool = False
    """The last row is a TOTAL row (shown apart)."""


def sections_as_text(parts: list[Section], preamble: str | None = None, width: int = 160) -> str:
    """Boxed tables for a terminal (rich), plain text without colour codes."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False, highlight=False)
    if preamble:
        console.print(preamble)
        console.print()
    for n, section in enumerate(parts):
        table = Table(title=section.title, box=box.SIMPLE_HEAD, title_justify="left", show_edge=False)
        for i, header in enumerate(section.headers):
            table.add_column(header, justify="right" if i in section.right_aligned else "left")
        for j, row in enumerate(section.rows):
            last = j == len(section.rows) - 1
            table.add_row(
                *row,
                end_section=section.total_row and j == len(section.rows) - 2,
                style="bold" if section.total_row and last else None,
            )
        if n:
            console.print()
        console.print(table)
    return console.file.getvalue()


def markdown_table(section: Section) -> str:
    """The section's rows as a Markdown table (a | in a cell escaped; the TOTAL row in bold)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    align = ["---:" if i in section.right_aligned else "---" for i in range(len(section.headers))]
    lines = ["| " + " | ".join(section.headers) + " |", "| " + " | ".join(align) + " |"]
    for j, row in enumerate(section.rows):
        cells = [cell(c) for c in row]
        if section.total_row and j == len(section.rows) - 1:
            cells = [f"**{c}**" for c in cells]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def markdown_section(section: Section) -> str:
    """The section under its title as a level-3 heading."""
    return f"### {section.title}\n\n{markdown_table(section)}"


def sections_as_markdown(parts: list[Section], preamble: str | None = None) -> str:
    """Every section as Markdown, after the preamble's paragraph (if any)."""
    head = f"{preamble}\n\n" if preamble else ""
    return head + "\n\n".join(markdown_section(p) for p in parts) + "\n"
