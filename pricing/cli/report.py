"""``pricing report``: how far the deals closed drift from list, by who, where and when."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
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
    say,
    settings,
)

if TYPE_CHECKING:
    from pricing.results.report import DriftReport


@click.command(
    epilog="""
\b
Examples:
  pricing report
  pricing report --from 2026-01-01 --to 2026-06-30 --by rep
  pricing report --by family,month -o drift.xlsx
  pricing report --by rep -o drift.html
  pricing report --by customer --json
  pricing report --by rep --sort out_of_policy_amount
  pricing report --by rep --currency USD
"""
)
@date_option("--from", "start", help="First deal date included (default: the first deal).")
@date_option("--to", "end", help="Last deal date included (default: the last deal).")
@click.option(
    "--by",
    "by_text",
    metavar="rep|family|sku|customer|month|currency[,…]",
    help="Break the totals down.",
)
@click.option(
    "--sort",
    metavar="FIGURE",
    help="Rank the groups by this figure of the report, largest first (any key of --json, "
    "such as leakage, net_revenue, out_of_policy_amount; default gross_discount: the money "
    "given away; returns_amount and returns_at_list, negative: the most refunded first).",
)
@click.option(
    "--currency",
    metavar="CUR",
    help="Convert every line's money to this currency at the exchange rate of the line's "
    "date (the last published on or before it; import rates with `pricing fx import`).",
)
@output_option(
    "Write the report: .xlsx (sheets and native charts), .html (self-contained), .csv or .json."
)
@json_option
def report(
    start: datetime | None,
    end: datetime | None,
    by_text: str | None,
    sort: str | None,
    currency: str | None,
    output: Path | None,
) -> None:
    """The drift report: how far the deals closed are from list, where, and by whom.

    Totals, or broken down by rep, family, SKU, customer, month or currency (of the items).
    Over the sales (lines of quantity 0 or more with a list price): list, standard and net
    revenue; the standard
    discount (marketing's tiers), the special discount (sales below their standard price)
    and the sales above standard, which add up from list to net exactly; realization; margin
    where costs are known; out-of-policy lines and amount, judged under the policy in force on
    each line's date. Returns (negative quantities), unmatched lines (no list price) and stock
    adjustments (negative quantity at price 0) apart, each with its count and money.
    Never adds one currency's money to another's: each currency apart, or every line converted
    with --currency.
    """
    cfg = settings()
    result = cfg.pricing().report(
        start=as_date(start) if start else None,
        end=as_date(end) if end else None,
        by=by_text.split(",") if by_text is not None else None,
        sort=sort,
        output=output,
        currency=currency,
    )
    if cfg.json:
        emit_json(result)
        return
    if output is not None:
        parts = result.by_currency or []
        lines = sum(part.totals.lines for part in parts) if parts else result.totals.lines
        say(f"Wrote {output} ({lines:,} deal lines).")
        return
    if result.totals.lines == 0:
        say("No deal lines in this period: import them with `pricing deals import FILE`.")
        return
    for part in _each_currency(result):
        _print_totals(part)
        if part.groups:
            _print_groups(part)


def _each_currency(report: DriftReport) -> list[DriftReport]:
    """The report as the terminal shows it: whole, or over several currencies one section per
    currency (its totals, groups and waterfall), the note on them said once."""
    if not report.by_currency:
        return [report]
    return [
        report.model_copy(
            update={
                "currency": part.currency,
                "totals": part.totals,
                "groups": part.groups,
                "waterfall": part.waterfall,
                "deals_overlap": sum(g.deals for g in part.groups) > part.totals.deals,
                "notes": report.notes if number == 0 else [],
                "by_currency": None,
            }
        )
        for number, part in enumerate(report.by_currency)
    ]


def _lines(count: int) -> str:
    """``1 line``, ``2 lines``."""
    return f"{count:,} line{'' if count == 1 else 's'}"


def _money(amount: Decimal | None) -> str:
    """An amount as people read it: ``1,234.50`` (blank for none)."""
    return "" if amount is None else f"{amount:,}"


def _pct(value: Decimal | None) -> str:
    """A percentage as people read it; "n/a" when its base is zero."""
    return "n/a" if value is None else f"{value} %"


def _print_totals(report: DriftReport) -> None:
    """The report's totals: from list to net over the sales, then returns, leakage,
    realization, margin, and what was left out or is to check."""
    t = report.totals
    period = f"{report.start or 'first deal'} to {report.to or 'last deal'}"  # dates: ISO
    say(
        f"Price drift, {period}, in {report.currency}: "
        f"{_lines(t.lines)} in {t.deals:,} deal{'' if t.deals == 1 else 's'}."
    )
    from pricing.analysis.report_document import CONVERTED, MIXED

    for note in report.notes:
        if note.startswith(MIXED):  # (the others are said beside their figures below)
            say(f"warning: {note}.", err=True)
        elif note.startswith(CONVERTED):
            say(note[0].upper() + note[1:] + ".")
        elif "fx_max_age_days" in note:
            say(f"warning: {note}.", err=True)
    print_table(
        ["Measure", "Value"],
        [
            ("List revenue (sales)", _money(t.list_revenue)),
            ("- standard discount (tiers)", _money(t.standard_discount)),
            ("Standard revenue", _money(t.standard_revenue)),
            ("- special discount (sales below standard)", _money(t.special_discount)),
            ("  of which within policy or approved", _money(t.in_policy_special_discount)),
            *(
                [
                    (
                        "    of which under contracts",
                        f"{_money(t.contract_discount)} in {_lines(t.contract_lines)}",
                    )
                ]
                if t.contract_lines
                else []
            ),
            (
                "  of which out of policy",
                f"{_money(t.out_of_policy_amount)} in {_lines(t.out_of_policy_lines)}"
                + (f" ({_lines(t.unjudged_lines)} not judged)" if t.unjudged_lines else ""),
            ),
            (
                "+ above standard (sales above standard)",
                f"{_money(t.above_standard_amount)} in {_lines(t.above_standard_lines)}",
            ),
            ("Net revenue (sales)", _money(t.net_revenue)),
            (
                "Returns (refunded)",
                f"{_money(t.returns_amount)} in {_lines(t.returns_lines)} "
                f"(at list {_money(t.returns_at_list)})",
            ),
            ("Net after returns", _money(t.net_after_returns)),
            ("Discounts given (standard + special)", _money(t.gross_discount)),
            ("Leakage (list - net)", _money(t.leakage)),
            ("Realization", _pct(t.realization_pct)),
            ("Margin", _pct(t.margin_pct) if t.margin_pct is not None else "(no costs)"),
            ("Lines sold below their approved price", f"{t.below_approved_lines:,}"),
            (
                "Unmatched lines (no list price on their date)",
                f"{t.unmatched_lines:,} (net {_money(t.unmatched_net_revenue)})",
            ),
            (
                "Stock adjustments (negative quantity at price 0)",
                f"{t.stock_adjustment_lines:,}",
            ),
            (
                "Lines not judged (no policy in force on their date)",
                f"{t.unjudged_lines:,} (net {_money(t.unjudged_net_revenue)})",
            ),
        ],
        right=["Value"],
    )
    if t.unjudged_lines:
        say(
            f"{_lines(t.unjudged_lines)} (net {_money(t.unjudged_net_revenue)}) not judged: "
            "no policy in force on their dates; out of policy counts only the judged lines "
            "(to judge them, load the policy with an `effective_from` on or before the first "
            "of them)."
        )
    flagged = t.above_standard_flagged_lines + t.returns_above_list_lines
    if flagged:
        say(
            f"{_lines(flagged)} to check ({t.above_standard_flagged_lines:,} sold far above "
            f"their standard price, {t.returns_above_list_lines:,} refund"
            f"{'' if t.returns_above_list_lines == 1 else 's'} above their list "
            "price): check their price or quantity; `-o report.xlsx` lists them."
        )


# The figures the breakdown's table always shows (the unjudged lines only when there are).
_SHOWN = ("deals", "net_revenue", "gross_discount", "above_standard_amount", "leakage",
          "realization_pct", "out_of_policy_lines")  # fmt: skip


def _figure(value: int | Decimal | None) -> str:
    """A figure of a group as the table shows it: a count, money or a percentage with its
    thousands; "n/a" for a percentage of nothing."""
    return "n/a" if value is None else f"{value:,}"


def _print_groups(report: DriftReport) -> None:
    """The first ten groups of the ranking (by the money given away unless --sort says), how
    many more, and whether their deal counts overlap."""
    from pricing.analysis.report_document import heading

    groups = report.groups
    top = groups[:10]
    unjudged = bool(report.totals.unjudged_lines)
    # Counts of lines beside the money: their headers say so.
    right = ["Deals", "Net revenue", "Discounts", "Above std.", "Leakage", "Realization %",
             "Out of policy (lines)"]  # fmt: skip
    right += ["Not judged (lines)"] if unjudged else []
    sort = report.sort
    # The figure the groups are ranked by, as a column of its own when none above shows it.
    sorted_by = [] if sort in _SHOWN or (unjudged and sort == "unjudged_lines") else [sort]
    right += [heading(key) for key in sorted_by]
    print_table(
        [*(b.title() for b in report.by), *right],
        [
            (
                *g.key.values(),
                f"{g.deals:,}",
                _money(g.net_revenue),
                _money(g.gross_discount),
                _money(g.above_standard_amount),
                _money(g.leakage),
                str(g.realization_pct) if g.realization_pct is not None else "n/a",
                f"{g.out_of_policy_lines:,}",
                *([f"{g.unjudged_lines:,}"] if unjudged else []),
                *(_figure(getattr(g, key)) for key in sorted_by),
            )
            for g in top
        ],
        title=f"Top {len(top)} of {len(groups)} by {sort.replace('_', ' ')}",
        right=right,
    )
    if len(groups) > len(top):
        say(f"{len(groups) - len(top):,} more: --json or -o FILE.xlsx lists every group.")
    if report.deals_overlap:
        counted = sum(g.deals for g in groups)
        say(
            f"Deals overlap: a deal with lines in several groups counts in each (the groups "
            f"count {counted:,} deals, the total {report.totals.deals:,})."
        )
