"""The price book: marketing's standard prices, one edition per import.

An edition is a complete price book (every SKU sold, its list price and attributes) plus the
standard volume tiers marketing grants to everyone. Editions are never edited in place; the price
in force on a date is the one of the newest edition effective on or before it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any, NamedTuple

from pricing.keys import sku_key
from pricing.money import MICRO, round_money, to_micros

ITEM_FIELDS = (
    "sku",
    "name",
    "family",
    "list_price",
    "currency",
    "unit_cost",
    "floor_price",
    "status",
)


class PriceItem(NamedTuple):
    """One SKU's standard pricing in one edition (a tuple: a book holds many thousands)."""

    sku: str
    list_price: Decimal
    currency: str
    name: str | None = None
    family: str | None = None
    unit_cost: Decimal | None = None
    floor_price: Decimal | None = None
    status: str | None = None

    @property
    def key(self) -> str:
        return sku_key(self.sku)


@dataclass(frozen=True, slots=True)
class Tier:
    """A standard volume price: from ``min_qty`` units, a price or a discount off list.

    A tier names either one SKU or a whole family; a SKU's own tiers replace its family's.
    """

    min_qty: int
    sku: str | None = None
    family: str | None = None
    price: Decimal | None = None
    discount_pct: Decimal | None = None

    def price_for(self, item: PriceItem) -> Decimal:
        if self.price is not None:
            return self.price
        assert self.discount_pct is not None
        return round_money(item.list_price * (100 - self.discount_pct) / 100, item.currency)

    @property
    def scope(self) -> str:
        return f"SKU {self.sku}" if self.sku else f"family {self.family}"


@dataclass
class PriceBook:
    """The contents of one edition: items keyed by SKU key, in the order marketing listed them."""

    items: dict[str, PriceItem]
    tiers: list[Tier] = field(default_factory=list)
    _by_sku: dict[str, list[Tier]] | None = field(default=None, repr=False, compare=False)
    _by_family: dict[str, list[Tier]] | None = field(default=None, repr=False, compare=False)

    def get(self, sku: str) -> PriceItem | None:
        return self.items.get(sku_key(sku))

    def tiers_for(self, item: PriceItem) -> list[Tier]:
        """The tiers that apply to a SKU, lowest quantity first."""
        if self._by_sku is None or self._by_family is None:
            self._index_tiers()
        assert self._by_sku is not None and self._by_family is not None
        own = self._by_sku.get(item.key)
        if own:
            return own
        if item.family:
            return self._by_family.get(item.family.casefold(), [])
        return []

    def standard_price(self, item: PriceItem, qty: int | Decimal) -> tuple[Decimal, Tier | None]:
        """The list price after marketing's own volume tiers for this quantity."""
        best: Tier | None = None
        for tier in self.tiers_for(item):
            if tier.min_qty <= qty:
                best = tier
        return (best.price_for(item), best) if best else (item.list_price, None)

    def stored_rows(self, edition: int) -> list[tuple[Any, ...]]:
        """Items in file order as edition ``edition`` stores them: plain tuples in the column
        order of its table (edition, key, position, SKU, name, family, list price, currency,
        cost, floor, status), amounts as whole millionths, made in one pass.

        The one canonical form of an item, the one the store writes (and its audit digests).
        Item amounts have at most 6 decimals by construction: readers round to the currency's
        minor unit and the store keeps millionths.
        """
        micros = Decimal(MICRO)  # (as money.to_micros, without its check: see above)
        # Each item unpacked in its field order: a quarter faster than naming its fields.
        return [
            (edition, key, position, sku, name, family, int(price * micros), currency,
             None if cost is None else int(cost * micros),
             None if floor is None else int(floor * micros), status)
            for position, (key, (sku, price, currency, name, family, cost, floor, status))
            in enumerate(self.items.items())
        ]  # fmt: skip

    def search(self, text: str) -> list[PriceItem]:
        """The items whose name or SKU has ``text`` in it (case aside), in file order."""
        wanted = text.strip().casefold()
        if not wanted:
            return []
        return [
            i
            for key, i in self.items.items()
            if wanted in key or wanted in (i.name or "").casefold()
        ]

    def closest(self, text: str, n: int = 5) -> list[PriceItem]:
        """The items whose SKU or name is most like ``text`` (difflib), the closest first
        (among equals, by SKU or name: ``HW-1O01`` suggests HW-1001 before HW-1041)."""
        import difflib

        wanted = text.strip().casefold()
        scored: list[tuple[float, str, PriceItem]] = []
        matcher = difflib.SequenceMatcher()
        matcher.set_seq2(wanted)
        for key, i in self.items.items():
            for said in (key, (i.name or "").casefold()):
                matcher.set_seq1(said)
                if said and matcher.real_quick_ratio() >= 0.5 and matcher.quick_ratio() >= 0.5:
                    score = matcher.ratio()
                    if score >= 0.5:
                        scored.append((-score, said, i))
        found: list[PriceItem] = []
        for _, _, item in sorted(scored, key=lambda s: (s[0], s[1])):
            if item not in found:
                found.append(item)
            if len(found) == n:
                break
        return found

    def families(self) -> set[str]:
        """The families of the items, case aside (each spelling folded once, not each item)."""
        spellings = set(map(attrgetter("family"), self.items.values()))
        return {family.casefold() for family in spellings if family}

    def _index_tiers(self) -> None:
        by_sku: dict[str, list[Tier]] = {}
        by_family: dict[str, list[Tier]] = {}
        for tier in sorted(self.tiers, key=lambda t: t.min_qty):
            if tier.sku:
                by_sku.setdefault(sku_key(tier.sku), []).append(tier)
            elif tier.family:
                by_family.setdefault(tier.family.casefold(), []).append(tier)
        self._by_sku, self._by_family = by_sku, by_family


@dataclass(frozen=True, slots=True)
class Edition:
    """An imported version of the price book, and where it came from."""

    number: int
    effective_from: date
    source: str
    imported_at: datetime
    imported_by: str
    items: int
    source_sha256: str


@dataclass(frozen=True, slots=True)
class ItemChange:
    old: PriceItem
    new: PriceItem
    fields: tuple[str, ...]

    @property
    def price_change_pct(self) -> Decimal | None:
        """The list price move in %; None when the price did not move, or when the currency
        changed (10.00 CAD and 10.00 USD are not the same price, nor 12.00 USD a 20 % rise)."""
        old, new = self.old, self.new
        if old.list_price == new.list_price or not old.list_price or old.currency != new.currency:
            return None
        return (new.list_price - old.list_price) / old.list_price * 100

    @property
    def currency_changed(self) -> bool:
        return self.old.currency != self.new.currency


@dataclass
class BookDiff:
    """What changed between two price books, item by item."""

    added: list[PriceItem]
    removed: list[PriceItem]
    changed: list[ItemChange]
    unchanged: int
    tiers_changed: bool

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.tiers_changed)


def compare(old: PriceBook | None, new: PriceBook) -> BookDiff:
    """Added, removed and changed items of ``new`` against ``old`` (None: everything is added)."""
    if old is None:
        return BookDiff(list(new.items.values()), [], [], 0, bool(new.tiers))
    added = [item for key, item in new.items.items() if key not in old.items]
    removed = [item for key, item in old.items.items() if key not in new.items]
    changed: list[ItemChange] = []
    unchanged = 0
    for key, item in new.items.items():
        before = old.items.get(key)
        if before is None:
            continue
        if before == item:
            unchanged += 1
            continue
        fields = tuple(f for f in ITEM_FIELDS if getattr(before, f) != getattr(item, f))
        changed.append(ItemChange(before, item, fields))
    tiers_changed = _tier_set(old.tiers) != _tier_set(new.tiers)
    return BookDiff(added, removed, changed, unchanged, tiers_changed)


DIFF_SORTS = ("file", "move", "sku")


def narrowed(
    diff: BookDiff, *, changed_only: bool = False, family: str | None = None, sort: str = "file"
) -> BookDiff:
    """The part of a diff a person asked to see: only the changed SKUs (not those added or
    removed), only one family's (case aside; a changed SKU whose family changed counts in
    either), sorted by SKU or by the size of the price move (largest absolute % first; SKUs
    whose price did not move, or changed currency, after them by SKU). ``unchanged`` and
    ``tiers_changed`` stay those of the whole diff."""
    if sort not in DIFF_SORTS:
        raise ValueError(f"sort is one of {', '.join(DIFF_SORTS)}")
    wanted = family.casefold() if family else None

    def of_family(*items: PriceItem) -> bool:
        return wanted is None or any((i.family or "").casefold() == wanted for i in items)

    added = [] if changed_only else [i for i in diff.added if of_family(i)]
    removed = [] if changed_only else [i for i in diff.removed if of_family(i)]
    changed = [c for c in diff.changed if of_family(c.old, c.new)]
    if sort != "file":
        added.sort(key=lambda i: i.key)
        removed.sort(key=lambda i: i.key)
        changed.sort(key=lambda c: c.new.key)
    if sort == "move":
        changed.sort(key=lambda c: -abs(c.price_change_pct or Decimal(0)))  # stable: then by SKU
    return BookDiff(added, removed, changed, diff.unchanged, diff.tiers_changed)


def _tier_set(tiers: Iterable[Tier]) -> set[tuple[object, ...]]:
    return {
        (
            t.min_qty,
            t.sku and sku_key(t.sku),
            t.family and t.family.casefold(),
            to_micros(t.price),
            to_micros(t.discount_pct),
        )
        for t in tiers
    }
