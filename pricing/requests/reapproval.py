"""Smart re-approval: a changed request whose every waiting line is at or within what its
approver already gave keeps that approval instead of waiting for the approvers again.

An approver saw a price and its discount for a quantity of a SKU. A changed line asking no lower
a price, no deeper a discount, for no more units of the same SKU asks for nothing the approver
did not grant: the request keeps its approval (and its validity: a change never extends it), and
its history names the approval reused. Anything beyond (a lower price, a deeper discount, more
units, another SKU, another currency) goes to the approvers as before. What counts as granted:

- only the lines a person approved (the lines the rule approved at submission were within the
  rep's own limit, and are no approval of anything deeper);
- only while the approver may still approve it under the policy in force, and it is not their
  own request (:func:`pricing.access.authority.may_decide`, asked by :func:`pricing.requests.
  lifecycle.change` through :func:`may_keep`): a policy tightened since, or an approver whose role was lowered, sends
  the request back to the approvers;
- only within the request itself, never for another request (another rep, the approver's own, a
  second order of the customer): each unit approved is used once. A new request of the
  customer is judged and routed afresh (a review found one 50-unit approval reused for 200
  units across requests, and other reps' approved prices read back through ``--check``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.engine import Connection

from pricing.access import authority
from pricing.errors import PricingError
from pricing.keys import sku_key
from pricing.money import format_money
from pricing.policy.versions import PolicyVersion
from pricing.requests.records import SYSTEM, Event, Request, RequestLine

STORED_PLACES = Decimal("0.000001")  # a discount as stored (request_lines.discount_pct)


def within(line: RequestLine, granted: RequestLine) -> bool:
    """Whether ``line`` asks for no more than ``granted`` gave: the same SKU, at its price or
    above, no deeper a discount off the standard price (what the approver was shown and the
    policy judges, compared as stored), for at most its quantity."""
    return (
        sku_key(line.sku) == sku_key(granted.sku)
        and line.price >= granted.price
        and line.discount_pct.quantize(STORED_PLACES) <= granted.discount_pct
        and line.qty <= granted.qty
    )


def granted(approval: Request) -> list[RequestLine]:
    """The lines a person approved: those that waited for a level (the rule's own approvals
    carry none)."""
    return [line for line in approval.lines if line.decision == "approved" and line.level]


def covers(approval: Request, request: Request) -> bool:
    """Whether every waiting line of ``request`` (``approval`` changed) is within a line a
    person approved in ``approval``."""
    if approval.id != request.id or approval.currency != request.currency:
        return False
    if approval.decided_by in (None, SYSTEM) or approval.contract is not None:
        return False
    waiting = [line for line in request.lines if line.decision != "approved"]
    if not waiting or any(line.decision != "pending" for line in waiting):
        return False
    return _assigned(waiting, granted(approval)) is not None


def _assigned(waiting: list[RequestLine], given: list[RequestLine]) -> list[RequestLine] | None:
    """For each waiting line, an approved line it is within whose units are not used up by the
    lines before it (two lines of 50 are not within one approved line of 50), or None."""
    left = {id(g): g.qty for g in given}
    chosen = []
    for line in waiting:
        fits = [g for g in given if within(line, g) and left[id(g)] >= line.qty]
        if not fits:
            return None
        left[id(fits[0])] -= line.qty
        chosen.append(fits[0])
    return chosen


def may_keep(conn: Connection, approval: Request, request: Request, version: PolicyVersion) -> bool:
    """Whether a changed request keeps the approval it had: every waiting line within what a
    person approved, and that person may still approve it now (the policy in force, their
    role, never their own request)."""
    if not covers(approval, request) or approval.decided_by is None:
        return False
    try:
        authority.may_decide(authority.actor(conn, approval.decided_by), request, version,
                             "approved")  # fmt: skip
    except PricingError:  # (refused, or no longer a registered person: it does not stand)
        return False
    return True


def reuse(request: Request, approval: Request, now: datetime) -> None:
    """Keep ``approval`` for the changed ``request``, saying so: its waiting lines approved
    (with the level they needed, as a person's approval keeps it) and the reason, the
    approver and validity unchanged, and an event naming the approval."""
    assert approval.decided_at is not None
    said = (
        f"{approval.code}'s approval by {approval.decided_by} "
        f"({approval.decided_at:%Y-%m-%d}"
        + (f", valid until {approval.expires_at:%Y-%m-%d}" if approval.expires_at else "")
        + ")"
    )
    waiting = [line for line in request.lines if line.decision == "pending"]
    for line, given in zip(waiting, _assigned(waiting, granted(approval)) or [], strict=True):
        line.decision = "approved"
        line.reasons.append(
            f"within {said}: {format_money(given.price, approval.currency)} for up to {given.qty}"
        )
    request.status = "approved"
    request.decided_at, request.decided_by = approval.decided_at, approval.decided_by
    request.expires_at = approval.expires_at
    note = f"every line is at or within {said}: the approval stands (reused)"
    request.events.append(Event(now, SYSTEM, "approved", note))
