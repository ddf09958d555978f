"""The plan as prices fall: each year's catalog re-priced along a per-tier trajectory, re-optimised.

A tier's price in a year comes from its trajectory points (geometric interpolation between points) or
from an annual decline rate. Each catalog model's input and output prices are scaled by the same
factor, its tier's price in the year divided by the price in the base year (the catalog's price
year), and the routing LP is solved again, so the plan may move tasks between tiers as relative prices
change.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, model_validator

from router_opt.analyses.common import ANALYSIS_SCHEMA_VERSION, TOKENS_PER_MTOK, AnalysisResult
from router_opt.analyses.data import PRICE_TRAJECTORY, DataFile, load_bundled_or
from router_opt.errors import RouterOptError
from router_opt.frame import Mode
from router_opt.models import Catalog, Tier
from router_opt.plan import Inputs, optimize_inputs

Basis = Literal["table", "interpolated", "decline"]
# The seed's line between "cheap" and not: "68% of tasks below $0.001/invocation" (seed 003, under
# the trajectory table).
CHEAP_USD_PER_INVOCATION = 0.001


class TierTrajectory(DataFile):
    """How one tier's price moves: points by year, or a constant annual decline."""

    tier: Tier
    """The catalog tier this applies to."""
    source: Annotated[str, Field(min_length=1)]
    """Seed table the points come from, or that the rate is an assumption."""
    usd_per_mtok: dict[int, Annotated[float, Field(gt=0, allow_inf_nan=False)]] | None = None
    """Price per million tokens by year (at least two years)."""
    annual_decline: Annotated[float, Field(ge=0, lt=1, allow_inf_nan=False)] | None = None
    """Share by which the price falls each year (0.45 = 45% cheaper than the year before)."""

    @model_validator(mode="after")
    def _one_kind(self) -> TierTrajectory:
        if (self.usd_per_mtok is None) == (self.annual_decline is None):
            raise ValueError("give either usd_per_mtok (prices by year) or annual_decline, not both or neither")
        if self.usd_per_mtok is not None and len(self.usd_per_mtok) < 2:
            raise ValueError("usd_per_mtok: needs prices for at least two years")
        return self


class PriceTrajectory(DataFile):
    """A price-trajectory data file (the bundled one is the seed's table plus stated assumptions)."""

    name: Annotated[str, Field(min_length=1)]
    """Short name shown in reports."""
    tiers: tuple[TierTrajectory, ...] = Field(min_length=1)
    """One entry per tier."""

    @model_validator(mode="after")
    def _unique(self) -> PriceTrajectory:
        seen: dict[Tier, int] = {}
        problems = []
        for i, entry in enumerate(self.tiers):
            if entry.tier in seen:
                problems.append(f"tiers[{i}].tier: '{entry.tier}' is already described at tiers[{seen[entry.tier]}]")
            seen.setdefault(entry.tier, i)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def entry(self, tier: Tier | str) -> TierTrajectory:
        for entry in self.tiers:
            if entry.tier == tier:
                return entry
        raise RouterOptError(
            f"price trajectory '{self.name}' has nothing for tier '{tier}' "
            f"(it covers: {', '.join(str(e.tier) for e in self.tiers)}); add the tier with points or an annual_decline"
        )


def load_price_trajectory(path: str | Path | None = None) -> PriceTrajectory:
    """A price-trajectory file, or the bundled seed trajectory when `path` is None."""
    return load_bundled_or(path, PRICE_TRAJECTORY, PriceTrajectory, "price trajectory")


def table_price(entry: TierTrajectory, year: int) -> tuple[float, Basis]:
    """A tabled tier's $/M in `year`: the point itself, or the geometric interpolation between the
    neighbouring points (a constant yearly rate of change between them)."""
    points = dict(sorted(entry.usd_per_mtok.items()))
    if year in points:
        return points[year], "table"
    years = list(points)
    if not years[0] < year < years[-1]:
        raise RouterOptError(
            f"tier '{entry.tier}' has prices for {years[0]}-{years[-1]} only; {year} is outside "
            "(router-opt does not extrapolate a table)"
        )
    after = next(y for y in years if y > year)
    before = max(y for y in years if y < year)
    step = (year - before) / (after - before)
    return points[before] * (points[after] / points[before]) ** step, "interpolated"


def price_factor(trajectory: PriceTrajectory, tier: Tier | str, year: int, base_year: int) -> tuple[float, Basis]:
    """Multiplier on a `tier` model's `base_year` price that gives its `year` price."""
    entry = trajectory.entry(tier)
    if entry.annual_decline is not None:
        return (1.0 - entry.annual_decline) ** (year - base_year), "decline"
    price, basis = table_price(entry, year)
    base, _ = table_price(entry, base_year)
    return price / base, basis


def catalog_for_year(catalog: Catalog, trajectory: PriceTrajectory, year: int, base_year: int | None = None) -> Catalog:
    """`catalog` with every model's input and output price scaled by its tier's factor for `year`."""
    base_year = catalog.prices_as_of.year if base_year is None else base_year
    models = []
    for model in catalog.models:
        factor, _ = price_factor(trajectory, model.tier, year, base_year)
        models.append(
            model.model_copy(
                update={
                    "input_usd_per_mtok": model.input_usd_per_mtok * factor,
                    "output_usd_per_mtok": model.output_usd_per_mtok * factor,
                }
            )
        )
    return catalog.model_copy(update={"models": tuple(models)})


class TaskYearRow(AnalysisResult):
    year: int
    usd_per_mtok: float
    usd_per_invocation: float
    basis: Basis


class TaskCostTrajectory(AnalysisResult):
    """One task's cost per call by year on one tier (the seed's "Per-Task Cost Evolution")."""

    schema_version: str = ANALYSIS_SCHEMA_VERSION
    analysis: Literal["task-trajectory"] = "task-trajectory"
    tier: str
    tokens_per_invocation: float
    """Input plus output tokens of one call, all at the tier's one price."""
    rows: tuple[TaskYearRow, ...]


class YearRow(AnalysisResult):
    year: int
    optimal_usd_per_day: float
    baseline_usd_per_day: float
    """The all-large habit at that year's prices."""
    optimal_usd_per_worker_per_day: float
    overspend_ratio: float
    """baseline / optimal."""
    share_tasks_below_cheap: float
    """Share of role x task rows whose plan $/invocation is below `cheap_usd_per_invocation` (0..1)."""
    share_invocations_below_cheap: float
    """The same, weighted by invocations per day."""
    mean_usd_per_invocation: float
    """Plan $/day / invocations per day."""
    share_routed_away_from_baseline: float
    price_factor_by_tier: dict[str, float]
    """Each catalog tier's price as a multiple of its base-year price."""
    basis_by_tier: dict[str, Basis]
    """Where each tier's price comes from this year: a table point, interpolation, or the decline rate."""


class TrajectoryResult(AnalysisResult):
    """The plan re-optimised each year as prices move along the trajectory."""

    schema_version: str = ANALYSIS_SCHEMA_VERSION
    analysis: Literal["trajectory"] = "trajectory"
    trajectory: str
    catalog: str
    workload: str
    base_year: int
    """Year whose prices the catalog holds; factors are relative to it."""
    mode: Mode
    min_quality: float | None
    cheap_usd_per_invocation: float
    workers: int
    tasks: int
    invocations_per_day: float
    sources_by_tier: dict[str, str]
    rows: tuple[YearRow, ...]
    task: TaskCostTrajectory | None = None
    """One call's cost by year on one tier, when asked for (`task_tokens`, `task_tier`)."""


def trajectory(
    inputs: Inputs,
    prices: PriceTrajectory | None = None,
    years: Iterable[int] = range(2024, 2031),
    base_year: int | None = None,
    mode: Mode | str = Mode.STRICT,
    min_quality: float | None = None,
    solver: str = "auto",
    cheap_usd_per_invocation: float = CHEAP_USD_PER_INVOCATION,
    task_tokens: float | None = None,
    task_tier: Tier | str | None = None,
    on_step: Callable[[int, int], None] | None = None,
    warm_start: bool = True,
) -> TrajectoryResult:
    """Re-price the catalog for each year and re-optimise; one row per year. With `task_tokens` and
    `task_tier`, also one call's cost on that tier for the same years (`task_cost_by_year`; a tier
    without table prices takes the catalog's price for it in the base year). `warm_start`: start each
    year's decomposition from the previous year's coupling prices (same plans, found faster)."""
    prices = prices if prices is not None else load_price_trajectory()
    years = sorted(set(years))
    if not years:
        raise RouterOptError("no years to project")
    base_year = inputs.catalog.prices_as_of.year if base_year is None else base_year
    tiers = list(dict.fromkeys(str(m.tier) for m in inputs.catalog.models))
    rows = []
    start_prices = None
    for done, year in enumerate(years):
        if on_step is not None:
            on_step(done, len(years))
        factors = {tier: price_factor(prices, tier, year, base_year) for tier in tiers}
        result = optimize_inputs(
            dataclasses.replace(inputs, catalog=catalog_for_year(inputs.catalog, prices, year, base_year)),
            mode=mode,
            min_quality=min_quality,
            solver=solver,
            decisions=False,
            start_prices=start_prices,
        )
        start_prices = result.solve.coupling_prices if warm_start else None
        rows.append(_year_row(year, result, factors, cheap_usd_per_invocation))
    task = None
    if task_tokens is not None or task_tier is not None:
        task = _task_cost(task_tokens, task_tier, prices, years, base_year, inputs.catalog)
    # Workers, tasks and volume do not change with prices: take them from the last year's plan.
    if on_step is not None:
        on_step(len(years), len(years))
    return TrajectoryResult(
        trajectory=prices.name,
        catalog=inputs.catalog.name,
        workload=inputs.workload.name,
        base_year=base_year,
        mode=Mode(mode),
        min_quality=min_quality,
        cheap_usd_per_invocation=cheap_usd_per_invocation,
        workers=result.totals.workers,
        tasks=result.totals.tasks,
        invocations_per_day=result.totals.invocations_per_day,
        sources_by_tier={tier: prices.entry(tier).source for tier in tiers},
        rows=tuple(rows),
        task=task,
    )


def _year_row(year: int, result, factors: dict[str, tuple[float, str]], cheap_usd_per_invocation: float) -> YearRow:
    """One year of the trajectory: the plan's totals and how much of it costs under the cheap mark."""
    totals = result.totals
    per_call = [t.usd_per_invocation for t in result.tasks]
    volume = [t.invocations_per_day for t in result.tasks]
    cheap = [c < cheap_usd_per_invocation for c in per_call]
    total_volume = sum(volume)
    return YearRow(
        year=year,
        optimal_usd_per_day=totals.optimal_usd_per_day,
        baseline_usd_per_day=totals.baseline_usd_per_day,
        optimal_usd_per_worker_per_day=totals.optimal_usd_per_worker_per_day,
        overspend_ratio=totals.overspend_ratio,
        share_tasks_below_cheap=sum(cheap) / len(cheap),
        share_invocations_below_cheap=(
            sum(v for v, c in zip(volume, cheap) if c) / total_volume if total_volume > 0 else math.nan
        ),
        mean_usd_per_invocation=totals.optimal_usd_per_day / total_volume if total_volume > 0 else math.nan,
        share_routed_away_from_baseline=totals.share_routed_away_from_baseline,
        price_factor_by_tier={tier: f for tier, (f, _) in factors.items()},
        basis_by_tier={tier: b for tier, (_, b) in factors.items()},
    )


def _task_cost(
    task_tokens: float | None,
    task_tier: Tier | str | None,
    prices: PriceTrajectory,
    years: list[int],
    base_year: int,
    catalog: Catalog,
) -> TaskCostTrajectory:
    """`task_cost_by_year` for the task given by both its tokens and its tier; a tier without table
    prices takes the mean of its first catalog model's input and output price in the base year."""
    if task_tokens is None or task_tier is None:
        raise RouterOptError("give both the task's tokens and its tier")
    base_price = None
    if prices.entry(task_tier).usd_per_mtok is None:
        on_tier = [m for m in catalog.models if m.tier == task_tier]
        if not on_tier:
            raise RouterOptError(f"tier '{task_tier}' has no table prices and no model in catalog '{catalog.name}'")
        base_price = (on_tier[0].input_usd_per_mtok + on_tier[0].output_usd_per_mtok) / 2
    return task_cost_by_year(task_tokens, task_tier, prices, years, base_usd_per_mtok=base_price, base_year=base_year)


def task_cost_by_year(
    tokens_per_invocation: float,
    tier: Tier | str,
    prices: PriceTrajectory | None = None,
    years: Iterable[int] = (2024, 2025, 2026, 2028, 2030),
    base_usd_per_mtok: float | None = None,
    base_year: int = 2025,
) -> TaskCostTrajectory:
    """$ per call = tokens x the tier's $/M in each year / 10^6. A tabled tier uses its own prices
    unless `base_usd_per_mtok` (the price in `base_year`) is given; a tier with only a decline rate
    needs `base_usd_per_mtok`."""
    if tokens_per_invocation < 0 or not math.isfinite(tokens_per_invocation):
        raise RouterOptError(f"tokens per invocation must be a finite number >= 0, got {tokens_per_invocation}")
    prices = prices if prices is not None else load_price_trajectory()
    tier = Tier(tier) if not isinstance(tier, Tier) else tier
    entry = prices.entry(tier)
    if entry.usd_per_mtok is None and base_usd_per_mtok is None:
        raise RouterOptError(
            f"tier '{tier}' has only an annual decline in '{prices.name}'; give its {base_year} price (base_usd_per_mtok)"
        )
    rows = []
    for year in sorted(set(years)):
        if base_usd_per_mtok is None:
            price, basis = table_price(entry, year)
        else:
            factor, basis = price_factor(prices, tier, year, base_year)
            price = base_usd_per_mtok * factor
        rows.append(
            TaskYearRow(
                year=year,
                usd_per_mtok=price,
                usd_per_invocation=tokens_per_invocation * price / TOKENS_PER_MTOK,
                basis=basis,
            )
        )
    return TaskCostTrajectory(tier=str(tier), tokens_per_invocation=tokens_per_invocation, rows=tuple(rows))
