"""How a deals file is laid out and its mapped columns read as Arrow text: a workbook's sheet
(the one holding the deals, a cover sheet passed over) or a csv file's separator and line ends,
read block by block and refused as soon as it goes beyond a bound of :mod:`pricing.limits`.
"""

from __future__ import annotations

import csv
import io
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Literal

from pricing.errors import InputError
from pricing.io.bounded import Bounds
from pricing.io.headers import HEADER_SEARCH_ROWS, find_header
from pricing.io.names import is_text
from pricing.io.sheets import (
    Sheet,
    Workbook,
    cell_text,
    check_text,
    column_letter,
    decode_text,
    open_workbook,
    read_input,
    sniff_delimiter,
)
from pricing.limits import COLUMNS, CSV_LINE_BYTES, DEALS_FILE, DEALS_ROWS, DEALS_TEXT, FIELD_CHARS
from pricing.lines.cells import offsets, too_long
from pricing.lines.headers import DEAL_HEADERS, NUMBER_FIELDS, complete
from pricing.problems import Problem, Problems

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.csv
    from _typeshed import WriteableBuffer

    from pricing.io.arrow import Array
    from pricing.lines.cells import Mask


@dataclass(frozen=True)
class Layout:
    """How a file is laid out: a workbook's sheet (held whole: it was read to find the header),
    or a csv file's separator, line ends and fields per row."""

    sheet: Sheet | None = None
    delimiter: str = ","
    doubled_cr: bool = False  # every line ends \r\r\n (line ends converted twice)


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


def sheet_columns(
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
        longest = too_long(columns[field_name])
        if longest is not None:
            index, chars = longest
            cell = f"'{sheet.name}'!{column_letter(col)}{header_row + 2 + index}"
            raise InputError(FIELD_CHARS.message(f"{name}, {cell}", f"{chars:,}"))
    return columns, typed_text


def csv_columns(
    path: Path,
    name: str,
    head: Sheet,
    header_row: int,
    mapping: dict[str, int],
    layout: Layout,
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
                    ends = offsets(batch.column(column))
                    text += int(ends[-1]) - int(ends[0])
                    longest = too_long(batch.column(column))
                    if longest is not None:
                        index, chars = longest
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
            return csv_columns(path, name, head, header_row, mapping, layout, problems, "cp1252")
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
def _csv_source(path: Path, layout: Layout) -> Iterator[str | io.BufferedReader]:
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


def _has_header(sheet: Sheet, overrides: dict[str, str]) -> bool:
    return find_header(sheet, DEAL_HEADERS, overrides, complete) is not None


def read_head(
    path: Path, name: str, wanted: str | None = None, overrides: dict[str, str] | None = None
) -> tuple[Sheet, Layout]:
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
        return Sheet(name, sheet_name, sheet.rows[:30]), Layout(sheet=sheet)
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
    return Sheet(name, None, rows), Layout(delimiter=delimiter, doubled_cr=doubled_cr)


def _check_width(rows: list[list[Any]], where: Callable[[int], str]) -> None:
    """Refuse rows wider than Excel's sheets (limits.COLUMNS), naming the first."""
    for number, row in enumerate(rows, 1):
        COLUMNS.check(len(row), where(number))


def _doubled_cr(start: bytes) -> bool:
    """Whether every line end of the file's start is ``\\r\\r\\n`` (the start's last, maybe
    cut, line aside): line ends converted twice, one line each, as the author meant."""
    ends = start.count(b"\n")
    return ends > 0 and start.count(b"\r\r\n") == ends
