"""Recipes and checks for the outputs-and-paths cases (tests/data/hostile/outputs): special files
(FIFOs, sockets, links, devices, immutable folders), saved plans bent out of shape, request logs with
bad token counts, temporary files of a writer killed with SIGKILL. Each case works on copies in its
own directory: a case that goes wrong overwrites a copy, never the repository's data."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

from tests.hostile.runner import DATA, ROOT

SNAPSHOT = ".snapshot.json"
_PLANS: dict[tuple[str, bool], dict] = {}


def base_inputs(path: Path) -> None:
    """The base catalog, policy and workload, copied into the case's directory."""
    for name in ("catalog.yaml", "policy.yaml", "workload.csv"):
        shutil.copyfile(DATA / "base" / name, path / name)


def text_file(path: Path, text: str = "", repeat: int = 1) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text * repeat)


def symlink(path: Path, target: str) -> None:
    os.symlink(target, path)


def hardlink(path: Path, target: str) -> None:
    os.link(path.parent / target, path)


def fifo(path: Path) -> None:
    os.mkfifo(path)


def fifo_reader(path: Path, into: str = "received.txt") -> None:
    """A FIFO with a process reading it into `into`. Every case is prepared before the first one runs,
    so the reader must outlive the whole corpus (minutes on a loaded machine), not 30 s: it ends when the
    writer closes, and after 15 minutes at most."""
    os.mkfifo(path)
    subprocess.Popen(
        ["timeout", "900", "sh", "-c", f"cat '{path.name}' > '{into}'"],
        cwd=path.parent,
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def socket_file(path: Path) -> None:
    """A Unix socket's file (the socket itself closed: the file stays, as a left-over server's does)."""
    here = os.getcwd()
    os.chdir(path.parent)  # a socket's address is limited to 108 bytes: bind by the short name
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
            server.bind(path.name)
    finally:
        os.chdir(here)


def device_node(path: Path, major: int, minor: int, name: str) -> None:
    """A character device in the case's directory (/dev/<name>'s numbers), never the system's own: a
    regression that replaced a device with a file must not break /dev/null for the whole machine
    (router-opt before issue 15, run as root, replaced /dev/null, /dev/full, /dev/urandom and the
    /dev/stdout link). Where mknod is not allowed (not root, a nodev mount), a symbolic link to
    /dev/<name>: a process that may not make device nodes may not replace /dev either."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(major, minor))
        os.close(os.open(path, os.O_WRONLY))
    except OSError:
        path.unlink(missing_ok=True)
        os.symlink(f"/dev/{name}", path)


def directory(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)


def immutable_dir(path: Path) -> None:
    """A folder nobody may write in, root included: `chattr +i` where root runs the corpus (root
    ignores file modes), mode 0555 otherwise. The check `released` undoes it."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0 and shutil.which("chattr"):
        subprocess.run(["chattr", "+i", str(path)], check=True)
        # Released by the check; should the case fail before it, released anyway a minute later, so
        # that the corpus's directory can still be removed.
        subprocess.Popen(
            ["sh", "-c", f"sleep 60; chattr -i '{path}'"],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    else:
        path.chmod(0o555)


def _plan(mode: str, explain: bool) -> dict:
    """A plan of the base inputs saved as `optimize -f json` (made once per process)."""
    key = (mode, explain)
    if key not in _PLANS:
        from typer.testing import CliRunner

        from router_opt.cli import app

        base = DATA / "base"
        args = ["optimize", "-c", str(base / "catalog.yaml"), "-w", str(base / "workload.csv")]
        args += ["-p", str(base / "policy.yaml"), "--mode", mode, "-f", "json"] + (["--explain"] if explain else [])
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        _PLANS[key] = json.loads(result.stdout)
    return json.loads(json.dumps(_PLANS[key]))


def saved_plan(
    path: Path,
    mode: str = "strict",
    explain: bool = True,
    set: dict | None = None,  # the case file's word (shadows the builtin here only)
    drop: list[str] | None = None,
    replace: list[str] | None = None,
    cut: float | None = None,
) -> None:
    """A saved plan, then bent: `set` {"decisions.0.task": value}, `drop` ["decisions.0"], `replace`
    [old, new] on the JSON text (old must occur), `cut` keeps that share of the text (truncated)."""
    data = _plan(mode, explain)
    for dotted, value in (set or {}).items():
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    for dotted in drop or []:
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        del node[int(last) if isinstance(node, list) else last]
    text = json.dumps(data, indent=2)
    if replace:
        assert replace[0] in text, replace[0]
        text = text.replace(replace[0], replace[1], 1)
    if cut is not None:
        text = text[: int(len(text) * cut)]
    path.write_text(text)


def json_deep(path: Path, depth: int = 100_000) -> None:
    path.write_text('{"schema_version": "1.5", "settings": ' + "[" * depth + "]" * depth + "}")


def json_huge(path: Path, mib: int = 16) -> None:
    """A plan-shaped object whose `warnings` hold `mib` MiB of numbers (millions of JSON values)."""
    count = mib * 2**20 // 2
    path.write_text('{"schema_version": "1.5", "warnings": [' + "0," * count + "0]}")


LOG_HEADER = "timestamp,department,role,user,task_type,model,input_tokens,output_tokens\n"


def log_csv(path: Path, token: str = "100", good_rows: int = 3, bad_rows: int = 1, field: str = "input") -> None:
    """A request log: `good_rows` clean rows, then `bad_rows` whose input (or output) tokens are `token`."""
    rows = [f"2025-03-0{1 + i % 3}T10:00:00Z,Support,Agent,u{i},faq,gpt-4o,100,20\n" for i in range(good_rows)]
    for i in range(bad_rows):
        tokens = (token, "20") if field == "input" else ("100", token)
        rows.append(f"2025-03-01T11:00:00Z,Support,Agent,b{i},faq,gpt-4o,{tokens[0]},{tokens[1]}\n")
    path.write_text(LOG_HEADER + "".join(rows))


def log_jsonl(path: Path, token: str = "100") -> None:
    rows = [
        {"timestamp": "2025-03-01T10:00:00Z", "department": "Support", "role": "Agent", "user": "u1"}
        | {"task_type": "faq", "input_tokens": 100, "output_tokens": 20},
    ]
    bad = '{"timestamp": "2025-03-01T11:00:00Z", "department": "Support", "role": "Agent", "user": "u2", '
    bad += f'"task_type": "faq", "input_tokens": {token}, "output_tokens": 20}}\n'
    path.write_text("".join(json.dumps(r) + "\n" for r in rows) + bad)


_KILLED_WRITER = """
import os, sys, time
from router_opt.io import writers
def stuck(fd):
    print("writing", flush=True)
    time.sleep(60)
os.fsync = stuck
writers.write_output(sys.argv[1], "x" * 100000)
"""


def killed_writer(path: Path) -> None:
    """A writer of `path` killed with SIGKILL between writing its temporary file and renaming it: the
    temporary file `.<name>.<pid>.<random>.tmp` stays behind (asserted here)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "writing"
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    left = [p for p in path.parent.iterdir() if p.name.startswith(f".{path.name}.{process.pid}.")]
    assert left and not path.exists(), list(path.parent.iterdir())


def live_temp(path: Path) -> None:
    """A temporary file of a writer that still runs (pid 1): it must be left alone."""
    (path.parent / f".{path.name}.1.alive.tmp").write_text("another writer's, still running")


def snapshot(path: Path) -> None:
    """Record every entry of the case's directory (type, bytes' hash, link target), for `untouched`."""
    entries = {}
    for entry in sorted(path.iterdir()):
        if entry.name == SNAPSHOT:
            continue
        entries[entry.name] = _describe(entry)
    (path / SNAPSHOT).write_text(json.dumps(entries, indent=1))


def _describe(entry: Path) -> dict:
    st = os.lstat(entry)
    kind = stat.S_IFMT(st.st_mode)
    out: dict = {"type": kind, "inode": st.st_ino}
    if stat.S_ISREG(st.st_mode):
        out["sha256"] = hashlib.sha256(entry.read_bytes()).hexdigest()
    elif stat.S_ISLNK(st.st_mode):
        out["target"] = os.readlink(entry)
    return out


RECIPES = {
    f.__name__: f
    for f in (
        base_inputs,
        text_file,
        symlink,
        hardlink,
        fifo,
        fifo_reader,
        socket_file,
        device_node,
        directory,
        immutable_dir,
        saved_plan,
        json_deep,
        json_huge,
        log_csv,
        log_jsonl,
        killed_writer,
        live_temp,
        snapshot,
    )
}


# --- checks: each asserts something about the case's directory after the run ---


def _temp_files(case_dir: Path) -> list[str]:
    return [p.name for p in case_dir.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp")]


def untouched(case_dir: Path, stdout: str, stderr: str) -> None:
    """Every entry recorded by `snapshot` is as it was (same type, bytes, inode, link target), and
    nothing new but the named output appeared."""
    recorded = json.loads((case_dir / SNAPSHOT).read_text())
    for name, before in recorded.items():
        assert (case_dir / name).exists() or os.path.islink(case_dir / name), f"{name} was removed"
        assert _describe(case_dir / name) == before, f"{name} changed: {before} -> {_describe(case_dir / name)}"
    assert not _temp_files(case_dir), f"temporary files left: {_temp_files(case_dir)}"
    assert not (case_dir / "out.json").exists() or "out.json" in recorded


def untouched_and_released(case_dir: Path, stdout: str, stderr: str) -> None:
    """`untouched`, then the immutable folder made by `immutable_dir` (named `locked`) released."""
    try:
        untouched(case_dir, stdout, stderr)
        assert not any((case_dir / "locked").iterdir()), "something was written in the locked folder"
    finally:
        if shutil.which("chattr"):
            subprocess.run(["chattr", "-i", str(case_dir / "locked")], check=False)


def _json_file(path: Path) -> dict:
    assert path.is_file() and not path.is_symlink(), f"{path.name} is not a regular file"
    return json.loads(path.read_text())


def out_written(case_dir: Path, stdout: str, stderr: str) -> None:
    """out.json is a plan (or policy) in JSON, and no temporary file is left."""
    assert _json_file(case_dir / "out.json")
    assert not _temp_files(case_dir), f"temporary files left: {_temp_files(case_dir)}"


def swept(case_dir: Path, stdout: str, stderr: str) -> None:
    """out.json written; the killed writer's temporary file is gone; a live writer's (pid 1) stays."""
    assert _json_file(case_dir / "out.json")
    left = _temp_files(case_dir)
    assert all(".1.alive." in name for name in left), f"a dead writer's temporary file survived: {left}"


def live_temp_kept(case_dir: Path, stdout: str, stderr: str) -> None:
    swept(case_dir, stdout, stderr)
    assert (case_dir / ".out.json.1.alive.tmp").exists(), "a live writer's temporary file was removed"


def through_link(case_dir: Path, stdout: str, stderr: str) -> None:
    """`link.json` is still a symbolic link, and the file it points to holds the new output."""
    assert (case_dir / "link.json").is_symlink(), "the link was replaced by a file"
    assert _json_file(case_dir / "target.json").get("schema_version")
    assert not _temp_files(case_dir)


def fifo_received(case_dir: Path, stdout: str, stderr: str) -> None:
    """The FIFO is still a FIFO, and its reader received the whole output."""
    assert stat.S_ISFIFO(os.lstat(case_dir / "pipe").st_mode), "the FIFO was replaced"
    received = case_dir / "received.txt"
    for _ in range(50):  # the reader (cat) may still be writing
        try:
            if json.loads(received.read_text()):
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"the reader got {received.read_text()[:200] if received.exists() else 'nothing'!r}")


def stdout_json(case_dir: Path, stdout: str, stderr: str) -> None:
    """The output went to standard output (the descriptor), whole."""
    assert json.loads(stdout)["schema_version"]


def dev_null_kept(case_dir: Path, stdout: str, stderr: str) -> None:
    """The null device `null` (made by `device_node`) is still the null device, not a file holding the
    output (as root, a rename over it replaced it), and so is /dev/null."""
    for path in (case_dir / "null", Path("/dev/null")):
        st = os.stat(path)
        assert stat.S_ISCHR(st.st_mode), f"{path} is no longer a device"
        assert (os.major(st.st_rdev), os.minor(st.st_rdev)) == (1, 3), path
    assert not stdout.strip()
    untouched(case_dir, stdout, stderr)


def workload_from_log(case_dir: Path, stdout: str, stderr: str) -> None:
    """The workload has the clean rows only: 3 users' faq at 100 input tokens."""
    lines = stdout.strip().splitlines()
    assert lines[0].startswith("department,role,headcount"), stdout
    assert len(lines) == 2 and lines[1].split(",")[6] == "100", stdout


CHECKS = {
    f.__name__: f
    for f in (
        untouched,
        untouched_and_released,
        out_written,
        swept,
        live_temp_kept,
        through_link,
        fifo_received,
        stdout_json,
        dev_null_kept,
        workload_from_log,
    )
}
