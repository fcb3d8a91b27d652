"""The audit's chain as stored: its entries, the HMAC that seals each one over the entry
before it, which secret is in force where an entry stands (rotations), and the store's id the
first entry is keyed over.

It stands apart from writing the chain (:mod:`pricing.storage.audit`) and verifying it
(:mod:`pricing.storage.audit_verify`) because both, and the witness
(:mod:`pricing.storage.audit_witness`), read entries and check MACs the same way: one
definition of what an entry is and what makes it hold.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection, Engine

from pricing import config
from pricing.storage import store
from pricing.storage.store import Store

SYSTEM = "system"
BASELINE = "baseline"
ROTATED = "audit.rotated"
KEY_SUBJECT = "audit:key"  # the subject of a rotation: the chain's own key, no stored thing


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


def stamp(at: datetime) -> str:
    """A point in time as the MACs take it: UTC, ISO 8601 (SQLite keeps no zone)."""
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat()


def entry_mac(key: bytes, previous: str, seq: int, at: datetime, by: str, action: str,
              name: str, digest: str, note: str | None, key_id: str) -> str:  # fmt: skip
    message = "\x1f".join(
        [previous, str(seq), stamp(at), by, action, name, digest, note or "", key_id]
    )
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()


def chain_end(conn: Connection) -> tuple[int, str, str]:
    t = store.audit_log
    row = conn.execute(
        select(t.c.seq, t.c.mac, t.c.key_id).order_by(t.c.seq.desc()).limit(1)
    ).first()
    return (int(row.seq), str(row.mac), str(row.key_id)) if row else (0, "", "")


def genesis(ident: str) -> str:
    """What the chain's first entry is keyed over in place of a previous MAC: the store's id
    (nothing for a chain begun before stores had one)."""
    return f"store {ident}" if ident else ""


_STATE_SEEN: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose audit_state is there


def has_state(conn: Connection) -> bool:
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
    if not has_state(conn):
        return ""
    t = store.audit_state
    ident = conn.execute(select(t.c.value).where(t.c.name == "store")).scalar()
    if ident is None and create:
        ident = secrets.token_hex(16)
        conn.execute(t.insert().values(name="store", value=ident))
    return str(ident or "")


def baseline_pending(conn: Connection) -> bool:
    """Whether the store was upgraded from before the keyed audit with data no entry recorded
    (migration 0012's mark; during the upgrade itself, before 0012, every store is)."""
    if not has_state(conn):
        return True  # an upgrade from before 0012 running (0010 re-matches deal lines)
    t = store.audit_state
    return conn.execute(select(t.c.value).where(t.c.name == "baseline")).scalar() == "pending"


def chain_began(conn: Connection) -> bool:
    """Whether the chain holds any entry (a rotation counts)."""
    return chain_end(conn)[0] > 0


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
    """Each subject's newest entry, as stored (MACs not checked: :func:`audit_verify.verify`
    does)."""
    t = store.audit_log
    newest = (
        select(func.max(t.c.seq))
        .where(t.c.subject != KEY_SUBJECT)
        .group_by(t.c.subject)
        .scalar_subquery()
    )
    rows = conn.execute(select(t).where(t.c.seq.in_(newest)))
    return {row.subject: Entry(*row) for row in rows}


_SEALS: set[Entry] = set()  # entries whose MAC this process has verified (see holds)
_SEALS_KEPT = 10_000


def in_force(conn: Connection, entry: Entry, *, rotated: bool = True) -> bool:
    """Whether ``entry`` is keyed with the secret in force where it stands in the chain: the
    current one, or an earlier one before the (holding) rotation that replaced it. An entry
    keyed with an earlier secret *after* that rotation was made by whoever kept the old secret
    (it leaked: why it was rotated). Until the rotation is recorded, an entry keyed with the
    earlier secret holds only when ``rotated`` is False: a change about to record the
    rotation itself, since a server records it when it starts (:func:`audit.record_rotation`) and a
    missing one then means the chain was cut back before it."""
    keys = config.audit_keys()
    if entry.key_id == next(iter(keys)):
        return True
    out = rotated_out(conn, entry.key_id)
    return entry.seq < out if out is not None else not rotated


def rotated_out(conn: Connection, key_id: str) -> int | None:
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
        return entry_mac(key, previous, entry.seq, entry.at, entry.by, entry.action,
                         entry.subject, entry.digest, entry.note, entry.key_id)  # fmt: skip

    if key is None or not any(
        previous is not None and hmac.compare_digest(entry.mac, keyed_over(previous))
        for previous in before
    ):
        return False
    if len(_SEALS) >= _SEALS_KEPT:
        _SEALS.clear()
    _SEALS.add(entry)
    return True


def head(db: Store) -> Head | None:
    """The chain's newest entry (None while it is empty)."""
    with db.read() as conn:
        seq, mac, _ = chain_end(conn)
    return Head(seq, mac) if seq else None
