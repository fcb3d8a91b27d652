"""Deviation requests: a salesperson's special prices for one customer, judged and routed.

A request is priced against the price book and judged under the policy in force on the day it
is submitted; both versions are recorded with it. Its status is the strictest of its lines.
Every change (submitted, changed, approved, rejected, expired, won, lost, withdrawn) is an event with who, when and
a note. Decisions are conditional updates, so two people deciding at once cannot both win.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy.engine import Connection

from pricing.access import authority
from pricing.errors import InputError, NotFoundError, Refused
from pricing.money import (
    TOO_LARGE,
    TOO_LARGE_TEXT,
    format_money,
    minor_units,
)
from pricing.policy import versions as policies
from pricing.policy.engine import judge_lines
from pricing.policy.model import LineFacts, Policy
from pricing.pricebook import editions
from pricing.pricebook.model import Edition, PriceItem
from pricing.problems import Problem, has_errors
from pricing.requests import contracts, reapproval
from pricing.requests.records import (  # noqa: F401  (STATUSES, load: read from here too)
    STATUSES,
    SYSTEM,
    Event,
    LineInput,
    Request,
    RequestLine,
    Submission,
    Terms,
    _load,
    load,
    load_many,
    load_to_change,
    parse_id,
    record_event,
)
from pricing.storage import queries, store
from pricing.storage.store import Store

# Pricing and judging -------------------------------------------------------------------------


@dataclass
class Priced:
    """Lines priced and judged, with the versions they were judged under."""

    version: policies.PolicyVersion
    edition: Edition
    lines: list[RequestLine]
    currency: str
    problems: list[Problem]


def price_lines(conn: Connection, inputs: list[LineInput], on: date) -> Priced:
    """Price each line against the book in force and judge it under the policy in force."""
    from pricing.limits import REQUEST_LINES

    REQUEST_LINES.check(len(inputs), "the request")
    edition = editions.edition_in_force(conn, on)
    if edition is None:
        raise NotFoundError(
            f"no price book edition is in force on {on.isoformat()}: import one first"
        )
    version = policies.in_force(conn, on)
    policy = version.policy
    problems: list[Problem] = []
    priced: list[tuple[LineInput, PriceItem, Decimal, Decimal]] = []
    for line in inputs:
        found = _price_line(conn, edition, policy, line)
        if isinstance(found, Problem):
            problems.append(found)
        else:
            priced.append((line, *found))
    currencies = sorted({item.currency for _, item, _, _ in priced})
    if len(currencies) > 1:
        problems.append(
            Problem("error", f"the lines are priced in different currencies ({', '.join(currencies)}); "
                             "make one request per currency")
        )  # fmt: skip
    lines = _judge_lines(policy, priced)
    currency = currencies[0] if currencies else policy.currency
    return Priced(version, edition, lines, currency, problems)


def _price_line(
    conn: Connection, edition: Edition, policy: Policy, line: LineInput
) -> tuple[PriceItem, Decimal, Decimal] | Problem:
    """The item, standard price and asked price of one line, or the problem with it."""
    shape = _shape_problem(line)
    if shape is not None:
        return Problem("error", shape[0], value=str(shape[1]), **line.location)
    book = editions.load_book(conn, edition.number, sku=line.sku)
    item = book.get(line.sku)
    if item is None:
        return Problem(
            "error",
            f"no SKU {line.sku!r} in the price book in force (edition {edition.number})",
            value=line.sku,
            **line.location,
        )
    standard, _ = book.standard_price(item, line.qty)
    price = line.price
    if price is None:
        assert line.discount_pct is not None  # _shape_problem: one of the two is given
        price = policy.round_price(standard * (100 - line.discount_pct) / 100)
    elif -price.as_tuple().exponent > minor_units(item.currency):  # type: ignore[operator]
        return Problem(
            "error",
            f"price {price} has more decimals than {item.currency} uses",
            value=str(price),
            **line.location,
        )
    wrong: tuple[str, object] | None = None
    if price <= 0:
        wrong = "the special price must be above zero", price
    elif price >= TOO_LARGE:
        wrong = f"the price {TOO_LARGE_TEXT}", price
    elif line.qty >= TOO_LARGE:
        wrong = f"the quantity {TOO_LARGE_TEXT}", line.qty
    if wrong is not None:
        return Problem("error", wrong[0], value=str(wrong[1]), **line.location)
    return item, standard, price


def _shape_problem(line: LineInput) -> tuple[str, object] | None:
    """What is wrong with a line as given, before any price is looked up: every front end
    (the CLI's flags, a lines file, a library caller) gets the same answer."""
    if isinstance(line.qty, bool) or not isinstance(line.qty, int) or line.qty < 1:
        return "the quantity must be a whole number of 1 or more", line.qty
    if (line.price is None) == (line.discount_pct is None):
        return "give either a price or a discount, not both or neither", line.sku
    given = line.price if line.price is not None else line.discount_pct
    if not isinstance(given, Decimal) or not given.is_finite():
        return "the price or discount must be an exact decimal number", given
    if line.discount_pct is not None:
        wrong = discount_problem(line.discount_pct)
        if wrong is not None:
            return wrong, line.discount_pct
    elif line.price is not None and line.price <= 0:
        return "the special price must be above zero", line.price
    return None


def discount_problem(pct: Decimal) -> str | None:
    """What is wrong with a discount asked for (% off the standard price), if anything: the
    one rule every front end (flags, a lines file, the library, the server) is held to."""
    if not 0 <= pct < 100:
        return "a discount must be from 0 to below 100 (% off the standard price)"
    return None


def _judge_lines(
    policy: Policy, priced: list[tuple[LineInput, PriceItem, Decimal, Decimal]]
) -> list[RequestLine]:
    """Each priced line judged under the policy: the request is one deal, its value taken
    from all its lines (:func:`pricing.policy.checks.deal_values`, as for a closed deal)."""
    judged = judge_lines(
        policy,
        [(line_facts(item, line.qty, standard), price) for line, item, standard, price in priced],
    )
    lines = []
    for number, ((line, item, standard, price), decided) in enumerate(
        zip(priced, judged, strict=True), start=1
    ):
        lines.append(
            RequestLine(
                line_no=number,
                sku=item.sku,
                family=item.family,
                qty=line.qty,
                list_price=item.list_price,
                standard_price=standard,
                price=price,
                discount_pct=decided.discount_pct,
                unit_cost=item.unit_cost,
                hard_floor=decided.hard_floor,
                decision=decided.decision,
                level=decided.level,
                reasons=decided.reasons,
            )
        )
    return lines


def line_facts(item: PriceItem, qty: int, standard: Decimal) -> LineFacts:
    """What the guardrails look at for one line of a price book item."""
    return LineFacts(
        sku=item.sku,
        family=item.family,
        qty=qty,
        list_price=item.list_price,
        standard_price=standard,
        currency=item.currency,
        unit_cost=item.unit_cost,
        item_floor=item.floor_price,
    )


def overall(policy: Policy, lines: list[RequestLine]) -> tuple[str, str | None]:
    """The request's status is its strictest line; its level the highest any line needs."""
    if any(line.decision == "rejected" for line in lines):
        return "rejected", None
    pending = [line.level for line in lines if line.decision == "pending" and line.level]
    if pending:
        return "pending", max(pending, key=policy.rank)
    return "approved", None


def submit(
    db: Store,
    *,
    customer: str,
    reason: str,
    inputs: list[LineInput],
    user: str,
    check: bool = False,
    now: datetime | None = None,
    contract: tuple[date | None, date | None] | None = None,
) -> Submission:
    """Judge a request and (unless ``check``) store it with its first events, all or nothing.
    ``contract`` (first and last day): standing prices for that period
    (:mod:`pricing.requests.contracts`)."""
    if not customer.strip():
        raise InputError(": name the customer the special price is for", field="customer")
    if not reason.strip():
        raise InputError(": say why the deal needs a special price", field="reason")
    if not inputs:
        raise InputError("the request has no lines")
    now = now or store.utcnow()
    with db.read() if check else db.write() as conn:
        priced = price_lines(conn, inputs, now.date())
        version, lines, problems = priced.version, priced.lines, priced.problems
        if has_errors(problems):
            return Submission(None, problems)
        terms = None
        if contract is not None:
            terms = contracts.terms(*contract, version.policy, now.date())
            contracts.raise_to_contract_level(lines, version.policy)
        request = Request(
            id=None,
            customer=customer.strip(),
            reason=reason.strip(),
            rep=user,
            status="pending",
            level=None,
            currency=priced.currency,
            policy_version=version.version,
            edition=priced.edition.number,
            created_at=now,
            lines=lines,
            events=[Event(now, user, "submitted", reason.strip())],
            contract=terms,
        )
        ends = contracts.cover(conn, request, version.policy, now.date())
        _route(request, version.policy, now)
        _end_with_the_contract(request, ends)
        earlier = reapproval.earlier_approval(conn, request, version, now)
        if earlier is not None:
            approval, used = earlier
            reapproval.reuse(request, approval, now, used)
        if not check:
            request.id = _insert(conn, request)
            if earlier is None:  # (an approval kept: the rep reads it at once, nobody waits)
                _tell(conn, request, now)
            else:  # (the approval's history says so, and seals the link with it)
                reapproval.record_kept(conn, earlier[0], request, now)
    return Submission(request, problems)


def _route(request: Request, policy: Policy, now: datetime) -> None:
    """Status and level from the lines; what needs nobody is decided by the system at once."""
    request.status, request.level = overall(policy, request.lines)
    request.decided_at = request.decided_by = request.expires_at = None
    if request.status != "pending":
        request.decided_at, request.decided_by = now, SYSTEM
        request.events.append(Event(now, SYSTEM, request.status, _system_note(request)))
        if request.status == "approved":
            request.expires_at = valid_until(request, policy, now)


def valid_until(request: Request, policy: Policy, now: datetime) -> datetime:
    """When an approval given ``now`` expires: after the policy's days, or a contract's last
    day."""
    if request.contract is not None:
        return contracts.valid_until(request.contract.ends)
    return now + timedelta(days=policy.approval_valid_days)


def _system_note(request: Request) -> str:
    if request.status == "approved":
        return "within the rep's authority: approved at submission"
    rejected = [line for line in request.lines if line.decision == "rejected"]
    return "; ".join(f"line {line.line_no} ({line.sku}): {line.reasons[-1]}" for line in rejected)


def _insert(conn: Connection, request: Request) -> int:
    number = queries.insert_request(
        conn,
        {
            "customer": request.customer,
            "reason": request.reason,
            "rep": request.rep,
            "status": request.status,
            "level": request.level,
            "currency": request.currency,
            "policy_version": request.policy_version,
            "edition_id": request.edition,
            "created_at": request.created_at,
            "decided_at": request.decided_at,
            "decided_by": request.decided_by,
            "expires_at": request.expires_at,
        },
    )
    _insert_lines(conn, number, request.lines)
    if request.contract is not None:
        queries.insert_contract(conn, number, request.contract)
    if request.reused is not None:  # (before the events: their audit entries digest it)
        queries.insert_reuse(conn, number, request.reused)
    for event in request.events:
        record_event(conn, number, event)
    return number


def _insert_lines(conn: Connection, number: int, lines: list[RequestLine]) -> None:
    queries.insert_request_lines(
        conn,
        [
            {
                "request_id": number,
                "line_no": line.line_no,
                "sku": line.sku,
                "family": line.family,
                "qty": line.qty,
                "list_price": line.list_price,
                "standard_price": line.standard_price,
                "price": line.price,
                "discount_pct": line.discount_pct.quantize(Decimal("0.000001")),
                "unit_cost": line.unit_cost,
                "hard_floor": line.hard_floor,
                "decision": line.decision,
                "level": line.level,
                "reasons": json.dumps(line.reasons, ensure_ascii=False),
            }
            for line in lines
        ],
    )


# Reading requests back -----------------------------------------------------------------------


def expire_due(conn: Connection, now: datetime) -> int:
    """Approvals past their validity become ``expired``, each with an event."""
    due = queries.approvals_past(conn, now)
    expired = 0
    for number, expires_at in due:
        if not queries.update_request(conn, number, was="approved", values={"status": "expired"}):
            continue  # expired by another writer a moment ago (PostgreSQL: writers overlap)
        expired += 1
        record_event(
            conn,
            number,
            Event(now, SYSTEM, "expired", f"approval was valid until {expires_at.isoformat()}"),
        )
        _tell(conn, _load(conn, number), now)
    return expired


def _tell(conn: Connection, request: Request, now: datetime) -> None:
    """Queue the mail a request's new state calls for (:mod:`pricing.requests.notices`): the
    approvers of one that waits for a decision; its salesperson at a decision by a person and
    at expiry (a decision made at submission they read at once)."""
    # Loaded by the changes that tell someone: a request check (the most frequent command)
    # tells nobody and need not load it (3 ms: the outbox's module).
    from pricing.requests import notices

    if request.status == "pending":
        notices.needs_decision(conn, request, now)
    elif request.status == "expired" or request.decided_by not in (None, SYSTEM):
        notices.decided(conn, request, now)


def get(db: Store, ident: str | int, *, now: datetime | None = None) -> Request:
    number = parse_id(ident)
    expire_approvals(db, now or store.utcnow())
    with db.read() as conn:
        return _load(conn, number)


def list_requests(
    db: Store, *, status: str | None = None, rep: str | None = None, now: datetime | None = None
) -> list[Request]:
    if status is not None and status not in STATUSES:
        raise InputError(f" {status!r}: one of {', '.join(STATUSES)}", field="status")
    expire_approvals(db, now or store.utcnow())
    with db.read() as conn:
        heads = queries.request_heads(conn, status)
        if rep is not None:  # names compared as people are: case folded (in Python: exactly)
            heads = [(n, who) for n, who in heads if who.casefold() == rep.casefold()]
        return load_many(conn, [n for n, _ in heads])


# Deciding -----------------------------------------------------------------------------------


def approve(
    db: Store, ident: str | int, *, user: str, note: str | None = None, now: datetime | None = None
) -> Request:
    """A person whose role covers the request's level approves it (never their own)."""
    return _decide(db, ident, user=user, note=note, now=now, outcome="approved")


def reject(
    db: Store, ident: str | int, *, user: str, note: str, now: datetime | None = None
) -> Request:
    """Reject a pending request; the note, required, tells the salesperson why."""
    if not note or not note.strip():
        raise InputError(": say why the request is rejected", field="note")
    return _decide(db, ident, user=user, note=note, now=now, outcome="rejected")


def _decide(
    db: Store, ident: str | int, *, user: str, note: str | None, now: datetime | None, outcome: str
) -> Request:
    number = parse_id(ident)
    now = now or store.utcnow()
    with db.write() as conn:
        expire_due(conn, now)
        request = load_to_change(conn, number)
        version = policies.in_force(conn, now.date())
        check_pending(request)
        authority.may_decide(authority.actor(conn, user), request, version, outcome)
        values: dict[str, object] = {"status": outcome, "decided_at": now, "decided_by": user}
        if outcome == "approved":
            values["expires_at"] = valid_until(request, version.policy, now)
        if not queries.update_request(conn, number, was="pending", values=values):
            raise Refused(f"{request.code} was decided by someone else a moment ago")
        queries.decide_pending_lines(conn, number, outcome)
        if outcome == "approved" and request.contract and request.contract.starts < now.date():
            # (approved after its first day: it covers from today, never the days it waited)
            queries.contract_starts(conn, number, now.date())
            note = f"{note + '; ' if note else ''}covers from {now.date()}, the day approved"
        record_event(conn, number, Event(now, user, outcome, note))
        decided = _load(conn, number)
        _tell(conn, decided, now)
        return decided


def expire_approvals(db: Store, now: datetime) -> None:
    """Expire the approvals past their validity, taking the write lock only when there are
    some (a page that reads requests does not queue behind every writer)."""
    with db.read() as conn:
        if not queries.approvals_past(conn, now):
            return
    with db.write() as conn:
        expire_due(conn, now)


def check_pending(request: Request) -> None:
    """Refuse a decision on a request that is not pending. Not a rule of who acts (nobody
    decides a decided request), so it stays here with the request; who may decide is
    :func:`pricing.access.authority.may_decide`'s."""
    if request.status != "pending":
        by = f" by {request.decided_by}" if request.decided_by else ""
        raise Refused(
            f"{request.code} is {request.status}{by}: only a pending request can be decided"
        )


def record_outcome(
    db: Store, ident: str | int, *, outcome: str, user: str, now: datetime | None = None
) -> Request:
    """Won or lost: what happened to the deal. Won needs a valid approval."""
    assert outcome in ("won", "lost")
    number = parse_id(ident)
    now = now or store.utcnow()
    with db.write() as conn:
        expire_due(conn, now)
        request = load_to_change(conn, number)
        version = policies.in_force(conn, now.date())
        authority.may_act_for(
            authority.actor(conn, user), request, version.policy, f"mark {outcome}"
        )
        if request.contract is not None:
            raise Refused(f"{request.code} is a contract, not a deal: the deals under it are "
                          "imported (pricing deals import); an owner ends it early")  # fmt: skip
        allowed = ("approved",) if outcome == "won" else ("approved", "pending", "expired")
        if request.status not in allowed:
            hint = {
                "expired": "its approval expired; submit a new request",
                "pending": "it is still waiting for approval",
                "rejected": "it was rejected",
            }.get(request.status, f"it is already {request.status}")
            raise Refused(f"{request.code} cannot be marked {outcome}: {hint}")
        if not queries.update_request(conn, number, was=request.status, values={"status": outcome}):
            raise Refused(f"{request.code} changed a moment ago; look at it again")
        record_event(conn, number, Event(now, user, outcome))
        if outcome == "won":
            # Imported here: the deal history's matching loads numpy and Arrow, which a
            # request check (the salesperson's most frequent command) must not wait for.
            from pricing.lines.service import link_won_requests

            link_won_requests(conn, by=user)
        return _load(conn, number)


def withdraw(
    db: Store, ident: str | int, *, user: str, note: str | None = None, now: datetime | None = None
) -> Request:
    """The salesperson takes back a request no longer needed, while it is pending or approved
    (a deal won or lost is history). It leaves the approvers' inboxes (mail queued for it is
    not sent) and covers no deal line from then on; the event keeps who and why."""
    number = parse_id(ident)
    now = now or store.utcnow()
    with db.write() as conn:
        expire_due(conn, now)
        request = load_to_change(conn, number)
        authority.may_change(authority.actor(conn, user), request, "withdraw")
        if request.status not in ("pending", "approved"):
            raise Refused(
                f"{request.code} is {request.status}: only a pending or approved request can be "
                "withdrawn"
            )
        if request.status == "approved" and request.contract is not None:
            _may_withdraw_contract(request, now)
        if not queries.update_request(
            conn, number, was=request.status, values={"status": "withdrawn"}
        ):
            raise Refused(f"{request.code} changed a moment ago; look at it again")
        was = "waiting for approval" if request.status == "pending" else "approved"
        said = f"was {was}" + (f"; {note.strip()}" if note and note.strip() else "")
        record_event(conn, number, Event(now, user, "withdrawn", said))
        return _load(conn, number)


def _end_with_the_contract(request: Request, ends: date | None) -> None:
    """An approval a contract gave (``ends``: its last day) lasts no longer than it."""
    if ends is not None and request.status == "approved" and request.expires_at is not None:
        request.expires_at = min(request.expires_at, contracts.valid_until(ends))


def _may_withdraw_contract(request: Request, now: datetime, doing: str = "withdrawn") -> None:
    """An approved contract is withdrawn or changed (``doing``) only before its first day:
    once in force, the deals closed under it stay covered, and only an owner ends it (``pricing
    contracts end``); a new contract asks for new prices."""
    assert request.contract is not None
    if request.contract.starts <= now.date():
        raise Refused(f"{request.code} is a contract in force since {request.contract.starts}: "
                      f"it cannot be {doing}; an owner ends it (pricing contracts end), which keeps "
                      "the deals closed under it covered, and a new contract asks for new "
                      "prices")  # fmt: skip


def change(
    db: Store,
    ident: str | int,
    *,
    inputs: list[LineInput],
    user: str,
    reason: str | None = None,
    check: bool = False,
    now: datetime | None = None,
) -> Submission:
    """New lines for a pending or approved request, judged afresh as if just submitted.

    An approval was given for the prices it saw: changing them voids it, so the changed request
    needs a new approval unless the new lines are within the rep's own authority, or each
    within what that approval gave (:mod:`pricing.requests.reapproval`: it stands). The event
    records the lines before and after.
    """
    if not inputs:
        raise InputError("the changed request has no lines")
    if reason is not None and not reason.strip():
        raise InputError(": say why the request changes", field="reason")
    number = parse_id(ident)
    now = now or store.utcnow()
    with db.read() if check else db.write() as conn:
        if not check:
            expire_due(conn, now)
        request = load_to_change(conn, number)
        authority.may_change(authority.actor(conn, user), request)
        if request.status == "approved" and request.contract is not None:
            _may_withdraw_contract(request, now, doing="changed")
        if request.status not in ("pending", "approved"):
            raise Refused(
                f"{request.code} is {request.status}: only a pending or approved request can be "
                "changed; submit a new request"
            )
        priced = price_lines(conn, inputs, now.date())
        if has_errors(priced.problems):
            return Submission(None, priced.problems)
        before, was, approval = _summary(request.lines, request.currency), request.status, None
        if was == "approved" and (request.expires_at is None or request.expires_at >= now):
            approval = replace(request, lines=list(request.lines))  # (as it was approved)
        request.lines, request.currency = priced.lines, priced.currency
        request.policy_version, request.edition = priced.version.version, priced.edition.number
        if reason is not None:
            request.reason = reason.strip()
        note = f"was {before} ({was}); now {_summary(request.lines, request.currency)}"
        if reason is not None:
            note += f"; {request.reason}"
        known = len(request.events)
        request.events.append(Event(now, user, "changed", note))
        if request.contract is not None:
            contracts.raise_to_contract_level(request.lines, priced.version.policy)
        ends = contracts.cover(conn, request, priced.version.policy, now.date())
        _route(request, priced.version.policy, now)
        _end_with_the_contract(request, ends)
        kept = (approval is not None and request.status == "pending"
                and reapproval.may_keep(conn, approval, request, priced.version))  # fmt: skip
        if kept:
            assert approval is not None
            reapproval.reuse(request, approval, now)
        dropped = None if kept else request.reused  # (the earlier approval it kept)
        request.reused = None if dropped is not None else request.reused
        if check:
            return Submission(request, priced.problems)
        if dropped is not None:  # (before the events: their audit entries digest it)
            queries.delete_reuse(conn, number)
            reapproval.record_dropped(conn, dropped, request, now)
        _store_change(conn, number, request, was=was, new_events=request.events[known:])
        changed = _load(conn, number)
        if not kept:  # (an approval that stands: nothing new to tell anyone)
            _tell(conn, changed, now)
        return Submission(changed, priced.problems)


def _store_change(
    conn: Connection, number: int, request: Request, *, was: str, new_events: list[Event]
) -> None:
    """Write a changed request (if its status is still ``was``): row, lines, new events."""
    values = {
        "status": request.status, "level": request.level, "reason": request.reason,
        "currency": request.currency, "policy_version": request.policy_version,
        "edition_id": request.edition, "decided_at": request.decided_at,
        "decided_by": request.decided_by, "expires_at": request.expires_at,
    }  # fmt: skip
    if not queries.update_request(conn, number, was=was, values=values):
        raise Refused(f"{request.code} changed a moment ago; look at it again")
    queries.delete_request_lines(conn, number)
    _insert_lines(conn, number, request.lines)
    for event in new_events:
        record_event(conn, number, event)


def _summary(lines: list[RequestLine], currency: str) -> str:
    return ", ".join(
        f"{line.sku} x {line.qty} at {format_money(line.price, currency)}" for line in lines
    )
