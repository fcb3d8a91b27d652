"""Smart re-approval: a request whose every line is at or within an approval already given
keeps (or takes) that approval instead of waiting for the approvers again.

An approver saw a price and its discount for a quantity of a SKU. A line asking no lower a
price, no deeper a discount, for no more units of the same SKU asks for nothing the approver
did not grant: a changed request whose
lines all are so keeps its approval (and its validity: a change never extends it), and a new
request of the same customer whose lines all are so, while such an approval is valid, is
approved at submission. Either way its history names the approval it reused. Anything beyond
(a lower price, a deeper discount, more units, another SKU, another currency) goes to the
approvers as before.
Only approvals given by a person are reused: what the system approved at submission was
within the rep's own limit, and is no approval of anything deeper.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.engine import Connection

from pricing.keys import sku_key
from pricing.money import format_money
from pricing.requests.lifecycle import SYSTEM, Event, Request, RequestLine, load_many
from pricing.storage import queries


def within(line: RequestLine, granted: RequestLine) -> bool:
    """Whether ``line`` asks for no more than ``granted`` gave: the same SKU, at its price or
    above, no deeper a discount off the standard price (what the approver was shown and the
    policy judges), for at most its quantity."""
    return (
        sku_key(line.sku) == sku_key(granted.sku)
        and line.price >= granted.price
        and line.discount_pct <= granted.discount_pct
        and line.qty <= granted.qty
    )


def covers(approval: Request, request: Request) -> bool:
    """Whether every line of ``request`` that waits for an approver is within a line
    ``approval`` approved (the lines the rule approved need nobody)."""
    if approval.currency != request.currency or approval.decided_by in (None, SYSTEM):
        return False
    if approval.contract is not None:  # (standing prices cover lines by themselves: contracts)
        return False
    granted = [line for line in approval.lines if line.decision == "approved"]
    waiting = [line for line in request.lines if line.decision != "approved"]
    return bool(waiting) and all(
        line.decision == "pending" and any(within(line, given) for given in granted)
        for line in waiting
    )


def first_covering(approvals: Iterable[Request], request: Request) -> Request | None:
    """The oldest of ``approvals`` that covers ``request``, if any."""
    return next((approval for approval in approvals if covers(approval, request)), None)


def reuse(request: Request, approval: Request, now: datetime, *, kept: bool) -> None:
    """Approve ``request`` under ``approval`` (``kept``: its own, before a change), saying so:
    its waiting lines approved, with the reason, and an event naming the approval."""
    assert approval.decided_at is not None
    said = (
        f"{approval.code}'s approval by {approval.decided_by} "
        f"({approval.decided_at:%Y-%m-%d}"
        + (f", valid until {approval.expires_at:%Y-%m-%d}" if approval.expires_at else "")
        + ")"
    )
    for line in request.lines:
        if line.decision == "pending":
            granted = next(
                g for g in approval.lines if g.decision == "approved" and within(line, g)
            )
            line.decision, line.level = "approved", None
            line.reasons.append(
                f"within {said}: {format_money(granted.price, approval.currency)} "
                f"for up to {granted.qty}"
            )
    request.status, request.level = "approved", None
    if kept:
        request.decided_at, request.decided_by = approval.decided_at, approval.decided_by
        note = f"every line is at or within {said}: the approval stands (reused)"
    else:
        request.decided_at, request.decided_by = now, SYSTEM
        note = f"every line is at or within {said}: approved at submission (reused)"
    request.expires_at = approval.expires_at
    request.events.append(Event(now, SYSTEM, "approved", note))


def reuse_for_customer(conn: Connection, request: Request, now: datetime) -> None:
    """Approve a new request at submission under an approval its customer holds already, when
    that covers every line waiting."""
    numbers = queries.approvals_of(conn, request.customer, now, system=SYSTEM)
    if not numbers:
        return
    found = first_covering(load_many(conn, numbers, events=False), request)
    if found is not None:
        reuse(request, found, now, kept=False)
