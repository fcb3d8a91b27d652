from decimal import Decimal

import pytest

from pricing.money import (
    currency_named,
    decimal_mark,
    format_money,
    from_float,
    parse_decimal,
    parse_percent,
    round_money,
    with_decimal_comma,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$1,234.50", "1234.50"),
        ("1.234,50", "1234.50"),
        ("1 234,50 €", "1234.50"),
        ("12,50", "12.50"),
        ("1,234", "1234"),
        ("1.234.567", "1234567"),
        ("(1,234.50)", "-1234.50"),
        ("EUR 12.48", "12.48"),
        ("12.48 USD", "12.48"),
        ("0.125", "0.125"),
        ("  99 ", "99"),
        ("1'234.50", "1234.50"),
    ],
)
def test_text_money_is_read_the_way_people_write_it(text: str, expected: str) -> None:
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["12,5O", "abc", "1,2,3", "1.234,5.6", "", "12-34"])
def test_anything_that_is_not_clearly_a_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_decimal(text)


def test_spreadsheet_floats_become_the_decimal_a_person_typed() -> None:
    assert from_float(19.99) == Decimal("19.99")
    assert from_float(19.99 * 1.1) == Decimal("21.989")
    assert from_float(0.1 + 0.2) == Decimal("0.3")


def test_rounding_is_half_even_to_the_currency_minor_unit() -> None:
    assert round_money(Decimal("2.345"), "USD") == Decimal("2.34")
    assert round_money(Decimal("2.355"), "USD") == Decimal("2.36")
    assert format_money(Decimal("1500.4"), "JPY") == "1500"
    assert format_money(Decimal("1.5"), "KWD") == "1.500"


def test_percent_sign_is_optional() -> None:
    assert (
        parse_percent("12.5%") == parse_percent("12,5 %") == parse_percent(12.5) == Decimal("12.5")
    )


@pytest.mark.parametrize(
    ("column", "mark", "either"),
    [
        (["1,234", "12,500"], None, ["1,234", "12,500"]),  # thousands, or three decimals?
        (["1,234", "12,5"], "comma", ["1,234"]),
        (["1.234,56", "7"], "comma", []),
        (["0,125"], "comma", []),
        (["1,234", "12.50"], "point", ["1,234"]),
        (["1,234,567"], "point", []),
        (["€ 1.234", "EUR 2.000"], None, ["€ 1.234", "EUR 2.000"]),
        (["12", "7"], None, []),
    ],
)
def test_a_column_shows_its_decimal_mark_or_says_it_cannot(
    column: list[str], mark: str | None, either: list[str]
) -> None:
    assert decimal_mark(column) == (mark, either)


def test_with_a_decimal_comma_an_ambiguous_value_reads_the_other_way() -> None:
    assert parse_decimal(with_decimal_comma("1,234")) == Decimal("1.234")
    assert parse_decimal(with_decimal_comma("1.234")) == Decimal("1234")


@pytest.mark.parametrize(
    ("text", "code"),
    [("List Price (EUR)", "EUR"), ("€12.00", "EUR"), ("EUR 12.00", "EUR"), ("12,50 £", "GBP"),
     ("$12.00", None), ("List Price", None), ("Price usd", "USD"), (12.0, None)],
)  # fmt: skip
def test_the_currency_a_header_or_a_price_names(text: object, code: str | None) -> None:
    assert currency_named(text) == code
