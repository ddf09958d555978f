"""Throughput of router_opt.parallel.run_map: the 'large' synthetic case (5,000 tasks x 50 models,
benchmarks/bench_cases.py) re-solved N times as a batch (`optimize_client` on the same directory N
times: load + build + solve + totals, as `router-opt batch` does per client), with 1 worker (in
process) and with 2 (a local process pool), and optionally on a Dask LocalCluster of 2 processes.

It also measures what one task costs beside its solve: the pool's start-up (forkserver + importing
router-opt in each worker, timed with a trivial function), and pickling the item and the result.

    .venv/bin/python benchmarks/bench_parallel.py                 # N=8, workers 1 and 2
    .venv/bin/python benchmarks/bench_parallel.py --solves 16 --workers 1 2 4 --dask
    .venv/bin/python benchmarks/bench_parallel.py --draws 40      # also `ranges` draws per second

With --draws N it also times N Monte Carlo draws of `router-opt ranges` on the case (every model but
the baseline given a +-3-point quality interval and +-20% price ranges), through run_map with each
worker count: draws per second, and what one draw's spec costs to pickle.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_cases

from router_opt.parallel import default_workers, optimize_client, run_map

TRIVIAL = 20_000


def nothing(item: int) -> int:
    """A task that costs nothing: what is left is the executor's own overhead."""
    return item


def _timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    out = function(*args, **kwargs)
    return time.perf_counter() - started, out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="large", choices=sorted(bench_cases.CASES))
    parser.add_argument("--solves", type=int, default=8, help="Re-solves of the case per run (default 8).")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--dask", action="store_true", help="Also run on a 2-process distributed.LocalCluster.")
    parser.add_argument("--draws", type=int, default=0, help="Also time this many `ranges` draws per worker count.")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        case = bench_cases.generate(bench_cases.CASES[args.case], Path(tmp) / args.case)
        directory = str(case.directory)
        items = [directory] * args.solves

        warm_s, first = _timed(optimize_client, directory)  # imports and caches in this process
        one_s, _ = _timed(optimize_client, directory)
        item_pickle_s, item_bytes = _timed(pickle.dumps, directory)
        result_pickle_s, result_bytes = _timed(pickle.dumps, first)
        report: dict = {
            "case": f"{args.case}: {case.tasks:,} tasks x {case.models} models",
            "solves": args.solves,
            "cpus": default_workers(),
            "one_solve_in_process_s": round(one_s, 3),
            "first_solve_in_process_s (imports included)": round(warm_s, 3),
            "item_pickle": {"bytes": len(item_bytes), "seconds": item_pickle_s},
            "result_pickle": {"bytes": len(result_bytes), "seconds": result_pickle_s},
            "runs": [],
        }
        for workers in args.workers:
            startup_s, _ = _timed(run_map, nothing, list(range(workers * 2)), workers=workers)
            trivial_s, _ = _timed(run_map, nothing, list(range(TRIVIAL)), workers=workers)
            wall_s, results = _timed(run_map, optimize_client, items, workers=workers)
            assert all(r == first for r in results), "a re-solve differs from the in-process one"
            report["runs"].append(
                {
                    "executor": "in process" if workers == 1 else f"process pool, {workers} workers",
                    "wall_s": round(wall_s, 3),
                    "solves_per_s": round(args.solves / wall_s, 3),
                    "speed_up": round(args.solves * one_s / wall_s, 2),
                    "empty_run_s (start-up, trivial tasks)": round(startup_s, 3),
                    f"per_trivial_task_us ({TRIVIAL:,} tasks, start-up included)": round(1e6 * trivial_s / TRIVIAL, 1),
                }
            )
        if args.dask:
            from distributed import LocalCluster

            cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)
            try:
                address = cluster.scheduler_address
                startup_s, _ = _timed(run_map, nothing, list(range(4)), scheduler=address)
                trivial_s, _ = _timed(run_map, nothing, list(range(TRIVIAL)), scheduler=address)
                wall_s, results = _timed(run_map, optimize_client, items, scheduler=address)
                assert all(r == first for r in results)
                report["runs"].append(
                    {
                        "executor": "Dask LocalCluster, 2 processes",
                        "wall_s": round(wall_s, 3),
                        "solves_per_s": round(args.solves / wall_s, 3),
                        "speed_up": round(args.solves * one_s / wall_s, 2),
                        "empty_run_s (connect, trivial tasks)": round(startup_s, 3),
                        f"per_trivial_task_us ({TRIVIAL:,} tasks, connect included)": round(
                            1e6 * trivial_s / TRIVIAL, 1
                        ),
                    }
                )
            finally:
                cluster.close()
        if args.draws:
            report["draws"] = _draws(case, args.draws, args.workers)
    print(json.dumps(report, indent=2))
    return report


def _draws(case, draws: int, worker_counts: list[int]) -> dict:
    """`ranges` draws on the case with uncertain quality and prices, per worker count."""
    from functools import partial

    from router_opt.plan import load_inputs
    from router_opt.uncertainty import one_draw, prepare_draws, run_draws

    inputs = load_inputs(case.catalog, case.workload, case.policy)
    catalog = inputs.catalog
    models = []
    for m in catalog.models:
        if m.id != catalog.baseline:
            intervals = {k: [max(catalog.quality_scale.min, q - 3), min(catalog.quality_scale.max, q + 3)]
                         for k, q in m.quality.items()}  # fmt: skip
            m = m.model_copy(
                update={
                    "quality_interval": intervals,
                    "input_usd_per_mtok_range": [m.input_usd_per_mtok * 0.8, m.input_usd_per_mtok * 1.2],
                    "output_usd_per_mtok_range": [m.output_usd_per_mtok * 0.8, m.output_usd_per_mtok * 1.2],
                }
            )
        models.append(m)
    inputs = type(inputs)(**{**inputs.__dict__, "catalog": catalog.model_copy(update={"models": tuple(models)})})
    setup, _ = prepare_draws(inputs, volume_range=(0.8, 1.2))
    spec_s, spec_bytes = _timed(pickle.dumps, (setup, 0, 1))
    one_s, record = _timed(one_draw, (setup, 0, 1))
    out = {"one_draw_in_process_s": round(one_s, 3), "spec_pickle": {"bytes": len(spec_bytes), "seconds": spec_s}}
    out["record_pickle_bytes"] = len(pickle.dumps(record))
    reference = None
    for workers in worker_counts:
        wall_s, records = _timed(run_draws, setup, draws, 1, map_fn=partial(run_map, workers=workers))
        optima = [r["optimal_usd_per_day"] for r in records]
        reference = reference or optima
        assert optima == reference, "draws differ between executors"
        out[f"{workers} worker(s)"] = {"wall_s": round(wall_s, 3), "draws_per_s": round(draws / wall_s, 2)}
    return out


if __name__ == "__main__":
    main()
