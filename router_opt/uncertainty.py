"""Uncertain inputs (issue 18): savings as a range, and plans robust to what the evals do not know.

A catalog model may carry `quality_interval` (a 95% interval per task type, read as a normal with
mean the point quality and sd = (high - low) / (2 x 1.96)) and price ranges (uniform). Nothing else
in router-opt reads them; here:

- `ranges`: draw the inputs (quality clipped to the scale, prices, one volume multiplier per draw),
  re-optimise each draw warm-started from the nominal plan's coupling prices, and report P10/P50/P90
  of optimal $/day, savings against all-large and the overspend multiple; per task the probability
  that the nominal plan's model meets its bar; the nominal plan's own cost under each draw.
- `robust_problem`: the strict problem in which a model is eligible for a task only if its quality
  meets the bar with probability >= confidence (its (1 - confidence) quantile meets the bar): a
  chance constraint per task that only changes eligibility, so the program stays an LP.

Draw k is computed by `one_draw((setup, k, seed))` from `np.random.default_rng([seed, k])` alone, so
any executor (this module's sequential loop, a process pool, a cluster) gives identical numbers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
from pydantic import BaseModel, ConfigDict

from router_opt import formatting as fmt
from router_opt.actual import actual_spend, load_routing
from router_opt.engine import InfeasiblePlanError, Objective, solve
from router_opt.errors import InfeasibleError, RouterOptError
from router_opt.frame import TOKENS_PER_MTOK, Mode, QualityByType, RoutingProblem, build_problem, task_type_index
from router_opt.inputs import settings_for
from router_opt.models import Catalog, TaskRows, Workload
from router_opt.result import build_result
from router_opt.units import DAYS_PER_YEAR

Z_95 = 1.96
"""A `quality_interval` is a 95% interval: its half-width is 1.96 standard deviations."""
PERCENTILES = (10, 50, 90)


# --- the catalog's uncertainty as arrays ---------------------------------------------------------


def quality_arrays(catalog: Catalog) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(task types in `catalog.task_types` order, K x M point quality (NaN: not rated), K x M
    standard deviation (0 where the model gives no interval))."""
    names = catalog.task_types
    point = np.full((len(names), len(catalog.models)), np.nan)
    sd = np.zeros_like(point)
    position = {name: k for k, name in enumerate(names)}
    for m, model in enumerate(catalog.models):
        for name, value in model.quality.items():
            point[position[name], m] = value
        for name, (low, high) in (model.quality_interval or {}).items():
            sd[position[name], m] = (high - low) / (2 * Z_95)
    return names, point, sd


def price_ranges(catalog: Catalog) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(input low, input high, output low, output high) per model; low == high == the point price
    where no range is given."""
    lows_in, highs_in, lows_out, highs_out = [], [], [], []
    for model in catalog.models:
        given_in = model.input_usd_per_mtok_range or (model.input_usd_per_mtok,) * 2
        given_out = model.output_usd_per_mtok_range or (model.output_usd_per_mtok,) * 2
        lows_in.append(given_in[0])
        highs_in.append(given_in[1])
        lows_out.append(given_out[0])
        highs_out.append(given_out[1])
    return tuple(np.array(v, dtype=float) for v in (lows_in, highs_in, lows_out, highs_out))


def with_quality(catalog: Catalog, type_quality: np.ndarray, names: list[str]) -> Catalog:
    """The catalog with each model's quality replaced by `type_quality` (K x M, `names` order)."""
    position = {name: k for k, name in enumerate(names)}
    models = tuple(
        model.model_copy(update={"quality": {t: float(type_quality[position[t], m]) for t in model.quality}})
        for m, model in enumerate(catalog.models)
    )
    return catalog.model_copy(update={"models": models})


# --- robust plans: a chance constraint per task --------------------------------------------------


def quantile_quality(catalog: Catalog, confidence: float) -> tuple[list[str], np.ndarray]:
    """K x M quality each model reaches with probability `confidence` (its (1 - confidence)
    quantile under the interval, clipped to the scale); the point quality where no interval is given."""
    names, point, sd = quality_arrays(catalog)
    scale = catalog.quality_scale
    quantile = point + sd * NormalDist().inv_cdf(1 - confidence)
    return names, np.clip(quantile, scale.min, scale.max)


def robust_problem(
    inputs, confidence: float, mode: Mode | str = Mode.STRICT, min_quality: float | None = None
) -> RoutingProblem:
    """The routing problem in which model m may serve task t only if P(quality >= bar) >= confidence
    under m's interval (models without one: their point quality). Eligibility, fallbacks and the
    servability check use the quantile; the problem's `quality` (what reports show) stays the point."""
    if not (isinstance(confidence, (int, float)) and 0.5 <= confidence < 1):
        raise RouterOptError(f"`confidence` must be at least 0.5 and below 1, got {confidence}", option="confidence")
    mode = Mode(mode)
    if mode is Mode.BLENDED:
        raise RouterOptError(
            "`confidence` applies to strict and single plans (each model meets the bar on its own); "
            "a blended mix's chance constraint is not a per-model eligibility",
            option="confidence",
        )
    names, quantile = quantile_quality(inputs.catalog, confidence)
    problem = build_problem(
        with_quality(inputs.catalog, quantile, names),
        inputs.workload,
        inputs.policy,
        mode=mode,
        min_quality=min_quality,
    )
    _, point, _ = quality_arrays(inputs.catalog)
    quality = QualityByType(point, task_type_index(names, problem.tasks["task_type"]))
    return dataclasses.replace(problem, catalog=inputs.catalog, quality=quality)


def confidence_note(nominal, robust, confidence: float, catalog: Catalog) -> str:
    """What the confidence costs beside the nominal plan (both `Result`s), for the plan's warnings."""
    if not any(m.quality_interval for m in catalog.models):
        return (
            f"--confidence {confidence:g}: catalog '{catalog.name}' gives no quality_interval, so every model "
            "counts at its point quality and the plan is the nominal one"
        )
    cost, base = robust.totals.optimal_usd_per_day, nominal.totals.optimal_usd_per_day
    extra = cost - base
    moved = sum(a.model != b.model for a, b in zip(robust.tasks, nominal.tasks))
    share = f" ({extra / base:+.1%})" if base > 0 else ""
    return (
        f"--confidence {confidence:g}: each task's model meets its bar with probability >= {confidence:g} under "
        f"the catalog's quality intervals (models without one at their point quality). This plan costs "
        f"{fmt.usd(cost)}/day, {fmt.usd(extra)}/day{share} beside the nominal plan at point quality "
        f"({fmt.usd(base)}/day); {moved} of {len(robust.tasks)} task(s) on another model"
    )


# --- ranges: draws ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DrawSetup:
    """Everything one draw needs, picklable (sent once per draw to a worker process)."""

    catalog: Catalog
    workload: Workload
    policy: object
    mode: str
    min_quality: float | None
    solver: str
    days_per_year: int
    volume_range: tuple[float, float]
    start_prices: tuple[float, ...] | None
    """The nominal solve's coupling prices: each draw's solve starts from them."""
    plan_cells: tuple[np.ndarray, np.ndarray, np.ndarray]
    """(task, model, share) of the nominal plan."""
    plan_fixed_usd_per_day: float
    bars: np.ndarray
    """Each task's quality bar (T)."""
    type_index: np.ndarray
    """Each task's row in `quality_arrays` (T)."""
    actual_cells: tuple[np.ndarray, ...] | None = None
    """Today's routing (`--actual`): (task, model, share, input tokens, output tokens) per row, priced
    at each draw's prices and volume (router_opt.actual reads and checks the file)."""


def prepare_draws(
    inputs,
    mode: Mode | str = Mode.STRICT,
    min_quality: float | None = None,
    solver: str = "auto",
    volume_range: tuple[float, float] = (1.0, 1.0),
    days_per_year: int | None = None,
    actual_routing=None,
):
    """Solve the nominal plan and return (DrawSetup, nominal `Result`); with `actual_routing` (a
    routing file, as `optimize --actual` takes), today's spend is priced in every draw too."""
    low, high = (float(v) for v in volume_range)
    if not (math.isfinite(low) and math.isfinite(high) and 0 < low <= high):
        raise RouterOptError(
            f"`volume_range` must be LOW,HIGH with 0 < LOW <= HIGH, got {low:g},{high:g}", option="volume_range"
        )
    days = DAYS_PER_YEAR if days_per_year is None else days_per_year
    mode = Mode(mode)
    problem = build_problem(inputs.catalog, inputs.workload, inputs.policy, mode=mode, min_quality=min_quality)
    solution = solve(problem, solver=solver, days_per_year=days)
    settings = settings_for(inputs, mode, Objective.COST, min_quality, solution.solver, days)
    # The nominal result is built from this very solve, whose coupling prices warm-start the draws.
    nominal = build_result(problem, solution, settings, decisions=False)
    names, _, _ = quality_arrays(inputs.catalog)
    position = {name: k for k, name in enumerate(names)}
    type_index = np.fromiter((position[t] for t in problem.tasks["task_type"]), dtype=np.intp, count=len(problem.tasks))
    task, model, share = solution.used_pairs()
    prices = solution.coupling_prices
    actual_cells = None
    if actual_routing is not None:
        actual_cells = tuple(load_routing(actual_routing, problem)[:5])
        nominal = nominal.model_copy(update={"actual": actual_spend(problem, nominal, actual_routing)})
    setup = DrawSetup(
        catalog=inputs.catalog,
        workload=inputs.workload,
        policy=inputs.policy,
        mode=str(mode),
        min_quality=min_quality,
        solver=solver,
        days_per_year=days,
        volume_range=(low, high),
        start_prices=None if prices is None else tuple(float(p) for p in prices),
        plan_cells=(np.asarray(task), np.asarray(model), np.asarray(share, dtype=float)),
        plan_fixed_usd_per_day=float(nominal.totals.fixed_usd_per_day),
        bars=np.asarray(problem.tasks["min_quality"], dtype=float),
        type_index=type_index,
        actual_cells=actual_cells,
    )
    return setup, nominal


def sample(setup: DrawSetup, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One draw of (K x M quality, M input prices, M output prices, volume multiplier). Every draw
    takes the same numbers from `rng` in the same order, whatever the catalog gives ranges for."""
    _, point, sd = quality_arrays(setup.catalog)
    scale = setup.catalog.quality_scale
    z = rng.standard_normal(point.shape)
    u_in = rng.random(len(setup.catalog.models))
    u_out = rng.random(len(setup.catalog.models))
    u_volume = rng.random()
    quality = np.clip(point + sd * z, scale.min, scale.max)  # NaN (not rated) stays NaN
    low_in, high_in, low_out, high_out = price_ranges(setup.catalog)
    low, high = setup.volume_range
    return (
        quality,
        low_in + (high_in - low_in) * u_in,
        low_out + (high_out - low_out) * u_out,
        low + (high - low) * u_volume,
    )


def _sampled_inputs(setup: DrawSetup, quality, price_in, price_out, volume) -> tuple[Catalog, Workload]:
    names = setup.catalog.task_types
    position = {name: k for k, name in enumerate(names)}
    models = tuple(
        model.model_copy(
            update={
                "quality": {t: float(quality[position[t], m]) for t in model.quality},
                "input_usd_per_mtok": float(price_in[m]),
                "output_usd_per_mtok": float(price_out[m]),
            }
        )
        for m, model in enumerate(setup.catalog.models)
    )
    catalog = setup.catalog.model_copy(update={"models": models})
    workload = setup.workload
    if volume != 1.0:
        columns = dict(workload.columns())
        columns["invocations_per_day"] = [v * volume for v in columns["invocations_per_day"]]
        workload = workload.model_copy(update={"tasks": TaskRows.from_columns(columns)})
    return catalog, workload


def one_draw(spec: tuple[DrawSetup, int, int]) -> dict:
    """Draw `k` of a run seeded `seed`: spec = (setup, k, seed). Top-level and picklable, so an
    executor can map it; its numbers depend on (setup, k, seed) only (rng = default_rng([seed, k])).

    Returns {"draw", "volume", "feasible", "optimal_usd_per_day" (NaN when no plan meets every bar
    and limit in this draw), "baseline_usd_per_day", "nominal_plan_usd_per_day" (the nominal routing
    at this draw's prices and volume), "task_meets" (T bools: the nominal plan's models meet each
    task's bar at this draw's quality)}."""
    setup, k, seed = spec
    rng = np.random.default_rng([seed, k])
    quality, price_in, price_out, volume = sample(setup, rng)
    plan_usd, baseline_usd, actual_usd = _priced_at_draw(setup, price_in, price_out, volume)
    catalog, workload = _sampled_inputs(setup, quality, price_in, price_out, volume)
    try:
        problem = build_problem(catalog, workload, setup.policy, mode=Mode(setup.mode), min_quality=setup.min_quality)
        solution = solve(
            problem,
            solver=setup.solver,
            days_per_year=setup.days_per_year,
            start_prices=None if setup.start_prices is None else np.asarray(setup.start_prices, dtype=float),
        )
        optimal, feasible = float(solution.objective_usd_per_day), True
    except (InfeasibleError, InfeasiblePlanError):
        optimal, feasible = math.nan, False
    record = {
        "draw": k,
        "volume": float(volume),
        "feasible": feasible,
        "optimal_usd_per_day": optimal,
        "baseline_usd_per_day": baseline_usd,
        "nominal_plan_usd_per_day": plan_usd,
        "task_meets": _plan_meets_bars(setup, quality),
    }
    if setup.actual_cells is not None:
        record["actual_usd_per_day"] = actual_usd
    return record


def _priced_at_draw(
    setup: DrawSetup, price_in: np.ndarray, price_out: np.ndarray, volume: float
) -> tuple[float, float, float]:
    """$/day at the draw's prices and volume of the routings held fixed: the nominal plan (its fixed
    deployment costs included), all-large, and today's (NaN without --actual)."""
    columns = setup.workload.columns()
    invocations = np.array(columns["invocations_per_day"], dtype=float) * np.array(columns["headcount"], dtype=float)
    invocations *= volume
    tokens_in = np.array(columns["input_tokens"], dtype=float)
    tokens_out = np.array(columns["output_tokens"], dtype=float)
    task, model, share = setup.plan_cells
    per_call = (tokens_in[task] * price_in[model] + tokens_out[task] * price_out[model]) / TOKENS_PER_MTOK
    plan_usd = float(np.sum(share * per_call * invocations[task])) + setup.plan_fixed_usd_per_day
    b = setup.catalog.models.index(setup.catalog.baseline_model)
    baseline_usd = float(np.sum(invocations * (tokens_in * price_in[b] + tokens_out * price_out[b]) / TOKENS_PER_MTOK))

    actual_usd = math.nan
    if setup.actual_cells is not None:
        a_task, a_model, a_share, a_in, a_out = setup.actual_cells
        a_call = (a_in * price_in[a_model] + a_out * price_out[a_model]) / TOKENS_PER_MTOK
        actual_usd = float(np.sum(a_share * a_call * invocations[a_task]))
    return plan_usd, baseline_usd, actual_usd


def _plan_meets_bars(setup: DrawSetup, quality: np.ndarray) -> np.ndarray:
    """Per task, whether the nominal plan's models meet its bar at the draw's quality: each model on
    its own (strict, single), or their share-weighted mix (blended)."""
    task, model, share = setup.plan_cells
    cell_quality = quality[setup.type_index[task], model]
    n_tasks = len(setup.bars)
    if Mode(setup.mode) is Mode.BLENDED:
        mixed = np.bincount(task, weights=share * cell_quality, minlength=n_tasks)
        weight = np.bincount(task, weights=share, minlength=n_tasks)
        return mixed / np.where(weight > 0, weight, 1) >= setup.bars - 1e-9
    misses = np.bincount(task, weights=(cell_quality < setup.bars[task]).astype(float), minlength=n_tasks)
    return misses == 0


# --- ranges: the report ---------------------------------------------------------------------------


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Spread(_Out):
    metric: str
    p10: float | None
    p50: float | None
    p90: float | None
    mean: float | None
    nominal: float
    """The figure at the point inputs."""


class TaskRisk(_Out):
    department: str
    role: str
    task: str
    task_type: str
    min_quality: float
    models: str
    """The nominal plan's model(s) for the task."""
    quality: float
    """Their (share-weighted) point quality."""
    probability_meets_bar: float
    """Share of draws in which the nominal plan's model(s) meet the task's bar."""


class RangesResult(_Out):
    catalog: str
    workload: str
    policy: str | None
    mode: str
    draws: int
    seed: int
    volume_range: tuple[float, float]
    models_with_quality_interval: int
    models_with_price_range: int
    feasible_draws: int
    """Draws in which some plan meets every bar and limit (the others are left out of the optimal,
    savings and overspend figures)."""
    spreads: tuple[Spread, ...]
    tasks: tuple[TaskRisk, ...]
    """Every task, least likely to meet its bar first."""
    warnings: tuple[str, ...] = ()


def run_draws(
    setup: DrawSetup,
    draws: int,
    seed: int,
    on_step: Callable[[int, int], None] | None = None,
    map_fn: Callable[[Callable, Iterable], Iterable] = map,
) -> list[dict]:
    """The records of draws 0..draws-1, in draw order. `map_fn` maps `one_draw` over the specs
    (default: in this process, one after another; a pool's ordered `map` gives identical records)."""
    records = []
    for record in map_fn(one_draw, ((setup, k, seed) for k in range(draws))):
        records.append(record)
        if on_step is not None:
            on_step(len(records), draws)
    return records


def _no_dust(values: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """Differences within rounding of the figures they come from are 0 (not -$0.0000000000000009)."""
    return np.where(np.abs(values) <= 1e-9 * np.maximum(np.abs(scale), 1.0), 0.0, values)


def _spread(metric: str, values: np.ndarray, nominal: float) -> Spread:
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Spread(metric=metric, p10=None, p50=None, p90=None, mean=None, nominal=nominal)
    p10, p50, p90 = (float(v) for v in np.percentile(values, PERCENTILES))
    return Spread(metric=metric, p10=p10, p50=p50, p90=p90, mean=float(values.mean()), nominal=nominal)


def summarise(setup: DrawSetup, nominal, records: list[dict], seed: int, inputs=None) -> RangesResult:
    """The report of a run's records (`run_draws`, or any executor's, in draw order)."""
    optimal = np.array([r["optimal_usd_per_day"] for r in records], dtype=float)
    baseline = np.array([r["baseline_usd_per_day"] for r in records], dtype=float)
    plan = np.array([r["nominal_plan_usd_per_day"] for r in records], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        overspend = np.where(optimal > 0, baseline / optimal, np.nan)
    t = nominal.totals
    spreads = (
        _spread("optimal_usd_per_day", optimal, t.optimal_usd_per_day),
        _spread("baseline_usd_per_day", baseline, t.baseline_usd_per_day),
        _spread("savings_usd_per_day", baseline - optimal, t.savings_usd_per_day),
        _spread("overspend_ratio", overspend, t.overspend_ratio),
        _spread("nominal_plan_usd_per_day", plan, t.optimal_usd_per_day),
        _spread("nominal_plan_excess_usd_per_day", _no_dust(plan - optimal, plan), 0.0),
    )
    if setup.actual_cells is not None and nominal.actual is not None:
        actual = np.array([r["actual_usd_per_day"] for r in records], dtype=float)
        a = nominal.actual
        spreads += (
            _spread("actual_usd_per_day", actual, a.actual_usd_per_day),
            _spread("savings_vs_actual_usd_per_day", actual - optimal, a.savings_vs_actual_usd_per_day),
        )
    meets = np.array([r["task_meets"] for r in records], dtype=bool).reshape(len(records), len(setup.bars))
    probability = meets.mean(axis=0) if records else np.full(len(setup.bars), np.nan)
    risks = [
        TaskRisk(
            department=row.department,
            role=row.role,
            task=row.task,
            task_type=row.task_type,
            min_quality=row.min_quality,
            models=_plan_models(nominal, i),
            quality=row.quality,
            probability_meets_bar=float(probability[i]),
        )
        for i, row in enumerate(nominal.tasks)
    ]
    order = sorted(range(len(risks)), key=lambda i: (risks[i].probability_meets_bar, i))
    catalog = setup.catalog
    feasible = int(sum(r["feasible"] for r in records))
    warnings = []
    if feasible < len(records):
        warnings.append(
            f"{len(records) - feasible} of {len(records)} draw(s) have no plan meeting every bar and limit "
            "(a task's every model drawn below its bar, or a budget or capacity exceeded): left out of the "
            "optimal, savings and overspend figures"
        )
    if not any(m.quality_interval for m in catalog.models):
        warnings.append(f"catalog '{catalog.name}' gives no quality_interval: quality is held at its point values")
    return RangesResult(
        catalog=catalog.name,
        workload=setup.workload.name,
        policy=None if inputs is None else inputs.policy_name,
        mode=setup.mode,
        draws=len(records),
        seed=seed,
        volume_range=setup.volume_range,
        models_with_quality_interval=sum(bool(m.quality_interval) for m in catalog.models),
        models_with_price_range=sum(
            m.input_usd_per_mtok_range is not None or m.output_usd_per_mtok_range is not None for m in catalog.models
        ),
        feasible_draws=feasible,
        spreads=spreads,
        tasks=tuple(risks[i] for i in order),
        warnings=tuple(warnings),
    )


def _plan_models(nominal, index: int) -> str:
    row = nominal.tasks[index]
    if row.models == 1:
        return row.model
    key = (row.department, row.role, row.task)
    return "+".join(a.model for a in nominal.assignments if (a.department, a.role, a.task) == key)


def ranges(
    inputs,
    draws: int = 1000,
    seed: int = 0,
    volume_range: tuple[float, float] = (1.0, 1.0),
    mode: Mode | str = Mode.STRICT,
    min_quality: float | None = None,
    solver: str = "auto",
    on_step: Callable[[int, int], None] | None = None,
    map_fn: Callable[[Callable, Iterable], Iterable] = map,
    actual_routing=None,
) -> RangesResult:
    """Sample the inputs `draws` times, re-optimise each draw, and summarise (see the module)."""
    if draws < 1:
        raise RouterOptError(f"`draws` must be at least 1, got {draws}", option="draws")
    setup, nominal = prepare_draws(
        inputs,
        mode=mode,
        min_quality=min_quality,
        solver=solver,
        volume_range=volume_range,
        actual_routing=actual_routing,
    )
    records = run_draws(setup, draws, seed, on_step=on_step, map_fn=map_fn)
    return summarise(setup, nominal, records, seed, inputs)
