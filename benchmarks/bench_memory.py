"""Peak memory of the shipped optimize path on generated cases of N tasks x 100 models (issue 19).

    .venv/bin/python benchmarks/bench_memory.py [--tasks 100000,300000] [--models 100] [--mode strict]
        [--cache DIR] [--ref REF] [--cli] [--save FILE]

Each case is written once by benchmarks/bench_cases.py (seed 3, 10 departments x 25 roles, capacities
on most cheap models: the stress case's shape at another size) and cached under --cache (a 1,000,000-
task workload takes minutes to write). Each run is its own Python process, so its peak RSS is that
run's alone: `ru_maxrss` of the child, read by the parent through wait4.

- stages: the path `router-opt optimize -f json -o out.json` takes, one stage at a time in one child
  with the CLI's process settings (router_opt.process.one_command: the garbage collector off, malloc
  keeping freed memory): load_inputs -> build_problem -> solve(solver="auto") -> build_result
  (no decision records, as without --explain) -> JSON render -> file written. Per stage: seconds, the
  peak RSS so far and the RSS at its end.
- CLI (--cli): the command itself, for the same figure from outside.

bytes/pair is the child's peak RSS over tasks x models (the issue's target: at most 40 at 1,000,000 x
100 strict). --ref measures a `git archive` of another commit (before/after in one session while
others edit the working tree).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

MIB = 2**20


# --------------------------------------------------------------------------------------------------
# Child side: one run of the shipped path, stage by stage.


def _rss_now_bytes() -> int:
    """Resident set size now (Linux /proc; 0 where it is missing)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE")


def _peak_bytes() -> int:
    """This process's peak RSS: the kernel's high-water mark of its own memory (VmHWM). Its
    `ru_maxrss` also counts the parent's peak at the fork (Linux carries it over fork and exec), so
    a child of a large process (pytest) would report its parent's figure."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, IndexError, ValueError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def workload_cells(directory: Path) -> int:
    """Cells (rows x columns) of the case's workload CSV, header included."""
    with open(directory / "workload.csv", encoding="utf-8") as handle:
        columns = handle.readline().count(",") + 1
        return columns * (1 + sum(1 for _ in handle))


def _lift_csv_cell_limit() -> None:
    """Let the CSV reader read past its MAX_CELLS guard (2,000,000 cells: 250,000 rows of 8 columns),
    which keeps a hostile file from exhausting memory and refuses the larger cases outright."""
    import functools

    from router_opt.io import loaders, tables

    loaders.csv_records = functools.partial(tables.csv_records, max_cells=2**62)


def child(directory: Path, mode: str, output: Path, lift_cell_limit: bool = False) -> dict:
    """The shipped path on the case in `directory`, with each stage's seconds and memory."""
    stages: list[dict] = []
    clock = time.perf_counter()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        stages.append(
            {"stage": name, "seconds": now - clock, "peak_mib": _peak_bytes() / MIB, "rss_mib": _rss_now_bytes() / MIB}
        )
        clock = time.perf_counter()

    from router_opt.engine import Objective, solve
    from router_opt.frame import Mode, build_problem
    from router_opt.io.writers import write_output
    from router_opt.plan import load_inputs, settings_for
    from router_opt.process import one_command
    from router_opt.report import render
    from router_opt.result import build_result

    stage("imports")
    if lift_cell_limit:
        _lift_csv_cell_limit()
    with one_command():
        inputs = load_inputs(directory / "catalog.yaml", directory / "workload.csv", directory / "policy.yaml")
        stage("load")
        problem = build_problem(inputs.catalog, inputs.workload, inputs.policy, mode=Mode(mode))
        n_tasks, n_models = len(problem.tasks), len(problem.models)
        eligible_pairs = int(problem.eligible.sum())
        stage("frame")
        solution = solve(problem, solver="auto")
        solved = {
            "candidates": solution.candidates,
            "method": solution.method,
            "objective": solution.objective_usd_per_day,
        }
        stage("solve")
        settings = settings_for(inputs, Mode(mode), Objective.COST, None, solution.solver)
        result = build_result(problem, solution, settings, decisions=False)
        # As in the CLI, where optimize_inputs returns the result alone: the problem's arrays and
        # the solution are freed before the JSON is made.
        del problem, solution
        stage("result")
        text = render(result, "json")
        stage("json")
        write_output(output, text)
        stage("write")
    import router_opt

    return {
        "router_opt_file": router_opt.__file__,
        "tasks": n_tasks,
        "models": n_models,
        "eligible_pairs": eligible_pairs,
        **solved,
        "json_mib": output.stat().st_size / MIB,
        "stages": stages,
    }


# --------------------------------------------------------------------------------------------------
# Parent side.


def generate_case(directory: Path, tasks: int, models: int) -> None:
    from bench_cases import CaseSpec, generate

    started = time.perf_counter()
    generate(CaseSpec(directory.name, tasks, models, 10, 25, capacity=True, seed=3), directory)
    (directory / "complete").write_text(f"generated in {time.perf_counter() - started:.1f} s\n", encoding="utf-8")


def case_directory(cache: Path, tasks: int, models: int) -> Path:
    """The case of `tasks` x `models`, generated once into `cache` (a marker file says it is whole).
    Generated in a process of its own: Linux carries a process's peak RSS over fork and exec into
    the child's `ru_maxrss`, so the parent must stay small for the children's figures to be theirs."""
    directory = cache / f"m{tasks}x{models}-seed3"
    if not (directory / "complete").exists():
        command = [sys.executable, str(Path(__file__).resolve()), "--generate", str(directory), str(tasks), str(models)]
        subprocess.run(command, check=True)
    return directory


def measured(command: list[str], env: dict, timeout: float, cwd: Path) -> tuple[int, float, float, str]:
    """(exit code, wall seconds, peak RSS in MiB from wait4, stderr) of one child process (this
    parent stays small, so the child's `ru_maxrss` is its own). Run in `cwd`, away from the
    repository: `python -c` puts the working directory first on the path, and a child started in
    the repository would import its working tree instead of the code measured."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    try:
        # Read stderr first: a child that fills the pipe would otherwise never exit.
        stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, time.perf_counter() - started, usage.ru_maxrss / 1024, stderr


def code_tree(ref: str | None, into: Path) -> Path:
    """The repository's working tree, or a `git archive` of router_opt/ at `ref` in `into`."""
    if ref is None:
        return REPO
    names = ("router_opt", "catalogs", "workloads", "policies")
    present = subprocess.run(
        ["git", "-C", str(REPO), "ls-tree", "--name-only", ref], capture_output=True, text=True, check=True
    ).stdout.split()
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", ref, *[n for n in names if n in present]], capture_output=True, check=True
    )
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return into


def run_case(directory: Path, mode: str, code: Path, timeout: float, cli: bool) -> dict:
    env = dict(os.environ, PYTHONPATH=str(code))
    with tempfile.TemporaryDirectory() as scratch:
        report, output = Path(scratch) / "figures.json", Path(scratch) / "out.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(directory), "--mode", mode]
        from router_opt.io.tables import MAX_CELLS

        over_limit = workload_cells(directory) > MAX_CELLS
        if over_limit:
            command.append("--lift-cell-limit")
        code_rc, wall, peak_mib, stderr = measured(
            [*command, "--output", str(output), "--report", str(report)], env, timeout, Path(scratch)
        )
        if code_rc != 0 or not report.exists():
            return {"error": f"exit {code_rc}: " + " | ".join(stderr.strip().splitlines()[-3:])}
        figures = json.loads(report.read_text(encoding="utf-8"))
        if not figures["router_opt_file"].startswith(str(code)):
            return {"error": f"imported {figures['router_opt_file']}, not the code in {code}"}
        figures |= {"peak_mib": peak_mib, "wall": wall}
        figures["cell_limit_lifted"] = over_limit
        if cli and over_limit:
            figures["cli"] = {"error": f"the CLI refuses a workload of more than {MAX_CELLS:,} cells"}
        elif cli:
            script = "import sys; from router_opt.cli import entry_point; sys.argv[0] = 'router-opt'; entry_point()"
            files = [
                "-c",
                directory / "catalog.yaml",
                "-w",
                directory / "workload.csv",
                "-p",
                directory / "policy.yaml",
            ]
            options = ["--mode", mode, "-f", "json", "-o", output]
            cli_command = [sys.executable, "-c", script, "optimize", *map(str, files + options)]
            rc, cli_wall, cli_peak, cli_err = measured(cli_command, env, timeout, Path(scratch))
            figures["cli"] = (
                {"peak_mib": cli_peak, "wall": cli_wall}
                if rc == 0
                else {"error": f"exit {rc}: {cli_err.strip()[-300:]}"}
            )
    return figures


def table(rows: list[dict]) -> str:
    """The figures as a Markdown table: one row per case, stage seconds and peaks."""
    stage_names = ("load", "frame", "solve", "result", "json", "write")
    head = (
        "| tasks x models | eligible pairs | peak MiB | bytes/pair | CLI peak MiB | "
        + " | ".join(f"{s} s (peak MiB)" for s in stage_names)
        + " | total s |"
    )
    lines = [head, "|" + " --- |" * (6 + len(stage_names))]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['label']} | {row['error']} |")
            continue
        pairs = row["tasks"] * row["models"]
        by_stage = {s["stage"]: s for s in row["stages"]}
        cli = row.get("cli", {})
        cells = [
            f"{row['tasks']:,} x {row['models']}",
            f"{row['eligible_pairs']:,}",
            f"{row['peak_mib']:,.0f}",
            f"{row['peak_mib'] * MIB / pairs:.1f}",
            f"{cli['peak_mib']:,.0f}" if "peak_mib" in cli else "",
            *(f"{by_stage[s]['seconds']:.2f} ({by_stage[s]['peak_mib']:,.0f})" for s in stage_names),
            f"{sum(by_stage[s]['seconds'] for s in stage_names):.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", default="100000,300000", help="comma-separated task counts")
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--mode", default="strict", choices=("strict", "blended", "single"))
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "router-opt-bench-memory")
    parser.add_argument("--ref", default=None, help="measure a git archive of this commit instead of the tree")
    parser.add_argument("--cli", action="store_true", help="also run the CLI command itself")
    parser.add_argument("--timeout", type=float, default=3600.0)
    parser.add_argument("--save", type=Path, default=None, help="write every figure to this JSON file")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--report", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--generate", nargs=3, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--lift-cell-limit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.generate is not None:
        generate_case(Path(args.generate[0]), int(args.generate[1]), int(args.generate[2]))
        return 0
    if args.child is not None:
        figures = child(args.child, args.mode, args.output, args.lift_cell_limit)
        args.report.write_text(json.dumps(figures), encoding="utf-8")
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        code = code_tree(args.ref, Path(scratch) / "code")
        for tasks in (int(n) for n in args.tasks.split(",")):
            directory = case_directory(args.cache, tasks, args.models)
            row = run_case(directory, args.mode, code, args.timeout, args.cli)
            row["label"] = f"{tasks:,} x {args.models}"
            rows.append(row)
            print(table([row]).splitlines()[-1], flush=True)
    print(f"\n{args.mode}, code: {args.ref or 'working tree'}\n")
    print(table(rows))
    if args.save is not None:
        args.save.write_text(json.dumps({"mode": args.mode, "ref": args.ref, "rows": rows}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
