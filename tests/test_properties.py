"""Invariants of the optimizer, checked with hypothesis on small random catalogs and workloads.

Derandomized (a fixed seed per test) with a bounded number of examples and no deadline, so CI runs
the same cases every time; the whole file runs in well under 30 s."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router_opt.engine import cheapest_eligible, solve
from router_opt.errors import InfeasibleError
from router_opt.frame import Mode, build_problem
from router_opt.models import Policy

from .helpers import make_catalog, make_workload

PROPERTY = settings(
    derandomize=True, max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)
MODES = st.sampled_from([Mode.STRICT, Mode.BLENDED])
# Prices away from the subnormal range, so that scaling by a power of two is exact.
PRICE = st.one_of(st.just(0.0), st.floats(min_value=0.001, max_value=60.0, allow_nan=False, allow_infinity=False))
QUALITY = st.integers(min_value=30, max_value=100).map(float)
THRESHOLD = st.one_of(st.none(), st.floats(min_value=0.0, max_value=100.0).map(lambda q: round(q, 1)))


@st.composite
def instances(draw, baseline_best: bool = True, own_thresholds: bool = True):
    """(models, rows): catalog model dicts and workload rows for `make_catalog` / `make_workload`.
    With `baseline_best`, the baseline (models[0]) rates every task type at 100, so it meets every
    bar on [0, 100] and every task is servable."""
    n_types = draw(st.integers(1, 3))
    types = [f"type{k}" for k in range(n_types)]
    n_models = draw(st.integers(2, 5))
    models = []
    for j in range(n_models):
        rated = types if j == 0 else draw(st.lists(st.sampled_from(types), min_size=1, max_size=n_types, unique=True))
        quality = {t: (100.0 if j == 0 and baseline_best else draw(QUALITY)) for t in rated}
        models.append({"id": f"m{j}", "input": draw(PRICE), "output": draw(PRICE), "quality": quality})
    n_tasks = draw(st.integers(1, 6))
    headcount = {d: draw(st.integers(1, 20)) for d in ("D0", "D1")}
    rows = []
    for i in range(n_tasks):
        department = draw(st.sampled_from(["D0", "D1"]))
        row = {
            "department": department,
            "role": "R",
            "headcount": headcount[department],
            "task": f"t{i}",
            "task_type": draw(st.sampled_from(types)),
            "invocations_per_day": float(draw(st.integers(0, 500))),
            "input_tokens": draw(st.integers(0, 5000)),
            "output_tokens": draw(st.integers(0, 2000)),
        }
        if own_thresholds:
            row["min_quality"] = draw(THRESHOLD)
        rows.append(row)
    return models, rows


def plan(models, rows, mode=Mode.STRICT, min_quality=None, policy=None, baseline="m0", solver="auto"):
    problem = build_problem(
        make_catalog(models, baseline=baseline),
        make_workload(rows),
        policy or Policy(default_min_quality=50),
        mode=mode,
        min_quality=min_quality,
    )
    return problem, solve(problem, solver=solver)


def close(a: float, b: float) -> bool:
    return a == pytest.approx(b, rel=1e-7, abs=1e-9)


@PROPERTY
@given(instances(), MODES)
def test_plan_never_costs_more_than_the_baseline(instance, mode):
    problem, solution = plan(*instance, mode=mode)
    baseline = float(problem.baseline_usd_per_day.sum())
    assert solution.objective_usd_per_day <= baseline * (1 + 1e-9) + 1e-9
    assert np.allclose(solution.shares.sum(axis=1), 1.0)


@PROPERTY
@given(instances(baseline_best=False))
def test_strict_mode_equals_the_per_task_closed_form(instance):
    try:
        problem, solution = plan(*instance, mode=Mode.STRICT)
    except InfeasibleError:
        return  # some task has no model at its bar: nothing to compare
    oracle = cheapest_eligible(problem)
    lp_by_task = (solution.shares * problem.usd_per_day).sum(axis=1)
    oracle_by_task = (oracle * problem.usd_per_day).sum(axis=1)
    assert np.allclose(lp_by_task, oracle_by_task, rtol=1e-9, atol=1e-12)
    assert close(solution.objective_usd_per_day, float(oracle_by_task.sum()))
    # Where a task's cheapest eligible model is unique, the plan puts the whole task on it.
    cost = np.where(problem.eligible, problem.usd_per_day, np.inf)
    unique = (cost == cost.min(axis=1, keepdims=True)).sum(axis=1) == 1
    assert np.array_equal(solution.shares[unique] > 0.5, oracle[unique] > 0.5)


@PROPERTY
@given(instances(), MODES, st.data())
def test_raising_a_threshold_never_lowers_cost(instance, mode, data):
    models, rows = instance
    _, before = plan(models, rows, mode=mode)
    # Raise some tasks' own bars (a task without one gets the policy's 50 first), never above 100:
    # the baseline rates everything 100, so the raised problem stays feasible.
    raised = [dict(r) for r in rows]
    for row in raised:
        if data.draw(st.booleans()):
            current = 50.0 if row["min_quality"] is None else row["min_quality"]
            row["min_quality"] = min(100.0, current + data.draw(st.floats(0.0, 30.0)))
    _, after = plan(models, raised, mode=mode)
    assert after.objective_usd_per_day >= before.objective_usd_per_day * (1 - 1e-9) - 1e-9


@PROPERTY
@given(instances(own_thresholds=False), MODES, st.floats(0.0, 100.0), st.floats(0.0, 100.0))
def test_raising_min_quality_never_lowers_cost(instance, mode, a, b):
    low, high = sorted((a, b))
    _, at_low = plan(*instance, mode=mode, min_quality=low)
    _, at_high = plan(*instance, mode=mode, min_quality=high)
    assert at_high.objective_usd_per_day >= at_low.objective_usd_per_day * (1 - 1e-9) - 1e-9


@PROPERTY
@given(instances(), MODES, st.sampled_from([0.25, 0.5, 2.0, 8.0, 1024.0]))
def test_scaling_every_price_scales_cost_and_keeps_the_plan(instance, mode, k):
    """k is a power of two, so every scaled price and $/day is exact and ties stay ties."""
    models, rows = instance
    scaled = [m | {"input": m["input"] * k, "output": m["output"] * k} for m in models]
    problem, solution = plan(models, rows, mode=mode)
    scaled_problem, scaled_solution = plan(scaled, rows, mode=mode)
    assert np.array_equal(np.asarray(scaled_problem.usd_per_day), np.asarray(problem.usd_per_day) * k)
    assert close(scaled_solution.objective_usd_per_day, solution.objective_usd_per_day * k)
    assert np.allclose(scaled_solution.shares, solution.shares, atol=1e-7)


@PROPERTY
@given(instances(), MODES, st.floats(0.01, 100.0))
def test_scaling_by_any_factor_scales_cost(instance, mode, k):
    models, rows = instance
    scaled = [m | {"input": m["input"] * k, "output": m["output"] * k} for m in models]
    _, solution = plan(models, rows, mode=mode)
    _, scaled_solution = plan(scaled, rows, mode=mode)
    assert scaled_solution.objective_usd_per_day == pytest.approx(
        solution.objective_usd_per_day * k, rel=1e-6, abs=1e-9
    )


@PROPERTY
@given(instances(), MODES, st.randoms(use_true_random=False))
def test_relabelling_and_reordering_change_no_cost(instance, mode, rng):
    models, rows = instance
    problem, solution = plan(models, rows, mode=mode)
    # New ids for every model and task, then the catalog and the workload in another order.
    model_names = {m["id"]: f"model-{rng.randrange(10**6)}-{i}" for i, m in enumerate(models)}
    renamed_models = [m | {"id": model_names[m["id"]]} for m in models]
    renamed_rows = [r | {"task": f"job {rng.randrange(10**6)} {i}", "role": "Role X"} for i, r in enumerate(rows)]
    model_order = list(range(len(models)))
    task_order = list(range(len(rows)))
    rng.shuffle(model_order)
    rng.shuffle(task_order)
    shuffled_models = [renamed_models[j] for j in model_order]
    shuffled_rows = [renamed_rows[i] for i in task_order]
    other_problem, other = plan(shuffled_models, shuffled_rows, mode=mode, baseline=model_names["m0"])
    assert close(other.objective_usd_per_day, solution.objective_usd_per_day)
    assert close(float(other_problem.baseline_usd_per_day.sum()), float(problem.baseline_usd_per_day.sum()))
    # Back in the original order, each task costs the same (strict: each task is independent).
    if mode is Mode.STRICT:
        by_task = (solution.shares * problem.usd_per_day).sum(axis=1)
        other_by_task = (other.shares * other_problem.usd_per_day).sum(axis=1)
        assert np.allclose(other_by_task[np.argsort(task_order)], by_task, rtol=1e-9, atol=1e-12)
        # Where no two models tie on a task's cost, the same model (by its old id) carries it.
        cost = np.where(problem.eligible, problem.usd_per_day, np.inf)
        no_tie = (cost == cost.min(axis=1, keepdims=True)).sum(axis=1) == 1
        back = other.shares[np.argsort(task_order)][:, np.argsort(model_order)]
        assert np.allclose(back[no_tie], solution.shares[no_tie], atol=1e-7)


@PROPERTY
@given(instances(), MODES)
def test_solvers_agree(instance, mode):
    _, through_pulp = plan(*instance, mode=mode, solver="highs")
    _, direct = plan(*instance, mode=mode, solver="highspy")
    assert close(direct.objective_usd_per_day, through_pulp.objective_usd_per_day)


@PROPERTY
@given(instances(), MODES)
def test_the_plan_meets_every_bar(instance, mode):
    problem, solution = plan(*instance, mode=mode)
    threshold = problem.tasks["min_quality"]
    quality = np.nan_to_num(problem.quality, nan=-1.0)
    used = solution.shares > 0
    assert not (used & ~problem.eligible).any()  # nothing on an unrated or excluded model
    if mode is Mode.STRICT:
        assert (np.where(used, quality, np.inf) >= threshold[:, None]).all()
    else:
        assert ((solution.shares * quality).sum(axis=1) >= threshold - 1e-6).all()
