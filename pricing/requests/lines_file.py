"""Request lines from a csv or xlsx file: SKU, quantity, and a price or a discount % per line.

Apart from the request lifecycle so that a one-line ``request --check`` (the salesperson's most
frequent command) does not load the workbook readers.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

from pricing.errors import InputError
from pricing.io.bounded import Bounds
from pricing.io.headers import HEADER_SEARCH_ROWS, find_header
from pricing.io.sheets import Sheet, cell_text, open_workbook
from pricing.limits import LINES_FILE, LINES_XLSX, REQUEST_LINES
from pricing.money import parse_decimal, parse_percent
from pricing.problems import Problem, Problems
from pricing.requests.lifecycle import discount_problem
from pricing.requests.records import LineInput

# A lines file: its size before it is read, and no more rows than a request has lines, with
# room for title rows and the header above them (the lines themselves are counted exactly); a
# workbook's content no larger than a request's lines need.
BOUNDS = Bounds(LINES_FILE, REQUEST_LINES, above=HEADER_SEARCH_ROWS, content=LINES_XLSX)

LINE_HEADERS: dict[str, tuple[str, ...]] = {
    "sku": ("sku", "item no", "part no", "product code", "product id", "item", "code"),
    "qty": ("qty", "quantity", "units", "qty ordered", "amount"),
    "price": ("price", "special price", "net price", "unit price", "offer price", "offer"),
    "discount_pct": (
        "discount %",
        "discount",
        "disc %",
        "discount pct",
        "discount percent",
        "% off",
    ),
}


def read_lines_file(path: Path) -> tuple[list[LineInput], list[Problem]]:
    """Request lines from csv/xlsx: SKU, quantity, and a price or a discount % per line.

    A file of more lines than a request may have is refused (InputError) before it is read
    through; the problems of the lines read are listed, the first few of each kind."""
    workbook = open_workbook(path, BOUNDS)
    name = workbook.find_sheet(["Lines", "Request", "Request Lines"]) or workbook.sheet_names[0]
    sheet = workbook.sheet(name)
    found = find_header(
        sheet,
        LINE_HEADERS,
        {},
        lambda m: "sku" in m and "qty" in m and ("price" in m or "discount_pct" in m),
    )
    if found is None:
        return [], [
            Problem(
                "error",
                "no header naming a SKU, a quantity and a price or discount % (e.g. SKU | Qty | Price)",
                file=sheet.file,
                sheet=sheet.name,
            )
        ]
    header, cols = found
    _check_count(path, sheet, header, cols)
    lines: list[LineInput] = []
    problems = Problems(sheet.problems)
    for r in range(header + 1, len(sheet.rows)):
        line = _read_line(sheet, r, cols, problems)
        if line is not None:
            lines.append(line)
    if not lines and not problems:
        problems.append(
            Problem("error", "the file lists no request lines", file=sheet.file, sheet=sheet.name)
        )
    return lines, problems


def _check_count(path: Path, sheet: Sheet, header: int, cols: dict[str, int]) -> None:
    """Refuse a file of more lines (rows under the header with any of its columns filled)
    than a request may have."""
    wanted = sorted(cols.values())
    count = sum(
        1
        for row in sheet.rows[header + 1 :]
        if any(c < len(row) and row[c] not in (None, "") for c in wanted)
    )
    if count > REQUEST_LINES.value:
        raise InputError(REQUEST_LINES.message(str(path), f"{count:,}"))


def _read_line(sheet: Sheet, r: int, cols: dict[str, int], problems: Problems) -> LineInput | None:
    """The request line of row ``r`` (None for a blank row or one with problems)."""

    row = sheet.rows[r]

    def cell(name: str) -> Any:
        c = cols.get(name)
        return row[c] if c is not None and c < len(row) else None

    if all(cell(n) in (None, "") for n in cols):
        return None
    where = sheet.location(r, cols["sku"])
    sku = cell_text(cell("sku"))
    before = problems.total
    if not sku:
        problems.append(Problem("error", "the line has no SKU", **where))
    qty_raw = cell("qty")
    qty = _whole(qty_raw)
    if qty is None or qty < 1:
        problems.append(
            Problem(
                "error",
                "quantity must be a whole number of 1 or more",
                value=cell_text(qty_raw),
                **sheet.location(r, cols["qty"]),
            )
        )
    price_raw, pct_raw = cell("price"), cell("discount_pct")
    price = pct = None
    if (price_raw in (None, "")) == (pct_raw in (None, "")):
        problems.append(Problem("error", "give either a price or a discount %, not both", **where))
    elif price_raw not in (None, ""):
        price = _number(
            price_raw, parse_decimal, "price", sheet.location(r, cols["price"]), problems
        )
    else:
        pct_where = sheet.location(r, cols["discount_pct"])
        pct = _number(pct_raw, parse_percent, "discount", pct_where, problems)
        wrong = None if pct is None else discount_problem(pct)
        if wrong is not None:
            problems.append(Problem("error", wrong, value=cell_text(pct_raw), **pct_where))
    if problems.total == before and qty is not None:
        return LineInput(sku, qty, price, pct, where)
    return None


def _number(
    raw: Any,
    parse: Callable[[Any], Decimal],
    label: str,
    where: dict[str, Any],
    problems: Problems,
) -> Decimal | None:
    """A number from a cell, or None with a problem naming the cell."""

    try:
        return parse(raw)
    except ValueError as exc:
        problems.append(Problem("error", f"{label} {exc}", value=cell_text(raw), **where))
        return None


def _whole(value: Any) -> int | None:
    try:
        number = parse_decimal(value)
    except ValueError:
        return None
    return int(number) if number == number.to_integral_value() else None
