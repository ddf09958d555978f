"""The price-and-fix decomposition (router_opt/engine/decompose.py) against the full LP: the same optimum,
the same use of every coupling row, the same diagnosis when nothing fits, on seeded random
instances with capacity, budgets and vendor caps, strict and blended. The decomposition is run with
a sample smaller than the problem and narrow boxes, so its price estimates are rough and every part
of it (fixing, box steps, the proof) is exercised even on small instances."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from router_opt.engine import (
    InfeasiblePlanError,
    build_program,
    decompose,
    dominated_candidates,
    solve,
)
from router_opt.engine.backends import BACKENDS
from router_opt.frame import Mode, build_problem
from router_opt.models import Policy, VendorCap

from .helpers import random_instance
from .test_constraints import with_models

PROVIDERS = ("Acme", "Bigco", "Cheapco")


@pytest.fixture(autouse=True)
def rough_prices(request, monkeypatch):
    """Start from a small sample and take small steps, never switching to the whole program, so tiny
    instances go through fixing, several box steps and the proof (tests that keep the
    settings `solve` ships with: their names say so)."""
    if "shipped_settings" in request.node.name:
        return
    monkeypatch.setattr(decompose, "SAMPLE_TASKS", 6)
    monkeypatch.setattr(decompose, "BOX_RELATIVE", 0.01)
    monkeypatch.setattr(decompose, "BOX_ABSOLUTE", 0.001)
    monkeypatch.setattr(decompose, "USE_SAMPLE_SPREAD", False)
    monkeypatch.setattr(decompose, "WHOLE_FRACTION", 1.0)
    monkeypatch.setattr(decompose, "WHOLE_AFTER_ROUNDS", 10)
    monkeypatch.setattr(decompose, "WHOLE_WHEN_CROWDED", False)
    # Each restricted LP starts with the tasks' plans alone: every other column has to be priced in
    # (on instances this small the shipped five would hold nearly all of them).
    monkeypatch.setattr(decompose, "FIRST_COLUMNS", 0)


def uncoupled_start(rng, catalog, workload, mode: Mode):
    """The providers and the uncoupled optimum the instance generators size their limits from:
    (catalog with providers, problem without limits, its optimum, Mtok/day per task, Mtok/day per
    model in that optimum). The baseline (best on every task, dearest, free of capacity) has a
    provider of its own, never capped, so an instance has a plan unless a budget is short."""
    providers = ["Frontier"] + [PROVIDERS[int(rng.integers(0, 3))] for _ in catalog.models[1:]]
    catalog = with_models(catalog, **{m.id: {"provider": p} for m, p in zip(catalog.models, providers)})
    problem = build_problem(catalog, workload, Policy(), mode)
    free = solve(problem, solver="highspy")
    mtok = problem.tasks["tokens_per_day"] / 1e6
    return catalog, problem, free, mtok, (free.shares * mtok[:, None]).sum(axis=0)


def coupled_instance(seed: int, mode: Mode, kind: str):
    """A random instance with coupling rows. kind: 'binding' (capacity on most models well below
    what the uncoupled optimum sends them, budgets and volume caps near their uncoupled use),
    'slack' (capacity and budgets far above it, no vendor caps), 'mixed' (each limit drawn either
    way, spend-share caps included), 'infeasible' (capacity on every model, short of the demand,
    or a department budget below the cheapest plan that meets its bars)."""
    rng = np.random.default_rng(10_000 + seed)
    catalog, workload, _ = random_instance(seed, n_tasks=int(rng.integers(12, 36)), n_models=int(rng.integers(3, 8)))
    catalog, problem, free, mtok, load = uncoupled_start(rng, catalog, workload, mode)
    spend = free.shares * problem.usd_per_day
    departments = problem.tasks["department"]
    names = sorted(set(departments))

    def binds() -> bool:
        return kind == "binding" or (kind == "mixed" and rng.random() < 0.5)

    if kind == "infeasible":
        if rng.random() < 0.5:
            share = rng.dirichlet(np.ones(len(catalog.models)))
            short = mtok.sum() * rng.uniform(0.5, 0.95)
            changes = {
                m.id: {"capacity_mtok_per_day": float(short * share[i]) + 1e-6} for i, m in enumerate(catalog.models)
            }
            return build_problem(with_models(catalog, **changes), workload, Policy(), mode)
        d = names[int(rng.integers(0, len(names)))]
        cheapest = float(spend[departments == d].sum())
        policy = Policy(budgets_usd_per_day={d: cheapest * rng.uniform(0.3, 0.9)})
        return build_problem(catalog, workload, policy, mode)

    changes = {}
    for m, spec in enumerate(catalog.models[1:], start=1):  # the baseline stays free: feasible
        if rng.random() < (0.9 if kind == "binding" else 0.6):
            base = max(load[m], 0.05 * mtok.sum() / len(catalog.models), 1e-3)
            factor = rng.uniform(0.3, 0.9) if binds() else rng.uniform(2.0, 3.0)
            changes[spec.id] = {"capacity_mtok_per_day": float(base * factor)}
    catalog = with_models(catalog, **changes)
    budgets = {}
    for d in names:
        if rng.random() < 0.5:
            factor = rng.uniform(1.2, 2.0) if binds() else rng.uniform(3.0, 5.0)
            budgets[d] = float(spend[departments == d].sum() * factor) + 1e-3
    total = None
    if rng.random() < 0.3:
        total = float(spend.sum() * (rng.uniform(1.2, 2.0) if binds() else rng.uniform(3.0, 5.0))) + 1e-3
    caps = {}
    if kind != "slack":
        volume = problem.tasks["invocations_per_day"]
        providers = np.array([m.provider for m in catalog.models])
        for p in sorted(set(providers) - {"Frontier"}):
            if rng.random() < 0.4:
                on_p = free.shares[:, providers == p].sum(axis=1)
                free_share = float((volume * on_p).sum() / max(volume.sum(), 1e-12))
                # tasks only p can serve must stay with p
                only_p = ~problem.eligible[:, providers != p].any(axis=1)
                needed = float(volume[only_p].sum() / max(volume.sum(), 1e-12))
                if kind == "mixed" and rng.random() < 0.5:
                    caps[p] = VendorCap(max_spend_share=float(rng.uniform(0.5, 0.99)))
                else:
                    cap = max(free_share * rng.uniform(0.6, 0.95), needed + 0.05)
                    caps[p] = VendorCap(max_volume_share=float(np.clip(cap, 0.05, 0.99)))
    policy = Policy(budgets_usd_per_day=budgets, total_budget_usd_per_day=total, vendor_caps=caps)
    return build_problem(catalog, workload, policy, mode)


def heavy_instance(seed: int, mode: Mode):
    """Most coupling rows binding (issue 19): a capacity on every model but the baseline at 5-25% of
    what the uncoupled optimum sends it (or of an even share of the traffic where it sends none),
    volume caps on the two providers that optimum leans on most, and budgets on most departments.
    The caps are 60-90% of the providers' share in the capacitated optimum, the budgets each
    department's spend in the optimum of the same program with the budgeted departments' costs
    weighted tenfold (so that plan keeps every limit, and the true optimum, which weighs every
    department alike, wants more than it gives them). The baseline has a provider of its own, never
    capped, so the instance is feasible."""
    rng = np.random.default_rng(20_000 + seed)
    catalog, workload, _ = random_instance(
        30_000 + seed, n_tasks=int(rng.integers(40, 90)), n_models=int(rng.integers(5, 10))
    )
    catalog, problem, _, mtok, load = uncoupled_start(rng, catalog, workload, mode)
    even = mtok.sum() / len(catalog.models)
    changes = {
        spec.id: {"capacity_mtok_per_day": float(max(load[m], even) * rng.uniform(0.05, 0.25)) + 1e-6}
        for m, spec in enumerate(catalog.models[1:], start=1)
    }
    catalog = with_models(catalog, **changes)
    plan = solve(build_problem(catalog, workload, Policy(), mode), solver="highspy")
    volume = problem.tasks["invocations_per_day"]
    model_provider = np.array([m.provider for m in catalog.models])
    share = {
        p: float((plan.shares[:, model_provider == p].sum(axis=1) * volume).sum() / volume.sum()) for p in PROVIDERS
    }
    leaning = sorted((p for p in share if share[p] > 1e-6), key=lambda p: -share[p])[:2]
    caps = {p: VendorCap(max_volume_share=float(share[p] * rng.uniform(0.6, 0.9))) for p in leaning}
    departments = problem.tasks["department"]
    names = sorted(set(departments))
    budgeted = [d for d in names if rng.random() < 0.8] or names[:1]
    program = build_program(build_problem(catalog, workload, Policy(vendor_caps=caps), mode))
    weight = np.where(np.isin(departments, budgeted), 10.0, 1.0)
    raw = BACKENDS["highspy"].solve(replace(program, col_cost=program.col_cost * weight[program.pair_task]))
    assert raw.status == "optimal"
    spend = np.bincount(
        program.pair_task, weights=program.col_cost * np.maximum(raw.x, 0.0), minlength=len(departments)
    )
    budgets = {d: float(spend[departments == d].sum() * (1 + 1e-7)) + 1e-9 for d in budgeted}
    return build_problem(catalog, workload, Policy(vendor_caps=caps, budgets_usd_per_day=budgets), mode)


def outcome(problem, solver):
    try:
        return solve(problem, solver=solver)
    except InfeasiblePlanError as exc:
        return exc


def use_range(problem, k: int, optimum: float) -> tuple[float, float]:
    """Least and most use of coupling row k over every optimal plan (the full program with its
    cost held at the optimum): where the optimum is not unique, any use in this range is right."""
    from scipy.optimize import linprog
    from scipy.sparse import csr_matrix

    program = build_program(problem)
    matrix = csr_matrix(
        (program.row_value, program.row_index, program.row_start), shape=(program.n_rows, program.n_cols)
    )
    equal = program.row_lower == program.row_upper
    lower_only = ~equal & np.isinf(program.row_upper)
    upper_only = ~equal & ~lower_only
    a_ub = np.vstack([matrix[upper_only].toarray(), -matrix[lower_only].toarray(), program.col_cost[None, :]])
    b_ub = np.r_[program.row_upper[upper_only], -program.row_lower[lower_only], optimum * (1 + 1e-9) + 1e-9]
    row = matrix[program.first_coupling_row + k].toarray().ravel()
    out = []
    for sign in (1.0, -1.0):
        res = linprog(
            sign * row,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=matrix[equal].toarray(),
            b_eq=program.row_lower[equal],
            bounds=list(zip(program.lower(), program.col_upper)),
            method="highs",
        )
        assert res.status == 0, res.message
        out.append(sign * res.fun)
    return out[0], out[1]


def assert_same(problem, full, mine):
    """The decomposition's answer equals the full LP's: the same infeasibility diagnosis, or the
    same optimum (relative 1e-9) and the same use of every coupling row (where the optimum is not
    unique: a use some optimal plan has)."""
    if isinstance(full, InfeasiblePlanError):
        assert isinstance(mine, InfeasiblePlanError), mine.method
        assert mine.relaxations == full.relaxations
        return
    assert not isinstance(mine, InfeasiblePlanError), mine.relaxations
    assert mine.objective_usd_per_day == pytest.approx(full.objective_usd_per_day, rel=1e-9, abs=1e-9)
    assert np.allclose(mine.shares.sum(axis=1), 1.0)
    assert [(c.kind, c.subject) for c in mine.constraints] == [(c.kind, c.subject) for c in full.constraints]
    for k, (a, b) in enumerate(zip(mine.constraints, full.constraints)):
        tolerance = 1e-6 * max(abs(b.limit), abs(b.used), 1.0)
        assert a.used <= a.limit + tolerance
        if abs(a.used - b.used) > tolerance:
            low, high = use_range(problem, k, full.objective_usd_per_day)
            if a.kind in {"spend_share", "volume_share"}:  # the program's row is an amount, not a share
                continue
            assert low - tolerance <= a.used <= high + tolerance, (a, b, low, high)


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.BLENDED])
@pytest.mark.parametrize("seed", range(100))
def test_matches_the_full_lp(seed, mode):
    kind = ("binding", "slack", "mixed", "mixed")[seed % 4]
    problem = coupled_instance(seed, mode, kind)
    full = outcome(problem, "highspy")
    mine = outcome(problem, "decompose")
    assert_same(problem, full, mine)
    if not isinstance(mine, InfeasiblePlanError):
        assert mine.method == "decomposition" or mine.method.startswith("full LP (decomposition fell back")
    if isinstance(mine, InfeasiblePlanError):
        return
    assert mine.method == "decomposition", mine.method
    # The proof: no task can do better at the final prices, and the plan's cost is the Lagrangian
    # bound at them, so these shadow prices are valid duals of the full program.
    assert mine.proof_max_violation <= 1e-9 * max(1.0, abs(mine.objective_usd_per_day))
    assert abs(mine.proof_gap) <= 1e-9 * max(1.0, abs(mine.objective_usd_per_day))
    assert mine.decomposition_rounds >= 1 and 0 <= mine.restricted_tasks <= len(problem.tasks)


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.BLENDED])
@pytest.mark.parametrize("seed", range(100, 120))
def test_matches_the_full_lp_with_the_shipped_settings(seed, mode):
    """The same on more seeds with the settings `solve` ships with (a fifth of the tasks sampled here,
    first box sized by the half-samples' disagreement, the whole program when most tasks are
    contested)."""
    test_matches_the_full_lp(seed, mode)


def check_heavy(seed, mode, handover: bool = False):
    """The decomposition against the full LP on a heavy-coupling instance: the same optimum (1e-9),
    the proof, and most coupling rows binding (counted, so the family cannot quietly turn light).
    `handover`: a small crowded blended program may go to the full LP instead, saying so. Returns
    the kinds of the binding rows."""
    problem = heavy_instance(seed, mode)
    full = outcome(problem, "highspy")
    mine = outcome(problem, "decompose")
    assert_same(problem, full, mine)
    if handover and mode is Mode.BLENDED and mine.method != "decomposition":
        assert mine.method == f"full LP (decomposition fell back: {decompose.FULL_LP_FASTER})"
    else:
        assert mine.method == "decomposition", mine.method
        scale = max(1.0, abs(mine.objective_usd_per_day))
        assert mine.proof_max_violation <= 1e-9 * scale
        assert abs(mine.proof_gap) <= 1e-9 * scale
    binding = [c for c in full.constraints if c.binding]
    assert len(binding) >= 0.6 * len(full.constraints), [(c.kind, c.subject, c.binding) for c in full.constraints]
    return {c.kind for c in binding}


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.BLENDED])
@pytest.mark.parametrize("seed", range(24))
def test_heavy_coupling_matches_the_full_lp(seed, mode):
    """Most rows binding: a capacity on every model, budgets and vendor caps (issue 19), with this
    module's rough prices, so boxes are hit, widened and re-solved from the previous round's basis."""
    check_heavy(seed, mode)


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.BLENDED])
@pytest.mark.parametrize("seed", range(24, 32))
def test_heavy_coupling_matches_the_full_lp_with_the_shipped_settings(seed, mode):
    """The same with the settings `solve` ships with (a small crowded blended program goes to the
    full LP, which is faster there)."""
    check_heavy(seed, mode, handover=True)


def test_heavy_instances_bind_budgets_caps_and_capacity():
    """Across the heavy seeds every family binds somewhere: capacity, budgets and vendor caps."""
    kinds = set()
    for seed in range(8):
        kinds |= check_heavy(seed, Mode.STRICT)
    assert {"capacity", "budget", "volume_share"} <= kinds


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.BLENDED])
@pytest.mark.parametrize("seed", range(12))
def test_infeasible_gets_the_full_lp_diagnosis(seed, mode):
    problem = coupled_instance(seed, mode, "infeasible")
    full = outcome(problem, "highspy")
    assert isinstance(full, InfeasiblePlanError)
    assert_same(problem, full, outcome(problem, "decompose"))


def test_the_instances_cover_binding_slack_and_infeasible():
    """The seeds above include instances where most capacity rows bind, where none binds, and where
    no plan fits."""
    most_bind = none_bind = infeasible = 0
    for seed in range(0, 100, 4):  # 'binding' seeds
        plan = outcome(coupled_instance(seed, Mode.STRICT, "binding"), "decompose")
        if isinstance(plan, InfeasiblePlanError):
            infeasible += 1
            continue
        capacity = [c for c in plan.constraints if c.kind == "capacity"]
        most_bind += len(capacity) >= 2 and sum(c.binding for c in capacity) > len(capacity) / 2
    for seed in range(1, 100, 4):  # 'slack' seeds
        plan = outcome(coupled_instance(seed, Mode.BLENDED, "slack"), "decompose")
        none_bind += bool(plan.constraints) and not any(c.binding for c in plan.constraints)
    assert most_bind >= 12 and none_bind >= 24 and infeasible >= 3


@pytest.mark.parametrize("seed", range(30))
def test_blended_quality_duals_match_the_full_lp(seed):
    """Per task $/day per point of its threshold: equal to the full LP's, except where the plan is one
    model exactly at the bar (the dual is then any value between the slopes on either side; the
    decomposition reports the upper one, what raising the bar costs)."""
    problem = coupled_instance(seed, Mode.BLENDED, ("binding", "slack", "mixed", "mixed")[seed % 4])
    full, mine = outcome(problem, "highspy"), outcome(problem, "decompose")
    if isinstance(full, InfeasiblePlanError):
        return
    quality = np.nan_to_num(problem.quality)
    threshold = problem.tasks["min_quality"]
    at_bar = ((mine.shares > 1 - 1e-9) & (quality == threshold[:, None])).any(axis=1)
    scale = max(1.0, float(np.abs(full.quality_duals).max()))
    assert np.allclose(mine.quality_duals[~at_bar], full.quality_duals[~at_bar], rtol=1e-6, atol=1e-7 * scale)
    assert (mine.quality_duals[at_bar] >= full.quality_duals[at_bar] - 1e-7 * scale).all()
    for a, b in zip(mine.constraints, full.constraints):
        assert a.shadow_price == pytest.approx(b.shadow_price, rel=1e-6, abs=1e-9)


def test_no_coupling_rows_is_the_closed_form():
    """Without coupling rows every task takes its own best plan: no LP at all."""
    for mode in (Mode.STRICT, Mode.BLENDED):
        catalog, workload, policy = random_instance(5, n_tasks=60, n_models=7)
        problem = build_problem(catalog, workload, policy, mode)
        mine, full = solve(problem, solver="decompose"), solve(problem, solver="highspy")
        assert mine.method == "decomposition" and mine.restricted_tasks == 0 and mine.constraints == ()
        assert mine.objective_usd_per_day == pytest.approx(full.objective_usd_per_day, rel=1e-9)


def test_many_rounds_on_a_larger_instance(monkeypatch):
    """Three hundred tasks, prices from a ten-task sample and boxes of 0.2%: several box steps, the
    same optimum and row use as the full LP; warm-started from its own prices it settles at once."""
    monkeypatch.setattr(decompose, "SAMPLE_TASKS", 10)
    monkeypatch.setattr(decompose, "BOX_RELATIVE", 0.002)
    monkeypatch.setattr(decompose, "BOX_ABSOLUTE", 0.0002)
    catalog, workload, _ = random_instance(7, n_tasks=300, n_models=8)
    problem = build_problem(catalog, workload, Policy())
    free = solve(problem, solver="highspy")
    load = (free.shares * problem.tasks["tokens_per_day"][:, None] / 1e6).sum(axis=0)
    changes = {
        m.id: {"capacity_mtok_per_day": float(load[i] * 0.5)} for i, m in enumerate(catalog.models) if i and load[i] > 0
    }
    problem = build_problem(with_models(catalog, **changes), workload, Policy())
    full, mine = solve(problem, solver="highspy"), solve(problem, solver="decompose")
    assert_same(problem, full, mine)
    assert mine.method == "decomposition" and mine.decomposition_rounds >= 3
    again = solve(problem, solver="decompose", start_prices=mine.coupling_prices)
    assert again.decomposition_rounds == 1
    assert again.objective_usd_per_day == pytest.approx(full.objective_usd_per_day, rel=1e-9)


def test_falls_back_to_the_full_lp_and_says_why(monkeypatch):
    problem = coupled_instance(2, Mode.STRICT, "mixed")
    full = solve(problem, solver="highspy")
    monkeypatch.setattr(decompose, "MAX_ROUNDS", 0)
    plan = solve(problem, solver="decompose")
    assert plan.method == "full LP (decomposition fell back: the prices did not settle within 0 rounds)"
    assert plan.objective_usd_per_day == pytest.approx(full.objective_usd_per_day, rel=1e-12)
    single = build_problem(problem.catalog, problem.workload, problem.policy, Mode.SINGLE)
    assert (
        solve(single, solver="decompose").method
        == "full LP (decomposition fell back: single mode is a mixed-integer program)"
    )
    quality = solve(problem, solver="decompose", objective="quality")
    assert quality.method == "full LP (decomposition fell back: it handles the cost objective only)"


def test_auto_uses_the_decomposition_above_the_threshold(monkeypatch):
    from router_opt.engine import solver as solver_module

    problem = coupled_instance(2, Mode.BLENDED, "mixed")
    assert solve(problem).method == "full LP"
    monkeypatch.setattr(solver_module, "AUTO_DECOMPOSE_COLUMNS", 0)
    plan = solve(problem)
    assert plan.method == "decomposition"
    assert plan.objective_usd_per_day == pytest.approx(solve(problem, solver="highspy").objective_usd_per_day, rel=1e-9)


def restricted_by_definition(blocks, pairs, x_fixed, upper, lower, weights, limits):
    """The restricted LP written out from its definition (every column of `pairs` at once) and
    solved by scipy: min sum_t w_t c x + upper . slack - lower . surplus subject to each task's
    shares summing to 1, (blended) its quality at least its bar, and each coupling row
    sum w_t a x - slack + surplus <= limit - (the fixed plan's use). Returns the optimum."""
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, vstack

    terms = blocks.terms
    cols = np.flatnonzero(pairs)
    col_of = np.full(blocks.n_pairs, -1)
    col_of[cols] = np.arange(cols.size)
    tasks = np.unique(blocks.pair_task[cols])
    row_of_task = np.full(blocks.n_tasks, -1)
    row_of_task[tasks] = np.arange(tasks.size)
    n_k = blocks.n_rows
    w = weights[blocks.pair_task[cols]]
    n = cols.size + 2 * n_k  # pairs, a slack per row, a surplus per row (free of charge where lower = 0)
    assign = coo_matrix(
        (np.ones(cols.size), (row_of_task[blocks.pair_task[cols]], np.arange(cols.size))), (tasks.size, n)
    )
    keep = pairs[terms.entry_pair]
    used = np.zeros(n_k)
    np.add.at(used, terms.entry_row, terms.entry_value * x_fixed[terms.entry_pair])
    coupling = coo_matrix(
        (
            np.r_[
                terms.entry_value[keep] * weights[blocks.pair_task[terms.entry_pair[keep]]], -np.ones(n_k), np.ones(n_k)
            ],
            (
                np.r_[terms.entry_row[keep], np.arange(n_k), np.arange(n_k)],
                np.r_[col_of[terms.entry_pair[keep]], cols.size + np.arange(2 * n_k)],
            ),
        ),
        (n_k, n),
    )
    a_ub, b_ub = coupling, limits - used
    if blocks.blended:
        quality = coo_matrix(
            (-blocks.quality[cols], (row_of_task[blocks.pair_task[cols]], np.arange(cols.size))), (tasks.size, n)
        )
        a_ub, b_ub = vstack([coupling, quality]), np.r_[limits - used, -blocks.threshold[tasks]]
    cost = np.r_[blocks.cost[cols] * w, upper, -lower]
    bounds = [(0, 1)] * cols.size + [(0, None)] * (2 * n_k)
    res = linprog(
        cost, A_ub=a_ub.tocsr(), b_ub=b_ub, A_eq=assign.tocsr(), b_eq=np.ones(tasks.size), bounds=bounds, method="highs"
    )
    assert res.status == 0, res.message
    return res.fun


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.BLENDED])
@pytest.mark.parametrize("seed", range(6))
def test_sifting_reaches_the_optimum_over_every_column(seed, mode):
    """A restricted LP that starts with the tasks' plans alone (weighted tasks, a fixed part, a box
    on every row) prices the other columns in until none is left: its optimum is the one scipy
    finds with every column, and some columns priced in carry traffic (the pricing did the work)."""
    problem = heavy_instance(seed, mode)
    candidates = problem.eligible & ~dominated_candidates(problem)
    blocks = decompose.make_blocks(problem, candidates)
    rng = np.random.default_rng(seed)
    # The plans without prices, which overrun the tight capacities: the LP has to move traffic to
    # columns it does not start with (the box's upper prices make its slack dear).
    resp = decompose.best_responses(blocks, blocks.cost)
    tasks = rng.random(blocks.n_tasks) < 0.7
    pairs = tasks[blocks.pair_task]
    x_fixed = np.zeros(blocks.n_pairs)
    resp.plan(np.flatnonzero(~tasks), x_fixed)
    weights = rng.uniform(0.5, 3.0, blocks.n_tasks)
    upper = 2.0 * blocks.price_reach + blocks.row_scale
    lower = blocks.row_scale * rng.uniform(0.0, 0.5, blocks.n_rows)
    limits = blocks.terms.upper * 1.0
    plans_only = np.zeros(blocks.n_pairs, dtype=bool)
    resp.plan(np.flatnonzero(tasks), plans_only)
    plans_only = plans_only > 0
    sifted = decompose.solve_restricted(
        blocks, tasks, pairs, resp, x_fixed, upper, lower, weights, limits, first_columns=plans_only
    )
    whole = decompose.solve_restricted(blocks, tasks, pairs, resp, x_fixed, upper, lower, weights, limits)

    def value(out):
        box = np.where(lower > 0, lower, 0.0)
        return float((blocks.cost * weights[blocks.pair_task]) @ out.x + upper @ out.slack - box @ out.surplus)

    expected = restricted_by_definition(blocks, pairs, x_fixed, upper, np.where(lower > 0, lower, 0.0), weights, limits)
    assert value(sifted) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert value(whole) == pytest.approx(expected, rel=1e-9, abs=1e-9)
    assert (sifted.x[pairs & ~plans_only] > 1e-9).any()
    assert np.allclose(np.bincount(blocks.pair_task, weights=sifted.x, minlength=blocks.n_tasks)[tasks], 1.0)


def test_certify_catches_a_plan_that_is_not_optimal():
    """The proof is not a formality: a plan moved off the optimum shows a positive violation."""
    problem = coupled_instance(6, Mode.STRICT, "slack")
    candidates = problem.eligible & ~dominated_candidates(problem)
    result = decompose.solve_decomposed(problem, candidates)
    blocks = result.blocks
    assert decompose.certify(blocks, result.x, result.prices).proves_optimal
    spread = np.maximum.reduceat(blocks.cost, blocks.task_start[:-1]) - np.minimum.reduceat(
        blocks.cost, blocks.task_start[:-1]
    )
    task = int(np.argmax(spread))
    assert spread[task] > 0
    worse = result.x.copy()
    dearest = int(np.argmax(np.where(blocks.pair_task == task, blocks.cost, -np.inf)))
    worse[blocks.pair_task == task] = 0.0
    worse[dearest] = 1.0
    certificate = decompose.certify(blocks, worse, result.prices)
    assert not certificate.proves_optimal and certificate.violators[task]
    assert certificate.gap == pytest.approx(float(blocks.cost @ worse) - float(blocks.cost @ result.x), rel=1e-9)


def reference_dominated(problem, objective):
    """dominated_candidates as first written: a 3-key lexsort per task (cost, -quality, position)."""
    from router_opt.constraints.vendor_caps import capped_providers
    from router_opt.engine import Objective

    eligible = problem.eligible
    if any(cap.max_spend_share is not None for cap in problem.policy.vendor_caps.values()):
        return np.zeros(eligible.shape, dtype=bool)
    models = problem.models
    free_model = (
        np.isnan(models["capacity_mtok_per_day"])
        & (models["fixed_usd_per_month"] == 0)
        & ~np.isin(models["provider"], list(capped_providers(problem)))
    )
    use_quality = problem.mode is Mode.BLENDED or objective is Objective.QUALITY
    cost = np.where(eligible, problem.usd_per_day, np.inf)
    quality = np.where(eligible, np.nan_to_num(problem.quality, nan=-np.inf), -np.inf)
    key_quality = quality if use_quality else np.zeros_like(quality)
    positions = np.broadcast_to(np.arange(cost.shape[1]), cost.shape)
    order = np.lexsort((positions, -quality, cost), axis=1)
    sorted_free = np.take_along_axis(eligible & free_model[None, :], order, axis=1)
    sorted_quality = np.take_along_axis(key_quality, order, axis=1)
    best = np.maximum.accumulate(np.where(sorted_free, sorted_quality, -np.inf), axis=1)
    before = np.concatenate([np.full((cost.shape[0], 1), -np.inf), best[:, :-1]], axis=1)
    dominated = np.zeros(eligible.shape, dtype=bool)
    np.put_along_axis(dominated, order, before >= sorted_quality, axis=1)
    return dominated & eligible


@pytest.mark.parametrize("seed", range(40))
def test_fast_dominated_candidates_match_the_lexsort(seed):
    """Including ties in cost and quality (copied prices and ratings), capacity and capped providers."""
    from router_opt.engine import Objective

    rng = np.random.default_rng(seed)
    catalog, workload, _ = random_instance(500 + seed, n_tasks=30, n_models=8)
    models = catalog.models
    changes = {m.id: {"provider": "Acme" if i % 3 == 1 else "Bigco"} for i, m in enumerate(models)}
    for i in range(1, len(models)):
        if rng.random() < 0.3:
            changes[models[i].id]["capacity_mtok_per_day"] = 5.0
        if rng.random() < 0.4:
            j = int(rng.integers(0, len(models)))
            changes[models[i].id]["input_usd_per_mtok"] = models[j].input_usd_per_mtok
            changes[models[i].id]["output_usd_per_mtok"] = models[j].output_usd_per_mtok
            if rng.random() < 0.5:
                changes[models[i].id]["quality"] = dict(models[j].quality)
    catalog = with_models(catalog, **changes)
    policy = Policy(vendor_caps={"Acme": VendorCap(max_volume_share=0.6)}) if seed % 2 else Policy()
    for mode in (Mode.STRICT, Mode.BLENDED):
        problem = build_problem(catalog, workload, policy, mode)
        for objective in (Objective.COST, Objective.QUALITY):
            assert np.array_equal(dominated_candidates(problem, objective), reference_dominated(problem, objective))


def _at_the_bar_instance(seed: int):
    """Blended, with every bar at some model's own quality for the task's type, the baseline's (the
    best, so nothing rises above it) included: plans sit exactly at their bars. Capacity at half the
    uncoupled load on every model but the baseline."""
    from router_opt.models import Workload

    rng = np.random.default_rng(seed)
    catalog, workload, _ = random_instance(900 + seed, n_tasks=24, n_models=6)

    def bar(task):
        rated = [m.quality[task.task_type] for m in catalog.models if task.task_type in m.quality]
        return float(rng.choice(rated))

    workload = Workload(name="w", tasks=tuple(t.model_copy(update={"min_quality": bar(t)}) for t in workload.tasks))
    problem = build_problem(catalog, workload, Policy(), Mode.BLENDED)
    load = (solve(problem, solver="highspy").shares * problem.tasks["tokens_per_day"][:, None] / 1e6).sum(axis=0)
    changes = {m.id: {"capacity_mtok_per_day": float(load[i] * 0.5) + 1e-6} for i, m in enumerate(catalog.models) if i}
    catalog = with_models(catalog, **changes)
    return catalog, workload, build_problem(catalog, workload, Policy(), Mode.BLENDED)


@pytest.mark.parametrize("seed", range(16))
def test_blended_dual_at_the_bar_does_not_depend_on_the_path(seed):
    """A plan exactly at its bar has a range of valid duals; the decomposition reports the hull's
    (the upper slope, the lower where nothing rises above the bar) whether the task ended in the
    restricted LP or was fixed by the prices. Two runs that split the tasks differently (a one-task
    sample with boxes of 0.2%, against the default sample and boxes) give the same duals where they
    end at the same coupling prices (a model given a capacity of 1e-6 that no plan uses has a range
    of valid prices, and two paths may end at different ones); at the bar each run's is a valid
    dual, between what lowering and what raising that one bar by 1e-4 saves and costs per point
    (the full LP re-solved each way: the least and the most any dual can be)."""
    from router_opt.models import Workload

    catalog, workload, problem = _at_the_bar_instance(seed)
    candidates = problem.eligible & ~dominated_candidates(problem)
    narrow = decompose.solve_decomposed(problem, candidates, sample_tasks=1, box_relative=0.002, box_absolute=0.0002)
    wide = decompose.solve_decomposed(problem, candidates)
    if np.allclose(narrow.prices, wide.prices, rtol=1e-9, atol=1e-12):
        np.testing.assert_allclose(narrow.quality_duals, wide.quality_duals, rtol=1e-6, atol=1e-9)
    shares = np.zeros(problem.eligible.shape)
    shares[narrow.blocks.pair_task, narrow.blocks.pair_model] = narrow.x
    at_bar = np.flatnonzero(
        ((shares > 1 - 1e-9) & (np.nan_to_num(problem.quality) == problem.tasks["min_quality"][:, None])).any(axis=1)
    )
    assert at_bar.size > 0
    base = solve(problem, solver="highspy").objective_usd_per_day
    step = 1e-4

    def cost_with_bar_moved(t: int, by: float) -> float:
        """The full LP's cost with task t's bar moved; infinite where no model reaches it."""
        from router_opt.errors import InfeasibleError

        tasks = list(workload.tasks)
        tasks[t] = tasks[t].model_copy(update={"min_quality": tasks[t].min_quality + by})
        try:
            moved = build_problem(catalog, Workload(name="w", tasks=tuple(tasks)), Policy(), Mode.BLENDED)
        except InfeasibleError:
            return np.inf
        return solve(moved, solver="highspy").objective_usd_per_day

    for t in at_bar[:3]:
        left = (base - cost_with_bar_moved(t, -step)) / step
        right = (cost_with_bar_moved(t, step) - base) / step
        for run in (narrow, wide):
            assert left * (1 - 1e-3) - 1e-6 <= run.quality_duals[t] <= right * (1 + 1e-3) + 1e-6
