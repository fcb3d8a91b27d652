"""Contracted prices: a request for standing prices, the customer's prices for a period.

A contract is a request with a period (``request --contract --from --to``): judged, routed,
decided and audited as any request, and the policy may ask more of it (``contract_level``: the
level every contract needs at least; ``contract_max_days``: its longest period). Once approved,
each approved line is the customer's price for its SKU from the first day to the last, both
included: a later request of that customer at or above it needs nobody's approval, a quote for
the customer shows it, and the drift report counts a deal line of the customer at or above it
on a day of the period as approved special pricing. An owner may end a contract early; a
contract ends by itself after its last day (it expires, as approvals do).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import cast

from sqlalchemy.engine import Connection

from pricing.access import authority
from pricing.errors import InputError, Refused
from pricing.keys import sku_key
from pricing.money import format_money
from pricing.policy import versions as policies
from pricing.policy.model import Policy
from pricing.pricebook import editions
from pricing.requests import ContractState
from pricing.requests.records import (
    Event,
    Request,
    RequestLine,
    Terms,
    load,
    load_many,
    load_to_change,
    parse_id,
    record_event,
    unsealed,
)
from pricing.storage import queries, store
from pricing.storage.store import Store

EXPIRING_DAYS = 30  # a contract in force ending within this many days is flagged
LONGEST_AHEAD = 3660  # days: how far ahead a contract may start


def terms(starts: date | None, ends: date | None, policy: Policy, today: date) -> Terms:
    """The period asked for, checked against the policy: both days given, in order, not over
    ``contract_max_days``, not over before today."""
    if starts is None or ends is None:
        raise InputError(": a contract needs its first and last day (--from and --to)",
                         field="from" if starts is None else "to")  # fmt: skip
    if ends < starts:
        raise InputError(f": {ends} is before the first day {starts}", field="to")
    if starts < today:  # (a contract judges the days to come, never deals already closed)
        raise InputError(f": {starts} is gone by; a contract starts today at the earliest",
                         field="from")  # fmt: skip
    if (starts - today).days > LONGEST_AHEAD:
        raise InputError(f": {starts} is more than {LONGEST_AHEAD:,} days ahead", field="from")
    days = (ends - starts).days + 1
    if days > policy.contract_days:
        raise InputError(
            f": {days} days; the policy allows contracts of at most {policy.contract_days} days "
            "(contract_max_days)",
            field="to",
        )
    return Terms(starts, ends)


def valid_until(last: date) -> datetime:
    """When an approval a contract gives expires (its own, or an order's it approved): the
    start of the day after the contract's ``last`` day (UTC)."""
    return datetime.combine(last + timedelta(days=1), time(0), UTC)


def raise_to_contract_level(lines: list[RequestLine], policy: Policy) -> None:
    """Every line of a contract needs at least the policy's ``contract_level`` (a line the rule
    would approve, or a lower level's, waits for it; a rejected line stays rejected)."""
    level = policy.contract_level
    if level is None or level not in policy.levels:
        return
    for line in lines:
        if line.decision == "rejected":
            continue
        if line.decision == "approved" or policy.rank(line.level or level) < policy.rank(level):
            line.decision, line.level = "pending", level
            line.reasons.append(f"a contract needs {level} or above (the policy's contract_level)")


def in_force(conn: Connection, customer: str, on: date) -> list[Request]:
    """The customer's contracts approved and in force on ``on``, oldest first: those that
    hold against the keyed audit only (a contract written or stretched in the database by hand
    for a moment grants nothing, though it is gone again before anyone verifies)."""
    numbers = queries.contract_numbers(conn, in_force_on=on, customer=customer)
    if not numbers:
        return []
    held = [n for n in numbers if unsealed(conn, n) is None]
    return load_many(conn, held, events=False) if held else []


def contracted_line(
    contracts: list[Request], sku: str, currency: str, qty: int
) -> tuple[Request, RequestLine] | None:
    """The lowest contracted price of ``sku`` among ``contracts`` (in ``currency``) for an
    order of ``qty``: a contract line's quantity is the least an order needs for its price
    (the price was judged at that quantity's standard price)."""
    offered = [(c, line) for c in contracts if c.currency == currency for line in c.lines
               if line.decision == "approved" and sku_key(line.sku) == sku_key(sku)
               and qty >= line.qty]  # fmt: skip
    return min(offered, key=lambda pair: pair[1].price, default=None)


def cover(conn: Connection, request: Request, policy: Policy, on: date) -> date | None:
    """Approve each waiting line of a request (not itself a contract) that is at or above its
    customer's contracted price for the SKU on ``on`` and needs, under ``policy``, no higher a
    level than the contract's line was approved at (a price the rule approved within the first
    level covers nothing a person must approve; a deal too large for the approver, or a policy
    tightened since, goes to the approvers), saying which contract; the last day of the
    earliest ending contract used (an approval it gives ends with it), or None."""
    waiting = [line for line in request.lines if line.decision == "pending"]
    if request.contract is not None or not waiting:
        return None
    contracts = in_force(conn, request.customer, on)
    ends: date | None = None
    for line in waiting:
        found = contracted_line(contracts, line.sku, request.currency, line.qty)
        if (
            found is not None
            and line.price >= found[1].price
            and _within_level(line.level, found[1].level, policy)
        ):
            contract, price = found
            assert contract.contract is not None
            ends = min(ends or contract.contract.ends, contract.contract.ends)
            line.decision, line.level = "approved", None
            line.reasons.append(
                f"at or above {contract.customer}'s contracted price "
                f"{format_money(price.price, request.currency)} for {price.qty} or more "
                f"({contract.code}, until {contract.contract.ends})"
            )
    return ends


def _within_level(needed: str | None, approved: str | None, policy: Policy) -> bool:
    """Whether a line needing ``needed`` is within what a contract line approved at
    ``approved`` (None: by the rule, the first level) may give under ``policy``."""
    if needed is None or needed not in policy.levels:
        return False
    granted = approved if approved in policy.levels else policy.levels[0]
    return policy.rank(needed) <= policy.rank(granted)


def list_below(contract: Request, list_prices: dict[str, Decimal]) -> list[str]:
    """The SKUs of a contract whose list price (``list_prices``: the edition in force, by SKU
    key) is now below the contracted price: the price book moved under the contract."""
    return [line.sku for line in contract.lines if line.decision == "approved"
            and (price := list_prices.get(sku_key(line.sku))) is not None
            and price < line.price]  # fmt: skip


# Listing and ending contracts -------------------------------------------------------------------


@dataclass
class Listed:
    """A contract as ``pricing contracts`` shows it: its state on the day asked
    (``upcoming``, ``in force``, ``ended``; or the request's status while not approved), whether
    it ends within :data:`EXPIRING_DAYS`, and each SKU's list price in the edition in force then
    (``below``: the SKUs whose list moved under the contracted price)."""

    contract: Request
    state: ContractState
    expiring: bool
    list_prices: dict[str, Decimal] = field(default_factory=dict)
    below: list[str] = field(default_factory=list)


def listing(
    db: Store, *, customer: str | None = None, expiring: int | None = None,
    today: date | None = None,
) -> list[Listed]:  # fmt: skip
    """The contracts (of ``customer``), oldest first; with ``expiring``, only those in force
    that end within that many days."""
    if expiring is not None and expiring < 0:
        raise InputError(f": {expiring} days? 0 or more", field="expiring")
    today = today or store.utcnow().date()
    with db.read() as conn:
        found = load_many(conn, queries.contract_numbers(conn, customer=customer), events=False)
        edition = editions.edition_in_force(conn, today)
        prices: dict[str, Decimal] = {}
        for key in {sku_key(line.sku) for c in found for line in c.lines}:
            item = (
                None if edition is None else editions.load_book(conn, edition.number, key).get(key)
            )
            if item is not None:
                prices[key] = item.list_price
    listed = []
    for contract in found:
        assert contract.contract is not None
        state = _state(contract, today)
        soon = state == "in force" and (contract.contract.ends - today).days < EXPIRING_DAYS
        if expiring is not None and not (
            state == "in force" and (contract.contract.ends - today).days <= expiring
        ):
            continue
        mine = {sku_key(line.sku): prices[sku_key(line.sku)] for line in contract.lines
                if sku_key(line.sku) in prices}  # fmt: skip
        listed.append(Listed(contract, state, soon, mine, list_below(contract, mine)))
    return listed


def _state(contract: Request, today: date) -> ContractState:
    assert contract.contract is not None
    if contract.status not in ("approved", "expired"):
        return cast(ContractState, contract.status)  # (any other status is one of its names)
    ended = contract.contract.ends < max(today, contract.contract.starts)  # (or never began)
    if ended or contract.status == "expired":
        return "ended"
    return "upcoming" if contract.contract.starts > today else "in force"


def end(
    db: Store, ident: str | int, *, user: str, on: date | None = None, note: str | None = None,
    now: datetime | None = None,
) -> Request:  # fmt: skip
    """End an approved contract early: its last day becomes ``on`` (default today; never a day
    gone by, which would judge deals already closed again; a day before its first cancels it),
    its approval expires after it, and
    the event says who, when and why; only an owner (:func:`pricing.access.authority.
    may_end_contract`)."""
    number = parse_id(ident)
    now = now or store.utcnow()
    on = on or now.date()
    with db.write() as conn:
        contract = load_to_change(conn, number)
        policy = policies.in_force(conn, now.date()).policy
        authority.may_end_contract(authority.actor(conn, user), policy)
        if contract.contract is None:
            raise Refused(f"{contract.code} is a request for a deal, not a contract; "
                          "withdraw it instead (pricing requests withdraw)")  # fmt: skip
        if contract.status != "approved":
            raise Refused(f"{contract.code} is {contract.status}: only an approved contract "
                          "in force or to come can be ended")  # fmt: skip
        was = contract.contract.ends
        if on < now.date():
            raise InputError(f": {on} is gone by; a contract ends today at the earliest",
                             field="on")  # fmt: skip
        if on >= was:
            raise Refused(f"{contract.code} ends on {was} already; nothing to end early")
        queries.end_contract(conn, number, ends=on, at=now, by=user)
        if not queries.update_request(conn, number, was="approved",
                                      values={"expires_at": valid_until(on)}):  # fmt: skip
            raise Refused(f"{contract.code} changed a moment ago; look at it again")
        said = f"ends {on} instead of {was}" + (
            f"; {note.strip()}" if note and note.strip() else ""
        )
        record_event(conn, number, Event(now, user, "ended", said))
        return load(conn, number)
