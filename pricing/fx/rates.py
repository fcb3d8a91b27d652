"""Exchange rates stored and found: an import keeps what a file adds or changes, audited; the
rate of a currency in another on a day is the last published on or before it.

Rates are found in the direction the file gave them (1 EUR = 1.1172 USD) or the other way
(1 USD = 1 / 1.1172 EUR), or derived through a base both currencies are quoted against (GBP in
USD through EUR: 1.1172 / 0.8338), each said as such. A derived or inverted rate is computed to
:data:`PLACES` decimal places, half-even, once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from pricing.errors import InputError, NotFoundError
from pricing.fx.file import RatesFile, read_rates
from pricing.money import is_currency_code
from pricing.problems import Problems
from pricing.storage import audit, store
from pricing.storage.fx_tables import fx_imports, fx_rates
from pricing.storage.store import Store

PLACES = 10  # decimal places of a rate inverted or derived through a base
MAX_AGE_DAYS = 7  # a rate published longer ago than this before the day asked is old


@dataclass(frozen=True)
class Imported:
    """What an import of a rates file did (``id`` None: nothing new, nothing stored)."""

    id: int | None
    file: str
    shape: str
    rates: int  # in the file
    added: int
    changed: int
    unchanged: int
    currencies: list[str]
    bases: list[str]
    first_day: date | None
    last_day: date | None
    problems: Problems


@dataclass(frozen=True)
class RateOn:
    """One unit of ``currency`` in ``quote`` on ``asked``: ``rate``, published on ``published``
    (the last day with a rate on or before ``asked``), how (``direct``, ``inverted`` or
    ``via BASE``), and whether it is older than ``max_age`` days."""

    currency: str
    quote: str
    asked: date
    rate: Decimal
    published: date
    how: str
    imports: tuple[int, ...]
    max_age: int

    @property
    def age_days(self) -> int:
        return (self.asked - self.published).days

    @property
    def stale(self) -> bool:
        return self.age_days > self.max_age


def import_file(
    open_store: Callable[[], Store], path: Path, *, user: str, base: str | None = None,
    now: datetime | None = None,
) -> Imported:  # fmt: skip
    """Read a rates file and store the rates it adds or changes (a file with problems stores
    nothing: ``id`` None, its ``problems`` say why). The same file again stores nothing. The
    store is opened (``open_store``: made if new) only for a file that reads without errors."""
    try:
        read = read_rates(path, base=base)
    except ValueError as exc:
        raise InputError(f": {exc}", field="base") from None
    if not read.ok:
        return _said(read, None, 0, 0)
    now = now or store.utcnow()
    with open_store().write() as conn:
        held = _held(conn, read)
        new = sorted(key for key, rate in read.rates.items() if held.get(key) != rate)
        changed = sum(1 for key in new if key in held)
        if not new:
            return _said(read, None, 0, 0)
        days = sorted({day for _, _, day in new})
        added = len(new) - changed
        stored = fx_imports.insert().values(
            source=path.name, sha256=_sha256(path), imported_at=now, imported_by=user,
            rates=len(read.rates), added=added, changed=changed, first_day=days[0].isoformat(),
            last_day=days[-1].isoformat(),
        )  # fmt: skip
        number = int(conn.execute(stored.returning(fx_imports.c.id)).scalar_one())
        rows = [(number, position, b, c, d.isoformat(), str(read.rates[(b, c, d)]))
                for position, (b, c, d) in enumerate(new)]  # fmt: skip
        store.bulk_insert(conn, fx_rates, rows)
        from pricing.storage import audit_subjects

        audit_subjects.remember(conn, fx_rates.name, number, rows)
        audit.record(conn, by=user, action="fx.imported", subjects=[audit.subject("fx", number)],
                     note=f"{path.name}: {len(new) - changed:,} rates added, {changed:,} changed",
                     at=now)  # fmt: skip
    return _said(read, number, len(new) - changed, changed)


def _said(read: RatesFile, number: int | None, added: int, changed: int) -> Imported:
    keys = list(read.rates)
    days = sorted({day for _, _, day in keys})
    return Imported(
        id=number, file=read.file, shape=read.shape, rates=len(keys), added=added,
        changed=changed, unchanged=len(keys) - added - changed if read.ok else 0,
        currencies=sorted({c for _, c, _ in keys}), bases=sorted({b for b, _, _ in keys}),
        first_day=days[0] if days else None, last_day=days[-1] if days else None,
        problems=read.problems,
    )  # fmt: skip


def _held(conn: Connection, read: RatesFile) -> dict[tuple[str, str, date], Decimal]:
    """The rates stored now (the newest import's) of the file's bases and currencies over its
    days."""
    pairs = {(b, c) for b, c, _ in read.rates}
    days = [d for _, _, d in read.rates]
    first, last = min(days).isoformat(), max(days).isoformat()
    t = fx_rates
    newest = (
        select(t.c.base, t.c.currency, t.c.day, func.max(t.c.import_id).label("import_id"))
        .where(t.c.day >= first, t.c.day <= last)
        .group_by(t.c.base, t.c.currency, t.c.day)
        .subquery()
    )
    query = select(t.c.base, t.c.currency, t.c.day, t.c.rate).join(
        newest,
        (t.c.base == newest.c.base) & (t.c.currency == newest.c.currency)
        & (t.c.day == newest.c.day) & (t.c.import_id == newest.c.import_id),
    )  # fmt: skip
    held: dict[tuple[str, str, date], Decimal] = {}
    for b, c, d, rate in conn.execute(query):
        if (b, c) in pairs:
            held[(b, c, date.fromisoformat(d))] = Decimal(rate)
    return held


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def rate_on(
    db: Store, currency: str, quote: str, on: date, *, max_age: int = MAX_AGE_DAYS
) -> RateOn:
    """One unit of ``currency`` in ``quote`` on ``on`` (NotFoundError, exit 2, when no rate
    was published on or before it, naming the currency and the day)."""
    currency, quote = currency.strip().upper(), quote.strip().upper()
    for field, code in (("currency", currency), ("in", quote)):
        if not is_currency_code(code):
            raise InputError(f" {code[:20]!r}: a currency code, three letters (USD)", field=field)
    if currency == quote:
        return RateOn(currency, quote, on, Decimal(1), on, "same currency", (), max_age)
    with db.read() as conn:
        direct = _published(conn, quote_base=currency, currency=quote, on=on)
        if direct is not None:
            day, rate, number = direct
            return RateOn(currency, quote, on, rate, day, "direct", (number,), max_age)
        inverse = _published(conn, quote_base=quote, currency=currency, on=on)
        if inverse is not None:
            day, rate, number = inverse
            return RateOn(currency, quote, on, _exact(Decimal(1) / rate), day,
                          f"inverted (1 {quote} = {rate} {currency})", (number,), max_age)  # fmt: skip
        for base in _bases(conn):
            mine = _published(conn, quote_base=base, currency=currency, on=on)
            theirs = _published(conn, quote_base=base, currency=quote, on=on)
            if mine is not None and theirs is not None:
                day = min(mine[0], theirs[0])
                return RateOn(currency, quote, on, _exact(theirs[1] / mine[1]), day,
                              f"via {base} (1 {base} = {mine[1]} {currency} = {theirs[1]} "
                              f"{quote})", tuple(sorted({mine[2], theirs[2]})), max_age)  # fmt: skip
    known = "" if _any(db) else "; no rates are stored: `pricing fx import FILE` first"
    raise NotFoundError(
        f"no exchange rate of {currency} in {quote} on or before {on.isoformat()}{known}"
    )


def _published(
    conn: Connection, *, quote_base: str, currency: str, on: date
) -> tuple[date, Decimal, int] | None:
    """The last rate of ``currency`` against ``quote_base`` published on or before ``on``
    (the newest import's): its day, its rate and its import."""
    t = fx_rates
    row = conn.execute(
        select(t.c.day, t.c.rate, t.c.import_id)
        .where(t.c.base == quote_base, t.c.currency == currency, t.c.day <= on.isoformat())
        .order_by(t.c.day.desc(), t.c.import_id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return date.fromisoformat(row.day), Decimal(row.rate), int(row.import_id)


def home_currency(db: Store) -> str:
    """The currency rates are shown in unless asked: the newest policy's, else the base the
    rates stored are quoted against (EUR for the ECB's), else EUR."""
    import json

    from pricing.storage import queries

    with db.read() as conn:
        body = queries.latest_policy_body(conn)
        try:
            currency = json.loads(body).get("currency") if body else None
        except (ValueError, AttributeError):
            currency = None
        if isinstance(currency, str) and is_currency_code(currency):
            return currency
        bases = _bases(conn)
    return bases[0] if bases else "EUR"


def _bases(conn: Connection) -> list[str]:
    return sorted(conn.execute(select(fx_rates.c.base).distinct()).scalars())


def _any(db: Store) -> bool:
    with db.read() as conn:
        return conn.execute(select(fx_imports.c.id).limit(1)).first() is not None


def _exact(value: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 40
        return value.quantize(Decimal(1).scaleb(-PLACES), rounding=ROUND_HALF_EVEN)
