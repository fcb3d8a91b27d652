"""The audit log of requests is append-only and tamper-evident.

Every event carries the SHA-256 of its own content and of the previous event's hash. Editing an
event behind the tool's back breaks its own hash; deleting one breaks the link of the next.
:func:`verify` walks the chain and names the first event where it breaks.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from pricing.storage.store import Store

_LOCK = 7201559  # PostgreSQL advisory lock: appends to the chain queue up


def _timestamp(at: datetime | str) -> str:
    if isinstance(at, str):  # SQLite hands back text inside migrations
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return str(at.astimezone(UTC).replace(microsecond=0).isoformat())


def chain_hash(
    previous: str, request_id: int, at: datetime | str, by: str, action: str, note: str | None
) -> str:
    content = "\x1f".join([previous, str(request_id), _timestamp(at), by, action, note or ""])
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def last_hash(conn: Connection) -> str:
    """The newest event's hash, with the right to append after it (the write transaction's)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SELECT pg_advisory_xact_lock({_LOCK})"))
    row = conn.execute(text("SELECT hash FROM request_events ORDER BY id DESC LIMIT 1")).first()
    return str(row[0]) if row and row[0] else ""


@dataclass
class Verdict:
    """What verifying the audit chain found: how many events, and the first one edited,
    inserted or deleted behind the tool's back (None when the chain is intact)."""

    events: int
    broken: dict[str, Any] | None  # the first event where the chain breaks, and why

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify(db: Store) -> Verdict:
    with db.read() as conn:
        rows = conn.execute(
            text(
                "SELECT id, request_id, at, by, action, note, prev_hash, hash "
                "FROM request_events ORDER BY id"
            )
        ).all()
    previous = ""
    for row in rows:
        where = {
            "event": row.id,
            "request": f"R-{row.request_id:06d}",
            "action": row.action,
            "by": row.by,
        }
        if (row.prev_hash or "") != previous:
            return Verdict(len(rows), {**where, "why": "its link to the previous event is broken: "
                                       "an event before it was deleted or edited"})  # fmt: skip
        if chain_hash(previous, row.request_id, row.at, row.by, row.action, row.note) != row.hash:
            return Verdict(len(rows), {**where, "why": "its content no longer matches its hash: "
                                       "it was edited after it was written"})  # fmt: skip
        previous = row.hash
    return Verdict(len(rows), None)
