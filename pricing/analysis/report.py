"""The drift report: how far the deals actually closed are from the prices marketing set.

The period's lines are read from their columnar segments (:mod:`pricing.lines.segments`) and
aggregated by DuckDB in one pass, over millionths summed as 128-bit integers (exact, never
overflowing); only the totals and groups come back, rounded once at the edge. Price bands need
each line's realized discount and are computed only for the file outputs that show them.

This module holds the report's model (:class:`Report`, the keys of its figures, how groups are
given and ranked) and :func:`build`, which runs the parts, each a module of its own: the
figures (:mod:`~pricing.analysis.report_figures`), the currencies and their conversion
(:mod:`~pricing.analysis.report_currencies`), what is judged of each line
(:mod:`~pricing.analysis.report_judged`) and the lists of lines
(:mod:`~pricing.analysis.report_lines`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pricing.analysis.report_currencies import (
    Conversion,
    convert,
    item_currencies,
    main_currency,
    only,
    summable,
)
from pricing.analysis.report_figures import KEYS, Band, Metrics, bands, metrics
from pricing.analysis.report_judged import judged, read_cover
from pricing.analysis.report_lines import (
    flagged,
    out_of_policy_lines,
    stock_adjustments,
    unmatched,
)
from pricing.errors import InputError
from pricing.lines import segments
from pricing.lines.inmemory import duck
from pricing.storage.store import Store

if TYPE_CHECKING:
    import duckdb


GROUPS = ("rep", "family", "sku", "customer", "month", "currency")


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
        currency = main_currency(conn)
        cover = read_cover(conn)
        if cover is not None or details:
            columns += COVER
        lines = segments.scan(conn, columns, start=start, end=end)
    con = duck(lines=lines, **({"cover": cover} if cover is not None else {}))
    con.execute(judged(cover is not None))
    currencies = item_currencies(con)
    if len(currencies) == 1 or (currencies and currency not in currencies):
        currency = currencies[0]  # (the lines' own, whatever most of the book is in)
    conversion = None
    if convert_to is not None:  # every line in one currency: none apart
        conversion = convert(db, con, lines, convert_to, currency)
        currency, currencies = convert_to, [convert_to]
    codes = [currency, *(c for c in currencies if c != currency)]
    if len(codes) > 1:  # each currency apart, the report's own the main one's
        con.unregister("lines")
        con.register("every_line", lines)
    whole = start is None and end is None and len(codes) == 1
    rated = conversion is not None
    made: list[Report] = []
    with summable(convert_to):
        for code in codes:
            if len(codes) > 1:
                only(con, code, currency)
            totals, groups = metrics(con, by, flag, whole=whole, rated=rated)
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


def _details(con: duckdb.DuckDBPyConnection, report: Report, *, rated: bool) -> None:
    """What the files show besides the totals and groups, of the lines ``lines`` holds now:
    months, price bands, and the lines out of policy, unmatched, to check and adjusted."""
    report.months = [
        (key["month"], m)
        for key, m in metrics(con, ["month"], report.flag, totals=False, rated=rated)[1]
    ]
    report.band_basis = "sku" if "sku" in report.by else "family"
    report.bands, report.distribution = bands(con, report.band_basis)
    report.out_of_policy = out_of_policy_lines(con, rated=rated)
    report.unmatched = unmatched(con, rated=rated)
    report.flagged = flagged(con, report.flag, rated=rated)
    report.stock_adjustments = stock_adjustments(con)


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
