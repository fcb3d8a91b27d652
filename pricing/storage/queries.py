"""The queries on the app's tables (price book editions, policy versions, requests).

Storage knows tables and rows, never the domain's classes: each function takes and returns
plain values or the small typed records below, and the domain packages build their models from
them. The deal history's blob storage is the lines package's (pricing.lines.segments).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Table,
    bindparam,
    func,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection, Row

from pricing.keys import customer_key, person_key, sku_key
from pricing.money import MICRO, from_micros
from pricing.storage.store import (
    Timestamp,
    approval_reuses,
    bulk_insert,
    contract_terms,
    editions,
    policies,
    price_items,
    price_tiers,
    request_events,
    request_lines,
    requests,
)

# Price book editions ------------------------------------------------------------------------


@dataclass(frozen=True)
class EditionRecord:
    """One row of ``editions``."""

    id: int
    effective_from: date
    source: str
    imported_at: datetime
    imported_by: str
    item_count: int
    source_sha256: str


@dataclass(frozen=True)
class ItemRecord:
    """One stored price item; amounts as exact decimals (millionths in the table)."""

    sku_key: str
    sku: str
    list_price: Decimal
    currency: str
    name: str | None
    family: str | None
    unit_cost: Decimal | None
    floor_price: Decimal | None
    status: str | None


@dataclass(frozen=True)
class TierRecord:
    """One stored volume tier."""

    sku: str | None
    family: str | None
    min_qty: int
    price: Decimal | None
    discount_pct: Decimal | None


def _edition(row: Any) -> EditionRecord:
    return EditionRecord(
        id=row.id,
        effective_from=row.effective_from,
        source=row.source,
        imported_at=row.imported_at,
        imported_by=row.imported_by,
        item_count=row.item_count,
        source_sha256=row.source_sha256,
    )


def edition_rows(conn: Connection) -> list[EditionRecord]:
    """Every edition, oldest first."""
    return [_edition(r) for r in conn.execute(select(editions).order_by(editions.c.id))]


def edition_row(conn: Connection, number: int) -> EditionRecord | None:
    row = conn.execute(select(editions).where(editions.c.id == number)).first()
    return _edition(row) if row else None


def latest_edition_row(conn: Connection) -> EditionRecord | None:
    """The most recently imported edition, whatever its date."""
    row = conn.execute(select(editions).order_by(editions.c.id.desc()).limit(1)).first()
    return _edition(row) if row else None


def edition_row_in_force(conn: Connection, on: date) -> EditionRecord | None:
    """The newest edition effective on or before ``on`` (a later import wins a tie)."""
    row = conn.execute(
        select(editions)
        .where(editions.c.effective_from <= on)
        .order_by(editions.c.effective_from.desc(), editions.c.id.desc())
        .limit(1)
    ).first()
    return _edition(row) if row else None


def item_rows(conn: Connection, number: int, sku_key: str | None = None) -> list[ItemRecord]:
    """The items of an edition (all, or one SKU key's), in file order."""
    c = price_items.c
    query = select(
        c.sku_key, c.sku, c.list_price.cast(BigInteger), c.currency, c.name, c.family,
        c.unit_cost.cast(BigInteger), c.floor_price.cast(BigInteger), c.status,
    ).where(c.edition_id == number)  # fmt: skip
    if sku_key is not None:
        query = query.where(c.sku_key == sku_key)
    return [
        ItemRecord(
            key,
            sku,
            Decimal(price) / MICRO,
            currency,
            name,
            family,
            from_micros(cost),
            from_micros(floor),
            status,
        )
        for key, sku, price, currency, name, family, cost, floor, status in conn.execute(
            query.order_by(c.position)
        )
    ]


def item_currencies(conn: Connection, number: int) -> list[str]:
    """The currencies of an edition's items, the one of most items first."""
    c = price_items.c
    count = func.count()
    query = (
        select(c.currency, count)
        .where(c.edition_id == number)
        .group_by(c.currency)
        .order_by(count.desc(), c.currency)
    )
    return [currency for currency, _ in conn.execute(query)]


def tier_rows(conn: Connection, number: int) -> list[TierRecord]:
    """The volume tiers of an edition, in file order."""
    return [
        TierRecord(r.sku, r.family, r.min_qty, r.price, r.discount_pct)
        for r in conn.execute(
            select(price_tiers)
            .where(price_tiers.c.edition_id == number)
            .order_by(price_tiers.c.position)
        )
    ]


def insert_edition(
    conn: Connection,
    *,
    effective_from: date,
    source: str,
    source_sha256: str,
    imported_by: str,
    imported_at: datetime,
    item_count: int,
) -> int:
    """Store a new edition's row and return its number; its items and tiers follow
    (:func:`insert_items`)."""
    number = conn.execute(
        editions.insert()
        .values(
            effective_from=effective_from,
            source=source,
            imported_at=imported_at,
            imported_by=imported_by,
            item_count=item_count,
            source_sha256=source_sha256,
        )
        .returning(editions.c.id)
    ).scalar_one()
    return int(number)


def insert_items(
    conn: Connection, number: int, items: Sequence[tuple[Any, ...]], tiers: Sequence[TierRecord]
) -> None:
    """Store edition ``number``'s items and tiers.

    ``items`` are in storage form, in the table's column order (``PriceBook.stored_rows``:
    edition, key, position, sku, name, family, list price in millionths, currency, cost and
    floor in millionths, status): made in one pass, they are inserted and digested as given.
    """
    bulk_insert(conn, price_items, items)
    from pricing.storage import audit_subjects  # (not loaded by the readers of this module)

    audit_subjects.remember(conn, price_items.name, number, items)
    if tiers:
        conn.execute(
            price_tiers.insert(),
            [
                {
                    "edition_id": number,
                    "position": position,
                    "sku": tier.sku,
                    "family": tier.family,
                    "min_qty": tier.min_qty,
                    "price": tier.price,
                    "discount_pct": tier.discount_pct,
                }
                for position, tier in enumerate(tiers)
            ],
        )


# Policy versions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRecord:
    """One stored policy version; ``body`` is the policy as JSON."""

    id: int
    effective_from: date
    loaded_at: datetime
    loaded_by: str
    source: str
    sha256: str
    body: str


def _policy(row: Any) -> PolicyRecord:
    return PolicyRecord(
        id=row.id,
        effective_from=row.effective_from,
        loaded_at=row.loaded_at,
        loaded_by=row.loaded_by,
        source=row.source,
        sha256=row.sha256,
        body=row.body,
    )


def insert_policy(
    conn: Connection,
    *,
    effective_from: date,
    loaded_at: datetime,
    loaded_by: str,
    source: str,
    sha256: str,
    text: str,
    body: str,
) -> int:
    """Store a policy version and return its number."""
    version = conn.execute(
        policies.insert()
        .values(
            effective_from=effective_from,
            loaded_at=loaded_at,
            loaded_by=loaded_by,
            source=source,
            sha256=sha256,
            text=text,
            body=body,
        )
        .returning(policies.c.id)
    ).scalar_one()
    return int(version)


def policy_row_in_force(conn: Connection, on: date) -> PolicyRecord | None:
    """The newest policy version effective on or before ``on``."""
    row = conn.execute(
        select(policies)
        .where(policies.c.effective_from <= on)
        .order_by(policies.c.effective_from.desc(), policies.c.id.desc())
        .limit(1)
    ).first()
    return _policy(row) if row else None


def any_policy(conn: Connection) -> bool:
    return conn.execute(select(policies.c.id).limit(1)).first() is not None


def policy_row(conn: Connection, version: int) -> PolicyRecord | None:
    row = conn.execute(select(policies).where(policies.c.id == version)).first()
    return _policy(row) if row else None


def policy_rows(conn: Connection) -> list[PolicyRecord]:
    """Every policy version, in the order they were loaded."""
    return [_policy(r) for r in conn.execute(select(policies).order_by(policies.c.id))]


def latest_policy_row(conn: Connection) -> PolicyRecord | None:
    """The most recently loaded policy version."""
    row = conn.execute(select(policies).order_by(policies.c.id.desc()).limit(1)).first()
    return _policy(row) if row else None


def latest_policy_body(conn: Connection) -> str | None:
    """The JSON body of the most recently loaded policy."""
    row = conn.execute(select(policies.c.body).order_by(policies.c.id.desc()).limit(1)).first()
    return None if row is None else str(row.body)


# Requests -----------------------------------------------------------------------------------


def last_request(conn: Connection) -> int:
    """The number of the newest request (0 before any)."""
    return int(conn.execute(select(func.coalesce(func.max(requests.c.id), 0))).scalar_one())


@dataclass(frozen=True)
class RequestRecord:
    """One row of ``requests``."""

    id: int
    customer: str
    reason: str
    rep: str
    status: str
    level: str | None
    currency: str
    policy_version: int
    edition_id: int
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    expires_at: datetime | None


@dataclass(frozen=True)
class RequestLineRecord:
    """One row of ``request_lines``; ``reasons`` is a JSON list."""

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
    decision: str
    level: str | None
    reasons: str


@dataclass(frozen=True)
class EventRecord:
    """One row of the audit log ``request_events``: what happened to a request, when, by whom.

    It is also the request lifecycle's event (``requests.lifecycle.Event``): nothing about an
    event differs between the log and the domain."""

    at: datetime
    by: str
    action: str
    note: str | None = None


def insert_request(conn: Connection, values: Mapping[str, object]) -> int:
    """Store a request's row (its columns by name) and return its number."""
    number = conn.execute(requests.insert().values(**values).returning(requests.c.id)).scalar_one()
    return int(number)


def insert_request_lines(conn: Connection, rows: Sequence[Mapping[str, object]]) -> None:
    conn.execute(request_lines.insert(), list(rows))


def delete_request_lines(conn: Connection, number: int) -> None:
    conn.execute(request_lines.delete().where(request_lines.c.request_id == number))


def insert_event(conn: Connection, number: int, event: EventRecord) -> None:
    conn.execute(
        request_events.insert().values(
            request_id=number, at=event.at, by=event.by, action=event.action, note=event.note
        )
    )


def approvals_past(conn: Connection, now: datetime) -> list[tuple[int, datetime]]:
    """Approved requests whose approval ran out before ``now``: (number, expires_at)."""
    t = requests
    rows = conn.execute(
        select(t.c.id, t.c.expires_at).where(t.c.status == "approved", t.c.expires_at < now)
    ).all()
    return [(int(number), expires_at) for number, expires_at in rows]


def update_request(
    conn: Connection, number: int, *, was: str, values: Mapping[str, object]
) -> bool:
    """Change a request's columns if its status is still ``was``; False when it was not."""
    t = requests
    changed = conn.execute(
        update(t).where(t.c.id == number, t.c.status == was).values(**values)
    ).rowcount
    return bool(changed == 1)


def decide_pending_lines(conn: Connection, number: int, outcome: str) -> None:
    """The request's lines still pending take the request's decision."""
    lines = request_lines
    conn.execute(
        update(lines)
        .where(lines.c.request_id == number, lines.c.decision == "pending")
        .values(decision=outcome)
    )


def request_heads(conn: Connection, status: str | None = None) -> list[tuple[int, str]]:
    """The numbers of the requests (with that status) and their salespeople, oldest first."""
    t = requests
    query = select(t.c.id, t.c.rep).order_by(t.c.id)
    if status is not None:
        query = query.where(t.c.status == status)
    return [(int(row.id), row.rep) for row in conn.execute(query)]


def pending_pairs(conn: Connection) -> list[tuple[int, str, str | None]]:
    """Each (salesperson, level) of the pending requests once, with the oldest request's
    number: what deciding who may decide them reads."""
    t = requests
    rows = conn.execute(
        select(func.min(t.c.id), t.c.rep, t.c.level)
        .where(t.c.status == "pending")
        .group_by(t.c.rep, t.c.level)
    ).all()
    return [(int(number), rep, level) for number, rep, level in rows]


def pending_numbers(
    conn: Connection, pairs: Sequence[tuple[str, str | None]], *, after: int = 0,
    limit: int | None = None,
) -> list[int]:  # fmt: skip
    """The pending requests of these (salesperson, level) pairs numbered above ``after``,
    oldest first, at most ``limit``."""
    if not pairs:
        return []
    t = requests
    query = (
        select(t.c.id)
        .where(t.c.status == "pending", t.c.id > after, tuple_(t.c.rep, t.c.level).in_(pairs))
        .order_by(t.c.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [int(number) for number in conn.execute(query).scalars()]


def request_row(conn: Connection, number: int) -> RequestRecord | None:
    return request_rows(conn, [number]).get(number)


def request_line_rows(conn: Connection, number: int) -> list[RequestLineRecord]:
    return request_line_rows_of(conn, [number]).get(number, [])


def event_rows(conn: Connection, number: int) -> list[EventRecord]:
    """A request's audit events, in order."""
    return event_rows_of(conn, [number]).get(number, [])


_CHUNK = 500  # numbers in one IN (...): within every database's limit on parameters


def _chunks(numbers: Sequence[int]) -> Iterator[list[int]]:
    ordered = list(numbers)
    for start in range(0, len(ordered), _CHUNK):
        yield ordered[start : start + _CHUNK]


def request_rows(conn: Connection, numbers: Sequence[int]) -> dict[int, RequestRecord]:
    """The rows of the requests ``numbers`` (those that exist), by number."""
    found: dict[int, RequestRecord] = {}
    for chunk in _chunks(numbers):
        for row in conn.execute(select(requests).where(requests.c.id.in_(chunk))):
            found[int(row.id)] = RequestRecord(**row._asdict())
    return found


def request_line_rows_of(
    conn: Connection, numbers: Sequence[int]
) -> dict[int, list[RequestLineRecord]]:
    """The lines of the requests ``numbers``, each request's in line order."""

    def line(r: Row[Any]) -> RequestLineRecord:
        values = r._asdict()
        del values["request_id"]
        return RequestLineRecord(**values)

    return _each_requests(conn, request_lines, request_lines.c.line_no, numbers, line)


@dataclass(frozen=True)
class ContractRecord:
    """One row of ``contract_terms``: a contract's period (both days included), and who ended
    it early, when."""

    starts: date
    ends: date
    ended_at: datetime | None = None
    ended_by: str | None = None


def insert_contract(conn: Connection, number: int, terms: ContractRecord) -> None:
    conn.execute(contract_terms.insert().values(request_id=number, **terms.__dict__))


def contract_rows_of(conn: Connection, numbers: Sequence[int]) -> dict[int, ContractRecord]:
    """The periods of those of the requests ``numbers`` that are contracts."""

    def terms(r: Row[Any]) -> ContractRecord:
        values = r._asdict()
        del values["request_id"]
        return ContractRecord(**values)

    found = _each_requests(conn, contract_terms, contract_terms.c.request_id, numbers, terms)
    return {number: rows[0] for number, rows in found.items() if rows}


def lock_request(conn: Connection, number: int) -> None:
    """On PostgreSQL, wait for the writers of request ``number`` and keep the next out until
    this transaction ends (SQLite's BEGIN IMMEDIATE does so for every write): what is then read
    of it, in several statements, is one state of it."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(requests.c.id).where(requests.c.id == number).with_for_update())


def insert_reuse(conn: Connection, number: int, approval: int) -> None:
    """Request ``number`` kept the approval of request ``approval``."""
    conn.execute(approval_reuses.insert().values(request_id=number, approval_id=approval))


def reuse_rows_of(conn: Connection, numbers: Sequence[int]) -> dict[int, int]:
    """The approval each of the requests ``numbers`` that kept an earlier one's kept."""
    found = _each_requests(
        conn, approval_reuses, approval_reuses.c.request_id, numbers, lambda r: int(r.approval_id)
    )
    return {number: rows[0] for number, rows in found.items() if rows}


def reusable_approvals(
    conn: Connection, *, rep: str, customer: str, currency: str, now: datetime, system: str
) -> list[int]:
    """The requests of ``rep`` (compared by :func:`person_key`) for ``customer`` (compared by
    :func:`customer_key`) in ``currency`` that a person approved, since withdrawn or lost, whose
    approval has not expired by ``now``: newest first. Contracts and requests that kept an
    earlier approval are not among them."""
    r = requests
    found = conn.execute(
        select(r.c.id, r.c.rep, r.c.customer)
        .where(
            r.c.currency == currency,
            r.c.status.in_(("withdrawn", "lost")),
            r.c.decided_by.is_not(None),
            r.c.decided_by != system,
            r.c.expires_at >= now,
            r.c.id.not_in(select(contract_terms.c.request_id)),
            r.c.id.not_in(select(approval_reuses.c.request_id)),  # (a person's approval only)
        )
        .order_by(r.c.id.desc())
    ).all()
    return _of(found, rep, customer)


def _of(rows: Sequence[Row[int, str, str]], rep: str, customer: str) -> list[int]:
    """The ids of ``rows`` (id, rep, customer) of ``rep`` for ``customer``."""
    name, wanted = person_key(rep), customer_key(customer)
    return [int(row.id) for row in rows
            if person_key(row.rep) == name and customer_key(row.customer) == wanted]  # fmt: skip


def delete_reuse(conn: Connection, number: int) -> None:
    """Request ``number`` keeps no earlier approval any more."""
    conn.execute(approval_reuses.delete().where(approval_reuses.c.request_id == number))


def reusers_of(conn: Connection, approval: int, statuses: Sequence[str]) -> list[int]:
    """The requests in one of ``statuses`` that kept request ``approval``'s approval."""
    u = approval_reuses
    found = conn.execute(
        select(u.c.request_id)
        .join(requests, requests.c.id == u.c.request_id)
        .where(u.c.approval_id == approval, requests.c.status.in_(tuple(statuses)))
        .order_by(u.c.request_id)
    )
    return [int(row.request_id) for row in found]


def contract_numbers(
    conn: Connection, *, in_force_on: date | None = None, customer: str | None = None
) -> list[int]:
    """The contracts, oldest first: all of them, or those approved and in force on a day; of
    every customer, or of one (compared case folded)."""
    t, r = contract_terms, requests
    query = (
        select(t.c.request_id, r.c.customer)
        .join(r, r.c.id == t.c.request_id)
        .order_by(t.c.request_id)
    )
    if in_force_on is not None:
        query = query.where(
            r.c.status == "approved", t.c.starts <= in_force_on, t.c.ends >= in_force_on
        )
    wanted = None if customer is None else customer_key(customer)
    return [int(number) for number, name in conn.execute(query)
            if wanted is None or customer_key(str(name)) == wanted]  # fmt: skip


def contract_starts(conn: Connection, number: int, starts: date) -> None:
    conn.execute(
        update(contract_terms).where(contract_terms.c.request_id == number).values(starts=starts)
    )


def end_contract(conn: Connection, number: int, *, ends: date, at: datetime, by: str) -> None:
    conn.execute(
        update(contract_terms)
        .where(contract_terms.c.request_id == number)
        .values(ends=ends, ended_at=at, ended_by=by)
    )


def event_rows_of(conn: Connection, numbers: Sequence[int]) -> dict[int, list[EventRecord]]:
    """The audit events of the requests ``numbers``, each request's in order."""
    return _each_requests(conn, request_events, request_events.c.id, numbers,
                          lambda e: EventRecord(e.at, e.by, e.action, e.note))  # fmt: skip


_Of = TypeVar("_Of")


def _each_requests(
    conn: Connection, table: Table, order: ColumnElement[Any], numbers: Sequence[int],
    make: Callable[[Row[Any]], _Of],
) -> dict[int, list[_Of]]:  # fmt: skip
    """The rows of ``table`` (a request's lines, its events) of the requests ``numbers``, by
    request, each request's in ``order``: one query per :data:`_CHUNK` requests."""
    found: dict[int, list[_Of]] = {}
    for chunk in _chunks(numbers):
        rows = conn.execute(
            select(table).where(table.c.request_id.in_(chunk)).order_by(table.c.request_id, order)
        )
        for row in rows:
            found.setdefault(int(row.request_id), []).append(make(row))
    return found


def request_outcomes(
    conn: Connection, basis: str, key: str, *, since: date | None = None, until: date | None = None
) -> tuple[int, int]:
    """Won and lost requests that had a line for this SKU (``basis`` "sku": ``key`` is its
    :func:`pricing.keys.sku_key`) or family (``key`` case folded), asked for from ``since`` to
    ``until`` (days, both included; open when None). The lines' keys are made here, by the one
    rule, not by SQL's ``lower()`` (ASCII only in SQLite: ``Straße`` never met ``strasse``)."""
    column = "rl.sku" if basis == "sku" else "rl.family"
    params: dict[str, object] = {}
    when, bounds = "", []
    if since is not None:
        when += " AND r.created_at >= :since"
        params["since"] = datetime.combine(since, time.min, tzinfo=UTC)
        bounds.append(bindparam("since", type_=Timestamp))
    if until is not None:
        when += " AND r.created_at < :until"
        params["until"] = datetime.combine(until + timedelta(days=1), time.min, tzinfo=UTC)
        bounds.append(bindparam("until", type_=Timestamp))
    query = text(
        f"SELECT DISTINCT r.status, r.id, {column} FROM requests r JOIN request_lines rl "
        f"ON rl.request_id = r.id WHERE r.status IN ('won', 'lost'){when}"
    ).bindparams(*bounds)
    keyed = sku_key if basis == "sku" else str.casefold
    found: dict[str, set[int]] = {"won": set(), "lost": set()}
    for status, number, value in conn.execute(query, params):
        if value is not None and keyed(value) == key:
            found[status].add(int(number))
    return len(found["won"]), len(found["lost"])


def table_counts(conn: Connection) -> dict[str, int]:
    """How many editions, policy versions and requests are stored."""
    return {
        name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
        for name, table in (
            ("editions", editions), ("policy_versions", policies), ("requests", requests),
        )
    }  # fmt: skip
