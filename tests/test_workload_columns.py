"""The column-at-a-time workload loader against the row-by-row one it speeds up.

A spreadsheet workload is validated one column at a time (one pydantic call per column) and kept as
columns for the engine; at the first fault the row-by-row path runs to name every problem. Here both
paths read the same random files: they must agree on every task, every column and every error."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router_opt.errors import InputError
from router_opt.frame import build_problem
from router_opt.io import load_catalog, load_policy, load_workload
from router_opt.io import loaders
from router_opt.models import TaskDemand, Workload

EXAMPLES = settings(
    derandomize=True, max_examples=150, deadline=None, database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
_counter = itertools.count()

# Per field: cells that are valid (some padded with spaces, some empty where the field is optional)
# and cells that are not (or not for this field).
VALID = {
    "department": ["Sales", " Sales ", "Legal"],
    "role": ["Rep", "Counsel", "Rep "],
    "headcount": ["3", " 3", "2.0", "1e3"],
    "task": ["FAQ", "Reply", "Triage "],
    "task_type": ["faq", "classification", "summarization"],
    "invocations_per_day": ["10", "0.5", " 2.25 ", "1e2"],
    "input_tokens": ["100", "0", "100.0"],
    "output_tokens": ["50", "7"],
    "min_quality": ["", "80", "90.5"],
    "complexity": ["", "simple", "hard"],
    "region": ["", "eu", "eu|us", " us "],
    "max_latency_ms": ["", "500"],
}
INVALID = {
    "department": ["", "x" * 201],
    "role": ["  "],
    "headcount": ["0", "2.5", "-1", "", "1_000", "seven"],
    "task": [""],
    "task_type": [""],
    "invocations_per_day": ["-1", "nan", "inf", "", "ten"],
    "input_tokens": ["-5", "", "1_0"],
    "output_tokens": ["3.5", ""],
    "min_quality": ["nan", "high"],
    "complexity": ["easy"],
    "region": [],
    "max_latency_ms": ["-1", "fast"],
}
ANY = {name: VALID[name] + INVALID[name] for name in VALID}


def _load(path: Path, columns: bool):
    """(Workload, None) or (None, the problems as text) through one path or the other."""
    if not columns:
        original = loaders._workload_by_columns
        loaders._workload_by_columns = lambda *args: None
    try:
        return load_workload(path), None
    except InputError as exc:
        return None, [str(p) for p in exc.problems]
    finally:
        if not columns:
            loaders._workload_by_columns = original


@st.composite
def workload_files(draw):
    optional = ["min_quality", "complexity", "region", "max_latency_ms"]
    header = list(loaders.WORKLOAD_REQUIRED) + draw(st.lists(st.sampled_from(optional), unique=True))
    header = draw(st.permutations(header))
    n_rows = draw(st.integers(1, 8))
    rows = []
    for i in range(n_rows):
        # Mostly valid rows (so the fast path is taken), sometimes any cell at all.
        pool = ANY if draw(st.integers(0, 4)) == 0 else VALID
        row = [draw(st.sampled_from(pool[name])) for name in header]
        row[header.index("task")] = f"{row[header.index('task')]}{i}"  # unique within the role, mostly
        if draw(st.integers(0, 9)) == 0:
            row = row[: draw(st.integers(1, len(row)))]  # a short row
        rows.append(row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@EXAMPLES
@given(text=workload_files())
def test_column_loader_agrees_with_the_row_loader(tmp_path, text):
    path = tmp_path / f"w{next(_counter)}.csv"
    path.write_text(text)
    fast, fast_problems = _load(path, columns=True)
    slow, slow_problems = _load(path, columns=False)
    assert fast_problems == slow_problems
    if slow is None:
        return
    assert fast == slow
    assert [t.__dict__ for t in fast.tasks] == [t.__dict__ for t in slow.tasks]
    assert fast.source_lines == slow.source_lines
    # The columns the fast path kept are what gathering them from the rows gives.
    assert fast.columns() == slow.columns()
    assert slow.columns() == {name: [getattr(t, name) for t in slow.tasks] for name in TaskDemand.model_fields}


def test_the_stress_sized_path_is_the_column_one(tmp_path, monkeypatch):
    """A well-formed file goes through the column path (else the speed-up silently vanishes)."""
    rows = ["department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens"]
    rows += [f"D{i % 7},R{i % 50},{1 + i % 50},T{i},faq,{i % 13}.5,{100 + i},{i % 90}" for i in range(2000)]
    path = tmp_path / "w.csv"
    path.write_text("\n".join(rows) + "\n")
    calls = []
    original = loaders._workload_by_columns
    monkeypatch.setattr(loaders, "_workload_by_columns", lambda *a: calls.append(1) or original(*a))
    workload = load_workload(path)
    assert calls == [1] and workload._columns.source is workload.tasks
    assert workload.tasks[1].invocations_per_day == 1.5 and workload.tasks[1].input_tokens == 101
    assert workload.columns()["headcount"][:3] == [1, 2, 3]


def test_columns_follow_the_tasks_and_stay_out_of_equality():
    base = Path(__file__).parent.parent / "workloads" / "enterprise-14-roles.csv"
    loaded, again = load_workload(base), load_workload(base)
    columns = loaded.columns()
    rebuilt = Workload(name=loaded.name, tasks=loaded.tasks, source_path=loaded.source_path,
                       source_lines=loaded.source_lines)
    assert rebuilt == loaded == again  # the kept columns are not part of the value
    fewer = loaded.model_copy(update={"tasks": loaded.tasks[:3]})
    assert fewer.columns()["task"] == [t.task for t in loaded.tasks[:3]]
    assert loaded.columns() == columns and len(columns["task"]) == len(loaded.tasks)
    with pytest.raises(ValueError):
        loaded.keep_columns({"task": columns["task"]})


def test_problem_from_kept_columns_equals_problem_from_rows():
    """build_problem reads columns; a workload made in code (no kept columns) gives the same arrays."""
    root = Path(__file__).parent.parent
    catalog = load_catalog(root / "catalogs" / "seven-tiers-2025.yaml")
    policy = load_policy(root / "policies" / "default.yaml")
    loaded = load_workload(root / "workloads" / "enterprise-14-roles.csv")
    in_code = Workload.model_validate(loaded.model_dump())
    assert in_code._columns.source is None
    a, b = build_problem(catalog, loaded, policy), build_problem(catalog, in_code, policy)
    for name in ("min_quality", "has_bar", "invocations_per_day", "tokens_per_day", "max_latency_ms"):
        assert a.tasks[name].tolist() == pytest.approx(b.tasks[name].tolist(), nan_ok=True)
    assert (a.usd_per_day == b.usd_per_day).all() and (a.eligible == b.eligible).all()
