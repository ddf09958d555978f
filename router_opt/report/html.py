"""One self-contained HTML file: inline CSS, charts as inline SVG, nothing fetched. One small inline
script makes the whole task table sortable (click a header) and filterable (type in the box); the
page reads the same without it. `#sort=COL-asc|desc` and `#filter=TEXT` in the address apply a sort or
filter on load (the browser test uses them), and the table records how long its last sort took in
`data-sort-ms`."""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from router_opt import formatting as fmt
from router_opt.report.charts import department_chart, frontier_chart, tier_mix_chart
from router_opt.report.plan import headline, sections
from router_opt.report.text import Section

if TYPE_CHECKING:
    from router_opt.result import Result

STYLE = """
:root { --ink: #1c2733; --muted: #5b6b7b; --line: #d9e0e6; --accent: #1f3b57; --warm: #e07b39; }
* { box-sizing: border-box; }
body { font: 14px/1.45 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; color: var(--ink);
       margin: 0 auto; max-width: 1100px; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; color: var(--accent); }
h2 { font-size: 16px; margin: 28px 0 8px; color: var(--accent); border-bottom: 2px solid var(--line); padding-bottom: 4px; }
.sub { color: var(--muted); margin: 0 0 16px; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 16px 0 8px; }
.card { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.card .label { color: var(--muted); font-size: 12px; }
.card .value { font-size: 22px; font-weight: 600; }
.card.warm .value { color: var(--warm); }
.charts { display: grid; grid-template-columns: 1fr; gap: 8px; }
.charts svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #f3f6f9; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr.total td { font-weight: 700; border-top: 2px solid var(--ink); }
.note { color: var(--muted); font-size: 12px; }
#tasks th { cursor: pointer; user-select: none; }
#tasks tbody tr { content-visibility: auto; contain-intrinsic-size: auto 25px; }
#task-filter { margin: 4px 0 6px; padding: 4px 6px; width: 320px; max-width: 100%; }
@media print {
  body { max-width: none; padding: 0; font-size: 11px; }
  .cards { grid-template-columns: repeat(4, 1fr); }
  h2 { break-after: avoid; }
  table, svg { break-inside: avoid; }
}
"""


def _table(section: Section) -> str:
    head = "".join(
        f'<th class="num">{escape(h)}</th>' if i in section.right_aligned else f"<th>{escape(h)}</th>"
        for i, h in enumerate(section.headers)
    )
    body = []
    for j, row in enumerate(section.rows):
        total = section.total_row and j == len(section.rows) - 1
        cells = "".join(
            f'<td class="num">{escape(c)}</td>' if i in section.right_aligned else f"<td>{escape(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f'<tr class="total">{cells}</tr>' if total else f"<tr>{cells}</tr>")
    return (
        f"<h2>{escape(section.title)}</h2>\n<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


# Sort and filter the task table. Numbers sort by the full-precision value in data-v, text by its text.
SCRIPT = """
(function () {
  var table = document.getElementById("tasks"), body = table.tBodies[0], box = document.getElementById("task-filter");
  var heads = table.tHead.rows[0].cells;
  function sort(col, desc) {
    var started = performance.now(), numeric = heads[col].classList.contains("num");
    var rows = Array.prototype.slice.call(body.rows);
    var keys = rows.map(function (r) { var c = r.cells[col]; return numeric ? parseFloat(c.dataset.v) : c.textContent; });
    var order = rows.map(function (_, i) { return i; });
    order.sort(function (a, b) {
      var x = keys[a], y = keys[b], r = numeric ? x - y : (x < y ? -1 : x > y ? 1 : 0);
      return (desc ? -r : r) || a - b;
    });
    var frag = document.createDocumentFragment();
    order.forEach(function (i) { frag.appendChild(rows[i]); });
    body.appendChild(frag);
    table.dataset.sorted = col + (desc ? "-desc" : "-asc");
    table.dataset.sortMs = String(Math.round(performance.now() - started));
  }
  Array.prototype.forEach.call(heads, function (th, i) {
    th.title = "Sort";
    th.addEventListener("click", function () { sort(i, table.dataset.sorted !== i + "-desc"); });
  });
  function filter() {
    var q = box.value.toLowerCase();
    Array.prototype.forEach.call(body.rows, function (r) {
      r.style.display = r.textContent.toLowerCase().indexOf(q) < 0 ? "none" : "";
    });
  }
  box.addEventListener("input", filter);
  var s = /sort=(\\d+)-(asc|desc)/.exec(location.hash);
  if (s) { sort(+s[1], s[2] === "desc"); }
  var f = /filter=([^&]*)/.exec(location.hash);
  if (f) { box.value = decodeURIComponent(f[1]); filter(); }
})();
"""


def _task_table(result: Result) -> str:
    """Every task (not only the top ones): plan, all-large and, with --actual, today."""
    today = {}
    if result.actual is not None:
        today = {(t.department, t.role, t.task): t.actual_usd_per_day for t in result.actual.tasks}
    headers = ["Department", "Role", "Task", "Task type", "Model", "Tier"]
    numeric = ["Invocations/day", "$/invocation", "Optimal $/day", "All-large $/day", "Savings $/day"]
    if today:
        numeric += ["Today $/day", "Savings vs today $/day"]
    head = "".join(f"<th>{escape(h)}</th>" for h in headers) + "".join(
        f'<th class="num">{escape(h)}</th>' for h in numeric
    )
    rows = []
    for t in result.tasks:
        values = [t.invocations_per_day, t.usd_per_invocation, t.usd_per_day, t.baseline_usd_per_day]
        values.append(t.baseline_usd_per_day - t.usd_per_day)
        shown = [fmt.count(round(t.invocations_per_day)), fmt.usd(t.usd_per_invocation), fmt.usd(t.usd_per_day),
                 fmt.usd(t.baseline_usd_per_day), fmt.usd(t.baseline_usd_per_day - t.usd_per_day)]  # fmt: skip
        if today:
            actual = today[(t.department, t.role, t.task)]
            values += [actual, actual - t.usd_per_day]
            shown += [fmt.usd(actual), fmt.usd(actual - t.usd_per_day)]
        text = "".join(f"<td>{escape(c)}</td>" for c in (t.department, t.role, t.task, t.task_type, t.model, t.tier))
        numbers = "".join(
            f'<td class="num" data-v="{v!r}">{escape(c)}</td>' for v, c in zip(values, shown, strict=True)
        )
        rows.append(f"<tr>{text}{numbers}</tr>")
    return (
        f"<h2>All {fmt.count(len(result.tasks))} tasks (click a header to sort)</h2>\n"
        '<input id="task-filter" type="search" placeholder="Filter tasks: department, role, task, model..." '
        'aria-label="Filter tasks">\n'
        f'<table id="tasks"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _assumptions(result: Result) -> str:
    rows = "".join(
        f"<tr><td>{escape(m.id)}</td><td>{escape(m.tier)}</td><td>{escape(m.provider)}</td>"
        f'<td class="num">{escape(fmt.usd(m.input_usd_per_mtok))}</td><td class="num">{escape(fmt.usd(m.output_usd_per_mtok))}</td>'
        f"<td>{'<br>'.join(escape(s) for s in m.sources) or 'no source given'}</td></tr>"
        for m in result.models
    )
    return (
        "<h2>Assumptions: prices and where they come from</h2>"
        '<table><thead><tr><th>Model</th><th>Tier</th><th>Provider</th><th class="num">Input $/M tok</th>'
        f'<th class="num">Output $/M tok</th><th>Sources</th></tr></thead><tbody>{rows}</tbody></table>'
    )


def to_html(result: Result, top: int = 10, explain: bool = False) -> str:
    """The report as one HTML page (open it in any browser, print it, or attach it to an email)."""
    t, s = result.totals, result.settings
    cards = [
        ("Optimal cost", f"{fmt.usd(t.optimal_usd_per_day)}/day", ""),
        ("All-large cost", f"{fmt.usd(t.baseline_usd_per_day)}/day", ""),
        ("Savings per year", fmt.usd(t.savings_usd_per_year), "warm"),
        ("Overspend of all-large", fmt.ratio(t.overspend_ratio), "warm"),
    ]
    if result.actual is not None:
        a = result.actual
        cards[:0] = [
            ("Today's cost", f"{fmt.usd(a.actual_usd_per_day)}/day", ""),
            ("Savings vs today per year", fmt.usd(a.savings_vs_actual_usd_per_year), "warm"),
        ]
    card_html = "".join(
        f'<div class="card {cls}"><div class="label">{escape(label)}</div><div class="value">{escape(value)}</div></div>'
        for label, value, cls in cards
    )
    tables = "\n".join(_table(section) for section in sections(result, top, explain))
    title = f"router-opt plan: {s.workload}"
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title>
<style>{STYLE}</style>
</head>
<body>
<h1>{escape(title)}</h1>
<p class="sub">{escape(headline(result).removeprefix("router-opt plan · "))}</p>
<div class="cards">{card_html}</div>
{"".join(f'<p class="note"><strong>Warning:</strong> {escape(w)}</p>' for w in result.warnings)}
<p class="note">Optimal: each task on the cheapest model that meets its quality bar{" and every constraint" if result.constraints else ""}.
All-large: every task on {escape(s.baseline_model)} ({escape(s.baseline_tier)}). Figures are per day unless marked; a year is {s.days_per_year} days.</p>
<div class="charts">
<figure>{department_chart(result)}</figure>
<figure>{tier_mix_chart(result)}</figure>
{f"<figure>{frontier_chart(result)}</figure>" if result.frontier is not None else ""}
</div>
{tables}
{_task_table(result)}
{_assumptions(result)}
<p class="note">Generated by router-opt ({escape(s.solver)}). Schema {escape(result.schema_version)}.</p>
<script>{SCRIPT}</script>
</body>
</html>
"""
