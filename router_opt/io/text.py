"""Reading a user's text file with errors a person can act on.

Every input is opened the same way (`open_input`): the path is looked up first and anything but a
regular file is refused and named for what it is (a directory, a named pipe, a socket, a device, a
file of the kernel's /proc or /sys), so no read ever blocks on a FIFO or runs on forever on
/dev/zero; the file is then opened without blocking and checked again on the open descriptor, and
read to at most `MAX_INPUT_BYTES`.

Within `tracking_files()` (each CLI command runs inside one) every input opened is recorded, so the
writers can refuse an output that is one of the command's own inputs (router_opt.io.writers)."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from router_opt.errors import InputError

# Workloads and catalogs are small; a file this large is a mistake (a log passed as a workload), and
# reading it whole would exhaust memory, so refuse it up front.
MAX_INPUT_BYTES = 200 * 1024 * 1024

# Kernel file systems: their files say size 0 and change as they are read; never a user's data.
_VIRTUAL_ROOTS = ("/proc", "/sys")


@dataclass
class FilesOfRun:
    """What one command has read and written so far."""

    inputs: dict[tuple[int, int], str] = field(default_factory=dict)
    """(device, inode) -> the path the input was given as."""
    input_paths: dict[str, str] = field(default_factory=dict)
    """Resolved path -> the path the input was given as."""
    outputs: dict[tuple[int, int], str] = field(default_factory=dict)
    """(device, inode) -> the path an output was written to."""

    def input_named(self, st: os.stat_result | None, resolved: str) -> str | None:
        """The input (as given) that is this file, by inode or by resolved path, if any."""
        if st is not None and (st.st_dev, st.st_ino) in self.inputs:
            return self.inputs[(st.st_dev, st.st_ino)]
        return self.input_paths.get(resolved)


_FILES: ContextVar[FilesOfRun | None] = ContextVar("router_opt_files_of_run", default=None)


@contextlib.contextmanager
def tracking_files() -> Iterator[FilesOfRun]:
    """Record the inputs opened (and outputs written) inside the block: one command's files."""
    token = _FILES.set(FilesOfRun())
    try:
        yield _FILES.get()
    finally:
        _FILES.reset(token)


def files_of_run() -> FilesOfRun | None:
    return _FILES.get()


def note_input(path: str | Path, st: os.stat_result) -> None:
    """Record an input of the current command (a no-op outside `tracking_files`)."""
    files = _FILES.get()
    if files is not None:
        files.inputs.setdefault((st.st_dev, st.st_ino), str(path))
        files.input_paths.setdefault(os.path.realpath(path), str(path))


def kind_of(st: os.stat_result) -> str | None:
    """What a file that is not a regular file is, in words (None for a regular file)."""
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return f"a character device ({os.major(st.st_rdev)}:{os.minor(st.st_rdev)})"
    if stat.S_ISBLK(mode):
        return f"a block device ({os.major(st.st_rdev)}:{os.minor(st.st_rdev)})"
    return "not a regular file"


def is_virtual(path: str | Path) -> bool:
    """Whether the file lies in a kernel file system (/proc, /sys), symbolic links followed."""
    resolved = os.path.realpath(path)
    return any(resolved == root or resolved.startswith(root + "/") for root in _VIRTUAL_ROOTS)


def _missing(path: Path) -> str:
    """Why a path that cannot be looked up is missing, in words."""
    if os.path.islink(path):
        return f"is a symbolic link to {os.readlink(path)}, which does not exist"
    for parent in reversed(path.parents):
        if str(parent) in ("", ".", "/"):
            continue
        if parent.exists() and not parent.is_dir():
            return f"file not found ({parent} is a file, not a directory)"
    return "file not found"


def _stat(path: Path) -> os.stat_result:
    """os.stat with the failures a person can cause said in words."""
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        raise InputError.single(str(path), _missing(path)) from None
    except PermissionError:
        raise InputError.single(str(path), "cannot be read: permission denied") from None
    except OSError as exc:  # a symbolic-link loop, a name too long
        raise InputError.single(str(path), f"cannot be read: {exc.strerror or exc}") from None


def check_readable(path: Path) -> os.stat_result:
    """The file's status, if it is a regular file router-opt may read; else a message naming what it
    is. Opens nothing (a FIFO is never opened, so this never blocks)."""
    path = Path(path)
    st = check_regular(path)
    size = st.st_size
    if size == 0:
        raise InputError.single(str(path), "file is empty")
    if size > MAX_INPUT_BYTES:
        raise InputError.single(
            str(path), f"file is {_size(size)}; router-opt reads inputs up to {_size(MAX_INPUT_BYTES)}"
        )
    return st


def check_regular(path: Path) -> os.stat_result:
    """The file's status, if it is a regular file outside /proc and /sys (any size; recorded as an
    input of the command); else a message naming what it is. Opens nothing."""
    path = Path(path)
    st = _stat(path)
    kind = kind_of(st)
    if kind is not None:
        hint = {
            "a directory": ", expected a file",
            "a named pipe (FIFO)": ", expected a regular file (router-opt reads an input more than once: save it to a file first)",
        }.get(kind, ", expected a regular file")
        raise InputError.single(str(path), f"is {kind}{hint}")
    if is_virtual(path):
        raise InputError.single(
            str(path),
            f"is a file of the kernel's /{os.path.realpath(path).split('/')[1]} file system "
            f"({os.path.realpath(path)}), not a data file; copy what you need into a regular file",
        )
    note_input(path, st)
    return st


def _size(n: int) -> str:
    """Bytes for a reader: whole MiB would show a file just over the limit as equal to it."""
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


def read_bytes(path: Path) -> bytes:
    """The file's bytes: a regular file (checked before and after opening, which never blocks), at
    most MAX_INPUT_BYTES, not empty."""
    path = Path(path)
    checked = check_readable(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except PermissionError:
        raise InputError.single(str(path), "cannot be read: permission denied") from None
    except OSError as exc:
        raise InputError.single(str(path), f"cannot be read: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb", buffering=0) as handle:
        st = os.fstat(fd)
        if (st.st_dev, st.st_ino) != (checked.st_dev, checked.st_ino) or kind_of(st) is not None:
            raise InputError.single(str(path), "changed while being opened (replaced by another file); try again")
        chunks, total = [], 0
        try:
            while total <= MAX_INPUT_BYTES:
                chunk = handle.read(min(1 << 20, MAX_INPUT_BYTES + 1 - total))
                if not chunk:
                    break
                chunks.append(chunk)
                total += len(chunk)
        except OSError as exc:
            raise InputError.single(str(path), f"cannot be read: {exc.strerror or exc}") from None
    if total > MAX_INPUT_BYTES:
        raise InputError.single(str(path), f"file grew past {_size(MAX_INPUT_BYTES)} while being read")
    if total == 0:
        raise InputError.single(str(path), "file is empty")
    return b"".join(chunks)


def read_text(path: Path) -> str:
    """The file as text: UTF-8 (a byte-order mark is allowed), not binary, not empty."""
    raw = read_bytes(path)
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text", Windows Notepad's "Unicode"
        raise InputError.single(str(path), "is UTF-16 text; save it as UTF-8 (in Excel: CSV UTF-8)")
    if b"\x00" in raw[:8192]:
        raise InputError.single(str(path), "looks like a binary file, expected UTF-8 text")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError.single(
            str(path),
            f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save it as UTF-8",
            line=line,
        ) from None
    if not text.strip():
        raise InputError.single(str(path), "file is empty")
    return text
