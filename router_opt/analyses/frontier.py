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
from typing import TYPE_CHECKING, Literal

import numpy as np

from router_opt.analyses.common import ANALYSIS_SCHEMA_VERSION, AnalysisResult
from router_opt.errors import InfeasibleError, RouterOptError
from router_opt.frame import Mode

if TYPE_CHECKING:  # plan imports result, which carries a FrontierResult: import plan lazily
    from router_opt.plan import Inputs

DEFAULT_POINTS = 19


class FrontierPoint(AnalysisResult):
    min_quality: float
    """The bar every swept task had to meet."""
    optimal_usd_per_day: float
    baseline_usd_per_day: float
    cost_share_of_baseline: float
    """optimal / all-large $/day."""
    share_routed_away_from_baseline: float
    """Share of invocations the plan sends to a model other than the baseline (0..1)."""
    plan_quality: float
    """Invocation-weighted quality of the plan."""
    quality_retained: float
    """plan quality / all-large quality (RouteLLM's "quality retained")."""
    usd_per_day_by_department: dict[str, float]


class FrontierResult(AnalysisResult):
    """The plan's cost at each quality bar of a sweep."""

    schema_version: str = ANALYSIS_SCHEMA_VERSION
    analysis: Literal["frontier"] = "frontier"
    catalog: str
    workload: str
    mode: Mode
    baseline_model: str
    requested_min_quality: tuple[float, ...]
    """The grid asked for, lowest first."""
    swept_tasks: int
    """Tasks whose bar the sweep sets (the rest keep their own min_quality)."""
    points: tuple[FrontierPoint, ...]
    """One per bar reached, lowest first."""
    stopped_at_min_quality: float | None
    """First bar at which no plan exists; the sweep stopped there (None if it finished)."""
    stop_reason: str | None
    area_under_curve: float
    """Trapezoid area under cost share (y) over the bar rescaled to 0..1 (x), over the points reached."""
    departments: tuple[str, ...]


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
    from router_opt.plan import optimize_inputs

    if points < 2:
        raise RouterOptError(f"a frontier needs at least 2 points, got {points}")
    if low is None or high is None:
        default_low, default_high = servable_range(inputs)
        low = default_low if low is None else low
        high = default_high if high is None else high
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise RouterOptError(f"the sweep needs a lowest bar below the highest, got {low:g} .. {high:g}")
    grid = [float(q) for q in np.linspace(low, high, points)]
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
            first = exc.tasks[0]
            best = (
                "no model rates it"
                if first.best_quality is None
                else f"best on offer {first.best_quality:g} ({first.best_model})"
            )
            stopped_at = q
            reason = (
                f"{len(exc.tasks)} task(s) cannot be served at this bar, e.g. {first.department} / {first.role} / "
                f"{first.task} [{first.task_type}]: {best}"
            )
            break
        prices = result.solve.coupling_prices if warm_start else None
        t = result.totals
        departments = tuple(d.department for d in result.departments)
        reached.append(
            FrontierPoint(
                min_quality=q,
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
        )
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
