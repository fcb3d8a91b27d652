"""``pricing report``: how far the deals closed drift from list, by who, where and when."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from pricing.cli.common import (
    as_date,
    date_option,
    emit_json,
    json_option,
    money,
    output_option,
    print_table,
    say,
    settings,
)


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
    cfg = settings()
    document = cfg.call(
        "report.build",
        start=as_date(start).isoformat() if start else None,
        end=as_date(end).isoformat() if end else None,
        by=by_text,
        output=output,
    )
    if cfg.json:
        emit_json(document)
        return
    if output is not None:
        say(f"Wrote {output} ({document['totals']['lines']:,} deal lines).")
        return
    if document["totals"]["lines"] == 0:
        say("No deal lines in this period: import them with `pricing deals import FILE`.")
        return
    _print_totals(document)
    if document["groups"]:
        _print_groups(document)


def _print_totals(document: dict[str, Any]) -> None:
    """The report's totals: from list to net, leakage, realization, margin."""
    t = document["totals"]
    period = f"{document['from'] or 'first deal'} to {document['to'] or 'last deal'}"
    say(
        f"Price drift, {period}, in {document['currency']}: "
        f"{t['lines']:,} lines in {t['deals']:,} deals."
    )
    print_table(
        ["Measure", "Value"],
        [
            ("List revenue", money(t["list_revenue"])),
            ("- standard discount (tiers)", money(t["standard_discount"])),
            ("Standard revenue", money(t["standard_revenue"])),
            ("- special discount (deviations)", money(t["special_discount"])),
            (
                "  of which out of policy",
                f"{money(t['out_of_policy_amount'])} in {t['out_of_policy_lines']:,} lines"
                + (f" ({t['unjudged_lines']:,} lines not judged)" if t["unjudged_lines"] else ""),
            ),
            ("Net revenue", money(t["net_revenue"])),
            ("Leakage", money(t["leakage"])),
            ("Realization", f"{t['realization_pct']} %"),
            ("Margin", f"{t['margin_pct']} %" if t["margin_pct"] is not None else "(no costs)"),
            ("Lines sold below their approved price", f"{t['below_approved_lines']:,}"),
            ("Unmatched lines (no list price on their date)", f"{t['unmatched_lines']:,}"),
            (
                "Lines not judged (no policy in force on their date)",
                f"{t['unjudged_lines']:,} (net {money(t['unjudged_net_revenue'])})",
            ),
        ],
        right=["Value"],
    )
    if t["unjudged_lines"]:
        say(
            f"{t['unjudged_lines']:,} lines (net {money(t['unjudged_net_revenue'])}) not judged: "
            "no policy in force on their dates; out of policy counts only the judged lines "
            "(to judge them, load the policy with an `effective_from` on or before the first "
            "of them)."
        )


def _print_groups(document: dict[str, Any]) -> None:
    """The ten groups that leak most (and the lines not judged, when some were not)."""
    groups = document["groups"]
    top = groups[:10]
    unjudged = bool(document["totals"]["unjudged_lines"])
    right = ["Net revenue", "Leakage", "Special disc.", "Realization %", "Out of policy"]
    right += ["Not judged"] if unjudged else []
    print_table(
        [*(b.title() for b in document["by"]), *right],
        [
            (
                *g["key"].values(),
                money(g["net_revenue"]),
                money(g["leakage"]),
                money(g["special_discount"]),
                g["realization_pct"],
                f"{g['out_of_policy_lines']:,}",
                *([f"{g['unjudged_lines']:,}"] if unjudged else []),
            )
            for g in top
        ],
        title=f"Top {len(top)} of {len(groups)} by leakage",
        right=right,
    )
