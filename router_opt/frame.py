"""Domain objects -> arrays the solver and the report read. Every number (tokens, $/invocation,
$/day, quality, eligibility) is computed here once, vectorised; nothing here solves anything."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from router_opt.errors import InfeasibleError, InputError, Problem, RouterOptError, UnservableTask
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
    engine needs. The solve path does not import pandas, whose import alone is 0.14 s of every
    command's start-up. `len()` is the number of rows; `table["col"]` the column."""

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


def build_problem(
    catalog: Catalog,
    workload: Workload,
    policy: Policy,
    mode: Mode = Mode.STRICT,
    min_quality: float | None = None,
) -> RoutingProblem:
    """Compute every per-(task, model) figure and check that each task can be served at all."""
    if min_quality is not None and not np.isfinite(min_quality):
        raise RouterOptError(f"--min-quality must be a finite number on the catalog's quality scale, got {min_quality}")
    mode = Mode(mode)  # a plain "blended" must not silently build the strict problem
    columns = workload.columns()
    _check_task_types(catalog, workload, columns)
    _check_policy_names(policy, catalog, workload, columns)
    scale = catalog.quality_scale
    if min_quality is not None and not scale.min <= min_quality <= scale.max:
        raise InputError.single(
            "--min-quality",
            f"{min_quality:g} is outside the quality scale of catalog '{catalog.name}', {scale.min:g}..{scale.max:g} ({scale.unit})",
        )
    n_tasks = len(workload.tasks)
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
    tasks = Table(
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

    specs = catalog.models
    models = Table(
        {
            "id": _text([m.id for m in specs]),
            "tier": _text([str(m.tier) for m in specs]),
            "provider": _text([m.provider for m in specs]),
            "input_usd_per_mtok": np.array([m.input_usd_per_mtok for m in specs], dtype=float),
            "output_usd_per_mtok": np.array([m.output_usd_per_mtok for m in specs], dtype=float),
            "capacity_mtok_per_day": np.array(
                [np.nan if m.capacity_mtok_per_day is None else m.capacity_mtok_per_day for m in specs], dtype=float
            ),
            "fixed_usd_per_month": np.array([m.fixed_usd_per_month or 0.0 for m in specs], dtype=float),
            "latency_ms": np.array([np.nan if m.latency_ms is None else m.latency_ms for m in specs], dtype=float),
            "context_window": np.array(
                [np.nan if m.context_window is None else m.context_window for m in specs], dtype=float
            ),
        }
    )

    # Quality by task type (K x M), then one gather gives T x M.
    type_names = catalog.task_types
    type_quality = np.array([[m.quality.get(name, np.nan) for m in specs] for name in type_names], dtype=float).reshape(
        len(type_names), len(specs)
    )
    type_position = {name: k for k, name in enumerate(type_names)}  # every task's type is rated (checked above)
    type_index = np.fromiter((type_position[name] for name in tasks["task_type"]), dtype=np.intp, count=len(tasks))
    quality = type_quality[type_index]

    usd_per_invocation = np.outer(tasks["input_tokens"].astype(float), models["input_usd_per_mtok"] / TOKENS_PER_MTOK)
    usd_per_invocation += np.outer(
        tasks["output_tokens"].astype(float), models["output_usd_per_mtok"] / TOKENS_PER_MTOK
    )
    usd_per_day = usd_per_invocation * tasks["invocations_per_day"][:, None]

    rated = ~np.isnan(quality)
    threshold = tasks["min_quality"][:, None]
    above = quality >= threshold  # NaN (not rated) compares False
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
    in_region = _region_mask(columns, specs, policy)

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
    eligible = excluded == ELIGIBLE

    problem = RoutingProblem(
        catalog=catalog,
        workload=workload,
        mode=mode,
        tasks=tasks,
        models=models,
        quality=quality,
        usd_per_invocation=usd_per_invocation,
        usd_per_day=usd_per_day,
        eligible=eligible,
        excluded=excluded,
        meets_threshold=meets,
        baseline_index=[m.id for m in specs].index(catalog.baseline),
        policy=policy,
    )
    _check_servable(problem)
    return problem


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


def did_you_mean(name: str, close: str) -> str:
    """ " (did you mean 'x'?)", naming the characters of `name` that only look like those of `close`
    (a Cyrillic 'а' for a Latin 'a' is invisible in the message otherwise)."""
    import unicodedata

    def spelled(char: str) -> str:
        return f"U+{ord(char):04X} {unicodedata.name(char, 'an unnamed character')}"

    if len(name) == len(close):
        odd = [(a, b) for a, b in zip(name, close) if a != b and not a.isascii()]
        detail = "; ".join(f"{spelled(a)} where '{close}' has '{b}'" for a, b in dict.fromkeys(odd))
    else:
        detail = "; ".join(spelled(c) for c in dict.fromkeys(name) if not c.isascii() and c not in close)
    return f" (did you mean '{close}'? " + f"'{name}' holds {detail})" if detail else f" (did you mean '{close}'?)"


def _check_task_types(catalog: Catalog, workload: Workload, columns: dict[str, list]) -> None:
    """A task type no model rates is almost always a typo: name the row and the known types."""
    import difflib

    known = set(catalog.task_types)
    if set(columns["task_type"]) <= known:
        return
    problems = []
    for i, task in enumerate(workload.tasks):
        if task.task_type not in known:
            close = difflib.get_close_matches(task.task_type, sorted(known), n=1)
            hint = did_you_mean(task.task_type, close[0]) if close else ""
            line = workload.source_lines[i] if workload.source_lines else None
            problems.append(
                Problem(
                    workload.source_path or workload.name,
                    f"unknown task type '{task.task_type}'{hint}; catalog '{catalog.name}' rates: "
                    + ", ".join(catalog.task_types),
                    line=line,
                    field="task_type",
                )
            )
    if problems:
        raise InputError(problems)


def _check_policy_names(policy: Policy, catalog: Catalog, workload: Workload, columns: dict[str, list]) -> None:
    """A budget or region rule for a department the workload lacks, or a cap for a provider the
    catalog lacks, would silently do nothing: almost always a misspelling, so it is an error."""
    import difflib

    departments = sorted(set(columns["department"]))
    providers = sorted({m.provider for m in catalog.models})
    problems = []
    locate = []

    def unknown(field: str, name: str, known: list[str], what: str, source: str) -> None:
        close = [k for k in known if k.casefold() == name.casefold()] or difflib.get_close_matches(name, known, n=1)
        hint = did_you_mean(name, close[0]) if close else ""
        if not locate:
            locate.append(_policy_locator(policy))
        # "[key]" is in no mapping, so the position found is the key `name` itself, not its value.
        line, column = locate[0]((field, name, "[key]"))
        problems.append(
            Problem(
                policy.source_path or "policy",
                f"no {what} '{name}' in the {source}{hint}; known: {', '.join(known) or 'none'}",
                line=line,
                column=column,
                field=f"{field}.{name}",
            )
        )

    for name in policy.budgets_usd_per_day:
        if name not in departments:
            unknown("budgets_usd_per_day", name, departments, "department", "workload")
    for name in policy.allowed_regions_by_department:
        if name not in departments:
            unknown("allowed_regions_by_department", name, departments, "department", "workload")
    for name in policy.vendor_caps:
        if name != "*" and name not in providers:
            unknown("vendor_caps", name, providers, "provider", "catalog")
    # A shared policy may set bars for task types a smaller catalog does not rate (harmless: no task
    # has them); a key that is nearly a rated type is a misspelling whose bar would never apply.
    task_types = catalog.task_types
    for name in policy.min_quality_by_task_type:
        if name not in task_types and difflib.get_close_matches(name, task_types, n=1, cutoff=0.85):
            unknown("min_quality_by_task_type", name, task_types, "task type", f"catalog '{catalog.name}'")
    regions = sorted({r for m in catalog.models for r in (m.regions or ())})
    for department, allowed in policy.allowed_regions_by_department.items():
        for region in allowed:
            if region not in regions:
                unknown(
                    f"allowed_regions_by_department.{department}",
                    region,
                    regions,
                    "region",
                    f"catalog '{catalog.name}' (models' `regions`)",
                )
    # Rows share a few distinct `region` texts: check each text once, then name every row using one.
    region_texts = set(columns["region"]) - {None}
    known_regions = set(regions)
    misnamed = {text for text in region_texts if not parse_regions(text) <= known_regions}
    for i, task in enumerate(workload.tasks if misnamed else ()):
        if task.region not in misnamed:
            continue
        for region in sorted(parse_regions(task.region)):
            if region not in regions:
                problems.append(
                    Problem(
                        workload.source_path or workload.name,
                        f"no model in catalog '{catalog.name}' serves region '{region}'; its models' regions: "
                        + (", ".join(regions) or "none declared"),
                        line=workload.source_lines[i] if workload.source_lines else None,
                        field="region",
                    )
                )
    # A bar above the catalog's scale can never be met: say so once, not once per task.
    scale = catalog.quality_scale
    for field, values in (
        (
            "default_min_quality",
            {"": policy.default_min_quality} if "default_min_quality" in policy.model_fields_set else {},
        ),
        ("min_quality_by_task_type", policy.min_quality_by_task_type),
        ("min_quality_by_complexity", policy.min_quality_by_complexity),
    ):
        for key, bar in values.items():
            if not scale.min <= bar <= scale.max:
                problems.append(
                    Problem(
                        policy.source_path or "policy",
                        f"threshold {bar:g} is outside the quality scale of catalog '{catalog.name}', "
                        f"{scale.min:g}..{scale.max:g} ({scale.unit})",
                        field=f"{field}.{key}" if key else field,
                    )
                )
    if problems:
        raise InputError(problems)


def _policy_locator(policy: Policy):
    """(line, column) of a key path in the policy's file, or (None, None) when it has no file."""
    from pathlib import Path

    from router_opt.io.yaml_io import parse_yaml, yaml_locator

    try:
        return yaml_locator(parse_yaml(Path(policy.source_path)))
    except (InputError, OSError, TypeError):
        return lambda loc: (None, None)


def _check_servable(problem: RoutingProblem) -> None:
    """Every task needs at least one model within its limits that reaches its bar (in blended mode
    a mix can only average what its members offer, so the condition is the same)."""
    unservable = np.flatnonzero(~problem.meets_threshold.any(axis=1))
    if unservable.size == 0:
        return
    within_limits = (problem.excluded == ELIGIBLE) | (problem.excluded == BELOW_THRESHOLD)
    quality = np.where(within_limits, np.nan_to_num(problem.quality, nan=-np.inf), -np.inf)
    out = []
    for t in unservable:
        row = problem.tasks.row(t)
        best = int(np.argmax(quality[t]))
        rated = np.isfinite(quality[t, best])
        if not rated:
            reasons = sorted({EXCLUSION_REASONS[r] for r in problem.excluded[t] if r != ELIGIBLE})
            note = "no model within the task's limits: " + "; ".join(reasons)
        else:
            note = None
        out.append(
            UnservableTask(
                department=str(row["department"]),
                role=str(row["role"]),
                task=str(row["task"]),
                task_type=str(row["task_type"]),
                min_quality=float(row["min_quality"]),
                best_quality=float(quality[t, best]) if rated else None,
                best_model=str(problem.models["id"][best]) if rated else None,
                source=problem.workload.where(int(t)),
                note=note,
            )
        )
    raise InfeasibleError(out)
