"""The drift report as a typed result: its totals, groups and waterfall, and (for the files
that show them) months, listed lines and price bands.

The report's document is written once, with its files (:mod:`pricing.analysis.report_files`:
the ``.json`` file is that document, the csv, xlsx and html writers use its parts); these models
declare its types, and :meth:`DriftReport.of` validates that document into them, so that
``--json`` and the ``.json`` file cannot drift apart, and a key either side added or left out
is an error rather than a silent difference (``extra="forbid"``; every field required but the
parts a detailed report may have none of).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import ConfigDict, Field

from pricing.results.common import Result
from pricing.results.fx import Rate

if TYPE_CHECKING:
    from pricing.analysis.report import Report

Breakdown = Literal["rep", "family", "sku", "customer", "month", "currency"]


class Figures(Result):
    """One set of drift measures (the totals, a group, a month), over the sales but for the
    returns, unmatched lines and stock adjustments counted apart: money rounded once to the
    currency's minor unit, percentages to 2 places (None: no base), counts as numbers, the
    quantity whole when it is. The order is :data:`~pricing.analysis.report.METRIC_KEYS` then
    ``EXTRA_KEYS``, the columns of every file."""

    lines: int
    deals: int
    quantity: int | Decimal
    list_revenue: Decimal
    standard_revenue: Decimal
    net_revenue: Decimal
    leakage: Decimal
    standard_discount: Decimal
    special_discount: Decimal
    realization_pct: Decimal | None
    out_of_policy_lines: int
    out_of_policy_amount: Decimal
    unmatched_lines: int
    weighted_discount_pct: Decimal | None
    in_policy_special_discount: Decimal
    below_approved_lines: int
    cost: Decimal | None
    margin_pct: Decimal | None
    unjudged_lines: int
    unjudged_net_revenue: Decimal
    unjudged_special_discount: Decimal
    sales_lines: int
    gross_discount: Decimal
    above_standard_lines: int
    above_standard_amount: Decimal
    above_standard_flagged_lines: int
    returns_lines: int
    returns_amount: Decimal
    returns_at_list: Decimal
    net_after_returns: Decimal
    returns_above_list_lines: int
    stock_adjustment_lines: int
    unmatched_net_revenue: Decimal
    contract_lines: int
    contract_discount: Decimal


# A group or a month is its key, then its figures: the key's field comes first in the JSON
# because pydantic lays out the fields of the bases last to first (Group(Figures, _Keyed)).
class _Keyed(Result):
    key: dict[str, str]  # the breakdown's value of each ``by`` (rep -> name)


class Group(Figures, _Keyed):
    """One group of the breakdown (``key``: each ``by`` and its value) and its figures."""


class _InMonth(Result):
    month: str  # YYYY-MM


class Month(Figures, _InMonth):
    """One month (``YYYY-MM``) and its figures."""


class Step(Result):
    """A step of the waterfall from list to net revenue, and its amount (negative: a discount;
    the totals are the levels themselves)."""

    step: str
    amount: Decimal


class Unmatched(Result):
    """A SKU with no list price on its lines' dates: lines, their net revenue (left out of the
    drift figures), the first and last dates."""

    sku: str
    lines: int
    net_revenue: Decimal
    first: date
    last: date


class ListedLine(Result):
    """A deal line as the reports list it (a stock adjustment has nothing more)."""

    date: date
    deal: str
    customer: str
    rep: str
    sku: str
    qty: int | Decimal


class LineToCheck(ListedLine):
    """A line whose price or quantity to check (far above standard, or a refund above list),
    its prices and amount, and why."""

    list_price: Decimal
    standard_price: Decimal
    net_price: Decimal
    net_amount: Decimal
    why: str


class PriceBand(Result):
    """A family's (or SKU's) realized discounts from list in percent, over its sales."""

    # "min" and "max" as the document has them (the builtins are not used in this class).
    key: str
    lines: int
    min: Decimal
    p10: Decimal
    p25: Decimal
    median: Decimal
    p75: Decimal
    p90: Decimal
    max: Decimal


class PriceBands(Result):
    """The price bands, per family (or per SKU when the report is broken down by SKU)."""

    basis: Literal["family", "sku"]
    bands: list[PriceBand]


class Converted(Result):
    """``report --currency``: every line's money converted to ``to``; how many lines were in
    another currency, and their share of the net revenue (percent; None: no net revenue)."""

    to: str
    lines: int
    net_revenue_share_pct: Decimal | None


class RatesUsed(Result):
    """The rates one currency's lines were converted at: its lines, their first and last
    dates, the lowest and highest rate, and how they were had (direct, inverted, via EUR)."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    currency: str
    lines: int
    start: date = Field(validation_alias="from", serialization_alias="from")
    to: date
    lowest: Rate
    highest: Rate
    how: list[str]
    oldest_days: int
    stale_lines: int


class CurrencyPart(Result):
    """The sales in one currency of a report over several: their totals, groups and
    waterfall, in that currency (never added to another's)."""

    currency: str
    totals: Figures
    groups: list[Group]
    waterfall: list[Step]
    notes: list[str]


class DriftReport(Result):
    """``report``: the period (``from``, ``to``), currency, breakdown, totals, groups ranked by
    ``sort``, the waterfall from list to net, whether the groups' deals overlap, and notes; over
    sales in several currencies, each currency's own figures (``by_currency``)."""

    # "from" is a Python keyword: the field is read and written by that key.
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    start: date | None = Field(validation_alias="from", serialization_alias="from")
    to: date | None
    currency: str
    by: list[Breakdown]
    totals: Figures
    groups: list[Group]
    waterfall: list[Step]
    sort: str
    deals_overlap: bool
    notes: list[str]
    # With several currencies (each one's apart; the totals above are ``currency``'s alone).
    by_currency: list[CurrencyPart] | None = Field(default=None, exclude_if=lambda v: v is None)
    # With --currency: what was converted, at which rates.
    converted: Converted | None = Field(default=None, exclude_if=lambda v: v is None)
    rates: list[RatesUsed] | None = Field(default=None, exclude_if=lambda v: v is None)

    @classmethod
    def of(cls, report: Report) -> DriftReport | DetailedReport:
        """The report as a result: the detailed one when it was built with details (for an
        xlsx or html file)."""
        from pricing.analysis.report_document import report_document

        kind = DetailedReport if report.details else DriftReport
        return kind.model_validate(report_document(report))


class DetailedReport(DriftReport):
    """``report -o FILE.xlsx|.html``: the report and what those files show besides: the months
    (none when the period has no lines) and whether their deals overlap, the unmatched SKUs,
    the lines to check, the stock adjustments, and the price bands (none without a priced sale).
    A part there is none of is left out of the JSON, as it always was."""

    months: list[Month] | None = Field(default=None, exclude_if=lambda v: v is None)
    months_deals_overlap: bool | None = Field(default=None, exclude_if=lambda v: v is None)
    unmatched: list[Unmatched]
    flagged: list[LineToCheck]
    stock_adjustments: list[ListedLine]
    price_bands: PriceBands | None = Field(default=None, exclude_if=lambda v: v is None)


# What ``report`` answers, as a client validates it: tried as the plain report first (a detailed
# one has keys it has not), not both in every mode (twice as long for thousands of groups).
AnyReport = Annotated[DriftReport | DetailedReport, Field(union_mode="left_to_right")]
