"""The stored deal lines: compressed columnar segments in the database, read back as Arrow.

A deals history is millions of lines and every question asked of it (the report, a policy
what-if, guidance, impact) reads whole columns. As one row per line, SQLite took ten seconds to
store a million lines and two to scan them. Here lines are kept in segments of up to
``SEGMENT`` lines, each column of a segment one zstd-compressed Arrow blob: they store in a
fraction of that, a question fetches and decompresses only the columns it needs (on every core),
and DuckDB aggregates them straight from memory. The blobs live in the one database, SQLite or
PostgreSQL, so an import still commits or rolls back whole and a team shares one history.

Segments are immutable: a rematch or a won request rewrites the segments it changes, inside
the caller's transaction. Segments keep the file's order, and exports usually come in date
order, so a new edition effective from a recent date mostly rewrites the recent segments.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from datetime import date
from typing import TYPE_CHECKING, Literal, TypedDict, TypeVar

from pricing.io.arrow import fill_null
from pricing.lines import schema
from pricing.storage import deal_tables

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import pyarrow as pa
    from sqlalchemy.engine import Connection

    from pricing.io.arrow import Array, Column

    # Columns to store: Arrow arrays by name, or a pandas frame.
    Columns = Mapping[str, Column] | pd.DataFrame
    # What a rewrite's change returns: the new values of some columns of the segment.
    Changed = dict[str, Column]

_T = TypeVar("_T")
_R = TypeVar("_R")

CODEC: tuple[Literal["zstd"], int] = (
    "zstd",
    1,
)  # two thirds of lz4's bytes, and (unlike lz4 here) it runs on all cores
SEGMENT = 100_000  # lines per segment: a deals import matches a segment at a time
COLUMNS = schema.NAMES  # a line as stored: declared in :mod:`pricing.lines.schema`
# The history's SQL is in pricing.storage.deal_tables; these are asked of the lines here too.


def as_stored(columns: Columns, names: Iterable[str] = COLUMNS) -> pa.Table:
    """Lines in stored form from a mapping of columns (or a pandas frame): Arrow arrays, or
    pandas columns with dates as datetime64, integers as Int64 or int64, text as str or
    object."""
    import pyarrow as pa

    kinds = schema.arrow(names)
    arrays = []
    for field in kinds:
        column = columns[field.name]
        if isinstance(column, pa.Array | pa.ChunkedArray):
            arrays.append(column.cast(field.type))
        elif field.name == "date":
            arrays.append(pa.array(column.to_numpy().astype("datetime64[D]"), type=pa.date32()))
        else:  # Arrow-backed and nullable pandas columns convert without copying
            arrays.append(pa.array(column, from_pandas=True).cast(field.type))
    return pa.Table.from_arrays(arrays, schema=kinds)


def append(conn: Connection, lines: pa.Table, import_id: int | None) -> None:
    """Store lines (all of ``COLUMNS``) as new segments of their import, in the order given (a
    file in date order, as exports usually are, gives segments of narrow date ranges)."""
    appender = Appender(conn, import_id)
    try:
        appender.add(lines)
    finally:
        appender.close()


class Appender:
    """Stores one import's segments while the caller prepares the next: each segment is
    compressed on another core while the caller matches the following chunk, then inserted
    (on the caller's connection, in its transaction) when the next one is handed over."""

    def __init__(self, conn: Connection, import_id: int | None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.conn, self.import_id = conn, import_id
        self.pool = ThreadPoolExecutor(1)
        self.pending: tuple[_Bounds, Future[list[bytes]]] | None = None

    def add(self, lines: pa.Table) -> None:
        """Queue lines (all of ``COLUMNS``) for storing, up to ``SEGMENT`` per segment."""
        for start in range(0, lines.num_rows, SEGMENT):
            part = lines.slice(start, SEGMENT)
            self.flush()
            self.pending = (_bounds(part), self.pool.submit(_encode_all, part))

    def flush(self) -> None:
        if self.pending is None:
            return
        bounds, blobs = self.pending
        self.pending = None
        deal_tables.add_segment(
            self.conn, self.import_id, columns=zip(COLUMNS, blobs.result(), strict=True), **bounds
        )

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.pool.shutdown()


def _encode_all(lines: pa.Table) -> list[bytes]:
    return [encode(lines[name]) for name in COLUMNS]


def _in_parallel(work: Callable[[_T], _R], items: list[_T]) -> list[_R]:
    """``work`` over ``items`` on every core: Arrow compresses without holding the GIL."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    workers = min(len(items), os.cpu_count() or 1, 8)
    if workers < 2:
        return [work(item) for item in items]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(work, items))


class _Bounds(TypedDict):
    lines: int
    first_date: date
    last_date: date


def _bounds(lines: pa.Table) -> _Bounds:
    first, last = date_bounds(lines["date"])
    return {"lines": lines.num_rows, "first_date": first, "last_date": last}


def date_bounds(dates: Column) -> tuple[date, date]:
    """The first and last date of a date column (not empty, no nulls)."""
    import pyarrow.compute as pc

    bounds = pc.min_max(dates)
    first, last = bounds["min"].as_py(), bounds["max"].as_py()
    assert isinstance(first, date) and isinstance(last, date)
    return first, last


def whole(values: Column) -> Array:
    """One Arrow array (pandas hands over Arrow-backed columns, and scans return, chunks)."""
    import pyarrow as pa

    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def zero_filled(column: Column) -> npt.NDArray[np.int64]:
    """An Arrow integer column as numpy int64, 0 where missing."""
    import numpy as np

    values: npt.NDArray[np.int64] = fill_null(column, 0).to_numpy(zero_copy_only=False)
    return values.astype(np.int64)


def encode(column: Column) -> bytes:
    """One column as an Arrow IPC stream, its buffers compressed."""
    import pyarrow as pa

    # The stubs take a table's columns as arrays or sequences; a chunked array is one too.
    return encode_table(pa.table({"v": column}))  # type: ignore[dict-item]


def decode(blob: bytes) -> Array:
    return decode_table(blob)["v"].combine_chunks()


def encode_table(table: pa.Table) -> bytes:
    """A table as an Arrow IPC stream of one batch, its buffers compressed."""
    import pyarrow as pa
    import pyarrow.ipc as ipc

    sink = pa.BufferOutputStream()
    codec = pa.Codec(CODEC[0], compression_level=CODEC[1])
    with ipc.new_stream(sink, table.schema, options=ipc.IpcWriteOptions(compression=codec)) as w:
        w.write_table(table.combine_chunks(), max_chunksize=max(table.num_rows, 1))
    return bytes(sink.getvalue())


def decode_table(blob: bytes) -> pa.Table:
    import pyarrow as pa
    import pyarrow.ipc as ipc

    return ipc.open_stream(pa.BufferReader(blob)).read_all()


def _segments(
    conn: Connection, columns: list[str], start: date | None, end: date | None
) -> Iterator[tuple[int, dict[str, Array]]]:
    """Segments of the period (their lines, and the asked columns decoded), oldest first. A
    column the segment does not hold (it was stored before the column existed) comes as
    nulls."""
    fetched = deal_tables.blobs(conn, columns, start, end)  # compressed: a fraction of the size
    columns_of: dict[int, dict[str, Array]] = {}
    sizes: dict[int, int] = {}
    decoded = _in_parallel(decode, [blob.data for blob in fetched])
    for blob, column in zip(fetched, decoded, strict=True):
        columns_of.setdefault(blob.segment, {})[blob.name] = column
        sizes[blob.segment] = blob.lines
    del fetched, decoded
    for number, found in columns_of.items():
        yield sizes[number], _completed(found, columns, sizes[number])


def _completed(found: dict[str, Array], columns: Iterable[str], lines: int) -> dict[str, Array]:
    """A segment's columns, with nulls of its declared type for each one it does not hold."""
    import pyarrow as pa

    for name in columns:
        if name not in found:
            # The stubs overload nulls per concrete type; the schema gives a DataType.
            found[name] = pa.nulls(lines, schema.arrow_type(name))  # type: ignore[call-overload]
    return found


def scan(
    conn: Connection,
    columns: Iterable[str] = COLUMNS,
    *,
    start: date | None = None,
    end: date | None = None,
) -> pa.Table:
    """The stored lines of the period (all when open), in storage order, with the columns asked
    for; the pseudo-column ``seq`` is each line's position in the history (a stable order)."""
    import pyarrow as pa

    wanted = list(dict.fromkeys(columns))
    stored = [c for c in wanted if c != "seq"]
    needed = list(dict.fromkeys([*stored, "date"])) if start or end else stored
    parts = []
    offset = 0
    for lines, found in _segments(conn, needed, start, end):
        part = pa.table({name: found[name] for name in needed})
        if "seq" in wanted:
            import numpy as np

            part = part.append_column("seq", pa.array(np.arange(offset, offset + lines)))
        offset += lines
        if start is not None or end is not None:
            part = part.filter(_within(part["date"], start, end))
        parts.append(part.select(wanted))
    if not parts:
        empty = schema.arrow(stored).empty_table()
        if "seq" in wanted:
            empty = empty.append_column("seq", pa.array([], pa.int64()))
        return empty.select(wanted)
    return pa.concat_tables(parts)


def of_segment(
    conn: Connection, segment: int, lines: int, columns: Iterable[str] = COLUMNS
) -> pa.Table:
    """One segment's lines (it holds ``lines``) with the columns asked for."""
    import pyarrow as pa

    names = list(dict.fromkeys(columns))
    blobs = deal_tables.segment_blobs(conn, segment, names)
    decoded = dict(zip(blobs, _in_parallel(decode, list(blobs.values())), strict=True))
    found = _completed(decoded, names, lines)
    return pa.table({name: found[name] for name in names})


def _within(dates: Column, start: date | None, end: date | None) -> Array:
    """Which dates fall in the period (either end may be open)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keep = pc.is_valid(dates)  # every stored line has a date: all true
    if start is not None:
        keep = pc.and_(keep, pc.greater_equal(dates, pa.scalar(start, pa.date32())))
    if end is not None:
        keep = pc.and_(keep, pc.less_equal(dates, pa.scalar(end, pa.date32())))
    return keep


def rewrite(
    conn: Connection,
    change: Callable[[pa.Table], Changed | None],
    *,
    reads: Iterable[str],
    since: date | None = None,
) -> list[int]:
    """Give ``change`` the ``reads`` columns of each segment holding lines dated ``since`` or
    later, one segment at a time; the columns it returns replace the stored ones (the lines,
    their order and dates stay). Returns the numbers of the segments that changed."""
    import pyarrow as pa

    reads = list(reads)
    changed_segments: list[int] = []
    for number, lines in deal_tables.segments_since(conn, since):
        found = {
            name: decode(blob)
            for name, blob in deal_tables.segment_blobs(conn, number, reads).items()
        }
        columns = _completed(found, reads, lines)
        changed = change(pa.table({name: columns[name] for name in reads}))
        if not changed:
            continue
        _replace(conn, number, changed)
        changed_segments.append(number)
    return changed_segments


def _replace(conn: Connection, number: int, changed: Changed) -> None:
    """Store new values of some columns of a segment (a column it did not hold is added)."""
    names = list(changed)
    kinds = schema.arrow(names)
    blobs = _in_parallel(encode, [changed[n].cast(kinds.field(n).type) for n in names])
    for name, blob in zip(names, blobs, strict=True):
        deal_tables.replace_blob(conn, number, name, blob)


def duck(**tables: pa.Table) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the given Arrow tables registered by name."""
    import duckdb

    con = duckdb.connect()
    for name, table in tables.items():
        con.register(name, table)
    return con
