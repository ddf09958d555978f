"""Renderers for the commands that compare plans or vary their inputs: `diff` (two saved plans),
`drift` (a saved plan against new logs), `ranges` (savings as a range) and `batch` (a portfolio of
clients). The commands' computations live in router_opt.diff, router_opt.drift,
router_opt.uncertainty and router_opt.parallel; only the tables are here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from router_opt import formatting as fmt
from router_opt.report.registry import render_sections
from router_opt.report.text import Section

if TYPE_CHECKING:
    from router_opt.diff import PlanDiff
    from router_opt.drift import DriftResult
    from router_opt.uncertainty import RangesResult


_LABELS = {
    "optimal_usd_per_day": "Optimal plan $/day (re-optimised each draw)",
    "baseline_usd_per_day": "All-large $/day",
    "savings_usd_per_day": "Savings against all-large $/day",
    "overspend_ratio": "Overspend multiple (all-large / optimal)",
    "nominal_plan_usd_per_day": "Nominal plan $/day (its routing, drawn prices and volume)",
    "nominal_plan_excess_usd_per_day": "Nominal plan minus the draw's optimum $/day (< 0: it misses bars)",
    "actual_usd_per_day": "Today's routing $/day (--actual, drawn prices and volume)",
    "savings_vs_actual_usd_per_day": "Savings against today $/day",
}


def diff_sections(diff: PlanDiff) -> list[Section]:
    """`router-opt diff`: per-department change, then the totals."""

    def money(value):
        return "-" if value is None else fmt.usd(value)

    def times(value):
        return "-" if value is None else fmt.ratio(value)

    rows = [
        (
            d.department,
            money(d.old_optimal_usd_per_day),
            money(d.new_optimal_usd_per_day),
            fmt.signed_usd(d.delta_usd_per_day),
            times(d.old_overspend_ratio),
            times(d.new_overspend_ratio),
        )
        for d in sorted(diff.departments, key=lambda d: d.delta_usd_per_day)
    ]
    rows.append(
        (
            "TOTAL",
            fmt.usd(diff.old_optimal_usd_per_day),
            fmt.usd(diff.new_optimal_usd_per_day),
            fmt.signed_usd(diff.delta_usd_per_day),
            fmt.ratio(diff.old_overspend_ratio),
            fmt.ratio(diff.new_overspend_ratio),
        )
    )
    departments = Section(
        f"Optimal $/day per department: {diff.old} -> {diff.new}",
        ("Department", "Old $/day", "New $/day", "Change $/day", "Old overspend", "New overspend"),
        tuple(rows),
        frozenset({1, 2, 3, 4, 5}),
        total_row=True,
    )
    totals = Section(
        "Totals",
        ("Figure", "Old", "New"),
        (
            ("Optimal $/day", fmt.usd(diff.old_optimal_usd_per_day), fmt.usd(diff.new_optimal_usd_per_day)),
            ("All-large $/day", fmt.usd(diff.old_baseline_usd_per_day), fmt.usd(diff.new_baseline_usd_per_day)),
            ("Change $/year", "", fmt.signed_usd(diff.delta_usd_per_year)),
        ),
        frozenset({1, 2}),
    )
    parts = [departments, totals]
    if diff.tasks:
        parts.append(
            Section(
                f"Tasks whose routing changed ({len(diff.tasks)}; largest $/day change first)",
                ("Department / role", "Task", "Old routing", "New routing", "Change $/day", "Quality change"),
                tuple(
                    (
                        f"{d.department} / {d.role}",
                        d.task,
                        ", ".join(d.old_routes) or "(not in the plan)",
                        ", ".join(d.new_routes) or "(not in the plan)",
                        fmt.signed_usd(d.delta_usd_per_day),
                        "-" if d.delta_quality is None else f"{d.delta_quality:+.4g}",
                    )
                    for d in diff.tasks
                ),
                frozenset({4, 5}),
            )
        )
    return parts


def drift_sections(result: DriftResult):
    """Table/Markdown sections: the totals, then every task with traffic, most leaked first."""

    totals = (
        ("Requests per day (matched tasks)", fmt.count(round(result.requests_per_day))),
        ("Off-plan share of requests", fmt.percent(result.off_plan_share)),
        ("Today $/day (plan's prices)", fmt.usd(result.actual_usd_per_day)),
        ("As planned $/day", fmt.usd(result.planned_usd_per_day)),
        ("Leaked $/day", fmt.usd(result.leaked_usd_per_day)),
        ("Models the plan never names", ", ".join(result.models_outside_plan) or "-"),
        ("Log tasks not in the plan", ", ".join(result.unmatched_log_tasks) or "-"),
        ("Plan tasks without traffic", fmt.count(result.plan_tasks_without_traffic)),
    )
    rows = tuple(
        (
            f"{t.department} / {t.role}",
            t.task,
            ", ".join(f"{m} {fmt.percent(s)}" for m, s in zip(t.planned_models, t.planned_shares, strict=True)),
            ", ".join(f"{m} {fmt.percent(s)}" for m, s in zip(t.actual_models, t.actual_shares, strict=True)),
            fmt.percent(t.off_plan_share),
            fmt.usd(t.leaked_usd_per_day),
        )
        for t in result.tasks
    )
    return [
        Section(
            f"Drift from {result.plan} over {result.days} day(s) of logs", ("Measure", "Value"), totals, frozenset({1})
        ),
        Section(
            "Per task (most leaked first)",
            ("Role", "Task", "Plan", "Today", "Off plan", "Leaked $/day"),
            rows,
            frozenset({4, 5}),
        ),
    ]


def render_ranges(result: RangesResult, output_format: str, top: int = 20) -> str:
    if output_format == "json":
        return result.model_dump_json(indent=2) + "\n"

    def show(metric: str, value: float | None) -> str:
        if value is None:
            return "n/a"
        return fmt.ratio(value) if metric == "overspend_ratio" else fmt.usd(value)

    spread_rows = tuple(
        (
            _LABELS[s.metric],
            show(s.metric, s.p10),
            show(s.metric, s.p50),
            show(s.metric, s.p90),
            show(s.metric, s.nominal),
        )
        for s in result.spreads
    )
    shown = result.tasks if top <= 0 else result.tasks[:top]
    task_rows = tuple(
        (
            t.department,
            t.role,
            t.task,
            t.models,
            fmt.quality(t.quality),
            fmt.quality(t.min_quality),
            fmt.percent(t.probability_meets_bar),
        )
        for t in shown
    )
    parts = [
        Section(
            f"Range over {result.feasible_draws} feasible of {result.draws} draws (seed {result.seed})",
            ("Figure", "P10", "P50", "P90", "Nominal"),
            spread_rows,
            right_aligned=frozenset({1, 2, 3, 4}),
        ),
        Section(
            "Chance the nominal plan's model meets the bar"
            + (f" (lowest {len(shown)} of {len(result.tasks)} tasks)" if len(shown) < len(result.tasks) else ""),
            ("Department", "Role", "Task", "Model", "Quality", "Bar", "P(meets bar)"),
            task_rows,
            right_aligned=frozenset({4, 5, 6}),
        ),
    ]
    low, high = result.volume_range
    preamble = (
        f"router-opt ranges · catalog {result.catalog} · workload {result.workload} · mode {result.mode}\n"
        f"{result.models_with_quality_interval} model(s) with quality intervals, {result.models_with_price_range} "
        f"with price ranges · volume x{low:g}..x{high:g}"
    )
    if result.warnings:
        preamble += "\n" + "\n".join(f"warning: {w}" for w in result.warnings)
    return render_sections(parts, output_format, preamble=preamble)


def batch_sections(rows: list[dict], total: dict):
    """The portfolio table (and the failed clients' full errors) as report Sections."""

    def flat(text: str) -> str:
        return " / ".join(line.strip() for line in text.splitlines() if line.strip())

    table = []
    for r in rows:
        if "error" in r:
            table.append((r["client"], "-", "-", "-", "-", "-", "-", "failed"))
        else:
            table.append(
                (
                    r["client"],
                    fmt.count(r["tasks"]),
                    fmt.usd(r["optimal_usd_per_day"]),
                    fmt.usd(r["baseline_usd_per_day"]),
                    fmt.usd(r["savings_usd_per_day"]),
                    fmt.usd(r["savings_usd_per_year"]),
                    fmt.ratio(r["overspend_ratio"]),
                    "ok",
                )
            )
    overspend = total["overspend_ratio"]
    table.append(
        (
            "TOTAL",
            fmt.count(total["tasks"]),
            fmt.usd(total["optimal_usd_per_day"]),
            fmt.usd(total["baseline_usd_per_day"]),
            fmt.usd(total["savings_usd_per_day"]),
            fmt.usd(total["savings_usd_per_year"]),
            "-" if overspend is None else fmt.ratio(overspend),
            f"{total['failed']} failed" if total["failed"] else "ok",
        )
    )
    parts = [
        Section(
            f"Portfolio: {total['clients'] + total['failed']} client(s)",
            (
                "Client",
                "Tasks",
                "Optimal $/day",
                "All-large $/day",
                "Savings $/day",
                "Savings $/year",
                "Overspend",
                "Status",
            ),
            tuple(table),
            frozenset({1, 2, 3, 4, 5, 6}),
            total_row=True,
        )
    ]
    failed = [(r["client"], flat(r["error"])) for r in rows if "error" in r]
    if failed:
        parts.append(Section("Failed clients", ("Client", "Error"), tuple(failed)))
    notes = [(r["client"], flat(n)) for r in rows if "error" not in r for n in r.get("notes", [])]
    if notes:
        parts.append(Section("Notes", ("Client", "Note"), tuple(notes)))
    return parts
