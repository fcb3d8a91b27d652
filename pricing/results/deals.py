"""The results of the deals operations: an import (or a file refused), the imports listed, one
taken back."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Literal

from pydantic import ConfigDict, Field

from pricing.results.common import (
    FoundProblem,
    ProblemCount,
    Result,
    Written,
    problem_counts,
    problems,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pricing.analysis.export import Exported
    from pricing.lines.history import ImportListing, Undone
    from pricing.lines.reader import DealsFile
    from pricing.lines.service import DealsImport


class ImportUndone(Result):
    """``deals undo``: the import taken back, its lines removed, and those kept because a
    later import held them too."""

    id: int
    source: str
    removed: int
    kept: int

    @classmethod
    def of(cls, undone: Undone) -> ImportUndone:
        return cls.model_validate(undone, from_attributes=True)  # its fields, by name


class Conflict(Result):
    """Why a file was refused: the earlier import that holds its sales (``import``), what it
    would count twice, and the ``--replace`` hint when that import covers the file."""

    # "import" is a Python keyword: the field has its key as alias, written and read by it.
    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    earlier: int | None = Field(validation_alias="import", serialization_alias="import")
    reason: str
    hint: str | None


class Shrink(Result):
    """A replacement that removes far more lines than it adds: import ``import`` loses
    ``removed`` lines, the file adds ``added``; stored only when ``forced``."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    replaced: int = Field(validation_alias="import", serialization_alias="import")
    removed: int
    added: int
    forced: bool


class UnmatchedSku(Result):
    """A SKU with no list price on its lines' dates, and the first date it was sold on."""

    sku: str
    first_date: date


class DealsRefused(Result):
    """``deals import`` of a file with errors: nothing imported, and its problems (each kind
    listed up to limits.PROBLEMS_PER_KIND times; ``problem_counts`` says how many in all).
    ``lines`` counts those left out by their status too."""

    file: str
    lines: int
    added: int
    already_present: int
    unmatched: int
    skipped_by_status: dict[str, int]
    columns: dict[str, str]
    problems: list[FoundProblem]
    problem_counts: list[ProblemCount]

    @classmethod
    def of(cls, read: DealsFile) -> DealsRefused:
        return cls(
            file=read.name,
            lines=(0 if read.lines is None else len(read.lines))
            + sum(read.skipped_by_status.values()),
            added=0,
            already_present=0,
            unmatched=0,
            skipped_by_status=read.skipped_by_status,
            columns=read.columns,
            problems=problems(read.problems),
            problem_counts=problem_counts(read.problems),
        )


class DealsImported(Result):
    """``deals import``: lines read, added, already present, unmatched, left out by their
    status (``skipped_by_status``: status -> lines; ``lines`` counts them); columns (field ->
    header), notes, problems; the import recorded (``id``), the one already holding this very
    file (``already_imported_as``), the one replaced, and why the file was refused
    (``conflict``: the earlier import and the ``--replace`` hint)."""

    id: int | None
    file: str
    already_imported_as: int | None
    replaced: ImportUndone | None
    conflict: Conflict | None
    shrink: Shrink | None
    sha256: str | None
    date_format: str | None
    decimal: str | None
    lines: int
    added: int
    already_present: int
    unmatched: int
    unmatched_skus: list[UnmatchedSku]
    unmatched_sku_count: int
    skipped_by_status: dict[str, int]
    dry_run: bool
    columns: dict[str, str]
    notes: list[str]
    problems: list[FoundProblem]
    problem_counts: list[ProblemCount]

    @classmethod
    def of(cls, read: DealsFile, result: DealsImport, *, dry_run: bool) -> DealsImported:
        conflict, shrink = result.conflict, result.shrink
        return cls(
            id=result.import_id,
            file=read.name,
            already_imported_as=result.already_imported_as,
            replaced=ImportUndone.of(result.replaced) if result.replaced else None,
            conflict=Conflict(
                earlier=conflict.earlier,
                reason=conflict.reason,
                hint=f"--replace {conflict.earlier}"
                if conflict.earlier and conflict.covers
                else None,
            )
            if conflict
            else None,
            shrink=Shrink(
                replaced=shrink.replaced,
                removed=shrink.removed,
                added=shrink.added,
                forced=result.forced,
            )
            if shrink
            else None,
            sha256=read.sha256,
            date_format=read.date_format,
            decimal=read.decimal,
            lines=result.lines,
            added=result.added,
            already_present=result.already_present,
            unmatched=result.unmatched,
            unmatched_skus=[
                UnmatchedSku(sku=sku, first_date=date.fromisoformat(first))
                for sku, first in result.unmatched_skus
            ],
            unmatched_sku_count=result.unmatched_sku_count,
            skipped_by_status=result.skipped_by_status,
            dry_run=dry_run,
            columns=read.columns,
            notes=read.notes,
            problems=problems(read.problems),
            problem_counts=problem_counts(read.problems),
        )


class DealImport(Result):
    """One deals import as ``deals imports`` lists it: id, file, SHA-256, when, who, lines,
    added, its lines' dates, the mapping and date format it was read with (None for imports
    recorded before these were kept), and the lines it left out by their status
    (``skipped_by_status``: status -> lines; None when the file had no status column)."""

    id: int
    source: str
    sha256: str | None
    imported_at: datetime
    imported_by: str
    lines: int
    added: int
    first_date: date | None
    last_date: date | None
    columns: dict[str, str] | None
    date_format: str | None
    decimal: str | None
    skipped_by_status: dict[str, int] | None

    @classmethod
    def of(cls, listed: ImportListing) -> DealImport:
        return cls.model_validate(listed, from_attributes=True)  # its fields, by name


def deal_imports(found: Sequence[ImportListing]) -> list[DealImport]:
    """``deals imports``: every import, oldest first."""
    return [DealImport.of(i) for i in found]


class DealsExported(Result):
    """``deals export``: the file written (``file``), its ``format`` (parquet or csv), the
    lines in it, the period asked for (None: open) and its columns, in file order."""

    file: Written
    format: Literal["parquet", "csv"]
    lines: int
    start: date | None
    end: date | None
    columns: list[str]

    @classmethod
    def of(cls, exported: Exported) -> DealsExported:
        return cls(
            file=str(exported.path), format=exported.format, lines=exported.lines,
            start=exported.start, end=exported.end, columns=list(exported.columns),
        )  # fmt: skip
