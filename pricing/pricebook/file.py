"""Reading marketing's price book spreadsheet, and writing a clean copy of an edition.

Staged like a compiler: find the sheet and its header row, map columns loosely, read each row
into an item, then validate the whole book. Every problem is collected with its cell; the caller
decides whether any of them blocks the import.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from pricing.errors import InputError
from pricing.io.bounded import Bounds
from pricing.io.headers import (
    HEADER_SEARCH_ROWS,
    closest_header,
    find_header,
    likely_header,
    unknown_override_message,
    unknown_overrides,
)
from pricing.io.perf import paused_gc
from pricing.io.sheets import (
    Sheet,
    Workbook,
    cell_text,
    column_letter,
    normalise_header,
    open_workbook,
)
from pricing.keys import sku_key
from pricing.limits import PRICE_BOOK_FILE, PRICE_BOOK_ROWS, SKIPPED_ROWS_LISTED, TIER_ROWS
from pricing.money import (
    LARGEST,
    TOO_LARGE,
    TOO_LARGE_TEXT,
    currency_named,
    decimal_mark,
    display_money,
    is_ambiguous_decimal,
    is_blank,
    is_currency_code,
    minor_units,
    parse_decimal,
    parse_percent,
    round_money,
    with_decimal_comma,
)
from pricing.pricebook.model import Edition, PriceBook, PriceItem, Tier
from pricing.problems import Problem, Problems, Severity, kind_of

Progress = Callable[[int, int], None]

# A price book file: its size before it is read, and a sheet of at most Excel's rows.
BOUNDS = Bounds(PRICE_BOOK_FILE, PRICE_BOOK_ROWS)
TIER_BOUNDS = Bounds(PRICE_BOOK_FILE, TIER_ROWS, above=HEADER_SEARCH_ROWS)

PRICE_SHEET_NAMES = ("Price Book", "Pricebook", "Prices", "Price List", "Pricelist", "List Prices")
TIER_SHEET_NAMES = ("Tiers", "Volume Tiers", "Tier Pricing", "Volume Pricing", "Volume Discounts")

# Field -> accepted headers, best first (compared after normalise_header).
ITEM_HEADERS: dict[str, tuple[str, ...]] = {
    "sku": (
        "sku", "item no", "part no", "product code", "product id", "product no", "item code",
        "article no", "catalog no", "catalogue no", "stockcode", "stock code", "code", "item",
        "part", "article", "model", "ref", "reference",
    ),
    "list_price": (
        "list price", "msrp", "price", "unit price", "list", "rrp", "base price",
        "wholesale price",
    ),
    "name": (
        "name", "description", "product name", "item name", "product description",
        "item description", "product", "title",
    ),
    "family": (
        "family", "product family", "category", "product category", "product line", "line",
        "group", "product group",
    ),
    "unit_cost": ("unit cost", "cost", "standard cost", "cost price", "cogs"),
    "currency": ("currency", "ccy", "currency code", "cur"),
    "floor_price": ("floor price", "floor", "minimum price", "min price"),
    "status": ("status", "lifecycle", "lifecycle status", "state"),
}  # fmt: skip
TIER_HEADERS: dict[str, tuple[str, ...]] = {
    "sku": ITEM_HEADERS["sku"],
    "family": ITEM_HEADERS["family"],
    "min_qty": (
        "min qty", "minimum qty", "min quantity", "minimum quantity", "from qty", "qty from",
        "quantity from", "from quantity", "qty break", "quantity break", "break", "qty",
        "quantity", "from", "min",
    ),
    "price": ("price", "tier price", "unit price", "volume price", "list price"),
    "discount_pct": (
        "discount %", "discount", "disc %", "discount pct", "discount percent", "% off", "off",
        "discount off list",
    ),
}  # fmt: skip
FIELD_ALIASES = {"price": "list_price", "cost": "unit_cost", "description": "name"}


@dataclass
class ReadOptions:
    """How to read a price book file; every field has the default a marketer expects."""

    sheet: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    currency: str = "USD"
    # ``currency`` was asked for (``--currency``), not a default: a book that names another
    # currency in its price header or cells is then an error, not read in that one.
    currency_given: bool = False
    # The book's newest edition: its number and its currencies (that of most items first);
    # None for a first edition. A file naming no currency is then in that edition's currency
    # (and says so), and one naming another currency is an error unless ``currency_given``.
    previous: tuple[int, tuple[str, ...]] | None = None
    # Leave out the rows with errors of their own (a zero price, a duplicate SKU, ...) and
    # list them (``PriceBookFile.skipped``), instead of refusing the file.
    skip_invalid: bool = False


LEFT_OUT = "left out: "


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row left out by --skip-invalid: where it is (``row`` as the spreadsheet numbers it;
    the line of a csv, whose ``sheet`` is None), its SKU, its non-empty cells under their
    headers, and what is wrong with it."""

    sheet: str | None
    row: int
    sku: str | None
    cells: dict[str, str]
    problems: list[str]


class _RowErrors:
    """Errors found in a file, told apart: those of one row (a bad price, a duplicate SKU, a
    tier row naming no SKU), which --skip-invalid leaves out with their row, and those of the
    whole file (no header, no price rows, bounds, the book's currency), which it never does."""

    def __init__(self, keep_messages: bool) -> None:
        self.keep_messages = keep_messages  # only --skip-invalid lists them with their rows
        self.whole_file = 0
        self.rows: set[tuple[str | None, int]] = set()
        self.messages: dict[tuple[str | None, int], list[str]] = {}
        # Each sheet read: its header row and SKU column (to list a row left out).
        self.sheets: list[tuple[Sheet, int, int | None]] = []

    def row(self, sheet: Sheet, r: int, message: str) -> None:
        self.rows.add((sheet.name, r))
        if self.keep_messages:
            self.messages.setdefault((sheet.name, r), []).append(message)

    def rows_of(self, sheet: Sheet) -> set[int]:
        return {r for name, r in self.rows if name == sheet.name}


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


def parse_column_overrides(pairs: Iterable[str], known: Iterable[str]) -> dict[str, str]:
    """``["sku=Numero", "list_price=Hinta"]`` -> ``{"sku": "Numero", ...}``; bad ones raise."""
    known_fields = set(known)
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, header = pair.partition("=")
        field_name = FIELD_ALIASES.get(name.strip().lower(), name.strip().lower())
        if not sep or not header.strip():
            raise InputError(
                f" {pair!r}: write it as FIELD=HEADER, e.g. sku=Numero",
                field="columns",
            )
        if field_name not in known_fields:
            raise InputError(
                f" {pair!r}: unknown field {name.strip()!r}; "
                f"the fields are {', '.join(sorted(known_fields))}",
                field="columns",
            )
        result[field_name] = header.strip()
    return result


@dataclass
class LoadedSheets:
    """A price book file opened and its price sheet parsed: the I/O half of reading."""

    path: Path
    workbook: Workbook
    sheet_name: str
    sheet: Sheet


def load_price_book(path: Path, sheet: str | None = None) -> LoadedSheets:
    """Open the file and parse its price sheet (slow, and without the GIL for xlsx)."""
    with paused_gc():
        workbook = open_workbook(path, BOUNDS)
        name = _choose_sheet(workbook, sheet)
        return LoadedSheets(path, workbook, name, workbook.sheet(name))


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
    reader = _ItemReader(sheet, options)
    items = reader.read(progress)
    result = PriceBookFile(path, None if sheet.is_csv else sheet_name, None, reader.problems)
    result._source, result._rows, result._columns = sheet, reader.item_rows, reader.cols
    result.sha256 = _file_sha256(path)
    if items is None:
        if reader.header_missing and not options.sheet and len(workbook.sheet_names) > 1:
            result.problems[-1:] = [_other_sheets(workbook, sheet_name, options)]
        return result
    book = PriceBook(items=items)
    tier_sheet = (
        None
        if options.sheet and _is_tier_name(options.sheet)
        else workbook.find_sheet(TIER_SHEET_NAMES)
    )
    if tier_sheet and tier_sheet != sheet_name:
        tiers = workbook.sheet(tier_sheet, TIER_BOUNDS)
        book.tiers = _read_tiers(tiers, book, result.problems, reader.errors, options.columns)
    result.book = book
    errors = reader.errors
    if errors.whole_file or not errors.rows:
        return result
    if options.skip_invalid:
        result.problems = result.problems.demoted(LEFT_OUT)
        result.skipped_rows = len(errors.rows)
        result.skipped = _skipped_rows(errors)
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


def _skipped_rows(errors: _RowErrors) -> list[SkippedRow]:
    """The first SKIPPED_ROWS_LISTED rows left out, each with its non-empty cells under the
    headers of its sheet (a column without a header under its letter)."""
    found: list[SkippedRow] = []
    for sheet, header_row, sku_col in errors.sheets:
        rows = sorted(errors.rows_of(sheet))
        if not rows:
            continue
        header = sheet.rows[header_row]
        names: list[str] = []
        for c in range(max(len(sheet.rows[r]) for r in rows)):
            title = _text(header[c]) if c < len(header) else None
            names.append(title if title and title not in names else column_letter(c))
        for r in rows:
            if len(found) >= SKIPPED_ROWS_LISTED:
                return found
            row = sheet.rows[r]
            cells = {names[c]: cell_text(v) for c, v in enumerate(row) if not _empty(v)}
            sku = _text(row[sku_col]) if sku_col is not None and sku_col < len(row) else None
            number = r + 1
            said = errors.messages[sheet.name, r]
            found.append(SkippedRow(sheet.name, number, sku, cells, said))
    return found


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
        and not _is_tier_name(name)
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


def _is_tier_name(name: str) -> bool:
    return normalise_header(name) in {normalise_header(n) for n in TIER_SHEET_NAMES}


class _ItemReader:
    """Reads the rows under the header into items, collecting problems as it goes."""

    def __init__(self, sheet: Sheet, options: ReadOptions) -> None:
        self.sheet = sheet
        self.options = options
        self.currency = options.currency.upper()
        if options.previous and options.previous[1] and not options.currency_given:
            self.currency = options.previous[1][0]  # the book's, unless the file names one
        self.problems = Problems(sheet.problems)
        self.errors = _RowErrors(options.skip_invalid)
        self.errors.whole_file += sum(p.severity == "error" for p in sheet.problems)
        self.header_row = -1
        self.others_valid = False  # rows without errors of their own remain
        self._column_currencies: dict[str, int] = {}  # a Currency column's codes: first row
        self.item_rows: dict[str, int] = {}
        self.cols: dict[str, int] = {}
        self.header_missing = False
        self.decimal_comma = False  # money typed as text has a decimal comma
        self._duplicate_kinds: tuple[str, str] | None = None
        self._copied: set[int] = set()  # first rows of SKUs already said to be copied

    def problem(
        self,
        severity: Severity,
        row: int,
        col: int | None,
        value: Any,
        message: str,
        *,
        whole_file: bool = False,
    ) -> None:
        """Record a problem at a cell; an error is one of its row (that --skip-invalid may
        leave out) unless it is one of the ``whole_file`` or at or above the header."""
        if severity == "error":
            if whole_file or row <= self.header_row:
                self.errors.whole_file += 1
            else:
                self.errors.row(self.sheet, row, message)
        if self.problems.only_counted(severity, message):
            return
        text = None if value is None else cell_text(value)
        self.problems.append(
            Problem(severity, message, value=text, **self.sheet.location(row, col))
        )

    def read(self, progress: Progress | None) -> dict[str, PriceItem] | None:
        sheet = self.sheet
        typos = unknown_overrides(sheet, self.options.columns)
        for name, header, closest in typos:
            message = unknown_override_message(name, header, closest)
            self.problems.append(Problem("error", message, file=sheet.file, sheet=sheet.name))
        if typos:
            return None
        found = find_header(
            sheet,
            ITEM_HEADERS,
            self.options.columns,
            lambda m: "sku" in m and "list_price" in m,
        )
        if found is None:
            self._no_header()
            return None
        header_row, cols = found
        self.header_row = header_row
        self._start(cols)
        self.errors.sheets.append((sheet, header_row, cols["sku"]))
        if "currency" not in cols:
            self._book_currency(header_row)
        self._decimal_mark(header_row)
        bad_rows = self._formula_problems(header_row)
        items: dict[str, PriceItem] = {}
        first_seen: dict[str, int] = {}
        family_spelling: dict[str, str] = {}
        section: str | None = None
        sku_col, price_col = cols["sku"], cols["list_price"]
        total = len(sheet.rows)
        width = max(cols.values()) + 1
        item_rows = self.item_rows
        for r in range(header_row + 1, total):
            if progress and r % 5000 == 0:
                progress(r, total)
            if r in bad_rows:
                continue
            row = sheet.rows[r]
            if len(row) < width:
                row = [*row, *([None] * (width - len(row)))]
            raw_sku = row[sku_col]
            sku = raw_sku.strip() if raw_sku.__class__ is str else cell_text(raw_sku)
            if not sku:
                section = self._row_without_sku(r, row, section)
                continue
            raw_price = row[price_col]
            if _empty(raw_price) and _looks_like_label(sku) and self._lone_label(row) == sku:
                section = sku
                continue
            item = self._item(r, row, sku, raw_price, section)
            if item is None:
                continue
            family = item.family
            if family:
                spelling = family_spelling.get(family)
                if spelling is None:
                    spelling = family_spelling.setdefault(family.casefold(), family)
                    family_spelling[family] = spelling
                if spelling != family:
                    item = item._replace(family=spelling)
            key = sku_key(sku)
            if key in items:
                self._duplicate(r, sku, items[key].sku, first_seen[key])
                continue
            items[key] = item
            first_seen[key] = item_rows[key] = r
        if progress:
            progress(total, total)
        self._other_currencies()
        if self.errors.rows:
            bad = self.errors.rows_of(sheet)
            self.others_valid = any(r not in bad for r in item_rows.values())
            if self.options.skip_invalid:  # duplicates' first rows, rows with a price in
                for key, r in list(item_rows.items()):  # another currency, ...
                    if r in bad:
                        del items[key], item_rows[key]
        if not items and (self.options.skip_invalid or not self.problems.counts["error"]):
            self.problem(
                "error", header_row, None, None,
                "no price rows under the header: the sheet lists no SKU with a price"
                + (" (every row with a SKU has an error)" if self.errors.rows else ""),
            )  # fmt: skip
        return items

    def _other_currencies(self) -> None:
        """A Currency column naming a currency the book's newest edition has no item in: an
        error (of the whole file) unless --currency names it."""
        previous = self.options.previous
        if previous is None or not previous[1]:
            return
        number, known = previous
        for code, r in self._column_currencies.items():
            if code in known or (self.options.currency_given and code == self.currency):
                continue
            self.problem(
                "error", r, self.cols["currency"], code,
                f"the file has prices in {code} but the price book's newest edition "
                f"({number}) is in {', '.join(known)}; import with --currency {code} to change "
                "the book's currency on purpose, or correct the file",
                whole_file=True,
            )  # fmt: skip

    def _start(self, cols: dict[str, int]) -> None:
        """Remember the columns found under the header."""
        self.cols = cols
        self._optional_cols = (cols.get("currency"), cols.get("unit_cost"), cols.get("floor_price"))
        self._text_cols = (cols.get("name"), cols.get("family"), cols.get("status"))
        self._decimals: dict[str, int] = {}

    def _decimal_mark(self, header_row: int) -> None:
        """Money typed as text says its decimal mark (``12,50``, ``1.234,56``, ``12.50``) or
        an error says it cannot (every value like ``1,234``: thousands, or three decimals?).
        With a decimal comma, ``1,234`` is then read as 1.234 and ``1.234`` as 1234."""
        self.decimal_comma = False
        for name in ("list_price", "unit_cost", "floor_price"):
            col = self.cols.get(name)
            if col is None:
                continue
            texts = [
                (r, value.strip())
                for r in range(header_row + 1, len(self.sheet.rows))
                if isinstance(value := self.sheet.value(r, col), str) and value.strip()
            ]
            mark, either = decimal_mark(text for _, text in texts)
            if mark == "comma":
                self.decimal_comma = True
            elif mark is None and either:
                examples = list(dict.fromkeys(either))[:2]
                first = next(r for r, text in texts if text == examples[0])
                quoted = " and ".join(f'"{e}"' for e in examples)
                self.problem(
                    "error", first, col, examples[0],
                    f"the {name.replace('_', ' ')}s do not say whether the comma or the point "
                    f"marks decimals ({quoted} could be thousands or decimals, and no value "
                    "decides it); write them as numbers, or with their decimals (1,234.00 or "
                    "1.234,00)",
                )  # fmt: skip

    def _book_currency(self, header_row: int) -> None:
        """The currency of a book without a Currency column: what its list price header
        (``List Price (EUR)``) or its prices (``€12.00``, ``EUR 12.00``) name, else
        ``--currency``, else the currency of the book's newest edition (said in a warning),
        else the default. An error where it conflicts with ``--currency``, with the newest
        edition's currency (without --currency), or a price names another."""
        from collections import Counter

        col = self.cols["list_price"]
        header = self.sheet.value(header_row, col)
        named: dict[int, str] = {
            r: code
            for r in range(header_row + 1, len(self.sheet.rows))
            if (code := currency_named(self.sheet.value(r, col))) is not None
        }
        found = currency_named(header)
        if found is not None:
            why = f"its header {cell_text(header)!r}"
        elif named:
            found, count = Counter(named.values()).most_common(1)[0]
            why = "its price" if count == 1 else f"{count} of its prices"
        else:
            self._inherited_currency()
            return
        first = header_row if currency_named(header) else min(named)
        if self.options.currency_given and found != self.currency:
            self.problem(
                "error", first, col, self.sheet.value(first, col),
                f"the list prices are in {found} (from {why}) but --currency is "
                f"{self.currency}; drop --currency, or correct the file",
                whole_file=True,
            )  # fmt: skip
            return
        previous = self.options.previous
        if not self.options.currency_given and previous and previous[1]:
            number, known = previous
            if found not in known:
                self.problem(
                    "error", first, col, self.sheet.value(first, col),
                    f"the list prices are in {found} (from {why}) but the price book's newest "
                    f"edition ({number}) is in {', '.join(known)}; import with --currency "
                    f"{found} to change the book's currency on purpose, or correct the file",
                    whole_file=True,
                )  # fmt: skip
                return
        self.currency = found
        for r, code in named.items():
            if code != found:
                self.problem(
                    "error", r, col, self.sheet.value(r, col),
                    f"this price is in {code} but the book is in {found} (from {why}); "
                    "one currency per book, or add a Currency column",
                )  # fmt: skip

    def _inherited_currency(self) -> None:
        """A file naming no currency is in the newest edition's: say so when that is not
        what a first edition would have been read in (the policy's currency, else USD)."""
        previous = self.options.previous
        if self.options.currency_given or not previous or not previous[1]:
            return
        if self.currency == self.options.currency.upper():
            return
        self.problems.append(
            Problem(
                "warning",
                f"the file names no currency (no Currency column, none in the list price "
                f"header or the prices): read in {self.currency}, the currency of the price "
                f"book's newest edition ({previous[0]}); if it is another, import with "
                "--currency CODE",
                file=self.sheet.file,
            )
        )

    def _row_without_sku(self, r: int, row: list[Any], section: str | None) -> str | None:
        """A row with no SKU: a section label (the new section), blank, or an error."""
        cols, sku_col = self.cols, self.cols["sku"]
        label = self._lone_label(row, exclude=cols["list_price"])
        if label is not None:
            return label
        if self._has_mapped_values(row):
            value = next(
                row[c] for c in sorted(cols.values()) if c < len(row) and not _empty(row[c])
            )
            self.problem(
                "error", r, sku_col, value,
                "values in a row without a SKU: add the SKU, or clear the row",
            )  # fmt: skip
        return section

    def _duplicate(self, r: int, sku: str, first_sku: str, first: int) -> None:
        """A SKU seen before (case and spaces aside): an error at the copy, and one at the first
        row the first time it is copied (so 50,000 copies of a row are 50,000 errors, not
        twice that). Once both kinds are listed in full, a duplicate is only counted, without
        writing its messages (a million copies of one row cost a count each)."""
        kinds = self._duplicate_kinds
        told = first in self._copied
        self._copied.add(first)
        sheet, sku_col = self.sheet, self.cols["sku"]
        if (
            kinds
            and self.problems.full("error", kinds[0])
            and self.problems.full("error", kinds[1])
        ):
            self.problems.only_counted("error", "", kind=kinds[0])
            if not told:
                self.problems.only_counted("error", "", kind=kinds[1])
            said = self.errors.keep_messages
            self.errors.row(sheet, r, f"duplicate SKU: {first_sku!r} again" if said else "")
            if not told:
                self.errors.row(sheet, first, "duplicate SKU: copied further down" if said else "")
            return
        again = (
            f"duplicate SKU: {first_sku!r} is already at "
            f"{_cell_ref(sheet, first, sku_col)}; SKUs differing only in case or "
            "surrounding spaces are the same SKU"
        )
        first_of = f"duplicate SKU: again at {_cell_ref(sheet, r, sku_col)}"
        self._duplicate_kinds = (kind_of(again), kind_of(first_of))
        self.problem("error", r, sku_col, sku, again)
        if not told:
            self.problem("error", first, sku_col, first_sku, first_of)

    def _no_header(self) -> None:
        self.header_missing = True
        sheet = self.sheet
        likely = likely_header(sheet, ITEM_HEADERS, self.options.columns)
        if likely is not None and not ("sku" in likely[1] and "list_price" in likely[1]):
            row, mapping = likely
            said = []
            for name, label in (("sku", "SKU"), ("list_price", "list price")):
                if name in mapping:
                    continue
                closest = closest_header(sheet.rows[row], ITEM_HEADERS[name], mapping.values())
                said.append(
                    f"no {label} column: the closest header is {closest!r}; if that is it, "
                    f'add --column {name}="{closest}"'
                    if closest is not None
                    else f"no {label} column; name it with --column {name}=HEADER"
                )
            self.problems.append(Problem("error", "; ".join(said), **sheet.location(row)))
            return
        wanted = ", ".join(f"{f}={h!r}" for f, h in self.options.columns.items())
        hint = (
            f"no row in the first {HEADER_SEARCH_ROWS} names both a SKU and a list price column"
            + (f" (looked for {wanted})" if wanted else "")
            + "; name them with --column sku=HEADER --column list_price=HEADER"
        )
        if not sheet.rows or all(all(_empty(c) for c in row) for row in sheet.rows):
            hint = "the sheet is empty: no price rows at all"
        loc = {"file": sheet.file, "sheet": sheet.name} if sheet.name else {"file": sheet.file}
        self.problems.append(Problem("error", hint, **loc))  # type: ignore[arg-type]

    def _formula_problems(self, header_row: int) -> set[int]:
        bad_rows: set[int] = set()
        key_cols = {self.cols["sku"]: "SKU", self.cols["list_price"]: "list price"}
        names = {c: f for f, c in self.cols.items()}
        for r, c in sorted(self.sheet.uncached_formulas):
            if r <= header_row:
                continue
            if c in key_cols:
                bad_rows.add(r)
                self.problem(
                    "error", r, c, None,
                    f"the {key_cols[c]} is a formula without a cached value; open the workbook "
                    "in Excel or LibreOffice, let it calculate, and save it again",
                )  # fmt: skip
            else:
                column = names.get(c, f"column {column_letter(c)}")
                self.problem(
                    "warning", r, c, None,
                    f"{column} is a formula without a cached value and is read as empty; "
                    "save the workbook from Excel or LibreOffice to store computed values",
                )  # fmt: skip
        return bad_rows

    def _lone_label(self, row: list[Any], exclude: int | None = None) -> str | None:
        """A row with one text cell and nothing else is a section label such as ``HARDWARE``."""
        found: str | None = None
        for c, value in enumerate(row):
            if _empty(value):
                continue
            if found is not None or not isinstance(value, str) or c == exclude:
                return None
            found = value.strip()
        return found

    def _has_mapped_values(self, row: list[Any]) -> bool:
        return any(c < len(row) and not _empty(row[c]) for c in self.cols.values())

    def _item(
        self, r: int, row: list[Any], sku: str, raw_price: Any, section: str | None
    ) -> PriceItem | None:
        """One row as an item, or None when the row has an error (already recorded)."""
        currency_col, cost_col, floor_col = self._optional_cols
        currency = self.currency
        if currency_col is not None and not is_blank(row[currency_col]):
            code = self._currency(r, row[currency_col])
            if code is None:
                return None
            currency = code
        decimals = self._decimals.get(currency)
        if decimals is None:
            decimals = self._decimals[currency] = minor_units(currency)
        price = _plain_amount(raw_price, decimals)
        failed = False
        if price is None:
            price = self._money(r, "list_price", raw_price, currency, required=True)
            failed = price is None
        cost = floor = None
        if cost_col is not None and not is_blank(row[cost_col]):
            cost = self._optional_money(r, "unit_cost", row[cost_col], currency, decimals)
            failed = failed or cost is None
        if floor_col is not None and not is_blank(row[floor_col]):
            floor = self._optional_money(r, "floor_price", row[floor_col], currency, decimals)
            failed = failed or floor is None
        if failed or price is None:
            return None
        if cost is not None and cost > price:
            assert cost_col is not None
            self.problem(
                "warning", r, cost_col, row[cost_col],
                f"unit cost is above the list price {display_money(price, currency)}: "
                "every sale loses money",
            )  # fmt: skip
        if floor is not None and floor > price:
            assert floor_col is not None
            self.problem(
                "warning", r, floor_col, row[floor_col],
                f"floor price is above the list price {display_money(price, currency)}",
            )  # fmt: skip
        name_col, family_col, status_col = self._text_cols
        name = None if name_col is None else _text(row[name_col])
        family = None if family_col is None else _text(row[family_col])
        status = None if status_col is None else _text(row[status_col])
        return PriceItem(sku, price, currency, name, family or section, cost, floor, status)

    def _currency(self, r: int, raw: Any) -> str | None:
        code = cell_text(raw).upper()
        if is_currency_code(code):
            self._column_currencies.setdefault(code, r)
            return code
        self.problem(
            "error", r, self.cols["currency"], raw,
            "currency is not a 3-letter ISO code such as USD or EUR",
        )  # fmt: skip
        return None

    def _optional_money(
        self, r: int, name: str, raw: Any, currency: str, decimals: int
    ) -> Decimal | None:
        """A non-blank optional amount; None once an error is recorded."""
        amount = _plain_amount(raw, decimals)
        return amount if amount is not None else self._money(r, name, raw, currency)

    def _money(
        self, r: int, name: str, raw: Any, currency: str, required: bool = False
    ) -> Decimal | None:
        """The amount of a cell the fast path could not read; None once an error is recorded.

        Only called for a required cell or a non-blank optional one.
        """
        col = self.cols.get(name)
        label = name.replace("_", " ")
        if is_blank(raw):
            self.problem("error", r, col, raw, f"{label} is missing: every SKU needs one")
            return None
        try:
            text = raw.strip() if isinstance(raw, str) else ""
            comma = self.decimal_comma and is_ambiguous_decimal(text)
            amount = parse_decimal(with_decimal_comma(text) if comma else raw)
        except ValueError as exc:
            self.problem("error", r, col, raw, f"{label} {exc}")
            return None
        if abs(amount) >= TOO_LARGE:
            self.problem("error", r, col, raw, f"{label} {TOO_LARGE_TEXT}")
            return None
        if amount < 0 or (required and amount == 0):
            self.problem(
                "error", r, col, raw,
                f"{label} must be above zero" if required else f"{label} cannot be negative",
            )  # fmt: skip
            return None
        rounded = round_money(amount, currency)
        if required and rounded == 0:
            self.problem(
                "error", r, col, raw, f"{label} rounds to {rounded} in {currency}: it must be above zero"
            )  # fmt: skip
            return None
        if rounded != amount:
            self.problem(
                "warning", r, col, raw,
                f"{label} has more decimals than {currency} uses; stored as {rounded}",
            )  # fmt: skip
        return rounded


def _read_tiers(
    sheet: Sheet,
    book: PriceBook,
    problems: Problems,
    errors: _RowErrors,
    columns: Mapping[str, str],
) -> list[Tier]:
    """Standard volume pricing from the ``Tiers`` sheet: SKU or family, min qty, price or %.

    ``--column sku=…``/``family=…`` name the tier sheet's columns too when it has that
    header (a tier sheet may keep the usual ``SKU`` while the price sheet says ``Numero``)."""
    problems.extend(sheet.problems)
    errors.whole_file += sum(p.severity == "error" for p in sheet.problems)
    wanted = {f: h for f, h in columns.items() if f in ("sku", "family")}
    absent = {name for name, _, _ in unknown_overrides(sheet, wanted)}
    overrides = {f: h for f, h in wanted.items() if f not in absent}
    found = find_header(
        sheet,
        TIER_HEADERS,
        overrides,
        lambda m: (
            ("sku" in m or "family" in m)
            and "min_qty" in m
            and ("price" in m or "discount_pct" in m)
        ),
    )
    if found is None:
        if any(not _empty(c) for row in sheet.rows for c in row):
            errors.whole_file += 1
            problems.append(
                Problem(
                    "error",
                    "no header naming a SKU or family, a minimum quantity and a price or "
                    "discount % (e.g. SKU | Min Qty | Price)",
                    file=sheet.file,
                    sheet=sheet.name,
                )
            )
        return []
    header_row, cols = found
    errors.sheets.append((sheet, header_row, cols.get("sku")))
    reader = _TierReader(sheet, book, problems, cols, errors)
    reader.headers = {f: cell_text(sheet.value(header_row, c)) for f, c in cols.items()}
    reader.fractions = _discounts_are_fractions(sheet, header_row, cols.get("discount_pct"))
    if reader.fractions:
        reader.problem(
            "warning", header_row, cols["discount_pct"], None,
            "discounts are all below 1 and are read as fractions (0.1 = 10 %)",
        )  # fmt: skip
    tiers: list[Tier] = []
    for r in range(header_row + 1, len(sheet.rows)):
        tier = reader.read(r)
        if tier is not None:
            tiers.append(tier)
    return tiers


class _TierReader:
    """Reads one row of the Tiers sheet into a tier, collecting problems as it goes."""

    def __init__(
        self,
        sheet: Sheet,
        book: PriceBook,
        problems: Problems,
        cols: dict[str, int],
        row_errors: _RowErrors,
    ) -> None:
        self.sheet, self.book, self.problems, self.cols = sheet, book, problems, cols
        self.row_errors = row_errors
        self.headers: dict[str, str] = {}  # field -> the header its column has
        self.errors = 0  # found, listed or only counted
        self.fractions = False
        self.families = book.families()
        self.seen: dict[tuple[str, str, int], int] = {}

    def problem(self, severity: Severity, r: int, c: int | None, value: Any, message: str) -> None:
        """Record a problem at a cell; an error is one of its row (--skip-invalid leaves the
        row out)."""
        if severity == "error":
            self.errors += 1
            self.row_errors.row(self.sheet, r, message)
        if self.problems.only_counted(severity, message):
            return
        text = None if value is None else cell_text(value)
        self.problems.append(Problem(severity, message, value=text, **self.sheet.location(r, c)))

    def read(self, r: int) -> Tier | None:
        """The tier of row ``r`` (None for a blank row or one with an error)."""
        row, cols = self.sheet.rows[r], self.cols

        def cell(name: str) -> Any:
            c = cols.get(name)
            return row[c] if c is not None and c < len(row) else None

        if all(_empty(cell(name)) for name in cols):
            return None
        sku, family = _text(cell("sku")), _text(cell("family"))
        qty_raw, price_raw, pct_raw = cell("min_qty"), cell("price"), cell("discount_pct")
        errors_before = self.errors
        self._check_scope(r, sku, family)
        min_qty = _whole_number(qty_raw)
        if min_qty is None or not 1 <= min_qty < TOO_LARGE:
            self.problem(
                "error", r, cols["min_qty"], qty_raw,
                "minimum quantity must be a whole number of 1 or more",
            )  # fmt: skip
        price, pct = self._price_or_discount(r, price_raw, pct_raw)
        if self.errors > errors_before:
            return None
        assert min_qty is not None
        scope = (
            ("sku", sku_key(sku), min_qty)
            if sku
            else ("family", (family or "").casefold(), min_qty)
        )
        if scope in self.seen:
            self.problem(
                "error", r, cols["min_qty"], qty_raw,
                f"a second tier for the same {scope[0]} and quantity (first at "
                f"{_cell_ref(self.sheet, self.seen[scope], cols['min_qty'])})",
            )  # fmt: skip
            return None
        self.seen[scope] = r
        if not (sku and price is not None):
            return Tier(min_qty=min_qty, sku=sku, family=family, price=price, discount_pct=pct)
        item = self.book.get(sku)
        assert item is not None
        price = round_money(price, item.currency)
        if price > item.list_price:
            self.problem(
                "warning", r, cols["price"], price_raw,
                f"tier price is above the list price {item.list_price}",
            )  # fmt: skip
        return Tier(min_qty=min_qty, sku=item.sku, price=price)

    def _check_scope(self, r: int, sku: str | None, family: str | None) -> None:
        """A tier names a SKU of the book or a family, never both."""
        cols = self.cols
        if bool(sku) == bool(family):
            where = cols.get("sku", cols.get("family"))
            self.problem(
                "error", r, where, sku or family,
                "a tier names either a SKU or a family"
                + (", not both" if sku else f"; this row names neither ({self._looked_in()})"),
            )  # fmt: skip
        elif sku and self.book.get(sku) is None:
            self.problem("error", r, cols["sku"], sku, "no such SKU in the price book")
        elif family and family.casefold() not in self.families:
            self.problem(
                "warning", r, cols["family"], family, "no item in the price book has this family"
            )

    def _looked_in(self) -> str:
        """Where a tier row's SKU or family was looked for: the headers of those columns, or
        that the sheet has none and how to name it."""
        said = []
        for name, label in (("sku", "SKU"), ("family", "Family")):
            header = self.headers.get(name)
            said.append(
                f"the {label} column {header!r} is empty"
                if header is not None
                else f"no {label} column: a header such as {label!r}, or --column {name}=HEADER"
            )
        return "; ".join(said)

    def _price_or_discount(
        self, r: int, price_raw: Any, pct_raw: Any
    ) -> tuple[Decimal | None, Decimal | None]:
        """The tier price or the discount % (exactly one is given), or problems."""
        cols = self.cols
        if _empty(price_raw) == _empty(pct_raw):
            self.problem(
                "error", r, cols.get("price", cols.get("discount_pct")), price_raw or pct_raw,
                "give either a tier price or a discount %, not both"
                if not _empty(price_raw) else "give a tier price or a discount %",
            )  # fmt: skip
            return None, None
        if not _empty(price_raw):
            try:
                price = parse_decimal(price_raw)
            except ValueError as exc:
                self.problem("error", r, cols["price"], price_raw, f"tier price {exc}")
                return None, None
            if price <= 0:
                self.problem("error", r, cols["price"], price_raw, "tier price must be above zero")
            elif price >= TOO_LARGE:
                self.problem("error", r, cols["price"], price_raw, f"tier price {TOO_LARGE_TEXT}")
            return price, None
        try:
            pct = parse_percent(pct_raw)
            if self.fractions and not (isinstance(pct_raw, str) and "%" in pct_raw):
                pct *= 100
        except ValueError as exc:
            self.problem("error", r, cols["discount_pct"], pct_raw, f"discount {exc}")
            return None, None
        if not 0 < pct < 100:
            self.problem(
                "error", r, cols["discount_pct"], pct_raw,
                "discount % must be above 0 and below 100",
            )  # fmt: skip
        return None, pct


def _discounts_are_fractions(sheet: Sheet, header_row: int, col: int | None) -> bool:
    if col is None:
        return False
    numbers = []
    for row in sheet.rows[header_row + 1 :]:
        value = row[col] if col < len(row) else None
        if _empty(value) or (isinstance(value, str) and "%" in value):
            continue
        try:
            numbers.append(parse_decimal(value))
        except ValueError:
            continue
    return bool(numbers) and all(0 < n < 1 for n in numbers)


def _whole_number(value: Any) -> int | None:
    try:
        number = parse_decimal(value)
    except ValueError:
        return None
    return int(number) if number == number.to_integral_value() else None


def _plain_amount(value: Any, decimals: int) -> Decimal | None:
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


def _cell_ref(sheet: Sheet, row: int, col: int) -> str:
    if sheet.is_csv:
        return f"line {row + 1}"
    return f"{column_letter(col)}{row + 1}"


def _looks_like_label(text: str) -> bool:
    return not any(ch.isdigit() for ch in text)


def _empty(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str | None:
    if value.__class__ is str:
        return value.strip() or None
    if value is None:
        return None
    return cell_text(value) or None


# Export --------------------------------------------------------------------------------------

EXPORT_COLUMNS = (
    ("SKU", "sku", 16),
    ("Name", "name", 40),
    ("Family", "family", 18),
    ("List Price", "list_price", 13),
    ("Currency", "currency", 10),
    ("Unit Cost", "unit_cost", 13),
    ("Floor Price", "floor_price", 13),
    ("Status", "status", 12),
)


def export_price_book(path: Path, edition: Edition, book: PriceBook) -> None:
    """A clean workbook of one edition: title block, one header row, money formatted, Tiers.

    Text a spreadsheet would take for a formula (``=…``, ``+…``, ``@…``) is written as text.
    The file re-imports as "unchanged" against the same edition.
    """
    from openpyxl import Workbook as XlsxWorkbook

    workbook = XlsxWorkbook(write_only=True)
    sheet = _export_items(workbook, edition, book)
    if book.tiers:
        _export_tiers(workbook, sheet, book)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        workbook.save(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the workbook ({exc.strerror})") from None


def _text_cell(sheet: Any, value: str | None, font: Any = None) -> Any:
    """A write-only cell for text: never a live formula."""
    from openpyxl.cell import WriteOnlyCell

    from pricing.text import FORMULA_START, xlsx_safe

    value = xlsx_safe(value) if value is not None else None
    cell = WriteOnlyCell(sheet, value=value)
    if value is not None and value.startswith(FORMULA_START):
        cell.data_type = "s"  # never a live formula
    if font is not None:
        cell.font = font
    return cell


def _export_items(workbook: Any, edition: Edition, book: PriceBook) -> Any:
    """The "Price Book" sheet: title block, header row, one row per item."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Alignment, Font, PatternFill

    sheet = workbook.create_sheet("Price Book")
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDE4EE")
    for letter_index, (_, _, width) in enumerate(EXPORT_COLUMNS):
        sheet.column_dimensions[column_letter(letter_index)].width = width
    sheet.freeze_panes = "A5"
    title = _text_cell(sheet, f"Price book, edition {edition.number}", Font(bold=True, size=14))
    sheet.append([title])
    sheet.append(
        [
            _text_cell(
                sheet,
                f"Effective from {edition.effective_from.isoformat()}; imported from "
                f"{edition.source} by {edition.imported_by}",
            )
        ]
    )
    sheet.append([])
    headers = []
    for header, _, _ in EXPORT_COLUMNS:
        cell = _text_cell(sheet, header, bold)
        cell.fill = header_fill
        cell.alignment = Alignment(horizontal="center")
        headers.append(cell)
    sheet.append(headers)
    formats: dict[str, str] = {}
    for item in book.items.values():
        number_format = formats.setdefault(
            item.currency,
            "#,##0"
            + ("." + "0" * minor_units(item.currency) if minor_units(item.currency) else ""),
        )
        row = []
        for _, attribute, _ in EXPORT_COLUMNS:
            value = getattr(item, attribute)
            if isinstance(value, Decimal):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = number_format
            else:
                cell = _text_cell(sheet, value)
            row.append(cell)
        sheet.append(row)
    last_row = 4 + len(book.items)
    sheet.auto_filter.ref = f"A4:{column_letter(len(EXPORT_COLUMNS) - 1)}{last_row}"
    return sheet


def _export_tiers(workbook: Any, sheet: Any, book: PriceBook) -> None:
    """The "Tiers" sheet (its text cells made as the price sheet's, as they always were)."""
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    bold = Font(bold=True)
    tiers = workbook.create_sheet("Tiers")
    for letter, width in zip("ABCDE", (16, 18, 10, 13, 12), strict=True):
        tiers.column_dimensions[letter].width = width
    tiers.append(
        [_text_cell(sheet, h, bold) for h in ("SKU", "Family", "Min Qty", "Price", "Discount %")]
    )
    for tier in book.tiers:
        price = WriteOnlyCell(tiers, value=tier.price)
        price.number_format = "#,##0.00"
        tiers.append(
            [
                _text_cell(sheet, tier.sku),
                _text_cell(sheet, tier.family),
                tier.min_qty,
                price,
                tier.discount_pct,
            ]
        )
