"""Building a result's rows column by column: numpy over tasks and models, never a Python loop
over every (task, model) cell (at 50,000 tasks the loops cost more than the solve)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydantic import BaseModel

from router_opt.models import rows_from_columns


def rows_of(cls: type[BaseModel], **columns: list) -> tuple:
    """Instances of `cls` from equal-length columns (see `rows_from_columns`)."""
    return rows_from_columns(cls, columns)


def grouped(rows: np.ndarray, values: list, n_rows: int) -> list[tuple]:
    """Per row r, the tuple of values[i] for the entries i with rows[i] == r (rows sorted)."""
    out: list[tuple] = [()] * n_rows
    if rows.size:
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        stops = np.r_[starts[1:], rows.size]
        for row, a, b in zip(rows[starts].tolist(), starts.tolist(), stops.tolist()):
            out[row] = tuple(values[a:b])
    return out


def ordered(mask: np.ndarray, key: np.ndarray, label: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> list[tuple]:
    """Per row, label(rows, cols) for the columns where `mask` holds, ordered by `key` then column.
    One sort over the selected entries instead of a Python loop over every cell; labels are made
    for the selected entries only."""
    rows, cols = np.nonzero(mask)  # rows ascending, columns ascending within a row
    # Order by (row, key, column) with two sorts instead of a three-key lexsort (1.7x faster at
    # 500,000 entries): each entry's rank among all keys (stable, so equal keys keep column
    # order), then one integer sort on row and rank.
    by_key = np.argsort(key[rows, cols], kind="stable")
    rank = np.empty(rows.size, dtype=np.int64)
    rank[by_key] = np.arange(rows.size)
    order = np.argsort(rows.astype(np.int64) * max(rows.size, 1) + rank)
    rows, cols = rows[order], cols[order]
    return grouped(rows, label(rows, cols).tolist(), mask.shape[0])


def first_k(mask: np.ndarray, key: np.ndarray, labels: np.ndarray, k: int, scratch: np.ndarray) -> list[tuple]:
    """Per row, labels[col] for the first k columns where `mask` holds, ordered by `key` then column:
    k argmins over the matrix (argmin keeps the lowest column among ties) instead of sorting every
    selected entry. `key` is finite where `mask` holds (prices are). `scratch` (the shape of `key`,
    float) is overwritten: reusing a T x M buffer spares the page faults of a fresh one."""
    n_rows = mask.shape[0]
    masked = scratch
    np.copyto(masked, key)
    np.copyto(masked, np.inf, where=~mask)
    counts = np.minimum(mask.sum(axis=1), k)
    rows = np.arange(n_rows)
    picks = np.zeros((n_rows, k), dtype=np.intp)
    for j in range(min(k, mask.shape[1])):
        picks[:, j] = masked.argmin(axis=1)
        masked[rows, picks[:, j]] = np.inf
    taken = np.arange(k)[None, :] < counts[:, None]
    entry_rows = np.broadcast_to(rows[:, None], picks.shape)[taken]
    return grouped(entry_rows, labels[picks[taken]].tolist(), n_rows)
