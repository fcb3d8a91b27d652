"""Who is told what by mail as a request moves: the approvers when it needs a decision, the
salesperson when it is decided or expires.

Each mail is queued in the outbox in the transaction of the change (:mod:`pricing.storage.outbox`):
the change never waits on a mail server, and a change rolled back tells nobody. The server sends
them (:mod:`pricing.server.mailer`). The approvers told are exactly those who may decide the
request, by the rule a decision is held to (:func:`pricing.access.authority.may_decide`), who have
an email address; never the salesperson themselves. A mail links to the request's page; it never
decides anything by itself (mail scanners follow links).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from pricing import config
from pricing.access import authority
from pricing.errors import NotFoundError, Refused
from pricing.money import round_money
from pricing.policy import versions as policies
from pricing.storage import outbox
from pricing.storage import people as rows

if TYPE_CHECKING:
    from pricing.requests.lifecycle import Request


def _queue(conn: Connection, mail: outbox.Mail, at: datetime) -> None:
    sealed = outbox.seal(mail, config.token_keys(create=True)[0])
    outbox.put(conn, mail, sealed=sealed, at=at)


def _money(amount: Decimal, currency: str) -> str:
    return f"{round_money(amount, currency):,.2f} {currency}"


def _lines(request: Request) -> str:
    said = []
    for line in request.lines:
        said.append(
            f"  {line.line_no}. {line.sku} x {line.qty}: {_money(line.price, request.currency)} "
            f"each, {line.discount_pct:.2f} % off standard {_money(line.standard_price, request.currency)}"
            f" ({line.decision}{', ' + line.level if line.level else ''})"
        )
        said.extend(f"     {reason}" for reason in line.reasons)
    return "\n".join(said)


def _at_standard(request: Request) -> str:
    total = sum((line.standard_price * line.qty for line in request.lines), Decimal(0))
    return _money(total, request.currency)


def needs_decision(conn: Connection, request: Request, now: datetime) -> int:
    """Tell each person who may decide ``request`` (pending) that it waits for them; how
    many were told."""
    if request.status != "pending" or request.id is None:
        return 0
    try:
        version = policies.in_force(conn, now.date())
    except NotFoundError:
        return 0
    told = 0
    for person in rows.all_people(conn):
        if not person.active or not person.email:
            continue
        try:
            authority.may_decide(authority.actor(conn, person.name), request, version, "approved")
        except Refused:
            continue
        subject = (f"Approval needed: {request.customer}, {_at_standard(request)} at standard, "
                   f"{request.level}: {request.code}")  # fmt: skip
        body = (
            f"{request.rep} asks for a special price for {request.customer} ({request.reason}).\n"
            f"It needs {request.level} or above, and waits for you (or another approver).\n\n"
            f"{_lines(request)}\n\nValue at standard: {_at_standard(request)}.\n"
            "Open the request to approve or reject it (you sign in first; opening it decides "
            "nothing):"
        )
        mail = outbox.Mail("decision_needed", person.email, subject, body,
                           f"/requests/{request.code}", request.id)  # fmt: skip
        _queue(conn, mail, now)
        told += 1
    return told


def decided(conn: Connection, request: Request, now: datetime) -> bool:
    """Tell the salesperson their request was approved, rejected or has expired."""
    person = rows.by_name(conn, authority.key(request.rep))
    if person is None or not person.active or not person.email or request.id is None:
        return False
    if request.status == "expired":
        what = "has expired"
        why = (
            f"Its approval was valid until {request.expires_at:%Y-%m-%d}."
            if request.expires_at
            else ""
        )
    else:
        note = request.events[-1].note if request.events else None
        what = f"was {request.status} by {request.decided_by}"
        why = f"Their note: {note}" if note else ""
        if request.status == "approved" and request.expires_at is not None:
            why += f"\nThe special price is valid until {request.expires_at:%Y-%m-%d}."
    subject = f"{request.code} for {request.customer} {what}"
    body = f"Your request {request.code} for {request.customer} {what}.\n{why}\n\n{_lines(request)}\n\nOpen it:"
    mail = outbox.Mail(request.status, person.email, subject, body, f"/requests/{request.code}",
                       request.id)  # fmt: skip
    _queue(conn, mail, now)
    return True
