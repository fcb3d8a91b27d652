"""The drift report in words and figures, before any file format: the JSON document (what
``--json`` prints and the report's result model reads), each figure's heading and how it is
written, the waterfall's steps and the notes on what the figures leave out.

It stands apart from the writers (:mod:`pricing.analysis.report_files` and the xlsx and html
modules beside it) because the CLI's table and the result model need these words and figures
without loading a workbook or chart library, and every file must say them the same way.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from pricing.analysis.report import EXTRA_KEYS, METRIC_KEYS, Report
from pricing.analysis.report_figures import Metrics
from pricing.money import format_money, format_pct, quantum, round_money

LABELS = {
    "lines": "Lines", "deals": "Deals", "quantity": "Quantity", "list_revenue": "List revenue",
    "standard_revenue": "Standard revenue", "net_revenue": "Net revenue", "leakage": "Leakage",
    "standard_discount": "Standard discount", "special_discount": "Special discount",
    "realization_pct": "Realization %", "out_of_policy_lines": "Out-of-policy lines",
    "out_of_policy_amount": "Out-of-policy amount", "unmatched_lines": "Unmatched lines",
    "weighted_discount_pct": "Weighted discount %", "in_policy_special_discount": "In-policy special discount",
    "below_approved_lines": "Lines below approved price", "cost": "Cost", "margin_pct": "Margin %",
    "unjudged_lines": "Lines not judged (no policy)", "unjudged_net_revenue": "Net revenue not judged",
    "unjudged_special_discount": "Special discount not judged",
    "sales_lines": "Sales lines", "gross_discount": "Discounts given",
    "above_standard_lines": "Lines above standard", "above_standard_amount": "Above standard",
    "above_standard_flagged_lines": "Lines to check (far above standard)",
    "returns_lines": "Return lines", "returns_amount": "Returns (refunded)",
    "returns_at_list": "Returns at list", "net_after_returns": "Net after returns",
    "returns_above_list_lines": "Returns above list", "stock_adjustment_lines": "Stock adjustments",
    "unmatched_net_revenue": "Unmatched net revenue", "contract_lines": "Lines at contracted prices",
    "contract_discount": "Special discount under contracts",
}  # fmt: skip
MONEY_KEYS = {
    "list_revenue", "standard_revenue", "net_revenue", "leakage", "standard_discount",
    "special_discount", "out_of_policy_amount", "in_policy_special_discount", "cost",
    "unjudged_net_revenue", "unjudged_special_discount", "gross_discount",
    "above_standard_amount", "returns_amount", "returns_at_list", "net_after_returns",
    "unmatched_net_revenue", "contract_discount",
}  # fmt: skip
PCT_KEYS = {"realization_pct", "weighted_discount_pct", "margin_pct"}
COUNT_KEYS = {"lines", "deals", "out_of_policy_lines", "unmatched_lines", "below_approved_lines",
              "unjudged_lines", "sales_lines", "above_standard_lines",
              "above_standard_flagged_lines", "returns_lines", "returns_above_list_lines",
              "stock_adjustment_lines", "contract_lines"}  # fmt: skip
HEADINGS = {
    **LABELS, "sku": "SKU", "qty": "Quantity", "rep": "Rep", "family": "Family", "month": "Month",
    "customer": "Customer", "date": "Date", "deal": "Deal", "list_price": "List price",
    "standard_price": "Standard price", "net_price": "Net price", "discount_pct": "Discount %",
    "why": "Why", "net_amount": "Net amount",
}  # fmt: skip


def heading(name: str) -> str:
    """A column's header, the same on every sheet and page (``SKU``, ``Discount %``)."""
    return HEADINGS.get(name, name.replace("_", " ").capitalize())


def unjudged_note(metrics: Metrics, currency: str) -> str | None:
    """What was not judged, said in words (None when every matched line was judged)."""
    from pricing.money import display_money

    if not metrics.unjudged_lines:
        return None
    return (
        f"{metrics.unjudged_lines:,} lines (net {display_money(metrics.unjudged_net_revenue, currency)}) "
        "not judged: no policy in force on their dates"
    )


def metric_value(metrics: Metrics, key: str) -> Any:
    return getattr(metrics, key)


def metrics_document(metrics: Metrics, currency: str) -> dict[str, Any]:
    """Money as decimal strings in minor units, percentages with 2 places, counts as numbers.

    Amounts are rounded once, here, from the exact sums (as :func:`pricing.money.format_money`
    does, the currency's step worked out once: a report by customer has thousands of groups).
    """
    step = quantum(currency)
    document: dict[str, Any] = {}
    for key, kind in _KINDS:
        value = getattr(metrics, key)
        if kind == "money":
            document[key] = None if value is None else str(value.quantize(step, ROUND_HALF_EVEN))
        elif kind == "pct":
            document[key] = format_pct(value)
        elif kind == "quantity":
            document[key] = int(value) if value == value.to_integral_value() else str(value)
        else:
            document[key] = value
    return document


def _written_as(key: str) -> str:
    """How a figure of a metrics document is written: money, pct, quantity or as is."""
    if key in MONEY_KEYS:
        return "money"
    if key in PCT_KEYS:
        return "pct"
    return "quantity" if key == "quantity" else "as is"


_KINDS = tuple((key, _written_as(key)) for key in (*METRIC_KEYS, *EXTRA_KEYS))


def report_document(report: Report) -> dict[str, Any]:
    c = report.currency
    document: dict[str, Any] = {
        "from": report.start.isoformat() if report.start else None,
        "to": report.end.isoformat() if report.end else None,
        "currency": c,
        "by": report.by,
        "totals": metrics_document(report.totals, c),
        "groups": [{"key": key, **metrics_document(m, c)} for key, m in report.groups],
        "waterfall": waterfall(report.totals, c),
        "sort": report.sort,
        "deals_overlap": report.deals_overlap,
        "notes": notes(report),
    }
    if report.conversion is not None:
        conversion = report.conversion
        document["converted"] = {
            "to": conversion.to,
            "lines": conversion.lines,
            "net_revenue_share_pct": format_pct(conversion.net_revenue_share),
        }
        document["rates"] = [
            {
                "currency": used.currency,
                "lines": used.lines,
                "from": used.first.isoformat(),
                "to": used.last.isoformat(),
                "lowest": plain(used.lowest),
                "highest": plain(used.highest),
                "how": used.how,
                "oldest_days": used.oldest_days,
                "stale_lines": used.stale_lines,
            }
            for used in conversion.rates
        ]
    if report.sections:
        document["by_currency"] = [
            {
                "currency": section.currency,
                "totals": metrics_document(section.totals, section.currency),
                "groups": [
                    {"key": key, **metrics_document(m, section.currency)}
                    for key, m in section.groups
                ],
                "waterfall": waterfall(section.totals, section.currency),
                "notes": said,
            }
            for section, said in zip(
                report.sections,
                [[n for n in notes(report) if not n.startswith(MIXED)]]
                + [notes(other) for other in report.others],
                strict=True,
            )
        ]
    if report.months:
        document["months"] = [
            {"month": month, **metrics_document(m, c)} for month, m in report.months
        ]
        document["months_deals_overlap"] = report.months_overlap
    if report.details:
        document["unmatched"] = [_line_document(u, c) for u in report.unmatched]
        document["flagged"] = [_line_document(line, c) for line in report.flagged]
        document["stock_adjustments"] = [
            _line_document(line, c) for line in report.stock_adjustments
        ]
    if report.bands:
        document["price_bands"] = {
            "basis": report.band_basis,
            "bands": [
                {
                    "key": b.key,
                    "lines": b.lines,
                    **{k: format_pct(v) for k, v in b.percentiles.items()},
                }
                for b in report.bands
            ],
        }
    return document


TOTAL_STEPS = ("List revenue", "Standard revenue", "Net revenue")  # bars from zero, not steps
ABOVE_STANDARD_STEP = "Above standard (sales above their standard price)"


def waterfall(metrics: Metrics, currency: str) -> list[dict[str, str | None]]:
    """List -> standard -> special (in policy or approved, under contracts, out of policy, not
    judged) -> above standard -> net, over the sales, as amounts (each step and where it lands): the discounts negative, the
    sales above standard positive, so that the steps add up to each total exactly."""
    steps = [
        ("List revenue", metrics.list_revenue),
        ("Standard discount (marketing's tiers)", -metrics.standard_discount),
        ("Standard revenue", metrics.standard_revenue),
        (
            "Special discount within policy or approved",
            -(metrics.in_policy_special_discount - metrics.contract_discount),
        ),
        *(
            [("Contracted prices (special discount under contracts)", -metrics.contract_discount)]
            if metrics.contract_discount
            else []
        ),
        ("Out-of-policy discount", -metrics.out_of_policy_amount),
        *(
            [
                (
                    "Special discount not judged (no policy in force)",
                    -metrics.unjudged_special_discount,
                )
            ]
            if metrics.unjudged_special_discount
            else []
        ),
        (ABOVE_STANDARD_STEP, metrics.above_standard_amount),
        ("Net revenue", metrics.net_revenue),
    ]
    # Each step is the move between two levels rounded to the currency, so that the steps as
    # shown add up to the totals as shown (rounding each step alone lost a cent).
    shown, level = [], Decimal(0)
    for name, amount in steps:
        if name in TOTAL_STEPS:
            level = amount
            shown.append((name, round_money(amount, currency)))
            continue
        moved = round_money(level + amount, currency) - round_money(level, currency)
        level += amount
        shown.append((name, moved))
    return [{"step": name, "amount": format_money(amount, currency)} for name, amount in shown]


def is_total_step(steps: list[dict[str, str | None]], index: int) -> bool:
    """A total (list, standard, net revenue; the first step and the last) is a bar standing on
    the axis; every other step moves revenue from where the one before it landed."""
    return index in (0, len(steps) - 1) or steps[index]["step"] in TOTAL_STEPS


PLURALS = {
    "family": "families",
    "sku": "SKUs",
    "currency": "currencies",
}  # a breakdown key's plural (else key + s)


def _counted(count: int, thing: str) -> str:
    """``1 return line``, ``2 return lines``."""
    return f"{count:,} {thing}{'' if count == 1 else 's'}"


MIXED = "the sales are in "  # the note of a report over several currencies begins so
CONVERTED = "converted to "  # the note of a report converted to one (--currency) begins so


def notes(report: Report) -> list[str]:
    """What the figures leave out or count twice, said in words (empty: nothing to say)."""
    from pricing.money import display_money

    t, c = report.totals, report.currency
    said: list[str] = []
    if report.conversion is not None and report.conversion.lines:
        conversion = report.conversion
        codes = [used.currency for used in conversion.rates]
        listed = f"{', '.join(codes[:-1])} and {codes[-1]}" if len(codes) > 1 else codes[0]
        ways = sorted({how for used in conversion.rates for how in used.how})
        share = format_pct(conversion.net_revenue_share)
        said.append(
            f"{CONVERTED}{c}: {_counted(conversion.lines, 'line')} in {listed}"
            + (f" ({share} % of the net revenue)" if share is not None else "")
            + ", each at the exchange rate of its own date (the last published on or before "
            f"it; {', '.join(ways)}), summed exactly and rounded once"
        )
        stale = [used for used in conversion.rates if used.stale_lines]
        if stale:
            said.append(
                f"{_counted(sum(u.stale_lines for u in stale), 'line')} converted at a rate "
                f"older than {stale[0].max_age} days (the policy's fx_max_age_days; the oldest "
                f"{max(u.oldest_days for u in stale)} days, in "
                f"{', '.join(u.currency for u in stale)}): import newer rates"
            )
    if report.sections:
        codes = report.currencies
        listed = f"{', '.join(codes[:-1])} and {codes[-1]}"
        said.append(
            f"{MIXED}{listed} (their items' currencies), never added together: the totals, "
            f"the groups and the waterfall here are of the {c} sales (and of the lines matched "
            "to no price); each other currency's are shown apart, in a section of their own"
        )
    if report.deals_overlap:
        said.append(
            f"deals overlap: the groups count {sum(m.deals for _, m in report.groups):,} deals "
            f"where the total counts {t.deals:,}, a deal with lines in several groups (two "
            f"{' or two '.join(PLURALS.get(b, b + 's') for b in report.by)}) counting in each"
        )
    if report.months and report.months_overlap:
        said.append(
            f"deals overlap by month: the months count {sum(m.deals for _, m in report.months):,} "
            f"deals where the total counts {t.deals:,}, a deal spanning months counting in each"
        )
    if t.returns_lines:
        said.append(
            f"{_counted(t.returns_lines, 'return line')} (refunded "
            f"{display_money(t.returns_amount, c)}): apart from the sales figures and never "
            "judged; net after returns "
            f"{display_money(t.net_after_returns, c)}"
        )
    if t.unmatched_lines:
        said.append(
            f"{_counted(t.unmatched_lines, 'unmatched line')} (net "
            f"{display_money(t.unmatched_net_revenue, c)}), no list price on the date sold: "
            "left out of every other figure"
        )
    if t.stock_adjustment_lines:
        said.append(
            f"{_counted(t.stock_adjustment_lines, 'stock adjustment')} (negative quantity at "
            "price 0): left out of every money figure"
        )
    flagged = t.above_standard_flagged_lines + t.returns_above_list_lines
    if flagged:
        said.append(
            f"{_counted(flagged, 'line')} to check (a sale above {report.flag.normalize()}x "
            "its standard price, or a refund above its list price): check the price or quantity"
        )
    return said


def _line_document(line: dict[str, Any], currency: str) -> dict[str, Any]:
    """A listed line (or unmatched SKU) as JSON: money in minor units, dates ISO."""
    document: dict[str, Any] = {}
    for key, value in line.items():
        if key in ("net_revenue", "net_amount", "list_price", "standard_price", "net_price"):
            document[key] = format_money(value, currency)
        elif isinstance(value, Decimal):
            document[key] = int(value) if value == value.to_integral_value() else str(value)
        elif hasattr(value, "isoformat"):
            document[key] = value.isoformat()
        else:
            document[key] = value
    return document


def plain(rate: Decimal) -> str:
    """A rate as written: its digits, no trailing zeros, never an exponent (``1.0847``)."""
    return f"{rate.normalize():f}"


def safe_text(value: Any) -> Any:
    """Text as a spreadsheet cell may hold it (:func:`pricing.text.spreadsheet_text`): never a
    formula, no character a cell cannot hold; other values as they are."""
    from pricing.text import spreadsheet_text

    return spreadsheet_text(value) if isinstance(value, str) else value
