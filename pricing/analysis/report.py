"""The drift report: how far the deals actually closed are from the prices marketing set.

The period's lines are read from their columnar segments (:mod:`pricing.lines.segments`) and
aggregated by DuckDB in one pass, over millionths summed as 128-bit integers (exact, never
overflowing); only the totals and groups come back, rounded once at the edge. Price bands need
each line's realized discount and are computed only for the file outputs that show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from pricing.errors import InputError
from pricing.lines import segments
from pricing.money import MICRO
from pricing.storage import deal_tables
from pricing.storage.store import Store

if TYPE_CHECKING:
    import duckdb
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

GROUPS = ("rep", "family", "sku", "customer", "month")
NONE = "(none)"


@dataclass
class Metrics:
    """One row of the report: sums in exact decimals, ratios in percent."""

    lines: int = 0
    deals: int = 0
    quantity: Decimal = Decimal(0)
    list_revenue: Decimal = Decimal(0)
    standard_revenue: Decimal = Decimal(0)
    net_revenue: Decimal = Decimal(0)
    cost: Decimal | None = None
    net_with_cost: Decimal = Decimal(0)
    out_of_policy_lines: int = 0
    out_of_policy_amount: Decimal = Decimal(0)
    unmatched_lines: int = 0
    unjudged_lines: int = 0  # matched lines with no policy in force on their dates
    unjudged_net_revenue: Decimal = Decimal(0)
    unjudged_special_discount: Decimal = Decimal(0)  # their special discount: nobody judged it
    below_approved_lines: int = 0
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
    def special_discount(self) -> Decimal:
        return self.standard_revenue - self.net_revenue

    @property
    def in_policy_special_discount(self) -> Decimal:
        """The special discount within policy or approved: neither out of policy nor on lines
        no policy judged."""
        return self.special_discount - self.out_of_policy_amount - self.unjudged_special_discount

    @property
    def realization_pct(self) -> Decimal:
        return self.net_revenue / self.list_revenue * 100 if self.list_revenue else Decimal(0)

    @property
    def weighted_discount_pct(self) -> Decimal:
        return 100 - self.realization_pct if self.list_revenue else Decimal(0)

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
    bands: list[Band] = field(default_factory=list)
    band_basis: str = "family"
    out_of_policy: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    distribution: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class Unjudged:
    """The stored lines matched to a list price but with no policy in force on their dates."""

    lines: int
    net_revenue: Decimal
    currency: str
    first: date | None
    last: date | None


def unjudged(db: Store) -> Unjudged:
    """How many stored lines no policy judged (matched, no policy version on their date), their
    net revenue and their first and last dates."""
    import pyarrow.compute as pc

    with db.read() as conn:
        currency = _currency(conn)
        lines = segments.scan(conn, ["date", "edition_id", "policy_version", "net_amount"])
    found = lines.filter(
        pc.and_(pc.is_valid(lines["edition_id"]), pc.is_null(lines["policy_version"]))
    )
    if not found.num_rows:
        return Unjudged(0, Decimal(0), currency, None, None)
    first, last = segments.date_bounds(found["date"])
    import pyarrow as pa

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
    "cost_amount", "edition_id", "level_rank", "below_floor", "policy_version",
)  # fmt: skip
COVER = ("request_id", "sku_key")  # read only when some approved request may cover a line
DETAILS = (
    "customer", "rep", "sku", "family", "list_price", "standard_price", "level", "hard_floor", "seq",
    "deal_id",
)  # fmt: skip
KEYS = {"rep": "rep", "customer": "customer", "family": "family", "sku": "sku", "month": "date"}


def build(
    db: Store,
    *,
    start: date | None = None,
    end: date | None = None,
    by: list[str] | None = None,
    details: bool = False,
) -> Report:
    """Totals and groups for the period; with ``details`` also months, bands and line lists."""
    by = by or []
    columns = [*TOTALS, *(DETAILS if details else (KEYS[name] for name in by))]
    with db.read() as conn:
        currency = _currency(conn)
        cover = _cover(conn)
        if cover is not None or details:
            columns += COVER
        lines = segments.scan(conn, columns, start=start, end=end)
    con = segments.duck(lines=lines, **({"cover": cover} if cover is not None else {}))
    con.execute(_judged(cover is not None))
    if by:  # one scan: the totals are the exact sums of the groups
        groups = _metrics(con, by)
        totals = _sum([m for _, m in groups])
    else:
        groups = []
        found = _metrics(con, [])
        totals = found[0][1] if found else Metrics()
    if start is not None or end is not None:
        # A deal counts where its first line falls (deal_starts, which adds up across groups)
        # only over the whole history: a period may hold a deal's later lines alone.
        counted = con.execute("SELECT count(DISTINCT deal_no) FROM judged").fetchone()
        totals.deals = int(counted[0]) if counted else 0
    report = Report(start or totals.first, end or totals.last, currency, by, totals, groups)
    if details:
        report.months = [(key["month"], m) for key, m in _metrics(con, ["month"])]
        report.band_basis = "sku" if "sku" in by else "family"
        report.bands, report.distribution = _bands(con, report.band_basis)
        report.out_of_policy = _out_of_policy(con)
        report.unmatched = _unmatched(con)
    con.close()
    report.groups.sort(key=lambda kv: kv[1].leakage, reverse=True)
    return report


# What deciding whether a line is out of policy reads of it (see _judged).
OUT_OF_POLICY = ("edition_id", "policy_version", "level_rank", "below_floor", "request_id",
                 "sku_key", "date", "qty", "net_amount")  # fmt: skip


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
    con = segments.duck(lines=numbered, **({"cover": cover} if cover is not None else {}))
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
    """Approved request lines, with the days their approval was valid (None: no request was
    ever approved, so nothing can cover a line and the join is skipped)."""
    import pyarrow as pa

    rows = deal_tables.approved_request_lines(conn)
    if not rows:
        return None

    def day(value: object) -> date | None:
        return date.fromisoformat(str(value)[:10]) if value is not None else None

    return pa.table(
        {
            "request_id": pa.array([int(row[0]) for row in rows], pa.int64()),
            "sku_key": pa.array([str(row[1]).casefold() for row in rows], pa.string()),
            "price": pa.array([int(row[2] * MICRO) for row in rows], pa.int64()),
            "start": pa.array([day(row[3]) for row in rows], pa.date32()),
            "end": pa.array([day(row[4]) for row in rows], pa.date32()),
        }
    )


def _judged(covered: bool) -> str:
    """A view of the lines with what the report asks of each: matched to a list price, not
    judged (matched, but no policy was in force on its date), out of
    policy (needs approval no approved request covers, or below a hard floor), sold below the
    price its request approved.

    Each line is in the view once, however many approved request lines may cover it (a request
    may approve its SKU on two lines: a join counted the deal line twice); one covering it (its
    request and SKU, within its window, at or below the line's unit price) is enough."""
    matched = "l.edition_id IS NOT NULL"
    unjudged = f"({matched} AND l.policy_version IS NULL) AS unjudged"
    needs = "(l.level_rank <> 0 AND l.level_rank IS NOT NULL)"
    if not covered:
        return (
            f"CREATE VIEW judged AS SELECT l.*, {matched} AS matched, {unjudged}, "
            f"coalesce({matched} AND (l.below_floor = 1 OR {needs}), false) AS oop, "
            "false AS below FROM lines l"
        )
    applies = (
        "c.request_id = l.request_id AND c.sku_key = l.sku_key AND l.date >= c.start "
        "AND l.date <= coalesce(c.end, DATE '9999-12-31')"
    )
    # The unit price (net / qty) at or above the approved one: a return's (qty < 0) too; a
    # line without a quantity has no unit price, so it is below nothing.
    net, approved = "CAST(l.net_amount AS HUGEINT) * 1000000", "CAST(c.price AS HUGEINT) * l.qty"
    priced_ok = (
        f"(l.qty = 0 OR (l.qty > 0 AND {net} >= {approved}) OR (l.qty < 0 AND {net} <= {approved}))"
    )
    in_window = f"EXISTS (SELECT 1 FROM cover c WHERE {applies})"
    at_price = f"EXISTS (SELECT 1 FROM cover c WHERE {applies} AND {priced_ok})"
    return (
        f"CREATE VIEW judged AS SELECT l.*, {matched} AS matched, {unjudged}, "
        f"coalesce({matched} AND (l.below_floor = 1 OR ({needs} AND NOT {at_price})), false) AS oop, "
        f"coalesce({matched} AND {in_window} AND NOT {at_price}, false) AS below FROM lines l"
    )


def _key_column(name: str) -> str:
    if name == "month":
        return "strftime(date, '%Y-%m')"
    return f"coalesce({name}, '{NONE}')"


def _metrics(con: duckdb.DuckDBPyConnection, by: list[str]) -> list[tuple[dict[str, str], Metrics]]:
    """One row per group (one row when ``by`` is empty), from one scan of the lines."""
    keys = [f"{_key_column(name)} AS k_{name}" for name in by]
    query = (
        f"SELECT {''.join(k + ', ' for k in keys)}"
        "count(*) AS lines, "
        + ("count(DISTINCT deal_no)" if keys else "0")
        + " AS deals, sum(deal_first) AS deal_starts, "
        "sum(CASE WHEN matched THEN qty END) AS qty, sum(list_revenue) AS list_revenue, "
        "sum(standard_revenue) AS standard_revenue, sum(CASE WHEN matched THEN net_amount END) AS net, "
        "sum(cost_amount) AS cost, "
        "sum(CASE WHEN matched AND cost_amount IS NOT NULL THEN net_amount END) AS net_cost, "
        "sum(CASE WHEN oop THEN 1 ELSE 0 END) AS oop_lines, "
        "sum(CASE WHEN oop THEN standard_revenue - net_amount END) AS oop_amount, "
        "sum(CASE WHEN matched THEN 0 ELSE 1 END) AS unmatched, "
        "sum(CASE WHEN unjudged THEN 1 ELSE 0 END) AS unjudged_n, "
        "sum(CASE WHEN unjudged THEN net_amount END) AS unjudged_net, "
        "sum(CASE WHEN unjudged THEN standard_revenue - net_amount END) AS unjudged_special, "
        "sum(CASE WHEN below THEN 1 ELSE 0 END) AS below, "
        'min(date) AS "first", max(date) AS "last" FROM judged'
        + (
            f" GROUP BY {', '.join(f'k_{name}' for name in by)}"
            f" ORDER BY {', '.join(f'k_{name}' for name in by)}"  # months in order, ties stable
            if keys
            else ""
        )
    )
    result: list[tuple[dict[str, str], Metrics]] = []
    for row in _rows(con, query):
        if not keys and not row.lines:
            continue
        key = {name: str(getattr(row, f"k_{name}")) for name in by}
        result.append((key, _row_metrics(row)))
    return result


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
    return Decimal(int(value)) / MICRO if value is not None else Decimal(0)


def _row_metrics(row: _Row) -> Metrics:
    return Metrics(
        lines=int(row.lines or 0),
        deals=int(row.deals or 0) or int(row.deal_starts or 0),
        deal_starts=int(row.deal_starts or 0),
        quantity=_money(row.qty),
        list_revenue=_money(row.list_revenue),
        standard_revenue=_money(row.standard_revenue),
        net_revenue=_money(row.net),
        cost=_money(row.cost) if row.cost is not None else None,
        net_with_cost=_money(row.net_cost),
        out_of_policy_lines=int(row.oop_lines or 0),
        out_of_policy_amount=_money(row.oop_amount),
        unmatched_lines=int(row.unmatched or 0),
        unjudged_lines=int(row.unjudged_n or 0),
        unjudged_net_revenue=_money(row.unjudged_net),
        unjudged_special_discount=_money(row.unjudged_special),
        below_approved_lines=int(row.below or 0),
        first=_as_date(row.first),
        last=_as_date(row.last),
    )


def _as_date(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _sum(rows: list[Metrics]) -> Metrics:
    """Exact totals of groups (sums of exact decimals; lines and amounts add up)."""
    total = Metrics()
    costs = [m.cost for m in rows if m.cost is not None]
    for m in rows:
        total.lines += m.lines
        total.deal_starts += m.deal_starts
        total.quantity += m.quantity
        total.list_revenue += m.list_revenue
        total.standard_revenue += m.standard_revenue
        total.net_revenue += m.net_revenue
        total.net_with_cost += m.net_with_cost
        total.out_of_policy_lines += m.out_of_policy_lines
        total.out_of_policy_amount += m.out_of_policy_amount
        total.unmatched_lines += m.unmatched_lines
        total.unjudged_lines += m.unjudged_lines
        total.unjudged_net_revenue += m.unjudged_net_revenue
        total.unjudged_special_discount += m.unjudged_special_discount
        total.below_approved_lines += m.below_approved_lines
    total.deals = total.deal_starts
    # Written as a total of one scan is (0.35, never 0.350: a sum of decimals keeps their places).
    total.quantity = _money(int(total.quantity * MICRO))
    total.cost = sum(costs, Decimal(0)) if costs else None
    firsts = [m.first for m in rows if m.first]
    lasts = [m.last for m in rows if m.last]
    total.first, total.last = (min(firsts) if firsts else None), (max(lasts) if lasts else None)
    return total


def _bands(con: duckdb.DuckDBPyConnection, basis: str) -> tuple[list[Band], list[tuple[str, int]]]:
    import numpy as np

    key = "sku" if basis == "sku" else f"coalesce(family, '{NONE}')"
    found = con.execute(
        f"SELECT {key} AS k, (1 - net_amount / list_revenue) * 100 AS d FROM judged "
        "WHERE matched AND list_revenue <> 0 ORDER BY k"
    ).fetchnumpy()
    names, discounts = found["k"], np.asarray(found["d"], dtype=float)
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
    edges = [-np.inf, 0.0001, 5, 10, 15, 20, 30, 50, np.inf]
    ranges = ["0 %", "0-5 %", "5-10 %", "10-15 %", "15-20 %", "20-30 %", "30-50 %", "50 %+"]
    counts = np.histogram(discounts, bins=edges)[0] if len(discounts) else [0] * len(ranges)
    return bands, [(label, int(n)) for label, n in zip(ranges, counts, strict=True)]


def _out_of_policy(con: duckdb.DuckDBPyConnection, limit: int = 10_000) -> list[dict[str, Any]]:
    rows = _rows(
        con,
        "SELECT date, deal_id, customer, rep, sku, qty, list_price, standard_price, net_amount, "
        "level, below_floor, hard_floor, request_id FROM judged WHERE oop "
        f"ORDER BY date, seq LIMIT {int(limit)}",
    )
    result = []
    for row in rows:
        qty = _money(row.qty)
        net_unit = _money(row.net_amount) / qty if qty else Decimal(0)
        standard = _money(row.standard_price)
        result.append(
            {
                "date": row.date,
                "deal": row.deal_id,
                "customer": row.customer or NONE,
                "rep": row.rep or NONE,
                "sku": row.sku,
                "qty": qty,
                "list_price": _money(row.list_price),
                "standard_price": standard,
                "net_price": net_unit,
                "discount_pct": (standard - net_unit) / standard * 100 if standard else Decimal(0),
                "special_discount": standard * qty - _money(row.net_amount),
                "why": _why(row),
            }
        )  # fmt: skip
    return result


def _why(row: _Row) -> str:
    if row.below_floor:
        return f"below the hard floor {_money(row.hard_floor)}: nobody may approve it"
    if row.level == "rejected":
        return "beyond the top level's limit: nobody may approve it"
    cover = (
        f"request R-{row.request_id:06d} does not cover it"
        if row.request_id
        else "no approved request"
    )
    return f"needs {row.level} approval; {cover}"


def _unmatched(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    rows = con.execute(
        "SELECT sku, count(*) AS n, min(date), max(date) FROM judged WHERE NOT matched "
        "GROUP BY sku ORDER BY n DESC, sku"
    ).fetchall()
    return [{"sku": sku, "lines": n, "first": first, "last": last} for sku, n, first, last in rows]
