"""``pricing deals import``: the deals actually closed, from the CRM or invoicing export."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from pricing.cli.common import (
    column_option,
    echo_listed_problems,
    emit_json,
    exit_with,
    json_option,
    progress,
    settings,
)


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
  pricing deals import rechnungen.csv --decimal comma --date-format %d.%m.%Y
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
@click.option(
    "--decimal",
    type=click.Choice(["comma", "point"]),
    help="The decimal mark of money written as text, when no value says it "
    "(comma: 1.234,50 and 1,234 = 1.234; point: 1,234.50 and 1,234 = 1234).",
)
@click.option("--dry-run", is_flag=True, help="Read, match and count; store nothing.")
@json_option
def import_(
    file: Path,
    columns: tuple[str, ...],
    date_format: str | None,
    decimal: str | None,
    dry_run: bool,
) -> None:
    """Import deal lines: each is matched to the list and standard price in force on its date.

    Columns are matched loosely (Order ID, Order Date, Customer, Sales Rep, SKU / Product ID,
    Quantity, and Sales / Amount, Net Price or Discount; a ship date is never the deal date).
    The actual money wins: line amount, then net unit price, then discount off list. Re-importing
    the same lines does not double them. Lines whose SKU has no list price on their date are kept
    and counted as unmatched until an edition covers them.
    """
    cfg = settings()
    ctx = click.get_current_context()
    with progress(
        f"Reading {file.name}", lambda total: f"Matching and storing {total:,} lines"
    ) as update:
        answer = cfg.call(
            "deals.import",
            files={"file": file},
            columns=list(columns),
            date_format=date_format,
            decimal=decimal,
            dry_run=dry_run,
            progress=update,
        )
    errors = sum(1 for p in answer["problems"] if p["severity"] == "error")
    if errors:
        if not cfg.json:
            echo_listed_problems(answer["problems"])
        exit_with(
            ctx,
            f"{file.name}: nothing imported: {errors} error(s); fix them and import again",
            document=answer,
        )
    if cfg.json:
        emit_json(answer)
        return
    _print_import(file, answer)


def _print_import(file: Path, answer: dict[str, Any]) -> None:
    """Problems, notes, what was added and which SKUs are unmatched."""
    echo_listed_problems(answer["problems"])
    for note in answer["notes"]:
        click.echo(f"note: {note}")
    dry_run = answer["dry_run"]
    verb = "would add" if dry_run else "added"
    click.echo(
        f"{file.name}: {answer['lines']:,} lines; {verb} {answer['added']:,}, "
        f"{answer['already_present']:,} already present"
        + ("; nothing stored (dry run)." if dry_run else ".")
    )
    if answer["unmatched"]:
        skus = answer["unmatched_skus"]
        shown = ", ".join(f"{u['sku']} (from {u['first_date']})" for u in skus[:10])
        more = len(skus) - 10
        click.echo(
            f"{answer['unmatched']:,} line(s) have no list price on their date and are left out "
            f"of drift until an edition covers them: {shown}"
            + (f" and {more} more SKUs" if more > 0 else "")
        )
