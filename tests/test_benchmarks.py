"""The benchmark script's own check, on the small case only (a few seconds): its synthetic files load,
capacities bind, and every timed path (shipped auto, PuLP forced, highspy direct without pruning,
naive PuLP) reaches the same optimum. The large and stress cases are for `benchmarks/run.py` only."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _load_run():
    spec = importlib.util.spec_from_file_location("router_opt_benchmark_run", BENCHMARKS / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


run = _load_run()
synthetic = sys.modules["bench_cases"]
timed_paths = sys.modules["bench_paths"]


@pytest.fixture(scope="module")
def small_case(tmp_path_factory):
    return synthetic.generate(synthetic.CASES["small"], tmp_path_factory.mktemp("small"))


def test_generation_is_deterministic(small_case, tmp_path):
    again = synthetic.generate(synthetic.CASES["small"], tmp_path / "again")
    for name in ("catalog", "workload", "policy"):
        assert getattr(again, name).read_bytes() == getattr(small_case, name).read_bytes()
    assert (small_case.tasks, small_case.models) == (98, 7)


@pytest.mark.parametrize("mode", ["strict", "blended"])
def test_every_path_reaches_the_same_optimum(small_case, mode):
    case = run.case_dict(small_case, mode)
    figures = {
        name: timed_paths.PATHS[name](case, mode)
        for name in ("shipped", "pulp_forced", "highspy_direct", "naive_pulp", "presolve_off", "warm_sifting")
    }
    objectives = [f["objective"] for f in figures.values()]
    assert timed_paths.objectives_agree(objectives), objectives
    shipped = figures["shipped"]
    assert shipped["status"] == "optimal"
    assert shipped["binding_capacity"] > 0, "the small case should have binding capacities"
    for f in figures.values():
        f["peak_mib"] = 0.0
    # The report renders from these figures, and flags no mismatch.
    runs = {"small": {mode: figures}}
    text = run.render_markdown(run.machine(), "test", {"small": small_case}, runs, {}, "none", 1.0)
    assert "WARNING: objectives differ" not in text
    assert "shipped (`solver=auto`)" in text


def test_mismatch_is_flagged():
    assert not timed_paths.objectives_agree([100.0, 100.001])
    assert timed_paths.objectives_agree([100.0, 100.0 + 1e-5])
