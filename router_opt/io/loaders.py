"""Files -> validated domain objects. Every problem names file, line (or row) and field, and all the
problems of a file are reported together."""

from __future__ import annotations

import csv
import functools
import io
from pathlib import Path
from typing import Annotated

from pydantic import ConfigDict, TypeAdapter, ValidationError

from router_opt.errors import InputError, Problem
from router_opt.io.errors import problems_from
from router_opt.io.text import check_readable, read_text
from router_opt.io.yaml_io import parse_yaml, parse_yaml_fast, sequence_lines, yaml_locator
from router_opt.models import Catalog, Policy, TaskDemand, TaskRows, Workload

WORKLOAD_REQUIRED = (
    "department",
    "role",
    "headcount",
    "task",
    "task_type",
    "invocations_per_day",
    "input_tokens",
    "output_tokens",
)
WORKLOAD_OPTIONAL = ("min_quality", "complexity", "region", "max_latency_ms")
WORKLOAD_COLUMNS = WORKLOAD_REQUIRED + WORKLOAD_OPTIONAL

_TASKS = TypeAdapter(list[TaskDemand])


def _mapping_document(path: Path, what: str) -> object:
    data = parse_yaml(path)
    if not isinstance(data, dict):
        raise InputError.single(str(path), f"a {what} file must be a YAML mapping (key: value lines) at the top")
    return data


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate a catalog YAML file."""
    path = Path(path)
    # Fast path: most catalogs are valid, and the round-trip parser that remembers positions costs
    # about 2 ms per model. Only a file that fails (to parse or to validate) is read again with it.
    fast = parse_yaml_fast(path)
    if isinstance(fast, dict):
        try:
            return Catalog.model_validate(fast)
        except ValidationError:
            pass
    data = _mapping_document(path, "catalog")
    try:
        return Catalog.model_validate(data)
    except ValidationError as exc:
        raise InputError(problems_from(exc, str(path), yaml_locator(data), model=Catalog)) from None


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy YAML file."""
    path = Path(path)
    data = _mapping_document(path, "policy")
    if "source_path" in data:
        line, column = yaml_locator(data)(("source_path",))
        raise InputError.single(
            str(path),
            "not a policy setting (router-opt records where the policy came from); remove this line",
            line=line,
            column=column,
            field="source_path",
        )
    try:
        return Policy.model_validate(dict(data) | {"source_path": str(path)})
    except ValidationError as exc:
        raise InputError(problems_from(exc, str(path), yaml_locator(data), model=Policy)) from None


def load_workload(path: str | Path) -> Workload:
    """Read and validate a workload: CSV, XLSX or YAML, chosen by the file's extension."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        return _workload_from_yaml(path)
    if suffix in {".xlsx", ".xlsm"}:
        header, rows = _xlsx_rows(path)
    elif suffix in {".csv", ".txt", ""}:
        header, rows = _csv_rows(path)
    else:
        raise InputError.single(str(path), f"unknown workload format '{suffix}': use .csv, .xlsx or .yaml")
    return _workload_from_rows(path, header, rows)


def _workload_from_yaml(path: Path) -> Workload:
    data = _mapping_document(path, "workload")
    locate = yaml_locator(data)
    for key in ("source_path", "source_lines"):
        if key in data:  # set by the loader; from the file they would mislabel every error
            line, column = locate((key,))
            raise InputError.single(
                str(path),
                "not a workload setting (router-opt records where the workload came from); remove this line",
                line=line,
                column=column,
                field=key,
            )
    tasks = data.get("tasks")
    name = data.get("name", path.stem)
    try:
        return Workload.model_validate(
            {"name": name, "tasks": tasks, "source_path": str(path), "source_lines": sequence_lines(tasks)}
            | {k: v for k, v in data.items() if k not in {"name", "tasks"}}
        )
    except ValidationError as exc:
        raise InputError(problems_from(exc, str(path), locate, model=Workload)) from None


def _csv_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line, cells) per non-blank row. Comma-separated; semicolon-separated files (as
    some spreadsheet locales export) are recognised by their header."""
    text = read_text(path)
    first_line = next((line for line in io.StringIO(text) if line.strip()), "")  # the header (read lazily)
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    # strict: a stray quote is an error, not a cell that silently swallows the rest of the file.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    start = 1  # line the next record starts on (a quoted cell may span lines)
    try:
        for cells in reader:
            line, start = start, reader.line_num + 1
            if not "".join(cells).strip():  # blank (one C call; a generator per row cost 60 ms at 50,000)
                continue
            if header is None:
                header = [cell.strip() for cell in cells]
                continue
            rows.append((line, cells))
    except csv.Error as exc:
        reason = str(exc)
        if "end of data" in reason:
            reason = 'a quoted cell starting on this line is never closed (a stray " ?)'
        raise InputError.single(str(path), f"not valid CSV: {reason}", line=start) from None
    if header is None:
        raise InputError.single(str(path), "file is empty")
    return header, rows


def _xlsx_rows(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (row number, cells) from the first sheet (or one named 'workload')."""
    check_readable(path)
    from openpyxl import load_workbook

    def unreadable(exc: Exception) -> InputError:
        detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else ""
        return InputError.single(
            str(path),
            f"not a readable .xlsx workbook ({exc.__class__.__name__}{': ' + detail if detail else ''}); "
            "open it in Excel or LibreOffice and save it as .xlsx",
        )

    # openpyxl raises many kinds of exception on a damaged or unusual file (zip, XML, attribute and
    # index errors from its parsers), while opening and while reading rows (read-only mode is lazy).
    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # noqa: BLE001 - see above
        raise unreadable(exc) from None
    sheets = book.worksheets
    named = [s for s in sheets if s.title == "workload"]
    if not sheets:
        book.close()
        raise InputError.single(str(path), "the workbook has no worksheet (only charts?); put the workload on a sheet")
    sheet = named[0] if named else sheets[0]
    try:
        values_by_row = list(sheet.iter_rows(values_only=True))
    except Exception as exc:  # noqa: BLE001 - see above
        raise unreadable(exc) from None
    finally:
        book.close()
    header: list[str] | None = None
    rows: list[tuple[int, list[str]]] = []
    problems: list[Problem] = []
    for number, values in enumerate(values_by_row, start=1):
        cells = ["" if v is None else str(v) for v in values]
        if not any(c.strip() for c in cells):
            continue
        if header is None:
            header = [c.strip() for c in cells]
            continue
        for col, cell in enumerate(cells):
            if cell.startswith("="):
                name = header[col] if col < len(header) else f"column {col + 1}"
                problems.append(
                    Problem(str(path), f"is a formula ({cell[:40]}); paste values instead", line=number, field=name)
                )
        rows.append((number, cells))
    if problems:
        raise InputError(problems)
    if header is None:
        raise InputError.single(str(path), "the sheet is empty")
    return header, rows


def _workload_from_rows(path: Path, header: list[str], rows: list[tuple[int, list[str]]]) -> Workload:
    where = str(path)
    problems: list[Problem] = []
    while header and header[-1] == "":  # a trailing separator, or a sheet whose rows are wider
        header = header[:-1]
    blank = [i + 1 for i, c in enumerate(header) if c == ""]
    if blank:
        problems.append(
            Problem(
                where, f"column(s) {', '.join(map(str, blank))} have no name in the header; name or delete them", line=1
            )
        )
    missing = [c for c in WORKLOAD_REQUIRED if c not in header]
    unknown = [c for c in header if c and c not in WORKLOAD_COLUMNS]
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if missing:
        problems.append(Problem(where, f"missing column(s): {', '.join(missing)}", line=1))
    if unknown:
        problems.append(
            Problem(where, f"unknown column(s): {', '.join(unknown)}; allowed: {', '.join(WORKLOAD_COLUMNS)}", line=1)
        )
    if duplicated:
        problems.append(Problem(where, f"column(s) given twice: {', '.join(duplicated)}", line=1))
    if problems:
        raise InputError(problems)
    if not rows:
        raise InputError.single(where, "has a header but no rows")
    width = len(header)
    # Rows with a non-empty cell past the header (extra empty cells, a trailing separator, are fine).
    too_wide = {line for line, cells in rows if len(cells) > width and any(c.strip() for c in cells[width:])}
    fast = None if too_wide else _workload_by_columns(path, header, rows)
    if fast is not None:
        return fast

    records: list[dict[str, str]] = []
    lines: list[int] = []
    for line, cells in rows:
        if line in too_wide:
            problems.append(Problem(where, f"has {len(cells)} cells but the header has {len(header)}", line=line))
        # An empty cell is an absent value (a missing required one is reported by validation).
        record = dict(zip(header, map(str.strip, cells)))
        if "" in record.values():
            record = {name: value for name, value in record.items() if value != ""}
        records.append(record)
        lines.append(line)
    try:
        tasks = _TASKS.validate_python(records)
        kept_lines = lines
    except ValidationError as exc:
        problems += problems_from(exc, where, lambda loc: (lines[loc[0]], None) if loc else (None, None))
        # Report the row-level field names without the list index.
        problems = [
            Problem(
                p.path, p.message, p.line, p.column, p.field.split(".", 1)[1] if p.field and "." in p.field else p.field
            )
            for p in problems
        ]
        # The checks across rows (a task twice in a role, a role with two headcounts) still run over
        # the rows that did validate, so one pass names every problem of the file.
        failed = {err["loc"][0] for err in exc.errors() if err["loc"] and isinstance(err["loc"][0], int)}
        kept = [i for i in range(len(records)) if i not in failed]
        tasks = _TASKS.validate_python([records[i] for i in kept])
        kept_lines = [lines[i] for i in kept]
    workload, across = _workload_or_problems(path, tasks, kept_lines) if tasks else (None, [])
    problems += across
    if problems:
        # In file order (the header's problems first), as a reader goes through the file.
        raise InputError(sorted(problems, key=lambda p: p.line or 0))
    return workload


def _workload_or_problems(
    path: Path, tasks: list[TaskDemand], lines: list[int]
) -> tuple[Workload | None, list[Problem]]:
    """The workload of these rows, or the problems found across them, each named by its line."""
    try:
        return Workload(name=path.stem, tasks=tuple(tasks), source_path=str(path), source_lines=tuple(lines)), []
    except ValidationError as exc:
        import re

        def locate(loc):
            if len(loc) >= 2 and loc[0] == "tasks" and isinstance(loc[1], int):
                return (lines[loc[1]], None)
            return (None, None)

        # "first at tasks[0]" is the YAML path; a spreadsheet's reader wants the line (CSV) or row (XLSX).
        unit = "row" if path.suffix.lower() in {".xlsx", ".xlsm"} else "line"

        def rows_named(message: str) -> str:
            return re.sub(r"tasks\[(\d+)\]", lambda m: f"{unit} {lines[int(m.group(1))]}", message)

        return None, [
            Problem(p.path, rows_named(p.message), p.line, p.column, (p.field or "").rsplit(".", 1)[-1] or None)
            for p in problems_from(exc, str(path), locate)
        ]


@functools.cache
def _column_adapter(name: str) -> TypeAdapter:
    """Validates one TaskDemand field's whole column: the field's own type and constraints, so a
    value passes here exactly when it passes in the row model."""
    field = TaskDemand.model_fields[name]
    value_type = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
    return TypeAdapter(list[value_type], config=ConfigDict(str_strip_whitespace=True))


def _workload_by_columns(path: Path, header: list[str], rows: list[tuple[int, list[str]]]) -> Workload | None:
    """A well-formed workload, validated a column at a time (one pydantic call per column instead of
    one per row: 50,000 rows load in a fraction of the time) and kept as columns for the engine.
    None at the first sign of a fault (a missing or invalid value, a duplicate):
    the row-by-row path then names every one with its line. Rows wider than the header have only
    empty cells past it (the caller checked)."""
    width = len(header)
    padding = [""] * width
    cells_by_column = list(zip(*(cells if len(cells) == width else (cells + padding)[:width] for _, cells in rows)))
    position = {name: i for i, name in enumerate(header) if name}
    n_rows = len(rows)
    columns: dict[str, list] = {}
    try:
        for name, field in TaskDemand.model_fields.items():
            if name not in position:
                if field.is_required():
                    return None
                columns[name] = [field.default] * n_rows
                continue
            cells = list(map(str.strip, cells_by_column[position[name]]))
            if "" in cells:  # an empty cell is an absent value, as in the row model
                if field.is_required():
                    return None
                cells = [cell or field.default for cell in cells]
            columns[name] = _column_adapter(name).validate_python(cells)
        return Workload(
            name=path.stem,
            tasks=TaskRows.from_columns(columns),
            source_path=str(path),
            source_lines=tuple(line for line, _ in rows),
        )
    except ValidationError:
        return None


def detect_kind(path: str | Path) -> str:
    """'catalog', 'policy' or 'workload', from the extension and, for YAML, the top-level keys."""
    path = Path(path)
    if path.suffix.lower() not in {".yaml", ".yml"}:
        return "workload"
    data = parse_yaml(path)
    if isinstance(data, dict):
        if "models" in data:
            return "catalog"
        if "tasks" in data:
            return "workload"
        if set(data) & (set(Policy.model_fields) - {"source_path"}):
            return "policy"
    raise InputError.single(
        str(path),
        "cannot tell what this file is: a catalog has `models:`, a workload `tasks:`, a policy one of "
        + ", ".join(f"`{k}:`" for k in Policy.model_fields if k != "source_path"),
    )
