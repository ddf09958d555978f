"""Reading tables people make by hand or export from other tools (workload CSV/XLSX, eval CSV):
limits that keep a hostile file from exhausting time or memory, and checks that name the line (or
row) and column of what a careless export gets wrong.

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
import zipfile
from dataclasses import dataclass
from pathlib import Path

from router_opt.errors import InputError, InputNote, Problem
from router_opt.io.text import check_readable

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
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


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


def _check_workbook_file(path: Path) -> None:
    """Refuse what openpyxl would misreport or choke on: an encrypted (password-protected) workbook
    or an old .xls (both OLE compound files, not zip), and a zip whose parts inflate past the limits
    (a zip bomb), judged from the sizes the archive declares before anything is inflated."""
    where = str(path)
    with path.open("rb") as handle:
        head = handle.read(8)
        if head == _OLE_MAGIC:
            body = head + handle.read()
            if "EncryptionInfo".encode("utf-16-le") in body or "EncryptedPackage".encode("utf-16-le") in body:
                raise InputError.single(
                    where,
                    "is a password-protected (encrypted) workbook: router-opt cannot read it; open it in Excel, "
                    "remove the password (File > Info > Protect Workbook) and save it as .xlsx",
                )
            raise InputError.single(
                where,
                "is an old binary Excel workbook (.xls), not .xlsx: open it in Excel or LibreOffice and save it as .xlsx",
            )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError.single(
            where,
            f"not a readable .xlsx workbook ({exc.__class__.__name__}: {exc}); open it in Excel or LibreOffice "
            "and save it as .xlsx",
        ) from None
    total = 0
    for info in infos:
        total += info.file_size
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 2**20 and ratio > XLSX_MAX_RATIO:
            raise InputError.single(
                where,
                f"part {info.filename!r} inflates {ratio:,.0f} times ({info.compress_size:,} bytes to "
                f"{info.file_size:,}): a zip bomb, not a spreadsheet; router-opt refuses parts over 1 MiB "
                f"that inflate more than {XLSX_MAX_RATIO} times",
            )
    if total > XLSX_MAX_UNCOMPRESSED:
        raise InputError.single(
            where,
            f"inflates to {total / 2**20:,.0f} MiB; router-opt reads workbooks up to "
            f"{XLSX_MAX_UNCOMPRESSED / 2**20:,.0f} MiB uncompressed",
        )


def _column_letters(index: int) -> str:
    letters = ""
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def xlsx_records(path: Path, sheet_name: str | None = None, max_cells: int = MAX_CELLS) -> Sheet:
    """The non-blank rows of one worksheet, each with its row number, read from its cells (the
    sheet's <dimension> is not trusted: a stale one would drop rows, an inflated one pad millions).
    The sheet: `sheet_name`, else a visible sheet named 'workload', else the first visible sheet;
    which one was read is said (`note`) when the workbook has more than one."""
    check_readable(path)
    _check_workbook_file(path)
    where = str(path)
    from openpyxl import load_workbook

    def unreadable(exc: Exception) -> InputError:
        detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        return InputError.single(
            where,
            f"not a readable .xlsx workbook ({exc.__class__.__name__}{': ' + detail if detail else ''}); "
            "open it in Excel or LibreOffice and save it as .xlsx",
        )

    # openpyxl raises many kinds of exception on a damaged or unusual file (zip, XML, attribute and
    # index errors from its parsers), while opening and while reading rows (read-only mode is lazy).
    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - see above
        raise unreadable(exc) from None
    try:
        sheets = book.worksheets
        if not sheets:
            raise InputError.single(where, "the workbook has no worksheet (only charts?); put the workload on a sheet")
        visible = [s for s in sheets if s.sheet_state == "visible"]
        hidden = [s.title for s in sheets if s.sheet_state != "visible"]

        def listing() -> str:
            return ", ".join(f"'{s.title}'" + ("" if s.sheet_state == "visible" else " (hidden)") for s in sheets)

        if sheet_name is not None:
            chosen = [s for s in sheets if s.title == sheet_name] or [
                s for s in sheets if normalized(s.title) == normalized(sheet_name)
            ]
            if not chosen:
                raise InputError.single(where, f"--sheet {sheet_name!r}: no such sheet; the workbook has {listing()}")
            sheet = chosen[0]
        else:
            if not visible:
                raise InputError.single(
                    where, f"every sheet is hidden ({listing()}); name the one to read with --sheet NAME"
                )
            named = [s for s in visible if normalized(s.title) == "workload"]
            sheet = named[0] if named else visible[0]
            if len(sheets) > 1:
                skipped = (
                    f"; hidden sheets are never read unless named: {', '.join(map(repr, hidden))}" if hidden else ""
                )
                note(
                    f"{where}: read sheet '{sheet.title}' (the "
                    + ("visible sheet named 'workload'" if named else "first visible sheet")
                    + f" of {listing()}){skipped}; choose another with --sheet NAME"
                )
        records, merged = _sheet_records(book, sheet, where, max_cells)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - see above
        raise unreadable(exc) from None
    finally:
        book.close()
    return Sheet(records=records, title=sheet.title, merged=merged)


def _sheet_records(book, sheet, where: str, max_cells: int) -> tuple[list[Record], list[str]]:
    """Rows of valued cells as the sheet's XML gives them (openpyxl's own streaming parser, as its
    read-only worksheet uses, without the padding to the declared dimension)."""
    from openpyxl.worksheet._reader import WorkSheetParser

    records: list[Record] = []
    total = 0
    with sheet._get_source() as source:
        parser = WorkSheetParser(
            source,
            sheet._shared_strings,
            data_only=False,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        for number, cells in parser.parse():
            valued = [(c["column"], c["value"]) for c in cells if c["value"] is not None]
            if not valued:
                continue
            width = max(column for column, _ in valued)
            if width > MAX_COLUMNS:
                raise InputError.single(
                    where,
                    f"cell {_column_letters(width)}{number} is past column {MAX_COLUMNS:,}; router-opt reads "
                    f"tables of at most {MAX_COLUMNS:,} columns",
                    line=number,
                )
            row = [""] * width
            for column, value in valued:
                row[column - 1] = value if isinstance(value, str) else str(value)
            if not "".join(row).strip():
                continue
            total += width
            if total > max_cells:
                raise InputError.single(
                    where,
                    f"more than {max_cells:,} cells (rows x columns) by this row; router-opt reads tables up to "
                    "that: split the sheet",
                    line=number,
                )
            for text in row:
                if len(text) > MAX_CELL_CHARS:
                    raise InputError.single(
                        where, f"a cell longer than {MAX_CELL_CHARS:,} characters ({len(text):,})", line=number
                    )
            records.append(Record(number, number, row))
        merged = [str(m.coord) for m in getattr(getattr(parser, "merged_cells", None), "mergeCell", None) or ()]
    return records, merged


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
        name = names[c1 - 1] if 0 < c1 <= len(names) and names[c1 - 1] else f"column {_column_letters(c1)}"
        problems.append(
            Problem(
                where,
                f"cells {ref} are merged: only {_column_letters(c1)}{r1} holds the value, every other cell of the "
                f"range reads as empty; unmerge them (Home > Merge & Center) and fill the value into each {unit}",
                line=r1,
                field=name,
            )
        )
    return problems
