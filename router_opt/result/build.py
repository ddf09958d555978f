"""From the solver's shares to a `Result`: tasks, assignments, roles, departments, deployments and
totals, plus (`router_opt.result.explain`) the decision records and constraint explanations.

Everything works on the plan's cells (a few per task), never on the dense T x M shares.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from router_opt.constraints import FAMILIES
from router_opt.engine import Solution
from router_opt.frame import RoutingProblem, first_seen_codes
from router_opt.gateway import litellm_model_name
from router_opt.result.columns import RowTable, rows_of
from router_opt.result.explain import constraint_rows, decision_records
from router_opt.result.schema import (
    Assignment,
    DepartmentRow,
    Deployment,
    ModelRow,
    Result,
    RoleRow,
    Settings,
    SolveInfo,
    TaskRow,
    Totals,
)
from router_opt.sensitivity import provisioning_savings
from router_opt.units import MONTHS_PER_YEAR


def build_result(
    problem: RoutingProblem, solution: Solution, settings: Settings, max_fallbacks: int = 3, decisions: bool = True
) -> Result:
    """Roll the solver's shares up into tasks, roles, departments and totals, and explain them
    (`decisions=False` leaves out the per-task decision records, `Result.decisions` is then None: for
    sweeps that read only totals and for `optimize` without --explain)."""
    cells = _Cells.of(problem, solution)
    roles = _RoleRollup.of(problem, cells.task_usd_per_day)
    deployments = _deployments(
        problem,
        solution,
        cells.m_idx,
        cells.share * (problem.tasks["tokens_per_day"][cells.t_idx] / 1e6),
        days=settings.days_per_year,
        savings=provisioning_savings(problem, solution, days_per_year=settings.days_per_year),
    )
    decision_rows, decision_warnings = None, ()
    if decisions:
        decision_rows, decision_warnings = decision_records(
            problem,
            solution,
            cells.task_usd_per_day,
            cells.primary,
            cells.by_share,
            max_fallbacks,
            settings,
            deployments,
        )
    return Result(
        settings=settings,
        solve=_solve_info(solution),
        totals=_totals(problem, solution, cells, deployments, int(roles.headcount.sum()), settings.days_per_year),
        roles=roles.rows(),
        departments=roles.departments(),
        tasks=_task_rows(problem, cells),
        assignments=_assignments(problem, cells),
        models=_model_rows(problem),
        constraints=constraint_rows(solution, settings.objective, deployments),
        deployments=deployments,
        decisions=decision_rows,
        warnings=_warnings(problem) + decision_warnings,
    )


@dataclass(frozen=True)
class _Cells:
    """The plan's (task, model) cells with their figures, and what every roll-up sums from them."""

    t_idx: np.ndarray
    m_idx: np.ndarray
    share: np.ndarray
    quality: np.ndarray
    """Quality of the cell's model on the task's type (0 where it does not rate it)."""
    usd_per_invocation: np.ndarray
    usd_per_day: np.ndarray
    """The cell's share of the task's $/day."""
    task_usd_per_day: np.ndarray
    task_quality: np.ndarray
    """Share-weighted quality per task."""
    by_share: np.ndarray
    """The cells by task, then share (largest first), then catalog order."""
    primary: np.ndarray
    """Each task's main model: its largest share."""

    @classmethod
    def of(cls, problem: RoutingProblem, solution: Solution) -> _Cells:
        n_tasks = len(problem.tasks)
        t_idx, m_idx, share = solution.used_pairs()
        quality = np.nan_to_num(problem.quality[t_idx, m_idx], nan=0.0)
        usd_per_day = problem.usd_per_day[t_idx, m_idx] * share
        # Each task's pairs by share, largest first (ties: catalog order); the first is its main model.
        by_share = np.lexsort((m_idx, -share, t_idx))
        first_pair = by_share[np.r_[True, t_idx[by_share][1:] != t_idx[by_share][:-1]]] if t_idx.size else by_share
        primary = np.zeros(n_tasks, dtype=np.intp)
        primary[t_idx[first_pair]] = m_idx[first_pair]
        return cls(
            t_idx=t_idx,
            m_idx=m_idx,
            share=share,
            quality=quality,
            usd_per_invocation=problem.usd_per_invocation[t_idx, m_idx],
            usd_per_day=usd_per_day,
            task_usd_per_day=np.bincount(t_idx, weights=usd_per_day, minlength=n_tasks),
            task_quality=np.bincount(t_idx, weights=share * quality, minlength=n_tasks),
            by_share=by_share,
            primary=primary,
        )

    def sum_by_task(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.t_idx, weights=values, minlength=self.primary.size)


def _task_rows(problem: RoutingProblem, cells: _Cells) -> RowTable:
    tasks = problem.tasks
    tokens_per_call = tasks["input_tokens"] + tasks["output_tokens"]
    volume_per_task = tasks["invocations_per_day"]
    per_call_plan = cells.sum_by_task(cells.share * cells.usd_per_invocation)
    # $/invocation: the day's cost over the day's calls, or (no calls) the share-weighted call price.
    with np.errstate(divide="ignore", invalid="ignore"):
        task_usd_per_invocation = np.where(volume_per_task > 0, cells.task_usd_per_day / volume_per_task, per_call_plan)
    model_ids, tiers = problem.models["id"], problem.models["tier"]
    # Columns as arrays (RowTable makes the Python values a chunk of rows at a time).
    return RowTable(
        TaskRow,
        {
            "department": tasks["department"],
            "role": tasks["role"],
            "task": tasks["task"],
            "task_type": tasks["task_type"],
            "invocations_per_day": volume_per_task.astype(float),
            "tokens_per_invocation": tokens_per_call.astype(int),
            "min_quality": tasks["min_quality"].astype(float),
            "quality": cells.task_quality,
            "usd_per_invocation": task_usd_per_invocation,
            "usd_per_day": cells.task_usd_per_day,
            "baseline_usd_per_day": problem.baseline_usd_per_day,
            "model": _pick(model_ids, cells.primary),
            "tier": _pick(tiers, cells.primary),
            "models": np.bincount(cells.t_idx, minlength=len(tasks)),
        },
    )


def _assignments(problem: RoutingProblem, cells: _Cells) -> RowTable:
    tasks, t_idx, m_idx, share = problem.tasks, cells.t_idx, cells.m_idx, cells.share
    return RowTable(
        Assignment,
        {
            "department": _pick(tasks["department"], t_idx),
            "role": _pick(tasks["role"], t_idx),
            "task": _pick(tasks["task"], t_idx),
            "task_type": _pick(tasks["task_type"], t_idx),
            "model": _pick(problem.models["id"], m_idx),
            "tier": _pick(problem.models["tier"], m_idx),
            "share": share,
            "invocations_per_day": tasks["invocations_per_day"][t_idx] * share,
            "usd_per_invocation": cells.usd_per_invocation,
            "usd_per_day": cells.usd_per_day,
            "quality": cells.quality,
            "baseline_usd_per_day": problem.baseline_usd_per_day[t_idx] * share,
        },
    )


@dataclass(frozen=True)
class _RoleRollup:
    """Per role, in the workload's first-seen order: its department, headcount and $/day."""

    keys: list
    """(department, role) per role."""
    headcount: np.ndarray
    optimal: np.ndarray
    baseline: np.ndarray

    @classmethod
    def of(cls, problem: RoutingProblem, task_usd_per_day: np.ndarray) -> _RoleRollup:
        tasks = problem.tasks
        n_tasks = len(tasks)
        role_code, role_keys = first_seen_codes(zip(tasks["department"], tasks["role"]), n_tasks)
        n_roles = len(role_keys)
        first_task_of_role = np.full(n_roles, n_tasks, dtype=np.intp)
        np.minimum.at(first_task_of_role, role_code, np.arange(n_tasks))
        return cls(
            keys=role_keys,
            headcount=tasks["headcount"][first_task_of_role],  # a role has one headcount (validated)
            optimal=np.bincount(role_code, weights=task_usd_per_day, minlength=n_roles),
            baseline=np.bincount(role_code, weights=problem.baseline_usd_per_day, minlength=n_roles),
        )

    def rows(self) -> tuple[RoleRow, ...]:
        return rows_of(
            RoleRow,
            department=[department for department, _ in self.keys],
            role=[role for _, role in self.keys],
            headcount=self.headcount.astype(int).tolist(),
            optimal_usd_per_day=self.optimal.tolist(),
            baseline_usd_per_day=self.baseline.tolist(),
            savings_usd_per_day=(self.baseline - self.optimal).tolist(),
            overspend_ratio=_ratios(self.baseline, self.optimal),
            optimal_usd_per_worker_per_day=(self.optimal / self.headcount).tolist(),
        )

    def departments(self) -> tuple[DepartmentRow, ...]:
        # Summed from the roles (not the tasks), so a department's figures are its roles' sums.
        n_roles = len(self.keys)
        department_code, department_names = first_seen_codes([d for d, _ in self.keys], n_roles)
        n_departments = len(department_names)
        optimal = np.bincount(department_code, weights=self.optimal, minlength=n_departments)
        baseline = np.bincount(department_code, weights=self.baseline, minlength=n_departments)
        return rows_of(
            DepartmentRow,
            department=[str(d) for d in department_names],
            roles=np.bincount(department_code, minlength=n_departments).tolist(),
            headcount=np.bincount(department_code, weights=self.headcount, minlength=n_departments)
            .astype(int)
            .tolist(),
            optimal_usd_per_day=optimal.tolist(),
            baseline_usd_per_day=baseline.tolist(),
            savings_usd_per_day=(baseline - optimal).tolist(),
            overspend_ratio=_ratios(baseline, optimal),
        )


def _totals(
    problem: RoutingProblem,
    solution: Solution,
    cells: _Cells,
    deployments: tuple[Deployment, ...],
    workers: int,
    days: int,
) -> Totals:
    volume = problem.tasks["invocations_per_day"]
    # Fixed costs and unused commitments belong to the organisation, not to a role: in the total only.
    fixed = float(sum(d.fixed_usd_per_day for d in deployments if d.provisioned))
    unused = _unused_commitment(solution)
    baseline_unused = _baseline_unused_commitment(problem, days)
    optimal = float(cells.task_usd_per_day.sum()) + fixed + unused
    baseline = float(problem.baseline_usd_per_day.sum()) + baseline_unused
    baseline_quality = np.nan_to_num(problem.quality[:, problem.baseline_index], nan=0.0)
    total_volume = float(volume.sum())
    weights = volume / total_volume if total_volume > 0 else np.full(volume.shape, 1.0 / volume.size)
    on_baseline = cells.sum_by_task(np.where(cells.m_idx == problem.baseline_index, cells.share, 0.0))
    return Totals(
        optimal_usd_per_day=optimal,
        baseline_usd_per_day=baseline,
        savings_usd_per_day=baseline - optimal,
        fixed_usd_per_day=fixed,
        optimal_usd_per_year=optimal * days,
        baseline_usd_per_year=baseline * days,
        savings_usd_per_year=(baseline - optimal) * days,
        savings_share=(baseline - optimal) / baseline if baseline > 0 else 0.0,
        overspend_ratio=_ratio(baseline, optimal),
        workers=workers,
        optimal_usd_per_worker_per_day=optimal / workers,
        baseline_usd_per_worker_per_day=baseline / workers,
        tasks=len(problem.tasks),
        invocations_per_day=total_volume,
        share_routed_away_from_baseline=float((weights * (1.0 - on_baseline)).sum()),
        plan_quality=float((weights * cells.task_quality).sum()),
        baseline_quality=float((weights * baseline_quality).sum()),
        baseline_tasks_below_threshold=int((~problem.meets_threshold[:, problem.baseline_index]).sum()),
        unused_commitment_usd_per_day=unused,
        baseline_unused_commitment_usd_per_day=baseline_unused,
    )


def _solve_info(solution: Solution) -> SolveInfo:
    return SolveInfo(
        status=solution.status,
        mip_gap=solution.mip_gap,
        eligible_pairs=solution.pairs,
        candidate_pairs=solution.candidates,
        method=solution.method,
        proof_max_violation_usd_per_day=solution.proof_max_violation,
        proof_gap_usd_per_day=solution.proof_gap,
        decomposition_rounds=solution.decomposition_rounds,
        restricted_tasks=solution.restricted_tasks,
        coupling_prices=None if solution.coupling_prices is None else tuple(solution.coupling_prices.tolist()),
    )


def _model_rows(problem: RoutingProblem) -> tuple[ModelRow, ...]:
    return tuple(
        ModelRow(
            id=m.id,
            tier=str(m.tier),
            provider=m.provider,
            input_usd_per_mtok=m.input_usd_per_mtok,
            output_usd_per_mtok=m.output_usd_per_mtok,
            quality=dict(m.quality),
            sources=m.sources,
            capacity_mtok_per_day=m.capacity_mtok_per_day,
            fixed_usd_per_month=m.fixed_usd_per_month,
            gateway_model=m.gateway_model or litellm_model_name(m.provider, m.id, m.deployment),
            deployment=m.deployment,
        )
        for m in problem.catalog.models
    )


def _warnings(problem: RoutingProblem) -> tuple[str, ...]:
    out = []
    no_bar = problem.tasks["task_type"][~problem.tasks["has_bar"]]
    if len(no_bar):
        types = ", ".join(sorted(set(no_bar)))
        out.append(
            f"{len(no_bar)} task(s) have no quality bar (no min_quality in their row, none in the policy for "
            f"their task type: {types}), so they go to the cheapest model that rates their task type. "
            "Set min_quality_by_task_type or default_min_quality in the policy (the bundled policies/default.yaml "
            "has a bar per task type)."
        )
    return tuple(out)


def _deployments(
    problem: RoutingProblem,
    solution: Solution,
    pair_model: np.ndarray,
    pair_mtok_per_day: np.ndarray,
    days: int,
    savings: dict[str, float | None],
) -> tuple[Deployment, ...]:
    models = problem.models
    monthly = models["fixed_usd_per_month"]
    used = np.bincount(pair_model, weights=pair_mtok_per_day, minlength=len(models))
    capacity = models["capacity_mtok_per_day"]
    return tuple(
        Deployment(
            model=str(models["id"][m]),
            fixed_usd_per_month=float(monthly[m]),
            fixed_usd_per_day=float(monthly[m] * MONTHS_PER_YEAR / days),
            provisioned=bool(solution.provisioned[m]),
            capacity_mtok_per_day=None if np.isnan(capacity[m]) else float(capacity[m]),
            used_mtok_per_day=float(used[m]),
            saving_if_provisioned_usd_per_day=savings.get(str(models["id"][m])),
        )
        for m in np.flatnonzero(monthly > 0)
    )


def _ratios(numerator: np.ndarray, denominator: np.ndarray) -> list[float]:
    """`_ratio` element by element."""
    return [_ratio(a, b) for a, b in zip(numerator.tolist(), denominator.tolist())]


def _pick(labels: np.ndarray, index: np.ndarray) -> np.ndarray:
    """labels[index] as an object array of Python strings (one str() per label, not one per row)."""
    as_str = np.array([str(label) for label in labels], dtype=object)
    return as_str[index]


def _ratio(numerator: float, denominator: float) -> float:
    # A plan that costs nothing (every task free) has no finite overspend ratio; say 1 when both
    # are zero and infinity otherwise rather than dividing by zero.
    if denominator > 0:
        return numerator / denominator
    return 1.0 if numerator == 0 else float("inf")


def _unused_commitment(solution: Solution) -> float:
    """$/day of the plan's charge columns other than deployment decisions (which the deployments
    table sums): unused commitments. 0.0 exactly without one, so such plans add nothing."""
    total = 0.0
    for charge, value in zip(solution.charges, (solution.charge_values if solution.charges else ())):
        if not (charge.integer and charge.model >= 0):
            total += charge.usd_per_day * float(value)
    return total


def _baseline_unused_commitment(problem: RoutingProblem, days: int) -> float:
    """What the all-large habit pays beyond its traffic under the same contracts (an unused
    commitment): every task wholly on the baseline model."""
    n_tasks = len(problem.tasks)
    tasks = np.arange(n_tasks)
    on_baseline = np.full(n_tasks, problem.baseline_index)
    return float(
        sum(
            family.plan_charges_usd_per_day(problem, tasks, on_baseline, np.ones(n_tasks), days)
            for family in FAMILIES
            if family.applies(problem)
        )
    )
