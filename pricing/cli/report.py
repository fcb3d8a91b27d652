"""``pricing report``: how far the deals closed drift from list, by who, where and when."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from pricing.cli.common import (
    as_date,
    date_option,
    emit_json,
    json_option,
    output_option,
    print_table,
    settings,
)

if TYPE_CHECKING:
    from pricing.analysis.report import Report


@click.command(
    epilog="""
\b
Examples:
  pricing report
  pricing report --from 2026-01-01 --to 2026-06-30 --by rep
  pricing report --by family,month -o drift.xlsx
  pricing report --by rep -o drift.html
  pricing report --by customer --json
"""
)
@date_option("--from", "start", help="First deal date included (default: the first deal).")
@date_option("--to", "end", help="Last deal date included (default: the last deal).")
@click.option(
    "--by", "by_text", metavar="rep|family|sku|customer|month[,…]", help="Break the totals down."
)
@output_option(
    "Write the report: .xlsx (sheets and native charts), .html (self-contained), .csv or .json."
)
@json_option
def report(
    start: datetime | None, end: datetime | None, by_text: str | None, output: Path | None
) -> None:
    """The drift report: how far the deals closed are from list, where, and by whom.

    Totals, or broken down by rep, family, SKU, customer or month. List, standard and net revenue; leakage split into standard discount (marketing's tiers) and
    special discount (sales' deviations); realization; margin where costs are known; out-of-policy
    lines and amount, judged under the policy in force on each line's date; unmatched lines.
    """
    from pricing import api, documents

    cfg = settings()
    by = api.report_breakdown(by_text)
    result = api.build_report(
        cfg.store(),
        start=as_date(start) if start else None,
        end=as_date(end) if end else None,
        by=by,
        details=output is not None and output.suffix.lower() in (".xlsx", ".html"),
    )
    if output is not None:
        api.write_report(result, output)
    if cfg.json:
        emit_json(documents.report(result))
        return
    if output is not None:
        click.echo(f"Wrote {output} ({result.totals.lines:,} deal lines).")
        return
    if result.totals.lines == 0:
        click.echo("No deal lines in this period: import them with `pricing deals import FILE`.")
        return
    _print_totals(result)
    if result.groups:
        _print_groups(result, by)


def _print_totals(result: Report) -> None:
    """The report's totals: from list to net, leakage, realization, margin."""
    from pricing import documents
    from pricing.money import display_money

    c = result.currency
    t = documents.metrics(result.totals, c)
    shown = ("list_revenue", "standard_discount", "standard_revenue", "special_discount",
             "out_of_policy_amount", "net_revenue", "leakage")  # fmt: skip
    t.update({k: display_money(getattr(result.totals, k), c) for k in shown})
    period = f"{result.start or 'first deal'} to {result.end or 'last deal'}"
    click.echo(f"Price drift, {period}, in {c}: {t['lines']:,} lines in {t['deals']:,} deals.")
    print_table(
        ["Measure", "Value"],
        [
            ("List revenue", t["list_revenue"]),
            ("- standard discount (tiers)", t["standard_discount"]),
            ("Standard revenue", t["standard_revenue"]),
            ("- special discount (deviations)", t["special_discount"]),
            (
                "  of which out of policy",
                f"{t['out_of_policy_amount']} in {t['out_of_policy_lines']:,} lines",
            ),
            ("Net revenue", t["net_revenue"]),
            ("Leakage", t["leakage"]),
            ("Realization", f"{t['realization_pct']} %"),
            ("Margin", f"{t['margin_pct']} %" if t["margin_pct"] is not None else "(no costs)"),
            ("Lines sold below their approved price", f"{t['below_approved_lines']:,}"),
            ("Unmatched lines (no list price on their date)", f"{t['unmatched_lines']:,}"),
        ],
        right=["Value"],
    )


def _print_groups(result: Report, by: list[str]) -> None:
    """The ten groups that leak most."""
    from pricing import documents
    from pricing.money import display_money

    c = result.currency
    top = result.groups[:10]
    print_table(
        [
            *(b.title() for b in by),
            "Net revenue",
            "Leakage",
            "Special disc.",
            "Realization %",
            "Out of policy",
        ],
        [
            (
                *key.values(),
                display_money(m.net_revenue, c),
                display_money(m.leakage, c),
                display_money(m.special_discount, c),
                documents.metrics(m, c)["realization_pct"],
                f"{m.out_of_policy_lines:,}",
            )
            for key, m in top
        ],
        title=f"Top {len(top)} of {len(result.groups)} by leakage",
        right=["Net revenue", "Leakage", "Special disc.", "Realization %", "Out of policy"],
    )
