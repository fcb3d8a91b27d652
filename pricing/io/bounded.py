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

import re
import struct
import zipfile
from collections.abc import Iterator
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
        found = limit.shown(size)
        if found == limit.shown():  # just over: "found 20 MB" would not say why
            found = f"{size:,} bytes"
        raise InputError(limit.message(str(path), found=found))


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
    A1 to the furthest cell) reaches, which formulas have no cached value, and whether a cell
    may hold a NUL or more than FIELD_CHARS characters (then each cell is looked at once read).
    """

    rows: int = 0  # the furthest row a cell or a row names
    columns: int = 0  # the furthest column a cell names
    far: str = ""  # the reference that reaches furthest, as the file writes it
    formulas: set[tuple[int, int]] = field(default_factory=set)  # uncached, 0-based
    maybe_nul: bool = False
    maybe_long: bool = False
    row_elements: int = 0  # rows written (a row without a number follows the one before)
    widest_row: int = 0  # cells in one row, counted when some cell has no reference
    unnumbered_cells: bool = False
    _open_row_cells: int = 0  # cells so far of a row that goes on in the next chunk

    def extent(self) -> tuple[int, int]:
        """Rows and columns of the grid, at most (a cell without a reference is one column
        right of the one before it, a row without a number one row below)."""
        columns = self.columns + (self.widest_row if self.unnumbered_cells else 0)
        return max(self.rows, self.row_elements), columns


def scan_sheet(stream: IO[bytes], source: str, bounds: Bounds | None) -> SheetScan:
    """Read a sheet's XML in chunks and refuse it, before it is parsed, when its grid would
    be over the bounds: the rows ``bounds`` allow, :data:`COLUMNS`, or :data:`CELLS` in all
    (a stray value far out). Stops as soon as a bound is passed."""
    scan = SheetScan()
    for part, final in _parts(stream, scan):
        _scan_part(part, scan, final=final)
        height, width = scan.extent()
        if width > COLUMNS.value:
            raise InputError(COLUMNS.message(f"{source}, cell {scan.far}", f"{width:,}"))
        if bounds is not None and height > bounds.rows_allowed:
            found = f"{height:,} rows" if final else f"at least {height:,} rows"
            raise InputError(bounds.rows.message(source, found))
        if height * width > CELLS.value:
            raise InputError(
                f"{source}: something at {scan.far} stretches the sheet to {height:,} rows "
                f"x {width:,} columns ({height * width:,} cells), too many to read. Delete "
                "the rows and columns beyond your table (or clear that cell) and save again"
            )
    return scan


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
    """One part of the sheet's XML into ``scan``: every tag is found at once with numpy (the
    positions of '<' and the bytes after them), the cell references among them read as
    numbers the same way."""
    import numpy as np

    if b"\x00" in part or (b"_" in part and b"_x0000_" in part):  # '_x0000_': Excel's NUL
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
    fifth = data[opens + 4]
    row_ends = (fifth == 32) | (fifth == 62) | (fifth == 47)
    rows = opens[(second == 114) & (third == 111) & (data[opens + 3] == 119) & row_ends]
    scan.row_elements += len(rows)
    numbered = _attribute_r(data, cells + 2)
    _reach(data, part, cells[numbered] + 6, scan)
    row_numbers = rows[_attribute_r(data, rows + 4)] + 8
    if len(row_numbers):
        furthest, _ = _numbers(data, row_numbers)
        scan.rows = max(scan.rows, furthest)
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


def _attribute_r(data: Bytes, at: Positions) -> npt.NDArray[np.bool_]:
    """Which tags have `` r="`` at ``at``: a cell's reference, a row's number."""
    found: npt.NDArray[np.bool_] = (data[at] == 32) & (data[at + 1] == 114) & (data[at + 2] == 61)
    found &= data[at + 3] == 34
    return found


def _is_letter(values: Bytes) -> npt.NDArray[np.bool_]:
    letter: npt.NDArray[np.bool_] = (values >= 65) & (values <= 90)
    return letter


def _reach(data: Bytes, part: bytes, refs: Positions, scan: SheetScan) -> None:
    """The furthest column and row named by the cell references at ``refs`` (``A1`` ...
    ``XFD1048576``) into ``scan``."""
    import numpy as np

    if not len(refs):
        return
    one, two, three = data[refs], data[refs + 1], data[refs + 2]
    letters = (
        _is_letter(one).astype(np.intp)
        + (_is_letter(one) & _is_letter(two))
        + (_is_letter(one) & _is_letter(two) & _is_letter(three))
    )
    column = one.astype(np.int64) - 64
    column = np.where(letters >= 2, column * 26 + two - 64, column)
    column = np.where(letters >= 3, column * 26 + three - 64, column)
    column = np.where(_is_letter(data[refs + 3]) & (letters == 3), np.int64(1 << 40), column)
    row, row_at = _numbers(data, refs + letters)
    widest = int(np.argmax(column))
    if int(column[widest]) > scan.columns or row > scan.rows:
        start = int(refs[widest if int(column[widest]) > scan.columns else row_at])
        scan.far = part[start : part.find(b'"', start, start + 24)].decode("ascii", "replace")
    scan.columns = max(scan.columns, int(column[widest]))
    scan.rows = max(scan.rows, row)


def _numbers(data: Bytes, starts: Positions) -> tuple[int, int]:
    """The largest whole number written at ``starts`` (its digits), and at which of the
    starts; 10**9 for one of ten digits or more (no sheet is that long)."""
    import numpy as np

    value = np.zeros(len(starts), np.int64)
    going = np.ones(len(starts), np.bool_)
    for i in range(10):
        digit = data[starts + i]
        going &= (digit >= 48) & (digit <= 57)
        if not going.any():
            break
        value = np.where(going, value * 10 + digit - 48, value)
    else:
        value = np.where(going, np.int64(10**9), value)
    at = int(np.argmax(value))
    return int(value[at]), at


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
