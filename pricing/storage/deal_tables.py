"""The deal history's SQL: segments, their column blobs, imports, what links lines to won
requests, and what matching reads of the price book and the policies.

:mod:`pricing.lines.segments` decides what a segment holds and encodes its columns; this module
only moves rows and blobs in and out of the tables, on the caller's connection and inside its
transaction. What matching reads comes as plain tuples straight from the driver (its int, str,
date or its text, Decimal or None): a hundred thousand price items are read per edition, and
SQLAlchemy's Row objects are slow to turn into arrays by the hundred thousand.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy import ColumnElement, func, insert, inspect, null, select
from sqlalchemy.engine import Connection

from pricing.storage import audit, audit_subjects, seals, store

_WRITERS = 7201560  # PostgreSQL advisory lock: writers of the deal history queue up


class Blob(NamedTuple):
    """One column of one segment, compressed."""

    segment: int
    lines: int  # the segment's lines
    name: str
    data: bytes
    seal: str | None = None  # since 0011 (pricing.storage.seals)


# What matching reads, as the driver gives it (dates and timestamps are text on SQLite).
EditionDate = tuple[int, Any]  # id, effective_from
ItemRow = tuple[str, str | None, int, int | None, int | None, str]
"""sku_key, family, list_price, unit_cost, floor_price, currency (money in millionths)"""
TierRow = tuple[int, str | None, str | None, int, int | None, int | None]
"""edition_id, sku, family, min_qty, price, discount_pct (money in millionths)"""
PolicyRow = tuple[int, Any, Any, str, str, str, str]
"""id, effective_from, loaded_at, loaded_by, source, sha256, body (as ``PolicyRecord``)"""


class WonRequest(NamedTuple):
    number: int
    customer: str
    sku: str
    decided_at: object  # a datetime, or its text on SQLite
    expires_at: object  # the same, or None


def lock_for_writing(conn: Connection) -> None:
    """Take the deal history for this transaction: whoever imports, rematches or links lines
    reads the stored lines (to skip those already there, to number deals) and writes segments,
    and two doing so at once would both add the same lines. SQLite's write transaction already
    holds the whole file; on PostgreSQL an advisory lock makes the others wait (readers do not)."""
    if conn.dialect.name == "postgresql":
        store.advisory_lock(conn, _WRITERS)


def count(conn: Connection) -> int:
    s = store.deal_segments.c
    return int(conn.execute(select(func.coalesce(func.sum(s.lines), 0))).scalar_one())


def first_date(conn: Connection) -> date | None:
    value = conn.execute(select(func.min(store.deal_segments.c.first_date))).scalar()
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def last_date(conn: Connection) -> date | None:
    value = conn.execute(select(func.max(store.deal_segments.c.last_date))).scalar()
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _window(start: date | None, end: date | None) -> list[ColumnElement[bool]]:
    s = store.deal_segments.c
    where: list[ColumnElement[bool]] = []
    if start is not None:
        where.append(s.last_date >= start)
    if end is not None:
        where.append(s.first_date <= end)
    return where


def blobs(
    conn: Connection, names: Iterable[str], start: date | None, end: date | None
) -> list[Blob]:
    """The named columns of the segments that may hold lines of the period, oldest first."""
    s, c = store.deal_segments.c, store.deal_columns.c
    seal = c.seal if seals.enabled(conn) else null()
    rows = conn.execute(
        select(s.id, s.lines, c.name, c.data, seal)
        .join(store.deal_columns, c.segment_id == s.id)
        .where(c.name.in_(list(names)), *_window(start, end))
        .order_by(s.id)
    )
    return [Blob(*row) for row in rows.all()]


def segments_since(conn: Connection, since: date | None) -> list[tuple[int, int]]:
    """The segments (number, lines) that may hold lines dated ``since`` or later, oldest
    first."""
    s = store.deal_segments.c
    query = select(s.id, s.lines).where(*_window(since, None)).order_by(s.id)
    return [(int(number), int(lines)) for number, lines in conn.execute(query)]


def segment_blobs(
    conn: Connection, segment: int, names: Iterable[str] | None = None
) -> dict[str, bytes]:
    """The named columns one segment holds (None: all of them)."""
    c = store.deal_columns.c
    query = select(c.name, c.data).where(c.segment_id == segment)
    if names is not None:
        query = query.where(c.name.in_(list(names)))
    return {str(name): bytes(data) for name, data in conn.execute(query)}


def segment_blocks(
    conn: Connection, segment: int, lines: int, names: Iterable[str] | None = None
) -> list[Blob]:
    """The named columns one segment holds (None: all of them), with their seals."""
    c = store.deal_columns.c
    seal = c.seal if seals.enabled(conn) else null()
    query = select(c.name, c.data, seal).where(c.segment_id == segment)
    if names is not None:
        query = query.where(c.name.in_(list(names)))
    return [Blob(segment, lines, str(name), bytes(data), seal)
            for name, data, seal in conn.execute(query)]  # fmt: skip


class Segment(NamedTuple):
    """A segment as recorded: its import (None: stored before imports were recorded), its
    lines and the first and last date among them."""

    id: int
    import_id: int | None
    lines: int
    first_date: date
    last_date: date


def segment_rows(conn: Connection) -> list[Segment]:
    """Every segment as recorded, in storage order."""
    s = store.deal_segments
    query = select(s.c.id, s.c.import_id, s.c.lines, s.c.first_date, s.c.last_date)
    return [Segment(*row) for row in conn.execute(query.order_by(s.c.id))]


def held_keys_of_all(conn: Connection) -> list[tuple[int, bytes]]:
    """Each import that held lines stored already, with those lines' keys (a blob)."""
    t = store.deal_imports.c
    rows = conn.execute(select(t.id, t.held_keys).where(t.held_keys.is_not(None)).order_by(t.id))
    return [(int(ident), bytes(blob)) for ident, blob in rows]


def editions_with_items_kept(conn: Connection) -> list[int]:
    """The editions whose items are kept in columnar form."""
    kept = store.edition_columns.c
    query = select(kept.edition_id).order_by(kept.edition_id)
    return [int(n) for n in conn.execute(query).scalars()]


def add_segment(
    conn: Connection,
    import_id: int | None,
    lines: int,
    first_date: date,
    last_date: date,
    columns: Iterable[tuple[str, bytes]],
    hexdigests: dict[str, str] | None = None,
) -> int:
    """A new segment of an import, with its columns; its number. ``hexdigests``: each column
    blob's SHA-256, when its writer hashed it already (the audit's digest then hashes no more)."""
    number = conn.execute(
        store.deal_segments.insert()
        .values(import_id=import_id, lines=lines, first_date=first_date, last_date=last_date)
        .returning(store.deal_segments.c.id)
    ).scalar_one()
    stored: list[dict[str, Any]] = [
        {"segment_id": number, "name": name, "data": blob} for name, blob in columns
    ]
    if seals.enabled(conn):  # each block sealed to its place, and listed in its import's manifest
        place = seals.Place(import_id or 0, int(number), lines, first_date, last_date)
        for row in stored:
            row["seal"] = seals.block_seal(place, row["name"], row["data"])
        names = [row["name"] for row in stored]
        seals.extend_manifest(conn, import_id or 0, {int(number): (lines, names)})
    conn.execute(store.deal_columns.insert(), stored)
    audit_subjects.remember_blobs(
        conn, int(number), {row["name"]: row["data"] for row in stored}, hexdigests
    )
    return int(number)


def replace_blob(conn: Connection, segment: int, name: str, data: bytes) -> None:
    """A segment's column replaced (added, when the segment was stored before it existed),
    sealed to its place (the caller has read the segment, its seals checked)."""
    c = store.deal_columns.c
    values: dict[str, Any] = {"data": data}
    place = seals.place_of(conn, segment) if seals.enabled(conn) else None
    if place is not None:
        values["seal"] = seals.block_seal(place, name, data)
    updated = conn.execute(
        store.deal_columns.update().where(c.segment_id == segment, c.name == name).values(values)
    )
    if not updated.rowcount:
        conn.execute(store.deal_columns.insert().values(segment_id=segment, name=name, **values))
        if place is not None:
            seals.extend_manifest(conn, place.import_id, {segment: (place.lines, [name])})


def import_of_segment(conn: Connection, segment: int) -> ImportRecord | None:
    """The deals import a segment holds lines of (None: lines stored before imports were
    recorded, or no such segment)."""
    s = store.deal_segments.c
    number = conn.execute(select(s.import_id).where(s.id == segment)).scalar()
    found = imports(conn, int(number)) if number is not None else []
    return found[0] if found else None


def imports_of(conn: Connection, segments: Iterable[int]) -> list[int]:
    """The deals imports that stored these segments (0: segments from before imports were
    recorded, schema 0005)."""
    numbers = sorted(set(segments))
    if not numbers:
        return []
    s = store.deal_segments
    found = conn.execute(select(s.c.import_id).where(s.c.id.in_(numbers)).distinct()).scalars()
    return sorted({int(i or 0) for i in found})


class ImportRecord(NamedTuple):
    """A deals import as recorded (the columns since 0008 are None for older imports)."""

    id: int
    source: str
    imported_at: datetime
    imported_by: str
    lines: int
    added: int
    sha256: str | None
    columns: str | None  # the mapping the file was read with, field -> header, as JSON
    date_format: str | None
    first_date: date | None
    last_date: date | None
    decimal: str | None = None  # the decimal mark given (None: read from the values)
    # Since 0009: the statuses kept (None: no status column) and the lines left out, as JSON
    status_filter: str | None = None
    skipped_by_status: str | None = None


def _next_import_number(conn: Connection) -> int:
    """One more than any deals import ever recorded: an undone import's number is never given
    again (its audit entries keep naming it), whatever the database's own sequence does."""
    stored = conn.execute(select(func.max(store.deal_imports.c.id))).scalar()
    t = store.audit_log.c
    audited = conn.execute(
        select(func.max(cast_int(func.substr(t.subject, 7)))).where(t.subject.like("deals:%"))
    ).scalar()
    return max(int(stored or 0), int(audited or 0)) + 1


def cast_int(value: ColumnElement[Any]) -> ColumnElement[int]:
    from sqlalchemy import Integer
    from sqlalchemy import cast as sql_cast

    return sql_cast(value, Integer)


def lines_of_import(conn: Connection, number: int) -> int:
    """How many stored lines an import holds now (its segments' lines)."""
    s = store.deal_segments.c
    total = conn.execute(
        select(func.coalesce(func.sum(s.lines), 0)).where(s.import_id == number)
    ).scalar()
    return int(total or 0)


def add_import(
    conn: Connection,
    *,
    source: str,
    imported_at: datetime,
    imported_by: str,
    lines: int,
    added: int,
    sha256: str | None = None,
    columns: str | None = None,
    date_format: str | None = None,
    decimal: str | None = None,
    first_date: date | None = None,
    last_date: date | None = None,
    held_keys: bytes | None = None,
    status_filter: str | None = None,
    skipped_by_status: str | None = None,
) -> int:
    """The record of a deals import; its number."""
    number = _next_import_number(conn)
    conn.execute(
        store.deal_imports.insert().values(
            id=number,
            source=source,
            imported_at=imported_at,
            imported_by=imported_by,
            lines=lines,
            added=added,
            sha256=sha256,
            columns=columns,
            date_format=date_format,
            decimal=decimal,
            first_date=first_date,
            last_date=last_date,
            held_keys=held_keys,
            status_filter=status_filter,
            skipped_by_status=skipped_by_status,
        )
    )
    return number


def imports(
    conn: Connection, number: int | None = None, *, sha256: str | None = None
) -> list[ImportRecord]:
    """Every deals import (or the one numbered, or those of a file with this SHA-256), oldest
    first."""
    t = store.deal_imports.c
    query = select(
        t.id, t.source, t.imported_at, t.imported_by, t.lines, t.added, t.sha256, t.columns,
        t.date_format, t.first_date, t.last_date, t.decimal, t.status_filter,
        t.skipped_by_status,
    ).order_by(t.id)  # fmt: skip
    if number is not None:
        query = query.where(t.id == number)
    if sha256 is not None:
        query = query.where(t.sha256 == sha256)
    return [ImportRecord(*row) for row in conn.execute(query).all()]


def held_keys_after(conn: Connection, number: int) -> list[tuple[int, bytes]]:
    """The imports after ``number`` that held lines stored already, with those lines' keys."""
    t = store.deal_imports.c
    rows = conn.execute(
        select(t.id, t.held_keys).where(t.id > number, t.held_keys.is_not(None)).order_by(t.id)
    )
    return [(int(ident), bytes(blob)) for ident, blob in rows]


def import_segments(conn: Connection, number: int) -> list[tuple[int, int]]:
    """The segments (number, lines) an import stored, in storage order."""
    s = store.deal_segments.c
    query = select(s.id, s.lines).where(s.import_id == number).order_by(s.id)
    return [(int(ident), int(lines)) for ident, lines in conn.execute(query)]


def reassign_segment(conn: Connection, segment: int, number: int) -> None:
    """A segment made import ``number``'s (its lines, which that import held too, stay): its
    blocks are checked against their seals, then sealed to the new import (else
    :class:`~pricing.storage.seals.Unsealed`)."""
    s = store.deal_segments
    if not seals.enabled(conn):
        conn.execute(s.update().where(s.c.id == segment).values(import_id=number))
        return
    sealed = seals.segment_layout(conn, segment)
    if sealed is None:
        return
    before, found = sealed
    after = before._replace(import_id=number)
    c = store.deal_columns.c
    rows = conn.execute(select(c.name, c.data, c.seal).where(c.segment_id == segment)).all()
    keys = seals.keys()
    for name, data, seal in rows:  # every block checked before any is sealed again
        why = seals.block_problem(before, str(name), bytes(data), seal, keys)
        if why:
            raise seals.Unsealed(before.import_id, f"segment {segment}: {why}", segment)
    missing = set(found) - {str(name) for name, _, _ in rows}
    if missing:
        why = f"segment {segment}: its {', '.join(sorted(missing))} block is missing"
        raise seals.Unsealed(before.import_id, why, segment)
    conn.execute(s.update().where(s.c.id == segment).values(import_id=number))
    for name, data, _ in rows:
        conn.execute(
            store.deal_columns.update()
            .where(c.segment_id == segment, c.name == name)
            .values(seal=seals.block_seal(after, str(name), bytes(data)))
        )
    seals.drop_from_manifest(conn, before.import_id, segment)
    seals.extend_manifest(conn, number, {segment: (before.lines, found)})


def remove_import(conn: Connection, number: int) -> None:
    """An import's record, its segments and their columns, deleted."""
    s = store.deal_segments
    ours = select(s.c.id).where(s.c.import_id == number).scalar_subquery()
    conn.execute(store.deal_columns.delete().where(store.deal_columns.c.segment_id.in_(ours)))
    conn.execute(s.delete().where(s.c.import_id == number))
    conn.execute(store.deal_imports.delete().where(store.deal_imports.c.id == number))
    if seals.enabled(conn):
        seals.remove_manifest(conn, number)


def won_requests(conn: Connection) -> list[WonRequest]:
    """Each line of each won request: its customer, SKU and approval window."""
    r, rl = store.requests.c, store.request_lines.c
    rows = conn.execute(
        select(r.id, r.customer, rl.sku, r.decided_at, r.expires_at)
        .select_from(store.requests.join(store.request_lines, rl.request_id == r.id))
        .where(r.status == "won")
    )
    return [WonRequest(*row) for row in rows.all()]


def main_currency(conn: Connection) -> str | None:
    """The currency most price items are in (None: no price book yet)."""
    items = store.price_items.c
    row = conn.execute(
        select(items.currency, func.count())
        .group_by(items.currency)
        .order_by(func.count().desc(), items.currency)  # (a tie: the same one every time)
        .limit(1)
    ).first()
    return str(row[0]) if row else None


class ApprovedLine(NamedTuple):
    number: int
    sku: str
    price: Decimal
    decided_at: object  # a datetime, or its text on SQLite
    expires_at: object  # the same, or None


def approved_request_lines(conn: Connection) -> list[ApprovedLine]:
    """Each approved line of a request for a deal approved once (approved, won or expired
    since), with the price approved and the approval's window: what may cover a deal line of
    that request (contracts cover by customer: :func:`contracted_lines`)."""
    r, rl, t = store.requests, store.request_lines, store.contract_terms
    rows = conn.execute(
        select(r.c.id, rl.c.sku, rl.c.price, r.c.decided_at, r.c.expires_at)
        .join(rl, rl.c.request_id == r.c.id)
        .where(r.c.status.in_(["approved", "won", "expired"]), rl.c.decision == "approved")
        .where(r.c.id.not_in(select(t.c.request_id)))
    ).all()
    return [ApprovedLine(*row) for row in rows]


class ContractedLine(NamedTuple):
    number: int
    customer: str
    sku: str
    price: Decimal
    starts: date
    ends: date
    qty: int  # the least a deal line needs for the price
    level: str | None  # the level it was approved at (None: the rule's, within the first)
    policy_version: int  # the policy it was judged under (its levels rank ``level``)


def contracted_lines(conn: Connection) -> list[ContractedLine]:
    """Each approved line of a contract approved once (in force, or expired since), with its
    customer and period: what covers a deal line of that customer on a day of the period."""
    r, rl, t = store.requests, store.request_lines, store.contract_terms
    rows = conn.execute(
        select(
            r.c.id,
            r.c.customer,
            rl.c.sku,
            rl.c.price,
            t.c.starts,
            t.c.ends,
            rl.c.qty,
            rl.c.level,
            r.c.policy_version,
        )
        .join(rl, rl.c.request_id == r.c.id)
        .join(t, t.c.request_id == r.c.id)
        .where(r.c.status.in_(["approved", "expired"]), rl.c.decision == "approved")
    ).all()
    return [ContractedLine(*row) for row in rows]


def edition_items(conn: Connection, edition: int) -> bytes | None:
    """An edition's items in columnar form, when kept (None while the migrations of an older
    store run, before the table exists)."""
    kept = store.edition_columns.c
    blob = conn.execute(select(kept.data).where(kept.edition_id == edition)).scalar()
    return None if blob is None else bytes(blob)


def can_keep_edition_items(conn: Connection) -> bool:
    """Whether the table of editions' items in columnar form exists (while the migrations of
    an older store run, it may not yet)."""
    return inspect(conn).has_table("edition_columns")


def keep_edition_items(conn: Connection, edition: int, data: bytes) -> None:
    """Keep an edition's items in columnar form; matching trusts this copy from now on, so the
    audit records it as part of the edition."""
    conn.execute(insert(store.edition_columns).values(edition_id=edition, data=data))
    audit.record(conn, by=audit.SYSTEM, action="edition.cached",
                 subjects=[audit.subject("copy", edition)])  # fmt: skip


# What matching reads: plain tuples straight from the driver ----------------------------------


def _raw(conn: Connection, sql: str) -> list[Any]:
    """The rows of ``sql`` (its values written in: whole numbers only) as the driver's tuples."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(sql)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def edition_dates(conn: Connection) -> list[EditionDate]:
    """Every edition's number and effective date."""
    return cast(list[EditionDate], _raw(conn, "SELECT id, effective_from FROM editions"))


def edition_item_rows(conn: Connection, edition: int) -> list[ItemRow]:
    """An edition's items, as matching reads them."""
    sql = (
        "SELECT sku_key, family, list_price, unit_cost, floor_price, currency "
        f"FROM price_items WHERE edition_id = {int(edition)}"
    )
    return cast(list[ItemRow], _raw(conn, sql))


def tier_rows_of(conn: Connection, editions: Iterable[int]) -> list[TierRow]:
    """The tiers of the given editions."""
    numbers = ", ".join(str(int(number)) for number in editions)
    if not numbers:
        return []
    sql = (
        "SELECT edition_id, sku, family, min_qty, price, discount_pct FROM price_tiers "
        f"WHERE edition_id IN ({numbers})"
    )
    return cast(list[TierRow], _raw(conn, sql))


def policy_version_rows(conn: Connection) -> list[PolicyRow]:
    """Every policy version, its columns in the order of ``queries.PolicyRecord``."""
    sql = "SELECT id, effective_from, loaded_at, loaded_by, source, sha256, body FROM policies"
    return cast(list[PolicyRow], _raw(conn, sql))


def book_skus_without_zeros(conn: Connection, stripped: Iterable[str]) -> dict[str, str]:
    """Price book SKUs (any edition) whose key without its leading zeros is one of
    ``stripped`` (keys, leading zeros already removed), by that stripped key: ``{"123":
    "00123"}``. What Excel makes of a SKU column it reads as numbers."""
    wanted = sorted(set(stripped))[:1000]
    if not wanted:
        return {}
    items = store.price_items.c
    bare = func.ltrim(items.sku_key, "0")
    rows = conn.execute(select(bare, func.min(items.sku)).where(bare.in_(wanted)).group_by(bare))
    return {str(key): str(sku) for key, sku in rows}
