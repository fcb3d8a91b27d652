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
    SHEET_TEXT,
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
# A sheet's XML as a program other than Excel may write it: elements with a namespace prefix
# (``<x:c>``), spaces around an attribute's ``=``. The workbook reader takes both; the scan reads
# such a part once made plain (prefixes dropped, ``r = "A1"`` as ``r="A1"``; text is untouched).
_PREFIXED_NAME = re.compile(rb":(?:c|row|v|t|is|si|f)[\s>/]")  # a quick look first
_PREFIXED = re.compile(rb"<(/?)[A-Za-z_][\w.\-]*:")
_SPACED_IN_TAG = re.compile(rb"<(?:c|row)\b[^<]*?(?:\s=|=\s)[^<]*")
_EQUALS = re.compile(rb"\s*=\s*")
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
    text: int = 0  # bytes of text the cells hold, a shared string counted in each cell showing it
    row_elements: int = 0  # rows written (a row without a number follows the one before)
    widest_row: int = 0  # cells in one row, counted when some cell has no reference
    unnumbered_cells: bool = False
    _open_row_cells: int = 0  # cells so far of a row that goes on in the next chunk

    def extent(self) -> tuple[int, int]:
        """Rows and columns of the grid, at most (a cell without a reference is one column
        right of the one before it, a row without a number one row below)."""
        columns = self.columns + (self.widest_row if self.unnumbered_cells else 0)
        return max(self.rows, self.row_elements), columns


def scan_sheet(
    stream: IO[bytes],
    source: str,
    bounds: Bounds | None,
    strings: SharedStrings | None = None,
    *,
    held: tuple[int, int] | None = None,
) -> SheetScan:
    """Read a sheet's XML in chunks and refuse it, before it is parsed, when its grid would
    be over the bounds: the rows ``bounds`` allow, :data:`COLUMNS`, or :data:`CELLS` in all
    (a stray value far out), or its text over :data:`SHEET_TEXT` with the workbook's
    ``strings`` (a shared string counts in every cell that shows it). ``held``: the cells and
    text the workbook's sheets read before this one hold (by default none, and the shared
    strings themselves, which the reader holds once): the bounds are on all of them. Stops as
    soon as a bound is passed."""
    scan = SheetScan()
    strings = strings or SharedStrings()
    held_cells, held_text = held if held is not None else (0, strings.total)
    before = " with the sheets read before it" if held_cells else ""
    text_limit, most_cells = SHEET_TEXT.value, CELLS.value
    for part, final in _parts(stream, scan, source):
        _scan_part(part, scan, strings, source, final=final)
        if held_text + scan.text > text_limit:
            row = max(scan.rows, scan.row_elements)
            found = f"more than {SHEET_TEXT.shown()} by row {row:,}{before}"
            raise InputError(SHEET_TEXT.message(source, found))
        height, width = scan.extent()
        if width > COLUMNS.value:
            raise InputError(COLUMNS.message(f"{source}, cell {scan.far}", f"{width:,}"))
        if held_cells + height * width > most_cells:  # before the rows: a stray value says so
            found = (
                f"{height:,} rows x {width:,} columns = {height * width:,}{before}, from A1 to "
                f"{scan.far}: a stray value far from the table? clear it and save again"
            )
            raise InputError(CELLS.message(source, found))
        if bounds is not None and height > bounds.rows_allowed:
            found = f"{height:,} rows" if final else f"at least {height:,} rows"
            raise InputError(bounds.rows.message(source, found))
    return scan


def _parts(stream: IO[bytes], scan: SheetScan, source: str) -> Iterator[tuple[bytes, bool]]:
    """The XML in parts of about a megabyte, namespace prefixes dropped, each cut before a
    row begins (a row is seen with its cells), or if a row is megabytes long before a cell
    (so that no tag is split; the row goes on in the next part); True with the last one.
    Megabytes without a cell or row: what is over :data:`XML_RUN` without a tag is refused."""
    carry = b""
    while True:
        chunk = stream.read(CHUNK)
        if not chunk:
            yield carry, True
            return
        buffer = _unprefixed(carry + chunk if carry else chunk)
        cut = buffer.rfind(b"<row")
        if cut <= 0:
            cut = buffer.rfind(b"<c")
        if cut <= 0 and len(buffer) > _CARRY_MAX:  # megabytes without a cell: one huge cell
            _no_long_run(buffer[-XML_RUN.value - 1 :], source)
            scan.maybe_long, cut = True, len(buffer) - 16
        if cut <= 0:
            carry = buffer
            continue
        yield buffer[:cut], False
        carry = buffer[cut:]


def _unprefixed(part: bytes) -> bytes:
    """The part with its elements' namespace prefixes dropped (``<x:c>`` as ``<c>``)."""
    return _PREFIXED.sub(rb"<\1", part) if _PREFIXED_NAME.search(part) else part


def _scan_part(
    part: bytes, scan: SheetScan, strings: SharedStrings, source: str, *, final: bool
) -> None:
    """One part of the sheet's XML into ``scan``: every tag is found at once with numpy (the
    positions of '<' and the bytes after them), the cell references among them read as
    numbers the same way, wherever in its tag a cell or row writes its ``r``. Text longer
    than :data:`XML_RUN` between two tags is refused."""
    import numpy as np

    if b"\x00" in part or (b"_" in part and b"_x0000_" in part):  # '_x0000_': Excel's NUL
        scan.maybe_nul = True
    window = (FIELD_CHARS.value + 1) // 2  # a longer text holds a whole such window without '<'
    if any(b"<" not in part[at : at + window] for at in range(0, len(part) - window + 1, window)):
        scan.maybe_long = True
    data: Bytes = np.frombuffer(part + _PAD, np.uint8)
    opens: Positions = np.flatnonzero(data[: len(part)] == 60)  # '<'
    _check_runs(opens, len(part), source)
    tags = _Tags(data, opens, len(part))
    second, third = data[opens + 1], data[opens + 2]
    ends_name = _ends_name(third)
    if ((second == 102) & ends_name).any():  # '<f': a formula; is its value cached?
        for match in _UNCACHED_FORMULA.finditer(part):
            scan.formulas.add(_cell_index(match.group(1)))
    cells = np.flatnonzero((second == 99) & ends_name)  # '<c', as indices into opens
    rows = np.flatnonzero((second == 114) & (third == 111) & (data[opens + 3] == 119) & _ends_name(data[opens + 4]))  # fmt: skip
    named = _named(data, 114)  # r="...": a cell's reference, a row's number
    cell_refs, row_refs = tags.attribute(named, cells), tags.attribute(named, rows)
    numbered = cell_refs >= 0
    unsure = not (numbered.all() and (row_refs >= 0).all()) or strings.count
    if unsure and (tags.spaced(cells) or tags.spaced(rows)):  # r = "A1", t = "s"
        plain = _SPACED_IN_TAG.sub(lambda tag: _EQUALS.sub(b"=", tag.group()), part)
        if plain != part:
            _scan_part(plain, scan, strings, source, final=final)
            return
    scan.row_elements += len(rows)
    _reach(data, part, cell_refs[numbered], scan)
    if (row_refs >= 0).any():
        furthest, _ = _numbers(data, row_refs[row_refs >= 0])
        scan.rows = max(scan.rows, furthest)
    scan.text += tags.text(second, third, cells, strings)
    if numbered.all():
        if len(rows):
            scan._open_row_cells = 0
        return
    scan.unnumbered_cells = True  # each such cell is one column right of the one before
    segment = np.searchsorted(opens[rows], opens[cells])  # 0: the row begun in an earlier part
    per_row = np.bincount(segment, minlength=len(rows) + 1)
    per_row[0] += scan._open_row_cells
    scan.widest_row = max(scan.widest_row, int(per_row.max()))
    scan._open_row_cells = int(per_row[-1])


def _blank(values: Bytes) -> npt.NDArray[np.bool_]:
    """Which bytes are XML's blanks: a space, a tab or a line break."""
    blank: npt.NDArray[np.bool_] = (values == 32) | (values == 9) | (values == 10) | (values == 13)
    return blank


def _ends_name(after: Bytes) -> npt.NDArray[np.bool_]:
    """Which bytes end a tag's name: a blank, '>' or '/'."""
    ends: npt.NDArray[np.bool_] = _blank(after) | (after == 62) | (after == 47)
    return ends


def _named(data: Bytes, name: int) -> Positions:
    """Where a value of an attribute called by the one letter ``name`` (``r``, ``t``) begins:
    the letter after a blank, then ``=`` and either quote."""
    import numpy as np

    at = np.flatnonzero(data == name)
    quote = data[at + 2]
    at = at[(data[at + 1] == 61) & ((quote == 34) | (quote == 39))]
    found: Positions = at[_blank(data[at - 1])] + 3
    return found


class _Tags:
    """The tags of a part of a sheet's XML, each from its '<' up to the next '<' (its
    attributes, then any text it holds; an attribute's value may hold a '>')."""

    def __init__(self, data: Bytes, opens: Positions, length: int) -> None:
        import numpy as np

        self.data, self.opens = data, opens
        self.ends: Positions = np.append(opens[1:], length)  # where each tag's stretch ends

    def attribute(self, values: Positions, which: Positions) -> Positions:
        """Where the value of an attribute (``values``: :func:`_named`) of each tag ``which``
        (indices of tags) begins, whichever place of its tag it has; -1 where it has none."""
        import numpy as np

        found: Positions = np.full(len(which), -1, np.intp)
        if not len(which) or not len(values):
            return found
        starts, ends = self.opens[which], self.ends[which]
        where = values[np.minimum(np.searchsorted(values, starts), len(values) - 1)]
        inside = (where > starts) & (where < ends)
        found[inside] = where[inside]
        return found

    def spaced(self, which: Positions) -> bool:
        """Whether any of the tags ``which`` writes an attribute with a blank by its ``=``."""
        import numpy as np

        data = self.data
        equals = np.flatnonzero(data == 61)
        equals = equals[_blank(data[equals - 1]) | _blank(data[equals + 1])]
        if not len(equals) or not len(which):
            return False
        tag = np.searchsorted(self.opens, equals, side="right") - 1
        return bool(np.isin(tag, which).any())

    def text(self, second: Bytes, third: Bytes, cells: Positions, strings: SharedStrings) -> int:
        """Bytes of text the cells hold once read: what follows each ``<t>`` and ``<v>``
        (inline strings, numbers, formula results), and for a cell of a shared string
        (``t="s"``) that string, whose number its ``<v>`` gives (the longest of them when the
        number is not written plainly)."""
        import numpy as np

        data, opens = self.data, self.opens
        values = np.flatnonzero(((second == 116) | (second == 118)) & _ends_name(third))
        starts = opens[values] + 3  # '<t>' and '<v>'; '<t xml:space="preserve">' ...
        long = third[values] != 62
        if long.any():
            closes = np.flatnonzero(data == 62)
            after = np.minimum(np.searchsorted(closes, starts[long]), len(closes) - 1)
            starts[long] = closes[after] + 1 if len(closes) else self.ends[values[long]]
        text = int(np.maximum(self.ends[values] - starts, 0).sum())
        if not strings.count or not len(cells):
            return text
        kinds = self.attribute(_named(data, 116), cells)  # t="..."
        quote = data[kinds - 1]
        shared = cells[(kinds >= 0) & (data[kinds] == 115) & (data[kinds + 1] == quote)]
        if not len(shared):
            return text
        # The cell's value: its first plain <v> before the next cell, its digits, then '<'.
        plain_v = np.flatnonzero((second == 118) & (third == 62))
        after = np.searchsorted(plain_v, shared)
        v_at = plain_v[np.minimum(after, len(plain_v) - 1)] if len(plain_v) else shared
        next_cell = np.append(cells, len(opens))[np.searchsorted(cells, shared, side="right")]
        index, plain = _each_number(data, opens[v_at] + 3)
        plain &= (v_at > shared) & (v_at < next_cell) & (index < strings.count)
        lengths = strings.lengths
        assert lengths is not None
        return text + int(lengths[index[plain]].sum()) + int((~plain).sum()) * strings.longest


def _each_number(data: Bytes, starts: Positions) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:  # fmt: skip
    """The whole number written at each of ``starts`` (up to nine digits, then '<'), and
    whether one is."""
    import numpy as np

    value = np.zeros(len(starts), np.int64)
    going = np.ones(len(starts), np.bool_)
    digits = np.zeros(len(starts), np.int64)
    for i in range(10):
        digit = data[starts + i]
        going &= (digit >= 48) & (digit <= 57)
        if not going.any():
            break
        value = np.where(going, value * 10 + digit - 48, value)
        digits += going
    ended = data[starts + digits] == 60
    return value, (digits > 0) & (digits < 10) & ended


def _is_letter(values: Bytes) -> npt.NDArray[np.bool_]:
    letter: npt.NDArray[np.bool_] = (values >= 65) & (values <= 90)
    return letter


def _upper(values: Bytes) -> Bytes:
    """Letters as capitals (the workbook reader takes ``a1`` for ``A1``)."""
    import numpy as np

    lower = (values >= 97) & (values <= 122)
    upper: Bytes = np.where(lower, values - 32, values).astype(np.uint8)
    return upper


def _reach(data: Bytes, part: bytes, refs: Positions, scan: SheetScan) -> None:
    """The furthest column and row named by the cell references at ``refs`` (``A1`` ...
    ``XFD1048576``) into ``scan``."""
    import numpy as np

    if not len(refs):
        return
    one, two, three, four = data[refs], data[refs + 1], data[refs + 2], data[refs + 3]
    if ((one > 96) | (two > 96) | (three > 96) | (four > 96)).any():  # a1: read as A1
        one, two, three, four = _upper(one), _upper(two), _upper(three), _upper(four)
    letters = (
        _is_letter(one).astype(np.intp)
        + (_is_letter(one) & _is_letter(two))
        + (_is_letter(one) & _is_letter(two) & _is_letter(three))
    )
    column = one.astype(np.int64) - 64
    column = np.where(letters >= 2, column * 26 + two - 64, column)
    column = np.where(letters >= 3, column * 26 + three - 64, column)
    column = np.where(_is_letter(four) & (letters == 3), np.int64(1 << 40), column)
    row, row_at = _numbers(data, refs + letters)
    widest = int(np.argmax(column))
    if int(column[widest]) > scan.columns or row > scan.rows:
        start = int(refs[widest if int(column[widest]) > scan.columns else row_at])
        end = part.find(part[start - 1 : start], start, start + 24)  # its closing quote
        scan.far = part[start : end if end > 0 else start + 24].decode("ascii", "replace")
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


@dataclass
class SharedStrings:
    """A workbook's shared strings as their part says before the reader loads them: whether
    one may hold a NUL or more than FIELD_CHARS characters, and the bytes of text of each (the
    reader holds them all, and copies one into every cell that shows it)."""

    maybe_nul: bool = False
    maybe_long: bool = False
    lengths: npt.NDArray[np.int64] | None = None  # bytes of text of each, in order
    total: int = 0
    longest: int = 0

    @property
    def count(self) -> int:
        return 0 if self.lengths is None else len(self.lengths)


def scan_strings(stream: IO[bytes], source: str) -> SharedStrings:
    """A workbook's shared strings part read in chunks (see :class:`SharedStrings`); refused
    when their text alone is over :data:`SHEET_TEXT`, or one of them is megabytes long."""
    import numpy as np

    found = SharedStrings()
    lengths: list[npt.NDArray[np.int64]] = []
    limit = SHEET_TEXT.value
    carry = b""
    while True:
        chunk = stream.read(CHUNK)
        buffer = _unprefixed(carry + chunk if carry else chunk)
        cut = buffer.rfind(b"<si") if chunk else len(buffer)
        if chunk and cut <= 0:
            if len(buffer) > _CARRY_MAX:
                raise InputError(
                    FIELD_CHARS.message(
                        f"{source}, one shared string", f"more than {_CARRY_MAX:,} bytes"
                    )
                )
            carry = buffer
            continue
        part, carry = buffer[:cut], buffer[cut:]
        if b"\x00" in part or b"_x0000_" in part:
            found.maybe_nul = True
        _check_runs(np.flatnonzero(np.frombuffer(part, np.uint8) == 60), len(part), source)
        each = _item_lengths(part)
        lengths.append(each)
        found.total += int(each.sum())
        if found.total > limit:
            raise InputError(SHEET_TEXT.message(f"{source}, shared strings", f"more than {SHEET_TEXT.shown()}"))  # fmt: skip
        if not chunk:
            break
    found.lengths = np.concatenate(lengths) if lengths else np.zeros(0, np.int64)
    found.longest = int(found.lengths.max()) if len(found.lengths) else 0
    found.maybe_long = found.longest > FIELD_CHARS.value
    return found


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


def _item_lengths(part: bytes) -> npt.NDArray[np.int64]:
    """Bytes of text of each ``<si>`` item of a part of the shared strings (all that lies
    between its tags: its ``<t>`` runs, and any blank between tags)."""
    import numpy as np

    data: Bytes = np.frombuffer(part + _PAD, np.uint8)
    opens: Positions = np.flatnonzero(data[: len(part)] == 60)
    items = opens[(data[opens + 1] == 115) & (data[opens + 2] == 105) & _ends_name(data[opens + 3])]  # fmt: skip
    if not len(items):
        return np.zeros(0, np.int64)
    closes = np.flatnonzero(data[: len(part)] == 62)
    if not len(closes):
        return np.zeros(len(items), np.int64)
    ends = np.append(opens[1:], len(part))  # each tag's text runs to the next tag
    starts = closes[np.minimum(np.searchsorted(closes, opens), len(closes) - 1)] + 1
    text = np.maximum(ends - starts, 0)
    item = np.searchsorted(items, opens, side="right") - 1
    mine = item >= 0
    counted: npt.NDArray[np.int64] = np.bincount(
        item[mine], weights=text[mine], minlength=len(items)
    ).astype(np.int64)
    return counted
