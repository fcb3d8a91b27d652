"""The drift report: how far the deals actually closed are from the prices marketing set.

Aggregation runs in the database, over millionths (exact, and summed where the history lives);
only the totals and groups come back, rounded once at the edge. Price bands need each line's
realized discount and are computed only for the file outputs that show them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Date,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.engine import Connection

from pricing import store
from pricing.errors import InputError
from pricing.store import Store

GROUPS = ("rep", "family", "sku", "customer", "month")
NONE = "(none)"
MICRO = Decimal(1_000_000)


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
        return self.special_discount - self.out_of_policy_amount

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


class _Raw:
    """Deal line columns as stored integers (millionths), for exact sums in SQL."""

    def __getattr__(self, name: str) -> Any:
        column = getattr(store.deal_lines.c, name)
        if isinstance(column.type, store.Amount):
            return type_coerce(column, BigInteger)
        return column


RAW = _Raw()


def parse_by(text: str | None) -> list[str]:
    if not text:
        return []
    by = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [b for b in by if b not in GROUPS]
    if unknown:
        raise InputError(f"--by {text!r}: {', '.join(unknown)} is not one of {', '.join(GROUPS)}")
    return by


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
    with db.read() as conn:
        currency = _currency(conn)
        if by:  # one scan: the totals are the exact sums of the groups
            groups = _metrics(conn, start, end, by)
            totals = _sum([m for _, m in groups])
        else:
            groups = []
            found = _metrics(conn, start, end, [])
            totals = found[0][1] if found else Metrics()
        report = Report(start or totals.first, end or totals.last, currency, by, totals, groups)
        if details:
            report.months = [(key["month"], m) for key, m in _metrics(conn, start, end, ["month"])]
            report.band_basis = "sku" if "sku" in by else "family"
            report.bands, report.distribution = _bands(conn, start, end, report.band_basis)
            report.out_of_policy = _out_of_policy(conn, start, end)
            report.unmatched = _unmatched(conn, start, end)
    report.groups.sort(key=lambda kv: kv[1].leakage, reverse=True)
    return report


def _currency(conn: Connection) -> str:
    row = conn.execute(
        select(store.price_items.c.currency, func.count())
        .group_by(store.price_items.c.currency)
        .order_by(func.count().desc())
        .limit(1)
    ).first()
    return str(row[0]) if row else "USD"


def _key_column(conn: Connection, name: str) -> Any:
    d = store.deal_lines.c
    if name == "month":
        if conn.dialect.name == "sqlite":
            return func.strftime("%Y-%m", d.date)
        return func.to_char(d.date, "YYYY-MM")
    column = {"rep": d.rep, "customer": d.customer, "family": d.family, "sku": d.sku}[name]
    return func.coalesce(column, literal(NONE, String))


def _cover(conn: Connection) -> Any:
    """Approved request lines, with the days their approval was valid."""
    r, rl = store.requests, store.request_lines

    def day(column: Any) -> Any:
        if conn.dialect.name == "sqlite":
            return func.substr(column, 1, 10)
        return cast(column, Date)

    return (
        select(
            r.c.id.label("request_id"),
            func.lower(rl.c.sku).label("sku_key"),
            type_coerce(rl.c.price, BigInteger).label("price"),
            day(r.c.decided_at).label("start"),
            day(r.c.expires_at).label("end"),
        )
        .join(rl, rl.c.request_id == r.c.id)
        .where(r.c.status.in_(["approved", "won", "expired"]), rl.c.decision == "approved")
        .subquery("cover")
    )


def _conditions(conn: Connection) -> tuple[Any, Any, Any, Any]:
    """The cover subquery (None when no request was ever approved), and the line conditions."""
    d = RAW
    matched = d.edition_id.isnot(None)
    needs_approval = and_(d.level_rank != 0, d.level_rank.isnot(None))
    approved = conn.execute(
        select(store.requests.c.id)
        .where(store.requests.c.status.in_(["approved", "won", "expired"]))
        .limit(1)
    ).first()
    if approved is None:  # nothing can cover a line: skip the join over the whole history
        out_of_policy = and_(matched, or_(d.below_floor == 1, needs_approval))
        return None, matched, out_of_policy, literal(False)
    c = _cover(conn)
    in_window = and_(c.c.request_id.isnot(None), d.date >= c.c.start, d.date <= c.c.end)
    priced_ok = d.net_amount * 1_000_000 >= c.c.price * d.qty
    covered = and_(in_window, priced_ok)
    out_of_policy = and_(matched, or_(d.below_floor == 1, and_(needs_approval, ~covered)))
    below_approved = and_(matched, in_window, ~priced_ok)
    return c, matched, out_of_policy, below_approved


def _lines_with_cover(cover: Any) -> Any:
    d = store.deal_lines
    if cover is None:
        return d
    return d.outerjoin(
        cover, and_(cover.c.request_id == d.c.request_id, cover.c.sku_key == d.c.sku_key)
    )


def _metrics(
    conn: Connection, start: date | None, end: date | None, by: list[str]
) -> list[tuple[dict[str, str], Metrics]]:
    """One row per group (one row when ``by`` is empty), from one scan of the lines."""
    d = store.deal_lines
    r = RAW
    c, matched, oop, below = _conditions(conn)

    def when(condition: Any, value: Any) -> Any:
        return case((condition, value), else_=None)

    def count(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    keys = [_key_column(conn, name).label(f"k_{name}") for name in by]
    query = (
        select(
            *keys,
            func.count().label("lines"),
            func.count(func.distinct(d.c.deal_id)).label("deals")
            if keys
            else literal(0).label("deals"),
            func.sum(d.c.deal_first).label("deal_starts"),
            func.sum(when(matched, r.qty)).label("qty"),
            func.sum(r.list_revenue).label("list_revenue"),
            func.sum(r.standard_revenue).label("standard_revenue"),
            func.sum(when(matched, r.net_amount)).label("net"),
            func.sum(r.cost_amount).label("cost"),
            func.sum(when(and_(matched, r.cost_amount.isnot(None)), r.net_amount)).label(
                "net_cost"
            ),
            count(oop).label("oop_lines"),
            func.sum(when(oop, r.standard_revenue - r.net_amount)).label("oop_amount"),
            count(~matched).label("unmatched"),
            count(below).label("below"),
            func.min(d.c.date).label("first"),
            func.max(d.c.date).label("last"),
        )
        .select_from(_lines_with_cover(c))
        .where(*_period(start, end))
    )
    if keys:
        query = query.group_by(*keys)
    result: list[tuple[dict[str, str], Metrics]] = []
    for row in conn.execute(query):
        if not keys and not row.lines:
            continue
        key = {name: str(getattr(row, f"k_{name}")) for name in by}
        result.append((key, _row_metrics(row)))
    return result


def _period(start: date | None, end: date | None) -> list[Any]:
    d = store.deal_lines.c
    conditions = []
    if start is not None:
        conditions.append(d.date >= start)
    if end is not None:
        conditions.append(d.date <= end)
    return conditions


def _money(value: Any) -> Decimal:
    return Decimal(int(value)) / MICRO if value is not None else Decimal(0)


def _row_metrics(row: Any) -> Metrics:
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
        below_approved_lines=int(row.below or 0),
        first=_as_date(row.first),
        last=_as_date(row.last),
    )


def _as_date(value: Any) -> date | None:
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
        total.below_approved_lines += m.below_approved_lines
    total.deals = total.deal_starts
    total.cost = sum(costs, Decimal(0)) if costs else None
    firsts = [m.first for m in rows if m.first]
    lasts = [m.last for m in rows if m.last]
    total.first, total.last = (min(firsts) if firsts else None), (max(lasts) if lasts else None)
    return total


def _bands(
    conn: Connection, start: date | None, end: date | None, basis: str
) -> tuple[list[Band], list[tuple[str, int]]]:
    import numpy as np

    d = RAW
    key = d.sku if basis == "sku" else func.coalesce(d.family, literal(NONE, String))
    rows = conn.execute(
        select(key, d.list_revenue, d.net_amount).where(
            d.edition_id.isnot(None), d.list_revenue != 0, *_period(start, end)
        )
    ).all()
    groups: dict[str, list[float]] = {}
    for name, list_revenue, net in rows:
        groups.setdefault(str(name), []).append((1 - net / list_revenue) * 100)
    bands = []
    for name, values in sorted(groups.items()):
        array = np.array(values)
        points = np.percentile(array, [0, 10, 25, 50, 75, 90, 100])
        bands.append(
            Band(
                name,
                len(values),
                {
                    label: Decimal(str(round(float(p), 4)))
                    for label, p in zip(
                        ("min", "p10", "p25", "median", "p75", "p90", "max"), points, strict=True
                    )
                },
            )
        )
    everything = (
        np.array([v for values in groups.values() for v in values]) if groups else np.array([])
    )
    edges = [-np.inf, 0.0001, 5, 10, 15, 20, 30, 50, np.inf]
    labels = ["0 %", "0-5 %", "5-10 %", "10-15 %", "15-20 %", "20-30 %", "30-50 %", "50 %+"]
    counts = np.histogram(everything, bins=edges)[0] if len(everything) else [0] * len(labels)
    return bands, [(label, int(n)) for label, n in zip(labels, counts, strict=True)]


def _out_of_policy(
    conn: Connection, start: date | None, end: date | None, limit: int = 10_000
) -> list[dict[str, Any]]:
    d = store.deal_lines
    r = RAW
    c, _, oop, _ = _conditions(conn)
    rows = conn.execute(
        select(
            r.date, r.deal_id, r.customer, r.rep, r.sku, r.qty, r.list_price,
            r.standard_price, r.net_amount, r.level, r.below_floor, r.hard_floor,
            r.request_id,
        )
        .select_from(_lines_with_cover(c))
        .where(oop, *_period(start, end))
        .order_by(d.c.date, d.c.id)
        .limit(limit)
    ).all()  # fmt: skip
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


def _why(row: Any) -> str:
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


def _unmatched(conn: Connection, start: date | None, end: date | None) -> list[dict[str, Any]]:
    d = store.deal_lines.c
    rows = conn.execute(
        select(d.sku, func.count(), func.min(d.date), func.max(d.date))
        .where(d.edition_id.is_(None), *_period(start, end))
        .group_by(d.sku)
        .order_by(func.count().desc(), d.sku)
    ).all()
    return [{"sku": sku, "lines": n, "first": first, "last": last} for sku, n, first, last in rows]
