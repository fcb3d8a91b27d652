"""How much of anything pricing will read: bounds a real file never meets and an attack always does.

Every importer reads files that somebody else made: a price book mailed by a supplier, a CRM
export, a request's lines file from a rep. A hostile or broken file (a gigabyte of nothing, a
zip bomb, three million copies of one row, a cell of a hundred megabytes, a TOML nested six
hundred deep) must end as a clear message, exit 2 and nothing stored, never as a machine out of
memory. Each bound is declared once here, with the environment variable that raises it where a
real business might outgrow it; :meth:`Limit.message` words the refusal the same way everywhere.

The defaults sit far above real files (an Excel sheet holds 1,048,576 rows and 16,384 columns,
a cell 32,767 characters; the largest price book seen has under 200,000 rows) and far below
what hurts a 2-core machine with a few GB.
"""

from __future__ import annotations

from dataclasses import dataclass

from pricing.errors import InputError

_MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limit:
    """One bound: its wording, its default and the variable that overrides it (None: fixed)."""

    what: str  # "file size", "rows", "lines per request": said as "more than {value} {what}"
    default: int
    env: str | None = None
    unit: str = ""  # "MB" for sizes given in megabytes; the value is then bytes
    scale: int = 1  # bytes per unit

    @property
    def value(self) -> int:
        """The bound in force: the environment's override (a positive whole number), else the default."""
        if self.env is None:
            return self.default
        from pricing.config import limit_override

        raw = limit_override(self.env)
        if not raw:
            return self.default
        try:
            number = int(raw.replace("_", ""))
        except ValueError:
            raise InputError(f"{self.env}={raw!r}: must be a whole number") from None
        if number <= 0:
            raise InputError(f"{self.env}={raw!r}: must be 1 or more")
        return number * self.scale

    def shown(self, value: int | None = None) -> str:
        """The bound as people read it: ``200 MB``, ``10,000 lines per request``."""
        amount = self.value if value is None else value
        if self.unit:
            return f"{amount / self.scale:,.0f} {self.unit}"
        return f"{amount:,} {self.what}"

    def message(self, source: str, found: str | None = None) -> str:
        """``deals.csv line 4: over the limit of 32,767 characters in one cell (found 131,073); ...``."""
        over = (
            f"{self.what} over the limit of " if self.unit else "over the limit of "
        ) + self.shown()
        seen = f" (found {found})" if found else ""
        if self.env:
            hint = f"; if it is genuine, raise the limit with {self.env}=N"
            if self.unit:
                hint += f" ({self.unit})"
        else:
            hint = "; no genuine file comes near this, so check what it is"
        return f"{source}: {over}{seen}{hint}; nothing was stored"

    def check(self, amount: int, source: str, found: str | None = None) -> None:
        """Raise the InputError of :meth:`message` when ``amount`` exceeds the bound."""
        if amount > self.value:
            raise InputError(self.message(source, found if found is not None else f"{amount:,}"))


# Files of each kind, before anything is parsed (the size on disk).
PRICE_BOOK_FILE = Limit("file size", 200 * _MB, "PRICING_MAX_PRICE_BOOK_MB", "MB", _MB)
DEALS_FILE = Limit("file size", 4096 * _MB, "PRICING_MAX_DEALS_MB", "MB", _MB)
LINES_FILE = Limit("file size", 20 * _MB, "PRICING_MAX_REQUEST_FILE_MB", "MB", _MB)
POLICY_FILE = Limit("file size", 1 * _MB, "PRICING_MAX_POLICY_MB", "MB", _MB)
FX_FILE = Limit("file size", 16 * _MB, "PRICING_MAX_FX_MB", "MB", _MB)  # the ECB's: 2 MB

# An xlsx is a zip: its directory says how large each part becomes; checked before parsing.
XLSX_UNCOMPRESSED = Limit(
    "uncompressed workbook content", 2048 * _MB, "PRICING_MAX_XLSX_MB", "MB", _MB
)
# A request's lines workbook: 10,000 lines are a few MB of XML; a rep's file is read by the
# team's server, and the reader holds a sheet's longest piece of text whole.
LINES_XLSX = Limit(
    "uncompressed workbook content", 100 * _MB, "PRICING_MAX_REQUEST_XLSX_MB", "MB", _MB
)
XLSX_RATIO = Limit("times compression of one part of the workbook", 100)  # Apache POI's bound
XLSX_RATIO_FROM = 1 * _MB  # parts smaller than this, uncompressed, are never a bomb
# The zip directory itself: read from the zip's end record before the directory is parsed
# (a directory of millions of empty parts would take gigabytes as Python objects). A catalogue
# with a picture per product has thousands of parts; nothing has a hundred thousand.
XLSX_PARTS = Limit("parts in one workbook", 100_000)
# The parts the reader reads whole before any sheet (the package's relationships, the workbook
# part and its relationships, the styles): a few KB to a few MB in any real workbook, and held
# in memory as they are parsed. Their nesting too (a workbook part is five levels deep).
XLSX_PART = Limit("part size", 64 * _MB, None, "MB", _MB)
XLSX_DEPTH = Limit("levels of nesting", 64)
# Text between two tags of a sheet or its shared strings: a cell holds at most 32,767
# characters (under 200 KB however written); the reader holds a string, a comment or an
# attribute whole, so a gigabyte of one is refused before it is read.
XML_RUN = Limit("text without a tag", 1 * _MB, None, "MB", _MB)

# The grid.
PRICE_BOOK_ROWS = Limit("rows", 250_000, "PRICING_MAX_ROWS")
DEALS_ROWS = Limit("lines", 1_100_000, "PRICING_MAX_DEAL_LINES")
FX_ROWS = Limit("rows of rates", 500_000, "PRICING_MAX_FX_ROWS")  # the ECB's since 1999: 7,126
REQUEST_LINES = Limit("lines per request", 10_000, "PRICING_MAX_REQUEST_LINES")
# A price book's volume tiers: by family, or for the SKUs that have their own (the importer
# holds them with the price sheet: a tier takes a kilobyte and more).
TIER_ROWS = Limit("rows of volume tiers", 20_000, "PRICING_MAX_TIERS")
COLUMNS = Limit("columns", 16_384)  # Excel's own bound
# A sheet is read as a full grid from A1 to its last used cell: a stray value far out makes it
# billions of cells. Counted over the sheets of one file an importer reads (a price sheet and
# its tiers are held at once). 200,000 rows of 12 columns.
CELLS = Limit("cells in one sheet", 2_500_000, "PRICING_MAX_CELLS")
# The text the cells hold once read (a workbook's shared string counted in every cell that
# shows it, as the reader copies it there, and once in the list of them), in characters (a
# workbook's: bytes of UTF-8), over the sheets of one file an importer reads.
SHEET_TEXT = Limit("text in one sheet", 24 * _MB, "PRICING_MAX_SHEET_TEXT_MB", "MB", _MB)
# The text of a deals file's columns that are read (all but those no field maps), in bytes.
DEALS_TEXT = Limit("text in the columns read", 80 * _MB, "PRICING_MAX_DEALS_TEXT_MB", "MB", _MB)
FIELD_CHARS = Limit("characters in one cell", 32_767)  # Excel's own bound
# A csv file is read in blocks of this size; one line must fit in a block (a line of 16,384
# columns of 60 characters does; a gigabyte without a line end does not).
CSV_LINE_BYTES = Limit("bytes in one line", 1024 * 1024)

# A policy file (a real one is a few KB: levels, limits, a few dozen rules, the team). Its
# strings name SKUs and families, which come from price book cells: the cell's bound holds.
# Each rule costs the rules engine a flag per deal line of a chunk (100,000 lines) when a
# load matches the history again: 2,000 rules took 480 MB and 10,000 took 1.4 GB.
POLICY_DEPTH = Limit("levels of nesting", 16)
POLICY_RULES = Limit("rules", 2_000, "PRICING_MAX_RULES")
POLICY_LEVELS = Limit("approval levels", 100)
POLICY_STRING = Limit("characters in one string", 32_767)

# The team server: a call's body, before any of it is parsed or saved. A call with files is an
# upload of what an importer reads (the largest importer's bound; each importer then applies
# its own); any other call is a few parameters.
UPLOAD = Limit("upload size", 4096 * _MB, "PRICING_MAX_UPLOAD_MB", "MB", _MB)
CALL_BODY = Limit("call size", 1 * _MB, None, "MB", _MB)

# Problems: each kind is listed up to this many, with their cells; the rest are counted.
PROBLEMS_PER_KIND = 20
# The SKUs of a deals file that match no price book: listed up to this many, the rest counted.
UNMATCHED_SKUS_LISTED = 1_000
# The rows of a price book that --skip-invalid leaves out: listed with their cells up to this
# many (in file order); their problems are all counted.
SKIPPED_ROWS_LISTED = 1_000
