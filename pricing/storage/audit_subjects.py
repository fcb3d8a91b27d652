"""What the audit's chain records of each change: its *subjects* (``request:3``,
``policy:2``, ``person:dana`` …) and the SHA-256 digest of each one's stored content.

A digest is of the rows as the database driver returns them, table by table; rows inserted in
the current transaction are digested as they are written (:func:`remember`,
:func:`remember_blobs`) so that recording them need not read them back.

It stands apart from the chain (:mod:`pricing.storage.audit`) because it is the one part that
knows the store's tables: adding a kind of subject, or a table to one, is a change here alone,
and ``pricing db check`` digests subjects with it without touching the chain.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from sqlalchemy import Select, Table, bindparam, select
from sqlalchemy.engine import Connection

from pricing.keys import request_code
from pricing.storage import store

# The kinds of subject, and the actions after which a subject no longer exists.
KINDS = ("request", "policy", "edition", "copy", "person", "deals", "fx")
REMOVALS = ("deals.undone",)


def subject(kind: str, ident: int | str) -> str:
    """A subject's name in the chain: ``request:3``, ``policy:2``, ``person:dana`` …"""
    assert kind in KINDS, kind
    return f"{kind}:{ident}"


def display(name: str) -> str:
    """A subject as people name it: ``request R-000003``, ``deals import 2`` …"""
    kind, _, ident = name.partition(":")
    if kind == "request" and ident.isdigit():
        return f"request {request_code(int(ident))}"
    if kind == "deals":
        return f"deals import {ident}"
    if kind == "copy":
        return f"edition {ident}'s copy for matching"
    if kind == "fx":
        return f"exchange rates import {ident}"
    return f"{kind} {ident}"


def rows_digest(table: str, rows: Sequence[tuple[Any, ...]]) -> str:
    """The digest of a table's rows of one subject, as the database driver returns them (no
    per-value conversion: 100,000 price items take a fraction of a second): of the text
    ``table:count:[rows]``, hashed a slice of rows at a time, so that the text of all of them
    (hundreds of MB for a large price book) is never held at once."""
    sha = hashlib.sha256(f"{table}:{len(rows)}:[".encode())
    for start in range(0, len(rows), _DIGEST_SLICE):
        text = repr(list(rows[start : start + _DIGEST_SLICE]))[1:-1]  # the slice as in the list
        sha.update(((", " if start else "") + text).encode("utf-8"))
    sha.update(b"]")
    return sha.hexdigest()


_DIGEST_SLICE = 50  # rows: a slice of the longest rows is a few MB of text


def remember(conn: Connection, table: str, ident: int, rows: Sequence[tuple[Any, ...]]) -> None:
    """Keep the digest of rows just inserted in storage form (which the driver returns as
    they were given), so that recording them in this transaction need not read them back."""
    conn.info.setdefault(_KNOWN, {})[f"{table}:{ident}"] = rows_digest(table, rows)


def remember_blobs(
    conn: Connection,
    segment: int,
    blobs: dict[str, bytes],
    hexdigests: dict[str, str] | None = None,
) -> None:
    """Keep the digest of a deal segment's columns just inserted (see :func:`remember`). It is
    taken on another thread (hashing lets go of the GIL) while the import matches the next
    segment; :func:`audit.record` waits for it. ``hexdigests``: each blob's SHA-256, when its writer
    hashed it already (not hashed again)."""
    known = conn.info.setdefault(_KNOWN, {})
    if hexdigests is not None:
        known[f"deal_columns:{segment}"] = _hashing().submit(blobs_digest, dict(hexdigests))
        return
    known[f"deal_columns:{segment}"] = _hashing().submit(_blobs_digest, dict(blobs))


@cache
def _hashing() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(1, thread_name_prefix="pricing-audit")


def _blobs_digest(blobs: dict[str, bytes]) -> str:
    return blobs_digest({name: hashlib.sha256(blob).hexdigest() for name, blob in blobs.items()})


def blobs_digest(hexdigests: dict[str, str]) -> str:
    """A deal segment's columns as the audit digests them, from each stored blob's SHA-256
    (``pricing db check`` hashes each blob once for its own checks and this)."""
    parts = [f"{name}:{hexdigests[name]}" for name in sorted(hexdigests)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def known_blobs(segment: int, hexdigests: dict[str, str]) -> dict[str, str]:
    """The ``known`` digests (:func:`content_digest`) of a segment's columns hashed already."""
    return {f"deal_columns:{segment}": blobs_digest(hexdigests)}


_KNOWN = "pricing.audit.known"


def remembered(conn: Connection) -> dict[str, str]:
    """The digests :func:`remember` and :func:`remember_blobs` kept in this transaction (waiting
    for those still being hashed), taken: what :func:`content_digest` is given as ``known``."""
    return {
        part: value if isinstance(value, str) else value.result()
        for part, value in conn.info.pop(_KNOWN, {}).items()
    }


def raw_rows(conn: Connection, statement: Select[Any]) -> Sequence[Any]:
    """The rows of ``statement`` as the database driver returns them (what digests take)."""
    compiled = statement.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(compiled.params[name] for name in compiled.positiontup)
    result = conn.exec_driver_sql(str(compiled), params)
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    return rows


_MATCHING: dict[tuple[str, str, str, str, bool], tuple[str, tuple[str, ...] | None]] = {}


def _matching_rows(
    conn: Connection, table: Table, column: str, value: object, order: str
) -> Sequence[Any]:
    """:func:`raw_rows` of ``select(table).where(column == value).order_by(order)``, the same
    rows, with the statement's SQL compiled once per process (compiling it took a fifth of a
    submission: every change digests its subject's rows)."""
    key = (conn.dialect.name, table.name, column, order, value is None)
    compiled = _MATCHING.get(key)
    if compiled is None:
        match = table.c[column].is_(None) if value is None else table.c[column] == bindparam("v")
        done = select(table).where(match).order_by(table.c[order]).compile(dialect=conn.dialect)
        positions = None if done.positiontup is None else tuple(done.positiontup)
        compiled = _MATCHING[key] = (str(done), positions)
    sql, positions = compiled
    params: Any = {} if value is None else {"v": value}
    if positions is not None:
        params = tuple(value for _ in positions)
    result = conn.exec_driver_sql(sql, params)
    rows = result.cursor.fetchall() if result.cursor is not None else []
    result.close()
    return rows


class _Digest:
    """A subject's content, table by table, each table's rows digested as the driver returns
    them; the same store returns the same values for the same content, which is all a digest
    compares."""

    def __init__(self, conn: Connection, known: dict[str, str]) -> None:
        self.conn, self.known = conn, known
        self.parts: list[str] = []

    def add(self, table: Table, column: str, value: object, order: str, ident: object) -> int:
        """The rows of ``table`` whose ``column`` is ``value`` (None: is null; ``ident`` names
        them), in ``order``; how many (-1: known from their insert)."""
        if f"{table.name}:{ident}" in self.known:
            self.parts.append(self.known[f"{table.name}:{ident}"])
            return -1
        rows = _matching_rows(self.conn, table, column, value, order)
        self.parts.append(rows_digest(table.name, rows))
        return len(rows)

    def add_present(self, table: Table, column: str, value: object, order: str) -> None:
        """The rows of ``table`` whose ``column`` is ``value``, when there are any: a table
        added to a subject later (a contract's period) leaves the digest of a subject without
        such rows what it was."""
        rows = _matching_rows(self.conn, table, column, value, order)
        if rows:
            self.parts.append(rows_digest(table.name, rows))

    def blobs(self, segment: int) -> None:
        """A deal segment's columns (blobs), by name."""
        if f"deal_columns:{segment}" in self.known:
            self.parts.append(self.known[f"deal_columns:{segment}"])
            return
        c = store.deal_columns.c
        found = self.conn.execute(select(c.name, c.data).where(c.segment_id == segment))
        self.parts.append(_blobs_digest({row.name: row.data for row in found}))

    def copy(self, edition: int) -> bool:
        """An edition's columnar copy of its items (what matching reads; a subject of its own,
        so that recording it need not read the edition's items again)."""
        kept = store.edition_columns.c
        blob = self.conn.execute(select(kept.data).where(kept.edition_id == edition)).scalar()
        if blob is None:
            return False
        self.parts.append("copy:" + hashlib.sha256(bytes(blob)).hexdigest())
        return True

    def hexdigest(self) -> str:
        return self.of(self.parts)

    @staticmethod
    def of(parts: list[str]) -> str:
        return hashlib.sha256("\x1e".join(parts).encode()).hexdigest()


def content_digest(
    conn: Connection, name: str, *, known: dict[str, str] | None = None
) -> str | None:
    """The digest of a subject's stored content now (None when it is not stored); ``known``:
    digests of rows inserted in this transaction (:func:`remember`)."""
    kind, _, ident = name.partition(":")
    d = _Digest(conn, known or {})
    if kind == "person":
        return d.hexdigest() if d.add(store.people, "name_key", ident, "id", ident) else None
    number = int(ident)
    if kind == "request":
        if not d.add(store.requests, "id", number, "id", number):
            return None
        d.add(store.request_lines, "request_id", number, "line_no", number)
        d.add(store.request_events, "request_id", number, "id", number)
        d.add_present(store.contract_terms, "request_id", number, "request_id")
        d.add_present(store.approval_reuses, "request_id", number, "request_id")
        d.add_present(store.approval_reuses, "approval_id", number, "request_id")  # (kept by)
        return d.hexdigest()
    if kind == "policy":
        t = store.policies
        return d.hexdigest() if d.add(t, "id", number, "id", number) else None
    if kind == "edition":
        if not d.add(store.editions, "id", number, "id", number):
            return None
        d.add(store.price_items, "edition_id", number, "position", number)
        d.add(store.price_tiers, "edition_id", number, "position", number)
        return d.hexdigest()
    if kind == "copy":
        return d.hexdigest() if d.copy(number) else None
    if kind == "deals":
        return _deals_digest(conn, number, d)
    if kind == "fx":
        if not d.add(store.fx_imports, "id", number, "id", number):
            return None
        d.add(store.fx_series, "import_id", number, "position", number)
        return d.hexdigest()
    raise ValueError(f"unknown audit subject {name!r}")


def _deals_digest(conn: Connection, number: int, d: _Digest) -> str | None:
    """A deals import: its row, its segments and every column of their lines (a re-match
    rewrites the matched columns: it records the imports it changed). Import 0 holds the
    segments stored before imports were recorded (schema 0005)."""
    s = store.deal_segments
    ours = s.c.import_id.is_(None) if number == 0 else s.c.import_id == number
    found = d.add(store.deal_imports, "id", number, "id", number)
    found += d.add(s, "import_id", None if number == 0 else number, "id", number)
    if not found:
        return None
    for segment in conn.execute(select(s.c.id).where(ours).order_by(s.c.id)).scalars():
        d.blobs(int(segment))
    return d.hexdigest()


def stored_subjects(conn: Connection) -> list[str]:
    """Every subject the store holds now."""
    names = [subject("request", n) for n in conn.execute(select(store.requests.c.id)).scalars()]
    names += [subject("policy", n) for n in conn.execute(select(store.policies.c.id)).scalars()]
    names += [subject("edition", n) for n in conn.execute(select(store.editions.c.id)).scalars()]
    names += [
        subject("copy", n)
        for n in conn.execute(select(store.edition_columns.c.edition_id)).scalars()
    ]
    names += [subject("person", k) for k in conn.execute(select(store.people.c.name_key)).scalars()]
    names += [subject("deals", n) for n in conn.execute(select(store.deal_imports.c.id)).scalars()]
    if conn.dialect.has_table(conn, store.fx_imports.name):  # (a migration before 0016 records)
        names += [subject("fx", n) for n in conn.execute(select(store.fx_imports.c.id)).scalars()]
    s = store.deal_segments
    if conn.execute(select(s.c.id).where(s.c.import_id.is_(None)).limit(1)).first():
        names.append(subject("deals", 0))
    return names


def person_digest(row: tuple[Any, ...]) -> str:
    """The content digest of a person (:func:`content_digest`) from their row as the driver
    returned it."""
    return _Digest.of([rows_digest(store.people.name, [row])])
