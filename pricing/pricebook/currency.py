"""The currency of a price book file, and of each of its rows.

A book with a Currency column names one per row; a book without one is in the currency its
list price header (``List Price (EUR)``) or its prices (``€12.00``, ``EUR 12.00``) name, else
``--currency``, else that of the book's newest edition, else the default. A file that names
another currency than the newest edition's is refused unless ``--currency`` says it.
"""

from __future__ import annotations

from typing import Any

from pricing.io.sheets import cell_text
from pricing.money import currency_named, is_blank, is_currency_code
from pricing.pricebook.cells import Body
from pricing.pricebook.options import ReadOptions
from pricing.pricebook.rows import CellProblems
from pricing.problems import Problem


class BookCurrency:
    """The currency rows without their own are in (``code``), and the checks of every
    currency the file names against ``--currency`` and the book's newest edition."""

    def __init__(self, options: ReadOptions, record: CellProblems) -> None:
        self.options, self.record = options, record
        self.code = options.currency.upper()
        if options.previous and options.previous[1] and not options.currency_given:
            self.code = options.previous[1][0]  # the book's, unless the file names one
        self._column_codes: dict[str, int] = {}  # a Currency column's codes: first row

    def of_cell(self, r: int, col: int, raw: Any) -> str | None:
        """The code in a row's Currency cell (not blank), or None once an error is recorded."""
        code = cell_text(raw).upper()
        if is_currency_code(code):
            self._column_codes.setdefault(code, r)
            return code
        self.record.add(
            "error", r, col, raw,
            "currency is not a 3-letter ISO code such as USD or EUR",
        )  # fmt: skip
        return None

    def check_column(self, col: int, body: Body, sku_col: int) -> None:
        """A Currency column naming only currencies the book's newest edition has no item in
        (the whole book in another currency: a flip, as a mislabelled export makes): an error
        of the whole file, for each, unless --currency names it. Beside a currency the book
        has (named, or a row with a SKU left blank: the book's), a new one is prices added in
        it: a warning says so."""
        previous = self.options.previous
        if previous is None or not previous[1]:
            return
        number, known = previous
        new = [code for code in self._column_codes if code not in known]
        if not new:
            return
        keeps = any(code in known for code in self._column_codes) or (
            self.code in known
            and any(
                not is_blank(sku) and is_blank(cell)
                for sku, cell in zip(body.column(sku_col), body.column(col), strict=True)
            )
        )
        for code, r in self._column_codes.items():
            if code in known or (self.options.currency_given and code == self.code):
                continue
            if keeps:
                self.record.add(
                    "warning", r, col, code,
                    f"the first prices in {code}: the price book's newest edition ({number}) "
                    f"has prices in {', '.join(known)} only",
                )  # fmt: skip
                continue
            self.record.add(
                "error", r, col, code,
                f"the file has prices in {code} but the price book's newest edition "
                f"({number}) is in {', '.join(known)}; import with --currency {code} to change "
                "the book's currency on purpose, or correct the file",
                whole_file=True,
            )  # fmt: skip

    def from_prices(self, body: Body, col: int) -> None:
        """The currency of a book without a Currency column, from its list price column
        ``col``: what its header or its prices name, else ``--currency``, else the currency
        of the book's newest edition (said in a warning), else the default. An error where
        it conflicts with ``--currency``, with the newest edition's currency (without
        --currency), or a price names another."""
        from collections import Counter

        sheet, add, options = self.record.sheet, self.record.add, self.options
        header_row = body.start - 1
        header = sheet.value(header_row, col)
        named: dict[int, str] = {
            r: code
            for r, value in body.text_cells(col)
            if (code := currency_named(value)) is not None
        }
        found = currency_named(header)
        if found is not None:
            why = f"its header {cell_text(header)!r}"
        elif named:
            found, count = Counter(named.values()).most_common(1)[0]
            why = "its price" if count == 1 else f"{count} of its prices"
        else:
            self._inherited()
            return
        first = header_row if currency_named(header) else min(named)
        if options.currency_given and found != self.code:
            add(
                "error", first, col, sheet.value(first, col),
                f"the list prices are in {found} (from {why}) but --currency is "
                f"{self.code}; drop --currency, or correct the file",
                whole_file=True,
            )  # fmt: skip
            return
        previous = options.previous
        if not options.currency_given and previous and previous[1]:
            number, known = previous
            if found not in known:
                add(
                    "error", first, col, sheet.value(first, col),
                    f"the list prices are in {found} (from {why}) but the price book's newest "
                    f"edition ({number}) is in {', '.join(known)}; import with --currency "
                    f"{found} to change the book's currency on purpose, or correct the file",
                    whole_file=True,
                )  # fmt: skip
                return
        self.code = found
        for r, code in named.items():
            if code != found:
                add(
                    "error", r, col, sheet.value(r, col),
                    f"this price is in {code} but the book is in {found} (from {why}); "
                    "one currency per book, or add a Currency column",
                )  # fmt: skip

    def _inherited(self) -> None:
        """A file naming no currency is in the newest edition's: say so when that is not
        what a first edition would have been read in (the policy's currency, else USD)."""
        previous, options = self.options.previous, self.options
        if options.currency_given or not previous or not previous[1]:
            return
        if self.code == options.currency.upper():
            return
        self.record.problems.append(
            Problem(
                "warning",
                f"the file names no currency (no Currency column, none in the list price "
                f"header or the prices): read in {self.code}, the currency of the price "
                f"book's newest edition ({previous[0]}); if it is another, import with "
                "--currency CODE",
                file=self.record.sheet.file,
            )
        )
