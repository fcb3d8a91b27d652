"""The marketer's operations: import, show, list and compare editions of the price book, export."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pricing import results
from pricing.errors import InputError, NotFoundError
from pricing.operations import Session, lazy_module, operation

if TYPE_CHECKING:
    import pricing.results.pricebook  # noqa: F401  (what ``results.pricebook`` is)
    from pricing import api
else:
    api = lazy_module("pricing.api")  # the core's entry points: loaded when a method runs here

# The result types are named through ``results`` (pricing.results.pricebook, loaded on first
# use): a client validates a server's answer into them, and other commands never load them.


class PriceBooks(Session):
    """The marketer's methods: methods of :class:`pricing.Pricing`."""

    @operation("pricebook.import", files=("file",), needs="pricebook.import")
    def import_price_book(
        self,
        file: Path,
        *,
        effective: date | None = None,
        sheet: str | None = None,
        columns: list[str] | None = None,
        currency: str | None = None,
        skip_invalid: bool = False,
        dry_run: bool = False,
    ) -> results.pricebook.PriceBookImport:
        """Import a price book file (xlsx or csv) as a new edition; nothing stored on any error
        (with ``skip_invalid``, rows with errors of their own are left out and listed instead).

        The database is opened (and made, if new) only once the file reads without errors."""
        mapped = api.column_overrides(columns or [], kind="pricebook")
        result = api.import_price_book(
            lambda: self.store(create=True, dry_run=dry_run),
            file,
            effective_from=effective or date.today(),
            user=self.user,
            sheet=sheet,
            columns=mapped,
            currency=currency,
            skip_invalid=skip_invalid,
            dry_run=dry_run,
            progress=self.progress,
            meanwhile=lambda: self._while_parsing(dry_run),
        )
        return results.pricebook.PriceBookImport.of(result)

    def _while_parsing(self, dry_run: bool) -> None:
        """What the import does while the workbook is parsed (without the GIL): load pydantic
        and the result's models, and open the database when it is there at this version's
        schema (:func:`pricing.api.open_current`: its first opening costs a tenth of a second
        of the interpreter's time), else load its dialect. Who may import is still asked when
        the import first asks for the store, once the file reads."""
        import pricing.results.pricebook  # noqa: F401

        if self._store is None:
            early = None if dry_run else api.open_current(self.url)
            if early is None:
                api.load_dialect(self.url)
            self._store = early

    @operation("pricebook.show")
    def price_book(
        self,
        *,
        sku: str | None = None,
        as_of: date | None = None,
        family: str | None = None,
    ) -> results.pricebook.Item | results.pricebook.PriceBookView:
        """The standard prices in force: one SKU with its volume tiers, or the whole book (or one
        family of it)."""
        on = as_of or date.today()
        if sku is not None:
            try:
                shown = api.show_item(self.store(), sku, on=on)
            except NotFoundError:
                # Not a SKU: the items whose name (or SKU) has it in it, else the closest ones.
                found = api.search_items(self.store(), sku, on=on)
                if not found.matches:
                    raise NotFoundError(found.not_found()) from None
                view, items = found.view, found.matches
            else:
                return results.pricebook.Item.of(shown.edition, shown.item, shown.book)
        else:
            view = api.show_price_book(self.store(), on=on)
            items = list(view.book.items.values())
        if family:
            items = [i for i in items if (i.family or "").casefold() == family.casefold()]
        return results.pricebook.PriceBookView.of(view, items)

    @operation("pricebook.editions")
    def editions(self) -> list[results.pricebook.EditionListed]:
        """Every imported edition, oldest first, and which one is in force today."""
        return results.pricebook.EditionListed.listing(
            api.list_editions(self.store(), on=date.today())
        )

    @operation("pricebook.diff", needs_when=("impact", "report"))
    def diff(
        self,
        *,
        old: int | None = None,
        new: int | None = None,
        impact: bool = False,
        start: date | None = None,
        end: date | None = None,
        changed_only: bool = False,
        family: str | None = None,
        sort: str = "file",
    ) -> results.pricebook.PriceBookDiff | results.pricebook.PriceBookImpact:
        """What changed between two editions (default: the two newest); with ``impact``, the
        period's volume re-priced and open approvals judged again. ``changed_only``, ``family``
        and ``sort`` choose the SKUs listed."""
        api.check_diff_sort(sort)  # a wrong order is a wrong input, whoever asks
        compared = api.diff_editions(
            self.store(),
            old,
            new,
            impact=impact,
            start=start,
            end=end,
            user=self.user,
            changed_only=changed_only,
            family=family,
            sort=sort,
        )
        return results.pricebook.PriceBookDiff.of(compared)

    @operation("pricebook.export", output=True)
    def export_price_book(
        self,
        output: Path | None = None,
        *,
        as_of: date | None = None,
        edition: int | None = None,
    ) -> results.pricebook.PriceBookExport:
        """Write an edition (``edition``, else the one in force on ``as_of``) to a clean xlsx."""
        if output is None:
            raise InputError("name the workbook to write (.xlsx)")
        api.check_export_name(output)  # before the database is opened
        on = as_of or date.today()
        written = api.export_price_book(self.store(), output, on=on, edition=edition)
        return results.pricebook.PriceBookExport.of(written)
