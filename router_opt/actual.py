"""Today's spend beside the plan: the routing a gateway uses now, priced with the catalog.

The routing file is what `workload from-logs --current-routing` writes: one row per task and model,
with the share of the task's requests that went to the model and the mean input and output tokens of
those requests (`department, role, task, task_type, model, requests, share, input_tokens,
output_tokens`; `task_type` and `requests` are optional here). A task's $/day today is

    sum over its rows of  share x invocations_per_day x (input_tokens x input $/M + output_tokens x output $/M) / 10^6

with the task's invocations per day (all workers) from the workload, shares divided by their sum per
task (a log rounds them), and each row's own tokens (requests that went to a reasoning model are
longer). Every task of the workload must have rows, and every model must be in the catalog: a cost
nobody can price is refused, not guessed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from router_opt.errors import InputError, Problem
from router_opt.frame import TOKENS_PER_MTOK, RoutingProblem, first_seen_codes
from router_opt.io.text import read_text
from router_opt.result.schema import ActualRow, ActualSpend, ActualTask, BillingRow, Result

REQUIRED = ("department", "role", "task", "model", "share", "input_tokens", "output_tokens")
# Billed and catalog-priced $/day of a model that differ by more than this share are flagged.
BILLING_TOLERANCE = 0.05


def _number(text: str, path: str, line: int, column: str, problems: list[Problem]) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        problems.append(Problem(path, f"must be a finite number ≥ 0, got {text!r}", line=line, field=column))
        return 0.0
    return value


def load_routing(path: str | Path, problem: RoutingProblem):
    """(task index, model index, share, input tokens, output tokens) arrays of the routing file,
    checked against the problem's tasks and catalog; every problem named by line and column."""
    path = Path(path)
    name = str(path)
    text = read_text(path)
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError.single(
            name, f"missing column(s) {', '.join(missing)}; a routing file has {', '.join(REQUIRED)}", line=1
        )
    at = {c: header.index(c) for c in REQUIRED}
    tasks = problem.tasks
    task_of = {
        (str(d), str(r), str(t)): i
        for i, (d, r, t) in enumerate(zip(tasks["department"], tasks["role"], tasks["task"], strict=True))
    }
    model_of = {str(m): j for j, m in enumerate(problem.models["id"])}
    problems: list[Problem] = []
    rows: list[tuple[int, int, float, float, float]] = []
    billed: list[float] = []
    has_billed = "billed_usd_per_day" in header
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) < len(header):
            problems.append(Problem(name, f"has {len(cells)} cells, the header {len(header)}", line=line))
            continue
        key = tuple(cells[at[c]].strip() for c in ("department", "role", "task"))
        task = task_of.get(key)
        if task is None:
            problems.append(Problem(name, f"task {' / '.join(key)!r} is not in the workload", line=line, field="task"))
        model = model_of.get(cells[at["model"]].strip())
        if model is None:
            problems.append(
                Problem(
                    name,
                    f"model {cells[at['model']].strip()!r} is not in the catalog, so today's cost on it cannot be "
                    "priced (add it to the catalog with its prices)",
                    line=line,
                    field="model",
                )
            )
        share = _number(cells[at["share"]], name, line, "share", problems)
        # Mean tokens of the requests on that model: from-logs writes them unrounded.
        tokens_in = _number(cells[at["input_tokens"]], name, line, "input_tokens", problems)
        tokens_out = _number(cells[at["output_tokens"]], name, line, "output_tokens", problems)
        bill = math.nan
        if has_billed and cells[header.index("billed_usd_per_day")].strip():
            bill = _number(cells[header.index("billed_usd_per_day")], name, line, "billed_usd_per_day", problems)
        if task is not None and model is not None:
            rows.append((task, model, share, tokens_in, tokens_out))
            billed.append(bill)
    if not problems:
        seen = np.zeros(len(tasks), dtype=bool)
        totals = np.zeros(len(tasks))
        for task, _, share, _, _ in rows:
            seen[task] = True
            totals[task] += share
        for i in np.flatnonzero(~seen | (totals <= 0)).tolist():
            what = "has no row" if not seen[i] else "has shares adding up to 0"
            problems.append(
                Problem(name, f"task {tasks['department'][i]} / {tasks['role'][i]} / {tasks['task'][i]} {what}")
            )
    if problems:
        raise InputError(problems)
    task, model, share, tokens_in, tokens_out = (np.array(column) for column in zip(*rows, strict=True))
    task, model = task.astype(np.intp), model.astype(np.intp)
    share = share / np.bincount(task, weights=share, minlength=len(tasks))[task]
    return task, model, share, tokens_in, tokens_out, np.array(billed, dtype=float)


def actual_spend(problem: RoutingProblem, result: Result, path: str | Path) -> ActualSpend:
    """Today's routing (the file at `path`) priced beside `result`'s plan and all-large baseline."""
    task, model, share, tokens_in, tokens_out, billed = load_routing(path, problem)
    tasks, models = problem.tasks, problem.models
    pair_usd_per_day = (
        share
        * tasks["invocations_per_day"][task]
        * (tokens_in * models["input_usd_per_mtok"][model] + tokens_out * models["output_usd_per_mtok"][model])
        / TOKENS_PER_MTOK
    )
    pair_tokens_per_day = share * tasks["invocations_per_day"][task] * (tokens_in + tokens_out)
    per_task = _PerTask(
        actual=np.bincount(task, weights=pair_usd_per_day, minlength=len(tasks)),
        optimal=np.array([t.usd_per_day for t in result.tasks]),
        baseline=np.array([t.baseline_usd_per_day for t in result.tasks]),
    )
    task_rows = _task_rows(problem, per_task, task, model, share, pair_usd_per_day, pair_tokens_per_day)
    billing, billed_total = _billing(model, billed, pair_usd_per_day, [str(m) for m in models["id"]])
    total_actual = float(per_task.actual.sum())
    # The plan's total includes the fixed cost of the deployments it provisions (today's routing is
    # priced per token only: a self-hosted server it uses is paid either way and not in this file).
    total_optimal = result.totals.optimal_usd_per_day
    total_baseline = result.totals.baseline_usd_per_day
    days = result.settings.days_per_year
    return ActualSpend(
        billed_usd_per_day=billed_total,
        billing_tolerance=BILLING_TOLERANCE if billing else None,
        billing=billing,
        routing=str(path),
        routing_sha256=hashlib.sha256(Path(path).read_bytes()).hexdigest(),
        actual_usd_per_day=total_actual,
        optimal_usd_per_day=total_optimal,
        baseline_usd_per_day=total_baseline,
        savings_vs_actual_usd_per_day=total_actual - total_optimal,
        savings_vs_actual_share=(total_actual - total_optimal) / total_actual if total_actual > 0 else 0.0,
        savings_vs_baseline_usd_per_day=total_baseline - total_optimal,
        actual_usd_per_year=total_actual * days,
        savings_vs_actual_usd_per_year=(total_actual - total_optimal) * days,
        tasks_below_bar=int(sum(1 for t in task_rows if t.below_bar)),
        departments=per_task.grouped(tasks, with_role=False),
        roles=per_task.grouped(tasks, with_role=True),
        tasks=task_rows,
    )


@dataclass(frozen=True)
class _PerTask:
    """Each task's $/day today, in the plan and on the all-large baseline."""

    actual: np.ndarray
    optimal: np.ndarray
    baseline: np.ndarray

    def grouped(self, tasks, with_role: bool) -> tuple[ActualRow, ...]:
        """The three summed per department (or per role), in the workload's first-seen order."""
        if with_role:
            keys = list(zip(tasks["department"], tasks["role"], strict=True))
        else:
            keys = [(d,) for d in tasks["department"]]
        codes, names = first_seen_codes(keys, len(tasks))
        sums = [np.bincount(codes, weights=v, minlength=len(names)) for v in (self.actual, self.optimal, self.baseline)]
        return tuple(
            ActualRow(
                department=str(key[0]),
                role=str(key[1]) if with_role else None,
                actual_usd_per_day=float(sums[0][g]),
                optimal_usd_per_day=float(sums[1][g]),
                baseline_usd_per_day=float(sums[2][g]),
                savings_vs_actual_usd_per_day=float(sums[0][g] - sums[1][g]),
            )
            for g, key in enumerate(names)
        )


def _task_rows(
    problem: RoutingProblem,
    per_task: _PerTask,
    task: np.ndarray,
    model: np.ndarray,
    share: np.ndarray,
    pair_usd_per_day: np.ndarray,
    pair_tokens_per_day: np.ndarray,
) -> tuple[ActualTask, ...]:
    tasks = problem.tasks
    ids = [str(m) for m in problem.models["id"]]
    # Below the bar today: the model does not rate the task type (NaN) or rates it under the bar.
    quality = problem.quality[task, model]
    below = ~(quality >= tasks["min_quality"][task])
    order = np.lexsort((model, -share, task))  # per task: largest share first, then catalog order
    rows_of_task: list[list[int]] = [[] for _ in range(len(tasks))]
    for k in order.tolist():
        rows_of_task[int(task[k])].append(k)
    actual, optimal, baseline = per_task.actual, per_task.optimal, per_task.baseline
    return tuple(
        ActualTask(
            department=str(tasks["department"][i]),
            role=str(tasks["role"][i]),
            task=str(tasks["task"][i]),
            models=tuple(ids[model[k]] for k in ks),
            shares=tuple(float(share[k]) for k in ks),
            model_usd_per_day=tuple(float(pair_usd_per_day[k]) for k in ks),
            model_tokens_per_day=tuple(float(pair_tokens_per_day[k]) for k in ks),
            actual_usd_per_day=float(actual[i]),
            optimal_usd_per_day=float(optimal[i]),
            baseline_usd_per_day=float(baseline[i]),
            savings_vs_actual_usd_per_day=float(actual[i] - optimal[i]),
            below_bar=tuple(ids[model[k]] for k in ks if below[k]),
        )
        for i, ks in enumerate(rows_of_task)
    )


def _billing(
    model: np.ndarray, billed: np.ndarray, pair_usd_per_day: np.ndarray, ids: list[str]
) -> tuple[tuple[BillingRow, ...], float | None]:
    """Per model with billed figures: billed against catalog-priced $/day over the same rows (rows
    without a billed figure are left out of both, so the two cover the same requests); and the
    billed total (None: the file has no billed figures)."""
    with_bill = ~np.isnan(billed)
    if not with_bill.any():
        return (), None
    n_models = len(ids)
    billed_by_model = np.bincount(model[with_bill], weights=billed[with_bill], minlength=n_models)
    priced_by_model = np.bincount(model[with_bill], weights=pair_usd_per_day[with_bill], minlength=n_models)
    rows = []
    for m in np.flatnonzero(np.bincount(model[with_bill], minlength=n_models) > 0).tolist():
        priced, bill = float(priced_by_model[m]), float(billed_by_model[m])
        share_off = (bill - priced) / priced if priced > 0 else None
        rows.append(
            BillingRow(
                model=ids[m],
                billed_usd_per_day=bill,
                priced_usd_per_day=priced,
                difference_share=share_off,
                flagged=abs(bill - priced) > BILLING_TOLERANCE * max(priced, 1e-12),
            )
        )
    return tuple(rows), float(billed_by_model.sum())
