"""What the report judges of each line: its part (sale, return, stock adjustment, unmatched),
whether a policy judged it, and whether it is out of policy or covered by an approved request or
a contracted price.

The ``judged`` view (:func:`judged`) says it of every line a report reads; :func:`out_of_policy`
answers the same for a table of lines (``policy simulate``, under a proposed policy's verdicts)
and :func:`unjudged` counts the stored sales no policy judged. It stands apart from the report
because the simulation and the policy commands use it without building one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from pricing.analysis.report_currencies import main_currency
from pricing.analysis.report_figures import money
from pricing.keys import customer_key, sku_key
from pricing.lines import segments
from pricing.lines.inmemory import duck
from pricing.money import MICRO
from pricing.storage import deal_tables
from pricing.storage.store import Store

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa


# What deciding whether a line is out of policy reads of it (see :func:`judged`).
OUT_OF_POLICY = ("edition_id", "policy_version", "level_rank", "below_floor", "request_id",
                 "sku_key", "date", "qty", "net_amount", "customer")  # fmt: skip


def approved_cover(db: Store) -> pa.Table | None:
    """The approved request lines that may cover a deal line (None: none was ever approved)."""
    with db.read() as conn:
        return read_cover(conn)


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
    con.execute(judged(cover is not None))
    # A line joined to several approved request lines is out of policy when none covers it.
    found = con.execute(
        "SELECT rid, bool_and(oop) AS oop FROM judged GROUP BY rid ORDER BY rid"
    ).fetchnumpy()
    con.close()
    mask: npt.NDArray[np.bool_] = np.asarray(found["oop"], dtype=bool)
    return mask


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
        currency = main_currency(conn)
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
    return Unjudged(found.num_rows, money(net), currency, first, last)


def read_cover(conn: Connection) -> pa.Table | None:
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


def judged(covered: bool) -> str:
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
