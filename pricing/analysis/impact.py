"""Price-change impact: what a new edition means on the volume actually sold last period.

The quantities sold in the period are re-priced at the old and the new edition's list prices
(list revenue per family and in total), and every open approved request is judged again against
the new edition: an approval below the new hard floor, or needing a higher level than it got,
would no longer hold.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pricing.errors import NotFoundError
from pricing.lines import segments
from pricing.lines.inmemory import duck
from pricing.money import MICRO
from pricing.policy import versions as policies
from pricing.policy.engine import judge_lines
from pricing.policy.model import Policy
from pricing.pricebook.model import PriceBook
from pricing.requests.lifecycle import line_facts, list_requests
from pricing.requests.records import Request
from pricing.storage import deal_tables, store
from pricing.storage.store import Store

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass
class Volume:
    """Sold lines of one kind of SKU (in both editions, only the old, only the new): how many,
    their quantity, and their list revenue at the old and the new edition's prices (zero at an
    edition that does not list them)."""

    lines: int = 0
    quantity: Decimal = Decimal(0)
    old: Decimal = Decimal(0)
    new: Decimal = Decimal(0)

    def add(self, count: int, qty: Decimal, old: Decimal, new: Decimal) -> None:
        self.lines += count
        self.quantity += qty
        self.old += old
        self.new += new


@dataclass
class Impact:
    """A new edition re-priced on the volume sold in a past period (per family and in total),
    and the open approved requests judged again on it.

    ``families`` and the totals count every re-priced line, a SKU the new edition dropped at
    its old price against nothing; ``price_changes`` (and each family's in ``changes``) are the
    SKUs both editions list, the price move itself; ``removed`` and ``added`` the volume of SKUs
    only the old or only the new edition lists, apart; ``neither`` the lines of SKUs neither
    edition lists (sold under another edition), which nothing re-prices."""

    start: date | None
    end: date | None
    lines: int
    families: list[tuple[str, Decimal, Decimal]]  # family, old list revenue, new list revenue
    missing_lines: int  # sold SKUs the new edition no longer lists
    new_only_lines: int  # sold SKUs the old edition did not list (not re-priced)
    open_requests: int
    affected: list[dict[str, Any]] = field(default_factory=list)
    price_changes: Volume = field(default_factory=Volume)
    removed: Volume = field(default_factory=Volume)
    added: Volume = field(default_factory=Volume)
    changes: dict[str, Volume] = field(default_factory=dict)  # family -> SKUs in both editions
    neither: Volume = field(default_factory=Volume)  # SKUs sold under other editions only

    @property
    def total_old(self) -> Decimal:
        return sum((old for _, old, _ in self.families), Decimal(0))

    @property
    def total_new(self) -> Decimal:
        return sum((new for _, _, new in self.families), Decimal(0))


def impact(
    db: Store,
    old: PriceBook,
    new: PriceBook,
    *,
    start: date | None = None,
    end: date | None = None,
    now: datetime | None = None,
) -> Impact:
    """Re-price the period's volume at both editions; re-judge open approvals on the new one."""
    now = now or store.utcnow()
    with db.read() as conn:
        if end is None:
            last = deal_tables.last_date(conn)
            end = last or now.date()
        start = start or end - timedelta(days=365)
        rows = _volumes(segments.scan(conn, ["sku_key", "qty", "edition_id"], start=start, end=end))
        try:
            policy: Policy | None = policies.in_force(conn, now.date()).policy
        except NotFoundError:  # no guardrails yet: only the volume can be estimated
            policy = None
    revenue: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    changes: dict[str, Volume] = defaultdict(Volume)
    removed, added, neither = Volume(), Volume(), Volume()
    lines = missing = new_only = 0
    for sku_key, qty_micros, count in rows:
        qty = Decimal(qty_micros) / MICRO
        lines += count
        before, after = old.items.get(sku_key), new.items.get(sku_key)
        if before is None:
            new_only += count
            if after is None:
                neither.add(count, qty, Decimal(0), Decimal(0))
            else:
                added.add(count, qty, Decimal(0), after.list_price * qty)
            continue
        family = (after or before).family or "(none)"
        revenue[family][0] += before.list_price * qty
        if after is None:
            missing += count
            removed.add(count, qty, before.list_price * qty, Decimal(0))
            continue
        revenue[family][1] += after.list_price * qty
        changes[family].add(count, qty, before.list_price * qty, after.list_price * qty)
    families = sorted(((f, v[0], v[1]) for f, v in revenue.items()), key=lambda r: r[2] - r[1])
    open_requests = list_requests(db, status="approved", now=now) if policy is not None else []
    affected = _affected(open_requests, policy, new) if policy is not None else []
    both = Volume()
    for volume in changes.values():
        both.add(volume.lines, volume.quantity, volume.old, volume.new)
    return Impact(
        start, end, lines, families, missing, new_only, len(open_requests), affected,
        price_changes=both, removed=removed, added=added, changes=dict(changes), neither=neither,
    )  # fmt: skip


def _volumes(sold: pa.Table) -> list[tuple[str, int, int]]:
    """Each sold SKU's quantity (millionths) and lines, matched lines only. DuckDB's rows are
    untyped tuples: typed here, once (the key is never null, the sums are integers)."""
    rows = (
        duck(lines=sold)
        .execute(
            "SELECT sku_key, sum(qty), count(*) FROM lines WHERE edition_id IS NOT NULL "
            "GROUP BY sku_key"
        )
        .fetchall()
    )
    return [(str(sku_key), int(qty), int(count)) for sku_key, qty, count in rows]


def _affected(open_requests: list[Request], policy: Policy, new: PriceBook) -> list[dict[str, Any]]:
    """The lines of open approvals the new edition would reject or need a higher level for."""
    affected: list[dict[str, Any]] = []
    for request in open_requests:
        priced = []  # the request's lines the new edition lists, judged together: one deal
        for line in request.lines:
            item = new.get(line.sku)
            if item is None:
                affected.append({"request": request.code, "sku": line.sku, "price": line.price,
                                 "why": "the new edition no longer lists this SKU"})  # fmt: skip
                continue
            standard, _ = new.standard_price(item, line.qty)
            priced.append((line, standard, line_facts(item, line.qty, standard)))
        judged = judge_lines(policy, [(facts, line.price) for line, _, facts in priced])
        for (line, standard, _), decided in zip(priced, judged, strict=True):
            approved_rank = policy.rank(line.level) if line.level in policy.levels else 0
            needed = policy.rank(decided.level) if decided.level else 0
            if decided.decision == "rejected" or needed > approved_rank:
                why = (
                    decided.reasons[-1]
                    if decided.decision == "rejected"
                    else f"would need {decided.level} (approved at {line.level or 'rep authority'})"
                )
                affected.append({"request": request.code, "sku": line.sku, "price": line.price,
                                 "new_standard": standard, "why": why})  # fmt: skip
    return affected
