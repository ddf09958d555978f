"""`router-opt diff` lists every task whose routing changed, with its $/day and quality change,
checked against the two plans' own task rows and assignments."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from router_opt.cli import app

runner = CliRunner()


def _routes(plan: dict) -> dict[tuple, dict[str, float]]:
    out: dict[tuple, dict[str, float]] = {}
    for a in plan["assignments"]:
        out.setdefault((a["department"], a["role"], a["task"]), {})[a["model"]] = a["share"]
    return out


def test_diff_lists_the_tasks_that_changed(tmp_path):
    old, new = tmp_path / "strict.json", tmp_path / "blended.json"
    assert runner.invoke(app, ["optimize", "-f", "json", "-o", str(old)]).exit_code == 0
    assert runner.invoke(app, ["optimize", "-f", "json", "--mode", "blended", "-o", str(new)]).exit_code == 0
    a, b = json.loads(old.read_text()), json.loads(new.read_text())
    before, after = _routes(a), _routes(b)
    changed = {
        key
        for key in before
        if before[key].keys() != after[key].keys()
        or any(abs(before[key][m] - after[key][m]) > 1e-9 for m in before[key])
    }
    assert changed  # blended mixes models on some tasks
    data = json.loads(runner.invoke(app, ["diff", str(old), str(new), "-f", "json"]).stdout)
    listed = {(t["department"], t["role"], t["task"]): t for t in data["tasks"]}
    assert set(listed) == changed
    old_tasks = {(t["department"], t["role"], t["task"]): t for t in a["tasks"]}
    new_tasks = {(t["department"], t["role"], t["task"]): t for t in b["tasks"]}
    for key, row in listed.items():
        assert row["delta_usd_per_day"] == pytest.approx(new_tasks[key]["usd_per_day"] - old_tasks[key]["usd_per_day"])
        assert row["delta_quality"] == pytest.approx(new_tasks[key]["quality"] - old_tasks[key]["quality"])
    deltas = [abs(t["delta_usd_per_day"]) for t in data["tasks"]]
    assert deltas == sorted(deltas, reverse=True)
    table = runner.invoke(app, ["diff", str(old), str(new)]).stdout
    assert "Tasks whose routing changed" in table
    same = json.loads(runner.invoke(app, ["diff", str(old), str(old), "-f", "json"]).stdout)
    assert same["tasks"] == []
