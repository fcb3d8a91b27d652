"""One standard price after tiers: the price book's (Decimal, one line: a quote, a request, a
price change's impact) and the deal history's (numpy, a million lines at import and re-match)
are two computations of the same rule; a property test holds them to the same cent.

The rule: a SKU's own tiers when the edition has any for it (case and surrounding space aside),
else its family's (case aside); the tier of the highest minimum at or below the quantity wins;
a tier's price as given, or list less its discount rounded half-even to the currency's minor
unit; no tier met: the list price.
"""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from decimal import Decimal

import numpy as np
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing.money import MICRO, minor_units
from pricing.pricebook import editions
from pricing.pricebook.model import PriceBook, PriceItem, Tier
from pricing.storage.store import MEMORY_URL, Store

_SKUS = ["HW-1", "HW-2", "SV-1", "AC-1"]
_FAMILIES = ["Hardware", "Services", None]


@functools.cache
def _store() -> Store:
    """One store in memory for every example (each adds an edition)."""
    return Store.open(MEMORY_URL)


def _money(draw: st.DrawFn, currency: str) -> Decimal:
    """An amount in the currency's minor units: small and odd ones (a discount of them ties
    half-way between two minor units) as often as large ones."""
    places = minor_units(currency)
    most = draw(st.sampled_from([10, 1000, 10**7 * 10**places]))
    return Decimal(draw(st.integers(0, most))).scaleb(-places)


@st.composite
def _books(draw: st.DrawFn) -> tuple[PriceBook, list[tuple[PriceItem, Decimal]]]:
    """A book of a few SKUs in one currency, tiers by SKU (spelled in another case, with space
    around) and by family, and the quantities to price them at."""
    currency = draw(st.sampled_from(["USD", "JPY", "KWD"]))
    items = {}
    for sku in draw(st.lists(st.sampled_from(_SKUS), min_size=1, max_size=4, unique=True)):
        item = PriceItem(sku, _money(draw, currency), currency,
                         family=draw(st.sampled_from(_FAMILIES)))  # fmt: skip
        items[sku.casefold()] = item
    scopes = [*(("sku", s) for s in _SKUS), *(("family", f) for f in _FAMILIES if f)]
    tiers, seen = [], set()
    for _ in range(draw(st.integers(0, 8))):
        basis, name = draw(st.sampled_from(scopes))
        min_qty = draw(st.integers(1, 60))
        if (basis, name, min_qty) in seen:  # the price book refuses a scope's minimum twice
            continue
        seen.add((basis, name, min_qty))
        spelled = draw(st.sampled_from([name, name.lower(), name.upper(), f" {name} "]))
        if draw(st.booleans()):
            price, pct = _money(draw, currency), None
        else:
            pct = draw(
                st.one_of(
                    st.sampled_from(
                        ["50", "25", "12.5", "37.5", "75", "0.5", "99.5", "100", "0"]
                    ).map(Decimal),
                    st.integers(0, 100 * MICRO).map(lambda p: Decimal(p).scaleb(-6)),
                )
            )  # halves and eighths tie half-way between two minor units: to even
            price = None
        tiers.append(
            Tier(
                min_qty,
                sku=spelled if basis == "sku" else None,
                family=spelled.strip() if basis == "family" else None,
                price=price,
                discount_pct=pct,
            )
        )
    # Quantities at, just below and just above the tiers' minimums, and anywhere.
    edges = [Decimal(t.min_qty) + d for t in tiers for d in (0, -1, Decimal("-0.000001"), 1)]
    quantities = st.one_of(
        st.sampled_from(edges or [Decimal(1)]),
        st.integers(-5, 80).map(Decimal),
        st.integers(-5 * MICRO, 80 * MICRO).map(lambda q: Decimal(q).scaleb(-6)),
    )
    lines = [
        (draw(st.sampled_from(list(items.values()))), draw(quantities))
        for _ in range(draw(st.integers(1, 12)))
    ]
    return PriceBook(items=items, tiers=tiers), lines


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_books())
def test_tier_price__one_line_in_decimal_and_a_column_in_numpy_agree(
    case: tuple[PriceBook, list[tuple[PriceItem, Decimal]]],
) -> None:
    """Stored as an edition, the book prices each line alike read back one SKU at a time
    (:meth:`PriceBook.standard_price`) and in bulk (``matching._standard_prices``)."""
    from pricing.lines.matching import Reference, _standard_prices
    from pricing.storage import deal_tables

    book, lines = case
    with _store().write() as conn:
        number = editions.add_edition(
            conn, book, effective_from=date(2024, 1, 1), source="tiers.csv",
            source_sha256="0" * 64, imported_by="test", imported_at=datetime.now(UTC),
        )  # fmt: skip
        stored = editions.load_book(conn, number)
        n = len(lines)
        table = pa.table(
            {
                "sku_key": pa.array([item.key for item, _ in lines], pa.string()),
                "qty": pa.array([int(qty * MICRO) for _, qty in lines], pa.int64()),
            }
        )
        listed = np.array([int(item.list_price * MICRO) for item, _ in lines], dtype=np.int64)
        ints = {
            "list_price": (listed, np.zeros(n, dtype=bool)),
            "edition_id": (np.full(n, number, dtype=np.int64), np.zeros(n, dtype=bool)),
        }
        texts = {
            "family": pa.array([item.family for item, _ in lines], pa.string()),
            "item_currency": pa.array([item.currency for item, _ in lines], pa.string()),
        }
        assert deal_tables.tier_rows_of(conn, [number]) or not book.tiers
        in_bulk, _ = _standard_prices(Reference(conn), table, ints, texts, np.ones(n, bool))
    for (item, qty), bulk in zip(lines, in_bulk, strict=True):
        one, _ = stored.standard_price(stored.items[item.key], qty)
        assert Decimal(int(bulk)) / MICRO == one, (item, qty, book.tiers)
