"""`router-opt workload from-logs`: a generated request log with known volumes gives those volumes back."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router_opt.cli import app
from router_opt.errors import InputError
from router_opt.importers.logs import as_workload, workload_from_logs
from router_opt.io import load_workload

runner = CliRunner()
DAYS = 7
START = datetime(2025, 3, 3, tzinfo=UTC)

# (department, role) -> users, and per task type: calls per user per day, the input/output tokens of
# each call in a day (they average to the means below) and the model of each call.
ROLES = {
    ("Support", "Agent"): ["a1", "a2", "a3", "a4"],
    ("Support", "Manager"): ["m1", "m2"],
    ("Engineering", "Developer"): ["d1", "d2", "d3"],
}
TASKS = {
    ("Support", "Agent"): {
        "classification": ([590, 610, 590, 610, 595, 605], [40] * 6, ["small", "large"] * 3),
        "faq": ([300] * 3, [100, 120, 110], ["small"] * 3),
    },
    ("Support", "Manager"): {"summarization": ([3000, 3000], [190, 210], ["large", "large"])},
    ("Engineering", "Developer"): {
        "code_generation": ([1800, 2200, 1900, 2100, 2000], [800] * 5, ["large"] * 4 + ["coder"]),
        "classification": ([600], [40], ["small"]),
    },
}
EXPECTED = {  # (department, role, task_type) -> headcount, calls/worker/day, mean tokens in, out
    ("Support", "Agent", "classification"): (4, 6, 600, 40),
    ("Support", "Agent", "faq"): (4, 3, 300, 110),
    ("Support", "Manager", "summarization"): (2, 2, 3000, 200),
    ("Engineering", "Developer", "code_generation"): (3, 5, 2000, 800),
    ("Engineering", "Developer", "classification"): (3, 1, 600, 40),
}
SHARES = {
    ("Support", "Agent", "classification"): {"small": 0.5, "large": 0.5},
    ("Engineering", "Developer", "code_generation"): {"large": 0.8, "coder": 0.2},
}
COLUMNS = ["timestamp", "department", "role", "user", "task_type", "model", "input_tokens", "output_tokens"]


def log_rows(epoch_ms: bool = False) -> list[dict]:
    rows = []
    for day in range(DAYS):
        for (department, role), users in ROLES.items():
            for user in users:
                minute = 0
                for task_type, (inputs, outputs, models) in TASKS[(department, role)].items():
                    for tokens_in, tokens_out, model in zip(inputs, outputs, models):
                        when = START + timedelta(days=day, hours=9, minutes=minute)
                        minute += 7
                        stamp = int(when.timestamp() * 1000) if epoch_ms else when.isoformat().replace("+00:00", "Z")
                        rows.append(
                            dict(zip(COLUMNS, [stamp, department, role, user, task_type, model, tokens_in, tokens_out]))
                        )
    # rows a log really has: no user (skipped, counted)
    rows.append(dict(zip(COLUMNS, [rows[0]["timestamp"], "Support", "Agent", "", "faq", "small", 10, 10])))
    return rows


def write_log(tmp_path: Path, fmt: str, rows: list[dict] | None = None, header: list[str] | None = None) -> Path:
    rows = rows if rows is not None else log_rows(epoch_ms=fmt == "jsonl")
    header = header or COLUMNS
    renamed = [dict(zip(header, r.values())) for r in rows]
    if fmt == "jsonl":
        path = tmp_path / "log.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in renamed), encoding="utf-8")
        return path
    path = tmp_path / "log.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(renamed)
    if fmt == "csv":
        return path
    import duckdb

    parquet = tmp_path / "log.parquet"
    con = duckdb.connect()
    con.execute(f"COPY (SELECT * FROM read_csv_auto('{path}')) TO '{parquet}' (FORMAT parquet)")
    con.close()
    path.unlink()
    return parquet


def _check_round_trip(result):
    got = {
        (r["department"], r["role"], r["task_type"]): (
            r["headcount"],
            r["invocations_per_day"],
            r["input_tokens"],
            r["output_tokens"],
        )
        for r in result.workload_rows
    }
    assert got == EXPECTED
    assert all(r["task"] == r["task_type"] for r in result.workload_rows)
    shares: dict = {}
    for r in result.routing_rows:
        shares.setdefault((r["department"], r["role"], r["task_type"]), {})[r["model"]] = r["share"]
    for key, expected in SHARES.items():
        assert shares[key] == expected
    for per_task in shares.values():
        assert sum(per_task.values()) == pytest.approx(1)
    assert result.days == DAYS
    assert result.rows_skipped == 1
    assert result.rows_used == sum(h * n * DAYS for h, n, _, _ in EXPECTED.values())


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_log_round_trip(tmp_path, fmt):
    result = workload_from_logs([write_log(tmp_path, fmt)])
    _check_round_trip(result)
    workload = as_workload(result)
    assert len(workload.tasks) == len(EXPECTED)


def test_cli_writes_a_workload_that_loads_and_the_current_routing(tmp_path):
    log = write_log(tmp_path, "csv")
    out, routing = tmp_path / "workload.csv", tmp_path / "current.csv"
    result = runner.invoke(app, ["workload", "from-logs", str(log), "-o", str(out), "--current-routing", str(routing)])
    assert result.exit_code == 0, result.output
    assert "over 7 day(s)" in result.output and "skipped 1 rows" in result.output
    workload = load_workload(out)
    by_key = {(t.department, t.role, t.task_type): t for t in workload.tasks}
    for key, (headcount, calls, tokens_in, tokens_out) in EXPECTED.items():
        task = by_key[key]
        assert (task.headcount, task.invocations_per_day, task.input_tokens, task.output_tokens) == (
            headcount,
            calls,
            tokens_in,
            tokens_out,
        )
    current = list(csv.DictReader(io.StringIO(routing.read_text())))
    code = {r["model"]: float(r["share"]) for r in current if r["task_type"] == "code_generation"}
    assert code == {"large": 0.8, "coder": 0.2}
    assert {r["requests"] for r in current if r["task_type"] == "summarization"} == {str(2 * 2 * DAYS)}


def test_mixed_formats_and_days_override(tmp_path):
    rows = log_rows()
    half = len(rows) // 2
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    csv_part = write_log(first, "csv", rows[:half])
    jsonl_part = write_log(second, "jsonl", rows[half:])
    _check_round_trip(workload_from_logs([csv_part, jsonl_part]))
    longer = workload_from_logs([csv_part, jsonl_part], days=14)
    assert {r["invocations_per_day"] for r in longer.workload_rows} == {n / 2 for _, n, _, _ in EXPECTED.values()}


def test_column_mapping(tmp_path):
    header = ["ts", "dept", "job", "employee", "label", "llm", "prompt_tokens", "completion_tokens"]
    log = write_log(tmp_path, "csv", header=header)
    with pytest.raises(InputError) as err:
        workload_from_logs([log])
    assert (
        "role" in str(err.value)
        and "user" in str(err.value)
        and "`mapping`" in str(err.value)
        and err.value.options == ("mapping",)
    )
    result = runner.invoke(
        app,
        ["workload", "from-logs", str(log), "--map", "role=job", "--users-column", "employee", "--map", "timestamp=ts"],
    )
    assert result.exit_code == 0, result.output
    assert "role=job" in result.output and "task_type=label" in result.output  # said which columns were read
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert {(r["department"], r["role"], r["task_type"], r["headcount"], r["invocations_per_day"]) for r in rows} == {
        (d, r, t, str(h), f"{n:g}") for (d, r, t), (h, n, _, _) in EXPECTED.items()
    }


def test_bad_inputs_are_clear(tmp_path):
    result = runner.invoke(app, ["workload", "from-logs", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2 and "file not found" in result.output
    odd = tmp_path / "log.xml"
    odd.write_text("<log/>")
    result = runner.invoke(app, ["workload", "from-logs", str(odd)])
    assert result.exit_code == 2 and "unknown log format" in result.output
    result = runner.invoke(app, ["workload", "from-logs", str(write_log(tmp_path, "csv")), "--map", "nonsense"])
    assert result.exit_code == 2 and "FIELD=COLUMN" in result.output
