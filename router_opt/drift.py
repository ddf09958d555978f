"""How far a gateway's real routing has drifted from a saved plan.

The logs are read as `workload from-logs` reads them (same formats, `--map`, days): per task, the
requests per day, the share that went to each model and the mean tokens of those requests. A log task
is matched to the plan's task by department, role and task name, or else by task type where the
plan's role has one task of that type (from-logs names a task by its type). Per task:

- off-plan share: the share of its requests that went where the plan would not send them,
  sum over models of max(0, actual share - planned share) (the total-variation distance);
- today's $/day: sum over models of requests/day x share x (mean input tokens x input $/M + mean
  output tokens x output $/M) / 10^6, at the plan's own prices;
- as planned: the same requests/day and the task's mean tokens, routed by the plan's shares;
- leaked: today's $/day - as planned (negative where the gateway runs cheaper than the plan, e.g.
  on a model below the bar);
- models the plan never named for the task, and the share of requests on a model the plan's
  catalog cannot price (left out of the $ figures, and said).
"""

from __future__ import annotations

from collections import defaultdict

from pydantic import BaseModel, ConfigDict

from router_opt.errors import RouterOptError
from router_opt.result import Result

DRIFT_SCHEMA_VERSION = "1.0"


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DriftTask(_Out):
    department: str
    role: str
    task: str
    requests_per_day: float
    planned_models: tuple[str, ...]
    planned_shares: tuple[float, ...]
    actual_models: tuple[str, ...]
    """Largest share first."""
    actual_shares: tuple[float, ...]
    off_plan_share: float
    actual_usd_per_day: float
    planned_usd_per_day: float
    leaked_usd_per_day: float
    unplanned_models: tuple[str, ...]
    """Models the task's requests went to that the plan does not route it to."""
    unpriced_share: float
    """Share of the task's requests on models the plan's catalog does not have (no $ figure)."""


class DriftResult(_Out):
    schema_version: str = DRIFT_SCHEMA_VERSION
    plan: str
    logs: tuple[str, ...]
    days: int
    rows_used: int
    requests_per_day: float
    off_plan_share: float
    """Request-weighted over matched tasks."""
    actual_usd_per_day: float
    planned_usd_per_day: float
    leaked_usd_per_day: float
    models_outside_plan: tuple[str, ...]
    """Models the logs use that the plan names for no task at all."""
    unmatched_log_tasks: tuple[str, ...]
    """department / role / task of log traffic with no task in the plan."""
    plan_tasks_without_traffic: int
    tasks: tuple[DriftTask, ...]


Key = tuple[str, str, str]
"""(department, role, task)."""


def _planned_shares(plan: Result) -> tuple[dict[Key, dict[str, float]], dict[Key, list[Key]]]:
    """Per plan task, its models' shares; and per (department, role, task type), the plan's tasks of
    that type (to match a log task by type when its name differs)."""
    planned: dict[Key, dict[str, float]] = defaultdict(dict)
    task_type: dict[Key, str] = {}
    for a in plan.assignments:
        key = (a.department, a.role, a.task)
        planned[key][a.model] = planned[key].get(a.model, 0.0) + a.share
        task_type[key] = a.task_type
    by_type: dict[Key, list[Key]] = defaultdict(list)
    for key, kind in task_type.items():
        by_type[(key[0], key[1], kind)].append(key)
    return planned, by_type


def _plan_task(key: Key, kind: str, planned: dict, by_type: dict[Key, list[Key]]) -> Key | None:
    """The plan's task for a log task: the same (department, role, task), else the one plan task of
    its department, role and task type, else None."""
    if key in planned:
        return key
    candidates = by_type.get((key[0], key[1], kind), [])
    return candidates[0] if len(candidates) == 1 else None


def _drift_task(
    target: Key,
    rows: list[dict],
    plan_shares: dict[str, float],
    per_day: float,
    mean_tokens: tuple[float, float],
    prices: dict[str, tuple[float, float]],
) -> DriftTask:
    """One task's drift: the shares the log shows against the plan's, and its $/day both ways at the
    plan's prices (a model the plan does not price counts as unpriced)."""
    total = sum(float(r["share"]) for r in rows) or 1.0
    actual = {r["model"]: float(r["share"]) / total for r in rows}
    mean_in, mean_out = mean_tokens
    actual_usd = 0.0
    unpriced = 0.0
    for r in rows:
        share = float(r["share"]) / total
        if r["model"] not in prices:
            unpriced += share
            continue
        p_in, p_out = prices[r["model"]]
        actual_usd += per_day * share * (float(r["input_tokens"]) * p_in + float(r["output_tokens"]) * p_out) / 1e6
    planned_usd = sum(
        per_day * share * (mean_in * prices[m][0] + mean_out * prices[m][1]) / 1e6 for m, share in plan_shares.items()
    )
    order = sorted(actual, key=lambda m: (-actual[m], m))
    plan_order = sorted(plan_shares, key=lambda m: (-plan_shares[m], m))
    return DriftTask(
        department=target[0],
        role=target[1],
        task=target[2],
        requests_per_day=per_day,
        planned_models=tuple(plan_order),
        planned_shares=tuple(plan_shares[m] for m in plan_order),
        actual_models=tuple(order),
        actual_shares=tuple(actual[m] for m in order),
        off_plan_share=sum(max(0.0, s - plan_shares.get(m, 0.0)) for m, s in actual.items()),
        actual_usd_per_day=actual_usd,
        planned_usd_per_day=planned_usd,
        leaked_usd_per_day=actual_usd - planned_usd,
        unplanned_models=tuple(m for m in order if m not in plan_shares),
        unpriced_share=unpriced,
    )


def drift(
    plan: Result, plan_name: str, logs, mapping: dict[str, str] | None = None, days: int | None = None
) -> DriftResult:
    """Compare `plan` (a saved Result) with the routing in `logs` (paths, as `workload from-logs`)."""
    from router_opt.importers.logs import workload_from_logs

    read = workload_from_logs(list(logs), mapping=mapping, days=days)
    prices = {m.id: (m.input_usd_per_mtok, m.output_usd_per_mtok) for m in plan.models}
    planned, by_type = _planned_shares(plan)
    plan_models = {m for shares in planned.values() for m in shares}
    volume = {
        (r["department"], r["role"], r["task"]): float(r["invocations_per_day"]) * int(r["headcount"])
        for r in read.workload_rows
    }
    tokens = {
        (r["department"], r["role"], r["task"]): (float(r["input_tokens"]), float(r["output_tokens"]))
        for r in read.workload_rows
    }
    routed: dict[tuple[str, str, str], list[dict]] = defaultdict(list)
    for row in read.routing_rows:
        routed[(row["department"], row["role"], row["task"])].append(row)

    tasks, unmatched, seen_plan_tasks = [], [], set()
    for key, rows in routed.items():
        target = _plan_task(key, rows[0]["task_type"], planned, by_type)
        if target is None:
            unmatched.append(" / ".join(key))
            continue
        seen_plan_tasks.add(target)
        per_day = volume.get(key, 0.0)
        tasks.append(_drift_task(target, rows, planned[target], per_day, tokens.get(key, (0.0, 0.0)), prices))
    if not tasks:
        raise RouterOptError(
            f"no task in the logs matches a task of the plan {plan_name} (by department, role and task, or task type); "
            f"log tasks: {', '.join(unmatched[:5])}"
        )
    tasks.sort(key=lambda t: (-t.leaked_usd_per_day, t.department, t.role, t.task))
    requests = sum(t.requests_per_day for t in tasks)
    log_models = {r["model"] for r in read.routing_rows}
    return DriftResult(
        plan=plan_name,
        logs=tuple(str(p) for p in logs),
        days=read.days,
        rows_used=read.rows_used,
        requests_per_day=requests,
        off_plan_share=sum(t.off_plan_share * t.requests_per_day for t in tasks) / requests if requests > 0 else 0.0,
        actual_usd_per_day=sum(t.actual_usd_per_day for t in tasks),
        planned_usd_per_day=sum(t.planned_usd_per_day for t in tasks),
        leaked_usd_per_day=sum(t.leaked_usd_per_day for t in tasks),
        models_outside_plan=tuple(sorted(log_models - plan_models)),
        unmatched_log_tasks=tuple(sorted(unmatched)),
        plan_tasks_without_traffic=len(set(planned) - seen_plan_tasks),
        tasks=tuple(tasks),
    )
