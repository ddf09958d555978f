"""The one object every renderer reads: the plan, its rollups and totals, and how it was made.

Money is kept at full float precision here; only renderers round. The JSON form of `Result` is a
contract (`schema_version`): change its keys only with a version bump.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

from router_opt.frame import Mode, RoutingProblem
from router_opt.solver import Solution

SCHEMA_VERSION = "1.0"
DAYS_PER_YEAR = 365


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)


class Settings(_Out):
    """The inputs and options a result was computed from."""

    catalog: str
    """Catalog name."""
    catalog_path: str | None
    """File the catalog came from (None for the bundled one)."""
    prices_as_of: date
    """The catalog's price date."""
    workload: str
    """Workload name."""
    workload_path: str | None
    """File the workload came from (None for the bundled one)."""
    policy_path: str | None
    """Policy file (None for the bundled default policy)."""
    mode: Mode
    """strict or blended."""
    min_quality: float | None
    """The --min-quality override, if any."""
    baseline_model: str
    """Model the all-large baseline sends every task to."""
    baseline_tier: str
    """Tier of the baseline model."""
    solver: str
    """Solver and version."""
    days_per_year: int
    """Days used to turn $/day into $/year."""


class Totals(_Out):
    """The whole organisation."""

    optimal_usd_per_day: float
    baseline_usd_per_day: float
    savings_usd_per_day: float
    optimal_usd_per_year: float
    baseline_usd_per_year: float
    savings_usd_per_year: float
    savings_share: float
    """Savings as a share of the baseline cost (0..1)."""
    overspend_ratio: float
    """Baseline cost / optimal cost: how many times too much the all-large habit pays."""
    workers: int
    """Sum of headcount over roles."""
    optimal_usd_per_worker_per_day: float
    baseline_usd_per_worker_per_day: float
    tasks: int
    """Role x task rows."""
    invocations_per_day: float
    """Calls per day, all workers."""
    share_routed_away_from_baseline: float
    """Share of invocations the plan sends to a model other than the baseline (0..1)."""
    plan_quality: float
    """Invocation-weighted quality of the plan."""
    baseline_quality: float
    """Invocation-weighted quality of the all-large baseline."""
    baseline_tasks_below_threshold: int
    """Tasks whose threshold the baseline model does not meet."""


class RoleRow(_Out):
    department: str
    role: str
    headcount: int
    optimal_usd_per_day: float
    baseline_usd_per_day: float
    savings_usd_per_day: float
    overspend_ratio: float
    optimal_usd_per_worker_per_day: float


class DepartmentRow(_Out):
    department: str
    roles: int
    headcount: int
    optimal_usd_per_day: float
    baseline_usd_per_day: float
    savings_usd_per_day: float
    overspend_ratio: float


class TaskRow(_Out):
    department: str
    role: str
    task: str
    task_type: str
    invocations_per_day: float
    """Calls per day, all workers of the role."""
    min_quality: float
    quality: float
    """Share-weighted quality of the models serving the task."""
    usd_per_invocation: float
    """Share-weighted cost of one call."""
    usd_per_day: float
    baseline_usd_per_day: float
    model: str
    """Model with the largest share."""
    tier: str
    """Tier of that model."""
    models: int
    """How many models share the task."""


class Assignment(_Out):
    department: str
    role: str
    task: str
    task_type: str
    model: str
    tier: str
    share: float
    """Share of the task's daily volume sent to this model (0..1)."""
    invocations_per_day: float
    usd_per_invocation: float
    usd_per_day: float
    quality: float


class Result(_Out):
    """A routing plan and everything a report shows about it."""

    schema_version: str = SCHEMA_VERSION
    settings: Settings
    totals: Totals
    roles: tuple[RoleRow, ...]
    departments: tuple[DepartmentRow, ...]
    tasks: tuple[TaskRow, ...]
    assignments: tuple[Assignment, ...]

    def top_tasks(self, n: int) -> list[TaskRow]:
        """The n highest-volume tasks (ties: department, role, task)."""
        ranked = sorted(self.tasks, key=lambda t: (-t.invocations_per_day, t.department, t.role, t.task))
        return ranked[:n]


def _ratio(numerator: float, denominator: float) -> float:
    # A plan that costs nothing (every task free) has no finite overspend ratio; say 1 when both
    # are zero and infinity otherwise rather than dividing by zero.
    if denominator > 0:
        return numerator / denominator
    return 1.0 if numerator == 0 else float("inf")


def build_result(problem: RoutingProblem, solution: Solution, settings: Settings) -> Result:
    """Roll the solver's shares up into tasks, roles, departments and totals."""
    shares = solution.shares
    tasks = problem.tasks
    volume = tasks["invocations_per_day"].to_numpy()
    quality = np.nan_to_num(problem.quality, nan=0.0)
    task_usd_per_day = (shares * problem.usd_per_day).sum(axis=1)
    task_quality = (shares * quality).sum(axis=1)
    baseline_usd_per_day = problem.baseline_usd_per_day
    baseline_quality = quality[:, problem.baseline_index]
    model_ids = problem.models["id"].to_numpy()
    tiers = problem.models["tier"].to_numpy()
    primary = shares.argmax(axis=1)

    per_task = tasks[["department", "role", "task", "task_type", "headcount", "invocations_per_day", "min_quality"]].copy()
    per_task["usd_per_day"] = task_usd_per_day
    per_task["baseline_usd_per_day"] = baseline_usd_per_day

    task_rows = tuple(
        TaskRow(
            department=row.department,
            role=row.role,
            task=row.task,
            task_type=row.task_type,
            invocations_per_day=float(row.invocations_per_day),
            min_quality=float(row.min_quality),
            quality=float(task_quality[i]),
            usd_per_invocation=float(task_usd_per_day[i] / row.invocations_per_day)
            if row.invocations_per_day > 0
            else float((shares[i] * problem.usd_per_invocation[i]).sum()),
            usd_per_day=float(task_usd_per_day[i]),
            baseline_usd_per_day=float(baseline_usd_per_day[i]),
            model=str(model_ids[primary[i]]),
            tier=str(tiers[primary[i]]),
            models=int((shares[i] > 0).sum()),
        )
        for i, row in enumerate(per_task.itertuples(index=False))
    )

    t_idx, m_idx = np.nonzero(shares)
    assignments = tuple(
        Assignment(
            department=tasks["department"].iat[t],
            role=tasks["role"].iat[t],
            task=tasks["task"].iat[t],
            task_type=tasks["task_type"].iat[t],
            model=str(model_ids[m]),
            tier=str(tiers[m]),
            share=float(shares[t, m]),
            invocations_per_day=float(volume[t] * shares[t, m]),
            usd_per_invocation=float(problem.usd_per_invocation[t, m]),
            usd_per_day=float(problem.usd_per_day[t, m] * shares[t, m]),
            quality=float(quality[t, m]),
        )
        for t, m in zip(t_idx.tolist(), m_idx.tolist())
    )

    # Roll-ups keep the workload's first-seen order of departments and roles.
    by_role = per_task.groupby(["department", "role"], sort=False).agg(
        headcount=("headcount", "first"),
        optimal=("usd_per_day", "sum"),
        baseline=("baseline_usd_per_day", "sum"),
    )
    roles = tuple(
        RoleRow(
            department=department,
            role=role,
            headcount=int(r.headcount),
            optimal_usd_per_day=float(r.optimal),
            baseline_usd_per_day=float(r.baseline),
            savings_usd_per_day=float(r.baseline - r.optimal),
            overspend_ratio=_ratio(r.baseline, r.optimal),
            optimal_usd_per_worker_per_day=float(r.optimal / r.headcount),
        )
        for (department, role), r in by_role.iterrows()
    )
    role_frame = by_role.reset_index()
    by_department = role_frame.groupby("department", sort=False).agg(
        roles=("role", "size"), headcount=("headcount", "sum"), optimal=("optimal", "sum"), baseline=("baseline", "sum")
    )
    departments = tuple(
        DepartmentRow(
            department=department,
            roles=int(r.roles),
            headcount=int(r.headcount),
            optimal_usd_per_day=float(r.optimal),
            baseline_usd_per_day=float(r.baseline),
            savings_usd_per_day=float(r.baseline - r.optimal),
            overspend_ratio=_ratio(r.baseline, r.optimal),
        )
        for department, r in by_department.iterrows()
    )

    optimal = float(task_usd_per_day.sum())
    baseline = float(baseline_usd_per_day.sum())
    workers = int(role_frame["headcount"].sum())
    total_volume = float(volume.sum())
    weights = volume / total_volume if total_volume > 0 else np.full(volume.shape, 1.0 / volume.size)
    days = settings.days_per_year
    totals = Totals(
        optimal_usd_per_day=optimal,
        baseline_usd_per_day=baseline,
        savings_usd_per_day=baseline - optimal,
        optimal_usd_per_year=optimal * days,
        baseline_usd_per_year=baseline * days,
        savings_usd_per_year=(baseline - optimal) * days,
        savings_share=(baseline - optimal) / baseline if baseline > 0 else 0.0,
        overspend_ratio=_ratio(baseline, optimal),
        workers=workers,
        optimal_usd_per_worker_per_day=optimal / workers,
        baseline_usd_per_worker_per_day=baseline / workers,
        tasks=len(tasks),
        invocations_per_day=total_volume,
        share_routed_away_from_baseline=float((weights * (1.0 - shares[:, problem.baseline_index])).sum()),
        plan_quality=float((weights * task_quality).sum()),
        baseline_quality=float((weights * baseline_quality).sum()),
        baseline_tasks_below_threshold=int(
            (
                np.isnan(problem.quality[:, problem.baseline_index])
                | (baseline_quality < tasks["min_quality"].to_numpy())
            ).sum()
        ),
    )
    return Result(
        settings=settings,
        totals=totals,
        roles=roles,
        departments=departments,
        tasks=task_rows,
        assignments=assignments,
    )
