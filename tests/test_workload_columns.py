"""The column-at-a-time workload loader against the row-by-row one it speeds up.

A spreadsheet workload is validated one column at a time (one pydantic call per column) and kept as
columns for the engine; at the first fault the row-by-row path runs to name every problem. Here both
paths read the same random files: they must agree on every task, every column and every error."""

from __future__ import annotations

import csv
import io
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from router_opt.errors import InputError
from router_opt.frame import build_problem
from router_opt.io import load_catalog, load_policy, load_workload, loaders
from router_opt.models import TaskDemand, TaskRows, Workload

EXAMPLES = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
_counter = itertools.count()

# Per field: cells that are valid (some padded with spaces, some empty where the field is optional)
# and cells that are not (or not for this field).
VALID = {
    "department": ["Sales", " Sales ", "Legal"],
    "role": ["Rep", "Counsel", "Rep "],
    "headcount": ["3", " 3", "2.0"],
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
    "headcount": ["0", "2.5", "-1", "", "1_000", "1e3", "seven"],
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
    # Half the files are well formed (the column path must take them), half may have any cell,
    # short rows and headcounts that disagree within a role (the row path must name the faults).
    clean = draw(st.booleans())
    headcount_of_role: dict[tuple[str, str], str] = {}
    rows = []
    for i in range(draw(st.integers(1, 12))):
        pool = VALID if clean or draw(st.integers(0, 3)) else ANY
        row = {name: draw(st.sampled_from(pool[name])) for name in header}
        row["task"] = f"{row['task']}{i}"  # unique within the role
        if clean:  # a role has one headcount
            role = (row["department"].strip(), row["role"].strip())
            row["headcount"] = headcount_of_role.setdefault(role, row["headcount"])
        cells = [row[name] for name in header]
        if not clean and draw(st.integers(0, 9)) == 0:
            cells = cells[: draw(st.integers(1, len(cells)))]  # a short row
        rows.append(cells)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return clean, out.getvalue()


@EXAMPLES
@given(drawn=workload_files())
def test_column_loader_agrees_with_the_row_loader(tmp_path, drawn):
    clean, text = drawn
    path = tmp_path / f"w{next(_counter)}.csv"
    path.write_text(text)
    fast, fast_problems = _load(path, columns=True)
    slow, slow_problems = _load(path, columns=False)
    assert fast_problems == slow_problems
    assert (slow is not None) or not clean, slow_problems  # every well-formed file loads
    if slow is None:
        return
    assert fast.tasks._rows is None  # it came through the column path (no rows made yet)
    assert fast == slow
    assert [t.__dict__ for t in fast.tasks] == [t.__dict__ for t in slow.tasks]
    assert fast.source_lines == slow.source_lines
    # The columns the fast path kept are what gathering them from the rows gives.
    assert fast.columns() == slow.columns()
    assert slow.columns() == {name: [getattr(t, name) for t in slow.tasks] for name in TaskDemand.model_fields}


def _generated(tmp_path, n_rows=2000) -> Path:
    rows = ["department,role,headcount,task,task_type,invocations_per_day,input_tokens,output_tokens"]
    rows += [f"D{i % 7},R{i % 50},{1 + i % 50},T{i},faq,{i % 13}.5,{100 + i},{i % 90}" for i in range(n_rows)]
    path = tmp_path / "w.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_a_well_formed_file_is_solved_without_row_objects(tmp_path, monkeypatch):
    """A well-formed file goes through the column path, and building the problem reads columns
    only (else the speed-up silently vanishes): the TaskDemand rows are never made."""
    calls = []
    original = loaders._workload_by_columns
    monkeypatch.setattr(loaders, "_workload_by_columns", lambda *a: calls.append(1) or original(*a))
    workload = load_workload(_generated(tmp_path))
    assert calls == [1]
    root = Path(__file__).parent.parent
    catalog = load_catalog(root / "catalogs" / "seven-tiers-2025.yaml")
    problem = build_problem(catalog, workload, load_policy(root / "policies" / "default.yaml"))
    assert len(problem.tasks) == 2000 and workload.tasks._rows is None
    # Row 1 (line 3): D1,R1,2,T1,faq,1.5,101,1 -> 2 workers x 1.5 calls, 102 tokens a call.
    assert problem.tasks["invocations_per_day"][1] == 3.0 and problem.tasks["tokens_per_day"][1] == 3.0 * 102
    assert workload.tasks[1].invocations_per_day == 1.5 and workload.tasks[1].input_tokens == 101
    assert workload.where(1) == f"{tmp_path / 'w.csv'}:3"


def test_task_rows_behave_as_the_tuple_of_rows(tmp_path):
    import copy
    import pickle

    workload = load_workload(_generated(tmp_path, 30))
    tasks = workload.tasks
    assert len(tasks) == 30 and tasks._rows is None
    as_tuple = tuple(tasks)
    assert tasks == as_tuple and tasks == list(as_tuple) and hash(tasks) == hash(as_tuple)
    assert tasks[2:4] == as_tuple[2:4] and tasks[-1] is as_tuple[-1] and as_tuple[0] in tasks
    again = Workload(
        name=workload.name, tasks=as_tuple, source_path=workload.source_path, source_lines=workload.source_lines
    )
    assert again == workload and hash(again) == hash(workload)
    assert again.columns() == workload.columns()
    assert pickle.loads(pickle.dumps(workload)) == workload == copy.deepcopy(workload)
    fewer = workload.model_copy(update={"tasks": TaskRows(as_tuple[:3])})
    assert fewer.columns()["task"] == ["T0", "T1", "T2"] and len(workload.columns()["task"]) == 30
    assert Workload.model_validate_json(workload.model_dump_json()) == workload
    # Serialised as the tuple it stands for: include/exclude reach the rows, a tuple set by
    # model_copy(update=...) (which does not validate) dumps too.
    assert workload.model_dump(include={"tasks": {0: {"task"}}})["tasks"] == ({"task": "T0"},)
    assert "region" not in workload.model_dump(exclude={"tasks": {"__all__": {"region"}}})["tasks"][5]
    assert len(workload.model_copy(update={"tasks": as_tuple[:2]}).model_dump()["tasks"]) == 2
    assert tasks + as_tuple[:1] == as_tuple + as_tuple[:1] and as_tuple[:1] + tasks == as_tuple[:1] + as_tuple
    with pytest.raises(TypeError):
        TaskRows([{"task": "not validated"}])
    with pytest.raises(ValueError):
        TaskRows.from_columns({"task": ["a"]})


def test_problem_from_columns_equals_problem_from_rows():
    """build_problem reads columns; a workload made in code (rows, no columns yet) gives the same arrays."""
    root = Path(__file__).parent.parent
    catalog = load_catalog(root / "catalogs" / "seven-tiers-2025.yaml")
    policy = load_policy(root / "policies" / "default.yaml")
    loaded = load_workload(root / "workloads" / "enterprise-14-roles.csv")
    a = build_problem(catalog, loaded, policy)
    assert loaded.tasks._rows is None  # columns all along
    in_code = Workload.model_validate(loaded.model_dump())
    assert isinstance(in_code.tasks._rows, tuple)  # rows, columns gathered from them
    b = build_problem(catalog, in_code, policy)
    for name in ("min_quality", "has_bar", "invocations_per_day", "tokens_per_day", "max_latency_ms"):
        assert a.tasks[name].tolist() == pytest.approx(b.tasks[name].tolist(), nan_ok=True)
    assert np.array_equal(a.usd_per_day, b.usd_per_day) and (a.eligible == b.eligible).all()
