"""The sheet scan: a sheet's XML (and the shared strings it shows) read in chunks of a megabyte
before the workbook reader turns it into a grid: how far its cells reach (the grid's rows and
columns), which formulas have no cached value, how much text the cells hold, and whether any
cell may hold a NUL or more text than a cell can (then each cell is looked at once read).

It stands apart from the checks before decompression (:mod:`pricing.io.bounded`) and from
finding the part (:mod:`pricing.io.package`) because it reads the bytes themselves, with numpy,
a handful of vector operations per megabyte, so that a genuine 100,000-row book pays little
for it: the most intricate code of bounded reading, kept in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from pricing.errors import InputError
from pricing.io.bounded import Bounds
from pricing.limits import CELLS, COLUMNS, FIELD_CHARS, SHEET_TEXT, XML_RUN

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
    value, digits = _digits(data, starts)
    ended = data[starts + digits] == 60
    return value, (digits > 0) & (digits < 10) & ended


def _digits(data: Bytes, starts: Positions) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:  # fmt: skip
    """The whole number of up to ten digits written at each of ``starts``, and how many digits
    it has (0: none there; 10: ten or more, the number cut there)."""
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
    return value, digits


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

    value, digits = _digits(data, starts)
    value = np.where(digits == 10, np.int64(10**9), value)
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
