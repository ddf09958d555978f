"""The budget frontier (issue 4 item 1, "and, with budgets, the budget"): every budget scaled by a factor,
re-optimised for quality. Expected figures are worked out by hand in the comments."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest
from typer.testing import CliRunner

from router_opt.analyses.budget_frontier import default_factors, frontier_by_budget
from router_opt.cli import app
from router_opt.errors import RouterOptError
from router_opt.models import Policy
from router_opt.plan import Inputs, load_inputs
from router_opt.report.analyses import render_analysis

from .helpers import make_catalog, make_workload, random_instance

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "constraints"


def _two_departments(policy: Policy) -> Inputs:
    """As tests/test_constraints.py `budget_case`: departments A and B, one task each (1,000 calls x
    1,000 tokens = 1 Mtok/day); the cheap model (q 80) costs $1/day for the task, the good one (q 90)
    $3/day. With budget b a department buys share s = (b - 1) / 2 of the good model, clipped to
    [0, 1], and quality 80 + 10 s."""
    catalog = make_catalog(
        [{"id": "good", "input": 3.0, "quality": {"x": 90}}, {"id": "cheap", "input": 1.0, "quality": {"x": 80}}]
    )
    rows = [
        {
            "department": d,
            "task": "t",
            "task_type": "x",
            "invocations_per_day": 1000,
            "input_tokens": 1000,
            "output_tokens": 0,
            "min_quality": 70,
        }
        for d in ("A", "B")
    ]
    return Inputs(catalog, make_workload(rows), policy, "c", "w", "p")


def _share(budget: float) -> float:
    return min(max((budget - 1) / 2, 0.0), 1.0)


def test_two_departments_by_hand():
    # Budgets A $2, B $4. Factors 0.25 .. 2:
    #   0.25: A $0.50 < $1 (the cheapest plan) -> no plan; skipped
    #   0.5:  A $1 -> s 0    q 80;   B $2 -> s 0.5 q 85;   plan q 82.5, $3
    #   1:    A $2 -> s 0.5  q 85;   B $4 -> s 1   q 90;   plan q 87.5, $5
    #   1.25: A $2.5 -> s .75 q 87.5; B $5 -> s 1  q 90;   plan q 88.75, $5.5
    #   1.5:  A $3 -> s 1    q 90;   B $6 -> s 1   q 90;   plan q 90, $6
    #   2:    as 1.5 (the cheapest best plan spends $3 each)
    inputs = _two_departments(Policy(budgets_usd_per_day={"A": 2.0, "B": 4.0}))
    result = frontier_by_budget(inputs, factors=[2, 0.25, 0.5, 1, 1.25, 1.5])
    assert [s.factor for s in result.skipped] == [0.25]
    assert "budget of A" in result.skipped[0].reason
    assert [p.factor for p in result.points] == [0.5, 1, 1.25, 1.5, 2]
    for p in result.points:
        a, b = 2.0 * p.factor, 4.0 * p.factor
        qa, qb = 80 + 10 * _share(a), 80 + 10 * _share(b)
        assert p.quality_by_department == pytest.approx({"A": qa, "B": qb}, rel=1e-6)
        assert p.plan_quality == pytest.approx((qa + qb) / 2, rel=1e-6)
        assert p.quality_retained == pytest.approx((qa + qb) / 2 / 90, rel=1e-6)  # baseline: good, q 90
        assert p.usd_per_day_by_department == pytest.approx({"A": min(a, 3.0), "B": min(b, 3.0)}, rel=1e-6)
        assert p.budget_usd_per_day == pytest.approx(a + b)
    assert [p.plan_quality for p in result.points] == pytest.approx([82.5, 87.5, 88.75, 90, 90], rel=1e-6)
    assert result.points[0].binding_budgets == ("A", "B")
    assert result.points[1].binding_budgets == ("A",)


def test_default_grid_runs_from_fit_to_slack():
    # Cheapest plan $1 each: fits from max(1/2, 1/4) = 0.5. Best plan $3 each: binds until
    # max(3/2, 3/4) = 1.5. Factor 1 (the policy's own budgets) joins the grid.
    inputs = _two_departments(Policy(budgets_usd_per_day={"A": 2.0, "B": 4.0}))
    assert default_factors(inputs) == pytest.approx((0.5, 1.5))
    result = frontier_by_budget(inputs, points=5)
    assert result.fits_from_factor == pytest.approx(0.5) and result.binds_until_factor == pytest.approx(1.5)
    assert len(result.points) == 6 and not result.skipped and 1.0 in result.requested_factors
    assert result.points[0].plan_quality == pytest.approx(82.5, rel=1e-6)
    assert result.points[-1].plan_quality == pytest.approx(90, rel=1e-6)
    qualities = [p.plan_quality for p in result.points]
    assert all(b >= a - 1e-6 for a, b in pairwise(qualities))


def test_total_budget_only_by_hand():
    # Total budget T over both departments, $2..$6: the spend above $2 buys good-model share at $2
    # per share point for either task; plan quality 80 + 10 (T - 2) / 4. T = $4 -> factors 0.5..1.5
    # give T = 2, 3, 4, 6 -> 80, 82.5, 85, 90.
    inputs = _two_departments(Policy(total_budget_usd_per_day=4.0))
    assert default_factors(inputs) == pytest.approx((0.5, 1.5))
    result = frontier_by_budget(inputs, factors=[0.5, 0.75, 1, 1.5])
    assert [p.budget_usd_per_day for p in result.points] == pytest.approx([2, 3, 4, 6])
    assert [p.plan_quality for p in result.points] == pytest.approx([80, 82.5, 85, 90], rel=1e-6)
    assert result.points[1].binding_budgets == ("total",)


def test_needs_budgets():
    with pytest.raises(RouterOptError, match="sets no budget"):
        frontier_by_budget(_two_departments(Policy()))


@pytest.mark.parametrize("seed", range(6))
def test_more_budget_never_lowers_quality(seed):
    catalog, workload, policy = random_instance(seed)
    departments = sorted({t.department for t in workload.tasks})
    policy = policy.model_copy(update={"budgets_usd_per_day": {d: 1.0 for d in departments}})
    inputs = Inputs(catalog, workload, policy, "c", "w", "p")
    try:
        result = frontier_by_budget(inputs, points=7)
    except RouterOptError as exc:  # cheapest and best plans coincide: nothing binds
        assert "no budget binds" in str(exc)
        return
    qualities = [p.plan_quality for p in result.points]
    assert all(b >= a - 1e-6 for a, b in pairwise(qualities)), qualities
    assert not result.skipped  # the grid starts where the cheapest plan fits


def test_example_is_monotone_and_renders():
    inputs = load_inputs(EXAMPLES / "catalog.yaml", EXAMPLES / "workload.csv", EXAMPLES / "budget.yaml")
    result = frontier_by_budget(inputs)
    # Cheapest plan: Engineering $2 of its $3 -> fits from 2/3; best plan: Engineering $55 -> 55/3.
    assert result.fits_from_factor == pytest.approx(2 / 3) and result.binds_until_factor == pytest.approx(55 / 3)
    qualities = [p.plan_quality for p in result.points]
    assert all(b >= a - 1e-6 for a, b in pairwise(qualities))
    at_one = next(p for p in result.points if p.factor == 1.0)
    assert at_one.binding_budgets == ("Engineering",)  # as README's optimize --objective quality example
    assert at_one.usd_per_day_by_department["Engineering"] == pytest.approx(3.0, rel=1e-6)
    assert "Budget frontier" in render_analysis(result, "markdown")
    assert json.loads(render_analysis(result, "json"))["analysis"] == "budget_frontier"


def test_cli():
    runner = CliRunner()
    args = [
        "frontier-budget",
        "-c",
        str(EXAMPLES / "catalog.yaml"),
        "-w",
        str(EXAMPLES / "workload.csv"),
        "-p",
        str(EXAMPLES / "budget.yaml"),
    ]
    table = runner.invoke(app, args)
    assert table.exit_code == 0, table.output
    assert "Budget frontier" in table.output and "Engineering" in table.output
    data = json.loads(runner.invoke(app, [*args, "--factors", "0.5,1,2", "--format", "json"]).output)
    assert [p["factor"] for p in data["points"]] == [1.0, 2.0]
    assert data["skipped"][0]["factor"] == 0.5
    no_budget = runner.invoke(app, args[:5])
    assert no_budget.exit_code == 2 and "sets no budget" in no_budget.output


def test_frontier_budget_runs_with_no_arguments():
    """Without --policy it uses the bundled example budgets for the bundled workload."""
    from typer.testing import CliRunner

    from router_opt.cli import app

    result = CliRunner().invoke(app, ["frontier-budget", "--format", "json"])
    assert result.exit_code == 0, result.output
    import json

    points = json.loads(result.output)["points"]
    qualities = [p["plan_quality"] for p in points]
    assert qualities == sorted(qualities) and len(points) >= 2
