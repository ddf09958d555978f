"""The one object every renderer reads: the plan, its rollups and totals, and how it was made.

Money is kept at full float precision here; only renderers round. The JSON form of `Result` is a
contract (`schema_version`): change its keys only with a version bump.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from router_opt import formatting as fmt
from router_opt.analyses.frontier import FrontierResult
from router_opt.frame import (
    ELIGIBLE,
    EXCLUSION_REASONS,
    NOT_RATED,
    Mode,
    RoutingProblem,
    first_seen_codes,
)
from router_opt.gateway import litellm_model_name
from router_opt.models import rows_from_columns
from router_opt.sensitivity import RESOLVE_BUDGET_SECONDS, provisioning_savings, threshold_plus_one
from router_opt.solver import Objective, Solution
from router_opt.units import MONTHS_PER_YEAR

# 1.6: `actual` (today's routing priced beside the plan, optimize --actual).
# 1.5: deployments carry saving_if_provisioned_usd_per_day; a decision's threshold_plus_one is the
# re-solved rise (null also when not computed); fallbacks skip unprovisioned and already-weighted models.
SCHEMA_VERSION = "1.6"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


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
    quality_bars: str | None = None
    """Where the bars came from (a row's own min_quality comes first either way): "--min-quality"
    (one bar for every task), "policy" (the file given), "bundled policy", or "baseline" (a catalog
    of one's own without a policy: each task type's bar is the baseline's own quality on it)."""
    mode: Mode
    """strict, blended or single."""
    objective: Objective
    """cost (cheapest plan) or quality (best plan within budgets)."""
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
    time_limit_seconds: float | None = None
    """Time limit given to a mixed-integer solve."""
    input_sha256: dict[str, str] | None = None
    """SHA-256 of the input files (catalog, workload, policy): the same hashes and settings give the
    same plan."""


class SolveInfo(_Out):
    """How the solve went."""

    status: str
    """optimal, or time_limit (a feasible plan that may not be optimal: see mip_gap)."""
    mip_gap: float | None
    """Relative optimality gap of a mixed-integer solve (None for an LP)."""
    eligible_pairs: int
    """(task, model) pairs allowed by thresholds and limits."""
    candidate_pairs: int
    """Pairs left after dropping provably dominated ones: the program's columns."""
    method: str = "full LP"
    """How the program was solved: "full LP", "decomposition" (prices on the coupling rows, one
    restricted LP, a proof), or "full LP (decomposition fell back: <why>)"."""
    proof_max_violation_usd_per_day: float | None = None
    """Decomposition: the largest amount by which any task's plan exceeds the best plan it could
    have at the final coupling prices (0 up to rounding: the plan is optimal). None for a full LP,
    whose optimality the solver itself certifies."""
    proof_gap_usd_per_day: float | None = None
    """Decomposition: plan cost minus the Lagrangian lower bound at the final prices."""
    decomposition_rounds: int | None = None
    """Decomposition: proof rounds (each re-solves the restricted LP with the violators added)."""
    restricted_tasks: int | None = None
    """Decomposition: tasks in the final restricted LP (the rest were fixed by the prices)."""
    coupling_prices: tuple[float, ...] | None = Field(default=None, exclude=True)
    """Decomposition: the coupling rows' final prices, for a sweep to warm-start its next point
    (kept out of the JSON: an internal vector with no meaning outside this run)."""


class Totals(_Out):
    """The whole organisation."""

    optimal_usd_per_day: float
    """Variable cost of the plan plus the fixed cost of the deployments it provisions."""
    baseline_usd_per_day: float
    savings_usd_per_day: float
    fixed_usd_per_day: float
    """Fixed cost of provisioned self-hosted deployments (part of optimal_usd_per_day, not of any role)."""
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
    """Tasks the baseline model may not serve on its own merits: below the task's threshold, or
    outside its residency, latency or context limits."""


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
    tokens_per_invocation: int
    """Input plus output tokens of one call."""
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
    baseline_usd_per_day: float
    """What the same invocations cost on the baseline model, $/day."""


class ModelRow(_Out):
    """A catalog model as the plan priced it, with where its figures come from."""

    id: str
    tier: str
    provider: str
    input_usd_per_mtok: float
    output_usd_per_mtok: float
    quality: dict[str, float]
    sources: tuple[str, ...]
    capacity_mtok_per_day: float | None
    fixed_usd_per_month: float | None
    gateway_model: str
    """How a gateway (LiteLLM) names the model."""
    deployment: str | None


class ConstraintRow(_Out):
    """A constraint that ties tasks together, after the solve."""

    kind: str
    """capacity, deployment, budget, total_budget, spend_share or volume_share."""
    subject: str
    """Model, department or provider."""
    limit: float
    used: float
    unit: str
    binding: bool
    """The plan uses all of it (or its shadow price is not zero)."""
    shadow_price: float | None
    """Objective change per unit more limit ($/day; quality points under --objective quality)."""
    explanation: str
    """The same in plain words."""


class Deployment(_Out):
    """A self-hosted model with a fixed monthly cost, and whether the plan provisions it."""

    model: str
    fixed_usd_per_month: float
    fixed_usd_per_day: float
    provisioned: bool
    capacity_mtok_per_day: float | None
    used_mtok_per_day: float
    saving_if_provisioned_usd_per_day: float | None = None
    """Left unprovisioned: the $/day the plan's cost would fall if this deployment ran at no fixed
    cost (the optimum re-solved so). Its fixed $/day is more than that, which is why the plan leaves
    it off. None for a provisioned deployment."""


class Decision(_Out):
    """Why a task went where it went."""

    department: str
    role: str
    task: str
    models: tuple[str, ...]
    """Models carrying the task, largest share first."""
    shares: tuple[float, ...]
    cheapest_eligible: str
    """The cheapest model allowed to carry the task on its own merits."""
    runner_up: str | None
    """The next choice up: the cheapest eligible model the plan does not use that costs at least
    what the plan pays for the task."""
    runner_up_extra_usd_per_day: float | None
    """What moving the whole task to the runner-up would add, $/day, every other task and deployment
    held as planned (a fixed cost the move would free is not counted; "+1 quality point" re-solves)."""
    binding: tuple[str, ...]
    """Constraints that keep the task off its cheapest eligible model."""
    excluded_cheaper: tuple[str, ...]
    """Models cheaper than the plan's main choice that may not take the task, with the reason."""
    fallbacks: tuple[str, ...]
    """Models that meet the task's bar and limits on their own, cheapest first, the main choice left out:
    where to send the task when its model is down."""
    threshold_plus_one_usd_per_day: float | None
    """What raising the task's threshold by one point adds, $/day. Blended: the quality row's shadow
    price (the marginal rate at the bar). Strict/single: exactly what re-solving with the bar one point
    higher adds (router_opt.sensitivity: proved from the coupling prices where they allow, re-solved
    otherwise), never negative. None when no plan meets the raised bar, under --objective quality,
    or when the re-solve budget ran out (a warning says for how many tasks)."""


class ActualRow(_Out):
    """Today's spend beside the plan and the all-large habit, for one department or role."""

    department: str
    role: str | None
    """None on a department's row."""
    actual_usd_per_day: float
    optimal_usd_per_day: float
    baseline_usd_per_day: float
    savings_vs_actual_usd_per_day: float
    """actual - optimal: what moving to the plan saves against today."""


class ActualTask(_Out):
    """One task as routed today, priced with the catalog."""

    department: str
    role: str
    task: str
    models: tuple[str, ...]
    """Models the task goes to today, largest share first."""
    shares: tuple[float, ...]
    model_usd_per_day: tuple[float, ...]
    """Today's $/day on each of `models`."""
    model_tokens_per_day: tuple[float, ...]
    """Input plus output tokens per day on each of `models`."""
    actual_usd_per_day: float
    optimal_usd_per_day: float
    baseline_usd_per_day: float
    savings_vs_actual_usd_per_day: float
    below_bar: tuple[str, ...]
    """Models it uses today whose quality on its task type is below its bar (or that do not rate the
    type): a quality risk today, not a cost."""


class BillingRow(_Out):
    """One model: what the log says was billed against the same requests priced with the catalog."""

    model: str
    billed_usd_per_day: float
    priced_usd_per_day: float
    difference_share: float | None
    """(billed - priced) / priced; None when priced is 0."""
    flagged: bool
    """The two differ by more than the tolerance (stale catalog prices, an unlisted discount)."""


class ActualSpend(_Out):
    """Today's routing priced with the catalog: sum over (task, model) of share x the task's
    invocations per day x (its input tokens on that model x input $/M + output tokens x output $/M)
    / 10^6. Totals are variable costs; the plan's fixed deployment costs are in `optimal` only."""

    routing: str
    """The routing file as given (`workload from-logs --current-routing`)."""
    routing_sha256: str
    actual_usd_per_day: float
    optimal_usd_per_day: float
    baseline_usd_per_day: float
    savings_vs_actual_usd_per_day: float
    """The headline: actual - optimal."""
    savings_vs_actual_share: float
    """(actual - optimal) / actual; 0 when today costs nothing."""
    savings_vs_baseline_usd_per_day: float
    actual_usd_per_year: float
    savings_vs_actual_usd_per_year: float
    tasks_below_bar: int
    """Tasks that use, today, a model below their bar."""
    billed_usd_per_day: float | None = None
    """What the log says was billed per day (LiteLLM's `spend`), when the routing file has it."""
    billing_tolerance: float | None = None
    billing: tuple[BillingRow, ...] = ()
    """Per model, billed against catalog-priced, where the routing file has billed figures."""
    departments: tuple[ActualRow, ...]
    roles: tuple[ActualRow, ...]
    tasks: tuple[ActualTask, ...]


class Result(_Out):
    """A routing plan and everything a report shows about it."""

    schema_version: str = SCHEMA_VERSION
    settings: Settings
    solve: SolveInfo
    totals: Totals
    roles: tuple[RoleRow, ...]
    departments: tuple[DepartmentRow, ...]
    tasks: tuple[TaskRow, ...]
    assignments: tuple[Assignment, ...]
    models: tuple[ModelRow, ...] = ()
    """The catalog as priced (for the Assumptions sheet and for audits)."""
    constraints: tuple[ConstraintRow, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    decisions: tuple[Decision, ...] | None = None
    """One record per task (runner-up, binding constraints, exclusions, fallbacks, +1 quality point);
    None when they were not asked for (`optimize --explain`; sweeps). Since schema 1.4: on 50,000 tasks
    they are about half of the JSON and a third of the run, and most readers want the plan."""
    warnings: tuple[str, ...] = ()
    """Things in the inputs a reader of the plan should know (e.g. tasks without a quality bar)."""
    frontier: FrontierResult | None = None
    """The cost-quality curve, when the run asked for it (`optimize --frontier`)."""
    actual: ActualSpend | None = None
    """Today's routing priced beside the plan, when the run was given it (`optimize --actual`)."""

    def top_tasks(self, n: int) -> list[TaskRow]:
        """The n highest-volume tasks (ties: department, role, task)."""
        ranked = sorted(self.tasks, key=lambda t: (-t.invocations_per_day, t.department, t.role, t.task))
        return ranked[:n]


def _rows(cls: type[_Out], **columns: list) -> tuple:
    """Instances of `cls` from equal-length columns (see `rows_from_columns`)."""
    return rows_from_columns(cls, columns)


def _ratios(numerator: np.ndarray, denominator: np.ndarray) -> list[float]:
    """`_ratio` element by element."""
    return [_ratio(a, b) for a, b in zip(numerator.tolist(), denominator.tolist())]


def _pick(labels: np.ndarray, index: np.ndarray) -> list[str]:
    """labels[index] as a list of Python strings (one str() per label, not one per row)."""
    as_str = np.array([str(label) for label in labels], dtype=object)
    return as_str[index].tolist()


def _ratio(numerator: float, denominator: float) -> float:
    # A plan that costs nothing (every task free) has no finite overspend ratio; say 1 when both
    # are zero and infinity otherwise rather than dividing by zero.
    if denominator > 0:
        return numerator / denominator
    return 1.0 if numerator == 0 else float("inf")


def build_result(
    problem: RoutingProblem, solution: Solution, settings: Settings, max_fallbacks: int = 3, decisions: bool = True
) -> Result:
    """Roll the solver's shares up into tasks, roles, departments and totals, and explain them
    (`decisions=False` leaves out the per-task decision records, `Result.decisions` is then None: for
    sweeps that read only totals and for `optimize` without --explain)."""
    tasks = problem.tasks
    n_tasks = len(tasks)
    volume = tasks["invocations_per_day"]
    # Everything below works on the plan's cells (a few per task), never on the dense T x M shares.
    t_idx, m_idx, pair_share = solution.used_pairs()
    pair_quality = np.nan_to_num(problem.quality[t_idx, m_idx], nan=0.0)
    pair_usd_per_invocation = problem.usd_per_invocation[t_idx, m_idx]
    pair_usd_per_day = problem.usd_per_day[t_idx, m_idx] * pair_share

    def sum_by_task(pair_values: np.ndarray) -> np.ndarray:
        return np.bincount(t_idx, weights=pair_values, minlength=n_tasks)

    task_usd_per_day = sum_by_task(pair_usd_per_day)
    task_quality = sum_by_task(pair_share * pair_quality)
    baseline_usd_per_day = problem.baseline_usd_per_day
    baseline_quality = np.nan_to_num(problem.quality[:, problem.baseline_index], nan=0.0)
    model_ids = problem.models["id"]
    tiers = problem.models["tier"]
    # Each task's pairs by share, largest first (ties: catalog order); the first is its main model.
    by_share = np.lexsort((m_idx, -pair_share, t_idx))
    first_pair = by_share[np.r_[True, t_idx[by_share][1:] != t_idx[by_share][:-1]]] if t_idx.size else by_share
    primary = np.zeros(n_tasks, dtype=np.intp)
    primary[t_idx[first_pair]] = m_idx[first_pair]

    tokens_per_call = tasks["input_tokens"] + tasks["output_tokens"]
    volume_per_task = tasks["invocations_per_day"]
    per_call_plan = sum_by_task(pair_share * pair_usd_per_invocation)
    # $/invocation: the day's cost over the day's calls, or (no calls) the share-weighted call price.
    with np.errstate(divide="ignore", invalid="ignore"):
        task_usd_per_invocation = np.where(volume_per_task > 0, task_usd_per_day / volume_per_task, per_call_plan)
    models_per_task = np.bincount(t_idx, minlength=n_tasks)
    task_rows = _rows(
        TaskRow,
        department=tasks["department"].tolist(),
        role=tasks["role"].tolist(),
        task=tasks["task"].tolist(),
        task_type=tasks["task_type"].tolist(),
        invocations_per_day=volume_per_task.astype(float).tolist(),
        tokens_per_invocation=tokens_per_call.astype(int).tolist(),
        min_quality=tasks["min_quality"].astype(float).tolist(),
        quality=task_quality.tolist(),
        usd_per_invocation=task_usd_per_invocation.tolist(),
        usd_per_day=task_usd_per_day.tolist(),
        baseline_usd_per_day=baseline_usd_per_day.tolist(),
        model=_pick(model_ids, primary),
        tier=_pick(tiers, primary),
        models=models_per_task.tolist(),
    )

    assignments = _rows(
        Assignment,
        department=_pick(tasks["department"], t_idx),
        role=_pick(tasks["role"], t_idx),
        task=_pick(tasks["task"], t_idx),
        task_type=_pick(tasks["task_type"], t_idx),
        model=_pick(model_ids, m_idx),
        tier=_pick(tiers, m_idx),
        share=pair_share.tolist(),
        invocations_per_day=(volume[t_idx] * pair_share).tolist(),
        usd_per_invocation=pair_usd_per_invocation.tolist(),
        usd_per_day=pair_usd_per_day.tolist(),
        quality=pair_quality.tolist(),
        baseline_usd_per_day=(baseline_usd_per_day[t_idx] * pair_share).tolist(),
    )

    # Roll-ups keep the workload's first-seen order of departments and roles.
    departments_of_tasks, roles_of_tasks = tasks["department"], tasks["role"]
    role_code, role_keys = first_seen_codes(zip(departments_of_tasks, roles_of_tasks), n_tasks)
    n_roles = len(role_keys)
    first_task_of_role = np.full(n_roles, n_tasks, dtype=np.intp)
    np.minimum.at(first_task_of_role, role_code, np.arange(n_tasks))
    role_optimal = np.bincount(role_code, weights=task_usd_per_day, minlength=n_roles)
    role_baseline = np.bincount(role_code, weights=baseline_usd_per_day, minlength=n_roles)
    role_headcount = tasks["headcount"][first_task_of_role]  # a role has one headcount (validated)
    role_departments = [department for department, _ in role_keys]
    roles = _rows(
        RoleRow,
        department=role_departments,
        role=[role for _, role in role_keys],
        headcount=role_headcount.astype(int).tolist(),
        optimal_usd_per_day=role_optimal.tolist(),
        baseline_usd_per_day=role_baseline.tolist(),
        savings_usd_per_day=(role_baseline - role_optimal).tolist(),
        overspend_ratio=_ratios(role_baseline, role_optimal),
        optimal_usd_per_worker_per_day=(role_optimal / role_headcount).tolist(),
    )
    department_code, department_names = first_seen_codes(role_departments, n_roles)
    n_departments = len(department_names)
    department_optimal = np.bincount(department_code, weights=role_optimal, minlength=n_departments)
    department_baseline = np.bincount(department_code, weights=role_baseline, minlength=n_departments)
    departments = _rows(
        DepartmentRow,
        department=[str(d) for d in department_names],
        roles=np.bincount(department_code, minlength=n_departments).tolist(),
        headcount=np.bincount(department_code, weights=role_headcount, minlength=n_departments).astype(int).tolist(),
        optimal_usd_per_day=department_optimal.tolist(),
        baseline_usd_per_day=department_baseline.tolist(),
        savings_usd_per_day=(department_baseline - department_optimal).tolist(),
        overspend_ratio=_ratios(department_baseline, department_optimal),
    )

    deployments = _deployments(
        problem,
        solution,
        m_idx,
        pair_share * (problem.tasks["tokens_per_day"][t_idx] / 1e6),
        days=settings.days_per_year,
        savings=provisioning_savings(problem, solution, days_per_year=settings.days_per_year),
    )
    fixed = float(sum(d.fixed_usd_per_day for d in deployments if d.provisioned))
    optimal = float(task_usd_per_day.sum()) + fixed
    baseline = float(baseline_usd_per_day.sum())
    workers = int(role_headcount.sum())
    total_volume = float(volume.sum())
    weights = volume / total_volume if total_volume > 0 else np.full(volume.shape, 1.0 / volume.size)
    days = settings.days_per_year
    totals = Totals(
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
        tasks=len(tasks),
        invocations_per_day=total_volume,
        share_routed_away_from_baseline=float(
            (weights * (1.0 - sum_by_task(np.where(m_idx == problem.baseline_index, pair_share, 0.0)))).sum()
        ),
        plan_quality=float((weights * task_quality).sum()),
        baseline_quality=float((weights * baseline_quality).sum()),
        baseline_tasks_below_threshold=int((~problem.meets_threshold[:, problem.baseline_index]).sum()),
    )
    decision_rows, decision_warnings = None, ()
    if decisions:
        decision_rows, decision_warnings = _decisions(
            problem, solution, task_usd_per_day, primary, by_share, max_fallbacks, settings, deployments
        )
    return Result(
        settings=settings,
        solve=SolveInfo(
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
        ),
        totals=totals,
        roles=roles,
        departments=departments,
        tasks=task_rows,
        assignments=assignments,
        models=tuple(
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
        ),
        constraints=_constraint_rows(solution, settings.objective, deployments),
        deployments=deployments,
        decisions=decision_rows,
        warnings=_warnings(problem) + decision_warnings,
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


def _explain(row, objective: Objective) -> str:
    price = row.shadow_price
    use = f"{fmt.limit(row.used, row.unit)} of {fmt.limit(row.limit, row.unit)} used"
    if not row.binding:
        return f"not binding: {use}"
    if price is None:
        return f"binding: {use} (no shadow price for a mixed-integer plan)"
    if objective is Objective.QUALITY:
        gain = f"raises plan quality by {abs(price):.4g} points"
    else:
        gain = f"saves {fmt.usd(abs(price))}/day" if price < 0 else f"costs {fmt.usd(price)}/day"
    if row.kind == "capacity":
        return f"binding: one more Mtok/day of capacity on {row.subject} {gain}"
    if row.kind == "deployment":
        return f"binding: deployment {row.subject} is carrying all it may"
    if row.kind == "budget":
        return f"binding: one more $/day of budget for {row.subject} {gain}"
    if row.kind == "total_budget":
        return f"binding: one more $/day of total budget {gain}"
    what = "spend" if row.kind == "spend_share" else "invocations"
    return f"binding: raising {row.subject}'s cap by one point of {what} share {gain}"


def _unprovisioned_reason(d: Deployment) -> str:
    """Why the plan leaves a fixed-cost deployment off, in figures."""
    fixed = f"{fmt.usd(d.fixed_usd_per_day)}/day fixed ({fmt.usd(d.fixed_usd_per_month)}/month)"
    if d.saving_if_provisioned_usd_per_day is None:
        return f"not provisioned: its fixed cost, {fixed}, outweighs what it would save"
    return f"not provisioned: its fixed cost, {fixed}, is more than the {fmt.usd(d.saving_if_provisioned_usd_per_day)}/day it would save"


def _fixed_against_saving(d: Deployment) -> str:
    """The two figures behind an unprovisioned deployment, short enough for a table cell."""
    if d.saving_if_provisioned_usd_per_day is None:
        return f"{fmt.usd(d.fixed_usd_per_day)}/day fixed"
    return f"{fmt.usd(d.fixed_usd_per_day)}/day fixed > {fmt.usd(d.saving_if_provisioned_usd_per_day)}/day saved"


def _constraint_rows(
    solution: Solution, objective: Objective, deployments: tuple[Deployment, ...] = ()
) -> tuple[ConstraintRow, ...]:
    off = {d.model: d for d in deployments if not d.provisioned}
    return tuple(
        ConstraintRow(
            kind=c.kind,
            subject=c.subject,
            limit=c.limit,
            used=c.used,
            unit=c.unit,
            binding=c.binding,
            shadow_price=c.shadow_price,
            explanation=_unprovisioned_reason(off[c.subject])
            if c.kind == "capacity" and c.subject in off
            else _explain(c, objective),
        )
        for c in solution.constraints
        # A deployment row only links traffic to the provision decision; the Deployments table
        # reports that decision, and the row itself is no limit anyone set.
        if c.kind != "deployment"
    )


def _grouped(rows: np.ndarray, values: list, n_rows: int) -> list[tuple]:
    """Per row r, the tuple of values[i] for the entries i with rows[i] == r (rows sorted)."""
    out: list[tuple] = [()] * n_rows
    if rows.size:
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        stops = np.r_[starts[1:], rows.size]
        for row, a, b in zip(rows[starts].tolist(), starts.tolist(), stops.tolist()):
            out[row] = tuple(values[a:b])
    return out


def _ordered(mask: np.ndarray, key: np.ndarray, label: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> list[tuple]:
    """Per row, label(rows, cols) for the columns where `mask` holds, ordered by `key` then column.
    One sort over the selected entries instead of a Python loop over every cell; labels are made
    for the selected entries only."""
    rows, cols = np.nonzero(mask)  # rows ascending, columns ascending within a row
    # Order by (row, key, column) with two sorts instead of a three-key lexsort (1.7x faster at
    # 500,000 entries): each entry's rank among all keys (stable, so equal keys keep column
    # order), then one integer sort on row and rank.
    by_key = np.argsort(key[rows, cols], kind="stable")
    rank = np.empty(rows.size, dtype=np.int64)
    rank[by_key] = np.arange(rows.size)
    order = np.argsort(rows.astype(np.int64) * max(rows.size, 1) + rank)
    rows, cols = rows[order], cols[order]
    return _grouped(rows, label(rows, cols).tolist(), mask.shape[0])


def _first_k(mask: np.ndarray, key: np.ndarray, labels: np.ndarray, k: int, scratch: np.ndarray) -> list[tuple]:
    """Per row, labels[col] for the first k columns where `mask` holds, ordered by `key` then column:
    k argmins over the matrix (argmin keeps the lowest column among ties) instead of sorting every
    selected entry. `key` is finite where `mask` holds (prices are). `scratch` (the shape of `key`,
    float) is overwritten: reusing a T x M buffer spares the page faults of a fresh one."""
    n_rows = mask.shape[0]
    masked = scratch
    np.copyto(masked, key)
    np.copyto(masked, np.inf, where=~mask)
    counts = np.minimum(mask.sum(axis=1), k)
    rows = np.arange(n_rows)
    picks = np.zeros((n_rows, k), dtype=np.intp)
    for j in range(min(k, mask.shape[1])):
        picks[:, j] = masked.argmin(axis=1)
        masked[rows, picks[:, j]] = np.inf
    taken = np.arange(k)[None, :] < counts[:, None]
    entry_rows = np.broadcast_to(rows[:, None], picks.shape)[taken]
    return _grouped(entry_rows, labels[picks[taken]].tolist(), n_rows)


def _decisions(
    problem: RoutingProblem,
    solution: Solution,
    task_usd_per_day: np.ndarray,
    primary: np.ndarray,
    by_share: np.ndarray,
    max_fallbacks: int | None,
    settings: Settings,
    deployments: tuple[Deployment, ...],
) -> tuple[tuple, tuple[str, ...]]:
    """One decision record per task, built column by column (vectorised over tasks), and warnings
    about them. `primary` is each task's main model and `by_share` orders the plan's cells by task,
    then share (largest first), then catalog order."""
    t_idx, m_idx, pair_share = solution.used_pairs()
    cost = problem.usd_per_day
    n_tasks = cost.shape[0]
    all_tasks = np.arange(n_tasks)
    ids = np.array([str(m) for m in problem.models["id"]], dtype=object)
    tasks = problem.tasks
    # One T x M float buffer for the masked costs below (fresh 40 MB arrays fault page by page).
    scratch = np.where(problem.eligible, cost, np.inf)
    cheapest = scratch.argmin(axis=1)
    # The runner-up is the next choice up: an unused model that costs at least what the plan pays
    # (a cheaper unused model is one a constraint keeps the task off, reported under `binding`), and
    # could take the whole task: in blended mode a model below the bar cannot.
    if problem.mode is Mode.BLENDED:
        scratch = np.where(problem.meets_threshold, cost, np.inf)
    scratch[t_idx, m_idx] = np.inf
    scratch[scratch < (task_usd_per_day * (1 - 1e-12))[:, None]] = np.inf
    runner_up = scratch.argmin(axis=1)
    has_runner_up = np.isfinite(scratch[all_tasks, runner_up])
    threshold_cost, not_computed = _threshold_plus_one(problem, solution, task_usd_per_day, settings)
    warnings: tuple[str, ...] = ()
    if not_computed:
        warnings = (
            (
                f"'+1 quality point' was not computed for {not_computed} task(s): each needs its own re-solve and "
                f"the {RESOLVE_BUDGET_SECONDS:g} s budget for them ran out (their figure is empty, not estimated)."
            ),
        )

    # Models carrying each task, largest share first (ties: catalog order).
    share_rows = t_idx[by_share]
    model_lists = _grouped(share_rows, ids[m_idx[by_share]].tolist(), n_tasks)
    share_lists = _grouped(share_rows, pair_share[by_share].tolist(), n_tasks)
    primary_cost = cost[all_tasks, primary]
    excluded_cheaper = (problem.excluded != ELIGIBLE) & (problem.excluded != NOT_RATED) & (cost < primary_cost[:, None])
    # "<model>: <reason>" for every (reason, model), indexed by the exclusion code.
    reason_labels = np.array(
        [
            [f"{model}: {EXCLUSION_REASONS.get(code, '')}" for model in ids]
            for code in range(max(EXCLUSION_REASONS) + 1)
        ],
        dtype=object,
    )
    excluded_lists = _ordered(
        excluded_cheaper,
        problem.usd_per_invocation,
        lambda rows, cols: reason_labels[problem.excluded[rows, cols].astype(np.intp), cols],
    )
    # Fallbacks are the next *different* models a gateway can reach: none the plan already weights in
    # the task's own group (a retry on the same model), none the plan does not provision (no server).
    fallback_mask = problem.meets_threshold & solution.provisioned[None, :]
    fallback_mask[t_idx, m_idx] = False
    # None: every fallback; a negative limit lists none.
    k = fallback_mask.shape[1] if max_fallbacks is None else max(0, int(max_fallbacks))
    fallback_lists = _first_k(fallback_mask, problem.usd_per_invocation, ids, k, scratch)

    runner_up_extra = cost[all_tasks, runner_up] - task_usd_per_day
    return _rows(
        Decision,
        department=tasks["department"].tolist(),
        role=tasks["role"].tolist(),
        task=tasks["task"].tolist(),
        models=model_lists,
        shares=share_lists,
        cheapest_eligible=ids[cheapest].tolist(),
        runner_up=np.where(has_runner_up, ids[runner_up], None).tolist(),
        runner_up_extra_usd_per_day=[
            extra if ok else None for extra, ok in zip(runner_up_extra.tolist(), has_runner_up.tolist())
        ],
        binding=_binding_reasons(problem, solution, task_usd_per_day, cheapest, deployments),
        excluded_cheaper=excluded_lists,
        fallbacks=fallback_lists,
        threshold_plus_one_usd_per_day=np.where(np.isnan(threshold_cost), None, threshold_cost).tolist(),
    ), warnings


def _binding_reasons(
    problem: RoutingProblem,
    solution: Solution,
    task_usd_per_day: np.ndarray,
    cheapest: np.ndarray,
    deployments: tuple[Deployment, ...] = (),
) -> list[tuple]:
    """Per task, what keeps it off its cheapest eligible model: the fixed cost of a cheaper
    deployment the plan leaves off, capacity of a cheaper model, a share cap on a cheaper model's
    provider, its department's budget, the total budget."""
    n_tasks = task_usd_per_day.size
    cost = problem.usd_per_day
    binding = [c for c in solution.constraints if c.binding]
    off = [d for d in deployments if not d.provisioned]
    off_cheapest = task_usd_per_day > cost[np.arange(n_tasks), cheapest] * (1 + 1e-9) + 1e-15
    if not (binding or off) or not off_cheapest.any():
        return [()] * n_tasks
    rows = np.flatnonzero(off_cheapest)
    cheaper = problem.eligible[rows] & (cost[rows] < task_usd_per_day[rows, None])
    model_column = {str(m): j for j, m in enumerate(problem.models["id"])}
    providers = problem.models["provider"]
    departments = problem.tasks["department"][rows]
    holds = np.zeros((rows.size, len(off) + len(binding)), dtype=bool)
    for k, d in enumerate(off):
        holds[:, k] = cheaper[:, model_column[d.model]]
    for k, c in enumerate(binding, start=len(off)):
        if c.kind == "capacity" and c.subject in model_column:
            holds[:, k] = cheaper[:, model_column[c.subject]]
        elif c.kind in {"spend_share", "volume_share"}:
            holds[:, k] = cheaper[:, providers == c.subject].any(axis=1)
        elif c.kind == "budget":
            holds[:, k] = departments == c.subject
        elif c.kind == "total_budget":
            holds[:, k] = True
    labels = np.array(
        [f"fixed_cost {d.model} ({_fixed_against_saving(d)})" for d in off]
        + [f"{c.kind} {c.subject}" for c in binding],
        dtype=object,
    )
    r, k = np.nonzero(holds)  # row-major: each task's reasons in the constraints' order
    grouped = _grouped(r, labels[k].tolist(), rows.size)
    out: list[tuple] = [()] * n_tasks
    for t, reasons in zip(rows.tolist(), grouped):
        out[t] = reasons
    return out


def _threshold_plus_one(
    problem: RoutingProblem, solution: Solution, task_usd_per_day: np.ndarray, settings: Settings
) -> tuple[np.ndarray, int]:
    """$/day added by raising each task's threshold one point (NaN: no figure), and how many tasks
    the re-solve budget left without one."""
    if solution.quality_duals is not None:
        # Blended LP: the quality row's shadow price is exactly $/day per point.
        return np.maximum(solution.quality_duals, 0.0), 0
    if settings.objective is not Objective.COST:
        # Best quality within budgets: a bar one point higher changes quality, not a $/day figure.
        return np.full(task_usd_per_day.size, np.nan), 0
    return threshold_plus_one(problem, solution, task_usd_per_day, days_per_year=settings.days_per_year)
