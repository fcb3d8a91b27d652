"""Verifying the audit: every entry's MAC and link, the secret in force at each, every stored
subject against its newest entry, the chain against its witness and a head its owner kept
(:func:`verify`); one subject against its *seal*, cheap enough for every call
(:func:`broken_seal`).

It stands apart from writing the chain (:mod:`pricing.storage.audit`) because it only reads,
and says what it finds as data (:class:`Damage`, :class:`Verdict`): ``pricing audit verify``
and ``pricing db check`` report it, a change refuses to record over it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pricing import config
from pricing.storage import store
from pricing.storage.audit_entries import (
    KEY_SUBJECT,
    ROTATED,
    Entry,
    Head,
    baseline_pending,
    chain_end,
    entries,
    entry_mac,
    genesis,
    holds,
    in_force,
    last_entry,
    stamp,
    store_id,
)
from pricing.storage.audit_subjects import REMOVALS, content_digest, display, stored_subjects
from pricing.storage.audit_witness import Witnessed, store_key, witness_name, witnessed_all
from pricing.storage.store import Store

SHOWN_DAMAGE = 50


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
        damage += check_witnessed(seen, current, chain.witnessed_mac)
    if kept is not None:
        damage += _check_kept(db, kept, current)
    return Verdict(chain.count, len(stored), current, damage[:SHOWN_DAMAGE] + _more(damage),
                   started=bool(chain.count), unknown_key=chain.unknown,
                   witnessed=seen.head if seen else None,
                   witness=witness_name(), earlier=len(others))  # fmt: skip


def emptied(stored: list[str]) -> Damage:
    """An empty chain beside stored data: the audit was emptied."""
    return Damage("the audit", f"it is empty, yet the store holds {len(stored):,} thing(s) "
                  f"({display(stored[0])}, …): the audit was emptied behind the tool's "
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
        where = f"entry {entry.seq} ({entry.action} of {display(entry.subject)} by {entry.by})"
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
            entry_mac(old, self.previous, entry.seq, entry.at, entry.by, entry.action,
                      entry.subject, "", entry.note, old_id)
            if old is not None and new_id == entry.key_id
            else ""
        )  # fmt: skip
        if self.in_force not in (None, old_id) or not hmac.compare_digest(entry.digest, expected):
            return [Damage(where, "the rotation is not signed by the secret in force before it: "
                           "it was forged")]  # fmt: skip
        self.in_force, self.rotated_at = entry.key_id, entry.seq
        return []


def _holds(key: bytes, previous: str, entry: Entry) -> bool:
    return hmac.compare_digest(entry.mac, entry_mac(
        key, previous, entry.seq, entry.at, entry.by, entry.action, entry.subject, entry.digest,
        entry.note, entry.key_id,
    ))  # fmt: skip


RESTORED = (
    "If the database was restored from an older backup on purpose, move the witness aside "
    '(docs/team.md, "Restoring a backup")'
)


def check_witnessed(seen: Witnessed, current: Head | None, mac: str | None) -> list[Damage]:
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
    (``known``: digests of parts hashed already, :func:`audit_subjects.known_blobs`)."""
    damage: list[Damage] = []
    for name in stored:
        entry = newest.get(name)
        if entry is None:
            damage.append(Damage(display(name), "it is stored but the audit never recorded it: "
                                 "it was inserted behind the tool's back"))  # fmt: skip
        elif entry.action in REMOVALS:
            damage.append(Damage(display(name), f"entry {entry.seq} removed it, yet it is "
                                 "stored: it was put back behind the tool's back"))  # fmt: skip
        elif content_digest(conn, name, known=known) != entry.digest:
            damage.append(Damage(display(name), f"its stored content differs from what entry "
                                 f"{entry.seq} ({entry.action} by {entry.by}, "
                                 f"{stamp(entry.at)}) recorded: it was edited behind the "
                                 "tool's back"))  # fmt: skip
    present = set(stored)
    for name, entry in newest.items():
        if name not in present and entry.action not in REMOVALS:
            damage.append(Damage(display(name), f"entry {entry.seq} ({entry.action}) recorded "
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
    seq, mac, _ = chain_end(conn)
    t = store.audit_log
    held = conn.execute(select(t.c.mac).where(t.c.seq == seen.head.seq)).scalar()
    return check_witnessed(seen, Head(seq, mac) if seq else None, held)


def unsealed(conn: Connection, name: str) -> str | None:
    """Why a subject as stored now does not hold against its newest entry, its *seal* (None:
    it holds): :func:`broken_seal` of what is stored, before a change that records a rotation
    not recorded yet (the embedded commands' first change after one)."""
    return broken_seal(conn, last_entry(conn, name), content_digest(conn, name), rotated=False)


def broken_seal(
    conn: Connection, entry: Entry | None, digest: str | None, *, rotated: bool = True
) -> str | None:
    """Why a subject whose content digest is ``digest`` does not hold against ``entry``, its
    newest (None: it holds): the chain never named it, its content differs from the digest
    the entry recorded, or the entry's own MAC does not hold under a secret this
    configuration holds and that was in force where the entry stands
    (:func:`audit_entries.in_force`; ``rotated``: the server recorded its rotation when it
    started, see there). This is
    :func:`verify` for one subject, cheap enough for every call (an entry's MAC is checked
    once per process). What it cannot see alone is a chain cut back to an older entry of the
    subject: the anchor and the head kept by the owner show that (:func:`verify`)."""
    if entry is None:
        return "the audit never recorded it: it was inserted behind the tool's back"
    if entry.action in REMOVALS or digest != entry.digest:
        return (f"it differs from what entry {entry.seq} ({entry.action} by {entry.by}, "
                f"{stamp(entry.at)}) recorded: it was edited behind the tool's back")  # fmt: skip
    if not holds(conn, entry):
        return (f"entry {entry.seq}, which records it, does not hold (its MAC): it was "
                "written or edited behind the tool's back")  # fmt: skip
    if not in_force(conn, entry, rotated=rotated):
        return (f"entry {entry.seq}, which records it, is keyed with a secret rotated out "
                f"before it (key id {entry.key_id}): whoever wrote it holds an old secret, "
                "not the server's")  # fmt: skip
    return None
