"""Committed spend: a contract with a provider to spend at least $X a month, usually in exchange for
a discount on its list prices. Whatever part of the commitment the plan does not use is paid anyway.

    committed[p]:  spend on p's models + unused[p] >= commitment[p]        (a `>=` row)
    objective:     ... + unused[p]                                         (a charge column, $1 per $)

So up to the commitment, traffic on p costs nothing more (it only uses up money already owed), and
the plan sends p what it can usefully carry there. The row's shadow price is what one more $/day of
commitment adds to the plan's cost: $1 while part of it goes unused, less once the plan uses all
of it. The discount (`discount: 0.2` = 20% off) multiplies p's models' prices everywhere: the plan,
the all-large baseline and today's routing all pay the contract rate.

Where the rest of the engine meets it:
- presolve: p's pairs are never pruned (a dearer model of p can be the cheaper way to spend money
  already committed);
- decomposition: not used (the unused column is not a task's share; the full LP solves it);
- diagnosis: the elastic program may lower a commitment that, with the budgets, no plan can pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from router_opt import formatting as fmt
from router_opt.constraints.base import (
    BindingContext,
    Charge,
    CouplingRow,
    Dominance,
    Family,
    PairContext,
    RowWriter,
    Sense,
)
from router_opt.units import MONTHS_PER_YEAR

if TYPE_CHECKING:
    from router_opt.frame import RoutingProblem
    from router_opt.models import Policy

KIND = "committed_spend"
UNUSED = "unused_commitment"


def commitments_usd_per_day(problem: RoutingProblem, days_per_year: int) -> dict[str, float]:
    """Provider -> committed $/day, for the providers the catalog has (policy order)."""
    providers = set(problem.models["provider"].tolist())
    return {
        provider: spec.usd_per_month * MONTHS_PER_YEAR / days_per_year
        for provider, spec in problem.policy.committed_spend.items()
        if provider in providers
    }


class CommittedSpendFamily(Family):
    kinds = (KIND,)
    decomposable = False
    provider_section = "committed_spend"

    def applies(self, problem: RoutingProblem) -> bool:
        return bool(problem.policy.committed_spend)

    def price_factor(self, policy: Policy, providers: np.ndarray) -> np.ndarray | None:
        if not any(spec.discount for spec in policy.committed_spend.values()):
            return None
        factor = np.ones(providers.size)
        for provider, spec in policy.committed_spend.items():
            factor[providers == provider] = 1.0 - spec.discount
        return factor

    def charges(self, problem: RoutingProblem, days_per_year: int) -> list[Charge]:
        return [
            Charge(UNUSED, provider, provider, 1.0, np.inf, False)
            for provider in commitments_usd_per_day(problem, days_per_year)
        ]

    def write_rows(self, ctx: PairContext, out: RowWriter) -> None:
        providers = ctx.problem.models["provider"]
        for provider, usd_per_day in commitments_usd_per_day(ctx.problem, ctx.days_per_year).items():
            r = out.row(CouplingRow(KIND, provider, usd_per_day, "USD/day", Sense.AT_LEAST), -usd_per_day)
            on_p = np.flatnonzero(providers[ctx.pair_model] == provider)
            out.entries(r, on_p, -ctx.pair_cost[on_p])
            for k, charge in enumerate(ctx.charges):
                if charge.provider == provider:  # its own unused column, and p's fixed-cost deployments
                    out.charge(r, k, -charge.usd_per_day)

    def dominance(self, problem: RoutingProblem) -> Dominance:
        return Dominance(keep=np.isin(problem.models["provider"], list(problem.policy.committed_spend)))

    def report(self, row, activity, traffic, rhs, spend, volume):
        # Use is the traffic's spend on p: the unused part is what the limit exceeds it by.
        return -traffic, row.limit, -1.0

    def explain(self, row, gain: str) -> str:
        unused = row.limit - row.used
        if unused > 1e-9 * max(1.0, row.limit):
            return (
                f"binding: {fmt.usd(unused)}/day of the {fmt.usd(row.limit)}/day committed to {row.subject} goes "
                f"unused and is paid anyway, so traffic on {row.subject} costs nothing more until it is used"
            )
        return f"binding: the commitment to {row.subject} is used exactly; one more $/day of it {gain}"

    def keeps_off(self, row, ctx: BindingContext) -> np.ndarray:
        """Tasks the commitment draws onto p although a model elsewhere is cheaper at list price."""
        mine = ctx.problem.models["provider"] == row.subject
        return ctx.on_model[:, mine].any(axis=1) & ctx.cheaper[:, ~mine].any(axis=1)

    def relaxation(self, row: CouplingRow, slack: float, problem: RoutingProblem) -> str:
        lower = max(row.limit - slack, 0.0)
        return (
            f"committed spend with {row.subject}: more than the other limits let the plan pay; lower it from "
            f"{fmt.usd(row.limit)}/day to {fmt.usd(lower)}/day (by {fmt.usd(slack)}/day)"
        )

    def policy_key(self, row: CouplingRow, policy: Policy) -> tuple | None:
        return ("committed_spend", row.subject, "usd_per_month")

    def plan_charges_usd_per_day(
        self, problem: RoutingProblem, t_idx: np.ndarray, m_idx: np.ndarray, share: np.ndarray, days_per_year: int
    ) -> float:
        """Unused commitment of any plan (the baseline's, today's): what it pays beyond its traffic."""
        spend = share * problem.usd_per_day[t_idx, m_idx]
        providers = problem.models["provider"][m_idx]
        return sum(
            max(usd_per_day - float(spend[providers == provider].sum()), 0.0)
            for provider, usd_per_day in commitments_usd_per_day(problem, days_per_year).items()
        )


FAMILY = CommittedSpendFamily()
