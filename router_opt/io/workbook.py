"""Reading one worksheet of an .xlsx workbook (a workload) through openpyxl's public API, within the
limits of router_opt.io.tables.

openpyxl's read-only worksheet pads what it reads: up to the sheet's declared <dimension> (which a
stale or hostile file gets wrong), across every row number it skips, and across every column up to a
row's last cell; rows stored out of order it drops, and merged ranges it does not read at all. So
before openpyxl reads the sheet, its XML is scanned once with the standard library's expat
(`_scan_sheet`): rows out of order or past Excel's last row are refused there, and it finds the
merged ranges, the widest cell within MAX_COLUMNS and the first cell past it that holds a value.
openpyxl then reads the values with the dimension reset (rows as the cells give them, never as
<dimension> declares) and the width capped at that widest cell."""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

from router_opt.errors import InputError
from router_opt.io.tables import (
    MAX_CELL_CHARS,
    MAX_CELLS,
    MAX_COLUMNS,
    XLSX_MAX_RATIO,
    XLSX_MAX_UNCOMPRESSED,
    Record,
    Sheet,
    column_index,
    column_letters,
    normalized,
    note,
)
from router_opt.io.text import check_readable

EXCEL_MAX_ROWS = 1_048_576
"""Excel's last row: a sheet with a higher row number was not written by a spreadsheet."""
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Element names as expat reports them (namespace, a space, local name): SpreadsheetML's main namespace.
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_ROW, _CELL, _VALUE, _INLINE, _FORMULA, _MERGE = (f"{_MAIN} {n}" for n in ("row", "c", "v", "is", "f", "mergeCell"))
_COORDINATE = re.compile(r"\$?([A-Za-z]{1,3})\$?\d+")


def xlsx_records(path: Path, sheet_name: str | None = None, max_cells: int = MAX_CELLS) -> Sheet:
    """The non-blank rows of one worksheet, each with its row number, read from its cells (the
    sheet's <dimension> is not trusted: a stale one would drop rows, an inflated one pad millions).
    The sheet: `sheet_name`, else a visible sheet named 'workload', else the first visible sheet;
    which one was read is said (`note`) when the workbook has more than one."""
    check_readable(path)
    _check_workbook_file(path)
    where = str(path)
    from openpyxl import load_workbook
    from openpyxl.worksheet.cell_range import CellRange

    # openpyxl raises many kinds of exception on a damaged or unusual file (zip, XML, attribute and
    # index errors from its parsers), while opening and while reading rows (read-only mode is lazy):
    # each is the file's fault, said as one message.
    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - see above
        raise _unreadable(where, exc) from None
    try:
        sheet, said = _chosen_sheet(book, sheet_name, where)
        if said:
            note(said)  # here, so the note points at the loader that asked for the sheet
        layout = _scan_sheet(path, sheet.title, where)
        records = _sheet_records(sheet, layout, where, max_cells)
        # After the rows, as openpyxl read them when it parsed the whole sheet: a row's fault is said first.
        merged = [CellRange(ref).coord for ref in layout.merged]
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - see above
        raise _unreadable(where, exc) from None
    finally:
        book.close()
    return Sheet(records=records, title=sheet.title, merged=merged)


def _unreadable(where: str, exc: Exception) -> InputError:
    detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
    return InputError.single(
        where,
        f"not a readable .xlsx workbook ({exc.__class__.__name__}{': ' + detail if detail else ''}); "
        "open it in Excel or LibreOffice and save it as .xlsx",
    )


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


def _chosen_sheet(book, sheet_name: str | None, where: str) -> tuple[object, str]:
    """The sheet to read: `sheet_name` (exactly, else ignoring case and spacing), else a visible sheet
    named 'workload', else the first visible sheet (a hidden sheet is read only when named); and what
    to tell the user about the choice ('' when there was none)."""
    sheets = book.worksheets
    if not sheets:
        raise InputError.single(where, "the workbook has no worksheet (only charts?); put the workload on a sheet")
    visible = [s for s in sheets if s.sheet_state == "visible"]
    hidden = [s.title for s in sheets if s.sheet_state != "visible"]
    listing = ", ".join(f"'{s.title}'" + ("" if s.sheet_state == "visible" else " (hidden)") for s in sheets)
    if sheet_name is not None:
        chosen = [s for s in sheets if s.title == sheet_name] or [
            s for s in sheets if normalized(s.title) == normalized(sheet_name)
        ]
        if not chosen:
            raise InputError.single(
                where, f"`sheet` {sheet_name!r}: no such sheet; the workbook has {listing}", option="sheet"
            )
        return chosen[0], ""
    if not visible:
        raise InputError.single(
            where, f"every sheet is hidden ({listing}); name the one to read with `sheet` NAME", option="sheet"
        )
    named = [s for s in visible if normalized(s.title) == "workload"]
    sheet = named[0] if named else visible[0]
    if len(sheets) == 1:
        return sheet, ""
    # Said whenever there was a choice: reading last year's sheet by mistake is silent otherwise.
    skipped = f"; hidden sheets are never read unless named: {', '.join(map(repr, hidden))}" if hidden else ""
    return sheet, (
        f"{where}: read sheet '{sheet.title}' (the "
        + ("visible sheet named 'workload'" if named else "first visible sheet")
        + f" of {listing}){skipped}; choose another with --sheet NAME"
    )


@dataclass
class _Layout:
    """What the sheet's XML says that openpyxl's public API does not, or would pad."""

    merged: list[str | None] = field(default_factory=list)
    """Merged ranges as the XML writes them (`B3:B5`)."""
    max_column: int = 0
    """The widest cell within MAX_COLUMNS, with a value or not: openpyxl reads no further right."""
    far_cell: tuple[int, int] | None = None
    """(row, column) of the widest cell holding a value past MAX_COLUMNS, in the first row with one."""


def _scan_sheet(path: Path, title: str, where: str) -> _Layout:
    """The sheet's layout, from one streaming pass over its XML (expat, 1 MiB at a time)."""
    with zipfile.ZipFile(path) as archive:
        part = _sheet_parts(archive).get(title)
        if part is None:
            raise ValueError(f"no worksheet part for sheet {title!r} in the workbook's relationships")
        scan = _SheetScan(where)
        with archive.open(part) as stream:
            while chunk := stream.read(2**20):
                scan.parser.Parse(chunk, False)
            scan.parser.Parse(b"", True)
    return scan.layout


def _sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> the zip member holding its XML, as the package's relationships give it: the
    main part (the workbook) from `_rels/.rels`, each <sheet name r:id> of it through its own rels."""
    workbook = next(
        (member for kind, member in _relationships(archive, "").values() if kind.endswith("/officeDocument")), None
    )
    if workbook is None:
        raise ValueError("the package names no workbook part (_rels/.rels)")
    targets = _relationships(archive, workbook)
    parts = {}
    for element in ElementTree.fromstring(archive.read(workbook)).iter():
        if element.tag.endswith("}sheet"):
            rel = next((v for k, v in element.attrib.items() if k.endswith("}id")), None)
            if rel in targets:
                parts.setdefault(element.get("name"), targets[rel][1])
    return parts


def _relationships(archive: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Id -> (type, zip member) of a part's relationships (`folder/_rels/name.rels`; a target is
    relative to the part's folder unless it starts with /; external targets left out)."""
    folder, name = posixpath.split(part)
    found = {}
    for rel in ElementTree.fromstring(archive.read(posixpath.join(folder, "_rels", f"{name}.rels"))):
        target = rel.get("Target", "")
        if rel.get("TargetMode") == "External":
            continue
        member = target[1:] if target.startswith("/") else posixpath.normpath(posixpath.join(folder, target))
        found[rel.get("Id")] = (rel.get("Type", ""), member)
    return found


class _SheetScan:
    """expat handlers for one pass over a worksheet's XML, filling a `_Layout`."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.layout = _Layout()
        self.row = 0  # the current row's number (openpyxl's: its r, else one past the last)
        self.column = 0  # the current cell's column (its r, else one past the last in the row)
        self.in_row = False
        self.far = False  # inside a cell past MAX_COLUMNS
        self.far_type = "n"
        self.far_valued = False
        self.row_far = 0  # the row's widest valued column past MAX_COLUMNS
        self.parser = expat.ParserCreate(namespace_separator=" ")
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == _CELL and self.in_row:
            ref = attrs.get("r")
            self.column = self._column(ref) if ref else self.column + 1
            if self.column <= MAX_COLUMNS:
                self.layout.max_column = max(self.layout.max_column, self.column)
            else:
                self.far, self.far_type, self.far_valued = True, attrs.get("t", "n"), False
        elif self.far:
            # What openpyxl (data_only=False) reads as a value: a formula, an inline string, or a <v>
            # with text (an empty <v> is no value).
            if name == _FORMULA or (name == _INLINE and self.far_type == "inlineStr"):
                self.far_valued = True
            elif name == _VALUE and self.far_type != "inlineStr":
                self.parser.CharacterDataHandler = self.text
        elif name == _ROW:
            self._start_row(attrs.get("r"))
        elif name == _MERGE:
            self.layout.merged.append(attrs.get("ref"))

    def text(self, data: str) -> None:
        self.far_valued = self.far_valued or bool(data)

    def end(self, name: str) -> None:
        if name == _VALUE:
            self.parser.CharacterDataHandler = None
        elif name == _CELL and self.far:
            if self.far_valued:
                self.row_far = max(self.row_far, self.column)
            self.far = False
        elif name == _ROW:
            if self.row_far and self.layout.far_cell is None:
                self.layout.far_cell = (self.row, self.row_far)
            self.in_row = False

    def _start_row(self, ref: str | None) -> None:
        number = self.row + 1 if ref is None else _row_number(ref)
        if not 1 <= number <= EXCEL_MAX_ROWS:
            raise InputError.single(
                self.where,
                f"has a row numbered {number:,}; a sheet's rows are numbered 1 to {EXCEL_MAX_ROWS:,}: open the "
                "workbook in Excel or LibreOffice and save it again",
            )
        if number <= self.row:
            # openpyxl would drop the row without a word.
            raise InputError.single(
                self.where,
                f"row {number:,} is stored after row {self.row:,} (rows out of order, or one row twice), which "
                "no spreadsheet writes: open the workbook in Excel or LibreOffice and save it again",
                line=number,
            )
        self.row, self.column, self.in_row, self.row_far = number, 0, True, 0

    @staticmethod
    def _column(ref: str) -> int:
        found = _COORDINATE.fullmatch(ref)
        if found is None:
            raise ValueError(f"{ref!r} is not a cell reference")
        return column_index(found.group(1).upper())


def _row_number(ref: str) -> int:
    """A row's r attribute as openpyxl reads it: a whole number, possibly written as 5.0."""
    try:
        return int(ref)
    except ValueError:
        number = float(ref)
        if not number.is_integer():
            raise ValueError(f"{ref} is not a valid row number") from None
        return int(number)


def _value_width(values: tuple, blank: tuple) -> int:
    """How many cells from the left reach the row's last value (a row is padded to the widest cell
    of the sheet, styled or not: a binary search compares the tail to blanks in C, not cell by cell)."""
    low, high = 0, len(values)
    while low < high:
        middle = (low + high) // 2
        if values[middle:] == blank[middle:]:
            high = middle
        else:
            low = middle + 1
    return low


def _sheet_records(sheet, layout: _Layout, where: str, max_cells: int) -> list[Record]:
    """Rows of valued cells, numbered as in the sheet, read by openpyxl no wider than the layout's
    widest cell and no further down than Excel's last row."""
    sheet.reset_dimensions()  # rows as the cells give them, never as <dimension> declares
    width_cap = max(layout.max_column, 1)
    blank = (None,) * width_cap
    far_row, far_column = layout.far_cell or (0, 0)
    records: list[Record] = []
    total = 0
    rows = sheet.iter_rows(max_col=width_cap, max_row=EXCEL_MAX_ROWS, values_only=True)
    for number, values in enumerate(rows, start=1):
        if number == far_row:
            raise InputError.single(
                where,
                f"cell {column_letters(far_column)}{number} is past column {MAX_COLUMNS:,}; router-opt reads "
                f"tables of at most {MAX_COLUMNS:,} columns",
                line=number,
            )
        if values == blank:  # a row of no values, or one openpyxl fills in for a row number skipped
            continue
        width = _value_width(values, blank)
        row = ["" if value is None else value if isinstance(value, str) else str(value) for value in values[:width]]
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
    return records
