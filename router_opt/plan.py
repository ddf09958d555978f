"""The library's front door: files (or domain objects) in, one `Result` out.

Loading is `router_opt.inputs` (re-exported here: `load_inputs`, `Inputs`, ...); this module solves.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from router_opt.actual import actual_spend
from router_opt.engine import Objective, solve
from router_opt.frame import Mode, build_problem
from router_opt.inputs import BASELINE_BARS, Inputs, bars_note, load_inputs, settings_for
from router_opt.io.loaders import WorkloadOptions
from router_opt.result import Result, build_result
from router_opt.uncertainty import robust_problem
from router_opt.units import DAYS_PER_YEAR

__all__ = [
    "BASELINE_BARS",
    "Inputs",
    "bars_note",
    "load_inputs",
    "optimize",
    "optimize_inputs",
    "settings_for",
]


def optimize_inputs(
    inputs: Inputs,
    mode: Mode | str = Mode.STRICT,
    min_quality: float | None = None,
    solver: str = "auto",
    days_per_year: int = DAYS_PER_YEAR,
    objective: Objective | str = Objective.COST,
    time_limit_seconds: float | None = None,
    max_fallbacks: int = 3,
    decisions: bool = True,
    start_prices: tuple[float, ...] | None = None,
    actual_routing: str | Path | None = None,
    confidence: float | None = None,
) -> Result:
    """Solve the routing program for already-loaded inputs. Sweeps pass `decisions=False` (they
    read totals, not decision records) and the previous point's `result.solve.coupling_prices` as
    `start_prices` (a warm start for the decomposition; ignored by the full LP). `actual_routing`:
    today's routing (`workload from-logs --current-routing`), priced beside the plan as `actual`.
    `confidence`: a robust plan, each task's models meeting its bar with at least this probability
    under the catalog's `quality_interval`s (`router_opt.uncertainty.robust_problem`)."""
    mode, objective = Mode(mode), Objective(objective)
    if confidence is None:
        problem = build_problem(inputs.catalog, inputs.workload, inputs.policy, mode=mode, min_quality=min_quality)
    else:
        problem = robust_problem(inputs, confidence, mode=mode, min_quality=min_quality)
    solution = solve(
        problem,
        solver=solver,
        objective=objective,
        time_limit_seconds=time_limit_seconds,
        days_per_year=days_per_year,
        start_prices=None if start_prices is None else np.asarray(start_prices, dtype=float),
    )
    settings = settings_for(inputs, mode, objective, min_quality, solution.solver, days_per_year, time_limit_seconds)
    result = build_result(problem, solution, settings, max_fallbacks=max_fallbacks, decisions=decisions)
    if actual_routing is not None:
        result = result.model_copy(update={"actual": actual_spend(problem, result, actual_routing)})
    return result


def optimize(
    catalog: str | Path | None = None,
    workload: str | Path | None = None,
    policy: str | Path | None = None,
    mode: Mode | str = Mode.STRICT,
    min_quality: float | None = None,
    solver: str = "auto",
    objective: Objective | str = Objective.COST,
    time_limit_seconds: float | None = None,
    workload_options: WorkloadOptions | None = None,
) -> Result:
    """Load the inputs (bundled defaults where None) and return the optimal routing plan."""
    return optimize_inputs(
        load_inputs(catalog, workload, policy, workload_options),
        mode=mode,
        min_quality=min_quality,
        solver=solver,
        objective=objective,
        time_limit_seconds=time_limit_seconds,
    )
