"""Heavy coupling (issue 19): the decomposition before and after a change, beside the full LP, one run.

    .venv/bin/python benchmarks/bench_heavy.py [--cases large-heavy,stress-heavy,large,stress]
        [--modes strict,blended] [--old-ref REF] [--new-ref REF] [--repeats 3] [--old-repeats N]
        [--full-lp CASES] [--timeout S] [--save FILE.json] [--render FILE.json] [--output FILE.md]

Each case (benchmarks/bench_cases.py, written as real files) and mode runs in fresh subprocesses,
one per measurement, so that each peak memory figure (the child's VmHWM) belongs to that run alone:

- old: `solve(problem, solver="auto")` with router_opt as committed at --old-ref (a `git archive`
  snapshot, so edits others make to the working tree meanwhile do not mix in);
- new: the same at --new-ref (default HEAD);
- full LP: `build_program` over every eligible pair handed to the highspy backend (HiGHS's presolve
  and own start), as run.py's "highspy direct" path: what the issue compares with. Only for the
  cases named in --full-lp (it takes minutes where most rows bind).

Each child loads the case's files and builds the problem untimed, then times `solve` (or the build
and solve of the full LP). old and new run --repeats times (the median is the figure, the range
beside it; --old-repeats for the old method, which takes many minutes on the heavy stress case), the
full LP once. A run over --timeout seconds is stopped and shown as such. Every run's objective must
agree with the others' to 1e-9 relative; the table marks a mismatch.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench_cases import CASES, generate
from run import snapshot

CHILD = r"""
import json, resource, sys, time
from pathlib import Path

case, mode, path, out = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
from router_opt.frame import Mode, build_problem
from router_opt.plan import load_inputs
import router_opt

inputs = load_inputs(case["catalog"], case["workload"], case["policy"])
problem = build_problem(inputs.catalog, inputs.workload, inputs.policy, mode=Mode(mode))
figures = {"router_opt": router_opt.__file__}
if path == "full_lp":
    from router_opt.engine import BACKENDS, build_program

    started = time.perf_counter()
    program = build_program(problem, candidates=problem.eligible)
    raw = BACKENDS["highspy"].solve(program, None)
    figures["seconds"] = time.perf_counter() - started
    assert raw.status == "optimal", raw.status
    figures["objective"] = float(program.col_cost @ raw.x)
    figures["method"] = "full LP (highspy, presolve)"
    figures["columns"] = program.n_cols
else:
    from router_opt.engine import solve

    started = time.perf_counter()
    solution = solve(problem, solver="auto")
    figures["seconds"] = time.perf_counter() - started
    figures["objective"] = solution.objective_usd_per_day
    figures["method"] = solution.method
    figures["rounds"] = solution.decomposition_rounds
    figures["restricted_tasks"] = solution.restricted_tasks
    figures["proof_max_violation"] = solution.proof_max_violation
    figures["proof_gap"] = solution.proof_gap
    figures["binding"] = sum(c.binding for c in solution.constraints)
    figures["rows"] = len(solution.constraints)
    figures["binding_by_kind"] = {
        kind: [sum(c.binding for c in solution.constraints if c.kind == kind),
               sum(1 for c in solution.constraints if c.kind == kind)]
        for kind in sorted({c.kind for c in solution.constraints})
    }
    figures["timings"] = solution.timings
    figures["columns"] = solution.candidates
status = Path("/proc/self/status").read_text()
figures["peak_mib"] = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM")) / 1024
figures["tasks"] = len(problem.tasks)
Path(out).write_text(json.dumps(figures))
"""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_child(source: Path, files, mode: str, path: str, timeout: float, workdir: Path) -> dict:
    """One measurement in a fresh interpreter importing router_opt from `source`."""
    result = workdir / f"result-{files.name}-{mode}-{path}.json"
    result.unlink(missing_ok=True)
    case = {"catalog": str(files.catalog), "workload": str(files.workload), "policy": str(files.policy_for(mode))}
    script = workdir / "child.py"
    script.write_text(CHILD, encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(source))
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [sys.executable, str(script), json.dumps(case), mode, path, str(result)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=str(workdir),
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"stopped": timeout}
    if not result.exists():
        tail = " | ".join((done.stderr or "").strip().splitlines()[-3:])
        return {"error": f"exit {done.returncode}: {tail}"}
    figures = json.loads(result.read_text(encoding="utf-8"))
    if not figures["router_opt"].startswith(str(source)):
        return {"error": f"imported {figures['router_opt']}, not {source}"}
    figures["process_wall"] = time.perf_counter() - started
    return figures


def measure(args) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix="router-opt-heavy-"))
    old_source, old_commit = snapshot(args.old_ref, workdir / "old")
    new_source, new_commit = snapshot(args.new_ref, workdir / "new")
    full_cases = {c for c in args.full_lp.split(",") if c}
    out = {
        "command": " ".join(["benchmarks/bench_heavy.py", *sys.argv[1:]]),
        "old": f"{args.old_ref} = {old_commit}",
        "new": f"{args.new_ref} = {new_commit}",
        "load_start": os.getloadavg()[0],
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
        "cases": {},
    }
    started = time.perf_counter()
    for name in args.cases.split(","):
        files = generate(CASES[name], workdir / name)
        out["cases"][name] = by_mode = {"tasks": files.tasks, "models": files.models}
        for mode in args.modes.split(","):
            runs = by_mode[mode] = {"old": [], "new": [], "full_lp": []}
            plan = []
            # Old and new alternate, so that the machine's load drifts over both alike.
            for k in range(max(args.repeats, args.old_repeats)):
                if k < args.old_repeats:
                    plan.append(("old", old_source))
                if k < args.repeats:
                    plan.append(("new", new_source))
            if name in full_cases:
                plan.append(("full_lp", new_source))
            for label, source in plan:
                log(f"{name} {mode}: {label}")
                figures = run_child(
                    source, files, mode, "full_lp" if label == "full_lp" else "solve", args.timeout, workdir
                )
                runs[label].append(figures)
                log(f"  {json.dumps({k: v for k, v in figures.items() if k not in ('timings', 'router_opt')})}")
    out["elapsed"] = time.perf_counter() - started
    out["load_end"] = os.getloadavg()[0]
    return out


def _seconds(runs: list[dict]) -> str:
    ok = [r["seconds"] for r in runs if "seconds" in r]
    stopped = [r["stopped"] for r in runs if "stopped" in r]
    if not ok:
        if stopped:
            return f"> {max(stopped):,.0f} (stopped)"
        return "failed: " + "; ".join(r.get("error", "?") for r in runs) if runs else "not run"
    text = f"{statistics.median(ok):.2f}"
    if len(ok) > 1:
        text += f" ({min(ok):.2f}-{max(ok):.2f}, {len(ok)} runs)"
    if stopped:
        text += f"; {len(stopped)} stopped at {max(stopped):,.0f}"
    return text


def _peak(runs: list[dict]) -> str:
    ok = [r["peak_mib"] for r in runs if "peak_mib" in r]
    return f"{max(ok):,.0f}" if ok else ""


def render(saved: dict) -> str:
    lines = [
        "| case | mode | binding rows | old: solve s | old peak MiB | new: solve s | new peak MiB | new / old | full LP s | full LP peak MiB | new / full LP | new: rounds, restricted tasks | proof (max violation, gap $/day) | objectives agree (1e-9) |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |",
    ]
    for name, by_mode in saved["cases"].items():
        for mode, runs in by_mode.items():
            if mode in ("tasks", "models"):
                continue
            old, new, full = runs["old"], runs["new"], runs["full_lp"]
            done = [r for r in old + new + full if "objective" in r]
            objectives = [r["objective"] for r in done]
            agree = all(abs(v - objectives[0]) <= 1e-9 * max(1.0, abs(objectives[0])) for v in objectives)
            first = next((r for r in new if "binding" in r), next((r for r in old if "binding" in r), {}))
            binding = f"{first['binding']} of {first['rows']}" if first else ""
            new_s = [r["seconds"] for r in new if "seconds" in r]
            old_s = [r["seconds"] for r in old if "seconds" in r]
            old_stop = [r["stopped"] for r in old if "stopped" in r]
            full_s = [r["seconds"] for r in full if "seconds" in r]
            full_stop = [r["stopped"] for r in full if "stopped" in r]
            ratio_old = ratio_full = ""
            if new_s and old_s:
                ratio_old = f"{statistics.median(new_s) / statistics.median(old_s):.2f}x"
            elif new_s and old_stop:
                ratio_old = f"< {statistics.median(new_s) / max(old_stop):.3f}x"
            if new_s and full_s:
                ratio_full = f"{statistics.median(new_s) / statistics.median(full_s):.2f}x"
            elif new_s and full_stop:
                ratio_full = f"< {statistics.median(new_s) / max(full_stop):.3f}x"
            how = ""
            proof = ""
            last = next((r for r in reversed(new) if "method" in r), None)
            if last:
                how = (
                    last["method"]
                    if last["method"] != "decomposition"
                    else f"{last['rounds']} rounds, {last['restricted_tasks']:,}"
                )
                if last.get("proof_gap") is not None:
                    proof = f"{last['proof_max_violation']:.2g}, {last['proof_gap']:.2g}"
            lines.append(
                f"| {name} | {mode} | {binding} | {_seconds(old)} | {_peak(old)} | {_seconds(new)} | {_peak(new)} | "
                f"{ratio_old} | {_seconds(full) if full else 'not run'} | {_peak(full)} | {ratio_full} | {how} | {proof} | "
                f"{'yes' if agree else '**NO**'} |"
            )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", default="large-heavy,stress-heavy,large,stress")
    parser.add_argument("--modes", default="strict,blended")
    parser.add_argument("--old-ref", default="HEAD~1", help="the method before (default HEAD~1)")
    parser.add_argument("--new-ref", default="HEAD", help="the method after (default HEAD)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--old-repeats", type=int, default=3)
    parser.add_argument("--full-lp", default="large-heavy,stress-heavy", help="cases to run the full LP on")
    parser.add_argument("--timeout", type=float, default=1800)
    parser.add_argument("--save", type=Path)
    parser.add_argument("--render", type=Path, help="re-render the table from a --save file, run nothing")
    parser.add_argument("--output", type=Path, help="write the table (Markdown) here")
    args = parser.parse_args(argv)
    if args.render:
        saved = json.loads(args.render.read_text(encoding="utf-8"))
    else:
        saved = measure(args)
        if args.save:
            args.save.write_text(json.dumps(saved, indent=1), encoding="utf-8")
    table = render(saved)
    print(table)
    if args.output:
        args.output.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
