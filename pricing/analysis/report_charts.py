"""What the report's two kinds of chart draw alike: the html page's SVG (matplotlib) and the
workbook's native Excel charts. The waterfall's bars and where its axis starts, each step's
colour, which figures the breakdown's chart draws for how many groups, and the sentences that
say what their signs mean.

It stands apart so that the two chart writers (:mod:`pricing.analysis.report_html`,
:mod:`pricing.analysis.report_xlsx`) cannot drift apart (tests/test_report_charts.py holds both
to the same numbers).
"""

from __future__ import annotations

from decimal import Decimal

from pricing.analysis.report import Report
from pricing.analysis.report_document import ABOVE_STANDARD_STEP, MONEY_KEYS, is_total_step


def waterfall_bars(steps: list[dict[str, str | None]]) -> list[tuple[Decimal, Decimal]]:
    """Where each step's bar starts and how long it is, never a negative length: the totals
    from zero, every other step floating between where the step before it landed and where it
    lands, whatever its sign (a discount down, a sale above standard up). What both the html
    and the xlsx draw, from the amounts of ``waterfall()`` as they are."""
    level = Decimal(0)
    bars: list[tuple[Decimal, Decimal]] = []
    for index, step in enumerate(steps):
        amount = Decimal(step["amount"] or 0)
        if is_total_step(steps, index):
            bars.append((Decimal(0), amount))
            level = amount
        else:
            bars.append((min(level, level + amount), abs(amount)))
            level += amount
    return bars


def waterfall_axis_start(steps: list[dict[str, str | None]]) -> Decimal:
    """Where the waterfall's value axis starts: at a round number below the lowest running
    total when zero lies far below it (so that a 2 % step is not a sliver beside 55 M bars),
    else at zero. Both charts say where it starts when it is not zero."""
    import math

    levels: list[Decimal] = []
    for index, (start, length) in enumerate(waterfall_bars(steps)):
        levels += [start + length] if is_total_step(steps, index) else [start, start + length]
    low, high = min(levels, default=Decimal(0)), max(levels, default=Decimal(0))
    span = high - low
    if not span or low <= 0 or low <= span:  # zero is near: the totals are drawn whole
        return Decimal(0)
    unit = Decimal(10) ** math.floor(math.log10(span or low))
    return max(((low - span / 4) // unit) * unit, Decimal(0))


WATERFALL_SIGNS = (
    "Each step as it moves revenue from list to net: a discount (money given away) is minus, "
    "a sale above its standard price plus. Tables of discounts and leakage show the amount "
    "given away."
)


# Each step's colour in both charts: totals dark, discounts lighter, out of policy red.
_STEP_COLOURS = {
    "List revenue": "1F3864",
    "Standard discount (marketing's tiers)": "8FAADC",
    "Standard revenue": "1F3864",
    "Special discount within policy or approved": "2F5597",
    "Contracted prices (special discount under contracts)": "7F6000",
    "Out-of-policy discount": "C00000",
    "Special discount not judged (no policy in force)": "A6A6A6",
    ABOVE_STANDARD_STEP: "548235",
    "Net revenue": "1F3864",
}


def step_colour(steps: list[dict[str, str | None]], index: int) -> str:
    """A step's colour in both charts: its own, else totals dark, a step down blue, up green."""
    step = steps[index]
    if str(step["step"]) in _STEP_COLOURS:
        return _STEP_COLOURS[str(step["step"])]
    if is_total_step(steps, index):
        return "1F3864"
    return "548235" if Decimal(step["amount"] or 0) > 0 else "2F5597"


# What the breakdown's charts draw per group: columns of the table beside them, as it shows them.
GROUP_CHART_COLOURS = ("2F5597", "C00000")  # the ranked figure's bars, the out-of-policy ones
GROUP_CHART_TOP = {"html": 15, "xlsx": 20}
GROUP_SIGNS = (
    "Discounts, leakage and the out-of-policy amount as the amount given away (a leakage below "
    "zero: sold above list); the chart draws the table's own numbers."
)


def group_chart_keys(report: Report) -> tuple[str, str]:
    """What the breakdown's charts draw per group: the figure the groups are ranked by (money;
    by a count or a percentage, the money given away) beside the out-of-policy amount, a part
    of the discounts given; columns of the table beside them, as it shows them."""
    ranked = report.sort
    if ranked not in MONEY_KEYS or ranked == "out_of_policy_amount":
        ranked = "gross_discount"
    return ranked, "out_of_policy_amount"


def more_groups(report: Report, shown: int) -> str:
    """What a chart of the first groups says of the rest (empty when it shows them all)."""
    rest = len(report.groups) - shown
    if rest <= 0:
        return ""
    return f"{rest:,} more in the table, not drawn"
