"""The decomposition seen from outside the solver: its optimality proof in the JSON result, and
frontier and trajectory sweeps that warm-start each point from the previous point's prices."""

from __future__ import annotations

import dataclasses
import json

import pytest

from router_opt.analyses.frontier import frontier
from router_opt.analyses.trajectory import PriceTrajectory, TierTrajectory, trajectory
from router_opt.engine import decompose, solve
from router_opt.frame import build_problem
from router_opt.models import Policy
from router_opt.plan import Inputs, optimize_inputs
from router_opt.report import render

from .helpers import random_instance
from .test_constraints import with_models


@pytest.fixture(scope="module")
def capacitated() -> Inputs:
    """300 tasks whose cheap models get half the traffic the uncapacitated optimum sends them: many
    capacity rows bind, so the decomposition has prices to find."""
    catalog, workload, _ = random_instance(7, n_tasks=300, n_models=8)
    problem = build_problem(catalog, workload, Policy())
    free = solve(problem, solver="highspy")
    mtok = problem.tasks["tokens_per_day"] / 1e6
    load = (free.shares * mtok[:, None]).sum(axis=0)
    limits = {
        m.id: {"capacity_mtok_per_day": float(load[i] * 0.5)} for i, m in enumerate(catalog.models) if i and load[i] > 0
    }
    return Inputs(with_models(catalog, **limits), workload, Policy(), "catalog", "workload", "policy")


def test_the_json_result_carries_the_decompositions_proof(capacitated):
    full = optimize_inputs(capacitated, solver="highspy")
    mine = optimize_inputs(capacitated, solver="decompose")
    assert mine.totals.optimal_usd_per_day == pytest.approx(full.totals.optimal_usd_per_day, rel=1e-9)
    solve_info = json.loads(render(mine, "json"))["solve"]
    assert solve_info["method"] == "decomposition"
    assert 0 <= solve_info["proof_max_violation_usd_per_day"] <= 1e-9 * mine.totals.optimal_usd_per_day
    assert abs(solve_info["proof_gap_usd_per_day"]) <= 1e-9 * mine.totals.optimal_usd_per_day
    assert solve_info["decomposition_rounds"] >= 1 and 0 <= solve_info["restricted_tasks"] <= 300
    assert "coupling_prices" not in solve_info  # internal: kept on the object for sweeps only
    assert mine.solve.coupling_prices is not None and min(mine.solve.coupling_prices) >= 0
    assert "proved optimal at the final prices" in render(mine, "markdown")
    assert "proved optimal" not in render(full, "markdown")
    plain = json.loads(render(full, "json"))["solve"]
    assert plain["method"] == "full LP" and plain["proof_max_violation_usd_per_day"] is None


@pytest.fixture
def start_prices_seen(monkeypatch) -> list:
    seen = []
    original = decompose.solve_decomposed

    def spy(*args, **kwargs):
        seen.append(kwargs.get("start_prices"))
        return original(*args, **kwargs)

    monkeypatch.setattr(decompose, "solve_decomposed", spy)
    return seen


def _frontier_figures(curve):
    return [(p.min_quality, p.optimal_usd_per_day, p.plan_quality) for p in curve.points]


def test_frontier_warm_start_gives_the_cold_and_full_lp_curve(capacitated, start_prices_seen):
    # The sweep sets the bar of rows without their own: take the rows' bars away.
    workload = capacitated.workload
    unbarred = workload.model_copy(
        update={"tasks": tuple(t.model_copy(update={"min_quality": None}) for t in workload.tasks)}
    )
    capacitated = dataclasses.replace(capacitated, workload=unbarred)
    warm = frontier(capacitated, points=5, solver="decompose")
    assert start_prices_seen[0] is None and all(p is not None for p in start_prices_seen[1:])
    start_prices_seen.clear()
    cold = frontier(capacitated, points=5, solver="decompose", warm_start=False)
    assert all(p is None for p in start_prices_seen)
    full = frontier(capacitated, points=5, solver="highspy")
    assert len(warm.points) == len(cold.points) == len(full.points) >= 2
    for a, b, c in zip(_frontier_figures(warm), _frontier_figures(cold), _frontier_figures(full)):
        assert a[0] == b[0] == c[0]
        assert a[1] == pytest.approx(c[1], rel=1e-9) and b[1] == pytest.approx(c[1], rel=1e-9)


def test_trajectory_warm_start_gives_the_full_lp_rows(capacitated, start_prices_seen):
    tiers = sorted({str(m.tier) for m in capacitated.catalog.models})
    # Every tier halves in price each year: plans stay comparable and the prices move.
    prices = PriceTrajectory(
        name="halving",
        tiers=[TierTrajectory(tier=t, annual_decline=0.5, source="test") for t in tiers],
    )
    years = range(2025, 2028)
    warm = trajectory(capacitated, prices=prices, years=years, base_year=2025, solver="decompose")
    assert start_prices_seen[0] is None and all(p is not None for p in start_prices_seen[1:])
    full = trajectory(capacitated, prices=prices, years=years, base_year=2025, solver="highspy")
    for a, b in zip(warm.rows, full.rows, strict=True):
        assert a.optimal_usd_per_day == pytest.approx(b.optimal_usd_per_day, rel=1e-9)
    # Halving every price halves the plan's cost: an independent check of the repricing.
    assert full.rows[1].optimal_usd_per_day == pytest.approx(full.rows[0].optimal_usd_per_day / 2, rel=1e-9)
