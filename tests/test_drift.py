"""`router-opt drift plan.json logs...`: the logs' routing against a saved plan, checked against the
log's requests counted and priced here one by one."""

from __future__ import annotations

import csv
import json
from collections import Counter, defaultdict

import pytest
from typer.testing import CliRunner

from router_opt.cli import app

from .test_from_logs import COLUMNS, DAYS, log_rows

runner = CliRunner()
PRICES = {"large": (3.0, 15.0), "small": (0.15, 0.6), "coder": (0.5, 1.5)}
CATALOG = (
    "name: logs\nprices_as_of: 2025-06-01\nbaseline: large\nmodels:\n"
    "  - {id: large, tier: Commercial Large, provider: A, input_usd_per_mtok: 3, output_usd_per_mtok: 15,"
    " quality: {classification: 95, faq: 95, summarization: 95, code_generation: 95}}\n"
    "  - {id: small, tier: Commercial Small, provider: B, input_usd_per_mtok: 0.15, output_usd_per_mtok: 0.6,"
    " quality: {classification: 90, faq: 88, summarization: 80, code_generation: 70}}\n"
    "  - {id: coder, tier: Specialist, provider: C, input_usd_per_mtok: 0.5, output_usd_per_mtok: 1.5,"
    " quality: {code_generation: 93}}\n"
)


@pytest.fixture
def plan_and_logs(tmp_path):
    rows = log_rows()
    log = tmp_path / "log.csv"
    with log.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    workload = tmp_path / "w.csv"
    assert runner.invoke(app, ["workload", "from-logs", str(log), "-o", str(workload)]).exit_code == 0
    plan = tmp_path / "plan.json"
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        "min_quality_by_task_type: {classification: 85, faq: 85, summarization: 85, code_generation: 90}\n"
    )
    made = runner.invoke(
        app, ["optimize", "-c", str(catalog), "-w", str(workload), "-p", str(policy), "-f", "json", "-o", str(plan)]
    )
    assert made.exit_code == 0, made.output
    return plan, log, rows


def test_drift_against_requests_counted_by_hand(plan_and_logs):
    plan_path, log, rows = plan_and_logs
    rows = [r for r in rows if r["user"]]  # the generator's row without a user is skipped by the reader
    result = runner.invoke(app, ["drift", str(plan_path), str(log), "-f", "json"])
    assert result.exit_code == 0, result.output
    drift = json.loads(result.stdout)
    plan = json.loads(plan_path.read_text())
    planned = defaultdict(dict)
    for a in plan["assignments"]:
        planned[(a["department"], a["role"], a["task_type"])][a["model"]] = a["share"]
    counts = defaultdict(Counter)
    spend = defaultdict(float)
    tokens = defaultdict(lambda: [0, 0, 0])
    for r in rows:
        key = (r["department"], r["role"], r["task_type"])
        counts[key][r["model"]] += 1
        p_in, p_out = PRICES[r["model"]]
        spend[key] += (int(r["input_tokens"]) * p_in + int(r["output_tokens"]) * p_out) / 1e6 / DAYS
        tokens[key][0] += int(r["input_tokens"])
        tokens[key][1] += int(r["output_tokens"])
        tokens[key][2] += 1
    by_task = {(t["department"], t["role"], t["task"]): t for t in drift["tasks"]}
    assert len(by_task) == len(counts)
    leaked_total = 0.0
    for key, counter in counts.items():
        total = sum(counter.values())
        off = sum(max(0.0, n / total - planned[key].get(m, 0.0)) for m, n in counter.items())
        row = by_task[key]
        assert row["off_plan_share"] == pytest.approx(off, abs=1e-9), key
        assert row["requests_per_day"] == pytest.approx(total / DAYS, rel=1e-12)
        mean_in, mean_out = tokens[key][0] / tokens[key][2], tokens[key][1] / tokens[key][2]
        as_planned = sum(
            total / DAYS * s * (mean_in * PRICES[m][0] + mean_out * PRICES[m][1]) / 1e6 for m, s in planned[key].items()
        )
        # from-logs keeps whole mean tokens per model: a few parts in a thousand at most here.
        assert row["actual_usd_per_day"] == pytest.approx(spend[key], rel=3e-3), key
        assert row["planned_usd_per_day"] == pytest.approx(as_planned, rel=3e-3), key
        leaked_total += spend[key] - as_planned
        assert set(row["unplanned_models"]) == set(counter) - set(planned[key])
    assert drift["leaked_usd_per_day"] == pytest.approx(leaked_total, rel=3e-3, abs=1e-6)
    # The log sends code generation to large 80% of the time, which the plan (coder) does not.
    code = by_task[("Engineering", "Developer", "code_generation")]
    assert code["off_plan_share"] > 0.5 and code["leaked_usd_per_day"] > 0


def test_drift_names_models_and_tasks_outside_the_plan(plan_and_logs, tmp_path):
    plan_path, _, rows = plan_and_logs
    extra = [dict(r) for r in rows[:50]]
    for r in extra:
        r["model"] = "shadow-model"
    extra += [dict(rows[0], department="Finance", role="Analyst", user="f1")]
    log = tmp_path / "more.csv"
    with log.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows + extra)
    result = runner.invoke(app, ["drift", str(plan_path), str(log), "-f", "json"])
    assert result.exit_code == 0, result.output
    drift = json.loads(result.stdout)
    assert drift["models_outside_plan"] == ["shadow-model"]
    assert drift["unmatched_log_tasks"] == [f"Finance / Analyst / {rows[0]['task_type']}"]
    assert any(t["unpriced_share"] > 0 for t in drift["tasks"])
    table = runner.invoke(app, ["drift", str(plan_path), str(log)])
    assert "Off-plan share of requests" in table.stdout and "shadow-model" in table.stdout
