"""Procurement caps per provider: at most a share of the plan's spend, or of its invocations.

- spend share[p]:  spend on p (its models and charges) <= share x total spend
                   written  sum_(t,m) cost (1[m in p] - share) x + sum charges (1[in p] - share) <= 0
- volume share[p]: invocations on p's models <= share x total invocations
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from router_opt import formatting as fmt
from router_opt.constraints.base import BindingContext, CouplingRow, Dominance, Family, PairContext, RowWriter

if TYPE_CHECKING:
    from router_opt.frame import RoutingProblem
    from router_opt.models import Policy


def capped_providers(problem: RoutingProblem) -> set[str]:
    """Providers some cap applies to (every provider under the `*` key)."""
    caps = problem.policy.vendor_caps
    providers = set(problem.models["provider"])
    return providers if "*" in caps else providers & set(caps)


class VendorCapFamily(Family):
    kinds = ("spend_share", "volume_share")
    provider_section = "vendor_caps"
    provider_wildcard = True

    def applies(self, problem: RoutingProblem) -> bool:
        return bool(capped_providers(problem))

    def write_rows(self, ctx: PairContext, out: RowWriter) -> None:
        """Per capped provider (sorted): its spend-share row, then its volume-share row."""
        problem = ctx.problem
        providers = problem.models["provider"]
        volume = problem.tasks["invocations_per_day"]
        total_volume = float(volume.sum())
        all_pairs = np.arange(ctx.n_pairs)
        charge_index, charge_usd, charge_provider = ctx.spend_charges()
        for provider in sorted(set(providers)):
            cap = problem.policy.vendor_caps.get(provider) or problem.policy.vendor_caps.get("*")
            if cap is None:
                continue
            mine = providers == provider
            if cap.max_spend_share is not None:
                share = cap.max_spend_share
                r = out.row(CouplingRow("spend_share", provider, share, "share"), 0.0)
                out.entries(r, all_pairs, ctx.pair_cost * (mine[ctx.pair_model] - share))
                for k, usd, owner in zip(charge_index.tolist(), charge_usd.tolist(), charge_provider):
                    out.charge(r, k, usd * ((owner == provider) - share))
            if cap.max_volume_share is not None:
                share = cap.max_volume_share
                on_p = np.flatnonzero(mine[ctx.pair_model])
                r = out.row(CouplingRow("volume_share", provider, share, "share"), share * total_volume)
                out.entries(r, on_p, volume[ctx.pair_task[on_p]])

    def dominance(self, problem: RoutingProblem) -> Dominance:
        # A spend share breaks the presolve's argument: a cheaper plan shrinks the total every
        # share is taken of, so a move to a cheaper model can overrun another provider's cap.
        if any(cap.max_spend_share is not None for cap in problem.policy.vendor_caps.values()):
            return Dominance(prune=False)
        return Dominance(not_free=np.isin(problem.models["provider"], list(capped_providers(problem))))

    def report(self, row, activity, traffic, rhs, spend, volume):
        if row.kind == "spend_share":
            # activity = spend_p - share x spend; the report gives spend_p / spend.
            used = (activity / spend + row.limit) if spend > 0 else 0.0
            return used, row.limit, 0.01 * spend
        return (activity / volume if volume > 0 else 0.0), row.limit, 0.01 * volume

    def explain(self, row, gain: str) -> str:
        what = "spend" if row.kind == "spend_share" else "invocations"
        return f"binding: raising {row.subject}'s cap by one point of {what} share {gain}"

    def keeps_off(self, row, ctx: BindingContext) -> np.ndarray:
        return ctx.cheaper[:, ctx.problem.models["provider"] == row.subject].any(axis=1)

    def elastic_scale(self, row: CouplingRow, problem: RoutingProblem) -> float:
        if row.kind == "spend_share":
            return float(problem.baseline_usd_per_day.sum()) or 1.0
        return float(problem.tasks["invocations_per_day"].sum()) or 1.0

    def relaxation(self, row: CouplingRow, slack: float, problem: RoutingProblem) -> str:
        if row.kind == "spend_share":
            return f"spend cap on {row.subject} ({row.limit:.0%} of spend): exceeded by {fmt.usd(slack)}/day"
        total_volume = float(problem.tasks["invocations_per_day"].sum()) or 1.0
        return (
            f"volume cap on {row.subject} ({row.limit:.0%} of invocations): exceeded by {slack:,.4g} invocations/day "
            f"({slack / total_volume:.1%} of volume)"
        )

    def policy_key(self, row: CouplingRow, policy: Policy) -> tuple | None:
        key = row.subject if row.subject in policy.vendor_caps else "*"
        return ("vendor_caps", key, "max_spend_share" if row.kind == "spend_share" else "max_volume_share")


FAMILY = VendorCapFamily()
