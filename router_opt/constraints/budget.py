"""Budgets: most a department may spend per day, and most the whole plan may spend per day.

- budget[d]:    sum_{t in d} cost[t, m] x[t, m] <= budget[d]
- total budget: sum cost x + charges (fixed costs, unused commitments) <= budget
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from router_opt import formatting as fmt
from router_opt.constraints.base import BindingContext, CouplingRow, Family, PairContext, RowWriter

if TYPE_CHECKING:
    from router_opt.frame import RoutingProblem
    from router_opt.models import Policy


class DepartmentBudgetFamily(Family):
    # A dominator is never dearer, so no budget objects to the presolve's moves.
    kinds = ("budget",)

    def applies(self, problem: RoutingProblem) -> bool:
        return bool(problem.policy.budgets_usd_per_day)

    def write_rows(self, ctx: PairContext, out: RowWriter) -> None:
        policy, tasks = ctx.problem.policy, ctx.problem.tasks
        if not policy.budgets_usd_per_day:
            return
        # Pairs grouped by department once (a string comparison per budget is slow at scale).
        names, codes = np.unique(np.asarray(tasks["department"], dtype=str), return_inverse=True)
        pair_code = codes[ctx.pair_task]
        by_department = np.argsort(pair_code, kind="stable")
        bounds = np.searchsorted(pair_code[by_department], np.arange(len(names) + 1))
        code_of = {str(name): k for k, name in enumerate(names)}
        for department, budget in policy.budgets_usd_per_day.items():
            k = code_of.get(department)
            in_d = by_department[bounds[k] : bounds[k + 1]] if k is not None else np.zeros(0, dtype=np.int64)
            r = out.row(CouplingRow("budget", department, float(budget), "USD/day"), float(budget))
            out.entries(r, in_d, ctx.pair_cost[in_d])

    def explain(self, row, gain: str) -> str:
        return f"binding: one more $/day of budget for {row.subject} {gain}"

    def keeps_off(self, row, ctx: BindingContext) -> np.ndarray:
        return ctx.problem.tasks["department"][ctx.rows] == row.subject

    def relaxation(self, row: CouplingRow, slack: float, problem: RoutingProblem) -> str:
        return f"budget of {row.subject}: short by {fmt.usd(slack)}/day (limit {fmt.usd(row.limit)}/day)"

    def policy_key(self, row: CouplingRow, policy: Policy) -> tuple | None:
        return ("budgets_usd_per_day", row.subject)

    def budget_label(self, row: CouplingRow) -> str | None:
        return row.subject


class TotalBudgetFamily(Family):
    kinds = ("total_budget",)

    def applies(self, problem: RoutingProblem) -> bool:
        return problem.policy.total_budget_usd_per_day is not None

    def write_rows(self, ctx: PairContext, out: RowWriter) -> None:
        if ctx.problem.policy.total_budget_usd_per_day is None:
            return
        limit = float(ctx.problem.policy.total_budget_usd_per_day)
        r = out.row(CouplingRow("total_budget", "all departments", limit, "USD/day"), limit)
        out.entries(r, np.arange(ctx.n_pairs), ctx.pair_cost)
        for k, charge in enumerate(ctx.charges):
            out.charge(r, k, charge.usd_per_day)

    def explain(self, row, gain: str) -> str:
        return f"binding: one more $/day of total budget {gain}"

    def keeps_off(self, row, ctx: BindingContext) -> np.ndarray:
        return np.ones(ctx.rows.size, dtype=bool)

    def relaxation(self, row: CouplingRow, slack: float, problem: RoutingProblem) -> str:
        return f"total budget: short by {fmt.usd(slack)}/day (limit {fmt.usd(row.limit)}/day)"

    def policy_key(self, row: CouplingRow, policy: Policy) -> tuple | None:
        return ("total_budget_usd_per_day",)

    def budget_label(self, row: CouplingRow) -> str | None:
        return "total"


DEPARTMENT_BUDGET = DepartmentBudgetFamily()
TOTAL_BUDGET = TotalBudgetFamily()
