"""The approver's inbox: the pending requests a person may decide, and why not one of them.

Who may decide is :func:`pricing.access.authority.may_decide`, the rule a decision itself is
held to (:func:`pricing.requests.lifecycle.approve`); here it is asked before anyone tries, to
list what waits for a person (``pricing inbox``, the ``/inbox`` page) and to show a request's
buttons only to those who may press them. (The approvers a mail goes to are asked the same
rule, person by person: :mod:`pricing.requests.notices`.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pricing.access import authority
from pricing.errors import Refused
from pricing.keys import request_code
from pricing.policy import versions as policies
from pricing.policy.versions import PolicyVersion
from pricing.requests import lifecycle
from pricing.requests.records import Request, load_many
from pricing.storage import queries, store
from pricing.storage.store import Store


def waiting_for(
    db: Store, user: str, *, limit: int | None = None, after: int = 0, now: datetime | None = None
) -> list[Request]:
    """The pending requests ``user`` may decide now, oldest first (numbered above ``after``,
    at most ``limit``): their inbox (a role of the policy in force covering the request's
    level, never their own: :func:`pricing.access.authority.may_decide`, the rule a decision
    itself is held to). Who may decide is read off each request's row; only the requests
    returned are loaded, with their lines (their events are not: an inbox shows none)."""
    now = now or store.utcnow()
    lifecycle.expire_approvals(db, now)
    with db.read() as conn:
        pairs = queries.pending_pairs(conn)
        if not pairs:
            return []
        version = policies.in_force(conn, now.date())
        actor = authority.actor(conn, user)
        # The rule reads a request's salesperson and level (its number only to name it):
        # asked once per pair, not once per request (an inbox of 1,000 from a few reps).
        allowed = [(rep, level) for number, rep, level in pairs
                   if _why_not(actor, _Pending(number, rep, level), version) is None]  # fmt: skip
        chosen = queries.pending_numbers(conn, allowed, after=after, limit=limit)
        return load_many(conn, chosen, events=False)


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
