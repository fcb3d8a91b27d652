"""Each deals import as a thing the owner can see, recognise and take back.

An import is recorded with the file's SHA-256, the mapping (field -> header) and date format it
was read with, and its lines' dates (:func:`listing`). Before a file's lines are stored, the
import asks whether the store holds it already: the same file read the same way adds nothing
(:func:`same_file` names the import holding it); the same file read another way, or new lines
whose content (date, SKU, quantity, money, customer) equals stored lines under other line or
deal ids, would count sales twice and are refused with the earlier import's number
(:func:`content_conflict`). :func:`undo` removes an import's lines as if its file had never been
imported: the lines a later import held too (an overlapping export) stay, as that import's, and
a deal whose first line goes is counted by its first remaining line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, cast

from pricing.errors import DamagedError, NotFoundError
from pricing.lines import segments
from pricing.lines.inmemory import duck
from pricing.storage import audit, deal_tables

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa
    from sqlalchemy.engine import Connection

    from pricing.io.arrow import Array, Column
    from pricing.lines.reader import DealsFile

# What a line says, apart from its identity: two lines alike in all of these are one sale.
CONTENT: tuple[str, ...] = (
    "date", "sku_key", "qty", "amount", "unit_price", "discount_pct", "customer",
)  # fmt: skip


@dataclass(frozen=True)
class ImportListing:
    """One deals import as ``deals imports`` lists it (None: recorded before it was kept)."""

    id: int
    source: str
    sha256: str | None
    imported_at: datetime
    imported_by: str
    lines: int
    added: int
    first_date: date | None
    last_date: date | None
    columns: dict[str, str] | None
    date_format: str | None
    decimal: str | None = None
    # The statuses kept (None: no status column read) and the lines left out by status
    status_filter: str | None = None
    skipped_by_status: dict[str, int] | None = None


@dataclass(frozen=True)
class Reading:
    """How an earlier import read the same file with the same mapping: its date format and
    decimal mark as given (None: read from the values). If this reading gives the same lines,
    it is the same reading, however it was named."""

    date_format: str | None
    decimal: str | None


@dataclass(frozen=True)
class Conflict:
    """Why a file is refused: it would store again what import ``earlier`` holds (None: lines
    stored before imports were recorded)."""

    earlier: int | None
    reason: str
    covers: bool = True  # the file holds all of the earlier import's lines: it may replace it
    # The same file with the same mapping, another date format or decimal mark named: the
    # caller reads it that way too, and the same lines mean the same reading (no conflict).
    reading: Reading | None = None


@dataclass(frozen=True)
class Undone:
    """What undoing an import did: its lines removed, and those kept for later imports that
    held them too."""

    id: int
    source: str
    removed: int
    kept: int


def listing(conn: Connection) -> list[ImportListing]:
    """Every deals import, oldest first."""
    return [
        ImportListing(
            r.id,
            r.source,
            r.sha256,
            _moment(r.imported_at),
            r.imported_by,
            r.lines,
            r.added,
            _day(r.first_date),
            _day(r.last_date),
            _mapping(r.columns),
            r.date_format,
            r.decimal,
            r.status_filter,
            _counts(r.skipped_by_status),
        )
        for r in deal_tables.imports(conn)
    ]


def same_file(conn: Connection, read: DealsFile) -> tuple[int | None, Conflict | None]:
    """The import that holds this very file read this very way (its number, the file adds
    nothing), or the conflict of the same file imported with another mapping or date format.

    The same file read the same way but keeping other statuses is neither: its lines have the
    same keys, so the import adds the lines the earlier one left out (and the earlier one's
    lines are already present)."""
    if not read.sha256:
        return None, None
    earlier = deal_tables.imports(conn, sha256=read.sha256)
    alike = [
        record
        for record in earlier
        if _mapping(record.columns) == _as_then(read, record)
        and record.date_format == read.date_format
        and record.decimal == read.decimal
    ]
    for record in alike:
        # An import recorded before statuses were read (no status_filter) kept every line.
        if (record.status_filter or ("all" if "status" in read.columns else None)) == (
            read.status_filter
        ):
            return record.id, None
    if not earlier or alike:
        return None, None
    last = earlier[-1]
    reading = None
    if _mapping(last.columns) != _as_then(read, last):
        other = "another column mapping"
    else:
        reading = Reading(last.date_format, last.decimal)
        if last.date_format != read.date_format:
            other = f"another date format ({last.date_format or 'read from the values'})"
        else:
            other = f"another decimal mark ({last.decimal or 'read from the values'})"
    return None, Conflict(
        last.id,
        f"this file (SHA-256 {read.sha256[:12]}…) was imported as import {last.id} with {other}; "
        "importing it again would count its lines twice",
        reading=reading,
    )


def _as_then(read: DealsFile, record: deal_tables.ImportRecord) -> dict[str, str]:
    """The file's mapping as the earlier import could have read it: one recorded before the
    lines' status was read (no status_filter: the status column mapped to no field) read the
    same columns but that one, and is the same reading."""
    if record.status_filter is None and "status" in read.columns:
        return {field: header for field, header in read.columns.items() if field != "status"}
    return read.columns


def content_conflict(conn: Connection, fresh: pa.Table, keys: Column) -> Conflict | None:
    """Whether lines about to be stored repeat stored lines under other identities: the same
    date, SKU, quantity, money and customer, line for line, as lines the file does not hold by
    their keys (a file read before with other line or deal ids). Counted as multisets: two
    equal sales in the file are two, matching two stored ones. A column that one side does not
    have at all (a customer column mapped as the deal id, a price given as an amount) is left
    out of the comparison: the same sales read with another mapping are still the same sales."""
    if not fresh.num_rows:
        return None
    first, last = segments.date_bounds(fresh["date"])
    stored = segments.scan(conn, [*CONTENT, "line_key", "import_id"], start=first, end=last)
    if not stored.num_rows:
        return None
    import pyarrow.compute as pc

    other = pc.invert(pc.is_in(stored["line_key"], value_set=segments.whole(keys)))
    stored = stored.filter(other)
    if not stored.num_rows:
        return None
    compared = _both_have(fresh, stored)
    same = " AND ".join(f"f.{c} IS NOT DISTINCT FROM s.{c}" for c in compared)
    columns = ", ".join(compared)
    con = duck(fresh=fresh.select(compared), stored=stored.select([*compared, "import_id"]))
    try:
        row = con.execute(
            f"WITH f AS (SELECT {columns}, count(*) AS n FROM fresh GROUP BY ALL), "
            f"s AS (SELECT {columns}, count(*) AS n, min(coalesce(import_id, 0)) AS earliest "
            "FROM stored GROUP BY ALL) "
            f"SELECT sum(least(f.n, s.n)), min(s.earliest) FROM f JOIN s ON {same}"
        ).fetchone()
    finally:
        con.close()
    repeated, earliest = (int(row[0] or 0), row[1]) if row else (0, None)
    if not repeated:
        return None
    earlier = int(earliest) if earliest else None
    held = f"import {earlier}" if earlier else "lines stored before imports were recorded"
    reason = (
        f"{repeated:,} of its {fresh.num_rows:,} new lines have the same date, SKU, quantity, "
        f"money and customer as lines of {held} under other line or deal ids (read with "
        "another mapping?); importing them would count those sales twice"
    )
    total = deal_tables.lines_of_import(conn, earlier) if earlier else 0
    if earlier and total > repeated:
        # Replacing the earlier import with this file would drop its other sales.
        return Conflict(earlier, reason + (
            f". Import {earlier} holds {total:,} lines and this file repeats {repeated:,} of them: "
            f"replacing it with this file would remove the other {total - repeated:,} sales; "
            f"replace it with a corrected export that holds all of them, or leave this file out"
        ), covers=False)  # fmt: skip
    return Conflict(earlier, reason)


def in_file_form(file_keys: Column, stored: pa.Table) -> Array:
    """The stored lines' keys as a file keyed by deal and line number (``N:``) gives them:
    a line stored by its line id alone (``L:``, as older code read such a number) with its
    deal id is the same line as the file's of that deal and number; other keys as stored."""
    import pyarrow as pa
    import pyarrow.compute as pc

    keys = segments.whole(stored["line_key"])
    if not len(file_keys) or not str(file_keys[0].as_py()).startswith("N:"):
        return keys
    deal = cast("pa.StringArray", segments.whole(stored["deal_id"]))
    by_id = pc.and_(pc.starts_with(keys, "L:"), pc.is_valid(deal))
    if not pc.any(by_id).as_py():
        return keys
    size = pc.cast(pc.utf8_length(deal), pa.string())
    line = pc.utf8_slice_codeunits(keys, start=2)
    within: Array = pc.binary_join_element_wise("N:", size, ":", deal, "#", line, "")  # type: ignore[call-overload]
    found: Array = pc.if_else(by_id, within, keys)
    return found


@dataclass(frozen=True)
class StoredAlready:
    """Lines a file leaves out by their status that earlier imports stored (they stay in the
    report): how many, the imports holding them (0: before imports were recorded), and the
    deal ids and keys of a few."""

    lines: int
    imports: list[int]
    examples: list[tuple[str, str]]  # (deal id, line key)


def stored_already(conn: Connection, left_out: pa.Table | None) -> StoredAlready | None:
    """Which of the lines left out by their status (``left_out``: their deal ids and keys)
    the store holds already, by their keys."""
    import pyarrow.compute as pc

    if left_out is None or not left_out.num_rows:
        return None
    stored = segments.scan(conn, ["line_key", "deal_id", "import_id"])
    if not stored.num_rows:
        return None
    keys = in_file_form(left_out["line_key"], stored)  # lines stored by their id alone too
    hit = pc.is_in(keys, value_set=segments.whole(left_out["line_key"]))
    held = stored.filter(hit)
    if not held.num_rows:
        return None
    found = left_out.filter(pc.is_in(left_out["line_key"], value_set=keys.filter(hit)))
    imports = sorted({int(i or 0) for i in pc.unique(held["import_id"]).to_pylist()})
    examples = [
        (str(deal), str(key))
        for deal, key in zip(
            found["deal_id"].slice(0, 3).to_pylist(),
            found["line_key"].slice(0, 3).to_pylist(),
            strict=True,
        )
    ]
    return StoredAlready(found.num_rows, imports, examples)


@dataclass(frozen=True)
class Differing:
    """Lines of a file whose identity is stored already but with other values (a price or a
    date corrected in a later export): how many, the imports holding them, a few examples."""

    lines: int
    imports: list[int]
    examples: list[tuple[str, list[str]]]  # (deal id, the values that differ)


def differing(conn: Connection, lines: pa.Table) -> Differing | None:
    """The file's lines already stored under the same identity (line id, or deal and position)
    whose date, SKU, quantity, money or customer differ from the stored line's. An import keeps
    the stored line and adds nothing for them; the owner is told, since a corrected export is
    otherwise dropped without a word (``--replace`` is the way to correct an import)."""
    import pyarrow.compute as pc

    if not lines.num_rows:
        return None
    stored = segments.scan(conn, ["line_key", "deal_id", "import_id", *CONTENT])
    if not stored.num_rows:
        return None
    keys = in_file_form(lines["line_key"], stored)  # lines stored by their id alone too
    stored = stored.drop_columns(["line_key", "deal_id"]).append_column("line_key", keys)
    stored = stored.filter(
        pc.is_in(stored["line_key"], value_set=segments.whole(lines["line_key"]))
    )
    if not stored.num_rows:
        return None
    compared = _both_have(lines, stored)
    differs = " OR ".join(f"f.{c} IS DISTINCT FROM s.{c}" for c in compared)
    which = ", ".join(f"f.{c} IS DISTINCT FROM s.{c}" for c in compared)
    con = duck(fresh=lines.select(["line_key", "deal_id", *compared]), stored=stored)
    try:
        rows = con.execute(
            "WITH f AS (SELECT DISTINCT ON (line_key) * FROM fresh), "
            f"d AS (SELECT f.deal_id, s.import_id, {which} FROM f JOIN stored s "
            f"ON f.line_key = s.line_key WHERE {differs}) "
            "SELECT count(*) OVER (), list(DISTINCT import_id) OVER (), * FROM d LIMIT 3"
        ).fetchall()
    finally:
        con.close()
    if not rows:
        return None
    examples = [
        (str(row[2]), [c for c, moved in zip(compared, row[4:], strict=True) if moved])
        for row in rows
    ]
    imports = sorted(int(i) for i in rows[0][1] if i is not None)
    return Differing(int(rows[0][0]), imports, examples)


def _both_have(fresh: pa.Table, stored: pa.Table) -> list[str]:
    """The content columns both sides have (not null throughout): a column one reading left
    out (a customer column mapped as the deal id) does not make the same sales different."""
    return [
        c for c in CONTENT
        if fresh[c].null_count < fresh.num_rows and stored[c].null_count < stored.num_rows
    ]  # fmt: skip


def held_keys(keys: Array, stored: npt.NDArray[np.bool_]) -> bytes | None:
    """The keys of the file's lines an earlier import stored already (``stored``: which), as a
    blob kept with the import (None: none)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not stored.any():
        return None
    return segments.encode(pc.unique(keys.filter(pa.array(stored))))


def undo(conn: Connection, number: int, *, by: str, note: str | None = None) -> Undone:
    """Remove import ``number`` as if its file had never been imported, in the caller's write
    transaction: its lines go, except those a later import held too (they become the earliest
    such import's: a whole segment by its record, a part of one stored anew), and a deal whose
    first line went is counted by its first remaining line. One segment is in memory at a time.
    Audited: ``deals.undone``, and the imports that took lines or recount a deal."""
    import numpy as np

    deal_tables.lock_for_writing(conn)
    found = deal_tables.imports(conn, number)
    if not found:
        last = audit.last_entry(conn, audit.subject("deals", number))
        if last is not None and last.action in audit.REMOVALS:
            raise NotFoundError(
                f"deals import {number} was undone already ({last.by}, {last.at:%Y-%m-%d %H:%M} "
                "UTC); `pricing deals imports` lists those that remain"
            )
        raise NotFoundError(
            f"there is no deals import {number}; `pricing deals imports` lists them"
        )
    record = found[0]
    ours = deal_tables.import_segments(conn, number)
    lines = sum(size for _, size in ours)
    held = _held_after(conn, number)
    others = deal_tables.count(conn) > lines
    starts: set[int] = set()
    changed: set[int] = set()
    kept = 0
    damaged: set[int] = set()  # segments that no longer read: they go whole
    every = _owners(conn, ours, held, damaged)  # each line's new import, in storage order
    offset = 0
    for segment, size in ours if others or held else []:
        owners, offset = every[offset : offset + size], offset + size
        if segment in damaged:
            continue
        if held and owners[0] and (owners == owners[0]).all():
            try:
                deal_tables.reassign_segment(conn, segment, int(owners[0]))  # every line stays
            except DamagedError:  # checked before anything changed: it goes whole
                damaged.add(segment)
                continue
            changed.add(int(owners[0]))
            kept += size
            continue
        try:
            part = segments.of_segment(conn, segment, size, ["deal_no", "deal_first"])
            going = owners == 0
            whole = None if going.all() else segments.of_segment(conn, segment, size)
        except DamagedError:
            damaged.add(segment)  # its lines are all in its file: importing that again
            continue  # brings back those a later import held too
        first = segments.zero_filled(part["deal_first"]).astype(bool) & going
        starts.update(int(n) for n in np.unique(segments.zero_filled(part["deal_no"])[first]))
        if whole is None:
            continue
        for owner in np.unique(owners[~going]):
            taken = whole.filter(_mask(owners == owner))
            index = taken.schema.get_field_index("import_id")
            taken = taken.set_column(index, "import_id", _full(taken.num_rows, int(owner)))
            segments.append(conn, taken, int(owner))
            changed.add(int(owner))
            kept += taken.num_rows
    deal_tables.remove_import(conn, number)
    if damaged:  # which deals started in them is lost: count each by its first line left
        starts |= _uncounted_deals(conn)
    if starts:
        recounted = _recount(conn, starts, skip_damaged=bool(damaged))
        changed |= set(deal_tables.imports_of(conn, recounted))
    audit.record(conn, by=by, action="deals.undone", subjects=[audit.subject("deals", number)],
                 note=note or record.source)  # fmt: skip
    if changed:
        subjects = [audit.subject("deals", n) for n in sorted(changed)]
        audit.record(conn, by=by, action="deals.reassigned", subjects=subjects,
                     note=f"after deals import {number} was undone")  # fmt: skip
    return Undone(number, record.source, lines - kept, kept)


def _held_after(conn: Connection, number: int) -> list[tuple[int, Array]]:
    """The keys of the lines each later import held; a damaged record of them is left out
    (those lines then go with this import, and come back when its file is imported again)."""
    held = []
    for owner, blob in deal_tables.held_keys_after(conn, number):
        try:
            held.append((owner, segments.decode(blob)))
        except DamagedError:
            continue
    return held


def _uncounted_deals(conn: Connection) -> set[int]:
    """The deals none of whose stored lines counts them (a damaged segment that held their
    first line went); damaged segments of other imports are left out."""
    import numpy as np

    lines = segments.scan(conn, ["deal_no", "deal_first"], skip_damaged=True)
    numbers = segments.zero_filled(lines["deal_no"])
    counted = numbers[segments.zero_filled(lines["deal_first"]) == 1]
    return {int(n) for n in np.setdiff1d(np.unique(numbers), counted)}


def _owners(
    conn: Connection,
    ours: list[tuple[int, int]],
    held: list[tuple[int, Array]],
    damaged: set[int],
) -> npt.NDArray[np.int64]:
    """For each line of the segments ``ours``, the earliest later import that held it too (0:
    none): one lookup per later import over all the lines' keys. A segment whose keys no
    longer read is added to ``damaged`` (its lines: 0)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    owners = np.zeros(sum(size for _, size in ours), dtype=np.int64)
    if not held:
        return owners
    parts: list[Array] = []
    for segment, size in ours:
        try:
            keys = segments.whole(
                segments.of_segment(conn, segment, size, ["line_key"])["line_key"]
            )
        except DamagedError:
            damaged.add(segment)
            keys = pa.nulls(size, pa.string())
        parts.append(keys)
    keys = pa.chunked_array(parts, pa.string()).combine_chunks()
    for owner, keys_held in held:
        hit = pc.is_in(keys, value_set=keys_held).to_numpy(zero_copy_only=False)
        owners[hit & (owners == 0)] = owner
    return owners


def _mask(values: npt.NDArray[np.bool_]) -> pa.BooleanArray:
    import pyarrow as pa

    return pa.array(values, pa.bool_())


def _full(n: int, value: int) -> pa.Int32Array:
    import numpy as np
    import pyarrow as pa

    return pa.array(np.full(n, value, dtype=np.int32), pa.int32())


def _recount(conn: Connection, starts: set[int], *, skip_damaged: bool = False) -> list[int]:
    """Mark the first remaining line (in storage order) of each deal in ``starts`` as the
    deal's first; the segments changed (``skip_damaged``: leaving damaged ones as they are)."""
    import numpy as np
    import pyarrow as pa

    pending = np.array(sorted(starts), dtype=np.int64)

    def recount(segment: pa.Table) -> dict[str, Column] | None:
        nonlocal pending
        if not len(pending):
            return None
        numbers = segments.zero_filled(segment["deal_no"])
        hit = np.flatnonzero(np.isin(numbers, pending))
        if not len(hit):
            return None
        deals, at = np.unique(numbers[hit], return_index=True)
        first = segments.zero_filled(segment["deal_first"]).astype(np.int8)
        first[hit[at]] = 1
        pending = np.setdiff1d(pending, deals)
        return {"deal_first": pa.array(first, pa.int8())}

    return segments.rewrite(
        conn, recount, reads=["deal_no", "deal_first"], skip_damaged=skip_damaged
    )


def _counts(text: str | None) -> dict[str, int] | None:
    if text is None:
        return None
    value = json.loads(text)
    return {str(k): int(v) for k, v in value.items()}


def _mapping(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    value = json.loads(text)
    return {str(k): str(v) for k, v in value.items()}


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _moment(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))
