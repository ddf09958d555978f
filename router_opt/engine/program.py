"""RoutingProblem -> the program as sparse arrays.

Columns: x[t, m] >= 0 for each candidate (task, model) pair, the share of task t's daily volume on
model m; then one column per `Charge` a constraint family adds (a self-hosted deployment's y[m] in
{0, 1}, a commitment's unused $/day). Rows:

- assign[t]:  sum_m x[t, m] = 1
- quality[t]: sum_m q[t, m] x[t, m] >= threshold[t]                       (blended mode)
- the coupling rows of every family in `router_opt.constraints.FAMILIES`, in canonical
  `activity <= rhs` form (capacity, deployments, budgets, vendor caps, committed spend).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from router_opt.constraints import FAMILIES, Charge, CouplingRow, PairContext, RowWriter
from router_opt.engine.objective import Objective
from router_opt.frame import Mode, RoutingProblem
from router_opt.units import DAYS_PER_YEAR


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
    charges: tuple[Charge, ...]
    """The columns after the pair columns, in order."""
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

    @property
    def n_pairs(self) -> int:
        return self.pair_task.size


class RowBuilder:
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
        start = np.r_[0, np.cumsum(np.bincount(rows, minlength=self.count))]
        return start, cols, vals, np.concatenate(self.lower), np.concatenate(self.upper)


@dataclass(frozen=True)
class CouplingTerms:
    """The coupling rows over a list of (task, model) pairs, as COO entries in canonical `<=` form.
    One function computes them for the full program, the decomposition and the sensitivity proofs,
    so they cannot disagree about a coefficient."""

    rows: list[CouplingRow]
    upper: np.ndarray
    """Right-hand side of each row (every row reads activity <= upper)."""
    entry_row: np.ndarray
    entry_pair: np.ndarray
    entry_value: np.ndarray
    """Entries on pair columns: row entry_row[i] has coefficient entry_value[i] on pair entry_pair[i]."""
    charges: tuple[Charge, ...]
    """The charge columns (after the pairs)."""
    charge_row: np.ndarray
    charge_index: np.ndarray
    charge_value: np.ndarray
    """Entries on charge columns (charge_index indexes `charges`)."""

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
    """Every family's rows and coefficients on the given pairs and on the charge columns, in the
    registry's order. `capacity_rows` (M bools): models that get a capacity row even without a pair,
    so other pairs meet the same rows as a program built on other pairs."""
    charges = [charge for family in FAMILIES for charge in family.charges(problem, days_per_year)]
    ctx = PairContext(
        problem=problem,
        pair_task=pair_task,
        pair_model=pair_model,
        pair_cost=problem.usd_per_day[pair_task, pair_model],
        days_per_year=days_per_year,
        capacity_rows=capacity_rows,
        charges=charges,
    )
    out = RowWriter()
    for family in FAMILIES:
        family.write_rows(ctx, out)

    def joined(parts: list[np.ndarray], dtype) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    entry_row = joined(out.entry_row, np.int64)
    entry_pair = joined(out.entry_pair, np.int64)
    entry_value = joined(out.entry_value, float)
    keep = entry_value != 0
    return CouplingTerms(
        rows=out.rows,
        upper=np.asarray(out.rhs, dtype=float),
        entry_row=entry_row[keep],
        entry_pair=entry_pair[keep],
        entry_value=entry_value[keep],
        charges=tuple(charges),
        charge_row=np.asarray(out.charge_row, dtype=np.int64),
        charge_index=np.asarray(out.charge_index, dtype=np.int64),
        charge_value=np.asarray(out.charge_value, dtype=float),
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
    pair_quality = np.nan_to_num(problem.quality[pair_task, pair_model], nan=0.0)
    terms = coupling_terms(problem, pair_task, pair_model, days_per_year)
    charges = terms.charges

    rows = RowBuilder()
    rows.add(pair_task, np.arange(n_pairs), np.ones(n_pairs), np.ones(n_tasks), 1.0)
    quality_rows = None
    if problem.mode is Mode.BLENDED:
        first = rows.add(pair_task, np.arange(n_pairs), pair_quality, problem.tasks["min_quality"], np.inf)
        quality_rows = first + np.arange(n_tasks)
    first_coupling_row = rows.count
    if terms.n_rows:
        rows.add(
            np.r_[terms.entry_row, terms.charge_row],
            np.r_[terms.entry_pair, n_pairs + terms.charge_index],
            np.r_[terms.entry_value, terms.charge_value],
            np.full(terms.n_rows, -np.inf),
            terms.upper,
        )
    start, index, value, lower, upper = rows.csr()
    charge_cost = np.array([c.usd_per_day for c in charges], dtype=float)
    if objective is Objective.COST:
        col_cost = np.r_[problem.usd_per_day[pair_task, pair_model], charge_cost]
    else:
        # Maximise invocation-weighted quality: minimise its negative.
        volume = problem.tasks["invocations_per_day"]
        total_volume = float(volume.sum())
        weights = volume / total_volume if total_volume > 0 else np.full(n_tasks, 1.0 / n_tasks)
        col_cost = np.r_[-(weights[pair_task] * pair_quality), np.zeros(len(charges))]
    return LinearProgram(
        col_cost=col_cost,
        col_upper=np.r_[np.ones(n_pairs), [c.upper for c in charges]],
        col_integer=np.r_[np.full(n_pairs, problem.mode is Mode.SINGLE), [c.integer for c in charges]].astype(bool),
        row_start=start,
        row_index=index,
        row_value=value,
        row_lower=lower,
        row_upper=upper,
        pair_task=pair_task,
        pair_model=pair_model,
        charges=charges,
        coupling=list(terms.rows),
        first_coupling_row=first_coupling_row,
        quality_rows=quality_rows,
    )


def with_integers_fixed(program: LinearProgram, x: np.ndarray) -> LinearProgram:
    """`program` as an LP with every integer charge column (a deployment decision) fixed at its
    value in `x`: its duals then price the rows for that set of decisions."""
    n_pairs = program.n_pairs
    lower, upper = program.lower().copy(), program.col_upper.copy()
    integer = np.flatnonzero(program.col_integer[n_pairs:]) + n_pairs
    lower[integer] = upper[integer] = np.round(x[integer])
    return replace(program, col_lower=lower, col_upper=upper, col_integer=np.zeros(program.n_cols, dtype=bool))


def with_quality_floor(
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
