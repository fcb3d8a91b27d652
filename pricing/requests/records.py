"""Requests as stored: their types, reading them back, and appending to their history.

What every module about requests stands on (:mod:`~pricing.requests.lifecycle` that judges and
routes them, :mod:`~pricing.requests.contracts`, :mod:`~pricing.requests.reapproval`), kept
apart so that those import it and not one another.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, NamedTuple, cast

from sqlalchemy.engine import Connection

from pricing.errors import DamagedError, InputError, NotFoundError
from pricing.keys import request_code, request_number
from pricing.policy import Decision
from pricing.problems import Problem
from pricing.storage import queries

STATUSES = ("approved", "pending", "rejected", "expired", "won", "lost", "withdrawn")
SYSTEM = "system"


@dataclass(frozen=True)
class LineInput:
    """One line as the salesperson asked for it: a price or a discount % off standard."""

    sku: str
    qty: int
    price: Decimal | None = None
    discount_pct: Decimal | None = None
    location: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass
class RequestLine:
    line_no: int
    sku: str
    family: str | None
    qty: int
    list_price: Decimal
    standard_price: Decimal
    price: Decimal
    discount_pct: Decimal
    unit_cost: Decimal | None
    hard_floor: Decimal | None
    decision: Decision
    level: str | None
    reasons: list[str]


Event = queries.EventRecord  # one entry of a request's audit trail
Terms = queries.ContractRecord  # a contract's period (pricing.requests.contracts)


@dataclass
class Request:
    """A deviation request: its lines as judged, status, the level it waits for, who asked and
    who decided, and its audit events. ``id`` is None until stored; ``code`` is ``R-000123``."""

    id: int | None
    customer: str
    reason: str
    rep: str
    status: str
    level: str | None
    currency: str
    policy_version: int
    edition: int
    created_at: datetime
    lines: list[RequestLine]
    decided_at: datetime | None = None
    decided_by: str | None = None
    expires_at: datetime | None = None
    events: list[Event] = field(default_factory=list)
    contract: Terms | None = None  # a contract: standing prices for a period
    reused: int | None = None  # the request whose approval by a person this one kept

    @property
    def code(self) -> str | None:
        return None if self.id is None else request_code(self.id)


class Submission(NamedTuple):
    """A request judged (and stored unless it was a check), or None and the problems of its
    lines (a pair: ``request, problems = submit(...)`` reads too)."""

    request: Request | None
    problems: list[Problem]


def parse_id(text: str | int) -> int:
    """``R-000123``, ``r-123``, ``123`` or the number itself (:attr:`Request.id`)."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 1:
            raise InputError(f"{text!r} is not a request id; they look like R-000123")
        return text
    number = request_number(str(text))
    if number is None:
        raise InputError(f"{text!r} is not a request id; they look like R-000123")
    return number


def record_event(conn: Connection, number: int, event: Event) -> None:
    """Append an event to the request's history, and the request as it now stands to the
    keyed audit (events come after the request's other writes in each transaction)."""
    # Loaded by the changes that record in it: a request check (the most frequent command)
    # records nothing and need not load it.
    from pricing.storage import audit

    queries.insert_event(conn, number, event)
    audit.record(
        conn,
        by=event.by,
        action=f"request.{event.action}",
        subjects=[audit.subject("request", number)],
        note=event.note,
        at=event.at,
    )


def load(conn: Connection, number: int) -> Request:
    """Request ``number`` as stored, with its lines and events."""
    return _load(conn, number)


def unsealed(conn: Connection, number: int) -> str | None:
    """Why request ``number`` as stored does not hold against its newest keyed audit entry
    (None: it holds): written in the database by hand, say."""
    # Loaded where a seal is asked for (a request check, the most frequent command, asks none).
    from pricing.storage import audit_subjects, audit_verify

    return audit_verify.unsealed(conn, audit_subjects.subject("request", number))


def load_to_change(conn: Connection, number: int) -> Request:
    """Request ``number`` as stored, to be changed (decided, won or lost, withdrawn, changed,
    ended): only while it holds against its newest keyed audit entry. A request written in
    the database by hand is refused, not sealed again by the change (which would hide the
    edit from ``audit verify``)."""
    queries.lock_request(conn, number)  # (another writer's half-committed state is not a seal)
    request = _load(conn, number)
    why = unsealed(conn, number)
    if why is not None:
        raise DamagedError(
            f"{request_code(number)} was changed outside pricing ({why}); nothing was "
            "changed. `pricing audit verify` names what differs: restore the database from a "
            "backup taken before the edit, or ask the owner"
        )
    return request


def load_many(conn: Connection, numbers: list[int], *, events: bool = True) -> list[Request]:
    """The requests ``numbers``, in that order, read in three queries whatever their number
    (two without their ``events``, left empty). A stored value that does not read (SQLite keeps
    whatever an edit by hand wrote) is a :class:`DamagedError` naming its request."""
    return read_many(conn, numbers, events=events).requests()


@dataclass(frozen=True)
class Stored:
    """Requests as their rows were read, in order (:func:`read_many`): frozen rows, never
    changed once read, so that an answer kept for later (an inbox) is made into requests afresh
    each time it is used."""

    numbers: tuple[int, ...]
    rows: Mapping[int, queries.RequestRecord]
    lines: Mapping[int, Sequence[queries.RequestLineRecord]]
    history: Mapping[int, Sequence[Event]]
    periods: Mapping[int, Terms]
    reuses: Mapping[int, int]

    def requests(self) -> list[Request]:
        """The requests these rows are (a stored value that does not read: a
        :class:`DamagedError` naming its request)."""
        made = []
        for n in self.numbers:
            try:
                made.append(_request(self.rows[n], [_line(r) for r in self.lines.get(n, ())],
                                     list(self.history.get(n, ())), self.periods.get(n),
                                     self.reuses.get(n)))  # fmt: skip
            except (ValueError, TypeError) as exc:
                raise _damage(n, exc) from None
        return made


def read_many(conn: Connection, numbers: list[int], *, events: bool = True) -> Stored:
    """The rows of the requests ``numbers`` (:func:`load_many` makes them requests)."""
    try:
        rows = queries.request_rows(conn, numbers)
        lines = queries.request_line_rows_of(conn, numbers)
        history = queries.event_rows_of(conn, numbers) if events else {}
        periods = queries.contract_rows_of(conn, numbers)
        reuses = queries.reuse_rows_of(conn, numbers)
    except (ValueError, TypeError) as exc:
        if len(numbers) == 1:
            raise _damage(numbers[0], exc) from None
        return _joined([read_many(conn, [n], events=events) for n in numbers])  # which one
    missing = [n for n in numbers if n not in rows]
    if missing:
        raise NotFoundError(f"no request {request_code(missing[0])}")
    return Stored(tuple(numbers), rows, lines, history, periods, reuses)


def _joined(each: list[Stored]) -> Stored:
    """The rows of requests read one by one, as if read together."""
    return Stored(
        tuple(n for one in each for n in one.numbers),
        {n: r for one in each for n, r in one.rows.items()},
        {n: ls for one in each for n, ls in one.lines.items()},
        {n: es for one in each for n, es in one.history.items()},
        {n: t for one in each for n, t in one.periods.items()},
        {n: a for one in each for n, a in one.reuses.items()},
    )


def _damage(number: int, exc: Exception) -> DamagedError:
    why = (str(exc).strip().splitlines() or [""])[0][:120] or type(exc).__name__
    return DamagedError(
        f"request {request_code(number)} is damaged: a stored value does not read "
        f"({why}); nothing was changed. To recover, restore the database from a backup taken "
        "before the damage; `pricing db check` and `pricing audit verify` name what else "
        "changed"
    )


def _load(conn: Connection, number: int) -> Request:
    return load_many(conn, [number])[0]


def _request(
    row: queries.RequestRecord,
    lines: list[RequestLine],
    events: list[Event],
    terms: Terms | None,
    reused: int | None,
) -> Request:
    return Request(
        id=row.id,
        customer=row.customer,
        reason=row.reason,
        rep=row.rep,
        status=row.status,
        level=row.level,
        currency=row.currency,
        policy_version=row.policy_version,
        edition=row.edition_id,
        created_at=row.created_at,
        lines=lines,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        expires_at=row.expires_at,
        events=events,
        contract=terms,
        reused=reused,
    )


def _line(r: queries.RequestLineRecord) -> RequestLine:
    reasons = json.loads(r.reasons)
    if not isinstance(reasons, list) or not all(isinstance(reason, str) for reason in reasons):
        raise TypeError(f"line {r.line_no}: its reasons are not a list of texts")
    return RequestLine(
        line_no=r.line_no,
        sku=r.sku,
        family=r.family,
        qty=r.qty,
        list_price=r.list_price,
        standard_price=r.standard_price,
        price=r.price,
        discount_pct=r.discount_pct,
        unit_cost=r.unit_cost,
        hard_floor=r.hard_floor,
        decision=cast(Decision, r.decision),
        level=r.level,
        reasons=reasons,
    )
