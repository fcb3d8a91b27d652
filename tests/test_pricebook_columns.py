"""The price book reader's column-at-a-time paths give the cell-by-cell answers, and the
package stays in rooms of a readable size.

A 100,000-row book reads its money columns a column at a time (``plain_amounts``) and looks
for text in a column by its cells' types (``Body.text_cells``); each is the same rule as the
one-cell function beside it, proven here on random columns: floats of every size and number of
decimals, NaN and infinities, ints, bools, text, blanks and short rows.
"""

from __future__ import annotations

import ast
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.money import LARGEST
from pricing.pricebook.cells import Body, plain_amount, plain_amounts

PACKAGE = Path(__file__).resolve().parent.parent / "pricing" / "pricebook"

floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=0.0001, max_value=LARGEST - 1),  # the column fast path's range
    st.integers(min_value=0, max_value=10**8).map(lambda c: c / 100),  # cents, as typed
    st.integers(min_value=0, max_value=10**6).map(lambda c: c / 1000),
    st.sampled_from([0.0, -0.0, 1e-5, 0.0001, 5e-5, 2.675, 1e12, 999999999999.99, 1e15]),
)
cells = st.one_of(
    floats,
    st.integers(min_value=-5, max_value=10**13),
    st.booleans(),
    st.none(),
    st.sampled_from(["", " ", "12.50", "1,234", "€12", "n/a"]),
)
SAME = settings(max_examples=300, deadline=None, derandomize=True)


def _same(found: list[Decimal | None], expected: list[Decimal | None]) -> bool:
    """Equal as the store and the messages see them: the same value written the same way."""
    return [None if d is None else str(d) for d in found] == [
        None if d is None else str(d) for d in expected
    ]


@SAME
@given(values=st.lists(floats, max_size=40), decimals=st.integers(min_value=0, max_value=4))
def test_plain_amounts_of_a_float_column__are_those_of_each_cell(
    values: list[float], decimals: int
) -> None:
    expected = [plain_amount(value, decimals) for value in values]
    assert _same(plain_amounts(values, decimals), expected)


@SAME
@given(values=st.lists(cells, max_size=40), decimals=st.integers(min_value=0, max_value=4))
def test_plain_amounts_of_any_column__are_those_of_each_cell(
    values: list[Any], decimals: int
) -> None:
    expected = [plain_amount(value, decimals) for value in values]
    assert _same(plain_amounts(values, decimals), expected)


def test_plain_amounts__a_nan_anywhere_in_a_column_of_floats_reads_as_one_cell_would() -> None:
    for at in range(3):
        values = [12.5, 3.25, 7.0]
        values[at] = math.nan
        for decimals in (2, 3):
            expected = [plain_amount(value, decimals) for value in values]
            assert _same(plain_amounts(values, decimals), expected)


@SAME
@given(
    rows=st.lists(st.lists(cells, max_size=5), max_size=20),
    col=st.integers(min_value=0, max_value=5),
    start=st.integers(min_value=0, max_value=3),
)
def test_body_columns__are_the_cells_row_by_row(
    rows: list[list[Any]], col: int, start: int
) -> None:
    body = Body(rows, start)
    expected = [row[col] if col < len(row) else None for row in rows[start:]]
    assert body.column(col) == expected
    assert body.text_cells(col) == [
        (r, value)
        for r in range(start, len(rows))
        if col < len(rows[r]) and isinstance(value := rows[r][col], str)
    ]


def test_pricebook_modules__at_most_800_lines_and_classes_at_most_200() -> None:
    for module in sorted(PACKAGE.glob("*.py")):
        text = module.read_text(encoding="utf-8")
        assert len(text.splitlines()) <= 800, module.name
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno is not None
                assert node.end_lineno - node.lineno + 1 <= 200, f"{module.name}: {node.name}"
