"""The table rules through the library (the corpus in tests/data/hostile/tables runs them through the
CLI): capped problem lists, WorkloadOptions, header matching, notes as warnings."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from router_opt.errors import InputError, InputNote, Problem, render_problems
from router_opt.io.loaders import WorkloadOptions, load_workload

BASE = Path(__file__).parent / "data" / "base" / "workload.csv"


def test_problems_capped_per_kind_with_counts():
    problems = [
        Problem("w.csv", f"must be a whole number, got 'x{i}'", line=i, field="headcount") for i in range(2, 1002)
    ]
    problems += [Problem("w.csv", "is a formula (=A1)", line=7, field="task")]
    lines = render_problems(problems)
    assert lines[:3] == [f"w.csv:{i}: headcount: must be a whole number, got 'x{i}'" for i in (2, 3, 4)]
    assert "w.csv:7: task: is a formula (=A1)" in lines
    assert lines[-1].startswith("... and 997 more like this (w.csv: headcount: must be a whole number")
    assert len(lines) == 5
    assert str(InputError(problems)).count("\n") == 4


def test_map_and_case_insensitive_headers_read_the_same_tasks(tmp_path):
    text = BASE.read_text().replace("task_type", "Category").replace("headcount", " Head Count ")
    path = tmp_path / "w.csv"
    path.write_text(text)
    with pytest.raises(InputError, match="missing column"):
        load_workload(path)
    loaded = load_workload(path, WorkloadOptions(columns={"task_type": "category"}))
    assert loaded.tasks == load_workload(BASE).tasks


def test_title_row_is_skipped_with_a_note(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text("Workload for Q3,,\n\n" + BASE.read_text())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = load_workload(path)
    assert loaded.tasks == load_workload(BASE).tasks
    assert loaded.source_lines == (4, 5, 6)
    notes = [str(w.message) for w in caught if issubclass(w.category, InputNote)]
    assert notes == [
        f"{path}: the header is on line 3; 1 non-blank line(s) above it skipped (a title?); say so with --header-row 3"
    ]


def test_implausible_counts_refused_in_the_row_path(tmp_path):
    path = tmp_path / "w.csv"
    path.write_text(BASE.read_text().replace(",600,40,", ",600,10000001,", 1))
    with pytest.raises(InputError) as caught:
        load_workload(path)
    [problem] = caught.value.problems
    assert (problem.line, problem.field) == (2, "output_tokens")
    assert "10,000,000 tokens per call" in problem.message
