"""Reading marketing's price book spreadsheet: the one call that returns a book and problems.

Staged like a compiler: find the sheet and its header row, map columns loosely
(:mod:`~pricing.pricebook.columns`), read each row into an item (:mod:`~pricing.pricebook.items`,
with :mod:`~pricing.pricebook.amounts` and :mod:`~pricing.pricebook.currency`), then the volume
tiers (:mod:`~pricing.pricebook.tiers`). Every problem is collected with its cell; the caller
decides whether any of them blocks the import. Writing a clean copy of an edition is
:mod:`~pricing.pricebook.export`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pricing.errors import InputError
from pricing.io.bounded import Bounds
from pricing.io.headers import HEADER_SEARCH_ROWS, find_header
from pricing.io.perf import paused_gc
from pricing.io.sheet_scan import SheetScan
from pricing.io.sheets import Sheet, Workbook, open_workbook
from pricing.limits import PRICE_BOOK_FILE, PRICE_BOOK_ROWS, TIER_ROWS
from pricing.money import is_currency_code
from pricing.pricebook.columns import (
    ITEM_HEADERS,
    PRICE_SHEET_NAMES,
    TIER_HEADERS,
    TIER_SHEET_NAMES,
    is_tier_name,
    parse_column_overrides,
)
from pricing.pricebook.export import export_price_book
from pricing.pricebook.items import ItemReader
from pricing.pricebook.model import PriceBook
from pricing.pricebook.options import Progress, ReadOptions
from pricing.pricebook.rows import LEFT_OUT, SkippedRow, skipped_rows
from pricing.pricebook.tiers import read_tiers
from pricing.problems import Problem, Problems

__all__ = [
    "BOUNDS",
    "ITEM_HEADERS",
    "LEFT_OUT",
    "PRICE_SHEET_NAMES",
    "TIER_BOUNDS",
    "TIER_HEADERS",
    "TIER_SHEET_NAMES",
    "LoadedSheets",
    "PriceBookFile",
    "Progress",
    "ReadOptions",
    "SkippedRow",
    "export_price_book",
    "load_price_book",
    "parse_column_overrides",
    "read_price_book",
]

# A price book file: its size before it is read, and a sheet of at most Excel's rows.
BOUNDS = Bounds(PRICE_BOOK_FILE, PRICE_BOOK_ROWS)
TIER_BOUNDS = Bounds(PRICE_BOOK_FILE, TIER_ROWS, above=HEADER_SEARCH_ROWS)


@dataclass
class PriceBookFile:
    """What was read from a file: the book (None when nothing usable was found) and problems."""

    path: Path
    sheet: str | None
    book: PriceBook | None
    problems: Problems
    sha256: str = ""
    # The rows --skip-invalid left out (the first SKIPPED_ROWS_LISTED, in file order) and how many.
    skipped: list[SkippedRow] = field(default_factory=list)
    skipped_rows: int = 0
    _source: Sheet | None = None
    _rows: dict[str, int] = field(default_factory=dict)
    _columns: dict[str, int] = field(default_factory=dict)

    def location(self, key: str, column: str) -> dict[str, Any]:
        """Problem keyword arguments for one item's cell (empty when the file has no such cell)."""
        row, col = self._rows.get(key), self._columns.get(column)
        if self._source is None or row is None or col is None:
            return {}
        return self._source.location(row, col)


@dataclass
class LoadedSheets:
    """A price book file opened and its price sheet parsed: the I/O half of reading."""

    path: Path
    workbook: Workbook
    sheet_name: str
    sheet: Sheet
    sha256: str


@dataclass
class OpenedBook:
    """A price book file opened, its price sheet chosen and checked within the bounds, not
    yet parsed: :meth:`load` parses it."""

    path: Path
    workbook: Workbook
    sheet_name: str
    scanned: SheetScan | None

    def load(self) -> LoadedSheets:
        """Parse the price sheet and digest the file: for an xlsx, work done without the
        interpreter's lock, so that another thread may load code or open the database
        meanwhile."""
        with paused_gc():
            sheet = self.workbook.sheet(self.sheet_name, scanned=self.scanned)
        return LoadedSheets(
            self.path, self.workbook, self.sheet_name, sheet, _file_sha256(self.path)
        )


def open_price_book(path: Path, sheet: str | None = None) -> OpenedBook:
    """Open the file, choose its price sheet and check it within the bounds (a csv file is
    read whole here). These checks hold the interpreter's lock; made first, on their own, they
    are not slowed by whatever the caller loads while the sheet is then parsed."""
    with paused_gc():
        workbook = open_workbook(path, BOUNDS)
        name = _choose_sheet(workbook, sheet)
        return OpenedBook(path, workbook, name, workbook.scan(name))


def load_price_book(path: Path, sheet: str | None = None) -> LoadedSheets:
    """Open the file and parse its price sheet."""
    return open_price_book(path, sheet).load()


def read_price_book(
    path: Path,
    options: ReadOptions | None = None,
    progress: Progress | None = None,
    *,
    loaded: LoadedSheets | None = None,
) -> PriceBookFile:
    """Read a price book workbook or csv into a PriceBook and every problem found in it.

    ``loaded`` is the file already opened by :func:`load_price_book` (a caller can load while
    it does something else, such as opening the database).
    """
    options = options or ReadOptions()
    if not is_currency_code(options.currency.upper()):
        raise InputError(
            f" {options.currency!r}: give a 3-letter ISO code such as USD",
            field="currency",
        )
    loaded = loaded or load_price_book(path, options.sheet)
    with paused_gc():
        return _read_price_book(loaded, options, progress)


def _read_price_book(
    loaded: LoadedSheets, options: ReadOptions, progress: Progress | None
) -> PriceBookFile:
    path, workbook, sheet_name, sheet = (
        loaded.path,
        loaded.workbook,
        loaded.sheet_name,
        loaded.sheet,
    )
    reader = ItemReader(sheet, options)
    items = reader.read(progress)
    result = PriceBookFile(path, None if sheet.is_csv else sheet_name, None, reader.problems)
    result._source, result._rows, result._columns = sheet, reader.item_rows, reader.cols
    result.sha256 = loaded.sha256
    if items is None:
        if reader.header_missing and not options.sheet and len(workbook.sheet_names) > 1:
            result.problems[-1:] = [_other_sheets(workbook, sheet_name, options)]
        return result
    book = PriceBook(items=items)
    tier_sheet = (
        None
        if options.sheet and is_tier_name(options.sheet)
        else workbook.find_sheet(TIER_SHEET_NAMES)
    )
    if tier_sheet and tier_sheet != sheet_name:
        tiers = workbook.sheet(tier_sheet, TIER_BOUNDS)
        book.tiers = read_tiers(tiers, book, result.problems, reader.errors, options.columns)
    result.book = book
    errors = reader.errors
    if errors.whole_file or not errors.rows:
        return result
    if options.skip_invalid:
        result.problems = result.problems.demoted(LEFT_OUT)
        result.skipped_rows = len(errors.rows)
        result.skipped = skipped_rows(errors)
    elif reader.others_valid:
        result.problems.append(
            Problem(
                "warning",
                f"the errors above are in {len(errors.rows):,} row(s) of their own: fix them, "
                "or import with --skip-invalid to leave these rows out and store the others",
                file=sheet.file,
            )
        )
    return result


def _file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _choose_sheet(workbook: Workbook, wanted: str | None) -> str:
    if wanted is None:
        return workbook.find_sheet(PRICE_SHEET_NAMES) or workbook.sheet_names[0]
    if wanted in workbook.sheet_names:
        return wanted
    loose = workbook.find_sheet([wanted])
    if loose:
        return loose
    raise InputError(
        f"{workbook.path.name}: no sheet named {wanted!r}; "
        f"its sheets are {', '.join(repr(n) for n in workbook.sheet_names)}"
    )


def _other_sheets(workbook: Workbook, tried: str, options: ReadOptions) -> Problem:
    """No header on the sheet read first (a cover page, say): the workbook's sheets, those
    that look like a price book, and the --sheet that imports one."""
    names = ", ".join(repr(n) for n in workbook.sheet_names)
    books = [
        name
        for name in workbook.sheet_names
        if name != tried
        and not is_tier_name(name)
        and find_header(
            workbook.sheet(name), ITEM_HEADERS, options.columns,
            lambda m: "sku" in m and "list_price" in m,
        ) is not None
    ]  # fmt: skip
    said = (
        f"no row in the first {HEADER_SEARCH_ROWS} of sheet {tried!r} names both a SKU and a "
        f"list price column; the workbook's sheets are {names}"
    )
    if books:
        looks = " and ".join(repr(b) for b in books)
        verb = "looks" if len(books) == 1 else "look"
        said += f"; {looks} {verb} like a price book: import it with --sheet {_quoted(books[0])}"
    else:
        said += (
            "; none names a SKU and a list price column: choose one with --sheet NAME and name "
            "its columns with --column sku=HEADER --column list_price=HEADER"
        )
    return Problem("error", said, file=workbook.path.name, sheet=tried)


def _quoted(name: str) -> str:
    """A sheet name as typed in a shell: quoted when it has spaces or quotes."""
    import shlex

    return shlex.quote(name)
