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
  sign-in a person sealed by an entry of the old secret after it: :func:`audit_entries.in_force`).

Each store has a random id (``audit_state``, migration 0012), made with its schema: the chain's
first entry is keyed over it, and the witness records heads by (address, id). A database
recreated at the same path is another store: its chain starts afresh, and the old store's
heads in the witness are not compared with it. An id changed in SQL is found: the chain was
begun over another one.

The chain starts with the first change of an empty store. A store upgraded from before the
keyed audit (schema 0007) holding data its chain never recorded is marked by migration 0012
(``audit_state``): its first change records a ``baseline`` entry for everything already stored.
A baseline is never written anywhere else: over rows nobody verified, it would bless them.

The audit is written in five modules, one concern each: this one records changes (and a
rotation of the secret) and is the API the rest of ``pricing`` calls; the subjects and their
digests (:mod:`pricing.storage.audit_subjects`), the entries and their MACs
(:mod:`pricing.storage.audit_entries`), the witness (:mod:`pricing.storage.audit_witness`)
and verifying (:mod:`pricing.storage.audit_verify`) sit below it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial

from sqlalchemy.engine import Connection

from pricing import config
from pricing.errors import DamagedError
from pricing.storage import store
from pricing.storage.audit_entries import (
    BASELINE,
    KEY_SUBJECT,
    ROTATED,
    SYSTEM,
    Entry,
    Head,
    baseline_pending,
    chain_end,
    entry_mac,
    genesis,
    has_state,
    head,
    last_entry,
    rotated_out,
    store_id,
)
from pricing.storage.audit_subjects import (
    REMOVALS,
    content_digest,
    display,
    known_blobs,
    person_digest,
    remembered,
    stored_subjects,
    subject,
)
from pricing.storage.audit_verify import (
    Damage,
    Verdict,
    against_witness,
    broken_seal,
    unsealed,
    verify,
)
from pricing.storage.audit_witness import append_head, store_key, witness_ready, witnessed_all
from pricing.storage.store import Store

# What the rest of pricing calls: recording a change and naming its subjects, the seals checked
# before acting, verifying, and the results they return. The parts below hold the rest.
__all__ = [
    "REMOVALS",
    "SYSTEM",
    "Damage",
    "Entry",
    "Head",
    "Verdict",
    "broken_seal",
    "display",
    "head",
    "known_blobs",
    "last_entry",
    "person_digest",
    "record",
    "record_rotation",
    "subject",
    "unsealed",
    "verify",
    "witness_ready",
]

_LOCK = 7201559  # PostgreSQL advisory lock: appends to the chain queue up


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
    seq, previous, last_key = chain_end(conn)
    at = at or store.utcnow()
    names = list(subjects)
    known = remembered(conn)
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
        store.after_commit(conn, partial(append_head, where, ident, Head(seq, previous)))


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
            f"recorded ({display(others[0])}, …): the audit was emptied behind the tool's "
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
    if has_state(conn):
        conn.execute(store.audit_state.delete().where(store.audit_state.c.name == "baseline"))
    return others


def record_rotation(db: Store) -> int | None:
    """Record now that the secret was rotated, when the chain's newest entry is keyed with
    another secret than the current one: a server does it when it starts, so that from its
    first answer on only the new secret signs (an entry keyed with the old one after the
    rotation is refused at sign-in, :func:`audit_entries.in_force`, and found by
    :func:`verify`). The rotation's entry number (None: nothing to record)."""
    current = config.audit_key()[0]
    with db.read() as conn:
        seq, _, last_key = chain_end(conn)
    if not seq or last_key == current:
        return None
    with db.write() as conn:
        store.advisory_lock(conn, _LOCK)
        seq, previous, last_key = chain_end(conn)
        if not seq or last_key == current:
            return None  # another worker recorded it meanwhile
        where, ident = store_key(conn), store_id(conn, create=True)
        seq, mac = _rotate(conn, seq, previous, store.utcnow(), last_key, where, ident)
        if where is not None and ident:
            store.after_commit(conn, partial(append_head, where, ident, Head(seq, mac)))
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
    replaced = rotated_out(conn, old_id)
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
    by_old = entry_mac(old, previous, seq, at, SYSTEM, ROTATED, KEY_SUBJECT, "", note, old_id)
    mac = entry_mac(key, previous, seq, at, SYSTEM, ROTATED, KEY_SUBJECT, by_old, note, key_id)
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
    mac = entry_mac(key, previous, seq, at, by, action, name, digest, note, key_id)
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
