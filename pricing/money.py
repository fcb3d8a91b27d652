"""Exact money: parsing what spreadsheets hold, rounding once, formatting for people and JSON.

Amounts are :class:`decimal.Decimal` everywhere in the domain. Spreadsheet numbers arrive as
binary floats; they are turned into the shortest decimal that round-trips (``19.99``, never
``19.989999999999998``), and text such as ``$1,234.50``, ``1.234,50 €`` or ``(12.00)`` is read
the way a person reads it. Anything that is not clearly a number is refused, not guessed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation

from pricing.iso4217 import MINOR_UNITS

_CURRENCY_RE = re.compile(r"^[A-Z]{3}$")
_SYMBOLS = "$€£¥₹₩₽₺₪₫฿₦₱₴₲₵₡"
_STRIP_RE = re.compile(rf"[{_SYMBOLS}]|\b[A-Za-z]{{3}}\b|kr\.?|Fr\.|CHF|\s")
_NUMBER_RE = re.compile(r"^[+-]?(\d[\d.,']*)?\d$|^[+-]?\d*[.,]\d+$")
_BLANKS = {"", "-", "–", "—", "n/a", "na", "tbd", "none", "null"}

# Symbols that name one currency ($ and ¥ name several: they say nothing).
_SYMBOL_CURRENCIES = {
    "€": "EUR", "£": "GBP", "₹": "INR", "₩": "KRW", "₽": "RUB", "₺": "TRY", "₪": "ILS",
    "₫": "VND", "฿": "THB", "₦": "NGN", "₱": "PHP", "₴": "UAH", "₲": "PYG", "₵": "GHS",
    "₡": "CRC",
}  # fmt: skip
# Codes recognised as words in a header or a price written as text (``List Price (EUR)``,
# ``EUR 12.00``): the common ones, not those that are also English words (ALL, TOP).
COMMON_CURRENCIES = frozenset({
    "USD", "EUR", "GBP", "JPY", "CHF", "SEK", "NOK", "DKK", "CAD", "AUD", "NZD", "INR", "CNY",
    "HKD", "SGD", "PLN", "CZK", "HUF", "BRL", "MXN", "ZAR", "KRW", "TRY", "ILS", "AED", "ISK",
    "RUB", "THB", "MYR", "IDR", "PHP", "TWD", "RON", "BGN", "CLP", "COP", "ARS", "PEN", "EGP",
    "SAR", "QAR", "KWD", "BHD", "OMR", "JOD", "NGN", "KES", "UAH", "VND", "PKR", "BDT",
})  # fmt: skip
_CODE_RE = re.compile(r"(?<![A-Za-z])([A-Za-z]{3})(?![A-Za-z])")

# Money text whose one separator may group thousands or mark decimals (``1,234``, ``12.500``),
# and what decides it for a column: two decimals or four and more, a leading 0, both
# separators, two groups. RE2 syntax too (the deals reader runs them with Arrow).
AMBIGUOUS_DECIMAL = r"^[^\d.,]*[1-9]\d{0,2}[.,]\d{3}[^\d.,]*$"
DECIDES_DECIMAL = {
    "comma": r",\d{1,2}(?:[^\d.,]|$)|,\d{4,}|\.\d{3}[.,]|(?:^|[^\d.,])0,\d",
    "point": r"\.\d{1,2}(?:[^\d.,]|$)|\.\d{4,}|,\d{3}[.,]|(?:^|[^\d.,])0\.\d",
}
_AMBIGUOUS_RE = re.compile(AMBIGUOUS_DECIMAL)
_DECIDES_RE = {mark: re.compile(pattern) for mark, pattern in DECIDES_DECIMAL.items()}

PERCENT = Decimal("0.01")
_FLOAT_NOISE = Decimal("1e-10")
# The largest unit price, line amount or quantity pricing stores: amounts are kept as whole
# millionths in 64 bits, and no real price book or deal comes near a trillion.
LARGEST = 10**12
# Money, quantities and percentages are stored and computed as whole millionths.
MICRO = 1_000_000


def to_micros(value: Decimal | None) -> int | None:
    """An amount as whole millionths: exact, the form money is stored and hashed in.

    More than 6 decimals cannot be stored exactly and is refused, never truncated.
    """
    if value is None:
        return None
    scaled = value.scaleb(6)
    whole = int(scaled)
    if whole != scaled:
        raise ValueError(f"{value} has more than 6 decimal places")
    return whole


def from_micros(value: int | None) -> Decimal | None:
    """Whole millionths as the amount they are (``120000000`` is ``120``)."""
    if value is None:
        return None
    whole, rest = divmod(value, MICRO)
    if not rest:
        return Decimal(whole)
    return (Decimal(value) / MICRO).normalize()


TOO_LARGE = Decimal(LARGEST)
TOO_LARGE_TEXT = "is too large: prices, amounts and quantities must stay below 1,000,000,000,000"


def is_currency_code(code: str) -> bool:
    return bool(_CURRENCY_RE.match(code))


def currency_named(text: object) -> str | None:
    """The currency a header or a price written as text names, by a symbol that means one
    (``€12.00``) or a code (``EUR 12.00``, ``List Price (EUR)``); None when it names none."""
    if not isinstance(text, str):
        return None
    for ch in text:
        if ch in _SYMBOL_CURRENCIES:
            return _SYMBOL_CURRENCIES[ch]
    for match in _CODE_RE.finditer(text):
        code = match.group(1).upper()
        if code in COMMON_CURRENCIES:
            return code
    return None


def decimal_mark(texts: Iterable[str]) -> tuple[str | None, list[str]]:
    """The decimal mark a column of money written as text shows (``comma``, ``point``, or None
    when no value or both marks decide it), and its values that could be read either way."""
    shown = {mark: False for mark in _DECIDES_RE}
    either = []
    for text in texts:
        if _AMBIGUOUS_RE.match(text):
            either.append(text)
        for mark, pattern in _DECIDES_RE.items():
            shown[mark] = shown[mark] or bool(pattern.search(text))
    if shown["comma"] != shown["point"]:
        return ("comma" if shown["comma"] else "point"), either
    return None, either


def is_ambiguous_decimal(text: str) -> bool:
    """``1,234`` or ``12.500``: one separator that may group thousands or mark decimals."""
    return bool(_AMBIGUOUS_RE.match(text))


def with_decimal_comma(text: str) -> str:
    """An ambiguous value (:func:`is_ambiguous_decimal`) as a decimal comma reads it, written
    with a point: ``1,234`` is ``1.234`` and ``1.234`` is ``1234``."""
    return text.replace(".", "") if "." in text else text.replace(",", ".")


def minor_units(currency: str) -> int:
    """Decimals of the currency's minor unit, as ISO 4217 gives them (2 for USD and EUR, 0 for
    JPY, 3 for KWD; 2 for a code it does not list)."""
    return MINOR_UNITS.get(currency.upper(), 2)


def excel_format(currency: str) -> str:
    """A spreadsheet's number format for amounts in ``currency``: its minor units shown,
    thousands marked (``#,##0.00``; ``#,##0`` for JPY, ``#,##0.000`` for KWD)."""
    places = minor_units(currency)
    return "#,##0" + ("." + "0" * places if places else "")


def quantum(currency: str) -> Decimal:
    return Decimal(1).scaleb(-minor_units(currency))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Round once, half-even, to the currency's minor unit."""
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


def format_money(amount: Decimal | None, currency: str) -> str | None:
    """The JSON form: a decimal string with exactly the currency's minor units."""
    if amount is None:
        return None
    return str(round_money(amount, currency))


def format_pct(pct: Decimal | None) -> str | None:
    if pct is None:
        return None
    return str(pct.quantize(PERCENT, rounding=ROUND_HALF_EVEN))


def display_money(amount: Decimal | None, currency: str) -> str:
    """The human form: thousands separated, minor units kept (``1,234.50``)."""
    if amount is None:
        return ""
    rounded = round_money(amount, currency)
    return f"{rounded:,.{minor_units(currency)}f}"


def is_blank(value: object) -> bool:
    """Empty cells and the placeholders people type instead of leaving a cell empty."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip().casefold() in _BLANKS
    return False


def from_float(value: float) -> Decimal:
    """The decimal a person typed, from the binary float a spreadsheet stored."""
    if not math.isfinite(value):
        raise ValueError("is not a finite number")
    exact = Decimal(repr(value))
    if abs(exact) >= 10**15:  # beyond a float's cents: no noise to clean, nothing to quantize
        return exact
    # Cached formula results carry binary noise (19.99*1.1 = 21.989000000000001).
    cleaned = exact.quantize(_FLOAT_NOISE, rounding=ROUND_HALF_EVEN).normalize()
    if abs(cleaned - exact) < _FLOAT_NOISE and cleaned != exact:
        return cleaned
    return exact


def parse_decimal(value: object) -> Decimal:
    """A number from a cell: float, int, Decimal or text as people write it.

    Raises ValueError with a message saying why the value is not a number.
    """
    if isinstance(value, bool):
        raise ValueError("is a TRUE/FALSE value, not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return from_float(value)
    if isinstance(value, (date, datetime)):
        raise ValueError("is a date, not a number")
    if not isinstance(value, str):
        raise ValueError("is not a number")
    return _parse_text(value)


def parse_percent(value: object) -> Decimal:
    """A percentage: ``12.5``, ``12.5%`` or ``12,5 %`` all mean 12.5 %."""
    if isinstance(value, str):
        value = value.strip().removesuffix("%").strip()
    return parse_decimal(value)


def _parse_text(text: str) -> Decimal:
    raw = text.strip().replace("\u00a0", " ").replace("\u202f", " ")
    if not raw:
        raise ValueError("is empty")
    negative = False
    if raw.startswith("(") and raw.endswith(")"):
        negative, raw = True, raw[1:-1]
    body = _STRIP_RE.sub("", raw)
    if body.endswith("-") and not body.startswith("-"):
        negative, body = True, body[:-1]
    if body.startswith("-"):
        negative, body = not negative, body[1:]
    elif body.startswith("+"):
        body = body[1:]
    if not body or not _NUMBER_RE.match(body):
        raise ValueError("is not a number")
    number = _normalise_separators(body.replace("'", ","))
    try:
        result = Decimal(number)
    except InvalidOperation:
        raise ValueError("is not a number") from None
    return -result if negative else result


def _normalise_separators(body: str) -> str:
    """Decide which of ``,`` and ``.`` is the decimal separator; refuse what is unclear."""
    commas, dots = body.count(","), body.count(".")
    if commas and dots:
        decimal_sep = "," if body.rfind(",") > body.rfind(".") else "."
        group_sep = "." if decimal_sep == "," else ","
        whole, _, fraction = body.rpartition(decimal_sep)
        if decimal_sep in whole or not _grouped(whole, group_sep):
            raise ValueError("mixes thousands and decimal separators in a way that is unclear")
        return whole.replace(group_sep, "") + "." + fraction
    sep = "," if commas else "." if dots else ""
    if not sep:
        return body
    count = commas or dots
    whole, _, fraction = body.rpartition(sep)
    if count == 1:
        if sep == "," and len(fraction) == 3 and whole and _grouped(body, ","):
            return whole + fraction  # 1,234 is one thousand two hundred thirty-four
        return whole + "." + fraction  # 12.50 or 12,50
    if _grouped(body, sep):
        return body.replace(sep, "")  # 1.234.567 or 1,234,567
    raise ValueError("has separators in places that do not group thousands")


def _grouped(number: str, sep: str) -> bool:
    groups = number.split(sep)
    return (
        1 <= len(groups[0]) <= 3
        and groups[0].isdigit()
        and all(len(g) == 3 and g.isdigit() for g in groups[1:])
    )
