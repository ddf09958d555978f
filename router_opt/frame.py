"""Domain objects -> arrays the solver and the report read. Every number (tokens, $/invocation,
$/day, quality, eligibility) is computed here once, vectorised; nothing here solves anything."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from router_opt import validate
from router_opt.constraints import FAMILIES
from router_opt.models import Catalog, Policy, Workload, parse_regions

TOKENS_PER_MTOK = 1_000_000
# A pass over every (task, model) pair (exclusions, dominance) works on blocks of whole task rows of
# about this many pairs (32 MiB of float64), so its temporaries stay a few such blocks at any size
# instead of several T x M arrays (docs/PERFORMANCE.md, "Memory").
BLOCK_PAIRS = 1 << 22

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


def row_blocks(n_tasks: int, n_models: int, block_pairs: int | None = None) -> Iterator[slice]:
    """Consecutive slices of task rows covering 0..n_tasks, each about `block_pairs` pairs
    (default BLOCK_PAIRS)."""
    step = max(1, (BLOCK_PAIRS if block_pairs is None else block_pairs) // max(n_models, 1))
    for start in range(0, n_tasks, step):
        yield slice(start, min(start + step, n_tasks))


def _axis_index(key, size: int) -> tuple[np.ndarray | int, bool]:
    """One axis of a numpy-style index as (integer index or int, whether it was a slice)."""
    if isinstance(key, slice):
        return np.arange(size)[key], True
    if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
        return operator.index(key), False
    key = np.asarray(key)
    if key.dtype == bool:
        if key.shape != (size,):
            raise IndexError(f"boolean index of shape {key.shape} for an axis of {size}")
        return np.flatnonzero(key), False
    if key.dtype.kind not in "iu":
        raise IndexError(f"only integers, slices and boolean arrays index pair values, got {key.dtype}")
    return key, False


def _pair_index(key, shape: tuple[int, int]) -> tuple[np.ndarray | int, np.ndarray | int]:
    """(task index, model index) that broadcast to the cells numpy's `array[key]` selects, for the
    forms used on pair values: pairs `[t_idx, m_idx]`, whole rows `[rows]` or `[rows, :]`, a column
    `[:, m]`, a block `[rows, cols]` with a slice on either axis, and a T x M boolean mask."""
    if isinstance(key, np.ndarray) and key.dtype == bool and key.ndim == 2:
        if key.shape != shape:
            raise IndexError(f"boolean mask of shape {key.shape} for pair values of shape {shape}")
        return np.nonzero(key)
    key = key if isinstance(key, tuple) else (key,)
    if len(key) == 1:
        key = (key[0], slice(None))
    if len(key) != 2:
        raise IndexError(f"pair values take a task and a model index, got {len(key)} indices")
    (tasks, tasks_sliced), (models, models_sliced) = (_axis_index(k, n) for k, n in zip(key, shape))
    if tasks_sliced and np.ndim(models) > 0:
        # A slice beside an index array: numpy puts the slice's axis first, the array's after it.
        tasks = tasks.reshape((-1,) + (1,) * np.ndim(models))
    elif models_sliced and np.ndim(tasks) > 0:
        tasks = tasks.reshape(np.shape(tasks) + (1,))
    return tasks, models


class PairValues:
    """A T x M float figure per (task, model) pair, computed when read from per-task and per-model
    factors instead of being stored: at 1,000,000 x 100 each stored matrix was 800 MB.

    Indexing gives exactly what numpy's indexing of the stored matrix gave, bit for bit (the same
    operations on the same numbers, cell by cell): `values[t_idx, m_idx]` for pairs (broadcast like
    numpy's), `values[rows]` for whole rows (an int, slice, index or boolean array), `values[:, m]`
    for a column, a slice on either axis, a T x M boolean mask. A pass over the whole matrix goes a
    block of rows at a time (`row_blocks`); `dense()` and `np.asarray(values)` make all of it."""

    __slots__ = ("shape",)
    dtype = np.dtype(np.float64)
    ndim = 2

    def __init__(self, shape: tuple[int, int]):
        self.shape = (int(shape[0]), int(shape[1]))

    def cells(self, tasks, models) -> np.ndarray:
        """The values at task and model indices (ints or integer arrays, broadcast together)."""
        raise NotImplementedError

    def __getitem__(self, key) -> np.ndarray:
        return self.cells(*_pair_index(key, self.shape))

    def dense(self, out: np.ndarray | None = None) -> np.ndarray:
        """The whole T x M matrix (into `out`, a float64 array of that shape, when given), made a
        block of rows at a time."""
        if out is None:
            out = np.empty(self.shape)
        for rows in row_blocks(*self.shape):
            out[rows] = self[rows]
        return out

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        dense = self.dense()
        return dense if dtype is None else dense.astype(dtype, copy=False)

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.shape[0]} tasks x {self.shape[1]} models)"


class UsdPerInvocation(PairValues):
    """Cost of one call of task t on model m: input tokens x input $/token + output tokens x output
    $/token, in that order of operations (what `np.outer(in, p_in) + np.outer(out, p_out)` gave)."""

    __slots__ = ("input_tokens", "input_usd_per_token", "output_tokens", "output_usd_per_token")

    def __init__(self, tasks: Table, models: Table):
        super().__init__((len(tasks), len(models)))
        self.input_tokens = tasks["input_tokens"].astype(float)
        self.output_tokens = tasks["output_tokens"].astype(float)
        self.input_usd_per_token = models["input_usd_per_mtok"] / TOKENS_PER_MTOK
        self.output_usd_per_token = models["output_usd_per_mtok"] / TOKENS_PER_MTOK

    def cells(self, tasks, models) -> np.ndarray:
        return (
            self.input_tokens[tasks] * self.input_usd_per_token[models]
            + self.output_tokens[tasks] * self.output_usd_per_token[models]
        )


class UsdPerDay(PairValues):
    """Cost of task t's whole daily volume on model m: $/invocation x invocations per day."""

    __slots__ = ("invocations_per_day", "per_invocation")

    def __init__(self, per_invocation: UsdPerInvocation, invocations_per_day: np.ndarray):
        super().__init__(per_invocation.shape)
        self.per_invocation = per_invocation
        self.invocations_per_day = invocations_per_day

    def cells(self, tasks, models) -> np.ndarray:
        return self.per_invocation.cells(tasks, models) * self.invocations_per_day[tasks]


class QualityByType(PairValues):
    """Quality of model m on task t's type: a row of a (task type x model) table; NaN where the model
    does not rate the type."""

    __slots__ = ("type_index", "type_quality")

    def __init__(self, type_quality: np.ndarray, type_index: np.ndarray):
        super().__init__((type_index.size, type_quality.shape[1]))
        self.type_quality = type_quality
        self.type_index = type_index

    def cells(self, tasks, models) -> np.ndarray:
        return self.type_quality[self.type_index[tasks], models]


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
    quality: PairValues
    """T x M quality on the catalog's scale; NaN where the model does not rate the task type."""
    usd_per_invocation: PairValues
    """T x M cost of one call of task t on model m."""
    usd_per_day: PairValues
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
    usd_per_invocation = UsdPerInvocation(tasks, models)
    excluded, meets = _exclusions(tasks, models, quality, _region_mask(columns, catalog.models, policy), mode)
    problem = RoutingProblem(
        catalog=catalog,
        workload=workload,
        mode=mode,
        tasks=tasks,
        models=models,
        quality=quality,
        usd_per_invocation=usd_per_invocation,
        usd_per_day=UsdPerDay(usd_per_invocation, tasks["invocations_per_day"]),
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


def _quality(catalog: Catalog, tasks: Table) -> QualityByType:
    """T x M quality: by task type (K x M), gathered per task; NaN where a model does not rate the type."""
    specs, type_names = catalog.models, catalog.task_types
    type_quality = np.array([[m.quality.get(name, np.nan) for m in specs] for name in type_names], dtype=float).reshape(
        len(type_names), len(specs)
    )
    return QualityByType(type_quality, task_type_index(type_names, tasks["task_type"]))


def task_type_index(type_names: list[str], task_types: np.ndarray) -> np.ndarray:
    """Each task's row in a table by task type (`type_names` order; every task's type is in it)."""
    type_position = {name: k for k, name in enumerate(type_names)}
    return np.fromiter((type_position[name] for name in task_types), dtype=np.intp, count=len(task_types))


def _exclusions(
    tasks: Table, models: Table, quality: PairValues, in_region: RegionMask | None, mode: Mode
) -> tuple[np.ndarray, np.ndarray]:
    """T x M: the first reason each pair is excluded (ELIGIBLE if none; see EXCLUSION_REASONS), and
    whether the model alone meets the task's bar and limits. Worked out a block of task rows at a
    time: each cell depends on its own task and model only."""
    n_tasks, n_models = quality.shape
    # A model without a context window or latency figure is assumed to fit (catalogs often lack
    # them); a model without `regions` is NOT assumed to be in an allowed region (compliance).
    # Each limit is only evaluated when some task or model has it: these are T x M passes.
    context = models["context_window"]
    check_context = not np.isnan(context).all()
    latency_limit = tasks["max_latency_ms"]
    latency = models["latency_ms"]
    check_latency = not (np.isnan(latency_limit).all() or np.isnan(latency).all())
    excluded = np.empty((n_tasks, n_models), dtype=np.uint8)
    meets = np.empty((n_tasks, n_models), dtype=bool)
    for rows in row_blocks(n_tasks, n_models):
        block_quality = quality[rows]
        rated = ~np.isnan(block_quality)
        above = block_quality >= tasks["min_quality"][rows, None]  # NaN (not rated) compares False
        fits_context = None
        if check_context:
            fits_context = np.isnan(context)[None, :] | (tasks["input_tokens"][rows, None] <= context[None, :])
        fast_enough = None
        if check_latency:
            limit = latency_limit[rows]
            fast_enough = np.isnan(limit)[:, None] | np.isnan(latency)[None, :] | (latency[None, :] <= limit[:, None])
        block_excluded = excluded[rows]
        block_excluded.fill(ELIGIBLE)
        block_meets = meets[rows]
        np.logical_and(rated, above, out=block_meets)
        # Assign reasons from last to first so the first applicable reason is the one kept.
        if mode is not Mode.BLENDED:
            block_excluded[~above] = BELOW_THRESHOLD
        block_region = None if in_region is None else in_region.rows(rows)
        for mask, reason in ((fast_enough, LATENCY), (fits_context, CONTEXT), (block_region, REGION)):
            if mask is not None:
                block_excluded[~mask] = reason
                block_meets &= mask
        block_excluded[~rated] = NOT_RATED
    return excluded, meets


@dataclass(frozen=True)
class RegionMask:
    """T x M: model m serves from a region task t's data may go to, as one row per distinct set of
    allowed regions (few exist) and each task's row."""

    table: np.ndarray
    """Region sets x M: the set's models (row 0: unrestricted, all True)."""
    codes: np.ndarray
    """Each task's row of `table`."""

    def rows(self, rows: slice) -> np.ndarray:
        return self.table[self.codes[rows]]


def _region_mask(columns: dict[str, list], specs, policy: Policy) -> RegionMask | None:
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
    return RegionMask(table, codes)
