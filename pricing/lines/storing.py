"""A deals import's fresh lines matched and stored: a chunk at a time (bounded memory), each
chunk matched with the whole deals it holds lines of (:mod:`pricing.lines.matching`) and handed
to the segments' writer (:class:`pricing.lines.segments.Appender`), which compresses it on
another core while the next chunk is matched.

:mod:`pricing.lines.service` decides which lines of a file are fresh (not stored already) and
what the import records; this module only matches and stores them, counting what did not
match and the sales far above their standard.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from pricing.config import above_standard_flag
from pricing.io.arrow import dates, texts
from pricing.limits import UNMATCHED_SKUS_LISTED
from pricing.lines import schema, segments
from pricing.lines.matching import DealValues, Locator, Reference, match
from pricing.lines.reader import Progress, micros_text
from pricing.money import MICRO
from pricing.policy.checks import deal_values
from pricing.problems import Problem

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa
    from sqlalchemy.engine import Connection

    from pricing.io.arrow import Array, Column

CHUNK = 100_000


@dataclass
class Fresh:
    """The file's lines not stored yet, whether each counts its deal, and the deal's number
    in the history; the keys of the file's lines an earlier import stored (a blob, or None)."""

    lines: pa.Table
    deal_first: npt.NDArray[np.bool_]
    deal_no: npt.NDArray[np.int64]
    held: bytes | None = None
    adds_to_stored_deals: bool = False  # some lines belong to deals stored before


@dataclass
class Stored:
    """What matching and storing the fresh lines found: the lines that matched no list price
    and their SKUs (how many, the first few listed), the warnings, and the deals stored before
    that the file adds lines to (None: none), whose stored lines are worth judging again."""

    unmatched: int = 0
    unmatched_sku_count: int = 0
    unmatched_skus: list[tuple[str, str]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    grown: npt.NDArray[np.int64] | None = None


def match_and_store(
    conn: Connection,
    fresh: Fresh,
    number: int | None,
    *,
    dry_run: bool,
    progress: Progress | None,
    file: str | None = None,
) -> Stored:
    """Match the fresh lines a chunk at a time (bounded memory) and store each chunk as it
    is matched (unless a dry run); count the unmatched lines and SKUs.

    Each line's item is looked up for the whole file, an edition at a time, when a chunk first
    meets the edition (:class:`~pricing.lines.matching.Locator`): each edition's items hashed
    once, not once per chunk. Coding the file's own SKUs first (one lookup per distinct SKU)
    was no faster, and for a file of a million SKUs of its own its hash table took 160 MB."""
    import numpy as np
    import pyarrow.compute as pc

    reference = Reference(conn, keep_items=not dry_run)
    by_deal = reference.reads_deal_value()
    if by_deal:
        fresh = _grouped_by_deal(fresh)
    lines = fresh.lines
    locator = Locator(reference, lines)
    elsewhere = _stored_sales(conn, fresh) if by_deal else None
    unmatched_parts = []
    result = Stored()
    appender = segments.Appender(conn, number)
    above = _AboveStandard(above_standard_flag())
    starts = _deal_starts(fresh.deal_no) if by_deal else None
    for start in range(0, lines.num_rows, CHUNK):
        stop = min(start + CHUNK, lines.num_rows)
        chunk = lines.slice(start, stop - start)
        # Matched with the whole deals it holds a part of (their other lines are matched again
        # with the next or the last chunk): each line has its deal's value, and the segments
        # stay CHUNK lines each.
        low, high = (
            (start, stop) if starts is None else _whole_deals(starts, start, stop, lines.num_rows)
        )
        deals = _deal_values(fresh.deal_no[low:high], elsewhere) if by_deal else None
        facts = lines.slice(low, high - low).select(list(schema.FACTS))
        matched = match(conn, facts, reference, deals, located=locator.window(low, high))
        if (low, high) != (start, stop):
            matched = {
                name: column.slice(start - low, stop - start) for name, column in matched.items()
            }
        above.add(chunk, matched)
        unmatched = pc.is_null(matched["edition_id"])
        result.unmatched += unmatched.true_count
        if unmatched.true_count:
            unmatched_parts.append(chunk.select(["sku", "date"]).filter(unmatched))
        if not dry_run:
            appender.add(_stored_chunk(chunk, matched, fresh, start, stop, number))
        del matched, chunk, facts
        if progress:
            progress(stop, lines.num_rows)
    appender.close()
    result.problems.extend(above.warning(file))
    if unmatched_parts:
        result.unmatched_sku_count, result.unmatched_skus = _unmatched_skus(unmatched_parts)
    if elsewhere is not None and len(elsewhere[0]) and not dry_run:
        result.grown = np.unique(elsewhere[0])
    return result


def _deal_starts(deal_no: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The rows where a deal's lines begin (they are together: :func:`_grouped_by_deal`)."""
    import numpy as np

    begins = np.ones(len(deal_no), dtype=bool)
    begins[1:] = deal_no[1:] != deal_no[:-1]
    found: npt.NDArray[np.int64] = np.flatnonzero(begins)
    return found


def _whole_deals(starts: npt.NDArray[np.int64], start: int, stop: int, n: int) -> tuple[int, int]:
    """The rows from the first line of the deal at row ``start`` to the last line of the deal
    at row ``stop - 1`` (of ``n``): the whole deals those rows hold lines of."""
    import numpy as np

    low = int(starts[np.searchsorted(starts, start, side="right") - 1])
    after = int(np.searchsorted(starts, stop - 1, side="right"))
    return low, int(starts[after]) if after < len(starts) else n


def _grouped_by_deal(fresh: Fresh) -> Fresh:
    """The fresh lines with each deal's lines together: as they are when the file lists a
    deal's lines one after the other (an export by order: nothing moves), else in a stable
    order of their deals' numbers (a file whose deals interleave is stored deal by deal)."""
    import numpy as np

    deal_no = fresh.deal_no
    if len(deal_no) < 2:
        return fresh
    runs = 1 + int(np.count_nonzero(deal_no[1:] != deal_no[:-1]))
    if runs == int(np.count_nonzero(np.bincount(deal_no - deal_no.min()))):
        return fresh
    order = np.argsort(deal_no, kind="stable")
    return Fresh(
        fresh.lines.take(order), fresh.deal_first[order], deal_no[order], fresh.held,
        fresh.adds_to_stored_deals,
    )  # fmt: skip


Sales = tuple["npt.NDArray[np.int64]", "npt.NDArray[np.int64]", "npt.NDArray[np.int64]"]


def _stored_sales(conn: Connection, fresh: Fresh) -> Sales | None:
    """The deal number, quantity and standard revenue of the stored lines of the deals the
    fresh lines belong to (a later file adding lines to a deal), or None when there are none."""
    import numpy as np

    if not fresh.adds_to_stored_deals:
        return None
    stored = segments.scan(conn, ["deal_no", "qty", "standard_revenue"])
    deal = segments.zero_filled(stored["deal_no"])
    mine = np.isin(deal, fresh.deal_no)
    if not mine.any():
        return None
    return (
        deal[mine],
        segments.zero_filled(stored["qty"])[mine],
        segments.zero_filled(stored["standard_revenue"])[mine],
    )


def _deal_values(deal: npt.NDArray[np.int64], elsewhere: Sales | None) -> DealValues:
    """Each line's deal value from its chunk (which holds whole deals) and the deals' lines
    stored already (``elsewhere``)."""
    import numpy as np

    def values(qty: npt.NDArray[np.int64], revenue: npt.NDArray[np.int64]) -> Any:
        if elsewhere is None:
            return deal_values(deal, qty, revenue)
        theirs = np.isin(elsewhere[0], deal)
        together = [np.concatenate([mine, other[theirs]]) for mine, other in
                    zip((deal, qty, revenue), elsewhere, strict=True)]  # fmt: skip
        return deal_values(*together)[: len(deal)]

    return values


class _AboveStandard:
    """Sales (quantity above zero) at over ``times`` their standard price (a price or a quantity
    typed wrong, more often than a real premium): counted as the chunks are matched, exactly as
    the report counts them (``above_standard_flagged_lines``), the first kept as an example for
    the import's warning."""

    def __init__(self, times: Decimal) -> None:
        self.times = times
        self.count = 0
        self.example: tuple[int, int, int] | None = None  # line, net unit price, standard

    def add(self, chunk: pa.Table, matched: dict[str, Array]) -> None:
        import numpy as np
        import pyarrow.compute as pc

        qty = segments.zero_filled(chunk["qty"])
        net = segments.zero_filled(matched["net_amount"])
        standard = segments.zero_filled(matched["standard_revenue"])
        priced = pc.is_valid(matched["edition_id"]).to_numpy(zero_copy_only=False)
        # Floats find the few candidates; whole numbers decide them (net x under > standard x
        # over, as the report's query does in 128 bits): a matched sale above its standard,
        # a standard of 0 too (a tier that gives the item away).
        near = (
            priced
            & (qty > 0)
            & (net > standard)
            & (net >= standard * (float(self.times) * (1 - 1e-9)))
        )
        if not near.any():
            return
        over, under = self.times.as_integer_ratio()
        rows = [
            int(row)
            for row in np.flatnonzero(near)
            if int(net[row]) * under > int(standard[row]) * over
        ]
        if not rows:
            return
        if self.example is None:
            first = rows[0]
            price = matched["standard_price"][first].as_py()
            unit = int(net[first]) * MICRO // int(qty[first])
            self.example = (int(chunk["line"][first].as_py()), unit, int(price))
        self.count += len(rows)

    def warning(self, file: str | None) -> list[Problem]:
        if not self.count or self.example is None:
            return []
        line, unit, standard = self.example
        return [
            Problem(
                "warning",
                f"{self.count:,} line(s) sold at over {self.times.normalize():f}x their standard "
                f"price (e.g. line {line}: {micros_text(unit, money=True)} a unit, standard "
                f"{micros_text(standard, money=True)}): check its price or quantity",
                file=file,
                line=line,
            )
        ]


def _unmatched_skus(parts: list[pa.Table]) -> tuple[int, list[tuple[str, str]]]:
    """How many SKUs the unmatched lines (``parts``: their SKUs and dates) name, and the
    first UNMATCHED_SKUS_LISTED of them by SKU, each with the first date it was sold on: a
    file of a million lines that match nothing, each its own SKU, lists a readable few.
    Worked out by sorting the SKUs (hashing a million of them to group the lines takes
    several times the memory); the dates only of those listed."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    lines = pa.concat_tables(parts)
    skus = segments.whole(lines["sku"])
    ordered = skus.take(pc.array_sort_indices(skus))
    starts = np.ones(len(ordered), dtype=bool)  # where a SKU begins, in sorted order
    if len(ordered) > 1:
        differs = pc.not_equal(ordered.slice(1), ordered.slice(0, len(ordered) - 1))
        starts[1:] = differs.to_numpy(zero_copy_only=False)
    listed = ordered.filter(pa.array(starts)).slice(0, UNMATCHED_SKUS_LISTED)
    del ordered
    theirs = lines.filter(pc.is_in(skus, value_set=listed))
    first = theirs.group_by("sku").aggregate([("date", "min")]).sort_by("sku")
    days = [day.isoformat() for day in dates(first["date_min"])]
    return int(starts.sum()), list(zip(texts(first["sku"]), days, strict=True))


def _stored_chunk(
    chunk: pa.Table,
    matched: dict[str, Array],
    fresh: Fresh,
    start: int,
    stop: int,
    number: int | None,
) -> pa.Table:
    """A chunk of fresh lines as stored: the file's columns, what they matched, and the
    import's bookkeeping."""
    import numpy as np
    import pyarrow as pa

    columns: dict[str, Column] = {
        name: chunk[name] for name in schema.NAMES if name in chunk.schema.names
    }
    columns.update({name: matched[name] for name in schema.MATCHED})
    columns["deal_first"] = pa.array(fresh.deal_first[start:stop])
    columns["deal_no"] = pa.array(fresh.deal_no[start:stop])
    columns["import_id"] = pa.array(np.full(chunk.num_rows, number))
    return segments.as_stored(columns)
