"""Candidates that can be dropped without changing the optimum: pairs a free model dominates.
Without coupling rows that leaves one candidate per task, so the closed-form answer falls out of
the same code path as the LP."""

from __future__ import annotations

import numpy as np

from router_opt.constraints import FAMILIES
from router_opt.engine.objective import Objective
from router_opt.frame import Mode, RoutingProblem, row_blocks


def dominated_candidates(problem: RoutingProblem, objective: Objective = Objective.COST) -> np.ndarray:
    """T x M: eligible pairs that some *free* model (no family marks it `not_free`: no capacity, no
    fixed cost, provider without a cap) serves at least as cheaply and, where quality enters the
    program (blended mode, quality objective), at least as well. Moving a dominated pair's share to
    its dominator never raises cost, never lowers quality, and uses nothing any `<=` row limits, so
    the optimum survives. That argument fails for pairs a `>=` row needs (a commitment counts spend
    on its provider's models): families list those models as `keep`, and their pairs stay. A family
    whose rows break it altogether (a spend share: a cheaper plan shrinks the total every share is
    taken of) turns pruning off. Ties go to the higher quality, then the catalog order.

    Each task's models are ordered by (cost, higher quality first, catalog position); a pair is
    dominated when a free eligible model comes before it in that order and (where quality counts)
    is at least as good. Without quality that is one masked minimum per task; with it, one sort by
    cost and a running maximum of the free models' quality."""
    eligible = problem.eligible
    n_tasks, n_models = eligible.shape
    rules = [family.dominance(problem) for family in FAMILIES]
    if not all(rule.prune for rule in rules):
        return np.zeros(eligible.shape, dtype=bool)
    free_model = np.ones(n_models, dtype=bool)
    keep = np.zeros(n_models, dtype=bool)
    for rule in rules:
        if rule.not_free is not None:
            free_model &= ~rule.not_free
        if rule.keep is not None:
            keep |= rule.keep
    if not free_model.any() or n_tasks == 0:
        return np.zeros(eligible.shape, dtype=bool)
    use_quality = problem.mode is Mode.BLENDED or objective is Objective.QUALITY
    # Each task's dominance depends on its own row only: worked out a block of rows at a time, so
    # the costs, qualities and sort orders are a block's, never T x M.
    dominated = np.empty(eligible.shape, dtype=bool)
    for rows in row_blocks(n_tasks, n_models):
        block = _dominated_by_better_free if use_quality else _dominated_by_first_free
        dominated[rows] = block(eligible[rows], problem.usd_per_day[rows], problem.quality[rows], free_model)
    dominated[:, keep] = False
    return dominated


def _dominated_by_better_free(eligible, usd_per_day, quality, free_model) -> np.ndarray:
    """Dominance where quality counts: a pair is dominated when a free eligible model comes before
    it in its task's order (cost, higher quality, catalog position) and is at least as good."""
    n_models = eligible.shape[1]
    cost = np.where(eligible, usd_per_day, np.inf)
    quality = np.where(eligible, np.nan_to_num(quality, nan=-np.inf), -np.inf)

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
