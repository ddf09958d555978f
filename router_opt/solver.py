"""RoutingProblem -> linear (or mixed-integer) program -> shares. The only module that imports pulp
and highspy.

Columns: x[t, m] >= 0 for each candidate (task, model) pair, the share of task t's daily volume on
model m; y[m] in {0, 1} for each self-hosted deployment with a fixed monthly cost (provisioned or
not). Rows:

- assign[t]:   sum_m x[t, m] = 1
- quality[t]:  sum_m q[t, m] x[t, m] >= threshold[t]                      (blended mode)
- capacity[m]: sum_t Mtok[t] x[t, m] <= capacity[m] (x y[m] when m has a fixed cost)
- link[m]:     sum_t x[t, m] <= (number of tasks) y[m]                    (fixed cost, no capacity)
- budget[d]:   sum_{t in d} cost[t, m] x[t, m] <= budget[d]
- total budget: sum cost x + fixed y <= budget
- spend share[p]:  spend on p's models <= share x total spend
- volume share[p]: invocations on p's models <= share x total invocations

The program is assembled once as sparse arrays (`LinearProgram`) and handed either to PuLP (with
HiGHS or CBC) or straight to highspy. Before that, candidates that are provably never needed are
dropped (`dominated_candidates`): without coupling rows that leaves one candidate per task, so the
closed-form answer falls out of the same code path.
"""

from __future__ import annotations

import functools
import time
import warnings
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import metadata

import numpy as np

from router_opt import formatting as fmt
from router_opt.errors import RouterOptError, SolverError
from router_opt.frame import TOKENS_PER_MTOK, Mode, RoutingProblem, first_seen_codes
from router_opt.units import DAYS_PER_YEAR, MONTHS_PER_YEAR

# Shares below this are solver noise (simplex leaves 1e-12-sized values); they are set to zero.
SHARE_EPSILON = 1e-9
# A coupling row counts as binding when its slack is below this fraction of its limit (HiGHS's
# feasibility tolerance is 1e-7 absolute on scaled rows, so a tighter test would miss real ones).
BINDING_TOLERANCE = 1e-6

SOLVERS = ("auto", "highs", "highspy", "cbc", "decompose")
# Above this many columns `auto` hands the program to highspy directly: PuLP's HiGHS interface adds
# columns and rows one Python call at a time, which dominates the run time on large cases (see
# docs/PERFORMANCE.md), while the program and its answer are the same.
AUTO_DIRECT_COLUMNS = 50_000
# Above this many candidate columns `auto` solves a strict or blended cost LP without fixed-cost
# deployments by price-and-fix decomposition (router_opt.decompose): exact, with a proof, and far
# faster than the whole LP on large cases. Measured here (benchmark generator, capacity on most
# cheap models): at 9-10k candidates 0.03 s against 0.12 s for the whole LP through PuLP (0.04 s
# highspy direct); at 49k (blended) 0.15 s against 1.0 s (0.37 s); below 10k every solve takes
# under 0.13 s either way, and the whole LP stays the reference.
AUTO_DECOMPOSE_COLUMNS = 10_000


class Objective(StrEnum):
    """What the optimizer minimises or maximises."""

    COST = "cost"
    """Cheapest plan that meets every threshold and constraint."""
    QUALITY = "quality"
    """Best invocation-weighted quality within the budgets (then the cheapest such plan)."""


@dataclass(frozen=True)
class CouplingRow:
    """A constraint that ties tasks together, in words a report can print."""

    kind: str
    """capacity, deployment, budget, total_budget, spend_share or volume_share."""
    subject: str
    """The model, department or provider it limits."""
    limit: float
    """Right-hand side, in `unit`."""
    unit: str
    """Mtok/day, USD/day, share, or tasks."""


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


class InfeasiblePlanError(RouterOptError):
    """No plan satisfies every constraint; `relaxations` says which to loosen and by how much."""

    def __init__(self, relaxations: list[str]):
        self.relaxations = list(relaxations)
        lines = ["No routing plan satisfies every constraint. The smallest relaxation found (minimum total"]
        lines.append("relative change, from an elastic version of the problem) is:")
        lines += [f"  - {r}" for r in self.relaxations]
        super().__init__("\n".join(lines))


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
    """Variable plus fixed $/day of the plan."""
    solver: str
    """Solver that produced the plan, with its version."""
    status: str
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
    """Cost LP (no integer columns): each coupling row's price lambda >= 0 in the row's own units
    (`coupling_terms` order), $/day per unit of activity; None for a mixed-integer or quality solve.
    `router_opt.sensitivity` prices a task's move with them."""

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


# --------------------------------------------------------------------------------------------------
# Presolve: candidates that can be dropped without changing the optimum.


def _capped_providers(problem: RoutingProblem) -> set[str]:
    caps = problem.policy.vendor_caps
    providers = set(problem.models["provider"])
    return providers if "*" in caps else providers & set(caps)


def dominated_candidates(problem: RoutingProblem, objective: Objective = Objective.COST) -> np.ndarray:
    """T x M: eligible pairs that some *free* model (no capacity, no fixed cost, provider without a
    cap) serves at least as cheaply and, where quality enters the program (blended mode, quality
    objective), at least as well. Moving a dominated pair's share to its dominator never raises
    cost, never lowers quality, and uses nothing any coupling row limits, so the optimum survives.
    A spend-share cap breaks that argument (a cheaper plan shrinks the total every share is taken
    of), so with one nothing is dropped. Ties go to the higher quality, then the catalog order.

    Each task's models are ordered by (cost, higher quality first, catalog position); a pair is
    dominated when a free eligible model comes before it in that order and (where quality counts)
    is at least as good. Without quality that is one masked minimum per task; with it, one sort by
    cost and a running maximum of the free models' quality."""
    eligible = problem.eligible
    if any(cap.max_spend_share is not None for cap in problem.policy.vendor_caps.values()):
        return np.zeros(eligible.shape, dtype=bool)
    models = problem.models
    capped = _capped_providers(problem)
    free_model = (
        np.isnan(models["capacity_mtok_per_day"])
        & (models["fixed_usd_per_month"] == 0)
        & ~np.isin(models["provider"], list(capped))
    )
    n_tasks, n_models = eligible.shape
    if not free_model.any() or n_tasks == 0:
        return np.zeros(eligible.shape, dtype=bool)
    use_quality = problem.mode is Mode.BLENDED or objective is Objective.QUALITY
    if not use_quality:
        return _dominated_by_first_free(eligible, problem.usd_per_day, problem.quality, free_model)
    cost = np.where(eligible, problem.usd_per_day, np.inf)
    quality = np.where(eligible, np.nan_to_num(problem.quality, nan=-np.inf), -np.inf)

    # Order each task's models by cost; tied costs need the full (cost, -quality, position) order,
    # so the few tasks with a tie among eligible pairs are sorted again by all three keys.
    order = np.argsort(cost, axis=1)
    sorted_cost = np.take_along_axis(cost, order, axis=1)
    tied = ((sorted_cost[:, 1:] == sorted_cost[:, :-1]) & np.isfinite(sorted_cost[:, 1:])).any(axis=1)
    if tied.any():
        rows = np.flatnonzero(tied)
        positions = np.broadcast_to(np.arange(n_models), (rows.size, n_models))
        order[rows] = np.lexsort((positions, -quality[rows], cost[rows]), axis=1)
    sorted_quality = np.take_along_axis(quality, order, axis=1)
    sorted_free = np.take_along_axis(eligible & free_model[None, :], order, axis=1)
    free_quality = np.where(sorted_free, sorted_quality, -np.inf).T  # M x T: contiguous columns
    before = np.empty_like(free_quality)  # best free quality strictly before each position
    before[0] = -np.inf
    for k in range(1, n_models):
        np.maximum(before[k - 1], free_quality[k - 1], out=before[k])
    dominated_sorted = before.T >= sorted_quality
    dominated = np.zeros(eligible.shape, dtype=bool)
    np.put_along_axis(dominated, order, dominated_sorted, axis=1)
    return dominated & eligible


def _dominated_by_first_free(eligible, usd_per_day, quality, free_model) -> np.ndarray:
    """Cost-only dominance: every eligible pair after the task's first free model in the order
    (cost, higher quality, catalog position) is dominated. Quality is only looked at where a cost
    ties the best free cost: almost every task has one free model at its best cost and no other
    model at that cost, so the few tasks with ties are found first and resolved on their own."""
    n_tasks = eligible.shape[0]
    rows = np.arange(n_tasks)
    free_columns = np.flatnonzero(free_model)
    free_eligible = eligible[:, free_columns]
    free_cost = np.where(free_eligible, usd_per_day[:, free_columns], np.inf)
    best_cost = free_cost.min(axis=1)
    at_best = (free_cost == best_cost[:, None]) & free_eligible
    # The first free model: among those at the best cost, the highest quality, then catalog order.
    best_free = np.argmax(at_best, axis=1)
    several = np.flatnonzero(at_best.sum(axis=1) > 1)
    if several.size:
        tied_quality = np.where(
            at_best[several], np.nan_to_num(quality[several][:, free_columns], nan=-np.inf), -np.inf
        )
        best_free[several] = np.argmax(at_best[several] & (tied_quality == tied_quality.max(axis=1)[:, None]), axis=1)
    best_position = free_columns[best_free]
    has_free = at_best.any(axis=1)
    best_quality = np.where(has_free, np.nan_to_num(quality[rows, best_position], nan=-np.inf), -np.inf)
    dominated = (usd_per_day > best_cost[:, None]) & eligible
    # Other eligible models at exactly the best free cost lose on quality, then on catalog order.
    ties = (usd_per_day == best_cost[:, None]) & eligible
    ties[rows[has_free], best_position[has_free]] = False  # the first free model itself
    tie_rows = np.flatnonzero(ties.any(axis=1))
    if tie_rows.size:
        tie_row, tie_model = np.nonzero(ties[tie_rows])
        tie_task = tie_rows[tie_row]
        q = np.nan_to_num(quality[tie_task, tie_model], nan=-np.inf)
        bq = best_quality[tie_task]
        dominated[tie_task, tie_model] = (q < bq) | ((q == bq) & (tie_model > best_position[tie_task]))
    return dominated


# --------------------------------------------------------------------------------------------------
# The program as arrays.


@dataclass
class LinearProgram:
    """min c'x subject to row_lower <= A x <= row_upper, 0 <= x <= col_upper (CSR rows)."""

    col_cost: np.ndarray
    col_upper: np.ndarray
    col_integer: np.ndarray
    row_start: np.ndarray
    row_index: np.ndarray
    row_value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    pair_task: np.ndarray
    pair_model: np.ndarray
    deployment_models: np.ndarray
    """Model index of each y column (they follow the pair columns)."""
    coupling: list[CouplingRow]
    first_coupling_row: int
    quality_rows: np.ndarray | None
    """Row index of each task's quality row (blended), else None."""
    slack_rows: np.ndarray | None = None
    """Coupling row of each elastic slack column (elastic programs only)."""
    col_lower: np.ndarray | None = None
    """Lower bounds; None means all zero."""

    def lower(self) -> np.ndarray:
        return np.zeros(self.n_cols) if self.col_lower is None else self.col_lower

    @property
    def n_cols(self) -> int:
        return self.col_cost.size

    @property
    def n_rows(self) -> int:
        return self.row_lower.size


class _Rows:
    """Collects rows as COO triplets, then packs them into CSR."""

    def __init__(self) -> None:
        self.rows: list[np.ndarray] = []
        self.cols: list[np.ndarray] = []
        self.vals: list[np.ndarray] = []
        self.lower: list[np.ndarray] = []
        self.upper: list[np.ndarray] = []
        self.count = 0

    def add(self, row_of_entry, cols, vals, lower, upper) -> int:
        """Add len(lower) rows; row_of_entry numbers them from 0. Returns the first row's index."""
        first = self.count
        lower = np.atleast_1d(np.asarray(lower, dtype=float))
        self.rows.append(np.asarray(row_of_entry, dtype=np.int64) + first)
        self.cols.append(np.asarray(cols, dtype=np.int64))
        self.vals.append(np.asarray(vals, dtype=float))
        self.lower.append(lower)
        self.upper.append(np.broadcast_to(np.asarray(upper, dtype=float), lower.shape).copy())
        self.count += lower.size
        return first

    def csr(self):
        rows = np.concatenate(self.rows) if self.rows else np.zeros(0, dtype=np.int64)
        cols = np.concatenate(self.cols) if self.cols else np.zeros(0, dtype=np.int64)
        vals = np.concatenate(self.vals) if self.vals else np.zeros(0)
        keep = vals != 0
        rows, cols, vals = rows[keep], cols[keep], vals[keep]
        order = np.lexsort((cols, rows))
        rows, cols, vals = rows[order], cols[order], vals[order]
        start = np.zeros(self.count + 1, dtype=np.int64)
        np.add.at(start, rows + 1, 1)
        return np.cumsum(start), cols, vals, np.concatenate(self.lower), np.concatenate(self.upper)


@dataclass(frozen=True)
class CouplingTerms:
    """The coupling rows over a list of (task, model) pairs, as COO entries. One function computes
    them for both the full program (`build_program`) and the decomposition, so the two cannot
    disagree about a coefficient."""

    rows: list[CouplingRow]
    upper: np.ndarray
    """Right-hand side of each row (every coupling row reads activity <= upper)."""
    entry_row: np.ndarray
    entry_pair: np.ndarray
    entry_value: np.ndarray
    """Entries on pair columns: row entry_row[i] has coefficient entry_value[i] on pair entry_pair[i]."""
    deployment_models: np.ndarray
    """Model index of each deployment column y (models with a fixed cost)."""
    deploy_row: np.ndarray
    deploy_index: np.ndarray
    deploy_value: np.ndarray
    """Entries on deployment columns (deploy_index indexes deployment_models)."""
    fixed_usd_per_day: np.ndarray
    """Fixed $/day of each model (0 for most)."""

    @property
    def n_rows(self) -> int:
        return len(self.rows)


def coupling_terms(
    problem: RoutingProblem,
    pair_task: np.ndarray,
    pair_model: np.ndarray,
    days_per_year: int = DAYS_PER_YEAR,
    capacity_rows: np.ndarray | None = None,
) -> CouplingTerms:
    """Every coupling row and its coefficients on the given pairs (and on the deployment columns).
    Row order: capacity/deployment per model (catalog order), budgets (policy order), total budget,
    then per capped provider (sorted) its spend-share and volume-share rows. A model without a fixed
    cost gets a capacity row when it has a capacity and a pair, or where `capacity_rows` (M bools)
    says so: other pairs then meet the same rows as a program built on other pairs."""
    n_pairs = pair_task.size
    models, tasks, policy = problem.models, problem.tasks, problem.policy
    n_models = len(models)
    pair_cost = problem.usd_per_day[pair_task, pair_model]
    volume = tasks["invocations_per_day"]
    mtok = tasks["tokens_per_day"] / TOKENS_PER_MTOK
    fixed_usd_per_day = models["fixed_usd_per_month"] * MONTHS_PER_YEAR / days_per_year
    deployment_models = np.flatnonzero(fixed_usd_per_day > 0)
    deploy_of_model = np.full(n_models, -1)
    deploy_of_model[deployment_models] = np.arange(deployment_models.size)
    pairs_per_model = np.bincount(pair_model, minlength=n_models)

    rows: list[CouplingRow] = []
    upper: list[float] = []
    e_row: list[np.ndarray] = []
    e_pair: list[np.ndarray] = []
    e_val: list[np.ndarray] = []
    d_row: list[int] = []
    d_index: list[int] = []
    d_val: list[float] = []

    def add(row: CouplingRow, limit: float) -> int:
        rows.append(row)
        upper.append(limit)
        return len(rows) - 1

    # Capacity and deployment rows: one per model, each pair on at most one of them.
    capacity = models["capacity_mtok_per_day"]
    row_of_model = np.full(n_models, -1)
    per_unit = np.zeros(n_models, dtype=bool)  # deployment rows count pairs, capacity rows Mtok
    for m in range(n_models):
        model_id = str(models["id"][m])
        has_capacity = not np.isnan(capacity[m])
        k = int(deploy_of_model[m])
        if k >= 0:
            if has_capacity:
                r = add(CouplingRow("capacity", model_id, float(capacity[m]), "Mtok/day"), 0.0)
                d_row.append(r), d_index.append(k), d_val.append(-float(capacity[m]))
            else:
                n_on = int(pairs_per_model[m])
                r = add(CouplingRow("deployment", model_id, float(n_on), "tasks"), 0.0)
                d_row.append(r), d_index.append(k), d_val.append(-float(max(n_on, 1)))
                per_unit[m] = True
            row_of_model[m] = r
        elif has_capacity and (pairs_per_model[m] if capacity_rows is None else capacity_rows[m]):
            row_of_model[m] = add(CouplingRow("capacity", model_id, float(capacity[m]), "Mtok/day"), float(capacity[m]))
    on_row = np.flatnonzero(row_of_model[pair_model] >= 0)
    e_row.append(row_of_model[pair_model[on_row]])
    e_pair.append(on_row)
    e_val.append(np.where(per_unit[pair_model[on_row]], 1.0, mtok[pair_task[on_row]]))

    if policy.budgets_usd_per_day:
        # Pairs grouped by department once (a string comparison per budget is slow at scale).
        codes, names = first_seen_codes(tasks["department"], len(tasks))
        pair_code = codes[pair_task]
        by_department = np.argsort(pair_code, kind="stable")
        bounds = np.searchsorted(pair_code[by_department], np.arange(len(names) + 1))
        code_of = {name: k for k, name in enumerate(names)}
        for department, budget in policy.budgets_usd_per_day.items():
            k = code_of.get(department)
            in_d = by_department[bounds[k] : bounds[k + 1]] if k is not None else np.zeros(0, dtype=np.int64)
            r = add(CouplingRow("budget", department, float(budget), "USD/day"), float(budget))
            e_row.append(np.full(in_d.size, r)), e_pair.append(in_d), e_val.append(pair_cost[in_d])
    all_pairs = np.arange(n_pairs)
    if policy.total_budget_usd_per_day is not None:
        limit = float(policy.total_budget_usd_per_day)
        r = add(CouplingRow("total_budget", "all departments", limit, "USD/day"), limit)
        e_row.append(np.full(n_pairs, r)), e_pair.append(all_pairs), e_val.append(pair_cost)
        for k, m in enumerate(deployment_models):
            d_row.append(r), d_index.append(k), d_val.append(float(fixed_usd_per_day[m]))

    providers = models["provider"]
    total_volume = float(volume.sum())
    for provider in sorted(set(providers)):
        cap = policy.vendor_caps.get(provider) or policy.vendor_caps.get("*")
        if cap is None:
            continue
        mine = providers == provider
        if cap.max_spend_share is not None:
            share = cap.max_spend_share
            r = add(CouplingRow("spend_share", provider, share, "share"), 0.0)
            e_row.append(np.full(n_pairs, r)), e_pair.append(all_pairs)
            e_val.append(pair_cost * (mine[pair_model] - share))
            for k, m in enumerate(deployment_models):
                d_row.append(r), d_index.append(k), d_val.append(float(fixed_usd_per_day[m] * (mine[m] - share)))
        if cap.max_volume_share is not None:
            share = cap.max_volume_share
            on_p = np.flatnonzero(mine[pair_model])
            r = add(CouplingRow("volume_share", provider, share, "share"), share * total_volume)
            e_row.append(np.full(on_p.size, r)), e_pair.append(on_p), e_val.append(volume[pair_task[on_p]])

    entry_row = np.concatenate(e_row).astype(np.int64)
    entry_pair = np.concatenate(e_pair).astype(np.int64)
    entry_value = np.concatenate(e_val).astype(float)
    keep = entry_value != 0
    return CouplingTerms(
        rows=rows,
        upper=np.asarray(upper, dtype=float),
        entry_row=entry_row[keep],
        entry_pair=entry_pair[keep],
        entry_value=entry_value[keep],
        deployment_models=deployment_models,
        deploy_row=np.asarray(d_row, dtype=np.int64),
        deploy_index=np.asarray(d_index, dtype=np.int64),
        deploy_value=np.asarray(d_val, dtype=float),
        fixed_usd_per_day=fixed_usd_per_day,
    )


def build_program(
    problem: RoutingProblem,
    objective: Objective = Objective.COST,
    candidates: np.ndarray | None = None,
    days_per_year: int = DAYS_PER_YEAR,
) -> LinearProgram:
    """Assemble the program for `problem` over the `candidates` mask (default: all eligible pairs)."""
    mask = problem.eligible if candidates is None else candidates
    pair_task, pair_model = np.nonzero(mask)  # row-major: grouped by task
    n_pairs = pair_task.size
    n_tasks = problem.eligible.shape[0]
    tasks = problem.tasks
    pair_cost = problem.usd_per_day[pair_task, pair_model]
    pair_quality = np.nan_to_num(problem.quality[pair_task, pair_model], nan=0.0)
    volume = tasks["invocations_per_day"]

    terms = coupling_terms(problem, pair_task, pair_model, days_per_year)
    deployment_models = terms.deployment_models
    fixed_usd_per_day = terms.fixed_usd_per_day
    n_cols = n_pairs + deployment_models.size

    rows = _Rows()
    rows.add(pair_task, np.arange(n_pairs), np.ones(n_pairs), np.ones(n_tasks), 1.0)
    quality_rows = None
    if problem.mode is Mode.BLENDED:
        first = rows.add(pair_task, np.arange(n_pairs), pair_quality, tasks["min_quality"], np.inf)
        quality_rows = first + np.arange(n_tasks)

    first_coupling_row = rows.count
    if terms.n_rows:
        rows.add(
            np.r_[terms.entry_row, terms.deploy_row],
            np.r_[terms.entry_pair, n_pairs + terms.deploy_index],
            np.r_[terms.entry_value, terms.deploy_value],
            np.full(terms.n_rows, -np.inf),
            terms.upper,
        )
    coupling = list(terms.rows)
    all_cost = np.r_[pair_cost, fixed_usd_per_day[deployment_models]]
    total_volume = float(volume.sum())

    start, index, value, lower, upper = rows.csr()
    if objective is Objective.COST:
        col_cost = all_cost
    else:
        # Maximise invocation-weighted quality: minimise its negative.
        weights = volume / total_volume if total_volume > 0 else np.full(n_tasks, 1.0 / n_tasks)
        col_cost = np.r_[-(weights[pair_task] * pair_quality), np.zeros(deployment_models.size)]
    return LinearProgram(
        col_cost=col_cost,
        col_upper=np.ones(n_cols),
        col_integer=np.r_[np.full(n_pairs, problem.mode is Mode.SINGLE), np.ones(deployment_models.size, dtype=bool)],
        row_start=start,
        row_index=index,
        row_value=value,
        row_lower=lower,
        row_upper=upper,
        pair_task=pair_task,
        pair_model=pair_model,
        deployment_models=deployment_models,
        coupling=coupling,
        first_coupling_row=first_coupling_row,
        quality_rows=quality_rows,
    )


def _elastic(program: LinearProgram, scale: np.ndarray) -> LinearProgram:
    """The same rows with a slack column on every coupling row, minimising the total relative
    slack: the smallest (in that sense) loosening that makes the program feasible."""
    n_coupling = len(program.coupling)
    coupling_rows = program.first_coupling_row + np.arange(n_coupling)
    n = program.n_cols
    # Rebuild CSR with one extra entry (-1 on the slack column) per coupling row.
    counts = np.diff(program.row_start)
    extra = np.zeros(program.n_rows, dtype=np.int64)
    extra[coupling_rows] = 1
    new_start = np.r_[0, np.cumsum(counts + extra)]
    index = np.empty(new_start[-1], dtype=np.int64)
    value = np.empty(new_start[-1])
    for r in range(program.n_rows):
        a, b = program.row_start[r], program.row_start[r + 1]
        s = new_start[r]
        index[s : s + b - a] = program.row_index[a:b]
        value[s : s + b - a] = program.row_value[a:b]
        if extra[r]:
            index[s + b - a] = n + (r - program.first_coupling_row)
            value[s + b - a] = -1.0
    return replace(
        program,
        col_cost=np.r_[np.zeros(n), 1.0 / scale],
        col_upper=np.r_[program.col_upper, np.full(n_coupling, np.inf)],
        col_integer=np.r_[program.col_integer, np.zeros(n_coupling, dtype=bool)],
        col_lower=None if program.col_lower is None else np.r_[program.col_lower, np.zeros(n_coupling)],
        row_start=new_start,
        row_index=index,
        row_value=value,
        slack_rows=np.arange(n_coupling),
    )


# --------------------------------------------------------------------------------------------------
# Backends.


@dataclass(frozen=True)
class _Raw:
    status: str  # optimal | infeasible | time_limit | failed
    x: np.ndarray | None
    row_dual: np.ndarray | None
    mip_gap: float | None
    solver: str


@functools.cache
def _version(distribution: str) -> str:
    """An installed package's version, read once: `metadata.version` parses its METADATA file on
    every call (a decomposition names the solver after each of its several solves)."""
    return metadata.version(distribution)


def _solve_highspy(
    program: LinearProgram,
    time_limit_seconds: float | None,
    start_basis: tuple[np.ndarray, np.ndarray] | None = None,
    presolve: bool = True,
) -> _Raw:
    """`start_basis` = (basic columns, basic rows) as boolean masks: a starting basis for the dual
    simplex (presolve is then off, since it would discard the basis). The decomposition passes the
    plan it expects to be nearly optimal, so HiGHS only has to make the few changes left."""
    import highspy

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    if time_limit_seconds is not None:
        highs.setOptionValue("time_limit", float(time_limit_seconds))
    if start_basis is not None or not presolve:
        highs.setOptionValue("presolve", "off")
    lp = highspy.HighsLp()
    lp.num_col_ = program.n_cols
    lp.num_row_ = program.n_rows
    lp.col_cost_ = program.col_cost
    lp.col_lower_ = program.lower()
    lp.col_upper_ = np.where(np.isinf(program.col_upper), highspy.kHighsInf, program.col_upper)
    lp.row_lower_ = np.where(np.isinf(program.row_lower), -highspy.kHighsInf, program.row_lower)
    lp.row_upper_ = np.where(np.isinf(program.row_upper), highspy.kHighsInf, program.row_upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = program.row_start
    lp.a_matrix_.index_ = program.row_index
    lp.a_matrix_.value_ = program.row_value
    is_mip = bool(program.col_integer.any())
    if is_mip:
        lp.integrality_ = [
            highspy.HighsVarType.kInteger if flag else highspy.HighsVarType.kContinuous for flag in program.col_integer
        ]
    highs.passModel(lp)
    if start_basis is not None:
        # One gather from a two-entry object array, not a Python conditional per column.
        lower_or_basic = np.array([highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kBasic], dtype=object)
        basis = highspy.HighsBasis()
        basis.col_status = lower_or_basic[start_basis[0].astype(np.intp)].tolist()
        basis.row_status = lower_or_basic[start_basis[1].astype(np.intp)].tolist()
        basis.valid = True
        highs.setBasis(basis)
    highs.run()
    name = f"HiGHS {_version('highspy')} (direct)"
    status = highs.getModelStatus()
    statuses = highspy.HighsModelStatus
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status == statuses.kOptimal:
        code = "optimal"
    elif status in (statuses.kInfeasible, statuses.kUnboundedOrInfeasible):
        return _Raw("infeasible", None, None, None, name)
    elif status == statuses.kTimeLimit and has_solution:
        code = "time_limit"
    else:
        return _Raw("failed", None, None, None, f"{name}: {highs.modelStatusToString(status)}")
    solution = highs.getSolution()
    x = np.asarray(solution.col_value, dtype=float)
    duals = None if is_mip else np.asarray(solution.row_dual, dtype=float)
    gap = float(info.mip_gap) if is_mip else None
    return _Raw(code, x, duals, gap, name)


def _solve_pulp(program: LinearProgram, engine: str, time_limit_seconds: float | None) -> _Raw:
    import pulp

    prob = pulp.LpProblem("routing", pulp.LpMinimize)
    columns = [
        prob.add_variable(
            f"c{k}",
            lowBound=lower,
            upBound=None if np.isinf(upper) else float(upper),
            cat=pulp.LpInteger if integer else pulp.LpContinuous,
        )
        for k, (lower, upper, integer) in enumerate(
            zip(program.lower().tolist(), program.col_upper.tolist(), program.col_integer.tolist())
        )
    ]
    costs = program.col_cost.tolist()
    prob.setObjective(pulp.LpAffineExpression([(columns[k], c) for k, c in enumerate(costs) if c != 0]))
    start, index, value = program.row_start.tolist(), program.row_index.tolist(), program.row_value.tolist()
    constraints = []
    for r, (lower, upper) in enumerate(zip(program.row_lower.tolist(), program.row_upper.tolist())):
        expr = pulp.LpAffineExpression(
            [(columns[c], v) for c, v in zip(index[start[r] : start[r + 1]], value[start[r] : start[r + 1]])]
        )
        if lower == upper:
            constraint = pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", lower)
        elif np.isinf(upper):
            constraint = pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{r}", lower)
        else:
            constraint = pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{r}", upper)
        prob.addConstraint(constraint)
        constraints.append(constraint)

    is_mip = bool(program.col_integer.any())
    if engine == "highs":
        solver = pulp.HiGHS(msg=False, timeLimit=time_limit_seconds)
        name = f"HiGHS {_version('highspy')} via PuLP {pulp.__version__}"
    else:
        with warnings.catch_warnings():
            # PuLP 3.x warns that bundled CBC goes away in 4.0; the dependency pin keeps us on 3.x.
            warnings.simplefilter("ignore", DeprecationWarning)
            solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_seconds)
        name = f"CBC (bundled with PuLP {pulp.__version__})"
    try:
        prob.solve(solver)
    except pulp.PulpSolverError as exc:
        return _Raw("failed", None, None, None, f"{name}: {exc}")
    # After a failed solve PuLP still fills in values: only the status says whether they mean anything.
    status = pulp.LpStatus[prob.status]
    if status == "Infeasible":
        return _Raw("infeasible", None, None, None, name)
    if status != "Optimal":
        return _Raw("failed", None, None, None, f"{name}: status {status}")
    gap = None
    code = "optimal"
    if is_mip and engine == "highs":
        info = prob.solverModel.getInfo()
        gap = float(info.mip_gap)
        if prob.solverModel.getModelStatus().name == "kTimeLimit":
            code = "time_limit"
    elif is_mip:
        gap = 0.0 if prob.sol_status == pulp.LpSolutionOptimal else None
        if prob.sol_status != pulp.LpSolutionOptimal:
            code = "time_limit"
    x = np.array([c.varValue or 0.0 for c in columns], dtype=float)
    duals = None if is_mip else np.array([c.pi if c.pi is not None else 0.0 for c in constraints], dtype=float)
    return _Raw(code, x, duals, gap, name)


def _engine(solver: str) -> str:
    """'highspy' (direct), 'highs' (through PuLP), 'cbc' (through PuLP) or 'decompose'."""
    if solver not in SOLVERS:
        raise SolverError(f"unknown solver '{solver}'; choose one of {', '.join(SOLVERS)}")
    if solver in {"auto", "highs", "highspy", "decompose"}:
        try:
            import highspy  # noqa: F401
        except ImportError:
            if solver != "auto":
                raise SolverError("HiGHS is not available: install highspy (pip install highspy)") from None
            return "cbc"
        return "highs" if solver == "auto" else solver
    return solver


def run_program(program: LinearProgram, presolve: bool = True) -> _Raw:
    """Solve an assembled program with HiGHS as it is (no dominance, no diagnosis): status, x, row
    duals. `presolve=False` for programs of a few hundred columns, where HiGHS's presolve costs more
    than it saves (about 40% of a 500-column solve)."""
    return _solve_highspy(program, None, presolve=presolve)


def _run(program: LinearProgram, engine: str, time_limit_seconds: float | None) -> _Raw:
    if engine == "highspy":
        return _solve_highspy(program, time_limit_seconds)
    return _solve_pulp(program, engine, time_limit_seconds)


# --------------------------------------------------------------------------------------------------
# The entry point.


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
    programs it handles; CBC when highspy is missing), highs, cbc, highspy, or decompose (the
    decomposition whenever it applies, else the full LP through highspy, saying why in `method`).
    `start_prices`: coupling prices from a nearby solve (`Solution.coupling_prices`) for the
    decomposition to start from."""
    objective = Objective(objective)
    started = time.perf_counter()
    engine = _engine(solver)
    dominated = dominated_candidates(problem, objective) if presolve else np.zeros_like(problem.eligible)
    candidates = problem.eligible & ~dominated
    method = "full LP"
    if engine == "decompose" or (engine == "highs" and solver == "auto"):
        why_not = _why_not_decomposable(problem, objective)
        n_candidates = int(candidates.sum())
        if engine == "decompose" or (why_not is None and n_candidates > AUTO_DECOMPOSE_COLUMNS):
            if why_not is None:
                from router_opt.decompose import DecompositionFailed, solve_decomposed

                try:
                    decomposition = solve_decomposed(problem, candidates, days_per_year, start_prices=start_prices)
                except DecompositionFailed as exc:
                    why_not = exc.reason
                else:
                    return _decomposed_solution(problem, decomposition, candidates, started)
            method = f"full LP (decomposition fell back: {why_not})"
            engine = "highspy"
    program = build_program(problem, objective, candidates, days_per_year)
    if solver == "auto" and engine == "highs" and program.n_cols > AUTO_DIRECT_COLUMNS:
        engine = "highspy"
    built = time.perf_counter()

    raw = _run(program, engine, time_limit_seconds)
    if raw.status == "infeasible":
        raise InfeasiblePlanError(_diagnose(problem, program, engine))
    if raw.status == "failed":
        raise SolverError(f"the solver failed: {raw.solver}")
    if raw.row_dual is None and problem.mode is not Mode.SINGLE and program.deployment_models.size:
        # Deployment decisions made the program mixed-integer, which has no shadow prices. With
        # those decisions held at the optimum the rest is an LP with the same optimum: its duals
        # price capacity, budgets and caps for the chosen set of deployments.
        fixed = _with_deployments_fixed(program, raw.x)
        relaxed = _run(fixed, engine, time_limit_seconds)
        if relaxed.status == "optimal":
            raw = _Raw(raw.status, raw.x, relaxed.row_dual, raw.mip_gap, raw.solver)
    duals_from = raw
    if objective is Objective.QUALITY:
        # Second pass: the cheapest of the best-quality plans, so spare budget is not spent for nothing.
        best_quality = -float(program.col_cost @ raw.x)
        cost_program = build_program(problem, Objective.COST, candidates, days_per_year)
        cost_program = _with_quality_floor(cost_program, program, best_quality)
        second = _run(cost_program, engine, time_limit_seconds)
        if second.status in {"optimal", "time_limit"}:
            raw = second
    solved = time.perf_counter()

    n_pairs = program.pair_task.size
    values = np.clip(raw.x[:n_pairs], 0.0, 1.0)
    values[values < SHARE_EPSILON] = 0.0
    if problem.mode is Mode.SINGLE:
        values = np.round(values)  # integral up to the solver's tolerance
    used = _used_cells(problem.eligible.shape, program.pair_task, program.pair_model, values)
    provisioned = np.ones(len(problem.models), dtype=bool)
    provisioned[program.deployment_models] = raw.x[n_pairs : n_pairs + program.deployment_models.size] > 0.5
    fixed_usd_per_day = problem.models["fixed_usd_per_month"] * MONTHS_PER_YEAR / days_per_year
    objective_usd_per_day = float(
        used[2] @ problem.usd_per_day[used[0], used[1]]
        + fixed_usd_per_day[program.deployment_models][provisioned[program.deployment_models]].sum()
    )

    # Use of each row from the cleaned plan (shares clipped to [0, 1], solver noise removed), so a
    # binding limit reads as exactly used rather than off by the solver's tolerance.
    clean_x = np.r_[values, provisioned[program.deployment_models].astype(float)]
    reports = _constraint_reports(
        program,
        clean_x,
        duals_from.row_dual,
        objective,
        objective_usd_per_day,
        float(problem.tasks["invocations_per_day"].sum()),
    )
    reports = _unprovisioned_rows_slack(reports, problem, provisioned)
    coupling_duals = None
    is_lp = not program.col_integer.any()
    if is_lp and objective is Objective.COST and raw.row_dual is not None:
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
        candidates=int(candidates.sum()),
        pairs=int(problem.eligible.sum()),
        build_seconds=built - started,
        solve_seconds=solved - built,
        method=method,
        coupling_duals=coupling_duals,
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
        replace(r, binding=False, shadow_price=None) if r.kind in {"capacity", "deployment"} and r.subject in off else r
        for r in reports
    )


def _used_cells(
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


def _why_not_decomposable(problem: RoutingProblem, objective: Objective) -> str | None:
    """None when the decomposition applies to `problem`, else the reason it does not."""
    if problem.mode is Mode.SINGLE:
        return "single mode is a mixed-integer program"
    if objective is not Objective.COST:
        return "it handles the cost objective only"
    if (problem.models["fixed_usd_per_month"] > 0).any():
        return "fixed-cost deployments make the program mixed-integer"
    return None


def _decomposed_solution(problem: RoutingProblem, decomposition, candidates: np.ndarray, started: float) -> Solution:
    """A `Solution` from the decomposition, cleaned and reported exactly like the full LP's."""
    blocks = decomposition.blocks
    values = np.clip(decomposition.x, 0.0, 1.0)
    values[values < SHARE_EPSILON] = 0.0
    used = _used_cells(problem.eligible.shape, blocks.pair_task, blocks.pair_model, values)
    objective_usd_per_day = float(used[2] @ problem.usd_per_day[used[0], used[1]])
    terms = blocks.terms
    activity = np.bincount(
        terms.entry_row, weights=terms.entry_value * values[terms.entry_pair], minlength=terms.n_rows
    )
    reports = _reports_from(
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
        solver=f"HiGHS {_version('highspy')} (direct) in a price-and-fix decomposition",
        status="optimal",
        constraints=reports,
        quality_duals=decomposition.quality_duals,
        mip_gap=None,
        candidates=int(candidates.sum()),
        pairs=int(problem.eligible.sum()),
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


def _with_deployments_fixed(program: LinearProgram, x: np.ndarray) -> LinearProgram:
    """`program` as an LP with every deployment column fixed at its value in `x` (0 or 1)."""
    n_pairs = program.pair_task.size
    y = np.round(x[n_pairs : n_pairs + program.deployment_models.size])
    lower, upper = program.lower().copy(), program.col_upper.copy()
    lower[n_pairs : n_pairs + y.size] = y
    upper[n_pairs : n_pairs + y.size] = y
    return replace(program, col_lower=lower, col_upper=upper, col_integer=np.zeros(program.n_cols, dtype=bool))


def _with_quality_floor(
    cost_program: LinearProgram, quality_program: LinearProgram, best_quality: float
) -> LinearProgram:
    """`cost_program` plus one row: invocation-weighted quality >= best_quality (less a hair, so
    the second pass is not made infeasible by rounding in the first)."""
    cols = np.flatnonzero(quality_program.col_cost != 0)
    floor = best_quality - 1e-10 * max(1.0, abs(best_quality))
    start = np.r_[cost_program.row_start, cost_program.row_start[-1] + cols.size]
    return replace(
        cost_program,
        row_start=start,
        row_index=np.r_[cost_program.row_index, cols],
        row_value=np.r_[cost_program.row_value, -quality_program.col_cost[cols]],
        row_lower=np.r_[cost_program.row_lower, floor],
        row_upper=np.r_[cost_program.row_upper, np.inf],
    )


def _constraint_reports(
    program: LinearProgram, x: np.ndarray, duals, objective: Objective, spend_usd_per_day: float, volume_per_day: float
) -> tuple[ConstraintReport, ...]:
    """Each coupling row in the units a person thinks in. Shadow prices are per unit of the limit:
    per Mtok/day, per USD/day, per task slot, and per percentage point for share caps (a share row
    reads spend_p - share x spend <= 0, so one more point of share moves its right-hand side by
    1% of the plan's spend, or of its invocations)."""
    n_pairs = program.pair_task.size
    entry_row = np.repeat(np.arange(program.n_rows), np.diff(program.row_start))
    contribution = program.row_value * x[program.row_index]
    activity = np.bincount(entry_row, weights=contribution, minlength=program.n_rows)
    # Capacity and deployment rows of fixed-cost models also hold -capacity x y: count traffic only.
    traffic = np.bincount(
        entry_row, weights=np.where(program.row_index < n_pairs, contribution, 0.0), minlength=program.n_rows
    )
    rows = slice(program.first_coupling_row, program.first_coupling_row + len(program.coupling))
    return _reports_from(
        program.coupling,
        activity[rows],
        traffic[rows],
        program.row_upper[rows],
        None if duals is None else np.asarray(duals)[rows],
        objective,
        spend_usd_per_day,
        volume_per_day,
    )


def _reports_from(
    coupling: list[CouplingRow],
    activity: np.ndarray,
    traffic: np.ndarray,
    upper: np.ndarray,
    duals: np.ndarray | None,
    objective: Objective,
    spend_usd_per_day: float,
    volume_per_day: float,
) -> tuple[ConstraintReport, ...]:
    """Reports from each coupling row's activity (all columns), traffic (pair columns only),
    right-hand side and row dual (HiGHS's sign: <= 0 on a binding <= row of a minimisation)."""
    out = []
    for k, row in enumerate(coupling):
        used = float(activity[k])
        limit_rhs = float(upper[k])
        if row.kind in {"capacity", "deployment"}:
            used, limit_rhs = float(traffic[k]), row.limit
        per_unit = 1.0
        if row.kind == "spend_share":
            # activity = spend_p - share * spend; report spend_p / spend.
            used = (used / spend_usd_per_day + row.limit) if spend_usd_per_day > 0 else 0.0
            limit_rhs, per_unit = row.limit, 0.01 * spend_usd_per_day
        if row.kind == "volume_share":
            used = used / volume_per_day if volume_per_day > 0 else 0.0
            limit_rhs, per_unit = row.limit, 0.01 * volume_per_day
        slack = limit_rhs - used
        dual = None if duals is None else float(duals[k]) * per_unit
        binding = bool(
            (np.isfinite(slack) and slack <= BINDING_TOLERANCE * max(1.0, abs(limit_rhs)))
            or (dual is not None and abs(dual) > 1e-12)
        )
        if dual is not None and objective is Objective.QUALITY:
            dual = -dual  # quality points gained per unit of limit
        out.append(ConstraintReport(row.kind, row.subject, row.limit, used, row.unit, binding, dual))
    return tuple(out)


def _diagnose(problem: RoutingProblem, program: LinearProgram, engine: str) -> list[str]:
    """Which coupling rows to loosen, and by how much, from the elastic program."""
    if not program.coupling:
        return ["no coupling constraint to relax: the tasks' own limits cannot all be met"]
    baseline_usd_per_day = float(problem.baseline_usd_per_day.sum()) or 1.0
    total_volume = float(problem.tasks["invocations_per_day"].sum()) or 1.0
    scale = []
    for k, row in enumerate(program.coupling):
        if row.kind == "spend_share":
            scale.append(baseline_usd_per_day)
        elif row.kind == "volume_share":
            scale.append(total_volume)
        else:
            scale.append(max(abs(row.limit), 1e-6))
    scale = np.array(scale)
    elastic = _elastic(program, scale)
    raw = _run(elastic, "highspy" if engine == "highspy" else engine, None)
    if raw.status not in {"optimal", "time_limit"}:
        return ["the elastic problem could not be solved either; check the tasks' limits"]
    slack = raw.x[program.n_cols :]
    out = []
    where = _policy_lines(problem.policy)
    for k, row in enumerate(program.coupling):
        s = float(slack[k])
        if s <= 1e-9 * max(1.0, scale[k]):
            continue
        if row.kind == "capacity":
            out.append(
                f"capacity of {row.subject}: raise from {row.limit:,.4g} to {row.limit + s:,.4g} Mtok/day (short {s:,.4g})"
            )
        elif row.kind == "deployment":
            out.append(f"deployment {row.subject}: cannot carry the tasks routed to it")
        elif row.kind == "budget":
            out.append(f"budget of {row.subject}: short by {fmt.usd(s)}/day (limit {fmt.usd(row.limit)}/day)")
        elif row.kind == "total_budget":
            out.append(f"total budget: short by {fmt.usd(s)}/day (limit {fmt.usd(row.limit)}/day)")
        elif row.kind == "spend_share":
            out.append(f"spend cap on {row.subject} ({row.limit:.0%} of spend): exceeded by {fmt.usd(s)}/day")
        elif row.kind == "volume_share":
            out.append(
                f"volume cap on {row.subject} ({row.limit:.0%} of invocations): exceeded by {s:,.4g} invocations/day "
                f"({s / total_volume:.1%} of volume)"
            )
        if row.kind in {"budget", "total_budget", "spend_share", "volume_share"}:
            out[-1] = where(row) + out[-1]  # the policy's file and line, to change
    return out or ["the elastic problem needs no relaxation: the infeasibility lies in the tasks' own limits"]


def _policy_lines(policy):
    """For a budget or cap row, `path:line: ` of the policy setting it comes from ('' without a file):
    an infeasible plan names the line to change."""
    from router_opt.frame import _policy_locator

    locate = None

    def where(row: CouplingRow) -> str:
        nonlocal locate
        if policy.source_path is None:
            return ""
        if row.kind == "budget":
            loc = ("budgets_usd_per_day", row.subject)
        elif row.kind == "total_budget":
            loc = ("total_budget_usd_per_day",)
        else:
            key = row.subject if row.subject in policy.vendor_caps else "*"
            loc = ("vendor_caps", key, "max_spend_share" if row.kind == "spend_share" else "max_volume_share")
        if locate is None:
            locate = _policy_locator(policy)
        line, _ = locate(loc)
        return f"{policy.source_path}:{line}: " if line is not None else f"{policy.source_path}: "

    return where


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
