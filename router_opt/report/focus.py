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


Group = dict[str, float]
"""A department x model's plan for the day: cost, baseline, invocations and quality x invocations."""


def to_focus(result: Result) -> str:
    # FinOps tools total cost by department and service: one row per department x model.
    groups = _plan_groups(result)
    # With --actual the file is today's bill, so it lines up with the real invoices it sits beside.
    label, billed, tokens = _billed(result, groups)
    # A plan has no dates of its own: its day is the one its prices are from.
    start = datetime.combine(result.settings.prices_as_of, time(0), tzinfo=UTC)
    period = (start.isoformat().replace("+00:00", "Z"), (start + timedelta(days=1)).isoformat().replace("+00:00", "Z"))
    models = {m.id: m for m in result.models}
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(FOCUS_COLUMNS)
    for (department, model_id), g in groups.items():
        cost = float(billed.get((department, model_id), 0.0))
        tokens_used = float(tokens.get((department, model_id), 0.0))
        writer.writerow(_usage_row(period, label, department, models[model_id], cost, tokens_used, g))
    # Self-hosted deployments' fixed cost belongs to no department: one row each, so the file's
    # BilledCost adds up to the plan's total.
    for d in result.deployments:
        if d.provisioned:
            writer.writerow(_fixed_cost_row(period, d, models[d.model], today=result.actual is not None))
    return out.getvalue()


def _empty_group() -> Group:
    return {"cost": 0.0, "baseline": 0.0, "invocations": 0.0, "quality": 0.0}


def _plan_groups(result: Result) -> dict[tuple[str, str], Group]:
    """The plan per (department, model), in the order the assignments first name them."""
    groups: dict[tuple[str, str], Group] = {}
    for a in result.assignments:
        g = groups.setdefault((a.department, a.model), _empty_group())
        g["cost"] += a.usd_per_day
        g["baseline"] += a.baseline_usd_per_day
        g["invocations"] += a.invocations_per_day
        g["quality"] += a.quality * a.invocations_per_day
    return groups


def _billed(
    result: Result, groups: dict[tuple[str, str], Group]
) -> tuple[str, dict[tuple[str, str], float], dict[tuple[str, str], float]]:
    """What the file bills per (department, model) and the tokens behind it: the plan's, or with
    --actual today's routing (a group only today uses is added to `groups`, with no plan)."""
    if result.actual is None:
        return "router-opt plan", {key: g["cost"] for key, g in groups.items()}, _tokens_by_group(result)
    # Today's routing is the bill; the plan rides along as x_PlanCost.
    billed: dict[tuple[str, str], float] = {}
    tokens: dict[tuple[str, str], float] = {}
    for t in result.actual.tasks:
        for model_id, usd, tok in zip(t.models, t.model_usd_per_day, t.model_tokens_per_day, strict=True):
            key = (t.department, model_id)
            billed[key] = billed.get(key, 0.0) + usd
            tokens[key] = tokens.get(key, 0.0) + tok
    for key in billed:
        groups.setdefault(key, _empty_group())
    return "today's routing", billed, tokens


def _usage_row(period, label: str, department: str, model, cost: float, tokens: float, g: Group) -> tuple:
    """One department x model: the bill (plan or today) in FOCUS's columns, the plan in x_ ones."""
    return (
        "USD",
        *period,
        "Usage",
        f"{label}: {department} on {model.id}",
        "AI and Machine Learning",
        model.id,
        model.provider,
        model.id,
        cost,
        cost,
        cost,
        tokens,
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


def _fixed_cost_row(period, d, model, today: bool) -> tuple:
    """A provisioned deployment's fixed cost for the day, in the plan (x_PlanCost) and, without
    --actual, the bill: today's routing is priced per token (ActualSpend), so it pays none."""
    fixed_billed = 0.0 if today else float(d.fixed_usd_per_day)
    return (
        "USD",
        *period,
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


def _tokens_by_group(result: Result) -> dict[tuple[str, str], float]:
    """Tokens per day per department x model: each assignment's invocations x its task's tokens
    (input plus output) per invocation."""
    tokens_per_call = {(t.department, t.role, t.task): t.tokens_per_invocation for t in result.tasks}
    out: dict[tuple[str, str], float] = {}
    for a in result.assignments:
        key = (a.department, a.model)
        out[key] = out.get(key, 0.0) + a.invocations_per_day * tokens_per_call[(a.department, a.role, a.task)]
    return out
