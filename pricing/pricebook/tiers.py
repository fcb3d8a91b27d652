"""Standard volume pricing from the price book's ``Tiers`` sheet: each row names a SKU of the
book or a family, a minimum quantity, and a tier price or a discount %."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pricing.io.headers import find_header, unknown_overrides
from pricing.io.sheets import Sheet, cell_text
from pricing.keys import sku_key
from pricing.money import TOO_LARGE, TOO_LARGE_TEXT, parse_decimal, parse_percent, round_money
from pricing.pricebook.cells import cell_ref, is_empty, text_of, whole_number
from pricing.pricebook.columns import TIER_HEADERS
from pricing.pricebook.model import PriceBook, Tier
from pricing.pricebook.rows import RowErrors
from pricing.problems import Problem, Problems, Severity


def read_tiers(
    sheet: Sheet,
    book: PriceBook,
    problems: Problems,
    errors: RowErrors,
    columns: Mapping[str, str],
) -> list[Tier]:
    """Standard volume pricing from the ``Tiers`` sheet: SKU or family, min qty, price or %.

    ``--column sku=…``/``family=…`` name the tier sheet's columns too when it has that
    header (a tier sheet may keep the usual ``SKU`` while the price sheet says ``Numero``)."""
    problems.extend(sheet.problems)
    errors.whole_file += sum(p.severity == "error" for p in sheet.problems)
    wanted = {f: h for f, h in columns.items() if f in ("sku", "family")}
    absent = {name for name, _, _ in unknown_overrides(sheet, wanted)}
    overrides = {f: h for f, h in wanted.items() if f not in absent}
    found = find_header(
        sheet,
        TIER_HEADERS,
        overrides,
        lambda m: (
            ("sku" in m or "family" in m)
            and "min_qty" in m
            and ("price" in m or "discount_pct" in m)
        ),
    )
    if found is None:
        if any(not is_empty(c) for row in sheet.rows for c in row):
            errors.whole_file += 1
            problems.append(
                Problem(
                    "error",
                    "no header naming a SKU or family, a minimum quantity and a price or "
                    "discount % (e.g. SKU | Min Qty | Price)",
                    file=sheet.file,
                    sheet=sheet.name,
                )
            )
        return []
    header_row, cols = found
    errors.sheets.append((sheet, header_row, cols.get("sku")))
    reader = TierReader(sheet, book, problems, cols, errors)
    reader.headers = {f: cell_text(sheet.value(header_row, c)) for f, c in cols.items()}
    reader.fractions = discounts_are_fractions(sheet, header_row, cols.get("discount_pct"))
    if reader.fractions:
        reader.problem(
            "warning", header_row, cols["discount_pct"], None,
            "discounts are all below 1 and are read as fractions (0.1 = 10 %)",
        )  # fmt: skip
    tiers: list[Tier] = []
    for r in range(header_row + 1, len(sheet.rows)):
        tier = reader.read(r)
        if tier is not None:
            tiers.append(tier)
    return tiers


class TierReader:
    """Reads one row of the Tiers sheet into a tier, collecting problems as it goes."""

    def __init__(
        self,
        sheet: Sheet,
        book: PriceBook,
        problems: Problems,
        cols: dict[str, int],
        row_errors: RowErrors,
    ) -> None:
        self.sheet, self.book, self.problems, self.cols = sheet, book, problems, cols
        self.row_errors = row_errors
        self.headers: dict[str, str] = {}  # field -> the header its column has
        self.errors = 0  # found, listed or only counted
        self.fractions = False
        self.families = book.families()
        self.seen: dict[tuple[str, str, int], int] = {}

    def problem(self, severity: Severity, r: int, c: int | None, value: Any, message: str) -> None:
        """Record a problem at a cell; an error is one of its row (--skip-invalid leaves the
        row out)."""
        if severity == "error":
            self.errors += 1
            self.row_errors.row(self.sheet, r, message)
        if self.problems.only_counted(severity, message):
            return
        text = None if value is None else cell_text(value)
        self.problems.append(Problem(severity, message, value=text, **self.sheet.location(r, c)))

    def read(self, r: int) -> Tier | None:
        """The tier of row ``r`` (None for a blank row or one with an error)."""
        row, cols = self.sheet.rows[r], self.cols

        def cell(name: str) -> Any:
            c = cols.get(name)
            return row[c] if c is not None and c < len(row) else None

        if all(is_empty(cell(name)) for name in cols):
            return None
        sku, family = text_of(cell("sku")), text_of(cell("family"))
        qty_raw, price_raw, pct_raw = cell("min_qty"), cell("price"), cell("discount_pct")
        errors_before = self.errors
        self._check_scope(r, sku, family)
        min_qty = whole_number(qty_raw)
        if min_qty is None or not 1 <= min_qty < TOO_LARGE:
            self.problem(
                "error", r, cols["min_qty"], qty_raw,
                "minimum quantity must be a whole number of 1 or more",
            )  # fmt: skip
        price, pct = self._price_or_discount(r, price_raw, pct_raw)
        if self.errors > errors_before:
            return None
        assert min_qty is not None
        scope = (
            ("sku", sku_key(sku), min_qty)
            if sku
            else ("family", (family or "").casefold(), min_qty)
        )
        if scope in self.seen:
            self.problem(
                "error", r, cols["min_qty"], qty_raw,
                f"a second tier for the same {scope[0]} and quantity (first at "
                f"{cell_ref(self.sheet, self.seen[scope], cols['min_qty'])})",
            )  # fmt: skip
            return None
        self.seen[scope] = r
        if not (sku and price is not None):
            return Tier(min_qty=min_qty, sku=sku, family=family, price=price, discount_pct=pct)
        item = self.book.get(sku)
        assert item is not None
        price = round_money(price, item.currency)
        if price > item.list_price:
            self.problem(
                "warning", r, cols["price"], price_raw,
                f"tier price is above the list price {item.list_price}",
            )  # fmt: skip
        return Tier(min_qty=min_qty, sku=item.sku, price=price)

    def _check_scope(self, r: int, sku: str | None, family: str | None) -> None:
        """A tier names a SKU of the book or a family, never both."""
        cols = self.cols
        if bool(sku) == bool(family):
            where = cols.get("sku", cols.get("family"))
            self.problem(
                "error", r, where, sku or family,
                "a tier names either a SKU or a family"
                + (", not both" if sku else f"; this row names neither ({self._looked_in()})"),
            )  # fmt: skip
        elif sku and self.book.get(sku) is None:
            self.problem("error", r, cols["sku"], sku, "no such SKU in the price book")
        elif family and family.casefold() not in self.families:
            self.problem(
                "warning", r, cols["family"], family, "no item in the price book has this family"
            )

    def _looked_in(self) -> str:
        """Where a tier row's SKU or family was looked for: the headers of those columns, or
        that the sheet has none and how to name it."""
        said = []
        for name, label in (("sku", "SKU"), ("family", "Family")):
            header = self.headers.get(name)
            said.append(
                f"the {label} column {header!r} is empty"
                if header is not None
                else f"no {label} column: a header such as {label!r}, or --column {name}=HEADER"
            )
        return "; ".join(said)

    def _price_or_discount(
        self, r: int, price_raw: Any, pct_raw: Any
    ) -> tuple[Decimal | None, Decimal | None]:
        """The tier price or the discount % (exactly one is given), or problems."""
        cols = self.cols
        if is_empty(price_raw) == is_empty(pct_raw):
            self.problem(
                "error", r, cols.get("price", cols.get("discount_pct")), price_raw or pct_raw,
                "give either a tier price or a discount %, not both"
                if not is_empty(price_raw) else "give a tier price or a discount %",
            )  # fmt: skip
            return None, None
        if not is_empty(price_raw):
            try:
                price = parse_decimal(price_raw)
            except ValueError as exc:
                self.problem("error", r, cols["price"], price_raw, f"tier price {exc}")
                return None, None
            if price <= 0:
                self.problem("error", r, cols["price"], price_raw, "tier price must be above zero")
            elif price >= TOO_LARGE:
                self.problem("error", r, cols["price"], price_raw, f"tier price {TOO_LARGE_TEXT}")
            return price, None
        try:
            pct = parse_percent(pct_raw)
            if self.fractions and not (isinstance(pct_raw, str) and "%" in pct_raw):
                pct *= 100
        except ValueError as exc:
            self.problem("error", r, cols["discount_pct"], pct_raw, f"discount {exc}")
            return None, None
        if not 0 < pct < 100:
            self.problem(
                "error", r, cols["discount_pct"], pct_raw,
                "discount % must be above 0 and below 100",
            )  # fmt: skip
        return None, pct


def discounts_are_fractions(sheet: Sheet, header_row: int, col: int | None) -> bool:
    """Every discount written as a number is below 1: the column holds fractions (0.1 for
    10 %), as a sheet formatted as percentages stores them."""
    if col is None:
        return False
    numbers = []
    for row in sheet.rows[header_row + 1 :]:
        value = row[col] if col < len(row) else None
        if is_empty(value) or (isinstance(value, str) and "%" in value):
            continue
        try:
            numbers.append(parse_decimal(value))
        except ValueError:
            continue
    return bool(numbers) and all(0 < n < 1 for n in numbers)
