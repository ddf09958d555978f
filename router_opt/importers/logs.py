"""Request logs -> a workload (and the routing actually used), with DuckDB streaming over the files.

A log has one row per LLM request: timestamp, department, role, user, task type (or a label), model,
input and output tokens (CSV, JSONL or Parquet; several files, mixed formats allowed). Columns are
found by name (see `ALIASES`) or named with a mapping (`{"task_type": "label"}`).

Per (department, role, task type):
- headcount = distinct users of the role (over all its task types, so a role has one headcount);
- days = distinct calendar days (UTC) with at least one valid request anywhere in the log (a log of
  two working weeks has 10 days: the rate is per day the organisation used the system); `days=N`
  overrides;
- invocations_per_day (per worker) = requests / (headcount × days);
- input_tokens, output_tokens = mean per request, rounded to the nearest whole token (requests
  without a token count are left out of that mean);
- task = the task type (or label).

A row missing its timestamp, department, role, user or task type is skipped and counted; so is a row
whose token count is there but is not a number, not finite (nan, inf, 1e400), negative, or above
`MAX_TOKENS_PER_REQUEST` (the notes say how many for each reason, in which file, with an example).
If no row is left, the import fails naming the file and the reasons. Timestamps may be ISO text (an offset is converted to UTC), native timestamps, or Unix
epoch numbers (seconds; numbers above 10¹¹ are read as milliseconds).

The routing actually used (`routing`): per task, each model's share of its requests and the mean
tokens of those requests (not rounded, unlike the workload's). It prices the
company's current spend with a catalog's prices (Σ share × requests × tokens × $/M) for comparison
with the plan and with the all-large baseline; the log's model names must then match catalog ids.

One pass over the files (GROUPING SETS computes the three aggregates of a scan at once); DuckDB keeps
only the groups in memory, and spills past `memory_limit`.
"""

from __future__ import annotations

import csv
import glob
import io
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from router_opt.errors import InputError, RouterOptError
from router_opt.io.loaders import WORKLOAD_REQUIRED
from router_opt.io.text import check_regular

ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": ("timestamp", "ts", "time", "created_at", "request_time", "start_time", "datetime", "date"),
    "department": ("department", "dept", "team", "business_unit"),
    "role": ("role", "job_role", "user_role", "job_title"),
    "user": ("user", "user_id", "userid", "username", "employee_id", "email"),
    "task_type": ("task_type", "label", "task", "category", "intent", "use_case"),
    "model": ("model", "model_name", "model_id", "llm"),
    "input_tokens": ("input_tokens", "prompt_tokens", "tokens_in", "input_token_count"),
    "output_tokens": ("output_tokens", "completion_tokens", "tokens_out", "output_token_count"),
    "spend": ("spend", "cost", "response_cost", "cost_usd", "billed_usd"),
}
# No model reads or writes this many tokens in one request (the largest context windows are 1-10M).
MAX_TOKENS_PER_REQUEST = 10_000_000
_FILE_COLUMN = "__router_opt_file"
TOKEN_PROBLEMS = {
    "text": "not a number",
    "non-finite": "not a finite number",
    "negative": "negative",
    "huge": f"above {MAX_TOKENS_PER_REQUEST:,} tokens a request",
}
REQUIRED = ("timestamp", "department", "role", "user", "task_type", "input_tokens", "output_tokens")
FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "json",
    ".ndjson": "json",
    ".json": "json",
}


@dataclass
class LogsResult:
    workload_rows: list[dict]
    """department, role, headcount, task, task_type, invocations_per_day, input_tokens, output_tokens."""
    routing_rows: list[dict]
    """department, role, task, task_type, model, requests, share, input_tokens, output_tokens."""
    days: int
    rows_used: int
    rows_skipped: int
    first_day: str | None
    last_day: str | None
    columns: dict[str, str | None] = field(default_factory=dict)
    """Canonical column -> the column read (per format, the first format's)."""
    notes: list[str] = field(default_factory=list)


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _quote_str(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _format_of(path: Path) -> str:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in {".gz", ".zst"}:
        suffixes = suffixes[:-1]
    if not suffixes or suffixes[-1] not in FORMATS:
        raise InputError.single(
            str(path), "unknown log format: use .csv, .jsonl (or .json) or .parquet (optionally .gz)"
        )
    return FORMATS[suffixes[-1]]


def _expand(paths: list[str | Path]) -> list[Path]:
    files: list[Path] = []
    for given in paths:
        text = str(given)
        matches = sorted(glob.glob(text)) if any(ch in text for ch in "*?[") else [text]
        if not matches:
            raise InputError.single(text, "no file matches this pattern")
        for match in matches:
            path = Path(match)
            # A regular file (never a FIFO, device, directory or /proc file), of any size; recorded as an
            # input of the command so that no output overwrites it.
            if check_regular(path).st_size == 0:
                raise InputError.single(str(path), "file is empty")
            files.append(path)
    if not files:
        raise RouterOptError("give at least one log file")
    return files


def _reader(fmt: str, files: list[Path], as_text: tuple[str, ...] = ()) -> str:
    """DuckDB's reader of the files; `as_text`: CSV columns read as text, not as the sniffer guesses."""
    listed = "[" + ", ".join(_quote_str(str(f)) for f in files) + "]"
    named = f"union_by_name = true, filename = {_quote_str(_FILE_COLUMN)}"
    if fmt == "parquet":
        return f"read_parquet({listed}, {named})"
    if fmt == "csv":
        types = ", ".join(f"{_quote_str(c)}: 'VARCHAR'" for c in as_text)
        return f"read_csv_auto({listed}, {named}" + (f", types = {{{types}}})" if types else ")")
    return f"read_json_auto({listed}, format = 'auto', {named})"


# LiteLLM's spend-log export (its SpendLogs table: request_id, startTime, model, model_group, user,
# end_user, spend, prompt_tokens, completion_tokens, metadata, request_tags, team_id, ...). What the
# workload needs is read from where LiteLLM keeps it, unless --map names a column:
# - department: a request tag `department:<name>`, else the key's team (metadata.user_api_key_team_alias),
#   else team_id; role: a tag `role:<name>`, else the key's alias (metadata.user_api_key_alias);
#   task type: a tag `task_type:<name>` or `task:<name>` (requests without one are skipped, counted);
# - user: end_user where given, else user; model: model_group (the name clients call, which a catalog
#   lists), else model; timestamp: startTime; billed spend: spend (USD).
LITELLM_SIGNATURE = ("startTime", "spend", "request_id")


def is_litellm_spend_log(columns: dict[str, str]) -> bool:
    return all(name in columns for name in LITELLM_SIGNATURE)


def _json_field(column: str, path: str) -> str:
    return f"NULLIF(TRIM(json_extract_string(TRY_CAST({_quote_ident(column)} AS JSON), {_quote_str(path)})), '')"


def _tag(column: str, prefixes: tuple[str, ...]) -> str:
    tags = f"TRY_CAST(from_json(TRY_CAST({_quote_ident(column)} AS JSON), '[\"VARCHAR\"]') AS VARCHAR[])"
    found = [
        f"substr(list_filter({tags}, lambda x: starts_with(x, {_quote_str(p)}))[1], {len(p) + 1})" for p in prefixes
    ]
    return f"NULLIF(TRIM(COALESCE({', '.join(found)})), '')"


def _litellm_fields(columns: dict[str, str], mapping: dict[str, str]) -> dict[str, str]:
    """SQL for each workload field of a LiteLLM spend log (fields --map names are left to it)."""
    has = set(columns)
    tags = "request_tags" if "request_tags" in has else None
    meta = "metadata" if "metadata" in has else None

    def first(*options: str | None) -> str:
        present = [o for o in options if o]
        return f"COALESCE({', '.join(present)})" if len(present) > 1 else (present[0] if present else "NULL")

    def text(column: str) -> str | None:
        return _text(column, columns[column]) if column in has else None

    fields = {
        "department": first(
            _tag(tags, ("department:",)) if tags else None,
            _json_field(meta, "$.user_api_key_team_alias") if meta else None,
            text("team_id"),
        ),
        "role": first(
            _tag(tags, ("role:",)) if tags else None, _json_field(meta, "$.user_api_key_alias") if meta else None
        ),
        "task_type": first(_tag(tags, ("task_type:", "task:")) if tags else None),
        "user": first(text("end_user"), text("user")),
        "model": first(text("model_group"), text("model")),
    }
    return {k: v for k, v in fields.items() if k not in mapping}


def _resolve(columns: dict[str, str], mapping: dict[str, str], where: str) -> dict[str, str | None]:
    """Canonical name -> column of the file (None if absent and optional)."""
    by_lower = {name.lower(): name for name in columns}
    resolved: dict[str, str | None] = {}
    missing = []
    for canonical, aliases in ALIASES.items():
        if canonical in mapping:
            wanted = mapping[canonical]
            if wanted not in columns and wanted.lower() not in by_lower:
                raise InputError.single(
                    where,
                    f"`mapping` {canonical}={wanted}: no column '{wanted}' (columns: {', '.join(columns)})",
                    option="mapping",
                )
            resolved[canonical] = wanted if wanted in columns else by_lower[wanted.lower()]
            continue
        resolved[canonical] = next((by_lower[a] for a in aliases if a in by_lower), None)
        if resolved[canonical] is None and canonical in REQUIRED:
            missing.append(canonical)
    if missing:
        raise InputError.single(
            where,
            f"no column for {', '.join(missing)} (columns: {', '.join(columns)}); "
            f"name them with `mapping`, e.g. `mapping` {missing[0]}=<column>",
            option="mapping",
        )
    return resolved


def _text(column: str, kind: str) -> str:
    col = _quote_ident(column)
    raw = f"({col} ->> '$')" if kind == "JSON" else f"CAST({col} AS VARCHAR)"
    return f"NULLIF(TRIM({raw}), '')"


def _number(column: str, kind: str) -> str:
    col = _quote_ident(column)
    if kind == "JSON":
        return f"TRY_CAST({col} ->> '$' AS DOUBLE)"
    return f"TRY_CAST({col} AS DOUBLE)"


def _token_problem(column: str, kind: str) -> str:
    """SQL: why a token cell that is there cannot be used (a key of TOKEN_PROBLEMS), else NULL."""
    raw, number = _text(column, kind), _number(column, kind)
    return (
        f"CASE WHEN {raw} IS NULL THEN NULL WHEN {number} IS NULL THEN 'text' "
        f"WHEN NOT isfinite({number}) THEN 'non-finite' WHEN {number} < 0 THEN 'negative' "
        f"WHEN {number} > {MAX_TOKENS_PER_REQUEST} THEN 'huge' END"
    )


_NUMERIC = {
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
}


def _day(column: str, kind: str) -> str:
    col = _quote_ident(column)
    if kind.startswith("TIMESTAMP") or kind == "DATE":
        return f"CAST({col} AS DATE)"
    if kind in _NUMERIC or kind.startswith("DECIMAL"):
        return f"CAST(to_timestamp(CASE WHEN {col} > 1e11 THEN {col} / 1000.0 ELSE {col} END) AS DATE)"
    text = f"({col} ->> '$')" if kind == "JSON" else f"CAST({col} AS VARCHAR)"
    return (
        f"COALESCE(CAST(TRY_CAST({text} AS TIMESTAMPTZ) AS DATE), "
        f"CAST(to_timestamp(TRY_CAST({text} AS DOUBLE)) AS DATE))"
    )


def _describe(con, fmt: str, files: list[Path], reader: str) -> dict[str, str]:
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()
    except Exception as exc:  # noqa: BLE001 - duckdb raises its own error classes
        raise InputError.single(str(files[0]), f"cannot read as {fmt}: {str(exc).splitlines()[0]}") from None
    return {row[0]: row[1] for row in described if row[0] != _FILE_COLUMN}


def _projection(con, fmt: str, files: list[Path], mapping: dict[str, str]) -> tuple[str, dict[str, str | None]]:
    reader = _reader(fmt, files)
    columns = _describe(con, fmt, files, reader)
    where = str(files[0]) if len(files) == 1 else f"{files[0]} (and {len(files) - 1} more)"
    litellm = _litellm_fields(columns, mapping) if is_litellm_spend_log(columns) else {}
    if litellm:
        # The fields read from tags and metadata need no column; the others resolve as usual.
        mapping = {"timestamp": "startTime", **mapping}
        stand_in = next(iter(columns))
        cols = _resolve(columns, {**{k: stand_in for k in litellm}, **mapping}, where)
        cols.update({k: f"LiteLLM {k}" for k in litellm})
    else:
        cols = _resolve(columns, mapping, where)
    # A token column the CSV sniffer took for dates or booleans ('inf' reads as the infinite DATE):
    # read it as text, so that each cell is judged as a number.
    odd = tuple(
        cols[k]
        for k in ("input_tokens", "output_tokens")
        if cols[k]
        and columns[cols[k]] not in _NUMERIC
        and not columns[cols[k]].startswith("DECIMAL")
        and columns[cols[k]] not in ("VARCHAR", "JSON")
    )
    if odd and fmt == "csv":
        reader = _reader(fmt, files, odd)
        columns = _describe(con, fmt, files, reader)

    def field(name: str) -> str:
        if name in litellm:
            return litellm[name]
        return _text(cols[name], columns[cols[name]]) if cols[name] else "CAST(NULL AS VARCHAR)"

    spend = _number(cols["spend"], columns[cols["spend"]]) if cols.get("spend") else "CAST(NULL AS DOUBLE)"
    select = (
        f"SELECT {field('department')} AS department, "
        f"{field('role')} AS role, "
        f"{field('user')} AS user_name, "
        f"{field('task_type')} AS task_type, "
        f"{field('model')} AS model, "
        f"{spend} AS spend, "
        f"{_day(cols['timestamp'], columns[cols['timestamp']])} AS day, "
        f"{_number(cols['input_tokens'], columns[cols['input_tokens']])} AS input_tokens, "
        f"{_number(cols['output_tokens'], columns[cols['output_tokens']])} AS output_tokens, "
        f"{_token_problem(cols['input_tokens'], columns[cols['input_tokens']])} AS in_problem, "
        f"{_token_problem(cols['output_tokens'], columns[cols['output_tokens']])} AS out_problem, "
        f"{_text(cols['input_tokens'], columns[cols['input_tokens']])} AS in_raw, "
        f"{_text(cols['output_tokens'], columns[cols['output_tokens']])} AS out_raw, "
        f"{_quote_ident(_FILE_COLUMN)} AS source_file "
        f"FROM {reader}"
    )
    return select, cols


def _int_tokens(total: float | None, count: int) -> int:
    if not count or total is None:
        return 0
    return int((total / count) + 0.5)  # nearest whole token (means are ≥ 0)


def _rate(value: float) -> float:
    return float(f"{value:.10g}")


def workload_from_logs(
    paths: list[str | Path],
    mapping: dict[str, str] | None = None,
    days: int | None = None,
    memory_limit: str = "1GB",
    threads: int | None = None,
) -> LogsResult:
    """Aggregate request logs into workload rows and the routing they show."""
    mapping = dict(mapping or {})
    unknown = [k for k in mapping if k not in ALIASES]
    if unknown:
        raise RouterOptError(
            f"`mapping`: unknown field(s) {', '.join(unknown)}; fields: {', '.join(ALIASES)}", option="mapping"
        )
    if days is not None and days < 1:
        raise RouterOptError("`days` must be at least 1", option="days")
    files = _expand(paths)
    scan = _scan(files, mapping, memory_limit, threads)
    n_days = days or len(scan.valid_days)
    workload_rows = _workload_rows(scan, n_days)
    return LogsResult(
        workload_rows=workload_rows,
        routing_rows=_routing_rows(scan, n_days) if scan.columns.get("model") else [],
        days=n_days,
        rows_used=scan.used,
        rows_skipped=scan.skipped,
        first_day=scan.valid_days[0].isoformat(),
        last_day=scan.valid_days[-1].isoformat(),
        columns=scan.columns,
        notes=_scan_notes(scan, len(files), days, len(workload_rows)),
    )


@dataclass
class _Scan:
    """What one pass of DuckDB over the logs gives: counts, days, the rows skipped for their tokens
    (with a note each), headcounts per role, and per (task, model) the requests and token sums."""

    used: int
    skipped: int
    valid_days: list
    token_notes: list[tuple[str, str]]
    """(file, note) per kind of unusable token cell."""
    skipped_for_tokens: int
    headcounts: dict[tuple[str, str], int]
    per_model: list[tuple]
    """department, role, task_type, model, requests, input token sum and count, output token sum and
    count, spend sum and count."""
    columns: dict[str, str | None]

    def task_totals(self) -> dict[tuple[str, str, str], list[float]]:
        """Per (department, role, task type): requests, input token sum and count, output sum and count."""
        tasks: dict[tuple[str, str, str], list[float]] = {}
        for dep, role, task_type, _model, n, s_in, c_in, s_out, c_out, _s, _c in self.per_model:
            acc = tasks.setdefault((dep, role, task_type), [0, 0.0, 0, 0.0, 0])
            acc[0] += n
            acc[1] += s_in or 0.0
            acc[2] += c_in
            acc[3] += s_out or 0.0
            acc[4] += c_out
        return tasks


_AGGREGATE = """
    WITH src AS ({source}),
    checked AS (
        SELECT *, CASE WHEN in_problem IS NOT NULL THEN 'input_tokens'
                       WHEN out_problem IS NOT NULL THEN 'output_tokens' END AS token_field,
                  COALESCE(in_problem, out_problem) AS token_problem,
                  CASE WHEN in_problem IS NOT NULL THEN in_raw ELSE out_raw END AS token_value
        FROM src
    ),
    flagged AS (
        SELECT *, (department IS NOT NULL AND role IS NOT NULL AND user_name IS NOT NULL
                   AND task_type IS NOT NULL AND day IS NOT NULL AND token_problem IS NULL) AS ok
        FROM checked
    )
    SELECT GROUPING(task_type) AS g_task, GROUPING(user_name) AS g_user, GROUPING(day) AS g_day,
           ok, department, role, task_type, model, user_name, day, token_field, token_problem, source_file,
           COUNT(*) AS n,
           SUM(input_tokens) AS s_in, COUNT(input_tokens) AS c_in,
           SUM(output_tokens) AS s_out, COUNT(output_tokens) AS c_out,
           SUM(spend) AS s_spend, COUNT(spend) AS c_spend,
           MIN(token_value) AS example
    FROM flagged
    GROUP BY GROUPING SETS ((ok, department, role, task_type, model), (ok, department, role, user_name),
                            (ok, day), (token_field, token_problem, source_file))
"""
"""One pass over every file: the three aggregates (per task and model, per role and user, per day)
and the unusable token cells per file, as GROUPING SETS of one scan."""


def _scan(files: list[Path], mapping: dict[str, str], memory_limit: str, threads: int | None) -> _Scan:
    """Run `_AGGREGATE` over the files (grouped by format) in a fresh DuckDB, spilling to a temporary
    directory past `memory_limit`, and read back what the workload needs."""
    import duckdb

    groups: dict[str, list[Path]] = {}
    for f in files:
        groups.setdefault(_format_of(f), []).append(f)
    spill = tempfile.mkdtemp(prefix="router-opt-duckdb-")
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(f"SET memory_limit = {_quote_str(memory_limit)}")
        con.execute(f"SET temp_directory = {_quote_str(spill)}")
        con.execute("SET preserve_insertion_order = false")
        if threads:
            con.execute(f"SET threads = {int(threads)}")
        selects, columns = [], {}
        for fmt, fmt_files in groups.items():
            select, cols = _projection(con, fmt, fmt_files, mapping)
            selects.append(select)
            columns = columns or cols
        source = " UNION ALL ".join(f"({s})" for s in selects)
        try:
            con.execute(f"CREATE TEMP TABLE agg AS {_AGGREGATE.format(source=source)}")
        except duckdb.Error as exc:
            raise RouterOptError(f"reading the logs failed: {str(exc).splitlines()[0]}") from None
        return _read_aggregates(con, files, columns)
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _read_aggregates(con, files: list[Path], columns: dict[str, str | None]) -> _Scan:
    """The `agg` table as a `_Scan`; no usable row at all is an error naming the file and why."""
    day_rows = con.execute("SELECT ok, day, n FROM agg WHERE g_day = 0 AND ok IS NOT NULL").fetchall()
    used = sum(n for ok, _, n in day_rows if ok)
    skipped = sum(n for ok, _, n in day_rows if not ok)
    bad_tokens = con.execute(
        """SELECT token_field, token_problem, source_file, n, example FROM agg
           WHERE ok IS NULL AND token_problem IS NOT NULL ORDER BY source_file, token_field, token_problem"""
    ).fetchall()
    token_notes = [
        (file, f"skipped {n:,} row(s) whose {field_} is {TOKEN_PROBLEMS[problem]} (e.g. {example!r})")
        for field_, problem, file, n, example in bad_tokens
    ]
    if used == 0:
        reasons = "; ".join(text if len(files) == 1 else f"{file}: {text}" for file, text in token_notes) or (
            f"all {skipped:,} rows lack a timestamp, department, role, user or task type"
        )
        raise InputError.single(str(files[0]), f"no usable rows: {reasons}")
    headcounts = {
        (dep, role): count
        for dep, role, count in con.execute(
            "SELECT department, role, COUNT(*) FROM agg WHERE g_user = 0 AND ok GROUP BY ALL"
        ).fetchall()
    }
    per_model = con.execute(
        """SELECT department, role, task_type, model, SUM(n), SUM(s_in), SUM(c_in), SUM(s_out), SUM(c_out),
                  SUM(s_spend), SUM(c_spend)
           FROM agg WHERE g_task = 0 AND ok GROUP BY ALL ORDER BY department, role, task_type, model NULLS LAST"""
    ).fetchall()
    return _Scan(
        used=used,
        skipped=skipped,
        valid_days=sorted(d for ok, d, _ in day_rows if ok and d is not None),
        token_notes=token_notes,
        skipped_for_tokens=sum(row[3] for row in bad_tokens),
        headcounts=headcounts,
        per_model=per_model,
        columns=columns,
    )


def _workload_rows(scan: _Scan, n_days: int) -> list[dict]:
    """One workload row per (department, role, task type): rate per worker per day, mean tokens."""
    rows = []
    for (dep, role, task_type), (n, s_in, c_in, s_out, c_out) in scan.task_totals().items():
        headcount = scan.headcounts[(dep, role)]
        rows.append(
            {
                "department": dep,
                "role": role,
                "headcount": int(headcount),
                "task": task_type,
                "task_type": task_type,
                "invocations_per_day": _rate(n / (headcount * n_days)),
                "input_tokens": _int_tokens(s_in, c_in),
                "output_tokens": _int_tokens(s_out, c_out),
            }
        )
    return rows


def _routing_rows(scan: _Scan, n_days: int) -> list[dict]:
    """One routing row per (task, model): share of the task's requests and unrounded mean tokens; with
    the billed $/day where the log has spend."""
    totals = scan.task_totals()
    rows = []
    billed = any(c_spend for *_, c_spend in scan.per_model)
    for dep, role, task_type, model, n, s_in, c_in, s_out, c_out, s_spend, c_spend in scan.per_model:
        rows.append(
            {
                "department": dep,
                "role": role,
                "task": task_type,
                "task_type": task_type,
                "model": model if model is not None else "",
                "requests": int(n),
                "share": _rate(n / totals[(dep, role, task_type)][0]),
                # Unrounded means (10 significant digits): priced, the routing file gives back the
                # log's own token spend (`optimize --actual`), which whole-token means would not.
                "input_tokens": _rate(s_in / c_in) if c_in and s_in is not None else 0,
                "output_tokens": _rate(s_out / c_out) if c_out and s_out is not None else 0,
            }
        )
        if billed:
            # What the log says was billed, per day (requests without a spend figure count as 0).
            rows[-1]["billed_usd_per_day"] = repr(float(s_spend or 0.0) / n_days) if c_spend else ""
    return rows


def _scan_notes(scan: _Scan, n_files: int, days: int | None, n_tasks: int) -> list[str]:
    """What a person should know about the import: volume and span, rows skipped and why, columns read."""
    log_days, valid_days = len(scan.valid_days), scan.valid_days
    notes = [
        (
            f"{scan.used:,} requests from {n_files} file(s) over {log_days} day(s) "
            f"({valid_days[0].isoformat()} to {valid_days[-1].isoformat()}): "
            f"{n_tasks} tasks in {len(scan.headcounts)} roles, {sum(scan.headcounts.values()):,} users"
        ),
    ]
    if days:
        notes.append(f"rates per day over {days} day(s) (--days), not the log's {log_days}")
    if scan.skipped - scan.skipped_for_tokens:
        notes.append(
            f"skipped {scan.skipped - scan.skipped_for_tokens:,} rows missing a timestamp, department, role, user "
            "or task type"
        )
    notes += [f"{file}: {text}" for file, text in scan.token_notes]
    if scan.columns.get("model") is None:
        notes.append("no model column: the current routing is unknown")
    renamed = [f"{k}={v}" for k, v in scan.columns.items() if v and v != k]
    if renamed:
        notes.append("columns read: " + ", ".join(renamed))
    return notes


WORKLOAD_HEADER = WORKLOAD_REQUIRED  # the workload file it writes has exactly the required columns
ROUTING_HEADER = (
    "department",
    "role",
    "task",
    "task_type",
    "model",
    "requests",
    "share",
    "input_tokens",
    "output_tokens",
)


def _csv(header: tuple[str, ...], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([f"{row[h]:.10g}" if isinstance(row[h], float) else row[h] for h in header])
    return out.getvalue()


def workload_csv(result: LogsResult) -> str:
    return _csv(WORKLOAD_HEADER, result.workload_rows)


def routing_csv(result: LogsResult) -> str:
    """The routing file; with a billed column when the log has spend (LiteLLM's `spend`)."""
    billed = any("billed_usd_per_day" in row for row in result.routing_rows)
    return _csv(ROUTING_HEADER + (("billed_usd_per_day",) if billed else ()), result.routing_rows)


def as_workload(result: LogsResult, name: str = "from-logs"):
    """The workload rows as a validated `Workload` (what `load_workload` gives for the written CSV)."""
    from router_opt.models import TaskDemand, Workload

    return Workload(name=name, tasks=tuple(TaskDemand(**row) for row in result.workload_rows))
