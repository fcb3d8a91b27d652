"""``pricing pricebook …``: the marketer's commands."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pricing.cli.common import (
    as_date,
    column_option,
    date_option,
    echo_found_problems,
    emit_json,
    exit_with,
    json_option,
    print_table,
    progress,
    say,
    settings,
)
from pricing.limits import SKIPPED_ROWS_LISTED

if TYPE_CHECKING:
    from pricing.results.pricebook import (
        FieldChange,
        Impact,
        Item,
        LeftOut,
        PriceBookImport,
    )

# How a problem of a row --skip-invalid left out begins (the row is listed with its cells).
LEFT_OUT = "left out: "


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
  pricing pricebook import price-book-2027.xlsx --skip-invalid
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
    help="Currency of a book without a Currency column (default: the newest edition's; for "
    "a first edition the policy's, else USD). Also changes the book's currency on purpose: "
    "a file in another currency than the newest edition's is refused without it.",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Leave out the rows with errors of their own (a missing or zero price, values "
    "without a SKU, every copy of a duplicate SKU, a bad tier row), list them with their "
    "cells, and store the others. Errors of the whole file still refuse it.",
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
    skip_invalid: bool,
    dry_run: bool,
) -> None:
    """Import FILE (xlsx or csv) as a new edition of the price book.

    The header row is found in the first 30 rows and columns are matched loosely
    (SKU / Item # / Part Number, List Price / Price / MSRP, Family / Category, Cost, ...).
    An optional "Tiers" sheet gives standard volume pricing. Every problem is listed with its
    cell; nothing is stored while any error stands (exit 2), unless --skip-invalid leaves
    out the rows that have them. Importing the same content as the newest edition makes no
    edition ("unchanged"). A file that names no currency is in the newest edition's.
    """
    cfg = settings()
    with progress(f"Reading {file.name}") as update:
        answer = cfg.pricing(progress=update).import_price_book(
            file=file,
            effective=_day(effective),
            sheet=sheet,
            columns=list(columns),
            currency=currency,
            skip_invalid=skip_invalid,
            dry_run=dry_run,
        )
    problems, counts = answer.problems, answer.problem_counts
    errors = answer.found("error")
    if errors:
        if not cfg.json:
            echo_found_problems(problems, counts)
        skippable = any("--skip-invalid" in p.message for p in problems)
        exit_with(
            click.get_current_context(),
            f"{file.name}: nothing imported: {errors:,} error(s) above; fix them and import again"
            + (", or import with --skip-invalid to leave these rows out" if skippable else ""),
            document=answer,
        )
    if cfg.json:
        emit_json(answer)
        return
    skipped = answer.skipped
    if 0 < len(skipped) < SKIPPED_ROWS_LISTED:  # each row is listed below with its cells
        problems = [p for p in problems if not p.message.startswith(LEFT_OUT)]
        counts = [c for c in counts if not c.message.startswith(LEFT_OUT)]
    echo_found_problems(problems, counts)
    _print_skipped(skipped)
    say(_import_summary(answer))


def _print_skipped(skipped: list[LeftOut]) -> None:
    """The rows --skip-invalid left out, each with its cells, on stderr beside the problems."""
    if not skipped:
        return
    more = " (the first listed)" if len(skipped) >= SKIPPED_ROWS_LISTED else ""
    say(f"Left out {len(skipped):,} row(s) with errors{more}:", err=True)
    for row in skipped:
        where = f"{row.sheet!r} row {row.row}" if row.sheet else f"line {row.row}"
        cells = ", ".join(f"{header}={value!r}" for header, value in row.cells.items())
        say(f"  {where}: {cells}: {'; '.join(row.problems)}", err=True)


def _day(value: datetime | None) -> date | None:
    """A date option as an operation takes it."""
    return value.date() if value else None


def _money(amount: Decimal | None) -> str:
    """An amount as people read it: ``1,234.50`` (blank for none)."""
    return "" if amount is None else f"{amount:,}"


def _import_summary(imported: PriceBookImport) -> str:
    sheet, previous = imported.sheet, imported.previous_edition
    where = f"{imported.source}" + (f", sheet {sheet!r}" if sheet else "")
    counts = f"{imported.items} items, {imported.tiers} tiers"
    warnings = imported.found("warning")
    tail = f"; {warnings:,} warning(s) above" if warnings else ""
    if imported.unchanged:
        return (
            f"Unchanged: {where} has the same content as edition {previous} "
            f"({counts}); no edition made{tail}. To put it in force from an earlier date, "
            "import it again with --effective YYYY-MM-DD."
        )
    change = (
        f"{imported.added} added, {imported.removed} removed, "
        f"{imported.changed} changed, {imported.unchanged_items} unchanged"
        + (", tiers changed" if imported.tiers_changed and previous else "")
        + (f" against edition {previous}" if previous else "")
    )
    left_out = len(imported.skipped)
    if left_out:
        counts += f", {left_out:,} row(s) left out"
    if imported.dry_run:
        return (
            f"Dry run: {where} would become a new edition effective "
            f"{imported.effective_from}: {counts} ({change}); nothing stored{tail}."
        )
    return (
        f"Imported edition {imported.edition}, effective {imported.effective_from}, "
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
  pricing pricebook show router             # not a SKU: the items whose name has it
""",
)
@click.argument("sku", required=False)
@date_option("--as-of", help="Show the prices in force on this date (default: today).")
@click.option("--family", metavar="NAME", help="Only items of this family (case does not matter).")
@json_option
def show(sku: str | None, as_of: datetime | None, family: str | None) -> None:
    """Show the standard prices in force: one SKU with its volume tiers, or the whole book.

    When SKU is not a SKU of the book, the items whose name (or SKU) has it in it are listed,
    case aside (with --json, as the whole book's document); when none has, the closest SKUs
    are suggested (exit 2).
    """
    cfg = settings()
    on = as_date(as_of)
    shown = cfg.pricing().price_book(sku=sku, as_of=on, family=family)
    if cfg.json:
        emit_json(shown)
        return
    from pricing.results.pricebook import Item

    if isinstance(shown, Item):
        _print_item(shown, on)
        return
    items = shown.items
    found = f"{len(items)} items" if sku is None else f"{len(items)} item(s) matching {sku!r}"
    print_table(
        ["SKU", "Name", "Family", "List price", "Cur", "Unit cost", "Floor", "Tiers", "Status"],
        [
            (
                i.sku,
                i.name,
                i.family,
                _money(i.list_price),
                i.currency,
                _money(i.unit_cost),
                _money(i.floor_price),
                _tiers_text(i),
                i.status,
            )
            for i in items
        ],
        title=f"Edition {shown.edition}, effective {shown.effective_from} "
        f"(in force on {shown.as_of}): {found}",
        right=["List price", "Unit cost", "Floor"],
    )


def _tiers_text(item: Item) -> str:
    return ", ".join(f"{t.min_qty}+: {_money(t.price)}" for t in item.tiers)


def _print_item(item: Item, on: date) -> None:
    rows = [
        ("SKU", item.sku),
        ("Name", item.name),
        ("Family", item.family),
        ("List price", f"{_money(item.list_price)} {item.currency}"),
        ("Unit cost", _money(item.unit_cost) if item.unit_cost is not None else None),
        ("Floor price", _money(item.floor_price) if item.floor_price is not None else None),
        ("Status", item.status),
        ("Edition", f"{item.edition} (effective {item.effective_from}, "
                    f"in force on {on.isoformat()})"),
    ]  # fmt: skip
    print_table(["Field", "Value"], [(k, v) for k, v in rows if v is not None])
    if item.tiers:
        print_table(
            ["From qty", "Standard price", "Discount %", "Set for"],
            [
                (t.min_qty, _money(t.price), _blank_none(t.discount_pct), t.scope)
                for t in item.tiers
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
    cfg = settings()
    listed = cfg.pricing().editions()
    if cfg.json:
        emit_json(listed)
        return
    if not listed:
        say("No editions yet: import a price book with `pricing pricebook import FILE`.")
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
                e.edition,
                e.effective_from,
                e.items,
                e.source,
                e.imported_at.strftime("%Y-%m-%d %H:%M"),
                e.imported_by,
                "today" if e.in_force else "",
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
  pricing pricebook diff --changed-only --sort move
  pricing pricebook diff --family Hardware --json
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
@click.option(
    "--changed-only",
    is_flag=True,
    help="List only the SKUs in both editions whose price or fields changed (not those added "
    "or removed).",
)
@click.option(
    "--sort",
    type=click.Choice(["file", "move", "sku"]),
    default="file",
    show_default=True,
    help="Order of the lists: as in the file; move: the largest price move (in %, up or down) "
    "first; sku: by SKU.",
)
@click.option("--family", metavar="NAME", help="Only SKUs of this family (case does not matter).")
@json_option
def diff_(
    old: int | None,
    new: int | None,
    impact: bool,
    start: datetime | None,
    end: datetime | None,
    changed_only: bool,
    sort: str,
    family: str | None,
) -> None:
    """What changed between two editions: added, removed and changed items (price moves in %).

    With --impact, the quantities sold in the period are re-priced at both editions' list prices
    (per family and in total), and open approved requests are judged again on the new edition.
    """
    cfg = settings()
    compared = cfg.pricing().diff(
        old=old,
        new=new,
        impact=impact,
        start=_day(start),
        end=_day(end),
        changed_only=changed_only,
        family=family,
        sort=sort,
    )
    if cfg.json:
        emit_json(compared)
        return
    say(compared.summary)
    if changed_only or family:
        listed = "changed SKUs only" if changed_only else "SKUs"
        say(f"Listed: {listed}" + (f" of family {family!r}" if family else "") + ".")
    for title, items in (("Added", compared.added), ("Removed", compared.removed)):
        if items:
            print_table(
                ["SKU", "Name", "Family", "List price", "Cur"],
                [(i.sku, i.name, i.family, _money(i.list_price), i.currency) for i in items],
                title=f"{title} ({len(items)})",
                right=["List price"],
            )
    changed = compared.changed
    if changed:
        print_table(
            ["SKU", "Name", "Old price", "New price", "Move %", "Also changed"],
            [
                (
                    c.sku,
                    c.name,
                    _money(c.old_price),
                    _money(c.new_price),
                    _signed_pct(c.change_pct),
                    ", ".join(
                        _describe_field(f, values)
                        for f, values in c.fields.items()
                        if f != "list_price"
                    ),
                )
                for c in changed
            ],
            title=f"Changed ({len(changed)})",
            right=["Old price", "New price", "Move %"],
        )
    from pricing.results.pricebook import PriceBookImpact

    if isinstance(compared, PriceBookImpact):
        _print_impact(compared.impact)


def _signed_pct(pct: Decimal | None) -> str:
    """A percentage with its sign (``+3.50``; blank for none)."""
    return "" if pct is None else f"{pct:+.2f}"


def _print_impact(estimate: Impact) -> None:
    """The price move on SKUs both editions list (the headline), the volume of removed and
    added SKUs apart, per family, and the open approvals the new edition would not hold."""
    changes = estimate.price_changes
    change = changes.change_pct
    move = f" ({_signed_pct(change)} %)" if change is not None else ""
    period = f"{_day_text(estimate.start)} to {_day_text(estimate.end)}"
    say(
        f"Impact on {estimate.lines:,} deal lines sold {period}: "
        f"price changes on {changes.lines:,} lines of SKUs in both editions: list revenue "
        f"{_money(changes.list_revenue_old)} -> {_money(changes.list_revenue_new)}{move}."
    )
    removed, added = estimate.removed, estimate.added
    if removed.lines:
        say(
            f"No longer listed: {removed.lines:,} lines, quantity {removed.quantity:,}, "
            f"list revenue {_money(removed.list_revenue_old)} at the old prices (not in the "
            "price change)."
        )
    if added.lines:
        say(
            f"New in this edition: {added.lines:,} lines, quantity {added.quantity:,}, "
            f"list revenue {_money(added.list_revenue_new)} at the new prices (not in the "
            "price change)."
        )
    neither = estimate.in_neither
    if neither.lines:
        say(
            f"In neither edition: {neither.lines:,} lines, quantity "
            f"{neither.quantity:,}, of SKUs sold under other editions (not "
            "re-priced)."
        )
    if changes.families:
        print_table(
            ["Family", "List revenue (old)", "List revenue (new)", "Change", "Change %"],
            [
                (
                    f.family,
                    _money(f.list_revenue_old),
                    _money(f.list_revenue_new),
                    _money(f.change),
                    _signed_pct(f.change_pct),
                )
                for f in changes.families
            ],
            title="Price changes per family (SKUs in both editions)",
            right=["List revenue (old)", "List revenue (new)", "Change", "Change %"],
        )
    affected = estimate.requests_affected
    say(
        f"{len(affected)} line(s) of {estimate.open_approved_requests} open approved "
        "request(s) would fall below the new floors or out of policy" + (":" if affected else ".")
    )
    for a in affected:
        say(f"  {a.request} {a.sku} at {_money(a.price)}: {a.why}")


def _blank_none(value: Decimal | None) -> Decimal | str:
    return "" if value is None else value


def _day_text(day: date | None) -> str:
    """A day as the JSON document writes it (``None`` for none)."""
    return "None" if day is None else day.isoformat()


def _describe_field(field: str, values: FieldChange) -> str:
    def shown(value: Decimal | str | None) -> str:
        if value is None:
            return "(none)"
        return _money(value) if isinstance(value, Decimal) else str(value)

    return f"{field.replace('_', ' ')}: {shown(values.old)} -> {shown(values.new)}"


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
    cfg = settings()
    written = cfg.pricing().export_price_book(output=file, as_of=_day(as_of), edition=number)
    if cfg.json:
        emit_json(written)
        return
    say(
        f"Wrote {file}: edition {written.edition} (effective {written.effective_from}), "
        f"{written.items} items, {written.tiers} tiers."
    )
