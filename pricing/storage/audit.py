"""The audit: one keyed chain over every change, that finds what was changed behind its back.

Each change (a request submitted, changed or decided; a policy version, a price book edition, a
person or role, a deals import) appends an entry in the same transaction: who, when, what, the
subject it changed, and the SHA-256 *digest of the subject's stored content after the change*.
Each entry carries an HMAC over itself and the previous entry's MAC, keyed with a secret that is
never in the database (the server's configuration, :func:`pricing.config.audit_keys`).

So :func:`verify` finds, even against someone who holds the database and recomputes plain
hashes:

- an entry edited, inserted or deleted (its MAC, or the next one's link, no longer holds: making
  a valid one needs the key);
- a subject edited, inserted or deleted directly (its content's digest differs from the one its
  newest entry recorded, or it has no entry, or its entry says it exists and it does not);
- the newest entries cut off, the chain emptied or rebuilt: against its **witness**, a file
  outside the database the chain's head is appended to after every change
  (:func:`config.witness_file <pricing.config.witness_file>`), or a second database
  (:mod:`pricing.storage.witness`), and against a head the owner kept elsewhere (:func:`head`);
- an audit emptied while the store holds data: a finding, and no change is recorded over it;
- an entry keyed with a secret rotated out: rotating is an entry of its own (``audit.rotated``),
  keyed with the new secret and carrying a MAC by the old one; every entry after it must be
  keyed with the new secret (a server records the rotation when it starts, and refuses at
  sign-in a person sealed by an entry of the old secret after it: :func:`in_force`).

Each store has a random id (``audit_state``, migration 0012), made with its schema: the chain's
first entry is keyed over it, and the witness records heads by (address, id). A database
recreated at the same path is another store: its chain starts afresh, and the old store's
heads in the witness are not compared with it. An id changed in SQL is found: the chain was
begun over another one.

The chain starts with the first change of an empty store. A store upgraded from before the
keyed audit (schema 0007) holding data its chain never recorded is marked by migration 0012
(``audit_state``): its first change records a ``baseline`` entry for everything already stored.
A baseline is never written anywhere else: over rows nobody verified, it would bless them.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import weakref
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache, partial
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from pricing import config
from pricing.errors import ConfigError, DamagedError
from pricing.keys import request_code
from pricing.storage import store, witness
from pricing.storage.store import Store

_LOCK = 7201559  # PostgreSQL advisory lock: appends to the chain queue up
SYSTEM = "system"
BASELINE = "baseline"
SHOWN_DAMAGE = 50
ROTATED = "audit.rotated"
KEY_SUBJECT = "audit:key"  # the subject of a rotation: the chain's own key, no stored thing

# The kinds of subject, and the actions after which a subject no longer exists.
KINDS = ("request", "policy", "edition", "copy", "person", "deals")
REMOVALS = ("deals.undone",)


@dataclass(frozen=True)
class Head:
    """The newest entry of the chain: its number and MAC. Kept elsewhere, it shows whether
    the chain was cut back or rewritten since."""

    seq: int
    mac: str

    def __str__(self) -> str:
        return f"{self.seq}:{self.mac}"

    @classmethod
    def parse(cls, text: str) -> Head:
        seq, _, mac = text.strip().partition(":")
        if not seq.isdigit() or len(mac) != 64:
            raise ValueError(
                f"{text!r} is not an audit head (SEQ:MAC, as `pricing audit head` prints)"
            )
        return cls(int(seq), mac.lower())


@dataclass(frozen=True)
class Damage:
    """One thing verification found: where, and what it means."""

    where: str  # "entry 17" or a subject, e.g. "request R-000003"
    why: str


@dataclass
class Verdict:
    """What verifying the audit found: how many entries and subjects were checked, and every
    place where what is stored differs from what the chain recorded (empty when intact)."""

    entries: int
    subjects: int
    head: Head | None
    damage: list[Damage] = field(default_factory=list)
    started: bool = True  # False: nothing was changed since the keyed audit was installed
    unknown_key: int = 0  # entries keyed with a secret this configuration does not hold
    witnessed: Head | None = None  # the newest head the witness recorded of this store
    witness: str | None = None  # the witness file compared with
    earlier: int = 0  # other stores (ids) the witness recorded at this address: recreated ones

    @property
    def keyed_elsewhere(self) -> bool:
        """Every entry is keyed with a secret not held here: most likely verified with the
        wrong configuration, not tampered with."""
        return self.entries > 0 and self.unknown_key == self.entries

    @property
    def intact(self) -> bool:
        return not self.damage


# Subjects and their content ------------------------------------------------------------------


def subject(kind: str, ident: int | str) -> str:
    """A subject's name in the chain: ``request:3``, ``policy:2``, ``person:dana`` …"""
    assert kind in KINDS, kind
    return f"{kind}:{ident}"


def _display(name: str) -> str:
    kind, _, ident = name.partition(":")
    if kind == "request" and ident.isdigit():
        return f"request {request_code(int(ident))}"
    if kind == "deals":
        return f"deals import {ident}"
    if kind == "copy":
        return f"edition {ident}'s copy for matching"
    return f"{kind} {ident}"


def _stamp(at: datetime) -> str:
    """A point in time as the MACs take it: UTC, ISO 8601 (SQLite keeps no zone)."""
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat()


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
    segment; :func:`record` waits for it. ``hexdigests``: each blob's SHA-256, when its writer
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
    s = store.deal_segments
    if conn.execute(select(s.c.id).where(s.c.import_id.is_(None)).limit(1)).first():
        names.append(subject("deals", 0))
    return names


# Writing -------------------------------------------------------------------------------------


def _mac(key: bytes, previous: str, seq: int, at: datetime, by: str, action: str,
         name: str, digest: str, note: str | None, key_id: str) -> str:  # fmt: skip
    message = "\x1f".join(
        [previous, str(seq), _stamp(at), by, action, name, digest, note or "", key_id]
    )
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def _last(conn: Connection) -> tuple[int, str, str]:
    t = store.audit_log
    row = conn.execute(
        select(t.c.seq, t.c.mac, t.c.key_id).order_by(t.c.seq.desc()).limit(1)
    ).first()
    return (int(row.seq), str(row.mac), str(row.key_id)) if row else (0, "", "")


def record(
    conn: Connection,
    *,
    by: str,
    action: str,
    subjects: Iterable[str],
    note: str | None = None,
    at: datetime | None = None,
) -> None:
    """Append one entry per subject (its content as stored now) to the chain, in the caller's
    write transaction: call it after the change is written, before the transaction ends. Once
    the transaction commits, the new head is appended to the witness.

    An empty chain beside stored data is refused (:class:`DamagedError`, nothing changed),
    unless the store was upgraded from before the keyed audit; the first change after the
    secret was rotated first records the rotation."""
    store.advisory_lock(conn, _LOCK)
    seq, previous, last_key = _last(conn)
    at = at or store.utcnow()
    names = list(subjects)
    known = {
        part: value if isinstance(value, str) else value.result()
        for part, value in conn.info.pop(_KNOWN, {}).items()
    }
    where = store_key(conn)
    ident = store_id(conn, create=True)
    if seq == 0:
        previous = genesis(ident)
        for name in _beginning(conn, set(names), where):
            seq, previous = _append(conn, seq, previous, at, SYSTEM, BASELINE, name, None, {})
    elif last_key != config.audit_key()[0]:
        seq, previous = _rotate(conn, seq, previous, at, last_key, where, ident)
    for name in names:
        seq, previous = _append(conn, seq, previous, at, by, action, name, note, known)
    if where is not None and ident and seq:  # (no id: an upgrade from before 0012 running)
        store.after_commit(conn, partial(_witness, where, ident, Head(seq, previous)))


def genesis(ident: str) -> str:
    """What the chain's first entry is keyed over in place of a previous MAC: the store's id
    (nothing for a chain begun before stores had one)."""
    return f"store {ident}" if ident else ""


_STATE_SEEN: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose audit_state is there


def _has_state(conn: Connection) -> bool:
    if conn.engine in _STATE_SEEN:
        return True
    if inspect(conn).has_table(store.audit_state.name):
        _STATE_SEEN.add(conn.engine)
        return True
    return False  # an upgrade from before 0012 running


def store_id(conn: Connection, *, create: bool = False) -> str:
    """The store's random id (migration 0012 gives every store one); "" while an upgrade from
    before 0012 runs, or when it was deleted (``create``: then a new one is written; a chain
    begun over another id, or witnessed under it, shows the change)."""
    if not _has_state(conn):
        return ""
    t = store.audit_state
    ident = conn.execute(select(t.c.value).where(t.c.name == "store")).scalar()
    if ident is None and create:
        ident = secrets.token_hex(16)
        conn.execute(t.insert().values(name="store", value=ident))
    return str(ident or "")


def _beginning(conn: Connection, pending: set[str], where: str | None) -> list[str]:
    """What the first entry of a chain records first: nothing on an empty store (a new one, or
    one recreated at the same address: whatever its witness holds of earlier stores); a
    baseline of everything stored on a store upgraded from before the keyed audit. Refused when
    the chain was emptied: the store holds data no entry recorded, and no upgrade marked it so,
    or the witness recorded a chain at this address (under any store id: the mark and a new id
    are forged)."""
    others = [name for name in stored_subjects(conn) if name not in pending]
    if not others:
        return []
    if not baseline_pending(conn):
        raise DamagedError(
            f"the audit is empty, yet the store holds {len(others):,} thing(s) it never "
            f"recorded ({_display(others[0])}, …): the audit was emptied behind the tool's "
            "back. Nothing was changed; the owner runs `pricing audit verify`, and the "
            "administrator restores the database from a backup"
        )
    known = witnessed_all(where) if where is not None else {}
    if known:
        seen = max(known.values(), key=lambda w: w.head.seq)
        raise DamagedError(
            f"the audit is empty beside {len(others):,} thing(s) stored, yet its witness "
            f"({seen.file}) recorded entry {seen.head.seq} of a store at this address on "
            f"{seen.at}: the audit was emptied behind the tool's back. Nothing was changed; the "
            "owner runs `pricing audit verify`, and the administrator restores the database "
            "from a backup"
        )
    if _has_state(conn):
        conn.execute(store.audit_state.delete().where(store.audit_state.c.name == "baseline"))
    return others


def chain_began(conn: Connection) -> bool:
    """Whether the chain holds any entry (a rotation counts)."""
    return _last(conn)[0] > 0


def emptied_beside(
    conn: Connection, stored: list[str], known: dict[str, Witnessed], seen: Witnessed | None
) -> Damage | None:
    """An empty chain beside the ``stored`` data: damage, unless the store was upgraded from
    before the keyed audit (marked so) and its witness knows no chain at this address
    (``known``; ``seen``: this store's, whose emptied chain is named by :func:`against_witness`
    already)."""
    if not baseline_pending(conn):
        return emptied(stored)
    if known and seen is None:
        other = max(known.values(), key=lambda w: w.head.seq)
        return Damage("the audit", f"it is empty beside {len(stored):,} thing(s) marked as "
                      f"stored before the keyed audit, yet its witness ({other.file}) recorded "
                      f"entry {other.head.seq} of a store at this address on {other.at}: the "
                      "audit was emptied behind the tool's back, the mark and the store's id "
                      "forged")  # fmt: skip
    return None


def against_witness(conn: Connection, seen: Witnessed) -> list[Damage]:
    """The chain's end against the newest head its witness recorded (no MAC is checked)."""
    seq, mac, _ = _last(conn)
    t = store.audit_log
    held = conn.execute(select(t.c.mac).where(t.c.seq == seen.head.seq)).scalar()
    return _check_witnessed(seen, Head(seq, mac) if seq else None, held)


def baseline_pending(conn: Connection) -> bool:
    """Whether the store was upgraded from before the keyed audit with data no entry recorded
    (migration 0012's mark; during the upgrade itself, before 0012, every store is)."""
    if not _has_state(conn):
        return True  # an upgrade from before 0012 running (0010 re-matches deal lines)
    t = store.audit_state
    return conn.execute(select(t.c.value).where(t.c.name == "baseline")).scalar() == "pending"


def record_rotation(db: Store) -> int | None:
    """Record now that the secret was rotated, when the chain's newest entry is keyed with
    another secret than the current one: a server does it when it starts, so that from its
    first answer on only the new secret signs (an entry keyed with the old one after the
    rotation is refused at sign-in, :func:`in_force`, and found by :func:`verify`). The
    rotation's entry number (None: nothing to record)."""
    current = config.audit_key()[0]
    with db.read() as conn:
        seq, _, last_key = _last(conn)
    if not seq or last_key == current:
        return None
    with db.write() as conn:
        store.advisory_lock(conn, _LOCK)
        seq, previous, last_key = _last(conn)
        if not seq or last_key == current:
            return None  # another worker recorded it meanwhile
        where, ident = store_key(conn), store_id(conn, create=True)
        seq, mac = _rotate(conn, seq, previous, store.utcnow(), last_key, where, ident)
        if where is not None and ident:
            store.after_commit(conn, partial(_witness, where, ident, Head(seq, mac)))
    return seq


def _rotate(conn: Connection, seq: int, previous: str, at: datetime, old_id: str,
            where: str | None, ident: str) -> tuple[int, str]:  # fmt: skip
    """Record that the secret was rotated: an entry keyed with the new secret, whose digest is
    a MAC by the old one (only whoever held both made it). Refused when this configuration
    does not hold the secret of the chain's newest entry, or when the chain does not hold the
    head its witness recorded: cut back to before an earlier record of this rotation, with
    entries of the old secret appended, the chain would otherwise be blessed by a new one."""
    old = config.audit_keys().get(old_id)
    if old is None:
        raise DamagedError(
            f"the audit's newest entry is keyed with a secret this configuration does not hold "
            f"(key id {old_id}): nothing was changed. If the secret was rotated, name the "
            "previous one in previous_secret_files; otherwise the owner runs `pricing audit "
            "verify`"
        )
    replaced = _rotated_out(conn, old_id)
    if replaced is not None:
        raise DamagedError(
            f"the audit's newest entry is keyed with a secret rotated out at entry {replaced} "
            f"(key id {old_id}): whoever wrote it holds the old secret, not the server's. "
            "Nothing was changed; the owner runs `pricing audit verify`"
        )
    seen = witnessed_all(where).get(ident) if where is not None and ident else None
    found = against_witness(conn, seen) if seen is not None else []
    if found:
        raise DamagedError(
            f"the audit does not hold what its witness recorded ({found[0].where}: "
            f"{found[0].why}), so the rotation of its secret is not recorded over it. Nothing "
            "was changed; the owner runs `pricing audit verify`"
        )
    key_id, key = config.audit_key()
    seq += 1
    note = f"{old_id} -> {key_id}"
    by_old = _mac(old, previous, seq, at, SYSTEM, ROTATED, KEY_SUBJECT, "", note, old_id)
    mac = _mac(key, previous, seq, at, SYSTEM, ROTATED, KEY_SUBJECT, by_old, note, key_id)
    conn.execute(
        store.audit_log.insert().values(
            seq=seq, at=at, by=SYSTEM, action=ROTATED, subject=KEY_SUBJECT, digest=by_old,
            note=note, key_id=key_id, mac=mac,
        )
    )  # fmt: skip
    return seq, mac


def _append(conn: Connection, seq: int, previous: str, at: datetime, by: str, action: str,
            name: str, note: str | None, known: dict[str, str]) -> tuple[int, str]:  # fmt: skip
    key_id, key = config.audit_key()
    digest = content_digest(conn, name, known=known) or ""
    seq += 1
    mac = _mac(key, previous, seq, at, by, action, name, digest, note, key_id)
    conn.execute(
        store.audit_log.insert().values(
            seq=seq,
            at=at,
            by=by,
            action=action,
            subject=name,
            digest=digest,
            note=note,
            key_id=key_id,
            mac=mac,
        )
    )
    return seq, mac


# The witness: the chain's head, outside the database -----------------------------------------


@dataclass(frozen=True)
class Witnessed:
    """The newest head the witness recorded of one store: when, and in which witness (a file,
    or a database: :func:`witness_name`)."""

    head: Head
    at: str
    file: str


def witness_name() -> str:
    """The witness as messages name it: its file, or its database (never a password)."""
    url = config.witness_url()
    return witness.shown(url) if url else str(config.witness_file())


def store_key(conn: Connection) -> str | None:
    """How the witness names a store: its URL without a password (an SQLite file by its real
    path); None for a database in memory (a dry run's), which nothing witnesses."""
    url = conn.engine.url
    if conn.dialect.name == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return "sqlite:///" + os.path.realpath(database)
    return store.display_url(url.render_as_string(hide_password=False))


def _witness(where: str, ident: str, head: Head) -> None:
    """Append ``head`` of the store ``where`` whose id is ``ident`` to the witness (after the
    commit that made it): one line, under an
    exclusive lock, so that the workers of a server (and commands on its host) share it. A
    witness that cannot be written is logged, not raised: the change is committed already.
    A database witness (:mod:`pricing.storage.witness`) gets a row instead."""
    url = config.witness_url()
    if url:
        try:
            witness.append(url, _stamp(store.utcnow()), head.seq, head.mac, where, ident)
        except (SQLAlchemyError, ImportError, ValueError) as exc:  # (a driver, a URL)
            logging.getLogger("pricing.audit").error(
                "could not append the audit's entry %d to its witness %s: %s",
                head.seq, witness.shown(url), exc.__class__.__name__,
            )  # fmt: skip
        return
    path = config.witness_file()
    line = f"{_stamp(store.utcnow())}\t{head}\t{where}\t{ident}\n".encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _lock(descriptor)
            os.write(descriptor, line)
        finally:
            os.close(descriptor)  # (and so the lock)
    except OSError as exc:
        logging.getLogger("pricing.audit").error(
            "could not append the audit's entry %d to its witness %s: %s",
            head.seq, path, exc.strerror,
        )  # fmt: skip


def _lock(descriptor: int) -> None:
    try:
        import fcntl
    except ImportError:  # not on this system: appends of one line are atomic enough
        return
    fcntl.flock(descriptor, fcntl.LOCK_EX)


def witness_ready() -> str:
    """The witness file, made if it is not there (mode 0600), or the witness database, its
    table made: a server checks it may append to it before it answers anyone
    (:class:`ConfigError` naming it otherwise). The witness as messages name it."""
    url = config.witness_url()
    if url:
        return witness.ready(url)
    path = config.witness_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
    except OSError as exc:
        raise ConfigError(
            f"cannot append to the audit's witness {path}: {exc.strerror}; name a file the "
            f"server's user may write in witness_file (or {config.WITNESS})"
        ) from None
    return str(path)


def witnessed(where: str, ident: str) -> Witnessed | None:
    """The newest head the witness recorded of the store at ``where`` whose id is ``ident``."""
    return witnessed_all(where).get(ident)


def witnessed_all(where: str) -> dict[str, Witnessed]:
    """The newest head the witness recorded of each store (by id) at the address ``where``
    (the first line of the highest entry: a later line of that number with another MAC is a
    rebuilt chain's).

    The witness file is read whole, never only its end: after a chain was cut back, the
    server appends lower numbers after the highest one recorded, and the heads of the other
    stores recorded at this address (a database recreated there) may be anywhere in it. A
    database witness answers with an indexed query instead."""
    url = config.witness_url()
    if url:
        return {
            ident: Witnessed(Head(row.seq, row.mac), row.at, witness.shown(url))
            for ident, row in witness.newest(url, where).items()
        }
    path = config.witness_file()
    try:
        lines = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read the audit's witness {path}: {exc.strerror}") from None
    best: dict[str, Witnessed] = {}
    with lines:
        for line in lines:
            at, _, rest = line.rstrip("\n").partition("\t")
            text, _, rest = rest.partition("\t")
            named, _, ident = rest.partition("\t")
            if named != where:
                continue
            try:
                found = Head.parse(text)
            except ValueError:
                continue  # a line cut short while it was written
            if ident not in best or found.seq > best[ident].head.seq:
                best[ident] = Witnessed(found, at, str(path))
    return best


# Reading and verifying -----------------------------------------------------------------------


@dataclass(frozen=True)
class Entry:
    """One entry of the chain, as stored."""

    seq: int
    at: datetime
    by: str
    action: str
    subject: str
    digest: str
    note: str | None
    key_id: str
    mac: str


def entries(conn: Connection) -> Iterator[Entry]:
    t = store.audit_log
    for row in conn.execute(select(t).order_by(t.c.seq)):
        yield Entry(
            row.seq, row.at, row.by, row.action, row.subject, row.digest, row.note, row.key_id,
            row.mac,
        )  # fmt: skip


def last_entry(conn: Connection, name: str) -> Entry | None:
    """The newest entry of a subject (None: the chain never named it)."""
    t = store.audit_log
    row = conn.execute(
        select(t).where(t.c.subject == name).order_by(t.c.seq.desc()).limit(1)
    ).first()
    if row is None:
        return None
    return Entry(row.seq, row.at, row.by, row.action, row.subject, row.digest, row.note,
                 row.key_id, row.mac)  # fmt: skip


def newest_entries(conn: Connection) -> dict[str, Entry]:
    """Each subject's newest entry, as stored (MACs not checked: :func:`verify` does)."""
    t = store.audit_log
    newest = (
        select(func.max(t.c.seq))
        .where(t.c.subject != KEY_SUBJECT)
        .group_by(t.c.subject)
        .scalar_subquery()
    )
    rows = conn.execute(select(t).where(t.c.seq.in_(newest)))
    return {row.subject: Entry(*row) for row in rows}


_SEALS: set[Entry] = set()  # entries whose MAC this process has verified (see unsealed)
_SEALS_KEPT = 10_000


def unsealed(conn: Connection, name: str) -> str | None:
    """Why a subject as stored now does not hold against its newest entry, its *seal* (None:
    it holds): :func:`broken_seal` of what is stored, before a change that records a rotation
    not recorded yet (the embedded commands' first change after one)."""
    return broken_seal(conn, last_entry(conn, name), content_digest(conn, name), rotated=False)


def person_digest(row: tuple[Any, ...]) -> str:
    """The content digest of a person (:func:`content_digest`) from their row as the driver
    returned it."""
    return _Digest.of([rows_digest(store.people.name, [row])])


def broken_seal(
    conn: Connection, entry: Entry | None, digest: str | None, *, rotated: bool = True
) -> str | None:
    """Why a subject whose content digest is ``digest`` does not hold against ``entry``, its
    newest (None: it holds): the chain never named it, its content differs from the digest
    the entry recorded, or the entry's own MAC does not hold under a secret this
    configuration holds and that was in force where the entry stands (:func:`in_force`;
    ``rotated``: the server recorded its rotation when it started, see there). This is
    :func:`verify` for one subject, cheap enough for every call (an entry's MAC is checked
    once per process). What it cannot see alone is a chain cut back to an older entry of the
    subject: the anchor and the head kept by the owner show that (:func:`verify`)."""
    if entry is None:
        return "the audit never recorded it: it was inserted behind the tool's back"
    if entry.action in REMOVALS or digest != entry.digest:
        return (f"it differs from what entry {entry.seq} ({entry.action} by {entry.by}, "
                f"{_stamp(entry.at)}) recorded: it was edited behind the tool's back")  # fmt: skip
    if not holds(conn, entry):
        return (f"entry {entry.seq}, which records it, does not hold (its MAC): it was "
                "written or edited behind the tool's back")  # fmt: skip
    if not in_force(conn, entry, rotated=rotated):
        return (f"entry {entry.seq}, which records it, is keyed with a secret rotated out "
                f"before it (key id {entry.key_id}): whoever wrote it holds an old secret, "
                "not the server's")  # fmt: skip
    return None


def in_force(conn: Connection, entry: Entry, *, rotated: bool = True) -> bool:
    """Whether ``entry`` is keyed with the secret in force where it stands in the chain: the
    current one, or an earlier one before the (holding) rotation that replaced it. An entry
    keyed with an earlier secret *after* that rotation was made by whoever kept the old secret
    (it leaked: why it was rotated). Until the rotation is recorded, an entry keyed with the
    earlier secret holds only when ``rotated`` is False: a change about to record the
    rotation itself, since a server records it when it starts (:func:`record_rotation`) and a
    missing one then means the chain was cut back before it."""
    keys = config.audit_keys()
    if entry.key_id == next(iter(keys)):
        return True
    out = _rotated_out(conn, entry.key_id)
    return entry.seq < out if out is not None else not rotated


def _rotated_out(conn: Connection, key_id: str) -> int | None:
    """The number of the first rotation away from the secret ``key_id`` whose MAC holds (one
    inserted by hand does not: it needs the new secret), None while there is none. (Read each
    time: only the entries of an earlier secret ask, once per person after a rotation.)"""
    t = store.audit_log
    found = conn.execute(
        select(t)
        .where(t.c.subject == KEY_SUBJECT, t.c.action == ROTATED,
               t.c.note.startswith(f"{key_id} -> ", autoescape=True))
        .order_by(t.c.seq)
    )  # fmt: skip
    for row in found.all():
        rotation = Entry(*row)
        if holds(conn, rotation):
            return rotation.seq
    return None


def holds(conn: Connection, entry: Entry) -> bool:
    """Whether one entry's MAC holds, over the MAC of the entry before it, under a secret this
    configuration holds (remembered per process once it did)."""
    if entry in _SEALS:
        return True
    key = config.audit_keys().get(entry.key_id)
    t = store.audit_log
    # The first entry is keyed over the store's id (over nothing in a chain begun before stores
    # had one: verify tells the two apart and names an id changed since).
    before = (
        [conn.execute(select(t.c.mac).where(t.c.seq == entry.seq - 1)).scalar()]
        if entry.seq > 1
        else [genesis(store_id(conn)), ""]
    )

    def keyed_over(previous: str) -> str:
        assert key is not None
        return _mac(key, previous, entry.seq, entry.at, entry.by, entry.action, entry.subject,
                    entry.digest, entry.note, entry.key_id)  # fmt: skip

    if key is None or not any(
        previous is not None and hmac.compare_digest(entry.mac, keyed_over(previous))
        for previous in before
    ):
        return False
    if len(_SEALS) >= _SEALS_KEPT:
        _SEALS.clear()
    _SEALS.add(entry)
    return True


def display(name: str) -> str:
    """A subject as people name it: ``request R-000003``, ``deals import 2`` …"""
    return _display(name)


def head(db: Store) -> Head | None:
    """The chain's newest entry (None while it is empty)."""
    with db.read() as conn:
        seq, mac, _ = _last(conn)
    return Head(seq, mac) if seq else None


def verify(db: Store, *, kept: Head | None = None) -> Verdict:
    """Check every entry's MAC and link, that each is keyed with the secret in force (after a
    rotation, the new one only), every stored subject against its newest entry, the chain
    against its witness, and (given ``kept``, a head the owner kept) that it still holds that
    entry. An empty chain beside stored data is damage, unless the store was upgraded from
    before the keyed audit and nothing changed since."""
    keys = config.audit_keys()
    damage: list[Damage] = []
    newest: dict[str, Entry] = {}
    with db.read() as conn:
        where = store_key(conn)
        ident = store_id(conn)
        known = witnessed_all(where) if where is not None else {}
        seen = known.get(ident)
        others = {other: w for other, w in known.items() if other != ident}
        chain = _Walk(keys, seen.head if seen else None, ident, others)
        for entry in entries(conn):
            damage += chain.check(entry)
            if entry.subject != KEY_SUBJECT:
                newest[entry.subject] = entry
        stored = stored_subjects(conn)
        if newest:
            damage += check_subjects(conn, stored, newest)
        elif stored and not chain.count:
            found = emptied_beside(conn, stored, known, seen)
            damage += [found] if found else []
    last = chain.last
    current = Head(last.seq, last.mac) if last else None
    if seen is not None:
        damage += _check_witnessed(seen, current, chain.witnessed_mac)
    if kept is not None:
        damage += _check_kept(db, kept, current)
    return Verdict(chain.count, len(stored), current, damage[:SHOWN_DAMAGE] + _more(damage),
                   started=bool(chain.count), unknown_key=chain.unknown,
                   witnessed=seen.head if seen else None,
                   witness=witness_name(), earlier=len(others))  # fmt: skip


def emptied(stored: list[str]) -> Damage:
    """An empty chain beside stored data: the audit was emptied."""
    return Damage("the audit", f"it is empty, yet the store holds {len(stored):,} thing(s) "
                  f"({_display(stored[0])}, …): the audit was emptied behind the tool's "
                  "back")  # fmt: skip


class _Walk:
    """The chain read entry by entry: each MAC and link (the first keyed over the store's id
    ``ident``), the secret in force (the first entry's, then each rotation's new one), and
    whether it holds a head the witness recorded under another store id (``others``: then
    the store's id was changed)."""

    def __init__(self, keys: dict[str, bytes], witnessed: Head | None, ident: str = "",
                 others: dict[str, Witnessed] | None = None) -> None:  # fmt: skip
        self.keys, self.witnessed, self.ident = keys, witnessed, ident
        self.others = others or {}
        self.previous, self.expected, self.count, self.unknown = genesis(ident), 1, 0, 0
        self.last: Entry | None = None
        self.in_force: str | None = None
        self.rotated_at = 0
        self.witnessed_mac: str | None = None

    def check(self, entry: Entry) -> list[Damage]:
        damage: list[Damage] = []
        self.count += 1
        where = f"entry {entry.seq} ({entry.action} of {_display(entry.subject)} by {entry.by})"
        if entry.seq != self.expected:
            damage.append(Damage(f"entry {self.expected}", f"missing: entries {self.expected} "
                                 f"to {entry.seq - 1} were deleted"))  # fmt: skip
        key = self.keys.get(entry.key_id)
        if key is None:
            self.unknown += 1
            damage.append(Damage(where, f"it is keyed with a secret this configuration does "
                                 f"not hold (key id {entry.key_id}): forged, or the secret "
                                 "was rotated without keeping the old one"))  # fmt: skip
        elif self.last is None and not _holds(key, self.previous, entry) and _holds(key, "", entry):
            pass  # a chain begun before stores had an id
        elif not _holds(key, self.previous, entry):
            damage.append(Damage(where, self._broken(key, entry)))
        elif entry.action == ROTATED and entry.subject == KEY_SUBJECT:
            damage += self._rotation(entry, where)
        elif self.in_force is not None and entry.key_id != self.in_force:
            damage.append(Damage(where, f"it is keyed with a secret rotated out at entry "
                                 f"{self.rotated_at} (key id {entry.key_id}; in force since: "
                                 f"{self.in_force}): whoever made it holds an old secret, "
                                 "not the server's"))  # fmt: skip
        if self.in_force is None:
            self.in_force = entry.key_id
        if self.witnessed is not None and entry.seq == self.witnessed.seq:
            self.witnessed_mac = entry.mac
        for other, seen in self.others.items():
            if (
                other
                and seen.head.seq == entry.seq
                and hmac.compare_digest(seen.head.mac, entry.mac)
            ):
                damage.append(Damage(where, f"the witness ({seen.file}) recorded it on "
                                     f"{seen.at} as the head of the store {other}; "
                                     f"the store now says it is {self.ident or '(no id)'}: its "
                                     "id was changed behind the tool's back"))  # fmt: skip
        self.previous, self.expected, self.last = entry.mac, entry.seq + 1, entry
        return damage

    def _broken(self, key: bytes, entry: Entry) -> str:
        """Why an entry's MAC does not hold; for the first, whether it was keyed over another
        store id the witness knows at this address."""
        if self.last is None:
            for other in self.others:
                if other and _holds(key, genesis(other), entry):
                    return (f"the chain was begun by the store {other}, yet the store now says "
                            f"it is {self.ident or '(no id)'}: its id was changed behind the "
                            "tool's back")  # fmt: skip
            return ("its MAC does not hold: the entry was edited or inserted, or the store's id "
                    "was changed behind the tool's back")  # fmt: skip
        return ("its MAC does not hold: the entry was edited or inserted, or one before it was "
                "deleted")  # fmt: skip

    def _rotation(self, entry: Entry, where: str) -> list[Damage]:
        """A rotation: keyed with the new secret (checked already) and carrying a MAC by the
        secret in force until then."""
        old_id, _, new_id = (entry.note or "").partition(" -> ")
        old = self.keys.get(old_id)
        expected = (
            _mac(old, self.previous, entry.seq, entry.at, entry.by, entry.action, entry.subject,
                 "", entry.note, old_id)
            if old is not None and new_id == entry.key_id
            else ""
        )  # fmt: skip
        if self.in_force not in (None, old_id) or not hmac.compare_digest(entry.digest, expected):
            return [Damage(where, "the rotation is not signed by the secret in force before it: "
                           "it was forged")]  # fmt: skip
        self.in_force, self.rotated_at = entry.key_id, entry.seq
        return []


def _holds(key: bytes, previous: str, entry: Entry) -> bool:
    return hmac.compare_digest(entry.mac, _mac(
        key, previous, entry.seq, entry.at, entry.by, entry.action, entry.subject, entry.digest,
        entry.note, entry.key_id,
    ))  # fmt: skip


RESTORED = (
    "If the database was restored from an older backup on purpose, move the witness aside "
    '(docs/team.md, "Restoring a backup")'
)


def _check_witnessed(seen: Witnessed, current: Head | None, mac: str | None) -> list[Damage]:
    """The chain against the newest head its witness recorded (a restore of an older backup
    looks the same as a cut: the message says how to tell the witness it was one)."""
    when = f"the witness ({seen.file}) recorded entry {seen.head.seq} on {seen.at}"
    if current is None or current.seq < seen.head.seq:
        ends = f"now ends at entry {current.seq}" if current else "is now empty"
        return [Damage(f"entry {seen.head.seq}", f"{when}; the chain {ends}: entries were "
                       f"deleted from its end, or the audit emptied. {RESTORED}")]  # fmt: skip
    if mac is None or not hmac.compare_digest(mac, seen.head.mac):
        return [Damage(f"entry {seen.head.seq}", f"differs from what {when}: the chain was "
                       f"rebuilt or rewritten from there on. {RESTORED}")]  # fmt: skip
    return []


def _more(damage: list[Damage]) -> list[Damage]:
    if len(damage) <= SHOWN_DAMAGE:
        return []
    return [Damage("…", f"and {len(damage) - SHOWN_DAMAGE} more")]


def check_subjects(
    conn: Connection,
    stored: list[str],
    newest: dict[str, Entry],
    known: dict[str, str] | None = None,
) -> list[Damage]:
    """Every stored subject against its newest entry, and every entry's subject still stored
    (``known``: digests of parts hashed already, :func:`known_blobs`)."""
    damage: list[Damage] = []
    for name in stored:
        entry = newest.get(name)
        if entry is None:
            damage.append(Damage(_display(name), "it is stored but the audit never recorded it: "
                                 "it was inserted behind the tool's back"))  # fmt: skip
        elif entry.action in REMOVALS:
            damage.append(Damage(_display(name), f"entry {entry.seq} removed it, yet it is "
                                 "stored: it was put back behind the tool's back"))  # fmt: skip
        elif content_digest(conn, name, known=known) != entry.digest:
            damage.append(Damage(_display(name), f"its stored content differs from what entry "
                                 f"{entry.seq} ({entry.action} by {entry.by}, "
                                 f"{_stamp(entry.at)}) recorded: it was edited behind the "
                                 "tool's back"))  # fmt: skip
    present = set(stored)
    for name, entry in newest.items():
        if name not in present and entry.action not in REMOVALS:
            damage.append(Damage(_display(name), f"entry {entry.seq} ({entry.action}) recorded "
                                 "it, but it is no longer stored: it was deleted behind the "
                                 "tool's back"))  # fmt: skip
    return damage


def _check_kept(db: Store, kept: Head, current: Head | None) -> list[Damage]:
    with db.read() as conn:
        t = store.audit_log
        row = conn.execute(select(t.c.mac).where(t.c.seq == kept.seq)).first()
    if row is None:
        shown = current.seq if current else 0
        return [Damage(f"entry {kept.seq}", f"the head you kept is gone: the chain now ends at "
                       f"entry {shown}; entries were deleted from its end")]  # fmt: skip
    if not hmac.compare_digest(str(row.mac), kept.mac):
        return [Damage(f"entry {kept.seq}", "differs from the head you kept: the chain was "
                       "rewritten from there on")]  # fmt: skip
    return []
