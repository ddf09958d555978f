"""Capacity per model (Mtok/day it can serve), and the deployment decision of a self-hosted model
with a fixed monthly cost: the model carries traffic only if it is provisioned (y = 1), which costs
its fixed $/day whatever it carries.

- capacity[m]:   sum_t Mtok[t] x[t, m] <= capacity[m] (x y[m] when m has a fixed cost)
- deployment[m]: sum_t x[t, m] <= (tasks on m) y[m]    (fixed cost, no capacity)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from router_opt.constraints.base import BindingContext, Charge, CouplingRow, Dominance, Family, PairContext, RowWriter
from router_opt.units import MONTHS_PER_YEAR, TOKENS_PER_MTOK

if TYPE_CHECKING:
    from router_opt.frame import RoutingProblem
    from router_opt.models import Policy


def fixed_usd_per_day(problem: RoutingProblem, days_per_year: int) -> np.ndarray:
    """Each model's fixed $/day (0 for a model without a fixed cost)."""
    return problem.models["fixed_usd_per_month"] * MONTHS_PER_YEAR / days_per_year


class CapacityFamily(Family):
    kinds = ("capacity", "deployment")

    def applies(self, problem: RoutingProblem) -> bool:
        models = problem.models
        return bool((~np.isnan(models["capacity_mtok_per_day"])).any() or (models["fixed_usd_per_month"] > 0).any())

    def charges(self, problem: RoutingProblem, days_per_year: int) -> list[Charge]:
        models = problem.models
        fixed = fixed_usd_per_day(problem, days_per_year)
        return [
            Charge("deployment", str(models["id"][m]), str(models["provider"][m]), float(fixed[m]), 1.0, True, int(m))
            for m in np.flatnonzero(fixed > 0)
        ]

    def write_rows(self, ctx: PairContext, out: RowWriter) -> None:
        """One row per model with a capacity or a fixed cost, in catalog order; each pair is on at
        most one of them."""
        problem = ctx.problem
        models = problem.models
        n_models = len(models)
        capacity = models["capacity_mtok_per_day"]
        mtok = problem.tasks["tokens_per_day"] / TOKENS_PER_MTOK
        pairs_per_model = np.bincount(ctx.pair_model, minlength=n_models)
        deploy_of_model = np.full(n_models, -1)
        for k, charge in enumerate(ctx.charges):
            if charge.kind == "deployment":
                deploy_of_model[charge.model] = k
        row_of_model = np.full(n_models, -1)
        per_task = np.zeros(n_models, dtype=bool)  # deployment rows count tasks, capacity rows Mtok
        for m in range(n_models):
            model_id = str(models["id"][m])
            has_capacity = not np.isnan(capacity[m])
            k = int(deploy_of_model[m])
            if k >= 0:
                if has_capacity:
                    r = out.row(CouplingRow("capacity", model_id, float(capacity[m]), "Mtok/day"), 0.0)
                    out.charge(r, k, -float(capacity[m]))
                else:
                    n_on = int(pairs_per_model[m])
                    r = out.row(CouplingRow("deployment", model_id, float(n_on), "tasks"), 0.0)
                    out.charge(r, k, -float(max(n_on, 1)))
                    per_task[m] = True
                row_of_model[m] = r
            elif has_capacity and (pairs_per_model[m] if ctx.capacity_rows is None else ctx.capacity_rows[m]):
                limit = float(capacity[m])
                row_of_model[m] = out.row(CouplingRow("capacity", model_id, limit, "Mtok/day"), limit)
        on_row = np.flatnonzero(row_of_model[ctx.pair_model] >= 0)
        out.entries(
            row_of_model[ctx.pair_model[on_row]],
            on_row,
            np.where(per_task[ctx.pair_model[on_row]], 1.0, mtok[ctx.pair_task[on_row]]),
        )

    def dominance(self, problem: RoutingProblem) -> Dominance:
        models = problem.models
        return Dominance(not_free=~np.isnan(models["capacity_mtok_per_day"]) | (models["fixed_usd_per_month"] != 0))

    def report(self, row, activity, traffic, rhs, spend, volume):
        # A deployment's rows also hold -capacity x y: its use is the traffic alone.
        return traffic, row.limit, 1.0

    def explain(self, row, gain: str) -> str:
        if row.kind == "deployment":
            return f"binding: deployment {row.subject} is carrying all it may"
        return f"binding: one more Mtok/day of capacity on {row.subject} {gain}"

    def keeps_off(self, row, ctx: BindingContext) -> np.ndarray:
        column = ctx.model_column.get(row.subject)
        if row.kind != "capacity" or column is None:
            return np.zeros(ctx.rows.size, dtype=bool)
        return ctx.cheaper[:, column]

    def listed(self, row: CouplingRow) -> bool:
        return row.kind != "deployment"

    def switched_off(self, row: CouplingRow, unprovisioned: set[str]) -> bool:
        return row.subject in unprovisioned

    def relaxation(self, row: CouplingRow, slack: float, problem: RoutingProblem) -> str:
        if row.kind == "deployment":
            return f"deployment {row.subject}: cannot carry the tasks routed to it"
        raised = row.limit + slack
        return f"capacity of {row.subject}: raise from {row.limit:,.4g} to {raised:,.4g} Mtok/day (short {slack:,.4g})"

    def policy_key(self, row: CouplingRow, policy: Policy) -> tuple | None:
        return None  # set in the catalog, not the policy


FAMILY = CapacityFamily()
