"""The vectorised row builders of router_opt.result against plain-Python references."""

from __future__ import annotations

import numpy as np
import pytest

from router_opt.result import Assignment
from router_opt.result.columns import first_k, ordered, rows_of


def _reference(mask, key, k=None):
    out = []
    for r in range(mask.shape[0]):
        cols = sorted((key[r, c], c) for c in range(mask.shape[1]) if mask[r, c])
        out.append(tuple(c for _, c in cols[:k]))
    return out


@pytest.mark.parametrize("seed", range(20))
def test_ordered_and_first_k_match_sorting_with_ties(seed):
    rng = np.random.default_rng(seed)
    rows, cols = rng.integers(1, 30), rng.integers(1, 12)
    mask = rng.random((rows, cols)) < rng.random()
    key = rng.integers(0, 4, size=(rows, cols)).astype(float)  # few distinct keys: many ties
    assert ordered(mask, key, lambda r, c: c) == _reference(mask, key)
    for k in (1, 3, cols + 2):
        before = key.copy()
        assert first_k(mask, key, np.arange(cols), k, np.empty(key.shape)) == _reference(mask, key, k)
        assert (key == before).all()  # only the scratch buffer is written


def test_rows_equal_model_construct_and_serialise_alike():
    values = {
        "department": "D",
        "role": "R",
        "task": "T",
        "task_type": "faq",
        "model": "m",
        "tier": "Instruct",
        "share": 0.25,
        "invocations_per_day": 4.0,
        "usd_per_invocation": 0.5,
        "usd_per_day": 2.0,
        "quality": 80.0,
        "baseline_usd_per_day": 3.0,
    }
    (fast,) = rows_of(Assignment, **{name: [value] for name, value in values.items()})
    slow = Assignment.model_construct(**values)
    assert fast == slow
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast.model_fields_set == slow.model_fields_set


def test_rows_refuses_missing_columns():
    with pytest.raises(TypeError, match="share"):
        rows_of(Assignment, department=["D"])


@pytest.mark.parametrize("seed", range(12))
def test_threshold_plus_one_equals_resolving_with_the_bar_raised(seed):
    """Strict mode without coupling rows: a task's `threshold_plus_one_usd_per_day` (computed from the
    plan's cells only) is what a full re-solve with that task's bar one point higher adds."""
    from router_opt.plan import Inputs, optimize_inputs

    from .helpers import make_workload, random_instance

    catalog, workload, policy = random_instance(seed, n_tasks=12)
    result = optimize_inputs(Inputs(catalog, workload, policy, "c", "w", "p"), solver="highs")
    rows = [t.model_dump(exclude_unset=True) for t in workload.tasks]
    for t, decision in enumerate(result.decisions[:6]):
        bar = workload.tasks[t].min_quality + 1
        best_on_offer = max(m.quality.get(workload.tasks[t].task_type, -1) for m in catalog.models)
        if bar > best_on_offer:
            assert decision.threshold_plus_one_usd_per_day is None
            continue
        raised = make_workload([row | {"min_quality": bar} if i == t else row for i, row in enumerate(rows)])
        again = optimize_inputs(Inputs(catalog, raised, policy, "c", "w", "p"), solver="highs")
        expected = again.totals.optimal_usd_per_day - result.totals.optimal_usd_per_day
        assert decision.threshold_plus_one_usd_per_day == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("solver", ["highs", "highspy", "decompose"])
def test_used_pairs_are_the_positive_cells_in_row_major_order(solver):
    from router_opt.engine import solve
    from router_opt.frame import build_problem
    from router_opt.models import Policy

    from .helpers import random_instance

    catalog, workload, _ = random_instance(3, n_tasks=30, n_models=6)
    capacity = {m.id: 0.001 for m in catalog.models[1:3]}  # a binding capacity splits some tasks
    catalog = catalog.model_copy(
        update={
            "models": tuple(m.model_copy(update={"capacity_mtok_per_day": capacity.get(m.id)}) for m in catalog.models)
        }
    )
    problem = build_problem(catalog, workload, Policy())
    solution = solve(problem, solver=solver)
    task, model, share = solution.used
    # Row-major, each cell once, every share positive (the dense shares are made from these cells).
    cell = task * problem.eligible.shape[1] + model
    assert (np.diff(cell) > 0).all() and (share > 0).all()
    expected_task, expected_model = np.nonzero(solution.shares)
    assert task.tolist() == expected_task.tolist() and model.tolist() == expected_model.tolist()
    # A plan: every task whole, on eligible models only, at the cost the solver reports.
    assert np.allclose(np.bincount(task, weights=share, minlength=len(problem.tasks)), 1.0)
    assert problem.eligible[task, model].all()
    assert float(share @ problem.usd_per_day[task, model]) == pytest.approx(solution.objective_usd_per_day, rel=1e-12)
    assert len(set(task.tolist())) == len(problem.tasks)
