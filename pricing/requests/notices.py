"""Who is told what by mail as a request moves: the approvers when it needs a decision, the
salesperson when it is decided or expires.

Each mail is queued in the outbox in the transaction of the change (:mod:`pricing.storage.outbox`):
the change never waits on a mail server, and a change rolled back tells nobody. The server sends
them (:mod:`pricing.server.mailer`). The approvers told are exactly those who may decide the
request, by the rule a decision is held to (:func:`pricing.access.authority.may_decide`), who have
an email address; never the salesperson themselves. A mail links to the request's page; it never
decides anything by itself (mail scanners follow links).

Nobody is mailed from a row of ``people`` that does not hold against its seal in the audit: an
address (or a person) written into the database by hand would otherwise receive the deal's
prices, sealed by the server as its own mail. What a salesperson typed (the customer, the reason)
goes into the mail on one line, so it cannot pose as the mail's own text.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from pricing import config
from pricing.access import authority
from pricing.errors import NotFoundError, Refused
from pricing.money import format_money
from pricing.policy import versions as policies
from pricing.storage import audit, outbox
from pricing.storage import people as rows
from pricing.storage.people import PersonRecord

if TYPE_CHECKING:
    from pricing.requests.records import Request


log = logging.getLogger("pricing.mail")


def _queue(conn: Connection, mail: outbox.Mail, at: datetime) -> None:
    sealed = outbox.seal(mail, at, config.token_keys(create=True)[0])
    outbox.put(conn, mail, sealed=sealed, at=at)


def _reachable(conn: Connection, person: PersonRecord) -> bool:
    """Whether ``person`` is mailed: active, with an address, their row as the audit sealed it
    (one edited behind the tool's back is not, and the log says so)."""
    if not person.active or not person.email:
        return False
    why = audit.unsealed(conn, audit.subject("person", authority.key(person.name)))
    if why is not None:
        log.warning("no mail to %r: their row in the database %s", person.name, why)
        return False
    return True


def _one_line(text: str) -> str:
    """Text a salesperson typed, as one line (no line of its own in the mail)."""
    return " ".join(text.split())


def _money(amount: Decimal, currency: str) -> str:
    """An amount in the currency's minor units, thousands marked: ``5,700.00 USD``."""
    return f"{Decimal(str(format_money(amount, currency))):,} {currency}"


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
    changed = any(event.action == "changed" for event in request.events)
    customer, reason = _one_line(request.customer), _one_line(request.reason)
    for person in rows.all_people(conn):
        if not _reachable(conn, person):
            continue
        try:
            authority.may_decide(authority.actor(conn, person.name), request, version, "approved")
        except Refused:
            continue
        again = " again" if changed else ""
        kind = "" if request.contract is None else "contract "
        subject = (f"Approval needed{again}: {kind}{customer}, {_at_standard(request)} at "
                   f"standard, {request.level}: {request.code}")  # fmt: skip
        asks = (f"{request.rep} changed the request for {customer}: an approval given before no "
                "longer stands." if changed else
                f"{request.rep} asks for a special price for {customer}.")  # fmt: skip
        if request.contract is not None:
            asks += (f"\nIt is a contract: standing prices for every order of {customer} from "
                     f"{request.contract.starts} to {request.contract.ends}, each from its "
                     "line's quantity up.")  # fmt: skip
        body = (
            f"{asks}\nWhy: {reason}\n"
            f"It needs {request.level} or above, and waits for you (or another approver).\n\n"
            f"{_lines(request)}\n\nValue at standard: {_at_standard(request)}.\n"
            "Open the request to approve or reject it (you sign in first; opening it decides "
            "nothing):"
        )
        assert person.email is not None  # (_reachable)
        mail = outbox.Mail("decision_needed", person.email, subject, body,
                           f"/requests/{request.code}", request.id)  # fmt: skip
        _queue(conn, mail, now)
        told += 1
    return told


def decided(conn: Connection, request: Request, now: datetime) -> bool:
    """Tell the salesperson their request was approved, rejected or has expired."""
    person = rows.by_name(conn, authority.key(request.rep))
    if person is None or request.id is None or not _reachable(conn, person):
        return False
    assert person.email is not None
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
        why = f"Their note: {_one_line(note)}" if note else ""
        if request.status == "approved" and request.expires_at is not None:
            why += f"\nThe special price is valid until {request.expires_at:%Y-%m-%d}."
    customer = _one_line(request.customer)
    subject = f"{request.code} for {customer} {what}"
    body = f"Your request {request.code} for {customer} {what}.\n{why}\n\n{_lines(request)}\n\nOpen it:"
    mail = outbox.Mail(request.status, person.email, subject, body, f"/requests/{request.code}",
                       request.id)  # fmt: skip
    _queue(conn, mail, now)
    return True
