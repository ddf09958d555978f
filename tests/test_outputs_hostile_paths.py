"""Outputs and paths (issue 15) where the hostile corpus cannot reach: a real `kill -9` of the
command in the middle of its write, permissions as an unprivileged user (root ignores file modes),
and /dev/stdout, which the corpus leaves alone (a regression run as root would replace it)."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from typer.testing import CliRunner

from router_opt.cli import app
from router_opt.io import writers

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "tests" / "data" / "base"
CONSOLE = Path(sys.executable).parent / "router-opt"
INPUTS = ["-c", str(BASE / "catalog.yaml"), "-w", str(BASE / "workload.csv"), "-p", str(BASE / "policy.yaml")]

# The command, stopped between writing its temporary file and renaming it (os.fsync never returns).
_STUCK = """
import os, sys, time
def stuck(fd):
    print("writing", flush=True)
    time.sleep(120)
os.fsync = stuck
sys.argv = ["router-opt", *sys.argv[1:]]
from router_opt.cli import entry_point
entry_point()
"""


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_command_killed_mid_write_leaves_its_temp_file_for_the_next_write_to_remove(tmp_path):
    out = tmp_path / "plan.json"
    out.write_text("the previous plan\n")
    stuck = subprocess.Popen(
        [sys.executable, "-c", _STUCK, "optimize", *INPUTS, "-f", "json", "-o", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert stuck.stdout.readline().strip() == "writing", stuck.stderr.read()
    finally:
        os.kill(stuck.pid, signal.SIGKILL)
        stuck.wait()
    left = _temps(tmp_path)
    assert left == [n for n in left if n.startswith(f".plan.json.{stuck.pid}.")] and len(left) == 1, left
    assert out.read_text() == "the previous plan\n"  # the kill left the old file whole
    done = subprocess.run(
        [str(CONSOLE), "optimize", *INPUTS, "-f", "json", "-o", str(out)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert _temps(tmp_path) == []  # the dead writer's temporary file is gone
    assert json.loads(out.read_text())["totals"]


def _as_nobody():
    """preexec_fn: drop to the unprivileged `nobody` (only when running as root)."""
    if os.geteuid() == 0:
        user = pwd.getpwnam("nobody")
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)


def _unprivileged_can_run() -> bool:
    """Whether the console script runs as the user the permission test drops to."""
    if os.geteuid() != 0:
        return True
    try:
        pwd.getpwnam("nobody")
        done = subprocess.run(
            [str(CONSOLE), "--version"], preexec_fn=_as_nobody, capture_output=True, check=False, timeout=60
        )
    except (KeyError, OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


def _permission_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="router-opt-perm-"))
    folder.chmod(0o755)
    secret = folder / "secret.yaml"
    shutil.copyfile(BASE / "policy.yaml", secret)
    secret.chmod(0o000)
    locked = folder / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return folder


def test_unreadable_input_and_unwritable_folder(monkeypatch):
    """chmod 000 on an input and 0555 on the output's folder. Root ignores modes, so as root the
    commands run as `nobody`; where `nobody` cannot run this interpreter (a Python under /root), the
    kernel's answer is stood in for: opening the input and creating a file in the folder raise
    EACCES, as they do for an unprivileged user."""
    folder = _permission_folder()
    try:
        if _unprivileged_can_run():
            env = {k: v for k, v in os.environ.items() if k != "ROUTER_OPT_DEBUG"} | {"HOME": str(folder)}

            def run(*args: str) -> tuple[int, str]:
                done = subprocess.run(
                    [str(CONSOLE), *args],
                    cwd=folder,
                    env=env | {"PYTHONDONTWRITEBYTECODE": "1"},
                    preexec_fn=_as_nobody,
                    capture_output=True,
                    text=True,
                    check=False,
                )
                return done.returncode, done.stdout + done.stderr
        else:
            real_open, real_mkstemp = os.open, tempfile.mkstemp

            def guarded_open(path, flags, *args, **kwargs):
                if Path(path).name == "secret.yaml":
                    raise PermissionError(13, "Permission denied", str(path))
                return real_open(path, flags, *args, **kwargs)

            def guarded_mkstemp(*args, **kwargs):
                if Path(kwargs.get("dir") or ".").name == "locked":
                    raise PermissionError(13, "Permission denied", str(kwargs.get("dir")))
                return real_mkstemp(*args, **kwargs)

            monkeypatch.setattr(os, "open", guarded_open)
            monkeypatch.setattr(tempfile, "mkstemp", guarded_mkstemp)
            monkeypatch.chdir(folder)

            def run(*args: str) -> tuple[int, str]:
                result = CliRunner().invoke(app, list(args))
                return result.exit_code, result.output

        code, text = run("validate", "secret.yaml")
        assert code == 2 and "secret.yaml: cannot be read: permission denied" in text, text
        code, text = run("optimize", *INPUTS, "-f", "json", "-o", "locked/plan.json")
        assert code == 2, text
        assert "--output locked/plan.json: cannot write in locked: permission denied" in text, text
        assert list((folder / "locked").iterdir()) == []
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_dev_stdout_and_descriptors_are_written_to_the_descriptor(monkeypatch):
    assert writers.descriptor_of("/dev/stdout") == 1
    assert writers.descriptor_of("/dev/stderr") == 2
    assert writers.descriptor_of("/dev/fd/7") == 7
    assert writers.descriptor_of("/proc/self/fd/3") == 3
    assert writers.descriptor_of("/dev/stdoutx") is None and writers.descriptor_of("fd/1") is None

    def never(path, data):  # a regression run as root would replace /dev/stdout: fail instead
        raise AssertionError(f"write_output({path}) called for a descriptor path")

    monkeypatch.setattr(writers, "write_output", never)
    result = CliRunner().invoke(app, ["optimize", *INPUTS, "-f", "json", "-o", "/dev/stdout"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["schema_version"]
