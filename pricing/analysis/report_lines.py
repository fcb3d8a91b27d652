"""The report's lists of lines (with ``details``): the lines out of policy and why, the SKUs
with no list price, the lines whose price or quantity to check, and the stock adjustments.

Each is read from the ``judged`` view (:func:`pricing.analysis.report_judged.judged`) of the
lines the report reads now, at each line's rate when the report is converted. They stand apart
from the figures: only the file outputs show them, line by line, in words.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pricing.analysis.report_figures import NONE, Row, money, rows
from pricing.keys import request_code

if TYPE_CHECKING:
    import duckdb


def out_of_policy_lines(
    con: duckdb.DuckDBPyConnection, limit: int = 10_000, *, rated: bool = False
) -> list[dict[str, Any]]:
    found = rows(
        con,
        "SELECT date, deal_id, customer, rep, sku, qty, list_price, standard_price, net_amount, "
        f"level, below_floor, hard_floor, request_id, below{', rate' if rated else ''} "
        f"FROM judged WHERE oop ORDER BY date, seq LIMIT {int(limit)}",
    )
    result = []
    for row in found:
        rate = _rate(row, rated)
        qty = money(row.qty)
        net = money(row.net_amount) * rate
        net_unit = net / qty if qty else Decimal(0)
        standard = money(row.standard_price) * rate
        result.append(
            {
                "date": row.date,
                "deal": row.deal_id,
                "customer": row.customer or NONE,
                "rep": row.rep or NONE,
                "sku": row.sku,
                "qty": qty,
                "list_price": money(row.list_price) * rate,
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


def _rate(row: Row, rated: bool) -> Decimal:
    """The rate a listed line's money is converted at (one: not converted)."""
    return Decimal(row.rate) if rated else Decimal(1)


def _why(row: Row, rate: Decimal = Decimal(1)) -> str:
    if row.below_floor:
        return f"below the hard floor {_said(money(row.hard_floor) * rate)}: nobody may approve it"
    if row.level == "rejected":
        return "beyond the top level's limit: nobody may approve it"
    if row.request_id:
        cover = f"request {request_code(row.request_id)} does not cover it"
    elif row.below:  # (in an approval's window: a contract of the customer's, below its price)
        cover = "below the customer's contracted price"
    else:
        cover = "no approved request"
    return f"needs {row.level} approval; {cover}"


def unmatched(con: duckdb.DuckDBPyConnection, *, rated: bool = False) -> list[dict[str, Any]]:
    """The SKUs with no list price on their lines' dates: lines, net revenue (their money, left
    out of the drift figures), first and last dates; stock adjustments apart."""
    net = "sum(net_amount * rate)" if rated else "sum(net_amount)"
    found = con.execute(
        f"SELECT sku, count(*) AS n, {net}, min(date), max(date) FROM judged "
        "WHERE unmatched GROUP BY sku ORDER BY n DESC, sku"
    ).fetchall()
    return [
        {"sku": sku, "lines": n, "net_revenue": money(net), "first": first, "last": last}
        for sku, n, net, first, last in found
    ]


def flagged(
    con: duckdb.DuckDBPyConnection, flag: Decimal, limit: int = 10_000, *, rated: bool = False
) -> list[dict[str, Any]]:
    """The lines whose price or quantity to check: sales above ``flag`` times their standard
    price, refunds above what their list price gives."""
    over, under = flag.as_integer_ratio()
    found = rows(
        con,
        "SELECT date, deal_id, customer, rep, sku, qty, list_price, standard_price, net_amount, "
        f"list_revenue, standard_revenue, ret{', rate' if rated else ''} FROM judged "
        "WHERE (sale AND qty > 0 AND "
        f"CAST(net_amount AS HUGEINT) * {under} > CAST(standard_revenue AS HUGEINT) * {over}) "
        f"OR (ret AND net_amount < list_revenue) ORDER BY date, seq LIMIT {int(limit)}",
    )
    result = []
    for row in found:
        rate = _rate(row, rated)
        qty, net = money(row.qty), money(row.net_amount) * rate
        if row.ret:
            at_list = _said(abs(money(row.list_revenue) * rate))
            why = (
                f"refund of {_said(abs(net))} above the {at_list} its list price "
                "gives: check its price or quantity"
            )
        else:
            times = (
                money(row.net_amount) / money(row.standard_revenue)
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
                "list_price": money(row.list_price) * rate,
                "standard_price": money(row.standard_price) * rate,
                "net_price": net / qty if qty else Decimal(0), "net_amount": net, "why": why,
            }
        )  # fmt: skip
    return result


def stock_adjustments(con: duckdb.DuckDBPyConnection, limit: int = 10_000) -> list[dict[str, Any]]:
    """Lines of negative quantity at price 0 (write-offs, stock corrections): no money."""
    found = rows(
        con,
        "SELECT date, deal_id, customer, rep, sku, qty FROM judged WHERE adj "
        f"ORDER BY date, seq LIMIT {int(limit)}",
    )
    return [
        {"date": row.date, "deal": row.deal_id, "customer": row.customer or NONE,
         "rep": row.rep or NONE, "sku": row.sku, "qty": money(row.qty)}
        for row in found
    ]  # fmt: skip
