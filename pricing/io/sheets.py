"""Spreadsheets and csv files as grids of cells with the coordinates people see.

Reading is done with python-calamine (fast, keeps text as text). Calamine gives cached formula
results but drops a formula cell that has no cached value, so the sheet's XML is scanned for such
cells: an importer must be able to say "D14 is a formula Excel never computed" instead of
treating the cell as empty.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.etree import ElementTree

from pricing.errors import InputError

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HEADER_NORMALISE = re.compile(r"[^0-9a-z%]+")
_DIMENSION = re.compile(rb'<dimension\s+ref="([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)"')
_CELL_REF = re.compile(rb'<c\s+r="([A-Z]{1,3}[0-9]{1,7})"')
MAX_CELLS = 20_000_000  # a million rows of 20 columns
_UNCACHED_FORMULA = re.compile(
    rb'<c r="([A-Z]+[0-9]+)"[^>]*>\s*<f\b[^>]*?(?:/>|>[^<]*</f>)\s*(?:<v\s*/>|<v>\s*</v>)?\s*</c>'
)


@dataclass
class Sheet:
    """One sheet (or a whole csv file) as rows of raw cell values, 0-based."""

    file: str
    name: str | None  # None for csv files
    rows: list[list[Any]]
    uncached_formulas: set[tuple[int, int]] = field(default_factory=set)

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


@dataclass
class Workbook:
    """The sheets of a file, read lazily by name."""

    path: Path
    sheet_names: list[str]
    _book: Any = None
    _csv_sheet: Sheet | None = None

    def sheet(self, name: str) -> Sheet:
        if self._csv_sheet is not None:
            return self._csv_sheet
        from concurrent.futures import ThreadPoolExecutor

        xml = _check_extent(self.path, name)
        # The formula scan decompresses the sheet XML (unless the extent check already did)
        # while calamine parses it: both release the GIL, so they overlap.
        with ThreadPoolExecutor(1) as pool:
            formulas = pool.submit(_uncached_formulas, self.path, name, xml)
            rows = self._book.get_sheet_by_name(name).to_python(skip_empty_area=False)
            return Sheet(self.path.name, name, rows, formulas.result())

    def find_sheet(self, wanted: Iterable[str]) -> str | None:
        """The first sheet whose loosely normalised name is one of ``wanted``."""
        names = {normalise_header(n): n for n in reversed(self.sheet_names)}
        for candidate in wanted:
            if normalise_header(candidate) in names:
                return names[normalise_header(candidate)]
        return None


def read_input(path: Path, limit: int | None = None) -> bytes:
    """The first ``limit`` bytes of a file the user named (all of it when None), or an
    InputError that says what is wrong with it: missing, a folder, unreadable, empty."""
    try:
        with path.open("rb") as handle:
            data = handle.read() if limit is None else handle.read(limit)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a folder, not a file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror})") from None
    if not data:
        raise InputError(f"{path}: the file is empty")
    return data


def open_workbook(path: Path) -> Workbook:
    """Open an xlsx/xlsm/ods or csv file, deciding by content rather than by its name."""
    head = read_input(path, 8)
    if head.startswith(_OLE_MAGIC):
        raise InputError(
            f"{path}: is an old Excel .xls or a password-protected workbook; "
            "open it in Excel or LibreOffice and save it as .xlsx (without a password)"
        )
    if head.startswith(_ZIP_MAGIC):
        return _open_xlsx(path)
    check_text(path, read_input(path, 64 * 1024))
    return Workbook(path=path, sheet_names=[path.name], _csv_sheet=read_csv(path))


# What a file that is neither a workbook nor text most often turns out to be, by its first bytes.
_KNOWN_BINARY = (
    (b"\x89PNG", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"), (b"\x1f\x8b", "a gzip archive"), (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"), (b"{\\rtf", "an RTF document"), (b"\x7fELF", "a program"),
)  # fmt: skip


def check_text(path: Path, start: bytes) -> None:
    """Refuse, as "not a spreadsheet", a file that is neither a workbook nor text (a PNG
    renamed .xlsx or .csv): a known binary signature, or NUL bytes (text has none, but for
    UTF-16, which starts with its byte-order mark)."""
    kind = next((name for magic, name in _KNOWN_BINARY if start.startswith(magic)), None)
    utf16 = start.startswith((b"\xff\xfe", b"\xfe\xff"))
    if kind is None and (utf16 or b"\x00" not in start[:4096]):
        return
    seen = f" (it looks like {kind})" if kind else ""
    raise InputError(
        f"{path}: not a spreadsheet: neither an xlsx workbook nor a csv text file{seen}; "
        "export the data from its program as .xlsx or .csv and import that"
    )


def _open_xlsx(path: Path) -> Workbook:
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except python_calamine.PasswordError:
        raise InputError(
            f"{path}: the workbook is password-protected; save a copy without one"
        ) from None
    except (python_calamine.CalamineError, OSError, ValueError) as exc:
        raise InputError(
            f"{path}: is not a readable xlsx workbook ({exc}); "
            "open it in Excel or LibreOffice and save it again as .xlsx"
        ) from None
    return Workbook(path=path, sheet_names=list(book.sheet_names), _book=book)


def read_csv(path: Path) -> Sheet:
    """A csv file in UTF-8 (with or without BOM) or Windows-1252, comma- or semicolon-separated."""
    data = path.read_bytes()
    text = decode_text(data)
    dialect_delimiter = sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect_delimiter)
    try:
        rows: list[list[Any]] = [row for row in reader]
    except csv.Error as exc:
        raise InputError(
            f"{path}: not a readable csv file (line {reader.line_num}: {exc})"
        ) from None
    return Sheet(file=path.name, name=None, rows=rows)


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


def _uncached_formulas(
    path: Path, sheet_name: str, data: bytes | None = None
) -> set[tuple[int, int]]:
    """Cells holding a formula without a cached result, as (row, col), 0-based."""
    if data is None:
        data = _sheet_xml(path, sheet_name)
    if data is None:
        return set()
    if b"<f" not in data:
        return set()
    found = set()
    for match in _UNCACHED_FORMULA.finditer(data):
        found.add(cell_index(match.group(1).decode()))
    return found


def _sheet_xml(path: Path, sheet_name: str) -> bytes | None:
    """The decompressed XML of a sheet; None when it cannot be found (the reader will say why)."""
    try:
        with zipfile.ZipFile(path) as archive:
            member = _sheet_member(archive, sheet_name)
            return None if member is None else archive.read(member)
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return None


def _check_extent(path: Path, sheet_name: str) -> bytes | None:
    """Refuse, before it is read, a sheet whose cells would span more than MAX_CELLS.

    The reader holds a sheet as a full grid from its first to its last used cell: one stray
    value at XFD1048576 would make that 17 billion cells, and the process would die asking
    for the memory. The sheet's declared dimension is read first (a few bytes); only when it
    is missing or claims more than MAX_CELLS are the cells themselves scanned, since some
    writers declare far more than they hold. Returns the XML when it had to be read.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            member = _sheet_member(archive, sheet_name)
            if member is None:
                return None
            with archive.open(member) as stream:
                head = stream.read(8192)
    except (zipfile.BadZipFile, KeyError, OSError, ElementTree.ParseError):
        return None  # the reader says what is wrong with the file
    declared = _DIMENSION.search(head)
    if declared and _area(declared.group(1).decode()) <= MAX_CELLS:
        return None
    data = _sheet_xml(path, sheet_name)
    if data is None or _quick_area(data) <= MAX_CELLS:
        return data
    rows = cols = 0
    min_row = min_col = None
    far = ""
    for match in _CELL_REF.finditer(data):
        row, col = cell_index(match.group(1).decode())
        min_row = row if min_row is None else min(min_row, row)
        min_col = col if min_col is None else min(min_col, col)
        if row >= rows or col >= cols:
            far = match.group(1).decode()
        rows, cols = max(rows, row + 1), max(cols, col + 1)
    height, width = rows - (min_row or 0), cols - (min_col or 0)
    if height * width > MAX_CELLS:
        raise InputError(
            f"{path}, sheet {sheet_name!r}: something at {far} stretches the sheet to "
            f"{height:,} rows x {width:,} columns ({height * width:,} cells), too many to read. "
            "Delete the rows and columns beyond your table (or clear that cell) and save again"
        )
    return data


def _quick_area(data: bytes) -> int:
    """An upper bound of the cells, without looking at each: the last row's number times 26,
    702 or 16,384 columns, by whether any cell reference has one, two or three letters."""
    last = data.rfind(b'<row r="')
    if last < 0:
        return 0
    digits = re.match(rb"[0-9]+", data[last + 8 : last + 20])
    rows = int(digits.group()) if digits else 1_048_576
    if not re.search(rb'<c r="[A-Z]{2}', data):  # one scan for the common narrow sheet
        return rows * 26
    return rows * (16_384 if re.search(rb'<c r="[A-Z]{3}[0-9]', data) else 702)


def _area(ref: str) -> int:
    """Cells in a range like ``A1:XFD1048576`` (or a single cell)."""
    first, _, last = ref.partition(":")
    (r1, c1), (r2, c2) = cell_index(first), cell_index(last or first)
    return (r2 - r1 + 1) * (c2 - c1 + 1)


def _sheet_member(archive: zipfile.ZipFile, sheet_name: str) -> str | None:
    ns = {
        "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
        "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
    }
    workbook = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    rel_id = None
    for sheet in workbook.iterfind("m:sheets/m:sheet", ns):
        if sheet.get("name") == sheet_name:
            rel_id = sheet.get(f"{{{ns['r']}}}id")
    if rel_id is None:
        return None
    rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.iterfind("rel:Relationship", ns):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return str(PurePosixPath("xl") / target)
    return None


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
