"""Two saved plans side by side: what changed per department (a price change, a new model, another
quarter's workload)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from router_opt.errors import InputError, Problem
from router_opt.io.text import read_text
from router_opt.result import Result


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


class PlanDiff(_Out):
    """Per-department and total change from the old plan to the new one."""

    old: str
    new: str
    departments: tuple[DepartmentDelta, ...]
    old_optimal_usd_per_day: float
    new_optimal_usd_per_day: float
    delta_usd_per_day: float
    delta_usd_per_year: float
    old_baseline_usd_per_day: float
    new_baseline_usd_per_day: float
    old_overspend_ratio: float
    new_overspend_ratio: float


def load_result(path: str | Path) -> Result:
    """A result saved with `router-opt optimize --format json`."""
    path = Path(path)
    text = read_text(path)
    try:
        return Result.model_validate_json(text)
    except ValidationError as exc:
        problems = [
            Problem(str(path), err["msg"], field=".".join(str(p) for p in err["loc"]) or None)
            for err in exc.errors(include_url=False)[:10]
        ]
        problems.append(Problem(str(path), "expected a JSON result written by `router-opt optimize --format json`"))
        raise InputError(problems) from None


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
        old_optimal_usd_per_day=old.totals.optimal_usd_per_day,
        new_optimal_usd_per_day=new.totals.optimal_usd_per_day,
        delta_usd_per_day=delta,
        delta_usd_per_year=delta * new.settings.days_per_year,
        old_baseline_usd_per_day=old.totals.baseline_usd_per_day,
        new_baseline_usd_per_day=new.totals.baseline_usd_per_day,
        old_overspend_ratio=old.totals.overspend_ratio,
        new_overspend_ratio=new.totals.overspend_ratio,
    )
