"""The routing LP solved exactly through its block structure: strict and blended modes, the cost
objective, no fixed-cost deployments (those make a MILP and stay with the full program).

The program is one small block per task (its shares sum to 1; in blended mode one quality row) tied
together by a few coupling rows (capacity per model, budgets, total budget, vendor spend and volume
shares), each `activity <= limit`. Give every coupling row a price lambda_k >= 0 and the blocks fall
apart: a task's best plan against the adjusted costs r = cost + lambda . usage is a closed form
(strict: its cheapest candidate; blended: the cheapest mix of at most two candidates on the lower
hull of adjusted cost against quality, found by a vectorised two-row simplex), and the Lagrangian
L(lambda) = sum_t min_t r - lambda . limit bounds the optimum from below for every lambda >= 0. At
the optimal prices only a handful of tasks (at most one per binding row) are indifferent between
plans; every other task's plan follows from the prices.

The scheme, a box-step method on the Lagrangian dual whose every box is solved exactly:

1. Prices to start from: the duals of the LP over a weighted sample of the tasks (`sample_prices`:
   drawn systematically along each task's choice structure, limits scaled by a ratio estimate, two
   half-samples whose disagreement measures the prices' uncertainty), or the caller's prices (a
   sweep's previous point, `start_prices`). A row the zero-price plans do not use is scaled by the
   sample's share of what its tasks could put on it, and a row the sample cannot keep is priced up
   to the most any task would pay for it (`_price_reach`): where capacity is short on every
   model, that is the dearest model's premium, far above the row's own cost scale.
2. A box lambda +- beta around them (3% of each price plus 0.3% of the row's cost scale, widened to
   the samples' disagreement, at most 4x). A task whose best plan cannot change anywhere in the box
   is *fixed* at that plan: every other candidate's reduced cost exceeds the most the box can move
   it, sum_k beta_k |a_mk - alpha a_ik - (1 - alpha) a_jk| (computed exactly where a task's
   candidates share a row). The other tasks are *contested*, each with the candidates that can come
   into play inside the box.
3. One LP over the contested tasks (`solve_restricted`), coupling limits reduced by the fixed tasks'
   use, plus per coupling row a slack column costing the box's upper price and a surplus column
   paying its lower one, so the LP's prices stay inside the box. Inside the box this LP is the
   Lagrangian's exact local model, so it maximises L over the box. HiGHS (highspy, dual simplex)
   starts from the basis the prices predict (each task's best plan): 9,000 contested tasks of the
   stress case solve in 0.06 s that way against 0.9 s from HiGHS's own start with presolve. From
   the second round on it starts from the previous round's final basis (`LPBasis`, mapped by task,
   pair and row) when that LP had most of this one's columns: where most rows bind, a round that
   moves a few boxes then takes a fraction of a from-the-plans solve. The LP sifts its columns
   (`first_columns`): it starts with each task's plan and its five candidates of least reduced
   cost; at each solution's duals the box's other columns are priced, those below zero join, and
   HiGHS goes on from its basis (`LPSession`), until none is left. The optimum is the one over all
   the columns, and each simplex step is cheaper: where most rows bind, the LP holds a fifth to a
   third of the contested columns (docs/PERFORMANCE.md, heavy coupling).
4. If no slack or surplus is used, the LP's prices lie strictly inside the box, where a local maximum
   of the concave L is global, and the plan (fixed tasks plus LP) is optimal. Otherwise the box is
   re-centred on the LP's prices, rows that hit a bound get a 4x wider box, and the round repeats.
   On a small program (<= 300,000 candidate pairs) where nearly every task is contested, or after
   four box steps, the round solves the whole program instead, as the full LP does (HiGHS's
   presolve and own start). A small blended program whose capacity is short nearly everywhere
   (`crowded`) is handed to the caller's full LP at once (`FULL_LP_FASTER`).
5. The proof (`certify`), independent of the LP solver's own claim: at the final LP's coupling duals
   lambda every candidate of every task is priced, and each task's plan is compared with the best
   plan it could have (its reduced costs must all be >= -1e-9 of its scale). Tasks that fail join
   the LP with all their candidates and the round is solved again. The result reports the largest
   excess (`max_violation`, $/day) and the duality gap: plan cost minus L(lambda), an upper bound on
   how much any plan could improve on it (it bounds the sum of all excesses); a plan whose gap is
   within 1e-9 of its cost passes even if a task sits at HiGHS's own tolerance (5e-8 $/day seen).
   The plan's coupling use is checked against the limits.

The coupling duals of the final LP are then valid duals of the full program (the proof shows the
fixed tasks are optimal at them), so shadow prices come from them; blended quality duals come from
each task's hull at the final prices (the LP's own duals for the tasks it solved).

`DecompositionFailed` says why when the rounds run out, the prices grow without bound, the whole
program turns out infeasible, or some task's least possible use of a row already exceeds its limit;
the caller then solves the full program, which also diagnoses infeasibility in its usual form.

Why this and not the alternatives tried on the 50,000 x 100 stress case: a sampled LP alone gives
prices within 1-20% (5-10% from a plain random sample), and the number of contested tasks grows
linearly with the price error (about 900 tasks within 0.1%, 4,700 within 1%), so exactness has to
come from an LP over the contested tasks; a smoothed-dual Newton method converged but each level of
smoothing cost more than the whole box step; a cutting-plane master needs many cuts in 15-120
dimensions; handing HiGHS the whole program from its own start takes 5 minutes (strict) to 10
(blended with budgets). Where most rows bind (issue 19, docs/PERFORMANCE.md) a proximal bundle
method on L stalled (60 steps: the gap to the optimum 2.2e-3 -> 1.7e-3 of it), a smoothed-dual
Newton method needed hundreds of passes over the pairs for prices within 0.1%, and moving a row
to where its own use meets its limit (the others held) undid what the LP had balanced: there the
gains came from the sample (the two fixes in step 1) and from starting each round's LP where the
previous one ended.
"""

from __future__ import annotations

import functools
import os
import sys
import time
from dataclasses import dataclass, field

import numpy as np

from router_opt.engine.backends import OpenBackend, Status, for_decomposition
from router_opt.engine.program import CouplingTerms, LinearProgram, RowBuilder, coupling_terms
from router_opt.frame import Mode, RoutingProblem

# Box half-width relative to the price, and how much a row's box widens when the LP hits its bound.
BOX_RELATIVE = 0.03
# ... plus this fraction of the row's price scale (so a row priced at 0 can still rise).
BOX_ABSOLUTE = 0.003
BOX_WIDEN = 4.0
MAX_ROUNDS = 12
# Size the first box by the disagreement of two half-samples' prices (see sample_prices).
USE_SAMPLE_SPREAD = True
SPREAD_CAP = 4.0
# When more than this fraction of the tasks is contested, or after this many box steps, the round
# solves the whole program (from the basis the prices predict) instead of a restricted one.
WHOLE_FRACTION = 0.9
WHOLE_AFTER_ROUNDS = 4
WHOLE_PAIRS = 300_000
# A blended program of at most WHOLE_PAIRS pairs that is crowded (see CROWDED) goes to the full LP.
WHOLE_WHEN_CROWDED = True
FULL_LP_FASTER = "capacity short nearly everywhere in a small blended program: the full LP is faster"
# A round's LP starts from the previous round's basis when that LP had this share of its columns.
HOT_SHARE = 0.8
# A sifted restricted LP starts with each task's plan and this many other candidates (least reduced
# cost first); the rest join when the LP's duals price them below zero.
# (The sample LPs take all their columns: where capacity is short everywhere they start from
# HiGHS's presolve, and sifting them was slower there; docs/PERFORMANCE.md.)
FIRST_COLUMNS = 5
# ... and at each solution the columns of negative reduced cost join it, at most PRICE_IN per row
# of the LP.
PRICE_IN = 1
# Tasks in the sampled price LP (at most a fifth of them).
SAMPLE_TASKS = 3000
# Capacity is short nearly everywhere ("crowded") when more than this fraction of what the plans
# the tasks pick without prices put on the rows with a positive limit is over those limits (the
# generated cases: 0.3-0.6 with capacity at 30-90% of that use, 0.8-0.97 at a tenth of it). Then
# the sample LPs start from HiGHS's own basis rather than those plans, and a small blended program
# is solved whole at once.
CROWDED = 0.75
# Box steps stop (and the full LP takes over) once a price exceeds this multiple of its row's scale.
PRICE_CEILING = 1e4
# A task's plan may exceed its best adjusted cost by this much (relative to its scale) in the proof,
# and the whole plan its Lagrangian bound by GAP_TOLERANCE of its cost.
PROOF_TOLERANCE = 1e-9
GAP_TOLERANCE = 1e-9


class DecompositionFailed(Exception):
    """The decomposition gave up; `reason` says why (the caller falls back to the full LP)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass
class Blocks:
    """The candidate pairs grouped by task, with a padded T x K view (K = most candidates of a task)."""

    pair_task: np.ndarray
    pair_model: np.ndarray
    task_start: np.ndarray
    pad: np.ndarray
    """T x K pair index of each task's k-th candidate, -1 past its last."""
    cost: np.ndarray
    quality: np.ndarray | None
    threshold: np.ndarray | None
    terms: CouplingTerms
    blended: bool
    shared_rows: np.ndarray
    """Coupling rows several candidates of one task can be on (every row but capacity rows)."""
    entries_by_pair: tuple[np.ndarray, np.ndarray, np.ndarray]
    """(pointer per pair, row, value): the coupling entries grouped by pair."""
    row_scale: np.ndarray
    """A price scale per coupling row (`_row_scale`): the sample and the box both need it."""
    price_reach: np.ndarray
    """Per coupling row, the most any task would pay per unit of it (`_price_reach`)."""
    backend: OpenBackend
    """The LP backend for the restricted LPs: one that starts from a given basis and adds columns
    to an open LP."""

    @property
    def n_tasks(self) -> int:
        return self.task_start.size - 1

    @functools.cached_property
    def unpriced(self) -> tuple[Responses, np.ndarray]:
        """Every task's best plan without prices, and each row's use by those plans: the sample
        starts from them, and `crowded` compares that use with the limits."""
        resp = best_responses(self, self.cost)
        x = np.zeros(self.n_pairs)
        resp.plan(np.arange(self.n_tasks), x)
        return resp, row_usage(self, x)

    @property
    def n_pairs(self) -> int:
        return self.pair_task.size

    @property
    def n_rows(self) -> int:
        return self.terms.n_rows


def make_blocks(problem: RoutingProblem, candidates: np.ndarray, days_per_year: int = 365) -> Blocks:
    pair_task, pair_model = np.nonzero(candidates)
    n_tasks = candidates.shape[0]
    counts = np.bincount(pair_task, minlength=n_tasks)
    task_start = np.r_[0, np.cumsum(counts)]
    terms = coupling_terms(problem, pair_task, pair_model, days_per_year)
    cost = problem.usd_per_day[pair_task, pair_model]
    # The per-row figures from the entries in row order, first, so that the order (8 bytes an entry,
    # not kept) is gone before the padded view and the by-pair copies are made.
    by_row = _row_order(terms)
    shared_rows = _shared_rows(terms, pair_model, by_row)
    row_scale = _row_scale(terms, cost, by_row)
    price_reach = _price_reach(terms, cost, pair_task, task_start, by_row)
    del by_row
    width = max(int(counts.max()) if n_tasks else 0, 1)
    slot = np.arange(pair_task.size) - task_start[pair_task]
    pad = np.full((n_tasks, width), -1, dtype=np.int64)
    pad[pair_task, slot] = np.arange(pair_task.size)
    del slot
    order = np.argsort(terms.entry_pair, kind="stable")
    pointer = np.searchsorted(terms.entry_pair[order], np.arange(pair_task.size + 1))
    blended = problem.mode is Mode.BLENDED
    return Blocks(
        pair_task=pair_task,
        pair_model=pair_model,
        task_start=task_start,
        pad=pad,
        cost=cost,
        quality=np.nan_to_num(problem.quality[pair_task, pair_model], nan=0.0) if blended else None,
        threshold=problem.tasks["min_quality"].astype(float) if blended else None,
        terms=terms,
        blended=blended,
        shared_rows=shared_rows,
        entries_by_pair=(pointer, terms.entry_row[order], terms.entry_value[order]),
        row_scale=row_scale,
        price_reach=price_reach,
        backend=_basis_backend(),
    )


def _basis_backend() -> OpenBackend:
    try:
        return for_decomposition()
    except RuntimeError as exc:
        raise DecompositionFailed(str(exc)) from None


def _row_order(terms: CouplingTerms) -> tuple[np.ndarray, np.ndarray]:
    """The coupling entries in row order (stable) and each row's bounds in it. Rows are few, so the
    keys fit 16 bits and numpy sorts them by radix, in one pass."""
    key = terms.entry_row.astype(np.int16 if terms.n_rows < 2**15 else np.int64)
    order = np.argsort(key, kind="stable")
    return order, np.searchsorted(terms.entry_row[order], np.arange(terms.n_rows + 1))


def _per_row(values: np.ndarray, by_row: tuple[np.ndarray, np.ndarray], reduce: np.ufunc, empty: float) -> np.ndarray:
    """`reduce` (np.maximum, np.minimum) of per-entry `values` over each row's entries; `empty`
    for a row without any."""
    order, bounds = by_row
    out = np.full(bounds.size - 1, empty, dtype=float)
    has = np.flatnonzero(np.diff(bounds) > 0)
    if has.size:
        out[has] = reduce.reduceat(values[order], bounds[has])
    return out


def _shared_rows(terms: CouplingTerms, pair_model: np.ndarray, by_row: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Rows on which several candidates of one task can have an entry: every row holding more than
    one model's pairs (a capacity row holds one model's, so a task meets it once at most, and the
    split bound in `contested` is exact for it)."""
    if terms.entry_row.size == 0:
        return np.zeros(terms.n_rows, dtype=bool)
    model = pair_model[terms.entry_pair].astype(float)
    return _per_row(model, by_row, np.maximum, -1.0) > _per_row(model, by_row, np.minimum, np.inf)


def adjusted_cost(blocks: Blocks, prices: np.ndarray) -> np.ndarray:
    """cost + prices . usage of each pair."""
    return blocks.cost + price_weight(blocks, prices, signed=True)


def price_weight(blocks: Blocks, prices: np.ndarray, signed: bool = False) -> np.ndarray:
    """sum_k prices_k usage_k of each pair (of |usage_k| unless `signed`)."""
    terms = blocks.terms
    priced_rows = np.count_nonzero(prices)
    if priced_rows == 0:
        return np.zeros(blocks.n_pairs)
    if priced_rows < prices.size / 2:
        # Only the priced rows' entries (a zero term leaves each sum as it was: the same to the bit).
        use = np.flatnonzero(prices[terms.entry_row])
        weights = prices[terms.entry_row[use]] * terms.entry_value[use]
        pair = terms.entry_pair[use]
    else:
        # Over every entry: selecting the priced ones cost more than it saved.
        weights = prices[terms.entry_row] * terms.entry_value
        pair = terms.entry_pair
    return np.bincount(pair, weights=weights if signed else np.abs(weights), minlength=blocks.n_pairs)


def _price_weight_at(blocks: Blocks, pairs: np.ndarray, prices: np.ndarray) -> np.ndarray:
    """`price_weight` (unsigned) of the pairs `pairs` (indices) only, summed in the same order."""
    group, row, value = _entries(blocks, pairs)
    return np.bincount(group, weights=np.abs(prices[row] * value), minlength=pairs.size)


def row_usage(blocks: Blocks, x: np.ndarray) -> np.ndarray:
    terms = blocks.terms
    return np.bincount(terms.entry_row, weights=terms.entry_value * x[terms.entry_pair], minlength=blocks.n_rows)


def _padded(blocks: Blocks, values: np.ndarray, fill: float) -> np.ndarray:
    return np.where(blocks.pad >= 0, values[np.maximum(blocks.pad, 0)], fill)


@dataclass
class Responses:
    """Each task's best plan at given prices (its own small LP, solved in closed form), with the
    duals of its assignment row (pi) and quality row (mu, 0 in strict mode)."""

    value: np.ndarray
    upper: np.ndarray
    """The pair carrying the task (strict) or the upper-quality model of its mix (blended)."""
    lower: np.ndarray
    """Blended: the lower-quality model of the mix, -1 if none."""
    lower_share: np.ndarray
    pi: np.ndarray
    mu: np.ndarray

    def plan(self, tasks: np.ndarray, x: np.ndarray) -> None:
        """Write the plan of `tasks` into pair shares `x`."""
        upper, lower, share = self.upper[tasks], self.lower[tasks], self.lower_share[tasks]
        x[upper] = 1.0 - share
        mixed = lower >= 0
        x[lower[mixed]] = share[mixed]


def best_responses(blocks: Blocks, r: np.ndarray) -> Responses:
    """Every task's optimal plan against adjusted costs `r` (per pair)."""
    pad = blocks.pad
    n = pad.shape[0]
    rows = np.arange(n)
    R = _padded(blocks, r, np.inf)
    if not blocks.blended:
        k = np.argmin(R, axis=1)
        value = R[rows, k]
        return Responses(value, pad[rows, k], np.full(n, -1), np.zeros(n), value, np.zeros(n))
    Q = _padded(blocks, blocks.quality, 0.0)
    b = blocks.threshold
    scale = np.where(np.isfinite(R), np.abs(R), 0.0).max(axis=1)
    tol = 1e-13 * (1.0 + scale)
    # Simplex on each task's two rows, from the cheapest model that meets the bar alone (mu = 0):
    # the line pi + mu q through the basis (lower i, upper j) must lie below every candidate; the
    # candidate furthest below it replaces the basis member on its side of the bar. The line's value
    # at the bar falls at every step, so it settles within a few steps.
    j = np.argmin(np.where(Q >= b[:, None], R, np.inf), axis=1)
    i = np.full(n, -1)
    mu = np.zeros(n)
    pi = R[rows, j]
    active = rows
    for _ in range(4 * pad.shape[1] + 10):
        D = R[active] - pi[active, None] - mu[active, None] * Q[active]
        k = np.argmin(D, axis=1)
        below = D[np.arange(active.size), k] < -tol[active]
        if not below.any():
            break
        active, k = active[below], k[below]
        upper = Q[active, k] >= b[active]
        j[active[upper]] = k[upper]
        i[active[~upper]] = k[~upper]
        ii, jj = i[active], j[active]
        Rj, Qj = R[active, jj], Q[active, jj]
        Ri, Qi = R[active, np.maximum(ii, 0)], Q[active, np.maximum(ii, 0)]
        keep = (ii >= 0) & (Ri < Rj)
        i[active[~keep]] = -1
        slope = np.where(keep, (Rj - Ri) / np.where(keep, Qj - Qi, 1.0), 0.0)
        mu[active] = slope
        pi[active] = np.where(keep, Ri - slope * Qi, Rj)
    else:
        raise DecompositionFailed("the per-task mix search did not settle")
    has_i = i >= 0
    Qi = Q[rows, np.maximum(i, 0)]
    Qj = Q[rows, j]
    share_i = np.where(has_i, np.clip((Qj - b) / np.where(has_i, Qj - Qi, 1.0), 0.0, 1.0), 0.0)
    value = np.where(has_i, (1.0 - share_i) * R[rows, j] + share_i * R[rows, np.maximum(i, 0)], R[rows, j])
    lower = np.where(has_i, pad[rows, np.maximum(i, 0)], -1)
    return Responses(value, pad[rows, j], lower, share_i, pi, mu)


def _task_scale(blocks: Blocks, r: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """A per-task size for tolerances: its largest |adjusted cost| or price weight."""
    both = np.maximum(np.abs(r), weight)
    return np.maximum.reduceat(both, blocks.task_start[:-1]) if both.size else np.zeros(blocks.n_tasks)


def contested(blocks: Blocks, r: np.ndarray, resp: Responses, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(contested tasks, candidate pairs that can come into play) for prices anywhere in the box
    lambda +- beta around the prices `resp` was computed at. A task is contested when some non-basic
    candidate's reduced cost, or (blended) its mix's slope, could change sign inside the box: the
    most a reduced cost r_m - alpha r_i - (1 - alpha) r_j can move is sum_k beta_k |a_mk - alpha a_ik
    - (1 - alpha) a_jk| (strict: r_m - r_j, alpha = 0). Capacity rows are each on one model, so for
    them that sum splits by pair; rows a task's candidates share (budgets, caps) partly cancel and
    are summed exactly for the pairs the split bound leaves in doubt. Returns a T mask and a pair
    mask (the basis pairs of contested tasks included)."""
    # Over the pairs as they are laid out (task by task), not the padded T x K view: a third fewer
    # elements, and no padding to build.
    n = blocks.n_tasks
    t = blocks.pair_task
    shared = blocks.shared_rows
    w = price_weight(blocks, beta)  # the split (triangle) bound per pair
    has_lower = resp.lower >= 0
    lower = np.maximum(resp.lower, 0)
    Wi, Wj = np.where(has_lower, w[lower], 0.0), w[resp.upper]
    basic = np.zeros(blocks.n_pairs, dtype=bool)
    basic[resp.upper] = True
    basic[resp.lower[has_lower]] = True
    if blocks.blended:
        q = blocks.quality
        Qi, Qj = q[lower], q[resp.upper]
        D = r - resp.pi[t] - resp.mu[t] * q
        alpha = np.where(has_lower[t], (Qj[t] - q) / np.where(has_lower, Qj - Qi, 1.0)[t], 0.0)
        bound = w + np.abs(alpha) * Wi[t] + np.abs(1.0 - alpha) * Wj[t]
    else:
        D = r - resp.value[t]
        alpha = None
        bound = w + Wj[t]
    # Blended: the mix's slope (r_j - r_i) / (q_j - q_i) must stay >= 0.
    slope_margin = np.where(has_lower, r[resp.upper] - r[lower], np.inf)
    slope_bound = Wi + Wj
    first = blocks.task_start[:-1]
    size = np.where(np.isfinite(r), np.abs(r), 0.0)
    scale = np.maximum(np.maximum.reduceat(size, first), np.maximum.reduceat(w, first))
    tolerance = PROOF_TOLERANCE * (1.0 + scale)
    close = (D <= bound + tolerance[t]) & ~basic
    slope_close = slope_margin <= slope_bound + tolerance
    if shared.any() and (beta[shared] > 0).any() and (close.any() or slope_close.any()):
        # Exact sums over the shared rows for the pairs in doubt.
        m = np.flatnonzero(close)
        t_m = t[m]
        a = alpha[m] if alpha is not None else np.zeros(m.size)
        t_s = np.flatnonzero(slope_close & has_lower)
        # The split bound's shared-row part, at the pairs in doubt and the tasks' plans only.
        split_at = _price_weight_at(blocks, np.r_[m, resp.upper, lower], np.where(shared, beta, 0.0))
        exact = _shared_spread(
            blocks,
            beta,
            np.r_[m, resp.upper[t_s]],
            np.r_[resp.lower[t_m], resp.lower[t_s]],
            np.r_[resp.upper[t_m], np.full(t_s.size, -1)],
            np.r_[a, np.ones(t_s.size)],
        )
        # Replace the split bound's shared-row part by the exact sum.
        W_i_shared = np.where(has_lower, split_at[m.size + n :], 0.0)
        W_j_shared = split_at[m.size : m.size + n]
        split_m = split_at[: m.size] + np.abs(a) * W_i_shared[t_m] + np.abs(1.0 - a) * W_j_shared[t_m]
        refined = bound[m] - split_m + exact[: m.size]
        close[m] = D[m] <= refined + tolerance[t_m]
        refined_slope = slope_bound[t_s] - (W_i_shared[t_s] + W_j_shared[t_s]) + exact[m.size :]
        slope_close[t_s] = slope_margin[t_s] <= refined_slope + tolerance[t_s]
    tasks = slope_close.copy()
    tasks[t[close]] = True
    pairs = close
    pairs[resp.upper[tasks]] = True
    lowers = resp.lower[tasks]
    pairs[lowers[lowers >= 0]] = True
    return tasks, pairs


def _shared_spread(
    blocks: Blocks, beta: np.ndarray, m: np.ndarray, i: np.ndarray, j: np.ndarray, alpha: np.ndarray
) -> np.ndarray:
    """For each k: sum over the shared coupling rows s of beta_s |a_{m_k,s} - alpha_k a_{i_k,s} -
    (1 - alpha_k) a_{j_k,s}| (a pair index of -1 contributes nothing)."""
    keep_row = blocks.shared_rows & (beta > 0)
    parts_group, parts_row, parts_value = [], [], []
    for pair, coefficient in ((m, np.ones(m.size)), (i, -alpha), (j, alpha - 1.0)):
        valid = np.flatnonzero(pair >= 0)
        group, row, value = _entries(blocks, pair[valid])
        use = keep_row[row]
        parts_group.append(valid[group][use])
        parts_row.append(row[use])
        parts_value.append(value[use] * coefficient[valid][group][use])
    group = np.concatenate(parts_group)
    row = np.concatenate(parts_row)
    value = np.concatenate(parts_value)
    key = group * blocks.n_rows + row
    unique, inverse = np.unique(key, return_inverse=True)
    total = np.bincount(inverse, weights=value, minlength=unique.size)
    return np.bincount(unique // blocks.n_rows, weights=beta[unique % blocks.n_rows] * np.abs(total), minlength=m.size)


# --------------------------------------------------------------------------------------------------
# The restricted LP.


@dataclass
class LPBasis:
    """A restricted LP's final basis, keyed by task, pair and coupling row, so that the next round's
    LP (other tasks, other limits, another box) can start from it: HiGHS then only makes the changes
    the new round brings instead of re-solving from the predicted plans."""

    tasks: np.ndarray
    """The LP's tasks (ascending)."""
    pairs: np.ndarray
    """The LP's pair columns (ascending)."""
    pair_status: np.ndarray
    assign_status: np.ndarray
    """Per task of `tasks`: its assignment row's status."""
    quality_status: np.ndarray | None
    coupling_status: np.ndarray
    slack_status: np.ndarray
    surplus_status: np.ndarray
    """Per coupling row: its box's slack and surplus columns' statuses (at the lower bound where the
    LP had no such column)."""


@dataclass
class Restricted:
    x: np.ndarray
    """Shares over all pairs (the LP's for contested tasks, 0 elsewhere)."""
    prices: np.ndarray
    """Coupling prices (>= 0) from the LP's duals."""
    quality_dual: np.ndarray | None
    """Blended: the quality rows' duals of the contested tasks (in task order)."""
    slack: np.ndarray
    surplus: np.ndarray
    basis: LPBasis | None = None
    """The final basis, when the solve was asked to keep it (`keep_basis`) and the box was hit (only
    then is there another round to start there)."""


def solve_restricted(
    blocks: Blocks,
    tasks: np.ndarray,
    pairs: np.ndarray,
    resp: Responses,
    x_fixed: np.ndarray,
    upper_price: np.ndarray | None,
    lower_price: np.ndarray | None,
    weights: np.ndarray | None = None,
    limits: np.ndarray | None = None,
    start: LPBasis | bool = True,
    keep_basis: bool = False,
    first_columns: np.ndarray | None = None,
) -> Restricted:
    """The program over `tasks` (a T mask) and their `pairs` (a pair mask), with each coupling row's
    limit reduced by `x_fixed`'s use, elastic slack on each row at `upper_price` and surplus paying
    `lower_price` where that is positive (None: no such columns). `weights` (per task) scale a
    task's cost and usage (a weighted sample for price estimates). `start`: True starts HiGHS from
    the basis of `resp`'s plans, an `LPBasis` from a previous round's basis where the two LPs share
    tasks (the predicted plans elsewhere), False from HiGHS's own start.

    `first_columns` (a pair mask within `pairs`, see `first_columns`): the LP starts with only these
    columns; the rest of `pairs` are priced at each solution's duals, those with a negative reduced
    cost join it, and HiGHS goes on from the basis it ended on, until none is left (sifting: the
    same optimum as handing it every column, at a fraction of the work per simplex step)."""
    active = pairs if first_columns is None else first_columns & pairs
    lp = _restricted_program(blocks, tasks, active, x_fixed, upper_price, lower_price, weights, limits)
    start_basis = None
    if start is not False:
        start_basis = _start_basis(blocks, resp, lp, start)
    # HiGHS's presolve would discard a start basis; without one (`start` False) it runs.
    session = blocks.backend.open(lp.program, None, start_basis=start_basis, presolve=start is False)
    del start_basis
    lp_pair = np.r_[lp.cols, np.full(lp.n_extra, -1)]
    remaining = pairs & ~active if first_columns is not None else None
    while True:
        raw = session.run(keep_basis=keep_basis)
        if raw.status is not Status.OPTIMAL:
            raise DecompositionFailed(f"the restricted LP over {lp.task_index.size:,} tasks ended {raw.status}")
        if remaining is None:
            break
        joining = _priced_out(blocks, np.flatnonzero(remaining), raw.row_dual, lp, weights)
        if not joining.size:
            break
        remaining[joining] = False
        try:
            session.add_columns(*_pair_columns(blocks, joining, lp, weights))
        except RuntimeError as exc:
            raise DecompositionFailed(str(exc)) from None
        lp_pair = np.r_[lp_pair, joining]
    del session
    return _restricted_answer(blocks, lp, lp_pair, raw, keep_basis)


@dataclass
class _RestrictedLP:
    """A restricted LP as built: its program and where its tasks, columns and rows are."""

    program: LinearProgram
    task_index: np.ndarray
    """Its tasks (ascending)."""
    local: np.ndarray
    """Per task of the whole program: its position in `task_index`, -1 if not in the LP."""
    cols: np.ndarray
    """The pairs of its first columns (ascending); the box's columns follow them."""
    slack_rows: np.ndarray
    surplus_rows: np.ndarray

    @property
    def n_extra(self) -> int:
        return self.slack_rows.size + self.surplus_rows.size


def _restricted_program(
    blocks: Blocks,
    tasks: np.ndarray,
    pairs: np.ndarray,
    x_fixed: np.ndarray,
    upper_price: np.ndarray | None,
    lower_price: np.ndarray | None,
    weights: np.ndarray | None,
    limits: np.ndarray | None,
) -> _RestrictedLP:
    """The LP of `solve_restricted` over `pairs`' columns, then the box's (see there)."""
    terms = blocks.terms
    task_index = np.flatnonzero(tasks)
    n_c = task_index.size
    local = np.full(blocks.n_tasks, -1)
    local[task_index] = np.arange(n_c)
    cols = np.flatnonzero(pairs)
    n_cols = cols.size
    col_of_pair = np.full(blocks.n_pairs, -1)
    col_of_pair[cols] = np.arange(n_cols)
    w_col = np.ones(n_cols) if weights is None else weights[blocks.pair_task[cols]]
    n_k = blocks.n_rows

    rows = RowBuilder()
    col_task = local[blocks.pair_task[cols]]
    rows.add(col_task, np.arange(n_cols), np.ones(n_cols), np.ones(n_c), 1.0)
    quality_rows = None
    if blocks.blended:
        first_quality = rows.add(
            col_task, np.arange(n_cols), blocks.quality[cols], blocks.threshold[task_index], np.inf
        )
        quality_rows = first_quality + np.arange(n_c)
    first_coupling = rows.count
    limit = (terms.upper if limits is None else limits) - row_usage(blocks, x_fixed)
    e = np.flatnonzero(pairs[terms.entry_pair])
    e_w = 1.0 if weights is None else weights[blocks.pair_task[terms.entry_pair[e]]]
    # The box's columns: a slack per row (when there is a box), then a surplus per row whose lower
    # price is positive.
    slack_rows = np.arange(n_k) if upper_price is not None else np.zeros(0, dtype=np.int64)
    surplus_rows = np.flatnonzero(lower_price > 0) if lower_price is not None else np.zeros(0, dtype=np.int64)
    extra_row = np.r_[slack_rows, surplus_rows]
    extra_value = np.r_[-np.ones(slack_rows.size), np.ones(surplus_rows.size)]
    extra_cost = np.r_[
        np.zeros(0) if upper_price is None else upper_price,
        -lower_price[surplus_rows] if surplus_rows.size else np.zeros(0),
    ]
    n_extra = extra_row.size
    rows.add(
        np.r_[terms.entry_row[e], extra_row],
        np.r_[col_of_pair[terms.entry_pair[e]], n_cols + np.arange(n_extra)],
        np.r_[terms.entry_value[e] * e_w, extra_value],
        np.full(n_k, -np.inf),
        limit,
    )
    start_, index, value, row_lower, row_upper = rows.csr()
    total_cols = n_cols + n_extra
    program = LinearProgram(
        col_cost=np.r_[blocks.cost[cols] * w_col, extra_cost],
        col_upper=np.r_[np.ones(n_cols), np.full(n_extra, np.inf)],
        col_integer=np.zeros(total_cols, dtype=bool),
        row_start=start_,
        row_index=index,
        row_value=value,
        row_lower=row_lower,
        row_upper=row_upper,
        pair_task=blocks.pair_task[cols],
        pair_model=blocks.pair_model[cols],
        charges=(),
        coupling=list(terms.rows),
        first_coupling_row=first_coupling,
        quality_rows=quality_rows,
    )
    return _RestrictedLP(program, task_index, local, cols, slack_rows, surplus_rows)


def _entries(blocks: Blocks, pairs: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The coupling entries of `pairs` (pair indices), grouped by pair in that order: (position of
    the pair in `pairs`, row, value)."""
    ptr, entry_row, entry_value = blocks.entries_by_pair
    count = ptr[pairs + 1] - ptr[pairs]
    first = np.cumsum(count) - count
    index = np.repeat(ptr[pairs] - first, count) + np.arange(int(count.sum()))
    return np.repeat(np.arange(pairs.size), count), entry_row[index], entry_value[index]


def _priced_out(
    blocks: Blocks, pairs: np.ndarray, row_dual: np.ndarray, lp: _RestrictedLP, weights: np.ndarray | None
) -> np.ndarray:
    """The pairs among `pairs` (indices, tasks in the LP) whose reduced cost at the LP's row duals y
    is negative: c_j - y_assign - y_quality q_j - sum_k y_k a_kj (cost and usage scaled by the task's
    weight), beyond a tolerance relative to the terms' size."""
    program = lp.program
    task = blocks.pair_task[pairs]
    local = lp.local[task]
    w = 1.0 if weights is None else weights[task]
    group, row, value = _entries(blocks, pairs)
    coupling = -row_dual[program.first_coupling_row + row] * value
    priced = np.bincount(group, weights=coupling, minlength=pairs.size)
    size = np.bincount(group, weights=np.abs(coupling), minlength=pairs.size)
    cost = blocks.cost[pairs]
    reduced = w * (cost + priced) - row_dual[local]
    if blocks.blended:
        reduced -= row_dual[program.quality_rows[local]] * blocks.quality[pairs]
    tolerance = PROOF_TOLERANCE * (1.0 + w * (np.abs(cost) + size))
    negative = np.flatnonzero(reduced < -tolerance)
    most = max(int(PRICE_IN * program.n_rows), 1)
    if negative.size <= most:
        return pairs[negative]
    # A batch of every negative column can be most of the box (prices far off in a round's first
    # LP), and the dual simplex then crawls over it: at most PRICE_IN per LP row, each task's most
    # negative first.
    order = np.lexsort((reduced[negative], task[negative]))
    ranked_task = task[negative][order]
    rank = np.arange(order.size) - np.searchsorted(ranked_task, ranked_task)
    relative = reduced[negative][order] / tolerance[negative][order]
    return np.sort(pairs[negative[order[np.lexsort((relative, rank))[:most]]]])


def _pair_columns(
    blocks: Blocks, pairs: np.ndarray, lp: _RestrictedLP, weights: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Columns of `pairs` for `LPSession.add_columns`: (cost, upper, start, index, value), each
    column its task's assignment row, (blended) its quality row, then its coupling entries."""
    program = lp.program
    local = lp.local[blocks.pair_task[pairs]]
    w = np.ones(pairs.size) if weights is None else weights[blocks.pair_task[pairs]]
    group, row, value = _entries(blocks, pairs)
    own = [(local, np.ones(pairs.size))]
    if blocks.blended:
        own.append((program.quality_rows[local], blocks.quality[pairs]))
    col = np.concatenate([np.arange(pairs.size)] * len(own) + [group])
    index = np.concatenate([r for r, _ in own] + [program.first_coupling_row + row])
    entry = np.concatenate([v for _, v in own] + [value * w[group]])
    order = np.argsort(col, kind="stable")
    start = np.r_[0, np.cumsum(np.bincount(col, minlength=pairs.size))]
    return blocks.cost[pairs] * w, np.ones(pairs.size), start, index[order], entry[order]


def _restricted_answer(blocks: Blocks, lp: _RestrictedLP, lp_pair: np.ndarray, raw, keep_basis: bool) -> Restricted:
    """The `Restricted` of a solved LP whose columns are the pairs `lp_pair` (-1: the box's)."""
    n_k = blocks.n_rows
    program = lp.program
    n_c = lp.task_index.size
    first_coupling, quality_rows = program.first_coupling_row, program.quality_rows
    n_first = lp.cols.size
    extra = raw.x[n_first : n_first + lp.n_extra]
    slack = np.zeros(n_k)
    slack[lp.slack_rows] = extra[: lp.slack_rows.size]
    surplus = np.zeros(n_k)
    surplus[lp.surplus_rows] = extra[lp.slack_rows.size :]
    is_pair = np.flatnonzero(lp_pair >= 0)
    basis = None
    if keep_basis and raw.basis is not None and any(hit.any() for hit in box_hits(blocks, slack, surplus)):
        col_status, row_status = raw.basis()
        order = np.argsort(lp_pair[is_pair])
        box = col_status[n_first : n_first + lp.n_extra]
        basis = LPBasis(
            tasks=lp.task_index,
            pairs=lp_pair[is_pair][order],
            pair_status=col_status[is_pair][order],
            assign_status=row_status[:n_c],
            quality_status=None if quality_rows is None else row_status[quality_rows],
            coupling_status=row_status[first_coupling:],
            slack_status=_by_row(n_k, lp.slack_rows, box[: lp.slack_rows.size]),
            surplus_status=_by_row(n_k, lp.surplus_rows, box[lp.slack_rows.size :]),
        )
    x = np.zeros(blocks.n_pairs)
    x[lp_pair[is_pair]] = raw.x[is_pair]
    dual = raw.row_dual[first_coupling : first_coupling + n_k]
    return Restricted(
        x=x,
        prices=np.maximum(-dual, 0.0),
        quality_dual=None if quality_rows is None else raw.row_dual[quality_rows],
        slack=slack,
        surplus=surplus,
        basis=basis,
    )


def first_columns(
    blocks: Blocks,
    r: np.ndarray,
    resp: Responses,
    tasks: np.ndarray,
    pairs: np.ndarray,
    previous: LPBasis | None = None,
) -> np.ndarray:
    """The columns a sifted restricted LP over `tasks` and `pairs` (masks) starts with: each task's
    plan at `resp`'s prices and its FIRST_COLUMNS other candidates in `pairs` of least reduced cost
    there (adjusted costs `r`), and the columns a `previous` round's LP ended with."""
    in_lp = np.flatnonzero(tasks)
    pad = blocks.pad[in_lp]
    valid = pad >= 0
    valid[valid] = pairs[pad[valid]]
    reduced = np.where(valid, r[np.maximum(pad, 0)] - resp.pi[in_lp, None], np.inf)
    if blocks.blended:
        reduced -= resp.mu[in_lp, None] * np.where(valid, blocks.quality[np.maximum(pad, 0)], 0.0)
    keep = min(FIRST_COLUMNS + 1, pad.shape[1])
    slot = np.argpartition(reduced, keep - 1, axis=1)[:, :keep]
    picked = pad[np.arange(in_lp.size)[:, None], slot]
    out = np.zeros(blocks.n_pairs, dtype=bool)
    out[picked[np.isfinite(np.take_along_axis(reduced, slot, axis=1))]] = True
    out[resp.upper[in_lp]] = True
    lowers = resp.lower[in_lp]
    out[lowers[lowers >= 0]] = True
    if previous is not None:
        out[previous.pairs] = True
    return out & pairs


def _by_row(n_k: int, rows: np.ndarray, status: np.ndarray) -> np.ndarray:
    out = np.zeros(n_k, dtype=np.int8)
    out[rows] = status
    return out


def box_hits(blocks: Blocks, slack: np.ndarray, surplus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose box's upper and lower price the LP took (it used their slack or surplus)."""
    size = np.maximum(np.abs(blocks.terms.upper), 1.0)
    return slack > 1e-9 * size, surplus > 1e-9 * size


def _close(previous: LPBasis, pairs: np.ndarray) -> bool:
    """Whether the previous round's LP had most of this one's columns (HOT_SHARE): only then is its
    basis a better start than the predicted plans. A row whose box grew by much brings in many
    columns that the old prices rate far too well, and the dual simplex then crawls (one measured
    round: 230 s from the previous basis, 19 s from the plans)."""
    new = np.flatnonzero(pairs)
    if not new.size or not previous.pairs.size:
        return False
    at = np.minimum(np.searchsorted(previous.pairs, new), previous.pairs.size - 1)
    return bool((previous.pairs[at] == new).mean() >= HOT_SHARE)


def _start_basis(
    blocks: Blocks, resp: Responses, lp: _RestrictedLP, previous: LPBasis | bool
) -> tuple[np.ndarray, np.ndarray]:
    """Each task's best plan at `resp`'s prices (one or two columns; the quality row's slack where
    the plan is a single model) and every coupling row's slack, as masks; or, with a `previous`
    round's basis, status codes: that basis for the tasks, rows and box columns both LPs have, the
    predicted plans for the new tasks (HiGHS completes what does not fit)."""
    program, task_index, cols = lp.program, lp.task_index, lp.cols
    n_cols = cols.size
    col_of_pair = np.full(blocks.n_pairs, -1)
    col_of_pair[cols] = np.arange(n_cols)
    first_coupling = program.first_coupling_row
    quality_rows = program.quality_rows
    basic_col = np.zeros(program.n_cols, dtype=bool)
    basic_col[col_of_pair[resp.upper[task_index]]] = True
    lowers = resp.lower[task_index]
    basic_col[col_of_pair[lowers[lowers >= 0]]] = True
    basic_row = np.zeros(program.n_rows, dtype=bool)
    if quality_rows is not None:
        basic_row[quality_rows[lowers < 0]] = True
    basic_row[first_coupling:] = True
    if not isinstance(previous, LPBasis):
        return basic_col, basic_row
    col_status = basic_col.astype(np.int8)
    row_status = basic_row.astype(np.int8)
    # Tasks the previous LP had: their columns and rows as it left them (a column it did not have
    # at its lower bound).
    seen = np.zeros(task_index.size, dtype=bool)
    if previous.tasks.size:
        at = np.minimum(np.searchsorted(previous.tasks, task_index), previous.tasks.size - 1)
        seen = previous.tasks[at] == task_index
    if seen.any():
        row_status[np.flatnonzero(seen)] = previous.assign_status[at[seen]]
        if quality_rows is not None and previous.quality_status is not None:
            row_status[quality_rows[seen]] = previous.quality_status[at[seen]]
        task_seen = np.zeros(blocks.n_tasks, dtype=bool)
        task_seen[task_index[seen]] = True
        mine = np.flatnonzero(task_seen[blocks.pair_task[cols]])
        where = np.minimum(np.searchsorted(previous.pairs, cols[mine]), previous.pairs.size - 1)
        had = previous.pairs[where] == cols[mine]
        col_status[mine] = np.where(had, previous.pair_status[where], 0)
    row_status[first_coupling:] = previous.coupling_status
    # The box's columns, by the row each is on (the slacks first, then the surpluses).
    col_status[n_cols : n_cols + lp.slack_rows.size] = previous.slack_status[lp.slack_rows]
    col_status[n_cols + lp.slack_rows.size :] = previous.surplus_status[lp.surplus_rows]
    return col_status, row_status


# --------------------------------------------------------------------------------------------------
# Prices to start from.


def _row_scale(terms: CouplingTerms, cost: np.ndarray, by_row: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """A price scale per coupling row: the median over its entries of |cost| / |usage|."""
    out = np.zeros(terms.n_rows)
    if terms.entry_row.size == 0:
        return out
    ratio = np.abs(cost[terms.entry_pair]) / np.abs(terms.entry_value)
    order, bounds = by_row
    sorted_ratio = ratio[order]
    for k in range(terms.n_rows):
        part = sorted_ratio[bounds[k] : bounds[k + 1]]
        part = part[np.isfinite(part) & (part > 0)]
        out[k] = float(np.median(part)) if part.size else 0.0
    return out


def _price_reach(
    terms: CouplingTerms,
    cost: np.ndarray,
    pair_task: np.ndarray,
    task_start: np.ndarray,
    by_row: tuple[np.ndarray, np.ndarray],
) -> np.ndarray:
    """Per coupling row, the most any task would pay per unit of it: over the row's positive
    entries, (the task's dearest candidate - the pair's cost) / the entry. At a higher price no task
    gains by using the row. Where capacity is short everywhere, a cheap model's row is priced near
    the dearest model's premium, thousands of times its own cost scale."""
    positive = terms.entry_value > 0
    if not positive.any():
        return np.zeros(terms.n_rows)
    dearest = np.maximum.reduceat(cost, task_start[:-1])
    pair = terms.entry_pair
    gain = np.where(
        positive, (dearest[pair_task[pair]] - cost[pair]) / np.where(positive, terms.entry_value, 1.0), -np.inf
    )
    return np.maximum(_per_row(gain, by_row, np.maximum, -np.inf), 0.0)


def sample_prices(blocks: Blocks, n_sample: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Coupling prices from LPs over weighted samples of the tasks, and how uncertain they are.

    Task t is drawn with probability p_t proportional to its largest share of any coupling row's
    total use (capped at 1) and weighted 1/p_t. The draw is systematic along an order that puts tasks
    with the same choices and similar margins next to each other (their best plan at zero prices,
    the runner-up, the margin), so the sample spreads evenly over the tasks whose choice the prices
    decide: on the stress case that brings the prices' error from 5-10% (a plain random sample) to
    well under 1% on the rows that matter. Each row's limit is scaled by the sample's share of that
    row's use at zero prices (a ratio estimate, so the sample's error in the level of use cancels:
    it matters for tight limits). The drawn tasks are dealt alternately into two half-samples, one
    LP each: their mean is the estimate and their difference its uncertainty, which sizes the first
    box. Returns (prices, uncertainty)."""
    terms = blocks.terms
    n, n_k = blocks.n_tasks, blocks.n_rows
    resp, use_all = blocks.unpriced
    x0 = np.zeros(blocks.n_pairs)
    resp.plan(np.arange(n), x0)
    # Elastic rows at a price far above any plausible one: a sample may not fit where the whole does.
    ceiling = np.maximum(1e3 * np.maximum(blocks.row_scale, 1e-9), 2.0 * blocks.price_reach)
    size = np.maximum(np.abs(terms.upper), 1.0)
    # The plans the tasks pick without prices start the sample LPs where the limits roughly fit
    # them. Where most of their use of the limited rows is over the limits (tight capacity
    # everywhere), the dual simplex would undo most of that start, and HiGHS's own start is faster.
    from_plans = not crowded(blocks)

    def estimate(picked: np.ndarray, weights: np.ndarray, potential_ratio: np.ndarray | None = None) -> np.ndarray:
        use_sample = np.bincount(
            terms.entry_row,
            weights=terms.entry_value * x0[terms.entry_pair] * weights[blocks.pair_task[terms.entry_pair]],
            minlength=n_k,
        )
        # A row the sample's plans do not use without prices (or no plan uses: most rows, where
        # capacity is short everywhere and the cheapest models take all) is scaled by the sample's
        # share of what its tasks could put on it; given the whole limit, the sample would price
        # it at 0.
        fallback = np.ones(n_k) if potential_ratio is None else potential_ratio
        ratio = np.where((use_all > 0) & (use_sample > 0), use_sample / np.where(use_all > 0, use_all, 1.0), fallback)
        out = solve_restricted(
            blocks,
            picked,
            picked[blocks.pair_task],
            resp,
            np.zeros(blocks.n_pairs),
            ceiling,
            None,
            weights,
            limits=terms.upper * ratio,
            start=from_plans,
        )
        # A row a sample could not keep says nothing about its price: NaN.
        return np.where(out.slack > 1e-9 * size, np.nan, np.minimum(out.prices, ceiling))

    if n <= n_sample:
        return np.nan_to_num(estimate(np.ones(n, dtype=bool), np.ones(n))), np.zeros(n_k)
    sample = _draw(blocks, resp, n_sample, seed)
    if sample is None:
        return np.zeros(n_k), np.zeros(n_k)
    drawn, probability, use, total = sample

    def half_estimate(half: np.ndarray) -> np.ndarray:
        picked = np.zeros(n, dtype=bool)
        picked[half] = True
        weights = np.where(picked, 2.0 / np.maximum(probability, 1e-300), 0.0)
        potential = np.where(total > 0, (weights @ use) / np.where(total > 0, total, 1.0), 1.0)
        return estimate(picked, weights, np.where(potential > 0, potential, 1.0))

    first, second = _both_halves(half_estimate, (drawn[0::2], drawn[1::2]), side_by_side=not from_plans)
    # Rows neither half could keep start at 0 with the widest box the rows' scale suggests.
    both = ~np.isnan(first) & ~np.isnan(second)
    one = np.where(np.isnan(first), second, first)
    prices = np.where(both, (first + second) / 2, np.nan_to_num(one))
    spread = np.where(both, np.abs(first - second), np.where(np.isnan(one), 0.0, np.abs(np.nan_to_num(one))))
    return prices, spread


def _draw(
    blocks: Blocks, resp: Responses, n_sample: int, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None:
    """The systematic draw of `sample_prices`: (the drawn tasks in draw order, each task's
    probability, its use of each coupling row per candidate (tasks x rows), each row's total of
    that), or None where no task uses a coupling row."""
    terms = blocks.terms
    n, n_k = blocks.n_tasks, blocks.n_rows
    key = blocks.pair_task[terms.entry_pair] * n_k + terms.entry_row
    use = np.bincount(key, weights=np.abs(terms.entry_value), minlength=n * n_k).reshape(n, n_k)
    use /= np.maximum(np.diff(blocks.task_start), 1)[:, None]
    total = use.sum(axis=0)
    share = (use / np.where(total > 0, total, 1.0)).max(axis=1)
    if share.sum() <= 0:
        return None
    probability = np.minimum(1.0, n_sample * share / share.sum())
    order = np.lexsort(_choice_key(blocks, blocks.cost, resp)[::-1])
    cumulative = np.cumsum(probability[order])
    offset = np.random.default_rng(seed).random()
    drawn = order[np.floor(cumulative + offset) > np.floor(np.r_[0.0, cumulative[:-1]] + offset)]
    return drawn, probability, use, total


def _both_halves(estimate, halves: tuple[np.ndarray, np.ndarray], side_by_side: bool) -> list[np.ndarray]:
    """`estimate` of each half-sample. Where capacity is short everywhere (`side_by_side`) the
    sample LPs start from HiGHS's presolve and cost seconds: they run side by side on two cores
    (HiGHS lets go of Python's lock while it solves). Not otherwise: they take a fraction of a
    second from the plans, and the second thread's malloc arena keeps what HiGHS freed there (the
    light stress case: +107 MiB peak for 0.1 s). docs/PERFORMANCE.md, heavy coupling."""
    # (Not on Windows: HiGHS's task scheduler must be reset as a thread ends there, highspy's own
    # solve thread does so, and a pool thread would not.)
    if not side_by_side or _cores() < 2 or sys.platform == "win32":
        return [estimate(half) for half in halves]
    from concurrent.futures import ThreadPoolExecutor  # here: its import costs a light solve 15 ms

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(estimate, halves))


def _cores() -> int:
    """The cores this process may run on."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def crowded(blocks: Blocks) -> bool:
    """Whether more than CROWDED of what the tasks' best plans without prices put on the rows with
    a positive limit is over those limits: capacity short nearly everywhere, most rows binding."""
    use = blocks.unpriced[1]
    limit = blocks.terms.upper
    limited = limit > 0
    over = np.maximum(use[limited] - limit[limited], 0.0).sum()
    return bool(over > CROWDED * max(float(use[limited].sum()), 1e-300))


def _choice_key(blocks: Blocks, r: np.ndarray, resp: Responses) -> list[np.ndarray]:
    """Sort keys grouping tasks by how prices decide them: the model(s) of the best plan, the
    nearest other candidate, and that candidate's margin relative to the task's cost."""
    rows = np.arange(blocks.n_tasks)
    R = _padded(blocks, r, np.inf)
    if blocks.blended:
        Q = _padded(blocks, blocks.quality, 0.0)
        D = R - resp.pi[:, None] - resp.mu[:, None] * Q
    else:
        D = R - resp.value[:, None]
    D[(blocks.pad == resp.upper[:, None]) | (blocks.pad == resp.lower[:, None]) | (blocks.pad < 0)] = np.inf
    k = np.argmin(D, axis=1)
    margin = D[rows, k]
    finite = np.isfinite(margin)
    near = np.where(finite, blocks.pair_model[blocks.pad[rows, k]], -1)
    upper = blocks.pair_model[resp.upper]
    lower = np.where(resp.lower >= 0, blocks.pair_model[np.maximum(resp.lower, 0)], -1)
    relative = np.where(finite, margin / (np.abs(resp.value) + 1e-300), np.inf)
    return [upper, lower, near, relative]


# --------------------------------------------------------------------------------------------------
# The whole scheme.


@dataclass
class Decomposition:
    x: np.ndarray
    """Shares over the candidate pairs."""
    prices: np.ndarray
    """Optimal coupling prices (lambda >= 0; the LP row duals are their negatives)."""
    quality_duals: np.ndarray | None
    """Blended: $/day per point of each task's threshold."""
    max_violation: float
    """Largest excess of a task's plan over its best plan at `prices` ($/day): the proof."""
    gap: float
    """Plan cost minus the Lagrangian bound L(prices) ($/day)."""
    rounds: int
    restricted_tasks: int
    """Tasks in the final restricted LP."""
    blocks: Blocks
    solver: str
    """The LP solver of the restricted LPs, with its version."""
    timings: dict = field(default_factory=dict)
    history: list = field(default_factory=list)
    """Per round: (contested tasks, LP columns, rows whose box bound was hit)."""


def infeasible_row(blocks: Blocks) -> int | None:
    """A coupling row that every plan overruns: one with only non-negative coefficients whose limit
    is below the tasks' least possible use (a task uses a row for sure only when every one of its
    candidates does). Such a problem is infeasible; the full LP names what to relax."""
    terms = blocks.terms
    n_k = blocks.n_rows
    if n_k == 0 or terms.entry_row.size == 0:
        return None
    key = blocks.pair_task[terms.entry_pair] * n_k + terms.entry_row
    order = np.argsort(key, kind="stable")
    key, value = key[order], terms.entry_value[order]
    starts = np.r_[0, np.flatnonzero(np.diff(key)) + 1]
    group = key[starts]
    count = np.diff(np.r_[starts, key.size])
    least = np.minimum.reduceat(value, starts)
    n_candidates = np.diff(blocks.task_start)[group // n_k]
    sure = np.where(count == n_candidates, least, np.minimum(least, 0.0))
    least_use = np.bincount(group % n_k, weights=sure, minlength=n_k)
    negative = np.bincount(terms.entry_row, weights=terms.entry_value < 0, minlength=n_k) > 0
    short = ~negative & (least_use > terms.upper + 1e-9 * np.maximum(np.abs(terms.upper), 1.0))
    return int(np.flatnonzero(short)[0]) if short.any() else None


@dataclass
class Certificate:
    """The optimality proof of a plan `x` at coupling prices `prices` (see the module docstring)."""

    excess: np.ndarray
    """Per task: adjusted cost of its plan minus the best it could do at the prices (>= 0)."""
    violators: np.ndarray
    """Tasks whose excess is above tolerance."""
    overrun: np.ndarray
    """Coupling rows the plan overruns beyond tolerance."""
    gap: float
    """Plan cost minus the Lagrangian bound at the prices ($/day); the plan is within this of optimal."""
    best: Responses
    prices: np.ndarray

    @property
    def max_violation(self) -> float:
        return float(max(self.excess.max(initial=0.0), 0.0))

    cost: float
    """The plan's cost ($/day)."""

    @property
    def proves_optimal(self) -> bool:
        """The plan keeps every coupling row and no plan is cheaper by more than GAP_TOLERANCE of
        its cost (the gap bounds the sum of all tasks' excesses, so a few excesses at the LP
        solver's own tolerance pass; a real one does not)."""
        if self.overrun.any():
            return False
        return not self.violators.any() or self.gap <= GAP_TOLERANCE * max(abs(self.cost), 1.0)


def lagrangian_bound(blocks: Blocks, prices: np.ndarray) -> float:
    """L(prices) = sum_t min_t(adjusted cost) - prices . limits: a lower bound on the cost of every
    feasible plan, highest at the optimal prices."""
    return float(best_responses(blocks, adjusted_cost(blocks, prices)).value.sum() - prices @ blocks.terms.upper)


def certify(blocks: Blocks, x: np.ndarray, prices: np.ndarray) -> Certificate:
    """Price every candidate of every task at `prices` (>= 0): the plan `x` is optimal when no task
    can lower its adjusted cost (every reduced cost >= -tolerance), it keeps every coupling row, and
    each priced row is tight (the LP's duals give that). `gap` measures all three at once: it is the
    plan's cost minus L(prices) = sum_t min_t(adjusted cost) - prices . limits, a lower bound on
    every feasible plan's cost."""
    r = adjusted_cost(blocks, prices)
    best = best_responses(blocks, r)
    plan_value = np.bincount(blocks.pair_task, weights=r * x, minlength=blocks.n_tasks)
    excess = plan_value - best.value
    tolerance = PROOF_TOLERANCE * (1.0 + _task_scale(blocks, r, price_weight(blocks, prices)))
    use = row_usage(blocks, x)
    limit = blocks.terms.upper
    overrun = use - limit > 1e-7 * np.maximum(np.abs(limit), 1.0)
    bound = float(best.value.sum() - prices @ limit)
    cost = float(blocks.cost @ x)
    return Certificate(excess, excess > tolerance, overrun, cost - bound, best, prices, cost)


def threshold_prices(blocks: Blocks, certificate: Certificate, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Blended: each task's quality dual ($/day per point of its threshold) at the final prices, the
    slope of its hull at the bar, and the tasks whose plan is one model exactly at the bar. There
    the slope differs on the two sides and any value between is a valid dual; the upper one is taken
    (what raising the bar a point costs)."""
    best = certificate.best
    mu = best.mu.copy()
    single = np.flatnonzero(x[best.upper] >= 1.0 - 1e-9)
    at_bar = single[blocks.quality[best.upper[single]] == blocks.threshold[single]]
    if at_bar.size:
        r = adjusted_cost(blocks, certificate.prices)
        pad = blocks.pad[at_bar]
        R = np.where(pad >= 0, r[np.maximum(pad, 0)], np.inf)
        Q = np.where(pad >= 0, blocks.quality[np.maximum(pad, 0)], -np.inf)
        rise = Q - blocks.threshold[at_bar, None]
        slope = np.where(rise > 0, (R - r[best.upper[at_bar]][:, None]) / np.where(rise > 0, rise, 1.0), np.inf)
        upper = slope.min(axis=1)
        mu[at_bar] = np.where(np.isfinite(upper), np.maximum(upper, mu[at_bar]), mu[at_bar])
    return mu, at_bar


class _Laps:
    """Seconds per step of the decomposition, summed over its rounds (`Decomposition.timings`)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.clock = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self.clock
        self.clock = now


def solve_decomposed(
    problem: RoutingProblem,
    candidates: np.ndarray,
    days_per_year: int = 365,
    start_prices: np.ndarray | None = None,
    sample_tasks: int | None = None,
    box_relative: float | None = None,
    box_absolute: float | None = None,
    max_rounds: int | None = None,
) -> Decomposition:
    """Solve the routing LP over `candidates` by price-and-fix (see the module docstring). Raises
    DecompositionFailed when it cannot prove a plan optimal within the round limit."""
    box_relative = BOX_RELATIVE if box_relative is None else box_relative
    box_absolute = BOX_ABSOLUTE if box_absolute is None else box_absolute
    max_rounds = MAX_ROUNDS if max_rounds is None else max_rounds
    lap = _Laps()
    blocks = make_blocks(problem, candidates, days_per_year)
    lap("blocks")
    if blocks.n_rows == 0:
        return _uncoupled(blocks, lap)
    if (k := infeasible_row(blocks)) is not None:
        raise DecompositionFailed(
            f"{blocks.terms.rows[k].kind} {blocks.terms.rows[k].subject} cannot be met by any plan"
        )
    if WHOLE_WHEN_CROWDED and blocks.blended and blocks.n_pairs <= WHOLE_PAIRS and crowded(blocks):
        # Boxes there grow until nearly every task is contested and the whole program is solved
        # anyway: every round before it is lost time (strict mode's rounds stay cheap). The
        # caller's full LP is faster (docs/PERFORMANCE.md, heavy coupling).
        raise DecompositionFailed(FULL_LP_FASTER)
    prices, uncertainty = _first_prices(blocks, start_prices, SAMPLE_TASKS if sample_tasks is None else sample_tasks)
    lap("start prices")
    # The first box: a few percent of each price, or the sample's uncertainty where that is wider.
    beta = box_relative * prices + box_absolute * blocks.row_scale
    if USE_SAMPLE_SPREAD:
        beta = np.maximum(beta, np.minimum(uncertainty, SPREAD_CAP * beta))
    forced = np.zeros(blocks.n_tasks, dtype=bool)
    previous: LPBasis | None = None
    history: list = []
    for round_ in range(1, max_rounds + 1):
        r = adjusted_cost(blocks, prices)
        resp = best_responses(blocks, r)
        lap("responses")
        tasks, pairs, whole = _contested_tasks(blocks, r, resp, beta, forced, round_)
        x_fixed = np.zeros(blocks.n_pairs)
        resp.plan(np.flatnonzero(~tasks), x_fixed)
        lap("contested")
        out = _round_lp(blocks, r, resp, tasks, pairs, x_fixed, None if whole else (prices, beta), previous)
        lap("restricted LP")
        hit_upper, hit_lower = box_hits(blocks, out.slack, out.surplus)
        history.append((int(tasks.sum()), int(pairs.sum()), int((hit_upper | hit_lower).sum())))
        if hit_upper.any() or hit_lower.any():
            beta = _next_box(blocks, out.prices, beta, hit_upper | hit_lower)
            prices, previous = out.prices, out.basis
            continue
        # The LP's prices lie inside the box: prove the plan optimal at them (should the proof
        # fail, the next round starts from the predicted plans).
        previous = None
        x = x_fixed + out.x
        certificate = certify(blocks, x, out.prices)
        lap("proof")
        if certificate.proves_optimal:
            break
        forced |= _violators_to_force(blocks, certificate, tasks, pairs)
        prices = out.prices
    else:
        raise DecompositionFailed(f"the prices did not settle within {max_rounds} rounds")
    return Decomposition(
        x=x,
        prices=out.prices,
        quality_duals=_quality_duals(blocks, certificate, x, tasks, out.quality_dual),
        max_violation=certificate.max_violation,
        gap=certificate.gap,
        rounds=round_,
        restricted_tasks=int(tasks.sum()),
        blocks=blocks,
        solver=blocks.backend.label(),
        timings=lap.seconds,
        history=history,
    )


def _next_box(blocks: Blocks, prices: np.ndarray, beta: np.ndarray, hit: np.ndarray) -> np.ndarray:
    """The box's half-widths around the LP's `prices` after it hit the bounds of rows `hit`: those
    rows' boxes BOX_WIDEN times wider. (Widening BOX_WIDEN ** hits on a row hit again measured the
    same on the heavy cases.) Raises where prices run far above their rows' cost scale: limits no
    plan can keep together, for the full LP to name."""
    if (prices > PRICE_CEILING * np.maximum(blocks.row_scale, 1e-9)).any():
        raise DecompositionFailed("the coupling prices grow without bound (the limits may not fit together)")
    return np.where(hit, beta * BOX_WIDEN, beta)


def _uncoupled(blocks: Blocks, lap: _Laps) -> Decomposition:
    """Nothing couples the tasks: each one's best plan is the optimum, no LP at all."""
    prices = np.zeros(0)
    resp = best_responses(blocks, adjusted_cost(blocks, prices))
    lap("responses")
    x = np.zeros(blocks.n_pairs)
    resp.plan(np.arange(blocks.n_tasks), x)
    certificate = certify(blocks, x, prices)
    lap("proof")
    no_lp = np.zeros(blocks.n_tasks, dtype=bool)
    return Decomposition(
        x=x,
        prices=prices,
        quality_duals=_quality_duals(blocks, certificate, x, no_lp, None),
        max_violation=certificate.max_violation,
        gap=certificate.gap,
        rounds=1,
        restricted_tasks=0,
        blocks=blocks,
        solver=blocks.backend.label(),
        timings=lap.seconds,
        history=[],
    )


def _first_prices(blocks: Blocks, start_prices: np.ndarray | None, sample_tasks: int) -> tuple[np.ndarray, np.ndarray]:
    """(prices, uncertainty) to start the boxes from: the sample's (`sample_prices`), or the
    caller's `start_prices` where those give the higher Lagrangian bound."""
    # At most a fifth of the tasks: the two half-sample LPs are only a start for the box, and at
    # half the tasks (the bound first chosen) they were a whole LP solved twice (docs/PERFORMANCE.md).
    prices, uncertainty = sample_prices(blocks, max(min(sample_tasks, blocks.n_tasks // 5), 1))
    if start_prices is not None and start_prices.shape == (blocks.n_rows,):
        # A nearby solve's prices (a sweep's previous point) help only when they are closer to this
        # program's than the sample's: a trajectory's previous year, priced in last year's dollars,
        # took more rounds than the sample.
        warm = np.maximum(np.asarray(start_prices, dtype=float), 0.0)
        if lagrangian_bound(blocks, warm) > lagrangian_bound(blocks, prices):
            return warm, np.zeros(blocks.n_rows)
    return prices, uncertainty


def _contested_tasks(
    blocks: Blocks, r: np.ndarray, resp: Responses, beta: np.ndarray, forced: np.ndarray, round_: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(tasks, pairs, whole): the round's LP, the contested tasks and pairs plus those `forced` in
    by a failed proof, or (`whole`) every task and pair of a small program."""
    tasks, pairs = contested(blocks, r, resp, beta)
    tasks |= forced
    pairs |= forced[blocks.pair_task]
    whole = blocks.n_pairs <= WHOLE_PAIRS and (
        tasks.sum() > WHOLE_FRACTION * blocks.n_tasks or round_ > WHOLE_AFTER_ROUNDS
    )
    if whole:
        # The boxes would leave little fixed, or the prices are slow to settle: solve the whole
        # (small) program as the full LP does, HiGHS's presolve and own start. From the plans the
        # prices predict it was slower wherever this happens: where most rows bind, that basis is
        # far from the optimum.
        return np.ones(blocks.n_tasks, dtype=bool), np.ones(blocks.n_pairs, dtype=bool), True
    return tasks, pairs, False


def _round_lp(
    blocks: Blocks,
    r: np.ndarray,
    resp: Responses,
    tasks: np.ndarray,
    pairs: np.ndarray,
    x_fixed: np.ndarray,
    box: tuple[np.ndarray, np.ndarray] | None,
    previous: LPBasis | None,
) -> Restricted:
    """The round's LP: over the whole program (`box` None: HiGHS's presolve and own start), or the
    box (prices, beta) around the prices, sifted, from the previous round's basis where that LP
    had most of this one's first columns (HiGHS then only makes the changes the moved box brings)
    and from the predicted plans otherwise."""
    if box is None:
        return solve_restricted(blocks, tasks, pairs, resp, x_fixed, None, None, start=False)
    prices, beta = box
    first = first_columns(blocks, r, resp, tasks, pairs, previous)
    start = True if previous is None or not _close(previous, first) else previous
    upper, lower = prices + beta, np.maximum(prices - beta, 0.0)
    return solve_restricted(
        blocks, tasks, pairs, resp, x_fixed, upper, lower, start=start, keep_basis=True, first_columns=first
    )


def _violators_to_force(blocks: Blocks, certificate: Certificate, tasks: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """After a failed proof: the tasks that could do better, to join the next LP with all their
    candidates around the same prices. Raises where that cannot help: the plan overruns a row, or
    every violator was in the LP with all its candidates already (then the LP solver's tolerance is
    all there is to it, and another round would change nothing)."""
    if certificate.overrun.any():
        raise DecompositionFailed("the restricted LP's plan overruns a coupling row")
    complete = tasks & (
        np.bincount(blocks.pair_task, weights=pairs, minlength=blocks.n_tasks) == np.diff(blocks.task_start)
    )
    if not (certificate.violators & ~complete).any():
        raise DecompositionFailed(f"the proof leaves a gap of ${certificate.gap:.3g}/day at the LP solver's tolerance")
    return certificate.violators


def _quality_duals(
    blocks: Blocks, certificate: Certificate, x: np.ndarray, tasks: np.ndarray, quality_dual: np.ndarray | None
) -> np.ndarray | None:
    """Blended: each task's quality dual at the final prices (`threshold_prices`), the LP's own for
    the tasks it solved (`tasks`, `quality_dual` in their order)."""
    if not blocks.blended:
        return None
    quality_duals, at_bar = threshold_prices(blocks, certificate, x)
    if quality_dual is not None:
        # The LP's own duals for its tasks, except where a plan is one model exactly at its bar:
        # any value between the hull's two slopes is a dual there, and the LP's pick depends on
        # which tasks happened to be in it. The hull's value (the upper slope, or the lower one
        # where no candidate rises above the bar), as for the fixed tasks, keeps "+1 quality
        # point" independent of the path the decomposition took.
        in_lp = np.flatnonzero(tasks)
        quality_duals[in_lp] = np.where(np.isin(in_lp, at_bar), quality_duals[in_lp], quality_dual)
    return quality_duals
