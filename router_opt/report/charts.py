"""Charts as inline SVG text (matplotlib, Agg backend, glyphs as paths so the SVG needs no fonts)."""

from __future__ import annotations

import io

from router_opt.result import Result

PLAN_COLOUR = "#1F77B4"
BASELINE_COLOUR = "#9AA5B1"
TIER_COLOURS = {
    "Reasoning": "#6A3D9A",
    "Commercial Large": "#9AA5B1",
    "Commercial Small": "#1F77B4",
    "Open-Source": "#2CA02C",
    "Fine-Tuned": "#E07B39",
    "Instruct": "#BCBD22",
    "Specialist": "#17BECF",
}


def _svg(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype: the SVG is inlined in HTML


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    matplotlib.rcParams["svg.fonttype"] = "path"
    matplotlib.rcParams["svg.hashsalt"] = "router-opt"  # stable ids: same input, same file
    import matplotlib.pyplot as plt

    return plt


def department_chart(result: Result) -> str:
    """Optimal vs all-large $/day per department, largest savings on top."""
    plt = _pyplot()
    departments = sorted(result.departments, key=lambda d: d.savings_usd_per_day)
    names = [d.department for d in departments]
    figure, axes = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.2))
    positions = range(len(names))
    axes.barh(
        [p + 0.2 for p in positions],
        [d.baseline_usd_per_day for d in departments],
        height=0.4,
        color=BASELINE_COLOUR,
        label="All-large",
    )
    axes.barh(
        [p - 0.2 for p in positions],
        [d.optimal_usd_per_day for d in departments],
        height=0.4,
        color=PLAN_COLOUR,
        label="Optimal",
    )
    for p, d in zip(positions, departments):
        axes.text(d.baseline_usd_per_day, p + 0.2, f"  {d.overspend_ratio:.1f}x", va="center", fontsize=8)
    axes.set_yticks(list(positions), names)
    axes.set_xlabel("$ per day")
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(loc="lower right", frameon=False)
    axes.set_title("Cost per day by department (label: overspend of all-large)", fontsize=10, loc="left")
    return _svg(figure)


def tier_mix_chart(result: Result) -> str:
    """Share of invocations per tier: the plan against the all-large baseline."""
    plt = _pyplot()
    total = result.totals.invocations_per_day or 1.0
    plan: dict[str, float] = {}
    for a in result.assignments:
        plan[a.tier] = plan.get(a.tier, 0.0) + a.invocations_per_day / total
    baseline = {result.settings.baseline_tier: 1.0}
    tiers = [t for t in TIER_COLOURS if t in plan or t in baseline] + sorted(set(plan) - set(TIER_COLOURS))
    figure, axes = plt.subplots(figsize=(7.5, 1.9))
    for row, mix in ((1, plan), (0, baseline)):
        left = 0.0
        for tier in tiers:
            width = mix.get(tier, 0.0)
            if width <= 0:
                continue
            axes.barh(row, width, left=left, color=TIER_COLOURS.get(tier, "#777777"), label=tier if row == 1 else None)
            if width >= 0.06:
                axes.text(left + width / 2, row, f"{width:.0%}", ha="center", va="center", fontsize=8, color="white")
            left += width
    axes.set_yticks([0, 1], ["All-large", "Plan"])
    axes.set_xlim(0, 1)
    axes.xaxis.set_major_formatter(lambda value, _: f"{value:.0%}")
    axes.spines[["top", "right"]].set_visible(False)
    handles, labels = axes.get_legend_handles_labels()
    if result.settings.baseline_tier not in labels:
        from matplotlib.patches import Patch

        handles.append(Patch(color=TIER_COLOURS.get(result.settings.baseline_tier, "#777777")))
        labels.append(result.settings.baseline_tier)
    axes.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=4, frameon=False, fontsize=8)
    axes.set_title("Share of invocations by model tier", fontsize=10, loc="left")
    return _svg(figure)


def frontier_chart(result: Result) -> str:
    """Plan $/day against the quality bar, with the all-large bill for scale."""
    plt = _pyplot()
    points = result.frontier.points
    bars = [p.min_quality for p in points]
    figure, axes = plt.subplots(figsize=(7.5, 3.0))
    axes.plot(
        bars, [p.optimal_usd_per_day for p in points], marker="o", markersize=3, color=PLAN_COLOUR, label="Optimal plan"
    )
    axes.plot(bars, [p.baseline_usd_per_day for p in points], linestyle="--", color=BASELINE_COLOUR, label="All-large")
    axes.set_xlabel("Quality bar every task must meet")
    axes.set_ylabel("$ per day")
    axes.set_ylim(bottom=0)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(frameon=False, loc="center left")
    axes.set_title(
        f"Cost-quality frontier (area under curve {result.frontier.area_under_curve:.3f} of the all-large bill)",
        fontsize=10,
        loc="left",
    )
    return _svg(figure)
