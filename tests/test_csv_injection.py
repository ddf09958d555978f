"""CSV and FOCUS outputs are safe to open in a spreadsheet (issue 14, item 8): a text cell starting
with = + - @ tab or CR gets a leading single quote (OWASP "CSV Injection"); numbers stay numbers."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router_opt.cli import app
from router_opt.plan import optimize
from router_opt.report import FORMULA_TRIGGERS, csv_cell, safe_text_cell, to_csv
from router_opt.report.focus import to_focus

runner = CliRunner()

HYPERLINK = '=HYPERLINK("http://evil.example/?x=1","click")'
SUM = "@SUM(A1:A2)"
CMD = "+cmd|' /C calc'!A0"
ARITH = "-2+3"

CATALOG = f"""\
name: hostile
prices_as_of: 2025-06-01
baseline: big
models:
  - {{id: big, tier: Commercial Large, provider: openai, usd_per_mtok: 10.0, quality: {{"{ARITH}": 95, "=1+1": 90}}}}
  - {{id: "@evil", tier: Commercial Small, provider: "+prov", usd_per_mtok: 0.5, quality: {{"{ARITH}": 96, "=1+1": 91}}}}
"""


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


WORKLOAD = (
    "department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens\n"
    f"{_quote(HYPERLINK)},{_quote(SUM)},3,{_quote(CMD)},{_quote(ARITH)},100,500,500\n"
    f"Ops,Agent,2,{_quote(ARITH)},=1+1,10,100,100\n"
)


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[Path, Path]:
    catalog, workload = tmp_path / "c.yaml", tmp_path / "w.csv"
    catalog.write_text(CATALOG)
    workload.write_text(WORKLOAD)
    return catalog, workload


def _cli(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def _assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            if cell.startswith(FORMULA_TRIGGERS):
                # Only a genuine number may start with '-' or '+' (none does in these plans, but say so).
                float(cell)


def test_cells_by_hand():
    for hostile_text in (HYPERLINK, SUM, CMD, ARITH, "\t=1+1", "\rx", "-", "+", "@", "="):
        assert safe_text_cell(hostile_text) == "'" + hostile_text
        assert csv_cell(hostile_text) == "'" + hostile_text
    # Harmless text and numbers are untouched; a negative number is a number, not a formula.
    assert csv_cell("Support") == "Support" and csv_cell("a=b") == "a=b" and csv_cell("'=x") == "'=x"
    assert csv_cell(-2.5) == "-2.5" and csv_cell(0.1 + 0.2) == "0.30000000000000004"
    assert csv_cell(-3) == "-3" and csv_cell(None) == ""


def test_plan_csv_neutralises_hostile_names(hostile):
    catalog, workload = hostile
    rows = list(csv.reader(io.StringIO(_cli("optimize", "-c", str(catalog), "-w", str(workload), "-f", "csv"))))
    header, body = rows[0], rows[1:]
    _assert_no_formula(body)
    by_task = {row[header.index("task")]: dict(zip(header, row)) for row in body}
    first = by_task["'" + CMD]
    assert first["department"] == "'" + HYPERLINK
    assert first["role"] == "'" + SUM
    assert first["task_type"] == "'" + ARITH
    assert first["model"] == "'@evil"
    assert first["tier"] == "Commercial Small"
    # Numbers stay numbers: 3 workers x 100 calls on @evil ($0.50/M) at 1,000 tokens = $0.0005 a call,
    # $0.15 a day, quality 96.
    assert float(first["invocations_per_day"]) == 300.0
    assert float(first["usd_per_invocation"]) == pytest.approx(0.0005, rel=1e-12)
    assert float(first["usd_per_day"]) == pytest.approx(0.15, rel=1e-12)
    assert float(first["quality"]) == 96.0
    second = by_task["'" + ARITH]
    assert second["department"] == "Ops" and second["task_type"] == "'=1+1"
    # The JSON keeps the names as given: only the CSV cell is neutralised.
    data = json.loads(_cli("optimize", "-c", str(catalog), "-w", str(workload), "-f", "json"))
    assert {a["department"] for a in data["assignments"]} == {HYPERLINK, "Ops"}


def test_focus_neutralises_hostile_names(hostile):
    catalog, workload = hostile
    rows = list(csv.reader(io.StringIO(_cli("optimize", "-c", str(catalog), "-w", str(workload), "-f", "focus"))))
    header, body = rows[0], rows[1:]
    _assert_no_formula(body)
    row = next(dict(zip(header, r)) for r in body if r[header.index("x_Department")] == "'" + HYPERLINK)
    assert row["ServiceName"] == row["ResourceId"] == "'@evil"
    assert row["ProviderName"] == "'+prov"
    # BilledCost is a number: $0.15/day (above); x_BaselineCost on big ($10/M): 300 x 1,000 x 10 / 1e6 = $3.
    assert float(row["BilledCost"]) == pytest.approx(0.15, rel=1e-12)
    assert float(row["x_BaselineCost"]) == pytest.approx(3.0, rel=1e-12)
    assert float(row["x_OverspendRatio"]) == pytest.approx(20.0, rel=1e-12)
    # The Tags cell is JSON (starts with '{'), which keeps the name as given.
    assert json.loads(row["Tags"])["department"] == HYPERLINK


def test_tab_and_carriage_return_names(hostile):
    # The loaders strip surrounding whitespace, so a tab or CR first reaches a cell only from a result
    # built another way (a library caller's): the writers neutralise it all the same.
    catalog, workload = hostile
    result = optimize(catalog, workload)
    names = {"department": "\t=1+1", "role": "\r@x"}
    tampered = result.model_copy(
        update={
            "assignments": tuple(a.model_copy(update=names) for a in result.assignments),
            "tasks": tuple(t.model_copy(update=names) for t in result.tasks),
        }
    )
    text = to_csv(tampered)
    # A CR inside a cell is quoted, so it cannot start a new row: one header and two plan rows.
    assert text.count("\n") == 3
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert len(rows) == 3 and all(len(r) == len(rows[0]) for r in rows)
    assert {(r[0], r[1]) for r in rows[1:]} == {("'\t=1+1", "'\r@x")}
    focus = list(csv.reader(io.StringIO(to_focus(tampered), newline="")))
    assert all(len(r) == len(focus[0]) for r in focus)
    column = focus[0].index("x_Department")
    assert {r[column] for r in focus[1:]} == {"'\t=1+1"}


def test_catalog_show_csv_neutralises_hostile_names(hostile):
    catalog, _ = hostile
    rows = list(csv.reader(io.StringIO(_cli("catalog", "show", "-c", str(catalog), "-f", "csv"))))
    _assert_no_formula(rows)
    assert rows[2][:3] == ["'@evil", "Commercial Small", "'+prov"]
    assert float(rows[2][3]) == 0.5  # prices stay numbers
