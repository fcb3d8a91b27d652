"""What ``pricing db check`` finds in the tables: each damaged thing, named, with how to
recover.

A store is damaged, not attacked, here: a failing disk, a restore gone wrong, a slip in psql.
The check compares what is stored with what was recorded when it was written, and reuses what
the store keeps already instead of a second hashing of the same things:

- each price book edition holds the number of items recorded at its import;
- each policy version's text has the SHA-256 recorded when it was loaded;
- every subject the keyed audit recorded (:mod:`pricing.storage.audit`: editions, policies,
  requests, people, deals imports) still has the content digest of its newest entry (the
  MACs of the chain are ``pricing audit verify``'s, which needs the server's secret);
- an SQLite file is not readable by every local user (a warning: its owner chose its mode).

The deal data's own checks (every segment decodes, its seal and line count hold) are in
:func:`pricing.lines.segments.check`, which knows how segments are encoded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from pricing.storage import audit, store
from pricing.storage.audit_entries import chain_began, newest_entries, store_id
from pricing.storage.audit_subjects import stored_subjects
from pricing.storage.audit_verify import against_witness, check_subjects, emptied_beside
from pricing.storage.audit_witness import store_key, witnessed_all
from pricing.storage.deal_tables import ImportRecord

Severity = Literal["damage", "warning"]
BACKUP = "restore the database from a backup taken before the damage"


@dataclass(frozen=True)
class Finding:
    """One thing found: its kind (``deal data``, ``edition``, ``policy``, …), what it is as
    people name it, what is wrong and how to recover; for deal data, the import it belongs to
    (None: lines stored before imports were recorded), the segment and the column."""

    kind: str
    what: str
    problem: str
    recover: str
    severity: Severity = "damage"
    deals_import: ImportRecord | None = None
    segment: int | None = None
    column: str | None = None
    subject: str | None = None  # its name in the audit (``deals:2``), when it has one


@dataclass
class StoreCheck:
    """What checking the store found, and how much it checked (``checked``: counts by kind)."""

    url: str
    checked: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    audit_started: bool = False

    @property
    def sound(self) -> bool:
        """Nothing damaged (warnings do not count)."""
        return not any(f.severity == "damage" for f in self.findings)


def editions(conn: Connection) -> tuple[int, list[Finding]]:
    """Each edition's items against the count recorded at its import."""
    e, i = store.editions.c, store.price_items.c
    held = select(i.edition_id, func.count().label("n")).group_by(i.edition_id).subquery("held")
    rows = conn.execute(
        select(e.id, e.source, e.effective_from, e.item_count, func.coalesce(held.c.n, 0))
        .outerjoin(held, held.c.edition_id == e.id)
        .order_by(e.id)
    ).all()
    found = [
        Finding(
            "edition",
            f"price book edition {number} ({source}, effective {effective})",
            f"it holds {items:,} price items where {recorded:,} were imported",
            f"{BACKUP} (an edition is never changed in place)",
            subject=audit.subject("edition", number),
        )
        for number, source, effective, recorded, items in rows
        if items != recorded
    ]
    return len(rows), found


def policies(conn: Connection) -> tuple[int, list[Finding]]:
    """Each policy version's text against the SHA-256 recorded when it was loaded."""
    p = store.policies.c
    rows = conn.execute(select(p.id, p.source, p.sha256, p.text).order_by(p.id)).all()
    found = [
        Finding(
            "policy",
            f"policy version {number} ({source})",
            "its text is not the one loaded (its SHA-256 differs from the one recorded)",
            f"{BACKUP}; to put a sound version in force meanwhile, load the file again "
            f"(`pricing policy load {source}`)",
            subject=audit.subject("policy", number),
        )
        for number, source, digest, text in rows
        if hashlib.sha256(str(text).encode()).hexdigest() != digest
    ]
    return len(rows), found


def audited(
    conn: Connection, known: dict[str, str], named: set[str]
) -> tuple[int, bool, list[Finding]]:
    """Every subject against the content digest of its newest audit entry (``known``: parts
    hashed already; ``named``: subjects found damaged already, not named twice), and the
    chain's end against its witness. How many were compared, and whether the audit has
    started. An empty chain beside stored data (not a store upgraded from before the keyed
    audit) is a finding: the audit was emptied."""
    newest = newest_entries(conn)
    stored = stored_subjects(conn)
    where = store_key(conn)
    heads = witnessed_all(where) if where is not None else {}
    seen = heads.get(store_id(conn))
    witness = [_emptied(damage) for damage in against_witness(conn, seen)] if seen else []
    if not newest:
        emptied = emptied_beside(conn, stored, heads, seen) if stored else None
        if emptied is not None and not chain_began(conn):
            witness.append(_emptied(emptied))
        return 0, False, witness
    shown = {audit.display(name) for name in named}
    edited = (
        "it was edited behind the tool's back",
        "it was damaged or edited behind the tool's back",
    )
    found = [
        Finding(
            "audit",
            damage.where,
            damage.why.replace(*edited),
            f"{BACKUP}; `pricing audit verify` also checks the chain's own MACs",
        )
        for damage in check_subjects(conn, stored, newest, known)
        if damage.where not in shown
    ]
    return len(stored), True, [*found, *witness]


def _emptied(damage: audit.Damage) -> Finding:
    return Finding(
        "audit", damage.where, damage.why,
        f"{BACKUP}; `pricing audit verify` names what else it finds",
    )  # fmt: skip


def unreadable_rows(what: str, exc: Exception) -> Finding:
    """A table the check could not read through: one of its rows holds a value that is not of
    its column's kind (SQLite keeps whatever an edit by hand wrote: a date ``'x'``)."""
    first = (str(exc).strip().splitlines() or [""])[0][:120] or type(exc).__name__
    return Finding(
        "table",
        f"the store's {what}",
        f"a row holds a value that does not read ({first}); the rest of this part was not checked",
        BACKUP,
    )


def file_mode(url: str) -> list[Finding]:
    """A warning when other local users may read an SQLite file (pricing creates new ones
    0600; an existing file keeps the mode its owner gave it)."""
    exposed = store.world_readable(url)
    if exposed is None:
        return []
    return [
        Finding(
            "file",
            str(exposed),
            "the database file is readable by every local user: it holds prices, costs, deals "
            "and the audit",
            f"make it private: chmod 600 {exposed} (and its -wal and -shm files, if any)",
            severity="warning",
        )
    ]
