"""Domain objects -> arrays the solver and the report read. Every number (tokens, $/invocation,
$/day, quality, eligibility) is computed here once, vectorised; nothing here solves anything."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from router_opt import validate
from router_opt.constraints import FAMILIES
from router_opt.models import Catalog, Policy, Workload, parse_regions

TOKENS_PER_MTOK = 1_000_000

# Why a (task, model) pair cannot carry traffic, first reason wins (see `RoutingProblem.excluded`).
ELIGIBLE, NOT_RATED, REGION, CONTEXT, LATENCY, BELOW_THRESHOLD = range(6)
EXCLUSION_REASONS = {
    NOT_RATED: "does not rate this task type",
    REGION: "not served from an allowed region",
    CONTEXT: "context window too small for the prompt",
    LATENCY: "too slow for the task's latency limit",
    BELOW_THRESHOLD: "quality below the task's threshold",
}


class Mode(StrEnum):
    """How a task's quality bar is enforced."""

    STRICT = "strict"
    """Only models whose quality meets the task's threshold may serve it."""
    BLENDED = "blended"
    """Any rated model may serve it, as long as the volume-weighted quality of the mix meets the threshold."""
    SINGLE = "single"
    """Like strict, but each task goes wholly to one model (a mixed-integer program)."""


class Table:
    """Named numpy columns of equal length (text as object arrays): the part of a DataFrame the
    engine needs. The solve path does not import pandas, whose import alone is a noticeable part of
    every command's start-up (docs/PERFORMANCE.md). `len()` is the number of rows; `table["col"]` the
    column."""

    __slots__ = ("_columns", "_rows")

    def __init__(self, columns: dict[str, np.ndarray]):
        lengths = {len(c) for c in columns.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        self._columns = dict(columns)
        self._rows = lengths.pop() if lengths else 0

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name]

    def __len__(self) -> int:
        return self._rows

    def with_columns(self, **columns: np.ndarray) -> Table:
        """A new table with the named columns replaced (the others shared, not copied)."""
        return Table({**self._columns, **columns})

    def row(self, index: int) -> dict:
        """One row as {column: value}."""
        return {name: column[index] for name, column in self._columns.items()}

    def __repr__(self) -> str:
        return f"Table({self._rows} rows: {', '.join(self._columns)})"


def _text(values) -> np.ndarray:
    """Strings as an object array (numpy's fixed-width unicode would pad and copy them)."""
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def first_seen_codes(values, count: int) -> tuple[np.ndarray, list]:
    """Per value, the position of its first occurrence among the distinct values (0, 1, ... in
    first-seen order), and those distinct values: `pandas.factorize` without pandas."""
    index: dict = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.intp, count=count)
    return codes, list(index)


@dataclass(frozen=True)
class RoutingProblem:
    """Everything about one optimisation, as arrays. Task rows keep the workload's order; model
    columns keep the catalog's order."""

    catalog: Catalog
    workload: Workload
    mode: Mode
    tasks: Table
    """One row per task: department, role, task, task_type, headcount, invocations_per_day (all
    workers), input_tokens, output_tokens, min_quality, tokens_per_day."""
    models: Table
    """One row per model: id, tier, provider, input_usd_per_mtok, output_usd_per_mtok."""
    quality: np.ndarray
    """T x M quality on the catalog's scale; NaN where the model does not rate the task type."""
    usd_per_invocation: np.ndarray
    """T x M cost of one call of task t on model m."""
    usd_per_day: np.ndarray
    """T x M cost of the task's whole daily volume on model m."""
    eligible: np.ndarray
    """T x M: may model m carry any of task t (strict: meets the bar; blended: rated at all; both:
    within the task's residency, latency and context limits)."""
    excluded: np.ndarray
    """T x M uint8: ELIGIBLE, or the first reason the pair is excluded (see EXCLUSION_REASONS)."""
    meets_threshold: np.ndarray
    """T x M: the model alone meets the task's bar and its limits (what a fallback must satisfy)."""
    baseline_index: int
    """Column of the catalog's baseline model."""
    policy: Policy
    """The policy the thresholds came from; its budgets and vendor caps couple tasks in the LP."""

    @property
    def baseline_usd_per_day(self) -> np.ndarray:
        return self.usd_per_day[:, self.baseline_index]

    def within_limits(self) -> np.ndarray:
        """T x M: the model is within the task's residency, latency and context limits (whatever its
        quality)."""
        return (self.excluded == ELIGIBLE) | (self.excluded == BELOW_THRESHOLD)

    def exclusion_reasons(self, task: int) -> list[str]:
        """Every reason some model is excluded from `task`, in words (EXCLUSION_REASONS), sorted."""
        return sorted({EXCLUSION_REASONS[r] for r in self.excluded[task] if r != ELIGIBLE})


def build_problem(
    catalog: Catalog,
    workload: Workload,
    policy: Policy,
    mode: Mode = Mode.STRICT,
    min_quality: float | None = None,
) -> RoutingProblem:
    """Compute every per-(task, model) figure and check that each task can be served at all (the
    rules: router_opt.validate, in the order its docstring gives)."""
    validate.check_min_quality_finite(min_quality)
    mode = Mode(mode)  # a plain "blended" must not silently build the strict problem
    columns = workload.columns()
    validate.check_task_types(catalog, workload, columns)
    validate.check_policy_names(policy, catalog, workload, columns)
    validate.check_min_quality_on_scale(min_quality, catalog)
    tasks = _task_table(columns, policy, min_quality)
    models = _contract_prices(_model_table(catalog), policy)
    quality = _quality(catalog, tasks)
    usd_per_invocation = np.outer(tasks["input_tokens"].astype(float), models["input_usd_per_mtok"] / TOKENS_PER_MTOK)
    usd_per_invocation += np.outer(
        tasks["output_tokens"].astype(float), models["output_usd_per_mtok"] / TOKENS_PER_MTOK
    )
    excluded, meets = _exclusions(tasks, models, quality, _region_mask(columns, catalog.models, policy), mode)
    problem = RoutingProblem(
        catalog=catalog,
        workload=workload,
        mode=mode,
        tasks=tasks,
        models=models,
        quality=quality,
        usd_per_invocation=usd_per_invocation,
        usd_per_day=usd_per_invocation * tasks["invocations_per_day"][:, None],
        eligible=excluded == ELIGIBLE,
        excluded=excluded,
        meets_threshold=meets,
        baseline_index=[m.id for m in catalog.models].index(catalog.baseline),
        policy=policy,
    )
    validate.check_servable(problem)
    return problem


def _contract_prices(models: Table, policy: Policy) -> Table:
    """Prices as the policy's contracts make them (a constraint family's `price_factor`, e.g. a
    committed-spend discount): the plan, the all-large baseline and today's routing all pay them."""
    factor = np.ones(len(models))
    for family in FAMILIES:
        family_factor = family.price_factor(policy, models["provider"])
        if family_factor is not None:
            factor *= family_factor
    if (factor == 1.0).all():
        return models
    return models.with_columns(
        input_usd_per_mtok=models["input_usd_per_mtok"] * factor,
        output_usd_per_mtok=models["output_usd_per_mtok"] * factor,
    )


def _task_table(columns: dict[str, list], policy: Policy, min_quality: float | None) -> Table:
    """One row per task, its bar resolved (see `Policy.threshold`) and its daily volume for all workers."""
    n_tasks = len(columns["task_type"])
    # A task's bar depends only on (its own bar, complexity, task type): few distinct triples, so
    # each is worked out once and gathered.
    bar_codes, bar_keys = first_seen_codes(
        zip(columns["min_quality"], columns["complexity"], columns["task_type"]), n_tasks
    )
    bars_by_key = [policy.threshold(*key, min_quality) for key in bar_keys]
    bar_values = np.array([bar for bar, _ in bars_by_key], dtype=float)
    bar_is_set = np.array([is_set for _, is_set in bars_by_key], dtype=bool)
    headcount = np.array(columns["headcount"], dtype=np.int64)
    invocations_per_worker_per_day = np.array(columns["invocations_per_day"], dtype=float)
    input_tokens = np.array(columns["input_tokens"], dtype=np.int64)
    output_tokens = np.array(columns["output_tokens"], dtype=np.int64)
    invocations_per_day = invocations_per_worker_per_day * headcount
    return Table(
        {
            "department": _text(columns["department"]),
            "role": _text(columns["role"]),
            "task": _text(columns["task"]),
            "task_type": _text(columns["task_type"]),
            "headcount": headcount,
            "invocations_per_worker_per_day": invocations_per_worker_per_day,
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "min_quality": bar_values[bar_codes],
            # None -> NaN: numpy's float conversion of an object array does it in C.
            "max_latency_ms": np.array(columns["max_latency_ms"], dtype=object).astype(float),
            "has_bar": bar_is_set[bar_codes],
            "invocations_per_day": invocations_per_day,
            "tokens_per_day": invocations_per_day * (input_tokens + output_tokens),
        }
    )


def _model_table(catalog: Catalog) -> Table:
    """One row per model, in the catalog's order; a figure the catalog leaves out is NaN."""
    specs = catalog.models

    def optional(values) -> np.ndarray:
        return np.array([np.nan if v is None else v for v in values], dtype=float)

    return Table(
        {
            "id": _text([m.id for m in specs]),
            "tier": _text([str(m.tier) for m in specs]),
            "provider": _text([m.provider for m in specs]),
            "input_usd_per_mtok": np.array([m.input_usd_per_mtok for m in specs], dtype=float),
            "output_usd_per_mtok": np.array([m.output_usd_per_mtok for m in specs], dtype=float),
            "capacity_mtok_per_day": optional([m.capacity_mtok_per_day for m in specs]),
            "fixed_usd_per_month": np.array([m.fixed_usd_per_month or 0.0 for m in specs], dtype=float),
            "latency_ms": optional([m.latency_ms for m in specs]),
            "context_window": optional([m.context_window for m in specs]),
        }
    )


def _quality(catalog: Catalog, tasks: Table) -> np.ndarray:
    """T x M quality: by task type (K x M), then one gather; NaN where a model does not rate the type."""
    specs, type_names = catalog.models, catalog.task_types
    type_quality = np.array([[m.quality.get(name, np.nan) for m in specs] for name in type_names], dtype=float).reshape(
        len(type_names), len(specs)
    )
    type_position = {name: k for k, name in enumerate(type_names)}  # every task's type is rated (checked)
    type_index = np.fromiter((type_position[name] for name in tasks["task_type"]), dtype=np.intp, count=len(tasks))
    return type_quality[type_index]


def _exclusions(
    tasks: Table, models: Table, quality: np.ndarray, in_region: np.ndarray | None, mode: Mode
) -> tuple[np.ndarray, np.ndarray]:
    """T x M: the first reason each pair is excluded (ELIGIBLE if none; see EXCLUSION_REASONS), and
    whether the model alone meets the task's bar and limits."""
    rated = ~np.isnan(quality)
    above = quality >= tasks["min_quality"][:, None]  # NaN (not rated) compares False
    # A model without a context window or latency figure is assumed to fit (catalogs often lack
    # them); a model without `regions` is NOT assumed to be in an allowed region (compliance).
    # Each limit is only evaluated when some task or model has it: these are T x M passes.
    context = models["context_window"]
    fits_context = None
    if not np.isnan(context).all():
        fits_context = np.isnan(context)[None, :] | (tasks["input_tokens"][:, None] <= context[None, :])
    latency_limit = tasks["max_latency_ms"]
    latency = models["latency_ms"]
    fast_enough = None
    if not (np.isnan(latency_limit).all() or np.isnan(latency).all()):
        fast_enough = (
            np.isnan(latency_limit)[:, None] | np.isnan(latency)[None, :] | (latency[None, :] <= latency_limit[:, None])
        )
    excluded = np.full(quality.shape, ELIGIBLE, dtype=np.uint8)
    meets = rated & above
    # Assign reasons from last to first so the first applicable reason is the one kept.
    if mode is not Mode.BLENDED:
        excluded[~above] = BELOW_THRESHOLD
    for mask, reason in ((fast_enough, LATENCY), (fits_context, CONTEXT), (in_region, REGION)):
        if mask is not None:
            excluded[~mask] = reason
            meets &= mask
    excluded[~rated] = NOT_RATED
    return excluded, meets


def _region_mask(columns: dict[str, list], specs, policy: Policy) -> np.ndarray | None:
    """T x M: model m serves from a region task t's data may go to (True where t is unrestricted);
    None when no task is restricted."""
    by_department = {d: frozenset(r) for d, r in policy.allowed_regions_by_department.items()}
    if not by_department and all(region is None for region in columns["region"]):
        return None
    allowed = [
        parse_regions(region) if region is not None else by_department.get(department)
        for region, department in zip(columns["region"], columns["department"])
    ]
    # Few distinct region sets exist: one model row per set (row 0: unrestricted), one gather.
    index: dict[frozenset[str] | None, int] = {None: 0}
    codes = np.fromiter((index.setdefault(a, len(index)) for a in allowed), dtype=np.intp, count=len(allowed))
    if len(index) == 1:
        return None
    table = np.ones((len(index), len(specs)), dtype=bool)
    for regions, row in index.items():
        if regions is not None:
            table[row] = [m.regions is not None and bool(regions & set(m.regions)) for m in specs]
    return table[codes]
