"""Reading within bounds: what can be known about a file before it is parsed is checked first.

Every importer reads files somebody else made, with the bounds of :mod:`pricing.limits`:

1. the size on disk (:func:`check_size`), before a byte is read;
2. for a workbook, its zip directory (:func:`check_workbook`), before anything is
   decompressed: how many parts, how large they become (a zip bomb says so itself: a part of a
   few MB that becomes a GB), and how much each large part is compressed;
3. the XML of the sheet to be read (:func:`scan_sheet`), in chunks of a megabyte, before the
   workbook reader (calamine) turns it into a grid: how far its cells reach (the grid's rows
   and columns), which formulas have no cached value, and whether any cell may hold a NUL or
   more text than a cell can (then each cell is looked at once read).

A part is never decompressed past the size its directory entry declares: Python's zipfile and
calamine's zip reader both stop there, so a directory that understates a part makes a part that
cannot be read, not a bomb. The sheet scan runs over bytes with numpy, a handful of vector
operations per megabyte, so that a genuine 100,000-row book pays little for it.
"""

from __future__ import annotations

import functools
import re
import struct
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from pricing.errors import InputError
from pricing.limits import (
    CELLS,
    COLUMNS,
    FIELD_CHARS,
    XLSX_PARTS,
    XLSX_RATIO,
    XLSX_RATIO_FROM,
    XLSX_UNCOMPRESSED,
    Limit,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Bytes = npt.NDArray[np.uint8]
    Positions = npt.NDArray[np.intp]

CHUNK = 1 << 20
_PAD = b"\0" * 16  # so that looking a few bytes past the last tag of a chunk stays in bounds
_CARRY_MAX = 8 * CHUNK  # a single cell this large is over FIELD_CHARS whatever it holds
_UNCACHED_FORMULA = re.compile(
    rb'<c r="([A-Z]+[0-9]+)"[^>]*>\s*<f\b[^>]*?(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>'
)
_EOCD = b"PK\x05\x06"
_ZIP64_LOCATOR = b"PK\x06\x07"


@dataclass(frozen=True, slots=True)
class Bounds:
    """How much one importer reads of a file: its size on disk and the rows of a sheet
    (``above``: rows a sheet may hold beyond ``rows``, the title rows and header above the
    lines counted)."""

    size: Limit
    rows: Limit
    above: int = 0

    @property
    def rows_allowed(self) -> int:
        return self.rows.value + self.above


def check_size(path: Path, limit: Limit) -> None:
    """Refuse a file larger than ``limit`` from its size on disk, before a byte is read.

    A file that cannot be looked at passes: reading it says what is wrong (missing, a folder,
    unreadable)."""
    try:
        size = path.stat().st_size
    except (OSError, ValueError):
        return
    if path.is_file() and size > limit.value:
        raise InputError(limit.message(str(path), found=limit.shown(size)))


def check_workbook(path: Path) -> None:
    """Refuse a zip bomb from the workbook's zip directory, before any part is decompressed.

    Called by :func:`pricing.io.sheets.open_workbook` before the workbook reader opens the
    file; any importer that opens a zip itself calls it first. The directory is parsed only
    once its end record says it is of a sane length. A file that is no zip passes (the reader
    says it is not a readable workbook)."""
    parts = _parts_declared(path)
    if parts is not None:
        XLSX_PARTS.check(parts, f"{path}", f"{parts:,}")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    total = sum(info.file_size for info in infos)
    if total > XLSX_UNCOMPRESSED.value:
        raise InputError(XLSX_UNCOMPRESSED.message(str(path), XLSX_UNCOMPRESSED.shown(total)))
    for info in infos:
        if info.file_size > XLSX_RATIO_FROM and info.file_size > XLSX_RATIO.value * max(
            info.compress_size, 1
        ):
            ratio = info.file_size / max(info.compress_size, 1)
            raise InputError(
                XLSX_RATIO.message(
                    f"{path}, part {info.filename!r} ({_mb(info.compress_size)} that becomes "
                    f"{_mb(info.file_size)})",
                    f"{ratio:,.0f} times",
                )
            )


def _mb(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MB"


def _parts_declared(path: Path) -> int | None:
    """How many parts a zip's end record declares (None: no end record found)."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            length = handle.tell()
            handle.seek(max(0, length - 65_557))  # the end record and the longest comment
            tail = handle.read()
            at = tail.rfind(_EOCD)
            if at < 0 or at + 22 > len(tail):
                return None
            count = struct.unpack_from("<H", tail, at + 10)[0]
            locator = at - 20
            if count != 0xFFFF or locator < 0 or tail[locator : locator + 4] != _ZIP64_LOCATOR:
                return int(count)
            offset = struct.unpack_from("<Q", tail, locator + 8)[0]
            handle.seek(offset)
            record = handle.read(56)
            if len(record) < 40:
                return None
            return int(struct.unpack_from("<Q", record, 32)[0])
    except (OSError, struct.error, ValueError):
        return None


@dataclass
class SheetScan:
    """What a sheet's XML says before it is parsed: how far the grid the reader builds (from
    A1 to the furthest cell) may reach, which formulas have no cached value, and whether a cell
    may hold a NUL or more than FIELD_CHARS characters (then each cell is looked at once read).
    """

    rows: int = 0  # the furthest row a cell or row names, when ``digits`` says it exactly
    columns: int = 0  # the furthest column a cell names
    digits: int = 0  # the most digits of any row number: the grid has under 10**digits rows
    far: str = ""  # the reference that reaches furthest, as the file writes it
    formulas: set[tuple[int, int]] = field(default_factory=set)  # uncached, 0-based
    maybe_nul: bool = False
    maybe_long: bool = False
    row_elements: int = 0  # rows written (a row without a number follows the one before)
    widest_row: int = 0  # cells in one row, counted when some cell has no reference
    unnumbered_cells: bool = False
    _open_row_cells: int = 0  # cells so far of a row that goes on in the next chunk

    def extent(self, *, exact: bool = False) -> tuple[int, int]:
        """Rows and columns of the grid, at most: ``10**digits - 1`` rows unless the furthest
        row was measured (``exact``), and each cell without a reference one column further."""
        rows = self.rows if exact else max(self.rows, 10**self.digits - 1)
        columns = self.columns + (self.widest_row if self.unnumbered_cells else 0)
        return max(rows, self.row_elements), columns


def scan_sheet(
    stream: IO[bytes], source: str, bounds: Bounds | None, reopen: Callable[[], IO[bytes]]
) -> SheetScan:
    """Read a sheet's XML in chunks and refuse it, before it is parsed, when its grid would
    be over the bounds: the rows ``bounds`` allow, :data:`COLUMNS`, or :data:`CELLS` in all
    (a stray value far out). Stops as soon as a bound is passed.

    A chunk is looked at with a few searches that fail fast on a genuine sheet: a cell
    reference with more letters or a later column than seen so far, a row number with more
    digits. Only when the number of digits alone cannot clear the bounds (a sheet of 100,000
    rows or more, or a request file of 10,000) is the sheet read again for its furthest row
    (``reopen``)."""
    scan = SheetScan()
    allowed = bounds.rows_allowed if bounds is not None else None
    for part, final in _parts(stream, scan):
        _scan_part(part, scan, final=final)
        _check_extent(scan, source, bounds, exact=False)
    height, width = scan.extent()
    if (allowed is not None and height > allowed) or height * width > CELLS.value:
        with reopen() as again:
            scan.rows = _furthest_row(again, scan.digits)
        _check_extent(scan, source, bounds, exact=True)
    return scan


def _check_extent(scan: SheetScan, source: str, bounds: Bounds | None, *, exact: bool) -> None:
    """Refuse the sheet if what is known of its grid is over a bound (the row bound and the
    cells only once measured, or when the rows found so far pass them)."""
    height, width = scan.extent(exact=True)
    if width > COLUMNS.value:
        raise InputError(COLUMNS.message(f"{source}, cell {scan.far}", f"{width:,}"))
    if not exact:
        height = max(scan.rows, scan.row_elements)
    if bounds is not None and height > bounds.rows_allowed:
        found = f"{height:,} rows" if exact else f"at least {height:,} rows"
        raise InputError(bounds.rows.message(source, found))
    if height * width > CELLS.value:
        raise InputError(
            f"{source}: something at {scan.far} stretches the sheet to {height:,} rows "
            f"x {width:,} columns ({height * width:,} cells), too many to read. Delete "
            "the rows and columns beyond your table (or clear that cell) and save again"
        )


def _parts(stream: IO[bytes], scan: SheetScan) -> Iterator[tuple[bytes, bool]]:
    """The XML in parts of about a megabyte, each cut before a cell or row begins (so that
    no tag is split; a row may go on in the next part); True with the last one."""
    carry = b""
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            yield carry, True
            return
        buffer = carry + chunk if carry else chunk
        cut = max(buffer.rfind(b"<c"), buffer.rfind(b"<row"))
        if cut <= 0 and len(buffer) > _CARRY_MAX:  # megabytes without a cell: one huge cell
            scan.maybe_long, cut = True, len(buffer) - 16
        if cut <= 0:
            carry = buffer
            continue
        yield buffer[:cut], False
        carry = buffer[cut:]


def _scan_part(part: bytes, scan: SheetScan, *, final: bool) -> None:
    """One part of the sheet's XML into ``scan``."""
    import numpy as np

    _further(part, scan)
    if b"\x00" in part or b"_x0000_" in part:
        scan.maybe_nul = True
    window = (FIELD_CHARS.value + 1) // 2  # a longer text holds a whole such window without '<'
    if any(b"<" not in part[at : at + window] for at in range(0, len(part) - window + 1, window)):
        scan.maybe_long = True
    data: Bytes = np.frombuffer(part + _PAD, np.uint8)
    opens: Positions = np.flatnonzero(data[: len(part)] == 60)  # '<'
    second, third = data[opens + 1], data[opens + 2]
    ends_name = (third == 32) | (third == 62) | (third == 47)  # ' ', '>', '/'
    if ((second == 102) & ends_name).any():  # '<f': a formula; is its value cached?
        for match in _UNCACHED_FORMULA.finditer(part):
            scan.formulas.add(_cell_index(match.group(1)))
    cells = opens[(second == 99) & ends_name]  # '<c'
    fourth, fifth = data[opens + 3], data[opens + 4]
    row_ends = (fifth == 32) | (fifth == 62) | (fifth == 47)
    rows = opens[(second == 114) & (third == 111) & (fourth == 119) & row_ends]  # '<row'
    scan.row_elements += len(rows)
    numbered = (data[cells + 2] == 32) & (data[cells + 3] == 114) & (data[cells + 4] == 61)
    if numbered.all():
        if len(rows):
            scan._open_row_cells = 0
        return
    scan.unnumbered_cells = True  # each such cell is one column right of the one before
    segment = np.searchsorted(rows, cells)  # 0: the row that began in an earlier part
    per_row = np.bincount(segment, minlength=len(rows) + 1)
    per_row[0] += scan._open_row_cells
    scan.widest_row = max(scan.widest_row, int(per_row.max()))
    scan._open_row_cells = int(per_row[-1])


def _further(part: bytes, scan: SheetScan) -> None:
    """Raise ``scan.columns`` and ``scan.digits`` to the furthest cell references of ``part``,
    with searches that on a genuine sheet fail at once (nothing further than seen)."""
    while found := _later_column(scan.columns).search(part):
        letters = found.group(1).decode()
        column = 0
        for ch in letters:
            column = column * 26 + ord(ch) - 64
        scan.columns = max(scan.columns, column)
        scan.far = _reference(part, found.start() + 4)
        if column > COLUMNS.value:
            return
    while found := _pattern(rb' r="[A-Z]{0,3}([0-9]{%d,})"' % (scan.digits + 1)).search(part):
        number = found.group(1)
        scan.digits = len(number)
        scan.rows = max(scan.rows, int(number[:12]))
        scan.far = _reference(part, found.start() + 4)


def _reference(part: bytes, at: int) -> str:
    return part[at : part.find(b'"', at, at + 24)].decode("ascii", "replace")


def _later_column(column: int) -> re.Pattern[bytes]:
    """A search for a cell reference whose column is after ``column`` (1-based; 0: any)."""
    letters = column_letters(column) if column else ""
    longer = rb"[A-Z]{%d,}" % (len(letters) + 1)
    later = []
    for i, ch in enumerate(letters):
        if ch != "Z":
            rest = len(letters) - i - 1
            later.append(re.escape(letters[:i].encode()) + b"[%c-Z]" % (ord(ch) + 1) + (b"[A-Z]{%d}" % rest if rest else b""))  # fmt: skip
    return _pattern(b' r="(' + b"|".join([longer, *later]) + b")[0-9]")


@functools.lru_cache(maxsize=256)
def _pattern(source: bytes) -> re.Pattern[bytes]:
    return re.compile(source)


def column_letters(column: int) -> str:
    """``1`` -> ``A``, ``28`` -> ``AB`` (1-based)."""
    letters = ""
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _furthest_row(stream: IO[bytes], digits: int) -> int:
    """The largest row number of ``digits`` digits any cell or row names (the furthest row,
    when ``digits`` is the most any has), read again in chunks."""
    search = re.compile(rb' r="[A-Z]{0,3}([0-9]{%d})"' % digits)
    furthest = 0
    carry = b""
    while chunk := stream.read(CHUNK):
        buffer = carry + chunk
        cut = max(buffer.rfind(b"<"), 0)
        numbers = search.findall(buffer, 0, cut)
        if numbers:
            furthest = max(furthest, max(map(int, numbers)))
        carry = buffer[cut:]
    numbers = search.findall(carry)
    return max([furthest, *map(int, numbers)])


def _cell_index(ref: bytes) -> tuple[int, int]:
    """``b"D14"`` -> ``(13, 3)``."""
    text = ref.decode()
    letters = "".join(ch for ch in text if ch.isalpha())
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return int(text[len(letters) :]) - 1, col - 1


def scan_strings(stream: IO[bytes]) -> tuple[bool, bool]:
    """Whether a workbook's shared strings may hold a NUL, and a string over FIELD_CHARS
    characters (an item spanning more bytes than that), read in chunks."""
    import numpy as np

    nul = long = False
    carry = b""
    while True:
        chunk = stream.read(CHUNK)
        buffer = carry + chunk if carry else chunk
        cut = buffer.rfind(b"<si") if chunk else len(buffer)
        if chunk and cut <= 0:
            if len(buffer) > _CARRY_MAX:
                long, carry = True, buffer[-16:]
            else:
                carry = buffer
            continue
        part, carry = buffer[:cut], buffer[cut:]
        if b"\x00" in part or b"_x0000_" in part:
            nul = True
        if len(part) > FIELD_CHARS.value:
            data: Bytes = np.frombuffer(part + _PAD, np.uint8)
            opens = np.flatnonzero(data[: len(part)] == 60)
            items = opens[(data[opens + 1] == 115) & (data[opens + 2] == 105)]  # '<si'
            bounds = np.concatenate(([0], items, [len(part)]))
            if int(np.diff(bounds).max()) > FIELD_CHARS.value:
                long = True
        if not chunk:
            return nul, long
