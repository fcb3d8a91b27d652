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
    deal_weeks: dict[str, set[tuple[str, int]]] = field(default_factory=lambda: defaultdict(set))

    def add(self, name: str, special_micros: int, below: bool, deal: str, week: int) -> None:
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


COLUMNS = [
    "deal_id", "line_key", "date", "sku", "sku_key", "family", "qty", "standard_price",
    "net_amount", "list_price", "unit_cost", "standard_revenue", "level_rank", "below_floor",
    "policy_version", "item_floor", "item_currency",
]  # fmt: skip
CHUNK = 250_000


def simulate(
    db: Store, proposed: Policy, *, start: date | None = None, end: date | None = None
) -> Simulation:
    """Judge every stored deal line of the period under the policy in force and under ``proposed``.

    The lines' matched columns (standard price, net amount, the class under the policy in force)
    are read from the stored segments; only the proposed policy is evaluated, column-wise.
    """
    import pyarrow.compute as pc

    from pricing import history
    from pricing.perf import paused_gc

    with paused_gc(), db.read() as conn:
        versions = {v.version: v.policy for v in _versions(conn)}
        stored = history.scan(conn, [*COLUMNS, "edition_id"], start=start, end=end)
    total = stored.num_rows
    stored = stored.filter(
        pc.and_(pc.is_valid(stored["edition_id"]), pc.is_valid(stored["policy_version"]))
    )
    with paused_gc():
        current, new = Side(), Side()
        changed: list[dict[str, str]] = []
        lines, first, last = 0, None, None
        for offset in range(0, stored.num_rows, CHUNK):  # bounded memory: a chunk at a time
            frame = history.to_frame(stored.slice(offset, CHUNK))
            judged = _judge_chunk(frame, proposed, versions)
            _add(current, judged, "current", "below_current")
            _add(new, judged, "proposed", "below_proposed")
            moved = judged[judged["current"] != judged["proposed"]]
            changed.extend(
                {"deal": str(d), "line": _line_of(str(k)), "sku": str(s), "current": c, "proposed": p}
                for d, k, s, c, p in zip(
                    moved["deal_id"], moved["line_key"], moved["sku"], moved["current"],
                    moved["proposed"], strict=True,
                )
            )  # fmt: skip
            lines += len(judged)
            low, high = judged["date"].min(), judged["date"].max()
            first = low if first is None else min(first, low)
            last = high if last is None else max(last, high)
    if first is None or last is None:
        return Simulation(start, end, 0, 0, current, new, [], int(total))
    return Simulation(
        start=start or first.date(),
        end=end or last.date(),
        lines=lines,
        weeks=(last - first).days // 7 + 1,
        current=current,
        proposed=new,
        changed=changed,
        not_judged=int(total) - lines,
    )


def _judge_chunk(frame: Any, proposed: Policy, versions: dict[int, Policy]) -> Any:
    """Both classes of each line of a chunk, and what the totals need (discount, deal, week)."""
    import numpy as np
    import pandas as pd

    from pricing.matching import classify

    ranks, _, _, below = classify(proposed, frame)
    out = pd.DataFrame(
        {
            "deal_id": frame["deal_id"],
            "line_key": frame["line_key"],
            "sku": frame["sku"],
            "date": frame["date"],
            "special": (frame["standard_revenue"] - frame["net_amount"]).astype("int64"),
            "below_current": frame["below_floor"].fillna(0).astype(bool),
            "below_proposed": np.asarray(below).astype(bool),
            "proposed": _names(np.asarray(ranks), proposed.levels),
        }
    )
    out["current"] = None
    for version, group in frame.groupby("policy_version"):
        levels = versions[int(version)].levels
        out.loc[group.index, "current"] = _names(group["level_rank"].to_numpy(dtype=int), levels)
    calendar = out["date"].dt.isocalendar()
    out["week"] = (calendar["year"] * 100 + calendar["week"]).astype("int64")  # ISO year and week
    return out


def _names(ranks: Any, levels: list[str]) -> Any:
    """Class names from level ranks (0 approved, k pending at levels[k], -1 rejected)."""
    import numpy as np

    lookup = np.array(
        ["rejected", "approved", *(f"pending:{lv}" for lv in levels[1:])], dtype=object
    )
    return lookup[np.where(ranks < 0, 0, ranks + 1)]


def _add(side: Side, judged: Any, column: str, below: str) -> None:
    """Add a chunk's lines to one policy's totals."""
    grouped = judged.groupby(column).agg(
        lines=("special", "size"), special=("special", "sum"), below=(below, "sum")
    )
    for name, row in grouped.iterrows():
        totals = side.classes[str(name)]
        totals.lines += int(row["lines"])
        totals.special_discount += Decimal(int(row["special"])) / MICRO
        totals.below_floor += int(row["below"])
    pending = judged[judged[column].str.startswith("pending:")][[column, "deal_id", "week"]]
    for name, group in pending.drop_duplicates().groupby(column):
        side.deal_weeks[str(name).split(":", 1)[1]].update(
            zip(group["deal_id"], group["week"], strict=True)
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
