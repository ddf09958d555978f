"""Renderers for the economics analyses: a result in, text out.

Table and markdown are built from the same `Section`s (so they show the same rounded figures, all
rounded by `router_opt.formatting`); json is the result itself at full precision.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from router_opt import formatting as fmt
from router_opt.analyses.breakeven import BreakevenResult
from router_opt.analyses.budget_frontier import BudgetFrontierResult
from router_opt.analyses.frontier import FrontierResult
from router_opt.analyses.reasoning import ReasoningResult
from router_opt.analyses.training import TrainingReport
from router_opt.analyses.trajectory import TrajectoryResult
from router_opt.report.registry import ANALYSIS_FORMATS
from router_opt.report.text import Section, markdown_section, sections_as_text
from router_opt.units import DAYS_PER_MONTH, DAYS_PER_YEAR, MONTHS_PER_YEAR

AnyAnalysis = (
    FrontierResult | BudgetFrontierResult | ReasoningResult | TrajectoryResult | BreakevenResult | TrainingReport
)


@dataclass(frozen=True)
class Report:
    """What a human format shows: a headline, tables, and notes under them."""

    headline: str
    sections: list[Section]
    notes: list[str] = field(default_factory=list)


# --- frontier ----------------------------------------------------------------------------------


def frontier_report(result: FrontierResult) -> Report:
    points = result.points
    curve = Section(
        "Cost-quality frontier (every swept task must meet the bar; re-optimised at each bar)",
        (
            "Quality bar",
            "Optimal $/day",
            "All-large $/day",
            "Share of all-large",
            "Routed away",
            "Plan quality",
            "Quality retained",
        ),
        tuple(
            (
                fmt.quality(p.min_quality),
                fmt.usd(p.optimal_usd_per_day),
                fmt.usd(p.baseline_usd_per_day),
                fmt.percent(p.cost_share_of_baseline),
                fmt.percent(p.share_routed_away_from_baseline),
                fmt.quality(p.plan_quality),
                fmt.percent(p.quality_retained),
            )
            for p in points
        ),
        frozenset(range(7)),
    )
    departments = Section(
        "Optimal $/day per department at each bar",
        ("Quality bar", *result.departments),
        tuple(
            (
                fmt.quality(p.min_quality),
                *(fmt.usd(p.usd_per_day_by_department.get(d, 0.0)) for d in result.departments),
            )
            for p in points
        ),
        frozenset(range(len(result.departments) + 1)),
    )
    notes = [
        (
            f"Area under the curve: {result.area_under_curve:.4f} (the plan's average cost as a share of the all-large "
            f"bill across bars {fmt.quality(points[0].min_quality)}-{fmt.quality(points[-1].min_quality)}; trapezoid "
            "rule, bar rescaled to 0..1; lower is cheaper)."
        ),
        f"{result.swept_tasks} task(s) take the swept bar; rows with their own min_quality keep it.",
        (
            "Each point sets one bar for every task type, where `optimize` uses the policy's bar per task type, "
            "so the plan's own cost need not lie on this curve."
        ),
    ]
    if result.stopped_at_min_quality is not None:
        notes.append(
            f"Stopped at bar {fmt.quality(result.stopped_at_min_quality)}: {result.stop_reason} "
            f"({len(points)} of {len(result.requested_min_quality)} points reached)."
        )
    return Report(
        f"router-opt frontier · catalog {result.catalog} · workload {result.workload} · mode {result.mode} · "
        f"baseline {result.baseline_model}",
        [curve, departments],
        notes,
    )


def budget_frontier_report(result: BudgetFrontierResult) -> Report:
    points = result.points
    curve = Section(
        "Budget frontier (every budget scaled by the factor; best quality it buys, then the cheapest such plan)",
        ("Factor", "Budget $/day", "Plan $/day", "Plan quality", "Quality retained", "Binding budgets"),
        tuple(
            (
                f"{p.factor:.3f}",
                fmt.usd(p.budget_usd_per_day),
                fmt.usd(p.plan_usd_per_day),
                fmt.quality(p.plan_quality),
                fmt.percent(p.quality_retained),
                ", ".join(p.binding_budgets) or "none",
            )
            for p in points
        ),
        frozenset(range(5)),
    )
    departments = Section(
        "Per department at each factor: plan $/day · quality",
        ("Factor", *result.departments),
        tuple(
            (
                f"{p.factor:.3f}",
                *(
                    f"{fmt.usd(p.usd_per_day_by_department.get(d, 0.0))} · {fmt.quality(p.quality_by_department.get(d, float('nan')))}"
                    for d in result.departments
                ),
            )
            for p in points
        ),
        frozenset(range(len(result.departments) + 1)),
    )
    budgets = ", ".join(f"{d} {fmt.usd(b)}" for d, b in result.policy_budgets_usd_per_day.items())
    if result.policy_total_budget_usd_per_day is not None:
        budgets = ", ".join(filter(None, [budgets, f"total {fmt.usd(result.policy_total_budget_usd_per_day)}"]))
    notes = [
        (
            f"Factor 1 is the policy's own budgets ($/day): {budgets}. Budget $/day is the scaled total budget if the "
            "policy sets one, else the sum of the department budgets; fixed deployment costs count only against a total."
        ),
        (
            f"Quality retained is plan quality over the all-large plan's {fmt.quality(result.baseline_quality)}; "
            "quality bars still apply at every factor. More budget never lowers the best quality."
        ),
    ]
    if result.fits_from_factor is not None and result.binds_until_factor is not None:
        notes.append(
            f"Default grid: from factor {result.fits_from_factor:.4g} (the cheapest plan just fits) to "
            f"{result.binds_until_factor:.4g} (beyond it no budget binds), spaced geometrically."
        )
    notes += [f"Skipped factor {s.factor:.4g}: no plan fits ({s.reason})." for s in result.skipped]
    return Report(
        f"router-opt frontier-budget · catalog {result.catalog} · workload {result.workload} · mode {result.mode} · "
        f"baseline {result.baseline_model}",
        [curve, departments],
        notes,
    )


# --- reasoning multiplier ------------------------------------------------------------------------


def reasoning_report(result: ReasoningResult) -> Report:
    rows = Section(
        f"Reasoning multiplier: {result.reasoning_model} vs {result.instruct_model}",
        ("Task", "Instruct", "Reasoning", "Gain", "Cost x", "RM", "Verdict"),
        tuple(
            (
                r.task,
                fmt.quality(r.instruct_quality),
                fmt.quality(r.reasoning_quality),
                fmt.signed_percent(r.gain_percent / 100),
                fmt.ratio(r.cost_multiple),
                fmt.multiplier(r.reasoning_multiplier),
                r.verdict,
            )
            for r in result.rows
        ),
        frozenset({1, 2, 3, 4, 5}),
    )
    upper = [b.min_rm for b in result.bands[1:]] + [None]
    bands = Section(
        "Verdict bands",
        ("Verdict", "RM from", "RM below"),
        tuple(
            (b.verdict, fmt.multiplier(b.min_rm), "-" if top is None else fmt.multiplier(top))
            for b, top in zip(result.bands, upper)
        ),
        frozenset({1, 2}),
    )
    notes = ["Gain = (reasoning - instruct) / instruct quality; RM = gain % / cost multiple."]
    if result.gain_percent_decimals is not None:
        notes.append(
            f"RM divides the gain rounded to {result.gain_percent_decimals} decimal(s) of a percent, as the "
            "source table does (docs/VALIDATION.md §6d)."
        )
    if result.source.startswith("catalog"):
        notes.append(
            "Cost x = reasoning / instruct $ per token (input and output prices mixed as in the workload), "
            f"times token multipliers {result.reasoning_token_multiplier:g} / {result.instruct_token_multiplier:g}."
        )
    notes += [f"Skipped {s}" for s in result.skipped]
    return Report(f"router-opt reasoning · {result.source}", [rows, bands], notes)


# --- price trajectory ----------------------------------------------------------------------------


def trajectory_report(result: TrajectoryResult) -> Report:
    cheap = fmt.usd(result.cheap_usd_per_invocation)
    years = Section(
        f"Plan by year, re-optimised at each year's prices ({result.workers} workers, {result.tasks} tasks)",
        (
            "Year",
            "Prices",
            "Optimal $/day",
            "All-large $/day",
            "$/worker/day",
            "Overspend",
            f"Tasks < {cheap}",
            f"Calls < {cheap}",
            "Avg $/call",
            "Routed away",
        ),
        tuple(
            (
                str(r.year),
                "interpolated" if "interpolated" in r.basis_by_tier.values() else "table",
                fmt.usd(r.optimal_usd_per_day),
                fmt.usd(r.baseline_usd_per_day),
                fmt.usd(r.optimal_usd_per_worker_per_day),
                fmt.ratio(r.overspend_ratio),
                fmt.percent(r.share_tasks_below_cheap),
                fmt.percent(r.share_invocations_below_cheap),
                fmt.usd(r.mean_usd_per_invocation),
                fmt.percent(r.share_routed_away_from_baseline),
            )
            for r in result.rows
        ),
        frozenset(range(2, 10)),
    )
    tiers = list(result.sources_by_tier)
    factors = Section(
        f"Price per tier as a multiple of its {result.base_year} price",
        ("Tier", *(str(r.year) for r in result.rows)),
        tuple((tier, *(f"{r.price_factor_by_tier[tier]:.3f}" for r in result.rows)) for tier in tiers),
        frozenset(range(1, len(result.rows) + 1)),
    )
    sections = [years, factors]
    if result.task is not None:
        task = result.task
        sections.append(
            Section(
                f"One call of {fmt.count(task.tokens_per_invocation)} tokens on the {task.tier} tier",
                ("Year", "$/M tokens", "$/call", "Price"),
                tuple(
                    (str(r.year), fmt.usd(r.usd_per_mtok), fmt.usd(r.usd_per_invocation), r.basis) for r in task.rows
                ),
                frozenset({1, 2}),
            )
        )
    notes = [
        "Years between the table's points are interpolated geometrically (a constant yearly rate between them).",
        "Each model's input and output prices scale by its tier's factor; the LP is solved again every year.",
        *(f"{tier}: {source}" for tier, source in result.sources_by_tier.items()),
    ]
    return Report(
        f"router-opt trajectory · {result.trajectory} · catalog {result.catalog} (base year {result.base_year}) · "
        f"workload {result.workload} · mode {result.mode}",
        sections,
        notes,
    )


# --- self-hosting breakeven ----------------------------------------------------------------------


def breakeven_report(result: BreakevenResult) -> Report:
    r = result
    serving = f", serving {r.serving_model}" if r.serving_model else ""
    if r.breakeven_tokens_per_day is None:
        breakeven = "never: one fully loaded GPU costs more per token than the API"
        always = "never"
    else:
        breakeven = (
            f"{fmt.tokens(r.breakeven_tokens_per_day)} tokens/day (the API bill there: "
            f"{fmt.usd(r.breakeven_usd_per_month_on_api)}/month · {fmt.usd(r.breakeven_usd_per_year_on_api)}/year)"
        )
        always = (
            "n/a"
            if r.always_cheaper_above_tokens_per_day is None
            else f"{fmt.tokens(r.always_cheaper_above_tokens_per_day)} tokens/day"
        )
    economics = Section(
        f"Self-hosting on {r.gpu} vs the {r.api_model} API",
        ("Figure", "Value"),
        (
            (
                "GPU",
                f"{r.gpu} at {fmt.usd(r.usd_per_gpu_hour)}/hour{serving} at {fmt.count(r.tokens_per_second)} tokens/s",
            ),
            ("Utilisation · overhead", f"{fmt.percent(r.utilisation)} · {fmt.percent(r.overhead)}"),
            (
                "One GPU",
                (
                    f"{fmt.usd(r.gpu_usd_per_day)}/day · {fmt.usd(r.gpu_usd_per_month)}/month · "
                    f"{fmt.usd(r.gpu_usd_per_year)}/year · carries {fmt.tokens(r.tokens_per_day_per_gpu)} tokens/day"
                ),
            ),
            ("Self-hosted $/M (GPU fully loaded)", fmt.usd_per_mtok(r.self_hosted_usd_per_mtok)),
            (
                "API $/M",
                f"{fmt.usd_per_mtok(r.api_usd_per_mtok)} ({fmt.ratio(r.api_to_self_hosted_price_ratio)} the self-hosted $/M)",
            ),
            ("Breakeven volume", breakeven),
            ("Self-hosting never dearer above", always),
        ),
    )
    saving = r.monthly_saving_usd
    verdict = (
        f"self-hosting saves {fmt.usd(saving)}/month"
        if saving > 0
        else f"the API is cheaper by {fmt.usd(-saving)}/month"
        if saving < 0
        else "no difference"
    )
    volume = Section(
        f"At the {r.volume_source} volume",
        ("Figure", "Value"),
        (
            ("Volume", f"{fmt.tokens(r.tokens_per_day)} tokens/day"),
            ("GPUs needed", fmt.count(r.gpus_needed)),
            ("API", f"{fmt.usd(r.api_usd_per_month)}/month · {fmt.usd(r.api_usd_per_year)}/year"),
            (
                "Self-hosted",
                f"{fmt.usd(r.self_hosted_usd_per_month)}/month · {fmt.usd(r.self_hosted_usd_per_year)}/year",
            ),
            ("Monthly saving", f"{fmt.usd(saving)} ({verdict})"),
            ("Yearly saving", fmt.usd(r.yearly_saving_usd)),
        ),
    )
    notes = [
        (
            "Self-hosted $/M = GPU $/hour / (tokens/s x 3600 x utilisation) x 10^6 x (1 + overhead); a GPU costs "
            f"the same whatever the traffic. {_calendar(r.days_per_month)}"
        ),
        *r.sources,
    ]
    return Report("router-opt breakeven", [economics, volume], notes)


def _days(days: float) -> str:
    """Days in a month as a person reads them: 30.42 (365 / 12), 30."""
    return f"{days:g}" if float(days).is_integer() else fmt.decimal(days, 2)


def _calendar(days_per_month: float) -> str:
    """The month and year a report's figures use (router_opt.units)."""
    if days_per_month == DAYS_PER_MONTH:
        return (
            f"A month is {fmt.decimal(days_per_month, 2)} days (365 / 12) and a year {DAYS_PER_YEAR} days, "
            "so a yearly figure is 12 monthly ones."
        )
    return (
        f"A month is {days_per_month:g} days as given, so a year here is 12 of them "
        f"({days_per_month * MONTHS_PER_YEAR:g} days), not {DAYS_PER_YEAR}."
    )


# --- training cost and fine-tuning payback -------------------------------------------------------


def training_report(result: TrainingReport) -> Report:
    run, pay = result.run, result.payback
    cases = Section(
        f"Training run: {run.gpus} x {run.gpu} at {fmt.usd(run.usd_per_gpu_hour)}/GPU-hour",
        ("Case", "Hours", "GPU-hours", "Compute", "Overhead", "Total", "Assumes"),
        tuple(
            (
                c.case,
                fmt.decimal(c.hours),
                fmt.decimal(c.gpu_hours),
                fmt.usd(c.compute_usd),
                fmt.usd(c.overhead_usd),
                fmt.usd(c.total_usd),
                c.how,
            )
            for c in run.cases
        ),
        frozenset({1, 2, 3, 4, 5}),
    )
    sections = [cases]
    if run.flops is not None:
        f = run.flops
        sections.append(
            Section(
                "Hours from FLOPs (dense: FLOPs = 6 x parameters x tokens)",
                ("Figure", "Value"),
                (
                    ("Parameters x tokens", f"{fmt.scientific(f.parameters)} x {fmt.scientific(f.tokens)}"),
                    ("Training FLOPs", fmt.scientific(f.training_flops)),
                    ("Peak per GPU", f"{fmt.scientific(f.peak_flops_per_gpu)} FLOP/s ({f.peak_source})"),
                    ("MFU", fmt.percent(f.mfu)),
                    ("GPU-hours", fmt.decimal(f.gpu_hours)),
                    ("Hours on the cluster", f"{fmt.decimal(f.hours)} ({fmt.decimal(f.hours / 24)} days)"),
                ),
            )
        )
    if pay.payback_months is None:
        payback = "never: serving costs at least the API bill it replaces"
    else:
        payback = f"{fmt.decimal(pay.payback_months, 2)} months"
    family = f" ({', '.join(pay.task_types)})" if pay.task_types else ""
    rows = [
        (
            "One-time cost",
            f"{fmt.usd(pay.one_time_usd)} (fine-tune {fmt.usd(pay.fine_tune_usd)} + data prep {fmt.usd(pay.data_prep_usd)})",
        ),
        ("Serving", f"{fmt.usd(pay.serving_usd_per_month)}/month"),
        ("API bill replaced", f"{fmt.usd(pay.api_usd_per_month)}/month{family}, {pay.api_basis}"),
        ("First-month investment", fmt.usd(pay.first_month_investment_usd)),
        ("Net saving in month one", fmt.usd(pay.net_saving_month_one_usd)),
        ("Monthly saving after month one", fmt.usd(pay.monthly_saving_after_month_one_usd)),
        ("Payback", payback),
        (
            f"Net over {pay.horizon_months} months ({fmt.count(round(pay.horizon_days, 2))} days)",
            fmt.usd(pay.net_saving_over_horizon_usd),
        ),
    ]
    notes = [
        (
            f"Run: {fmt.decimal(run.hours)} h of work at utilisation {fmt.percent(run.utilisation)} "
            f"(billed hours = hours / utilisation), overhead {fmt.percent(run.overhead)} on compute."
        ),
        _calendar(pay.days_per_month),
    ]
    if pay.api_usd_per_month_from_volume is not None and pay.tokens_per_day is not None:
        check = (
            f"{fmt.tokens(pay.tokens_per_day)} tokens/day x {fmt.usd_per_mtok(pay.api_usd_per_mtok)} x "
            f"{_days(pay.days_per_month)} days = {fmt.usd(pay.api_usd_per_month_from_volume)}/month"
        )
        rows.append(("Check: volume x price", check))
        if pay.api_basis == "stated" and pay.api_usd_per_month_from_volume > 0:
            gap = pay.api_usd_per_month / pay.api_usd_per_month_from_volume
            if abs(gap - 1) > 0.01:
                notes.append(
                    f"The stated API bill is {fmt.ratio(gap)} what its own volume and price give "
                    "(docs/VALIDATION.md §6c); the payback above uses the bill as stated."
                )
    sections.append(Section("Fine-tuning payback", ("Figure", "Value"), tuple(rows)))
    return Report(f"router-opt training-cost · {result.source}", sections, notes)


# --- dispatch ------------------------------------------------------------------------------------

_REPORTS = {
    FrontierResult: frontier_report,
    BudgetFrontierResult: budget_frontier_report,
    ReasoningResult: reasoning_report,
    TrajectoryResult: trajectory_report,
    BreakevenResult: breakeven_report,
    TrainingReport: training_report,
}


def report_for(result: AnyAnalysis) -> Report:
    try:
        return _REPORTS[type(result)](result)
    except KeyError:
        raise TypeError(f"no renderer for {type(result).__name__}") from None


def to_table(result: AnyAnalysis, width: int = 160) -> str:
    report = report_for(result)
    text = sections_as_text(report.sections, preamble=report.headline, width=width)
    if report.notes:
        text += "\n" + "\n".join(f"- {n}" for n in report.notes) + "\n"
    return text


def to_markdown(result: AnyAnalysis) -> str:
    report = report_for(result)
    parts = [f"## {report.headline}"]
    parts += [markdown_section(s) for s in report.sections]
    if report.notes:
        parts.append("\n".join(f"- {n}" for n in report.notes))
    return "\n\n".join(parts) + "\n"


def to_json(result: AnyAnalysis) -> str:
    """The whole result at full precision (keys stable per `schema_version`)."""
    return result.model_dump_json(indent=2) + "\n"


def render_analysis(result: AnyAnalysis, output_format: str) -> str:
    """The analysis in `output_format`, one of ANALYSIS_FORMATS (router_opt.report.registry)."""
    return ANALYSIS_FORMATS.render(output_format, result)
