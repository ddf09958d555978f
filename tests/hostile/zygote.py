"""Reads cases (JSON lines: id, args, dir) on stdin; forks one child per case from this process, which
has router_opt.cli imported already; prints one JSON line per case: exit code or signal, wall seconds,
peak RSS (wait4). The child's stdout and stderr go to <dir>.stdout / <dir>.stderr beside the case."""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time

import router_opt.cli  # noqa: F401  (imported once, before the forks)
from tests.hostile.runner import ADDRESS_SPACE_BYTES, KILL_SECONDS


def _child(args: list[str], directory: str, stdout: str, stderr: str) -> None:
    os.chdir(directory)
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_BYTES, ADDRESS_SPACE_BYTES))
    signal.alarm(KILL_SECONDS)  # SIGALRM's default action ends the process: a hang is reported, not waited on
    stdin = os.open(os.devnull, os.O_RDONLY)
    os.dup2(stdin, 0)
    for fd, path in ((1, stdout), (2, stderr)):
        target = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
    sys.argv = ["router-opt", *args]
    from router_opt.cli import entry_point

    entry_point()  # leaves with os._exit


def main() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        job = json.loads(line)
        directory = job["dir"]
        base = os.path.join(os.path.dirname(directory), job["id"])
        started = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            try:
                _child(job["args"], directory, base + ".stdout", base + ".stderr")
            finally:
                os._exit(70)
        _, status, usage = os.wait4(pid, 0)
        seconds = time.perf_counter() - started
        record = {
            "id": job["id"],
            "dir": directory,
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "seconds": seconds,
            "max_rss_bytes": usage.ru_maxrss * 1024,
        }
        print(json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
