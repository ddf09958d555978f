"""The JSON schema of a plan: the one object every renderer reads (`Result`) and its rows.

Money is kept at full float precision here; only renderers round. The JSON form of `Result` is a
contract (`schema_version`): change its keys only with a version bump. Field order here is key order
in the JSON. This module only declares; `router_opt.result.build` fills it in.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from router_opt.analyses.frontier_types import FrontierResult
from router_opt.engine.objective import Objective
from router_opt.frame import Mode
from router_opt.result.columns import RowTableField

# 1.6: `actual` (today's routing priced beside the plan, optimize --actual). Later in 1.6, additive:
# totals.unused_commitment_usd_per_day and baseline_unused_commitment_usd_per_day, present only when
# the policy has committed spend (absent, they are 0), so plans without contracts keep their bytes.
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
    """Variable cost of the plan plus the fixed cost of the deployments it provisions (and any
    commitment it leaves unused)."""
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
    unused_commitment_usd_per_day: float = Field(default=0.0, exclude_if=lambda value: value == 0)
    """Committed spend the plan leaves unused and pays anyway (part of optimal_usd_per_day, not of
    any role); in the JSON only when nonzero."""
    baseline_unused_commitment_usd_per_day: float = Field(default=0.0, exclude_if=lambda value: value == 0)
    """The same for the all-large baseline (part of baseline_usd_per_day, not of any role)."""


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
    """Its constraint family's kind (router_opt.constraints): capacity, budget, total_budget,
    spend_share, volume_share, committed_spend."""
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
    tasks: Annotated[tuple[TaskRow, ...], RowTableField()]
    """One row per task (a `RowTable` when built here: see router_opt.result.columns)."""
    assignments: Annotated[tuple[Assignment, ...], RowTableField()]
    models: tuple[ModelRow, ...] = ()
    """The catalog as priced (for the Assumptions sheet and for audits)."""
    constraints: tuple[ConstraintRow, ...] = ()
    deployments: tuple[Deployment, ...] = ()
    decisions: Annotated[tuple[Decision, ...], RowTableField()] | None = None
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
