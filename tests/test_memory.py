"""Memory (issue 19): the per-(task, model) figures computed when read (frame.PairValues) are bit for
bit the stored T x M matrices they replaced, in every form the code indexes them; the passes made a
block of task rows at a time (exclusions, dominance) equal the whole-matrix ones; and the shipped
path's peak memory per pair stays under a bound measured on the stress case's shape."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import numpy as np
import pytest
from pydantic import BaseModel, ConfigDict

from router_opt import frame
from router_opt.engine import Objective, dominated_candidates
from router_opt.frame import (
    BELOW_THRESHOLD,
    CONTEXT,
    ELIGIBLE,
    LATENCY,
    NOT_RATED,
    REGION,
    TOKENS_PER_MTOK,
    Mode,
    build_problem,
)
from router_opt.io import load_catalog, load_policy, load_workload
from router_opt.models import Catalog, ModelSpec, Policy, Workload, parse_regions
from router_opt.result.columns import RowTable, RowTableField

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = ROOT / "benchmarks"
MIB = 2**20


def _bench_cases():
    spec = importlib.util.spec_from_file_location("bench_cases", BENCHMARKS / "bench_cases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


def _generated(tmp_path, tasks: int, models: int, seed: int):
    cases = _bench_cases()
    files = cases.generate(cases.CaseSpec("mem", tasks, models, 5, 10, capacity=True, seed=seed), tmp_path / "case")
    return load_catalog(files.catalog), load_workload(files.workload), load_policy(files.policy)


def _random_limits(seed: int, n_tasks: int = 400, n_models: int = 12) -> tuple[Catalog, Workload, Policy]:
    """Every exclusion reason at once: unrated types, regions (per row and per department),
    context windows and latency limits, some left out; bars that some models miss."""
    rng = np.random.default_rng(seed)
    types = ["chat", "code", "sql", "summary"]
    regions = ["eu", "us", "uk"]
    specs = []
    for m in range(n_models):
        rated = [t for t in types if rng.random() < 0.8] or ["chat"]
        specs.append(
            ModelSpec(
                id=f"m{m}",
                tier="Commercial Small",
                provider=f"p{m % 3}",
                input_usd_per_mtok=float(rng.choice([0.1, 0.3, 1.0, 2.5, 3.0])),
                output_usd_per_mtok=float(rng.choice([0.2, 0.6, 4.0, 10.0])),
                quality={t: float(rng.integers(40, 100)) for t in rated},
                context_window=None if rng.random() < 0.3 else int(rng.choice([4_000, 32_000, 128_000])),
                latency_ms=None if rng.random() < 0.3 else float(rng.choice([300, 900, 2500])),
                regions=None if rng.random() < 0.2 else tuple(rng.choice(regions, rng.integers(1, 3), replace=False)),
            )
        )
    # The baseline serves every task (all types, every region, no latency or context figure), so
    # every draw is servable and the other models' exclusions are what is compared.
    specs[0] = specs[0].model_copy(
        update={
            "quality": dict.fromkeys(types, 99.0),
            "regions": tuple(regions),
            "latency_ms": None,
            "context_window": None,
        }
    )
    catalog = Catalog(name="limits", prices_as_of="2025-01-01", baseline="m0", models=tuple(specs))
    rows = [
        {
            "department": f"D{t % 3}",
            "role": f"R{t % 7}",
            "headcount": 1 + (t % 7),
            "task": f"t{t}",
            "task_type": str(rng.choice(types)),
            "invocations_per_day": float(rng.integers(0, 200)) / 4,
            "input_tokens": int(rng.choice([100, 5_000, 50_000])),
            "output_tokens": int(rng.integers(0, 3_000)),
            "min_quality": None if rng.random() < 0.3 else float(rng.integers(30, 95)),
            "region": None if rng.random() < 0.7 else str(rng.choice(["eu", "us|uk"])),
            "max_latency_ms": None if rng.random() < 0.6 else float(rng.choice([500, 1000, 3000])),
        }
        for t in range(n_tasks)
    ]
    policy = Policy(allowed_regions_by_department={"D1": ("eu",)})
    return catalog, Workload(tasks=rows), policy


def _dense(problem) -> dict[str, np.ndarray]:
    """The stored matrices as build_problem made them before issue 19, from the problem's own task
    and model tables and catalog."""
    tasks, models = problem.tasks, problem.models
    usd_per_invocation = np.outer(tasks["input_tokens"].astype(float), models["input_usd_per_mtok"] / TOKENS_PER_MTOK)
    usd_per_invocation += np.outer(
        tasks["output_tokens"].astype(float), models["output_usd_per_mtok"] / TOKENS_PER_MTOK
    )
    names = problem.catalog.task_types
    type_quality = np.array([[m.quality.get(n, np.nan) for m in problem.catalog.models] for n in names], dtype=float)
    position = {n: k for k, n in enumerate(names)}
    quality = type_quality[[position[t] for t in tasks["task_type"]]]
    return {
        "usd_per_invocation": usd_per_invocation,
        "usd_per_day": usd_per_invocation * tasks["invocations_per_day"][:, None],
        "quality": quality,
    }


def _dense_exclusions(problem, policy: Policy) -> tuple[np.ndarray, np.ndarray]:
    """frame._exclusions as it was before issue 19: whole T x M masks at once."""
    tasks, models, quality = problem.tasks, problem.models, _dense(problem)["quality"]
    columns = problem.workload.columns()
    by_department = {d: frozenset(r) for d, r in policy.allowed_regions_by_department.items()}
    allowed = [
        parse_regions(r) if r is not None else by_department.get(d)
        for r, d in zip(columns["region"], columns["department"])
    ]
    in_region = np.array(
        [
            [
                True if a is None else (m.regions is not None and bool(a & set(m.regions)))
                for m in problem.catalog.models
            ]
            for a in allowed
        ]
    )
    rated = ~np.isnan(quality)
    above = quality >= tasks["min_quality"][:, None]
    context = models["context_window"]
    fits_context = np.isnan(context)[None, :] | (tasks["input_tokens"][:, None] <= context[None, :])
    limit, latency = tasks["max_latency_ms"], models["latency_ms"]
    fast_enough = np.isnan(limit)[:, None] | np.isnan(latency)[None, :] | (latency[None, :] <= limit[:, None])
    excluded = np.full(quality.shape, ELIGIBLE, dtype=np.uint8)
    meets = rated & above
    if problem.mode is not Mode.BLENDED:
        excluded[~above] = BELOW_THRESHOLD
    for mask, reason in ((fast_enough, LATENCY), (fits_context, CONTEXT), (in_region, REGION)):
        excluded[~mask] = reason
        meets &= mask
    excluded[~rated] = NOT_RATED
    return excluded, meets


def _same_bits(lazy, dense) -> bool:
    a, b = np.asarray(lazy), np.asarray(dense)
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a.view(np.uint64), b.view(np.uint64))


def _keys(problem, rng) -> list:
    """Every form of index the engine, the result and the tests use on the pair figures."""
    n_tasks, n_models = problem.eligible.shape
    t_idx = rng.integers(-n_tasks, n_tasks, 500)
    m_idx = rng.integers(-n_models, n_models, 500)
    rows = rng.integers(0, n_tasks, 40)
    cols = rng.integers(0, n_models, 7)
    return [
        (t_idx, m_idx),
        (t_idx[:20, None], m_idx[None, :9]),
        (3, 5),
        (np.int64(n_tasks - 1), np.intp(0)),
        (-1, -1),
        7,
        rows,
        (rows, slice(None)),
        rng.random(n_tasks) < 0.3,
        (rng.random(n_tasks) < 0.3, 3),
        slice(5, 60, 3),
        (slice(None), 2),
        (slice(None), -1),
        (slice(2, 40), cols),
        (rows, slice(1, 5)),
        (slice(None), slice(None)),
        problem.eligible,
        [1, 2, 3],
    ]


@pytest.mark.parametrize("block_pairs", [None, 1])
def test_pair_figures_are_the_stored_matrices_bit_for_bit(tmp_path, monkeypatch, block_pairs):
    catalog, workload, policy = _generated(tmp_path, tasks=3_000, models=60, seed=11)
    if block_pairs is not None:  # one task row per block: every block edge at once
        monkeypatch.setattr(frame, "BLOCK_PAIRS", block_pairs)
    for mode in Mode:
        problem = build_problem(catalog, workload, policy, mode=mode)
        dense = _dense(problem)
        rng = np.random.default_rng(5)
        for name, matrix in dense.items():
            lazy = getattr(problem, name)
            assert lazy.shape == matrix.shape
            assert _same_bits(lazy.dense(), matrix) and _same_bits(np.asarray(lazy), matrix)
            for key in _keys(problem, rng):
                assert _same_bits(lazy[key], matrix[key]), (name, key)
        baseline = problem.baseline_index
        assert _same_bits(problem.baseline_usd_per_day, dense["usd_per_day"][:, baseline])


def test_contract_prices_and_robust_quality_bit_for_bit():
    """Committed spend's discounted prices, and a robust plan's point quality (uncertainty)."""
    example = ROOT / "examples" / "committed-spend"
    catalog, policy = load_catalog(example / "catalog.yaml"), load_policy(example / "policy.yaml")
    problem = build_problem(catalog, load_workload(example / "workload.csv"), policy)
    dense = _dense(problem)
    for name in dense:
        assert _same_bits(getattr(problem, name), dense[name])

    from router_opt.plan import load_inputs
    from router_opt.uncertainty import robust_problem

    inputs = load_inputs(ROOT / "examples" / "uncertainty" / "catalog.yaml")
    robust = robust_problem(inputs, 0.9)
    assert _same_bits(robust.quality, _dense(robust)["quality"])


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", list(Mode))
def test_blocked_exclusions_equal_the_whole_matrix(monkeypatch, seed, mode):
    catalog, workload, policy = _random_limits(seed)
    monkeypatch.setattr(frame, "BLOCK_PAIRS", 5 * len(catalog.models))  # blocks of 5 tasks, a short last one
    problem = build_problem(catalog, workload, policy, mode=mode)
    excluded, meets = _dense_exclusions(problem, policy)
    assert np.array_equal(problem.excluded, excluded)
    assert np.array_equal(problem.meets_threshold, meets)
    assert np.array_equal(problem.eligible, excluded == ELIGIBLE)
    assert {int(r) for r in np.unique(excluded)} >= {ELIGIBLE, REGION, LATENCY, CONTEXT}


@pytest.mark.parametrize("mode", [Mode.STRICT, Mode.BLENDED])
@pytest.mark.parametrize("objective", list(Objective))
def test_blocked_dominance_equals_one_block(tmp_path, monkeypatch, mode, objective):
    catalog, workload, policy = _generated(tmp_path, tasks=2_000, models=40, seed=4)
    problem = build_problem(catalog, workload, policy, mode=mode)
    monkeypatch.setattr(frame, "BLOCK_PAIRS", 10**12)
    whole = dominated_candidates(problem, objective)
    monkeypatch.setattr(frame, "BLOCK_PAIRS", 7 * 40)  # blocks of 7 tasks
    assert np.array_equal(dominated_candidates(problem, objective), whole)
    assert whole.any()


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    figure: float
    count: int
    maybe: float | None = None
    names: tuple[str, ...] = ()


class _Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    title: str = "t"
    rows: Annotated[tuple[_Row, ...], RowTableField()]


def _row_table(kind: str, n: int) -> RowTable:
    figures = np.linspace(-3.0, 3.0, n) / 7
    figures[5] = -0.0
    columns = {
        "name": np.array([f'é{i}"\n' for i in range(n)], dtype=object),
        "figure": figures,
        "count": np.arange(n) * 10**12,
        "maybe": figures * 2,
        "names": [()] * n,
    }
    if kind == "non-finite":
        figures[[3, 9, 30]] = [np.inf, -np.inf, np.nan]
    if kind == "tuples":
        columns["maybe"] = [None if i % 3 else i / 7 for i in range(n)]
        columns["names"] = [("a", "b") if i % 2 else () for i in range(n)]
    if kind == "tuples":
        return RowTable(_Row, columns)
    return RowTable(_PlainRow, {name: column for name, column in columns.items() if name != "names"})


class _PlainRow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    figure: float
    count: int
    maybe: float


class _PlainTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    rows: Annotated[tuple[_PlainRow, ...], RowTableField()]


@pytest.mark.parametrize("kind", ["plain", "non-finite", "tuples"])
def test_row_tables_serialise_as_the_tuple_of_their_rows(monkeypatch, kind):
    """A RowTable (columns) in a result serialises to the same JSON and Python objects as the tuple
    of its rows, made a chunk at a time (several chunks here): as each row's values when it holds
    only text, whole numbers and finite floats, else through the rows' own schema."""
    from router_opt.result import columns as result_columns

    monkeypatch.setattr(result_columns, "CHUNK_ROWS", 7)
    n = 40
    table = _row_table(kind, n)
    assert table.plain() is (kind == "plain")
    lazy = (_Table if kind == "tuples" else _PlainTable)(rows=table)
    rows = _row_table(kind, n).rows()
    eager = type(lazy)(rows=rows)
    serializer = type(lazy).__pydantic_serializer__
    for options in ({}, {"indent": 2}, {"exclude_none": True}, {"exclude": {"rows": {0, 8}}}):
        assert serializer.to_json(lazy, **options) == serializer.to_json(eager, **options)
    for mode in ("python", "json"):
        assert repr(lazy.model_dump(mode=mode)) == repr(eager.model_dump(mode=mode))
    assert len(lazy.rows) == n
    if kind != "non-finite":  # NaN equals nothing; JSON's null does not read back as a float
        assert lazy == eager and eager == lazy and lazy.rows == rows
        assert type(lazy).model_validate_json(serializer.to_json(lazy)).rows == rows


# Peak RSS above the interpreter with its imports, per task x model pair, of the shipped optimize
# path (benchmarks/bench_memory.py's child: load -> build_problem -> solve -> result -> JSON file) on
# the stress case's shape (50,000 tasks x 100 models, strict). Measured on the project's VM (docs/
# PERFORMANCE.md, "Memory"): 68 bytes before issue 19, 42 after. Three stored T x M float64 arrays
# are 24 bytes a pair, so a bound of 52 fails if half of them come back (or their transients do).
MAX_BYTES_PER_PAIR_ABOVE_IMPORTS = 52


def test_peak_memory_per_pair_of_the_shipped_path(tmp_path):
    cases = _bench_cases()
    spec = cases.CaseSpec("stress-shape", 50_000, 100, 10, 25, capacity=True, seed=3)
    files = cases.generate(spec, tmp_path / "case")
    report = tmp_path / "figures.json"
    command = [sys.executable, str(BENCHMARKS / "bench_memory.py"), "--child", str(files.directory)]
    command += ["--mode", "strict", "--output", str(tmp_path / "plan.json"), "--report", str(report)]
    subprocess.run(command, check=True, cwd=ROOT, timeout=600)
    figures = json.loads(report.read_text(encoding="utf-8"))
    stages = {s["stage"]: s for s in figures["stages"]}
    pairs = figures["tasks"] * figures["models"]
    above_imports = (stages["write"]["peak_mib"] - stages["imports"]["rss_mib"]) * MIB / pairs
    assert pairs == 5_000_000 and figures["method"] == "decomposition"
    assert above_imports < MAX_BYTES_PER_PAIR_ABOVE_IMPORTS, f"{above_imports:.1f} bytes per pair"
