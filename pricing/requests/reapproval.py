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
- each unit approved used once. Within the request itself; or by a new request of the same rep
  for the same customer (in the same currency) once the request approved was withdrawn or lost,
  while its approval is still valid: the units its lines were approved for are free again, and
  whatever other new requests kept of the same approval (pending, approved or won) is taken from
  them first (a review found one 50-unit approval reused for 200 units across requests when
  requests were not counted). Never another rep's approval, nor one of a request still open or
  won (its own deal holds its units), nor a contract's. The new request records the approval it
  kept (``approval_reuses``).
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
from pricing.requests import records
from pricing.requests.records import STATUSES, SYSTEM, Event, Request, RequestLine
from pricing.storage import queries, store

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
    """The lines a person approved (or an approval kept for them): those that waited for a
    level (the rule's own approvals carry none)."""
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


def _assigned(
    waiting: list[RequestLine], given: list[RequestLine], used: list[RequestLine] | None = None
) -> list[RequestLine] | None:
    """For each waiting line, an approved line it is within, no approved line's units used
    more than once (two lines of 50 are not within one approved line of 50), after the lines
    ``used`` (other requests' that kept the same approval) have taken theirs; or None when no
    such assignment exists. Every assignment is tried (a first fit may miss one), up to
    :data:`_TRIES` steps: beyond, None (the approvers are asked, as for any request)."""
    lines = [*(used or []), *waiting]
    # The approved line closest to what is asked first (the highest price): the more generous
    # ones are left for the lines that need them.
    closest = sorted(given, key=lambda g: (-g.price, g.discount_pct))
    options = [[g for g in closest if within(line, g)] for line in lines]
    left = {id(g): g.qty for g in given}
    chosen: list[RequestLine] = []
    tries = 0

    def place(i: int) -> bool:
        nonlocal tries
        if i == len(lines):
            return True
        for g in options[i]:
            tries += 1
            if tries > _TRIES:
                return False
            if left[id(g)] >= lines[i].qty:
                left[id(g)] -= lines[i].qty
                chosen.append(g)
                if place(i + 1):
                    return True
                chosen.pop()
                left[id(g)] += lines[i].qty
        return False

    if not place(0):
        return None
    return chosen[len(lines) - len(waiting) :]


_TRIES = 10_000  # steps of the search for an assignment (a request has a handful of lines)


def may_keep(conn: Connection, approval: Request, request: Request, version: PolicyVersion) -> bool:
    """Whether a changed request keeps the approval it had: every waiting line within what a
    person approved, that person may still approve it now (the policy in force, their role,
    never their own request), and the request as stored holds against the keyed audit."""
    return (
        covers(approval, request)
        and _still_approves(conn, approval, request, version)
        and approval.id is not None
        and _all_sealed(conn, [approval.id])  # (an approval edited by hand grants nothing)
    )


def _still_approves(
    conn: Connection, approval: Request, request: Request, version: PolicyVersion
) -> bool:
    """Whether the person who gave ``approval`` may approve ``request`` now."""
    if approval.decided_by is None:
        return False
    try:
        approver = authority.actor(conn, approval.decided_by)
        if not authority.gave(approver, approval):  # (someone since registered under the name)
            return False
        authority.may_decide(approver, request, version, "approved")
    except PricingError:  # (refused, or no longer a registered person: it does not stand)
        return False
    return True


# A request in one of these holds the units its lines were approved for (an approval still
# open, or a deal won); a withdrawn, lost, rejected or expired one holds none.
HOLDING = ("approved", "won")
_REUSE_LOCK = 7201559  # (PostgreSQL: new requests counting one approval's units queue up)


def earlier_approval(
    conn: Connection, request: Request, version: PolicyVersion, now: datetime
) -> tuple[Request, list[RequestLine]] | None:
    """For a new request waiting for the approvers: the approval a person gave an earlier
    request of the same rep (the same person: not one registered since under the name) and
    customer, since withdrawn or lost and still valid, that covers every waiting line with
    units no other request kept of it, and whose approver (the same person too) may still
    approve it (the newest such), with the lines the others kept of it; or None.

    Only an approval a person gave: a request that itself kept one is no source (its units are
    the first one's). Only while the approval and every request that ever kept it hold against
    the keyed audit (each link to it is sealed with the approval too): one written in the
    database by hand, even for a moment, grants nothing."""
    if request.status != "pending" or request.contract is not None:
        return None
    numbers = queries.reusable_approvals(conn, rep=request.rep, customer=request.customer,
                                         currency=request.currency, now=now, system=SYSTEM)  # fmt: skip
    if not numbers:
        return None
    store.advisory_lock(conn, _REUSE_LOCK)
    asking = authority.actor(conn, request.rep)
    waiting = [line for line in request.lines if line.decision == "pending"]
    for approval in records.load_many(conn, numbers, events=False):
        assert approval.id is not None
        if not authority.may_keep_approval_of(asking, approval):
            continue
        keepers = queries.reusers_of(conn, approval.id, STATUSES)
        if not _all_sealed(conn, [approval.id, *keepers]):
            continue
        kept = [r for r in records.load_many(conn, keepers, events=False) if r.status in HOLDING]
        used = [line for other in kept for line in granted(other)]
        if _assigned(waiting, granted(approval), used) is not None and _still_approves(
            conn, approval, request, version
        ):
            return approval, used
    return None


def _all_sealed(conn: Connection, numbers: list[int]) -> bool:
    """Whether each of the requests ``numbers`` holds against its newest audit entry."""
    return all(records.unsealed(conn, n) is None for n in numbers)


def reuse(
    request: Request, approval: Request, now: datetime, used: list[RequestLine] | None = None
) -> None:
    """Keep ``approval`` for ``request`` (changed, or new: :func:`earlier_approval`), saying
    so: its waiting lines approved (with the level they needed, as a person's approval keeps
    it) and the reason, the approver and validity unchanged, and an event naming the
    approval."""
    assert approval.decided_at is not None
    said = (
        f"{approval.code}'s approval by {approval.decided_by} "
        f"({approval.decided_at:%Y-%m-%d}"
        + (f", valid until {approval.expires_at:%Y-%m-%d}" if approval.expires_at else "")
        + ")"
    )
    waiting = [line for line in request.lines if line.decision == "pending"]
    assigned = _assigned(waiting, granted(approval), used)
    new = approval.id != request.id  # (a new request: after what others kept of it)
    if new:
        request.reused = approval.id
    for line, given in zip(waiting, assigned or [], strict=True):
        line.decision = "approved"
        line.reasons.append(
            f"within {said}: {format_money(given.price, approval.currency)} for up to {given.qty}"
        )
    request.status = "approved"
    # (a new request is approved now, by the approval's person: never before it was asked)
    request.decided_at = now if new else approval.decided_at
    request.decided_by = approval.decided_by
    request.expires_at = approval.expires_at
    note = f"every line is at or within {said}: the approval stands (reused)"
    request.events.append(Event(now, SYSTEM, "approved", note))


def record_kept(conn: Connection, approval: Request, request: Request, now: datetime) -> None:
    """Tell ``approval``'s history that ``request`` (stored) kept it: the approval's audit
    entry seals the link with it (a link removed by hand breaks the approval's seal)."""
    assert approval.id is not None
    records.record_event(conn, approval.id, Event(now, SYSTEM, "kept",
                                                  f"its approval kept by {request.code}"))  # fmt: skip


def record_dropped(conn: Connection, approval: int, request: Request, now: datetime) -> None:
    """Tell approval ``approval``'s history that ``request`` changed beyond it (no longer
    keeps it)."""
    records.record_event(conn, approval, Event(now, SYSTEM, "released",
                                               f"{request.code} changed: it no longer keeps this approval"))  # fmt: skip
