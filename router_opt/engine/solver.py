"""The entry point: RoutingProblem -> Solution. Drops dominated candidates (engine.presolve), then
solves the program whole (engine.program, on a backend from engine.backends) or by price-and-fix
decomposition (engine.decompose), and reports every coupling row in its family's units.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field, replace

import numpy as np

from router_opt.constraints import FAMILIES, Charge, Sense, family_of
from router_opt.engine.backends import BACKENDS, Backend, RawSolution, Status
from router_opt.engine.diagnose import InfeasiblePlanError, diagnose
from router_opt.engine.objective import Objective
from router_opt.engine.presolve import dominated_candidates
from router_opt.engine.program import (
    LinearProgram,
    build_program,
    with_integers_fixed,
    with_quality_floor,
)
from router_opt.errors import SolverError
from router_opt.frame import Mode, RoutingProblem
from router_opt.units import DAYS_PER_YEAR

# Shares below this are solver noise (simplex leaves 1e-12-sized values); they are set to zero.
SHARE_EPSILON = 1e-9
# A coupling row counts as binding when its slack is below this fraction of its limit (HiGHS's
# feasibility tolerance is 1e-7 absolute on scaled rows, so a tighter test would miss real ones).
BINDING_TOLERANCE = 1e-6

SOLVERS = ("auto", *BACKENDS, "decompose")
# Above this many columns `auto` hands the program to highspy directly: PuLP's HiGHS interface adds
# columns and rows one Python call at a time, which dominates the run time on large cases, while the
# program and its answer are the same (docs/PERFORMANCE.md).
AUTO_DIRECT_COLUMNS = 50_000
# Above this many candidate columns `auto` solves a strict or blended cost LP whose families all
# allow it by price-and-fix decomposition (engine.decompose): exact, with a proof, and far faster
# than the whole LP on large cases; below it every solve is quick either way and the whole LP stays
# the reference (docs/PERFORMANCE.md, "auto's thresholds").
AUTO_DECOMPOSE_COLUMNS = 10_000


@dataclass(frozen=True)
class ConstraintReport:
    """A coupling row after the solve: how much of it the plan uses and what it is worth."""

    kind: str
    subject: str
    limit: float
    used: float
    unit: str
    binding: bool
    shadow_price: float | None
    """Change of the objective ($/day, or quality points with --objective quality) per unit more
    limit (per percentage point for share caps); None for a mixed-integer solve."""


@dataclass(frozen=True)
class Solution:
    """What the solver decided, with enough about the run to reproduce and explain it."""

    used: tuple[np.ndarray, np.ndarray, np.ndarray]
    """(task, model, share) of the cells with a positive share, tasks ascending and each task's
    models in catalog order (what `np.nonzero(shares)` gives); see `used_pairs`."""
    shape: tuple[int, int]
    """(tasks, models) of the problem."""
    provisioned: np.ndarray
    """M bools: a fixed-cost deployment is provisioned (True for every model without a fixed cost)."""
    objective_usd_per_day: float
    """Variable $/day of the plan plus its charges (fixed costs, unused commitments)."""
    solver: str
    """Solver that produced the plan, with its version."""
    status: Status
    """optimal, or time_limit (a feasible plan, possibly not optimal: see mip_gap)."""
    constraints: tuple[ConstraintReport, ...]
    """Every coupling row with its use and shadow price."""
    quality_duals: np.ndarray | None
    """Blended mode: $/day per point of each task's threshold (None otherwise)."""
    mip_gap: float | None
    """Relative gap of a mixed-integer solve (0 when proven optimal); None for an LP."""
    candidates: int
    """Columns for (task, model) pairs after dropping dominated ones."""
    pairs: int
    """Eligible (task, model) pairs before that."""
    build_seconds: float = 0.0
    solve_seconds: float = 0.0
    timings: dict = field(default_factory=dict)
    method: str = "full LP"
    """How the program was solved: "full LP", "decomposition", or "full LP (decomposition fell back:
    <why>)"."""
    proof_max_violation: float | None = None
    """Decomposition: the largest amount ($/day) by which any task's plan exceeds the best plan it
    could have at the final coupling prices (0 up to rounding means optimal); None otherwise."""
    proof_gap: float | None = None
    """Decomposition: plan cost minus the Lagrangian lower bound at the final prices ($/day)."""
    decomposition_rounds: int | None = None
    restricted_tasks: int | None = None
    """Decomposition: tasks in the final restricted LP (the rest were fixed by the prices)."""
    coupling_prices: np.ndarray | None = None
    """Decomposition: the coupling rows' prices (>= 0), to warm-start a nearby solve."""
    coupling_duals: np.ndarray | None = None
    """Cost LP (no integer columns): each coupling row's price lambda >= 0 in the row's canonical
    `<=` form (`coupling_terms` order), $/day per unit of activity; None for a mixed-integer or
    quality solve. `router_opt.sensitivity` prices a task's move with them."""
    charges: tuple[Charge, ...] = ()
    """The program's charge columns (deployments, unused commitments)."""
    charge_values: np.ndarray | None = None
    """The plan's value of each charge column (1/0 for a deployment, $/day for a commitment)."""

    @property
    def charges_usd_per_day(self) -> float:
        """What the plan pays besides its traffic: provisioned deployments, unused commitments."""
        if not self.charges:
            return 0.0
        return float(np.array([c.usd_per_day for c in self.charges]) @ self.charge_values)

    def used_pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(task, model, share) of the plan's cells with a positive share, in row-major order.
        A plan is a handful of cells in a T x M matrix: at 50,000 x 100, reading the dense matrix
        once costs more (page faults on its 40 MB) than everything done with these pairs."""
        return self.used

    @functools.cached_property
    def shares(self) -> np.ndarray:
        """T x M share of each task's daily volume sent to each model (rows sum to 1), made on
        first use: the plan itself is `used`, and nothing on the way to a report needs the 40 MB
        matrix of a 50,000 x 100 problem."""
        task, model, share = self.used
        dense = np.zeros(self.shape, dtype=float)
        dense[task, model] = share
        return dense


def solve(
    problem: RoutingProblem,
    solver: str = "auto",
    objective: Objective | str = Objective.COST,
    time_limit_seconds: float | None = None,
    presolve: bool = True,
    days_per_year: int = DAYS_PER_YEAR,
    start_prices: np.ndarray | None = None,
) -> Solution:
    """Solve the routing program for `problem`. `solver`: auto (HiGHS through PuLP, highspy directly
    above AUTO_DIRECT_COLUMNS columns, or the decomposition above AUTO_DECOMPOSE_COLUMNS for the
    programs it handles; CBC when highspy is missing), a backend's name (engine.backends.BACKENDS),
    or decompose (the decomposition whenever it applies, else the full LP through highspy, saying why
    in `method`). `start_prices`: coupling prices from a nearby solve (`Solution.coupling_prices`)
    for the decomposition to start from."""
    objective = Objective(objective)
    started = time.perf_counter()
    backend = _backend(solver)
    if presolve:
        # eligible & ~dominated, in the dominated mask's own buffer (one T x M bool array, not three).
        candidates = dominated_candidates(problem, objective)
        np.logical_not(candidates, out=candidates)
        candidates &= problem.eligible
    else:
        candidates = problem.eligible.copy()
    method = "full LP"
    if solver in {"auto", "decompose"} and backend is not None and backend.name != "cbc":
        why_not = why_not_decomposable(problem, objective)
        if solver == "decompose" or (why_not is None and np.count_nonzero(candidates) > AUTO_DECOMPOSE_COLUMNS):
            if why_not is None:
                from router_opt.engine.decompose import DecompositionFailed, solve_decomposed

                try:
                    decomposition = solve_decomposed(problem, candidates, days_per_year, start_prices=start_prices)
                except DecompositionFailed as exc:
                    why_not = exc.reason
                else:
                    return _decomposed_solution(problem, decomposition, candidates, started)
            method = f"full LP (decomposition fell back: {why_not})"
            backend = BACKENDS["highspy"]
    program = build_program(problem, objective, candidates, days_per_year)
    if solver == "auto" and backend.name == "highs" and program.n_cols > AUTO_DIRECT_COLUMNS:
        backend = BACKENDS["highspy"]
    built = time.perf_counter()
    raw, duals_from = _solve_whole(problem, program, backend, objective, candidates, time_limit_seconds, days_per_year)
    solved = time.perf_counter()
    return _solution(problem, program, raw, duals_from, objective, candidates, method, built - started, solved - built)


def _backend(solver: str) -> Backend:
    """The backend `--solver` names (auto and decompose: HiGHS through PuLP, or CBC without highspy)."""
    if solver not in SOLVERS:
        raise SolverError(f"unknown solver '{solver}'; choose one of {', '.join(SOLVERS)}")
    if solver in BACKENDS:
        backend = BACKENDS[solver]
        if not backend.available():
            raise SolverError("HiGHS is not available: install highspy (pip install highspy)")
        return backend
    if BACKENDS["highspy"].available():
        return BACKENDS["highspy"] if solver == "decompose" else BACKENDS["highs"]
    if solver == "decompose":
        raise SolverError("HiGHS is not available: install highspy (pip install highspy)")
    return BACKENDS["cbc"]


def _solve_whole(
    problem: RoutingProblem,
    program: LinearProgram,
    backend: Backend,
    objective: Objective,
    candidates: np.ndarray,
    time_limit_seconds: float | None,
    days_per_year: int,
) -> tuple[RawSolution, RawSolution]:
    """(the plan's raw solution, the one whose row duals price it)."""
    raw = backend.solve(program, time_limit_seconds)
    if raw.status is Status.INFEASIBLE:
        raise InfeasiblePlanError(diagnose(problem, program, backend))
    if raw.status is Status.FAILED:
        raise SolverError(f"the solver failed: {raw.solver}")
    if raw.row_dual is None and problem.mode is not Mode.SINGLE and program.col_integer.any():
        # Deployment decisions made the program mixed-integer, which has no shadow prices. With
        # those decisions held at the optimum the rest is an LP with the same optimum: its duals
        # price capacity, budgets and caps for the chosen set of deployments.
        relaxed = backend.solve(with_integers_fixed(program, raw.x), time_limit_seconds)
        if relaxed.status is Status.OPTIMAL:
            raw = replace(raw, row_dual=relaxed.row_dual)
    duals_from = raw
    if objective is Objective.QUALITY:
        # Second pass: the cheapest of the best-quality plans, so spare budget is not spent for nothing.
        best_quality = -float(program.col_cost @ raw.x)
        cost_program = build_program(problem, Objective.COST, candidates, days_per_year)
        second = backend.solve(with_quality_floor(cost_program, program, best_quality), time_limit_seconds)
        if second.status.has_plan:
            raw = second
    return raw, duals_from


def _solution(
    problem: RoutingProblem,
    program: LinearProgram,
    raw: RawSolution,
    duals_from: RawSolution,
    objective: Objective,
    candidates: np.ndarray,
    method: str,
    build_seconds: float,
    solve_seconds: float,
) -> Solution:
    """The cleaned plan (shares clipped to [0, 1], solver noise removed, integers rounded) and its
    rows' reports."""
    n_pairs = program.n_pairs
    values = np.clip(raw.x[:n_pairs], 0.0, 1.0)
    values[values < SHARE_EPSILON] = 0.0
    if problem.mode is Mode.SINGLE:
        values = np.round(values)  # integral up to the solver's tolerance
    used = used_cells(problem.eligible.shape, program.pair_task, program.pair_model, values)
    charge_values = np.maximum(raw.x[n_pairs : n_pairs + len(program.charges)], 0.0)
    charge_values[program.col_integer[n_pairs:]] = np.round(charge_values[program.col_integer[n_pairs:]])
    provisioned = np.ones(len(problem.models), dtype=bool)
    for charge, value in zip(program.charges, charge_values.tolist()):
        if charge.integer and charge.model >= 0:
            provisioned[charge.model] = value > 0.5
    charge_cost = np.array([c.usd_per_day for c in program.charges], dtype=float)
    objective_usd_per_day = float(used[2] @ problem.usd_per_day[used[0], used[1]] + charge_cost @ charge_values)
    # Use of each row from the cleaned plan, so a binding limit reads as exactly used rather than
    # off by the solver's tolerance.
    reports = constraint_reports(
        program,
        np.r_[values, charge_values],
        duals_from.row_dual,
        objective,
        objective_usd_per_day,
        float(problem.tasks["invocations_per_day"].sum()),
    )
    reports = _unprovisioned_rows_slack(reports, problem, provisioned)
    coupling_duals = None
    if not program.col_integer.any() and objective is Objective.COST and raw.row_dual is not None:
        rows = slice(program.first_coupling_row, program.first_coupling_row + len(program.coupling))
        coupling_duals = np.maximum(-np.asarray(raw.row_dual, dtype=float)[rows], 0.0)
    quality_duals = None
    if program.quality_rows is not None and raw.row_dual is not None and objective is Objective.COST:
        quality_duals = raw.row_dual[program.quality_rows]
    return Solution(
        used=used,
        shape=problem.eligible.shape,
        provisioned=provisioned,
        objective_usd_per_day=objective_usd_per_day,
        solver=raw.solver,
        status=raw.status,
        constraints=reports,
        quality_duals=quality_duals,
        mip_gap=raw.mip_gap,
        candidates=int(np.count_nonzero(candidates)),
        pairs=int(np.count_nonzero(problem.eligible)),
        build_seconds=build_seconds,
        solve_seconds=solve_seconds,
        method=method,
        coupling_duals=coupling_duals,
        charges=program.charges,
        charge_values=charge_values,
    )


def _unprovisioned_rows_slack(
    reports: tuple[ConstraintReport, ...], problem: RoutingProblem, provisioned: np.ndarray
) -> tuple[ConstraintReport, ...]:
    """A deployment the plan does not provision has its capacity (and link) row at 0 = 0 x capacity:
    formally tight, but no limit holds anything back; its fixed cost does (router_opt.sensitivity
    says by how much). Such rows are reported not binding and unpriced."""
    if provisioned.all():
        return reports
    off = {str(problem.models["id"][m]) for m in np.flatnonzero(~provisioned)}
    return tuple(
        replace(r, binding=False, shadow_price=None) if family_of(r.kind).switched_off(r, off) else r for r in reports
    )


def used_cells(
    shape: tuple[int, int], pair_task: np.ndarray, pair_model: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`Solution.used` (the positive cells, row-major) from one value per (task, model) column of
    the program. Each task's shares are divided by their sum: a plan's shares add up to 1 (a lone
    model carries exactly 1.0, not the solver's 0.9999999999999979 that a gateway would load as a
    weight)."""
    positive = values > 0
    task, model, share = pair_task[positive], pair_model[positive], values[positive]
    total = np.bincount(task, weights=share, minlength=shape[0])
    share = share / total[task]
    cell = task.astype(np.int64) * shape[1] + model
    if cell.size > 1 and not (cell[1:] > cell[:-1]).all():  # columns are built row-major; make sure
        order = np.argsort(cell, kind="stable")
        task, model, share = task[order], model[order], share[order]
    return task, model, share


def why_not_decomposable(problem: RoutingProblem, objective: Objective) -> str | None:
    """None when the decomposition applies to `problem`, else the reason it does not."""
    if problem.mode is Mode.SINGLE:
        return "single mode is a mixed-integer program"
    if objective is not Objective.COST:
        return "it handles the cost objective only"
    if (problem.models["fixed_usd_per_month"] > 0).any():
        return "fixed-cost deployments make the program mixed-integer"
    for family in FAMILIES:
        if not family.decomposable and family.applies(problem):
            return f"{family.kinds[0].replace('_', ' ')} adds columns the decomposition does not model"
    return None


def _decomposed_solution(problem: RoutingProblem, decomposition, candidates: np.ndarray, started: float) -> Solution:
    """A `Solution` from the decomposition, cleaned and reported exactly like the full LP's."""
    blocks = decomposition.blocks
    values = np.clip(decomposition.x, 0.0, 1.0)
    values[values < SHARE_EPSILON] = 0.0
    used = used_cells(problem.eligible.shape, blocks.pair_task, blocks.pair_model, values)
    objective_usd_per_day = float(used[2] @ problem.usd_per_day[used[0], used[1]])
    terms = blocks.terms
    activity = np.bincount(
        terms.entry_row, weights=terms.entry_value * values[terms.entry_pair], minlength=terms.n_rows
    )
    reports = reports_from(
        terms.rows,
        activity,
        activity,
        terms.upper,
        -decomposition.prices,
        Objective.COST,
        objective_usd_per_day,
        float(problem.tasks["invocations_per_day"].sum()),
    )
    solved = time.perf_counter()
    return Solution(
        used=used,
        shape=problem.eligible.shape,
        provisioned=np.ones(len(problem.models), dtype=bool),
        objective_usd_per_day=objective_usd_per_day,
        solver=f"{decomposition.solver} in a price-and-fix decomposition",
        status=Status.OPTIMAL,
        constraints=reports,
        quality_duals=decomposition.quality_duals,
        mip_gap=None,
        candidates=int(np.count_nonzero(candidates)),
        pairs=int(np.count_nonzero(problem.eligible)),
        build_seconds=decomposition.timings.get("blocks", 0.0),
        solve_seconds=solved - started - decomposition.timings.get("blocks", 0.0),
        timings=dict(decomposition.timings),
        method="decomposition",
        proof_max_violation=decomposition.max_violation,
        proof_gap=decomposition.gap,
        decomposition_rounds=decomposition.rounds,
        restricted_tasks=decomposition.restricted_tasks,
        coupling_prices=decomposition.prices,
        coupling_duals=np.maximum(np.asarray(decomposition.prices, dtype=float), 0.0),
    )


def constraint_reports(
    program: LinearProgram, x: np.ndarray, duals, objective: Objective, spend_usd_per_day: float, volume_per_day: float
) -> tuple[ConstraintReport, ...]:
    """Each coupling row in the units a person thinks in (see `reports_from`)."""
    n_pairs = program.n_pairs
    entry_row = np.repeat(np.arange(program.n_rows), np.diff(program.row_start))
    contribution = program.row_value * x[program.row_index]
    activity = np.bincount(entry_row, weights=contribution, minlength=program.n_rows)
    # Rows that also hold charge columns (-capacity x y on a deployment's row): traffic is the pairs' part.
    traffic = np.bincount(
        entry_row, weights=np.where(program.row_index < n_pairs, contribution, 0.0), minlength=program.n_rows
    )
    rows = slice(program.first_coupling_row, program.first_coupling_row + len(program.coupling))
    return reports_from(
        program.coupling,
        activity[rows],
        traffic[rows],
        program.row_upper[rows],
        None if duals is None else np.asarray(duals)[rows],
        objective,
        spend_usd_per_day,
        volume_per_day,
    )


def reports_from(
    coupling: list,
    activity: np.ndarray,
    traffic: np.ndarray,
    upper: np.ndarray,
    duals: np.ndarray | None,
    objective: Objective,
    spend_usd_per_day: float,
    volume_per_day: float,
) -> tuple[ConstraintReport, ...]:
    """Reports from each coupling row's canonical activity (all columns), traffic (pair columns
    only), right-hand side and row dual (HiGHS's sign: <= 0 on a binding <= row of a minimisation).
    Each family turns them into its own unit; shadow prices are per unit of the stated limit (per
    Mtok/day, per USD/day, per task slot, per percentage point for share caps)."""
    out = []
    for k, row in enumerate(coupling):
        used, limit, per_unit = family_of(row.kind).report(
            row, float(activity[k]), float(traffic[k]), float(upper[k]), spend_usd_per_day, volume_per_day
        )
        slack = (limit - used) if row.sense is Sense.AT_MOST else (used - limit)
        dual = None if duals is None else float(duals[k]) * per_unit
        binding = bool(
            (np.isfinite(slack) and slack <= BINDING_TOLERANCE * max(1.0, abs(limit)))
            or (dual is not None and abs(dual) > 1e-12)
        )
        if dual is not None and objective is Objective.QUALITY:
            dual = -dual  # quality points gained per unit of limit
        out.append(ConstraintReport(row.kind, row.subject, row.limit, used, row.unit, binding, dual))
    return tuple(out)


def cheapest_eligible(problem: RoutingProblem) -> np.ndarray:
    """The closed-form strict-mode optimum without coupling constraints: each task wholly on its
    cheapest eligible model (ties: higher quality, then catalog order). The LP's test oracle."""
    cost = np.where(problem.eligible, problem.usd_per_day, np.inf)
    quality = np.nan_to_num(problem.quality, nan=-np.inf)
    # lexsort sorts by the last key first: cost, then -quality, then model position.
    positions = np.broadcast_to(np.arange(cost.shape[1]), cost.shape)
    chosen = np.lexsort((positions, -quality, cost), axis=1)[:, 0]
    shares = np.zeros(cost.shape, dtype=float)
    shares[np.arange(cost.shape[0]), chosen] = 1.0
    return shares
