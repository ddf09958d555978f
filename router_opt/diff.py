"""Two saved plans side by side: what changed per department (a price change, a new model, another
quarter's workload)."""

from __future__ import annotations

import json
import math
from pathlib import Path

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from router_opt.errors import InputError, Problem
from router_opt.io.errors import field_name
from router_opt.io.text import read_text
from router_opt.result import SCHEMA_VERSION, Result


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DepartmentDelta(_Out):
    department: str
    old_optimal_usd_per_day: float | None
    """None: the department is not in the old plan."""
    new_optimal_usd_per_day: float | None
    """None: the department is not in the new plan."""
    delta_usd_per_day: float
    old_overspend_ratio: float | None
    new_overspend_ratio: float | None


class TaskDelta(_Out):
    """A task whose routing changed between the plans (or that one plan lacks)."""

    department: str
    role: str
    task: str
    old_routes: tuple[str, ...]
    """`model share` pairs of the old plan, largest share first (empty: not in the old plan)."""
    new_routes: tuple[str, ...]
    old_usd_per_day: float | None
    new_usd_per_day: float | None
    delta_usd_per_day: float
    old_quality: float | None
    new_quality: float | None
    delta_quality: float | None
    """New minus old share-weighted quality (None when one plan lacks the task)."""


class PlanDiff(_Out):
    """Per-department and total change from the old plan to the new one, and every task whose
    routing changed."""

    old: str
    new: str
    departments: tuple[DepartmentDelta, ...]
    tasks: tuple[TaskDelta, ...] = ()
    """Tasks that changed model or share (beyond 1e-9), or are in one plan only; largest $/day change first."""
    old_optimal_usd_per_day: float
    new_optimal_usd_per_day: float
    delta_usd_per_day: float
    delta_usd_per_year: float
    old_baseline_usd_per_day: float
    new_baseline_usd_per_day: float
    old_overspend_ratio: float
    new_overspend_ratio: float


# A saved plan's problems listed before "... and N more".
MAX_PLAN_PROBLEMS = 20
# Items of a list validated at once (see `_check_lists`).
LIST_CHUNK = 10_000
# Shares are fractions of a task's volume; a task's shares sum to 1 within this.
SHARE_TOLERANCE = 1e-6


def load_result(path: str | Path) -> Result:
    """A result saved with `router-opt optimize --format json`, checked: valid JSON (not nested past
    Python's recursion limit), a schema this version reads, every number finite, every share in
    [0, 1] and each task's shares summing to 1, and every decision and assignment naming a task and
    models of the plan. Any failure names the file and the field."""
    path = Path(path)
    text = read_text(path)
    data = _parse_json(path, text)
    if not isinstance(data, dict):
        raise InputError.single(
            str(path),
            f"is a JSON {type(data).__name__}, expected a plan written by `router-opt optimize --format json`",
        )
    _check_schema(path, data.get("schema_version"))
    try:
        _check_lists(data)
        result = Result.model_validate(data)
    except ValidationError as exc:
        problems = [
            Problem(str(path), err["msg"].removeprefix("Value error, "), field=field_name(err["loc"]) or None)
            for err in exc.errors(include_url=False, include_input=False)[:10]
        ]
        problems.append(Problem(str(path), "expected a JSON result written by `router-opt optimize --format json`"))
        raise InputError(problems) from None
    problems = plan_problems(str(path), result)
    if problems:
        shown = problems[:MAX_PLAN_PROBLEMS]
        if len(problems) > len(shown):
            shown.append(Problem(str(path), f"... and {len(problems) - len(shown):,} more problems"))
        shown.append(
            Problem(str(path), "the saved plan is inconsistent: save it again with `router-opt optimize -f json`")
        )
        raise InputError(shown)
    return result


def _check_lists(data: dict) -> None:
    """Validate the plan's long lists a chunk at a time, stopping at the first chunk with an error:
    pydantic reports every error of a list, and a file of millions of wrong items took minutes and
    gigabytes before a word (docs/PERFORMANCE.md). Raises a ValidationError whose locations are those
    of the whole plan."""
    for name, info in Result.model_fields.items():
        value = data.get(name)
        if not isinstance(value, list) or len(value) <= LIST_CHUNK:
            continue
        adapter = TypeAdapter(info.annotation)
        for start in range(0, len(value), LIST_CHUNK):
            try:
                adapter.validate_python(value[start : start + LIST_CHUNK])
            except ValidationError as exc:
                errors = exc.errors(include_url=False, include_input=False)[:10]
                shifted = []
                for err in errors:
                    loc = list(err["loc"])
                    index = next((i for i, part in enumerate(loc) if isinstance(part, int)), None)
                    if index is not None:
                        loc[index] += start
                        loc = loc[index:]
                    shifted.append(
                        {"type": "value_error", "loc": (name, *loc), "input": None, "ctx": {"error": err["msg"]}}
                    )
                raise ValidationError.from_exception_data("Result", shifted) from None


def _parse_json(path: Path, text: str):
    non_finite = []

    def number(token: str) -> float:
        value = float(token)
        if not math.isfinite(value):
            non_finite.append(token)
        return value

    def constant(token: str) -> float:
        non_finite.append(token)
        return float(token.replace("Infinity", "inf"))

    try:
        data = json.loads(text, parse_float=number, parse_constant=constant)
    except json.JSONDecodeError as exc:
        truncated = " (the file ends too early: truncated?)" if exc.pos >= len(text.rstrip()) else ""
        raise InputError.single(
            str(path), f"not valid JSON: {exc.msg}{truncated}", line=exc.lineno, column=exc.colno
        ) from None
    except RecursionError:
        raise InputError.single(
            str(path), "not a plan: JSON nested deeper than Python can read (a plan nests a few levels)"
        ) from None
    if non_finite:
        where = _first_non_finite(data)
        raise InputError.single(
            str(path),
            f"must be a finite number, got {non_finite[0]} ({len(non_finite):,} such number(s) in the file)",
            field=where,
        )
    return data


def _first_non_finite(data) -> str | None:
    """The path (field name) of the first NaN or infinite number in parsed JSON."""
    stack = [((), data)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            return field_name(loc) or None
        if isinstance(value, dict):
            stack.extend((loc + (k,), v) for k, v in reversed(list(value.items())))
        elif isinstance(value, list):
            stack.extend((loc + (i,), v) for i, v in reversed(list(enumerate(value))))
    return None


def _check_schema(path: Path, version: object) -> None:
    ours = tuple(int(p) for p in SCHEMA_VERSION.split("."))
    parts = version.split(".") if isinstance(version, str) else []
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise InputError.single(
            str(path),
            f"expected a version like {SCHEMA_VERSION!r}, got {version!r}: not a plan written by "
            "`router-opt optimize --format json`",
            field="schema_version",
        )
    theirs = (int(parts[0]), int(parts[1]))
    if theirs[0] != ours[0] or theirs > ours:
        raise InputError.single(
            str(path),
            f"{version!r}: this router-opt reads plans of schema {ours[0]}.0 to {SCHEMA_VERSION}"
            + (" (the plan is from a newer router-opt: upgrade)" if theirs > ours else ""),
            field="schema_version",
        )


def plan_problems(path: str, result: Result) -> list[Problem]:
    """What makes a parsed plan inconsistent: shares outside [0, 1] or not summing to 1 per task,
    assignments and decisions naming tasks or models the plan does not have."""
    tasks = {(t.department, t.role, t.task) for t in result.tasks}
    models = {m.id for m in result.models}
    problems = [
        _unknown_model(path, t.model, models, f"tasks[{i}].model")
        for i, t in enumerate(result.tasks)
        if _is_unknown(t.model, models)
    ]
    problems += _assignment_problems(path, result, tasks, models)
    if result.decisions is not None:
        problems += _decision_problems(path, result, tasks, models)
    return problems


def _is_unknown(model: str, models: set[str]) -> bool:
    """A model the plan's `models` do not list (a plan without that list names no unknown model)."""
    return bool(models) and model not in models


def _unknown_model(path: str, model: str, models: set[str], field: str) -> Problem:
    return Problem(path, f"names model {model!r}, which the plan's models do not list", field=field)


def _unknown_task(path: str, key: tuple[str, str, str], field: str) -> Problem:
    return Problem(path, f"names task {'/'.join(key)!r}, which the plan's tasks do not list", field=field)


def _assignment_problems(path: str, result: Result, tasks: set, models: set[str]) -> list[Problem]:
    """Each assignment names a task and a model of the plan and a share in [0, 1]; each task's shares
    sum to 1 (reported at its first assignment)."""
    problems: list[Problem] = []
    sums: dict[tuple[str, str, str], tuple[int, float]] = {}
    for i, a in enumerate(result.assignments):
        key = (a.department, a.role, a.task)
        if key not in tasks:
            problems.append(_unknown_task(path, key, f"assignments[{i}].task"))
        if _is_unknown(a.model, models):
            problems.append(_unknown_model(path, a.model, models, f"assignments[{i}].model"))
        if not 0 <= a.share <= 1 + SHARE_TOLERANCE:
            problems.append(
                Problem(path, f"must be a share in [0, 1], got {a.share:g}", field=f"assignments[{i}].share")
            )
        first, total = sums.get(key, (i, 0.0))
        sums[key] = (first, total + a.share)
    for key, (first, total) in sums.items():
        if abs(total - 1) > SHARE_TOLERANCE:
            problems.append(
                Problem(
                    path,
                    f"task {'/'.join(key)!r}: its shares sum to {total:g}, not 1",
                    field=f"assignments[{first}].share",
                )
            )
    return problems


def _decision_problems(path: str, result: Result, tasks: set, models: set[str]) -> list[Problem]:
    """One decision per task of the plan, each with as many shares (in [0, 1], summing to 1) as
    models, and naming only the plan's models."""
    problems: list[Problem] = []
    seen: set[tuple[str, str, str]] = set()
    for i, d in enumerate(result.decisions):
        key = (d.department, d.role, d.task)
        where = f"decisions[{i}]"
        if key not in tasks:
            problems.append(_unknown_task(path, key, f"{where}.task"))
        elif key in seen:
            problems.append(Problem(path, f"a second decision for task {'/'.join(key)!r}", field=f"{where}.task"))
        seen.add(key)
        if len(d.models) != len(d.shares) or not d.models:
            problems.append(
                Problem(path, f"{len(d.models)} model(s) but {len(d.shares)} share(s)", field=f"{where}.shares")
            )
        for j, share in enumerate(d.shares):
            if not 0 <= share <= 1 + SHARE_TOLERANCE:
                problems.append(
                    Problem(path, f"must be a share in [0, 1], got {share:g}", field=f"{where}.shares[{j}]")
                )
        if d.shares and abs(sum(d.shares) - 1) > SHARE_TOLERANCE:
            problems.append(Problem(path, f"shares sum to {sum(d.shares):g}, not 1", field=f"{where}.shares"))
        named = [(f"models[{j}]", m) for j, m in enumerate(d.models)]
        named += [(f"fallbacks[{j}]", m) for j, m in enumerate(d.fallbacks)]
        named += [("cheapest_eligible", d.cheapest_eligible)] + ([("runner_up", d.runner_up)] if d.runner_up else [])
        problems += [
            _unknown_model(path, model, models, f"{where}.{name}")
            for name, model in named
            if _is_unknown(model, models)
        ]
    missing = sorted(tasks - seen)
    if missing:
        problems.append(
            Problem(
                path,
                f"{len(missing):,} task(s) have no decision record, e.g. {'/'.join(missing[0])!r}",
                field="decisions",
            )
        )
    return problems


def diff_results(old: Result, new: Result, old_name: str = "old", new_name: str = "new") -> PlanDiff:
    before = {d.department: d for d in old.departments}
    after = {d.department: d for d in new.departments}
    names = list(before) + [d for d in after if d not in before]
    rows = []
    for name in names:
        a, b = before.get(name), after.get(name)
        rows.append(
            DepartmentDelta(
                department=name,
                old_optimal_usd_per_day=a.optimal_usd_per_day if a else None,
                new_optimal_usd_per_day=b.optimal_usd_per_day if b else None,
                delta_usd_per_day=(b.optimal_usd_per_day if b else 0.0) - (a.optimal_usd_per_day if a else 0.0),
                old_overspend_ratio=a.overspend_ratio if a else None,
                new_overspend_ratio=b.overspend_ratio if b else None,
            )
        )
    delta = new.totals.optimal_usd_per_day - old.totals.optimal_usd_per_day
    return PlanDiff(
        old=old_name,
        new=new_name,
        departments=tuple(rows),
        tasks=_task_deltas(old, new),
        old_optimal_usd_per_day=old.totals.optimal_usd_per_day,
        new_optimal_usd_per_day=new.totals.optimal_usd_per_day,
        delta_usd_per_day=delta,
        delta_usd_per_year=delta * new.settings.days_per_year,
        old_baseline_usd_per_day=old.totals.baseline_usd_per_day,
        new_baseline_usd_per_day=new.totals.baseline_usd_per_day,
        old_overspend_ratio=old.totals.overspend_ratio,
        new_overspend_ratio=new.totals.overspend_ratio,
    )


def _routes(plan: Result) -> dict[tuple[str, str, str], dict[str, float]]:
    out: dict[tuple[str, str, str], dict[str, float]] = {}
    for a in plan.assignments:
        shares = out.setdefault((a.department, a.role, a.task), {})
        shares[a.model] = shares.get(a.model, 0.0) + a.share
    return out


def _task_deltas(old: Result, new: Result) -> tuple[TaskDelta, ...]:
    """Tasks whose models or shares differ (a share moved by more than 1e-9), or that one plan lacks."""
    before, after = _routes(old), _routes(new)
    old_tasks = {(t.department, t.role, t.task): t for t in old.tasks}
    new_tasks = {(t.department, t.role, t.task): t for t in new.tasks}

    def label(shares: dict[str, float]) -> tuple[str, ...]:
        return tuple(f"{m} {s:.6g}" for m, s in sorted(shares.items(), key=lambda kv: (-kv[1], kv[0])))

    out = []
    for key in list(old_tasks) + [k for k in new_tasks if k not in old_tasks]:
        a, b = before.get(key, {}), after.get(key, {})
        if a.keys() == b.keys() and all(abs(a[m] - b[m]) <= 1e-9 for m in a):
            continue
        t_old, t_new = old_tasks.get(key), new_tasks.get(key)
        old_usd = t_old.usd_per_day if t_old else None
        new_usd = t_new.usd_per_day if t_new else None
        out.append(
            TaskDelta(
                department=key[0],
                role=key[1],
                task=key[2],
                old_routes=label(a),
                new_routes=label(b),
                old_usd_per_day=old_usd,
                new_usd_per_day=new_usd,
                delta_usd_per_day=(new_usd or 0.0) - (old_usd or 0.0),
                old_quality=t_old.quality if t_old else None,
                new_quality=t_new.quality if t_new else None,
                delta_quality=t_new.quality - t_old.quality if t_old and t_new else None,
            )
        )
    out.sort(key=lambda d: (-abs(d.delta_usd_per_day), d.department, d.role, d.task))
    return tuple(out)
