"""The plan as FinOps FOCUS-shaped CSV: one row per department x model for one day of the plan, so
FinOps tools that ingest FOCUS billing data can load a routing plan beside real bills. With today's
routing (`optimize --actual`) the rows are today's: BilledCost, EffectiveCost, ListCost and the tokens
are what today's routing costs on that department x model, and the plan's cost for it is the
`x_PlanCost` column (0 where the plan moves all of it away); without, both are the plan's.

Column names follow the FinOps Open Cost and Usage Specification; router-opt's own figures carry the
`x_` prefix FOCUS reserves for extensions. A plan is a forecast, not a bill: BilledCost and
EffectiveCost are the plan's cost, ListCost the same at list prices (router-opt has no discounts),
and the charge period is the one day starting at the catalog's price date. Text cells that a
spreadsheet would read as a formula (= + - @ tab CR first) start with a single quote (`router_opt.report.cells`).
"""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from router_opt.report.cells import SafeCsvWriter

if TYPE_CHECKING:
    from router_opt.result import Result

FOCUS_COLUMNS = (
    "BillingCurrency",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "ChargeDescription",
    "ServiceCategory",
    "ServiceName",
    "ProviderName",
    "ResourceId",
    "BilledCost",
    "EffectiveCost",
    "ListCost",
    "ConsumedQuantity",
    "ConsumedUnit",
    "Tags",
    "x_Department",
    "x_Tier",
    "x_Invocations",
    "x_BaselineCost",
    "x_OverspendRatio",
    "x_Quality",
    "x_PlanCost",
)


def to_focus(result: Result) -> str:
    models = {m.id: m for m in result.models}
    groups: dict[tuple[str, str], dict[str, float]] = {}
    for a in result.assignments:
        g = groups.setdefault(
            (a.department, a.model), {"cost": 0.0, "baseline": 0.0, "invocations": 0.0, "quality": 0.0}
        )
        g["cost"] += a.usd_per_day
        g["baseline"] += a.baseline_usd_per_day
        g["invocations"] += a.invocations_per_day
        g["quality"] += a.quality * a.invocations_per_day
    tokens = _tokens_by_group(result)
    billed = {key: g["cost"] for key, g in groups.items()}
    label = "router-opt plan"
    if result.actual is not None:
        # Today's routing is the bill; the plan rides along as x_PlanCost.
        label = "today's routing"
        billed, tokens = {}, {}
        for t in result.actual.tasks:
            for model_id, usd, tok in zip(t.models, t.model_usd_per_day, t.model_tokens_per_day, strict=True):
                key = (t.department, model_id)
                billed[key] = billed.get(key, 0.0) + usd
                tokens[key] = tokens.get(key, 0.0) + tok
        for key in billed:
            groups.setdefault(key, {"cost": 0.0, "baseline": 0.0, "invocations": 0.0, "quality": 0.0})
    start = datetime.combine(result.settings.prices_as_of, time(0), tzinfo=UTC)
    end = start + timedelta(days=1)
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(FOCUS_COLUMNS)
    for (department, model_id), g in groups.items():
        model = models[model_id]
        cost = float(billed.get((department, model_id), 0.0))
        writer.writerow(
            (
                "USD",
                start.isoformat().replace("+00:00", "Z"),
                end.isoformat().replace("+00:00", "Z"),
                "Usage",
                f"{label}: {department} on {model_id}",
                "AI and Machine Learning",
                model_id,
                model.provider,
                model_id,
                cost,
                cost,
                cost,
                float(tokens.get((department, model_id), 0.0)),
                "Tokens",
                json.dumps({"department": department, "tier": model.tier}, sort_keys=True),
                department,
                model.tier,
                float(g["invocations"]),
                float(g["baseline"]),
                float(g["baseline"] / g["cost"]) if g["cost"] > 0 else None,
                float(g["quality"] / g["invocations"]) if g["invocations"] > 0 else None,
                float(g["cost"]),
            )
        )
    # Self-hosted deployments' fixed cost belongs to no department: one row each, so the file's
    # BilledCost adds up to the plan's total.
    for d in result.deployments:
        if not d.provisioned:
            continue
        model = models[d.model]
        # Today's routing is priced per token (ActualSpend): a deployment's fixed cost is the plan's.
        fixed_billed = 0.0 if result.actual is not None else float(d.fixed_usd_per_day)
        writer.writerow(
            (
                "USD",
                start.isoformat().replace("+00:00", "Z"),
                end.isoformat().replace("+00:00", "Z"),
                "Usage",
                f"router-opt plan: fixed cost of the self-hosted deployment {d.model} (${d.fixed_usd_per_month:,.2f}/month)",
                "AI and Machine Learning",
                d.model,
                model.provider,
                d.model,
                fixed_billed,
                fixed_billed,
                fixed_billed,
                0.0,
                "Tokens",
                json.dumps({"department": "(shared)", "tier": model.tier, "charge": "fixed"}, sort_keys=True),
                "(shared)",
                model.tier,
                0.0,
                0.0,
                None,
                None,
                float(d.fixed_usd_per_day),
            )
        )
    return out.getvalue()


def _tokens_by_group(result: Result) -> dict[tuple[str, str], float]:
    """Tokens per day per department x model: each assignment's invocations x its task's tokens
    (input plus output) per invocation."""
    tokens_per_call = {(t.department, t.role, t.task): t.tokens_per_invocation for t in result.tasks}
    out: dict[tuple[str, str], float] = {}
    for a in result.assignments:
        key = (a.department, a.model)
        out[key] = out.get(key, 0.0) + a.invocations_per_day * tokens_per_call[(a.department, a.role, a.task)]
    return out
