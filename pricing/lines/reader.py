"""Reading a deals file: what was actually sold, from the CRM's or invoicing system's export.

Files are read column by column with Arrow (a million lines is a normal export), values are
checked in bulk, and every bad cell becomes a Problem with its line. Money is kept exactly, as
whole millionths. Each line gets an identity so that importing the same file twice does not
double it: its line id, else its deal id and position in the deal, else (a file with no ids)
its content and how many identical lines came before it.

The lines come out with the stored input columns of :mod:`pricing.lines.schema` (text inputs
that the schema declares and ``DEAL_HEADERS`` names are read without further code), their keys,
and the file's own ``line`` numbers; :mod:`pricing.lines.service` stores them.

The reading is staged, one module a concern: :mod:`~pricing.lines.layout` (a workbook's sheet
or a csv file's dialect, read as Arrow text within the bounds), :mod:`~pricing.lines.headers`
(which column is which field), then, over the columns, :mod:`~pricing.lines.numbers` (the
decimal mark, quantities and money), :mod:`~pricing.lines.dates`,
:mod:`~pricing.lines.statuses` and :mod:`~pricing.lines.identities` (each line's key), all
reporting through one :class:`~pricing.lines.cells.Cells`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from pricing.errors import InputError
from pricing.io.headers import find_header, unknown_override_message, unknown_overrides
from pricing.io.names import shown_name
from pricing.io.perf import frugal_arrow_memory, in_background, preload
from pricing.io.sheets import Sheet
from pricing.lines import dates, identities, numbers
from pricing.lines.cells import Cells, empty, nulled, stripped
from pricing.lines.headers import (
    DEAL_HEADERS,
    MONEY,
    REQUIRED,
    TEXT_INPUTS,
    complete,
    no_customer_or_rep,
    no_deal_id,
    no_header,
    no_status,
)
from pricing.lines.layout import Layout, csv_columns, file_sha256, read_head, sheet_columns
from pricing.lines.numbers import micros_text
from pricing.lines.statuses import left_out_by_status, status_filter, wanted_statuses
from pricing.problems import Problem, Problems

if TYPE_CHECKING:
    import pyarrow as pa

    from pricing.io.arrow import Array
    from pricing.lines.cells import Days, Mask, Numbers

# The names other modules read here (the reader's public face); each lives in its own module.
__all__ = [
    "DEAL_HEADERS",
    "REQUIRED",
    "TEXT_INPUTS",
    "DealsFile",
    "Progress",
    "micros_text",
    "read_deals",
]

Progress = Callable[[int, int], None]
DECIMAL_MARKS = ("comma", "point")  # --decimal


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
    then_import: Sequence[str] = (),
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
    problems with their lines.

    ``then_import``: modules the caller needs after the reading (its results' models, say),
    imported on the same thread after the reader's own: on a thread of their own they took
    turns with Arrow's import (each holds the GIL) while this thread waited for it."""
    # Arrow's compute functions, the store, pandas (which Arrow imports on its first numpy
    # conversion) and the matching and storing of lines load while the file is read.
    preload("pyarrow.compute", "sqlalchemy", "pandas", "pricing.lines.service", *then_import)
    frugal_arrow_memory()

    if date_format is not None:
        dates.check_date_format(date_format)
    if decimal is not None and decimal not in DECIMAL_MARKS:
        raise InputError(f" {decimal!r}: give comma or point", field="decimal")
    wanted = wanted_statuses(statuses, all_statuses)
    overrides = columns or {}
    name = shown_name(path)
    head, layout = read_head(path, name, sheet, overrides)
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
    layout: Layout,
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
    found = find_header(head, DEAL_HEADERS, overrides, complete)
    if found is None:
        problems.append(no_header(name, head, overrides))
        return DealsFile(path, None, problems, name=name)
    header_row, mapping = found
    if "deal_id" not in mapping:
        problems.append(no_deal_id(head, header_row, mapping))
    for missing in no_customer_or_rep(head, header_row, mapping):
        problems.append(missing)
    if wanted and wanted != ("*",) and "status" not in mapping:
        problems.append(no_status(head, header_row, mapping))
        return DealsFile(path, None, problems, name=name)
    if progress:
        progress(0, 3)
    if layout.sheet is None:
        raw = csv_columns(path, name, head, header_row, mapping, layout, problems)
        if raw is None:  # rows the csv reader could not split: nothing else is read
            return DealsFile(path, None, problems, name=name)
        text_cells = None  # every cell of a csv file is text
    else:
        raw, text_cells = sheet_columns(name, layout.sheet, header_row, mapping)
    if progress:
        progress(1, 3)
    cells = Cells(name, head, layout.sheet is None, mapping, header_row + 2, problems)
    read = _convert(cells, raw, date_format, decimal, text_cells, wanted)
    if progress:
        progress(3, 3)
    headers = {f: str(h) for f, h in cells.headers.items()}
    unread = [
        str(cell).strip()
        for c, cell in enumerate(head.rows[header_row])
        if c not in mapping.values() and cell is not None and str(cell).strip()
    ]
    if unread:
        shown = ", ".join(unread[:30]) + (
            f" and {len(unread) - 30:,} more" if len(unread) > 30 else ""
        )
        cells.notes.append(f"columns not read: {shown}")
    return DealsFile(
        path, read.lines, problems, cells.notes, headers, date_format,
        digest.result(), decimal, name,
        status_filter(wanted) if "status" in mapping else None,
        read.skipped_by_status, unread, read.left_out,
    )  # fmt: skip


@dataclass
class _Converted:
    """The lines kept, and those left out by their status (counted by status as written, and
    their deal ids and keys: None when none is)."""

    lines: pa.Table
    skipped_by_status: dict[str, int]
    left_out: pa.Table | None


def _convert(
    cells: Cells,
    raw: dict[str, Array],
    date_format: str | None,
    decimal: str | None,
    text_cells: dict[str, Mask] | None,
    wanted: tuple[str, ...] | None,
) -> _Converted:
    """The file's lines from its raw text columns (which it takes over): typed input columns,
    keys, and each line's number in the file, every problem said through ``cells``."""
    import numpy as np
    import pyarrow as pa

    cells.nul_bytes(raw)
    # Each raw column is released as its stripped copy is made (the caller hands them over);
    # a column with no whitespace to strip is kept as it is.
    text = {name: stripped(raw.pop(name)) for name in list(raw)}
    blank = {name: empty(values) for name, values in text.items()}
    keep: Mask = ~np.logical_and.reduce(list(blank.values()))
    numbers.decimal_mark(cells, text, keep, blank, decimal, text_cells or {})
    keyed = identities.start_keys(cells, text, blank, keep)
    skipped, by_status = left_out_by_status(cells, text, keep, wanted)  # skipped None: none
    counted = keep if skipped is None else keep & ~skipped
    cells.bad(blank["sku"] & keep, text["sku"], "sku", "the line has values but no SKU")
    days = dates.read_dates(cells, text["date"], keep, blank["date"], date_format)
    dates.future(cells, days, counted, text["date"])
    qty = numbers.number(cells, text["qty"], keep, blank["qty"], "qty", "quantity")
    money = numbers.money(cells, text, blank, keep, qty)
    numbers.disagreeing(cells, text, qty, money, counted)
    numbers.quantities(cells, text["qty"], counted, qty, money)
    request_ids = (
        numbers.request_ids(cells, text["request_id"], keep) if "request_id" in text else None
    )
    lines = _table(cells.first_line, text, blank, days, {"qty": qty, **money}, request_ids)
    if not keep.all():  # blank rows go (a clean export has none: no copy then)
        lines = lines.filter(pa.array(keep))
    keys = keyed.result() if keyed is not None else None
    if keys is not None and keys[4].any():
        identities.repeated_ids(cells, keys, text, keep)
    # Keys are made over every line, whatever its status: a line's identity does not
    # depend on which statuses an import keeps.
    lines = identities.with_keys(lines, keys, set(text))
    left_out = None
    if skipped is not None and skipped.any():
        left_out = lines.select(["deal_id", "line_key"]).filter(pa.array(skipped[keep]))
        lines = lines.filter(pa.array(~skipped[keep]))
    return _Converted(lines, by_status, left_out)


def _table(
    first_line: int,
    text: dict[str, Array],
    blank: dict[str, Mask],
    days: Days,
    numbers: dict[str, Numbers],
    request_ids: Numbers | None,
) -> pa.Table:
    """The typed columns of every row (blank rows too): the stored inputs, and ``line``."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(days)
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
        return nulled(values, blank[name])

    from pricing.lines.matching import casefold  # loaded by then (preload)

    return pa.table(
        {
            "date": pa.array(days, pa.date32()),
            "sku": text["sku"],
            "sku_key": casefold(text["sku"]),
            "qty": ints(numbers["qty"]),
            "amount": ints(numbers.get("amount")),
            "unit_price": ints(numbers.get("unit_price")),
            "discount_pct": ints(numbers.get("discount")),
            "request_id": ints(request_ids),
            **{name: optional(name) for name in TEXT_INPUTS},
            "line": pa.array(np.arange(n) + first_line),
        }
    )
