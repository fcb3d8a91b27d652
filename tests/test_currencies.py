"""Every currency's minor units are ISO 4217's: in rounding, the JSON, and the number formats
of the workbooks written (no list of exceptions kept by hand)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from pricing.iso4217 import MINOR_UNITS
from pricing.money import excel_format, format_money, minor_units
from tests.conftest import Cli, write_workbook


def test_the_table_is_isos_own() -> None:
    """``pricing/iso4217.py`` holds the minor units of every currency of the ISO's table (the
    ``iso4217`` package's copy). When the standard changes: raise the pinned package in
    pyproject.toml and write the dict below into the module again, sorted by code."""
    from iso4217 import Currency

    assert {c.code: c.exponent for c in Currency if c.exponent is not None} == MINOR_UNITS


@pytest.mark.parametrize(
    ("currency", "places", "rounded", "shown"),
    [("USD", 2, "1234.57", "#,##0.00"), ("JPY", 0, "1235", "#,##0"), ("KWD", 3, "1234.568", "#,##0.000"),
     ("CLF", 4, "1234.5679", "#,##0.0000"), ("CYP", 2, "1234.57", "#,##0.00")],
)  # fmt: skip
def test_minor_units_round_and_show_each_currency(
    currency: str, places: int, rounded: str, shown: str
) -> None:
    assert minor_units(currency) == places and minor_units(currency.lower()) == places
    assert format_money(Decimal("1234.56789"), currency) == rounded
    assert excel_format(currency) == shown


def test_an_exported_book_shows_each_items_currency_in_its_own_places(
    cli: Cli, tmp_path: Path
) -> None:
    """Given a book with prices in USD, JPY and KWD (and a tier of the yen item), when it is
    exported, then each price cell's format shows its currency's minor units."""
    from openpyxl import load_workbook

    book = write_workbook(tmp_path / "book.xlsx", {
        "Price Book": [["SKU", "Name", "List Price", "Currency"], ["US-1", "Router", 120.5, "USD"],
                       ["JP-1", "Router", 15000, "JPY"], ["KW-1", "Router", 37.125, "KWD"]],
        "Tiers": [["SKU", "Min Qty", "Price"], ["JP-1", 10, 14000]],
    })  # fmt: skip
    assert cli("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    out = tmp_path / "export.xlsx"
    assert cli("pricebook", "export", str(out)).exit_code == 0

    workbook = load_workbook(out)
    formats = {
        row[0].value: next(c.number_format for c in row if isinstance(c.value, (int, float)))
        for row in workbook.worksheets[0].iter_rows(min_row=5)
        if row[0].value
    }
    assert formats == {"US-1": "#,##0.00", "JP-1": "#,##0", "KW-1": "#,##0.000"}
    tier = next(workbook["Tiers"].iter_rows(min_row=2))
    assert tier[3].value == 14000 and tier[3].number_format == "#,##0"
