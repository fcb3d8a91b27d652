"""The report's figures: one DuckDB aggregation of the period's lines into a :class:`Metrics`
per group (and the totals), and the price bands and discount histogram over its sales.

The lines are summed once, grouped by their keys and their part of the report (a small code:
return, sale below or above standard, out of policy...), over millionths summed as 128-bit
integers; each figure is a sum of those few rows, rounded once at the edge (:func:`money`). It
stands apart from :mod:`pricing.analysis.report`, which builds a report of these figures, as the
one place a figure is computed; the other parts (currencies, judged, lines) read results through
its rows and amounts through its :func:`money`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pricing.money import MICRO

if TYPE_CHECKING:
    import duckdb


NONE = "(none)"
# The stored column each breakdown of :data:`pricing.analysis.report.GROUPS` groups by.
KEYS = {"rep": "rep", "customer": "customer", "family": "family", "sku": "sku", "month": "date",
        "currency": "item_currency"}  # fmt: skip


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


def _key_column(name: str) -> str:
    if name == "month":
        return "strftime(date, '%Y-%m')"
    return f"coalesce({KEYS[name]}, '{NONE}')"


# Each line's part of the report, as the code :func:`metrics` groups the lines by (the kind
# times 32, plus a bit for each of at a contracted price, out of policy, not judged, below its
# approved price and with a cost: 16, 8, 4, 2, 1).
_ADJUSTMENT, _UNMATCHED, _RETURN, _RETURN_ABOVE_LIST = 0, 1, 2, 3
_BELOW_STANDARD, _ABOVE_STANDARD, _FLAGGED, _AT_STANDARD = 4, 5, 6, 7  # the sales' kinds


def metrics(
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
    for row in rows(con, query):
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


class Row:
    """A result row, its values by column name: DuckDB's int, Decimal, date, str or None."""

    def __init__(self, names: list[str], values: tuple[Any, ...]) -> None:
        self.__dict__.update(zip(names, values, strict=True))

    def __getattr__(self, name: str) -> Any:  # the columns of the query: any of those types
        raise AttributeError(name)


def rows(con: duckdb.DuckDBPyConnection, query: str) -> list[Row]:
    cursor = con.execute(query)
    names = [d[0] for d in cursor.description]
    return [Row(names, values) for values in cursor.fetchall()]


def money(value: int | Decimal | None) -> Decimal:
    """Millionths (an integer; a Decimal when converted at a rate) as an amount."""
    if value is None:
        return Decimal(0)
    return (value if isinstance(value, Decimal) else Decimal(int(value))) / MICRO


def _row_metrics(row: Row) -> Metrics:
    return Metrics(
        lines=int(row.lines or 0),
        deals=int(getattr(row, "deals", 0) or 0),
        quantity=money(row.qty),
        list_revenue=money(row.list_revenue),
        standard_revenue=money(row.standard_revenue),
        net_revenue=money(row.net),
        special_discount=money(row.special),
        cost=money(row.cost) if row.cost is not None else None,
        net_with_cost=money(row.net_cost),
        out_of_policy_lines=int(row.oop_lines or 0),
        out_of_policy_amount=money(row.oop_amount),
        unmatched_lines=int(row.unmatched or 0),
        unmatched_net_revenue=money(row.unmatched_net),
        unjudged_lines=int(row.unjudged_n or 0),
        unjudged_net_revenue=money(row.unjudged_net),
        unjudged_special_discount=money(row.unjudged_special),
        below_approved_lines=int(row.below or 0),
        sales_lines=int(row.sales or 0),
        above_standard_lines=int(row.above_n or 0),
        above_standard_amount=money(row.above),
        above_standard_flagged_lines=int(row.flagged or 0),
        returns_lines=int(row.returns_n or 0),
        returns_amount=money(row.returns),
        returns_at_list=money(row.returns_list),
        returns_above_list_lines=int(row.returns_above or 0),
        stock_adjustment_lines=int(row.adjustments or 0),
        contract_lines=int(row.contract_n or 0),
        contract_discount=money(row.contract_special),
        first=_as_date(row.first),
        last=_as_date(row.last),
        deal_starts=int(row.deal_starts or 0),
    )


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def bands(con: duckdb.DuckDBPyConnection, basis: str) -> tuple[list[Band], list[tuple[str, int]]]:
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
