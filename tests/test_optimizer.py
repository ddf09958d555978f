"""The LP against independent answers: the per-task closed form (strict mode) and scipy's HiGHS
`linprog` on the same LP written out densely (blended mode)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import linprog

from router_opt.engine import cheapest_eligible, solve
from router_opt.errors import InfeasibleError
from router_opt.frame import Mode, build_problem
from router_opt.models import Policy

from .helpers import make_workload, random_instance

SEEDS = range(60)


@pytest.mark.parametrize("seed", SEEDS)
def test_strict_lp_equals_per_task_argmin(seed):
    catalog, workload, policy = random_instance(seed)
    problem = build_problem(catalog, workload, policy, Mode.STRICT)
    lp = solve(problem)
    oracle = cheapest_eligible(problem)
    oracle_cost = float((oracle * problem.usd_per_day).sum())
    lp_cost = float((lp.shares * problem.usd_per_day).sum())
    assert lp_cost == pytest.approx(oracle_cost, rel=1e-9, abs=1e-12)
    assert lp.objective_usd_per_day == pytest.approx(oracle_cost, rel=1e-9, abs=1e-12)
    # Every strict-mode share sits on a model that meets the task's bar, and each task sums to 1.
    assert np.all(lp.shares[~problem.eligible] == 0)
    assert np.allclose(lp.shares.sum(axis=1), 1.0)
    # The baseline meets every bar in these instances, so the plan can never cost more.
    assert lp_cost <= problem.baseline_usd_per_day.sum() * (1 + 1e-12)


def _scipy_blended_cost(problem) -> float:
    """The blended LP written as dense matrices, solved by scipy (an independent build)."""
    n_tasks, n_models = problem.eligible.shape
    cost = np.where(problem.eligible, problem.usd_per_day, 0.0).ravel()
    bounds = [(0, None) if e else (0, 0) for e in problem.eligible.ravel()]
    a_eq = np.kron(np.eye(n_tasks), np.ones(n_models))
    quality = np.nan_to_num(problem.quality, nan=0.0)
    a_ub = -np.zeros((n_tasks, n_tasks * n_models))
    for t in range(n_tasks):
        a_ub[t, t * n_models : (t + 1) * n_models] = -quality[t]
    b_ub = -problem.tasks["min_quality"]
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=np.ones(n_tasks), bounds=bounds, method="highs")
    assert res.status == 0, res.message
    return float(res.fun)


@pytest.mark.parametrize("seed", range(25))
def test_blended_matches_scipy_and_never_costs_more_than_strict(seed):
    catalog, workload, policy = random_instance(1000 + seed)
    strict = build_problem(catalog, workload, policy, Mode.STRICT)
    blended = build_problem(catalog, workload, policy, Mode.BLENDED)
    strict_cost = float((solve(strict).shares * strict.usd_per_day).sum())
    plan = solve(blended)
    blended_cost = float((plan.shares * blended.usd_per_day).sum())
    assert blended_cost <= strict_cost * (1 + 1e-9) + 1e-12
    assert blended_cost == pytest.approx(_scipy_blended_cost(blended), rel=1e-7, abs=1e-10)
    # Each task's share-weighted quality meets its bar (on average, which is what blended promises).
    achieved = (plan.shares * np.nan_to_num(blended.quality)).sum(axis=1)
    assert np.all(achieved >= blended.tasks["min_quality"] - 1e-6)


def test_unservable_tasks_are_named_with_their_best_offer(tiny_catalog):
    workload = make_workload(
        [
            {
                "task": "fine",
                "task_type": "general",
                "invocations_per_day": 1,
                "input_tokens": 10,
                "output_tokens": 10,
                "min_quality": 80,
            },
            {
                "task": "too hard",
                "task_type": "general",
                "invocations_per_day": 1,
                "input_tokens": 10,
                "output_tokens": 10,
                "min_quality": 95,
            },
            {
                "task": "no coder",
                "task_type": "code",
                "invocations_per_day": 1,
                "input_tokens": 10,
                "output_tokens": 10,
                "min_quality": 93,
            },
        ]
    )
    for mode in Mode:
        with pytest.raises(InfeasibleError) as caught:
            build_problem(tiny_catalog, workload, Policy(), mode)
        tasks = {t.task: t for t in caught.value.tasks}
        assert set(tasks) == {"too hard", "no coder"}
        assert (tasks["too hard"].min_quality, tasks["too hard"].best_quality, tasks["too hard"].best_model) == (
            95,
            90,
            "large",
        )
        assert (tasks["no coder"].best_quality, tasks["no coder"].best_model) == (92, "large")
        message = str(caught.value)
        assert "too hard [general]: needs quality >= 95, best on offer 90 (large)" in message
        assert "no coder [code]: needs quality >= 93, best on offer 92 (large)" in message


def test_cbc_and_highs_agree():
    catalog, workload, policy = random_instance(7, n_tasks=30, n_models=6)
    problem = build_problem(catalog, workload, policy, Mode.BLENDED)
    highs, cbc = solve(problem, "highs"), solve(problem, "cbc")
    assert "HiGHS" in highs.solver and "CBC" in cbc.solver
    assert highs.objective_usd_per_day == pytest.approx(cbc.objective_usd_per_day, rel=1e-6)
