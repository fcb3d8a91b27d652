"""The rows of a price sheet read into items: one pass under the header, problems at cells.

Finding the header and what the columns mean is :mod:`pricing.io.headers`'s (with
:mod:`pricing.pricebook.columns`'s names); the money cells are read by
:mod:`pricing.pricebook.amounts`, the currency by :mod:`pricing.pricebook.currency`. Most rows
of a real book are plain (a SKU, a number within the currency's decimals): they take a fast path,
and only a row that is not takes the careful one that says what is wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from functools import partial
from typing import Any

from pricing.io.headers import (
    HEADER_SEARCH_ROWS,
    closest_header,
    find_header,
    likely_header,
    unknown_override_message,
    unknown_overrides,
)
from pricing.io.sheets import Sheet, cell_text, column_letter
from pricing.keys import sku_key
from pricing.money import display_money, is_blank, minor_units
from pricing.pricebook.amounts import Amounts
from pricing.pricebook.cells import (
    Body,
    cell_ref,
    is_empty,
    looks_like_label,
    plain_amount,
    plain_amounts,
    text_of,
)
from pricing.pricebook.columns import ITEM_HEADERS
from pricing.pricebook.currency import BookCurrency
from pricing.pricebook.model import PriceItem
from pricing.pricebook.options import Progress, ReadOptions
from pricing.pricebook.rows import CellProblems, RowErrors
from pricing.problems import Problem, Problems, kind_of

# One row as an item: (its index under the header, its number, its cells, its SKU, its list
# price cell, the section it is in).
RowReader = Callable[[int, int, list[Any], str, Any, str | None], PriceItem | None]


class ItemReader:
    """Reads the rows under the header into items, collecting problems as it goes."""

    def __init__(self, sheet: Sheet, options: ReadOptions) -> None:
        self.sheet = sheet
        self.options = options
        self.problems = Problems(sheet.problems)
        self.errors = RowErrors(options.skip_invalid)
        self.errors.whole_file += sum(p.severity == "error" for p in sheet.problems)
        self.record = CellProblems(sheet, self.problems, self.errors)
        self.currency = BookCurrency(options, self.record)
        self.others_valid = False  # rows without errors of their own remain
        self.item_rows: dict[str, int] = {}  # the row of each item, by its key
        self.cols: dict[str, int] = {}
        self.header_missing = False

    def read(self, progress: Progress | None) -> dict[str, PriceItem] | None:
        """The items of the sheet by key (None when no header or a bad ``--column``)."""
        sheet = self.sheet
        typos = unknown_overrides(sheet, self.options.columns)
        for name, header, closest in typos:
            message = unknown_override_message(name, header, closest)
            self.problems.append(Problem("error", message, file=sheet.file, sheet=sheet.name))
        if typos:
            return None
        found = find_header(
            sheet,
            ITEM_HEADERS,
            self.options.columns,
            lambda m: "sku" in m and "list_price" in m,
        )
        if found is None:
            self.header_missing = True
            self.problems.append(no_header(sheet, self.options.columns))
            return None
        header_row, cols = found
        self.record.header_row, self.cols = header_row, cols
        self.errors.sheets.append((sheet, header_row, cols["sku"]))
        body = Body(sheet.rows, header_row + 1)
        if "currency" not in cols:
            self.currency.from_prices(body, cols["list_price"])
        amounts = Amounts(self.record, cols)
        amounts.find_decimal_mark(body)
        bad_rows = formula_problems(self.record, cols, header_row)
        items = self._rows(body, bad_rows, amounts, progress)
        if "currency" in cols:
            self.currency.check_column(cols["currency"], body, cols["sku"])
        item_rows = self.item_rows
        if self.errors.rows:
            bad = self.errors.rows_of(sheet)
            self.others_valid = any(r not in bad for r in item_rows.values())
            if self.options.skip_invalid:  # duplicates' first rows, rows with a price in
                for key, r in list(item_rows.items()):  # another currency, ...
                    if r in bad:
                        del items[key], item_rows[key]
        if not items and (self.options.skip_invalid or not self.problems.counts["error"]):
            self.record.add(
                "error", header_row, None, None,
                "no price rows under the header: the sheet lists no SKU with a price"
                + (" (every row with a SKU has an error)" if self.errors.rows else ""),
            )  # fmt: skip
        return items

    def _rows(
        self, body: Body, bad_rows: set[int], amounts: Amounts, progress: Progress | None
    ) -> dict[str, PriceItem]:
        """Each row under the header: an item, a section label, blank, or problems."""
        rows, cols = self.sheet.rows, self.cols
        items: dict[str, PriceItem] = {}
        item_rows = self.item_rows
        duplicates = Duplicates(self.record, cols["sku"])
        family_spelling: dict[str, str] = {}
        section: str | None = None
        sku_col, price_col = cols["sku"], cols["list_price"]
        total = len(rows)
        width = max(cols.values()) + 1
        start = body.start
        item = item_reader(body, cols, self.record, self.currency, amounts)
        for r in range(start, total):
            if progress and r % 5000 == 0:
                progress(r, total)
            if bad_rows and r in bad_rows:
                continue
            row = rows[r]
            if len(row) < width:
                row = [*row, *([None] * (width - len(row)))]
            raw_sku = row[sku_col]
            sku = raw_sku.strip() if raw_sku.__class__ is str else cell_text(raw_sku)
            if not sku:
                section = self._row_without_sku(r, row, section)
                continue
            raw_price = row[price_col]
            if (
                raw_price.__class__ is not float  # (the common case: never empty)
                and is_empty(raw_price)
                and looks_like_label(sku)
                and lone_label(row) == sku
            ):
                section = sku
                continue
            found = item(r - start, r, row, sku, raw_price, section)
            if found is None:
                continue
            family = found.family
            if family:
                spelling = family_spelling.get(family)
                if spelling is None:
                    spelling = family_spelling.setdefault(family.casefold(), family)
                    family_spelling[family] = spelling
                if spelling != family:
                    found = found._replace(family=spelling)
            key = sku_key(sku)
            first = items.setdefault(key, found)
            if first is not found:
                duplicates.found(r, sku, first.sku, item_rows[key])
                continue
            item_rows[key] = r
        if progress:
            progress(total, total)
        return items

    def _row_without_sku(self, r: int, row: list[Any], section: str | None) -> str | None:
        """A row with no SKU: a section label (the new section), blank, or an error."""
        cols, sku_col = self.cols, self.cols["sku"]
        label = lone_label(row, exclude=cols["list_price"])
        if label is not None:
            return label
        if any(c < len(row) and not is_empty(row[c]) for c in cols.values()):
            value = next(
                row[c] for c in sorted(cols.values()) if c < len(row) and not is_empty(row[c])
            )
            self.record.add(
                "error", r, sku_col, value,
                "values in a row without a SKU: add the SKU, or clear the row",
            )  # fmt: skip
        return section


def item_reader(
    body: Body,
    cols: dict[str, int],
    record: CellProblems,
    currency: BookCurrency,
    amounts: Amounts,
) -> RowReader:
    """A function reading row ``i`` of the rows under the header as an item, or
    None when the row has an error (already recorded).

    What does not depend on the row is looked up once, and the plain amounts of the money
    columns are read a column at a time (:func:`~pricing.pricebook.cells.plain_amounts`);
    only a cell they cannot read, or a row in a currency of other decimals, is read on its
    own.
    """
    currency_col, cost_col, floor_col = (
        cols.get("currency"), cols.get("unit_cost"), cols.get("floor_price")
    )  # fmt: skip
    name_col, family_col, status_col = cols.get("name"), cols.get("family"), cols.get("status")
    book_currency, of_cell = currency.code, currency.of_cell
    book_places = minor_units(book_currency)
    places = {book_currency: book_places}
    none: list[Decimal | None] = [None] * len(body.rows)
    prices = plain_amounts(body.column(cols["list_price"]), book_places)
    costs = none if cost_col is None else plain_amounts(body.column(cost_col), book_places)
    floors = none if floor_col is None else plain_amounts(body.column(floor_col), book_places)
    new_item = partial(tuple.__new__, PriceItem)  # (PriceItem(...) without its Python __new__)

    def item(
        i: int, r: int, row: list[Any], sku: str, raw_price: Any, section: str | None
    ) -> PriceItem | None:
        code = book_currency
        if currency_col is not None and not is_blank(row[currency_col]):
            named = of_cell(r, currency_col, row[currency_col])
            if named is None:
                return None
            code = named
        decimals = places.get(code)
        if decimals is None:
            decimals = places[code] = minor_units(code)
        book_decimals = decimals == book_places
        price = prices[i] if book_decimals else plain_amount(raw_price, decimals)
        failed = False
        if price is None:
            price = amounts.careful(r, "list_price", raw_price, code, required=True)
            failed = price is None
        cost = costs[i] if book_decimals else None
        if cost is None and cost_col is not None and not is_blank(raw_cost := row[cost_col]):
            cost = amounts.optional(r, "unit_cost", raw_cost, code, decimals)
            failed = failed or cost is None
        floor = floors[i] if book_decimals else None
        if floor is None and floor_col is not None and not is_blank(raw_floor := row[floor_col]):
            floor = amounts.optional(r, "floor_price", raw_floor, code, decimals)
            failed = failed or floor is None
        if failed or price is None:
            return None
        if cost is not None and cost > price:
            assert cost_col is not None
            record.add(
                "warning", r, cost_col, row[cost_col],
                f"unit cost is above the list price {display_money(price, code)}: "
                "every sale loses money",
            )  # fmt: skip
        if floor is not None and floor > price:
            assert floor_col is not None
            record.add(
                "warning", r, floor_col, row[floor_col],
                f"floor price is above the list price {display_money(price, code)}",
            )  # fmt: skip
        name = None if name_col is None else text_of(row[name_col])
        family = None if family_col is None else text_of(row[family_col])
        status = None if status_col is None else text_of(row[status_col])
        return new_item((sku, price, code, name, family or section, cost, floor, status))

    return item


class Duplicates:
    """SKUs seen before (case and spaces aside): an error at the copy, and one at the first
    row the first time it is copied (so 50,000 copies of a row are 50,000 errors, not twice
    that). Once both kinds are listed in full, a duplicate is only counted, without writing
    its messages (a million copies of one row cost a count each)."""

    def __init__(self, record: CellProblems, sku_col: int) -> None:
        self.record, self.sku_col = record, sku_col
        self._kinds: tuple[str, str] | None = None
        self._copied: set[int] = set()  # first rows of SKUs already said to be copied

    def found(self, r: int, sku: str, first_sku: str, first: int) -> None:
        """Row ``r``'s SKU ``sku`` is that of row ``first`` (where it is ``first_sku``)."""
        kinds, problems, errors = self._kinds, self.record.problems, self.record.errors
        told = first in self._copied
        self._copied.add(first)
        sheet, sku_col = self.record.sheet, self.sku_col
        if kinds and problems.full("error", kinds[0]) and problems.full("error", kinds[1]):
            problems.only_counted("error", "", kind=kinds[0])
            if not told:
                problems.only_counted("error", "", kind=kinds[1])
            said = errors.keep_messages
            errors.row(sheet, r, f"duplicate SKU: {first_sku!r} again" if said else "")
            if not told:
                errors.row(sheet, first, "duplicate SKU: copied further down" if said else "")
            return
        again = (
            f"duplicate SKU: {first_sku!r} is already at "
            f"{cell_ref(sheet, first, sku_col)}; SKUs differing only in case or "
            "surrounding spaces are the same SKU"
        )
        first_of = f"duplicate SKU: again at {cell_ref(sheet, r, sku_col)}"
        self._kinds = (kind_of(again), kind_of(first_of))
        self.record.add("error", r, sku_col, sku, again)
        if not told:
            self.record.add("error", first, sku_col, first_sku, first_of)


def lone_label(row: list[Any], exclude: int | None = None) -> str | None:
    """A row with one text cell and nothing else is a section label such as ``HARDWARE``."""
    found: str | None = None
    for c, value in enumerate(row):
        if is_empty(value):
            continue
        if found is not None or not isinstance(value, str) or c == exclude:
            return None
        found = value.strip()
    return found


def formula_problems(record: CellProblems, cols: dict[str, int], header_row: int) -> set[int]:
    """Formulas under the header without a cached value: an error in the SKU or list price
    (the rows returned are not read), a warning elsewhere (the cell is read as empty)."""
    bad_rows: set[int] = set()
    key_cols = {cols["sku"]: "SKU", cols["list_price"]: "list price"}
    names = {c: f for f, c in cols.items()}
    for r, c in sorted(record.sheet.uncached_formulas):
        if r <= header_row:
            continue
        if c in key_cols:
            bad_rows.add(r)
            record.add(
                "error", r, c, None,
                f"the {key_cols[c]} is a formula without a cached value; open the workbook "
                "in Excel or LibreOffice, let it calculate, and save it again",
            )  # fmt: skip
        else:
            column = names.get(c, f"column {column_letter(c)}")
            record.add(
                "warning", r, c, None,
                f"{column} is a formula without a cached value and is read as empty; "
                "save the workbook from Excel or LibreOffice to store computed values",
            )  # fmt: skip
    return bad_rows


def no_header(sheet: Sheet, columns: Mapping[str, str]) -> Problem:
    """No row names both a SKU and a list price column: which one is missing and the closest
    header to name with --column, or that the sheet is empty."""
    likely = likely_header(sheet, ITEM_HEADERS, columns)
    if likely is not None and not ("sku" in likely[1] and "list_price" in likely[1]):
        row, mapping = likely
        said = []
        for name, label in (("sku", "SKU"), ("list_price", "list price")):
            if name in mapping:
                continue
            closest = closest_header(sheet.rows[row], ITEM_HEADERS[name], mapping.values())
            said.append(
                f"no {label} column: the closest header is {closest!r}; if that is it, "
                f'add --column {name}="{closest}"'
                if closest is not None
                else f"no {label} column; name it with --column {name}=HEADER"
            )
        return Problem("error", "; ".join(said), **sheet.location(row))
    wanted = ", ".join(f"{f}={h!r}" for f, h in columns.items())
    hint = (
        f"no row in the first {HEADER_SEARCH_ROWS} names both a SKU and a list price column"
        + (f" (looked for {wanted})" if wanted else "")
        + "; name them with --column sku=HEADER --column list_price=HEADER"
    )
    if not sheet.rows or all(all(is_empty(c) for c in row) for row in sheet.rows):
        hint = "the sheet is empty: no price rows at all"
    loc = {"file": sheet.file, "sheet": sheet.name} if sheet.name else {"file": sheet.file}
    return Problem("error", hint, **loc)  # type: ignore[arg-type]
