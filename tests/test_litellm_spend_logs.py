"""A LiteLLM spend-log export (its SpendLogs columns, as the proxy's database or `/spend/logs` gives
them) through `workload from-logs` -> `optimize --actual` -> `drift`, end to end: departments from
request tags or the key's team, roles from tags or the key alias, task types from `task:` tags, the
model clients called (`model_group`), and billed spend compared with the catalog's prices, where one
model's bill carries a planted 20% discount."""

from __future__ import annotations

import csv
import json
import random
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from router_opt.cli import app

runner = CliRunner()
DAYS = 5
PRICES = {"gpt-large": (2.5, 10.0), "gpt-small": (0.15, 0.6), "claude-mid": (3.0, 15.0)}
DISCOUNTED = "claude-mid"  # billed at 80% of list: the catalog does not know the contract
COLUMNS = [
    "request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
    "startTime", "endTime", "completionStartTime", "model", "model_id", "model_group", "custom_llm_provider",
    "api_base", "user", "metadata", "cache_hit", "cache_key", "request_tags", "team_id", "end_user",
    "requester_ip_address", "status",
]  # fmt: skip
# department (by tag, or by the key's team alias), role (by tag or key alias), users, task types and
# how each task is routed today
TEAMS = [
    ("Support", "Agent", [f"agent{i}" for i in range(6)], {"classification": {"gpt-small": 0.6, "gpt-large": 0.4},
                                                          "faq": {"gpt-large": 1.0}}),
    ("Legal", "Counsel", [f"counsel{i}" for i in range(3)], {"legal_analysis": {"claude-mid": 0.7, "gpt-large": 0.3}}),
]  # fmt: skip
CATALOG = """\
name: litellm-export
prices_as_of: 2025-06-01
baseline: gpt-large
models:
  - {id: gpt-large, tier: Commercial Large, provider: OpenAI, input_usd_per_mtok: 2.5, output_usd_per_mtok: 10,
     quality: {classification: 95, faq: 94, legal_analysis: 92}}
  - {id: gpt-small, tier: Commercial Small, provider: OpenAI, input_usd_per_mtok: 0.15, output_usd_per_mtok: 0.6,
     quality: {classification: 91, faq: 88, legal_analysis: 70}}
  - {id: claude-mid, tier: Commercial Large, provider: Anthropic, input_usd_per_mtok: 3, output_usd_per_mtok: 15,
     quality: {classification: 95, faq: 95, legal_analysis: 95}}
"""


def _export(path, seed: int = 3) -> list[dict]:
    """A spend-log export: one row per request over DAYS days. Half of the departments come from a
    `department:` tag, the other half only from the key's team alias in metadata."""
    rng = random.Random(seed)
    start = datetime(2025, 5, 5, 8, tzinfo=UTC)
    rows = []
    for day in range(DAYS):
        for department, role, users, tasks in TEAMS:
            for user in users:
                for task_type, routes in tasks.items():
                    for _ in range(rng.randint(8, 14)):
                        model = rng.choices(list(routes), weights=list(routes.values()))[0]
                        prompt, completion = rng.randint(200, 3000), rng.randint(20, 800)
                        p_in, p_out = PRICES[model]
                        spend = (prompt * p_in + completion * p_out) / 1e6
                        if model == DISCOUNTED:
                            spend *= 0.8
                        when = start + timedelta(days=day, seconds=rng.randint(0, 36000))
                        by_tag = department == "Support"
                        tags = [f"task:{task_type}"] + ([f"department:{department}", f"role:{role}"] if by_tag else [])
                        metadata = {"user_api_key_team_alias": department, "user_api_key_alias": role,
                                    "user_api_key_user_id": user}  # fmt: skip
                        rows.append(
                            {
                                "request_id": str(uuid.UUID(int=rng.getrandbits(128))),
                                "call_type": "acompletion",
                                "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
                                "spend": repr(spend),
                                "total_tokens": prompt + completion,
                                "prompt_tokens": prompt,
                                "completion_tokens": completion,
                                "startTime": when.isoformat(),
                                "endTime": (when + timedelta(seconds=2)).isoformat(),
                                "completionStartTime": (when + timedelta(seconds=1)).isoformat(),
                                "model": {"gpt-large": "gpt-4o", "gpt-small": "gpt-4o-mini"}.get(
                                    model, "claude-sonnet-4"
                                ),
                                "model_id": f"deployment-{model}",
                                "model_group": model,
                                "custom_llm_provider": "openai" if model.startswith("gpt") else "anthropic",
                                "api_base": "",
                                "user": user,
                                "metadata": json.dumps(metadata),
                                "cache_hit": "False",
                                "cache_key": "",
                                "request_tags": json.dumps(tags),
                                "team_id": f"team-{department.lower()}",
                                "end_user": "",
                                "requester_ip_address": "",
                                "status": "success",
                            }
                        )
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def test_spend_log_to_actual_to_drift(tmp_path):
    log = tmp_path / "spend-logs.csv"
    rows = _export(log)
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    workload, routing = tmp_path / "workload.csv", tmp_path / "routing.csv"
    made = runner.invoke(
        app, ["workload", "from-logs", str(log), "-o", str(workload), "--current-routing", str(routing)]
    )
    assert made.exit_code == 0, made.output
    with workload.open() as handle:
        tasks = {(r["department"], r["role"], r["task_type"]): r for r in csv.DictReader(handle)}
    assert set(tasks) == {("Support", "Agent", "classification"), ("Support", "Agent", "faq"),
                          ("Legal", "Counsel", "legal_analysis")}  # fmt: skip
    assert tasks[("Support", "Agent", "faq")]["headcount"] == "6"
    assert tasks[("Legal", "Counsel", "legal_analysis")]["headcount"] == "3"

    result = runner.invoke(
        app, ["optimize", "-c", str(catalog), "-w", str(workload), "--actual", str(routing), "-f", "json"]
    )
    assert result.exit_code == 0, result.output
    plan = json.loads(result.stdout)
    actual = plan["actual"]
    # Today's $/day: every request priced at list price, per department, over the log's days.
    listed: dict[str, float] = {}
    billed: dict[str, float] = {}
    for r in rows:
        p_in, p_out = PRICES[r["model_group"]]
        department = "Support" if r["user"].startswith("agent") else "Legal"
        listed[department] = (
            listed.get(department, 0.0) + (r["prompt_tokens"] * p_in + r["completion_tokens"] * p_out) / 1e6 / DAYS
        )
        billed[r["model_group"]] = billed.get(r["model_group"], 0.0) + float(r["spend"]) / DAYS
    for d in actual["departments"]:
        assert d["actual_usd_per_day"] == pytest.approx(listed[d["department"]], rel=1e-9)
    assert actual["billed_usd_per_day"] == pytest.approx(sum(billed.values()), rel=1e-9)
    by_model = {b["model"]: b for b in actual["billing"]}
    assert set(by_model) == set(PRICES)
    for model, row in by_model.items():
        assert row["billed_usd_per_day"] == pytest.approx(billed[model], rel=1e-9)
        assert row["flagged"] is (model == DISCOUNTED), model
    assert by_model[DISCOUNTED]["difference_share"] == pytest.approx(-0.2, rel=1e-6)
    table = runner.invoke(app, ["optimize", "-c", str(catalog), "-w", str(workload), "--actual", str(routing)])
    assert "Billed vs catalog-priced" in table.stdout and "CHECK" in table.stdout

    saved = tmp_path / "plan.json"
    saved.write_text(result.stdout)
    drift = runner.invoke(app, ["drift", str(saved), str(log), "-f", "json"])
    assert drift.exit_code == 0, drift.output
    report = json.loads(drift.stdout)
    assert report["unmatched_log_tasks"] == []
    plan_models = {a["model"] for a in plan["assignments"]}
    assert report["models_outside_plan"] == sorted({r["model_group"] for r in rows} - plan_models)
    planned = {(a["department"], a["role"], a["task_type"]): {} for a in plan["assignments"]}
    for a in plan["assignments"]:
        planned[(a["department"], a["role"], a["task_type"])][
            a["model_group"] if "model_group" in a else a["model"]
        ] = a["share"]
    counts: dict[tuple, dict[str, int]] = {}
    for r in rows:
        department, role = ("Support", "Agent") if r["user"].startswith("agent") else ("Legal", "Counsel")
        task_type = json.loads(r["request_tags"])[0].removeprefix("task:")
        counts.setdefault((department, role, task_type), {}).setdefault(r["model_group"], 0)
        counts[(department, role, task_type)][r["model_group"]] += 1
    by_task = {(t["department"], t["role"], t["task"]): t for t in report["tasks"]}
    for key, per_model in counts.items():
        total = sum(per_model.values())
        off = sum(max(0.0, n / total - planned[key].get(m, 0.0)) for m, n in per_model.items())
        assert by_task[key]["off_plan_share"] == pytest.approx(off, abs=1e-9), key
