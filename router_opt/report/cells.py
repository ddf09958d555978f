"""CSV cells a spreadsheet cannot run: every CSV renderer (the plan's assignments, FOCUS, the catalog)
writes through `SafeCsvWriter`.

A leaf of the package: it imports nothing else of router_opt.report."""

from __future__ import annotations

import csv
import io

# A spreadsheet reads a cell starting with one of these as a formula (CSV injection, OWASP).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_text_cell(text: str) -> str:
    """A text cell a spreadsheet shows as text: one starting with = + - @ tab or CR gets a leading
    single quote, as OWASP's "CSV Injection" page advises (the csv module quotes separators and
    quotes, so no cell can start inside another)."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_cell(value: object) -> str:
    """One CSV cell: numbers as numbers (floats at full precision, so -2.5 stays -2.5), None empty,
    everything else as text made safe by `safe_text_cell`."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    return safe_text_cell(str(value))


class SafeCsvWriter:
    """`csv.writer` (lines end in \\n) writing every value through `csv_cell`. A cell holding a carriage
    return is quoted too: Python before 3.12 writes it bare, and a spreadsheet reads it as a new row
    (whose first cell could be a formula)."""

    def __init__(self, out: io.StringIO) -> None:
        self._out = out
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, values) -> None:
        cells = [csv_cell(v) for v in values]
        if any("\r" in c for c in cells):
            self._out.write(",".join(_quoted(c) for c in cells) + "\n")
        else:
            self._writer.writerow(cells)


def _quoted(cell: str) -> str:
    if any(ch in cell for ch in ',"\r\n'):
        return '"' + cell.replace('"', '""') + '"'
    return cell
