"""The money cells of a price sheet: list price, unit cost and floor price.

A number within the currency's decimals takes a fast path (:func:`~pricing.pricebook.cells.plain_amount`);
anything else is read carefully here, with a problem that says what is wrong. Money typed as
text says its decimal mark, once for the whole column.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pricing.money import (
    TOO_LARGE,
    TOO_LARGE_TEXT,
    decimal_mark,
    is_ambiguous_decimal,
    is_blank,
    parse_decimal,
    round_money,
    with_decimal_comma,
)
from pricing.pricebook.cells import Body, plain_amount
from pricing.pricebook.rows import CellProblems

MONEY_FIELDS = ("list_price", "unit_cost", "floor_price")


class Amounts:
    """Reads the money cells of the columns ``cols`` maps, recording problems in ``record``."""

    def __init__(self, record: CellProblems, cols: dict[str, int]) -> None:
        self.record, self.cols = record, cols
        self.decimal_comma = False  # money typed as text has a decimal comma

    def find_decimal_mark(self, body: Body) -> None:
        """Money typed as text says its decimal mark (``12,50``, ``1.234,56``, ``12.50``) or
        an error says it cannot (every value like ``1,234``: thousands, or three decimals?).
        With a decimal comma, ``1,234`` is then read as 1.234 and ``1.234`` as 1234."""
        self.decimal_comma = False
        for name in MONEY_FIELDS:
            col = self.cols.get(name)
            if col is None:
                continue
            texts = [(r, text) for r, value in body.text_cells(col) if (text := value.strip())]
            mark, either = decimal_mark(text for _, text in texts)
            if mark == "comma":
                self.decimal_comma = True
            elif mark is None and either:
                examples = list(dict.fromkeys(either))[:2]
                first = next(r for r, text in texts if text == examples[0])
                quoted = " and ".join(f'"{e}"' for e in examples)
                self.record.add(
                    "error", first, col, examples[0],
                    f"the {name.replace('_', ' ')}s do not say whether the comma or the point "
                    f"marks decimals ({quoted} could be thousands or decimals, and no value "
                    "decides it); write them as numbers, or with their decimals (1,234.00 or "
                    "1.234,00)",
                )  # fmt: skip

    def optional(self, r: int, name: str, raw: Any, currency: str, decimals: int) -> Decimal | None:
        """A non-blank optional amount; None once an error is recorded."""
        amount = plain_amount(raw, decimals)
        return amount if amount is not None else self.careful(r, name, raw, currency)

    def careful(
        self, r: int, name: str, raw: Any, currency: str, required: bool = False
    ) -> Decimal | None:
        """The amount of a cell the fast path could not read; None once an error is recorded.

        Only called for a required cell or a non-blank optional one.
        """
        add, col = self.record.add, self.cols.get(name)
        label = name.replace("_", " ")
        if is_blank(raw):
            add("error", r, col, raw, f"{label} is missing: every SKU needs one")
            return None
        try:
            text = raw.strip() if isinstance(raw, str) else ""
            comma = self.decimal_comma and is_ambiguous_decimal(text)
            amount = parse_decimal(with_decimal_comma(text) if comma else raw)
        except ValueError as exc:
            add("error", r, col, raw, f"{label} {exc}")
            return None
        if abs(amount) >= TOO_LARGE:
            add("error", r, col, raw, f"{label} {TOO_LARGE_TEXT}")
            return None
        if amount < 0 or (required and amount == 0):
            add(
                "error", r, col, raw,
                f"{label} must be above zero" if required else f"{label} cannot be negative",
            )  # fmt: skip
            return None
        rounded = round_money(amount, currency)
        if required and rounded == 0:
            add(
                "error", r, col, raw, f"{label} rounds to {rounded} in {currency}: it must be above zero"
            )  # fmt: skip
            return None
        if rounded != amount:
            add(
                "warning", r, col, raw,
                f"{label} has more decimals than {currency} uses; stored as {rounded}",
            )  # fmt: skip
        return rounded
