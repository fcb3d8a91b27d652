"""``pricing pricebook …``: the marketer's commands."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from pricing.cli.common import (
    as_date,
    column_option,
    date_option,
    echo_problems,
    emit_json,
    exit_with,
    json_option,
    print_table,
    progress,
    settings,
)

if TYPE_CHECKING:
    from pricing.analysis.impact import Impact
    from pricing.pricebook.editions import ImportResult
    from pricing.pricebook.model import PriceBook, PriceItem


@click.group()
def pricebook() -> None:
    """Import, inspect, compare and export the standard price book (marketing's list prices)."""


@pricebook.command(
    "import",
    epilog="""
\b
Examples:
  pricing pricebook import price-book-2026.xlsx --effective 2026-01-01
  pricing pricebook import prices.csv --currency EUR --dry-run
  pricing pricebook import alko.xlsx --column sku=Numero --column list_price=Hinta \\
      --column name=Nimi --column family=Tyyppi --currency EUR
""",
)
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--sheet",
    metavar="NAME",
    help='Sheet to read (default: one named like "Price Book"/"Prices", else the first).',
)
@date_option("--effective", help="Date the edition takes effect (default: today).")
@column_option(
    ["sku", "name", "family", "list_price", "unit_cost", "currency", "floor_price", "status"],
    "sku=Numero",
)
@click.option(
    "--currency",
    metavar="CODE",
    help="Currency of a book without a Currency column (default: the policy's, else USD).",
)
@click.option(
    "--dry-run", is_flag=True, help="Read and compare, report what would happen, store nothing."
)
@json_option
def import_(
    file: Path,
    sheet: str | None,
    effective: datetime | None,
    columns: tuple[str, ...],
    currency: str | None,
    dry_run: bool,
) -> None:
    """Import FILE (xlsx or csv) as a new edition of the price book.

    The header row is found in the first 30 rows and columns are matched loosely
    (SKU / Item # / Part Number, List Price / Price / MSRP, Family / Category, Cost, ...).
    An optional "Tiers" sheet gives standard volume pricing. Every problem is listed with its
    cell; nothing is stored while any error stands (exit 2). Importing the same content as the
    newest edition makes no edition ("unchanged").
    """
    from pricing import api, documents

    cfg = settings()
    mapped = api.column_overrides(columns, kind="pricebook")
    with progress(f"Reading {file.name}") as update:
        result = api.import_price_book(
            lambda: cfg.store(create=True),
            file,
            effective_from=as_date(effective),
            user=cfg.acting_user(),
            sheet=sheet,
            columns=mapped,
            currency=currency,
            dry_run=dry_run,
            progress=update,
        )
    document = documents.price_book_import(result)
    ctx = click.get_current_context()
    if result.failed:
        if not cfg.json:
            echo_problems(result.problems)
        errors = sum(1 for p in result.problems if p.severity == "error")
        exit_with(
            ctx,
            f"{file.name}: nothing imported: {errors} error(s) above; fix them and import again",
            document=document,
        )
    if cfg.json:
        emit_json(document)
        return
    echo_problems(result.problems)
    click.echo(_import_summary(result))


def _import_summary(result: ImportResult) -> str:
    diff = result.diff
    assert diff is not None
    where = f"{result.source}" + (f", sheet {result.sheet!r}" if result.sheet else "")
    counts = f"{result.items} items, {result.tiers} tiers"
    warnings = sum(1 for p in result.problems if p.severity == "warning")
    tail = f"; {warnings} warning(s) above" if warnings else ""
    if result.unchanged:
        return (
            f"Unchanged: {where} has the same content as edition {result.previous} "
            f"({counts}); no edition made{tail}."
        )
    change = (
        f"{len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed, "
        f"{diff.unchanged} unchanged"
        + (", tiers changed" if diff.tiers_changed and result.previous else "")
        + (f" against edition {result.previous}" if result.previous else "")
    )
    if result.dry_run:
        return (
            f"Dry run: {where} would become a new edition effective "
            f"{result.effective_from.isoformat()}: {counts} ({change}); nothing stored{tail}."
        )
    return (
        f"Imported edition {result.edition}, effective {result.effective_from.isoformat()}, "
        f"from {where}: {counts} ({change}){tail}."
    )


@pricebook.command(
    "show",
    epilog="""
\b
Examples:
  pricing pricebook show                    # every item in force today
  pricing pricebook show HW-100 --as-of 2027-01-01
  pricing pricebook show HW-100 --json
""",
)
@click.argument("sku", required=False)
@date_option("--as-of", help="Show the prices in force on this date (default: today).")
@click.option("--family", metavar="NAME", help="Only items of this family (case does not matter).")
@json_option
def show(sku: str | None, as_of: datetime | None, family: str | None) -> None:
    """Show the standard prices in force: one SKU with its volume tiers, or the whole book."""
    from pricing import api, documents

    cfg = settings()
    on = as_date(as_of)
    if sku is not None:
        shown = api.show_item(cfg.store(), sku, on=on)
        document = documents.item(shown.edition, shown.item, shown.book)
        if cfg.json:
            emit_json(document)
            return
        _print_item(document, on)
        return
    view = api.show_price_book(cfg.store(), on=on)
    edition, book = view.edition, view.book
    items = list(book.items.values())
    if family:
        items = [i for i in items if (i.family or "").casefold() == family.casefold()]
    if cfg.json:
        emit_json(documents.price_book(view, items))
        return
    from pricing.money import display_money

    print_table(
        ["SKU", "Name", "Family", "List price", "Cur", "Unit cost", "Floor", "Tiers", "Status"],
        [
            (
                i.sku,
                i.name,
                i.family,
                display_money(i.list_price, i.currency),
                i.currency,
                display_money(i.unit_cost, i.currency),
                display_money(i.floor_price, i.currency),
                _tiers_text(book, i),
                i.status,
            )
            for i in items
        ],
        title=f"Edition {edition.number}, effective {edition.effective_from.isoformat()} "
        f"(in force on {on.isoformat()}): {len(items)} items",
        right=["List price", "Unit cost", "Floor"],
    )


def _tiers_text(book: PriceBook, item: PriceItem) -> str:
    from pricing.money import display_money

    return ", ".join(
        f"{t.min_qty}+: {display_money(t.price_for(item), item.currency)}"
        for t in book.tiers_for(item)
    )


def _print_item(document: dict[str, Any], on: date) -> None:
    rows = [
        ("SKU", document["sku"]),
        ("Name", document["name"]),
        ("Family", document["family"]),
        ("List price", f"{document['list_price']} {document['currency']}"),
        ("Unit cost", document["unit_cost"]),
        ("Floor price", document["floor_price"]),
        ("Status", document["status"]),
        ("Edition", f"{document['edition']} (effective {document['effective_from'].isoformat()}, "
                    f"in force on {on.isoformat()})"),
    ]  # fmt: skip
    print_table(["Field", "Value"], [(k, v) for k, v in rows if v is not None])
    if document["tiers"]:
        print_table(
            ["From qty", "Standard price", "Discount %", "Set for"],
            [
                (t["min_qty"], t["price"], t["discount_pct"] or "", t["scope"])
                for t in document["tiers"]
            ],
            title="Standard volume tiers",
            right=["From qty", "Standard price", "Discount %"],
        )


@pricebook.command(
    "editions",
    epilog="""
\b
Examples:
  pricing pricebook editions
  pricing pricebook editions --json
""",
)
@json_option
def editions_() -> None:
    """List every imported edition, oldest first, and which one is in force today."""
    from pricing import api, documents

    cfg = settings()
    listing = api.list_editions(cfg.store(), on=date.today())
    listed, current = listing.editions, listing.in_force
    if cfg.json:
        emit_json(documents.editions(listing))
        return
    if not listed:
        click.echo("No editions yet: import a price book with `pricing pricebook import FILE`.")
        return
    print_table(
        [
            "Edition",
            "Effective from",
            "Items",
            "Source",
            "Imported at (UTC)",
            "Imported by",
            "In force",
        ],
        [
            (
                e.number,
                e.effective_from.isoformat(),
                e.items,
                e.source,
                e.imported_at.strftime("%Y-%m-%d %H:%M"),
                e.imported_by,
                "today" if current and current.number == e.number else "",
            )
            for e in listed
        ],
        right=["Edition", "Items"],
    )


@pricebook.command(
    "diff",
    epilog="""
\b
Examples:
  pricing pricebook diff          # the two newest editions
  pricing pricebook diff 1 3
  pricing pricebook diff --json
""",
)
@click.argument("old", type=int, required=False)
@click.argument("new", type=int, required=False)
@click.option(
    "--impact",
    is_flag=True,
    help="Also estimate the change on last period's volume and open approvals.",
)
@date_option(
    "--from",
    "start",
    help="With --impact: first deal date of the period (default: a year before --to).",
)
@date_option(
    "--to", "end", help="With --impact: last deal date of the period (default: the last deal)."
)
@json_option
def diff_(
    old: int | None, new: int | None, impact: bool, start: datetime | None, end: datetime | None
) -> None:
    """What changed between two editions: added, removed and changed items (price moves in %).

    With --impact, the quantities sold in the period are re-priced at both editions' list prices
    (per family and in total), and open approved requests are judged again on the new edition.
    """
    from pricing import api, documents

    cfg = settings()
    compared = api.diff_editions(
        cfg.store(), old, new, impact=impact,
        start=start.date() if start else None, end=end.date() if end else None,
    )  # fmt: skip
    old_edition, new_edition, diff = compared.old, compared.new, compared.diff
    summary = documents.diff_summary(old_edition, new_edition, diff)
    estimate = compared.impact
    if cfg.json:
        emit_json(documents.edition_diff(compared))
        return
    from pricing.money import display_money

    click.echo(summary)
    for title, listed in (("Added", diff.added), ("Removed", diff.removed)):
        if listed:
            print_table(
                ["SKU", "Name", "Family", "List price", "Cur"],
                [
                    (i.sku, i.name, i.family, display_money(i.list_price, i.currency), i.currency)
                    for i in listed
                ],
                title=f"{title} ({len(listed)})",
                right=["List price"],
            )
    if diff.changed:
        print_table(
            ["SKU", "Name", "Old price", "New price", "Move %", "Also changed"],
            [
                (
                    c.new.sku,
                    c.new.name,
                    display_money(c.old.list_price, c.old.currency),
                    display_money(c.new.list_price, c.new.currency),
                    f"{c.price_change_pct:+.2f}" if c.price_change_pct is not None else "",
                    ", ".join(
                        _describe_field(c.old, c.new, f) for f in c.fields if f != "list_price"
                    ),
                )
                for c in diff.changed
            ],
            title=f"Changed ({len(diff.changed)})",
            right=["Old price", "New price", "Move %"],
        )
    if estimate is not None:
        _print_impact(estimate, compared.currency)


def _print_impact(estimate: Impact, currency: str) -> None:
    from pricing.money import display_money

    total_old, total_new = estimate.total_old, estimate.total_new
    move = f" ({(total_new - total_old) / total_old * 100:+.2f} %)" if total_old else ""
    click.echo(
        f"Impact on {estimate.lines:,} deal lines sold {estimate.start} to {estimate.end}: list revenue "
        f"{display_money(total_old, currency)} -> {display_money(total_new, currency)}{move}"
        + (
            f"; {estimate.missing_lines:,} lines' SKUs are no longer listed"
            if estimate.missing_lines
            else ""
        )
        + "."
    )
    if estimate.families:
        print_table(
            ["Family", "List revenue (old)", "List revenue (new)", "Change", "Change %"],
            [
                (
                    f,
                    display_money(o, currency),
                    display_money(n, currency),
                    display_money(n - o, currency),
                    f"{(n - o) / o * 100:+.2f}" if o else "",
                )
                for f, o, n in estimate.families
            ],
            right=["List revenue (old)", "List revenue (new)", "Change", "Change %"],
        )
    click.echo(
        f"{len(estimate.affected)} line(s) of {estimate.open_requests} open approved request(s) would "
        "fall below the new floors or out of policy" + (":" if estimate.affected else ".")
    )
    for a in estimate.affected:
        click.echo(
            f"  {a['request']} {a['sku']} at {display_money(a['price'], currency)}: {a['why']}"
        )


def _describe_field(old: PriceItem, new: PriceItem, field: str) -> str:
    from pricing.money import display_money

    def shown(item: PriceItem) -> str:
        value = getattr(item, field)
        if isinstance(value, Decimal):
            return display_money(value, item.currency)
        return "(none)" if value is None else str(value)

    return f"{field.replace('_', ' ')}: {shown(old)} -> {shown(new)}"


@pricebook.command(
    "export",
    epilog="""
\b
Examples:
  pricing pricebook export price-book-clean.xlsx
  pricing pricebook export price-book-2027.xlsx --as-of 2027-01-01
""",
)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@date_option("--as-of", help="Export the edition in force on this date (default: today).")
@click.option("--edition", "number", type=int, help="Export this edition instead.")
@json_option
def export(file: Path, as_of: datetime | None, number: int | None) -> None:
    """Write an edition to a clean, formatted xlsx (with its Tiers sheet) that re-imports as is."""
    from pricing import api, documents

    cfg = settings()
    api.check_export_name(file)
    written = api.export_price_book(cfg.store(), file, on=as_date(as_of), edition=number)
    edition = written.edition
    if cfg.json:
        emit_json(documents.export(written))
        return
    click.echo(
        f"Wrote {file}: edition {edition.number} (effective {edition.effective_from.isoformat()}), "
        f"{written.items} items, {written.tiers} tiers."
    )
