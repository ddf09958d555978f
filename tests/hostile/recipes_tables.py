"""Recipes and checks for the tabular cases (tests/data/hostile/tables): workload CSV and XLSX, eval
CSV, client workbooks. Files too big or too binary to commit are made here."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

from tests.hostile.runner import DATA

BASE_CSV = DATA / "base" / "workload.csv"


def _base_rows() -> list[list]:
    """The base workload's rows (header first), numbers as numbers (as a spreadsheet holds them)."""
    rows = []
    for line in BASE_CSV.read_text().splitlines():
        cells: list = line.split(",")
        rows.append([int(c) if c.isdigit() else (c or None) for c in cells])
    return rows


def base_csv(path: Path, replace=(), prepend: str = "", append: str = "", header: str | None = None) -> None:
    """The base workload CSV, with texts replaced (each must occur; first occurrence), lines before
    and after, or another header line."""
    text = BASE_CSV.read_text()
    if header is not None:
        text = header + "\n" + text.split("\n", 1)[1]
    for old, new in replace:
        assert old in text, old
        text = text.replace(old, new, 1)
    path.write_text(prepend + text + append, encoding="utf-8")


def text_file(path: Path, text: str = "", repeat: int = 1, head: str = "", tail: str = "") -> None:
    """`head`, then `text` `repeat` times, then `tail`, as UTF-8."""
    path.write_bytes((head + text * repeat + tail).encode("utf-8"))


def wide_csv(path: Path, columns: int = 100_000, rows: int = 1, name: str = "c{}") -> None:
    """A header of `columns` names (the workload's own first, then many more), and a few rows."""
    header = list(_base_rows()[0]) + [name.format(i) for i in range(columns)]
    body = ["1"] * len(header)
    path.write_text("\n".join([",".join(header)] + [",".join(body)] * rows) + "\n")


def many_rows_csv(path: Path, rows: int = 20_000, headcount: str = "10") -> None:
    """A workload of `rows` distinct roles; every headcount cell `headcount` (one systematic mistake)."""
    lines = ["department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens"]
    lines += [f"Support,Agent {i},{headcount},Triage,classification,10,500,50" for i in range(rows)]
    path.write_text("\n".join(lines) + "\n")


def _rewrite(path: Path, dimension: str | None = None, hide_all: bool = False, empty_row: int = 0) -> None:
    """Rewrite every worksheet's <dimension ref> (the declared used range), add an empty <row> (as
    Excel writes for a formatted row), or hide every sheet (which openpyxl refuses to write), in place."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    for name, data in parts.items():
        if dimension and name.startswith("xl/worksheets/sheet"):
            parts[name] = re.sub(rb'<dimension ref="[^"]*"', f'<dimension ref="{dimension}"'.encode(), data)
            assert b"<dimension" in parts[name], name
        if empty_row and name.startswith("xl/worksheets/sheet"):
            parts[name] = parts[name].replace(b"</sheetData>", f'<row r="{empty_row}" s="1"/></sheetData>'.encode())
        if hide_all and name == "xl/workbook.xml":
            parts[name] = re.sub(rb"<sheet (?![^>]*state=)", b'<sheet state="hidden" ', data).replace(
                b'state="visible"', b'state="hidden"'
            )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def workbook(path: Path, sheets=None, dimension: str | None = None, hide_all: bool = False, empty_row: int = 0) -> None:
    """An .xlsx of `sheets` (default: one sheet of the base workload). Each sheet: title, state
    (visible, hidden, veryHidden), rows ('base' or a list of rows), above (rows before them, e.g.
    a title), below (rows after them), headcount_times (multiply the base headcounts), header (replace
    the header row), cells ({'B3': value}), long ({'B3': n}: n characters), merged (['A1:C1'])."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for spec in sheets or [{"title": "Sheet1"}]:
        sheet = book.create_sheet(spec.get("title", "Sheet1"))
        sheet.sheet_state = spec.get("state", "visible")
        rows = spec.get("rows", "base")
        rows = _base_rows() if rows == "base" else [list(r) for r in rows]
        if spec.get("header"):
            rows[0] = list(spec["header"])
        times = spec.get("headcount_times")
        if times:
            for row in rows[1:]:
                row[2] = row[2] * times
        for row in list(spec.get("above", [])) + rows + list(spec.get("below", [])):
            sheet.append(row)
        for ref, value in (spec.get("cells") or {}).items():
            sheet[ref] = value
        for ref, length in (spec.get("long") or {}).items():
            sheet[ref] = "x" * length
        for ref in spec.get("merged", []):
            sheet.merge_cells(ref)
    book.save(path)
    if dimension or hide_all or empty_row:
        _rewrite(path, dimension, hide_all, empty_row)


def zip_bomb_xlsx(path: Path, mib: int = 1024) -> None:
    """A valid workbook whose sheet is replaced by one inline string of `mib` MiB of 'A' (deflates
    to about 1 MiB)."""
    workbook(path)
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, data)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'
            )
            block = b"A" * 2**20
            for _ in range(mib):
                sheet.write(block)
            sheet.write(b"</t></is></c></row></sheetData></worksheet>")


def ole_file(path: Path, encrypted: bool = True) -> None:
    """An OLE compound file as Excel writes a password-protected workbook (streams EncryptionInfo
    and EncryptedPackage) or an old .xls (a Workbook stream): header sector, then a directory sector."""
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    header[24:26] = (0x003E).to_bytes(2, "little")  # minor version
    header[26:28] = (0x0003).to_bytes(2, "little")  # major version 3 (512-byte sectors)
    header[28:30] = b"\xfe\xff"  # byte order
    header[30:32] = (9).to_bytes(2, "little")  # sector shift
    header[32:34] = (6).to_bytes(2, "little")  # mini sector shift
    names = ["Root Entry", "EncryptionInfo", "EncryptedPackage"] if encrypted else ["Root Entry", "Workbook"]
    directory = bytearray()
    for name in names:
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[0 : len(encoded)] = encoded
        entry[64:66] = len(encoded).to_bytes(2, "little")
        entry[66] = 5 if name == "Root Entry" else 2
        directory += entry
    directory += bytes(512 - len(directory) % 512)
    path.write_bytes(bytes(header) + bytes(directory) + b"\x00" * 1024)


def eval_csv(
    path: Path,
    header: str = "task_type,model-a,model-b",
    rows: tuple = ("classification,1,0", "classification,1,1", "faq,0,1"),
    repeat: int = 1,
    wide: int = 0,
    long_cell: int = 0,
    long_in: str = "prompt",
) -> None:
    """An eval CSV: header, rows (repeated), optionally `wide` more model columns of 1s, or a `prompt`
    column (or a model column) holding one cell of `long_cell` characters."""
    lines = [header] + list(rows) * repeat
    if wide:
        lines[0] += "".join(f",m{i}" for i in range(wide))
        lines[1:] = [line + ",1" * wide for line in lines[1:]]
    if long_cell:
        lines[0] = "prompt," + lines[0]
        text = "x" * long_cell
        lines[1:] = [(text if i == 0 and long_in == "prompt" else "p") + "," + line for i, line in enumerate(lines[1:])]
        if long_in == "model":
            cells = lines[1].split(",")
            cells[2] = text
            lines[1] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


RECIPES = {
    "tables_base_csv": base_csv,
    "tables_text_file": text_file,
    "tables_wide_csv": wide_csv,
    "tables_many_rows_csv": many_rows_csv,
    "tables_workbook": workbook,
    "tables_zip_bomb_xlsx": zip_bomb_xlsx,
    "tables_ole_file": ole_file,
    "tables_eval_csv": eval_csv,
}


# Checks: what an exit-0 case produced, beyond its exit code.


def _plan(case_dir: Path) -> dict:
    return json.loads((case_dir / "plan.json").read_text())


def plan_is_base(case_dir: Path, stdout: str, stderr: str) -> None:
    """The plan was solved on the base workload: Support 10 agents, Sales 4 reps, three tasks."""
    plan = _plan(case_dir)
    departments = {d["department"]: d["headcount"] for d in plan["departments"]}
    assert departments == {"Support": 10, "Sales": 4}, departments
    assert len(plan["tasks"]) == 3, len(plan["tasks"])


def plan_is_base_from_sheet(case_dir: Path, stdout: str, stderr: str) -> None:
    """The base workload, and the note says which sheet was read."""
    plan_is_base(case_dir, stdout, stderr)
    assert "note:" in stderr and "read sheet" in stderr, stderr


def plan_is_base_after_title(case_dir: Path, stdout: str, stderr: str) -> None:
    """The base workload, and the note says the header was found below a title."""
    plan_is_base(case_dir, stdout, stderr)
    assert "the header is on" in stderr, stderr


def validated_base(case_dir: Path, stdout: str, stderr: str) -> None:
    assert "(workload: 3 tasks in 2 roles)" in stdout, stdout


def quality_two_models(case_dir: Path, stdout: str, stderr: str) -> None:
    """The eval import wrote model-a and model-b over classification and faq, from the base rows."""
    from ruamel.yaml import YAML

    quality = YAML(typ="safe").load((case_dir / "q.yaml").read_text())
    models = quality["models"]
    assert set(models) == {"model-a", "model-b"}, set(models)
    assert models["model-a"] == {"classification": 100.0, "faq": 0.0}, models["model-a"]
    assert models["model-b"] == {"classification": 50.0, "faq": 100.0}, models["model-b"]


def capped(case_dir: Path, stdout: str, stderr: str) -> None:
    """At most SHOWN_AT_MOST lines and one count per kind, however many problems."""
    lines = stderr.splitlines()
    assert len(lines) <= 45, len(lines)
    assert any("more like this" in line for line in lines), stderr[-500:]


CHECKS = {
    "tables_plan_is_base": plan_is_base,
    "tables_plan_is_base_from_sheet": plan_is_base_from_sheet,
    "tables_plan_is_base_after_title": plan_is_base_after_title,
    "tables_validated_base": validated_base,
    "tables_quality_two_models": quality_two_models,
    "tables_capped": capped,
}
