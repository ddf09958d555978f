"""Each constraint family against an independent formulation: the same program written out as
dense matrices for scipy's `linprog`/`milp`, or a hand-worked case. Each family is checked where it
binds and where it does not."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from router_opt.engine import InfeasiblePlanError, Objective, build_program, solve
from router_opt.errors import InfeasibleError
from router_opt.frame import Mode, build_problem
from router_opt.models import Policy, VendorCap
from router_opt.plan import Inputs, optimize_inputs

from .helpers import make_catalog, make_workload, random_instance


def with_models(catalog, **changes_by_id):
    models = tuple(m.model_copy(update=changes_by_id.get(m.id, {})) for m in catalog.models)
    return catalog.model_copy(update={"models": models})


def reference(problem, policy, objective="cost", integer=False):
    """The routing program over every (task, model) pair, built densely from the problem's raw
    arrays and the policy, solved by scipy. Returns (cost $/day, quality, shares T x M)."""
    n_t, n_m = problem.eligible.shape
    n = n_t * n_m
    cost = np.asarray(problem.usd_per_day).ravel()
    quality = np.nan_to_num(problem.quality, nan=0.0)
    volume = problem.tasks["invocations_per_day"]
    mtok = problem.tasks["tokens_per_day"] / 1e6
    a_rows, lo, hi = [], [], []
    for t in range(n_t):  # assignment
        row = np.zeros(n)
        row[t * n_m : (t + 1) * n_m] = 1
        a_rows.append(row), lo.append(1), hi.append(1)
    if problem.mode is Mode.BLENDED:
        for t in range(n_t):
            row = np.zeros(n)
            row[t * n_m : (t + 1) * n_m] = quality[t]
            a_rows.append(row), lo.append(problem.tasks["min_quality"][t]), hi.append(np.inf)
    for m, spec in enumerate(problem.catalog.models):
        if spec.capacity_mtok_per_day is not None:
            row = np.zeros((n_t, n_m))
            row[:, m] = mtok
            a_rows.append(row.ravel()), lo.append(-np.inf), hi.append(spec.capacity_mtok_per_day)
    departments = problem.tasks["department"]
    for d, budget in policy.budgets_usd_per_day.items():
        row = np.where((departments == d)[:, None], problem.usd_per_day, 0.0)
        a_rows.append(row.ravel()), lo.append(-np.inf), hi.append(budget)
    if policy.total_budget_usd_per_day is not None:
        a_rows.append(cost.copy()), lo.append(-np.inf), hi.append(policy.total_budget_usd_per_day)
    providers = np.array([m.provider for m in problem.catalog.models])
    for p in sorted(set(providers)):
        cap = policy.vendor_caps.get(p) or policy.vendor_caps.get("*")
        if cap is None:
            continue
        mine = np.broadcast_to(providers == p, (n_t, n_m))
        if cap.max_spend_share is not None:
            row = problem.usd_per_day * (mine - cap.max_spend_share)
            a_rows.append(row.ravel()), lo.append(-np.inf), hi.append(0.0)
        if cap.max_volume_share is not None:
            row = np.where(mine, volume[:, None], 0.0)
            a_rows.append(row.ravel()), lo.append(-np.inf), hi.append(cap.max_volume_share * volume.sum())
    upper = problem.eligible.ravel().astype(float)
    weights = (volume / volume.sum())[:, None] * quality
    c = cost if objective == "cost" else -weights.ravel()
    constraint = LinearConstraint(np.array(a_rows), lo, hi)
    res = milp(c, constraints=constraint, bounds=Bounds(0, upper), integrality=np.full(n, int(integer)))
    assert res.status == 0, res.message
    if objective == "quality":
        # then the cheapest plan of that quality
        floor = LinearConstraint(weights.ravel()[None, :], -res.fun - 1e-9, np.inf)
        res = milp(cost, constraints=[constraint, floor], bounds=Bounds(0, upper), integrality=np.full(n, int(integer)))
        assert res.status == 0
    shares = res.x.reshape(n_t, n_m)
    return float((shares * problem.usd_per_day).sum()), float((weights * shares).sum()), shares


def capacity_instance(seed, tightness, mode=Mode.STRICT):
    """A random instance whose three cheapest models get capacity `tightness` x the volume they
    would carry unconstrained (tightness < 1 binds, > 1 does not)."""
    catalog, workload, policy = random_instance(seed, n_tasks=25, n_models=6)
    problem = build_problem(catalog, workload, policy, mode)
    free = solve(problem, presolve=False).shares
    used = (free * (problem.tasks["tokens_per_day"][:, None] / 1e6)).sum(axis=0)
    prices = np.array([m.input_usd_per_mtok + m.output_usd_per_mtok for m in catalog.models])
    cheapest = [int(m) for m in np.argsort(prices) if m != 0][:3]
    changes = {catalog.models[m].id: {"capacity_mtok_per_day": float(max(used[m], 1e-3) * tightness)} for m in cheapest}
    return with_models(catalog, **changes), workload, policy


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("tightness", [0.5, 2.0])
@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.BLENDED])
def test_capacity_matches_scipy(seed, tightness, mode):
    catalog, workload, policy = capacity_instance(seed, tightness, mode)
    problem = build_problem(catalog, workload, policy, mode)
    expected, _, _ = reference(problem, policy)
    for solver in ("highs", "highspy"):
        plan = solve(problem, solver=solver)
        assert plan.objective_usd_per_day == pytest.approx(expected, rel=1e-7, abs=1e-12)
        unpruned = solve(problem, solver=solver, presolve=False)
        assert unpruned.objective_usd_per_day == pytest.approx(expected, rel=1e-7, abs=1e-12)
    capacity_rows = [c for c in plan.constraints if c.kind == "capacity"]
    assert all(c.used <= c.limit * (1 + 1e-7) + 1e-9 for c in capacity_rows)
    if tightness > 1:
        assert not any(c.binding for c in capacity_rows)


def test_capacity_shadow_price_is_the_saving_of_one_more_unit():
    catalog, workload, policy = capacity_instance(3, 0.5)
    problem = build_problem(catalog, workload, policy)
    plan = solve(problem)
    binding = [c for c in plan.constraints if c.kind == "capacity" and c.binding and c.shadow_price]
    assert binding
    row = binding[0]
    step = 1e-4 * row.limit
    looser = with_models(catalog, **{row.subject: {"capacity_mtok_per_day": row.limit + step}})
    moved = solve(build_problem(looser, workload, policy)).objective_usd_per_day
    assert (moved - plan.objective_usd_per_day) / step == pytest.approx(row.shadow_price, rel=1e-4)
    assert row.shadow_price < 0


def budget_case():
    """Two departments, each with one task; the cheap model (q 80) costs $1/day per task, the good
    one (q 90) $3/day. Hand-worked: with budgets A $2/day, B $5/day and --objective quality, A buys
    half of the good model ((2-1)/(3-1) = 0.5 share, quality 85) and B all of it (quality 90)."""
    catalog = make_catalog(
        [
            {"id": "good", "input": 3.0, "quality": {"x": 90}},
            {"id": "cheap", "input": 1.0, "quality": {"x": 80}},
        ]
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
    return catalog, make_workload(rows)


def test_budget_quality_objective_hand_worked():
    catalog, workload = budget_case()
    policy = Policy(budgets_usd_per_day={"A": 2.0, "B": 5.0})
    inputs = Inputs(catalog, workload, policy, "c", "w", "p")
    result = optimize_inputs(inputs, objective="quality")
    shares = {(a.department, a.model): a.share for a in result.assignments}
    # (the second, cheapest-plan pass keeps quality within the solver's feasibility tolerance)
    assert shares[("A", "good")] == pytest.approx(0.5, rel=1e-6)
    assert shares[("A", "cheap")] == pytest.approx(0.5, rel=1e-6)
    assert shares[("B", "good")] == pytest.approx(1.0, rel=1e-9)
    by_department = {d.department: d.optimal_usd_per_day for d in result.departments}
    assert by_department == pytest.approx({"A": 2.0, "B": 3.0}, rel=1e-6)
    rows = {c.subject: c for c in result.constraints}
    assert rows["A"].binding and not rows["B"].binding
    # one more $/day for A buys another 1/2 share-point of good model: +10 points x 0.5 / 2 tasks
    assert rows["A"].shadow_price == pytest.approx(10 / 2 / 2, rel=1e-6)
    assert "raises plan quality by 2.5 points" in rows["A"].explanation
    # cost objective: budgets do not bind, everything on the cheap model
    cheap = optimize_inputs(inputs)
    assert cheap.totals.optimal_usd_per_day == pytest.approx(2.0)
    assert not any(c.binding for c in cheap.constraints)


def test_budget_too_small_names_the_department_and_shortfall():
    catalog, workload = budget_case()
    policy = Policy(budgets_usd_per_day={"A": 0.6, "B": 5.0})
    problem = build_problem(catalog, workload, policy)
    with pytest.raises(InfeasiblePlanError) as caught:
        solve(problem)
    # A's cheapest plan costs $1/day against $0.60: short $0.40
    assert caught.value.relaxations == ["budget of A: short by $0.40/day (limit $0.60/day)"]


@pytest.mark.parametrize("seed", range(6))
def test_budgets_and_quality_objective_match_scipy(seed):
    catalog, workload, _ = random_instance(200 + seed, n_tasks=20, n_models=5)
    base = build_problem(catalog, workload, Policy())
    cheapest = solve(base).shares * base.usd_per_day
    departments = base.tasks["department"]
    budgets = {}
    for d in sorted(set(departments)):
        low = cheapest[departments == d].sum()
        high = base.usd_per_day[departments == d].max(axis=1).sum()
        budgets[d] = float(low + 0.4 * (high - low))  # somewhere between cheapest and best
    policy = Policy(budgets_usd_per_day=budgets)
    problem = build_problem(catalog, workload, policy)
    expected_cost, expected_quality, _ = reference(problem, policy, objective="quality")
    plan = solve(problem, objective=Objective.QUALITY)
    quality = (plan.shares * np.nan_to_num(problem.quality)).sum(axis=1)
    volume = problem.tasks["invocations_per_day"]
    assert float((volume / volume.sum() * quality).sum()) == pytest.approx(expected_quality, rel=1e-7)
    assert plan.objective_usd_per_day == pytest.approx(expected_cost, rel=1e-6, abs=1e-9)


@pytest.mark.parametrize(
    "cap",
    [
        VendorCap(max_spend_share=0.3),
        VendorCap(max_volume_share=0.4),
        VendorCap(max_spend_share=0.99, max_volume_share=0.99),
    ],
)
@pytest.mark.parametrize("seed", range(5))
def test_vendor_caps_match_scipy(seed, cap):
    catalog, workload, _ = random_instance(300 + seed, n_tasks=20, n_models=6)
    # two providers: the baseline's own and everyone else's
    catalog = with_models(
        catalog, **{m.id: {"provider": "Cheapco" if i % 2 else "Bigco"} for i, m in enumerate(catalog.models)}
    )
    policy = Policy(vendor_caps={"Cheapco": cap})
    problem = build_problem(catalog, workload, policy)
    expected, _, _ = reference(problem, policy)
    plan = solve(problem)
    assert plan.objective_usd_per_day == pytest.approx(expected, rel=1e-7, abs=1e-10)
    for row in plan.constraints:
        assert row.used <= row.limit + 1e-7


def test_residency_latency_and_context_filters_hand_worked():
    catalog = make_catalog(
        [
            {"id": "us-big", "input": 3.0, "quality": {"x": 95}},
            {"id": "eu-mid", "input": 1.0, "quality": {"x": 92}},
            {"id": "eu-small", "input": 0.2, "quality": {"x": 91}},
            {"id": "fast-cheap", "input": 0.1, "quality": {"x": 93}},
        ]
    )
    catalog = with_models(
        catalog,
        **{
            "us-big": {"regions": ("us",), "latency_ms": 900, "context_window": 200_000},
            "eu-mid": {"regions": ("eu",), "latency_ms": 800, "context_window": 100_000},
            "eu-small": {"regions": ("eu",), "latency_ms": 2000, "context_window": 8_000},
            "fast-cheap": {"latency_ms": 300, "context_window": 16_000},  # no regions declared
        },
    )
    base = {"task_type": "x", "invocations_per_day": 10, "output_tokens": 100, "min_quality": 90}
    workload = make_workload(
        [
            base | {"task": "open", "input_tokens": 1000},  # anything: fast-cheap cheapest
            base | {"task": "eu only", "input_tokens": 1000, "region": "eu"},  # eu-small
            base | {"task": "eu fast", "input_tokens": 1000, "region": "eu", "max_latency_ms": 1000},  # eu-mid
            base | {"task": "long prompt", "input_tokens": 50_000},  # us-big or eu-mid: eu-mid cheaper
            base | {"task": "legal", "department": "Legal", "input_tokens": 1000},  # policy: Legal in eu
        ]
    )
    policy = Policy(allowed_regions_by_department={"Legal": ("eu",)})
    result = optimize_inputs(Inputs(catalog, workload, policy, "c", "w", "p"))
    chosen = {a.task: a.model for a in result.assignments}
    assert chosen == {
        "open": "fast-cheap",
        "eu only": "eu-small",
        "eu fast": "eu-mid",
        "long prompt": "eu-mid",
        "legal": "eu-small",
    }
    decisions = {d.task: d for d in result.decisions}
    assert "fast-cheap: not served from an allowed region" in decisions["eu only"].excluded_cheaper
    assert "eu-small: too slow for the task's latency limit" in decisions["eu fast"].excluded_cheaper
    assert "eu-small: context window too small for the prompt" in decisions["long prompt"].excluded_cheaper
    # a region no model serves from is named as such (likely a typo)
    from router_opt.errors import InputError

    workload = make_workload([base | {"task": "apac", "input_tokens": 10, "region": "apac"}])
    with pytest.raises(InputError) as caught:
        build_problem(catalog, workload, Policy())
    assert "no model in catalog 'test' serves region 'apac'; its models' regions: eu, us" in str(caught.value)
    # a known region whose models all fail another limit is infeasible, with the reasons
    workload = make_workload([base | {"task": "eu tiny", "input_tokens": 150_000, "region": "eu"}])
    with pytest.raises(InfeasibleError) as caught:
        build_problem(catalog, workload, Policy())
    assert "no model within the task's limits" in str(caught.value)


@pytest.mark.parametrize("seed", range(6))
def test_single_mode_matches_scipy_milp(seed):
    catalog, workload, policy = capacity_instance(400 + seed, 0.6)
    problem = build_problem(catalog, workload, policy, Mode.SINGLE)
    expected, _, _shares = reference(problem, policy, integer=True)
    plan = solve(problem, time_limit_seconds=30)
    assert plan.mip_gap is not None and plan.mip_gap <= 1e-4
    assert plan.objective_usd_per_day == pytest.approx(expected, rel=1e-4)
    assert set(np.unique(plan.shares)) <= {0.0, 1.0}
    lp = solve(build_problem(catalog, workload, policy, Mode.STRICT))
    assert lp.objective_usd_per_day <= plan.objective_usd_per_day * (1 + 1e-9)


def test_self_hosted_deployment_is_provisioned_only_when_it_pays():
    """A self-hosted model at $0.10/Mtok with a $900/month fixed cost (365/12 days a month:
    $29.589/day) against an API at $2.00/Mtok. At V Mtok/day the deployment pays when
    0.10 V + 29.589 < 2.00 V, i.e. V > 15.57 Mtok/day."""
    catalog = make_catalog(
        [
            {"id": "api", "input": 2.0, "quality": {"x": 90}},
            {"id": "gpu", "input": 0.1, "quality": {"x": 90}},
        ]
    )
    catalog = with_models(
        catalog, gpu={"fixed_usd_per_month": 900.0, "capacity_mtok_per_day": 100.0, "deployment": "self-hosted"}
    )
    fixed_per_day = 900 * 12 / 365
    for mtok_per_day, expect in ((10.0, False), (20.0, True)):
        workload = make_workload(
            [
                {
                    "task_type": "x",
                    "invocations_per_day": mtok_per_day * 1000,
                    "input_tokens": 1000,
                    "output_tokens": 0,
                    "min_quality": 90,
                }
            ]
        )
        result = optimize_inputs(Inputs(catalog, workload, Policy(), "c", "w", "p"))
        deployment = result.deployments[0]
        assert deployment.provisioned is expect
        expected = 0.1 * mtok_per_day + fixed_per_day if expect else 2.0 * mtok_per_day
        assert result.totals.optimal_usd_per_day == pytest.approx(expected, rel=1e-9)
        assert result.totals.fixed_usd_per_day == pytest.approx(fixed_per_day if expect else 0.0)
    # over capacity: 150 Mtok/day, 100 on the GPU, 50 spill to the API
    workload = make_workload(
        [
            {
                "task_type": "x",
                "invocations_per_day": 150_000,
                "input_tokens": 1000,
                "output_tokens": 0,
                "min_quality": 90,
            }
        ]
    )
    result = optimize_inputs(Inputs(catalog, workload, Policy(), "c", "w", "p"))
    shares = {a.model: a.share for a in result.assignments}
    assert shares == pytest.approx({"gpu": 100 / 150, "api": 50 / 150}, rel=1e-7)
    assert result.totals.optimal_usd_per_day == pytest.approx(0.1 * 100 + 2.0 * 50 + fixed_per_day, rel=1e-9)


def test_capacity_shortfall_is_diagnosed_by_model_and_amount():
    catalog = make_catalog([{"id": "only", "input": 1.0, "quality": {"x": 90}}])
    catalog = with_models(catalog, only={"capacity_mtok_per_day": 5.0})
    workload = make_workload(
        [{"task_type": "x", "invocations_per_day": 8000, "input_tokens": 1000, "output_tokens": 0, "min_quality": 80}]
    )
    with pytest.raises(InfeasiblePlanError) as caught:
        solve(build_problem(catalog, workload, Policy()))
    # 8,000 calls x 1,000 tokens = 8 Mtok/day against 5
    assert caught.value.relaxations == ["capacity of only: raise from 5 to 8 Mtok/day (short 3)"]


def test_decisions_runner_up_and_fallbacks(tiny_catalog):
    workload = make_workload(
        [
            {
                "task": "A",
                "task_type": "general",
                "invocations_per_day": 100,
                "input_tokens": 1200,
                "output_tokens": 300,
                "min_quality": 85,
            }
        ]
    )
    result = optimize_inputs(Inputs(tiny_catalog, workload, Policy(), "c", "w", "p"))
    decision = result.decisions[0]
    assert decision.models == ("tuned",) and decision.cheapest_eligible == "tuned"
    # runner-up: large at $0.81/day vs tuned $0.006/day
    assert decision.runner_up == "large"
    assert decision.runner_up_extra_usd_per_day == pytest.approx(0.81 - 0.006, rel=1e-9)
    assert decision.fallbacks == ("large",)
    # small ($0.036/day) is dearer than tuned here, so nothing cheaper was excluded
    assert decision.excluded_cheaper == ()
    # raising 85 -> 86: tuned (86) still qualifies, costs nothing more
    assert decision.threshold_plus_one_usd_per_day == pytest.approx(0.0)
    program = build_program(build_problem(tiny_catalog, workload, Policy()))
    assert program.n_cols == 2  # the two eligible pairs, before presolve


def test_policy_names_must_exist(tmp_path):
    from router_opt.errors import InputError
    from router_opt.io import load_policy

    catalog, workload = budget_case()
    path = tmp_path / "policy.yaml"
    path.write_text("budgets_usd_per_day: {a: 4}\nvendor_caps: {acme: {max_volume_share: 0.5}}\n")
    with pytest.raises(InputError) as caught:
        build_problem(catalog, workload, load_policy(path))
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:1:23: budgets_usd_per_day.a: no department 'a' in the workload (did you mean 'A'?); known: A, B",
        f"{path}:2:15: vendor_caps.acme: no provider 'acme' in the catalog (did you mean 'Acme'?); known: Acme",
    ]


def test_deployments_keep_their_shadow_prices():
    """With a fixed-cost deployment the program is mixed-integer; capacity still gets a price from
    the LP with provisioning held fixed. Hand-worked: 150 Mtok/day, gpu capacity 100 at $0.10,
    the rest on the API at $2.00: one more Mtok/day of gpu capacity saves 2.00 - 0.10 = $1.90/day."""
    catalog = make_catalog(
        [{"id": "api", "input": 2.0, "quality": {"x": 90}}, {"id": "gpu", "input": 0.1, "quality": {"x": 90}}]
    )
    catalog = with_models(catalog, gpu={"fixed_usd_per_month": 900.0, "capacity_mtok_per_day": 100.0})
    workload = make_workload(
        [
            {
                "task_type": "x",
                "invocations_per_day": 150_000,
                "input_tokens": 1000,
                "output_tokens": 0,
                "min_quality": 90,
            }
        ]
    )
    result = optimize_inputs(Inputs(catalog, workload, Policy(), "c", "w", "p"))
    (capacity,) = result.constraints
    assert capacity.kind == "capacity" and capacity.binding
    assert capacity.shadow_price == pytest.approx(-1.90, rel=1e-9)
    assert capacity.explanation == "binding: one more Mtok/day of capacity on gpu saves $1.90/day"
