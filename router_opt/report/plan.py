"""The plan's report (`router-opt optimize`): the sections its human formats show, and its table,
Markdown, JSON and CSV renderers. xlsx, html and focus have modules of their own; every format is
listed, with its renderer, in router_opt.report.registry."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from router_opt import formatting as fmt
from router_opt.errors import RouterOptError
from router_opt.report.cells import SafeCsvWriter
from router_opt.report.text import Section, markdown_section, sections_as_text

if TYPE_CHECKING:
    from router_opt.result import Result


def headline(result: Result) -> str:
    s = result.settings
    return (
        f"router-opt plan · catalog {s.catalog} (prices as of {s.prices_as_of.isoformat()}) · "
        f"workload {s.workload} · mode {s.mode} · baseline {s.baseline_model} ({s.baseline_tier})"
    )


def _money(optimal: float, baseline: float, savings: float, overspend: float) -> tuple[str, ...]:
    """The four money columns every overspend table shares."""
    return (fmt.usd(optimal), fmt.usd(baseline), fmt.usd(savings), fmt.ratio(overspend))


def _closing_rows(result: Result, label: str, first: str, second: str) -> list[tuple[str, ...]]:
    """The shared fixed-deployment row (when any) and the TOTAL row under an overspend table."""
    t = result.totals
    rows = []
    if t.fixed_usd_per_day > 0:
        rows.append((label, first, "", fmt.usd(t.fixed_usd_per_day), fmt.usd(0), fmt.usd(-t.fixed_usd_per_day), ""))
    if t.unused_commitment_usd_per_day > 0 or t.baseline_unused_commitment_usd_per_day > 0:
        # Committed spend paid unused, by the plan and by the all-large habit: the organisation's.
        unused, baseline_unused = t.unused_commitment_usd_per_day, t.baseline_unused_commitment_usd_per_day
        rows.append(
            (
                label.replace("Fixed deployments", "Unused commitments"),
                first,
                "",
                fmt.usd(unused),
                fmt.usd(baseline_unused),
                fmt.usd(baseline_unused - unused),
                "",
            )
        )
    rows.append(
        (
            "TOTAL",
            second,
            fmt.count(t.workers),
            *_money(t.optimal_usd_per_day, t.baseline_usd_per_day, t.savings_usd_per_day, t.overspend_ratio),
        )
    )
    return rows


def role_section(result: Result) -> Section:
    rows = [
        (
            r.department,
            r.role,
            fmt.count(r.headcount),
            *_money(r.optimal_usd_per_day, r.baseline_usd_per_day, r.savings_usd_per_day, r.overspend_ratio),
        )
        for r in result.roles
    ]
    rows += _closing_rows(result, "Fixed deployments", "shared", f"{len(result.roles)} roles")
    return Section(
        "Overspend per role (all-large vs optimal)",
        ("Department", "Role", "Workers", "Optimal $/day", "All-large $/day", "Savings $/day", "Overspend"),
        tuple(rows),
        frozenset({2, 3, 4, 5, 6}),
        total_row=True,
    )


def department_section(result: Result) -> Section:
    rows = [
        (
            d.department,
            fmt.count(d.roles),
            fmt.count(d.headcount),
            *_money(d.optimal_usd_per_day, d.baseline_usd_per_day, d.savings_usd_per_day, d.overspend_ratio),
        )
        for d in sorted(result.departments, key=lambda d: -d.savings_usd_per_day)
    ]
    rows += _closing_rows(result, "Fixed deployments (shared)", "", fmt.count(len(result.roles)))
    return Section(
        "Per department (largest savings first)",
        ("Department", "Roles", "Workers", "Optimal $/day", "All-large $/day", "Savings $/day", "Overspend"),
        tuple(rows),
        frozenset({1, 2, 3, 4, 5, 6}),
        total_row=True,
    )


def top_task_section(result: Result, top: int) -> Section:
    rows = []
    for rank, task in enumerate(result.top_tasks(top), start=1):
        model = task.model if task.models == 1 else f"{task.model} +{task.models - 1} more"
        rows.append(
            (
                str(rank),
                task.task,
                f"{task.department} / {task.role}",
                fmt.count(task.invocations_per_day),
                fmt.usd(task.usd_per_invocation),
                model,
                task.tier,
            )
        )
    return Section(
        f"Top {len(rows)} tasks by daily volume",
        ("#", "Task", "Role", "Daily", "$/invocation", "Model", "Tier"),
        tuple(rows),
        frozenset({0, 3, 4}),
    )


def totals_section(result: Result) -> Section:
    t, s = result.totals, result.settings
    rows = (
        ("Optimal cost", f"{fmt.usd(t.optimal_usd_per_day)}/day · {fmt.usd(t.optimal_usd_per_year)}/year"),
        ("All-large cost", f"{fmt.usd(t.baseline_usd_per_day)}/day · {fmt.usd(t.baseline_usd_per_year)}/year"),
        (
            "Savings",
            f"{fmt.usd(t.savings_usd_per_day)}/day · {fmt.usd(t.savings_usd_per_year)}/year ({fmt.percent(t.savings_share)})",
        ),
        ("Overspend of the all-large habit", fmt.ratio(t.overspend_ratio)),
        (
            "Per worker",
            f"{fmt.usd(t.optimal_usd_per_worker_per_day)}/day optimal vs {fmt.usd(t.baseline_usd_per_worker_per_day)}/day all-large ({fmt.count(t.workers)} workers)",
        ),
        (
            "Invocations routed away from the baseline",
            f"{fmt.percent(t.share_routed_away_from_baseline)} of {fmt.count(t.invocations_per_day)}/day",
        ),
        (
            "Quality (invocation-weighted)",
            f"plan {fmt.quality(t.plan_quality)} vs all-large {fmt.quality(t.baseline_quality)}",
        ),
        ("Tasks the baseline falls short on", fmt.count(t.baseline_tasks_below_threshold)),
        ("Year", f"{s.days_per_year} days"),
        (
            "Solver",
            f"{s.solver} · {result.solve.status}"
            + (f" · gap {fmt.percent(result.solve.mip_gap)}" if result.solve.mip_gap is not None else "")
            + _proof_note(result),
        ),
        ("Objective", f"{s.objective} · mode {s.mode}"),
    )
    if t.unused_commitment_usd_per_day > 0 or t.baseline_unused_commitment_usd_per_day > 0:
        unused = (
            f"{fmt.usd(t.unused_commitment_usd_per_day)}/day in optimal, "
            f"{fmt.usd(t.baseline_unused_commitment_usd_per_day)}/day in all-large"
        )
        rows = rows[:3] + (("Committed spend paid unused", unused),) + rows[3:]
    if t.fixed_usd_per_day > 0:
        rows = rows[:3] + (("Fixed deployments (in optimal)", f"{fmt.usd(t.fixed_usd_per_day)}/day"),) + rows[3:]
    return Section("Totals", ("Figure", "Value"), rows)


def _proof_note(result: Result) -> str:
    """The decomposition's proof, or why it fell back to the full LP (nothing for a plain full LP)."""
    solve = result.solve
    if solve.proof_max_violation_usd_per_day is not None:
        return (
            f" · proved optimal at the final prices ({solve.decomposition_rounds} round(s), largest reduced-cost "
            f"violation {solve.proof_max_violation_usd_per_day:.1e} $/day)"
        )
    return "" if solve.method == "full LP" else f" · {solve.method}"


def constraint_section(result: Result) -> Section:
    rows = tuple(
        (
            c.kind.replace("_", " "),
            c.subject,
            fmt.limit(c.limit, c.unit),
            fmt.limit(c.used, c.unit),
            "yes" if c.binding else "no",
            c.explanation,
        )
        for c in sorted(result.constraints, key=lambda c: (not c.binding, c.kind, c.subject))
    )
    return Section(
        "Constraints that tie tasks together (binding first)",
        ("Constraint", "On", "Limit", "Used", "Binding", "What it means"),
        rows,
        frozenset({2, 3}),
    )


def deployment_section(result: Result) -> Section:
    rows = tuple(
        (
            d.model,
            "yes" if d.provisioned else "no",
            f"{fmt.usd(d.fixed_usd_per_month)}/month",
            fmt.usd(d.fixed_usd_per_day),
            "unlimited" if d.capacity_mtok_per_day is None else fmt.limit(d.capacity_mtok_per_day, "Mtok/day"),
            fmt.limit(d.used_mtok_per_day, "Mtok/day"),
            "-" if d.saving_if_provisioned_usd_per_day is None else fmt.usd(d.saving_if_provisioned_usd_per_day),
        )
        for d in result.deployments
    )
    return Section(
        "Self-hosted deployments (fixed cost: provision or not)",
        ("Model", "Provisioned", "Fixed cost", "Fixed $/day", "Capacity", "Used", "Would save $/day if provisioned"),
        rows,
        frozenset({2, 3, 4, 5, 6}),
    )


def decision_section(result: Result) -> Section:
    if result.decisions is None:
        raise RouterOptError("`explain` needs the plan's decision records: solve with decisions=True", option="explain")
    rows = []
    for d in result.decisions:
        plan = ", ".join(
            m if len(d.models) == 1 else f"{m} {fmt.percent(share)}" for m, share in zip(d.models, d.shares)
        )
        runner = "-" if d.runner_up is None else f"{d.runner_up} (+{fmt.usd(d.runner_up_extra_usd_per_day)}/day)"
        # None: no plan meets the raised bar, or the figure was not computed (the warnings say which).
        plus_one = "n/a" if d.threshold_plus_one_usd_per_day is None else fmt.usd(d.threshold_plus_one_usd_per_day)
        rows.append(
            (
                f"{d.department} / {d.role}",
                d.task,
                plan,
                runner,
                "; ".join(d.binding) or "-",
                ", ".join(d.fallbacks) or "-",
                plus_one,
            )
        )
    return Section(
        "Decisions: where each task went and why",
        (
            "Role",
            "Task",
            "Plan",
            "Runner-up",
            "Held off its cheapest by",
            "Fallbacks",
            # Blended: the quality row's shadow price, a rate at the bar (a whole point may cost more).
            "$/day per quality point at the bar" if result.settings.mode == "blended" else "+1 quality point $/day",
        ),
        tuple(rows),
        frozenset({6}),
    )


def actual_section(result: Result) -> Section:
    """Today's spend, the plan and the all-large habit per department, with the total (the plan's
    total includes its fixed deployment costs, on their own row)."""
    a = result.actual
    rows = [
        (
            d.department,
            fmt.usd(d.actual_usd_per_day),
            fmt.usd(d.optimal_usd_per_day),
            fmt.usd(d.baseline_usd_per_day),
            fmt.usd(d.savings_vs_actual_usd_per_day),
            fmt.percent(d.savings_vs_actual_usd_per_day / d.actual_usd_per_day) if d.actual_usd_per_day > 0 else "-",
        )
        for d in sorted(a.departments, key=lambda d: -d.savings_vs_actual_usd_per_day)
    ]
    fixed = result.totals.fixed_usd_per_day
    if fixed > 0:
        rows.append(("Fixed deployments (shared)", fmt.usd(0), fmt.usd(fixed), fmt.usd(0), fmt.usd(-fixed), ""))
    rows.append(
        (
            "TOTAL",
            fmt.usd(a.actual_usd_per_day),
            fmt.usd(a.optimal_usd_per_day),
            fmt.usd(a.baseline_usd_per_day),
            fmt.usd(a.savings_vs_actual_usd_per_day),
            fmt.percent(a.savings_vs_actual_share),
        )
    )
    title = (
        f"Today vs the plan vs all-large, per department (today: {a.routing}; "
        f"{a.tasks_below_bar} task(s) use a model below their bar today)"
    )
    return Section(
        title,
        ("Department", "Today $/day", "Optimal $/day", "All-large $/day", "Savings vs today $/day", "Saved"),
        tuple(rows),
        frozenset({1, 2, 3, 4, 5}),
        total_row=True,
    )


def billing_section(result: Result) -> Section:
    """Per model: the log's billed $/day beside the same requests priced with the catalog."""
    a = result.actual
    rows = tuple(
        (
            b.model,
            fmt.usd(b.billed_usd_per_day),
            fmt.usd(b.priced_usd_per_day),
            "-" if b.difference_share is None else f"{b.difference_share:+.1%}",
            "CHECK: stale price or unlisted discount?" if b.flagged else "ok",
        )
        for b in a.billing
    )
    return Section(
        f"Billed vs catalog-priced, per model (flagged past {a.billing_tolerance:.0%})",
        ("Model", "Billed $/day", "Priced $/day", "Difference", ""),
        rows,
        frozenset({1, 2, 3}),
    )


def sections(result: Result, top: int, explain: bool = False) -> list[Section]:
    parts = [role_section(result), department_section(result), top_task_section(result, top), totals_section(result)]
    if result.actual is not None:
        parts.insert(0, actual_section(result))
        if result.actual.billing:
            parts.insert(1, billing_section(result))
    if result.constraints:
        parts.append(constraint_section(result))
    if result.deployments:
        parts.append(deployment_section(result))
    if result.frontier is not None:
        # Imported here: the analyses' renderers import every analysis (slow), and most plans have no frontier.
        from router_opt.report.analyses import frontier_report

        parts.append(frontier_report(result.frontier).sections[0])
    if explain:
        parts.append(decision_section(result))
    return parts


def _with_warnings(result: Result, text: str) -> str:
    return "\n".join([text, *(f"Warning: {w}" for w in result.warnings)])


def to_table(result: Result, top: int = 10, explain: bool = False, width: int = 160) -> str:
    """The report for a terminal."""
    return sections_as_text(
        sections(result, top, explain), preamble=_with_warnings(result, headline(result)), width=width
    )


def to_markdown(result: Result, top: int = 10, explain: bool = False) -> str:
    """GitHub-flavoured Markdown, for a pull request or a wiki page."""
    parts = [f"## router-opt plan\n\n{headline(result).removeprefix('router-opt plan · ')}"]
    parts += [f"> **Warning:** {w}" for w in result.warnings]
    for section in sections(result, top, explain):
        parts.append(markdown_section(section))
    return "\n\n".join(parts) + "\n"


def to_json(result: Result) -> bytes:
    """The full result as UTF-8 JSON, full precision, stable key order (see `schema_version`).

    Bytes straight from pydantic's serializer: a 50,000-task plan is a 100 MB document, and going
    through str (decode, append the newline, encode again to write) copied it three times."""
    return result.__pydantic_serializer__.to_json(result, indent=2) + b"\n"


ASSIGNMENT_COLUMNS = (
    "department",
    "role",
    "task",
    "task_type",
    "model",
    "tier",
    "share",
    "invocations_per_day",
    "usd_per_invocation",
    "usd_per_day",
    "quality",
)


def to_csv(result: Result) -> str:
    """One row per (task, model) the plan uses, full precision; text cells safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = SafeCsvWriter(out)
    writer.writerow(ASSIGNMENT_COLUMNS)
    for a in result.assignments:
        writer.writerow([getattr(a, c) for c in ASSIGNMENT_COLUMNS])
    return out.getvalue()
