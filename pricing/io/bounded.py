"""Reading within bounds: what can be known about a file before it is parsed is checked first.

Every importer reads files somebody else made, with the bounds of :mod:`pricing.limits`:

1. the size on disk (:func:`check_size`), before a byte is read;
2. for a workbook, its zip directory (:func:`check_workbook`), before anything is
   decompressed: how many parts, how large they become (a zip bomb says so itself: a part of a
   few MB that becomes a GB), and how much each large part is compressed;
3. the XML of the sheet to be read (:func:`pricing.io.sheet_scan.scan_sheet`), in chunks of a
   megabyte, before the workbook reader (calamine) turns it into a grid: how far its cells
   reach (the grid's rows and columns), which formulas have no cached value, and whether any
   cell may hold a NUL or more text than a cell can (then each cell is looked at once read).

The part checked is the part the reader reads (:class:`pricing.io.package.Package`): a workbook
naming its parts ambiguously, or whose sheet cannot be found, is refused rather than read
unchecked; the parts read whole (relationships, workbook, styles) are bounded and read as a
stream, and text between two tags (a string, a comment, an attribute, which the reader holds
whole) is bounded.

A part is never decompressed past the size its directory entry declares: Python's zipfile and
calamine's zip reader both stop there, so a directory that understates a part makes a part that
cannot be read, not a bomb. The sheet scan runs over bytes with numpy, a handful of vector
operations per megabyte, so that a genuine 100,000-row book pays little for it.

This module holds what is checked before anything is decompressed (the size on disk, the zip
directory) and the bounds an importer reads within; the workbook's parts and the sheet scan
stand apart, each its own concern (the package's relationships, the scan's numpy over bytes).
"""

from __future__ import annotations

import struct
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from pricing.errors import InputError
from pricing.limits import (
    XLSX_PARTS,
    XLSX_RATIO,
    XLSX_RATIO_FROM,
    XLSX_UNCOMPRESSED,
    Limit,
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
    content: Limit = XLSX_UNCOMPRESSED  # a workbook's parts, uncompressed, in all

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


def check_workbook(path: Path, content: Limit = XLSX_UNCOMPRESSED) -> None:
    """Refuse a zip bomb from the workbook's zip directory, before any part is decompressed.

    Called by :func:`pricing.io.sheets.open_workbook` before the workbook reader opens the
    file; any importer that opens a zip itself calls it first. The directory is parsed only
    once its entries, counted one by one from its end record, are of a sane number. A file
    that is no zip passes (the reader says it is not a readable workbook)."""
    parts = _parts_in(path, XLSX_PARTS.value)
    if parts is not None:
        counted_to = XLSX_PARTS.value + 1  # where the count of a directory's entries stops
        XLSX_PARTS.check(
            parts, str(path), f"more than {parts - 1:,}" if parts == counted_to else f"{parts:,}"
        )
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    for info in infos:  # a bomb first: said as one, whatever its total
        if info.file_size > XLSX_RATIO_FROM and info.file_size > XLSX_RATIO.value * max(
            info.compress_size, 1
        ):
            ratio = info.file_size / max(info.compress_size, 1)
            raise InputError(
                XLSX_RATIO.message(
                    f"{path}, part {info.filename!r} ({megabytes(info.compress_size)} that becomes "
                    f"{megabytes(info.file_size)})",
                    f"{ratio:,.0f} times",
                )
            )
    total = sum(info.file_size for info in infos)
    if total > content.value:
        raise InputError(content.message(str(path), content.shown(total)))


def megabytes(size: int) -> str:
    return f"{size / (1 << 20):,.1f} MB"


_CENTRAL = b"PK\x01\x02"
_ZIP64_END = 56  # the zip64 end record, which zipfile looks for just before its locator


def _parts_in(path: Path, stop: int) -> int | None:
    """How many parts a zip holds: what its end record declares, or, when more, what its
    central directory holds, its entries counted one by one as zipfile will parse them (from
    the directory's size, not its declared count), up to ``stop + 1``. An end record can
    declare 7 parts for a directory of millions, which zipfile would turn into as many Python
    objects (1.5 GB) before anything else could be checked. None: no end record found."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, 2)
            length = handle.tell()
            handle.seek(max(0, length - 65_557))  # the end record and the longest comment
            tail = handle.read()
            at = tail.rfind(_EOCD)
            if at < 0 or at + 22 > len(tail):
                return None
            count, size = struct.unpack_from("<HI", tail, at + 10)
            end = length - len(tail) + at  # where the end record is, in the file
            locator = at - 20
            if locator >= 0 and tail[locator : locator + 4] == _ZIP64_LOCATOR:
                handle.seek(end - 20 - _ZIP64_END)
                record = handle.read(_ZIP64_END)
                if len(record) < 48:
                    return None
                count, size = struct.unpack_from("<QQ", record, 32)
                end -= 20 + _ZIP64_END
            if count > stop:
                return int(count)
            return max(int(count), _entries(handle, end - size, size, stop))
    except (OSError, struct.error, ValueError, OverflowError):
        return None


def _entries(handle: IO[bytes], start: int, size: int, stop: int) -> int:
    """The entries of a central directory of ``size`` bytes at ``start``, counted up to
    ``stop + 1`` (a part's entry: 46 bytes, then its name, extra field and comment)."""
    if start < 0:
        return 0
    handle.seek(start)
    counted = used = 0
    while used < size and counted <= stop:
        head = handle.read(46)
        if len(head) < 46 or head[:4] != _CENTRAL:
            break  # zipfile stops here too (BadZipFile), and says so
        names, extra, comment = struct.unpack_from("<HHH", head, 28)
        handle.seek(names + extra + comment, 1)
        used += 46 + names + extra + comment
        counted += 1
    return counted
