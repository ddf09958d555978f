"""Run one function over many items: in this process, on a local process pool, or on a Dask
distributed cluster, with the same results in the same order whichever runs it.

`run_map(function, items)` is the execution layer under `router-opt batch` (one client directory
per item) and Monte Carlo draws (one seed per item). Rules for the function and its items:

- the function is a top-level (module-level) function of an installed module, so a worker process
  can import it by name; items and results pickle;
- each item carries everything its result depends on, its random seed included (e.g.
  `numpy.random.default_rng([seed, draw])`): a worker holds no state from one item to the next that
  changes a result, so the in-process run, the pool and the cluster give identical numbers;
- on a cluster, paths in items must name files every worker can read at the same path (a shared
  file system), and router-opt must be installed on the workers at the same version.

Where it runs: `scheduler` given (an address such as tcp://host:8786) -> that Dask cluster;
otherwise `workers=1` -> this process; otherwise the DASK_SCHEDULER_ADDRESS environment variable,
when set -> that cluster; otherwise a local process pool of `workers` processes (default: the CPUs
this process may use). Dask is an optional extra (`pip install 'router-opt[cluster]'`), imported
only when a scheduler is used.

Errors: a RouterOptError raised by the function in a worker (bad input, an infeasible plan) comes
back as the same class with the same message, so the CLI prints it and exits 2 as it would in
process; any other exception comes back as `WorkerError` (an internal error, with the worker's
traceback in `.worker_traceback`). With `errors="return"` a failed item's place in the results holds
its `Failure` instead and the other items still run (`router-opt batch` reports each failed client).

Items go to workers in chunks (a few per worker) so that cheap items do not pay one round trip each;
results come back in item order.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from router_opt.errors import RouterOptError

SCHEDULER_ENV = "DASK_SCHEDULER_ADDRESS"
CHUNKS_PER_WORKER = 4
"""Chunks per worker: enough to balance uneven items (a large client beside small ones) and keep a
progress bar moving, few enough that a cheap item's round trip does not dominate."""
CONNECT_TIMEOUT_SECONDS = 30
PRELOAD = ("router_opt.plan", "router_opt.engine.decompose", "router_opt.parallel", "highspy")
"""Imported once by the forkserver that local workers fork from (see `_context`)."""

Progress = Callable[[int, int], None]


class WorkerError(RuntimeError):
    """An unexpected exception (not a RouterOptError) in a worker: a bug, reported as an internal error."""

    def __init__(self, message: str, worker_traceback: str = ""):
        super().__init__(message)
        self.worker_traceback = worker_traceback


@dataclass(frozen=True)
class Failure:
    """A failed item's place in `run_map(..., errors="return")`'s results."""

    error: Exception
    """The RouterOptError (same class and message as raised in the worker) or a WorkerError."""

    @property
    def message(self) -> str:
        return str(self.error)

    @property
    def internal(self) -> bool:
        return not isinstance(self.error, RouterOptError)


@dataclass(frozen=True)
class _Raised:
    """An exception as it travels from a worker: class, message and attributes, never the exception
    object itself (RouterOptError subclasses take other constructor arguments than their message, so
    pickle could not rebuild them) and never a traceback object."""

    cls: type | None
    message: str
    state: dict
    traceback: str

    @classmethod
    def of(cls, exc: BaseException) -> _Raised:
        text = "".join(traceback.format_exception(exc))
        if isinstance(exc, RouterOptError):
            return cls(type(exc), str(exc), dict(vars(exc)), text)
        return cls(None, f"{type(exc).__name__}: {exc}", {}, text)

    def rebuild(self) -> Exception:
        if self.cls is None:
            return WorkerError(self.message, self.traceback)
        exc = self.cls.__new__(self.cls)
        Exception.__init__(exc, self.message)
        exc.__dict__.update(self.state)
        return exc


def _run_chunk(function: Callable[[Any], Any], chunk: list) -> list:
    """Run `function` over one chunk in a worker; an exception becomes a `_Raised` in its place."""
    out = []
    for item in chunk:
        try:
            out.append(function(item))
        except Exception as exc:  # noqa: BLE001 - every failure travels back to the caller as data
            out.append(_Raised.of(exc))
    return out


def _pickle_safe(raised: _Raised) -> _Raised:
    """A `_Raised` whose attributes pickle (a RouterOptError holding something that does not is
    sent with its message only)."""
    import pickle

    try:
        pickle.dumps(raised.state)
    except Exception:  # noqa: BLE001
        return _Raised(raised.cls, raised.message, {}, raised.traceback)
    return raised


def _run_chunk_remote(function: Callable[[Any], Any], chunk: list) -> list:
    return [_pickle_safe(r) if isinstance(r, _Raised) else r for r in _run_chunk(function, chunk)]


def default_workers() -> int:
    """The CPUs this process may run on (its affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS, Windows
        return max(1, os.cpu_count() or 1)


def _chunks(items: list, workers: int, chunksize: int | None) -> list[list]:
    size = chunksize or max(1, math.ceil(len(items) / (workers * CHUNKS_PER_WORKER)))
    return [items[i : i + size] for i in range(0, len(items), size)]


def _context():
    """forkserver on Linux: each worker is forked from a small server process that has imported
    router-opt's solving modules once (pandas, PuLP, highspy) and never solved, so a worker holds no
    copy of HiGHS threads or locks and starts without paying those imports again (the gain measured:
    docs/PERFORMANCE.md). Elsewhere spawn (macOS: forking after system frameworks load is unsafe)."""
    if sys.platform.startswith("linux") and "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        # Read when the server starts (the first pool of this process); an import that fails there
        # is skipped, and the worker imports what the function needs itself.
        context.set_forkserver_preload(list(PRELOAD))
        return context
    return multiprocessing.get_context("spawn")


def _in_process(function, chunks: list[list], total: int, progress: Progress | None) -> list[list]:
    done, out = 0, []
    for chunk in chunks:
        out.append(_run_chunk(function, chunk))
        done += len(chunk)
        if progress is not None:
            progress(done, total)
    return out


def _on_pool(function, chunks: list[list], workers: int, total: int, progress: Progress | None) -> list[list]:
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    out: list[list | None] = [None] * len(chunks)
    done = 0
    pool = ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=_context())
    try:
        pending = {pool.submit(_run_chunk_remote, function, chunk): n for n, chunk in enumerate(chunks)}
        while pending:
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                n = pending.pop(future)
                out[n] = future.result()
                done += len(chunks[n])
                if progress is not None:
                    progress(done, total)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return out  # type: ignore[return-value]


def _on_cluster(function, items: list, address: str, chunksize: int | None, progress: Progress | None) -> list[list]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RouterOptError(
            f"running on the Dask scheduler {address} needs Dask distributed: pip install 'router-opt[cluster]'"
        ) from None
    try:
        client = Client(address, timeout=CONNECT_TIMEOUT_SECONDS, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        raise RouterOptError(f"cannot reach the Dask scheduler at {address}: {exc}") from None
    try:
        chunks = _chunks(items, max(1, sum(client.nthreads().values())), chunksize)
        # pure=False: two equal chunks (the same client twice) are two tasks, not one shared result.
        futures = client.map(_run_chunk_remote, [function] * len(chunks), chunks, pure=False)
        index = {future.key: n for n, future in enumerate(futures)}
        out: list[list | None] = [None] * len(chunks)
        done = 0
        for future in as_completed(futures, loop=client.loop):
            n = index[future.key]
            out[n] = future.result()
            done += len(chunks[n])
            if progress is not None:
                progress(done, len(items))
            future.release()
        return out  # type: ignore[return-value]
    finally:
        client.close()


def executor_for(workers: int | None = None, scheduler: str | None = None) -> tuple[str, int | str | None]:
    """Where `run_map` would run: ("cluster", address), ("process", None) or ("pool", workers)."""
    if scheduler:
        return "cluster", scheduler
    if workers is not None and workers < 1:
        raise RouterOptError(f"`workers` {workers}: give 1 or more", option="workers")
    if workers == 1:
        return "process", None
    address = os.environ.get(SCHEDULER_ENV, "").strip()
    if address:
        return "cluster", address
    return "pool", workers or default_workers()


def run_map(
    function: Callable[[Any], Any],
    items: Iterable[Any],
    workers: int | None = None,
    scheduler: str | None = None,
    progress: Progress | None = None,
    errors: Literal["raise", "return"] = "raise",
    chunksize: int | None = None,
) -> list:
    """`[function(item) for item in items]`, run where `executor_for(workers, scheduler)` says (see
    the module's docstring for the rules on functions, items and seeds). `progress(done, total)` is
    called as chunks finish. errors="raise": the first failed item's error (in item order) is raised
    once every item has run; errors="return": its `Failure` takes its place in the results."""
    items = list(items)
    if errors not in ("raise", "return"):
        raise ValueError(f"errors={errors!r}: expected 'raise' or 'return'")
    kind, where = executor_for(workers, scheduler)
    if not items:
        return []
    if kind == "pool" and (where == 1 or len(items) == 1):
        kind = "process"  # one item or one CPU: a pool would only add its start-up
    if progress is not None:
        progress(0, len(items))
    if kind == "process":
        done = _in_process(function, [[item] for item in items], len(items), progress)
    elif kind == "pool":
        done = _on_pool(function, _chunks(items, int(where), chunksize), int(where), len(items), progress)
    else:
        done = _on_cluster(function, items, str(where), chunksize, progress)
    results = [r for chunk in done for r in chunk]
    for n, result in enumerate(results):
        if isinstance(result, _Raised):
            if errors == "raise":
                raise result.rebuild()
            results[n] = Failure(result.rebuild())
    return results


# ---- router-opt batch: one plan per client directory ----------------------------------------------

CATALOG_NAMES = ("catalog.yaml", "catalog.yml")
WORKLOAD_NAMES = ("workload.csv", "workload.xlsx", "workload.yaml", "workload.yml")
POLICY_NAMES = ("policy.yaml", "policy.yml")


def _one_of(directory: Path, names: tuple[str, ...], what: str, required: bool) -> Path | None:
    found = [directory / n for n in names if (directory / n).is_file()]
    if len(found) > 1:
        raise RouterOptError(
            f"{directory}: holds {len(found)} {what} files ({', '.join(p.name for p in found)}): keep one"
        )
    if not found and required:
        raise RouterOptError(f"{directory}: no {what} file (expected one of {', '.join(names)})")
    return found[0] if found else None


def client_files(directory: str | Path) -> tuple[Path, Path, Path | None]:
    """A client directory's catalog, workload and (optional) policy."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RouterOptError(f"{directory}: not a directory")
    return (
        _one_of(directory, CATALOG_NAMES, "catalog", True),
        _one_of(directory, WORKLOAD_NAMES, "workload", True),
        _one_of(directory, POLICY_NAMES, "policy", False),
    )  # type: ignore[return-value]


def optimize_client(path: str) -> dict:
    """Optimise one client directory (catalog.yaml, workload.csv|.xlsx|.yaml, optional policy.yaml)
    and return its totals as plain numbers: the unit of work `router-opt batch` maps over clients.
    Notes the loaders issue (and the baseline-bars note) come back in "notes"."""
    from router_opt.plan import bars_note, load_inputs, optimize_inputs

    catalog, workload, policy = client_files(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inputs = load_inputs(catalog, workload, policy)
        result = optimize_inputs(inputs, decisions=False)
    notes = [str(w.message) for w in caught]
    note = bars_note(inputs)
    if note is not None:
        notes.append(note)
    t = result.totals
    return {
        "client": str(path),
        "tasks": t.tasks,
        "workers": t.workers,
        "optimal_usd_per_day": t.optimal_usd_per_day,
        "baseline_usd_per_day": t.baseline_usd_per_day,
        "savings_usd_per_day": t.savings_usd_per_day,
        "optimal_usd_per_year": t.optimal_usd_per_year,
        "baseline_usd_per_year": t.baseline_usd_per_year,
        "savings_usd_per_year": t.savings_usd_per_year,
        "overspend_ratio": t.overspend_ratio,
        "solver": result.settings.solver,
        "notes": notes,
    }


_GLOB = set("*?[")


def client_directories(arguments: Iterable[str]) -> list[str]:
    """The client directories named on the command line, in order: a directory holding a catalog is
    one client; a directory without one stands for its sub-directories that hold one (`clients/`);
    a pattern (`'clients/acme-*'`) for the directories it matches."""
    import glob

    out: list[str] = []
    for argument in arguments:
        if not Path(argument).exists() and _GLOB & set(argument):
            matches = sorted(m for m in glob.glob(argument) if Path(m).is_dir())
            if not matches:
                raise RouterOptError(f"{argument}: matches no directory")
        else:
            matches = [argument]
        for match in matches:
            directory = Path(match)
            if directory.is_dir() and not any((directory / n).is_file() for n in CATALOG_NAMES):
                inner = sorted(
                    str(d) for d in directory.iterdir() if d.is_dir() and any((d / n).is_file() for n in CATALOG_NAMES)
                )
                if inner:
                    out += inner
                    continue
            out.append(str(match))
    return out


def batch_totals(rows: list[dict]) -> dict:
    """The portfolio's TOTAL over the clients that succeeded."""
    ok = [r for r in rows if "error" not in r]
    optimal = sum(r["optimal_usd_per_day"] for r in ok)
    baseline = sum(r["baseline_usd_per_day"] for r in ok)
    return {
        "clients": len(ok),
        "failed": len(rows) - len(ok),
        "tasks": sum(r["tasks"] for r in ok),
        "optimal_usd_per_day": optimal,
        "baseline_usd_per_day": baseline,
        "savings_usd_per_day": sum(r["savings_usd_per_day"] for r in ok),
        "savings_usd_per_year": sum(r["savings_usd_per_year"] for r in ok),
        "overspend_ratio": baseline / optimal if optimal > 0 else None,
    }


def run_batch(
    directories: list[str], workers: int | None = None, scheduler: str | None = None, progress: Progress | None = None
) -> tuple[list[dict], dict]:
    """Optimise every client directory through `run_map`; a client that fails gets a row with its
    "error" (the others still run). Returns (rows in the order given, TOTAL)."""
    results = run_map(
        optimize_client, directories, workers=workers, scheduler=scheduler, progress=progress, errors="return"
    )
    rows = []
    for directory, result in zip(directories, results, strict=True):
        if isinstance(result, Failure):
            prefix = "internal error: " if result.internal else ""
            rows.append({"client": directory, "error": prefix + result.message})
        else:
            rows.append(result)
    return rows, batch_totals(rows)
