"""Reading a deals file: what was actually sold, from the CRM's or invoicing system's export.

Files are read column by column with Arrow (a million lines is a normal export), values are
checked in bulk, and every bad cell becomes a Problem with its line. Money is kept exactly, as
whole millionths. Each line gets an identity so that importing the same file twice does not
double it: its line id, else its deal id and position in the deal, else (a file with no ids)
its content and how many identical lines came before it.

The lines come out with the stored input columns of :mod:`pricing.lines.schema` (text inputs
that the schema declares and ``DEAL_HEADERS`` names are read without further code), their keys,
and the file's own ``line`` numbers; :mod:`pricing.lines.service` stores them.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal, TypedDict, cast

from pricing.errors import InputError
from pricing.io.arrow import dictionary_encode, fill_null, texts
from pricing.io.bounded import Bounds
from pricing.io.headers import (
    HEADER_SEARCH_ROWS,
    closest_header,
    find_header,
    likely_header,
    squash,
    unknown_override_message,
    unknown_overrides,
)
from pricing.io.names import is_text, shown_name
from pricing.io.perf import frugal_arrow_memory, in_background, preload
from pricing.io.sheets import (
    Sheet,
    Workbook,
    cell_text,
    check_text,
    column_letter,
    decode_text,
    normalise_header,
    open_workbook,
    read_input,
    sniff_delimiter,
)
from pricing.keys import REQUEST_ID
from pricing.limits import (
    COLUMNS,
    CSV_LINE_BYTES,
    DEALS_FILE,
    DEALS_ROWS,
    DEALS_TEXT,
    FIELD_CHARS,
)
from pricing.lines import schema
from pricing.money import (
    AMBIGUOUS_DECIMAL,
    DECIDES_DECIMAL,
    MICRO,
    TOO_LARGE,
    TOO_LARGE_TEXT,
    parse_decimal,
)
from pricing.problems import Problem, Problems, Severity, kind_of

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import pyarrow as pa
    import pyarrow.csv
    from _typeshed import WriteableBuffer

    from pricing.io.arrow import Array, Column

    Mask = npt.NDArray[np.bool_]  # one flag per row of the file
    Micros = npt.NDArray[np.int64]  # whole millionths per row
    Ints = npt.NDArray[np.int64]
    Days = npt.NDArray[np.datetime64]
    Numbers = tuple[Micros, Mask]  # values, and where they are missing
    # deal ids, line keys, each line its deal's first, deal numbers, a line key given before
    Keys = tuple[Array, Array, Mask, npt.NDArray[np.int64], Mask]

Progress = Callable[[int, int], None]

# Field -> accepted headers, best first (compared after normalise_header). Besides the usual
# names, the line-item exports of common CRMs and invoicing systems, by the labels their own
# documentation gives: Salesforce (opportunity products: Opportunity ID, Product Code, Sales
# Price, Total Price, Line Item ID), HubSpot (Record ID, Deal Name, Deal owner, Associated
# Company), Pipedrive (Deal - ID, Deal - Title, Deal - Won time, Product code, Item price, Sum),
# Zoho Books (Invoice Number, Item Name, Item Price, Item Total, Sales person), Odoo (Order
# Reference, Order Lines/Product, Order Lines/Unit Price, Order Lines/Subtotal, Partner) and
# ERPNext (Posting Date, Item Code, Rate, Net Rate, Net Amount, Discount Percentage).
DEAL_HEADERS: dict[str, tuple[str, ...]] = {
    "line_id": (
        "row id", "line id", "line no", "line", "order line", "invoice line", "line item id",
        "order line id", "deal product id", "order line no", "invoice line no", "line item no",
        "row no", "sales order item",
    ),
    "deal_id": (
        "order id", "order no", "deal", "deal id", "invoice", "invoice no", "invoiceno",
        "invoice id", "opportunity", "opportunity id", "order", "invoice number",
        "deal name", "deal title", "opportunity name", "order reference", "sales order",
        "sales invoice", "record id", "deal no", "opportunity no",
    ),
    "date": (
        "date", "order date", "close date", "invoice date", "invoicedate", "deal date",
        "sale date", "transaction date", "closed date", "sales date", "posting date",
        "won time", "deal won time", "deal close date", "invoice bill date", "date ordered",
    ),
    "customer": (
        "customer", "customer name", "account", "account name", "client", "company",
        "customer id", "customerid", "store name", "associated company", "organization",
        "deal organization", "partner",
    ),
    "rep": (
        "salesperson", "sales rep", "rep", "owner", "account manager", "sales person",
        "seller", "account owner", "opportunity owner", "sales manager", "deal owner",
    ),
    "sku": (
        "sku", "product id", "item no", "item", "stockcode", "stock code", "product code",
        "part no", "item code", "article no", "product", "product sku", "product product code",
        "order lines product", "item code items", "internal reference",
    ),
    "qty": (
        "quantity", "qty", "units", "qty sold", "units sold", "volume", "order lines quantity",
        "quantity items", "qty items", "invoiced quantity", "quantity ordered", "qty ordered",
        "ordered quantity", "quantity sold", "qty invoiced",
    ),
    "amount": (
        "sales", "amount", "line total", "line amount", "net amount", "revenue", "total",
        "sale amount", "total price", "item total", "subtotal", "sum", "order lines subtotal",
        "amount items", "net amount items", "price subtotal", "sales amount", "line value",
        "extended price", "extended amount", "net sales", "line net amount",
    ),
    "unit_price": (
        "net price", "net unit price", "unit price", "unitprice", "price", "sale price",
        "selling price", "net unit", "price each", "sales price", "item price", "net rate",
        "rate", "order lines unit price", "rate items", "net rate items",
    ),
    "discount": (
        "discount", "discount %", "disc", "discount pct", "discount percent", "disc %",
        "discount percentage", "order lines discount %", "discount percentage items",
    ),
    "request_id": ("request", "request id", "deviation", "deviation id", "approval id"),
    "currency": ("currency", "ccy", "currency code", "currency iso code"),
    # Read, never stored: lines of a cancelled, void or lost status are left out (LEFT_OUT).
    "status": (
        "status", "stage", "deal stage", "order status", "line status", "invoice status",
        "deal status", "opportunity stage", "stage name", "sales stage", "document status",
    ),
}  # fmt: skip
# Headers of a line's number within its deal (1, 2, 3 on each order): with a deal id, the
# line's identity is its deal and that number. Compared squashed (io.headers.squash). A bare
# "Line" stays: in exports it is a per-order line number, and read as a line id alone a file
# of one order (lines 1, 2, 3: unique) would find another order's stored lines 1, 2, 3
# "already present". Lines stored by their id alone before (``L:``) are still found by the
# deals import (service._held_as_line_ids).
LINE_IN_DEAL = frozenset(
    {"lineno", "line", "orderline", "orderlineno", "invoiceline", "invoicelineno", "lineitemno"}
)
# Statuses whose lines are left out unless asked for (``--status``, ``--all-statuses``),
# compared case folded without spaces or punctuation: Closed Lost, closed-lost, CLOSED_LOST.
LEFT_OUT = ("Cancelled", "Canceled", "Void", "Lost", "Closed Lost")
REQUIRED = ("date", "sku", "qty")
MONEY = ("amount", "unit_price", "discount")
NUMBER_FIELDS = ("qty", *MONEY)
DECIMAL_MARKS = ("comma", "point")  # --decimal
EXCEL_EPOCH = "1899-12-30"


@dataclass
class DealsFile:
    """What was read: the lines (an Arrow table, one row each, money as millionths) and every
    problem."""

    path: Path
    lines: pa.Table | None
    problems: list[Problem]
    notes: list[str] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    date_format: str | None = None  # as given (None: read from the column's own values)
    sha256: str | None = None  # of the file's bytes: the same file is recognised again
    decimal: str | None = None  # the decimal mark as given (None: read from the values)
    name: str = ""  # the file's name as stored and shown (io.names.shown_name)
    # Which statuses were kept (status_filter) and the lines left out by their status: None
    # when the file has no status column, else "default" (all but LEFT_OUT), "all", or
    # "only:" and the statuses named (folded, sorted); part of what makes the same reading.
    status_filter: str | None = None
    skipped_by_status: dict[str, int] = field(default_factory=dict)  # status as written -> lines
    unread: list[str] = field(default_factory=list)  # headers of the columns no field maps
    # The deal ids and keys of the lines left out by their status (None: none)
    left_out: pa.Table | None = None

    def __post_init__(self) -> None:
        self.name = self.name or shown_name(self.path)


@dataclass(frozen=True)
class _Layout:
    """How a file is laid out: a workbook's sheet (held whole: it was read to find the header),
    or a csv file's separator, line ends and fields per row."""

    sheet: Sheet | None = None
    delimiter: str = ","
    doubled_cr: bool = False  # every line ends \r\r\n (line ends converted twice)


def read_deals(
    path: Path,
    *,
    columns: dict[str, str] | None = None,
    date_format: str | None = None,
    decimal: str | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
    statuses: Sequence[str] | None = None,
    all_statuses: bool = False,
) -> DealsFile:
    """Read a deals export (csv or xlsx) into normalised lines and problems.

    A status column's lines of a cancelled, void or lost status (LEFT_OUT) are left out and
    counted (``skipped_by_status``); ``statuses`` keeps only the lines of those statuses,
    ``all_statuses`` every line (not both).

    ``sheet``: the workbook's sheet to read; by default one named like Deals, Orders, Sales,
    Invoices or Lines, else the first that has a header row (a cover sheet is passed over).

    ``decimal`` (``comma`` or ``point``) says which mark separates decimals in money written
    as text, for a file whose own values do not say (every amount like ``1,234``).

    A file beyond the bounds of :mod:`pricing.limits` (its size, lines, columns, characters in
    a cell) raises InputError as soon as the part read shows it; cells holding a NUL byte are
    problems with their lines."""
    # Arrow's compute functions, the store, pandas (which Arrow imports on its first numpy
    # conversion) and the matching and storing of lines load while the file is read.
    preload("pyarrow.compute", "sqlalchemy", "pandas", "pricing.lines.service")
    frugal_arrow_memory()

    if date_format is not None:
        check_date_format(date_format)
    if decimal is not None and decimal not in DECIMAL_MARKS:
        raise InputError(f" {decimal!r}: give comma or point", field="decimal")
    wanted = _wanted_statuses(statuses, all_statuses)
    overrides = columns or {}
    name = shown_name(path)
    head, layout = _head(path, name, sheet, overrides)
    stop = threading.Event()
    digest = in_background(file_sha256, path, stop)  # on a thread of its own as the file is read
    try:
        return _read(
            path, name, head, layout, overrides, date_format, decimal, progress, digest, wanted
        )
    except BaseException:
        stop.set()  # a refused file is not read to its end for a digest nobody needs
        raise


def _read(
    path: Path,
    name: str,
    head: Sheet,
    layout: _Layout,
    overrides: dict[str, str],
    date_format: str | None,
    decimal: str | None,
    progress: Progress | None,
    digest: Future[str],
    wanted: tuple[str, ...] | None = None,
) -> DealsFile:
    problems = Problems()
    typos = unknown_overrides(head, overrides)
    for field_name, header, closest in typos:
        message = unknown_override_message(field_name, header, closest)
        problems.append(Problem("error", message, file=name, sheet=head.name))
    if typos:
        return DealsFile(path, None, problems, name=name)
    found = find_header(head, DEAL_HEADERS, overrides, _complete)
    if found is None:
        problems.append(_no_header(name, head, overrides))
        return DealsFile(path, None, problems, name=name)
    header_row, mapping = found
    if "deal_id" not in mapping:
        problems.append(_no_deal_id(head, header_row, mapping))
    for missing in _no_customer_or_rep(head, header_row, mapping):
        problems.append(missing)
    if wanted and wanted != ("*",) and "status" not in mapping:
        problems.append(_no_status(head, header_row, mapping))
        return DealsFile(path, None, problems, name=name)
    if progress:
        progress(0, 3)
    if layout.sheet is None:
        raw = _csv_columns(path, name, head, header_row, mapping, layout, problems)
        if raw is None:  # rows the csv reader could not split: nothing else is read
            return DealsFile(path, None, problems, name=name)
        text_cells = None  # every cell of a csv file is text
    else:
        raw, text_cells = _sheet_columns(name, layout.sheet, header_row, mapping)
    if progress:
        progress(1, 3)
    reader = _Reader(name, head, layout.sheet is None, mapping, header_row + 2, problems)
    reader.wanted = wanted
    lines = reader.convert(raw, date_format, decimal, text_cells)
    if progress:
        progress(3, 3)
    headers = {f: str(h) for f, h in reader.headers.items()}
    unread = [
        str(cell).strip()
        for c, cell in enumerate(head.rows[header_row])
        if c not in mapping.values() and cell is not None and str(cell).strip()
    ]
    if unread:
        shown = ", ".join(unread[:30]) + (
            f" and {len(unread) - 30:,} more" if len(unread) > 30 else ""
        )
        reader.notes.append(f"columns not read: {shown}")
    return DealsFile(
        path, lines, problems, reader.notes, headers, date_format,
        digest.result(), decimal, name,
        _status_filter(wanted) if "status" in mapping else None,
        reader.skipped_by_status, unread, reader.left_out,
    )  # fmt: skip


def fold_status(text: str) -> str:
    """A status as compared: case folded, without spaces or punctuation."""
    return re.sub(r"[\W_]+", "", text.casefold())


_LEFT_OUT = frozenset(fold_status(s) for s in LEFT_OUT)


def _wanted_statuses(statuses: Sequence[str] | None, all_statuses: bool) -> tuple[str, ...] | None:
    """The statuses to keep, folded: None (all but LEFT_OUT), ``("*",)`` (every one), or those
    named."""
    named = [s.strip() for s in statuses or () if s.strip()]
    if statuses is not None and not named:
        raise InputError(" names no status: give them as S1,S2, e.g. --status Shipped,Resolved",
                         field="status")  # fmt: skip
    if named and all_statuses:
        raise InputError(
            ": give either --status S1,S2 (keep only those) or --all-statuses (keep every "
            "line), not both",
            field="status",
        )
    if all_statuses:
        return ("*",)
    return tuple(sorted({fold_status(s) for s in named})) if named else None


def _status_filter(wanted: tuple[str, ...] | None) -> str:
    """How the statuses were filtered, as an import records it."""
    if wanted is None:
        return "default"
    return "all" if wanted == ("*",) else "only:" + ",".join(wanted)


def check_date_format(date_format: str) -> None:
    """Refuse a ``--date-format`` that cannot read a date: an unknown directive (``%Q``), or
    one without the year, month and day (``%d/%m``, ``dd/mm/yyyy``)."""
    from datetime import datetime

    sample = date(2025, 1, 31)
    hint = "write it with the directives of strftime, e.g. %d/%m/%Y or %m/%d/%Y"
    try:
        back = datetime.strptime(sample.strftime(date_format), date_format).date()
    except ValueError as exc:
        raise InputError(f" {date_format!r}: {exc}; {hint}", field="date_format") from None
    if back != sample:
        raise InputError(
            f" {date_format!r} does not name the year, month and day; {hint}", field="date_format"
        )


_LABELS = {"date": "date", "sku": "SKU", "qty": "quantity"}


def file_sha256(path: Path, stop: threading.Event | None = None) -> str:
    """The SHA-256 of a file's bytes (hashing lets go of the GIL: it runs beside the reading);
    ``stop`` set ends it early, with no digest (the file was refused)."""
    import hashlib

    sha = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 22):
            if stop is not None and stop.is_set():
                return ""
            sha.update(block)
    return sha.hexdigest()


def _no_header(name: str, head: Sheet, overrides: dict[str, str]) -> Problem:
    """No row names every required field: the row that names most of them, and each field it
    lacks with the header most like it; else (no such row) what the header must name."""
    likely = likely_header(head, DEAL_HEADERS, overrides)
    if likely is not None:
        row, mapping = likely
        cells = head.rows[row]
        missing = [f for f in REQUIRED if f not in mapping]
        if not any(f in mapping for f in MONEY):
            missing.append("amount")
        said = []
        for field_name in missing:
            aliases = (
                tuple(a for m in MONEY for a in DEAL_HEADERS[m])
                if field_name == "amount"
                else DEAL_HEADERS[field_name]
            )
            label = _LABELS.get(field_name, "line amount, net unit price or discount")
            closest = closest_header(cells, aliases, mapping.values())
            if closest is not None:
                said.append(
                    f"no {label} column: the closest header is {closest!r}; if that is it, "
                    f'add --column {field_name}="{closest}"'
                )
            else:
                said.append(f"no {label} column; name it with --column {field_name}=HEADER")
        return Problem("error", "; ".join(said), **head.location(row))
    wanted = ", ".join(f"{f}={h!r}" for f, h in overrides.items())
    return Problem(
        "error",
        "no row in the first 30 names a date, a SKU, a quantity and an amount, net price or "
        "discount column" + (f" (looked for {wanted})" if wanted else "")
        + "; name them with --column date=HEADER --column sku=HEADER --column qty=HEADER "
        "--column amount=HEADER"
        + (f" (sheet {head.name!r} was read; another with --sheet NAME)" if head.name else ""),
        file=name, sheet=head.name,
    )  # fmt: skip


def _no_customer_or_rep(head: Sheet, header_row: int, mapping: dict[str, int]) -> list[Problem]:
    """A warning for a file without a customer or a salesperson column: its lines show as
    "(none)" in that breakdown. (No header is suggested: a territory or a phone number looks
    like an owner to difflib, and is not one.)"""
    labels = {"customer": "customer", "rep": "salesperson"}
    missing = [f for f in labels if f not in mapping]
    if not missing:
        return []
    named = " or ".join(labels[f] for f in missing)
    hint = " or ".join(f"--column {f}=HEADER" for f in missing)
    return [
        Problem(
            "warning",
            f"no {named} column was found: the report shows every line under (none) by "
            f"{named}; if a column holds it, name it with {hint}",
            **head.location(header_row),
        )
    ]


def _no_status(head: Sheet, header_row: int, mapping: dict[str, int]) -> Problem:
    """An error for --status given for a file without a status column."""
    closest = closest_header(head.rows[header_row], DEAL_HEADERS["status"], mapping.values())
    hint = (
        f'the closest header is {closest!r}: if it holds the status, add --column status="{closest}"'
        if closest is not None
        else "if a column holds it, name it with --column status=HEADER"
    )
    return Problem(
        "error", f"--status was given but the file has no status column; {hint}",
        **head.location(header_row),
    )  # fmt: skip


def _no_deal_id(head: Sheet, header_row: int, mapping: dict[str, int]) -> Problem:
    """A warning for a file without a deal id column: how its deals will be counted, and the
    header that looked closest to one."""
    closest = closest_header(head.rows[header_row], DEAL_HEADERS["deal_id"], mapping.values())
    looked = (
        f"the closest header is {closest!r}; if it holds the deal, import with "
        f'--column deal_id="{closest}"'
        if closest is not None
        else "if a column holds the deal, name it with --column deal_id=HEADER"
    )
    return Problem(
        "warning",
        f"no deal id column: each line is counted as a deal of its own; {looked}",
        **head.location(header_row),
    )


def _sheet_columns(
    name: str, sheet: Sheet, header_row: int, mapping: dict[str, int]
) -> tuple[dict[str, Array], dict[str, Mask]]:
    """The mapped columns of a workbook's sheet as Arrow text, and which cells of the number
    columns hold text (a number typed as a number has no decimal mark to decide)."""
    import numpy as np
    import pyarrow as pa

    body = sheet.rows[header_row + 1 :]
    DEALS_ROWS.check(len(body), name)
    columns: dict[str, Array] = {}
    typed_text: dict[str, Mask] = {}
    for field_name, col in mapping.items():
        cells = [r[col] if col < len(r) else None for r in body]
        columns[field_name] = pa.array([cell_text(c) for c in cells], pa.string())
        if field_name in NUMBER_FIELDS:
            typed_text[field_name] = np.array([isinstance(c, str) for c in cells], dtype=bool)
        too_long = _too_long(columns[field_name])
        if too_long is not None:
            index, chars = too_long
            cell = f"'{sheet.name}'!{column_letter(col)}{header_row + 2 + index}"
            raise InputError(FIELD_CHARS.message(f"{name}, {cell}", f"{chars:,}"))
    return columns, typed_text


def _csv_columns(
    path: Path,
    name: str,
    head: Sheet,
    header_row: int,
    mapping: dict[str, int],
    layout: _Layout,
    problems: Problems,
    encoding: str = "utf8",
) -> dict[str, Array] | None:
    """The mapped columns of a csv file as Arrow text, read block by block with Arrow's reader
    and checked as they come (lines, characters in a cell: a file beyond a bound is refused
    as soon as it shows it, not after it was read whole); or None, and a problem for each row
    that cannot be read (more or fewer fields than the others, a stray quote).

    UTF-8 (Arrow checks it as it reads), else Windows-1252, what Excel writes on Windows.
    Empty lines are read as blank rows (dropped later) so that line numbers stay true; Arrow
    counts the lines of the rows it cannot read (``use_threads=False``: it cannot otherwise,
    and one thread reads a million lines as fast here)."""
    import pyarrow as pa
    import pyarrow.csv as csv

    broken = Problems()
    message = "has {actual} fields where the header has {expected}: a stray separator or quote? fix the row and import again"  # fmt: skip

    def invalid(row: pyarrow.csv.InvalidRow) -> Literal["skip"]:
        said = message.format(actual=row.actual_columns, expected=row.expected_columns)
        if not broken.only_counted("error", said):
            text = row.text if len(row.text) <= 200 else row.text[:200] + "…"
            broken.append(Problem("error", said, value=text, file=name, line=row.number))
        return "skip"

    width = _width(head, header_row, mapping)
    names = {field_name: f"f{col}" for field_name, col in mapping.items()}
    first_line = header_row + 2
    batches: list[pa.RecordBatch] = []
    lines = text = 0
    most_lines, most_text = DEALS_ROWS.value, DEALS_TEXT.value
    try:
        with _csv_source(path, layout) as source:
            reader = csv.open_csv(
                source,
                read_options=csv.ReadOptions(
                    skip_rows=header_row + 1,
                    column_names=[f"f{i}" for i in range(width)],
                    encoding=encoding,
                    use_threads=False,
                    block_size=CSV_LINE_BYTES.value,
                ),
                parse_options=csv.ParseOptions(
                    delimiter=layout.delimiter,
                    ignore_empty_lines=False,
                    invalid_row_handler=invalid,
                ),
                convert_options=csv.ConvertOptions(
                    include_columns=list(names.values()),
                    column_types=dict.fromkeys(names.values(), pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                if lines + batch.num_rows > most_lines:
                    raise InputError(DEALS_ROWS.message(name, f"more than {most_lines:,}"))
                for field_name, column in names.items():
                    offsets = _offsets(batch.column(column))
                    text += int(offsets[-1]) - int(offsets[0])
                    too_long = _too_long(batch.column(column))
                    if too_long is not None:
                        index, chars = too_long
                        line = first_line + lines + index
                        col = column_letter(mapping[field_name])
                        raise InputError(
                            FIELD_CHARS.message(f"{name} line {line}, column {col}", f"{chars:,}")
                        )
                lines += batch.num_rows
                if text > most_text:
                    found = f"more than {DEALS_TEXT.shown()} by line {first_line + lines - 1:,}"
                    raise InputError(DEALS_TEXT.message(name, found))
                batches.append(batch)
    except (pa.ArrowInvalid, pa.ArrowKeyError) as exc:
        if "UTF8" in str(exc) and encoding == "utf8":
            del batches
            return _csv_columns(path, name, head, header_row, mapping, layout, problems, "cp1252")
        detail = str(exc).removeprefix("CSV parse error: ")
        if "straddling" in detail:  # one line longer than a block
            raise InputError(
                CSV_LINE_BYTES.message(f"{name} line {first_line + lines} or after")
            ) from None
        problems.append(Problem("error", f"cannot be read as csv: {detail}; save it again as "
                             "comma- or semicolon-separated values", file=name))  # fmt: skip
        return None
    if broken.total:
        problems.extend(broken)
        return None
    # Each column's blocks are let go as soon as its whole copy is made: at the peak the file's
    # text is held once and one column twice (not all of them twice).
    chunks = {
        field_name: pa.chunked_array([b.column(column) for b in batches], pa.string())
        for field_name, column in names.items()
    }
    del batches, reader
    return {field_name: chunks.pop(field_name).combine_chunks() for field_name in list(chunks)}


def _width(head: Sheet, header_row: int, mapping: dict[str, int]) -> int:
    """Fields per row, as the first row below the header has them (a header may have fewer or
    more, e.g. a trailing separator), and at least up to the last column mapped (shorter rows
    are then the rows that cannot be read, each said)."""
    below = [row for row in head.rows[header_row + 1 :] if row]
    width = len(below[0]) if below else len(head.rows[header_row])
    return max(width, max(mapping.values()) + 1)


@contextmanager
def _csv_source(path: Path, layout: _Layout) -> Iterator[str | io.BufferedReader]:
    """The csv file as Arrow reads it: by its path, which Arrow reads itself; through Python
    only when Arrow cannot open the path (not UTF-8) or when line ends converted twice
    (``\\r\\r\\n``) are read as one."""
    if is_text(path) and not layout.doubled_cr:
        yield str(path)
        return
    with path.open("rb") as file:
        yield io.BufferedReader(_SingleCr(file), 1 << 20) if layout.doubled_cr else file


class _SingleCr(io.RawIOBase):
    """A file whose lines end ``\\r\\r\\n`` (a program wrote ``\\r\\n`` through a text stream
    that turned ``\\n`` into ``\\r\\n`` again) read as if they ended ``\\r\\n``."""

    def __init__(self, raw: BinaryIO) -> None:
        super().__init__()
        self.raw = raw
        self.ready = bytearray()  # converted, not handed out yet
        self.held = b""  # up to two carriage returns that may begin a \r\r\n in the next block
        self.ended = False

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        while (size is None or size < 0 or len(self.ready) < size) and not self.ended:
            block = self.raw.read(1 << 20)
            data = self.held + block
            if not block:
                self.ended, self.held = True, b""
                self.ready += data.replace(b"\r\r\n", b"\r\n")
                break
            cut = max(len(data.rstrip(b"\r")), len(data) - 2)
            self.held = data[cut:]
            self.ready += data[:cut].replace(b"\r\r\n", b"\r\n")
        taken = len(self.ready) if size is None or size < 0 else min(size, len(self.ready))
        out = bytes(self.ready[:taken])
        del self.ready[:taken]
        return out

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        data = self.read(len(view))
        view[: len(data)] = data
        return len(data)


_HEAD_BYTES = 256 * 1024
# A deals workbook: no more rows than a deals file may have lines, and the title rows and
# header above them; refused from its XML before it is parsed.
WORKBOOK_BOUNDS = Bounds(DEALS_FILE, DEALS_ROWS, above=HEADER_SEARCH_ROWS)


def _deals_sheet(
    workbook: Workbook, name: str, wanted: str | None, overrides: dict[str, str]
) -> tuple[str, Sheet]:
    """The sheet of a workbook to read deals from: the one asked for; else one named like a
    deals sheet; else the first whose first rows hold a header (a cover or read-me sheet
    first is passed over); else the first, whose missing header is then the problem."""
    if wanted is not None:
        if wanted not in workbook.sheet_names:
            listed = ", ".join(repr(n) for n in workbook.sheet_names)
            raise InputError(f"{name}: has no sheet {wanted!r}; its sheets are {listed}")
        return wanted, workbook.sheet(wanted)
    named = workbook.find_sheet(["Deals", "Orders", "Sales", "Invoices", "Lines"])
    if named is not None:
        return named, workbook.sheet(named)
    first = workbook.sheet(workbook.sheet_names[0])
    if len(workbook.sheet_names) == 1 or _has_header(first, overrides):
        return workbook.sheet_names[0], first
    del first  # one sheet read at a time: each may be as large as the bounds allow
    for candidate in workbook.sheet_names[1:]:
        sheet = workbook.sheet(candidate)
        if _has_header(sheet, overrides):
            return candidate, sheet
        del sheet
    return workbook.sheet_names[0], workbook.sheet(workbook.sheet_names[0])


def _complete(mapping: dict[str, int]) -> bool:
    """Whether a header row names every field a deal line needs."""
    return all(f in mapping for f in REQUIRED) and any(f in mapping for f in MONEY)


def _has_header(sheet: Sheet, overrides: dict[str, str]) -> bool:
    return find_header(sheet, DEAL_HEADERS, overrides, _complete) is not None


def _head(
    path: Path, name: str, wanted: str | None = None, overrides: dict[str, str] | None = None
) -> tuple[Sheet, _Layout]:
    """The first rows (to find the header) and how the file is laid out. A workbook's sheet is
    read whole here (and kept); of a csv file, the first 256 KB, which already show a file
    beyond the bounds of size, columns or characters in a cell, or holding NUL bytes."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # read_input says what is wrong with it
    DEALS_FILE.check(size, name, DEALS_FILE.shown(size))
    start = read_input(path, _HEAD_BYTES)
    if start.startswith(b"PK\x03\x04") or start.startswith(b"\xd0\xcf\x11\xe0"):
        workbook = open_workbook(path, WORKBOOK_BOUNDS)
        sheet_name, whole = _deals_sheet(workbook, name, wanted, overrides or {})
        sheet = Sheet(name, sheet_name, whole.rows, whole.uncached_formulas)
        _check_width(sheet.rows[:30], lambda row: f"{name}, sheet {sheet_name!r}, row {row}")
        return Sheet(name, sheet_name, sheet.rows[:30]), _Layout(sheet=sheet)
    check_text(path, start, nul_in_cells=True)
    doubled_cr = _doubled_cr(start)
    text = decode_text(start)
    if doubled_cr:
        text = text.replace("\r\r\n", "\n")
    limit = FIELD_CHARS.value
    long = re.search(f"[^,;\t\r\n]{{{limit + 1},}}", text)  # a field over it, whatever splits
    if long is not None:
        line = text.count("\n", 0, long.start()) + 1
        if "\x00" in long.group():  # a file ending in zeros: cut short, or never written
            raise InputError(
                f"{name} line {line}: holds NUL bytes (\\0), which no text export has: the "
                "file is damaged or is not a csv file; export it again; nothing was stored"
            )
        length = len(long.group())
        found = f"{length:,}" if long.end() < len(text) else f"more than {length:,}"
        raise InputError(FIELD_CHARS.message(f"{name} line {line}", found))
    lines = text.splitlines()[:31]
    delimiter = sniff_delimiter("\n".join(lines))
    reader = csv.reader(io.StringIO("\n".join(lines[:30])), delimiter=delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise InputError(
            f"{name} line {reader.line_num}: cannot be read as csv ({exc}); save it again as "
            "comma- or semicolon-separated values"
        ) from None
    _check_width(rows, lambda row: f"{name} line {row}")
    for number, row in enumerate(rows, 1):
        for col, cell in enumerate(row):
            if len(cell) > limit:
                where = f"{name} line {number}, column {column_letter(col)}"
                raise InputError(FIELD_CHARS.message(where, f"{len(cell):,}"))
    return Sheet(name, None, rows), _Layout(delimiter=delimiter, doubled_cr=doubled_cr)


def _check_width(rows: list[list[Any]], where: Callable[[int], str]) -> None:
    """Refuse rows wider than Excel's sheets (limits.COLUMNS), naming the first."""
    for number, row in enumerate(rows, 1):
        COLUMNS.check(len(row), where(number))


def _doubled_cr(start: bytes) -> bool:
    """Whether every line end of the file's start is ``\\r\\r\\n`` (the start's last, maybe
    cut, line aside): line ends converted twice, one line each, as the author meant."""
    ends = start.count(b"\n")
    return ends > 0 and start.count(b"\r\r\n") == ends


NUL_MESSAGE = (
    "holds a NUL byte (\\0), which no value a person types has (a damaged export?); remove it "
    "and import again"
)


def _with_nul(values: Array) -> Mask | None:
    """Which values of an Arrow text column hold a NUL byte, or None when none does (the usual
    file: the smallest byte of the column's data, one vectorised pass and no copy)."""
    import numpy as np
    import pyarrow.compute as pc

    offsets = _offsets(values)
    data = values.buffers()[2]
    start, end = int(offsets[0]), int(offsets[-1])
    if data is None or end == start:
        return None
    # pa.Buffer has the buffer protocol (``__buffer__``), which numpy's stubs see only on 3.12.
    content = np.frombuffer(data, np.uint8, end - start, start)  # type: ignore[call-overload]
    if content.min() > 0:
        return None
    found: Mask = pc.match_substring(values, "\x00").to_numpy(zero_copy_only=False)
    return found


def _too_long(values: Array) -> tuple[int, int] | None:
    """The first value of an Arrow text column longer than limits.FIELD_CHARS characters (its
    index and length), or None: from the offsets first (bytes are at least as many as
    characters), so that a column of short values costs one pass over its offsets."""
    import numpy as np
    import pyarrow.compute as pc

    limit = FIELD_CHARS.value
    sizes = np.diff(_offsets(values))
    if not len(sizes) or int(sizes.max()) <= limit:
        return None
    chars = pc.utf8_length(cast("pa.StringArray", values)).to_numpy(zero_copy_only=False)
    over = np.flatnonzero(chars > limit)
    return (int(over[0]), int(chars[over[0]])) if len(over) else None


def _offsets(values: Array) -> npt.NDArray[np.int32]:
    """Where each value of an Arrow text column starts in its data, and where the last ends."""
    import numpy as np

    data = values.buffers()[1]  # a text array's offsets; never None
    assert data is not None
    # pa.Buffer has the buffer protocol (``__buffer__``), which numpy's stubs see only on 3.12.
    offsets: npt.NDArray[np.int32] = np.frombuffer(
        data, np.int32, len(values) + 1, values.offset * 4
    )  # type: ignore[call-overload]
    return offsets


def _spread(rows: npt.NDArray[np.intp], chosen: Mask, size: int) -> Mask:
    """A mask over ``size`` rows, set at ``rows[chosen]``."""
    import numpy as np

    mask = np.zeros(size, dtype=bool)
    mask[rows[chosen]] = True
    return mask


def _blank(values: Array) -> Mask:
    """Which values of an Arrow text column (no nulls) are empty, as a numpy mask: where the
    offsets of consecutive values are equal."""

    offsets = _offsets(values)
    blank: Mask = offsets[1:] == offsets[:-1]
    return blank


class _Where(TypedDict, total=False):
    file: str
    sheet: str | None
    line: int
    cell: str


# Text inputs read as they are (blank: null): every text column of the schema's inputs the
# file may have, but the SKU (required, and keyed).
TEXT_INPUTS = tuple(
    c.name
    for c in schema.DECLARED
    if c.role is schema.Role.INPUT and c.kind == "string" and c.name != "sku"
)


class _Reader:
    """Converts raw text columns (Arrow) into typed columns, collecting problems with their
    lines. Masks are numpy booleans over the file's rows."""

    def __init__(
        self,
        name: str,
        head: Sheet,
        is_csv: bool,
        mapping: dict[str, int],
        first_line: int,
        found: Problems,
    ) -> None:
        self.name, self.head, self.is_csv = name, head, is_csv
        self.mapping = mapping
        self.first_line = first_line
        self.found = found
        self.notes: list[str] = []
        self.undecided_dates: Mask | None = None  # dates whose day and month may be swapped
        self.wanted: tuple[str, ...] | None = None  # the statuses kept (_wanted_statuses)
        self.skipped_by_status: dict[str, int] = {}
        self.left_out: pa.Table | None = None  # the lines left out by their status: their ids
        header = head.rows[first_line - 2] if first_line - 2 < len(head.rows) else []
        self.headers = {
            f: (header[c] if c < len(header) else column_letter(c)) for f, c in mapping.items()
        }

    def where(self, index: int, field_name: str) -> _Where:
        line = self.first_line + index
        col = column_letter(self.mapping[field_name])
        if self.is_csv:
            return {"file": self.name, "line": line, "cell": f"{col}{line}"}
        return {"file": self.name, "sheet": self.head.name, "cell": f"{col}{line}"}

    def bad(
        self,
        mask: Mask,
        values: Array,
        field_name: str,
        message: str,
        severity: Severity = "error",
    ) -> None:
        """A problem for each line of ``mask``: counted, and the first of its kind listed."""
        import numpy as np

        count = int(np.count_nonzero(mask))
        if not count:
            return
        for index in np.flatnonzero(mask)[: self.found.room(severity, kind_of(message), count)]:
            where = self.where(int(index), field_name)
            value = values[int(index)].as_py()
            self.found.append(Problem(severity, message, value=str(value), **where))

    def convert(
        self,
        raw: dict[str, Array],
        date_format: str | None,
        decimal: str | None = None,
        text_cells: dict[str, Mask] | None = None,
    ) -> pa.Table:
        """The file's lines: typed input columns, keys, and each line's number in the file."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        self._nul_bytes(raw)
        # Each raw column is released as its stripped copy is made (the caller hands them over).
        text = {name: pc.utf8_trim_whitespace(raw.pop(name)) for name in list(raw)}
        blank = {name: _blank(values) for name, values in text.items()}
        keep: Mask = ~np.logical_and.reduce(list(blank.values()))
        self._decimal_mark(text, keep, blank, decimal, text_cells or {})
        keyed = self._start_keys(text, blank, keep)
        skipped = self._statuses(text, keep)  # left out by their status (None: none)
        counted = keep if skipped is None else keep & ~skipped
        self.bad(blank["sku"] & keep, text["sku"], "sku", "the line has values but no SKU")
        dates = self._dates(text["date"], keep, blank["date"], date_format)
        self._future(dates, counted, text["date"])
        qty = self._number(text["qty"], keep, blank["qty"], "qty", "quantity")
        money = self._money(text, blank, keep, qty)
        self._disagreeing(text, qty, money, counted)
        self._quantities(text["qty"], counted, qty, money)
        request_ids = self._request_ids(text["request_id"], keep) if "request_id" in text else None
        lines = self._table(text, blank, dates, {"qty": qty, **money}, request_ids)
        if not keep.all():  # blank rows go (a clean export has none: no copy then)
            lines = lines.filter(pa.array(keep))
        keys = keyed.result() if keyed is not None else None
        if keys is not None and keys[4].any():
            self._repeated_ids(keys, text, keep)
        # Keys are made over every line, whatever its status: a line's identity does not
        # depend on which statuses an import keeps.
        lines = _with_keys(lines, keys, set(text))
        if skipped is not None and skipped.any():
            self.left_out = lines.select(["deal_id", "line_key"]).filter(pa.array(skipped[keep]))
            lines = lines.filter(pa.array(~skipped[keep]))
        return lines

    def _statuses(self, text: dict[str, Array], keep: Mask) -> Mask | None:
        """Which lines are left out by their status (None: every line is kept): those of a
        status in LEFT_OUT, or with ``--status``, of any other; counted by status as written
        (``skipped_by_status``). A status named that no line has is warned about."""
        import numpy as np

        if "status" not in text or self.wanted == ("*",):
            return None
        encoded = dictionary_encode(cast("Array", fill_null(text["status"], "")))
        words = texts(encoded.dictionary)
        folded = [fold_status(word) for word in words]
        if self.wanted is None:
            out = np.array([f in _LEFT_OUT for f in folded], dtype=bool)
        else:
            chosen = set(self.wanted)
            out = np.array([f not in chosen for f in folded], dtype=bool)
            absent = [w for w in self.wanted if w not in folded]
            if absent:
                present = ", ".join(dict.fromkeys(w for w in words if w)) or "none"
                self.found.append(Problem(
                    "warning",
                    f"--status {', '.join(absent)}: no line has that status (the file's "
                    f"statuses: {present})",
                    file=self.name, sheet=self.head.name,
                ))  # fmt: skip
        codes = encoded.indices.to_numpy(zero_copy_only=False)
        skipped: Mask = (out[codes] if len(out) else np.zeros(len(codes), dtype=bool)) & keep
        if skipped.any():
            counts = np.bincount(codes[skipped], minlength=len(words))
            self.skipped_by_status = {
                words[i] or "(blank)": int(counts[i])
                for i in np.argsort(-counts, kind="stable")
                if counts[i]
            }
        return skipped

    def _disagreeing(
        self, text: dict[str, Array], qty: Numbers, money: dict[str, Numbers], counted: Mask
    ) -> None:
        """A warning for lines whose line amount is not their quantity x unit price beyond
        rounding (half a cent a unit, and on the amount): the amount is what was charged;
        how many, and a few with both values."""
        if "amount" not in money or "unit_price" not in money:
            return
        import numpy as np

        (count, no_count), (amount, no_amount) = qty, money["amount"]
        price, no_price = money["unit_price"]
        both = counted & ~no_count & ~no_amount & ~no_price
        if not both.any():
            return
        units = count.astype(float) / MICRO
        expected = units * price.astype(float)  # millionths
        off = both & (np.abs(expected - amount) > 5_000 * (np.abs(units) + 1) + 1)
        rows = np.flatnonzero(off)
        if not len(rows):
            return
        amount_header, price_header = self.headers["amount"], self.headers["unit_price"]
        examples = "; ".join(
            f"line {self.first_line + int(r)}: {micros_text(int(count[r]))} x "
            f"{micros_text(int(price[r]), money=True)} = "
            f"{micros_text(int(count[r]) * int(price[r]) // MICRO, money=True)}, "
            f"{amount_header} {micros_text(int(amount[r]), money=True)}"
            for r in rows[:3]
        )
        self.found.append(
            Problem(
                "warning",
                f"{len(rows):,} line(s) have a line amount ({amount_header}) other than their "
                f"quantity x unit price ({price_header}) beyond rounding (e.g. {examples}): "
                "the line amount is what was charged and is what counts",
                value=text["amount"][int(rows[0])].as_py(),
                **self.where(int(rows[0]), "amount"),
            )
        )

    def _repeated_ids(self, keys: Keys, text: dict[str, Array], keep: Mask) -> None:
        """An error for line ids that repeat within the file when no deal id says whose line
        each is, or a deal's line number given twice: the first few, with their lines."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        _, line_key, _, _, repeated = keys
        rows = np.flatnonzero(keep)  # the file's row of each line read
        shown = []
        for key in dict.fromkeys(texts(line_key.filter(repeated).slice(0, 200))):
            found = pc.equal(line_key, pa.scalar(key, pa.string()))
            at = np.flatnonzero(found.to_numpy(zero_copy_only=False))
            lines = [str(self.first_line + int(rows[i])) for i in at[:4]]
            said = ", ".join(lines[:-1]) + f" and {lines[-1]}" + (", …" if len(at) > 4 else "")
            value = text["line_id"][int(rows[at[0]])].as_py()
            if str(key).startswith("N:"):
                deal = text["deal_id"][int(rows[at[0]])].as_py()
                shown.append(f"{self.headers['deal_id']} {deal} line {value} is on lines {said}")
            else:
                shown.append(f"{value} is on lines {said}")
            if len(shown) == 3:
                break
        first = int(rows[int(np.flatnonzero(repeated)[0])])
        count = int(repeated.sum())
        if str(line_key[0].as_py()).startswith("N:"):
            message = (
                f"{count:,} line(s) repeat a line of their deal ({'; '.join(shown)}): each "
                "line of a deal is given once; fix the export (a line given twice?) and "
                "import again"
            )
        else:
            message = (
                f"the line ids ({self.headers['line_id']}) repeat within the file "
                f"({'; '.join(shown)}): a number that repeats is a line's number within its "
                + (
                    f"deal, and the deal id ({self.headers['deal_id']}) is blank on some "
                    "lines, so it cannot say whose; fill it in and import again"
                    if "deal_id" in text
                    else "deal, and no deal id column says whose; name it with --column "
                    "deal_id=HEADER (the order or invoice number) and import again"
                )
            )
        self.found.append(Problem("error", message, **self.where(first, "line_id")))

    def _nul_bytes(self, raw: dict[str, Array]) -> None:
        """An error for each cell holding a NUL byte (no database keeps one as text)."""
        for name, values in raw.items():
            nul = _with_nul(values)
            if nul is not None:
                self.bad(nul, values, name, NUL_MESSAGE)

    def _decimal_mark(
        self,
        text: dict[str, Array],
        keep: Mask,
        blank: dict[str, Mask],
        decimal: str | None,
        text_cells: dict[str, Mask],
    ) -> None:
        """Decide, once for the file, whether money written as text has a decimal comma or
        point: ``decimal`` when given, else the values that decide it (``12,5``, ``1.234,56``
        or ``12.50``). When none does and some could be either (``1,234``), an error quotes
        them. With a decimal comma the values that could be either are rewritten in place
        (``1.234`` is 1234 and ``1,234`` is 1.234) in every number column."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        def written(name: str) -> Mask:
            typed = text_cells.get(name)
            return keep & ~blank[name] & (typed if typed is not None else True)

        money = [name for name in MONEY if name in text]
        numbers = [name for name in NUMBER_FIELDS if name in text]
        either = {
            name: pc.match_substring_regex(text[name], AMBIGUOUS_DECIMAL).to_numpy(
                zero_copy_only=False
            )
            & written(name)
            for name in numbers
        }
        if not any(mask.any() for mask in either.values()):
            return  # nothing could be read two ways (the usual export: one pass per column)
        if decimal is None:
            found = {
                mark: any(
                    (pc.match_substring_regex(text[n], pattern).to_numpy(zero_copy_only=False)
                     & written(n)).any()
                    for n in money
                )
                for mark, pattern in DECIDES_DECIMAL.items()
            }  # fmt: skip
            if found["comma"] != found["point"]:
                decimal = "comma" if found["comma"] else "point"
            elif not found["comma"]:
                self._ambiguous_money(text, [n for n in money if either[n].any()], either)
        if decimal != "comma":
            return  # a decimal point is how the values are read anyway
        for name in numbers:
            if not either[name].any():
                continue
            values = text[name]
            dotted = pc.match_substring(values, ".").to_numpy(zero_copy_only=False)
            thousands = pc.replace_substring(values, ".", "")
            decimals = pc.replace_substring(values, ",", ".")
            text[name] = pc.if_else(
                pa.array(either[name] & dotted),
                thousands,
                pc.if_else(pa.array(either[name] & ~dotted), decimals, values),
            )
        if np.any([written(n).any() for n in money]):
            self.notes.append("money read with a decimal comma (1.234,50 = 1234.50)")

    def _ambiguous_money(
        self, text: dict[str, Array], money: list[str], either: dict[str, Mask]
    ) -> None:
        """An error for the first money column whose values could have either decimal mark
        (``either``), with examples."""
        import numpy as np

        for name in money:
            rows = np.flatnonzero(either[name])
            examples = list(dict.fromkeys(text[name].take(rows[:50]).to_pylist()))[:2]
            quoted = " and ".join(f'"{e}"' for e in examples)
            self.found.append(
                Problem(
                    "error",
                    f"the {name.replace('_', ' ')}s do not say whether the comma or the point "
                    f"marks decimals ({quoted} could be thousands or decimals, and no value "
                    "decides it); give --decimal point if 1,234 means one thousand two hundred "
                    "thirty-four, or --decimal comma if it means 1.234",
                    value=str(examples[0]),
                    **self.where(int(rows[0]), name),
                )
            )
            return

    def _start_keys(
        self, text: dict[str, Array], blank: dict[str, Mask], keep: Mask
    ) -> Future[Keys] | None:
        """Ids become keys on another thread while the values are converted (Arrow and numpy
        release the GIL): a million-line file's keys take as long as its dates and amounts."""
        import pyarrow as pa

        ids: dict[str, Array] = {
            name: text[name] if keep.all() else text[name].filter(pa.array(keep))
            for name in ("deal_id", "line_id")
            if name in text and not (blank[name] & keep).any()
        }
        in_deal = squash(normalise_header(self.headers.get("line_id"))) in LINE_IN_DEAL
        return in_background(_id_keys, ids, in_deal) if ids else None

    def _money(
        self, text: dict[str, Array], blank: dict[str, Mask], keep: Mask, qty: Numbers
    ) -> dict[str, Numbers]:
        """The money columns the file has, each missing where a preceding one is given (line
        amount > net price > discount): only the winner is kept."""
        import numpy as np

        n = len(keep)
        money_given = np.zeros(n, dtype=bool)
        money: dict[str, Numbers] = {}
        for name in MONEY:
            if name in text:
                due = keep & ~money_given
                if name == "discount":
                    money[name] = self._discount(text[name], due, blank[name])
                else:
                    money[name] = self._number(
                        text[name], due, blank[name], name, name.replace("_", " ")
                    )
                money_given |= ~blank[name]
        if "unit_price" in money:  # qty x price must fit too (a line amount is kept exactly)
            (count, count_missing), (price, price_missing) = qty, money["unit_price"]
            size = np.abs(count.astype(float) * price.astype(float))
            huge = keep & ~count_missing & ~price_missing & (size >= float(TOO_LARGE) * 1e12)
            if huge.any():
                self.bad(huge, text["unit_price"], "unit_price",
                         f"quantity x net unit price {TOO_LARGE_TEXT}")  # fmt: skip
        missing = keep & ~money_given
        if missing.any():
            field_name = next(f for f in MONEY if f in text)
            self.bad(missing, text[field_name], field_name,
                     "no amount, net price or discount on this line")  # fmt: skip
        return money

    def _quantities(
        self, values: Array, keep: Mask, qty: Numbers, money: dict[str, Numbers]
    ) -> None:
        """A warning for each zero quantity (saying what the report does with its amount, if
        it has one), a note for the negative ones."""
        import numpy as np

        count, missing = qty
        zero = keep & ~missing & (count == 0)
        charged = np.zeros_like(zero)
        if "amount" in money:  # only a line amount is money without goods (qty x price is 0)
            amount, absent = money["amount"]
            charged = zero & ~absent & (amount != 0)
        if (zero & ~charged).any():
            self.bad(zero & ~charged, values, "qty", "quantity is zero: the line counts nothing",
                     "warning")  # fmt: skip
        if charged.any():
            self.bad(
                charged, values, "qty",
                "quantity is zero with an amount: the report counts its amount as a price "
                "adjustment of the sale (a credit as special discount, a charge as above "
                "standard; never judged), or as unmatched money if its SKU has no list price",
                "warning",
            )  # fmt: skip
        negative = keep & ~missing & (count < 0)
        if negative.any():
            self.notes.append(
                f"{int(negative.sum())} line(s) with a negative quantity (returns or credits) are kept as such"
            )

    def _table(
        self,
        text: dict[str, Array],
        blank: dict[str, Mask],
        dates: Days,
        numbers: dict[str, Numbers],
        request_ids: Numbers | None,
    ) -> pa.Table:
        """The typed columns of every row (blank rows too): the stored inputs, and ``line``."""
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        n = len(dates)
        # Only the money column that wins precedence is kept: line amount > net price > discount.
        taken = np.zeros(n, dtype=bool)
        for name in MONEY:
            if name in numbers:
                values, absent = numbers[name]
                numbers[name] = (values, absent | taken)
                taken |= ~absent

        def ints(pair: Numbers | None) -> Array:
            return pa.nulls(n, pa.int64()) if pair is None else pa.array(pair[0], mask=pair[1])

        def optional(name: str) -> Array:
            if name not in text:
                return pa.nulls(n, pa.string())
            values = pc.utf8_upper(text[name]) if name == "currency" else text[name]
            chosen: Array = pc.if_else(pa.array(blank[name]), pa.scalar(None, pa.string()), values)
            return chosen

        from pricing.lines.matching import casefold  # loaded by then (preload)

        return pa.table(
            {
                "date": pa.array(dates, pa.date32()),
                "sku": text["sku"],
                "sku_key": casefold(text["sku"]),
                "qty": ints(numbers["qty"]),
                "amount": ints(numbers.get("amount")),
                "unit_price": ints(numbers.get("unit_price")),
                "discount_pct": ints(numbers.get("discount")),
                "request_id": ints(request_ids),
                **{name: optional(name) for name in TEXT_INPUTS},
                "line": pa.array(np.arange(n) + self.first_line),
            }
        )

    def _number(
        self, values: Array, keep: Mask, blank: Mask, field_name: str, label: str
    ) -> Numbers:
        """Millionths and a missing mask; plain numbers in bulk (Arrow), the rest (``$1,234.50``)
        one distinct value at a time: a column of one bad value repeated is parsed once."""
        import numpy as np

        numbers = _floats(values)
        finite = np.isfinite(numbers)
        ok = finite & (np.abs(np.where(finite, numbers, 0)) < 1e9)
        micros = np.round(np.where(ok, numbers, 0) * MICRO).astype("int64")
        missing = ~ok
        rows = np.flatnonzero(keep & ~ok & ~blank)
        if len(rows):
            self._parse_each(values, rows, micros, missing, field_name, label)
        if field_name == "qty" and (keep & blank).any():
            self.bad(keep & blank, values, field_name, "quantity is missing")
        return micros, missing

    def _parse_each(
        self,
        values: Array,
        rows: npt.NDArray[np.intp],
        micros: Micros,
        missing: Mask,
        field_name: str,
        label: str,
    ) -> None:
        """The values at ``rows`` that Arrow could not read as plain numbers (``$1,234.50``),
        parsed one distinct value at a time into ``micros`` (``missing`` cleared), and an
        error for each that is not a number: a column of one bad value repeated parses once."""
        import numpy as np

        distinct = dictionary_encode(values.take(rows))
        codes = distinct.indices.to_numpy(zero_copy_only=False)
        parsed = np.zeros(len(distinct.dictionary), dtype=np.int64)
        failed: dict[str, list[int]] = {}  # message -> the distinct values it is about
        for code, text in enumerate(texts(distinct.dictionary)):
            try:
                amount = parse_decimal(text)
                if abs(amount) >= TOO_LARGE:
                    raise ValueError(TOO_LARGE_TEXT)
                parsed[code] = int((amount * MICRO).to_integral_value())
            except (ValueError, ArithmeticError) as exc:
                failed.setdefault(f"{label} {exc}", []).append(code)
        wrong = np.zeros(len(parsed), dtype=bool)
        for message, which in failed.items():
            wrong[which] = True
            self.bad(_spread(rows, np.isin(codes, which), len(values)), values, field_name, message)
        good = ~wrong[codes]
        micros[rows[good]] = parsed[codes[good]]
        missing[rows[good]] = False

    def _discount(self, values: Array, keep: Mask, blank: Mask) -> Numbers:
        """Discount off list as a percentage in millionths: fractions or percents, said which."""
        import pyarrow.compute as pc

        has_percent = pc.ends_with(values, "%").to_numpy(zero_copy_only=False)
        cleaned = pc.utf8_trim_whitespace(pc.replace_substring_regex(values, "%$", ""))
        micros, missing = self._number(cleaned, keep, _blank(cleaned), "discount", "discount")
        plain = keep & ~blank & ~has_percent
        given = plain & ~missing
        if plain.any() and (abs(micros[given]) <= MICRO).all():
            micros[plain] *= 100
            self.notes.append("discounts read as fractions of list (0.2 = 20 %)")
        elif plain.any():
            self.notes.append("discounts read as percentages (20 = 20 %)")
        out_of_range = keep & ~missing & ((micros < 0) | (micros > 100 * MICRO))
        if out_of_range.any():
            self.bad(out_of_range, values, "discount", "discount must be between 0 and 100 %")
        return micros, missing

    def _dates(self, values: Array, keep: Mask, blank: Mask, date_format: str | None) -> Days:
        """Days (numpy datetime64[D], NaT where missing or wrong)."""
        present = keep & ~blank
        if (keep & blank).any():
            self.bad(keep & blank, values, "date", "the date is missing")
        if date_format is None:
            iso = _iso_days(values, present)
            if iso is not None:  # the usual export: plain ISO dates only
                return iso
        import numpy as np
        import pandas as pd  # dates in other formats: its parsers

        if date_format:
            series = pd.Series(values.to_pylist(), dtype="str")
            text = series if " " in date_format else series.str.replace(r" .*$", "", regex=True)
            try:
                parsed = pd.to_datetime(text, format=date_format, errors="coerce")
            except ValueError as exc:
                raise InputError(f" {date_format!r}: {exc}", field="date_format") from None
            self.notes.append(f"dates read with --date-format {date_format}")
            days: Days = parsed.dt.normalize().to_numpy().astype("datetime64[D]")
        else:
            days = self._guess_dates(values, present)
        bad = present & np.isnat(days)
        if self.undecided_dates is not None:
            bad &= ~self.undecided_dates
        if bad.any():
            hint = (
                f"is not a date in the format {date_format}"
                if date_format
                else "is not a date (use ISO 2026-01-31, m/d/yyyy, d.m.yyyy or --date-format)"
            )
            self.bad(bad, values, "date", f"the date {hint}")
        return days

    def _future(self, days: Days, keep: Mask, values: Array) -> None:
        """A warning for lines dated after today: a deal is a sale closed already, so such a
        date is more likely a day and month read the wrong way round, or a planned order.
        One warning says how many and where the first of them are."""
        import numpy as np

        later = keep & (days > np.datetime64(date.today(), "D"))  # NaT is never later
        rows = np.flatnonzero(later)
        if not len(rows):
            return
        first = ", ".join(str(self.first_line + int(i)) for i in rows[:5])
        more = ", …" if len(rows) > 5 else ""
        self.found.append(
            Problem(
                "warning",
                f"{len(rows):,} line(s) dated after today ({date.today()}), at line(s) "
                f"{first}{more}: deals are sales closed already; check the date column (day "
                "and month the wrong way round? give --date-format) or leave those lines out",
                value=values[int(rows[0])].as_py(),
                **self.where(int(rows[0]), "date"),
            )
        )

    def _guess_dates(self, values: Array, present: Mask) -> Days:
        """ISO dates mixed with others, Excel serial numbers, m/d/yyyy or d.m.yyyy (which of the
        two decided from the column's own values): days, NaT where not read. Worked out with
        Arrow's text functions and numbers, never a Python object per line (a million lines of
        dates as Python strings, split into their parts, take hundreds of MB)."""
        import numpy as np
        import pandas as pd
        import pyarrow as pa
        import pyarrow.compute as pc

        result: Days = np.full(len(values), np.datetime64("NaT"), "datetime64[D]")
        day_part = pc.replace_substring_regex(values, r"[ T].*$", "")

        def matching(pattern: str) -> Mask:
            found: Mask = fill_null(pc.match_substring_regex(day_part, pattern), False).to_numpy(
                zero_copy_only=False
            )
            return found

        def numbers(column: Array, chosen: Mask) -> npt.NDArray[np.int64]:
            picked: npt.NDArray[np.int64] = pc.cast(column.filter(pa.array(chosen)), pa.int64()).to_numpy()  # fmt: skip
            return picked

        def calendar(year: Ints, month: Ints, day: Ints) -> Days:
            found = pd.to_datetime({"year": year, "month": month, "day": day}, errors="coerce")
            days: Days = found.to_numpy().astype("datetime64[D]")
            return days

        iso = matching(r"^\d{4}-\d{1,2}-\d{1,2}$") & present
        if iso.any():
            ymd = pc.extract_regex(day_part, r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
            parts = [ymd.field(name) for name in ("y", "m", "d")]
            result[iso] = calendar(*(numbers(part, iso) for part in parts))
        serial = matching(r"^\d{4,5}(\.\d+)?$") & present & ~iso
        if serial.any():
            chosen = pc.cast(day_part.filter(pa.array(serial)), pa.float64()).to_numpy()
            result[serial] = np.datetime64(EXCEL_EPOCH) + np.floor(chosen).astype(np.int64)
            self.notes.append("numbers in the date column read as Excel serial dates")
        rest = present & ~iso & ~serial
        if not rest.any():
            return result  # all ISO or serial: no day/month order to decide
        found = pc.extract_regex(
            day_part, r"^(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})[/.\-](?P<y>\d{2,4})$"
        )
        dmy = pc.is_valid(found).to_numpy(zero_copy_only=False) & rest
        if not dmy.any():
            return result
        first, second = numbers(found.field("a"), dmy), numbers(found.field("b"), dmy)
        separators = found.field("sep").filter(pa.array(dmy))
        dotted = bool(pc.all(pc.equal(separators, pa.scalar("."))).as_py())
        if (first > 12).any() and (second > 12).any():
            order = None
        elif (first > 12).any() or dotted:
            order = "day first"
        elif (second > 12).any():
            order = "month first"
        else:  # no value decides it: never a guess
            self.undecided_dates = dmy
            self._ambiguous_dates(day_part.filter(pa.array(dmy)), found.filter(pa.array(dmy)), np.flatnonzero(dmy))  # fmt: skip
            return result
        if order is None:
            self.found.append(
                Problem("error", "the dates mix day-first and month-first values; give --date-format",
                        **self.where(int(np.flatnonzero(dmy)[0]), "date"))
            )  # fmt: skip
            return result
        years = found.field("y").filter(pa.array(dmy))
        digits = pc.utf8_length(cast("pa.StringArray", years)).to_numpy(zero_copy_only=False)
        year = pc.cast(years, pa.int64()).to_numpy()
        year = np.where(digits == 4, year, 20 * 10**digits + year)  # "25" is 2025, as "20" + "25"
        day, month = (first, second) if order == "day first" else (second, first)
        result[dmy] = calendar(year, month, day)
        example = "d.m.yyyy or d/m/yyyy" if order == "day first" else "m/d/yyyy"
        self.notes.append(f"dates read as {example} ({order}, from the column's own values)")
        return result

    def _ambiguous_dates(self, values: Array, parts: pa.StructArray, rows: npt.NDArray[np.intp]) -> None:  # fmt: skip
        """An error for a date column no value of which has a day above 12 (03/02/2025 is
        3 February or 2 March): two examples and both --date-format choices."""
        import pyarrow.compute as pc

        examples = pc.unique(values)[:2].to_pylist()
        separator = str(parts.field("sep")[0].as_py())
        year = "%Y" if len(str(parts.field("y")[0].as_py())) == 4 else "%y"
        day_first = separator.join(("%d", "%m", year))
        month_first = separator.join(("%m", "%d", year))
        quoted = " and ".join(f'"{e}"' for e in examples)
        self.found.append(
            Problem(
                "error",
                f"the dates do not say whether the day or the month comes first (no day above "
                f"12: {quoted}); give --date-format {day_first} for day first or "
                f"--date-format {month_first} for month first",
                value=examples[0],
                **self.where(int(rows[0]), "date"),
            )
        )

    def _request_ids(self, values: Array, keep: Mask) -> Numbers:
        import pyarrow as pa
        import pyarrow.compute as pc

        extracted = pc.extract_regex(values, REQUEST_ID)
        found = pc.is_valid(extracted).to_numpy(zero_copy_only=False)
        number: Array = pc.if_else(pa.array(found), extracted.field("n"), "0")
        ids = pc.cast(number, pa.int64()).to_numpy()
        bad = keep & ~_blank(values) & ~found
        if bad.any():
            self.bad(bad, values, "request_id", "is not a request id (they look like R-000123)")
        return ids, ~found


def _with_keys(lines: pa.Table, keyed: Keys | None, fields: set[str]) -> pa.Table:
    """The lines with their deal ids, line keys, whether each is its deal's first line in
    this file, and the deal's number within this file."""
    import numpy as np
    import pyarrow as pa

    if keyed is not None:
        deal_id, line_key, first, codes, _ = keyed
    else:  # no ids: each line is its own deal, known by its content
        deal_id = line_key = _content_keys(lines, fields)
        first, codes = np.ones(len(line_key), dtype=bool), np.arange(len(line_key))
    return (
        lines.append_column("deal_id", deal_id)
        .append_column("line_key", line_key)
        .append_column("deal_first", pa.array(first))
        .append_column("deal_code", pa.array(codes))
    )


def _id_keys(ids: dict[str, Array], in_deal: bool = False) -> Keys:
    """Deal ids and line keys that make a re-import of the same lines a no-op, whether each
    line is its deal's first in the file, a number per deal (the same for its lines), and
    which lines repeat a key given on an earlier line of the file (an error: lines of one file
    are never "already present" because of each other).

    A line id unique in the file is the line's identity (``L:``, as it always was); a line's
    number within its deal (``in_deal``: a header like Line No or ORDERLINENUMBER), or a line
    id that repeats in the file, is one together with the deal id (``N:``: the deal id's
    length, so that no two pairs run together alike, the deal id and the number). Without
    line ids: the deal id and the line's position in its deal (``D:``)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    deal, line = ids.get("deal_id"), ids.get("line_id")
    if line is not None:
        repeated: Mask | None = None
        if deal is None or not in_deal:
            line_position, line_codes = positions(line)
            repeated = line_position > 1
        if deal is not None and (repeated is None or repeated.any()):
            size = pc.cast(pc.utf8_length(cast("pa.StringArray", deal)), pa.string())
            # The stubs want all scalars or all arrays; Arrow broadcasts the scalars (and below).
            key: Array = pc.binary_join_element_wise("N:", size, ":", deal, "#", line, "")  # type: ignore[call-overload]
            position, codes = positions(deal)
            return deal, key, position == 1, codes, positions(key)[0] > 1
        assert repeated is not None
        key = pc.binary_join_element_wise("L:", line, "")  # type: ignore[call-overload]
        if deal is None:  # each line its own deal, numbered as its id first comes
            return key, key, line_position == 1, line_codes, repeated
        position, codes = positions(deal)
        return deal, key, position == 1, codes, repeated
    assert deal is not None  # the reader requires a deal id or a line id
    position, codes = positions(deal)
    numbers = pc.cast(pa.array(position), pa.string())
    key = pc.binary_join_element_wise("D:", deal, "#", numbers, "")  # type: ignore[call-overload]
    return deal, key, position == 1, codes, np.zeros(len(position), dtype=bool)


def _content_keys(lines: pa.Table, fields: set[str]) -> Array:
    """Keys of lines in a file without ids (each line its own deal): a hash of its content
    and how many identical lines came before it. Made with pandas exactly as when the store
    first kept such keys, so that re-importing an old file still finds its lines: a line's
    hash depends on its own values only, so the lines are hashed a slice at a time (the text
    of all their values at once would take gigabytes), and the keys are written by Arrow."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    def nullable(kind: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
        return pd.Int64Dtype() if kind == pa.int64() else None

    def hashed(part: pa.Table) -> npt.NDArray[np.uint64]:
        def integers(name: str, field_name: str) -> pd.Series[pd.Int64Dtype] | None:
            if field_name not in fields:
                return None
            column: pd.Series[pd.Int64Dtype] = part[name].to_pandas(types_mapper=nullable)
            return column

        def texts(name: str) -> pd.Series[str] | None:
            return part[name].to_pandas().astype("str") if name in fields else None

        frame = pd.DataFrame(
            {
                "date": part["date"].to_numpy().astype("datetime64[ns]"),
                "sku_key": part["sku_key"].to_pandas().astype("str"),
                "qty": integers("qty", "qty"),
                "amount": integers("amount", "amount"),
                "unit_price": integers("unit_price", "unit_price"),
                "discount_pct": integers("discount_pct", "discount"),
                "customer": texts("customer"),
                "rep": texts("rep"),
            }
        )
        found = pd.util.hash_pandas_object(frame.astype(str), index=False)
        return np.asarray(found, dtype=np.uint64)

    slices = range(0, lines.num_rows, _KEY_SLICE)
    content = np.concatenate([hashed(lines.slice(start, _KEY_SLICE)) for start in slices] or [np.zeros(0, np.uint64)])  # fmt: skip
    repeat = pc.cast(pa.array(_occurrences(content)), pa.string())
    hashes = pc.cast(pa.array(content), pa.string())
    del content
    key: Array = pc.binary_join_element_wise("H:", hashes, "#", repeat, "")
    return key


_KEY_SLICE = 100_000  # lines hashed at a time


def _occurrences(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Each value's occurrence number, counting from 1 in order: by a stable sort of the
    numbers (grouping them in a hash table takes several times the memory)."""
    import numpy as np

    order = np.argsort(values, kind="stable")
    ordered = values[order]
    where = np.arange(len(values))
    new = np.empty(len(values), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.maximum.accumulate(np.where(new, where, 0))
    found = np.empty(len(values), dtype=np.int64)
    found[order] = where - starts + 1
    return found


def positions(
    values: Column,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each value's occurrence number, counting from 1 in file order (line 1, 2, … of a deal),
    and a number per distinct value, in the order the values first come. By a stable sort of
    the values (Arrow's), as fast as hashing them for ids (each its own, or a deal's lines
    together) and a fraction of the memory: a hash table of a million distinct ids takes
    150 MB."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from pricing.lines.segments import whole  # loaded by then (preload)

    column = whole(values)
    n = len(column)
    order = pc.array_sort_indices(column).to_numpy()
    new = np.ones(n, dtype=bool)  # where a value begins, in sorted order
    if n > 1:
        ordered = column.take(pa.array(order))
        differs = pc.not_equal(ordered.slice(1), ordered.slice(0, n - 1))
        new[1:] = fill_null(differs, True).to_numpy(zero_copy_only=False)
        del ordered, differs
    firsts = order[new]  # each value's first line (the sort is stable)
    rank = np.empty(len(firsts), dtype=np.int64)
    rank[np.argsort(firsts, kind="stable")] = np.arange(len(firsts))
    codes = np.empty(n, dtype=np.int64)
    codes[order] = rank[np.cumsum(new) - 1]
    where = np.arange(n)
    position = np.empty(n, dtype=np.int64)
    position[order] = where - np.maximum.accumulate(np.where(new, where, 0)) + 1
    return position, codes


def _iso_days(values: Array, present: Mask) -> Days | None:
    """Days, when every present value is a valid ``YYYY-MM-DD`` (Arrow's strict parser, one
    pass); else None, and the values are read one way or another by the slower guesser."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    text: Array = pc.if_else(pa.array(present), values, pa.scalar(None, pa.string()))
    try:
        days = pc.cast(text, pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return np.asarray(days.to_numpy(zero_copy_only=False), dtype="datetime64[D]")


def micros_text(micros: int, *, money: bool = False) -> str:
    """Millionths as a person reads them: ``34``, ``1.5``; money with at least two decimals
    (``3,400.00``, ``0.125``)."""
    from decimal import Decimal

    value = Decimal(micros).scaleb(-6)
    cents = value.quantize(Decimal("0.01"))
    if money and value == cents:
        return f"{cents:,}"
    if micros % MICRO == 0:
        return f"{micros // MICRO:,}"
    return f"{value.normalize():,}"


_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _floats(values: Array) -> npt.NDArray[np.float64]:
    """Text as float64, NaN where blank or not a plain number (``1,234.50`` or ``$5`` are read
    one by one by the caller): Arrow's parser, in one pass when every value is plain."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text: Array = pc.if_else(pc.equal(values, pa.scalar("")), pa.scalar(None, pa.string()), values)
    numbers: npt.NDArray[np.float64]
    try:
        numbers = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        plain = pc.match_substring_regex(text, _PLAIN_NUMBER)
        text = pc.if_else(fill_null(plain, False), text, pa.scalar(None, pa.string()))
        numbers = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    return numbers
