"""A rates file: the European Central Bank's reference rates as published, or a plain list.

Two shapes, told apart by the header:

- **One column per currency** (the ECB's ``eurofxref-hist.csv``): ``Date,USD,JPY,…`` with
  a row per day, ``N/A`` where a currency had no rate that day (it did not exist yet, or no
  more), and a trailing empty column. The base is the file's issuer's: EUR unless told.
- **A rate per line**: ``date,currency,rate`` and, if the file holds several bases, ``base``
  (otherwise the base is told, EUR by default).

Every rate is a positive decimal number of at most :data:`DIGITS` significant digits; a day is
an ISO date (``2026-10-30``) or a spreadsheet date. Nothing is guessed: a cell that does not
read is a problem naming its line and column, and a file with problems stores nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from pricing.io.bounded import Bounds
from pricing.io.sheets import Sheet, cell_text, open_workbook
from pricing.limits import FX_FILE, FX_ROWS
from pricing.money import is_currency_code
from pricing.problems import Problem, Problems

BOUNDS = Bounds(FX_FILE, FX_ROWS)
DIGITS = 15  # significant digits of a rate (the ECB publishes 5 or 6)
LARGEST = Decimal(10) ** 12  # units of a currency for one of the base: none comes near
SMALLEST = Decimal(10) ** -12  # and the other way round (a rate and its inverse both fit)
PLAIN = re.compile(r"[+-]?[0-9]{1,20}(?:\.[0-9]{1,20})?")  # a rate as text: 1.1172, 136, 0.000049
ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
NO_RATE = {"", "n/a", "na", "-", "#n/a"}  # a day without a rate (the ECB writes N/A)
DEFAULT_BASE = "EUR"
Key = tuple[str, str, str]  # base, currency, day (YYYY-MM-DD: as stored, in order as text)


@dataclass(frozen=True)
class RatesFile:
    """What a rates file holds: each (base, currency, day)'s rate, and its problems (a file
    with an error stores nothing)."""

    file: str
    shape: str  # "wide" (a column per currency) or "long" (a rate per line)
    rates: dict[Key, Decimal]
    problems: Problems

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def read_rates(path: Path, *, base: str | None = None) -> RatesFile:
    """The rates of a csv or xlsx file (``base``: the base of a file that does not name one;
    EUR, the ECB's, when not told). Refused before it is read when over its bounds."""
    workbook = open_workbook(path, BOUNDS)
    sheet = workbook.sheet(workbook.sheet_names[0])
    problems = Problems(sheet.problems)
    told = (DEFAULT_BASE if base is None else base).strip().upper()
    if not is_currency_code(told):
        raise ValueError(f"{base!r} is not a currency code (three letters, like EUR)")
    header_row = _header_row(sheet)
    if header_row is None:
        problems.append(Problem("error", "no header: the first line names the columns, "
                                "Date and a currency code per column (the ECB's file) or "
                                "date, currency and rate", file=sheet.file, line=1))  # fmt: skip
        return RatesFile(sheet.file, "unknown", {}, problems)
    names = [cell_text(v).strip().lower() for v in sheet.rows[header_row]]
    rates: dict[Key, Decimal] = {}
    if {"currency", "rate"} <= set(names):
        _read_long(sheet, header_row, names, told, rates, problems)
        shape = "long"
    else:
        _read_wide(sheet, header_row, names, told, rates, problems)
        shape = "wide"
    if not rates and not any(p.severity == "error" for p in problems):
        problems.append(Problem("error", "the file holds no rate", file=sheet.file))
    return RatesFile(sheet.file, shape, rates, problems)


def _header_row(sheet: Sheet) -> int | None:
    """The first row that is not blank, when its first cell says Date."""
    for r, row in enumerate(sheet.rows[:20]):
        texts = [cell_text(v) for v in row]
        if any(texts):
            return r if texts[0].strip().lower() == "date" else None
    return None


def _read_wide(
    sheet: Sheet, header: int, names: list[str], base: str, rates: dict[Key, Decimal],
    problems: Problems,
) -> None:  # fmt: skip
    columns: dict[int, str] = {}
    for c, name in enumerate(names[1:], start=1):
        code = name.upper()
        if not name:
            continue  # the ECB's trailing empty column
        if not is_currency_code(code):
            problems.append(Problem("error", "a column is not a currency code (three letters, "
                                    "like USD)", value=cell_text(sheet.rows[header][c]),
                                    **sheet.location(header, c)))  # fmt: skip
        elif code == base:
            problems.append(Problem("error", f"a column of the base {base} itself: its rate is 1",
                                    **sheet.location(header, c)))  # fmt: skip
        elif code in columns.values():
            problems.append(Problem("error", f"{code} has two columns",
                                    **sheet.location(header, c)))  # fmt: skip
        else:
            columns[c] = code
    if not columns and not problems:
        problems.append(Problem("error", "no currency columns beside Date (Date,USD,JPY,…), nor "
                                "currency and rate columns", **sheet.location(header)))  # fmt: skip
    for r in range(header + 1, len(sheet.rows)):
        row = sheet.rows[r]
        if _blank(row):
            continue
        day = _day(sheet, r, 0, problems)
        if day is None:
            continue
        width = len(row)
        if width > len(names) and not _blank(row[len(names) :]):
            _too_many_cells(sheet, r, len(names), problems)
            continue
        for c, code in columns.items():
            raw = row[c] if c < width else None
            text = raw.strip() if type(raw) is str else cell_text(raw)
            key = (base, code, day)
            try:  # the usual cell, checked here (221,702 of them in the ECB's file)
                usual = Decimal(text)
                if (SMALLEST < usual < LARGEST and type(raw) is str and len(text) <= DIGITS + 1
                        and PLAIN.fullmatch(text) and key not in rates):  # fmt: skip
                    rates[key] = usual
                    continue
            except InvalidOperation:
                if text.lower() in NO_RATE:
                    continue
            rate = _rate(sheet, r, c, raw, problems, text)  # (says what is wrong)
            if rate is not None:
                _put(sheet, r, c, rates, key, rate, problems)


def _too_many_cells(sheet: Sheet, r: int, columns: int, problems: Problems) -> None:
    problems.append(Problem("error", f"the row has more cells than the header's {columns} "
                            "columns: a decimal comma (1,5)? write 1.5, or quote the cell",
                            **sheet.location(r, columns)))  # fmt: skip


def _read_long(
    sheet: Sheet, header: int, names: list[str], base: str, rates: dict[Key, Decimal],
    problems: Problems,
) -> None:  # fmt: skip
    col: dict[str, int] = {
        name: names.index(name) for name in ("date", "currency", "rate", "base") if name in names
    }
    for r in range(header + 1, len(sheet.rows)):
        row = sheet.rows[r]

        def cell(name: str, row: list[Any] = row) -> Any:
            c = col.get(name)
            return row[c] if c is not None and c < len(row) else None

        if _blank(row):
            continue
        if len(row) > len(names) and not _blank(row[len(names) :]):
            _too_many_cells(sheet, r, len(names), problems)
            continue
        day = _day(sheet, r, col["date"], problems)
        code = cell_text(cell("currency")).upper()
        line_base = cell_text(cell("base")).upper() or base
        bad = False
        for name, value in (("currency", code), ("base", line_base)):
            if not is_currency_code(value):
                problems.append(Problem("error", f"the {name} is not a currency code (three "
                                        "letters, like USD)", value=cell_text(cell(name)),
                                        **sheet.location(r, col.get(name))))  # fmt: skip
                bad = True
        if not bad and code == line_base:
            problems.append(Problem("error", f"a rate of {code} against itself: it is 1",
                                    **sheet.location(r, col["currency"])))  # fmt: skip
            bad = True
        raw = cell("rate")
        if cell_text(raw).lower() in NO_RATE:
            problems.append(
                Problem("error", "the line has no rate", **sheet.location(r, col["rate"]))
            )
            continue
        rate = _rate(sheet, r, col["rate"], raw, problems)
        if day is not None and rate is not None and not bad:
            _put(sheet, r, col["rate"], rates, (line_base, code, day), rate, problems)


def _blank(row: list[Any]) -> bool:
    return all(v is None or (type(v) is str and not v.strip()) for v in row)


def _put(
    sheet: Sheet, r: int, c: int, rates: dict[Key, Decimal],
    key: Key, rate: Decimal, problems: Problems,
) -> None:  # fmt: skip
    held = rates.get(key)
    if held is not None and held != rate:
        _, code, day = key
        problems.append(Problem("error", f"a second rate of {code} for {day} ({held} above)",
                                value=str(rate), **sheet.location(r, c)))  # fmt: skip
        return
    rates[key] = rate


def _day(sheet: Sheet, r: int, c: int, problems: Problems) -> str | None:
    """The day of a row, as YYYY-MM-DD."""
    raw = sheet.value(r, c)
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    text = cell_text(raw)
    if (r, c) in sheet.uncached_formulas:
        problems.append(Problem("error", "a formula without its value saved: open the file in "
                                "Excel and save it", **sheet.location(r, c)))  # fmt: skip
        return None
    try:
        if not ISO_DAY.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text).isoformat()
    except ValueError:
        problems.append(Problem("error", "the date is not a day as YYYY-MM-DD", value=text,
                                **sheet.location(r, c)))  # fmt: skip
        return None


def _rate(
    sheet: Sheet, r: int, c: int, raw: Any, problems: Problems, text: str | None = None
) -> Decimal | None:
    """The rate in a cell (``text``: the cell as text, when the caller has it): a number cell,
    or text that is a plain decimal number (``1.1172``: no exponent, no grouping)."""
    text = cell_text(raw) if text is None else text
    if (r, c) in sheet.uncached_formulas:
        problems.append(Problem("error", "a formula without its value saved: open the file in "
                                "Excel and save it", **sheet.location(r, c)))  # fmt: skip
        return None
    rate: Decimal | None = None
    if isinstance(raw, (int, float)) and not isinstance(raw, bool):
        rate = Decimal(repr(raw)) if isinstance(raw, float) else Decimal(raw)
    elif PLAIN.fullmatch(text):
        rate = Decimal(text)
    if rate is None or not rate.is_finite():
        problems.append(Problem("error", "the rate is not a number written as 1.1172", value=text,
                                **sheet.location(r, c)))  # fmt: skip
        return None
    if not SMALLEST < rate < LARGEST:
        problems.append(Problem("error", "a rate is a number more than 0 (from a million "
                                "millionth to a million million)", value=text,
                                **sheet.location(r, c)))  # fmt: skip
        return None
    if len(rate.normalize().as_tuple().digits) > DIGITS:
        problems.append(Problem("error", f"a rate has at most {DIGITS} significant digits",
                                value=text, **sheet.location(r, c)))  # fmt: skip
        return None
    return rate
