"""Files -> validated domain objects. Every problem names file, line (or row) and field, and all the
problems of a file are reported together."""

from __future__ import annotations

import functools
from array import array
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import ConfigDict, TypeAdapter, ValidationError

from router_opt.errors import InputError, Problem
from router_opt.io.errors import problems_from
from router_opt.io.tables import (
    HEADER_SEARCH_ROWS,
    Record,
    Sheet,
    csv_records,
    did_you_mean,
    has_invisible,
    invisible,
    merged_problems,
    normalized,
    note,
    shown,
)
from router_opt.io.text import read_text
from router_opt.io.workbook import xlsx_records
from router_opt.io.yaml_io import parse_yaml, sequence_lines, yaml_locator
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
# The most a workload table may say (larger is a unit or a zero off, and past 2**63 the engine's
# integers overflow): refused with this explanation.
WORKLOAD_MAXIMA = {
    "headcount": (10_000_000, "workers in one role"),
    "invocations_per_day": (1_000_000, "calls per worker per day (one every 0.09 s, day and night)"),
    "input_tokens": (10_000_000, "tokens per call (the largest context window on offer)"),
    "output_tokens": (10_000_000, "tokens per call"),
}
# Cells that name things: an invisible character in one makes a different department (or task type).
_TEXT_FIELDS = ("department", "role", "task", "task_type", "complexity", "region")


@dataclass(frozen=True)
class WorkloadOptions:
    """How to read a workload table (CSV or XLSX); the CLI's --sheet, --header-row and --map."""

    sheet: str | None = None
    """The workbook's sheet to read (default: a visible sheet named 'workload', else the first visible)."""
    header_row: int | None = None
    """Line (CSV) or row (XLSX) of the header (default: the first non-blank row, or the first naming
    workload columns within the next few rows when it does not: a title above the header)."""
    columns: Mapping[str, str] = field(default_factory=dict)
    """Workload field -> the header of the column that holds it (`--map task_type=Category`)."""

    @property
    def given(self) -> bool:
        return self.sheet is not None or self.header_row is not None or bool(self.columns)


_TASKS = TypeAdapter(list[TaskDemand])


def _mapping_document(path: Path, what: str) -> object:
    data = parse_yaml(path)
    if not isinstance(data, dict):
        raise InputError.single(str(path), f"a {what} file must be a YAML mapping (key: value lines) at the top")
    return data


def load_catalog(path: str | Path) -> Catalog:
    """Read and validate a catalog YAML file."""
    path = Path(path)
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


def load_workload(path: str | Path, options: WorkloadOptions | None = None) -> Workload:
    """Read and validate a workload: CSV, XLSX or YAML, chosen by the file's extension. `options`
    (CLI --sheet, --header-row, --map) say how to read a CSV or XLSX table."""
    path = Path(path)
    options = options or WorkloadOptions()
    suffix = path.suffix.lower()
    if suffix in {".yaml", ".yml"}:
        if options.given:
            raise InputError.single(
                str(path),
                "`sheet`, `header_row` and `columns` read CSV and XLSX workloads, not YAML",
                option=("sheet", "header_row", "columns"),
            )
        return _workload_from_yaml(path)
    merged: list[str] = []
    if suffix in {".xlsx", ".xlsm"}:
        sheet = _xlsx_rows(path, options.sheet)
        records, merged, unit = sheet.records, sheet.merged, "row"
    elif suffix in {".csv", ".txt", ""}:
        if options.sheet is not None:
            raise InputError.single(
                str(path), f"`sheet` {options.sheet!r} names a sheet of a workbook (.xlsx); this is CSV", option="sheet"
            )
        records, unit = _csv_rows(path), "line"
    else:
        raise InputError.single(str(path), f"unknown workload format '{suffix}': use .csv, .xlsx or .yaml")
    header_line, header, rows = _header_and_rows(path, records, options, unit)
    problems = merged_problems(str(path), header_line, merged, header, unit)
    if unit == "row":
        problems += _formula_problems(path, header, rows)
    return _workload_from_rows(path, header, rows, header_line=header_line, columns=options.columns, problems=problems)


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
        workload = Workload.model_validate(
            {"name": name, "tasks": tasks, "source_path": str(path), "source_lines": sequence_lines(tasks)}
            | {k: v for k, v in data.items() if k not in {"name", "tasks"}}
        )
    except ValidationError as exc:
        raise InputError(problems_from(exc, str(path), locate, model=Workload)) from None
    # The figures a table may not exceed (a unit or a zero off; past 2**63 the engine overflows).
    columns = workload.columns()
    problems = []
    for name, (limit, what) in WORKLOAD_MAXIMA.items():
        for i, value in enumerate(columns[name]):
            if value > limit:
                line, column = locate(("tasks", i, name))
                problems.append(
                    Problem(
                        str(path),
                        f"{value:,.6g} is above the most router-opt accepts, {limit:,} {what}; is a unit or a zero off?",
                        line=line,
                        column=column,
                        field=f"tasks[{i}].{name}",
                    )
                )
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line or 0))
    return workload


def _csv_rows(path: Path) -> list[Record]:
    """The non-blank records of a workload CSV (router_opt.io.tables.csv_records: limits, a stray
    quote). A workload cell is one line: a record running over several is a quote left open."""
    records = csv_records(path, read_text(path))
    spanning = [r for r in records if r.last_line != r.line]
    if spanning:
        raise InputError(
            [
                Problem(
                    str(path),
                    f"a quoted cell starting on this line runs on to line {r.last_line}, swallowing "
                    f'{r.last_line - r.line} line(s) into one row (a stray or unclosed " ?); a workload cell '
                    "is one line",
                    line=r.line,
                )
                for r in spanning
            ]
        )
    if not records:
        raise InputError.single(str(path), "file is empty")
    return records


def _xlsx_rows(path: Path, sheet: str | None = None) -> Sheet:
    """The non-blank rows of the workbook's sheet (router_opt.io.workbook.xlsx_records: `sheet`, else a
    visible sheet named 'workload', else the first visible one; cells read as they are, not padded
    to the sheet's declared dimension)."""
    read = xlsx_records(path, sheet)
    if not read.records:
        raise InputError.single(str(path), f"the sheet is empty (sheet '{read.title}')")
    return read


def _header_and_rows(
    path: Path, records: list[Record], options: WorkloadOptions, unit: str
) -> tuple[int, list[str], list[tuple[int, list[str]]]]:
    """The header's line (row), its cells, and the (line, cells) of the rows below it. The header is
    the --header-row given, else the first non-blank row, unless that names fewer than 3 workload
    columns and one of the next HEADER_SEARCH_ROWS rows names 3 or more (a title above the header:
    skipped, and said)."""
    where = str(path)
    if options.header_row is not None:
        for i, record in enumerate(records):
            if record.line == options.header_row:
                break
        else:
            first = ", ".join(str(r.line) for r in records[:5])
            raise InputError.single(
                where,
                f"`header_row` {options.header_row}: {unit} {options.header_row} is blank or past the end "
                f"(the first non-blank {unit}s are {first})",
                option="header_row",
                line=options.header_row,
            )
    else:
        known = {normalized(c) for c in (*WORKLOAD_COLUMNS, *options.columns.values())}

        def names(record: Record) -> int:
            return sum(normalized(c) in known for c in record.cells[: len(WORKLOAD_COLUMNS) * 4])

        i = 0
        if names(records[0]) < 3:
            later = next((j for j, r in enumerate(records[1:HEADER_SEARCH_ROWS], 1) if names(r) >= 3), None)
            if later is not None:
                i = later
                line = records[i].line
                note(
                    f"{where}: the header is on {unit} {line}; {i} non-blank {unit}(s) above it skipped "
                    f"(a title?); say so with --header-row {line}"
                )
    record = records[i]
    return record.line, [c.strip() for c in record.cells], [(r.line, r.cells) for r in records[i + 1 :]]


def _formula_problems(path: Path, header: list[str], rows: list[tuple[int, list[str]]]) -> list[Problem]:
    problems = []
    for number, cells in rows:
        for col, cell in enumerate(cells):
            if cell.startswith("="):
                name = header[col] if col < len(header) and header[col] else f"column {col + 1}"
                problems.append(
                    Problem(str(path), f"is a formula ({cell[:40]}); paste values instead", line=number, field=name)
                )
    return problems


def _resolved_header(
    where: str, header: list[str], header_line: int, columns: Mapping[str, str]
) -> tuple[list[str], list[Problem]]:
    """Each header cell as the workload field it names (`--map FIELD=COLUMN` first, then by name,
    case- and space-insensitively), and the header's problems (blank, missing, unknown with a
    "did you mean", given twice), each at the header's line."""
    problems: list[Problem] = []
    resolved = list(header)
    mapped: set[int] = set()

    def problem(message: str) -> None:
        problems.append(Problem(where, message, line=header_line))

    for field_name, column in columns.items():
        if field_name not in WORKLOAD_COLUMNS:
            problem(
                f"`columns` {field_name}={column}: no workload field '{field_name}'"
                f"{did_you_mean(field_name, WORKLOAD_COLUMNS)}; fields: {', '.join(WORKLOAD_COLUMNS)}"
            )
            continue
        at = [i for i, c in enumerate(header) if c == column.strip()] or [
            i for i, c in enumerate(header) if c and normalized(c) == normalized(column)
        ]
        if len(at) != 1:
            problem(
                f"`columns` {field_name}={column}: "
                + (f"{len(at)} columns are named '{column}'" if at else f"no column '{column}' in the header")
                + f" (columns: {', '.join(c for c in header if c)})"
            )
            continue
        resolved[at[0]] = field_name
        mapped.add(at[0])
    by_name = {normalized(c): c for c in WORKLOAD_COLUMNS}
    for i, cell in enumerate(header):
        if i not in mapped and cell:
            resolved[i] = by_name.get(normalized(cell), cell)
    blank = [i + 1 for i, c in enumerate(resolved) if c == ""]
    if blank:
        problem(f"column(s) {', '.join(map(str, blank))} have no name in the header; name or delete them")
    present = set(resolved)
    missing = [c for c in WORKLOAD_REQUIRED if c not in present]
    unknown = [c for c in resolved if c and c not in WORKLOAD_COLUMNS]
    if missing:
        problem(f"missing column(s): {', '.join(missing)}")
    if unknown:
        described = [
            (repr(c) + f" (holds {invisible(c)})" if has_invisible(c) else c)
            + did_you_mean(c, [m for m in WORKLOAD_COLUMNS if m not in present])
            for c in unknown[:20]
        ]
        problem(
            f"unknown column(s): {', '.join(described)}{', ...' if len(unknown) > 20 else ''}; allowed: "
            f"{', '.join(WORKLOAD_COLUMNS)} (any case and spacing; or say which column is which with `columns` FIELD=COLUMN)"
        )
    counts = Counter(c for c in resolved if c)
    for name, count in counts.items():
        if count > 1:
            at = [str(i + 1) for i, c in enumerate(resolved) if c == name]
            problem(f"column(s) given twice: {name} (columns {', '.join(at)}); keep one")
    return resolved, problems


def _workload_from_rows(
    path: Path,
    header: list[str],
    rows: list[tuple[int, list[str]]],
    header_line: int = 1,
    columns: Mapping[str, str] | None = None,
    problems: list[Problem] | None = None,
) -> Workload:
    where = str(path)
    while header and header[-1] == "":  # a trailing separator, or a sheet whose rows are wider
        header = header[:-1]
    raw_header = header
    # A wrong header makes every row wrong: say only the header's problems.
    header, header_faults = _resolved_header(where, header, header_line, columns or {})
    problems = list(problems or []) + header_faults
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line or 0), option="columns")
    if not rows:
        raise InputError.single(where, "has a header but no rows")
    width = len(header)
    # Rows with a non-empty cell past the header (extra empty cells, a trailing separator, are fine).
    too_wide = {line for line, cells in rows if len(cells) > width and any(c.strip() for c in cells[width:])}
    # A clean table takes the fast path; the first fault sends it row by row, which names every one.
    fast = None if too_wide else _workload_by_columns(path, header, rows)
    if fast is not None:
        return fast
    unit = "row" if path.suffix.lower() in {".xlsx", ".xlsm"} else "line"
    records, lines, problems = _row_records(where, header, raw_header, rows, too_wide, header_line, unit)
    tasks, lines, invalid = _valid_tasks(where, records, lines)
    tasks, lines, implausible = _plausible_tasks(where, tasks, lines)
    problems += invalid + implausible
    # The checks across rows (a task twice in a role, a role with two headcounts) run over the rows
    # that passed the checks above, so one pass names every problem of the file.
    workload, across = _workload_or_problems(path, tasks, lines) if tasks else (None, [])
    problems += across
    if problems:
        # In file order (the header's problems first), as a reader goes through the file.
        raise InputError(sorted(problems, key=lambda p: p.line or 0))
    return workload


def _row_records(
    where: str,
    header: list[str],
    raw_header: list[str],
    rows: list[tuple[int, list[str]]],
    too_wide: set[int],
    header_line: int,
    unit: str,
) -> tuple[list[dict[str, str]], list[int], list[Problem]]:
    """Each row as field -> text (an empty cell left out: an absent value), with its line, and the
    problems a row shows before validation: wider than the header, the header again (two files
    pasted together), an invisible character in a name."""
    width = len(header)
    repeated_header = [c.casefold() for c in raw_header]
    records: list[dict[str, str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    for line, cells in rows:
        if line in too_wide:
            problems.append(Problem(where, f"has {len(cells)} cells but the header has {len(header)}", line=line))
        stripped = list(map(str.strip, cells))
        if [c.casefold() for c in stripped[:width]] == repeated_header:
            problems.append(
                Problem(
                    where,
                    f"repeats the header ({unit} {header_line}): two files pasted together? delete this {unit}",
                    line=line,
                )
            )
            continue
        # An empty cell is an absent value (a missing required one is reported by validation).
        record = dict(zip(header, stripped))
        if "" in record.values():
            record = {name: value for name, value in record.items() if value != ""}
        hidden = [(name, record[name]) for name in _TEXT_FIELDS if name in record and has_invisible(record[name])]
        for name, value in hidden:
            problems.append(
                Problem(
                    where,
                    f"{shown(value)} holds {invisible(value)}, invisible in a spreadsheet but a different name "
                    "from the one without it; delete it",
                    line=line,
                    field=name,
                )
            )
        if hidden:
            continue
        records.append(record)
        lines.append(line)
    return records, lines, problems


def _valid_tasks(
    where: str, records: list[dict[str, str]], lines: list[int]
) -> tuple[list[TaskDemand], list[int], list[Problem]]:
    """The rows that validate as tasks, their lines, and a problem for each field of the others."""
    try:
        return _TASKS.validate_python(records), lines, []
    except ValidationError as exc:
        found = problems_from(exc, where, lambda loc: (lines[loc[0]], None) if loc else (None, None))
        # A row's field is named as its column ('headcount'), not by the list index ('[3].headcount').
        problems = [
            Problem(
                p.path, p.message, p.line, p.column, p.field.split(".", 1)[1] if p.field and "." in p.field else p.field
            )
            for p in found
        ]
        failed = {err["loc"][0] for err in exc.errors() if err["loc"] and isinstance(err["loc"][0], int)}
        kept = [i for i in range(len(records)) if i not in failed]
        return _TASKS.validate_python([records[i] for i in kept]), [lines[i] for i in kept], problems


def _plausible_tasks(
    where: str, tasks: list[TaskDemand], lines: list[int]
) -> tuple[list[TaskDemand], list[int], list[Problem]]:
    """The tasks within WORKLOAD_MAXIMA, their lines, and a problem for each figure past them (a unit
    or a zero off; past 2**63 the engine's integers overflow)."""
    implausible = [
        (i, name, limit, what)
        for i, task in enumerate(tasks)
        for name, (limit, what) in WORKLOAD_MAXIMA.items()
        if getattr(task, name) > limit
    ]
    problems = [
        Problem(
            where,
            f"{getattr(tasks[i], name):,.6g} is above the most router-opt accepts, {limit:,} {what}; is a unit or "
            "a zero off?",
            line=lines[i],
            field=name,
        )
        for i, name, limit, what in implausible
    ]
    dropped = {i for i, *_ in implausible}
    kept = [i for i in range(len(tasks)) if i not in dropped]
    return [tasks[i] for i in kept], [lines[i] for i in kept], problems


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
            if name in _TEXT_FIELDS and has_invisible(" ".join(c for c in cells if c)):
                return None
            columns[name] = _column_adapter(name).validate_python(cells)
            if name in WORKLOAD_MAXIMA and max(columns[name]) > WORKLOAD_MAXIMA[name][0]:
                return None
        return Workload(
            name=path.stem,
            tasks=TaskRows.from_columns(columns),
            source_path=str(path),
            # Line numbers as new int objects made here, after the columns: the reader's own ones
            # sit among every row's cells, and keeping them would keep the memory of every row
            # read (docs/PERFORMANCE.md, "Memory").
            source_lines=tuple(array("q", (line for line, _ in rows)).tolist()),
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
