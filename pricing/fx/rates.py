"""Exchange rates stored and found: an import keeps what a file adds or changes, audited; the
rate of a currency in another on a day is the last published on or before it.

Rates are found in the direction the file gave them (1 EUR = 1.1172 USD) or the other way
(1 USD = 1 / 1.1172 EUR), or derived through a base both currencies are quoted against (GBP in
USD through EUR: 1.1172 / 0.8338), each said as such. A derived or inverted rate is computed to
:data:`DIGITS` significant digits, half-even, once.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.engine import Connection

from pricing.errors import InputError, NotFoundError
from pricing.fx.file import RatesFile, read_rates
from pricing.money import is_currency_code
from pricing.policy.model import FX_MAX_AGE_DAYS
from pricing.problems import Problems
from pricing.storage import audit, store
from pricing.storage.fx_tables import fx_imports, fx_series
from pricing.storage.store import Store

DIGITS = 10  # significant digits of a rate inverted or derived through a base


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
        held = _held(conn, {(b, c) for b, c, _ in read.rates})
        # What to store, per base and currency: the rates not stored yet, or stored otherwise.
        series: dict[tuple[str, str], dict[str, str]] = {}
        added = changed = 0
        for (b, c, d), rate in read.rates.items():
            was = held.get((b, c), {}).get(d) if held else None
            if was is not None and was == rate:
                continue
            series.setdefault((b, c), {})[d] = str(rate)
            added, changed = (added + 1, changed) if was is None else (added, changed + 1)
        if not series:
            return _said(read, None, 0, 0)
        first = min(min(days) for days in series.values())
        last = max(max(days) for days in series.values())
        stored = fx_imports.insert().values(
            source=path.name, sha256=_sha256(path), imported_at=now, imported_by=user,
            rates=len(read.rates), added=added, changed=changed, first_day=first, last_day=last,
        )  # fmt: skip
        number = int(conn.execute(stored.returning(fx_imports.c.id)).scalar_one())
        rows = []
        for position, ((b, c), days) in enumerate(series.items()):
            ordered = dict(sorted(days.items()))
            rows.append((number, b, c, position, min(ordered), max(ordered), len(ordered),
                         json.dumps(ordered, separators=(",", ":"))))  # fmt: skip
        store.bulk_insert(conn, fx_series, rows)
        from pricing.storage import audit_subjects

        audit_subjects.remember(conn, fx_series.name, number, rows)
        audit.record(conn, by=user, action="fx.imported", subjects=[audit.subject("fx", number)],
                     note=f"{path.name}: {added:,} rates added, {changed:,} changed",
                     at=now)  # fmt: skip
    return _said(read, number, added, changed)


def _said(read: RatesFile, number: int | None, added: int, changed: int) -> Imported:
    keys = list(read.rates)
    days = [day for _, _, day in keys]
    return Imported(
        id=number, file=read.file, shape=read.shape, rates=len(keys), added=added,
        changed=changed, unchanged=len(keys) - added - changed if read.ok else 0,
        currencies=sorted({c for _, c, _ in keys}), bases=sorted({b for b, _, _ in keys}),
        first_day=date.fromisoformat(min(days)) if days else None,
        last_day=date.fromisoformat(max(days)) if days else None,
        problems=read.problems,
    )  # fmt: skip


def _held(
    conn: Connection, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], dict[str, Decimal]]:
    """The rates stored now of these (base, currency) pairs, day by day (the newest import's)."""
    if not _any_rows(conn):
        return {}
    held = {pair: _Published.of(conn, *pair) for pair in pairs}
    return {
        pair: {day.isoformat(): rate for day, (rate, _) in zip(p.days, p.rates, strict=True)}
        for pair, p in held.items()
    }


def _any_rows(conn: Connection) -> bool:
    return conn.execute(_recorded(select(fx_series.c.import_id)).limit(1)).first() is not None


def _recorded(query: Select[Any]) -> Select[Any]:
    """Only the series of an import that is stored: a row written by hand under no import
    (the audit digests each import's rows: one under none would be nobody's) is not read."""
    return query.join(fx_imports, fx_imports.c.id == fx_series.c.import_id)


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def rate_on(
    db: Store, currency: str, quote: str, on: date, *, max_age: int | None = None
) -> RateOn:
    """One unit of ``currency`` in ``quote`` on ``on`` (NotFoundError, exit 2, when no rate
    was published on or before it, naming the currency and the day); old when published more
    than ``max_age`` days before (default: the policy's ``fx_max_age_days``, else 7)."""
    return rates_on(db, currency, quote, [on], max_age=max_age)[on]


def rates_on(
    db: Store, currency: str, quote: str, days: Iterable[date], *, max_age: int | None = None
) -> dict[date, RateOn]:
    """:func:`rate_on` for each of ``days`` (a report's lines: each series read once); the
    first day without a rate is a NotFoundError naming it. ``max_age``: the policy's of the
    last day, unless given."""
    currency, quote = currency.strip().upper(), quote.strip().upper()
    for field, code in (("currency", currency), ("in", quote)):
        if not is_currency_code(code):
            raise InputError(f" {code[:20]!r}: a currency code, three letters (USD)", field=field)
    asked = sorted(set(days))
    if not asked:
        return {}
    if max_age is None:
        max_age = _policy_max_age(db, asked[-1])
    if currency == quote:
        return {
            on: RateOn(currency, quote, on, Decimal(1), on, "same currency", (), max_age)
            for on in asked
        }
    with db.read() as conn:
        direct = _Published.of(conn, currency, quote)
        inverse = _Published.of(conn, quote, currency)
        vias = [
            (base, _Published.of(conn, base, currency), _Published.of(conn, base, quote))
            for base in _bases(conn)
            if base not in (currency, quote)
        ]
    found: dict[date, RateOn] = {}
    for on in asked:
        # Every way to the rate, the most recently published first (a newer rate the other
        # way round beats an older direct one); on the same day: direct, inverted, via a base.
        ways: list[tuple[date, int, RateOn]] = []
        if (got := direct.on(on)) is not None:
            day, rate, number = got
            ways.append((day, 3, RateOn(currency, quote, on, rate, day, "direct", (number,),
                                        max_age)))  # fmt: skip
        if (got := inverse.on(on)) is not None:
            day, rate, number = got
            ways.append((day, 2, RateOn(currency, quote, on, _exact(Decimal(1), rate), day,
                                        f"inverted (1 {quote} = {rate} {currency})",
                                        (number,), max_age)))  # fmt: skip
        for base, mine_of, theirs_of in vias:
            mine, theirs = mine_of.on(on), theirs_of.on(on)
            if mine is not None and theirs is not None:
                day = min(mine[0], theirs[0])  # the older of the two is how old it is
                ways.append((day, 1, RateOn(
                    currency, quote, on, _exact(theirs[1], mine[1]), day,
                    f"via {base} (1 {base} = {mine[1]} {currency} = {theirs[1]} {quote}"
                    + (f", published {mine[0]} and {theirs[0]}" if mine[0] != theirs[0] else "")
                    + ")", tuple(sorted({mine[2], theirs[2]})), max_age)))  # fmt: skip
        if not ways:
            raise NotFoundError(
                f"no exchange rate of {currency} in {quote} on or before {on.isoformat()}"
                + _what_is_stored(db, currency, quote, direct, inverse, vias)
            )
        found[on] = max(ways, key=lambda way: (way[0], way[1]))[2]
    return found


def _what_is_stored(
    db: Store,
    currency: str,
    quote: str,
    direct: _Published,
    inverse: _Published,
    vias: list[tuple[str, _Published, _Published]],
) -> str:
    """What to say after a missing rate: none stored at all, none for this pair by any way
    (naming the currency no rate reaches), or from when this pair's rates are."""
    if not _any(db):
        return "; no rates are stored: `pricing fx import FILE` first"
    begins = [way.days[0] for way in (direct, inverse) if way.days] + [
        max(mine.days[0], theirs.days[0]) for _, mine, theirs in vias if mine.days and theirs.days
    ]
    if begins:
        return (
            f" (this pair's rates begin {min(begins).isoformat()}): import older rates with "
            "`pricing fx import FILE`, or ask for a later day"
        )
    # (no way at all: the currency no stored rate names, else the first one)
    missing = next((code for code in (currency, quote) if not _named(db, code)), None)
    through = ", ".join(base for base, _, _ in vias) or "another currency"
    said = (
        f"no rate of {missing} is stored" if missing is not None
        else f"no stored rate links {currency} and {quote}"
    )  # fmt: skip
    return (
        f"; {said}, directly or through {through}: import a rates file that has it "
        "(`pricing fx import FILE`)"
    )


@dataclass(frozen=True)
class _Published:
    """Every rate of ``currency`` against ``base`` stored, by day (the newest import's where
    several hold a day), to answer "the last one published on or before" a day by bisection."""

    days: list[date]
    rates: list[tuple[Decimal, int]]  # each day's rate and its import

    @classmethod
    def of(cls, conn: Connection, base: str, currency: str) -> _Published:
        t = fx_series
        merged: dict[str, tuple[str, int]] = {}
        rows = conn.execute(
            _recorded(select(t.c.import_id, t.c.rates))
            .where(t.c.base == base, t.c.currency == currency)
            .order_by(t.c.import_id)
        )
        for number, text in rows:
            merged.update((day, (rate, int(number))) for day, rate in json.loads(text).items())
        ordered = sorted(merged)
        return cls(
            [date.fromisoformat(day) for day in ordered],
            [(Decimal(merged[day][0]), merged[day][1]) for day in ordered],
        )

    def on(self, asked: date) -> tuple[date, Decimal, int] | None:
        """The last rate published on or before ``asked``: its day, rate and import."""
        at = bisect.bisect_right(self.days, asked)
        if not at:
            return None
        rate, number = self.rates[at - 1]
        return self.days[at - 1], rate, number


def _bases(conn: Connection) -> list[str]:
    return sorted(conn.execute(_recorded(select(fx_series.c.base)).distinct()).scalars())


def _named(db: Store, code: str) -> bool:
    """Whether any stored rate names ``code`` (as its currency or the base it is against)."""
    t = fx_series
    with db.read() as conn:
        query = _recorded(select(t.c.import_id)).where((t.c.base == code) | (t.c.currency == code))
        return conn.execute(query.limit(1)).first() is not None


def _any(db: Store) -> bool:
    with db.read() as conn:
        return _any_rows(conn)


def _policy_max_age(db: Store, on: date) -> int:
    """The policy's bound on a rate's age on ``on`` (the default without a policy then)."""
    from pricing.policy import versions
    from pricing.storage import queries

    with db.read() as conn:
        if queries.policy_row_in_force(conn, on) is None:
            return FX_MAX_AGE_DAYS
        return versions.in_force(conn, on).policy.fx_max_age


def home_currency(db: Store) -> str:
    """The currency rates are shown in unless asked: the newest policy's, else the base the
    rates stored are quoted against (EUR for the ECB's), else EUR."""
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


def _exact(dividend: Decimal, divisor: Decimal) -> Decimal:
    """``dividend / divisor`` to :data:`DIGITS` significant digits, half-even, once."""
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = DIGITS, ROUND_HALF_EVEN
        return dividend / divisor
