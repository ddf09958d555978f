"""The cost-quality frontier: what each step of the quality bar costs.

Sweeps the global quality bar (`min_quality`, the same override as `optimize --min-quality`; workload
rows with their own `min_quality` keep it) over a grid and re-optimises at each point.

Default grid: evenly spaced from the lowest quality any model offers for the workload's task types
(below it every bar gives the same plan) to the highest bar every swept task can still meet (the
smallest, over tasks, of the best quality on offer for the task's type).

Area under the curve: x = the bar, rescaled so the swept points run from 0 to 1; y = plan $/day as a
share of the all-large $/day (which does not depend on the bar). The trapezoid rule over the points
gives the plan's average cost, as a share of the all-large bill, across the swept bars: one figure to
compare catalogs or workloads over the same range (lower is cheaper quality).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from router_opt.analyses.frontier_types import FrontierPoint, FrontierResult
from router_opt.errors import InfeasibleError, RouterOptError
from router_opt.frame import Mode
from router_opt.inputs import Inputs
from router_opt.plan import optimize_inputs
from router_opt.result import Result

__all__ = ["DEFAULT_POINTS", "FrontierPoint", "FrontierResult", "area_under_curve", "frontier", "servable_range"]

DEFAULT_POINTS = 19


def servable_range(inputs: Inputs) -> tuple[float, float]:
    """(lowest quality on offer, highest bar every swept task can meet) for the workload's task types."""
    swept = [t for t in inputs.workload.tasks if t.min_quality is None]
    if not swept:
        raise RouterOptError("every workload row sets its own min_quality, so sweeping the bar changes nothing")
    offers: dict[str, list[float]] = {}
    for model in inputs.catalog.models:
        for task_type, score in model.quality.items():
            offers.setdefault(task_type, []).append(score)
    missing = sorted({t.task_type for t in swept if t.task_type not in offers})
    if missing:
        raise RouterOptError(f"no model in catalog '{inputs.catalog.name}' rates task type(s): {', '.join(missing)}")
    types = {t.task_type for t in swept}
    low = min(min(offers[k]) for k in types)
    high = min(max(offers[k]) for k in types)
    return low, high


def area_under_curve(min_quality: list[float], cost_share: list[float]) -> float:
    """Trapezoid area of `cost_share` over `min_quality` rescaled to 0..1 (a single point: its y)."""
    if len(min_quality) == 1:
        return cost_share[0]
    x = np.asarray(min_quality, dtype=float)
    x = (x - x[0]) / (x[-1] - x[0])
    y = np.asarray(cost_share, dtype=float)
    return float(np.sum(np.diff(x) * (y[1:] + y[:-1]) / 2))


def frontier(
    inputs: Inputs,
    low: float | None = None,
    high: float | None = None,
    points: int = DEFAULT_POINTS,
    mode: Mode | str = Mode.STRICT,
    solver: str = "auto",
    on_step: Callable[[int, int], None] | None = None,
    warm_start: bool = True,
) -> FrontierResult:
    """Re-optimise at `points` evenly spaced bars from `low` to `high` (defaults: `servable_range`).
    `on_step(done, total)` is called after each point (the CLI draws a progress bar with it).
    `warm_start`: start each point's decomposition from the previous point's coupling prices (the
    bars are close, so the prices are too); the plans are the same either way, only faster."""
    grid = _grid(inputs, low, high, points)
    reached: list[FrontierPoint] = []
    stopped_at = reason = None
    departments: tuple[str, ...] = ()
    prices = None
    for step, q in enumerate(grid, start=1):
        if on_step is not None and step > 1:
            on_step(step - 1, len(grid))
        try:
            result = optimize_inputs(
                inputs, mode=mode, min_quality=q, solver=solver, decisions=False, start_prices=prices
            )
        except InfeasibleError as exc:
            # Bars only rise along the grid: once no plan meets one, none meets the next.
            stopped_at, reason = q, _stop_reason(exc)
            break
        prices = result.solve.coupling_prices if warm_start else None
        departments = tuple(d.department for d in result.departments)
        reached.append(_point(q, result))
    if on_step is not None:
        on_step(len(grid), len(grid))
    if not reached:
        raise RouterOptError(f"no plan exists even at the lowest bar {grid[0]:g}: {reason}")
    return FrontierResult(
        catalog=inputs.catalog.name,
        workload=inputs.workload.name,
        mode=Mode(mode),
        baseline_model=inputs.catalog.baseline,
        requested_min_quality=tuple(grid),
        swept_tasks=sum(1 for t in inputs.workload.tasks if t.min_quality is None),
        points=tuple(reached),
        stopped_at_min_quality=stopped_at,
        stop_reason=reason,
        area_under_curve=area_under_curve(
            [p.min_quality for p in reached], [p.cost_share_of_baseline for p in reached]
        ),
        departments=departments,
    )


def _grid(inputs: Inputs, low: float | None, high: float | None, points: int) -> list[float]:
    """The bars to sweep, lowest first; a bound not given is `servable_range`'s."""
    if points < 2:
        raise RouterOptError(f"a frontier needs at least 2 points, got {points}")
    if low is None or high is None:
        default_low, default_high = servable_range(inputs)
        low = default_low if low is None else low
        high = default_high if high is None else high
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise RouterOptError(f"the sweep needs a lowest bar below the highest, got {low:g} .. {high:g}")
    return [float(q) for q in np.linspace(low, high, points)]


def _stop_reason(exc: InfeasibleError) -> str:
    """Why the sweep stopped, told by the first task no model can serve at the bar."""
    first = exc.tasks[0]
    best = (
        "no model rates it"
        if first.best_quality is None
        else f"best on offer {first.best_quality:g} ({first.best_model})"
    )
    return (
        f"{len(exc.tasks)} task(s) cannot be served at this bar, e.g. {first.department} / {first.role} / "
        f"{first.task} [{first.task_type}]: {best}"
    )


def _point(min_quality: float, result: Result) -> FrontierPoint:
    """One point of the curve from the plan at that bar."""
    t = result.totals
    return FrontierPoint(
        min_quality=min_quality,
        optimal_usd_per_day=t.optimal_usd_per_day,
        baseline_usd_per_day=t.baseline_usd_per_day,
        cost_share_of_baseline=t.optimal_usd_per_day / t.baseline_usd_per_day
        if t.baseline_usd_per_day > 0
        else math.nan,
        share_routed_away_from_baseline=t.share_routed_away_from_baseline,
        plan_quality=t.plan_quality,
        quality_retained=t.plan_quality / t.baseline_quality if t.baseline_quality > 0 else math.nan,
        usd_per_day_by_department={d.department: d.optimal_usd_per_day for d in result.departments},
    )
