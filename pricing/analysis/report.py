"""The drift report: how far the deals actually closed are from the prices marketing set.

The period's lines are read from their columnar segments (:mod:`pricing.lines.segments`) and
aggregated by DuckDB in one pass, over millionths summed as 128-bit integers (exact, never
overflowing); only the totals and groups come back, rounded once at the edge. Price bands need
each line's realized discount and are computed only for the file outputs that show them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from pricing.errors import InputError
from pricing.keys import customer_key, request_code, sku_key
from pricing.lines import segments
from pricing.lines.inmemory import duck
from pricing.money import MICRO
from pricing.storage import deal_tables
from pricing.storage.store import Store

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

GROUPS = ("rep", "family", "sku", "customer", "month", "currency")
NONE = "(none)"


# The figures of a report's row, in the order files show them (JSON keys, csv columns, sheet
# rows): the first ones since the first report, then those added since (only ever appended).
METRIC_KEYS = (
    "lines", "deals", "quantity", "list_revenue", "standard_revenue", "net_revenue", "leakage",
    "standard_discount", "special_discount", "realization_pct", "out_of_policy_lines",
    "out_of_policy_amount", "unmatched_lines",
)  # fmt: skip
EXTRA_KEYS = (
    "weighted_discount_pct", "in_policy_special_discount", "below_approved_lines", "cost",
    "margin_pct", "unjudged_lines", "unjudged_net_revenue", "unjudged_special_discount",
    "sales_lines", "gross_discount", "above_standard_lines", "above_standard_amount",
    "above_standard_flagged_lines", "returns_lines", "returns_amount", "returns_at_list",
    "net_after_returns", "returns_above_list_lines", "stock_adjustment_lines",
    "unmatched_net_revenue", "contract_lines", "contract_discount",
)  # fmt: skip
SORT_DEFAULT = "gross_discount"  # rankings: the money given away first
# Figures below zero by design (money refunded): a ranking by one of them puts the most money
# first, that is the lowest (the largest refund), never the groups without returns.
NEGATIVE_KEYS = ("returns_amount", "returns_at_list")


@dataclass
class Metrics:
    """One row of the report: sums in exact decimals, ratios in percent (None: no base).

    Each line falls in exactly one part: a *sale* (quantity 0 or more, with a list price on its
    date), a *return* (quantity below 0, with a list price, not at price 0), *unmatched* (no
    list price on its date, sale or return) or a *stock adjustment* (quantity below 0 at price
    0). The drift figures (list, standard and net revenue, the discounts, above standard,
    realization, out of policy, not judged, margin) are over the sales; returns have their own."""

    lines: int = 0  # every line: sales + returns + unmatched + stock adjustments
    deals: int = 0  # deals with at least one line sold (quantity 0 or more, priced or not)
    quantity: Decimal = Decimal(0)
    list_revenue: Decimal = Decimal(0)
    standard_revenue: Decimal = Decimal(0)
    net_revenue: Decimal = Decimal(0)
    cost: Decimal | None = None
    net_with_cost: Decimal = Decimal(0)
    special_discount: Decimal = Decimal(0)  # standard - net of the sales below their standard
    out_of_policy_lines: int = 0
    out_of_policy_amount: Decimal = Decimal(0)  # their special discount
    unmatched_lines: int = 0
    unmatched_net_revenue: Decimal = Decimal(0)
    unjudged_lines: int = 0  # matched sales with no policy in force on their dates
    unjudged_net_revenue: Decimal = Decimal(0)
    unjudged_special_discount: Decimal = Decimal(0)  # their special discount: nobody judged it
    below_approved_lines: int = 0
    sales_lines: int = 0
    above_standard_lines: int = 0
    above_standard_amount: Decimal = Decimal(0)  # net - standard of the sales above standard
    above_standard_flagged_lines: int = 0  # above the flag's multiple of standard
    returns_lines: int = 0
    returns_amount: Decimal = Decimal(0)  # money refunded: negative
    returns_at_list: Decimal = Decimal(0)  # their list revenue: negative
    returns_above_list_lines: int = 0  # refunded more than their list price gives
    stock_adjustment_lines: int = 0
    contract_lines: int = 0  # sales at or above a contracted price, in its period, judged
    contract_discount: Decimal = Decimal(0)  # their special discount: given by contracts
    first: date | None = None
    last: date | None = None
    deal_starts: int = 0  # deals whose first line falls here: they add up across groups

    @property
    def leakage(self) -> Decimal:
        return self.list_revenue - self.net_revenue

    @property
    def standard_discount(self) -> Decimal:
        return self.list_revenue - self.standard_revenue

    @property
    def gross_discount(self) -> Decimal:
        """The money given away: standard discount + special discount, never lowered by the
        sales above standard (leakage is this less the above-standard amount)."""
        return self.standard_discount + self.special_discount

    @property
    def in_policy_special_discount(self) -> Decimal:
        """The special discount within policy or approved: neither out of policy nor on lines
        no policy judged."""
        return self.special_discount - self.out_of_policy_amount - self.unjudged_special_discount

    @property
    def net_after_returns(self) -> Decimal:
        return self.net_revenue + self.returns_amount

    @property
    def realization_pct(self) -> Decimal | None:
        return self.net_revenue / self.list_revenue * 100 if self.list_revenue else None

    @property
    def weighted_discount_pct(self) -> Decimal | None:
        realization = self.realization_pct
        return None if realization is None else 100 - realization

    @property
    def margin_pct(self) -> Decimal | None:
        if self.cost is None or not self.net_with_cost:
            return None
        return (self.net_with_cost - self.cost) / self.net_with_cost * 100


@dataclass
class Band:
    key: str
    lines: int
    percentiles: dict[str, Decimal]  # min, p10, p25, median, p75, p90, max of realized discount %


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


@dataclass
class CurrencySection:
    """The totals and groups of the sales in one currency (a report over several has one
    each: their money is never added together)."""

    currency: str
    totals: Metrics
    groups: list[tuple[dict[str, str], Metrics]]


@dataclass
class Report:
    """The drift report of a period: totals, one row per group of the breakdown asked for, and
    (with details) months, price bands, out-of-policy and unmatched lines."""

    start: date | None
    end: date | None
    currency: str
    by: list[str]
    totals: Metrics
    groups: list[tuple[dict[str, str], Metrics]]
    months: list[tuple[str, Metrics]] = field(default_factory=list)
    currencies: list[str] = field(default_factory=list)  # of the sales' items, in the period
    conversion: Conversion | None = None  # every line converted to ``currency`` (--currency)
    # With several currencies, each other currency's sales as a report of their own (their
    # details too, for the files' sections per currency); their totals and groups are also
    # ``sections``' after the first.
    others: list[Report] = field(default_factory=list)
    bands: list[Band] = field(default_factory=list)
    band_basis: str = "family"
    out_of_policy: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    distribution: list[tuple[str, int]] = field(default_factory=list)
    flagged: list[dict[str, Any]] = field(default_factory=list)  # prices or quantities to check
    stock_adjustments: list[dict[str, Any]] = field(default_factory=list)
    sort: str = SORT_DEFAULT  # the figure the groups are ranked by (see ranking_order)
    flag: Decimal = Decimal(3)  # a sale above this multiple of its standard price is flagged
    details: bool = False

    @property
    def sections(self) -> list[CurrencySection]:
        """With several currencies, each one's totals and groups, the report's own first
        (empty with one currency)."""
        if not self.others:
            return []
        return [CurrencySection(p.currency, p.totals, p.groups) for p in [self, *self.others]]

    @property
    def deals_overlap(self) -> bool:
        """Whether the groups' deal counts add up to more than the total: a deal with lines in
        several groups (two reps, two months) counts in each."""
        return sum(m.deals for _, m in self.groups) > self.totals.deals

    @property
    def months_overlap(self) -> bool:
        """The same for the months: a deal whose lines span months counts in each."""
        return sum(m.deals for _, m in self.months) > self.totals.deals


@dataclass(frozen=True)
class Unjudged:
    """The stored lines matched to a list price but with no policy in force on their dates."""

    lines: int
    net_revenue: Decimal
    currency: str
    first: date | None
    last: date | None


def unjudged(db: Store) -> Unjudged:
    """How many stored sales no policy judged (matched, quantity 0 or more, no policy version on
    their date), their net revenue and their first and last dates."""
    import pyarrow as pa
    import pyarrow.compute as pc

    with db.read() as conn:
        currency = _currency(conn)
        lines = segments.scan(conn, ["date", "qty", "edition_id", "policy_version", "net_amount"])
    found = lines.filter(  # sales only: returns and stock adjustments are never judged
        pc.and_(
            pc.and_(pc.is_valid(lines["edition_id"]), pc.is_null(lines["policy_version"])),
            pc.greater_equal(lines["qty"], pa.scalar(0, pa.int64())),
        )
    )
    if not found.num_rows:
        return Unjudged(0, Decimal(0), currency, None, None)
    first, last = segments.date_bounds(found["date"])
    net = pc.sum(found["net_amount"].cast(pa.decimal128(38, 0))).as_py()  # exact
    return Unjudged(found.num_rows, _money(net), currency, first, last)


def parse_by(text: str | None) -> list[str]:
    """The breakdown keys of ``rep,family``-style text, each one of :data:`GROUPS`."""
    if not text:
        return []
    by = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [b for b in by if b not in GROUPS]
    if unknown:
        raise InputError(
            f" {text!r}: {', '.join(unknown)} is not one of {', '.join(GROUPS)}",
            field="by",
        )
    return by


# The stored columns (pricing.lines.schema) each part of the report reads (a million lines:
# only what is needed is decoded).
TOTALS = (
    "date", "deal_no", "deal_first", "qty", "list_revenue", "standard_revenue", "net_amount",
    "cost_amount", "edition_id", "level_rank", "below_floor", "policy_version", "item_currency",
)  # fmt: skip
COVER = ("request_id", "sku_key", "customer")  # read only when some approval may cover a line
DETAILS = (
    "customer", "rep", "sku", "family", "list_price", "standard_price", "level", "hard_floor", "seq",
    "deal_id",
)  # fmt: skip
KEYS = {"rep": "rep", "customer": "customer", "family": "family", "sku": "sku", "month": "date",
        "currency": "item_currency"}  # fmt: skip


def build(
    db: Store,
    *,
    start: date | None = None,
    end: date | None = None,
    by: list[str] | None = None,
    details: bool = False,
    sort: str | None = None,
    flag: Decimal | None = None,
    convert_to: str | None = None,
) -> Report:
    """Totals and groups for the period, the groups ranked by ``sort`` (a key of
    :data:`METRIC_KEYS` or :data:`EXTRA_KEYS`, largest first, refunds the most refunded first;
    default the money given away);
    with ``details`` also months, bands and line lists. A sale above ``flag`` times its
    standard price (default ``PRICING_ABOVE_STANDARD_FLAG``, 3) is counted and listed.
    ``convert_to`` (a currency): every line's money in it, at its own date's exchange rate
    (:func:`pricing.fx.rates.rates_on`; a line of no currency is in the report's own); a day
    without a rate is a NotFoundError naming it and the currency. Over several currencies
    (unconverted), the report is its main currency's (the book's, else the first), each
    other's a report of its own (``others``), none adding another's money."""
    from pricing.config import above_standard_flag

    by = by or []
    sort = parse_sort(sort)
    flag = above_standard_flag() if flag is None else flag
    columns = list(dict.fromkeys([*TOTALS, *(DETAILS if details else (KEYS[name] for name in by))]))
    with db.read() as conn:
        currency = _currency(conn)
        cover = _cover(conn)
        if cover is not None or details:
            columns += COVER
        lines = segments.scan(conn, columns, start=start, end=end)
    con = duck(lines=lines, **({"cover": cover} if cover is not None else {}))
    con.execute(_judged(cover is not None))
    currencies = _currencies(con)
    if len(currencies) == 1 or (currencies and currency not in currencies):
        currency = currencies[0]  # (the lines' own, whatever most of the book is in)
    conversion = None
    if convert_to is not None:  # every line in one currency: none apart
        conversion = _convert(db, con, lines, convert_to, currency)
        currency, currencies = convert_to, [convert_to]
    codes = [currency, *(c for c in currencies if c != currency)]
    if len(codes) > 1:  # each currency apart, the report's own the main one's
        con.unregister("lines")
        con.register("every_line", lines)
    whole = start is None and end is None and len(codes) == 1
    rated = conversion is not None
    made: list[Report] = []
    with _summable(convert_to):
        for code in codes:
            if len(codes) > 1:
                _only(con, code, currency)
            totals, groups = _metrics(con, by, flag, whole=whole, rated=rated)
            part = Report(start, end, code, by, totals, groups, sort=sort, flag=flag)
            part.details = details
            if details:
                _details(con, part, rated=rated)
            part.groups.sort(key=lambda kv: _rank(kv[1], sort))
            made.append(part)
    con.close()
    report, others = made[0], made[1:]
    firsts = [p.totals.first for p in made if p.totals.first]
    lasts = [p.totals.last for p in made if p.totals.last]
    for part in made:  # (the period of every currency's lines)
        part.start, part.end = start or min(firsts, default=None), end or max(lasts, default=None)
    report.currencies, report.others = currencies, others
    if conversion is not None:
        report.conversion = conversion.said(report.totals)
    return report


@contextmanager
def _summable(convert_to: str | None) -> Iterator[None]:
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


def _details(con: duckdb.DuckDBPyConnection, report: Report, *, rated: bool) -> None:
    """What the files show besides the totals and groups, of the lines ``lines`` holds now:
    months, price bands, and the lines out of policy, unmatched, to check and adjusted."""
    report.months = [
        (key["month"], m)
        for key, m in _metrics(con, ["month"], report.flag, totals=False, rated=rated)[1]
    ]
    report.band_basis = "sku" if "sku" in report.by else "family"
    report.bands, report.distribution = _bands(con, report.band_basis)
    report.out_of_policy = _out_of_policy(con, rated=rated)
    report.unmatched = _unmatched(con, rated=rated)
    report.flagged = _flagged(con, report.flag, rated=rated)
    report.stock_adjustments = _stock_adjustments(con)


def _convert(
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
            net = sum((_money(n) * had[day].rate for day, _, n in found), Decimal(0))
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


def _only(con: duckdb.DuckDBPyConnection, code: str, main: str) -> None:
    """Every query of the report from here on reads the lines of the currency ``code`` (a
    line of no currency, unmatched, counts in ``main``'s): ``lines`` (and the judged view over
    it) made a view of them."""
    if not re.fullmatch(r"[A-Z]{3}", code) or not re.fullmatch(r"[A-Z]{3}", main):
        raise ValueError(f"not a currency code: {code!r}, {main!r}")  # (never in SQL unchecked)
    con.execute(
        "CREATE OR REPLACE TEMP VIEW lines AS SELECT * FROM every_line "
        f"WHERE coalesce(item_currency, '{main}') = '{code}'"
    )


def _currencies(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The currencies of the items the period's lines were matched to (sales, returns and
    stock adjustments alike: a refund in euros is never added to dollars either)."""
    found = con.execute(
        "SELECT DISTINCT item_currency FROM lines WHERE item_currency IS NOT NULL ORDER BY 1"
    ).fetchall()
    return [str(code) for (code,) in found]


def parse_sort(text: str | None) -> str:
    """The figure a ranking orders by: a metric key (default :data:`SORT_DEFAULT`)."""
    if not text:
        return SORT_DEFAULT
    key = text.strip().lower()
    if key not in (*METRIC_KEYS, *EXTRA_KEYS):
        raise InputError(
            f" {text!r} is not a figure of the report; sort by one of "
            f"{', '.join(sorted((*METRIC_KEYS, *EXTRA_KEYS)))}",
            field="sort",
        )
    return key


def ranking_order(key: str) -> str:
    """How a ranking by ``key`` orders the groups, as a report says it."""
    return "the most refunded first" if key in NEGATIVE_KEYS else "largest first"


def _rank(metrics: Metrics, key: str) -> tuple[bool, Decimal]:
    """Largest first (for a figure negative by design, :data:`NEGATIVE_KEYS`, the lowest:
    the most money first); a figure without a value (a percentage of nothing) last."""
    value = getattr(metrics, key)
    if value is None:
        return (True, Decimal(0))
    return (False, Decimal(value) if key in NEGATIVE_KEYS else -Decimal(value))


# What deciding whether a line is out of policy reads of it (see _judged).
OUT_OF_POLICY = ("edition_id", "policy_version", "level_rank", "below_floor", "request_id",
                 "sku_key", "date", "qty", "net_amount", "customer")  # fmt: skip


def approved_cover(db: Store) -> pa.Table | None:
    """The approved request lines that may cover a deal line (None: none was ever approved)."""
    with db.read() as conn:
        return _cover(conn)


def out_of_policy(lines: pa.Table, cover: pa.Table | None) -> npt.NDArray[np.bool_]:
    """Which of ``lines`` (the columns of :data:`OUT_OF_POLICY`) are out of policy, exactly as
    the report counts them: below a hard floor, or needing an approval that no approved request
    covers (in its window, at or below the line's price). ``level_rank`` and ``below_floor`` may
    be a proposed policy's verdict instead of the stored one (``policy simulate``)."""
    import numpy as np
    import pyarrow as pa

    numbered = lines.select(list(OUT_OF_POLICY)).append_column(
        "rid", pa.array(np.arange(lines.num_rows, dtype=np.int64))
    )
    con = duck(lines=numbered, **({"cover": cover} if cover is not None else {}))
    con.execute(_judged(cover is not None))
    # A line joined to several approved request lines is out of policy when none covers it.
    found = con.execute(
        "SELECT rid, bool_and(oop) AS oop FROM judged GROUP BY rid ORDER BY rid"
    ).fetchnumpy()
    con.close()
    mask: npt.NDArray[np.bool_] = np.asarray(found["oop"], dtype=bool)
    return mask


def _currency(conn: Connection) -> str:
    return deal_tables.main_currency(conn) or "USD"


def _cover(conn: Connection) -> pa.Table | None:
    """Approved request lines, with the days their approval was valid, and contracted prices,
    with their customer (its name lower-cased) and period (None: nothing was ever approved, so
    nothing can cover a line and the join is skipped). A request's line covers the deal lines
    naming the request (``customer_key`` null); a contract's, the customer's."""
    import pyarrow as pa

    rows = deal_tables.approved_request_lines(conn)
    contracted = deal_tables.contracted_lines(conn)
    if not rows and not contracted:
        return None

    def day(value: object) -> date | None:
        return date.fromisoformat(str(value)[:10]) if value is not None else None

    ids = [int(row[0]) for row in rows] + [None] * len(contracted)
    customers = [None] * len(rows) + [customer_key(c.customer) for c in contracted]
    skus = [str(row[1]).casefold() for row in rows] + [sku_key(c.sku) for c in contracted]
    prices = [int(row[2] * MICRO) for row in rows] + [int(c.price * MICRO) for c in contracted]
    starts = [day(row[3]) for row in rows] + [day(c.starts) for c in contracted]
    ends = [day(row[4]) for row in rows] + [day(c.ends) for c in contracted]
    least = [0] * len(rows) + [int(c.qty) * MICRO for c in contracted]  # (quantities in micros)
    seen: dict[int, list[str]] = {}  # a policy version's levels, read once
    ranks = [None] * len(rows) + [_approved_rank(conn, c.level, c.policy_version, seen)
                                  for c in contracted]  # fmt: skip
    return pa.table(
        {
            "max_rank": pa.array(ranks, pa.int64()),
            "min_qty": pa.array(least, pa.int64()),
            "request_id": pa.array(ids, pa.int64()),
            "customer_key": pa.array(customers, pa.string()),
            "sku_key": pa.array(skus, pa.string()),
            "price": pa.array(prices, pa.int64()),
            "start": pa.array(starts, pa.date32()),
            "end": pa.array(ends, pa.date32()),
        }
    )


def _approved_rank(
    conn: Connection, level: str | None, version: int, seen: dict[int, list[str]]
) -> int:
    """The rank a contract line was approved at, among the levels of the policy it was judged
    under (0: the first level's, as the rule approves; a deal line needing more is not covered)."""
    if level is None:
        return 0
    if version not in seen:
        from pricing.policy import versions

        seen[version] = versions.get(conn, version).policy.levels
    return seen[version].index(level) if level in seen[version] else 0


def _judged(covered: bool) -> str:
    """A view of the lines with what the report asks of each: matched to a list price; its part
    (``sale``: quantity 0 or more and matched; ``ret``: a return, quantity below 0 and matched,
    not at price 0; ``adj``: a stock adjustment, quantity below 0 at price 0; ``unmatched``: no
    list price, not a stock adjustment; ``sold``: quantity 0 or more, matched or not, what makes
    a deal); not judged (a sale with no policy in force on its date); out of policy (a sale
    needing approval no approved request covers, or below a hard floor); sold below the price
    its request approved. Returns and stock adjustments are never judged.

    Each line is in the view once, however many approved request lines may cover it (a request
    may approve its SKU on two lines: a join counted the deal line twice); one covering it (its
    request and SKU, within its window, at or below the line's unit price) is enough."""
    matched = "l.edition_id IS NOT NULL"
    adj = "coalesce(l.qty < 0 AND l.net_amount = 0, false)"
    sale = f"({matched} AND l.qty >= 0)"
    parts = (
        f"{matched} AS matched, {sale} AS sale, "
        f"({matched} AND l.qty < 0 AND NOT {adj}) AS ret, {adj} AS adj, "
        f"(NOT {matched} AND NOT {adj}) AS unmatched, l.qty >= 0 AS sold, "
        f"({sale} AND l.policy_version IS NULL) AS unjudged"
    )
    needs = "(l.level_rank <> 0 AND l.level_rank IS NOT NULL)"
    if not covered:
        return (
            f"CREATE TEMP VIEW judged AS SELECT l.*, {parts}, "
            f"coalesce({sale} AND (l.below_floor = 1 OR {needs}), false) AS oop, "
            "false AS below, false AS contracted FROM lines l"
        )
    applies = (
        "(c.request_id = l.request_id OR (c.customer_key = lower(trim(l.customer)) "
        "AND l.qty >= c.min_qty AND l.level_rank BETWEEN 0 AND c.max_rank)) "
        "AND c.sku_key = l.sku_key AND l.date >= c.start "
        "AND l.date <= coalesce(c.end, DATE '9999-12-31')"
    )
    # The unit price (net / qty) at or above the approved one; a line without a quantity has
    # no unit price, so it is below nothing.
    net, approved = "CAST(l.net_amount AS HUGEINT) * 1000000", "CAST(c.price AS HUGEINT) * l.qty"
    priced_ok = f"(l.qty = 0 OR {net} >= {approved})"
    in_window = f"EXISTS (SELECT 1 FROM cover c WHERE {applies})"
    at_price = f"EXISTS (SELECT 1 FROM cover c WHERE {applies} AND {priced_ok})"
    # A judged sale not below a floor, at or above a contracted price in its period: its
    # special discount is the contract's (the report's contract leakage).
    at_contract = (
        f"EXISTS (SELECT 1 FROM cover c WHERE c.customer_key IS NOT NULL AND {applies} "
        f"AND {priced_ok})"
    )
    judged_sale = f"{sale} AND l.policy_version IS NOT NULL AND coalesce(l.below_floor, 0) <> 1"
    return (
        f"CREATE TEMP VIEW judged AS SELECT l.*, {parts}, "
        f"coalesce({sale} AND (l.below_floor = 1 OR ({needs} AND NOT {at_price})), false) AS oop, "
        f"coalesce({sale} AND {in_window} AND NOT {at_price}, false) AS below, "
        f"coalesce({judged_sale} AND {at_contract}, false) AS contracted FROM lines l"
    )


def _key_column(name: str) -> str:
    if name == "month":
        return "strftime(date, '%Y-%m')"
    return f"coalesce({KEYS[name]}, '{NONE}')"


# Each line's part of the report, as the code _metrics groups the lines by (the kind times 32,
# plus a bit for each of at a contracted price, out of policy, not judged, below its approved
# price and with a cost: 16, 8, 4, 2, 1).
_ADJUSTMENT, _UNMATCHED, _RETURN, _RETURN_ABOVE_LIST = 0, 1, 2, 3
_BELOW_STANDARD, _ABOVE_STANDARD, _FLAGGED, _AT_STANDARD = 4, 5, 6, 7  # the sales' kinds


def _metrics(
    con: duckdb.DuckDBPyConnection,
    by: list[str],
    flag: Decimal,
    *,
    whole: bool = False,
    totals: bool = True,
    rated: bool = False,
) -> tuple[Metrics, list[tuple[dict[str, str], Metrics]]]:
    """The totals and one row per group (none when ``by`` is empty); without ``totals``
    (the months of a report whose totals are known) the totals are empty, not summed.

    The lines are summed once, grouped by their keys and their part of the report (a small
    code: return, sale below or above standard, out of policy...); the figures are sums of
    those few rows per group, the totals a grouping set of them. The groups' deals (distinct
    deals with a line sold) are counted beside. The totals' deals, over the ``whole`` history
    without a line of negative quantity, are the deals' first lines (every deal has one, and
    sold something); else they are counted too."""
    over, under = flag.as_integer_ratio()  # a sale above `flag` x its standard price
    kind = (
        f"CASE WHEN adj THEN {_ADJUSTMENT} WHEN unmatched THEN {_UNMATCHED} "
        f"WHEN ret THEN (CASE WHEN net_amount < list_revenue THEN {_RETURN_ABOVE_LIST} "
        f"ELSE {_RETURN} END) "
        f"WHEN net_amount < standard_revenue THEN {_BELOW_STANDARD} "
        "WHEN net_amount > standard_revenue THEN (CASE WHEN qty > 0 AND "
        f"CAST(net_amount AS HUGEINT) * {under} > CAST(standard_revenue AS HUGEINT) * {over} "
        f"THEN {_FLAGGED} ELSE {_ABOVE_STANDARD} END) ELSE {_AT_STANDARD} END"
    )
    code = (
        f"({kind}) * 32 + CAST(contracted AS INTEGER) * 16 + CAST(oop AS INTEGER) * 8 "
        "+ CAST(unjudged AS INTEGER) * 4 + CAST(below AS INTEGER) * 2 "
        "+ CAST(cost_amount IS NOT NULL AS INTEGER)"
    )
    names = [f"k_{name}" for name in by]
    keys = "".join(f"{_key_column(name)} AS k_{name}, " for name in by)
    listed = ", ".join(names)
    k = "(code // 32)"  # the kind
    sale, below = f"{k} >= {_BELOW_STANDARD}", f"{k} = {_BELOW_STANDARD}"
    above, returned = (
        f"{k} IN ({_ABOVE_STANDARD}, {_FLAGGED})",
        f"{k} IN ({_RETURN}, {_RETURN_ABOVE_LIST})",
    )
    oop, unjudged = "(code & 8) <> 0", "(code & 4) <> 0"
    figures = (
        "sum(n) AS lines, "
        f"sum(n) FILTER (WHERE {sale}) AS sales, sum(q) FILTER (WHERE {sale}) AS qty, "
        f"sum(l) FILTER (WHERE {sale}) AS list_revenue, "
        f"sum(s) FILTER (WHERE {sale}) AS standard_revenue, sum(net) FILTER (WHERE {sale}) AS net, "
        f"sum(s - net) FILTER (WHERE {below}) AS special, "
        f"sum(n) FILTER (WHERE {above}) AS above_n, sum(net - s) FILTER (WHERE {above}) AS above, "
        f"sum(n) FILTER (WHERE {k} = {_FLAGGED}) AS flagged, "
        f"sum(c) FILTER (WHERE {sale}) AS cost, "
        f"sum(net) FILTER (WHERE {sale} AND (code & 1) <> 0) AS net_cost, "
        f"sum(n) FILTER (WHERE {oop}) AS oop_lines, "
        f"sum(s - net) FILTER (WHERE {oop} AND {below}) AS oop_amount, "
        f"sum(n) FILTER (WHERE {k} = {_UNMATCHED}) AS unmatched, "
        f"sum(net) FILTER (WHERE {k} = {_UNMATCHED}) AS unmatched_net, "
        f"sum(n) FILTER (WHERE {unjudged}) AS unjudged_n, "
        f"sum(net) FILTER (WHERE {unjudged}) AS unjudged_net, "
        f"sum(s - net) FILTER (WHERE {unjudged} AND {below}) AS unjudged_special, "
        "sum(n) FILTER (WHERE (code & 2) <> 0) AS below, "
        "sum(n) FILTER (WHERE (code & 16) <> 0) AS contract_n, "
        f"sum(s - net) FILTER (WHERE (code & 16) <> 0 AND {below}) AS contract_special, "
        f"sum(n) FILTER (WHERE {returned}) AS returns_n, "
        f"sum(net) FILTER (WHERE {returned}) AS returns, "
        f"sum(l) FILTER (WHERE {returned}) AS returns_list, "
        f"sum(n) FILTER (WHERE {k} = {_RETURN_ABOVE_LIST}) AS returns_above, "
        f"sum(n) FILTER (WHERE {k} = {_ADJUSTMENT}) AS adjustments, "
        'min("first") AS "first", max("last") AS "last", '
        "sum(firsts) AS deal_starts, sum(negatives) AS negatives"
    )
    # Converted (``rated``): each line's money at its own rate, summed exactly (a DECIMAL of
    # 18 places), rounded once when written; its part decided on its own money, as before.
    at = " * rate" if rated else ""
    parts = (
        f"SELECT {keys}{code} AS code, count(*) AS n, sum(qty) AS q, "
        f"sum(list_revenue{at}) AS l, sum(standard_revenue{at}) AS s, "
        f"sum(net_amount{at}) AS net, sum(cost_amount{at}) AS c, "
        'min(date) AS "first", max(date) AS "last", sum(deal_first) AS firsts, '
        "count(*) FILTER (WHERE qty < 0) AS negatives FROM judged GROUP BY ALL"
    )
    if not by:
        query = f"WITH parts AS ({parts}) SELECT 1 AS g, {figures} FROM parts"
    else:
        query = (  # the groups' deals from the lines alone (never the approvals' join)
            f"WITH parts AS ({parts}), "
            f"dealt AS (SELECT {keys}count(DISTINCT deal_no) AS deals FROM lines WHERE qty >= 0 "
            "GROUP BY ALL), "
            f"sums AS (SELECT {listed}, grouping({listed}) AS g, {figures} FROM parts "
            f"GROUP BY GROUPING SETS (({listed}){', ()' if totals else ''})) "
            f"SELECT sums.*, dealt.deals FROM sums LEFT JOIN dealt USING ({listed}) "
            f"ORDER BY g, {listed}"  # months in order, ties stable
        )
    summed = Metrics()
    groups: list[tuple[dict[str, str], Metrics]] = []
    for row in _rows(con, query):
        if row.g:  # the grouping set of every line
            summed = _row_metrics(row)
            if whole and not row.negatives:
                summed.deals = int(row.deal_starts or 0)
            else:  # a period may hold a deal's later lines alone; a deal may be returns only
                counted = con.execute(
                    "SELECT count(DISTINCT deal_no) FROM lines WHERE qty >= 0"
                ).fetchone()
                summed.deals = int(counted[0]) if counted else 0
        else:
            key = {name: str(getattr(row, f"k_{name}")) for name in by}
            groups.append((key, _row_metrics(row)))
    return summed, groups


class _Row:
    """A result row, its values by column name: DuckDB's int, Decimal, date, str or None."""

    def __init__(self, names: list[str], values: tuple[Any, ...]) -> None:
        self.__dict__.update(zip(names, values, strict=True))

    def __getattr__(self, name: str) -> Any:  # the columns of the query: any of those types
        raise AttributeError(name)


def _rows(con: duckdb.DuckDBPyConnection, query: str) -> list[_Row]:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [_Row(names, values) for values in cursor.fetchall()]


def _money(value: int | Decimal | None) -> Decimal:
    """Millionths (an integer; a Decimal when converted at a rate) as an amount."""
    if value is None:
        return Decimal(0)
    return (value if isinstance(value, Decimal) else Decimal(int(value))) / MICRO


def _row_metrics(row: _Row) -> Metrics:
    return Metrics(
        lines=int(row.lines or 0),
        deals=int(getattr(row, "deals", 0) or 0),
        quantity=_money(row.qty),
        list_revenue=_money(row.list_revenue),
        standard_revenue=_money(row.standard_revenue),
        net_revenue=_money(row.net),
        special_discount=_money(row.special),
        cost=_money(row.cost) if row.cost is not None else None,
        net_with_cost=_money(row.net_cost),
        out_of_policy_lines=int(row.oop_lines or 0),
        out_of_policy_amount=_money(row.oop_amount),
        unmatched_lines=int(row.unmatched or 0),
        unmatched_net_revenue=_money(row.unmatched_net),
        unjudged_lines=int(row.unjudged_n or 0),
        unjudged_net_revenue=_money(row.unjudged_net),
        unjudged_special_discount=_money(row.unjudged_special),
        below_approved_lines=int(row.below or 0),
        sales_lines=int(row.sales or 0),
        above_standard_lines=int(row.above_n or 0),
        above_standard_amount=_money(row.above),
        above_standard_flagged_lines=int(row.flagged or 0),
        returns_lines=int(row.returns_n or 0),
        returns_amount=_money(row.returns),
        returns_at_list=_money(row.returns_list),
        returns_above_list_lines=int(row.returns_above or 0),
        stock_adjustment_lines=int(row.adjustments or 0),
        contract_lines=int(row.contract_n or 0),
        contract_discount=_money(row.contract_special),
        first=_as_date(row.first),
        last=_as_date(row.last),
        deal_starts=int(row.deal_starts or 0),
    )


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _bands(con: duckdb.DuckDBPyConnection, basis: str) -> tuple[list[Band], list[tuple[str, int]]]:
    """Each group's realized discounts from list (percentiles, over its sales), and how many
    sales fall in each range of discount; the sales above their standard price in a range of
    their own ("above standard"), never in "0 %"."""
    import numpy as np

    key = "sku" if basis == "sku" else f"coalesce(family, '{NONE}')"
    found = con.execute(
        f"SELECT {key} AS k, (1 - net_amount / list_revenue) * 100 AS d, "
        "net_amount > standard_revenue AS above FROM judged "
        "WHERE sale AND list_revenue <> 0 ORDER BY k"
    ).fetchnumpy()
    names, discounts = found["k"], np.asarray(found["d"], dtype=float)
    above = np.asarray(found["above"], dtype=bool)
    labels = ("min", "p10", "p25", "median", "p75", "p90", "max")
    bands = []
    if len(names):
        starts = np.flatnonzero(np.r_[True, names[1:] != names[:-1]])
        for first, stop in zip(starts, [*starts[1:], len(names)], strict=True):
            points = np.percentile(discounts[first:stop], [0, 10, 25, 50, 75, 90, 100])
            bands.append(
                Band(
                    str(names[first]),
                    int(stop - first),
                    {
                        label: Decimal(str(round(float(p), 4)))
                        for label, p in zip(labels, points, strict=True)
                    },
                )
            )
    below = np.round(discounts[~above], 6)  # 20 % off reads 19.999999999999996 in floats
    # Each range holds the discounts above its lower bound up to its upper one, inclusive (as
    # a policy's limits are): 5 % is in "0-5 %", 30 % in "20-30 %"; "0 %" none at all.
    ranges = np.searchsorted(np.array(DISCOUNT_EDGES, dtype=float), below, side="left")
    counts = np.bincount(ranges, minlength=len(DISCOUNT_RANGES))
    return bands, [
        (ABOVE_STANDARD, int(above.sum())),
        *((label, int(n)) for label, n in zip(DISCOUNT_RANGES, counts, strict=True)),
    ]


ABOVE_STANDARD = "above standard"  # the discount histogram's range of sales above standard
# The histogram's ranges of realized discount from list (%): "0 %" (no discount), then each
# range above its lower edge up to its upper edge included, "50 %+" above 50.
DISCOUNT_EDGES = (0, 5, 10, 15, 20, 30, 50)
DISCOUNT_RANGES = ("0 %", "0-5 %", "5-10 %", "10-15 %", "15-20 %", "20-30 %", "30-50 %", "50 %+")
DISCOUNT_RANGES_SAID = (
    "each range above its lower bound, up to its upper one (0-5 %: above 0, up to 5 %)"
)


def _out_of_policy(
    con: duckdb.DuckDBPyConnection, limit: int = 10_000, *, rated: bool = False
) -> list[dict[str, Any]]:
    rows = _rows(
        con,
        "SELECT date, deal_id, customer, rep, sku, qty, list_price, standard_price, net_amount, "
        f"level, below_floor, hard_floor, request_id, below{', rate' if rated else ''} "
        f"FROM judged WHERE oop ORDER BY date, seq LIMIT {int(limit)}",
    )
    result = []
    for row in rows:
        rate = _rate(row, rated)
        qty = _money(row.qty)
        net = _money(row.net_amount) * rate
        net_unit = net / qty if qty else Decimal(0)
        standard = _money(row.standard_price) * rate
        result.append(
            {
                "date": row.date,
                "deal": row.deal_id,
                "customer": row.customer or NONE,
                "rep": row.rep or NONE,
                "sku": row.sku,
                "qty": qty,
                "list_price": _money(row.list_price) * rate,
                "standard_price": standard,
                "net_price": net_unit,
                "discount_pct": (standard - net_unit) / standard * 100 if standard else None,
                "special_discount": standard * qty - net,
                "why": _why(row, rate),
            }
        )  # fmt: skip
    return result


def _said(amount: Decimal) -> str:
    """An amount in words: to the millionth at most (a converted one has 18 places), without
    trailing zeros or an exponent (``100``, ``81.25``)."""
    return f"{amount.quantize(Decimal('0.000001')).normalize():f}"


def _rate(row: _Row, rated: bool) -> Decimal:
    """The rate a listed line's money is converted at (one: not converted)."""
    return Decimal(row.rate) if rated else Decimal(1)


def _why(row: _Row, rate: Decimal = Decimal(1)) -> str:
    if row.below_floor:
        return f"below the hard floor {_said(_money(row.hard_floor) * rate)}: nobody may approve it"
    if row.level == "rejected":
        return "beyond the top level's limit: nobody may approve it"
    if row.request_id:
        cover = f"request {request_code(row.request_id)} does not cover it"
    elif row.below:  # (in an approval's window: a contract of the customer's, below its price)
        cover = "below the customer's contracted price"
    else:
        cover = "no approved request"
    return f"needs {row.level} approval; {cover}"


def _unmatched(con: duckdb.DuckDBPyConnection, *, rated: bool = False) -> list[dict[str, Any]]:
    """The SKUs with no list price on their lines' dates: lines, net revenue (their money, left
    out of the drift figures), first and last dates; stock adjustments apart."""
    net = "sum(net_amount * rate)" if rated else "sum(net_amount)"
    rows = con.execute(
        f"SELECT sku, count(*) AS n, {net}, min(date), max(date) FROM judged "
        "WHERE unmatched GROUP BY sku ORDER BY n DESC, sku"
    ).fetchall()
    return [
        {"sku": sku, "lines": n, "net_revenue": _money(net), "first": first, "last": last}
        for sku, n, net, first, last in rows
    ]


def _flagged(
    con: duckdb.DuckDBPyConnection, flag: Decimal, limit: int = 10_000, *, rated: bool = False
) -> list[dict[str, Any]]:
    """The lines whose price or quantity to check: sales above ``flag`` times their standard
    price, refunds above what their list price gives."""
    over, under = flag.as_integer_ratio()
    rows = _rows(
        con,
        "SELECT date, deal_id, customer, rep, sku, qty, list_price, standard_price, net_amount, "
        f"list_revenue, standard_revenue, ret{', rate' if rated else ''} FROM judged "
        "WHERE (sale AND qty > 0 AND "
        f"CAST(net_amount AS HUGEINT) * {under} > CAST(standard_revenue AS HUGEINT) * {over}) "
        f"OR (ret AND net_amount < list_revenue) ORDER BY date, seq LIMIT {int(limit)}",
    )
    result = []
    for row in rows:
        rate = _rate(row, rated)
        qty, net = _money(row.qty), _money(row.net_amount) * rate
        if row.ret:
            at_list = _said(abs(_money(row.list_revenue) * rate))
            why = (
                f"refund of {_said(abs(net))} above the {at_list} its list price "
                "gives: check its price or quantity"
            )
        else:
            times = (
                _money(row.net_amount) / _money(row.standard_revenue)
                if row.standard_revenue
                else None
            )
            why = (
                f"sold at {times:.1f}x its standard price" if times is not None
                else "sold above a standard price of 0"
            ) + ": check its price or quantity"  # fmt: skip
        result.append(
            {
                "date": row.date, "deal": row.deal_id, "customer": row.customer or NONE,
                "rep": row.rep or NONE, "sku": row.sku, "qty": qty,
                "list_price": _money(row.list_price) * rate,
                "standard_price": _money(row.standard_price) * rate,
                "net_price": net / qty if qty else Decimal(0), "net_amount": net, "why": why,
            }
        )  # fmt: skip
    return result


def _stock_adjustments(con: duckdb.DuckDBPyConnection, limit: int = 10_000) -> list[dict[str, Any]]:
    """Lines of negative quantity at price 0 (write-offs, stock corrections): no money."""
    rows = _rows(
        con,
        "SELECT date, deal_id, customer, rep, sku, qty FROM judged WHERE adj "
        f"ORDER BY date, seq LIMIT {int(limit)}",
    )
    return [
        {"date": row.date, "deal": row.deal_id, "customer": row.customer or NONE,
         "rep": row.rep or NONE, "sku": row.sku, "qty": _money(row.qty)}
        for row in rows
    ]  # fmt: skip
