"""Prototype, not shipped: solve the program `router_opt.engine` builds by column sifting, warm-started
from the uncoupled closed form, with HiGHS presolve off. It exists to measure a suggested change.

1. Program: `build_program` over the dominance-pruned candidates (what `solve()` builds).
2. Closed form without coupling rows, per task: strict, the cheapest candidate; blended, the cheaper
   of the cheapest candidate meeting the bar alone and the cheapest two-model mix hitting the bar
   exactly (one below, one above). That is an optimal vertex of the uncoupled LP, so with every
   coupling row's slack basic it is a dual-feasible basis of the coupled one: the dual simplex only
   has to repair the capacities the closed form overloads.
3. Restricted master: those basis columns, each task's `k` cheapest candidates and its cheapest
   candidate on a model no coupling row touches that meets the bar alone (so it is feasible when
   the coupling rows are capacities). Solve; price every candidate with the row duals (c - A'y, one
   sparse product over the CSR the program already holds); add the `per_task` most negative per
   task; re-solve warm (HiGHS keeps its basis across addCols). No column prices out: the restricted
   optimum is the full program's optimum (LP duality).

    .venv/bin/python benchmarks/sifting.py CATALOG WORKLOAD POLICY [--mode strict|blended]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np


def _csc_subset(program, columns: np.ndarray, entry_row: np.ndarray):
    """Column-wise (start, index, value) of `columns` (sorted ids) of the CSR program."""
    position = np.full(program.n_cols, -1, dtype=np.int64)
    position[columns] = np.arange(columns.size)
    keep = position[program.row_index] >= 0
    local = position[program.row_index[keep]]
    order = np.argsort(local, kind="stable")
    rows = entry_row[keep][order].astype(np.int32)
    values = program.row_value[keep][order]
    start = np.zeros(columns.size + 1, dtype=np.int64)
    np.add.at(start, local + 1, 1)
    return np.cumsum(start).astype(np.int32), rows, values


def _rank_within_task(task: np.ndarray, key: np.ndarray) -> np.ndarray:
    """0 for each task's smallest `key`, 1 for the next, ... (`task` need not be sorted)."""
    n = task.size
    order = np.lexsort((key, task))
    first = np.r_[0, np.flatnonzero(np.diff(task[order])) + 1]
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - np.repeat(first, np.diff(np.r_[first, n]))
    return rank


def closed_form_basis(problem, program, blended: bool, chunk: int = 4096):
    """Columns of the uncoupled optimum, and the tasks served by a single column (their quality rows
    are basic). Works on each task's candidates padded to the widest task, so blended pairs cost
    T x K x K with K the candidates per task, not T x M x M."""
    task, cost = program.pair_task, program.col_cost[: program.pair_task.size]
    n_tasks = problem.eligible.shape[0]
    rank = _rank_within_task(task, np.zeros(task.size))
    width = int(rank.max()) + 1
    padded_cost = np.full((n_tasks, width), np.inf)
    padded_quality = np.full((n_tasks, width), -np.inf)
    padded_column = np.full((n_tasks, width), -1, dtype=np.int64)
    padded_cost[task, rank] = cost
    padded_quality[task, rank] = np.nan_to_num(problem.quality[task, program.pair_model], nan=-np.inf)
    padded_column[task, rank] = np.arange(task.size)
    theta = problem.tasks["min_quality"]
    rows = np.arange(n_tasks)
    alone = padded_quality >= theta[:, None] if blended else np.isfinite(padded_cost)
    single_cost = np.where(alone, padded_cost, np.inf)
    single = single_cost.argmin(axis=1)
    best_single = single_cost[rows, single]
    pair_cost = np.full(n_tasks, np.inf)
    low = np.zeros(n_tasks, dtype=np.int64)
    high = np.zeros(n_tasks, dtype=np.int64)
    if blended:
        for lo in range(0, n_tasks, chunk):
            hi = min(n_tasks, lo + chunk)
            qa, qb = padded_quality[lo:hi, :, None], padded_quality[lo:hi, None, :]
            ca, cb = padded_cost[lo:hi, :, None], padded_cost[lo:hi, None, :]
            th = theta[lo:hi, None, None]
            valid = (qa < th) & (qb > th) & np.isfinite(ca) & np.isfinite(cb) & np.isfinite(qa)
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                mix = np.where(valid, ((qb - th) * ca + (th - qa) * cb) / (qb - qa), np.inf).reshape(hi - lo, -1)
            flat = mix.argmin(axis=1)
            pair_cost[lo:hi] = mix[np.arange(hi - lo), flat]
            low[lo:hi], high[lo:hi] = np.divmod(flat, width)
    use_pair = pair_cost < best_single * (1 - 1e-12)
    by_single = np.flatnonzero(~use_pair)
    columns = np.r_[
        padded_column[by_single, single[by_single]],
        padded_column[use_pair, low[use_pair]],
        padded_column[use_pair, high[use_pair]],
    ]
    return columns, by_single


def warm_sifting(problem, k: int = 2, per_task: int = 2, tol: float = 1e-9, max_rounds: int = 100) -> dict:
    import highspy

    from router_opt.engine import build_program, dominated_candidates
    from router_opt.frame import Mode

    started = time.perf_counter()
    program = build_program(problem, candidates=problem.eligible & ~dominated_candidates(problem))
    if any(row.kind != "capacity" for row in program.coupling) or program.charges:
        raise NotImplementedError("the prototype handles capacity rows only")
    blended = problem.mode is Mode.BLENDED
    n = program.n_cols
    task, model, cost = program.pair_task, program.pair_model, program.col_cost
    entry_row = np.repeat(np.arange(program.n_rows), np.diff(program.row_start))

    basic_columns, single_tasks = closed_form_basis(problem, program, blended)
    chosen = _rank_within_task(task, cost) < k
    chosen[basic_columns] = True
    coupled = {row.subject for row in program.coupling}
    free = ~np.isin(problem.models["id"], list(coupled))
    safe = free[model] & problem.meets_threshold[task, model]
    safe_cost = np.where(safe, cost, np.inf)
    best_safe = np.full(problem.eligible.shape[0], np.inf)
    np.minimum.at(best_safe, task, safe_cost)
    chosen |= safe & (safe_cost == best_safe[task])
    no_safe = ~np.isfinite(best_safe)
    chosen |= no_safe[task]  # no free column meets the bar alone: keep all of that task's columns
    columns = np.flatnonzero(chosen)

    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("presolve", "off")
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = columns.size, program.n_rows
    lp.col_cost_ = cost[columns]
    lp.col_lower_ = np.zeros(columns.size)
    lp.col_upper_ = program.col_upper[columns]
    lp.row_lower_ = np.where(np.isinf(program.row_lower), -highspy.kHighsInf, program.row_lower)
    lp.row_upper_ = np.where(np.isinf(program.row_upper), highspy.kHighsInf, program.row_upper)
    start, index, value = _csc_subset(program, columns, entry_row)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = start, index, value
    highs.passModel(lp)
    position = np.full(n, -1, dtype=np.int64)
    position[columns] = np.arange(columns.size)
    basic_col = np.zeros(columns.size, dtype=bool)
    basic_col[position[basic_columns]] = True
    basic_row = np.zeros(program.n_rows, dtype=bool)
    basic_row[program.first_coupling_row :] = True
    if program.quality_rows is not None:
        basic_row[program.quality_rows[single_tasks]] = True
    status = highspy.HighsBasisStatus
    basis = highspy.HighsBasis()
    basis.col_status = [status.kBasic if b else status.kLower for b in basic_col.tolist()]
    basis.row_status = [status.kBasic if b else status.kLower for b in basic_row.tolist()]
    basis.valid = True
    highs.setBasis(basis)
    built = time.perf_counter()

    in_model = chosen.copy()
    initial_columns = int(columns.size)
    scale = max(1.0, float(np.abs(cost).max()))
    rounds = iterations = 0
    while True:
        rounds += 1
        highs.run()
        if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            raise RuntimeError(f"restricted master: {highs.modelStatusToString(highs.getModelStatus())}")
        iterations += int(highs.getInfo().simplex_iteration_count)
        y = np.asarray(highs.getSolution().row_dual)
        reduced = cost - np.bincount(program.row_index, weights=program.row_value * y[entry_row], minlength=n)
        negative = np.flatnonzero(~in_model & (reduced < -tol * scale))
        if negative.size == 0 or rounds >= max_rounds:
            break
        new = np.sort(negative[_rank_within_task(task[negative], reduced[negative]) < per_task])
        s, i, v = _csc_subset(program, new, entry_row)
        highs.addCols(new.size, cost[new], np.zeros(new.size), program.col_upper[new], i.size, s[:-1], i, v)
        in_model[new] = True
        columns = np.r_[columns, new]
    solved = time.perf_counter()
    if negative.size:
        raise RuntimeError(f"sifting did not converge in {max_rounds} rounds")
    x = np.asarray(highs.getSolution().col_value)
    return {
        "build": built - started,
        "solve": solved - built,
        "objective": float(cost[columns] @ x),
        "rounds": rounds,
        "iterations": iterations,
        "initial_columns": initial_columns,
        "final_columns": int(columns.size),
        "columns": n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("catalog")
    parser.add_argument("workload")
    parser.add_argument("policy")
    parser.add_argument("--mode", default="strict")
    args = parser.parse_args()
    from router_opt.frame import Mode, build_problem
    from router_opt.plan import load_inputs

    t0 = time.perf_counter()
    inputs = load_inputs(args.catalog, args.workload, args.policy)
    problem = build_problem(inputs.catalog, inputs.workload, inputs.policy, mode=Mode(args.mode))
    t1 = time.perf_counter()
    figures = warm_sifting(problem)
    figures["load_and_frame"] = t1 - t0
    figures["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(figures)


if __name__ == "__main__":
    main()
