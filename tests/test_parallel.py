"""router_opt.parallel and `router-opt batch`: the same results, in the same order, in process, on a
local process pool of 2 workers and on a real Dask `LocalCluster` of 2 worker processes (started
here, localhost only); errors from workers come back as router-opt's own errors."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from router_opt import parallel
from router_opt.cli import app
from router_opt.errors import InfeasibleError, InputError, Problem, RouterOptError, UnservableTask
from router_opt.parallel import Failure, WorkerError, optimize_client, run_batch, run_map
from router_opt.plan import load_inputs, optimize_inputs

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def _bench_cases():
    if "bench_cases" in sys.modules:
        return sys.modules["bench_cases"]
    spec = importlib.util.spec_from_file_location("bench_cases", BENCHMARKS / "bench_cases.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_cases"] = module
    spec.loader.exec_module(module)
    return module


# ---- top-level functions a worker imports by name ---------------------------------------------


def toy_draw(item: tuple[int, int]) -> float:
    """One seeded Monte Carlo draw: the item carries its seed and draw number."""
    seed, k = item
    return float(np.random.default_rng([seed, k]).standard_normal(1000).sum())


def fail_on(item: int) -> int:
    if item == 3:
        raise InputError([Problem(path="w.csv", message="bad row", line=4, field="headcount")])
    if item == 5:
        raise InfeasibleError([UnservableTask("D", "R", "T", "code", 99.0, 90.0, "m1")])
    if item == 7:
        raise KeyError("oops")
    return item * item


def on_dask_worker(_item) -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


# ---- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster_address():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    )
    try:
        yield cluster.scheduler_address
    finally:
        cluster.close()


@pytest.fixture(scope="module")
def clients(tmp_path_factory) -> list[str]:
    cases = _bench_cases()
    root = tmp_path_factory.mktemp("clients")
    out = []
    for n in range(3):
        spec = replace(cases.CASES["small"], name=f"client{n}", seed=100 + n)
        files = cases.generate(spec, root / f"client{n}")
        out.append(str(files.directory))
    return out


# ---- run_map --------------------------------------------------------------------------------------


def test_draws_identical_in_process_pool_and_cluster(cluster_address, monkeypatch):
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    items = [(20261204, k) for k in range(37)]
    expected = [toy_draw(item) for item in items]
    seen: list[tuple[int, int]] = []
    in_process = run_map(toy_draw, items, workers=1, progress=lambda d, t: seen.append((d, t)))
    pool = run_map(toy_draw, items, workers=2)
    cluster = run_map(toy_draw, items, scheduler=cluster_address)
    assert in_process == expected
    assert pool == expected
    assert cluster == expected
    assert seen[0] == (0, 37) and seen[-1] == (37, 37)


def test_progress_reaches_total_on_pool_and_cluster(cluster_address):
    for where in ({"workers": 2}, {"scheduler": cluster_address}):
        seen: list[tuple[int, int]] = []
        results = run_map(fail_on, [0, 1, 2, 4], progress=lambda d, t, seen=seen: seen.append((d, t)), **where)
        assert results == [0, 1, 4, 16]
        assert seen[0] == (0, 4) and seen[-1] == (4, 4)
        assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_environment_variable_selects_the_cluster(cluster_address, monkeypatch):
    monkeypatch.setenv(parallel.SCHEDULER_ENV, cluster_address)
    assert run_map(on_dask_worker, range(4)) == [True] * 4
    # --workers 1 still runs in this process; a given scheduler wins over both.
    assert run_map(on_dask_worker, range(4), workers=1) == [False] * 4
    monkeypatch.delenv(parallel.SCHEDULER_ENV)
    assert run_map(on_dask_worker, range(4), workers=2) == [False] * 4


@pytest.mark.parametrize("where", ["process", "pool", "cluster"])
def test_worker_errors_come_back_as_routeropt_errors(where, request, monkeypatch):
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    kwargs = {"process": {"workers": 1}, "pool": {"workers": 2}}.get(where)
    if kwargs is None:
        kwargs = {"scheduler": request.getfixturevalue("cluster_address")}
    with pytest.raises(InputError) as caught:
        run_map(fail_on, range(10), **kwargs)
    assert caught.value.problems == [Problem(path="w.csv", message="bad row", line=4, field="headcount")]
    assert str(caught.value) == "w.csv:4: headcount: bad row"

    results = run_map(fail_on, range(10), errors="return", **kwargs)
    assert [r for n, r in enumerate(results) if n not in (3, 5, 7)] == [n * n for n in range(10) if n not in (3, 5, 7)]
    infeasible = results[5]
    assert isinstance(infeasible, Failure) and isinstance(infeasible.error, InfeasibleError)
    assert infeasible.error.tasks[0].best_model == "m1"
    assert "1 task(s) cannot be served" in infeasible.message and not infeasible.internal
    assert isinstance(results[7].error, WorkerError) and results[7].internal
    assert "KeyError" in results[7].message and "fail_on" in results[7].error.worker_traceback


def test_unreachable_scheduler_is_an_input_error(monkeypatch):
    pytest.importorskip("distributed")
    monkeypatch.setattr(parallel, "CONNECT_TIMEOUT_SECONDS", 2)
    with pytest.raises(RouterOptError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        run_map(toy_draw, [(1, 1)], scheduler="tcp://127.0.0.1:9")


def test_default_install_does_not_import_dask(clients):
    code = (
        "import sys\n"
        "import router_opt.cli, router_opt.parallel as p\n"
        f"rows = p.run_map(p.optimize_client, {clients[:2]!r}, workers=2)\n"
        "assert len(rows) == 2\n"
        "assert not [m for m in sys.modules if m == 'dask' or m.startswith(('dask.', 'distributed'))], 'dask imported'\n"
    )
    env = {k: v for k, v in os.environ.items() if k != parallel.SCHEDULER_ENV}
    done = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr


# ---- batch ------------------------------------------------------------------------------------------


def test_batch_identical_everywhere_and_equal_to_optimize_inputs(clients, cluster_address, monkeypatch):
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    in_process = run_batch(clients, workers=1)
    pool = run_batch(clients, workers=2)
    cluster = run_batch(clients, scheduler=cluster_address)
    assert in_process == pool == cluster
    rows, total = in_process
    for directory, row in zip(clients, rows, strict=True):
        d = Path(directory)
        direct = optimize_inputs(load_inputs(d / "catalog.yaml", d / "workload.csv", d / "policy.yaml")).totals
        assert row["client"] == directory
        assert row["tasks"] == direct.tasks
        assert row["optimal_usd_per_day"] == direct.optimal_usd_per_day
        assert row["baseline_usd_per_day"] == direct.baseline_usd_per_day
        assert row["savings_usd_per_day"] == direct.savings_usd_per_day
        assert row["savings_usd_per_year"] == direct.savings_usd_per_year
        assert row["overspend_ratio"] == direct.overspend_ratio
    assert total["clients"] == 3 and total["failed"] == 0
    assert total["tasks"] == sum(r["tasks"] for r in rows)
    assert total["optimal_usd_per_day"] == pytest.approx(sum(r["optimal_usd_per_day"] for r in rows), rel=1e-12)
    assert total["overspend_ratio"] == pytest.approx(total["baseline_usd_per_day"] / total["optimal_usd_per_day"])


def _broken_client(root: Path) -> str:
    bad = root / "broken"
    bad.mkdir(exist_ok=True)
    (bad / "catalog.yaml").write_text("models: [\n", encoding="utf-8")
    (bad / "workload.csv").write_text("x\n1\n", encoding="utf-8")
    return str(bad)


def test_cli_batch_reports_a_failed_client_and_exits_2(clients, tmp_path, monkeypatch):
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    bad = _broken_client(tmp_path)
    runner = CliRunner()
    done = runner.invoke(app, ["batch", clients[0], bad, clients[1], "--workers", "2", "-f", "json"])
    assert done.exit_code == 2, done.output
    report = json.loads(done.stdout)
    assert [r["client"] for r in report["clients"]] == [clients[0], bad, clients[1]]
    assert "error" in report["clients"][1] and "Traceback" not in report["clients"][1]["error"]
    assert report["clients"][0] == optimize_client(clients[0])
    assert report["total"]["failed"] == 1 and report["total"]["clients"] == 2
    assert "1 of 3 client(s) failed" in done.stderr

    table = runner.invoke(app, ["batch", clients[0], bad, "--workers", "1"])
    assert table.exit_code == 2
    assert "TOTAL" in table.stdout and "failed" in table.stdout and "Failed clients" in table.stdout


def test_cli_batch_folder_and_glob(clients, monkeypatch):
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    root = str(Path(clients[0]).parent)
    runner = CliRunner()
    by_folder = runner.invoke(app, ["batch", root, "-j", "1", "-f", "json"])
    by_glob = runner.invoke(app, ["batch", root + "/client*", "-j", "1", "-f", "json"])
    assert by_folder.exit_code == 0 and by_glob.exit_code == 0, by_folder.output + by_glob.output
    assert [r["client"] for r in json.loads(by_folder.stdout)["clients"]] == clients
    assert json.loads(by_glob.stdout) == json.loads(by_folder.stdout)
    markdown = runner.invoke(app, ["batch", root, "-j", "1", "-f", "markdown"])
    assert markdown.exit_code == 0 and "| **TOTAL** |" in markdown.stdout
    nothing = runner.invoke(app, ["batch", root + "/nobody-*"])
    assert nothing.exit_code == 2 and "matches no directory" in nothing.stderr


def test_cli_batch_on_cluster(clients, cluster_address, monkeypatch):
    monkeypatch.delenv(parallel.SCHEDULER_ENV, raising=False)
    runner = CliRunner()
    local = runner.invoke(app, ["batch", *clients, "-j", "2", "-f", "json"])
    remote = runner.invoke(app, ["batch", *clients, "--scheduler", cluster_address, "-f", "json"])
    assert local.exit_code == 0 and remote.exit_code == 0, local.output + remote.output
    assert json.loads(local.stdout) == json.loads(remote.stdout)


def test_ranges_gives_the_same_figures_in_process_on_a_pool_and_on_a_cluster(cluster_address, tmp_path):
    """`router-opt ranges` (uncertain quality, prices and volume) through the CLI: one process, a 2-worker
    pool and the 2-process LocalCluster write byte-identical JSON."""
    common = ["ranges", "-c", "examples/uncertainty/catalog.yaml", "-p", "policies/default.yaml", "--draws", "24",
              "--seed", "11", "--volume-range", "0.8,1.2", "-f", "json"]  # fmt: skip
    outputs = []
    for where in (["-j", "1"], ["-j", "2"], ["--scheduler", cluster_address]):
        target = tmp_path / f"ranges-{len(outputs)}.json"
        result = CliRunner().invoke(app, [*common, *where, "-o", str(target)])
        assert result.exit_code == 0, result.output
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] == outputs[2]
