"""Writing outputs so that a reader never sees half a file, and nothing but the output is touched.

Rules (`write_output`):
- a regular file (or a new name) is written atomically: a temporary file beside it, fsynced, then
  renamed over it, so it is either left whole or replaced whole; through a symbolic link the file it
  points to is replaced (the link stays);
- an output that is one of the command's own inputs (the same resolved path, or the same inode:
  a symbolic or hard link to it) is refused, as is writing two outputs of one command to one file;
- a named pipe with a reader, a terminal, /dev/null, /dev/zero and /dev/full are written into in
  place, never replaced by a regular file; a pipe without a reader is refused (never waited on);
  a directory, socket, block device or any other device is refused;
- /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N are written into the open descriptor;
- temporary files are named `.<name>.<pid>.<random>.tmp`; a failed write removes its own, and every
  write removes those left by writers that no longer run (a `kill -9` mid-write).
Every failure is an `OutputError` (exit 2) naming the path and the reason."""

from __future__ import annotations

import errno
import os
import re
import stat
import tempfile
from pathlib import Path

from router_opt.errors import RouterOptError
from router_opt.io.text import files_of_run, is_virtual, kind_of

# Character devices written into in place: (major, minor) of /dev/null, /dev/zero, /dev/full.
_MEMORY_DEVICES = {(1, 3), (1, 5), (1, 7)}
_FD_PATH = re.compile(r"^/(?:dev/fd|proc/self/fd)/(\d+)$")
# A temporary file's name keeps at most this much of the output's name (a name is at most 255 bytes).
_TEMP_NAME_CHARS = 100


class OutputError(RouterOptError):
    """An output that cannot or must not be written."""

    def __init__(self, path: str | Path, reason: str):
        shown = str(path) if str(path) not in ("", ".") else f"{str(path)!r} (the current directory)"
        super().__init__(f"`output` {shown}: {reason}", option="output")


def descriptor_of(path: str | Path) -> int | None:
    """The open file descriptor a path names (/dev/stdout: 1, /dev/fd/3: 3), or None."""
    text = str(path)
    if text == "/dev/stdout":
        return 1
    if text == "/dev/stderr":
        return 2
    match = _FD_PATH.match(text)
    return int(match.group(1)) if match else None


def _reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "read-only file system"
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "no space left on the device (disk full or quota reached)"
    return exc.strerror or str(exc)


def _write_all(fd: int, payload: bytes) -> None:
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _write_descriptor(path: str | Path, fd: int, payload: bytes) -> None:
    try:
        _write_all(fd, payload)
    except OSError as exc:
        reason = "not an open file descriptor" if exc.errno == errno.EBADF else _reason(exc)
        raise OutputError(path, f"cannot write: {reason}") from None


def _write_in_place(path: str | Path, st: os.stat_result, payload: bytes) -> None:
    """A pipe, a terminal or a memory device: written into, never replaced."""
    flags = os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if stat.S_ISFIFO(st.st_mode):
        flags |= os.O_NONBLOCK  # a pipe without a reader fails now (ENXIO) rather than waiting
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise OutputError(
                path, "is a named pipe (FIFO) that no process is reading; start the reader first, or give a file"
            ) from None
        raise OutputError(path, f"cannot open: {_reason(exc)}") from None
    try:
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise OutputError(path, "changed while being opened; try again")
        if stat.S_ISFIFO(st.st_mode):
            os.set_blocking(fd, True)
        _write_all(fd, payload)
    except OSError as exc:
        raise OutputError(path, f"cannot write: {_reason(exc)}") from None
    finally:
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:
        return True
    return True


def _temp_prefix(name: str) -> str:
    return f".{name[:_TEMP_NAME_CHARS]}."


def sweep_temp_files(target: Path) -> list[Path]:
    """Remove the temporary files of earlier writes of `target` whose writer no longer runs (killed
    mid-write); the removed paths."""
    prefix = _temp_prefix(target.name)
    pattern = re.compile(re.escape(prefix) + r"(\d+)\.[A-Za-z0-9_]+\.tmp$")
    removed = []
    try:
        names = os.listdir(target.parent)
    except OSError:
        return removed
    for name in names:
        match = pattern.match(name)
        if match is None or int(match.group(1)) == os.getpid() or _alive(int(match.group(1))):
            continue
        stale = target.parent / name
        try:
            if stat.S_ISREG(os.lstat(stale).st_mode):
                stale.unlink()
                removed.append(stale)
        except OSError:
            pass
    return removed


def _file_in_the_way(path: Path) -> Path | None:
    """The first parent of `path` that exists and is not a directory."""
    for parent in reversed(path.parents):
        if str(parent) in ("", ".", "/"):
            continue
        if parent.exists() and not parent.is_dir():
            return parent
    return None


def _replace_atomically(shown: str | Path, target: Path, payload: bytes, mode: int | None) -> None:
    directory = target.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = _file_in_the_way(target)
        raise OutputError(shown, f"{blocker or directory} is a file, not a directory") from None
    except OSError as exc:
        raise OutputError(shown, f"cannot create the folder {directory}: {_reason(exc)}") from None
    sweep_temp_files(target)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(target.name)}{os.getpid()}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(shown, f"cannot write in {directory}: {_reason(exc)}") from None
    try:
        # mkstemp makes the file private (0600); give the result the mode a plain open() would, or
        # the mode of the file it replaces.
        if mode is None:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise OutputError(shown, f"cannot write: {_reason(exc)}") from exc
        raise
    _fsync_directory(directory)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (where the platform allows opening a directory)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_output(path: str | Path, data: str | bytes) -> Path:
    """Write `data` to `path` under the rules of this module; the path written."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    given = Path(path)
    if str(path) == "":
        raise OutputError(path, "is empty; give a file name")
    fd = descriptor_of(path)
    if fd is not None:
        _write_descriptor(path, fd, payload)
        return given
    try:
        st: os.stat_result | None = os.stat(given)
    except (FileNotFoundError, NotADirectoryError):
        st = None
    except OSError as exc:  # a symbolic-link loop, permission denied on a folder, a name too long
        raise OutputError(path, f"cannot be reached: {_reason(exc)}") from None
    resolved = os.path.realpath(given)
    if is_virtual(resolved):
        raise OutputError(
            path, f"is in the kernel's /{resolved.split('/')[1]} file system ({resolved}), not a place for files"
        )
    files = files_of_run()
    if files is not None:
        source = files.input_named(st, resolved)
        if source is not None:
            same = "" if source == str(path) else f" ({source}, the same file)"
            raise OutputError(path, f"is one of this command's inputs{same}; write the output to another file")
        if st is not None and (st.st_dev, st.st_ino) in files.outputs:
            raise OutputError(path, f"is already written by this command (as {files.outputs[(st.st_dev, st.st_ino)]})")
    if st is not None and kind_of(st) is not None:
        kind = kind_of(st)
        writable = stat.S_ISFIFO(st.st_mode) or (
            stat.S_ISCHR(st.st_mode)
            and ((os.major(st.st_rdev), os.minor(st.st_rdev)) in _MEMORY_DEVICES or _is_terminal(st))
        )
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(path, "is a directory; give a file name")
        if not writable:
            raise OutputError(
                path,
                f"is {kind}; router-opt writes to regular files, named pipes, terminals and /dev/null only",
            )
        _write_in_place(path, st, payload)
        return given
    target = Path(resolved) if given.is_symlink() or st is not None else given
    _replace_atomically(path, target, payload, st.st_mode & 0o777 if st is not None else None)
    if files is not None:
        written = os.stat(target)
        files.outputs[(written.st_dev, written.st_ino)] = str(path)
    return given


def _is_terminal(st: os.stat_result) -> bool:
    """A terminal, by its device number (opening an unknown device can have effects: a watchdog)."""
    major = os.major(st.st_rdev)
    return major in (4, 5) or 136 <= major <= 143


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """The library's name for `write_output`: a regular file is written to a temporary file beside
    it and renamed over it, so it is either left whole or replaced whole."""
    return write_output(path, data)
