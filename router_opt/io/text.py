"""Reading a user's text file with errors a person can act on."""

from __future__ import annotations

from pathlib import Path

from router_opt.errors import InputError

# Workloads and catalogs are small; a file this large is a mistake (a log passed as a workload), and
# reading it whole would exhaust memory, so refuse it up front.
MAX_INPUT_BYTES = 200 * 1024 * 1024


def check_readable(path: Path) -> None:
    if not path.exists():
        raise InputError.single(str(path), "file not found")
    if path.is_dir():
        raise InputError.single(str(path), "is a directory, expected a file")
    size = path.stat().st_size
    if size == 0:
        raise InputError.single(str(path), "file is empty")
    if size > MAX_INPUT_BYTES:
        raise InputError.single(
            str(path), f"file is {_size(size)}; router-opt reads inputs up to {_size(MAX_INPUT_BYTES)}"
        )


def _size(n: int) -> str:
    """Bytes for a reader: whole MiB would show a file just over the limit as equal to it."""
    return f"{n / 2**20:,.1f} MiB" if n >= 2**20 else f"{n:,} bytes"


def read_text(path: Path) -> str:
    """The file as text: UTF-8 (a byte-order mark is allowed), not binary, not empty."""
    check_readable(path)
    raw = path.read_bytes()
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
