"""``pricing deals import``: the deals actually closed, from the CRM or invoicing export."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pricing.cli.common import (
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
from pricing.io.names import shown_name

if TYPE_CHECKING:
    from pricing.results.deals import DealsImported, ImportUndone, Shrink


@click.group()
def deals() -> None:
    """Import the deals actually closed (CRM or invoicing exports) for the drift report.

    Each import is listed (`deals imports`), can be taken back (`deals undo ID`) or replaced by
    a corrected file (`deals import FILE --replace ID`)."""


@deals.command(
    "import",
    epilog="""
\b
Examples:
  pricing deals import orders-2026.csv
  pricing deals import invoices.xlsx --column rep="Account Exec" --date-format %d/%m/%Y
  pricing deals import rechnungen.csv --decimal comma --date-format %d.%m.%Y
  pricing deals import crm-export.xlsx --sheet "Closed Won"
  pricing deals import iowa.csv --column qty=bottles_sold --column amount=sale_dollars --dry-run
  pricing deals import orders-2026.csv --date-format %d/%m/%Y --replace 3 --dry-run
  pricing deals import orders-2026.csv --date-format %d/%m/%Y --replace 3
  pricing deals import sales_data.csv --status Shipped,Resolved
  pricing deals import sales_data.csv --all-statuses
""",
)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@column_option(
    ["deal_id", "line_id", "date", "customer", "rep", "sku", "qty", "amount", "unit_price",
     "discount", "request_id", "currency", "status"],
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
@click.option(
    "--sheet",
    metavar="NAME",
    help="The workbook's sheet to read (default: one named Deals, Orders, Sales, Invoices or "
    "Lines, else the first with a header row).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Read, match and count; store nothing (with --replace: what it would remove and add).",
)
@click.option(
    "--replace",
    metavar="ID",
    type=click.IntRange(min=1),
    help="Undo import ID and import FILE in its place, in one transaction (a corrected file, "
    "another mapping or date format). `pricing deals imports` lists the ids.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Let --replace remove more than twice as many lines as FILE adds (refused otherwise: "
    "the wrong file or import id?).",
)
@click.option(
    "--status",
    "statuses",
    metavar="S1,S2",
    help="Keep only the lines of these statuses (of the status column: Status, Stage, Deal "
    "Stage, ...), case ignored. By default every line is kept but those Cancelled, Canceled, "
    "Void, Lost or Closed Lost.",
)
@click.option(
    "--all-statuses",
    is_flag=True,
    help="Keep every line, whatever its status (not with --status).",
)
@json_option
def import_(
    file: Path,
    columns: tuple[str, ...],
    date_format: str | None,
    decimal: str | None,
    sheet: str | None,
    dry_run: bool,
    replace: int | None,
    force: bool,
    statuses: str | None,
    all_statuses: bool,
) -> None:
    """Import deal lines: each is matched to the list and standard price in force on its date.

    Columns are matched loosely (Order ID, Order Date, Customer, Sales Rep, SKU / Product ID,
    Quantity, and Sales / Amount, Net Price or Discount; a ship date is never the deal date).
    The actual money wins: line amount, then net unit price, then discount off list. Re-importing
    the same lines does not double them: the same file imported again as it was adds nothing
    and names the import that holds it. The same file read with another mapping or date format,
    or new lines equal to stored ones (date, SKU, quantity, money, customer) under other line or
    deal ids, would count sales twice: the import is refused (exit 2) with the earlier import's
    id; take that import back with --replace ID (preview it with --dry-run). A replacement that
    adds fewer than half the lines it removes is refused unless --force. Lines whose SKU has no
    list price on their date are kept and counted as unmatched until an edition covers them.
    Lines dated after today are imported with a warning.

    Headers are compared with case, spaces, underscores and punctuation left out (ORDERDATE is
    Order Date); the mapping read is printed, and a file without a customer or salesperson
    column is warned about. A line's number within its deal (Line No, ORDERLINENUMBER) is its
    identity together with the deal id; a line id that repeats in a file without a deal id is
    refused. Where a line amount and a unit price disagree beyond rounding, the amount counts
    and the lines are named; lines sold at over 3x their standard price are named too
    (PRICING_ABOVE_STANDARD_FLAG=N changes the bound). Lines of a cancelled, void or lost
    status are left out and counted (--status, --all-statuses choose otherwise).
    """
    cfg = settings()
    ctx = click.get_current_context()
    with progress(
        f"Reading {shown_name(file)}", lambda total: f"Matching and storing {total:,} lines"
    ) as update:
        answer = cfg.pricing(progress=update).import_deals(
            file=file,
            columns=list(columns),
            date_format=date_format,
            decimal=decimal,
            sheet=sheet,
            dry_run=dry_run,
            replace=replace,
            force=force,
            statuses=statuses.split(",") if statuses is not None else None,
            all_statuses=all_statuses,
        )
    from pricing.results.deals import DealsRefused

    errors = sum(c.count for c in answer.problem_counts if c.severity == "error")
    if errors or isinstance(answer, DealsRefused):  # a file with errors: nothing imported
        if not cfg.json:
            echo_found_problems(answer.problems, answer.problem_counts)
        exit_with(
            ctx,
            f"{answer.file}: nothing imported: {errors:,} error(s); fix them and import again",
            document=answer,
        )
    name, conflict, shrink = answer.file, answer.conflict, answer.shrink
    if conflict:
        hint = f"; to import it in place of that import: {conflict.hint}"
        exit_with(
            ctx,
            f"{name}: nothing imported: {conflict.reason}" + (hint if conflict.hint else ""),
            document=answer,
        )
    if shrink and not shrink.forced and not dry_run:
        exit_with(ctx, f"{name}: nothing imported: {_shrink_text(shrink)}", document=answer)
    if cfg.json:
        emit_json(answer)
        return
    _print_import(answer)


def _shrink_text(shrink: Shrink) -> str:
    return (
        f"replacing import {shrink.replaced} would remove {shrink.removed:,} line(s) and add "
        f"{shrink.added:,}: the wrong file or import id? See it with --dry-run; if that is "
        "what you mean, add --force"
    )


def _print_import(answer: DealsImported) -> None:
    """Problems, notes, what was added and which SKUs are unmatched."""
    name = answer.file
    say(f"columns read: {_mapping_text(answer.columns)}")
    echo_found_problems(answer.problems, answer.problem_counts)
    for note in answer.notes:
        say(f"note: {note}")
    dry_run = answer.dry_run
    if answer.replaced:
        say(_undone_text(answer.replaced, dry_run=dry_run))
    shrink = answer.shrink
    if shrink and dry_run and not shrink.forced:
        say(f"warning: without --force this would be refused: {_shrink_text(shrink)}",
                    fg="yellow", err=True)  # fmt: skip
    skipped = answer.skipped_by_status
    if answer.already_imported_as is not None:
        say(
            f"{name}: {answer.lines:,} lines"
            + (f" ({_skipped_text(skipped)} left out by their status)" if skipped else "")
            + "; added nothing: import "
            f"{answer.already_imported_as} holds this very file, read the same way."
        )
        return
    verb = "would add" if dry_run else "added"
    left_out = (
        f"{sum(skipped.values()):,} left out by their status ({_skipped_text(skipped)}); "
        if skipped
        else ""
    )
    say(
        f"{name}: {answer.lines:,} lines; {left_out}{verb} {answer.added:,}, "
        f"{answer.already_present:,} already present"
        + ("; nothing stored (dry run)." if dry_run else f" (import {answer.id}).")
    )
    if answer.unmatched:
        skus = answer.unmatched_skus
        shown = ", ".join(f"{u.sku} (from {u.first_date.isoformat()})" for u in skus[:10])
        more = answer.unmatched_sku_count - len(skus[:10])
        say(
            f"{answer.unmatched:,} line(s) have no list price on their date and are left out "
            f"of drift until an edition covers them: {shown}"
            + (f" and {more:,} more SKUs" if more > 0 else "")
        )


@deals.command(
    "imports",
    epilog="""
\b
Examples:
  pricing deals imports
  pricing deals imports --json
""",
)
@json_option
def imports() -> None:
    """List every deals import, oldest first: its id, file, SHA-256, when and by whom, lines
    read and added, the dates of its lines, the mapping and date format it was read with, and
    the lines it left out by their status (blank: the file had no status column).
    """
    cfg = settings()
    listed = cfg.pricing().deal_imports()
    if cfg.json:
        emit_json(listed)
        return
    if not listed:
        say("No deals imports yet: import an export with `pricing deals import FILE`.")
        return
    print_table(
        ["Id", "File", "SHA-256", "Imported at (UTC)", "By", "Lines", "Added", "Dates",
         "Mapping", "Date format", "Decimal", "Left out by status"],
        [
            (
                i.id,
                i.source,
                (i.sha256 or "")[:12],
                i.imported_at.strftime("%Y-%m-%d %H:%M"),
                i.imported_by,
                f"{i.lines:,}",
                f"{i.added:,}",
                f"{i.first_date} .. {i.last_date}" if i.first_date else "",
                _mapping_text(i.columns),
                i.date_format or ("" if i.sha256 is None else "(from the values)"),
                i.decimal or ("" if i.sha256 is None else "(from the values)"),
                _skipped_text(i.skipped_by_status)
                or ("" if i.skipped_by_status is None else "none"),
            )
            for i in listed
        ],
        right=["Id", "Lines", "Added"],
    )  # fmt: skip


def _mapping_text(columns: dict[str, str] | None) -> str:
    if not columns:
        return ""
    return ", ".join(f"{field}={header}" for field, header in sorted(columns.items()))


def _skipped_text(skipped: dict[str, int] | None) -> str:
    """Lines left out by status: ``Cancelled 60, On Hold 4``."""
    return ", ".join(f"{status} {lines:,}" for status, lines in (skipped or {}).items())


@deals.command(
    "export",
    epilog="""
\b
Examples:
  pricing deals export -o deals.parquet
  pricing deals export --from 2026-01-01 --to 2026-06-30 -o h1.csv
  duckdb -c "SELECT rep, sum(net_amount) FROM 'deals.parquet' WHERE part = 'sale' GROUP BY rep"
""",
)
@date_option("--from", "start", help="First deal date included (default: the first deal).")
@date_option("--to", "end", help="Last deal date included (default: the last deal).")
@click.option(
    "-o", "--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
    help="The file to write: .parquet or .csv (replaced if it exists).",
)  # fmt: skip
@json_option
def export(start: datetime | None, end: datetime | None, output: Path) -> None:
    """Write every stored deal line with what matching and the policy decided of it.

    One row per line, in the order they were stored: the file's own columns, the edition and
    prices on the line's date (list, standard after tiers, cost, floor), the policy's verdict
    (level needed, hard floor) and what the report decides (sale, return, adjustment or
    unmatched; out of policy; below the approved price; at a contracted price). Amounts and
    quantities are exact decimals (DECIMAL(38,6) in Parquet). docs/formats.md lists the columns.
    """
    cfg = settings()
    answer = cfg.pricing().export_deals(
        output=output,
        start=start.date() if start else None,
        end=end.date() if end else None,
    )
    if cfg.json:
        emit_json(answer)
        return
    period = "" if not (answer.start or answer.end) else (
        f" dated {answer.start or 'the first'} to {answer.end or 'the last'}"
    )  # fmt: skip
    say(f"Wrote {answer.lines:,} deal lines{period} to {answer.file} ({answer.format}, "
        f"{len(answer.columns)} columns).")  # fmt: skip
    if not answer.lines:
        say("No deal lines in this period: the file holds the header alone (import deals with "
            "`pricing deals import FILE`).", err=True)  # fmt: skip


@deals.command(
    "undo",
    epilog="""
\b
Examples:
  pricing deals undo 3
  pricing deals undo 3 --json
""",
)
@click.argument("number", metavar="ID", type=click.IntRange(min=1))
@json_option
def undo(number: int) -> None:
    """Take deals import ID back, as if its file had never been imported: its lines leave the
    report, links to won requests and deal counts follow. Lines a later import held too (an
    overlapping export) stay, as that import's. Recorded in the audit; the owner's to do.
    """
    cfg = settings()
    answer = cfg.pricing().undo_import(number=number)
    if cfg.json:
        emit_json(answer)
        return
    say(_undone_text(answer))


def _undone_text(undone: ImportUndone, *, dry_run: bool = False) -> str:
    kept = (
        f"; {undone.kept:,} line(s) a later import held too "
        + ("would stay" if dry_run else "stay")
        + ", as that import's"
        if undone.kept
        else ""
    )
    if dry_run:
        return (
            f"Would undo import {undone.id} ({undone.source}): would remove "
            f"{undone.removed:,} line(s){kept}."
        )
    return f"Undid import {undone.id} ({undone.source}): removed {undone.removed:,} line(s){kept}."
