"""Why the plan is what it is, in words: a decision record per task (runner-up, what keeps it off
its cheapest model, cheaper models excluded and why, fallbacks, the cost of one more quality point)
and an explanation per coupling constraint."""

from __future__ import annotations

import numpy as np

from router_opt import formatting as fmt
from router_opt.constraints import BindingContext, family_of
from router_opt.engine import Objective, Solution
from router_opt.frame import ELIGIBLE, EXCLUSION_REASONS, NOT_RATED, Mode, RoutingProblem, row_blocks
from router_opt.result.columns import RowTable, first_k, ordered
from router_opt.result.columns import grouped as _grouped
from router_opt.result.schema import ConstraintRow, Decision, Deployment, Settings
from router_opt.sensitivity import RESOLVE_BUDGET_SECONDS, threshold_plus_one


def constraint_rows(
    solution: Solution, objective: Objective, deployments: tuple[Deployment, ...] = ()
) -> tuple[ConstraintRow, ...]:
    """The solve's coupling constraints as rows, each explained in words (an unprovisioned
    deployment's capacity row by why the plan leaves it off)."""
    off = {d.model: d for d in deployments if not d.provisioned}
    unprovisioned = set(off)
    return tuple(
        ConstraintRow(
            kind=c.kind,
            subject=c.subject,
            limit=c.limit,
            used=c.used,
            unit=c.unit,
            binding=c.binding,
            shadow_price=c.shadow_price,
            explanation=_unprovisioned_reason(off[c.subject])
            if family_of(c.kind).switched_off(c, unprovisioned)
            else _explain(c, objective),
        )
        for c in solution.constraints
        # A deployment's link row is no limit anyone set: the Deployments table reports the decision.
        if family_of(c.kind).listed(c)
    )


def decision_records(
    problem: RoutingProblem,
    solution: Solution,
    task_usd_per_day: np.ndarray,
    primary: np.ndarray,
    by_share: np.ndarray,
    max_fallbacks: int | None,
    settings: Settings,
    deployments: tuple[Deployment, ...],
) -> tuple[RowTable, tuple[str, ...]]:
    """One decision record per task, built column by column (vectorised over tasks), and warnings
    about them. `primary` is each task's main model and `by_share` orders the plan's cells by task,
    then share (largest first), then catalog order."""
    t_idx, m_idx, pair_share = solution.used_pairs()
    cost = problem.usd_per_day
    n_tasks = cost.shape[0]
    ids = np.array([str(m) for m in problem.models["id"]], dtype=object)
    tasks = problem.tasks
    # One T x M float buffer for the masked costs below (fresh 40 MB arrays fault page by page).
    scratch = cost.dense()
    np.copyto(scratch, np.inf, where=~problem.eligible)
    cheapest = scratch.argmin(axis=1)
    runner_up, has_runner_up = _runner_up(problem, t_idx, m_idx, task_usd_per_day, scratch)
    threshold_cost, not_computed = _threshold_plus_one(problem, solution, task_usd_per_day, settings)
    warnings: tuple[str, ...] = ()
    if not_computed:
        warnings = (
            (
                f"'+1 quality point' was not computed for {not_computed} task(s): each needs its own re-solve and "
                f"the {RESOLVE_BUDGET_SECONDS:g} s budget for them ran out (their figure is empty, not estimated)."
            ),
        )

    # Models carrying each task, largest share first (ties: catalog order).
    share_rows = t_idx[by_share]
    runner_up_extra = cost[np.arange(n_tasks), runner_up] - task_usd_per_day
    columns = {
        "department": tasks["department"],
        "role": tasks["role"],
        "task": tasks["task"],
        "models": _grouped(share_rows, ids[m_idx[by_share]].tolist(), n_tasks),
        "shares": _grouped(share_rows, pair_share[by_share].tolist(), n_tasks),
        "cheapest_eligible": ids[cheapest],
        "runner_up": np.where(has_runner_up, ids[runner_up], None),
        "runner_up_extra_usd_per_day": [
            extra if ok else None for extra, ok in zip(runner_up_extra.tolist(), has_runner_up.tolist())
        ],
        "binding": _binding_reasons(problem, solution, task_usd_per_day, cheapest, deployments),
        "excluded_cheaper": _excluded_cheaper(problem, primary, ids),
        "fallbacks": _fallbacks(problem, solution, t_idx, m_idx, ids, max_fallbacks, scratch),
        "threshold_plus_one_usd_per_day": np.where(np.isnan(threshold_cost), None, threshold_cost),
    }
    return RowTable(Decision, columns), warnings


def _runner_up(
    problem: RoutingProblem, t_idx: np.ndarray, m_idx: np.ndarray, task_usd_per_day: np.ndarray, scratch: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Each task's runner-up column and whether it has one. `scratch` holds the eligible costs (inf
    elsewhere) and is overwritten."""
    # The runner-up is the next choice up: an unused model that costs at least what the plan pays
    # (a cheaper unused model is one a constraint keeps the task off, reported under `binding`), and
    # could take the whole task: in blended mode a model below the bar cannot.
    if problem.mode is Mode.BLENDED:
        problem.usd_per_day.dense(out=scratch)
        np.copyto(scratch, np.inf, where=~problem.meets_threshold)
    scratch[t_idx, m_idx] = np.inf
    scratch[scratch < (task_usd_per_day * (1 - 1e-12))[:, None]] = np.inf
    runner_up = scratch.argmin(axis=1)
    return runner_up, np.isfinite(scratch[np.arange(runner_up.size), runner_up])


def _excluded_cheaper(problem: RoutingProblem, primary: np.ndarray, ids: np.ndarray) -> list[tuple]:
    """Per task, "<model>: <reason>" for the models cheaper than its main one that may not take it,
    cheapest first (a model that does not rate the task type is no alternative worth naming)."""
    cost = problem.usd_per_day
    primary_cost = cost[np.arange(cost.shape[0]), primary]
    excluded_cheaper = np.empty(cost.shape, dtype=bool)
    for rows in row_blocks(*cost.shape):  # the costs a block of tasks at a time, never T x M
        excluded = problem.excluded[rows]
        excluded_cheaper[rows] = (
            (excluded != ELIGIBLE) & (excluded != NOT_RATED) & (cost[rows] < primary_cost[rows, None])
        )
    # "<model>: <reason>" for every (reason, model), indexed by the exclusion code.
    reason_labels = np.array(
        [
            [f"{model}: {EXCLUSION_REASONS.get(code, '')}" for model in ids]
            for code in range(max(EXCLUSION_REASONS) + 1)
        ],
        dtype=object,
    )
    return ordered(
        excluded_cheaper,
        problem.usd_per_invocation,
        lambda rows, cols: reason_labels[problem.excluded[rows, cols].astype(np.intp), cols],
    )


def _fallbacks(
    problem: RoutingProblem,
    solution: Solution,
    t_idx: np.ndarray,
    m_idx: np.ndarray,
    ids: np.ndarray,
    max_fallbacks: int | None,
    scratch: np.ndarray,
) -> list[tuple]:
    """Per task, the models to send it to when its own are down, cheapest first (`scratch`, a T x M
    float buffer, is overwritten)."""
    # Fallbacks are the next *different* models a gateway can reach: none the plan already weights in
    # the task's own group (a retry on the same model), none the plan does not provision (no server).
    fallback_mask = problem.meets_threshold & solution.provisioned[None, :]
    fallback_mask[t_idx, m_idx] = False
    # None: every fallback; a negative limit lists none.
    k = fallback_mask.shape[1] if max_fallbacks is None else max(0, int(max_fallbacks))
    return first_k(fallback_mask, problem.usd_per_invocation, ids, k, scratch)


def _binding_reasons(
    problem: RoutingProblem,
    solution: Solution,
    task_usd_per_day: np.ndarray,
    cheapest: np.ndarray,
    deployments: tuple[Deployment, ...] = (),
) -> list[tuple]:
    """Per task, what keeps it off its cheapest eligible model: the fixed cost of a cheaper
    deployment the plan leaves off, then each binding row whose family says it does (capacity of a
    cheaper model, a share cap on a cheaper model's provider, its department's budget, the total
    budget, a commitment drawing it onto its provider)."""
    n_tasks = task_usd_per_day.size
    cost = problem.usd_per_day
    binding = [c for c in solution.constraints if c.binding]
    off = [d for d in deployments if not d.provisioned]
    off_cheapest = task_usd_per_day > cost[np.arange(n_tasks), cheapest] * (1 + 1e-9) + 1e-15
    if not (binding or off) or not off_cheapest.any():
        return [()] * n_tasks
    rows = np.flatnonzero(off_cheapest)
    cheaper = problem.eligible[rows] & (cost[rows] < task_usd_per_day[rows, None])
    model_column = {str(m): j for j, m in enumerate(problem.models["id"])}
    t_idx, m_idx, _ = solution.used_pairs()
    local = np.full(n_tasks, -1)
    local[rows] = np.arange(rows.size)
    on_model = np.zeros(cheaper.shape, dtype=bool)
    mine = local[t_idx] >= 0
    on_model[local[t_idx[mine]], m_idx[mine]] = True
    context = BindingContext(problem=problem, rows=rows, cheaper=cheaper, on_model=on_model, model_column=model_column)
    holds = np.zeros((rows.size, len(off) + len(binding)), dtype=bool)
    for k, d in enumerate(off):
        holds[:, k] = cheaper[:, model_column[d.model]]
    for k, c in enumerate(binding, start=len(off)):
        holds[:, k] = family_of(c.kind).keeps_off(c, context)
    labels = np.array(
        [f"fixed_cost {d.model} ({_fixed_against_saving(d)})" for d in off]
        + [f"{c.kind} {c.subject}" for c in binding],
        dtype=object,
    )
    r, k = np.nonzero(holds)  # row-major: each task's reasons in the constraints' order
    grouped = _grouped(r, labels[k].tolist(), rows.size)
    out: list[tuple] = [()] * n_tasks
    for t, reasons in zip(rows.tolist(), grouped):
        out[t] = reasons
    return out


def _threshold_plus_one(
    problem: RoutingProblem, solution: Solution, task_usd_per_day: np.ndarray, settings: Settings
) -> tuple[np.ndarray, int]:
    """$/day added by raising each task's threshold one point (NaN: no figure), and how many tasks
    the re-solve budget left without one."""
    if solution.quality_duals is not None:
        # Blended LP: the quality row's shadow price is exactly $/day per point.
        return np.maximum(solution.quality_duals, 0.0), 0
    if settings.objective is not Objective.COST:
        # Best quality within budgets: a bar one point higher changes quality, not a $/day figure.
        return np.full(task_usd_per_day.size, np.nan), 0
    return threshold_plus_one(problem, solution, task_usd_per_day, days_per_year=settings.days_per_year)


def _explain(row, objective: Objective) -> str:
    """The sentence for a constraint row: its use when it does not bind, else (its family's words)
    what one more unit of its limit is worth."""
    price = row.shadow_price
    use = f"{fmt.limit(row.used, row.unit)} of {fmt.limit(row.limit, row.unit)} used"
    if not row.binding:
        return f"not binding: {use}"
    if price is None:
        return f"binding: {use} (no shadow price for a mixed-integer plan)"
    if objective is Objective.QUALITY:
        gain = f"raises plan quality by {abs(price):.4g} points"
    else:
        gain = f"saves {fmt.usd(abs(price))}/day" if price < 0 else f"costs {fmt.usd(price)}/day"
    return family_of(row.kind).explain(row, gain)


def _unprovisioned_reason(d: Deployment) -> str:
    """Why the plan leaves a fixed-cost deployment off, in figures."""
    fixed = f"{fmt.usd(d.fixed_usd_per_day)}/day fixed ({fmt.usd(d.fixed_usd_per_month)}/month)"
    if d.saving_if_provisioned_usd_per_day is None:
        return f"not provisioned: its fixed cost, {fixed}, outweighs what it would save"
    return f"not provisioned: its fixed cost, {fixed}, is more than the {fmt.usd(d.saving_if_provisioned_usd_per_day)}/day it would save"


def _fixed_against_saving(d: Deployment) -> str:
    """The two figures behind an unprovisioned deployment, short enough for a table cell."""
    if d.saving_if_provisioned_usd_per_day is None:
        return f"{fmt.usd(d.fixed_usd_per_day)}/day fixed"
    return f"{fmt.usd(d.fixed_usd_per_day)}/day fixed > {fmt.usd(d.saving_if_provisioned_usd_per_day)}/day saved"
