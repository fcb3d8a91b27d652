"""The price book's results: an import, an item and the book in force, the editions, two
editions compared (with the impact on last period's volume), an export.

Money is a ``Decimal`` rounded to the currency's minor unit (its JSON, ``str(d)``, is what the
documents printed), a percentage a ``Decimal`` to two places. Where one document's keys are
another's with more in front, a model names its bases last first: pydantic takes the fields of
the bases in reverse method-resolution order, so ``class Volume(Revenue, Sold)`` has ``Sold``'s
fields (``lines``, ``quantity``) before ``Revenue``'s, as the document has them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import ConfigDict, Field, field_validator

from pricing.money import PERCENT, round_money
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

    from pricing.analysis.impact import Impact as Estimate
    from pricing.analysis.impact import Volume as SoldVolume
    from pricing.api import BookView, EditionDiff, EditionListing, Export
    from pricing.pricebook.editions import ImportResult
    from pricing.pricebook.file import SkippedRow
    from pricing.pricebook.model import BookDiff, Edition, ItemChange, PriceBook, PriceItem

# The fields of a price book item that are money (a diff's ``fields`` carries them as such).
MONEY_FIELDS = ("list_price", "unit_cost", "floor_price")


def _money(amount: Decimal | None, currency: str) -> Decimal | None:
    return None if amount is None else round_money(amount, currency)


def _pct(pct: Decimal | None) -> Decimal | None:
    return None if pct is None else pct.quantize(PERCENT, rounding=ROUND_HALF_EVEN)


# Import ---------------------------------------------------------------------------------------


class LeftOut(Result):
    """A row ``--skip-invalid`` left out: where (``row`` as the spreadsheet numbers it; the
    line of a csv, whose ``sheet`` is None), its SKU, its cells under their headers, why."""

    sheet: str | None
    row: int
    sku: str | None
    cells: dict[str, str]
    problems: list[str]

    @classmethod
    def of(cls, row: SkippedRow) -> LeftOut:
        return cls.model_validate(row, from_attributes=True)  # its fields, by name


class PriceBookImport(Result):
    """``pricebook import``: the edition made (None: none, on a dry run, an error or the same
    content as the newest), counts, the diff's counts, the rows left out, the problems."""

    edition: int | None
    unchanged: bool
    dry_run: bool
    items: int
    tiers: int
    added: int
    removed: int
    changed: int
    unchanged_items: int
    tiers_changed: bool
    previous_edition: int | None
    effective_from: date
    source: str
    sheet: str | None
    currencies: list[str]
    skipped: list[LeftOut]
    problems: list[FoundProblem]
    problem_counts: list[ProblemCount]

    @classmethod
    def of(cls, result: ImportResult) -> PriceBookImport:
        diff = result.diff
        return cls(
            edition=result.edition,
            unchanged=result.unchanged,
            dry_run=result.dry_run,
            items=result.items,
            tiers=result.tiers,
            added=len(diff.added) if diff else 0,
            removed=len(diff.removed) if diff else 0,
            changed=len(diff.changed) if diff else 0,
            unchanged_items=diff.unchanged if diff else 0,
            tiers_changed=diff.tiers_changed if diff else False,
            previous_edition=result.previous,
            effective_from=result.effective_from,
            source=result.source,
            sheet=result.sheet,
            currencies=result.currencies,
            skipped=[LeftOut.of(r) for r in result.skipped],
            problems=problems(result.problems),
            problem_counts=problem_counts(result.problems),
        )

    def found(self, severity: Literal["error", "warning"]) -> int:
        """How many problems of a severity the import found, those only counted included."""
        return sum(c.count for c in self.problem_counts if c.severity == severity)


# The book in force ------------------------------------------------------------------------------


class EditionNamed(Result):
    """An edition: its number and from when it is in force (what a diff says of the two it
    compares, and what the views of an edition begin with)."""

    edition: int
    effective_from: date

    @classmethod
    def of_edition(cls, edition: Edition) -> EditionNamed:
        return cls(edition=edition.number, effective_from=edition.effective_from)


class ListedItem(Result):
    """An item as a diff lists it (added or removed): what every view of an item begins with."""

    sku: str
    name: str | None
    family: str | None
    list_price: Decimal
    currency: str

    @classmethod
    def of_item(cls, item: PriceItem) -> ListedItem:
        return cls(sku=item.sku, name=item.name, family=item.family,
                   list_price=round_money(item.list_price, item.currency),
                   currency=item.currency)  # fmt: skip


class TierPrice(Result):
    """A standard volume price of an item: from ``min_qty`` units, its price, the discount off
    list when the tier is one (None: a price), and whether it is the SKU's or its family's."""

    min_qty: int
    price: Decimal
    discount_pct: Decimal | None
    scope: Literal["sku", "family"]


class Item(ListedItem):
    """``pricebook show SKU``: one item as an edition prices it, with its tiers."""

    unit_cost: Decimal | None
    floor_price: Decimal | None
    status: str | None
    edition: int
    effective_from: date
    tiers: list[TierPrice]

    @classmethod
    def of(cls, edition: Edition, priced: PriceItem, book: PriceBook) -> Item:
        currency = priced.currency
        return cls(
            sku=priced.sku,
            name=priced.name,
            family=priced.family,
            list_price=round_money(priced.list_price, currency),
            currency=currency,
            unit_cost=_money(priced.unit_cost, currency),
            floor_price=_money(priced.floor_price, currency),
            status=priced.status,
            edition=edition.number,
            effective_from=edition.effective_from,
            tiers=[
                TierPrice(
                    min_qty=tier.min_qty,
                    price=round_money(tier.price_for(priced), currency),
                    discount_pct=_pct(tier.discount_pct),
                    scope="sku" if tier.sku else "family",
                )
                for tier in book.tiers_for(priced)
            ],
        )


class PriceBookView(EditionNamed):
    """``pricebook show``: the edition in force on ``as_of`` and the items shown (all of them,
    one family's, or those whose name has a text in it)."""

    as_of: date
    items: list[Item]

    @classmethod
    def of(cls, view: BookView, items: Sequence[PriceItem] | None = None) -> PriceBookView:
        shown = list(view.book.items.values()) if items is None else items
        return cls(
            edition=view.edition.number,
            effective_from=view.edition.effective_from,
            as_of=view.as_of,
            items=[Item.of(view.edition, i, view.book) for i in shown],
        )


class EditionListed(EditionNamed):
    """``pricebook editions``: one edition, where it came from, and whether it is in force."""

    items: int
    source: str
    imported_at: datetime
    imported_by: str
    in_force: bool

    @classmethod
    def listing(cls, listing: EditionListing) -> list[EditionListed]:
        """Every edition, oldest first, and which one is in force."""
        current = listing.in_force
        return [
            cls(
                edition=e.number,
                effective_from=e.effective_from,
                items=e.items,
                source=e.source,
                imported_at=e.imported_at,
                imported_by=e.imported_by,
                in_force=current is not None and e.number == current.number,
            )
            for e in listing.editions
        ]


# Two editions compared --------------------------------------------------------------------------


class FieldChange(Result):
    """One field of an item that changed: before and after (money as a Decimal)."""

    old: Decimal | str | None
    new: Decimal | str | None


class ChangedItem(Result):
    """An item both editions list whose price or fields changed: the price move in % (None:
    it did not move, or the currency changed) and each field changed (``fields``: name -> old
    and new)."""

    sku: str
    name: str | None
    currency: str
    old_price: Decimal
    new_price: Decimal
    change_pct: Decimal | None
    fields: dict[str, FieldChange]

    @field_validator("fields", mode="before")
    @classmethod
    def _money_fields(cls, fields: Any) -> Any:
        """Money fields read back from JSON (text) are amounts again, as they were made."""
        if not isinstance(fields, dict):
            return fields
        return {
            name: {k: Decimal(v) if isinstance(v, str) else v for k, v in change.items()}
            if name in MONEY_FIELDS and isinstance(change, dict)
            else change
            for name, change in fields.items()
        }

    @classmethod
    def of(cls, change: ItemChange) -> ChangedItem:
        old, new = change.old, change.new

        def value(item: PriceItem, field: str) -> Decimal | str | None:
            plain: Decimal | str | None = getattr(item, field)
            return round_money(plain, item.currency) if isinstance(plain, Decimal) else plain

        return cls(
            sku=new.sku,
            name=new.name,
            currency=new.currency,
            old_price=round_money(old.list_price, old.currency),
            new_price=round_money(new.list_price, new.currency),
            change_pct=_pct(change.price_change_pct),
            fields={f: FieldChange(old=value(old, f), new=value(new, f)) for f in change.fields},
        )


def diff_summary(old: Edition, new: Edition, diff: BookDiff) -> str:
    """Two editions compared, in one sentence (the diff's ``summary``)."""
    return (
        f"Edition {old.number} (effective {old.effective_from.isoformat()}) -> edition "
        f"{new.number} (effective {new.effective_from.isoformat()}): {len(diff.added)} added, "
        f"{len(diff.removed)} removed, {len(diff.changed)} changed, {diff.unchanged} unchanged"
        + ("; volume tiers changed" if diff.tiers_changed else "")
    )


class PriceBookDiff(Result):
    """``pricebook diff``: added, removed and changed items (those asked to be listed), and the
    whole diff's counts of unchanged items and whether the volume tiers changed."""

    old: EditionNamed
    new: EditionNamed
    summary: str
    added: list[ListedItem]
    removed: list[ListedItem]
    changed: list[ChangedItem]
    unchanged: int
    tiers_changed: bool

    @classmethod
    def of(cls, compared: EditionDiff) -> PriceBookDiff | PriceBookImpact:
        """The diff, with its impact when it was estimated."""
        old, new, diff = compared.old, compared.new, compared.diff
        shown = compared.listed or diff
        listed = cls(
            old=EditionNamed.of_edition(old),
            new=EditionNamed.of_edition(new),
            summary=diff_summary(old, new, diff),
            added=[ListedItem.of_item(i) for i in shown.added],
            removed=[ListedItem.of_item(i) for i in shown.removed],
            changed=[ChangedItem.of(c) for c in shown.changed],
            unchanged=diff.unchanged,
            tiers_changed=diff.tiers_changed,
        )
        if compared.impact is None:
            return listed
        impact = Impact.of(compared.impact, compared.currency)
        return PriceBookImpact.model_validate({**dict(listed), "impact": impact})


# The impact of a new edition on last period's volume ---------------------------------------------


def _change(old: Decimal, new: Decimal) -> Decimal | None:
    return _pct((new - old) / old * 100) if old else None


class Sold(Result):
    """Sold deal lines: how many, and their quantity (whole, else a Decimal)."""

    lines: int
    quantity: int | Decimal

    @staticmethod
    def quantity_of(v: SoldVolume) -> int | Decimal:
        q = v.quantity
        return int(q) if q == q.to_integral_value() else q


class SoldAtOld(Sold):
    """The volume of SKUs only the old edition lists, at its prices."""

    list_revenue_old: Decimal

    @classmethod
    def of(cls, v: SoldVolume, currency: str) -> SoldAtOld:
        return cls(lines=v.lines, quantity=cls.quantity_of(v),
                   list_revenue_old=round_money(v.old, currency))  # fmt: skip


class SoldAtNew(Sold):
    """The volume of SKUs only the new edition lists, at the new prices."""

    list_revenue_new: Decimal

    @classmethod
    def of(cls, v: SoldVolume, currency: str) -> SoldAtNew:
        return cls(lines=v.lines, quantity=cls.quantity_of(v),
                   list_revenue_new=round_money(v.new, currency))  # fmt: skip


class Revenue(Result):
    """List revenue at the old and the new edition's prices, the change and the change in %
    (None when there was no old revenue)."""

    list_revenue_old: Decimal
    list_revenue_new: Decimal
    change: Decimal
    change_pct: Decimal | None

    @staticmethod
    def between(old: Decimal, new: Decimal, currency: str) -> dict[str, Any]:
        return {
            "list_revenue_old": round_money(old, currency),
            "list_revenue_new": round_money(new, currency),
            "change": round_money(new - old, currency),
            "change_pct": _change(old, new),
        }


class Family(Result):
    """What a per-family entry has before its figures: the family."""

    family: str


class FamilyRevenue(Revenue, Family):
    """One family's list revenue, old and new (``family`` first)."""


class Volume(Revenue, Sold):
    """Sold lines of SKUs both editions list: how many, their quantity, their list revenue."""

    @staticmethod
    def figures(v: SoldVolume, currency: str) -> dict[str, Any]:
        return {"lines": v.lines, "quantity": Sold.quantity_of(v),
                **Revenue.between(v.old, v.new, currency)}  # fmt: skip


class FamilyVolume(Volume, Family):
    """One family's price move on SKUs both editions list (``family`` first)."""


class PriceChanges(Volume):
    """The price move itself (SKUs both editions list, the headline), in total and per family,
    the largest fall first."""

    families: list[FamilyVolume]


class AffectedLine(Result):
    """A line of an open approved request that the new edition would not hold."""

    request: str
    sku: str
    price: Decimal


class NoLongerListed(AffectedLine):
    """A line whose SKU the new edition no longer lists."""

    why: str


class OutOfPolicy(AffectedLine):
    """A line the new edition's standard price would reject or need a higher level for."""

    new_standard: Decimal
    why: str


class Impact(Result):
    """``pricebook diff --impact``: the period's volume re-priced (per family and in total), the
    price move apart from the volume of SKUs added and removed, and the open approvals the new
    edition would not hold. ``from``/``to`` (``start``/``end`` here): the period."""

    model_config = ConfigDict(serialize_by_alias=True, validate_by_name=True)

    start: date | None = Field(validation_alias="from", serialization_alias="from")
    end: date | None = Field(validation_alias="to", serialization_alias="to")
    lines: int
    families: list[FamilyRevenue]
    total: Revenue
    lines_no_longer_listed: int
    lines_not_in_old_edition: int
    price_changes: PriceChanges
    removed: SoldAtOld
    added: SoldAtNew
    in_neither: Sold
    open_approved_requests: int
    requests_affected: list[NoLongerListed | OutOfPolicy]

    @classmethod
    def of(cls, estimate: Estimate, currency: str) -> Impact:
        def affected(a: dict[str, Any]) -> NoLongerListed | OutOfPolicy:
            line = {k: round_money(v, currency) if isinstance(v, Decimal) else v
                    for k, v in a.items()}  # fmt: skip
            if "new_standard" in line:
                return OutOfPolicy.model_validate(line)
            return NoLongerListed.model_validate(line)

        neither = estimate.neither
        by_move = sorted(estimate.changes.items(), key=lambda kv: kv[1].new - kv[1].old)
        return cls(
            start=estimate.start,
            end=estimate.end,
            lines=estimate.lines,
            families=[
                FamilyRevenue(family=f, **Revenue.between(o, n, currency))
                for f, o, n in estimate.families
            ],
            total=Revenue(**Revenue.between(estimate.total_old, estimate.total_new, currency)),
            lines_no_longer_listed=estimate.missing_lines,
            lines_not_in_old_edition=estimate.new_only_lines,
            price_changes=PriceChanges(
                **Volume.figures(estimate.price_changes, currency),
                families=[
                    FamilyVolume(family=family, **Volume.figures(v, currency))
                    for family, v in by_move
                ],
            ),
            removed=SoldAtOld.of(estimate.removed, currency),
            added=SoldAtNew.of(estimate.added, currency),
            in_neither=Sold(lines=neither.lines, quantity=Sold.quantity_of(neither)),
            open_approved_requests=estimate.open_requests,
            requests_affected=[affected(a) for a in estimate.affected],
        )


class PriceBookImpact(PriceBookDiff):
    """``pricebook diff --impact``: the diff and the impact estimated."""

    impact: Impact


# Export -------------------------------------------------------------------------------------------


class PriceBookExport(Result):
    """``pricebook export``: the workbook written (as named) and what it holds."""

    file: Written
    edition: int
    items: int
    tiers: int
    effective_from: date

    @classmethod
    def of(cls, written: Export) -> PriceBookExport:
        return cls(file=str(written.file), edition=written.edition.number,
                   items=written.items, tiers=written.tiers,
                   effective_from=written.edition.effective_from)  # fmt: skip
