"""`optimize --actual`: today's routing priced with the catalog beside the plan, against sums done
here request by request from the raw files (csv module, the catalog's YAML prices)."""

from __future__ import annotations

import csv
import io
import json
import random
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from router_opt.cli import app

from .test_from_logs import COLUMNS, DAYS, log_rows

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "catalogs" / "seven-tiers-2025.yaml"
WORKLOAD = ROOT / "workloads" / "enterprise-14-roles.csv"


def _prices(path: Path) -> dict[str, tuple[float, float]]:
    data = YAML(typ="safe", pure=True).load(path.read_text())
    out = {}
    for m in data["models"]:
        both = m.get("usd_per_mtok")
        out[m["id"]] = (m.get("input_usd_per_mtok", both), m.get("output_usd_per_mtok", both))
    return out


def _random_routing(path: Path, seed: int) -> dict[tuple[str, str], float]:
    """A routing file over the bundled workload: 1-3 random models per task with random shares
    (not normalised, as a log's rounding leaves them) and tokens; returns $/day per (department,
    task) worked out here: share / sum of shares x calls/day x tokens x $/M."""
    rng = random.Random(seed)
    prices = _prices(CATALOG)
    models = sorted(prices)
    expected: dict[tuple[str, str], float] = {}
    with WORKLOAD.open() as handle, path.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(
            ["department", "role", "task", "task_type", "model", "requests", "share", "input_tokens", "output_tokens"]
        )
        for row in csv.DictReader(handle):
            calls_per_day = float(row["invocations_per_day"]) * int(row["headcount"])
            chosen = rng.sample(models, rng.randint(1, 3))
            shares = [rng.uniform(0.05, 1.0) for _ in chosen]
            total = sum(shares)
            usd = 0.0
            for model, share in zip(chosen, shares, strict=True):
                tokens_in, tokens_out = rng.randint(0, 5000), rng.randint(0, 2000)
                writer.writerow([row["department"], row["role"], row["task"], row["task_type"], model, 1, f"{share!r}",
                                 tokens_in, tokens_out])  # fmt: skip
                p_in, p_out = prices[model]
                usd += share / total * calls_per_day * (tokens_in * p_in + tokens_out * p_out) / 1e6
            key = (row["department"], row["task"])
            expected[key] = expected.get(key, 0.0) + usd
    return expected


@pytest.mark.parametrize("seed", range(5))
def test_actual_spend_matches_a_request_by_request_sum(tmp_path, seed):
    routing = tmp_path / "routing.csv"
    expected = _random_routing(routing, seed)
    result = runner.invoke(app, ["optimize", "--actual", str(routing), "-f", "json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    actual = plan["actual"]
    assert plan["schema_version"] == "1.6"
    by_task = {(t["department"], t["task"]): t for t in actual["tasks"]}
    for key, usd in expected.items():
        assert by_task[key]["actual_usd_per_day"] == pytest.approx(usd, rel=1e-12, abs=1e-15), key
    by_department: dict[str, float] = {}
    for (department, _), usd in expected.items():
        by_department[department] = by_department.get(department, 0.0) + usd
    for row in actual["departments"]:
        assert row["actual_usd_per_day"] == pytest.approx(by_department[row["department"]], rel=1e-12)
    total = sum(expected.values())
    assert actual["actual_usd_per_day"] == pytest.approx(total, rel=1e-12)
    assert actual["savings_vs_actual_usd_per_day"] == pytest.approx(
        total - plan["totals"]["optimal_usd_per_day"], rel=1e-12
    )
    assert actual["optimal_usd_per_day"] == plan["totals"]["optimal_usd_per_day"]
    assert actual["baseline_usd_per_day"] == plan["totals"]["baseline_usd_per_day"]
    # the plan's side per task is the plan's own figure
    plan_tasks = {(t["department"], t["task"]): t["usd_per_day"] for t in plan["tasks"]}
    for key, row in by_task.items():
        assert row["optimal_usd_per_day"] == plan_tasks[key]
        assert sum(row["shares"]) == pytest.approx(1.0, rel=1e-12)


def test_tasks_below_their_bar_today_are_named(tmp_path):
    # Everything on the cheapest model, open-source: a task whose bar it misses is a quality risk today.
    prices = _prices(CATALOG)
    catalog = YAML(typ="safe", pure=True).load(CATALOG.read_text())
    cheapest = min(prices, key=lambda m: sum(prices[m]))
    rated = next(m for m in catalog["models"] if m["id"] == cheapest)["quality"]
    policy = YAML(typ="safe", pure=True).load((ROOT / "policies" / "default.yaml").read_text())
    bars = policy["min_quality_by_task_type"]
    routing = tmp_path / "routing.csv"
    below = set()
    with WORKLOAD.open() as handle, routing.open("w", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["department", "role", "task", "model", "share", "input_tokens", "output_tokens"])
        for row in csv.DictReader(handle):
            writer.writerow([row["department"], row["role"], row["task"], cheapest, 1, 100, 10])
            bar = float(row["min_quality"]) if row.get("min_quality") else bars.get(row["task_type"])
            quality = rated.get(row["task_type"])
            if quality is None or (bar is not None and quality < bar):
                below.add((row["department"], row["task"]))
    result = runner.invoke(app, ["optimize", "--actual", str(routing), "-f", "json"])
    assert result.exit_code == 0, result.output
    actual = json.loads(result.stdout)["actual"]
    named = {(t["department"], t["task"]) for t in actual["tasks"] if t["below_bar"]}
    assert named == below and actual["tasks_below_bar"] == len(below) > 0
    table = runner.invoke(app, ["optimize", "--actual", str(routing)])
    assert (
        "Today vs the plan vs all-large" in table.stdout and f"{len(below)} task(s) use a model below" in table.stdout
    )


def test_from_logs_to_actual_end_to_end(tmp_path):
    """A request log -> `workload from-logs --current-routing` -> `optimize --actual`: today's $/day is
    every request of the log priced and divided by the days it covers (tokens are rounded to whole
    means per model by from-logs, so the match is to that rounding)."""
    log = tmp_path / "log.csv"
    rows = log_rows()
    with log.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(
        "name: logs\nprices_as_of: 2025-06-01\nbaseline: large\nmodels:\n"
        "  - {id: large, tier: Commercial Large, provider: A, input_usd_per_mtok: 3, output_usd_per_mtok: 15,"
        " quality: {classification: 95, faq: 95, summarization: 95, code_generation: 95}}\n"
        "  - {id: small, tier: Commercial Small, provider: B, input_usd_per_mtok: 0.15, output_usd_per_mtok: 0.6,"
        " quality: {classification: 90, faq: 88, summarization: 80, code_generation: 70}}\n"
        "  - {id: coder, tier: Specialist, provider: C, input_usd_per_mtok: 0.5, output_usd_per_mtok: 1.5,"
        " quality: {code_generation: 93}}\n"
    )
    workload, routing = tmp_path / "w.csv", tmp_path / "r.csv"
    made = runner.invoke(
        app, ["workload", "from-logs", str(log), "-o", str(workload), "--current-routing", str(routing)]
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(
        app, ["optimize", "-c", str(catalog), "-w", str(workload), "--actual", str(routing), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    prices = {"large": (3, 15), "small": (0.15, 0.6), "coder": (0.5, 1.5)}
    per_day = (
        sum(
            (int(r["input_tokens"]) * prices[r["model"]][0] + int(r["output_tokens"]) * prices[r["model"]][1]) / 1e6
            for r in rows
            if r["user"]  # the generator's row without a user is skipped by from-logs
        )
        / DAYS
    )
    assert json.loads(result.stdout)["actual"]["actual_usd_per_day"] == pytest.approx(per_day, rel=1e-3)


def test_a_routing_file_that_cannot_be_priced_is_refused_by_line(tmp_path):
    routing = tmp_path / "routing.csv"
    routing.write_text(
        "department,role,task,model,share,input_tokens,output_tokens\n"
        "Customer Service,Support,Ticket triage,gpt-9,1,100,10\n"
        "Nowhere,Nobody,Nothing,commercial-large,1,100,10\n"
        "Customer Service,Support,FAQ answering,commercial-large,nan,100,10\n"
    )
    result = runner.invoke(app, ["optimize", "--actual", str(routing)])
    assert result.exit_code == 2
    assert f"{routing}:2: model: model 'gpt-9' is not in the catalog" in result.output
    assert f"{routing}:3: task: task 'Nowhere / Nobody / Nothing' is not in the workload" in result.output
    assert f"{routing}:4: share: must be a finite number ≥ 0, got 'nan'" in result.output


def test_focus_bills_today_and_carries_the_plan(tmp_path):
    routing = tmp_path / "routing.csv"
    expected = _random_routing(routing, 11)
    plan = json.loads(runner.invoke(app, ["optimize", "--actual", str(routing), "-f", "json"]).stdout)
    focus = runner.invoke(app, ["optimize", "--actual", str(routing), "-f", "focus"])
    assert focus.exit_code == 0, focus.output
    rows = list(csv.DictReader(io.StringIO(focus.stdout)))
    assert sum(float(r["BilledCost"]) for r in rows) == pytest.approx(sum(expected.values()), rel=1e-12)
    assert sum(float(r["x_PlanCost"]) for r in rows) == pytest.approx(plan["totals"]["optimal_usd_per_day"], rel=1e-12)
    by_department: dict[str, float] = {}
    for (department, _), usd in expected.items():
        by_department[department] = by_department.get(department, 0.0) + usd
    for department, usd in by_department.items():
        billed = sum(float(r["BilledCost"]) for r in rows if r["x_Department"] == department)
        assert billed == pytest.approx(usd, rel=1e-12), department
    # without --actual the bill is the plan
    plain = list(csv.DictReader(io.StringIO(runner.invoke(app, ["optimize", "-f", "focus"]).stdout)))
    assert all(r["BilledCost"] == r["x_PlanCost"] for r in plain)


def test_html_shows_today_beside_the_plan(tmp_path):
    routing = tmp_path / "routing.csv"
    expected = _random_routing(routing, 3)
    page = tmp_path / "plan.html"
    result = runner.invoke(app, ["optimize", "--actual", str(routing), "-f", "html", "-o", str(page)])
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert "Today&#x27;s cost" in html and "Today vs the plan vs all-large" in html
    # the task table carries today's $/day per task at full precision
    import re

    table = html[html.index('<table id="tasks"') :]
    header = re.findall(r"<th[^>]*>([^<]+)</th>", table[: table.index("</thead>")])
    assert header[-2:] == ["Today $/day", "Savings vs today $/day"]
    rows = table[table.index("<tbody>") : table.index("</tbody>")].split("<tr>")[1:]
    today = {}
    for row in rows:
        cells = re.findall(r"<td[^>]*>([^<]*)</td>", row)
        today[(cells[0], cells[2])] = float(re.findall(r'data-v="([^"]+)"', row)[-2])
    for key, usd in expected.items():
        assert today[key] == pytest.approx(usd, rel=1e-12)


def test_the_readme_example(tmp_path):
    """examples/actual/routing.csv as README shows it: today's $/day priced here row by row."""
    prices = _prices(CATALOG)
    calls = {}
    with WORKLOAD.open() as handle:
        for row in csv.DictReader(handle):
            calls[(row["department"], row["role"], row["task"])] = float(row["invocations_per_day"]) * int(
                row["headcount"]
            )
    today = 0.0
    with (ROOT / "examples" / "actual" / "routing.csv").open() as handle:
        for row in csv.DictReader(handle):
            p_in, p_out = prices[row["model"]]
            tokens = float(row["input_tokens"]) * p_in + float(row["output_tokens"]) * p_out
            today += float(row["share"]) * calls[(row["department"], row["role"], row["task"])] * tokens / 1e6
    result = runner.invoke(app, ["optimize", "--actual", "examples/actual/routing.csv", "-f", "json"])
    actual = json.loads(result.stdout)["actual"]
    assert actual["actual_usd_per_day"] == pytest.approx(today, rel=1e-12)
    assert round(today, 2) == 17.09 and round(actual["savings_vs_actual_usd_per_day"], 2) == 12.07


def test_workbook_has_the_chargeback_sheet_with_its_chart(tmp_path):
    import zipfile

    from openpyxl import load_workbook

    book_path = tmp_path / "plan.xlsx"
    result = runner.invoke(
        app, ["optimize", "--actual", "examples/actual/routing.csv", "-f", "xlsx", "-o", str(book_path)]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(runner.invoke(app, ["optimize", "--actual", "examples/actual/routing.csv", "-f", "json"]).stdout)
    book = load_workbook(book_path)
    assert book.sheetnames[:2] == ["Summary", "Chargeback"]
    rows = list(book["Chargeback"].iter_rows(min_row=2, values_only=True))
    departments = [r for r in rows if r[1] == "(all roles)"]
    total = next(r for r in rows if r[0] == "TOTAL")
    assert sum(r[2] for r in departments) == pytest.approx(plan["actual"]["actual_usd_per_day"], rel=1e-12)
    assert total[2] == plan["actual"]["actual_usd_per_day"] and total[3] == plan["totals"]["optimal_usd_per_day"]
    roles = [r for r in rows if r[1] not in (None, "(all roles)")]
    assert len(roles) == len(plan["actual"]["roles"])
    assert sum(r[2] for r in roles) == pytest.approx(plan["actual"]["actual_usd_per_day"], rel=1e-12)
    with zipfile.ZipFile(book_path) as package:
        charts = [package.read(n).decode() for n in package.namelist() if n.startswith("xl/charts/chart")]
    assert any("Chargeback!$C$2" in c and "Chargeback!$D$2" in c for c in charts)
