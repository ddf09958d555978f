"""Committed spend (router_opt/constraints/committed_spend.py): a provider contract of at least $X a
month at a discount, unused commitment paid anyway. Checked against a program written here from the
catalog's list prices and the policy alone (scipy's HiGHS), on generated cases and by hand on
examples/committed-spend."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from router_opt.engine import InfeasiblePlanError, solve
from router_opt.frame import Mode, build_problem
from router_opt.models import CommittedSpend, Policy, VendorCap
from router_opt.plan import load_inputs, optimize_inputs

from .helpers import random_instance
from .test_constraints import with_models

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "committed-spend"
PROVIDERS = ("Acme", "Bigco", "Cheapco")


def reference(catalog, workload, policy: Policy, eligible: np.ndarray, mode: Mode) -> float:
    """The optimum $/day from the definition: prices from the catalog times (1 - discount), one
    share column per (task, model) and one unused-commitment column per contract, every row dense."""
    models = catalog.models
    n_m = len(models)
    tasks = workload.tasks
    n_t = len(tasks)
    provider = np.array([m.provider for m in models])
    discount = np.array([policy.committed_spend[p].discount if p in policy.committed_spend else 0.0 for p in provider])
    usd_per_call = np.array(
        [
            [(t.input_tokens * m.input_usd_per_mtok + t.output_tokens * m.output_usd_per_mtok) / 1e6 for m in models]
            for t in tasks
        ]
    ) * (1 - discount)
    calls = np.array([t.invocations_per_day * t.headcount for t in tasks])
    cost = usd_per_call * calls[:, None]
    contracts = [p for p in policy.committed_spend if p in set(provider)]
    n_x = n_t * n_m
    n = n_x + len(contracts)
    rows, lo, hi = [], [], []
    for t in range(n_t):
        row = np.zeros(n)
        row[t * n_m : (t + 1) * n_m] = 1
        rows.append(row), lo.append(1), hi.append(1)
    if mode is Mode.BLENDED:
        bars = np.array([t.min_quality for t in tasks])
        for t in range(n_t):
            row = np.zeros(n)
            row[t * n_m : (t + 1) * n_m] = [m.quality.get(tasks[t].task_type, 0.0) for m in models]
            rows.append(row), lo.append(bars[t]), hi.append(np.inf)
    mtok = np.array([t.invocations_per_day * t.headcount * (t.input_tokens + t.output_tokens) / 1e6 for t in tasks])
    for m, spec in enumerate(models):
        if spec.capacity_mtok_per_day is not None:
            row = np.zeros(n)
            row[m:n_x:n_m] = mtok
            rows.append(row), lo.append(-np.inf), hi.append(spec.capacity_mtok_per_day)
    for k, p in enumerate(contracts):
        row = np.zeros(n)
        row[:n_x] = np.where(provider == p, cost, 0.0).ravel()
        row[n_x + k] = 1.0
        rows.append(row), lo.append(policy.committed_spend[p].usd_per_month * 12 / 365), hi.append(np.inf)
    if policy.total_budget_usd_per_day is not None:
        row = np.r_[cost.ravel(), np.ones(len(contracts))]
        rows.append(row), lo.append(-np.inf), hi.append(policy.total_budget_usd_per_day)
    for p, cap in policy.vendor_caps.items():
        if cap.max_spend_share is not None:  # spend on p, its unused commitment included, <= share of all spend
            mine = np.r_[np.where(provider == p, cost, 0.0).ravel(), [1.0 if c == p else 0.0 for c in contracts]]
            row = mine - cap.max_spend_share * np.r_[cost.ravel(), np.ones(len(contracts))]
            rows.append(row), lo.append(-np.inf), hi.append(0.0)
    upper = np.r_[eligible.ravel().astype(float), np.full(len(contracts), np.inf)]
    res = milp(
        np.r_[cost.ravel(), np.ones(len(contracts))],
        constraints=LinearConstraint(np.array(rows), lo, hi),
        bounds=Bounds(0, upper),
        integrality=np.zeros(n),
    )
    if res.status == 2:
        return float("nan")
    assert res.status == 0, res.message
    return float(res.fun)


def contract_instance(seed: int, mode: Mode):
    rng = np.random.default_rng(seed)
    catalog, workload, _ = random_instance(900 + seed, n_tasks=int(rng.integers(6, 25)), n_models=6)
    catalog = with_models(
        catalog,
        **{m.id: {"provider": PROVIDERS[i % 3]} for i, m in enumerate(catalog.models)},
    )
    # A commitment on a provider whose models are not the cheapest: between nothing and more than
    # the plan can use, so some cases leave it unused and some use it all.
    contracts = {
        "Bigco": CommittedSpend(
            usd_per_month=float(rng.uniform(0.0, 2.0)) * 30 + 1, discount=float(rng.uniform(0, 0.4))
        )
    }
    if seed % 3 == 0:
        contracts["Cheapco"] = CommittedSpend(usd_per_month=float(rng.uniform(1, 40)))
    extra = {}
    if seed % 4 == 1:
        extra["vendor_caps"] = {"Acme": VendorCap(max_spend_share=0.6)}
    if seed % 5 == 2:
        extra["total_budget_usd_per_day"] = 1e6
    policy = Policy(committed_spend=contracts, **extra)
    return catalog, workload, policy, build_problem(catalog, workload, policy, mode=mode)


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.BLENDED])
@pytest.mark.parametrize("seed", range(12))
def test_matches_the_program_written_from_the_definition(seed, mode):
    catalog, workload, policy, problem = contract_instance(seed, mode)
    expected = reference(catalog, workload, policy, problem.eligible, mode)
    plan = solve(problem)
    assert plan.objective_usd_per_day == pytest.approx(expected, rel=1e-7, abs=1e-9)
    # The same optimum whatever the presolve drops, and through CBC.
    assert solve(problem, presolve=False).objective_usd_per_day == pytest.approx(expected, rel=1e-7, abs=1e-9)
    assert solve(problem, solver="cbc").objective_usd_per_day == pytest.approx(expected, rel=1e-6, abs=1e-8)
    row = next(c for c in plan.constraints if c.kind == "committed_spend" and c.subject == "Bigco")
    # Its use is the traffic's spend on Bigco; what it falls short of the limit is paid as unused.
    t, m, share = plan.used_pairs()
    on_bigco = problem.models["provider"][m] == "Bigco"
    assert row.used == pytest.approx(float((share * problem.usd_per_day[t, m])[on_bigco].sum()), rel=1e-9, abs=1e-12)


def test_a_dominated_model_still_takes_the_commitment():
    """The presolve drops pairs a free model beats on price and quality; a commitment makes the
    beaten model's spend worth having (it is paid anyway), so its pairs must stay."""
    catalog, workload, _ = random_instance(7, n_tasks=12, n_models=3)
    ids = [m.id for m in catalog.models]
    # m1: the dearest and the worst of the non-baseline models, at the committed provider.
    catalog = with_models(
        catalog,
        **{
            ids[0]: {"provider": "Acme"},
            ids[1]: {"provider": "Bigco", "input_usd_per_mtok": 50.0, "output_usd_per_mtok": 50.0, "quality": {}},
            ids[2]: {"provider": "Cheapco"},
        },
    )
    rated = {task.task_type: 100.0 for task in workload.tasks}
    catalog = with_models(catalog, **{ids[1]: {"quality": rated}, ids[2]: {"quality": rated}})
    policy = Policy(committed_spend={"Bigco": CommittedSpend(usd_per_month=3000.0)})
    problem = build_problem(catalog, workload, policy)
    expected = reference(catalog, workload, policy, problem.eligible, Mode.STRICT)
    plan = solve(problem)
    assert plan.objective_usd_per_day == pytest.approx(expected, rel=1e-9)
    on_bigco = problem.models["provider"][plan.used_pairs()[1]] == "Bigco"
    assert on_bigco.any()


def test_shadow_price_is_the_cost_of_one_more_dollar_of_commitment():
    inputs = load_inputs(EXAMPLE / "catalog.yaml", EXAMPLE / "workload.csv", EXAMPLE / "policy.yaml")
    plan = solve(build_problem(inputs.catalog, inputs.workload, inputs.policy))
    row = next(c for c in plan.constraints if c.kind == "committed_spend")
    more = inputs.policy.model_copy(
        update={"committed_spend": {"OpenAI": CommittedSpend(usd_per_month=(30.0 + 0.01) * 365 / 12, discount=0.2)}}
    )
    raised = solve(build_problem(inputs.catalog, inputs.workload, more))
    assert row.shadow_price == pytest.approx(
        (raised.objective_usd_per_day - plan.objective_usd_per_day) / 0.01, rel=1e-6
    )


def test_hand_worked_example():
    """examples/committed-spend: $30.00/day committed to OpenAI at 20% off ($5 -> $4/Mtok).
    Clause review (2 Mtok/day, only premium meets 90) uses $8; proposal drafts (3 Mtok/day) move from
    mid ($6) to premium ($12 of commitment, saving $6); invoice fields (4 Mtok/day, cheap at $2) take
    the last $10: 10/16 = 62.5% on premium, 37.5% on cheap ($0.75). Plan: $30 + $0.75 = $30.75/day.
    All-large at the contract rate: 9 Mtok x $4 = $36.00. One more $/day of commitment moves $1 of
    invoice fields from cheap: it costs $1 and saves $0.50/4 = $0.125: shadow price $0.875."""
    inputs = load_inputs(EXAMPLE / "catalog.yaml", EXAMPLE / "workload.csv", EXAMPLE / "policy.yaml")
    result = optimize_inputs(inputs, decisions=True)
    assert result.totals.optimal_usd_per_day == pytest.approx(30.75, abs=1e-9)
    assert result.totals.baseline_usd_per_day == pytest.approx(36.0, abs=1e-9)
    row = next(c for c in result.constraints if c.kind == "committed_spend")
    assert (row.subject, row.limit, row.used, row.binding) == ("OpenAI", pytest.approx(30.0), pytest.approx(30.0), True)
    assert row.shadow_price == pytest.approx(0.875, abs=1e-9)
    invoice = next(d for d in result.decisions if d.task == "Invoice fields")
    assert dict(zip(invoice.models, invoice.shares)) == {"premium": pytest.approx(0.625), "cheap": pytest.approx(0.375)}
    assert "committed_spend OpenAI" in invoice.binding
    proposal = next(d for d in result.decisions if d.task == "Proposal draft")
    assert "committed_spend OpenAI" in proposal.binding
    assert "used exactly" in row.explanation and "$0.875/day" in row.explanation


def test_unused_commitment_is_part_of_the_plan_cost():
    """A commitment larger than everything the plan can send there: $60/day against 9 Mtok x $4 =
    $36 of traffic that can go to premium. Every task goes there and $24/day is paid unused."""
    inputs = load_inputs(EXAMPLE / "catalog.yaml", EXAMPLE / "workload.csv", EXAMPLE / "policy.yaml")
    policy = inputs.policy.model_copy(
        update={"committed_spend": {"OpenAI": CommittedSpend(usd_per_month=60 * 365 / 12, discount=0.2)}}
    )
    result = optimize_inputs(dataclasses.replace(inputs, policy=policy), decisions=True)
    assert result.totals.optimal_usd_per_day == pytest.approx(60.0, abs=1e-9)
    assert result.totals.unused_commitment_usd_per_day == pytest.approx(24.0, abs=1e-9)
    assert result.totals.fixed_usd_per_day == 0.0
    row = next(c for c in result.constraints if c.kind == "committed_spend")
    assert row.used == pytest.approx(36.0) and row.shadow_price == pytest.approx(1.0)
    assert "$24.00/day of the $60.00/day committed to OpenAI goes unused" in row.explanation
    # The all-large habit pays the same commitment: $36 of traffic and $24 unused.
    assert result.totals.baseline_usd_per_day == pytest.approx(60.0, abs=1e-9)
    assert result.totals.baseline_unused_commitment_usd_per_day == pytest.approx(24.0, abs=1e-9)
    # In the JSON only when a contract leaves something unused; a saved plan reads back equal.
    assert '"unused_commitment_usd_per_day":24.0' in result.model_dump_json()
    assert type(result).model_validate_json(result.model_dump_json()) == result


def test_a_commitment_no_plan_can_pay_is_diagnosed_at_its_line():
    """over-budget.yaml: total budget $25/day. The cost of the cheapest plan with commitment c is
    0.875 c + 4.5 for c in [20, 36] (see test_hand_worked_example), so the budget holds up to
    c = 20.5 / 0.875 = 23.43: lowering the commitment by 6.57 is a relative change of 6.57/30 = 0.219,
    less than raising the budget by 5.75 (5.75/25 = 0.23)."""
    inputs = load_inputs(EXAMPLE / "catalog.yaml", EXAMPLE / "workload.csv", EXAMPLE / "over-budget.yaml")
    with pytest.raises(InfeasiblePlanError) as caught:
        solve(build_problem(inputs.catalog, inputs.workload, inputs.policy))
    (relaxation,) = caught.value.relaxations
    assert relaxation.startswith(f"{EXAMPLE / 'over-budget.yaml'}:5: committed spend with OpenAI")
    assert "from $30.00/day to $23.43/day (by $6.57/day)" in relaxation


def test_the_decomposition_leaves_it_to_the_full_program():
    _, _, _, problem = contract_instance(1, Mode.STRICT)
    plan = solve(problem, solver="decompose")
    assert plan.method.startswith("full LP (decomposition fell back: committed spend")


def test_the_workbook_carries_the_commitment(tmp_path):
    """The Constraints sheet has the row (limit, use, shadow price, sentence); with a commitment the
    plan cannot use up ($60/day against $36 of traffic) the Summary and Departments sheets show the
    $24/day paid unused by the plan and by the all-large habit alike."""
    import openpyxl

    from router_opt.report import render

    inputs = load_inputs(EXAMPLE / "catalog.yaml", EXAMPLE / "workload.csv", EXAMPLE / "policy.yaml")
    book = tmp_path / "plan.xlsx"
    book.write_bytes(render(optimize_inputs(inputs, decisions=False), "xlsx"))
    rows = list(openpyxl.load_workbook(book)["Constraints"].iter_rows(values_only=True))
    row = next(r for r in rows if r[0] == "committed_spend")
    assert row[1:7] == ("OpenAI", pytest.approx(30.0), pytest.approx(30.0), "USD/day", "yes", pytest.approx(0.875))

    policy = inputs.policy.model_copy(
        update={"committed_spend": {"OpenAI": CommittedSpend(usd_per_month=60 * 365 / 12, discount=0.2)}}
    )
    book.write_bytes(render(optimize_inputs(dataclasses.replace(inputs, policy=policy), decisions=False), "xlsx"))
    workbook = openpyxl.load_workbook(book)
    summary = {r[0]: r[1] for r in workbook["Summary"].iter_rows(values_only=True) if r[0]}
    assert summary["Committed spend paid unused (plan), $/day"] == pytest.approx(24.0)
    assert summary["Committed spend paid unused (all-large), $/day"] == pytest.approx(24.0)
    assert summary["Optimal cost, $/day"] == pytest.approx(60.0)
    shared = next(
        r for r in workbook["Departments"].iter_rows(values_only=True) if r[0] == "Unused commitments (shared)"
    )
    assert shared[3:6] == (pytest.approx(24.0), pytest.approx(24.0), pytest.approx(0.0))


def test_plus_one_quality_point_is_the_rise_of_the_re_solved_optimum():
    """With a commitment the unused column is a charge, so "+1 quality point" never comes from the
    coupling prices alone; each figure must equal the optimum of the program written from the
    definition with that task's bar one point higher, minus today's optimum."""
    from router_opt.sensitivity import threshold_plus_one

    rises = 0
    for seed in range(16):
        catalog, workload, policy, problem = contract_instance(seed, Mode.STRICT)
        base = reference(catalog, workload, policy, problem.eligible, Mode.STRICT)
        plan = solve(problem)
        t, m, share = plan.used_pairs()
        task_usd_per_day = np.bincount(t, weights=share * problem.usd_per_day[t, m], minlength=len(workload.tasks))
        figures, not_computed = threshold_plus_one(problem, plan, task_usd_per_day)
        assert not_computed == 0
        for task in range(len(workload.tasks)):
            raised = problem.eligible.copy()
            raised[task] &= problem.quality[task] >= problem.tasks["min_quality"][task] + 1
            if not raised[task].any():
                assert np.isnan(figures[task])
                continue
            expected = max(reference(catalog, workload, policy, raised, Mode.STRICT) - base, 0.0)
            assert figures[task] == pytest.approx(expected, rel=1e-6, abs=1e-7), (seed, task)
            rises += expected > 1e-6
    # Most raised bars are still met by the model in use; 7 tasks of these 16 cases cost more when
    # written, so the comparison is not all zeros.
    assert rises >= 5
