"""Which sheet and which columns of a price book mean what: the names marketers give them.

Headers are compared after :func:`pricing.io.sheets.normalise_header`, so case, spaces and
punctuation do not matter; ``--column FIELD=HEADER`` names any other header.
"""

from __future__ import annotations

from collections.abc import Iterable

from pricing.errors import InputError
from pricing.io.sheets import normalise_header

PRICE_SHEET_NAMES = ("Price Book", "Pricebook", "Prices", "Price List", "Pricelist", "List Prices")
TIER_SHEET_NAMES = ("Tiers", "Volume Tiers", "Tier Pricing", "Volume Pricing", "Volume Discounts")

# Field -> accepted headers, best first (compared after normalise_header).
ITEM_HEADERS: dict[str, tuple[str, ...]] = {
    "sku": (
        "sku", "item no", "part no", "product code", "product id", "product no", "item code",
        "article no", "catalog no", "catalogue no", "stockcode", "stock code", "code", "item",
        "part", "article", "model", "ref", "reference",
    ),
    "list_price": (
        "list price", "msrp", "price", "unit price", "list", "rrp", "base price",
        "wholesale price",
    ),
    "name": (
        "name", "description", "product name", "item name", "product description",
        "item description", "product", "title",
    ),
    "family": (
        "family", "product family", "category", "product category", "product line", "line",
        "group", "product group",
    ),
    "unit_cost": ("unit cost", "cost", "standard cost", "cost price", "cogs"),
    "currency": ("currency", "ccy", "currency code", "cur"),
    "floor_price": ("floor price", "floor", "minimum price", "min price"),
    "status": ("status", "lifecycle", "lifecycle status", "state"),
}  # fmt: skip
TIER_HEADERS: dict[str, tuple[str, ...]] = {
    "sku": ITEM_HEADERS["sku"],
    "family": ITEM_HEADERS["family"],
    "min_qty": (
        "min qty", "minimum qty", "min quantity", "minimum quantity", "from qty", "qty from",
        "quantity from", "from quantity", "qty break", "quantity break", "break", "qty",
        "quantity", "from", "min",
    ),
    "price": ("price", "tier price", "unit price", "volume price", "list price"),
    "discount_pct": (
        "discount %", "discount", "disc %", "discount pct", "discount percent", "% off", "off",
        "discount off list",
    ),
}  # fmt: skip
FIELD_ALIASES = {"price": "list_price", "cost": "unit_cost", "description": "name"}


def parse_column_overrides(pairs: Iterable[str], known: Iterable[str]) -> dict[str, str]:
    """``["sku=Numero", "list_price=Hinta"]`` -> ``{"sku": "Numero", ...}``; bad ones raise."""
    known_fields = set(known)
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, header = pair.partition("=")
        field_name = FIELD_ALIASES.get(name.strip().lower(), name.strip().lower())
        if not sep or not header.strip():
            raise InputError(
                f" {pair!r}: write it as FIELD=HEADER, e.g. sku=Numero",
                field="columns",
            )
        if field_name not in known_fields:
            raise InputError(
                f" {pair!r}: unknown field {name.strip()!r}; "
                f"the fields are {', '.join(sorted(known_fields))}",
                field="columns",
            )
        result[field_name] = header.strip()
    return result


def is_tier_name(name: str) -> bool:
    """A sheet named like a Tiers sheet: not offered as a price sheet, and when ``--sheet``
    chooses one as the price sheet, no other sheet is read for its tiers."""
    return normalise_header(name) in {normalise_header(n) for n in TIER_SHEET_NAMES}
