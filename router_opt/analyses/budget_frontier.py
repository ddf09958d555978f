"""The budget frontier: what quality each level of budget buys.

Scales every budget of the policy (`budgets_usd_per_day` per department and `total_budget_usd_per_day`)
by one factor f over a grid and re-optimises at each with `objective="quality"`: the best
invocation-weighted quality the scaled budgets buy, then the cheapest plan of that quality (as
`optimize --objective quality`). Quality bars still apply at every point.

Default grid: geometrically spaced (budgets scale by ratios) from the factor at which the cheapest plan
just fits (the cost-objective plan, solved without budgets: its spend over the budget, the largest over
budgets) to the factor beyond which no budget binds (the same for the best-quality plan solved without
budgets), plus factor 1 (the policy's own budgets) when it lies between. Below the first no plan fits;
above the second more budget buys nothing.

Monotone by construction: a larger factor only loosens the budgets, so the best quality never falls.
For the same reason a factor at which no plan fits can only lie below every factor at which one does:
such points are skipped, and the result lists them with the reason (the sweep goes on above them).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

import numpy as np

from router_opt.analyses.common import ANALYSIS_SCHEMA_VERSION, AnalysisResult
from router_opt.constraints import family_of
from router_opt.errors import InfeasibleError, RouterOptError
from router_opt.frame import Mode

if TYPE_CHECKING:  # plan imports result: import plan lazily
    from router_opt.models import Policy
    from router_opt.plan import Inputs
    from router_opt.result import Result

DEFAULT_POINTS = 15


class BudgetFrontierPoint(AnalysisResult):
    factor: float
    """Every budget of the policy times this."""
    budget_usd_per_day: float
    """The scaled total budget if the policy sets one, else the sum of the scaled department budgets."""
    budgets_usd_per_day_by_department: dict[str, float]
    plan_usd_per_day: float
    """The plan's $/day (fixed deployment costs included)."""
    plan_quality: float
    """Invocation-weighted quality of the plan."""
    quality_retained: float
    """plan quality / all-large quality."""
    binding_budgets: tuple[str, ...]
    """Budgets the plan uses up: department names, and `total` for the total budget."""
    usd_per_day_by_department: dict[str, float]
    quality_by_department: dict[str, float]
    """Invocation-weighted quality of each department's tasks."""


class SkippedBudgetPoint(AnalysisResult):
    factor: float
    reason: str


class BudgetFrontierResult(AnalysisResult):
    """The plan's best quality at each scaling of the policy's budgets."""

    schema_version: str = ANALYSIS_SCHEMA_VERSION
    analysis: Literal["budget_frontier"] = "budget_frontier"
    catalog: str
    workload: str
    mode: Mode
    baseline_model: str
    baseline_quality: float
    """Invocation-weighted quality of the all-large plan."""
    policy_budgets_usd_per_day: dict[str, float]
    """The policy's department budgets (factor 1)."""
    policy_total_budget_usd_per_day: float | None
    requested_factors: tuple[float, ...]
    """The grid asked for, lowest first."""
    fits_from_factor: float | None
    """Smallest factor at which the cheapest plan fits (None when the grid was given)."""
    binds_until_factor: float | None
    """Factor beyond which no budget binds the best-quality plan (None when the grid was given)."""
    points: tuple[BudgetFrontierPoint, ...]
    """One per feasible factor, lowest first."""
    skipped: tuple[SkippedBudgetPoint, ...]
    """Factors at which no plan fits (by monotonicity, all below the first point)."""
    departments: tuple[str, ...]


def scaled_policy(policy: Policy, factor: float) -> Policy:
    """The policy with every budget multiplied by `factor`."""
    total = policy.total_budget_usd_per_day
    return policy.model_copy(
        update={
            "budgets_usd_per_day": {d: b * factor for d, b in policy.budgets_usd_per_day.items()},
            "total_budget_usd_per_day": None if total is None else total * factor,
        }
    )


def _spend_over_budget(result: Result, policy: Policy) -> float:
    """The largest spend / budget over the policy's budgets (0 where nothing is spent)."""
    spend = {d.department: d.optimal_usd_per_day for d in result.departments}
    ratios = [(spend.get(d, 0.0), b) for d, b in policy.budgets_usd_per_day.items()]
    if policy.total_budget_usd_per_day is not None:
        ratios.append((result.totals.optimal_usd_per_day, policy.total_budget_usd_per_day))
    worst = 0.0
    for used, budget in ratios:
        if used <= 0:
            continue
        if budget <= 0:
            raise RouterOptError("a budget of $0/day stays $0 at every factor: the sweep cannot make it fit")
        worst = max(worst, used / budget)
    return worst


def default_factors(inputs: Inputs, mode: Mode | str = Mode.STRICT, solver: str = "auto") -> tuple[float, float]:
    """(factor at which the cheapest plan just fits, factor beyond which no budget binds)."""
    from router_opt.plan import optimize_inputs

    no_budgets = inputs.policy.model_copy(update={"budgets_usd_per_day": {}, "total_budget_usd_per_day": None})
    unbudgeted = dataclasses.replace(inputs, policy=no_budgets)
    cheapest = optimize_inputs(unbudgeted, mode=mode, solver=solver, objective="cost")
    best = optimize_inputs(unbudgeted, mode=mode, solver=solver, objective="quality")
    return _spend_over_budget(cheapest, inputs.policy), _spend_over_budget(best, inputs.policy)


def _quality_by_department(result: Result) -> dict[str, float]:
    volume: dict[str, float] = {}
    weighted: dict[str, float] = {}
    for t in result.tasks:
        volume[t.department] = volume.get(t.department, 0.0) + t.invocations_per_day
        weighted[t.department] = weighted.get(t.department, 0.0) + t.invocations_per_day * t.quality
    return {d: weighted[d] / v if v > 0 else math.nan for d, v in volume.items()}


def _factor_grid(
    inputs: Inputs, factors: Sequence[float] | None, points: int, mode: Mode | str, solver: str
) -> tuple[list[float], float | None, float | None]:
    """(budget factors to sweep, in order; fits-from and binds-until factors when the grid is the
    default): `factors` as given, else `points` spaced geometrically over `default_factors` plus 1
    when it lies between."""
    if factors is not None:
        grid = sorted(float(f) for f in factors)
        if not grid or any(not (math.isfinite(f) and f >= 0) for f in grid):
            raise RouterOptError(f"budget factors must be finite and at least 0, got {list(factors)}")
        return grid, None, None
    if points < 2:
        raise RouterOptError(f"a frontier needs at least 2 points, got {points}")
    fits_from, binds_until = default_factors(inputs, mode=mode, solver=solver)
    if not binds_until > fits_from:
        raise RouterOptError(
            f"no budget binds once the cheapest plan fits (from factor {fits_from:.4g} the best-quality plan "
            "fits too): every budget buys the same plan; give factors to sweep anyway"
        )
    spaced = np.geomspace(fits_from, binds_until, points) if fits_from > 0 else np.linspace(0.0, binds_until, points)
    grid = sorted({float(f) for f in spaced} | ({1.0} if fits_from < 1.0 < binds_until else set()))
    return grid, fits_from, binds_until


def _point(factor: float, scaled: Policy, result: Result) -> BudgetFrontierPoint:
    """One point of the sweep: the budgets at `factor` (the `scaled` policy) and what the plan buys."""
    t = result.totals
    budgets = dict(scaled.budgets_usd_per_day)
    return BudgetFrontierPoint(
        factor=factor,
        budget_usd_per_day=scaled.total_budget_usd_per_day
        if scaled.total_budget_usd_per_day is not None
        else sum(budgets.values()),
        budgets_usd_per_day_by_department=budgets,
        plan_usd_per_day=t.optimal_usd_per_day,
        plan_quality=t.plan_quality,
        quality_retained=t.plan_quality / t.baseline_quality if t.baseline_quality > 0 else math.nan,
        binding_budgets=tuple(
            label for c in result.constraints if c.binding and (label := family_of(c.kind).budget_label(c)) is not None
        ),
        usd_per_day_by_department={d.department: d.optimal_usd_per_day for d in result.departments},
        quality_by_department=_quality_by_department(result),
    )


def frontier_by_budget(
    inputs: Inputs,
    factors: Sequence[float] | None = None,
    points: int = DEFAULT_POINTS,
    mode: Mode | str = Mode.STRICT,
    solver: str = "auto",
    on_step: Callable[[int, int], None] | None = None,
) -> BudgetFrontierResult:
    """Re-optimise for quality with every budget scaled by each factor (default: `points` spaced
    geometrically over `default_factors`, plus 1 when it lies between). `on_step(done, total)` is called after each point."""
    from router_opt.engine import InfeasiblePlanError
    from router_opt.plan import optimize_inputs

    policy = inputs.policy
    if not policy.budgets_usd_per_day and policy.total_budget_usd_per_day is None:
        raise RouterOptError(
            f"policy '{inputs.policy_name}' sets no budget (budgets_usd_per_day or total_budget_usd_per_day): "
            "there is nothing to sweep; `router-opt frontier` sweeps the quality bar instead"
        )
    grid, fits_from, binds_until = _factor_grid(inputs, factors, points, mode, solver)
    reached: list[BudgetFrontierPoint] = []
    skipped: list[SkippedBudgetPoint] = []
    departments: tuple[str, ...] = ()
    baseline_quality = math.nan
    for step, f in enumerate(grid, start=1):
        if on_step is not None and step > 1:
            on_step(step - 1, len(grid))
        scaled = scaled_policy(policy, f)
        try:
            result = optimize_inputs(
                dataclasses.replace(inputs, policy=scaled),
                mode=mode,
                solver=solver,
                objective="quality",
                decisions=False,
            )
        except InfeasiblePlanError as exc:
            skipped.append(SkippedBudgetPoint(factor=f, reason="; ".join(exc.relaxations) or "no plan fits"))
            continue
        except InfeasibleError as exc:
            skipped.append(
                SkippedBudgetPoint(factor=f, reason=f"{len(exc.tasks)} task(s) cannot meet their quality bar")
            )
            continue
        baseline_quality = result.totals.baseline_quality
        departments = tuple(d.department for d in result.departments)
        reached.append(_point(f, scaled, result))
    if on_step is not None:
        on_step(len(grid), len(grid))
    if not reached:
        raise RouterOptError(
            f"no plan fits at any budget factor up to {grid[-1]:g}: {skipped[-1].reason if skipped else ''}"
        )
    return BudgetFrontierResult(
        catalog=inputs.catalog.name,
        workload=inputs.workload.name,
        mode=Mode(mode),
        baseline_model=inputs.catalog.baseline,
        baseline_quality=baseline_quality,
        policy_budgets_usd_per_day=dict(policy.budgets_usd_per_day),
        policy_total_budget_usd_per_day=policy.total_budget_usd_per_day,
        requested_factors=tuple(grid),
        fits_from_factor=fits_from,
        binds_until_factor=binds_until,
        points=tuple(reached),
        skipped=tuple(skipped),
        departments=departments,
    )
