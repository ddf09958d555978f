"""Fuzzing the loaders: random bytes, random text, random YAML documents, random spreadsheets and
random damage to real files. A loader either returns a validated object or raises `InputError`;
anything else (a KeyError from a parser, a TypeError from a validator) is a crash the user would see
as an internal error. Derandomized and bounded: the file runs in well under 20 s."""

from __future__ import annotations

import functools
import io
import itertools
import math
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from router_opt.errors import InputError, RouterOptError
from router_opt.frame import build_problem
from router_opt.io import load_catalog, load_policy, load_workload
from router_opt.io.loaders import WORKLOAD_COLUMNS

BASE = Path(__file__).parent / "data" / "base"
FUZZ = settings(
    derandomize=True,
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
_counter = itertools.count()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _file(workdir: Path, suffix: str, data: bytes | str) -> Path:
    path = workdir / f"f{next(_counter)}{suffix}"
    path.write_bytes(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data)
    return path


def _loads_or_input_error(loader, path: Path):
    """The loader's result, or None after an InputError that names the file. Anything else fails."""
    try:
        return loader(path)
    except InputError as exc:
        assert exc.problems and all(p.path == str(path) for p in exc.problems), exc
        assert all(str(p).strip() for p in exc.problems)
        return None


def _and_then_plans(workload) -> None:
    """A workload that loads either builds a problem against the base catalog or fails with one of
    router-opt's own errors."""
    if workload is None:
        return
    try:
        build_problem(load_catalog(BASE / "catalog.yaml"), workload, load_policy(BASE / "policy.yaml"))
    except RouterOptError:
        pass


# --------------------------------------------------------------------------------------------------
# Raw bytes and text into every loader and format.

LOADERS = [
    (load_workload, ".csv"),
    (load_workload, ".txt"),
    (load_workload, ".yaml"),
    (load_workload, ".xlsx"),
    (load_catalog, ".yaml"),
    (load_policy, ".yaml"),
]


@FUZZ
@given(st.sampled_from(LOADERS), st.binary(max_size=600))
def test_random_bytes(workdir, target, data):
    loader, suffix = target
    _loads_or_input_error(loader, _file(workdir, suffix, data))


@FUZZ
@given(st.sampled_from(LOADERS), st.text(max_size=400))
def test_random_text(workdir, target, text):
    loader, suffix = target
    _loads_or_input_error(loader, _file(workdir, suffix, text.replace("\x00", "")))


# --------------------------------------------------------------------------------------------------
# Text that gets past the parser: damaged copies of the real files, CSVs with the real header.


def _damaged(original: str):
    """The original with one span replaced by random text (YAML/CSV punctuation favoured)."""
    noise = st.lists(
        st.sampled_from(list(":,;-[]{}&*!|>'\"#\n\t 0123456789.eE+naif~") + ["nan", "inf", ".nan", "!!"]), max_size=8
    ).map("".join)
    return st.tuples(st.integers(0, len(original)), st.integers(0, 20), noise).map(
        lambda t: original[: t[0]] + t[2] + original[t[0] + t[1] :]
    )


@FUZZ
@given(st.data())
def test_damaged_real_files(workdir, data):
    name, loader = data.draw(
        st.sampled_from(
            [
                ("catalog.yaml", load_catalog),
                ("policy.yaml", load_policy),
                ("workload.csv", load_workload),
            ]
        )
    )
    text = data.draw(_damaged((BASE / name).read_text()))
    loaded = _loads_or_input_error(loader, _file(workdir, Path(name).suffix, text))
    if loader is load_workload:
        _and_then_plans(loaded)


CELL = st.one_of(
    st.sampled_from(
        ["", " ", "0", "-1", "1e308", "1e999", "nan", "-inf", "1,5", "3.0", "١٢", "0x10", "True", '"', "=1+1"]
    ),
    st.integers(-(10**6), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=8),
)


@FUZZ
@given(
    st.lists(st.sampled_from(list(WORKLOAD_COLUMNS) + ["extra", ""]), min_size=1, max_size=14),
    st.lists(st.lists(CELL, max_size=14), max_size=5),
    st.sampled_from([",", ";"]),
)
def test_csv_with_real_columns(workdir, header, rows, separator):
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator)
    writer.writerow(header)
    writer.writerows(rows)
    _and_then_plans(_loads_or_input_error(load_workload, _file(workdir, ".csv", buffer.getvalue().replace("\x00", ""))))


# --------------------------------------------------------------------------------------------------
# YAML documents of every shape, for the three YAML loaders.

SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(),
    st.text(max_size=10),
    st.dates(min_value=date(1, 1, 1)),
)
KEYS = st.sampled_from(
    [
        "name",
        "baseline",
        "models",
        "id",
        "tier",
        "provider",
        "quality",
        "usd_per_mtok",
        "input_usd_per_mtok",
        "prices_as_of",
        "quality_scale",
        "min",
        "max",
        "tasks",
        "headcount",
        "department",
        "default_min_quality",
        "vendor_caps",
        "budgets_usd_per_day",
        "source_path",
        "source_lines",
        "x",
    ]
)
DOCUMENT = st.recursive(
    SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.one_of(KEYS, st.integers(0, 3)), inner, max_size=5)
    ),
    max_leaves=25,
)


def _yaml_text(document) -> str:
    stream = io.StringIO()
    YAML(typ="safe", pure=True).dump(document, stream)
    return stream.getvalue()


@FUZZ
@given(DOCUMENT, st.sampled_from([load_catalog, load_policy, load_workload]))
def test_yaml_documents_of_any_shape(workdir, document, loader):
    loaded = _loads_or_input_error(loader, _file(workdir, ".yaml", _yaml_text(document)))
    if loader is load_workload:
        _and_then_plans(loaded)


@settings(FUZZ, max_examples=20)
@given(
    st.integers(0, 5000),
    st.sampled_from(["[", "{a: ", "- "]),
    st.sampled_from([load_catalog, load_policy, load_workload]),
)
def test_deeply_nested_yaml(workdir, depth, opener, loader):
    if opener == "- ":  # block style: one item per line, each indented further
        text = "models:\n" + "".join("  " * (i + 1) + "-\n" for i in range(min(depth, 300)))
    else:
        closer = {"[": "]", "{a: ": "}"}[opener]
        text = "name: " + opener * depth + "1" + closer * depth + "\n"
    _loads_or_input_error(loader, _file(workdir, ".yaml", text))


@FUZZ
@given(st.data())
def test_real_yaml_with_one_value_replaced(workdir, data):
    """Each catalog/policy value swapped for a value of another type or shape, where validators run."""
    name, loader = data.draw(st.sampled_from([("catalog.yaml", load_catalog), ("policy.yaml", load_policy)]))
    document = YAML(typ="safe", pure=True).load((BASE / name).read_text())
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, path + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, path + (i,))

    walk(document, ())
    where = data.draw(st.sampled_from(paths[1:]))
    target = document
    for part in where[:-1]:
        target = target[part]
    target[where[-1]] = data.draw(DOCUMENT)
    _loads_or_input_error(loader, _file(workdir, ".yaml", _yaml_text(document)))


# --------------------------------------------------------------------------------------------------
# Spreadsheets: random cell values under the real header, and damaged workbooks.

XLSX_CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=10),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
    st.sampled_from(["=1+1", "=A1", "nan", "inf", " 12 "]),
)


def _workbook_bytes(rows) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@settings(FUZZ, max_examples=40)
@given(st.lists(st.lists(XLSX_CELL, min_size=8, max_size=11), max_size=4), st.booleans())
def test_xlsx_with_random_cells(workdir, rows, real_header):
    header = list(WORKLOAD_COLUMNS[:10]) if real_header else [str(c) for c in rows[0]] if rows else []
    data = _workbook_bytes([header] + rows)
    _and_then_plans(_loads_or_input_error(load_workload, _file(workdir, ".xlsx", data)))


@functools.cache
def _good_workbook() -> bytes:
    """Made once: a workbook records when it was saved, and hypothesis needs the same bytes each run."""
    return _workbook_bytes([list(WORKLOAD_COLUMNS[:8])] + [["S", "R", 1, "T", "faq", 1, 1, 1]])


@settings(FUZZ, max_examples=40)
@given(st.data())
def test_damaged_xlsx(workdir, data):
    """A real workbook with bytes overwritten, or one of its zip members replaced by random bytes."""
    good = _good_workbook()
    if data.draw(st.booleans()):
        at = data.draw(st.integers(0, len(good) - 1))
        payload = good[:at] + data.draw(st.binary(min_size=1, max_size=16)) + good[at + 16 :]
    else:
        source = zipfile.ZipFile(io.BytesIO(good))
        victim = data.draw(st.sampled_from(source.namelist()))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as out:
            for item in source.namelist():
                content = source.read(item)
                if item == victim:
                    content = data.draw(st.one_of(st.binary(max_size=200), st.just(content[: len(content) // 2])))
                out.writestr(item, content)
        payload = buffer.getvalue()
    _and_then_plans(_loads_or_input_error(load_workload, _file(workdir, ".xlsx", payload)))


def test_fuzz_examples_are_real():
    """Guard against a fuzz test that silently tests nothing: the base files load."""
    assert load_workload(BASE / "workload.csv").tasks and load_catalog(BASE / "catalog.yaml").models
    assert not math.isnan(load_policy(BASE / "policy.yaml").default_min_quality)
