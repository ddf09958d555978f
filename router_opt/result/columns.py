"""Building a result's rows column by column: numpy over tasks and models, never a Python loop
over every (task, model) cell (at 50,000 tasks the loops cost more than the solve)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
from pydantic import BaseModel, GetCoreSchemaHandler
from pydantic_core import core_schema

from router_opt.models import rows_from_columns

# Rows the plan's JSON makes, writes and drops at a time (see RowTable).
CHUNK_ROWS = 4096


def rows_of(cls: type[BaseModel], **columns: list) -> tuple:
    """Instances of `cls` from equal-length columns (see `rows_from_columns`)."""
    return rows_from_columns(cls, columns)


class RowTable(Sequence):
    """A result table (tasks, assignments, decision records) kept as the columns it was built from:
    a read-only sequence of `row_type` rows, made from the columns on first read and then kept.

    The plan's JSON never makes them all: it makes, serialises and drops a chunk of CHUNK_ROWS rows
    at a time (`RowTableField`), so writing a plan holds its columns (numpy arrays: 8 bytes a
    figure) and one chunk instead of a Python object per row and figure (docs/PERFORMANCE.md,
    "Memory"). Compares equal to the same rows as any sequence (another RowTable, a tuple, a list)."""

    __slots__ = ("_columns", "_length", "_plain", "_rows", "row_type")

    def __init__(self, row_type: type[BaseModel], columns: dict[str, Sequence]):
        lengths = {len(column) for column in columns.values()}
        if set(columns) != set(row_type.model_fields) or len(lengths) != 1:
            raise ValueError(f"{row_type.__name__}: one equal-length column per field")
        self.row_type = row_type
        self._columns = columns
        self._length = lengths.pop()
        self._rows: tuple | None = None
        self._plain: bool | None = None

    def _make(self, start: int, stop: int) -> tuple:
        columns = {name: _values(column, start, stop) for name, column in self._columns.items()}
        return rows_from_columns(self.row_type, columns)

    def rows(self) -> tuple:
        if self._rows is None:
            self._rows = self._make(0, self._length)
        return self._rows

    def chunks(self) -> Iterator[tuple]:
        """The rows in order, CHUNK_ROWS at a time, made for the caller and not kept (the kept rows
        when something has read them already)."""
        if self._rows is not None:
            yield self._rows
            return
        for start in range(0, self._length, CHUNK_ROWS):
            yield self._make(start, min(start + CHUNK_ROWS, self._length))

    def plain(self) -> bool:
        """Whether every column holds only text, whole numbers and finite floats: values that
        pydantic's inference serialises exactly as the rows' own schema does (a NaN or infinity it
        would leave a float in a Python dump, where the schema makes it None)."""
        if self._plain is None:
            self._plain = all(_plain_column(column) for column in self._columns.values())
        return self._plain

    def dicts(self) -> Iterator[dict]:
        """Each row as {field: value} in the rows' field order, without making the rows: what the
        rows' schema would serialise them to when the table is `plain`."""
        names = tuple(self.row_type.model_fields)
        for start in range(0, self._length, CHUNK_ROWS):
            stop = min(start + CHUNK_ROWS, self._length)
            for values in zip(*(_values(self._columns[name], start, stop) for name in names)):
                yield dict(zip(names, values))

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index):
        return self.rows()[index]

    def __iter__(self) -> Iterator:
        return iter(self.rows())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RowTable):
            return self._length == other._length and self.rows() == other.rows()
        if isinstance(other, (tuple, list)):
            return self.rows() == tuple(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.rows())

    def __repr__(self) -> str:
        return f"RowTable({self._length} {self.row_type.__name__} rows)"


def _values(column, start: int, stop: int) -> list:
    """A column's Python values from `start` to `stop` (numpy's numbers as Python floats and ints)."""
    part = column[start:stop]
    return part.tolist() if isinstance(part, np.ndarray) else list(part)


def _plain_column(column) -> bool:
    if isinstance(column, np.ndarray) and column.dtype.kind in "iu":
        return True
    if isinstance(column, np.ndarray) and column.dtype.kind == "f":
        return bool(np.isfinite(column).all())
    return set(map(type, column)) <= {str}


class RowTableField:
    """pydantic: a `tuple[Row, ...]` field that also holds a RowTable as it is (no row is made to
    validate it). A tuple of rows validates and serialises as before. A RowTable serialises to
    JSON a chunk of rows at a time: a `plain` table as each row's {field: value}, which is what the
    rows' schema makes of such values, else through the tuple's own serializer; either way the same
    bytes as the tuple of its rows. To Python objects, and with include, exclude or the exclude_*
    options, it serialises as that tuple."""

    def __get_pydantic_core_schema__(self, source, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        rows_schema = handler(source)

        def validate(value, validate_rows):
            return value if isinstance(value, RowTable) else validate_rows(value)

        def serialize(value, serialize_rows, info):
            if not isinstance(value, RowTable):
                return serialize_rows(value)
            whole = info.include is None and info.exclude is None
            if info.mode_is_json() and whole and not (info.exclude_none or info.exclude_defaults or info.exclude_unset):
                if value.plain():
                    return value.dicts()
                return (item for chunk in value.chunks() for item in serialize_rows(chunk))
            return serialize_rows(value.rows())

        return core_schema.no_info_wrap_validator_function(
            validate,
            rows_schema,
            serialization=core_schema.wrap_serializer_function_ser_schema(serialize, schema=rows_schema, info_arg=True),
        )


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


def first_k(mask: np.ndarray, key, labels: np.ndarray, k: int, scratch: np.ndarray) -> list[tuple]:
    """Per row, labels[col] for the first k columns where `mask` holds, ordered by `key` then column:
    k argmins over the matrix (argmin keeps the lowest column among ties) instead of sorting every
    selected entry. `key` (an array or frame.PairValues) is finite where `mask` holds (prices are).
    `scratch` (the shape of `key`, float) is overwritten: reusing a T x M buffer spares the page
    faults of a fresh one."""
    n_rows = mask.shape[0]
    masked = scratch
    if isinstance(key, np.ndarray):
        np.copyto(masked, key)
    else:
        key.dense(out=masked)
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
