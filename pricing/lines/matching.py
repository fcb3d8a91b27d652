"""Matching deal lines to the list price, standard price and policy in force on their dates.

Everything here works on whole columns (Arrow and numpy), because a deals history is millions of
lines. Lines are classified by the one rules engine (:mod:`pricing.policy.engine`), the same
checks that judge a single request line. Money stays in whole millionths; products that could
overflow 64 bits are done with Python integers.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar, cast

import numpy as np
import numpy.typing as npt

from pricing.errors import InputError
from pricing.io import arrow
from pricing.keys import glob_re2, sku_key
from pricing.lines import schema
from pricing.lines.segments import whole, zero_filled
from pricing.money import LARGEST, MICRO, TOO_LARGE_TEXT, minor_units
from pricing.policy import engine
from pricing.policy.arrays import Arrays
from pricing.policy.checks import LineColumns, Values, arrays_for, deal_values, product, times
from pricing.policy.model import Policy
from pricing.policy.versions import from_record
from pricing.storage import deal_tables
from pricing.storage.queries import PolicyRecord

if TYPE_CHECKING:
    import pyarrow as pa
    from sqlalchemy.engine import Connection

    from pricing.io.arrow import Array, Column

Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Numbers = tuple[Ints, Mask]  # millionths (or ids), and where they are missing
# Each line's deal value (millionths) from the lines' quantities and standard revenues: the
# caller knows which deal each line belongs to and the deals' other lines (stored, or elsewhere
# in the file); see :func:`pricing.policy.checks.deal_values`.
DealValues = Callable[[Ints, Ints], Ints]
_T = TypeVar("_T")


class Reference:
    """Price book and policy rows read once (:mod:`pricing.storage.deal_tables`, as the
    driver's tuples) and what is built of them, reused while a big file is matched in chunks."""

    def __init__(
        self, conn: Connection, skus: Array | None = None, *, keep_items: bool = False
    ) -> None:
        """``skus``: the distinct SKU keys of a file, when its lines carry ``sku_code`` (their
        position there): each edition then looks up each SKU once, not once per chunk.
        ``keep_items``: store an edition's items in columnar form the first time they are read
        (only a writer of the deal history, holding it, may)."""
        self.conn = conn
        self.skus = skus
        self.keep_items = keep_items
        self._built: dict[Hashable, object] = {}

    def reads_deal_value(self) -> bool:
        """Whether a stored policy version bounds a rule by the deal's value (else no line's
        deal value is needed)."""
        _, _, policies = self.built("policies", lambda: _policies(self))
        return any(policy.reads_deal_value for policy in policies.values())

    def built(self, key: Hashable, build: Callable[[], _T]) -> _T:
        """What ``build()`` makes from the rows (a frame of price items, say), made once."""
        if key not in self._built:
            self._built[key] = build()
        return cast(_T, self._built[key])


# Columns matching adds (schema.MATCHED): integers (millionths, ids, ranks) and text.
INTS = tuple(name for name in schema.MATCHED if schema.BY_NAME[name].kind != "string")
TEXTS = tuple(name for name in schema.MATCHED if schema.BY_NAME[name].kind == "string")
# An edition's items as matching reads them (pa.string() and pa.int64() by name).
ITEM_COLUMNS = (
    ("sku_key", "string"), ("family", "string"), ("list_price", "int64"), ("unit_cost", "int64"),
    ("floor_price", "int64"), ("currency", "string"),
)  # fmt: skip


def match(
    conn: Connection,
    lines: pa.Table,
    reference: Reference | None = None,
    deals: DealValues | None = None,
    *,
    judge: bool = True,
    located: Ints | None = None,
) -> dict[str, Array]:
    """The edition, list, standard, net and policy columns of deal lines (an Arrow table with
    date, sku, sku_key, qty, amount, unit_price and discount_pct), as Arrow arrays by name.
    ``deals`` gives each line's deal value from the lines' quantities and standard revenues
    (None: each line is a deal of its own); it is asked only when a policy in play reads it.
    ``judge`` False: the money only (the policy columns stay empty). ``located``: each line's
    position among its edition's items, found for a whole file at once (:class:`Locator`).

    The edition in force on each date is a binary search over the editions' dates; the item is
    a hash lookup of the SKU within that edition (Arrow), so nothing is sorted or merged."""
    import pyarrow as pa

    reference = reference or Reference(conn)
    n = lines.num_rows
    ints: dict[str, Numbers] = {name: (np.zeros(n, np.int64), np.ones(n, bool)) for name in INTS}
    texts: dict[str, Array] = {name: pa.nulls(n, pa.string()) for name in TEXTS}
    editions = reference.built("editions", lambda: _editions(reference))
    matched = np.zeros(n, bool)
    if len(editions[0]) and n:
        edition = _in_force(editions, lines)
        # Every edition in play, its items one after the other: a line's item is one position.
        numbers = present(edition[edition >= 0])
        items = [_items_of(reference, e) for e in numbers]
        position = np.full(n, -1)
        coded = reference.skus is not None and "sku_code" in lines.column_names
        codes: Ints | None = lines["sku_code"].to_numpy() if coded else None
        keys = None if coded else whole(lines["sku_key"])
        offset = 0
        for number, book in zip(numbers, items, strict=True):
            rows = np.flatnonzero(edition == number)
            if codes is not None:
                found = _found_of(reference, number, book)[codes[rows]]
            elif located is not None:
                found = located[rows]
            else:
                assert keys is not None
                found = _found(
                    keys if len(rows) == n else keys.take(pa.array(rows, pa.int64())), book
                )
            position[rows] = np.where(found >= 0, found + offset, -1)
            offset += len(book.sku_key)
        matched = position >= 0
        at_item = np.where(matched, position, 0)
        ints["edition_id"] = (np.where(matched, edition, 0), ~matched)
        for name in ("list_price", "unit_cost", "item_floor"):
            values = np.concatenate(
                [book.amounts[name][0] for book in items] or [np.zeros(1, np.int64)]
            )
            missing = np.concatenate(
                [book.amounts[name][1] for book in items] or [np.ones(1, bool)]
            )
            ints[name] = (values[at_item], missing[at_item] | ~matched)
        for name in ("family", "item_currency"):
            column = pa.concat_arrays([book.texts[name] for book in items] or [pa.array([""])])
            texts[name] = column.take(pa.array(at_item, pa.int64(), mask=~matched))
        if matched.any():
            ints["standard_price"] = _standard_prices(reference, lines, ints, texts, matched)
    if n:  # a line's money, whether or not a book lists its SKU (or any book exists yet)
        _money(lines, ints, matched)
    if judge and matched.any():
        _judge(reference, lines, ints, texts, matched, deals)
    columns: dict[str, Array] = {
        name: pa.array(v, pa.int64(), mask=m) for name, (v, m) in ints.items()
    }
    return columns | texts


class Locator:
    """Each line's position among the items of the edition in force on its date, for a file
    matched a chunk at a time (:func:`match` ``located``): each edition's items are looked up
    for all the file's lines at once, when a chunk first meets the edition (as :func:`match`
    would read them), their hash table built once, not once per chunk. No table of the file's
    own SKUs is built (a million distinct SKUs would take 160 MB)."""

    def __init__(self, reference: Reference, lines: pa.Table) -> None:
        self.reference = reference
        self.keys = whole(lines["sku_key"])
        editions = reference.built("editions", lambda: _editions(reference))
        n = lines.num_rows
        # (32 bits each: edition numbers and positions among an edition's items are small)
        edition = _in_force(editions, lines) if len(editions[0]) else np.full(n, -1)
        self.edition: npt.NDArray[np.int32] = edition.astype(np.int32)
        self.found: npt.NDArray[np.int32] = np.full(n, -1, np.int32)
        self.done: set[int] = set()

    def window(self, low: int, high: int) -> Ints:
        """The positions of lines ``low`` to ``high`` (-1: no item)."""
        import pyarrow as pa

        edition = self.edition[low:high]
        for number in present(edition[edition >= 0].astype(np.int64)):
            if number in self.done:
                continue
            rows = np.flatnonzero(self.edition == number)
            keys = (
                self.keys
                if len(rows) == len(self.keys)
                else self.keys.take(pa.array(rows, pa.int64()))
            )
            self.found[rows] = _found(keys, _items_of(self.reference, number))
            self.done.add(number)
        window: Ints = self.found[low:high].astype(np.int64)
        return window


def _in_force(editions: tuple[npt.NDArray[np.datetime64], Ints], lines: pa.Table) -> Ints:
    """The edition in force on each line's date (-1: none yet): a binary search over the
    editions' dates."""
    at = np.searchsorted(editions[0], lines["date"].to_numpy(), side="right") - 1
    edition: Ints = np.where(at >= 0, editions[1][np.maximum(at, 0)], -1)
    return edition


@dataclass(frozen=True)
class _Book:
    """One edition's items: SKU keys (Arrow, for lookups), ``family`` and ``item_currency``
    (Arrow text) and ``list_price``, ``unit_cost``, ``item_floor`` (numpy millionths)."""

    sku_key: Array
    texts: dict[str, Array]
    amounts: dict[str, Numbers]


def _items_of(reference: Reference, number: int) -> _Book:
    return reference.built(("items", number), lambda: _items(reference, number))


def _found_of(reference: Reference, number: int, book: _Book) -> Ints:
    """The positions of a file's distinct SKUs among an edition's items (once per edition)."""
    skus = reference.skus
    assert skus is not None  # only lines coded by their position in ``skus`` come here
    return reference.built(("found", number), lambda: _found(skus, book))


def _found(sku_keys: Array, book: _Book) -> Ints:
    """Each SKU key's position among an edition's items, -1 where it has none."""
    import pyarrow.compute as pc

    found: Ints = arrow.fill_null(pc.index_in(sku_keys, value_set=book.sku_key), -1).to_numpy()
    return found


def present(values: Ints) -> list[int]:
    """The distinct values of small non-negative integers (edition and policy numbers), in
    order: counting, where numpy's unique would hash a million values."""
    return np.flatnonzero(np.bincount(values)).tolist() if len(values) else []


def integers(column: Column) -> Numbers:
    """An Arrow integer column as numpy int64 values (0 where missing) and its missing mask."""
    import pyarrow.compute as pc

    column = whole(column)
    return zero_filled(column), pc.is_null(column).to_numpy(zero_copy_only=False)


def casefold(text: Column) -> Array:
    """``str.casefold`` of an Arrow text column: Arrow's lower case for ASCII (the same there),
    Python's casefold for the rest (``ß`` is ``ss``)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = whole(text)
    lowered = pc.utf8_lower(text)
    foreign = pc.invert(arrow.fill_null(pc.string_is_ascii(text), True))
    if not pc.any(foreign).as_py():
        return lowered
    rows = np.flatnonzero(foreign.to_numpy(zero_copy_only=False))
    folded = lowered.to_pylist()
    for row in rows:
        folded[row] = text[int(row)].as_py().casefold()
    return pa.array(folded, pa.string())


def _editions(reference: Reference) -> tuple[npt.NDArray[np.datetime64], Ints]:
    """Effective dates (ascending) and the edition in force from each (the newest import wins)."""
    rows = sorted(
        (str(effective)[:10], int(number))
        for number, effective in deal_tables.edition_dates(reference.conn)
    )
    latest: dict[str, int] = {}
    for effective, number in rows:
        latest[effective] = number
    return (
        np.array(list(latest), dtype="datetime64[D]"),
        np.array(list(latest.values()), dtype=np.int64),
    )


def _items(reference: Reference, number: int) -> _Book:
    """One edition's items: SKU keys and text (Arrow, for lookups), amounts (numpy). Read
    from their columnar copy, made from the rows the first time."""
    import pyarrow as pa

    from pricing.lines import segments

    # (While the migrations of an older store run, the table may not exist yet.)
    usable = reference.built("kept", lambda: deal_tables.can_keep_edition_items(reference.conn))
    blob = deal_tables.edition_items(reference.conn, number) if usable else None
    if blob is not None:
        items = segments.decode_table(blob)
    else:
        rows = deal_tables.edition_item_rows(reference.conn, number)
        columns = list(zip(*rows, strict=True)) if rows else [()] * 6
        items = pa.table(
            {
                name: pa.array(values, kind)
                for (name, kind), values in zip(ITEM_COLUMNS, columns, strict=True)
            }
        )
        if reference.keep_items and usable:
            deal_tables.keep_edition_items(reference.conn, number, segments.encode_table(items))
    return _Book(
        sku_key=whole(items["sku_key"]),
        texts={"family": whole(items["family"]), "item_currency": whole(items["currency"])},
        amounts={
            "list_price": integers(items["list_price"]),
            "unit_cost": integers(items["unit_cost"]),
            "item_floor": integers(items["floor_price"]),
        },
    )


_SPAN = 1 << 32  # quantities and tier minimums are compared within ±2^32 units


def _standard_prices(
    reference: Reference,
    lines: pa.Table,
    ints: dict[str, Numbers],
    texts: dict[str, Array],
    matched: Mask,
) -> Numbers:
    """The list price after the tiers of the line's edition for its quantity: the SKU's own
    tiers when it has any in that edition, else its family's; the highest minimum met wins.

    Each scope (edition and SKU, or edition and family) is a group; tiers sorted by group and
    minimum, one binary search finds every line's tier."""
    import pyarrow as pa
    import pyarrow.compute as pc

    listed, _ = ints["list_price"]
    standard = (listed.copy(), ~matched)
    edition, _ = ints["edition_id"]
    numbers = tuple(present(edition[matched]))
    tiers = reference.built(
        ("tiers", numbers), lambda: deal_tables.tier_rows_of(reference.conn, numbers)
    )
    if not tiers:
        return standard
    groups: dict[str, int] = {}
    tier_group = np.array(
        [groups.setdefault(_scope(e, sku, family), len(groups)) for e, sku, family, *_ in tiers]
    )
    rows = np.flatnonzero(matched)
    number = pc.cast(pa.array(edition[rows]), pa.string())
    scopes = pa.array(list(groups), pa.string())
    skus = whole(lines["sku_key"]).take(rows)
    family = arrow.fill_null(casefold(texts["family"].take(pa.array(rows, pa.int64()))), "")
    # The stubs want binary_join's arguments all scalars or all arrays; Arrow broadcasts.
    by_sku: Array = pc.binary_join_element_wise(number, "\x1fsku\x1f", skus, "")  # type: ignore[call-overload]
    by_family: Array = pc.binary_join_element_wise(number, "\x1ffamily\x1f", family, "")  # type: ignore[call-overload]
    own = pc.index_in(by_sku, value_set=scopes)
    of_family = pc.index_in(by_family, value_set=scopes)
    group = arrow.fill_null(pc.coalesce(own, of_family), -1).to_numpy().astype(np.int64)
    qty, _ = integers(lines["qty"])
    units = np.clip(np.floor_divide(qty[rows], MICRO), 1 - _SPAN, _SPAN - 1)
    minimum = np.clip(np.array([t[3] for t in tiers], dtype=np.int64), 1 - _SPAN, _SPAN - 1)
    keys = tier_group * (4 * _SPAN) + minimum + _SPAN
    order = np.argsort(keys, kind="stable")
    at = np.searchsorted(keys[order], group * (4 * _SPAN) + units + _SPAN, side="right") - 1
    tier = order[np.maximum(at, 0)]
    hit = (group >= 0) & (at >= 0) & (tier_group[tier] == group)
    rows, tier = rows[hit], tier[hit]
    price = np.array([t[4] if t[4] is not None else -1 for t in tiers], dtype=np.int64)[tier]
    pct = np.array([t[5] or 0 for t in tiers], dtype=np.int64)[tier]
    by_price = price >= 0
    standard[0][rows[by_price]] = price[by_price]
    rows, pct = rows[~by_price], pct[~by_price]
    if len(rows):
        currency = arrow.texts(texts["item_currency"].take(pa.array(rows, pa.int64())))
        step = np.array([10 ** (6 - minor_units(c)) for c in currency], dtype=np.int64)
        standard[0][rows] = _discounted(listed[rows], pct, step)
    return standard


def _scope(edition: int, sku: str | None, family: str | None) -> str:
    if sku is not None:
        return f"{int(edition)}\x1fsku\x1f{sku_key(sku)}"
    return f"{int(edition)}\x1ffamily\x1f{(family or '').casefold()}"


def _discounted(listed: Ints, pct: Ints, step: Ints) -> Ints:
    """``listed x (100 - pct) / 100``, rounded half-even to ``step`` (all in millionths):
    integer arithmetic where it fits 64 bits, Decimal for the rest."""
    fits = (listed >= 0) & (listed < (1 << 62) // (100 * MICRO)) & (pct >= 0) & (pct <= 100 * MICRO)
    safe = np.where(fits, listed, 0) * (100 * MICRO - np.where(fits, pct, 0))
    quotient, remainder = np.divmod(safe, 100 * MICRO * step)
    twice = 2 * remainder
    up = (twice > 100 * MICRO * step) | ((twice == 100 * MICRO * step) & (quotient % 2 == 1))
    result: Ints = (quotient + up) * step
    for row in np.flatnonzero(~fits):
        exact = Decimal(int(listed[row])) * (100 * MICRO - int(pct[row])) / (100 * MICRO)
        step_of = int(step[row])
        result[row] = int((exact / step_of).quantize(Decimal(1), "ROUND_HALF_EVEN")) * step_of
    return result


# A line's revenue stays below LARGEST (in millionths, 10^18: an int64 holds 9.2 x 10^18, and
# the report subtracts two of them); as a product of millionths, price x qty below this:
_LARGEST_PRODUCT = LARGEST * MICRO * MICRO


_times = times  # amount x qty (millionths), rounded half-even once


def _money(lines: pa.Table, ints: dict[str, Numbers], matched: Mask) -> None:
    """Net amount (line amount > net price x qty > list less discount), revenues, cost.

    Whole quantities multiply in int64, each product first checked to stay below LARGEST (a
    quantity within bounds times a list price within bounds may not); the rare fractional
    quantity and discount-priced lines are computed exactly and rounded half-even to
    millionths once, as every amount is."""
    qty, _ = integers(lines["qty"])
    whole_units = qty % MICRO == 0
    units = qty // MICRO
    for name, what in (("list_price", "list price"), ("standard_price", "standard price"),
                       ("unit_cost", "unit cost")):  # fmt: skip
        _refuse_too_large(lines, qty, *ints[name], what)
    net, net_missing = integers(lines["amount"])
    price, price_missing = integers(lines["unit_price"])
    by_price = net_missing & ~price_missing
    net = np.where(by_price & whole_units, price * units, net)
    net_missing = net_missing & ~by_price
    for row in np.flatnonzero(by_price & ~whole_units):
        net[row] = _times(int(price[row]), int(qty[row]))
    pct, pct_missing = integers(lines["discount_pct"])
    listed, _ = ints["list_price"]
    by_discount = net_missing & ~pct_missing & matched
    for row in np.flatnonzero(by_discount):
        unit = Decimal(int(listed[row])) * (100 * MICRO - int(pct[row])) / (100 * MICRO)
        net[row] = int(
            (unit * int(qty[row]) / MICRO).quantize(Decimal(1), rounding="ROUND_HALF_EVEN")
        )
    ints["net_amount"] = (net, net_missing & ~by_discount)

    def times_qty(column: str) -> Numbers:
        values, missing = ints[column]
        result = np.where(whole_units & ~missing, values * units, 0)
        for row in np.flatnonzero(~missing & ~whole_units):
            result[row] = _times(int(values[row]), int(qty[row]))
        return result, missing

    ints["list_revenue"] = times_qty("list_price")
    ints["standard_revenue"] = times_qty("standard_price")
    ints["cost_amount"] = times_qty("unit_cost")


def _refuse_too_large(lines: pa.Table, qty: Ints, values: Ints, missing: Mask, what: str) -> None:
    """An InputError naming the lines whose quantity x ``what`` reaches LARGEST (it would not
    fit the store's 64 bits: a list revenue wrapped round to minus 6.4 trillion)."""
    rough = np.abs(values.astype(np.float64) * qty.astype(np.float64))
    suspects = np.flatnonzero(~missing & (rough >= _LARGEST_PRODUCT / 2))
    rows = [r for r in suspects if abs(int(values[r]) * int(qty[r])) >= _LARGEST_PRODUCT]
    if not rows:
        return
    shown = [
        f"{lines['sku'][int(r)].as_py()} on {lines['date'][int(r)].as_py()} (quantity "
        f"{Decimal(int(qty[r])) / MICRO:,f} x {what} {Decimal(int(values[r])) / MICRO:,f})"
        for r in rows[:3]
    ]
    more = f" and {len(rows) - 3:,} more" if len(rows) > 3 else ""
    raise InputError(
        f"the deal line of {', '.join(shown)}{more}: its value {TOO_LARGE_TEXT}; check the "
        "quantity; nothing was stored"
    )


def _judge(
    reference: Reference,
    lines: pa.Table,
    ints: dict[str, Any],
    texts: dict[str, Any],
    matched: Any,
    deals: DealValues | None,
) -> None:
    """Policy classification of every matched line under the policy in force on its date.

    The engine reads the matched money straight from ``ints`` (numpy), not through Arrow
    arrays made of it and turned back into numpy."""
    import pyarrow as pa

    starts, numbers, policies = reference.built("policies", lambda: _policies(reference))
    if not len(numbers) or not matched.any():
        return
    days = lines["date"].to_numpy()
    at = np.searchsorted(starts, days, side="right") - 1
    version = np.where(matched & (at >= 0), numbers[np.maximum(at, 0)], -1)
    n = lines.num_rows
    # The engine's columns: the matched money straight from ``ints`` (0 where missing, and
    # the missing masks), not through Arrow arrays made of it; the texts in Arrow.
    money: dict[str, npt.NDArray[Any]] = {"qty": zero_filled(lines["qty"])}
    for into, name in (("net", "net_amount"), ("standard", "standard_price"),
                       ("cost", "unit_cost"), ("floor", "item_floor")):  # fmt: skip
        money[into] = np.where(ints[name][1], 0, ints[name][0])
    money["no_cost"], money["no_floor"] = ints["unit_cost"][1], ints["item_floor"][1]
    in_play = present(version[version >= 0])
    if any(policies[int(number)].reads_deal_value for number in in_play):
        revenue, missing = ints["standard_revenue"]
        sold = np.where(missing, 0, revenue)
        money["deal_value"] = (
            deals(money["qty"], sold) if deals else deal_values(np.arange(n), money["qty"], sold)
        )
    else:  # no rule reads it
        money["deal_value"] = np.zeros(n, dtype=np.int64)
    words: dict[str, Column] = {
        "sku_key": lines["sku_key"],
        "family": texts["family"],
        "currency": texts["item_currency"],
    }
    # A line's level is a position in the names of every version's levels, each list
    # preceded by "rejected" (rank -1).
    names: list[str] = []
    level = np.zeros(n, dtype=np.int64)
    for number in in_play:
        rows = np.flatnonzero(version == number)
        if len(rows) == n:
            columns = _line_columns(money, words)
        else:
            taken = pa.array(rows, pa.int64())
            columns = _line_columns(
                {name: values[rows] for name, values in money.items()},
                {name: column.take(taken) for name, column in words.items()},
            )
        ranks, floor, no_floor, below = engine.classify(policies[int(number)], columns)
        level[rows] = len(names) + 1 + ranks
        names += ["rejected", *policies[int(number)].levels]
        for name, values in (("level_rank", ranks), ("below_floor", below.astype(np.int64))):
            ints[name][0][rows] = values
            ints[name][1][rows] = False
        ints["policy_version"][0][rows] = number
        ints["policy_version"][1][rows] = False
        ints["hard_floor"][0][rows] = np.where(no_floor, 0, floor).astype(np.int64)
        ints["hard_floor"][1][rows] = no_floor
    texts["level"] = pa.array(names, pa.string()).take(
        pa.array(level, pa.int64(), mask=version < 0)
    )


def _policies(
    reference: Reference,
) -> tuple[npt.NDArray[np.datetime64], Ints, dict[int, Policy]]:
    """Effective dates (ascending), the policy version in force from each, and the policies."""
    versions = [
        from_record(PolicyRecord(*row)) for row in deal_tables.policy_version_rows(reference.conn)
    ]
    latest: dict[str, int] = {}
    for effective, number in sorted((str(v.effective_from)[:10], v.version) for v in versions):
        latest[effective] = number
    return (
        np.array(list(latest), dtype="datetime64[D]"),
        np.array(list(latest.values()), dtype=np.int64),
        {v.version: v.policy for v in versions},
    )


def classify(
    policy: Policy, lines: pa.Table, deal_value: Ints | None = None
) -> tuple[Any, Array, Any]:
    """Every line's class under ``policy`` (the engine's :func:`pricing.policy.engine.classify`
    over the ``CLASSIFIED`` columns of deal lines): the rank of the level needed (0 within the
    first level, -1 rejected), the hard floor (millionths, null where none) and whether the price
    is below it (0 or 1).

    ``deal_value``: each line's deal value (millionths); None: from the lines' ``deal_no``,
    ``qty`` and ``standard_revenue`` (:func:`pricing.policy.checks.deal_values`) when they
    have them, else each line is a deal of its own.

    A line's unit price is its net amount over its quantity, exactly; a line with quantity 0
    has none, so it is within the first level and never below a floor."""
    import pyarrow as pa

    if deal_value is None and policy.reads_deal_value:
        deal_value = _deal_values_of(lines)
    ranks, floor, none, below = engine.classify(policy, _columns(lines, deal_value))
    floors = pa.array(np.where(none, 0, floor).astype(np.int64), pa.int64(), mask=none)
    return ranks, floors, below.astype(np.int64)


def _deal_values_of(lines: pa.Table) -> Ints:
    """Each line's deal value from its ``deal_no``, ``qty`` and ``standard_revenue`` (each
    line its own deal without ``deal_no``; its revenue from its standard price without
    ``standard_revenue``)."""
    names = lines.column_names
    qty = zero_filled(lines["qty"])
    deal = zero_filled(lines["deal_no"]) if "deal_no" in names else np.arange(lines.num_rows)
    if "standard_revenue" in names:
        revenue = zero_filled(lines["standard_revenue"])
    else:
        revenue = revenues(qty, zero_filled(lines["standard_price"]))
    return deal_values(deal, qty, revenue)


def revenues(qty: Ints, prices: Ints) -> Ints:
    """Each line's ``price x qty`` (millionths), rounded half-even once: exact products in
    int64 for whole quantities, :func:`times` for the rare fractional one."""
    whole_units = qty % MICRO == 0
    result: Ints = np.where(whole_units, prices * (qty // MICRO), 0)
    for row in np.flatnonzero(~whole_units):
        result[row] = times(int(prices[row]), int(qty[row]))
    return result


def _columns(lines: pa.Table, deal_value: Ints | None) -> LineColumns:
    """Deal lines (Arrow) as the rules engine reads them."""
    cost, no_cost = integers(lines["unit_cost"])
    floor, no_floor = integers(lines["item_floor"])
    qty = zero_filled(lines["qty"])
    money = {
        "deal_value": deal_value if deal_value is not None else np.zeros(len(qty), np.int64),
        "qty": qty,
        "net": zero_filled(lines["net_amount"]),
        "standard": zero_filled(lines["standard_price"]),
        "cost": cost,
        "no_cost": no_cost,
        "floor": floor,
        "no_floor": no_floor,
    }
    words = {
        "sku_key": lines["sku_key"],
        "family": lines["family"],
        "currency": lines["item_currency"],
    }
    return _line_columns(money, words)


def _line_columns(
    money: Mapping[str, npt.NDArray[Any]], words: Mapping[str, Column]
) -> LineColumns:
    """Deal lines as the rules engine reads them: ``money`` in numpy (``qty``, ``net``,
    ``standard``, ``cost``, ``floor``, ``deal_value``: millionths, 0 where missing;
    ``no_cost``, ``no_floor``: where missing), ``words`` in Arrow (``sku_key``, ``family``,
    ``currency``)."""
    qty, net, standard = money["qty"], money["net"], money["standard"]
    # The unit price in millionths, net x MICRO / qty, as a ratio with a positive denominator
    # (qty 0: none); in whole units it is net / units.
    units = qty // MICRO
    if bool(np.all(units * MICRO == qty)) and not bool((qty < 0).any()):
        price_num, price_den = net, units
    else:
        sign = np.where(qty < 0, -1, 1)
        common = np.gcd(qty, MICRO)
        price_num, price_den = (
            product([net, sign * (MICRO // common)], len(qty)),
            sign * qty // common,
        )
    xp = arrays_for(qty)
    return LineColumns(
        sku_key=_values(words["sku_key"], xp, tested_whole=True),
        family=_values(words["family"], xp),
        currency=_values(words["currency"], xp),
        qty=qty,
        standard=standard,
        price_num=price_num,
        price_den=price_den,
        cost=money["cost"],
        no_cost=money["no_cost"],
        floor=money["floor"],
        no_floor=money["no_floor"],
        deal_value=money["deal_value"],
    )


def _values(column: Column, xp: Arrays, *, tested_whole: bool = False) -> Values:
    """A text column as its distinct values and each line's code (-1 where missing), encoded
    when a rule first needs it. ``tested_whole``: a SKU rule's equality and glob tests run in
    Arrow over the whole column (RE2 in C++), so a column of 100,000 distinct SKUs is neither
    encoded nor tested value by value in Python (its keys are stored without surrounding
    space, so equality needs no trimming)."""

    def load() -> Values:
        import pyarrow as pa

        text = whole(column.cast(pa.string()))
        n = len(text)
        if n and not text.null_count and _same(text, text[0]):  # one currency, usually
            return Values([text[0].as_py()], np.zeros(n, dtype=np.int8), xp)
        encoded = arrow.dictionary_encode(text)
        codes = arrow.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        return Values(arrow.texts(encoded.dictionary), codes, xp)

    if not tested_whole:
        return Values.later(load, xp)

    def flags(found: Array) -> Mask:
        passed: Mask = arrow.fill_null(found, False).to_numpy(zero_copy_only=False)
        return passed

    def equal(wanted: str) -> Mask:
        import pyarrow as pa
        import pyarrow.compute as pc

        return flags(pc.equal(column, pa.scalar(wanted)))

    def glob(pattern: str) -> Mask:
        import pyarrow.compute as pc

        return flags(pc.match_substring_regex(column, glob_re2(pattern)))

    return Values.later(load, xp, equal=equal, glob=glob)


def _same(text: Array, first: pa.Scalar[Any]) -> bool:
    """Whether every value of ``text`` is ``first`` (a few rows tried first: mostly not)."""
    import pyarrow.compute as pc

    return all(pc.all(pc.equal(part, first)).as_py() for part in (text.slice(0, 64), text))
