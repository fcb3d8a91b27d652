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

Every Arrow blob written here (a segment's column, an import's held keys, an edition's copy for
matching) is *sealed*: the stream is followed by its SHA-256 and ``SEAL``. Each read checks the
seal before decoding, so a stored value damaged behind the tool's back (a failing disk, a bad
restore, an edit by hand) is named, with the import it belongs to and how to recover
(:class:`~pricing.errors.DamagedError`), instead of crashing the report or, worse, being read
as other numbers. Blobs written before seals existed are decoded and validated in full
instead. :func:`check` goes over all of them for ``pricing db check``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future
from datetime import date
from typing import TYPE_CHECKING, Literal, NamedTuple, TypedDict, TypeVar

from pricing.errors import DamagedError
from pricing.io.arrow import fill_null
from pricing.lines import schema
from pricing.storage import deal_tables, seals

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import pyarrow as pa
    from sqlalchemy.engine import Connection

    from pricing.io.arrow import Array, Column
    from pricing.storage.check import Finding
    from pricing.storage.deal_tables import Blob, ImportRecord, Segment

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
SEAL = seals.SEAL  # ends a sealed blob, after the SHA-256 of its stream (an Arrow stream itself
# always ends with its end-of-stream marker, FFFFFFFF 00000000: never with these bytes)
_DIGEST = seals.DIGEST
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
    (on the caller's connection, in its transaction) when the next one is handed over. A
    caller that matched its chunk first compresses the segment's columns left meanwhile (the
    compressing, not the matching, was what a chunk waited for)."""

    def __init__(self, conn: Connection, import_id: int | None) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.conn, self.import_id = conn, import_id
        self.pool = ThreadPoolExecutor(1)
        self.pending: tuple[_Bounds, _Encoding, Future[None]] | None = None

    def add(self, lines: pa.Table) -> None:
        """Queue lines (all of ``COLUMNS``) for storing, up to ``SEGMENT`` per segment."""
        for start in range(0, lines.num_rows, SEGMENT):
            part = lines.slice(start, SEGMENT)
            self.flush()
            encoding = _Encoding(part)
            self.pending = (_bounds(part), encoding, self.pool.submit(encoding.run))

    def flush(self) -> None:
        if self.pending is None:
            return
        bounds, encoding, done = self.pending
        self.pending = None
        encoding.run()  # the columns the other thread has not begun
        done.result()
        blobs = encoding.blobs
        deal_tables.add_segment(
            self.conn,
            self.import_id,
            columns=zip(COLUMNS, (blob for blob, _ in blobs), strict=True),
            hexdigests={
                name: hexdigest for name, (_, hexdigest) in zip(COLUMNS, blobs, strict=True)
            },
            **bounds,
        )

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.pool.shutdown()


class _Encoding:
    """A segment's columns compressed (:func:`sealed`) by whichever threads run it, each
    column by the first to claim it: each column's blob and the SHA-256 of all of it, as the
    audit digests a segment's blobs (from the same pass over its bytes as the seal's)."""

    def __init__(self, lines: pa.Table) -> None:
        import itertools

        self.lines = lines
        self.claims = itertools.count()  # (its next value is taken atomically)
        self.encoded: list[tuple[bytes, str] | None] = [None] * len(COLUMNS)

    def run(self) -> None:
        import pyarrow as pa

        while (at := next(self.claims)) < len(COLUMNS):
            # The stubs take a table's columns as arrays or sequences; a chunked array is one.
            column = self.lines[COLUMNS[at]]
            self.encoded[at] = sealed(pa.table({"v": column}))  # type: ignore[dict-item]

    @property
    def blobs(self) -> list[tuple[bytes, str]]:
        """Each column's blob and digest (once every :meth:`run` has returned)."""
        return [blob for blob in self.encoded if blob is not None]


def _in_parallel(work: Callable[[_T], _R], items: list[_T]) -> list[_R]:
    """``work`` over ``items`` on every core: Arrow compresses without holding the GIL."""
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
    """One column as a sealed Arrow IPC stream, its buffers compressed."""
    import pyarrow as pa

    # The stubs take a table's columns as arrays or sequences; a chunked array is one too.
    return encode_table(pa.table({"v": column}))  # type: ignore[dict-item]


def decode(blob: bytes) -> Array:
    """A column stored by :func:`encode` (a damaged one raises :class:`DamagedError`)."""
    return _whole_column(_decoded(blob, "a stored column"))


def encode_table(table: pa.Table) -> bytes:
    """A table as an Arrow IPC stream of one batch, its buffers compressed, then sealed (the
    stream's SHA-256 and ``SEAL``)."""
    return sealed(table)[0]


def sealed(table: pa.Table) -> tuple[bytes, str]:
    """:func:`encode_table`'s blob, and the SHA-256 of the whole blob (hex): the stream is
    hashed once for both (the seal's digest of the stream, then the rest of the blob)."""
    import hashlib

    import pyarrow as pa
    import pyarrow.ipc as ipc

    sink = pa.BufferOutputStream()
    codec = pa.Codec(CODEC[0], compression_level=CODEC[1])
    with ipc.new_stream(sink, table.schema, options=ipc.IpcWriteOptions(compression=codec)) as w:
        w.write_table(table.combine_chunks(), max_chunksize=max(table.num_rows, 1))
    stream = sink.getvalue()
    sha = hashlib.sha256(stream)
    digest = sha.digest()  # (of the stream so far; the object hashes on)
    sha.update(digest + SEAL)
    return b"".join([memoryview(stream), digest, SEAL]), sha.hexdigest()


def decode_table(blob: bytes) -> pa.Table:
    """A table stored by :func:`encode_table` (a damaged one raises :class:`DamagedError`,
    which points at ``pricing db check`` for what it belongs to)."""
    return _decoded(blob, "a stored table")


class Broken(Exception):
    """Why a stored blob cannot be read as it was written (turned into a DamagedError that
    names its owner by whoever knows it)."""


def read_blob(blob: bytes, lines: int | None = None) -> pa.Table:
    """A stored blob's table: its seal checked (a blob from before seals: decoded and
    validated in full), and when ``lines`` is given, that it holds that many; else
    :class:`Broken`."""
    import hashlib

    import pyarrow as pa
    import pyarrow.ipc as ipc

    data = memoryview(blob)
    sealed = len(data) >= _DIGEST + len(SEAL) and data[-len(SEAL) :] == SEAL
    if sealed:
        stream = data[: -(_DIGEST + len(SEAL))]
        if hashlib.sha256(stream).digest() != data[-(_DIGEST + len(SEAL)) : -len(SEAL)]:
            raise Broken("its bytes are not those written (their SHA-256 differs)")
    else:
        stream = data
    try:
        table = ipc.open_stream(pa.BufferReader(pa.py_buffer(stream))).read_all()
        if not sealed:  # nothing vouches for its bytes: every offset and value is checked
            table.validate(full=True)
    except (pa.ArrowException, OSError, ValueError, KeyError, IndexError, MemoryError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise Broken(f"it does not decode ({first[:120]})") from None
    if lines is not None and table.num_rows != lines:
        raise Broken(f"it holds {table.num_rows:,} values where its segment has {lines:,} lines")
    return table


def _decoded(blob: bytes, what: str) -> pa.Table:
    try:
        return read_blob(blob)
    except Broken as exc:
        raise DamagedError(
            f"{what} is damaged: {exc}; nothing was changed. `pricing db check` names what it "
            "belongs to and how to recover"
        ) from None


def _whole_column(table: pa.Table) -> Array:
    if table.schema.names != ["v"]:
        raise DamagedError("a stored column is damaged: it holds no column; `pricing db check` "
                           "names what it belongs to and how to recover")  # fmt: skip
    return table["v"].combine_chunks()


def _column(blob: Blob) -> Array | Broken:
    """One stored column of a segment, or why it cannot be read (not raised: the columns of a
    scan are decoded on every core, and the first damage found is then named)."""
    try:
        table = read_blob(blob.data, blob.lines)
    except Broken as exc:
        return exc
    if table.schema.names != ["v"]:
        return Broken(f"it holds {table.schema.names!r}, not one column")
    return table["v"].combine_chunks()


def damaged(conn: Connection, segment: int, column: str, why: Broken | str) -> DamagedError:
    """The error for a damaged column of a segment: what it belongs to and how to recover."""
    record = deal_tables.import_of_segment(conn, segment)
    return DamagedError(
        f"stored deal data is damaged: column {column} of segment {segment}, which holds "
        f"{owner_of(record)}: {why}. Nothing was changed. To recover, {recovery(record)}; "
        "`pricing db check` lists every damaged part"
    )


def unsealed(conn: Connection, found: seals.Unsealed) -> DamagedError:
    """The error for deal storage that is not where its seals put it (a block missing, swapped
    or moved, a segment missing or added): whose lines and how to get them back."""
    if found.import_id:
        records = deal_tables.imports(conn, found.import_id)
        if not records:
            return DamagedError(
                f"stored deal data is damaged: lines of deals import {found.import_id}, whose "
                f"record is missing: {found.why}. Nothing was changed. To recover, restore the "
                "database from a backup; `pricing db check` lists every damaged part"
            )
        record: ImportRecord | None = records[0]
    else:
        record = None
    return DamagedError(
        f"stored deal data is damaged: {owner_of(record)}: {found.why}. Nothing was changed. "
        f"To recover, {recovery(record)}; `pricing db check` lists every damaged part"
    )


def owner_of(record: ImportRecord | None) -> str:
    """Whose lines a segment holds, as people recognise them: the import, its file, when."""
    if record is None:
        return "deal lines stored before deals imports were recorded"
    return (
        f"lines of deals import {record.id} ({record.source}, imported "
        f"{_moment(record.imported_at)} UTC by {record.imported_by})"
    )


def recovery(record: ImportRecord | None) -> str:
    """How to get an import's damaged lines back: undo it and import its file again (the
    file holds them all), or restore a backup."""
    if record is None:
        return "restore the database from a backup taken before the damage"
    return (
        f"take the import back with `pricing deals undo {record.id}`, then import "
        f"{record.source} again (`pricing deals import {record.source}`, with the mapping "
        "`pricing deals imports` shows for it); or restore the database from a backup"
    )


def _moment(value: object) -> str:
    from datetime import datetime

    if not isinstance(value, datetime):
        value = datetime.fromisoformat(str(value))
    return value.strftime("%Y-%m-%d %H:%M")


def _unsealed_segments(
    conn: Connection,
    fetched: list[Blob],
    columns: Iterable[str],
    window: tuple[date | None, date | None] | None,
    *,
    skip_damaged: bool,
) -> set[int]:
    """The blocks read checked against their seals and their imports' manifests: none
    missing, moved, swapped or recounted. The first mismatch raises, naming the import and
    the way back (``skip_damaged``: the segments concerned are returned, to be left out).
    ``window``: the blocks are those of the segments of this period (None: of the segments
    of ``fetched``)."""
    if not seals.enabled(conn):
        return set()
    layout = seals.layout(conn)
    found: dict[int, seals.Unsealed] = {}  # by segment
    for number, place in layout.places.items():
        if place.import_id in layout.damaged:
            found[number] = layout.damaged[place.import_id]
    if layout.damaged and not skip_damaged:
        raise unsealed(conn, next(iter(layout.damaged.values())))
    asked = set(columns)
    held: dict[int, set[str]] = {}
    for blob in fetched:
        held.setdefault(blob.segment, set()).add(blob.name)
    for number, place in layout.places.items():
        if number in found:
            continue
        if window is None:
            if number not in held:
                continue
        elif (window[0] is not None and place.last_date < window[0]) or (
            window[1] is not None and place.first_date > window[1]
        ):
            continue
        missing = sorted((layout.columns[number] & asked) - held.get(number, set()))
        if missing:
            why = f"segment {number}: its {', '.join(missing)} block is missing"
            found[number] = seals.Unsealed(place.import_id, why, number)
    for blob in fetched:
        if blob.segment in found:
            continue
        at = layout.places.get(blob.segment)
        problem = (
            seals.block_problem(at, blob.name, blob.data, blob.seal, layout.keys)
            if at is not None
            else "its segment is not recorded"
        )
        if problem:
            owner = at.import_id if at is not None else 0
            found[blob.segment] = seals.Unsealed(
                owner, f"segment {blob.segment}: {problem}", blob.segment
            )
    if found and not skip_damaged:
        raise unsealed(conn, found[min(found)])
    return set(found)


def _intact(
    conn: Connection, fetched: list[Blob], *, skip_damaged: bool, left_out: set[int] | None = None
) -> list[tuple[Blob, Array]]:
    """The blobs decoded on every core, each with its column; the first damaged one raises
    (``skip_damaged``: every column of a segment with a damaged one is left out, as are the
    segments ``left_out``)."""
    if left_out:
        fetched = [blob for blob in fetched if blob.segment not in left_out]
    decoded = _in_parallel(_column, fetched)
    broken = [(blob, why) for blob, why in zip(fetched, decoded, strict=True)
              if isinstance(why, Broken)]  # fmt: skip
    if broken and not skip_damaged:
        blob, why = broken[0]
        raise damaged(conn, blob.segment, blob.name, why)
    left_out = {blob.segment for blob, _ in broken}
    return [
        (blob, column)
        for blob, column in zip(fetched, decoded, strict=True)
        if not isinstance(column, Broken) and blob.segment not in left_out
    ]


def _segments(
    conn: Connection,
    columns: list[str],
    start: date | None,
    end: date | None,
    *,
    skip_damaged: bool = False,
) -> Iterator[tuple[int, dict[str, Array]]]:
    """Segments of the period (their lines, and the asked columns decoded), oldest first. A
    column the segment does not hold (it was stored before the column existed) comes as
    nulls. A damaged column raises :class:`DamagedError` naming its import (``skip_damaged``:
    its segment is left out)."""
    fetched = deal_tables.blobs(conn, columns, start, end)  # compressed: a fraction of the size
    columns_of: dict[int, dict[str, Array]] = {}
    sizes: dict[int, int] = {}
    window = (start, end)
    left_out = _unsealed_segments(conn, fetched, columns, window, skip_damaged=skip_damaged)
    decoded = _intact(conn, fetched, skip_damaged=skip_damaged, left_out=left_out)
    del fetched
    for blob, column in decoded:
        columns_of.setdefault(blob.segment, {})[blob.name] = column
        sizes[blob.segment] = blob.lines
    del decoded
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
    skip_damaged: bool = False,
) -> pa.Table:
    """The stored lines of the period (all when open), in storage order, with the columns asked
    for; the pseudo-column ``seq`` is each line's position in the history (a stable order). A
    damaged segment raises :class:`DamagedError` (``skip_damaged``: it is left out)."""
    import pyarrow as pa

    wanted = list(dict.fromkeys(columns))
    stored = [c for c in wanted if c != "seq"]
    needed = list(dict.fromkeys([*stored, "date"])) if start or end else stored
    parts = []
    offset = 0
    for lines, found in _segments(conn, needed, start, end, skip_damaged=skip_damaged):
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
    """One segment's lines (it holds ``lines``) with the columns asked for (a damaged one
    raises :class:`DamagedError`)."""
    import pyarrow as pa

    names = list(dict.fromkeys(columns))
    found = _segment_columns(conn, segment, lines, names)
    return pa.table({name: found[name] for name in names})


def _segment_columns(
    conn: Connection, segment: int, lines: int, names: list[str]
) -> dict[str, Array]:
    fetched = deal_tables.segment_blocks(conn, segment, lines, names)
    if seals.enabled(conn):
        try:
            sealed = seals.segment_layout(conn, segment)
        except seals.Unsealed as exc:
            raise unsealed(conn, exc) from None
        if sealed is not None:
            place, listed = sealed
            held = {blob.name for blob in fetched}
            missing = sorted((listed & set(names)) - held)
            why = (
                f"segment {segment}: its {', '.join(missing)} block is missing" if missing else None
            )
            keys = seals.keys() if fetched else {}
            for blob in fetched:
                why = why or seals.block_problem(place, blob.name, blob.data, blob.seal, keys)
            if why:
                raise unsealed(conn, seals.Unsealed(place.import_id, why, segment))
    decoded = _intact(conn, fetched, skip_damaged=False)
    return _completed({blob.name: column for blob, column in decoded}, names, lines)


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
    skip_damaged: bool = False,
) -> list[int]:
    """Give ``change`` the ``reads`` columns of each segment holding lines dated ``since`` or
    later, one segment at a time; the columns it returns replace the stored ones (the lines,
    their order and dates stay). Returns the numbers of the segments that changed. A damaged
    segment raises :class:`DamagedError` (``skip_damaged``: it is left as it is)."""
    import pyarrow as pa

    reads = list(reads)
    changed_segments: list[int] = []
    for number, lines in deal_tables.segments_since(conn, since):
        try:
            columns = _segment_columns(conn, number, lines, reads)
        except DamagedError:
            if skip_damaged:
                continue
            raise
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


# Checking everything (pricing db check) -----------------------------------------------------


class Checked(NamedTuple):
    """What :func:`check` went over (``counts``), what it found, and the audit's digests of
    the segments it hashed (``known``, so that the audit's comparison reads no blob twice)."""

    counts: dict[str, int]
    findings: list[Finding]
    known: dict[str, str]


def check(conn: Connection, progress: Callable[[int, int], None] | None = None) -> Checked:
    """Every stored Arrow blob, one segment at a time: each column of each segment decodes,
    its seal holds (or, written before seals, it validates in full), it holds the segment's
    lines and its dates lie within the segment's recorded first and last date; each import's
    held keys and each edition's copy for matching decode too."""
    from pricing.storage import audit

    records = {record.id: record for record in deal_tables.imports(conn)}
    listed = deal_tables.segment_rows(conn)
    findings: list[Finding] = []
    known: dict[str, str] = {}
    counts = {"segments": len(listed), "deal_lines": 0, "columns": 0}
    layout = seals.layout(conn) if seals.enabled(conn) else None
    if layout is not None:
        for damage in layout.damaged.values():
            findings.append(_layout_finding(conn, records, damage))
    for done, segment in enumerate(listed, 1):
        record = records.get(segment.import_id) if segment.import_id is not None else None
        blocks = deal_tables.segment_blocks(conn, segment.id, segment.lines)
        stored = {blob.name: blob.data for blob in blocks}
        looked = _in_parallel(_look, [(name, blob, segment) for name, blob in stored.items()])
        known |= audit.known_blobs(segment.id, {name: digest for name, digest, _ in looked})
        findings += [_segment_finding(segment, record, name, why) for name, _, why in looked if why]
        if layout is not None and (segment.import_id or 0) not in layout.damaged:
            findings += _seal_findings(layout, segment, record, blocks)
        counts["deal_lines"] += segment.lines
        counts["columns"] += len(stored)
        if progress:
            progress(done, len(listed))
    held = deal_tables.held_keys_of_all(conn)
    counts["held_keys"] = len(held)
    findings += [_held_finding(records[number], why) for number, blob in held
                 if (why := _problem(blob))]  # fmt: skip
    copies = deal_tables.editions_with_items_kept(conn)
    counts["edition_copies"] = len(copies)
    for edition in copies:
        why = _problem(deal_tables.edition_items(conn, edition) or b"")
        if why:
            findings.append(_copy_finding(edition, why))
    return Checked(counts, findings, known)


def _seal_findings(
    layout: seals.Layout, segment: Segment, record: ImportRecord | None, blocks: list[Blob]
) -> list[Finding]:
    """A segment's blocks against their seals and its import's manifest."""
    place = layout.places[segment.id]
    found = []
    missing = sorted(layout.columns[segment.id] - {blob.name for blob in blocks})
    for name in missing:
        found.append(_segment_finding(segment, record, name, f"its {name} block is missing"))
    for blob in blocks:
        why = seals.block_problem(place, blob.name, blob.data, blob.seal, layout.keys)
        if why:
            found.append(_segment_finding(segment, record, blob.name, why))
    return found


def _layout_finding(
    conn: Connection, records: dict[int, ImportRecord], damage: seals.Unsealed
) -> Finding:
    from pricing.storage import audit
    from pricing.storage.check import BACKUP, Finding

    record = records.get(damage.import_id)
    if damage.import_id and record is None:
        what, recover = f"lines of deals import {damage.import_id}, whose record is missing", BACKUP
    else:
        what, recover = owner_of(record), recovery(record)
    return Finding(
        "deal data",
        what,
        damage.why,
        recover,
        deals_import=record,
        segment=damage.segment,
        subject=audit.subject("deals", damage.import_id),
    )


def _look(item: tuple[str, bytes, Segment]) -> tuple[str, str, str | None]:
    """A segment's column: its name, the SHA-256 of its stored bytes (for the audit), and
    what is wrong with it (None: nothing)."""
    import hashlib

    import pyarrow.compute as pc

    name, blob, segment = item
    digest = hashlib.sha256(blob).hexdigest()
    try:
        table = read_blob(blob, segment.lines)
    except Broken as exc:
        return name, digest, str(exc)
    if table.schema.names != ["v"]:
        return name, digest, f"it holds {table.schema.names!r}, not one column"
    if name == "date" and table.num_rows:
        bounds = pc.min_max(table["v"])
        first, last = bounds["min"].as_py(), bounds["max"].as_py()
        if first is None or first < segment.first_date or last > segment.last_date:
            recorded = f"{segment.first_date} to {segment.last_date}"
            why = f"its dates ({first} to {last}) are outside those recorded for it ({recorded})"
            return name, digest, why
    return name, digest, None


def _problem(blob: bytes) -> str | None:
    try:
        read_blob(blob)
    except Broken as exc:
        return str(exc)
    return None


def _segment_finding(
    segment: Segment, record: ImportRecord | None, column: str, why: str
) -> Finding:
    from pricing.storage import audit
    from pricing.storage.check import Finding

    return Finding(
        "deal data",
        f"segment {segment.id}, column {column}, which holds {owner_of(record)}",
        why,
        recovery(record),
        deals_import=record,
        segment=segment.id,
        column=column,
        subject=audit.subject("deals", segment.import_id or 0),
    )


def _held_finding(record: ImportRecord, why: str) -> Finding:
    from pricing.storage import audit
    from pricing.storage.check import Finding

    return Finding(
        "held keys",
        f"the keys deals import {record.id} ({record.source}) kept of lines stored before it",
        f"{why}; undoing an earlier import would drop those lines instead of keeping them",
        recovery(record),
        deals_import=record,
        subject=audit.subject("deals", record.id),
    )


def _copy_finding(edition: int, why: str) -> Finding:
    from pricing.storage import audit
    from pricing.storage.check import BACKUP, Finding

    return Finding(
        "edition copy",
        f"price book edition {edition}'s copy of its items for matching",
        f"{why}; importing deals or loading an edition or policy will fail until it is sound",
        BACKUP,
        subject=audit.subject("copy", edition),
    )
