"""The bad-input corpus: every malformed file in tests/data/bad (and the binary, XLSX and oversized
ones generated here) goes through the real CLI, and must exit with code 2 and a message that names
the file, the line or row where the format has one, the field, what was wrong and what is allowed,
with no traceback. Expectations live in one manifest, tests/data/bad/expected.yaml.

Odd but valid inputs (a byte-order mark, semicolons, CRLF, quoted cells, YAML aliases...) are in
tests/data/odd and must load to exactly what the plain files in tests/data/base load to."""

from __future__ import annotations

import json
import os
import random
import tracemalloc
import zipfile
from datetime import datetime
from pathlib import Path

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from router_opt.cli import app
from router_opt.io import load_catalog, load_policy, load_workload

DATA = Path(__file__).parent / "data"
BAD, ODD, BASE = DATA / "bad", DATA / "odd", DATA / "base"
MANIFEST_PATH = BAD / "expected.yaml"
MANIFEST: dict = YAML(typ="safe", pure=True).load(MANIFEST_PATH.read_text())
BASE_FILES = {"catalog": "base/catalog.yaml", "workload": "base/workload.csv", "policy": "base/policy.yaml"}
runner = CliRunner()


# --------------------------------------------------------------------------------------------------
# Fixtures too binary or too big to commit, made on the fly (named in the manifest by `generate:`).

WORKLOAD_HEADER = [
    "department",
    "role",
    "headcount",
    "task",
    "task_type",
    "invocations_per_day",
    "input_tokens",
    "output_tokens",
    "min_quality",
    "complexity",
]
WORKLOAD_ROWS = [
    ["Support", "Agent", 10, "Ticket triage", "classification", 100, 600, 40, None, "simple"],
    ["Support", "Agent", 10, "FAQ answering", "faq", 80, 500, 200, None, None],
    ["Sales", "Rep", 4, "Call summary", "summarization", 20, 2000, 300, 88, None],
]


def _workbook(path: Path, rows: list[list], title: str = "Sheet", before: list[str] = (), charts: int = 0) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    for i, name in enumerate(before):
        book.create_sheet(name, i).append(["notes, not the workload"])
    for i in range(charts):
        book.create_chartsheet(f"Chart{i}", 0)
    book.save(path)


def _with(row: int, column: str, value) -> list[list]:
    rows = [list(r) for r in WORKLOAD_ROWS]
    rows[row][WORKLOAD_HEADER.index(column)] = value
    return [WORKLOAD_HEADER] + rows


def _sparse(path: Path, size: int) -> None:
    with open(path, "wb") as handle:  # a hole: no disk space, no memory, but st_size says `size`
        handle.truncate(size)


GENERATORS = {
    "binary": lambda p: p.write_bytes(bytes(range(256)) * 8),
    "random-bytes": lambda p: p.write_bytes(random.Random(7).randbytes(4096)),
    "latin-1": lambda p: p.write_bytes(
        (BASE / ("catalog.yaml" if p.suffix == ".yaml" else "workload.csv"))
        .read_text()
        .replace("Google", "Göögle")
        .replace("Agent", "Agént")
        .encode("latin-1")
    ),
    "utf-16": lambda p: p.write_bytes((BASE / "workload.csv").read_text().encode("utf-16")),
    "csv-huge-cell": lambda p: p.write_text(
        (BASE / "workload.csv").read_text().replace("Ticket triage", "Ticket triage " + "x" * 200_000)
    ),
    "directory": lambda p: p.mkdir(),
    "missing": lambda p: None,
    "oversized": lambda p: _sparse(p, 201 * 2**20),
    "xlsx-formula": lambda p: _workbook(p, _with(1, "invocations_per_day", "=40*2")),
    "xlsx-text-number": lambda p: _workbook(p, _with(2, "input_tokens", "2k")),
    "xlsx-date-number": lambda p: _workbook(p, _with(0, "invocations_per_day", datetime(2026, 1, 15))),
    "xlsx-negative": lambda p: _workbook(p, _with(2, "output_tokens", -300)),
    "xlsx-unknown-task-type": lambda p: _workbook(p, _with(0, "task_type", "clasification")),
    "xlsx-missing-column": lambda p: _workbook(p, [r[:5] + r[6:] for r in _with(0, "task", "Ticket triage")]),
    "xlsx-header-only": lambda p: _workbook(p, [WORKLOAD_HEADER]),
    "xlsx-empty-sheet": lambda p: _workbook(p, []),
    "xlsx-row-wider-than-header": lambda p: _workbook(
        p, _with(1, "complexity", "medium")[:2] + [WORKLOAD_ROWS[1] + ["extra"]]
    ),
    "xlsx-blank-header-cell": lambda p: _workbook(
        p, [WORKLOAD_HEADER[:3] + [None] + WORKLOAD_HEADER[3:]] + [r[:3] + ["x"] + r[3:] for r in WORKLOAD_ROWS]
    ),
    "xlsx-chart-sheet-first": lambda p: _workbook(p, _with(0, "task", "Ticket triage"), charts=1),
    "xlsx-zip-not-workbook": lambda p: zipfile.ZipFile(p, "w").writestr("readme.txt", "not a workbook"),
    "xlsx-csv-text": lambda p: p.write_text((BASE / "workload.csv").read_text()),
}


# --------------------------------------------------------------------------------------------------
# The corpus.


def _kind(name: str) -> str:
    return name.split("-", 1)[0].split(".", 1)[0]


def _cases() -> list[tuple[str, str]]:
    cases = []
    for name, entry in MANIFEST.items():
        for command in ("optimize", "validate"):
            if entry.get(command, entry.get("expect")) != "skip":
                cases.append((name, command))
    return cases


def _run(name: str, command: str, tmp_path: Path) -> tuple[str, object]:
    entry = MANIFEST[name]
    if "generate" in entry:
        target = tmp_path / name
        GENERATORS[entry["generate"]](target)
        path = str(target)
    else:
        path = f"bad/{name}"
    files = BASE_FILES | {_kind(name): path}
    if command == "optimize":
        args = ["optimize", "-c", files["catalog"], "-w", files["workload"], "-p", files["policy"], "-f", "json"]
    else:
        args = ["validate", files["catalog"], files["workload"], files["policy"]]
    return path, runner.invoke(app, args)


@pytest.mark.parametrize(("name", "command"), _cases(), ids=[f"{c}:{n}" for n, c in _cases()])
def test_bad_input_is_refused_with_its_message(name, command, tmp_path, monkeypatch):
    monkeypatch.chdir(DATA)
    monkeypatch.delenv("ROUTER_OPT_DEBUG", raising=False)
    entry = MANIFEST[name]
    path, result = _run(name, command, tmp_path)
    output = result.output
    assert result.exit_code == 2, output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in output and "internal error" not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1, output  # one error report, after any `ok` lines of validate
    expected = entry.get(command, entry.get("expect"))
    for text in expected:
        assert text.replace("{path}", path).replace("{workload}", BASE_FILES["workload"]) in output, output
    if entry.get("infeasible"):
        assert "cannot be served at their quality threshold" in output or "No routing plan satisfies" in output
    else:
        assert path in output  # the message names the file


def test_the_manifest_covers_the_corpus():
    committed = {p.name for p in BAD.iterdir()} - {MANIFEST_PATH.name}
    listed = {name for name, entry in MANIFEST.items() if "generate" not in entry}
    assert committed == listed, (committed - listed, listed - committed)
    assert {e["generate"] for e in MANIFEST.values() if "generate" in e} <= set(GENERATORS)
    assert len(MANIFEST) >= 45
    for name, entry in MANIFEST.items():
        assert _kind(name) in BASE_FILES, name
        assert entry.get("expect") or (entry.get("optimize") and entry.get("validate")), name
        assert entry.get("why"), f"{name}: say what the file gets wrong"


def test_every_committed_bad_file_is_small_text():
    for path in set(BAD.iterdir()) - {MANIFEST_PATH}:
        data = path.read_bytes()
        assert len(data) < 4096 and b"\x00" not in data, path


# --------------------------------------------------------------------------------------------------
# Odd but valid.

ODD_WORKLOADS = sorted(p.name for p in ODD.iterdir() if p.name.startswith("workload"))


@pytest.mark.parametrize("name", ODD_WORKLOADS)
def test_odd_workload_loads_like_the_plain_one(name):
    assert load_workload(ODD / name).tasks == load_workload(BASE / "workload.csv").tasks


@pytest.mark.parametrize("name", sorted(p.name for p in ODD.iterdir() if not p.name.startswith("workload")))
def test_odd_catalog_or_policy_loads_like_the_plain_one(name):
    if name.startswith("catalog"):
        assert load_catalog(ODD / name) == load_catalog(BASE / "catalog.yaml")
    else:
        assert load_policy(ODD / name).model_dump(exclude={"source_path"}) == load_policy(
            BASE / "policy.yaml"
        ).model_dump(exclude={"source_path"})


@pytest.mark.parametrize(
    "make",
    [
        lambda p: _workbook(p, [WORKLOAD_HEADER] + WORKLOAD_ROWS),
        lambda p: _workbook(p, [WORKLOAD_HEADER] + WORKLOAD_ROWS, title="workload", before=["Notes", "Prices"]),
        lambda p: _workbook(p, [[], [f"  {h} " for h in WORKLOAD_HEADER]] + WORKLOAD_ROWS),  # blank row, padded names
        lambda p: _workbook(p, [WORKLOAD_HEADER] + [r[:6] + [float(r[6]), float(r[7])] + r[8:] for r in WORKLOAD_ROWS]),
    ],
    ids=["plain", "named-sheet-not-first", "blank-first-row-padded-header", "whole-floats-as-tokens"],
)
def test_odd_xlsx_workload_loads_like_the_plain_one(make, tmp_path):
    path = tmp_path / "w.xlsx"
    make(path)
    assert load_workload(path).tasks == load_workload(BASE / "workload.csv").tasks


def test_odd_files_optimize_to_the_same_plan(monkeypatch):
    monkeypatch.chdir(DATA)

    def totals(catalog, workload, policy):
        result = runner.invoke(app, ["optimize", "-c", catalog, "-w", workload, "-p", policy, "-f", "json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.output)["totals"]

    plain = totals(*BASE_FILES.values())
    assert (
        totals("odd/catalog-bom-crlf.yaml", "odd/workload-bom-semicolon-crlf.csv", "odd/policy-comments-crlf.yaml")
        == plain
    )
    assert totals("odd/catalog-anchors.yaml", "odd/workload.yml", "base/policy.yaml") == plain


# --------------------------------------------------------------------------------------------------
# "A 1 GB file": refused from its size, before anything is read.


def test_oversized_input_is_refused_without_reading_it(tmp_path, monkeypatch):
    huge = tmp_path / "huge.csv"
    _sparse(huge, 2**30)  # 1 GiB on paper, nothing on disk
    tracemalloc.start()
    try:
        result = runner.invoke(app, ["validate", "-c", str(BASE / "catalog.yaml"), str(huge)])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.exit_code == 2, result.output
    assert f"{huge}: file is 1,024.0 MiB; router-opt reads inputs up to 200.0 MiB" in result.output
    assert peak < 32 * 2**20, f"peak {peak / 2**20:.1f} MiB"

    # The same refusal at a limit below a real file's size, for every input kind and format.
    from router_opt.io import text

    monkeypatch.setattr(text, "MAX_INPUT_BYTES", 64)
    monkeypatch.chdir(DATA)
    for path in BASE_FILES.values():
        result = runner.invoke(app, ["validate", path])
        assert result.exit_code == 2, result.output
        size = os.path.getsize(path)
        assert f"{path}: file is {size:,} bytes; router-opt reads inputs up to 64 bytes" in result.output
    book = tmp_path / "w.xlsx"
    _workbook(book, [WORKLOAD_HEADER] + WORKLOAD_ROWS)
    result = runner.invoke(app, ["validate", str(book)])
    assert result.exit_code == 2 and "router-opt reads inputs up to 64 bytes" in result.output


def test_readme_error_example_is_real(monkeypatch):
    """README 'Trust' quotes a validate run on two corpus files; it must be what the CLI prints."""
    monkeypatch.chdir(DATA.parents[1])
    readme = (DATA.parents[1] / "README.md").read_text()
    command = "router-opt validate tests/data/bad/catalog-price-text.yaml tests/data/bad/workload-many-problems.csv"
    block = readme.split(f"$ {command}\n", 1)[1].split("```", 1)[0]
    result = runner.invoke(app, command.split()[1:])
    assert result.exit_code == 2
    assert result.output == block


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_non_finite_min_quality_option_is_refused(value):
    result = runner.invoke(app, ["optimize", f"--min-quality={value}"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"error: --min-quality must be a finite number on the catalog's quality scale, got {value}" in result.output
