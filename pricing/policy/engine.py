"""The rules engine: one list of checks (:data:`pricing.policy.checks.CHECKS`), run over the
lines of one request, with the reasons a person reads (:func:`judge_lines`), or over whole
columns of deal lines (:func:`classify`).

Both are the same computation: a single line is a table of one row, so a line judged alone and
the same line classified among a million always agree (a property test compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from pricing.policy.checks import CHECKS, Context, LineColumns, describe_limits, ratio
from pricing.policy.model import LineDecision, LineFacts, Policy, discount_pct

if TYPE_CHECKING:
    from pricing.policy.arrays import Bools, Ints

__all__ = [
    "classify",
    "describe_limits",
    "hard_floor",
    "judge_lines",
    "lowest_prices",
]


def classify(policy: Policy, lines: LineColumns) -> tuple[Ints, Ints, Bools, Bools]:
    """Every line's class under ``policy``: the rank of the level needed (0 within the first
    level, -1 rejected), its hard floor (millionths) and the lines without one, and the lines
    priced below their floor.

    A line without a quantity has no unit price: it grants no discount and cannot be below a
    floor, so it is within the first level; its hard floor is still given."""
    context = Context(policy, lines)
    xp = context.xp
    rank = xp.small(lines.n, 0, len(policy.levels))
    reject = xp.flags(lines.n, False)
    for check in CHECKS:
        outcome = check(context)
        rank = xp.maximum(rank, outcome.rank)
        reject |= outcome.reject
    floor, none = context.floors.hard_floor
    result = xp.plain(xp.fill(rank, -1, reject)), floor, none, context.floors.below
    # The context's floors name their sources with closures over the context itself: a cycle.
    # Bulk work runs with the cyclic collector paused (io.perf.paused_gc), so the columns the
    # context cached (tens of MB per chunk of deal lines) would stay until it resumes.
    context.forget()
    return result


def judge_lines(policy: Policy, lines: Sequence[tuple[LineFacts, Decimal]]) -> list[LineDecision]:
    """The decision for each special price of one deal (a request's lines, or a single line,
    then a deal of its own): approved, pending at a level, or rejected, with the reasons a
    person reads; in one pass of the checks, the deal's value theirs together
    (:func:`pricing.policy.checks.deal_values`)."""
    context = Context(policy, LineColumns.of_lines(lines))
    outcomes = [check(context) for check in CHECKS]
    decisions = []
    for row, (line, price) in enumerate(lines):
        rank = max(int(context.xp.at(outcome.rank, row)) for outcome in outcomes)
        reasons = [f.reason for outcome in outcomes for f in outcome.findings(row)]
        pct = discount_pct(line.standard_price, price) if line.standard_price else Decimal(0)
        floor, _, _ = context.floors.of(row)
        if any(context.xp.at(outcome.reject, row) for outcome in outcomes):
            decisions.append(LineDecision("rejected", None, pct, reasons, floor))
        elif rank == 0:
            decisions.append(LineDecision("approved", None, pct, reasons, floor))
        else:
            decisions.append(LineDecision("pending", policy.levels[rank], pct, reasons, floor))
    return decisions


def _one(policy: Policy, line: LineFacts) -> Context:
    """The context of one line priced at its standard price (for its floors and limits)."""
    return Context(policy, LineColumns.of_lines([(line, line.standard_price)]))


def hard_floor(policy: Policy, line: LineFacts) -> tuple[Decimal | None, list[str], list[str]]:
    """The highest floor that applies, where each comes from, and floors that cannot be checked."""
    return _one(policy, line).floors.of(0)


def lowest_prices(policy: Policy, line: LineFacts) -> list[tuple[str, Decimal, Decimal]]:
    """For each level: its limit and the lowest price it may grant (never below the hard floor):
    the standard price less the limit, rounded up to the minor unit of the line's currency."""
    context = _one(policy, line)
    floor, _, _ = context.floors.of(0)
    result = []
    for level, limit, _ in context.limits(0):
        a, b = ratio(limit)
        lowest = context.xp.ceil_multiple(
            [context.lines.standard, 100 * b - a], 100 * b, context.step, 1
        )
        price = context.decimal(int(context.xp.at(lowest, 0)), 0)
        result.append((level, limit, floor if floor is not None and price < floor else price))
    return result
