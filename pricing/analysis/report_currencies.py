"""The report's currencies: which ones the period's lines are in, the report of one currency's
lines at a time, and every line converted to one currency at its own date's rate (``--currency``).

It stands apart from the figures because it alone reads exchange rates
(:func:`pricing.fx.rates.rates_on`) and decides how exactly a rate is held: the figures query
sees only a ``rate`` column on the lines, and a view of the lines of one currency.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from pricing.analysis.report_figures import Metrics, money
from pricing.errors import InputError
from pricing.storage import deal_tables
from pricing.storage.store import Store

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


@dataclass
class RatesUsed:
    """The rates one currency's lines were converted at: how many lines, their first and last
    dates, the lowest and highest rate, and how each was had (direct, inverted, via a base)."""

    currency: str
    lines: int
    first: date
    last: date
    lowest: Decimal
    highest: Decimal
    how: list[str]
    net_revenue: Decimal = Decimal(0)  # their sales' net revenue, converted
    oldest_days: int = 0  # the age of the oldest rate used (days before its line's date)
    stale_lines: int = 0  # lines converted at a rate older than the policy's fx_max_age_days
    max_age: int = 0  # that bound


@dataclass
class Conversion:
    """A report whose every line was converted to ``to``: the rates used per currency, how
    many lines were converted and their share of the net revenue."""

    to: str
    rates: list[RatesUsed]
    lines: int = 0  # converted (in another currency than ``to``)
    net_revenue_share: Decimal | None = None  # of the sales' net revenue, in percent

    def said(self, totals: Metrics) -> Conversion:
        self.lines = sum(used.lines for used in self.rates)
        converted = sum((used.net_revenue for used in self.rates), Decimal(0))
        if totals.net_revenue:
            self.net_revenue_share = converted / totals.net_revenue * 100
        return self


@contextmanager
def summable(convert_to: str | None) -> Iterator[None]:
    """Converted sums (DECIMAL of 18 places: less than 10^14 units of ``convert_to``) that
    would overflow are an error saying so, never a traceback."""
    import duckdb

    try:
        yield
    except duckdb.OutOfRangeException:
        if convert_to is None:
            raise
        raise InputError(
            f" {convert_to}: the period's money converted to {convert_to} is too large to sum "
            "exactly (100,000,000,000,000 or more); report a shorter period, or in a currency "
            "of larger units",
            field="currency",
        ) from None


def convert(
    db: Store, con: duckdb.DuckDBPyConnection, lines: pa.Table, to: str, main: str
) -> Conversion:
    """Make ``lines`` (and the judged view over it) carry each line's ``rate`` to ``to``: one
    for a line already in it, else its currency's on its date (read once per currency and
    day). The rates used, per currency, with their sales' net revenue converted."""
    import pyarrow as pa

    from pricing.fx.rates import rates_on

    if not re.fullmatch(r"[A-Z]{3}", main):
        raise ValueError(f"not a currency code: {main!r}")  # (never in SQL unchecked)
    pairs = con.execute(
        f"SELECT coalesce(item_currency, '{main}') AS c, CAST(date AS DATE) AS d, count(*), "
        "sum(net_amount) FILTER (WHERE edition_id IS NOT NULL AND qty >= 0) "
        "FROM lines GROUP BY ALL ORDER BY 1, 2"
    ).fetchall()
    days: dict[str, list[tuple[date, int, int]]] = {}
    for code, day, count, net in pairs:
        days.setdefault(str(code), []).append((day, int(count), int(net or 0)))
    codes, dates, rates = [], [], []
    used: list[RatesUsed] = []
    for code, found in days.items():
        had = rates_on(db, code, to, [day for day, _, _ in found])
        for day, _, _ in found:
            codes.append(code)
            dates.append(day)
            rates.append(_exactly(had[day].rate, code, to, day))
        if code != to:
            values = [had[day].rate for day, _, _ in found]
            net = sum((money(n) * had[day].rate for day, _, n in found), Decimal(0))
            used.append(RatesUsed(
                code, sum(n for _, n, _ in found), found[0][0], found[-1][0], min(values),
                max(values), sorted({had[day].how.split(" (")[0] for day, _, _ in found}), net,
                max(had[day].age_days for day, _, _ in found),
                sum(n for day, n, _ in found if had[day].stale), had[found[0][0]].max_age,
            ))  # fmt: skip
    table = pa.table({
        "c": pa.array(codes, pa.string()),
        "d": pa.array(dates, pa.date32()),
        "rate": pa.array(rates, pa.decimal128(38, 18)),
    })  # fmt: skip
    con.unregister("lines")
    con.register("every_line", lines)
    con.register("rates", table)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW lines AS SELECT l.*, r.rate FROM every_line l "
        f"JOIN rates r ON r.c = coalesce(l.item_currency, '{main}') AND r.d = CAST(l.date AS DATE)"
    )
    return Conversion(to, used)


RATE_PLACES = Decimal("1e-18")  # a rate of ten significant digits, down to 0.00000001, exactly


def _exactly(rate: Decimal, code: str, to: str, day: date) -> Decimal:
    """``rate`` as the report's sums hold it (18 places); a rate so small it would lose more
    than a billionth of itself there is refused, never summed as a rounded one (or as 0)."""
    with localcontext() as ctx:
        ctx.prec = 60
        held = rate.quantize(RATE_PLACES)
        if not held or abs(held - rate) > rate / 1_000_000_000:
            raise InputError(
                f" {to}: one {code} is {rate} {to} on {day.isoformat()}, too small a rate to "
                f"convert exactly; report in a currency worth less than {code}, or without "
                "--currency",
                field="currency",
            )
    return held


def only(con: duckdb.DuckDBPyConnection, code: str, main: str) -> None:
    """Every query of the report from here on reads the lines of the currency ``code`` (a
    line of no currency, unmatched, counts in ``main``'s): ``lines`` (and the judged view over
    it) made a view of them."""
    if not re.fullmatch(r"[A-Z]{3}", code) or not re.fullmatch(r"[A-Z]{3}", main):
        raise ValueError(f"not a currency code: {code!r}, {main!r}")  # (never in SQL unchecked)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW lines AS SELECT * FROM every_line "
        f"WHERE coalesce(item_currency, '{main}') = '{code}'"
    )


def item_currencies(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The currencies of the items the period's lines were matched to (sales, returns and
    stock adjustments alike: a refund in euros is never added to dollars either)."""
    found = con.execute(
        "SELECT DISTINCT item_currency FROM lines WHERE item_currency IS NOT NULL ORDER BY 1"
    ).fetchall()
    return [str(code) for (code,) in found]


def main_currency(conn: Connection) -> str:
    return deal_tables.main_currency(conn) or "USD"
