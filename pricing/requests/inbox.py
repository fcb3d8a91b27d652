"""The approver's inbox: the pending requests a person may decide, and why not one of them.

Who may decide is :func:`pricing.access.authority.may_decide`, the rule a decision itself is
held to (:func:`pricing.requests.lifecycle.approve`); here it is asked before anyone tries, to
list what waits for a person (``pricing inbox``, the ``/inbox`` page) and to show a request's
buttons only to those who may press them. (The approvers a mail goes to are asked the same
rule, person by person: :mod:`pricing.requests.notices`.)
"""

from __future__ import annotations

import threading
import time
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Connection

from pricing.access import authority
from pricing.errors import Refused
from pricing.keys import request_code
from pricing.policy import versions as policies
from pricing.policy.versions import PolicyVersion
from pricing.requests import lifecycle
from pricing.requests.records import Request, Stored, read_many
from pricing.storage import audit_entries, queries, store
from pricing.storage.store import Store


def waiting_for(
    db: Store, user: str, *, limit: int | None = None, after: int = 0, now: datetime | None = None
) -> list[Request]:
    """The pending requests ``user`` may decide now, oldest first (numbered above ``after``,
    at most ``limit``): their inbox (a role of the policy in force covering the request's
    level, never their own: :func:`pricing.access.authority.may_decide`, the rule a decision
    itself is held to). Who may decide is read off each request's row; only the requests
    returned are loaded, with their lines (their events are not: an inbox shows none). Only
    pending requests are read, which no approval running out changes: nothing is expired
    first (as listing requests does), so an inbox never waits for the write lock.

    An inbox is read far more often than it changes (approvers reload it): a page of it (at
    most :data:`KEPT_LONGEST` requests) is kept, per store, for the keyed audit's newest entry
    it was read under, the day (the policy in force is the day's) and the name exactly as
    given, for at most :data:`KEPT_SECONDS`. Every change made through pricing that an inbox
    depends on (a request submitted, decided, withdrawn or changed, a person added, removed or
    given another role, a policy loaded) is recorded in that chain in the transaction that
    makes it, so a kept page is never used after one. A change made behind the tool's back (a
    row edited in the database, a backup restored under the same chain) records nothing: the
    inbox shows it within :data:`KEPT_SECONDS` (and the audit names the edit)."""
    now = now or store.utcnow()
    with db.read() as conn:
        # The newest entry first: what is read after it is at least as new (were the rows read
        # first, a change committed in between would be kept under the newer entry).
        seq, mac, _ = audit_entries.chain_end(conn)
        asked = (seq, mac, now.date(), user, after, limit)
        found = _kept(db, asked)
        if found is None:
            found = _waiting(conn, user, now, after=after, limit=limit)
            if len(found.numbers) <= KEPT_LONGEST:
                _keep(db, asked, found)
    return found.requests()  # made afresh from the rows: a caller may change its copy


def _waiting(
    conn: Connection, user: str, now: datetime, *, after: int, limit: int | None
) -> Stored:
    pairs = queries.pending_pairs(conn)
    if not pairs:
        return read_many(conn, [])
    version = policies.in_force(conn, now.date())
    actor = authority.actor(conn, user)
    # The rule reads a request's salesperson and level (its number only to name it):
    # asked once per pair, not once per request (an inbox of 1,000 from a few reps).
    allowed = [(rep, level) for number, rep, level in pairs
               if _why_not(actor, _Pending(number, rep, level), version) is None]  # fmt: skip
    chosen = queries.pending_numbers(conn, allowed, after=after, limit=limit)
    return read_many(conn, chosen, events=False)


_Asked = tuple[int, str, date, str, int, int | None]  # audit head, day, name as given, page
KEPT_INBOXES = 64  # pages kept per store (of every approver's inbox): the least used go
KEPT_LONGEST = 100  # requests in a page kept (a whole inbox asked for at once is read each time)
KEPT_SECONDS = 60.0  # how long a page is kept: how late a change behind the tool's back shows
_KEPT: weakref.WeakKeyDictionary[Store, OrderedDict[_Asked, tuple[float, Stored]]] = (
    weakref.WeakKeyDictionary()
)
_KEEPING = threading.Lock()  # the server's threads


def _kept(db: Store, asked: _Asked) -> Stored | None:
    with _KEEPING:
        kept = _KEPT.get(db)
        if kept is None or (found := kept.get(asked)) is None:
            return None
        if time.monotonic() - found[0] > KEPT_SECONDS:
            return None
        kept.move_to_end(asked)
        return found[1]


def _keep(db: Store, asked: _Asked, found: Stored) -> None:
    with _KEEPING:
        kept = _KEPT.setdefault(db, OrderedDict())
        kept[asked] = (time.monotonic(), found)
        kept.move_to_end(asked)
        while len(kept) > KEPT_INBOXES:
            kept.popitem(last=False)


def why_not_decide(
    db: Store, request: Request, user: str, *, now: datetime | None = None
) -> str | None:
    """Why ``user`` may not decide ``request`` (as just read) now (None: they may), said before
    they try (a page shows its buttons only to those who may): what the decision would be
    refused with, by the same checks (:func:`lifecycle.check_pending`, then the rule)."""
    try:
        lifecycle.check_pending(request)
    except Refused as exc:
        return str(exc)
    now = now or store.utcnow()
    with db.read() as conn:
        version = policies.in_force(conn, now.date())
        return _why_not(authority.actor(conn, user), request, version)


@dataclass(frozen=True)
class _Pending:
    """A pending request as its row says, for :func:`authority.may_decide`."""

    id: int
    rep: str
    level: str | None

    @property
    def code(self) -> str:
        return request_code(self.id)


def _why_not(
    actor: authority.Actor, request: authority.Asked, version: PolicyVersion
) -> str | None:
    try:
        authority.may_decide(actor, request, version, "approved")
    except Refused as exc:
        return str(exc)
    return None
