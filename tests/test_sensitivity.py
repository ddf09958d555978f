"""'+1 quality point' and the unprovisioned deployments' reasons against re-solving: each figure is
compared with scipy's MILP on the program written out densely here (fixed-cost deployments
included), with the task's bar one point higher or the deployment's fixed cost removed."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from router_opt.engine import solve
from router_opt.frame import Mode, build_problem
from router_opt.models import Policy
from router_opt.result import Settings, build_result
from router_opt.sensitivity import threshold_plus_one

from .test_constraints import with_models
from .test_decompose import coupled_instance

DAYS_PER_YEAR = 365


def reference_cost(problem, eligible=None, fixed_usd_per_month=None) -> float | None:
    """Optimal $/day (variable + fixed) of the strict program over `eligible`, by scipy's MILP; None
    when infeasible. Columns: x[t, m] for every pair, then y[m] for every model with a fixed cost."""
    eligible = problem.eligible if eligible is None else eligible
    catalog, policy = problem.catalog, problem.policy
    n_t, n_m = eligible.shape
    fixed = np.array(
        [m.fixed_usd_per_month or 0.0 for m in catalog.models] if fixed_usd_per_month is None else fixed_usd_per_month
    )
    fixed_per_day = fixed * 12 / DAYS_PER_YEAR
    deploy = np.flatnonzero(fixed_per_day > 0)
    n_x, n = n_t * n_m, n_t * n_m + deploy.size
    cost = np.asarray(problem.usd_per_day)
    volume = problem.tasks["invocations_per_day"]
    mtok = problem.tasks["tokens_per_day"] / 1e6
    rows, lo, hi = [], [], []

    def add(x_part, y_part, low, high):
        row = np.zeros(n)
        row[:n_x] = np.asarray(x_part).ravel()
        row[n_x:] = y_part
        rows.append(row), lo.append(low), hi.append(high)

    zero_y = np.zeros(deploy.size)
    for t in range(n_t):
        part = np.zeros((n_t, n_m))
        part[t] = 1
        add(part, zero_y, 1, 1)
    for m, spec in enumerate(catalog.models):
        k = np.flatnonzero(deploy == m)
        y = zero_y.copy()
        part = np.zeros((n_t, n_m))
        if spec.capacity_mtok_per_day is not None:
            part[:, m] = mtok
            if k.size:
                y[k] = -spec.capacity_mtok_per_day
                add(part, y, -np.inf, 0)
            else:
                add(part, y, -np.inf, spec.capacity_mtok_per_day)
        elif k.size:
            part[:, m] = 1
            y[k] = -n_t
            add(part, y, -np.inf, 0)
    departments = problem.tasks["department"]
    for d, budget in policy.budgets_usd_per_day.items():
        add(np.where((departments == d)[:, None], cost, 0.0), zero_y, -np.inf, budget)
    if policy.total_budget_usd_per_day is not None:
        add(cost, fixed_per_day[deploy], -np.inf, policy.total_budget_usd_per_day)
    providers = np.array([m.provider for m in catalog.models])
    for p in sorted(set(providers)):
        cap = policy.vendor_caps.get(p) or policy.vendor_caps.get("*")
        if cap is None:
            continue
        mine = providers == p
        if cap.max_spend_share is not None:
            share = cap.max_spend_share
            add(cost * (mine[None, :] - share), fixed_per_day[deploy] * (mine[deploy] - share), -np.inf, 0)
        if cap.max_volume_share is not None:
            add(np.where(mine[None, :], volume[:, None], 0.0), zero_y, -np.inf, cap.max_volume_share * volume.sum())
    c = np.r_[cost.ravel(), fixed_per_day[deploy]]
    upper = np.r_[eligible.ravel().astype(float), np.ones(deploy.size)]
    integrality = np.r_[np.zeros(n_x), np.ones(deploy.size)]
    res = milp(
        c, constraints=LinearConstraint(np.array(rows), lo, hi), bounds=Bounds(0, upper), integrality=integrality
    )
    if res.status == 2:  # infeasible
        return None
    assert res.status == 0, res.message
    return float(res.fun)


def with_deployments(problem, seed: int):
    """The instance with fixed monthly costs on one or two non-baseline models, sized around what the
    uncoupled plan spends on them so that some are provisioned and some are not."""
    rng = np.random.default_rng(77_000 + seed)
    catalog = problem.catalog
    free = solve(problem, solver="highspy")
    spend = (free.shares * problem.usd_per_day).sum(axis=0)
    candidates = [m for m in range(1, len(catalog.models))]
    chosen = rng.choice(candidates, size=min(len(candidates), int(rng.integers(1, 3))), replace=False)
    changes = {}
    for m in chosen:
        per_day = max(float(spend[m]), 0.01 * float(spend.sum()) + 1e-3) * rng.uniform(0.05, 3.0)
        changes[catalog.models[m].id] = {
            "fixed_usd_per_month": per_day * DAYS_PER_YEAR / 12,
            "deployment": "self-hosted",
        }
    return build_problem(with_models(catalog, **changes), problem.workload, problem.policy, Mode.STRICT)


def raised(problem, t: int) -> np.ndarray:
    eligible = problem.eligible.copy()
    eligible[t] &= problem.quality[t] >= problem.tasks["min_quality"][t] + 1
    return eligible


def near_the_bar(problem, seed: int):
    """Bars moved to just under (0-0.9 points) the quality of a model each task could use, so that
    one more point takes that model away from most tasks: the case '+1 quality point' is about."""
    from dataclasses import replace

    from router_opt.frame import BELOW_THRESHOLD, ELIGIBLE, NOT_RATED

    rng = np.random.default_rng(55_000 + seed)
    quality = problem.quality
    rated = ~np.isnan(quality)
    bars = problem.tasks["min_quality"].copy()
    for t in range(bars.size):
        options = np.flatnonzero(rated[t])
        bars[t] = quality[t, rng.choice(options)] - rng.uniform(0.0, 0.9)
    eligible = rated & (np.nan_to_num(quality, nan=-np.inf) >= bars[:, None])
    excluded = np.where(rated, np.where(eligible, ELIGIBLE, BELOW_THRESHOLD), NOT_RATED).astype(np.uint8)
    tasks = problem.tasks.with_columns(min_quality=bars)
    return replace(problem, tasks=tasks, eligible=eligible, excluded=excluded, meets_threshold=eligible.copy())


def case(seed: int):
    """The seed's coupled instance (fixed-cost deployments on even seeds); an infeasible draw (a
    budget or capacity short of the bars) moves on to the next generator seed, deterministically."""
    kind = ("binding", "mixed", "slack")[seed % 3]
    for attempt in range(20):
        problem = coupled_instance(seed + 1000 * attempt, Mode.STRICT, kind)
        if seed % 5:
            problem = near_the_bar(problem, seed)
        if reference_cost(problem) is None:
            continue
        if seed % 2 == 0:
            problem = with_deployments(problem, seed)
        if reference_cost(problem) is not None:
            return problem
    raise AssertionError(f"no feasible instance for seed {seed}")


@pytest.mark.parametrize("seed", range(110))
def test_plus_one_point_equals_re_solving(seed):
    problem = case(seed)
    solution = solve(problem)
    base = reference_cost(problem)
    assert solution.objective_usd_per_day == pytest.approx(base, rel=1e-7, abs=1e-9)
    task_cost = np.bincount(
        solution.used[0],
        weights=solution.used[2] * problem.usd_per_day[solution.used[0], solution.used[1]],
        minlength=problem.eligible.shape[0],
    )
    figures, not_computed = threshold_plus_one(problem, solution, task_cost)
    assert not_computed == 0
    scale = max(1.0, base)
    for t in range(problem.eligible.shape[0]):
        expected = reference_cost(problem, eligible=raised(problem, t))
        if expected is None:
            assert np.isnan(figures[t]), (t, figures[t])
            continue
        assert figures[t] >= 0
        assert figures[t] == pytest.approx(expected - base, abs=1e-7 * scale), (t, figures[t], expected - base)


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("solver", ["highspy", "decompose", "cbc"])
def test_plus_one_point_is_the_same_from_every_solver(seed, solver):
    problem = case(2 * seed + 1)  # odd seeds: no fixed cost, so the decomposition applies
    reference = solve(problem, solver="highs")
    other = solve(problem, solver=solver)

    def figures(solution):
        t, m, share = solution.used
        cost = np.bincount(t, weights=share * problem.usd_per_day[t, m], minlength=problem.eligible.shape[0])
        return threshold_plus_one(problem, solution, cost)[0]

    np.testing.assert_allclose(
        figures(other), figures(reference), rtol=1e-6, atol=1e-7 * max(1.0, reference.objective_usd_per_day)
    )


def the_consultant_case():
    """Issue 14's shape, small enough to check by hand: ticket triage can run on a self-hosted
    classifier at $0.02/Mtok whose server costs $900/month, or on a hosted small model. Volume is low,
    so the server does not pay for itself and the plan leaves it off."""
    from .helpers import make_catalog, make_workload

    bare = make_catalog(
        [
            {"id": "large", "input": 5.0, "output": 15.0, "quality": {"classification": 95, "summarization": 95}},
            {"id": "small", "input": 0.15, "output": 0.6, "quality": {"classification": 88, "summarization": 80}},
            {"id": "ticket-clf-8b", "input": 0.02, "output": 0.02, "quality": {"classification": 92}},
        ],
        baseline="large",
    )
    server = {"fixed_usd_per_month": 900.0, "capacity_mtok_per_day": 50.0, "deployment": "self-hosted"}
    catalog = with_models(bare, **{"ticket-clf-8b": server})
    workload = make_workload(
        [
            {
                "department": "Support",
                "role": "Agent",
                "task": "ticket triage",
                "task_type": "classification",
                "headcount": 10,
                "invocations_per_day": 200,
                "input_tokens": 800,
                "output_tokens": 50,
                "min_quality": 85,
            },
            {
                "department": "Support",
                "role": "Agent",
                "task": "summaries",
                "task_type": "summarization",
                "headcount": 10,
                "invocations_per_day": 20,
                "input_tokens": 2000,
                "output_tokens": 300,
                "min_quality": 78,
            },
        ]
    )
    return build_problem(catalog, workload, Policy(), Mode.STRICT)


def test_an_unprovisioned_deployment_is_held_off_by_its_fixed_cost():
    problem = the_consultant_case()
    solution = solve(problem)
    settings = Settings(
        catalog="c",
        catalog_path=None,
        prices_as_of="2025-01-01",
        workload="w",
        workload_path=None,
        policy_path=None,
        mode=Mode.STRICT,
        objective="cost",
        min_quality=None,
        baseline_model="large",
        baseline_tier="Commercial Large",
        solver="auto",
        days_per_year=DAYS_PER_YEAR,
    )
    result = build_result(problem, solution, settings, decisions=True)
    (deployment,) = result.deployments
    assert not deployment.provisioned
    # By hand: triage is 2,000 calls x 850 tokens = 1.7 Mtok/day. On `small` it costs
    # 2,000 x (800 x 0.15 + 50 x 0.6) / 1e6 = $0.30/day; on the server 1.7 x 0.02 = $0.034/day.
    # Provisioning would save $0.266/day against $900 x 12 / 365 = $29.589/day fixed.
    assert deployment.fixed_usd_per_day == pytest.approx(900 * 12 / 365)
    assert deployment.saving_if_provisioned_usd_per_day == pytest.approx(0.30 - 0.034, rel=1e-9)
    (row,) = [c for c in result.constraints if c.subject == "ticket-clf-8b"]
    assert row.binding is False and row.shadow_price is None
    assert "fixed cost" in row.explanation and "$0.266" in row.explanation
    decision = next(d for d in result.decisions if d.task == "ticket triage")
    assert decision.models == ("small",)
    assert decision.binding and decision.binding[0].startswith("fixed_cost ticket-clf-8b")
    assert not any(b.startswith("capacity") for b in decision.binding)
    # Re-solving with the bar at 86 changes nothing (small still meets it); at 89 it would need
    # `large` or the server: the figure is what the re-solve says, positive.
    assert decision.threshold_plus_one_usd_per_day == pytest.approx(0.0)
    for d in result.decisions:
        assert "ticket-clf-8b" not in d.fallbacks
        assert not set(d.fallbacks) & set(d.models)


def test_plus_one_point_when_the_raised_bar_needs_the_server_or_the_large_model():
    problem = the_consultant_case()
    bars = problem.tasks["min_quality"].copy()
    bars[0] = 88  # ticket triage exactly at small's quality: one more point and small no longer qualifies
    eligible = problem.eligible.copy()
    from dataclasses import replace

    problem = replace(problem, tasks=problem.tasks.with_columns(min_quality=bars), eligible=eligible)
    solution = solve(problem)
    t, m, share = solution.used
    cost = np.bincount(t, weights=share * problem.usd_per_day[t, m], minlength=2)
    figures, _ = threshold_plus_one(problem, solution, cost)
    # Options at 89: `large` (2,000 x (800 x 5 + 50 x 15) / 1e6 = $9.50/day) or provisioning the
    # server ($29.589 + $0.034); `large` wins: +$9.20/day.
    assert figures[0] == pytest.approx(9.50 - 0.30, rel=1e-9)
    assert figures[0] == pytest.approx(reference_cost(problem, eligible=raised(problem, 0)) - reference_cost(problem))
