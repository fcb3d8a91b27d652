"""Policy what-if: the stored deals of a period judged under the policy in force and a new one.

A line's class is exactly the decision ``request --check`` would give it (its SKU, quantity and
net unit price, on its date): ``approved`` within the first level, ``pending:<level>`` for the
lowest level that covers it, ``rejected`` beyond the top level or below a hard floor. The
engine is the one the report uses (:func:`pricing.matching.classify`, checked against
:func:`pricing.policy.judge`), run over whole columns.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from pricing.policy import Policy
from pricing.store import Store

MICRO = Decimal(1_000_000)


@dataclass
class ClassTotals:
    lines: int = 0
    special_discount: Decimal = Decimal(0)
    below_floor: int = 0


@dataclass
class Side:
    """One policy's view of the period: lines per class, and approver workload."""

    classes: dict[str, ClassTotals] = field(default_factory=lambda: defaultdict(ClassTotals))
    deal_weeks: dict[str, set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))

    def add(self, name: str, special_micros: int, below: bool, deal: str, week: str) -> None:
        totals = self.classes[name]
        totals.lines += 1
        totals.special_discount += Decimal(special_micros) / MICRO
        totals.below_floor += int(below)
        if name.startswith("pending:"):
            self.deal_weeks[name.split(":", 1)[1]].add((deal, week))

    @property
    def inside(self) -> Decimal:
        """Special discount the policy allows (at some level)."""
        return sum(
            (t.special_discount for n, t in self.classes.items() if n != "rejected"), Decimal(0)
        )

    @property
    def outside(self) -> Decimal:
        rejected = self.classes.get("rejected")
        return rejected.special_discount if rejected else Decimal(0)

    def workload(self, weeks: int) -> dict[str, Decimal]:
        """Requests per week each level would have had to decide (deals needing it, by week)."""
        return {
            level: Decimal(len(pairs)) / max(weeks, 1) for level, pairs in self.deal_weeks.items()
        }


@dataclass
class Simulation:
    start: date | None
    end: date | None
    lines: int
    weeks: int
    current: Side
    proposed: Side
    changed: list[dict[str, str]]
    not_judged: int = 0


def class_name(rank: int, levels: list[str]) -> str:
    if rank < 0:
        return "rejected"
    return "approved" if rank == 0 else f"pending:{levels[rank]}"


def simulate(
    db: Store, proposed: Policy, *, start: date | None = None, end: date | None = None
) -> Simulation:
    """Judge every stored deal line of the period under the policy in force and under ``proposed``."""
    import pandas as pd

    from pricing.deals import CHUNK
    from pricing.matching import Reference, classify, match
    from pricing.perf import paused_gc

    conditions = []
    if start is not None:
        conditions.append(f"date >= '{start.isoformat()}'")
    if end is not None:
        conditions.append(f"date <= '{end.isoformat()}'")
    where = (" WHERE " + " AND ".join(conditions)) if conditions else ""
    current, new = Side(), Side()
    changed: list[dict[str, str]] = []
    judged = not_judged = 0
    first: Any = None
    last: Any = None
    with paused_gc(), db.read() as conn:
        reference = Reference(conn)
        rows = reference.fetch(
            "SELECT deal_id, line_key, date, sku, sku_key, qty, amount, unit_price, discount_pct "
            "FROM deal_lines" + where + " ORDER BY id"
        )
        versions = {v.version: v.policy for v in _versions(conn)}
        for offset in range(0, len(rows), CHUNK):
            lines = pd.DataFrame(
                rows[offset : offset + CHUNK],
                columns=[
                    "deal_id",
                    "line_key",
                    "date",
                    "sku",
                    "sku_key",
                    "qty",
                    "amount",
                    "unit_price",
                    "discount_pct",
                ],
            )
            lines["date"] = pd.to_datetime(lines["date"])
            for name in ("qty", "amount", "unit_price", "discount_pct"):
                lines[name] = lines[name].astype("Int64")
            matched = match(conn, lines, reference)
            usable = matched[matched["edition_id"].notna() & matched["policy_version"].notna()]
            not_judged += len(matched) - len(usable)
            if usable.empty:
                continue
            ranks, _, _, below = classify(proposed, usable)
            special = (usable["standard_revenue"] - usable["net_amount"]).astype("int64").to_numpy()
            weeks = usable["date"].dt.strftime("%G-W%V").to_numpy()
            first = min(filter(None, [first, usable["date"].min()]))
            last = max(filter(None, [last, usable["date"].max()]))
            for i, (deal, key, sku, version, now_rank, now_below) in enumerate(
                zip(usable["deal_id"], usable["line_key"], usable["sku"], usable["policy_version"],
                    usable["level_rank"], usable["below_floor"], strict=True)
            ):  # fmt: skip
                before = class_name(int(now_rank), versions[int(version)].levels)
                after = class_name(int(ranks[i]), proposed.levels)
                current.add(before, int(special[i]), bool(now_below), str(deal), weeks[i])
                new.add(after, int(special[i]), bool(below[i]), str(deal), weeks[i])
                if before != after:
                    changed.append({"deal": str(deal), "line": _line_of(str(key)), "sku": str(sku),
                                    "current": before, "proposed": after})  # fmt: skip
            judged += len(usable)
    span = ((last - first).days // 7 + 1) if first is not None and last is not None else 0
    return Simulation(
        start=start or (first.date() if first is not None else None),
        end=end or (last.date() if last is not None else None),
        lines=judged,
        weeks=span,
        current=current,
        proposed=new,
        changed=changed,
        not_judged=not_judged,
    )


def _versions(conn: Any) -> list[Any]:
    from pricing.policies import _version

    rows = conn.exec_driver_sql(
        "SELECT id, effective_from, loaded_at, loaded_by, source, sha256, body FROM policies"
    ).fetchall()
    return [_version(row) for row in rows]


def _line_of(key: str) -> str:
    """The line's position in its deal (``D:SO-1#2`` -> ``2``) or its line id (``L:17``)."""
    if "#" in key:
        return key.rsplit("#", 1)[1]
    return key.split(":", 1)[1] if ":" in key else key
