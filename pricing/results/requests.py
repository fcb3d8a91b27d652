"""What the salesperson's and the approver's methods answer: a quote, a request, a refusal.

Money is the amount rounded once to the currency's minor unit (``round_money``), percentages
to hundredths: their JSON is exactly the text ``--json`` has always printed (``"199.00"``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Literal

from pricing.keys import request_code, sku_key
from pricing.policy import Decision
from pricing.requests import ContractState
from pricing.results import common
from pricing.results.common import FoundProblem, ProblemCount, Result

if TYPE_CHECKING:
    from pricing.problems import Problem
    from pricing.requests.contracts import Listed
    from pricing.requests.guidance import Guidance
    from pricing.requests.quoting import Quote
    from pricing.requests.records import Request, RequestLine

# A request's status: pricing.requests.records.STATUSES (a test holds them equal).
Status = Literal["approved", "pending", "rejected", "expired", "won", "lost", "withdrawn"]


def _money(amount: Decimal, currency: str) -> Decimal:
    """An amount rounded to the currency's minor unit (``round_money``). The money module is
    imported here, where results are made (embedded, the server), not where they are read back
    (a client validating the server's answer: the salesperson's `request --check`)."""
    from pricing.money import round_money

    return round_money(amount, currency)


def _maybe_money(amount: Decimal | None, currency: str) -> Decimal | None:
    return None if amount is None else _money(amount, currency)


def _pct(pct: Decimal) -> Decimal:
    """A percentage as ``--json`` has it: hundredths, half-even (``format_pct``)."""
    from pricing.money import format_pct

    text = format_pct(pct)
    assert text is not None
    return Decimal(text)


# Quote -----------------------------------------------------------------------------------------


class LevelPrice(Result):
    """One approval level of a quote: its limit and the lowest price it may grant."""

    level: str
    max_discount_pct: Decimal
    lowest_price: Decimal


class QuoteGuidance(Result):
    """What deals of the SKU (or its family) at about this quantity closed at, in a window of
    days before the quote, and what to aim for."""

    deals: int
    basis: Literal["sku", "family"]
    scope: str
    quantity_band: str
    since: date
    discount_p25: Decimal
    discount_median: Decimal
    discount_p75: Decimal
    target_price: Decimal
    floor_price: Decimal
    stretch_price: Decimal
    requests_won: int
    requests_lost: int
    window_from: date
    window_to: date
    window_days: int

    @classmethod
    def of(cls, g: Guidance, currency: str) -> QuoteGuidance:
        return cls(
            deals=g.deals,
            basis=g.basis,  # type: ignore[arg-type]  # "sku" or "family" (validated)
            scope=g.scope,
            quantity_band=g.band,
            since=g.since,
            discount_p25=_pct(g.discount_p25),
            discount_median=_pct(g.discount_median),
            discount_p75=_pct(g.discount_p75),
            target_price=_money(g.target_price, currency),
            floor_price=_money(g.floor_price, currency),
            stretch_price=_money(g.stretch_price, currency),
            requests_won=g.requests_won,
            requests_lost=g.requests_lost,
            window_from=g.window_from,
            window_to=g.window_to,
            window_days=g.window_days,
        )


class QuoteContract(Result):
    """A customer's contracted price for the quoted SKU: the contract and its period. An order
    at or above it needs nobody's approval."""

    id: str | None
    price: Decimal
    min_qty: int  # the least an order needs for the price (the contract line's quantity)
    starts: date
    ends: date


class QuoteResult(Result):
    """``quote``: list, standard, each level's lowest price, the hard floor, and guidance (or,
    when there is none, ``guidance_note`` saying why); with ``--customer``, the customer's
    contracted price (``contract``, None when they have none in force)."""

    sku: str
    name: str | None
    qty: int
    customer: str | None
    currency: str
    list_price: Decimal
    standard_price: Decimal
    hard_floor: Decimal | None
    floor_reasons: list[str]
    edition: int
    policy_version: int
    levels: list[LevelPrice]
    guidance: QuoteGuidance | None
    guidance_note: str | None
    contract: QuoteContract | None = None

    @classmethod
    def of(cls, q: Quote, customer: str | None = None) -> QuoteResult:
        c = q.currency
        held = None
        if q.contract is not None:
            contract, line = q.contract
            assert contract.contract is not None
            held = QuoteContract(id=contract.code, price=_money(line.price, c), min_qty=line.qty,
                                 starts=contract.contract.starts, ends=contract.contract.ends)  # fmt: skip
        return cls(
            sku=q.sku,
            name=q.name,
            qty=q.qty,
            customer=customer,
            currency=c,
            list_price=_money(q.list_price, c),
            standard_price=_money(q.standard_price, c),
            hard_floor=_maybe_money(q.hard_floor, c),
            floor_reasons=q.floor_reasons,
            edition=q.edition,
            policy_version=q.policy_version,
            levels=[
                LevelPrice(level=level, max_discount_pct=_pct(pct), lowest_price=_money(low, c))
                for level, pct, low in q.levels
            ],
            guidance=None if q.guidance is None else QuoteGuidance.of(q.guidance, c),
            guidance_note=q.guidance_note or None,
            contract=held,
        )


# Requests --------------------------------------------------------------------------------------


class JudgedLine(Result):
    """One line of a request as judged: the prices it is measured from, the price asked, and
    the decision (with the level it needs and the reasons)."""

    line: int
    sku: str
    qty: int
    list_price: Decimal
    standard_price: Decimal
    price: Decimal
    discount_pct: Decimal
    hard_floor: Decimal | None
    decision: Decision
    level: str | None
    reasons: list[str]

    @classmethod
    def of(cls, line: RequestLine, currency: str) -> JudgedLine:
        return cls(
            line=line.line_no,
            sku=line.sku,
            qty=line.qty,
            list_price=_money(line.list_price, currency),
            standard_price=_money(line.standard_price, currency),
            price=_money(line.price, currency),
            discount_pct=_pct(line.discount_pct),
            hard_floor=_maybe_money(line.hard_floor, currency),
            decision=line.decision,
            level=line.level,
            reasons=line.reasons,
        )


class ContractPeriod(Result):
    """A contract's period: its first and last day (both included), and who ended it early,
    when (None: it runs to its last day)."""

    starts: date
    ends: date
    ended_at: datetime | None
    ended_by: str | None


class RequestResult(Result):
    """A request: its lines judged, its state (``id`` is None for a check, never stored);
    ``contract``: the period of a contract (standing prices), None for a deal's request;
    ``reused_approval``: the earlier request whose approval by a person it kept (withdrawn or
    lost, its approval still valid), None when it kept none."""

    id: str | None
    status: Status
    level: str | None
    customer: str
    reason: str
    rep: str
    currency: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    expires_at: datetime | None
    policy_version: int
    edition: int
    lines: list[JudgedLine]
    contract: ContractPeriod | None = None
    reused_approval: str | None = None

    @classmethod
    def of(cls, r: Request) -> RequestResult:
        return cls.model_validate(_request_fields(r))


def _request_fields(r: Request) -> dict[str, object]:
    return {
        "id": r.code,
        "status": r.status,
        "level": r.level,
        "customer": r.customer,
        "reason": r.reason,
        "rep": r.rep,
        "currency": r.currency,
        "created_at": r.created_at,
        "decided_by": r.decided_by,
        "decided_at": r.decided_at,
        "expires_at": r.expires_at,
        "policy_version": r.policy_version,
        "edition": r.edition,
        "lines": [JudgedLine.of(line, r.currency) for line in r.lines],
        "reused_approval": None if r.reused is None else request_code(r.reused),
        "contract": None
        if r.contract is None
        else ContractPeriod(
            starts=r.contract.starts,
            ends=r.contract.ends,
            ended_at=r.contract.ended_at,
            ended_by=r.contract.ended_by,
        ),
    }


class ContractPrice(Result):
    """One SKU of a contract: the price contracted, and the list price in force today (None:
    not in that edition); ``list_below``: the list moved under the contracted price."""

    sku: str
    price: Decimal
    min_qty: int  # the least an order needs for the price
    list_price: Decimal | None
    list_below: bool


class ContractListed(Result):
    """``pricing contracts``: a contract, its ``state`` (``upcoming``, ``in force``,
    ``ended``, or the request's status while not approved), whether it ends within 30 days
    (``expiring``), its period and its prices."""

    id: str | None
    customer: str
    rep: str
    state: ContractState
    expiring: bool
    starts: date
    ends: date
    ended_at: datetime | None
    ended_by: str | None
    currency: str
    prices: list[ContractPrice]

    @classmethod
    def of(cls, listed: Listed) -> ContractListed:
        c, terms = listed.contract, listed.contract.contract
        assert terms is not None
        return cls(
            id=c.code, customer=c.customer, rep=c.rep, state=listed.state,
            expiring=listed.expiring, starts=terms.starts, ends=terms.ends,
            ended_at=terms.ended_at, ended_by=terms.ended_by, currency=c.currency,
            prices=[ContractPrice(
                sku=line.sku, price=_money(line.price, c.currency), min_qty=line.qty,
                list_price=_maybe_money(listed.list_prices.get(sku_key(line.sku)), c.currency),
                list_below=line.sku in listed.below,
            ) for line in c.lines],
        )  # fmt: skip


class RequestEvent(Result):
    """One entry of a request's history: when, who, what, and the note given."""

    at: datetime
    by: str
    action: str
    note: str | None


class RequestShown(RequestResult):
    """``requests show``: a request and its history, oldest event first."""

    events: list[RequestEvent]

    @classmethod
    def of(cls, r: Request) -> RequestShown:
        events = [RequestEvent(at=e.at, by=e.by, action=e.action, note=e.note) for e in r.events]
        return cls.model_validate({**_request_fields(r), "events": events})


class Decidable(Result):
    """Whether the caller may decide a request now (``why_not``: the refusal a decision would
    meet, None when they may)."""

    id: str | None
    decidable: bool
    why_not: str | None


class RequestRefused(Result):
    """A request not submitted (or not changed) because its lines have problems: no ``id``,
    the problems (up to limits.PROBLEMS_PER_KIND of a kind) and how many of each kind."""

    id: None = None
    problems: list[FoundProblem]
    problem_counts: list[ProblemCount]

    @classmethod
    def of(cls, found: Sequence[Problem]) -> RequestRefused:
        return cls(problems=common.problems(found), problem_counts=common.problem_counts(found))


class LinesFileRefused(RequestRefused):
    """A lines file (``--file``) with problems: the refusal, and which file it was."""

    file: str

    @classmethod
    def of_file(cls, found: Sequence[Problem], file: str) -> LinesFileRefused:
        return cls(
            problems=common.problems(found), problem_counts=common.problem_counts(found), file=file
        )


Answer = RequestResult | RequestRefused | LinesFileRefused
"""What asking for (or changing) a request answers: the request judged, or why not."""
