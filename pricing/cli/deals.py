"""``pricing deals import``: the deals actually closed, from the CRM or invoicing export."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from pricing.cli.common import (
    column_option,
    echo_problems,
    emit_json,
    exit_with,
    json_option,
    progress,
    settings,
)

if TYPE_CHECKING:
    from pricing.lines.reader import DealsFile
    from pricing.lines.service import DealsImport


@click.group()
def deals() -> None:
    """Import the deals actually closed (CRM or invoicing exports) for the drift report."""


@deals.command(
    "import",
    epilog="""
\b
Examples:
  pricing deals import orders-2026.csv
  pricing deals import invoices.xlsx --column rep="Account Exec" --date-format %d/%m/%Y
  pricing deals import iowa.csv --column qty=bottles_sold --column amount=sale_dollars --dry-run
""",
)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@column_option(
    ["deal_id", "line_id", "date", "customer", "rep", "sku", "qty", "amount", "unit_price",
     "discount", "request_id", "currency"],
    "rep=\"Account Exec\"",
)  # fmt: skip
@click.option(
    "--date-format", metavar="FMT", help="strftime format of the date column, e.g. %d/%m/%Y."
)
@click.option("--dry-run", is_flag=True, help="Read, match and count; store nothing.")
@json_option
def import_(file: Path, columns: tuple[str, ...], date_format: str | None, dry_run: bool) -> None:
    """Import deal lines: each is matched to the list and standard price in force on its date.

    Columns are matched loosely (Order ID, Order Date, Customer, Sales Rep, SKU / Product ID,
    Quantity, and Sales / Amount, Net Price or Discount; a ship date is never the deal date).
    The actual money wins: line amount, then net unit price, then discount off list. Re-importing
    the same lines does not double them. Lines whose SKU has no list price on their date are kept
    and counted as unmatched until an edition covers them.
    """
    from pricing import api, documents

    cfg = settings()
    mapped = api.column_overrides(columns, kind="deals")
    with progress(f"Reading {file.name}") as update:
        read = api.read_deals(file, columns=mapped, date_format=date_format, progress=update)
    ctx = click.get_current_context()
    if read.lines is None or any(p.severity == "error" for p in read.problems):
        if not cfg.json:
            echo_problems(read.problems)
        errors = sum(1 for p in read.problems if p.severity == "error")
        exit_with(
            ctx,
            f"{file.name}: nothing imported: {errors} error(s); fix them and import again",
            document=documents.deals_refused(read),
        )
    with progress(f"Matching and storing {len(read.lines):,} lines") as update:
        result = api.import_deals(
            cfg.store(create=True), read, user=cfg.acting_user(), dry_run=dry_run, progress=update
        )
    if cfg.json:
        emit_json(documents.deals_import(read, result, dry_run=dry_run))
        return
    _print_import(file, read, result, dry_run=dry_run)


def _print_import(file: Path, read: DealsFile, result: DealsImport, *, dry_run: bool) -> None:
    """Problems, notes, what was added and which SKUs are unmatched."""
    echo_problems(read.problems)
    for note in read.notes:
        click.echo(f"note: {note}")
    verb = "would add" if dry_run else "added"
    click.echo(
        f"{file.name}: {result.lines:,} lines; {verb} {result.added:,}, "
        f"{result.already_present:,} already present"
        + ("; nothing stored (dry run)." if dry_run else ".")
    )
    if result.unmatched:
        shown = ", ".join(f"{sku} (from {first})" for sku, first in result.unmatched_skus[:10])
        more = len(result.unmatched_skus) - 10
        click.echo(
            f"{result.unmatched:,} line(s) have no list price on their date and are left out of drift "
            f"until an edition covers them: {shown}"
            + (f" and {more} more SKUs" if more > 0 else "")
        )
