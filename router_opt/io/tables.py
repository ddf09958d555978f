"""Reading tables people make by hand or export from other tools (workload CSV/XLSX, eval CSV):
limits that keep a hostile file from exhausting time or memory, and checks that name the line (or
row) and column of what a careless export gets wrong. CSV is read here; a workbook's sheet in
router_opt.io.workbook, with the same limits and into the same `Record`s.

Limits (README, Trust): a table has at most MAX_COLUMNS columns and MAX_CELLS cells; a workload cell
holds at most MAX_CELL_CHARS characters; a workbook's parts inflate to at most XLSX_MAX_UNCOMPRESSED
bytes, no part larger than 1 MiB at more than XLSX_MAX_RATIO times its compressed size. A worksheet's
own <dimension> is never trusted: rows are read as its cells give them."""

from __future__ import annotations

import contextlib
import csv
import difflib
import io
import re
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path

from router_opt.errors import InputError, InputNote, Problem

MAX_COLUMNS = 1_000
MAX_CELLS = 2_000_000
MAX_CELL_CHARS = 10_000
XLSX_MAX_UNCOMPRESSED = 256 * 2**20
XLSX_MAX_RATIO = 100
HEADER_SEARCH_ROWS = 10
"""How many non-blank rows from the top are searched for the header when the first is not one."""

# Characters that look like nothing (or like a space) in a spreadsheet but make a different name:
# control characters (a line break, a tab), soft hyphen, zero-width and direction marks, U+FEFF.
_INVISIBLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)


def note(message: str) -> None:
    """Tell the user something about how a file was read (the CLI prints it as `note: ...`)."""
    warnings.warn(message, InputNote, stacklevel=3)


def has_invisible(text: str) -> bool:
    return _INVISIBLE.search(text) is not None


def invisible(text: str) -> str | None:
    """The first invisible character of `text`, described for a reader (code point and name), or None."""
    found = _INVISIBLE.search(text)
    if found is None:
        return None
    char = found.group()
    name = {"\n": "LINE FEED, a line break", "\r": "CARRIAGE RETURN, a line break", "\t": "TAB"}.get(char)
    name = name or unicodedata.name(char, "a control character")
    return f"U+{ord(char):04X} ({name}) at character {found.start() + 1}"


def normalized(name: str) -> str:
    """A header as matched against field names: case, spaces, hyphens and underscores do not
    matter (`Task Type`, ` task-type `, `TaskType` and `task_type` are one)."""
    return re.sub(r"[\s_\-]+", "", name.lower())


def did_you_mean(name: str, choices) -> str:
    """` (did you mean 'x'?)` (or 'x' or 'y') for the closest choices, or ''."""
    by_form = {normalized(c): c for c in choices}
    close = difflib.get_close_matches(normalized(name), list(by_form), n=2, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(by_form[c]) for c in close)}?)" if close else ""


def shown(text: str, limit: int = 40) -> str:
    """A cell's text as a message quotes it: repr, cut to `limit` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text):,} characters)"


@contextlib.contextmanager
def _field_size_limit(limit: int):
    old = csv.field_size_limit()
    csv.field_size_limit(limit)
    try:
        yield
    finally:
        csv.field_size_limit(old)


@dataclass(frozen=True)
class Record:
    line: int
    """Line the record starts on (CSV) or row number (XLSX)."""
    last_line: int
    """Line it ends on: more than `line` where a quoted cell holds line breaks."""
    cells: list[str]


def csv_records(
    path: Path, text: str, max_cell_chars: int = MAX_CELL_CHARS, max_cells: int = MAX_CELLS
) -> list[Record]:
    """The non-blank records of a CSV text, each with the line it starts and ends on. Comma-separated;
    semicolon-separated (as some spreadsheet locales export) when the first line has more `;` than `,`.
    Refused (InputError, naming the line): a stray quote, a cell over `max_cell_chars`, a record of
    more than MAX_COLUMNS cells, more than `max_cells` cells in all."""
    where = str(path)
    first_line = next((line for line in io.StringIO(text) if line.strip()), "")
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # strict: a stray quote is an error, not a cell that silently swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[Record] = []
    append = records.append
    start = 1  # line the next record starts on (a quoted cell may span lines)
    total = 0
    with _field_size_limit(max_cell_chars):
        try:
            for cells in reader:
                line, start = start, reader.line_num + 1
                if not "".join(cells).strip():  # blank (one C call; a generator per row cost 60 ms at 50,000)
                    continue
                width = len(cells)
                if width > MAX_COLUMNS:
                    raise InputError.single(
                        where,
                        f"has {width:,} cells; router-opt reads tables of at most {MAX_COLUMNS:,} columns",
                        line=line,
                    )
                total += width
                if total > max_cells:
                    raise InputError.single(
                        where,
                        f"more than {max_cells:,} cells (rows x columns) by this line; router-opt reads tables "
                        "up to that: split the file",
                        line=line,
                    )
                append(Record(line, start - 1, cells))
        except csv.Error as exc:
            reason = str(exc)
            if "end of data" in reason:
                reason = 'a quoted cell starting on this line is never closed (a stray " ?)'
            elif "field larger than field limit" in reason:
                reason = f"a cell longer than {max_cell_chars:,} characters (the most router-opt reads in one cell)"
            elif "NUL" in reason:
                reason = "a NUL character (U+0000): is this a binary file, or text saved as UTF-16?"
            raise InputError.single(where, f"not valid CSV: {reason}", line=start) from None
    return records


@dataclass(frozen=True)
class Sheet:
    records: list[Record]
    title: str
    merged: list[str]
    """Merged ranges (`B3:B5`) of the sheet."""


def column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    index = 0
    for char in letters:
        index = index * 26 + ord(char) - 64
    return index


def merged_bounds(ref: str) -> tuple[int, int, int, int] | None:
    """(first column, first row, last column, last row), 1-based, of a range like `B3:B5`."""
    found = re.fullmatch(r"([A-Z]{1,3})(\d+)(?::([A-Z]{1,3})(\d+))?", ref.replace("$", ""))
    if not found:
        return None
    c1, r1 = column_index(found.group(1)), int(found.group(2))
    c2 = column_index(found.group(3)) if found.group(3) else c1
    r2 = int(found.group(4)) if found.group(4) else r1
    return min(c1, c2), min(r1, r2), max(c1, c2), max(r1, r2)


def merged_problems(where: str, header_line: int, merged: list[str], names: list[str], unit: str) -> list[Problem]:
    """Merged cells in or below the header: only a merged range's first cell holds its value."""
    problems = []
    for ref in merged:
        bounds = merged_bounds(ref)
        if bounds is None:
            continue
        c1, r1, _, r2 = bounds
        if r2 < header_line:
            continue  # a title above the header, merged across: harmless
        name = names[c1 - 1] if 0 < c1 <= len(names) and names[c1 - 1] else f"column {column_letters(c1)}"
        problems.append(
            Problem(
                where,
                f"cells {ref} are merged: only {column_letters(c1)}{r1} holds the value, every other cell of the "
                f"range reads as empty; unmerge them (Home > Merge & Center) and fill the value into each {unit}",
                line=r1,
                field=name,
            )
        )
    return problems
