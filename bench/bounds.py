"""Memory at the bounds: for each importer, the costliest file the bounds still let in.

    make bounds                                 # every case; exit 1 if any peaks at 600 MB or more
    python bench/bounds.py --only deals         # the cases whose name holds "deals"
    python bench/bounds.py --keep /tmp/files    # keep the files made (else a temporary folder)

The bounds of :mod:`pricing.limits` say how much of a file is read. A hostile file need not pass
them: it can be well formed and sit just under each, shaped to cost the most memory once read.
Each case here builds such a file for one importer from the bounds in force (the defaults, or
what PRICING_MAX_* says): the most rows, the most cells, the longest cells, text that Python
holds at four bytes a character (one emoji in a cell of ASCII makes the whole cell so), one long
shared string that every cell of a workbook points to (the reader copies it into each), lines
that match nothing (each SKU then listed) ... The importer then runs on it in a fresh process
(tests/hostile.py's ``measured``) and its peak memory is printed; a case the bounds refuse is a
case built wrong, and fails too. A run takes a few minutes (files of up to a few hundred MB).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import string
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # tests.hostile, and pricing as checked out here

from pricing import limits  # noqa: E402
from tests.hostile import measured  # noqa: E402

PEAK_MB = 600  # what the issue asks of any importer on any file
CAP_MB = 3000  # a run past this is stopped: the machine is shared
PRICING = [sys.executable, "-m", "pricing"]
WIDE = "\U0001f600"  # one character of four bytes: the cell it is in takes four bytes a character
BOOK_SKUS = 100_000  # the store's price book, as in bench/run.py

Cell = str | int | float
Rows = Iterable[list[Cell]]


# Files ----------------------------------------------------------------------------------------


def write_csv(path: Path, rows: Rows) -> Path:
    """A csv file (UTF-8, comma-separated; no cell holds a comma or a quote)."""
    with path.open("w", encoding="utf-8", newline="") as out:
        batch: list[str] = []
        for cells in rows:
            batch.append(",".join(map(str, cells)))
            if len(batch) == 10_000:
                out.write("\n".join(batch) + "\n")
                batch.clear()
        if batch:
            out.write("\n".join(batch) + "\n")
    return path


_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = b"http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    b'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    b'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    b'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
    b'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType='
    b'"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)


def _column(index: int) -> bytes:
    letters = b""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = bytes([65 + rest]) + letters
    return letters


def write_xlsx(
    path: Path,
    sheet: str,
    rows: Rows,
    shared: list[str] | None = None,
    more: dict[str, Rows] | None = None,
) -> Path:
    """A workbook of one sheet (and ``more``), written as a stream. Text cells are inline
    strings, but for ``shared``: the workbook's shared strings, and a cell ``"#s:N"`` points to
    the N-th of them (as Excel writes text: each string once, cells pointing to it)."""
    sheets = {sheet: rows, **(more or {})}
    listed = b"".join(
        b'<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (name.encode(), n, n)
        for n, name in enumerate(sheets, 1)
    )
    targets = b"".join(
        b'<Relationship Id="rId%d" Type="%s/worksheet" Target="worksheets/sheet%d.xml"/>'
        % (n, _REL, n)
        for n in range(1, len(sheets) + 1)
    )
    rels = (
        b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="' + _PKG + b'">' + targets
        + b'<Relationship Id="rId0" Type="' + _REL + b'/sharedStrings" Target="sharedStrings.xml"/>'
        b"</Relationships>"
    )  # fmt: skip
    workbook = (
        b'<?xml version="1.0" encoding="UTF-8"?><workbook ' + _NS + b' xmlns:r="' + _REL + b'">'
        b"<sheets>" + listed + b"</sheets></workbook>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _TYPES)
        archive.writestr(
            "_rels/.rels",
            b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="' + _PKG + b'">'
            b'<Relationship Id="rId1" Type="' + _REL + b'/officeDocument" '
            b'Target="xl/workbook.xml"/></Relationships>',
        )
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0" encoding="UTF-8"?><sst ' + _NS + b">")
            for text in shared or []:
                part.write(b"<si><t>" + text.encode() + b"</t></si>")
            part.write(b"</sst>")
        for n, body in enumerate(sheets.values(), 1):
            with archive.open(f"xl/worksheets/sheet{n}.xml", "w", force_zip64=True) as part:
                _write_sheet(part, body)
    return path


def _write_sheet(part: IO[bytes], rows: Rows) -> None:
    part.write(b'<?xml version="1.0" encoding="UTF-8"?><worksheet ' + _NS + b"><sheetData>")
    xml: list[bytes] = []
    for number, cells in enumerate(rows, 1):
        xml.append(b'<row r="%d">' % number)
        for index, value in enumerate(cells):
            ref = _column(index) + b"%d" % number
            if isinstance(value, str) and value.startswith("#s:"):
                xml.append(b'<c r="%s" t="s"><v>%s</v></c>' % (ref, value[3:].encode()))
            elif isinstance(value, str):
                xml.append(
                    b'<c r="%s" t="inlineStr"><is><t>%s</t></is></c>' % (ref, value.encode())
                )
            else:
                xml.append(b'<c r="%s"><v>%s</v></c>' % (ref, str(value).encode()))
        xml.append(b"</row>")
        if len(xml) > 50_000:
            part.write(b"".join(xml))
            xml.clear()
    part.write(b"".join(xml) + b"</sheetData></worksheet>")


_LETTERS = "".join(random.Random(17).choices(string.ascii_letters, k=1 << 20))


def _filler(length: int, tag: int) -> str:
    """``length`` letters that compress no better than text does (a workbook's part that
    compresses a hundredfold is refused as a zip bomb)."""
    start = tag * 7919 % (len(_LETTERS) - length) if length < len(_LETTERS) else 0
    return _LETTERS[start : start + length]


def wide_text(length: int, tag: int) -> str:
    """``length`` characters, distinct by ``tag``, held by Python at four bytes each."""
    head = f"{WIDE}{tag:09d}"
    return head + _filler(max(0, length - len(head)), tag)


def padded(length: int, tag: int) -> str:
    """``length`` plain characters, distinct by ``tag``."""
    head = f"T{tag:09d}"
    return head + _filler(max(0, length - len(head)), tag)


# The bounds in force, and what fits in them ---------------------------------------------------

MB = 1 << 20


def _margin(value: int) -> int:
    """Just within a bound: 2 % under it (a file's own overheads: header, separators)."""
    return value - max(1, value // 50)


def text_budget(*bounds: int) -> int:
    """Characters of text a file may hold within every bound given (bytes or characters)."""
    return _margin(min(bounds))


@dataclass
class Case:
    """One importer on one worst-case file: ``build`` makes the file in a folder, ``command``
    names the pricing arguments (``{file}`` and ``{db}`` filled in) and ``store`` the store it
    runs against."""

    name: str
    what: str
    build: Callable[[Path], Path]
    command: list[str]
    store: str  # "none": a new store; "book": a price book; "shop": a book, a policy, people


# Price books ------------------------------------------------------------------------------------

BOOK_HEADER: list[Cell] = ["SKU", "Description", "Family", "List Price", "Unit Cost", "Status", "Notes"]  # fmt: skip


def book_rows(rows: int, description: Callable[[int], str], extra: int = 0) -> Iterator[list[Cell]]:
    """A price book's rows, every SKU its own, and ``extra`` columns of small values."""
    yield [*BOOK_HEADER, *(f"Extra {c}" for c in range(extra))]
    for i in range(rows):
        more = [f"{(i + c) % 97:02d}" for c in range(extra)]
        yield [f"SKU-{i:07d}", description(i), "Hardware", 100 + i % 900, 40 + i % 300, "Active", "n", *more]  # fmt: skip


def book_most_rows(folder: Path, suffix: str) -> Path:
    """The most rows a book may have, every SKU its own, as many columns as the cells bound
    allows, each description as long as the text and size bounds allow (four-byte
    characters)."""
    rows = limits.PRICE_BOOK_ROWS.value - 1
    extra = max(0, _margin(limits.CELLS.value) // (rows + 1) - len(BOOK_HEADER))
    text = text_budget(limits.SHEET_TEXT.value, limits.PRICE_BOOK_FILE.value // 4 * 3)
    other = 12 + 8 + 6 + 1 + 6 + 2 * extra  # the other cells' characters
    if suffix == "xlsx":  # a shared string counts in the table and in the cell showing it
        text = text // 2 - other * rows
    length = min(limits.FIELD_CHARS.value, max(10, text // rows - other))
    if suffix == "csv":
        return write_csv(folder / "rows.csv", book_rows(rows, lambda i: wide_text(length, i), extra))  # fmt: skip
    shared = [wide_text(length, i) for i in range(rows)]
    return write_xlsx(folder / "rows.xlsx", "Price Book", book_rows(rows, lambda i: f"#s:{i}", extra), shared)  # fmt: skip


def book_with_tiers(folder: Path) -> Path:
    """The most rows of volume tiers next to a price sheet of the most rows, the two sharing
    the bounds on cells and text (the importer holds both at once): the price sheet's
    descriptions (four-byte characters) and extra columns take what the tiers leave."""
    tiers = limits.TIER_ROWS.value
    rows = limits.PRICE_BOOK_ROWS.value - 1
    cells = _margin(limits.CELLS.value) - (tiers + 1) * 4
    extra = max(0, cells // (rows + 1) - len(BOOK_HEADER))
    text = text_budget(limits.SHEET_TEXT.value) - tiers * 40
    length = max(10, text // 2 // rows - 40 - 2 * extra)  # shared: in the list and the cell
    shared = [wide_text(length, i) for i in range(rows)]

    def tier_rows() -> Iterator[list[Cell]]:
        yield ["SKU", "Min Qty", "Discount %", "Note"]
        for i in range(tiers):
            yield [f"SKU-{i:07d}", 10 + i % 90, 5, padded(12, i)]

    price = book_rows(rows, lambda i: f"#s:{i}", extra)
    return write_xlsx(folder / "tiers.xlsx", "Price Book", price, shared, {"Tiers": tier_rows()})


def book_most_cells(folder: Path, suffix: str, columns: int | None = None) -> Path:
    """The most cells a sheet may have: as many rows as allowed (or ``columns`` to a row), each
    cell a small distinct value (a text of its own in Python)."""
    cells = _margin(limits.CELLS.value)
    width = columns or max(len(BOOK_HEADER), -(-cells // limits.PRICE_BOOK_ROWS.value))
    rows = min(limits.PRICE_BOOK_ROWS.value - 1, cells // width - 1)
    extra = width - 2

    def body() -> Iterator[list[Cell]]:
        yield ["SKU", "List Price", *(f"C{c}" for c in range(extra))]
        for i in range(rows):
            yield [f"SKU-{i:07d}", 100 + i % 900, *(f"{(i + c) % 97:02d}" for c in range(extra))]

    name = f"cells-{width}-columns.{suffix}"
    return (
        write_csv(folder / name, body())
        if suffix == "csv"
        else write_xlsx(folder / name, "Price Book", body())
    )


def book_longest_cells(folder: Path, suffix: str) -> Path:
    """Cells as long as a cell may be, in four-byte characters, as many as the text and size
    bounds allow."""
    longest = limits.FIELD_CHARS.value
    text = text_budget(limits.SHEET_TEXT.value, limits.PRICE_BOOK_FILE.value // 4 * 3)
    rows = max(1, text // longest)
    if suffix == "csv":
        return write_csv(folder / "long.csv", book_rows(rows, lambda i: wide_text(longest, i)))
    return write_xlsx(
        folder / "long.xlsx", "Price Book", book_rows(rows, lambda i: wide_text(longest, i))
    )


def book_one_shared_string(folder: Path) -> Path:
    """One shared string as long as a cell may be, pointed to by as many cells as the text
    bound allows (the reader copies it into each)."""
    longest = limits.FIELD_CHARS.value
    rows = min(
        limits.PRICE_BOOK_ROWS.value - 1, max(1, text_budget(limits.SHEET_TEXT.value) // longest)
    )
    return write_xlsx(
        folder / "shared.xlsx",
        "Price Book",
        book_rows(rows, lambda i: "#s:0"),
        [wide_text(longest, 0)],
    )


# Deals ----------------------------------------------------------------------------------------

DEALS_HEADER: list[Cell] = ["Order ID", "Order Date", "Customer", "Sales Rep", "SKU", "Quantity", "Net Price"]  # fmt: skip


def deal_rows(
    lines: int, customer: Callable[[int], str], *, costly: bool = False
) -> Iterator[list[Cell]]:
    """Lines like a CRM's export (three to a deal, SKUs of the store's book); ``costly``: no
    deal ids, dates as m/d/yyyy, and SKUs the book does not have, each its own."""
    yield DEALS_HEADER[1:] if costly else DEALS_HEADER
    for i in range(lines):
        day = (
            f"{1 + i % 12}/{1 + i % 28}/2025"
            if costly
            else f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
        )
        sku = f"ZZ-{i:09d}" if costly else f"SKU-{i * 7919 % BOOK_SKUS:07d}"
        cells: list[Cell] = [day, customer(i), "priya", sku, 1 + i % 9, f"{10 + i % 990}.25"]
        yield cells if costly else [f"SO-{i // 3:07d}", *cells]


def deals_most_lines(folder: Path, *, costly: bool = False) -> Path:
    """The most lines a deals file may have, its text (a long customer name) up to the bound."""
    lines = limits.DEALS_ROWS.value
    text = text_budget(limits.DEALS_TEXT.value)
    other = 10 + 10 + 5 + 12 + 1 + 6  # the other cells' characters
    length = max(12, text // lines - other)
    name = "deals-costly.csv" if costly else "deals-lines.csv"
    return write_csv(
        folder / name, deal_rows(lines, lambda i: padded(length, i % 5000), costly=costly)
    )


def deals_distinct_ids(folder: Path) -> Path:
    """The most lines a deals file may have (or as many as the text bound holds), each with a
    line id, a deal and a SKU of its own that no book has: every id is hashed, grouped and
    listed."""
    lines = min(limits.DEALS_ROWS.value, text_budget(limits.DEALS_TEXT.value) // 65)

    def rows() -> Iterator[list[Cell]]:
        yield ["Line ID", *DEALS_HEADER]
        for i in range(lines):
            day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
            yield [f"LN-{i:010d}", f"SO-{i:010d}", day, f"C{i % 5000}", "priya", f"ZZ-{i:09d}", 1 + i % 9, f"{10 + i % 990}.25"]  # fmt: skip

    return write_csv(folder / "deals-ids.csv", rows())


def deals_most_text(folder: Path) -> Path:
    """200,000 lines whose customer names fill the text bound (2,500 characters at the
    default)."""
    lines = min(200_000, limits.DEALS_ROWS.value)
    length = min(limits.FIELD_CHARS.value, text_budget(limits.DEALS_TEXT.value) // lines - 45)
    return write_csv(folder / "deals-text.csv", deal_rows(lines, lambda i: padded(length, i)))


def deals_workbook(folder: Path, *, shared: bool) -> Path:
    """A deals workbook of the most cells a sheet may have (seven to a line), or (``shared``)
    one long customer name that every line's cell points to, up to the text bound."""
    if shared:
        longest = limits.FIELD_CHARS.value
        lines = max(1, text_budget(limits.SHEET_TEXT.value) // longest)
        rows = deal_rows(lines, lambda i: "#s:0")
        return write_xlsx(folder / "deals-shared.xlsx", "Deals", rows, [wide_text(longest, 0)])
    lines = min(limits.DEALS_ROWS.value, _margin(limits.CELLS.value) // len(DEALS_HEADER) - 1)
    return write_xlsx(
        folder / "deals-cells.xlsx", "Deals", deal_rows(lines, lambda i: f"Customer {i % 5000}")
    )


# Request lines ----------------------------------------------------------------------------------


def lines_rows(lines: int, extra: int = 0, text: Callable[[int], str] | None = None) -> Iterator[list[Cell]]:  # fmt: skip
    yield ["SKU", "Qty", "Price", *(f"Note {c}" for c in range(extra))]
    for i in range(lines):
        notes = [text(i) if text else f"{(i + c) % 97:02d}" for c in range(extra)]
        yield [f"SKU-{i * 7919 % BOOK_SKUS:07d}", 1 + i % 9, 100 + i % 50, *notes]


def request_file(folder: Path, kind: str) -> Path:
    """A request's lines file: the most lines (``lines``); the most cells in as many columns
    as it takes (``cells``); text up to the bounds, in four-byte characters (``text``); one
    long shared string in every note (``shared``, a workbook)."""
    lines = limits.REQUEST_LINES.value
    size = limits.LINES_FILE.value
    if kind == "lines":
        return write_csv(folder / "lines.csv", lines_rows(lines))
    if kind.startswith("cells"):
        cells = min(_margin(limits.CELLS.value), size // 3 if kind.endswith("csv") else 1 << 62)
        extra = cells // (lines + 1) - 3
        if kind.endswith("csv"):
            return write_csv(folder / "cells.csv", lines_rows(lines, extra))
        return write_xlsx(folder / "cells.xlsx", "Lines", lines_rows(lines, extra))
    longest = limits.FIELD_CHARS.value
    if kind == "text":
        notes = max(1, text_budget(limits.SHEET_TEXT.value, size // 4 * 3) // longest)
        return write_csv(folder / "text.csv", lines_rows(notes, 1, lambda i: wide_text(longest, i)))
    notes = max(1, text_budget(limits.SHEET_TEXT.value) // longest)
    rows = lines_rows(min(lines, notes), 1 + max(0, notes - lines) // lines, lambda i: "#s:0")
    return write_xlsx(folder / "shared.xlsx", "Lines", rows, [wide_text(longest, 0)])


# Policies ---------------------------------------------------------------------------------------

POLICY_HEAD = """currency = "USD"
levels = ["rep", "manager", "owner"]
[limits]
rep = 8.0
manager = 15.0
owner = 25.0
[[person]]
name = "dana"
role = "owner"
[[person]]
name = "priya"
role = "rep"
"""


def policy_file(folder: Path, kind: str) -> Path:
    """The most rules the bounds allow (``rules``), or (``text``) rules whose names are as
    long as a string may be, as many as the file's size allows."""
    size = _margin(limits.POLICY_FILE.value)
    longest = limits.POLICY_STRING.value - 16
    rules = (
        f'[[rule]]\nname = "r{i:07d} {"x" * longest if kind == "text" else ""}"\n'
        f'sku = "SKU-{i:07d}"\nlimits = {{ rep = 5.0 }}\n'
        for i in range(limits.POLICY_RULES.value)
    )
    text = POLICY_HEAD
    for rule in rules:
        if len(text) + len(rule) > size:
            break
        text += rule
    path = folder / f"policy-{kind}.toml"
    path.write_text(text)
    return path


# The cases --------------------------------------------------------------------------------------

IMPORT_BOOK = ["--db", "{db}", "pricebook", "import", "{file}", "--effective", "2024-01-01"]
IMPORT_DEALS = ["--db", "{db}", "--user", "dana", "deals", "import", "{file}"]
REQUEST = ["--db", "{db}", "--user", "priya", "request", "--customer", "Acme", "--reason", "bounds", "--file", "{file}"]  # fmt: skip
LOAD_POLICY = ["--db", "{db}", "--user", "dana", "policy", "load", "{file}"]

CASES = [
    Case(
        "pricebook csv: most rows",
        "rows at the bound, descriptions filling the text bound (4-byte characters)",
        lambda f: book_most_rows(f, "csv"),
        IMPORT_BOOK,
        "none",
    ),
    Case(
        "pricebook csv: most cells",
        "cells at the bound, a small text each, the most rows",
        lambda f: book_most_cells(f, "csv"),
        IMPORT_BOOK,
        "none",
    ),
    Case(
        "pricebook csv: most columns",
        "16,384 columns, cells at the bound",
        lambda f: book_most_cells(f, "csv", limits.COLUMNS.value),
        IMPORT_BOOK,
        "none",
    ),
    Case(
        "pricebook csv: longest cells",
        "cells of 32,767 characters (4-byte) up to the text bound",
        lambda f: book_longest_cells(f, "csv"),
        IMPORT_BOOK,
        "none",
    ),
    Case(
        "pricebook xlsx: most rows",
        "rows at the bound, shared-string descriptions filling the text bound",
        lambda f: book_most_rows(f, "xlsx"),
        IMPORT_BOOK,
        "none",
    ),
    Case(
        "pricebook xlsx: most cells",
        "cells at the bound, small inline texts and numbers",
        lambda f: book_most_cells(f, "xlsx"),
        IMPORT_BOOK,
        "none",
    ),
    Case(
        "pricebook xlsx: longest cells",
        "inline cells of 32,767 characters (4-byte) up to the text bound",
        lambda f: book_longest_cells(f, "xlsx"),
        IMPORT_BOOK,
        "none",
    ),
    Case(
        "pricebook xlsx: one shared string",
        "one 32,767-character shared string in every row, up to the text bound",
        book_one_shared_string,
        IMPORT_BOOK,
        "none",
    ),
    Case(
        "pricebook xlsx: price and tiers",
        "tiers at their bound and a price sheet at its, sharing the cells and text bounds",
        book_with_tiers,
        IMPORT_BOOK,
        "none",
    ),
    Case(
        "deals csv: most lines",
        "lines at the bound, customer names filling the text bound",
        deals_most_lines,
        IMPORT_DEALS,
        "book",
    ),
    Case(
        "deals csv: most text",
        "200,000 lines, customer names filling the text bound",
        deals_most_text,
        IMPORT_DEALS,
        "book",
    ),
    Case(
        "deals csv: costliest lines",
        "lines at the bound: no deal ids, m/d/yyyy dates, every SKU unknown and its own",
        lambda f: deals_most_lines(f, costly=True),
        IMPORT_DEALS,
        "book",
    ),
    Case(
        "deals csv: distinct ids",
        "the most lines the bounds hold, each its own line id, deal and unknown SKU",
        deals_distinct_ids,
        IMPORT_DEALS,
        "book",
    ),
    Case(
        "deals xlsx: most cells",
        "cells at the bound, seven to a line",
        lambda f: deals_workbook(f, shared=False),
        IMPORT_DEALS,
        "book",
    ),
    Case(
        "deals xlsx: one shared string",
        "one 32,767-character customer in every line, up to the text bound",
        lambda f: deals_workbook(f, shared=True),
        IMPORT_DEALS,
        "book",
    ),
    Case(
        "request csv: most lines",
        "lines at the bound, each a line of the book",
        lambda f: request_file(f, "lines"),
        REQUEST,
        "shop",
    ),
    Case(
        "request csv: most cells",
        "lines at the bound, notes columns up to the size or cells bound",
        lambda f: request_file(f, "cells csv"),
        REQUEST,
        "shop",
    ),
    Case(
        "request csv: most text",
        "notes of 32,767 characters (4-byte) up to the size or text bound",
        lambda f: request_file(f, "text"),
        REQUEST,
        "shop",
    ),
    Case(
        "request xlsx: most cells",
        "lines at the bound, notes columns up to the cells bound",
        lambda f: request_file(f, "cells xlsx"),
        REQUEST,
        "shop",
    ),
    Case(
        "request xlsx: one shared string",
        "one 32,767-character note in every cell, up to the text bound",
        lambda f: request_file(f, "shared"),
        REQUEST,
        "shop",
    ),
    Case(
        "policy: most rules",
        "rules up to the rule or size bound",
        lambda f: policy_file(f, "rules"),
        LOAD_POLICY,
        "shop",
    ),
    Case(
        "policy: longest text",
        "rule names as long as a string may be, up to the size bound",
        lambda f: policy_file(f, "text"),
        LOAD_POLICY,
        "shop",
    ),
]


# Running ----------------------------------------------------------------------------------------


def pricing(db: Path, *args: str) -> None:
    subprocess.run([*PRICING, "--db", str(db), *args], check=True, capture_output=True)


def make_store(folder: Path, kind: str) -> Path:
    """A store of ``kind`` (see Case.store) in ``folder``, made once and copied for each case."""
    made = folder / f"{kind}.db"
    if kind == "none" or made.exists():
        return made
    book = write_csv(
        folder / "book.csv",
        (
            ["SKU", "Family", "List Price", "Unit Cost"],
            *([f"SKU-{i:07d}", "Hardware", 100 + i % 900, 40 + i % 300] for i in range(BOOK_SKUS)),
        ),
    )
    pricing(made, "pricebook", "import", str(book), "--effective", "2024-01-01")
    if kind == "shop":
        pricing(
            made,
            "--user",
            "dana",
            "policy",
            "load",
            str(HERE.parent / "sample_data" / "guardrails.toml"),
        )
    return made


class Watchdog:
    """Stops a child of this process whose memory passes ``CAP_MB`` (the run then fails)."""

    def __init__(self) -> None:
        self.stopped: set[int] = set()
        self.done = threading.Event()
        threading.Thread(target=self.watch, daemon=True).start()

    def watch(self) -> None:
        me = str(os.getpid())
        while not self.done.wait(0.2):
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                rss = int(fields.get("VmRSS", "0 kB").split()[0]) // 1024
                if fields.get("PPid", "").strip() == me and rss > CAP_MB:
                    self.stopped.add(int(pid))
                    os.kill(int(pid), 9)


@dataclass
class Result:
    case: Case
    size: int
    peak: int | None  # None: stopped at CAP_MB
    seconds: float
    exit_code: int | None
    said: str

    @property
    def failed(self) -> bool:
        refused = self.exit_code == 2 and "over the limit" in self.said
        return (
            self.peak is None or self.peak >= PEAK_MB or refused or self.exit_code not in (0, 1, 2)
        )


def run(case: Case, folder: Path, stores: Path) -> Result:
    work = folder / case.name.replace(" ", "-").replace(":", "")
    work.mkdir(parents=True, exist_ok=True)
    path = case.build(work)
    db = work / "pricing.db"
    made = make_store(stores, case.store)
    if made.exists():
        shutil.copy(made, db)
    args = [a.format(db=db, file=path) for a in case.command]
    started = time.perf_counter()
    try:
        done = measured(*args, timeout=900)
    except AssertionError as exc:  # stopped by the watchdog, or a crash
        said = str(exc).strip().splitlines()[-1:] or [""]
        return Result(case, path.stat().st_size, None, time.perf_counter() - started, None, said[0])
    seconds = time.perf_counter() - started
    lines = [line for line in done.stderr.splitlines() if line.startswith("error")]
    said = lines[0] if lines else (done.stdout.strip().splitlines() or [""])[-1]
    return Result(case, path.stat().st_size, done.peak_mb, seconds, done.exit_code, said)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run the cases whose name holds this")
    parser.add_argument("--keep", type=Path, help="make the files here and keep them")
    args = parser.parse_args()
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    cases = [c for c in CASES if args.only in c.name]
    folder = args.keep or Path(tempfile.mkdtemp(prefix="pricing-bounds-"))
    folder.mkdir(parents=True, exist_ok=True)
    shown = {name: getattr(limits, name).shown() for name in ("PRICE_BOOK_ROWS", "CELLS", "SHEET_TEXT", "DEALS_ROWS", "DEALS_TEXT", "REQUEST_LINES", "LINES_FILE")}  # fmt: skip
    print("bounds in force: " + "; ".join(f"{k} {v}" for k, v in shown.items()), flush=True)
    print(f"{'case':36} {'file':>9} {'peak':>8} {'time':>7}  exit  outcome", flush=True)
    watchdog = Watchdog()
    results = []
    try:
        for case in cases:
            result = run(case, folder, folder)
            results.append(result)
            peak = f"{result.peak:,} MB" if result.peak is not None else f">{CAP_MB:,} MB"
            mark = "FAIL" if result.failed else "ok"
            print(
                f"{case.name:36} {result.size / MB:7.1f}MB {peak:>8} {result.seconds:6.1f}s  "
                f"{result.exit_code if result.exit_code is not None else '-':>4}  {mark}: {result.said[:110]}",
                flush=True,
            )
            if args.keep is None:
                shutil.rmtree(
                    folder / case.name.replace(" ", "-").replace(":", ""), ignore_errors=True
                )
    finally:
        watchdog.done.set()
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    worst = max((r.peak or CAP_MB for r in results), default=0)
    failed = [r.case.name for r in results if r.failed]
    print(
        f"highest peak {worst:,} MB (limit {PEAK_MB} MB); "
        + (f"FAILED: {', '.join(failed)}" if failed else "all within")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
