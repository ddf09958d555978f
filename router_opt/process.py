"""Settings for one short `router-opt` process, and how it leaves. The CLI uses them; the library
itself leaves the garbage collector, malloc and the interpreter's shutdown alone, since a program that
imports it may be long-lived. docs/PERFORMANCE.md ("Figures moved from code comments") has what each
setting measured."""

from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn, Self


def keep_freed_memory() -> None:
    """Ask glibc's malloc to keep freed memory for reuse instead of handing it back to the kernel.

    A large plan allocates and frees many task x model arrays (tens of MB each); by default glibc maps
    each one fresh (anything over 32 MB) and unmaps it when freed, so every new array pays for touching
    fresh pages again. A command is one short process, so holding the memory until exit costs nothing.
    No-op where libc has no mallopt (macOS, musl, Windows)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's <malloc.h>
    one_gib = 1 << 30
    mallopt(m_mmap_threshold, one_gib)
    mallopt(m_trim_threshold, one_gib)


class one_command:
    """While a command runs: the cyclic garbage collector off (a command's objects -- tables, rows,
    arrays -- hold no reference cycles, so reference counting frees them, and the collector would only
    rescan the 100,000s of live rows a large plan holds), and malloc keeping freed memory
    (`keep_freed_memory`). The collector is turned back on when the command ends."""

    def __enter__(self) -> Self:
        self.gc_was_enabled = gc.isenabled()
        gc.disable()
        keep_freed_memory()
        return self

    def __exit__(self, *exc) -> bool:
        if self.gc_was_enabled:
            gc.enable()
        return False


def exit_now(code: object) -> NoReturn:
    """Flush what was printed and leave with `code` without tearing the interpreter down: a command has
    written and fsynced its files by then, and what is left is freeing every object and module one by
    one (HiGHS, numpy, 100,000s of plan rows). A code that is not a number (`sys.exit("message")`) is
    printed and exits 1, as Python does."""
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`| head`) or a closed stream: nothing to save
            pass
    os._exit(code or 0)
