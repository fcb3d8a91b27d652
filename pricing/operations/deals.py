"""The deals actually closed, brought in from the CRM or invoicing export."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pricing import results
from pricing.errors import InputError
from pricing.operations import Session, lazy_module, operation

if TYPE_CHECKING:
    from pricing import api
else:
    api = lazy_module("pricing.api")  # the core's entry points: loaded when a method runs here

# The result types are named through their package (``results.deals.X``, each module imported
# when first named): making the library object imports no pydantic (``request --check`` stays
# quick); a client resolves them when it validates an answer, a method when it answers.


class Deals(Session):
    """The deals closed, brought in: methods of :class:`pricing.Pricing`."""

    @operation("deals.import", files=("file",), needs="deals.import")
    def import_deals(
        self,
        file: Path | None = None,
        *,
        columns: list[str] | None = None,
        date_format: str | None = None,
        decimal: str | None = None,
        sheet: str | None = None,
        dry_run: bool = False,
        replace: int | None = None,
        force: bool = False,
        statuses: list[str] | None = None,
        all_statuses: bool = False,
    ) -> results.deals.DealsImported | results.deals.DealsRefused:
        """Import deal lines, each matched to the list and standard price in force on its date.

        A file with errors is refused: nothing is stored (not even a new database) and the answer
        lists its problems (:class:`DealsRefused`). ``force``: a replacement may remove far
        more lines than it adds. ``statuses``: keep only the lines of these statuses;
        ``all_statuses``: keep every line (by default a cancelled, void or lost one is left out)."""
        if file is None:
            raise InputError(": name the deals file (csv or xlsx)", field="file")
        mapped = api.column_overrides(columns or [], kind="deals")
        read = api.read_deals(
            file,
            columns=mapped,
            date_format=date_format,
            decimal=decimal,
            sheet=sheet,
            progress=self.progress,
            statuses=statuses,
            all_statuses=all_statuses,
            # The result's models (pydantic) load on another thread while the file is read,
            # not in front of the reading (after Arrow: not taking turns with its import).
            then_import=("pricing.results.deals",),
        )
        from pricing.results.deals import DealsImported, DealsRefused

        if read.lines is None or any(p.severity == "error" for p in read.problems):
            return DealsRefused.of(read)
        result = api.import_deals(
            self.store(create=True, dry_run=dry_run),
            read,
            user=self.user,
            dry_run=dry_run,
            replace=replace,
            force=force,
            progress=self.progress,
        )
        return DealsImported.of(read, result, dry_run=dry_run)

    @operation("deals.imports", needs="report")
    def deal_imports(self) -> list[results.deals.DealImport]:
        """Every deals import, oldest first: file, SHA-256, when, who, lines, mapping, dates."""
        from pricing.lines.history import listing
        from pricing.results.deals import deal_imports

        with self.store().read() as conn:
            return deal_imports(listing(conn))

    @operation("deals.export", output=True, needs="report")
    def export_deals(
        self, *, output: Path, start: date | None = None, end: date | None = None
    ) -> results.deals.DealsExported:
        """Write every stored deal line dated from ``start`` to ``end`` (``YYYY-MM-DD``, both
        included; default all) to ``output``, Parquet or csv by its suffix, with what matching
        and the policy decided of each (amounts as exact decimals)."""
        from pricing.analysis.export import export_deals
        from pricing.results.deals import DealsExported

        api.ordered(start, end)
        return DealsExported.of(export_deals(self.store(), output, start=start, end=end))

    @operation("deals.undo", needs="deals.import")
    def undo_import(self, *, number: int) -> results.deals.ImportUndone:
        """Take a deals import back, as if its file had never been imported."""
        from pricing.lines.service import undo
        from pricing.results.deals import ImportUndone

        with self.store().write() as conn:
            return ImportUndone.of(undo(conn, number, by=self.user))
