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

The part checked is the part the reader reads (:class:`Package`): a workbook naming its parts
ambiguously, or whose sheet cannot be found, is refused rather than read unchecked; the parts
read whole (relationships, workbook, styles) are bounded and read as a stream, and text between
two tags (a string, a comment, an attribute, which the reader holds whole) is bounded.

A part is never decompressed past the size its directory entry declares: Python's zipfile and
calamine's zip reader both stop there, so a directory that understates a part makes a part that
cannot be read, not a bomb. The sheet scan runs over bytes with numpy, a handful of vector
operations per megabyte, so that a genuine 100,000-row book pays little for it.
"""

from __future__ import annotations

import posixpath
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
    XLSX_DEPTH,
    XLSX_PART,
    XLSX_PARTS,
    XLSX_RATIO,
    XLSX_RATIO_FROM,
    XLSX_UNCOMPRESSED,
    XML_RUN,
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
                    f"{path}, part {info.filename!r} ({_mb(info.compress_size)} that becomes "
                    f"{_mb(info.file_size)})",
                    f"{ratio:,.0f} times",
                )
            )
    total = sum(info.file_size for info in infos)
    if total > content.value:
        raise InputError(content.message(str(path), content.shown(total)))


def _mb(size: int) -> str:
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


# Which part of a workbook is which -------------------------------------------------------------

_RELATIONSHIPS = "relationships"
_NOT_CHECKED = "; open it in Excel or LibreOffice and save it again as .xlsx; nothing was stored"


def part_key(name: str) -> str:
    """A part's name as zip readers match it: the workbook reader (calamine) takes names
    case-insensitively and ``\\`` for ``/``; ``./`` and ``..`` resolved."""
    return posixpath.normpath("/" + name.replace("\\", "/")).lstrip("/").casefold()


@dataclass
class Package:
    """A workbook's parts, to find the very part the workbook reader will read for a sheet or
    its shared strings, and check that one: what is read is what was checked.

    A workbook can name its parts in ways readers resolve differently: two parts whose names
    differ only in case or slashes, two sheets of one name, two relationships of one id, two
    workbooks. Each such ambiguity is refused (no program writes them); a part that cannot be
    found is refused too, rather than left to the reader unchecked. The parts read whole (the
    package's and the workbook's relationships, the workbook part, the styles) are bounded by
    :data:`XLSX_PART` and :data:`XLSX_DEPTH`, and read here as a stream (no tree is built).
    """

    archive: zipfile.ZipFile
    source: str
    parts: dict[str, zipfile.ZipInfo]
    workbook: zipfile.ZipInfo | None = None
    _relations: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def of(cls, archive: zipfile.ZipFile, source: str) -> Package:
        """The package of an open archive, its workbook part found and its whole-read parts
        checked."""
        parts: dict[str, zipfile.ZipInfo] = {}
        for info in archive.infolist():
            key = part_key(info.filename)
            seen = parts.get(key)
            if seen is not None and seen.filename != info.filename:
                raise InputError(
                    f"{source}: holds two parts that readers take for one ({seen.filename!r} "
                    f"and {info.filename!r}){_NOT_CHECKED}"
                )
            parts[key] = info  # the same name twice: the last, as zipfile and calamine take it
        package = cls(archive, source, parts)
        package.workbook = package._workbook()
        package._relations = package._relationships_of(package.workbook)
        for style in [*package._targets("/styles"), package.find("xl/styles.xml")]:
            if style is not None:
                XLSX_PART.check(
                    style.file_size, f"{source}, part {style.filename!r}", _mb(style.file_size)
                )
        return package

    def find(self, name: str) -> zipfile.ZipInfo | None:
        return self.parts.get(part_key(name))

    def sheet(self, name: str) -> zipfile.ZipInfo:
        """The part holding the sheet ``name``, as the workbook's relationships name it."""
        assert self.workbook is not None
        sheets = self._elements(self.workbook, "sheet")
        names = [element.get("name", "").casefold() for element in sheets]
        if len(set(names)) != len(names):
            raise InputError(f"{self.source}: names two sheets alike{_NOT_CHECKED}")
        rel_id = next((e.get(":id") for e in sheets if e.get("name") == name), None)
        target = next((r.get("Target") for r in self._relations if r.get("Id") == rel_id), None)
        part = self._resolve(self.workbook, target) if rel_id and target else None
        if part is None:
            raise InputError(
                f"{self.source}: the part of sheet {name!r} cannot be found{_NOT_CHECKED}"
            )
        return part

    def shared_strings(self) -> list[zipfile.ZipInfo]:
        """Every part that may be read as the shared strings: the workbook's relationship to
        them, and any part named like them (``xl/sharedStrings.xml``, in any case or folder)."""
        named = [info for key, info in self.parts.items() if key.endswith("sharedstrings.xml")]
        related = self._targets("/sharedstrings")
        return list({info.filename: info for info in [*named, *related]}.values())

    def _workbook(self) -> zipfile.ZipInfo:
        rels = self.find("_rels/.rels")
        targets = [] if rels is None else [
            relation.get("Target", "") for relation in self._elements(rels, "Relationship")
            if relation.get("Type", "").casefold().endswith("/officedocument")
        ]  # fmt: skip
        if len(targets) > 1:
            raise InputError(f"{self.source}: names {len(targets)} workbooks in it{_NOT_CHECKED}")
        part = self.find(targets[0] if targets else "xl/workbook.xml")  # from the root
        if part is not None:  # read whole by the reader as soon as it opens the workbook
            where = f"{self.source}, part {part.filename!r}"
            XLSX_PART.check(part.file_size, where, _mb(part.file_size))
        if part is None:
            raise InputError(
                f"{self.source}: holds no workbook part: it is not an xlsx workbook (an "
                f"OpenDocument .ods or another package?){_NOT_CHECKED}"
            )
        return part

    def _relationships_of(self, part: zipfile.ZipInfo) -> list[dict[str, str]]:
        folder, base = posixpath.split(part.filename.replace("\\", "/"))
        rels = self.find(posixpath.join(folder, "_rels", base + ".rels"))
        relations = [] if rels is None else self._elements(rels, "Relationship")
        ids = [relation.get("Id") for relation in relations]
        if len(set(ids)) != len(ids):
            raise InputError(f"{self.source}: gives two relationships one id{_NOT_CHECKED}")
        return relations

    def _targets(self, kind: str) -> list[zipfile.ZipInfo]:
        assert self.workbook is not None
        found = [
            self._resolve(self.workbook, relation.get("Target"))
            for relation in self._relations
            if relation.get("Type", "").casefold().endswith(kind)
        ]
        return [part for part in found if part is not None]

    def _resolve(self, source: zipfile.ZipInfo, target: str | None) -> zipfile.ZipInfo | None:
        """A relationship's target, relative to the part that names it (or absolute)."""
        if not target:
            return None
        if target.startswith("/"):
            return self.find(target)
        folder = posixpath.dirname(source.filename.replace("\\", "/"))
        return self.find(posixpath.join(folder, target))

    def _elements(self, part: zipfile.ZipInfo, wanted: str) -> list[dict[str, str]]:
        """The attributes of each element ``wanted`` (its local name, in any namespace) of a
        part read whole, by local name (a namespaced one as ``:id``); the part is bounded by
        :data:`XLSX_PART` and its nesting by :data:`XLSX_DEPTH`, and read as a stream."""
        from xml.parsers import expat

        where = f"{self.source}, part {part.filename!r}"
        XLSX_PART.check(part.file_size, where, _mb(part.file_size))
        found: list[dict[str, str]] = []
        depth = 0

        def start(name: str, attributes: dict[str, str]) -> None:
            nonlocal depth
            depth += 1
            if depth > XLSX_DEPTH.value:
                raise InputError(XLSX_DEPTH.message(where))
            if name.rpartition(" ")[2] == wanted:
                found.append({
                    (":" if " " in key else "") + key.rpartition(" ")[2]: value
                    for key, value in attributes.items()
                })  # fmt: skip

        def end(_name: str) -> None:
            nonlocal depth
            depth -= 1

        parser = expat.ParserCreate(namespace_separator=" ")
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        try:
            with self.archive.open(part) as stream:
                parser.ParseFile(stream)
        except expat.ExpatError as exc:
            raise InputError(f"{where}: is not readable XML ({exc}){_NOT_CHECKED}") from None
        except (NotImplementedError, RuntimeError) as exc:
            raise unreadable_part(self.source, part, exc) from None
        return found


def unreadable_part(source: str, part: zipfile.ZipInfo, exc: Exception) -> InputError:
    """A part zipfile cannot open: encrypted, or compressed in a way Excel never writes (the
    workbook reader might read it, unchecked: refused)."""
    why = "it is encrypted" if part.flag_bits & 1 else f"compression method {part.compress_type}"
    return InputError(
        f"{source}, part {part.filename!r}: cannot be read ({why}: {type(exc).__name__})"
        f"{_NOT_CHECKED}"
    )


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
    for part, final in _parts(stream, scan, source):
        _scan_part(part, scan, source, final=final)
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


def _parts(stream: IO[bytes], scan: SheetScan, source: str) -> Iterator[tuple[bytes, bool]]:
    """The XML in parts of about a megabyte, each cut before a cell or row begins (so that
    no tag is split; a row may go on in the next part); True with the last one. Megabytes
    without a cell or row: what is over :data:`XML_RUN` without a tag is refused here."""
    carry = b""
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            yield carry, True
            return
        buffer = carry + chunk if carry else chunk
        cut = max(buffer.rfind(b"<c"), buffer.rfind(b"<row"))
        if cut <= 0 and len(buffer) > _CARRY_MAX:  # megabytes without a cell: one huge cell
            _no_long_run(buffer[-XML_RUN.value - 1 :], source)
            scan.maybe_long, cut = True, len(buffer) - 16
        if cut <= 0:
            carry = buffer
            continue
        yield buffer[:cut], False
        carry = buffer[cut:]


def _scan_part(part: bytes, scan: SheetScan, source: str, *, final: bool) -> None:
    """One part of the sheet's XML into ``scan``: every tag is found at once with numpy (the
    positions of '<' and the bytes after them), the cell references among them read as
    numbers the same way. Text longer than :data:`XML_RUN` between two tags is refused."""
    import numpy as np

    if b"\x00" in part or (b"_" in part and b"_x0000_" in part):  # '_x0000_': Excel's NUL
        scan.maybe_nul = True
    window = (FIELD_CHARS.value + 1) // 2  # a longer text holds a whole such window without '<'
    if any(b"<" not in part[at : at + window] for at in range(0, len(part) - window + 1, window)):
        scan.maybe_long = True
    data: Bytes = np.frombuffer(part + _PAD, np.uint8)
    opens: Positions = np.flatnonzero(data[: len(part)] == 60)  # '<'
    _check_runs(opens, len(part), source)
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


def scan_strings(stream: IO[bytes], source: str) -> tuple[bool, bool]:
    """Whether a workbook's shared strings may hold a NUL, and a string over FIELD_CHARS
    characters (an item spanning more bytes than that), read in chunks. A string that no cell
    could hold whatever it is written with (megabytes in one item, or of text without a tag)
    is refused here, before the reader holds it in memory."""
    import numpy as np

    nul = long = False
    carry = b""
    while True:
        chunk = stream.read(CHUNK)
        buffer = carry + chunk if carry else chunk
        cut = buffer.rfind(b"<si") if chunk else len(buffer)
        if chunk and cut <= 0:
            if len(buffer) > _CARRY_MAX:
                raise InputError(FIELD_CHARS.message(
                    f"{source}, a shared string", f"more than {_mb(_CARRY_MAX)} in one string"
                ))  # fmt: skip
            carry = buffer
            continue
        part, carry = buffer[:cut], buffer[cut:]
        if b"\x00" in part or b"_x0000_" in part:
            nul = True
        data: Bytes = np.frombuffer(part + _PAD, np.uint8)
        opens: Positions = np.flatnonzero(data[: len(part)] == 60)
        _check_runs(opens, len(part), source)
        if len(part) > FIELD_CHARS.value:
            items = opens[(data[opens + 1] == 115) & (data[opens + 2] == 105)]  # '<si'
            bounds = np.concatenate(([0], items, [len(part)]))
            if int(np.diff(bounds).max()) > FIELD_CHARS.value:
                long = True
        if not chunk:
            return nul, long


def _check_runs(opens: Positions, length: int, source: str) -> None:
    """Refuse XML holding more than :data:`XML_RUN` of text between two tags (``opens``: the
    positions of '<' in ``length`` bytes): no cell holds that much, and the workbook reader
    would hold all of it in memory at once (one string, one comment, one attribute)."""
    import numpy as np

    if length <= XML_RUN.value:
        return
    edges = np.concatenate(([-1], opens, [length]))
    if int(np.diff(edges).max()) - 1 > XML_RUN.value:
        raise InputError(XML_RUN.message(source, f"more than {XML_RUN.shown()}"))


def _no_long_run(tail: bytes, source: str) -> None:
    """:func:`_check_runs` for the end of a buffer (a run that may go on past it)."""
    if len(tail) > XML_RUN.value and b"<" not in tail:
        raise InputError(XML_RUN.message(source, f"more than {XML_RUN.shown()}"))
