"""Spreadsheets and csv files as grids of cells with the coordinates people see.

Reading is done with python-calamine (fast, keeps text as text). Calamine gives cached formula
results but drops a formula cell that has no cached value, so the sheet's XML is scanned for such
cells: an importer must be able to say "D14 is a formula Excel never computed" instead of
treating the cell as empty.

Every file is read within the bounds of its importer (:class:`pricing.io.bounded.Bounds`): its
size before a byte is read, a workbook's zip directory before anything is decompressed, the
sheet's XML (in chunks) before it becomes a grid, a csv file's rows as they are read. A cell
holding a NUL (which no text field of a database takes) is a problem at its cell.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any

from pricing.errors import InputError
from pricing.files import open_regular
from pricing.io.bounded import Bounds, check_size, check_workbook
from pricing.io.package import Package, unreadable_part
from pricing.io.sheet_scan import CHUNK, SharedStrings, SheetScan, scan_sheet, scan_strings
from pricing.limits import CELLS, COLUMNS, FIELD_CHARS, SHEET_TEXT, XLSX_UNCOMPRESSED
from pricing.problems import Problem, Problems

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER_NORMALISE = re.compile(r"[^0-9a-z%]+")
# Bytes no text file holds, but for the tab, line breaks, form feed and escape (NUL aside).
_CONTROL_BYTES = bytes(b for b in range(1, 32) if b not in b"\t\n\r\x0c\x1b")
_NUL_MESSAGE = (
    "the cell holds a NUL character (shown as \\x00), which no text may hold; delete it "
    "(a broken export often leaves them) and import again"
)


@dataclass
class Sheet:
    """One sheet (or a whole csv file) as rows of raw cell values, 0-based; ``problems``: the
    cells that cannot be read as text at all (a NUL)."""

    file: str
    name: str | None  # None for csv files
    rows: list[list[Any]]
    uncached_formulas: set[tuple[int, int]] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)

    @property
    def is_csv(self) -> bool:
        return self.name is None

    def value(self, row: int, col: int) -> Any:
        cells = self.rows[row] if row < len(self.rows) else []
        return cells[col] if col < len(cells) else None

    def location(self, row: int, col: int | None = None) -> dict[str, Any]:
        """Keyword arguments for a Problem pointing at this cell (or row)."""
        cell = f"{column_letter(col)}{row + 1}" if col is not None else None
        if self.is_csv:
            return {"file": self.file, "line": row + 1, "cell": cell}
        return {"file": self.file, "sheet": self.name, "cell": cell or f"A{row + 1}"}

    def where(self, row: int, col: int) -> str:
        """A cell as people name it: ``prices.csv line 4, column C`` or ``prices.xlsx
        'Price Book'!C4``."""
        said = Problem("error", "", **self.location(row, col)).where
        return said if self.is_csv else f"{self.file} {said}"

    def check_cells(self, *, nul: bool, long: bool) -> None:
        """Look at each text cell (only when the file's bytes said one may need it): refuse a
        cell over FIELD_CHARS characters, and record each cell holding a NUL as a problem."""
        limit = FIELD_CHARS.value
        found = Problems(self.problems)
        for r, row in enumerate(self.rows):
            for c, value in enumerate(row):
                if value.__class__ is not str:
                    continue
                if long and len(value) > limit:
                    raise InputError(FIELD_CHARS.message(self.where(r, c), f"{len(value):,}"))
                if nul and "\x00" in value and not found.only_counted("error", _NUL_MESSAGE):
                    shown = value.replace("\x00", "\\x00")
                    found.append(Problem("error", _NUL_MESSAGE, value=shown, **self.location(r, c)))
        self.problems = found


@dataclass
class Workbook:
    """The sheets of a file, read lazily by name, within ``bounds`` (None: only the bounds
    every sheet has, its cells and columns)."""

    path: Path
    sheet_names: list[str]
    _book: Any = None
    _csv_sheet: Sheet | None = None
    bounds: Bounds | None = None
    _strings: SharedStrings = field(default_factory=SharedStrings)
    # Cells and text of the sheets read so far (the shared strings held once): the bounds on
    # cells and text are on all that a reader may hold at once (a price sheet and its tiers).
    _held: tuple[int, int] | None = None

    def sheet(
        self, name: str, bounds: Bounds | None = None, *, scanned: SheetScan | None = None
    ) -> Sheet:
        """The sheet ``name``, within ``bounds`` if given (a sheet of fewer rows than the
        workbook's others may have), else the workbook's. ``scanned`` is the sheet's
        :meth:`scan` within the same bounds, when the caller has made it already."""
        if self._csv_sheet is not None:
            return self._csv_sheet
        import python_calamine

        bounds = bounds or self.bounds
        scan = scanned or self._scan(name, bounds)
        cells, text = self._held or (0, self._strings.total)
        height, width = scan.extent()
        self._held = (cells + height * width, text + scan.text)
        try:
            rows = self._book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        except python_calamine.CalamineError as exc:
            raise _unreadable(self.path, exc) from None
        sheet = Sheet(self.path.name, name, rows, scan.formulas)
        allowed = bounds.rows_allowed if bounds else None
        if allowed is not None and len(rows) > allowed:  # a part the scan could not read
            assert bounds is not None
            raise InputError(
                bounds.rows.message(f"{self.path}, sheet {name!r}", f"{len(rows):,} rows")
            )
        nul = self._strings.maybe_nul or scan.maybe_nul
        long = self._strings.maybe_long or scan.maybe_long
        if nul or long:
            sheet.check_cells(nul=nul, long=long)
        return sheet

    def scan(self, name: str, bounds: Bounds | None = None) -> SheetScan | None:
        """The sheet's checks before it is parsed (:meth:`_scan`; None for a csv file, read
        already): bound by the interpreter, where the parse that follows is not (a caller
        may make them first, then parse on another thread while it does other work)."""
        if self._csv_sheet is not None:
            return None
        return self._scan(name, bounds or self.bounds)

    def _scan(self, name: str, bounds: Bounds | None) -> SheetScan:
        """The sheet's XML, the very part the reader will read, scanned within the bounds (and
        with the cells and text of the sheets read before it); a part that cannot be found or
        read is refused (never left to the reader unchecked)."""
        source = f"{self.path}, sheet {name!r}"
        try:
            with zipfile.ZipFile(self.path) as archive:
                part = Package.of(archive, str(self.path)).sheet(name)
                try:
                    with archive.open(part) as stream:
                        return scan_sheet(stream, source, bounds, self._strings, held=self._held)
                except (NotImplementedError, RuntimeError) as exc:
                    raise unreadable_part(str(self.path), part, exc) from None
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise _unreadable(self.path, exc) from None

    def find_sheet(self, wanted: Iterable[str]) -> str | None:
        """The first sheet whose loosely normalised name is one of ``wanted``."""
        names = {normalise_header(n): n for n in reversed(self.sheet_names)}
        for candidate in wanted:
            if normalise_header(candidate) in names:
                return names[normalise_header(candidate)]
        return None


def read_input(path: Path, limit: int | None = None) -> bytes:
    """The first ``limit`` bytes of a file the user named (all of it when None), or an
    InputError that says what is wrong with it: missing, not a regular file (a folder, a
    pipe, a device), unreadable, empty."""
    handle = open_regular(path)  # a pipe, a device or a folder: refused before it is opened
    try:
        with handle:
            data = handle.read() if limit is None else handle.read(limit)
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if not data:
        raise InputError(f"{path}: the file is empty")
    return data


def open_workbook(path: Path, bounds: Bounds | None = None) -> Workbook:
    """Open an xlsx/xlsm or csv file, deciding by content rather than by its name, within
    ``bounds`` (its size is checked before a byte is read; a csv file is read at once)."""
    if bounds is not None:
        check_size(path, bounds.size)
    head = read_input(path, 8)
    if head.startswith(_OLE_MAGIC):
        raise InputError(
            f"{path}: is an old Excel .xls or a password-protected workbook; "
            "open it in Excel or LibreOffice and save it as .xlsx (without a password)"
        )
    if head.startswith(_ZIP_MAGIC):
        return _open_xlsx(path, bounds)
    check_text(path, read_input(path, 64 * 1024), nul_in_cells=True)
    sheet = read_csv(path, bounds)
    return Workbook(path=path, sheet_names=[path.name], _csv_sheet=sheet, bounds=bounds)


# What a file that is neither a workbook nor text most often turns out to be, by its first bytes.
_KNOWN_BINARY = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip archive"), (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"), (b"{\\rtf", "an RTF document"), (b"\x7fELF", "a program"),
)  # fmt: skip


def check_text(path: Path, start: bytes, *, nul_in_cells: bool = False) -> None:
    """Refuse, as "not a spreadsheet", a file that is neither a workbook nor text (a PNG
    renamed .xlsx or .csv): a known binary signature, or NUL bytes (text has none, but for
    UTF-16, which starts with its byte-order mark).

    ``nul_in_cells``: the reader names each cell holding a NUL, so text with a few NULs and no
    other control bytes is text with bad cells, not a binary file."""
    kind = next((name for magic, name in _KNOWN_BINARY if start.startswith(magic)), None)
    utf16 = start.startswith((b"\xff\xfe", b"\xfe\xff"))
    sample = start[:4096]
    if kind is None and (utf16 or b"\x00" not in sample):
        return
    if kind is None and nul_in_cells and _text_with_nul(sample):
        return
    seen = f" (it looks like {kind})" if kind else ""
    raise InputError(
        f"{path}: not a spreadsheet: neither an xlsx workbook nor a csv text file{seen}; "
        "export the data from its program as .xlsx or .csv and import that"
    )


def _text_with_nul(sample: bytes) -> bool:
    """Text holding a few NULs: no other control bytes, and NULs rare (binary has both)."""
    controls = sum(sample.count(byte) for byte in _CONTROL_BYTES)
    return controls == 0 and sample.count(0) <= max(8, len(sample) // 100)


def _open_xlsx(path: Path, bounds: Bounds | None) -> Workbook:
    import python_calamine

    check_workbook(path, bounds.content if bounds is not None else XLSX_UNCOMPRESSED)
    strings = _shared_strings(path)
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise InputError(
            f"{path}: the workbook is password-protected; save a copy without one"
        ) from None
    except (python_calamine.CalamineError, OSError, ValueError) as exc:
        raise _unreadable(path, exc) from None
    if not book.sheet_names:
        raise InputError(f"{path}: the workbook has no sheets; save the data as .xlsx again")
    return Workbook(
        path=path, sheet_names=list(book.sheet_names), _book=book, bounds=bounds, _strings=strings
    )


def _unreadable(path: Path, exc: Exception) -> InputError:
    return InputError(
        f"{path}: is not a readable xlsx workbook ({exc}); "
        "open it in Excel or LibreOffice and save it again as .xlsx"
    )


def _shared_strings(path: Path) -> SharedStrings:
    """The workbook's shared strings as their parts say (whether one may hold a NUL or be too
    long for a cell, the text of each); every part the reader may take for them is scanned
    (a decoy must not hide the real one), each string counted at its longest in any of them;
    refused when their
    text is over the bound. The workbook's own parts are checked on the way
    (:class:`pricing.io.package.Package`)."""
    found = SharedStrings()
    try:
        with zipfile.ZipFile(path) as archive:
            for part in Package.of(archive, str(path)).shared_strings():
                try:
                    with archive.open(part) as stream:
                        strings = scan_strings(stream, f"{path}, part {part.filename!r}")
                except (NotImplementedError, RuntimeError) as exc:
                    raise unreadable_part(str(path), part, exc) from None
                found = _either(found, strings)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise _unreadable(path, exc) from None
    return found


def _either(one: SharedStrings, other: SharedStrings) -> SharedStrings:
    """Shared strings that may be either part's, whichever the reader takes: each string as
    long as it is in either (a decoy of many short strings must not make the real long ones
    count short), a NUL or an over-long string if either may hold one."""
    import numpy as np

    if one.lengths is None:
        return other
    if other.lengths is None:
        return one
    size = max(len(one.lengths), len(other.lengths))
    lengths = np.zeros(size, np.int64)
    for part in (one.lengths, other.lengths):
        lengths[: len(part)] = np.maximum(lengths[: len(part)], part)
    return SharedStrings(
        maybe_nul=one.maybe_nul or other.maybe_nul,
        maybe_long=one.maybe_long or other.maybe_long,
        lengths=lengths,
        total=int(lengths.sum()),
        longest=int(lengths.max()) if size else 0,
    )


def read_csv(path: Path, bounds: Bounds | None = None) -> Sheet:
    """A csv file in UTF-8 (with or without BOM) or Windows-1252, comma- or semicolon-separated,
    read row by row and no further than ``bounds`` allow (its columns, its cells)."""
    data = read_input(path, None if bounds is None else bounds.size.value + 1)
    if bounds is not None and len(data) > bounds.size.value:  # not a file: a pipe, a device
        raise InputError(bounds.size.message(str(path), f"more than {bounds.size.shown()}"))
    encoding, errors = text_encoding(data)
    delimiter = sniff_delimiter(data[:65536].decode(encoding, "replace"))
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors=errors, newline="")
    reader = csv.reader(stream, delimiter=delimiter)
    allowed = bounds.rows_allowed if bounds else None
    rows: list[list[Any]] = []
    cells = text = 0
    most_cells, most_text = CELLS.value, SHEET_TEXT.value
    try:
        while batch := list(
            islice(reader, 4096 if allowed is None else min(4096, allowed + 1 - len(rows)))
        ):
            widest = max(map(len, batch))
            if widest > COLUMNS.value:
                line = len(rows) + next(i for i, row in enumerate(batch) if len(row) == widest) + 1
                raise InputError(COLUMNS.message(f"{path.name} line {line}", f"{widest:,}"))
            rows.extend(batch)
            cells += sum(map(len, batch))
            if cells > most_cells:
                raise InputError(CELLS.message(str(path), f"more than {most_cells:,}"))
            text += sum(map(len, chain.from_iterable(batch)))
            if text > most_text:
                found = f"more than {SHEET_TEXT.shown()} by line {reader.line_num:,}"
                raise InputError(SHEET_TEXT.message(str(path), found))
            if allowed is not None and len(rows) > allowed:
                assert bounds is not None
                raise InputError(bounds.rows.message(str(path), f"more than {allowed:,} rows"))
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise InputError(
                _long_field(path, data, encoding, reader.line_num, delimiter)
            ) from None
        raise InputError(
            f"{path}: not a readable csv file (line {reader.line_num}: {exc})"
        ) from None
    sheet = Sheet(file=path.name, name=None, rows=rows)
    nul = encoding == "utf-16" or b"\x00" in data
    long = reader.line_num != len(rows) or _long_lines(data)
    if nul or long:
        sheet.check_cells(nul=nul, long=long)
    return sheet


def text_encoding(data: bytes) -> tuple[str, str]:
    """The codec of a text file and how to treat bytes it cannot decode: UTF-8 with a BOM,
    UTF-16 with one, UTF-8, else Windows-1252 (what Excel writes on Windows)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", "replace"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) and b"\x00" in data[:4096]:
        return "utf-16", "replace"
    if data.isascii():
        return "utf-8", "strict"
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), CHUNK):
            decoder.decode(view[start : start + CHUNK])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "cp1252", "replace"
    return "utf-8", "strict"


def _long_lines(data: bytes) -> bool:
    """Whether a line may hold a field over FIELD_CHARS characters: a line that long holds a
    whole aligned window of half that length without a line break (a cheap look at the bytes)."""
    window = (FIELD_CHARS.value + 1) // 2
    return any(
        b"\n" not in data[at : at + window] for at in range(0, len(data) - window + 1, window)
    )


def _long_field(path: Path, data: bytes, encoding: str, line: int, delimiter: str) -> str:
    """The refusal of a field too long for the csv reader, naming its line and (splitting the
    line at the separator, as an unquoted line reads) its column."""
    stream = io.TextIOWrapper(io.BytesIO(data), encoding=encoding, errors="replace", newline="")
    text = next(islice(stream, max(line - 1, 0), line), "").rstrip("\r\n")
    fields = text.split(delimiter)
    longest = max(range(len(fields)), key=lambda i: len(fields[i])) if fields else 0
    if not fields or len(fields[longest]) <= FIELD_CHARS.value:  # it began lines before
        where = f"{path.name} line {line}, a quoted value running over many lines (a quote never closed?)"
        return FIELD_CHARS.message(where, f"more than {csv.field_size_limit():,}")
    where = f"{path.name} line {line}, column {column_letter(longest)}"
    return FIELD_CHARS.message(where, f"{len(fields[longest]):,}")


def decode_text(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if b"\x00" in data[:4096]:
        for bom, codec in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
            if data.startswith(bom):
                return data[2:].decode(codec, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever splits the first lines most consistently."""
    sample = [line for line in text[:65536].splitlines()[:30] if line.strip()]
    if not sample:
        return ","
    best, best_score = ",", -1
    for candidate in (",", ";", "\t"):
        counts = [len(next(csv.reader([line], delimiter=candidate))) for line in sample]
        widest = max(counts)
        score = sum(1 for c in counts if c == widest) * (widest - 1)
        if score > best_score:
            best, best_score = candidate, score
    return best


def normalise_header(text: object) -> str:
    """Loose header form: case, spaces and punctuation do not matter; '#' and 'number' mean 'no'."""
    if text is None:
        return ""
    folded = str(text).casefold().replace("#", " no ").replace("number", " no ")
    return _HEADER_NORMALISE.sub(" ", folded).strip()


def column_letter(col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_index(ref: str) -> tuple[int, int]:
    """``"D14"`` -> ``(13, 3)``."""
    letters = "".join(ch for ch in ref if ch.isalpha())
    digits = ref[len(letters) :]
    col = 0
    for ch in letters.upper():
        col = col * 26 + (ord(ch) - 64)
    return int(digits) - 1, col - 1


def cell_text(value: Any) -> str:
    """A cell as the text a person sees (integral floats without '.0', dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    return str(value).strip()
