"""Policy what-if: the stored deals of a period judged under the policy in force and a new one.

A line's class is exactly the decision ``request --check`` would give it (its SKU, quantity and
net unit price, on its date): ``approved`` within the first level, ``pending:<level>`` for the
lowest level that covers it, ``rejected`` beyond the top level or below a hard floor. The
engine is the one the report uses (:func:`pricing.lines.matching.classify`, checked against
:func:`pricing.policy.model.judge`), run over whole columns.

The lines compared are the period's sales lines matched to a list price. A line no policy
judges now (none in force on its date) is in the class ``not_judged`` on the current side; the
proposed policy judges it when its ``effective_from`` (today, when it names none: as loading it
would) is on or before the line's date, else it stays ``not_judged`` there too. Left out, and
counted: unmatched lines (no list price), returns (quantity below zero: never judged against a
policy) and stock adjustments (quantity below zero at price 0).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from pricing.analysis import report_judged
from pricing.io.arrow import texts
from pricing.io.perf import paused_gc
from pricing.lines import schema, segments
from pricing.lines.matching import classify, present
from pricing.lines.segments import zero_filled
from pricing.money import MICRO
from pricing.policy.checks import deal_values
from pricing.policy.model import Policy
from pricing.policy.versions import all_versions
from pricing.storage.store import Store, utcnow

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa
    from sqlalchemy.engine import Connection

    from pricing.policy.versions import PolicyVersion

    Ints = npt.NDArray[np.int64]


@dataclass
class ClassTotals:
    lines: int = 0
    special_discount: Decimal = Decimal(0)
    below_floor: int = 0


@dataclass
class Side:
    """One policy's view of the period: lines per class, and approver workload."""

    classes: dict[str, ClassTotals] = field(default_factory=lambda: defaultdict(ClassTotals))
    requests: dict[str, int] = field(default_factory=dict)  # level -> (deal, week) pairs
    # Out of policy as the report counts it: below a hard floor, or needing an approval that no
    # approved request covers (the lines and their special discount).
    out_of_policy_lines: int = 0
    out_of_policy_amount: Decimal = Decimal(0)

    @property
    def inside(self) -> Decimal:
        """Special discount the policy allows (at some level); not that of lines it does not
        judge (``not_judged``)."""
        return sum(
            (
                t.special_discount
                for n, t in self.classes.items()
                if n not in ("rejected", NOT_JUDGED)
            ),
            Decimal(0),
        )

    @property
    def outside(self) -> Decimal:
        """Special discount no level may approve (the ``rejected`` class: beyond the top level
        or below a hard floor); not the report's "out of policy", which also counts lines that
        needed an approval nobody gave (:attr:`out_of_policy_amount`)."""
        rejected = self.classes.get("rejected")
        return rejected.special_discount if rejected else Decimal(0)

    def workload(self, weeks: int) -> dict[str, Decimal]:
        """Requests per week each level would have had to decide (deals needing it, by week)."""
        return {level: Decimal(count) / max(weeks, 1) for level, count in self.requests.items()}


# The class of a line no policy judges: none in force on its date (the current side), or the
# proposed policy not yet in force on it (its effective_from is later).
NOT_JUDGED = "not_judged"


@dataclass
class Simulation:
    """Every stored sales line of a period judged under the policy in force and a proposed one:
    the lines and special discount per class on each side, and the lines that change class.

    ``lines`` are the lines compared (each side's classes add up to them); ``unjudged`` of them
    have no policy in force on their dates (the current side's ``not_judged`` class). Left out
    of the comparison: ``unmatched`` lines, ``returns`` and stock ``adjustments``."""

    start: date | None
    end: date | None
    lines: int
    weeks: int
    current: Side
    proposed: Side
    changed: list[dict[str, str]]
    unmatched: int = 0  # lines whose SKU had no list price on their date: nothing to judge
    unjudged: int = 0  # lines compared with no policy in force on their date
    returns: int = 0  # matched lines of negative quantity (money refunded): never judged
    adjustments: int = 0  # matched lines of negative quantity at price 0 (stock written off)

    @property
    def not_judged(self) -> int:
        """Every stored line of the period left out of the comparison: unmatched lines, returns
        and stock adjustments (``lines + not_judged`` is every stored line of the period)."""
        return self.unmatched + self.returns + self.adjustments


# The stored columns (pricing.lines.schema) the what-if reads: the class each line was given
# when matched and what it sold for, and what the policy engine reads to judge it again.
COLUMNS = [
    "deal_id", "deal_no", "line_key", "date", "sku", "standard_revenue", "net_amount", "level_rank",
    "below_floor", "policy_version", "edition_id", "request_id", "qty",
]  # fmt: skip
CHUNK = 250_000
EPOCH = date(1970, 1, 1)


def simulate(
    db: Store, proposed: Policy, *, start: date | None = None, end: date | None = None
) -> Simulation:
    """Judge the period's sales lines matched to a list price under the policy in force and
    under ``proposed`` (lines no policy judges now: ``not_judged``, see the module's docstring).

    The class under the policy in force was stored with each line when it was matched; only
    the proposed policy is evaluated, column-wise. A line's class is an index into the list of
    class names, so the totals are counts and sums over integer arrays.
    """
    import numpy as np
    import pyarrow as pa

    with paused_gc(), db.read() as conn:
        versions = {v.version: v.policy for v in _versions(conn)}
        stored = segments.scan(
            conn,
            list(dict.fromkeys([*COLUMNS, *schema.CLASSIFIED, *report_judged.OUT_OF_POLICY])),
            start=start,
            end=end,
        )
        # A deal's value is over its lines in the store, whatever the period holds of them.
        whole = stored if start is None and end is None else None
        if proposed.reads_deal_value and whole is None:
            whole = segments.scan(conn, ["deal_no", "qty", "standard_revenue"])
    deal_value = _deal_values(stored, whole) if proposed.reads_deal_value else None
    cover = report_judged.approved_cover(db)
    compared, left_out = _compared(stored)
    if not compared.all():
        stored = stored.filter(pa.array(compared))
        if deal_value is not None:
            deal_value = deal_value[compared]
    n = stored.num_rows
    unjudged = stored["policy_version"].null_count
    if not n:
        return Simulation(start, end, 0, 0, Side(), Side(), [], **left_out)
    with paused_gc():
        names: dict[str, int] = {}
        current = _current(stored, versions, names)
        new, ranks_new, below_new = _proposed(
            stored.select(list(schema.CLASSIFIED)), proposed, names, deal_value
        )
        # A line no policy judges now is judged by the proposed one from its effective_from.
        if unjudged:
            since = proposed.effective_from or utcnow().date()
            days = zero_filled(stored["date"].cast(pa.int32()))
            waiting = (current == names[NOT_JUDGED]) & (days < (since - EPOCH).days)
            new[waiting] = names[NOT_JUDGED]
            below_new[waiting] = False
            judged_new = ~waiting
        else:
            judged_new = np.ones(n, dtype=bool)
        labels = {code: name for name, code in names.items()}
        sides = _sides(stored, labels, (current, _stored_below(stored)), (new, below_new))
        _out_of_policy(sides[0], stored, cover)
        verdict = _with_verdict(stored, ranks_new, below_new, judged_new, max(versions, default=0))
        _out_of_policy(sides[1], verdict, cover)
        changed = _changed(stored, labels, current, new)
        first, last = segments.date_bounds(stored["date"])
    return Simulation(
        start=start or first,
        end=end or last,
        lines=n,
        weeks=(last - first).days // 7 + 1,
        current=sides[0],
        proposed=sides[1],
        changed=changed,
        unjudged=unjudged,
        **left_out,
    )


def _compared(stored: pa.Table) -> tuple[npt.NDArray[np.bool_], dict[str, int]]:
    """Which lines are compared (sales lines matched to a list price), and how many of the
    others are stock adjustments (quantity below zero at price 0, matched or not), unmatched
    and returns: the parts the report puts them in (its ``judged`` view, :func:`pricing.analysis.report_judged.judged`)."""
    import pyarrow.compute as pc

    matched = pc.is_valid(stored["edition_id"]).to_numpy(zero_copy_only=False)
    negative = zero_filled(stored["qty"]) < 0
    # A line without a net amount (none could be computed) is not at price 0: the report's
    # ``adj`` (coalesce(qty < 0 AND net_amount = 0, false)) leaves it out of the adjustments.
    priced = pc.is_valid(stored["net_amount"]).to_numpy(zero_copy_only=False)
    adjustment = negative & priced & (zero_filled(stored["net_amount"]) == 0)
    left_out = {
        "unmatched": int((~matched & ~adjustment).sum()),
        "returns": int((matched & negative & ~adjustment).sum()),
        "adjustments": int(adjustment.sum()),
    }
    compared: npt.NDArray[np.bool_] = matched & ~negative
    return compared, left_out


def _current(stored: pa.Table, versions: dict[int, Policy], names: dict[str, int]) -> Ints:
    """Each line's class under the policy in force on its date, as stored when matched
    (``not_judged`` where none was in force)."""
    import numpy as np

    current = np.empty(stored.num_rows, dtype=np.int64)
    version = zero_filled(stored["policy_version"])
    ranks = zero_filled(stored["level_rank"])
    current[version == 0] = names.setdefault(NOT_JUDGED, len(names))  # (versions count from 1)
    for number in present(version):
        if number:
            rows = version == number
            current[rows] = _codes(names, ranks[rows], versions[int(number)].levels)
    return current


def _out_of_policy(side: Side, lines: pa.Table, cover: pa.Table | None) -> None:
    """The side's out-of-policy lines and special discount, as the report counts them."""
    oop = report_judged.out_of_policy(lines, cover)
    special = _special_discounts(lines)
    side.out_of_policy_lines = int(oop.sum())
    side.out_of_policy_amount = Decimal(_exact_sum(special[oop])) / MICRO


def _special_discounts(lines: pa.Table) -> Ints:
    """Each sales line's special discount as the report counts it: standard less net where it
    was sold below its standard price, 0 where at or above it (a sale above standard never
    cancels another's discount)."""
    import numpy as np

    special: Ints = np.maximum(
        zero_filled(lines["standard_revenue"]) - zero_filled(lines["net_amount"]), 0
    )
    return special


def _with_verdict(
    stored: pa.Table,
    ranks: Ints,
    below: npt.NDArray[np.bool_],
    judged: npt.NDArray[np.bool_],
    newest: int,
) -> pa.Table:
    """The lines with a proposed policy's verdict in place of the stored one: judged by it
    (``judged``) as by a version after the ``newest`` stored, the others judged by none."""
    import numpy as np
    import pyarrow as pa

    version = zero_filled(stored["policy_version"])
    version = np.where(version == 0, newest + 1, version)
    unjudged = ~judged
    verdict = {
        "policy_version": pa.array(version.astype("int32"), mask=unjudged),
        "level_rank": pa.array(ranks.astype("int8"), mask=unjudged),
        "below_floor": pa.array(below.astype("int8"), mask=unjudged),
    }
    for name, values in verdict.items():
        stored = stored.set_column(stored.schema.get_field_index(name), name, values)
    return stored


def _stored_below(stored: pa.Table) -> npt.NDArray[np.bool_]:

    below: npt.NDArray[np.bool_] = zero_filled(stored["below_floor"]) == 1
    return below


def _deal_values(stored: pa.Table, whole: pa.Table | None) -> Ints:
    """Each stored line's deal value (:func:`pricing.policy.checks.deal_values`) over its
    deal's lines in ``whole`` (the store, or the scanned lines when they are all of it)."""
    import numpy as np

    assert whole is not None
    deal = zero_filled(whole["deal_no"])
    values = deal_values(deal, zero_filled(whole["qty"]), zero_filled(whole["standard_revenue"]))
    if whole is stored:
        return values
    by_number = np.zeros(int(deal.max()) + 1 if len(deal) else 1, dtype=values.dtype)
    by_number[deal] = values
    found: Ints = by_number[zero_filled(stored["deal_no"])]
    return found


def _proposed(
    judged: pa.Table, proposed: Policy, names: dict[str, int], deal_value: Ints | None
) -> tuple[Ints, Ints, npt.NDArray[np.bool_]]:
    """Each line's class under the proposed policy, its level rank, and whether it is below
    its hard floor: judged a chunk at a time (bounded memory)."""
    import numpy as np

    n = judged.num_rows
    new = np.empty(n, dtype=np.int64)
    ranks_new = np.empty(n, dtype=np.int64)
    below_new = np.empty(n, dtype=bool)
    for offset in range(0, n, CHUNK):
        value = None if deal_value is None else deal_value[offset : offset + CHUNK]
        ranks, _, below = classify(proposed, judged.slice(offset, CHUNK), value)
        new[offset : offset + CHUNK] = _codes(names, np.asarray(ranks), proposed.levels)
        ranks_new[offset : offset + CHUNK] = np.asarray(ranks)
        below_new[offset : offset + CHUNK] = np.asarray(below).astype(bool)
    return new, ranks_new, below_new


def _sides(
    stored: pa.Table,
    labels: dict[int, str],
    *classes: tuple[Ints, npt.NDArray[np.bool_]],
) -> list[Side]:
    """Each policy's totals, from the lines' classes and whether each is below its floor."""
    import pyarrow as pa

    special = _special_discounts(stored)
    # Weeks from Monday to Sunday, numbered from the epoch (1970-01-01 was a Thursday):
    # the same weeks as ISO year and week, one number each.
    weeks = (zero_filled(stored["date"].cast(pa.int32())) + 3) // 7
    deal_numbers = zero_filled(stored["deal_no"])
    return [_side(codes, below, special, deal_numbers, weeks, labels) for codes, below in classes]


def _changed(
    stored: pa.Table, labels: dict[int, str], current: Ints, new: Ints
) -> list[dict[str, str]]:
    """The lines whose class the proposed policy changes."""
    import numpy as np
    import pyarrow as pa

    moved = pa.array(np.flatnonzero(current != new), type=pa.int64())
    return [
        {"deal": d, "line": _line_of(k), "sku": sku, "current": labels[c], "proposed": labels[p]}
        for d, k, sku, c, p in zip(
            texts(stored["deal_id"].take(moved)), texts(stored["line_key"].take(moved)),
            texts(stored["sku"].take(moved)), current[moved].tolist(), new[moved].tolist(),
            strict=True,
        )
    ]  # fmt: skip


def _codes(names: dict[str, int], ranks: Ints, levels: list[str]) -> Ints:
    """Class codes (indexes into ``names``, grown as needed) from level ranks: 0 approved,
    k pending at levels[k], -1 rejected."""
    import numpy as np

    classes = ["rejected", "approved", *(f"pending:{level}" for level in levels[1:])]
    lookup = np.array([names.setdefault(name, len(names)) for name in classes], dtype=np.int64)
    codes: Ints = lookup[np.where(ranks < 0, 0, ranks + 1)]
    return codes


def _side(
    codes: Ints,
    below: npt.NDArray[np.bool_],
    special: Ints,
    deals: Ints,
    weeks: Ints,
    labels: dict[int, str],
) -> Side:
    """One policy's totals: lines, special discount (exact) and floors per class, and the
    distinct (deal, week) pairs each approval level would have had to decide."""
    import numpy as np

    side = Side()
    order = np.argsort(codes, kind="stable")  # each class's lines next to each other
    counts = np.bincount(codes, minlength=len(labels))
    ends = np.cumsum(counts)
    special, below, pairs = special[order], below[order], (deals * 10_000_000 + weeks)[order]
    for code in sorted(np.flatnonzero(counts).tolist(), key=lambda c: labels[c]):
        rows = slice(int(ends[code] - counts[code]), int(ends[code]))
        name = labels[code]
        totals = side.classes[name]
        totals.lines = int(counts[code])
        totals.special_discount = Decimal(_exact_sum(special[rows])) / MICRO
        totals.below_floor = int(below[rows].sum())
        if name.startswith("pending:"):  # deal x week (weeks since 1970 stay below 10**7)
            side.requests[name.split(":", 1)[1]] = _distinct(pairs[rows])
    return side


def _distinct(values: Ints) -> int:
    """How many different values (sorting: numpy's hashing unique is several times slower)."""
    import numpy as np

    ordered = np.sort(values)
    return int(np.count_nonzero(ordered[1:] != ordered[:-1])) + 1 if len(ordered) else 0


def _exact_sum(values: Ints) -> int:
    """The sum of int64 values as a Python int: numpy's when it cannot overflow."""
    if not len(values) or int(abs(values).max()) < 2**62 // len(values):
        return int(values.sum())
    return sum(values.tolist())


def _versions(conn: Connection) -> list[PolicyVersion]:

    return all_versions(conn)


def _line_of(key: str) -> str:
    """The line's position in its deal (``D:SO-1#2`` -> ``2``) or its line id (``L:17``)."""
    if "#" in key:
        return key.rsplit("#", 1)[1]
    return key.split(":", 1)[1] if ":" in key else key
