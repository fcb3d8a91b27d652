"""Errors told apart by row, and the rows ``--skip-invalid`` leaves out.

An error of one row (a bad price, a duplicate SKU, a tier naming no SKU) leaves that row out
under --skip-invalid; an error of the whole file (no header, no price rows, bounds, the book's
currency) refuses the file whatever the options.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pricing.io.sheets import Sheet, cell_text, column_letter
from pricing.limits import SKIPPED_ROWS_LISTED
from pricing.pricebook.cells import is_empty, text_of
from pricing.problems import Problem, Problems, Severity

LEFT_OUT = "left out: "


@dataclass(frozen=True, slots=True)
class SkippedRow:
    """A row left out by --skip-invalid: where it is (``row`` as the spreadsheet numbers it;
    the line of a csv, whose ``sheet`` is None), its SKU, its non-empty cells under their
    headers, and what is wrong with it."""

    sheet: str | None
    row: int
    sku: str | None
    cells: dict[str, str]
    problems: list[str]


class RowErrors:
    """Errors found in a file, told apart: those of one row (a bad price, a duplicate SKU, a
    tier row naming no SKU), which --skip-invalid leaves out with their row, and those of the
    whole file (no header, no price rows, bounds, the book's currency), which it never does."""

    def __init__(self, keep_messages: bool) -> None:
        self.keep_messages = keep_messages  # only --skip-invalid lists them with their rows
        self.whole_file = 0
        self.rows: set[tuple[str | None, int]] = set()
        self.messages: dict[tuple[str | None, int], list[str]] = {}
        # Each sheet read: its header row and SKU column (to list a row left out).
        self.sheets: list[tuple[Sheet, int, int | None]] = []

    def row(self, sheet: Sheet, r: int, message: str) -> None:
        self.rows.add((sheet.name, r))
        if self.keep_messages:
            self.messages.setdefault((sheet.name, r), []).append(message)

    def rows_of(self, sheet: Sheet) -> set[int]:
        return {r for name, r in self.rows if name == sheet.name}


class CellProblems:
    """Where the price sheet's readers record a problem at a cell: an error counts against its
    row (that --skip-invalid may leave out) unless it is of the whole file or at or above the
    header row."""

    def __init__(self, sheet: Sheet, problems: Problems, errors: RowErrors) -> None:
        self.sheet, self.problems, self.errors = sheet, problems, errors
        self.header_row = -1  # until the header is found, every error is of the whole file

    def add(
        self,
        severity: Severity,
        row: int,
        col: int | None,
        value: Any,
        message: str,
        *,
        whole_file: bool = False,
    ) -> None:
        """Record a problem at a cell (only counted once its kind is listed in full)."""
        if severity == "error":
            if whole_file or row <= self.header_row:
                self.errors.whole_file += 1
            else:
                self.errors.row(self.sheet, row, message)
        if self.problems.only_counted(severity, message):
            return
        text = None if value is None else cell_text(value)
        self.problems.append(
            Problem(severity, message, value=text, **self.sheet.location(row, col))
        )


def skipped_rows(errors: RowErrors) -> list[SkippedRow]:
    """The first SKIPPED_ROWS_LISTED rows left out, each with its non-empty cells under the
    headers of its sheet (a column without a header under its letter)."""
    found: list[SkippedRow] = []
    for sheet, header_row, sku_col in errors.sheets:
        rows = sorted(errors.rows_of(sheet))
        if not rows:
            continue
        header = sheet.rows[header_row]
        names: list[str] = []
        for c in range(max(len(sheet.rows[r]) for r in rows)):
            title = text_of(header[c]) if c < len(header) else None
            names.append(title if title and title not in names else column_letter(c))
        for r in rows:
            if len(found) >= SKIPPED_ROWS_LISTED:
                return found
            row = sheet.rows[r]
            cells = {names[c]: cell_text(v) for c, v in enumerate(row) if not is_empty(v)}
            sku = text_of(row[sku_col]) if sku_col is not None and sku_col < len(row) else None
            number = r + 1
            said = errors.messages[sheet.name, r]
            found.append(SkippedRow(sheet.name, number, sku, cells, said))
    return found
