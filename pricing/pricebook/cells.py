"""What a single cell of a price book holds, read the same way by the item and tier readers."""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import cache
from operator import itemgetter
from typing import Any

from pricing.io.sheets import Sheet, cell_text, column_letter
from pricing.money import LARGEST, parse_decimal


def is_empty(value: Any) -> bool:
    """Nothing in the cell, or only spaces."""
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def text_of(value: Any) -> str | None:
    """The cell as text without surrounding spaces, None when there is none."""
    if value.__class__ is str:
        return value.strip() or None
    if value is None:
        return None
    return cell_text(value) or None


def plain_amount(value: Any, decimals: int) -> Decimal | None:
    """The common case, quickly: a positive number within the currency's decimals.

    Anything else (text, noise, negatives, too many decimals) returns None and takes the
    careful path that explains what is wrong.
    """
    if value.__class__ is float:
        if value <= 0 or value >= LARGEST:
            return None
        text = repr(value)
        dot = text.find(".")
        if "e" in text or len(text) - dot - 1 > decimals:
            return None
        return Decimal(text)
    if value.__class__ is int and 0 < value < LARGEST:
        return Decimal(value)
    return None


def plain_amounts(values: list[Any], decimals: int) -> list[Decimal | None]:
    """:func:`plain_amount` of each cell of a column, the same answers.

    A column of floats from 0.0001 to LARGEST within the currency's decimals (the list
    prices of most books) is read in a few passes in C, a third faster than cell by cell: no
    such float is written with an exponent, and one regular expression over all of them
    finds any with too many decimals. Any other column is read cell by cell.
    """
    if (
        values
        and set(map(type, values)) == {float}
        and min(values) >= 0.0001
        and max(values) < LARGEST
        and not math.isnan(sum(values))  # (min and max may pass over a NaN; a sum does not)
    ):
        texts = list(map(repr, values))
        if _too_many_decimals(decimals).search("\n".join(texts)) is None:
            return list(map(Decimal, texts))
    return [plain_amount(value, decimals) for value in values]


@cache
def _too_many_decimals(decimals: int) -> re.Pattern[str]:
    """A pattern finding, in the text of floats, one with more than ``decimals`` decimals."""
    return re.compile(rf"\.\d{{{decimals + 1}}}")


class Body:
    """The rows under a sheet's header, read by row or a column at a time; each column is
    taken once (the decimal mark, the book's currency and the amounts all read the prices)."""

    def __init__(self, rows: list[list[Any]], start: int) -> None:
        self.start = start  # the sheet's number of the first row (0-based)
        self.rows = rows[start:]
        self._shortest = min(map(len, self.rows), default=0)
        self._columns: dict[int, list[Any]] = {}

    def column(self, col: int) -> list[Any]:
        """The cells of column ``col``, None where a row is shorter."""
        cells = self._columns.get(col)
        if cells is None:
            rows = self.rows
            cells = self._columns[col] = (
                list(map(itemgetter(col), rows)) if col < self._shortest
                else [row[col] if col < len(row) else None for row in rows]
            )  # fmt: skip
        return cells

    def text_cells(self, col: int) -> list[tuple[int, str]]:
        """Each cell of column ``col`` holding text, with its row as the sheet numbers it.

        A column of numbers (most money columns) holds none, which one pass in C over the
        types of its cells says.
        """
        cells = self.column(col)
        if not any(issubclass(kind, str) for kind in set(map(type, cells))):
            return []
        start = self.start
        return [(start + i, value) for i, value in enumerate(cells) if isinstance(value, str)]


def whole_number(value: Any) -> int | None:
    """A whole number however the cell writes it (``12``, ``12.0``, ``"12"``), else None."""
    try:
        number = parse_decimal(value)
    except ValueError:
        return None
    return int(number) if number == number.to_integral_value() else None


def cell_ref(sheet: Sheet, row: int, col: int) -> str:
    """A cell as a message names it: ``B12``, or ``line 12`` in a csv file."""
    if sheet.is_csv:
        return f"line {row + 1}"
    return f"{column_letter(col)}{row + 1}"


def looks_like_label(text: str) -> bool:
    """Text without a digit, alone on a row without a price, is a section label such as
    ``HARDWARE`` rather than a SKU whose price is missing."""
    return not any(ch.isdigit() for ch in text)
