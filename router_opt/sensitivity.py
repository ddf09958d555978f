"""What-ifs a decision record states as figures, each equal to re-solving the program with one input
changed:

- `threshold_plus_one`: $/day the optimum rises when one task's bar rises by one quality point
  (strict and single modes; blended mode reads the quality row's shadow price instead);
- `provisioning_savings`: for a fixed-cost deployment the plan leaves off, the variable $/day that
  provisioning it would save, set against its fixed $/day.

A task whose plan still meets the raised bar adds nothing: its plan stays feasible and the optimum
cannot fall when a bar rises. For the others the figure is proved without a re-solve where the
coupling prices allow it (below), and re-solved otherwise, within a time budget.

Proof without a re-solve (an LP with coupling prices lambda >= 0): for any lambda the Lagrangian
L(lambda) = sum_s min_{m in E_s} (c_sm + lambda . a_sm) - lambda . b is a lower bound on the
optimum. Raising task t's bar shrinks E_t to E'_t, so the new optimum is at least
L(lambda) - min_{E_t} r_t + min_{E'_t} r_t (r the reduced costs). Moving t alone onto
m* = argmin_{E'_t} r_t, other tasks fixed, is a feasible plan when every coupling row still holds;
its cost is an upper bound. When the two bounds meet (within a tolerance), the move's cost change
is the exact figure.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from router_opt.constraints import FAMILIES
from router_opt.engine import BACKENDS, InfeasiblePlanError, LinearProgram, Solution, Status, coupling_terms, solve
from router_opt.errors import RouterOptError
from router_opt.frame import BELOW_THRESHOLD, ELIGIBLE, RoutingProblem, row_blocks

# "+1 quality point" figures that need a solve (a small LP around the task, or the whole program)
# stop after this many seconds, dearest tasks first; the tasks left are reported as not computed (a
# warning says how many), never as a guess. On the 50,000-task benchmark about a third of the
# affected tasks are settled by the closed form and 1,000-2,000 more per 10 s.
RESOLVE_BUDGET_SECONDS = 15.0
# Two bounds "meet" when they differ by less than this fraction of the plan's $/day (the solvers'
# feasibility tolerance is 1e-7 on scaled rows; a proof must not be tighter than the plan it proves).
PROOF_TOLERANCE = 1e-8


def threshold_plus_one(
    problem: RoutingProblem,
    solution: Solution,
    task_usd_per_day: np.ndarray,
    solver: str = "auto",
    days_per_year: int = 365,
    budget_seconds: float = RESOLVE_BUDGET_SECONDS,
) -> tuple[np.ndarray, int]:
    """Per task, the $/day the optimum rises if its bar rises one point, every other input as it
    is (NaN where no plan meets the raised bar), and how many tasks were left uncomputed because the
    re-solve budget ran out (also NaN). Strict and single modes, cost objective."""
    n_tasks = task_usd_per_day.size
    out = np.zeros(n_tasks)
    t_idx, m_idx, _ = solution.used_pairs()
    bar_plus_one = problem.tasks["min_quality"] + 1
    # NaN quality (not rated) compares False. A block of tasks at a time: quality is never T x M.
    qualifies = np.empty(problem.eligible.shape, dtype=bool)
    for rows in row_blocks(*qualifies.shape):
        qualifies[rows] = problem.eligible[rows] & (problem.quality[rows] >= bar_plus_one[rows, None])
    pair_ok = qualifies[t_idx, m_idx]
    uses_unqualified = np.bincount(t_idx, weights=(~pair_ok).astype(float), minlength=n_tasks) > 0
    served = np.bincount(t_idx, minlength=n_tasks) > 0
    affected = np.flatnonzero(uses_unqualified | ~served)
    if affected.size == 0:
        return out, 0
    reachable = qualifies[affected].any(axis=1)
    out[affected[~reachable]] = np.nan
    affected = affected[reachable]

    todo = affected
    coupled = _has_coupling(problem)
    deadline = time.perf_counter() + budget_seconds
    prices = None
    if solution.coupling_duals is not None or not coupled:
        prices = _Prices(problem, solution, task_usd_per_day, days_per_year)
        delta, proved = prices.moves(affected, qualifies)
        out[affected[proved]] = delta[proved]
        todo = affected[~proved]
    # What the closed form does not settle, dearest tasks first while the budget lasts: a small LP
    # around the task (exact when it meets the lower bound), else the whole program re-solved.
    todo = todo[np.argsort(-task_usd_per_day[todo], kind="stable")]
    base = solution.objective_usd_per_day
    not_computed = 0
    for k, t in enumerate(todo.tolist()):
        if time.perf_counter() > deadline:
            out[todo[k:]] = np.nan
            not_computed = int(todo.size - k)
            break
        rise = prices.local(t, qualifies[t]) if prices is not None and coupled else None
        if rise is not None:
            out[t] = rise
            continue
        try:
            raised = solve(_with_bar_raised(problem, t, qualifies[t]), solver=solver, days_per_year=days_per_year)
        except InfeasiblePlanError:
            out[t] = np.nan  # no plan meets the raised bar within the limits
            continue
        # The optimum cannot fall when a bar rises; a hair below is the solvers' tolerance.
        out[t] = max(raised.objective_usd_per_day - base, 0.0)
    return out, not_computed


def _has_coupling(problem: RoutingProblem) -> bool:
    return any(family.applies(problem) for family in FAMILIES)


class _Prices:
    """The plan's coupling prices over every eligible pair: reduced costs, the Lagrangian bound,
    and each row's use, for proving what one task's raised bar costs (see the module's docstring)."""

    def __init__(self, problem: RoutingProblem, solution: Solution, task_usd_per_day: np.ndarray, days_per_year: int):
        self.problem, self.solution = problem, solution
        self.task_usd_per_day = task_usd_per_day
        cost = problem.usd_per_day
        self.scale = max(1.0, abs(solution.objective_usd_per_day))
        self.used = solution.used_pairs()
        self.terms = None
        if not _has_coupling(problem):
            self.reduced = cost.dense()
            np.copyto(self.reduced, np.inf, where=~problem.eligible)
            self.lagrangian = float(self.reduced.min(axis=1).sum())
            return
        # Every real constraint gets a row (a capacity row even for a model the solved program had
        # no candidate on); the solution's prices are matched to rows by what they limit, 0 elsewhere.
        every_capacity = ~np.isnan(problem.models["capacity_mtok_per_day"])
        self.pair_task, self.pair_model = np.nonzero(problem.eligible)
        terms = coupling_terms(problem, self.pair_task, self.pair_model, days_per_year, capacity_rows=every_capacity)
        self.terms = terms
        price_of = {(c.kind, c.subject): k for k, c in enumerate(solution.constraints)}
        lam = np.zeros(terms.n_rows)
        duals = solution.coupling_duals if solution.coupling_duals is not None else np.zeros(len(solution.constraints))
        for r, row in enumerate(terms.rows):
            k = price_of.get((row.kind, row.subject))
            if k is not None:
                lam[r] = duals[k]
        self.lam = lam
        priced = np.bincount(
            terms.entry_pair, weights=lam[terms.entry_row] * terms.entry_value, minlength=self.pair_task.size
        )
        self.reduced = np.full(cost.shape, np.inf)
        self.reduced[self.pair_task, self.pair_model] = cost[self.pair_task, self.pair_model] + priced
        self.lagrangian = float(self.reduced.min(axis=1).sum() - lam @ terms.upper)
        # Pair ids and each pair's entries (CSC), to gather a few tasks' columns quickly.
        self.pair_id = np.full(cost.shape, -1, dtype=np.int64)
        self.pair_id[self.pair_task, self.pair_model] = np.arange(self.pair_task.size)
        order = np.argsort(terms.entry_pair, kind="stable")
        self.e_pair, self.e_row, self.e_val = terms.entry_pair[order], terms.entry_row[order], terms.entry_value[order]
        self.e_start = np.searchsorted(self.e_pair, np.arange(self.pair_task.size + 1))
        t_idx, m_idx, share = self.used
        used_pair = self.pair_id[t_idx, m_idx]
        self.activity = np.bincount(
            terms.entry_row,
            weights=terms.entry_value * self._share_of_pairs(used_pair, share)[terms.entry_pair],
            minlength=terms.n_rows,
        )
        # Tasks at the margin: split between models, or tied with an unused model at these prices.
        # They are the ones that give way when another task needs a priced row.
        n_tasks = cost.shape[0]
        current = np.bincount(t_idx, weights=share * self.reduced[t_idx, m_idx], minlength=n_tasks)
        others = self.reduced.copy()
        others[t_idx, m_idx] = np.inf
        tie = others.min(axis=1) - current <= PROOF_TOLERANCE * np.maximum(1e-12, np.abs(current))
        self.margin = np.flatnonzero((np.bincount(t_idx, minlength=n_tasks) > 1) | tie)

    def _share_of_pairs(self, used_pair: np.ndarray, share: np.ndarray) -> np.ndarray:
        x = np.zeros(self.pair_task.size)
        x[used_pair] = share
        return x

    def moves(self, affected: np.ndarray, qualifies: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For each affected task: the cost change of moving it alone onto its best qualifying model
        at the coupling prices, and whether the Lagrangian bound proves that change optimal."""
        cost = self.problem.usd_per_day
        n_affected = affected.size
        reduced_rows = self.reduced[affected]
        new_reduced = np.where(qualifies[affected], reduced_rows, np.inf)
        target = new_reduced.argmin(axis=1)
        lower_rise = new_reduced[np.arange(n_affected), target] - reduced_rows.min(axis=1)
        self.lower_rise = dict(zip(affected.tolist(), lower_rise.tolist()))
        move_cost = cost[affected, target] - self.task_usd_per_day[affected]
        # Upper bound minus lower bound on the new optimum, per task.
        gap = (self.solution.objective_usd_per_day + move_cost) - (self.lagrangian + lower_rise)
        proved = gap <= PROOF_TOLERANCE * self.scale
        if self.terms is not None:
            proved &= self._move_is_feasible(affected, target)
        return np.maximum(move_cost, 0.0), proved

    def _move_is_feasible(self, affected: np.ndarray, target: np.ndarray) -> np.ndarray:
        """Per affected task: does every coupling row still hold when that task alone moves wholly
        onto `target` (the rest of the plan unchanged)?"""
        terms = self.terms
        if terms.charges:
            return np.zeros(affected.size, dtype=bool)  # provisioning is not priced by an LP dual: re-solve
        t_idx, m_idx, share = self.used
        n_rows = terms.n_rows
        local = np.full(self.problem.eligible.shape[0], -1)
        local[affected] = np.arange(affected.size)
        from_used = local[t_idx] >= 0
        pairs = np.r_[self.pair_id[affected, target], self.pair_id[t_idx[from_used], m_idx[from_used]]]
        weight = np.r_[np.ones(affected.size), -share[from_used]]
        owner = np.r_[np.arange(affected.size), local[t_idx[from_used]]]
        rows, values, entry_of = self._entries(pairs)
        key = owner[entry_of] * n_rows + rows
        change = np.bincount(key, weights=values * weight[entry_of], minlength=affected.size * n_rows)
        after = self.activity[None, :] + change.reshape(affected.size, n_rows)
        allowed = terms.upper + 1e-9 * np.maximum(1.0, np.abs(terms.upper))
        return (after <= allowed[None, :]).all(axis=1)

    def _entries(self, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Coupling entries (row, value) of the given pairs, and for each the position of its pair."""
        starts, stops = self.e_start[pairs], self.e_start[pairs + 1]
        counts = stops - starts
        entry_of = np.repeat(np.arange(pairs.size), counts)
        offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        index = np.repeat(starts, counts) + offsets
        return self.e_row[index], self.e_val[index], entry_of

    def local(self, task: int, qualifies_row: np.ndarray) -> float | None:
        """The raised bar's cost from a small LP: this task on its qualifying models and the margin
        tasks free, every other task fixed as planned. Its plan is feasible (an upper bound); when it
        meets the Lagrangian lower bound the rise is exact. None when it does not."""
        terms = self.terms
        if terms is None or terms.charges or task not in self.lower_rise:
            return None
        problem = self.problem
        free = np.r_[task, self.margin[self.margin != task]]
        allowed = problem.eligible[free].copy()
        allowed[0] = qualifies_row
        rows_t, cols_m = np.nonzero(allowed)
        pairs = self.pair_id[free[rows_t], cols_m]
        t_idx, m_idx, share = self.used
        mine = np.isin(t_idx, free)
        held_pairs = self.pair_id[t_idx[mine], m_idx[mine]]
        held_rows, held_values, held_of = self._entries(held_pairs)
        held = np.bincount(held_rows, weights=held_values * share[mine][held_of], minlength=terms.n_rows)
        upper = terms.upper - (self.activity - held)
        e_rows, e_values, e_of = self._entries(pairs)
        n_free, n_cols = free.size, pairs.size
        # CSR: the free tasks' assignment rows, then the coupling rows.
        row = np.r_[rows_t, n_free + e_rows]
        col = np.r_[np.arange(n_cols), e_of]
        val = np.r_[np.ones(n_cols), e_values]
        order = np.lexsort((col, row))
        row_start = np.searchsorted(row[order], np.arange(n_free + terms.n_rows + 1))
        cost = problem.usd_per_day[free[rows_t], cols_m]
        program = LinearProgram(
            col_cost=cost,
            col_upper=np.ones(n_cols),
            col_integer=np.zeros(n_cols, dtype=bool),
            row_start=row_start,
            row_index=col[order],
            row_value=val[order],
            row_lower=np.r_[np.ones(n_free), np.full(terms.n_rows, -np.inf)],
            row_upper=np.r_[np.ones(n_free), upper],
            pair_task=free[rows_t],
            pair_model=cols_m,
            charges=(),
            coupling=list(terms.rows),
            first_coupling_row=n_free,
            quality_rows=None,
        )
        # Presolve off: on a few hundred columns HiGHS's presolve costs more than it saves.
        raw = BACKENDS["highspy"].solve(program, presolve=False)
        if raw.status is not Status.OPTIMAL:
            return None
        before = float(self.task_usd_per_day[free].sum())
        rise = float(cost @ raw.x) - before
        gap = (self.solution.objective_usd_per_day + rise) - (self.lagrangian + self.lower_rise[task])
        if gap > PROOF_TOLERANCE * self.scale:
            return None
        return max(rise, 0.0)


def _with_bar_raised(problem: RoutingProblem, task: int, qualifies_row: np.ndarray) -> RoutingProblem:
    """`problem` with one task's bar a point higher: only the models that still meet it stay."""
    eligible = problem.eligible.copy()
    eligible[task] = qualifies_row
    excluded = problem.excluded.copy()
    excluded[task, (excluded[task] == ELIGIBLE) & ~qualifies_row] = BELOW_THRESHOLD
    meets = problem.meets_threshold.copy()
    meets[task] &= qualifies_row
    bars = problem.tasks["min_quality"].copy()
    bars[task] += 1
    tasks = problem.tasks.with_columns(min_quality=bars)
    return replace(problem, eligible=eligible, excluded=excluded, meets_threshold=meets, tasks=tasks)


def provisioning_savings(
    problem: RoutingProblem, solution: Solution, solver: str = "auto", days_per_year: int = 365
) -> dict[str, float | None]:
    """For each fixed-cost deployment the plan does not provision: the $/day of the plan's cost
    (fixed costs of the other deployments included) that it would save if it ran at no fixed
    cost, i.e. the most its fixed $/day could be for provisioning it to pay. None where that
    re-solve fails."""
    models = problem.models
    out: dict[str, float | None] = {}
    for m in np.flatnonzero((models["fixed_usd_per_month"] > 0) & ~solution.provisioned):
        fixed = models["fixed_usd_per_month"].copy()
        fixed[m] = 0.0
        try:
            free = solve(
                replace(problem, models=models.with_columns(fixed_usd_per_month=fixed)),
                solver=solver,
                days_per_year=days_per_year,
            )
        except RouterOptError:
            out[str(models["id"][m])] = None
            continue
        out[str(models["id"][m])] = max(solution.objective_usd_per_day - free.objective_usd_per_day, 0.0)
    return out
