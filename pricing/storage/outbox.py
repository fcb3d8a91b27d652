"""The queries on ``mail_outbox``: mail written with the change it tells of, sent later.

A mail row is sealed: an HMAC over what it says and to whom, keyed with a key derived from the
server's secret (:func:`seal`), so that the server never sends a row written into the table by
someone who holds the database but not the secret (a phishing mail "from" the pricing server).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from pricing.storage.team_tables import mail_outbox

PURPOSE = b"pricing mail v1"
NEVER = datetime(9999, 1, 1, tzinfo=UTC)  # the next attempt of a mail that is never sent


@dataclass(frozen=True)
class Mail:
    """A mail to send: to whom, about what, and the page it points to (a path)."""

    kind: str
    recipient: str
    subject: str
    body: str
    link: str | None = None
    request_id: int | None = None


@dataclass(frozen=True)
class Queued:
    """A mail as the outbox holds it."""

    id: int
    mail: Mail
    seal: str
    attempts: int
    next_at: datetime
    created_at: datetime


def seal(mail: Mail, at: datetime, token_key: bytes) -> str:
    """The seal of ``mail`` queued at ``at`` under ``token_key`` (:func:`pricing.config.token_keys`).
    A copy of a row has the same seal, which the mail's Message-ID is made of: mail systems
    drop the copy."""
    key = hmac.new(token_key, PURPOSE, hashlib.sha256).digest()
    said = json.dumps([mail.kind, mail.recipient, mail.subject, mail.body, mail.link,
                       mail.request_id, at.astimezone(UTC).isoformat()])  # fmt: skip
    return hmac.new(key, said.encode("utf-8"), hashlib.sha256).hexdigest()


def put(conn: Connection, mail: Mail, *, sealed: str, at: datetime) -> None:
    """Queue ``mail`` in the caller's transaction: it is sent only if the change commits."""
    conn.execute(
        mail_outbox.insert().values(
            created_at=at, kind=mail.kind, request_id=mail.request_id, recipient=mail.recipient,
            subject=mail.subject, body=mail.body, link=mail.link, seal=sealed, attempts=0,
            next_at=at,
        )
    )  # fmt: skip


def due(conn: Connection, now: datetime, limit: int = 20) -> list[Queued]:
    """Mail not sent yet whose time has come, oldest first."""
    t = mail_outbox
    rows = conn.execute(
        select(t.c.id, t.c.kind, t.c.recipient, t.c.subject, t.c.body, t.c.link, t.c.request_id,
               t.c.seal, t.c.attempts, t.c.next_at, t.c.created_at)
        .where(t.c.sent_at.is_(None), t.c.next_at <= now)
        .order_by(t.c.id)
        .limit(limit)
    ).all()  # fmt: skip
    return [
        Queued(
            r.id,
            Mail(r.kind, r.recipient, r.subject, r.body, r.link, r.request_id),
            r.seal,
            r.attempts,
            r.next_at,
            r.created_at,
        )
        for r in rows
    ]


def claim(conn: Connection, queued: Queued, until: datetime) -> bool:
    """Take ``queued`` to send it, until ``until`` (another server process that finds it due
    at the same moment does not take it too). False: another took it first."""
    t = mail_outbox
    done = conn.execute(
        update(t)
        .where(t.c.id == queued.id, t.c.sent_at.is_(None), t.c.next_at == queued.next_at)
        .values(next_at=until)
    )
    return done.rowcount == 1


def still_queued(conn: Connection, ident: int) -> bool:
    t = mail_outbox
    return conn.execute(select(t.c.sent_at).where(t.c.id == ident)).first() == (None,)


def request_status(conn: Connection, number: int) -> str | None:
    """The status of request ``number`` now (a mail about it may no longer be needed)."""
    from pricing.storage.store import requests

    found = conn.execute(select(requests.c.status).where(requests.c.id == number)).scalar()
    return None if found is None else str(found)


def mark_sent(conn: Connection, ident: int, at: datetime) -> None:
    t = mail_outbox
    conn.execute(update(t).where(t.c.id == ident).values(sent_at=at, last_error=None))


def mark_failed(
    conn: Connection, ident: int, *, attempts: int, retry_at: datetime, why: str
) -> None:
    t = mail_outbox
    conn.execute(
        update(t)
        .where(t.c.id == ident)
        .values(attempts=attempts, next_at=retry_at, last_error=why[:500])
    )


@dataclass(frozen=True)
class OutboxState:
    """What ``db status`` says of the outbox: mail waiting (and the oldest), failing, sent,
    and left unsent for good (no longer needed, or not sealed by the server)."""

    waiting: int
    failing: int
    sent: int
    unsent: int
    oldest_waiting: datetime | None
    last_error: str | None


def state(conn: Connection) -> OutboxState:
    t = mail_outbox
    unsent = and_(t.c.sent_at.is_(None), t.c.next_at >= NEVER)
    waiting = and_(t.c.sent_at.is_(None), t.c.next_at < NEVER)
    counts = conn.execute(
        select(
            func.count().filter(waiting),
            func.count().filter(waiting, t.c.attempts > 0),
            func.count().filter(t.c.sent_at.is_not(None)),
            func.count().filter(unsent),
            func.min(t.c.created_at).filter(waiting),
        )
    ).one()
    error = conn.execute(
        select(t.c.last_error)
        .where(t.c.sent_at.is_(None), t.c.last_error.is_not(None))
        .order_by(t.c.id.desc())
    ).first()
    oldest = counts[4]
    if isinstance(oldest, str):  # SQLite's min() of a timestamp is its text
        oldest = datetime.fromisoformat(oldest)
    return OutboxState(int(counts[0]), int(counts[1]), int(counts[2]), int(counts[3]), oldest,
                       error[0] if error else None)  # fmt: skip
