"""Benchmark of `router-opt workload from-logs` on a generated request log (not a test: minutes, GBs).

    .venv/bin/python benchmarks/logs.py [--rows 10000000] [--formats parquet,csv,jsonl] [--dir /tmp/router-opt-logs]
        [--memory-limit 1GB] [--keep]

Generates a log of ROWS requests with DuckDB (30 days, 8 departments, 14 roles, 2,000 users, 17 task
types, 6 models; Parquet, CSV and/or JSONL), then runs the CLI on each file in its own process and reports
wall time and the child's peak RSS (`ru_maxrss` from wait4, so it is that run's alone), writing both the
workload and today's routing (`--current-routing`, what `optimize --actual` prices). Targets: issue 6,
10 million rows in under a minute and under 2 GiB; issue 17, workload and routing in under 30 s (Parquet). It also checks the output: the workload's
invocations x headcount x days add up to ROWS.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLI = ROOT / ".venv" / "bin" / "router-opt"
DAYS = 30
USERS = 2000
ROLES = [  # (department, role, its five task types)
    ("Customer Service", "Support", ["classification", "faq", "sentiment", "summarization", "drafting"]),
    ("Customer Service", "Manager", ["summarization", "drafting", "data_analysis", "faq", "research"]),
    (
        "Engineering",
        "Software Developer",
        ["code_generation", "summarization", "research", "agentic_workflow", "drafting"],
    ),
    (
        "Engineering",
        "DevOps",
        ["anomaly_detection", "classification", "code_generation", "summarization", "agentic_workflow"],
    ),
    ("Finance", "Analyst", ["data_analysis", "extraction", "classification", "summarization", "math_reasoning"]),
    ("Finance", "Compliance", ["screening", "legal_analysis", "extraction", "anomaly_detection", "summarization"]),
    ("HR", "Recruiter", ["screening", "drafting", "summarization", "extraction", "faq"]),
    ("HR", "Business Partner", ["drafting", "summarization", "research", "faq", "sentiment"]),
    ("Legal", "Corporate Counsel", ["legal_analysis", "summarization", "drafting", "research", "extraction"]),
    ("Marketing", "Content", ["creative_writing", "drafting", "translation", "tagging", "summarization"]),
    ("Marketing", "Analyst", ["data_analysis", "sentiment", "research", "tagging", "summarization"]),
    ("Sales", "Rep", ["drafting", "summarization", "research", "faq", "translation"]),
    ("Supply Chain", "Ops Manager", ["extraction", "anomaly_detection", "classification", "summarization", "faq"]),
    ("Supply Chain", "Analyst", ["data_analysis", "math_reasoning", "research", "summarization", "extraction"]),
]
MODELS = ["gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5", "claude-haiku-4-5", "gemini-2.5-flash", "deepseek-v3.2"]


def _sql_list(items) -> str:
    return "[" + ", ".join("'" + str(i).replace("'", "''") + "'" for i in items) + "]"


def generate(rows: int, directory: Path, formats: list[str]) -> dict[str, Path]:
    import duckdb

    directory.mkdir(parents=True, exist_ok=True)
    departments = _sql_list(r[0] for r in ROLES)
    roles = _sql_list(r[1] for r in ROLES)
    tasks = "[" + ", ".join(_sql_list(r[2]) for r in ROLES) + "]"
    select = f"""
        SELECT TIMESTAMP '2025-01-01' + to_seconds(CAST(hash(i, 1) % {DAYS * 86400} AS BIGINT)) AS timestamp,
               {departments}[CAST(i % {USERS} % {len(ROLES)} AS BIGINT) + 1] AS department,
               {roles}[CAST(i % {USERS} % {len(ROLES)} AS BIGINT) + 1] AS role,
               'user-' || CAST(i % {USERS} AS VARCHAR) AS "user",
               {tasks}[CAST(i % {USERS} % {len(ROLES)} AS BIGINT) + 1][CAST(hash(i, 2) % 5 AS BIGINT) + 1] AS task_type,
               {_sql_list(MODELS)}[CAST(hash(i, 3) % {len(MODELS)} AS BIGINT) + 1] AS model,
               CAST(100 + hash(i, 4) % 3000 AS BIGINT) AS input_tokens,
               CAST(20 + hash(i, 5) % 800 AS BIGINT) AS output_tokens
        FROM range({rows}) t(i)
    """
    paths = {}
    con = duckdb.connect()
    con.execute("SET preserve_insertion_order = false")
    for fmt in formats:
        path = directory / f"log-{rows}.{fmt}"
        if not path.exists():
            started = time.perf_counter()
            option = {"parquet": "(FORMAT parquet)", "csv": "(FORMAT csv, HEADER true)", "jsonl": "(FORMAT json)"}[fmt]
            con.execute(f"COPY ({select}) TO '{path}' {option}")
            print(f"generated {path} ({path.stat().st_size / 2**20:,.0f} MiB) in {time.perf_counter() - started:.1f} s")
        paths[fmt] = path
    con.close()
    return paths


def run(path: Path, out: Path, memory_limit: str) -> tuple[float, float, int]:
    """Wall seconds, peak RSS MiB, exit code of one CLI run in its own process."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [
            str(CLI),
            "workload",
            "from-logs",
            str(path),
            "-o",
            str(out),
            "--memory-limit",
            memory_limit,
            "--current-routing",
            str(out.with_name(out.stem + "-routing.csv")),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    stderr = proc.stderr.read().decode()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        print(stderr, file=sys.stderr)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def check(out: Path, rows: int) -> int:
    """Requests the workload accounts for: invocations/day x headcount x days, summed."""
    with out.open() as handle:
        return round(sum(float(r["invocations_per_day"]) * int(r["headcount"]) * DAYS for r in csv.DictReader(handle)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--formats", default="parquet,csv")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/router-opt-logs"))
    parser.add_argument("--memory-limit", default="1GB")
    parser.add_argument("--keep", action="store_true", help="Keep the generated logs for the next run.")
    args = parser.parse_args()
    paths = generate(args.rows, args.dir, [f.strip() for f in args.formats.split(",") if f.strip()])
    print(f"\n{'format':8} {'rows':>12} {'MiB':>8} {'wall s':>8} {'peak RSS MiB':>13}  check")
    try:
        for fmt, path in paths.items():
            out = args.dir / f"workload-{fmt}.csv"
            wall, rss, code = run(path, out, args.memory_limit)
            counted = check(out, args.rows) if code == 0 else -1
            verdict = "ok" if counted == args.rows else f"MISMATCH ({counted:,} requests)"
            print(
                f"{fmt:8} {args.rows:>12,} {path.stat().st_size / 2**20:>8,.0f} {wall:>8.1f} {rss:>13,.0f}  {verdict}"
            )
    finally:
        if not args.keep:
            shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
