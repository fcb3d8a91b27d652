"""The guardrails, each written once, over columns of lines (a single line is a table of one row).

A check takes a :class:`Context` (the policy, the lines as :class:`LineColumns`, and what several
checks share: which rules cover each line, each line's hard floor) and returns an
:class:`Outcome`: for every line the lowest level that may approve it (0: the first level) and
whether nobody may; and, for one line, the findings a person reads. :data:`CHECKS` is the list the
engine runs, for a request line (:func:`pricing.policy.engine.judge`) and for a million deal
lines (:func:`pricing.policy.engine.classify`) alike.

Adding a guardrail is adding one function to :data:`CHECKS` (and one test).

Money is exact: amounts are whole millionths of the line's currency; a unit price and a deal
value are ratios of integers; each comparison multiplies out in 64-bit integers where the
products are certain to fit, and in Python integers where they might not (:func:`product`).
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from pricing.money import format_pct, minor_units, quantum
from pricing.policy.model import Finding, LineFacts, Policy, Rule, discount_pct

MICRO = 1_000_000
Ints = npt.NDArray[Any]  # int64, or Python integers (object) where a value needs more bits
Bools = npt.NDArray[np.bool_]
Term = Ints | int
_FITS = 2.0**62  # a product below this (estimated in floats) is computed in int64
_FEW = 8  # lines this few are multiplied out in Python integers


# Exact integer arithmetic over columns ---------------------------------------------------------


def product(terms: Sequence[Term], n: int) -> Ints:
    """The product of ``terms`` (columns or integers) row by row, exactly: int64 when every row
    surely fits, else Python integers. The bound (the product of each term's largest size, in
    floats) decides only which; it never decides a comparison."""
    scalar, columns = 1, []
    for term in terms:
        if isinstance(term, np.ndarray):
            columns.append(term)
        else:
            scalar *= term
    if n <= _FEW:  # a request's line: Python integers, without numpy's cost per call
        values = [scalar] * n
        for column in columns:
            values = [v * int(t) for v, t in zip(values, column.tolist(), strict=True)]
        few: Ints = np.array(values, dtype=object)
        return few
    bound = max(abs(float(scalar)), 1.0)
    for column in columns:
        if len(column):
            bound *= max(abs(float(column.max())), abs(float(column.min())), 1.0)
    wide = bound >= _FITS
    result: Ints = np.full(n, scalar, dtype=object if wide else np.int64)
    if columns:
        result = columns[0].astype(object if wide else np.int64, copy=False)
        for column in columns[1:]:
            result = result * (column.astype(object) if wide else column)
        if scalar != 1:
            result = result * scalar
    return result


def difference(left: Sequence[Term], right: Sequence[Term], n: int) -> Ints:
    """``prod(left) - prod(right)`` row by row, exactly (compare it with 0)."""
    return _minus(product(left, n), product(right, n))


def _minus(a: Ints, b: Ints) -> Ints:
    """``a - b`` exactly (both int64 below 2**62 in size, or Python integers)."""
    if a.dtype == np.int64 and b.dtype == np.int64:
        fits: Ints = a - b
        return fits
    exact: Ints = a.astype(object) - b.astype(object)
    return exact


def negative(values: Ints) -> Bools:
    return np.asarray(values < 0, dtype=bool)


def ceil_multiple(numerator: Sequence[Term], denominator: int, step: Term, n: int) -> Ints:
    """``prod(numerator) / denominator`` rounded up to a multiple of ``step`` (each row's)."""
    whole = product(numerator, n)
    divisor = product([step, denominator], n)
    if whole.dtype != np.int64 or divisor.dtype != np.int64:
        whole, divisor = whole.astype(object), divisor.astype(object)
    return -(-whole // divisor) * step


def ratio(amount: Decimal, scale: int = 1) -> tuple[int, int]:
    """``amount x scale`` as an exact fraction of integers (numerator, positive denominator)."""
    return (amount * scale).as_integer_ratio()


def _full(n: int, value: int) -> Ints:
    full: Ints = np.full(n, value, dtype=np.int64 if abs(value) < 2**62 else object)
    return full


def _column(values: Sequence[int]) -> Ints:
    """Integers as int64 when each is below 2**62 in size (so that a difference fits), else
    as Python integers."""
    if all(abs(v) < 2**62 for v in values):
        return np.array(values, dtype=np.int64)
    return np.array(values, dtype=object)


# The lines ------------------------------------------------------------------------------------


class Values:
    """A text column as its distinct values and each line's code (-1 where missing): a million
    lines hold a few thousand SKUs and a handful of families, so a Python test (casefold,
    fnmatch) runs once per distinct value."""

    def __init__(self, values: list[str], codes: npt.NDArray[np.int64]) -> None:
        self.values = values
        self.codes = codes

    @classmethod
    def of(cls, texts: Sequence[str | None]) -> Values:
        distinct: dict[str, int] = {}
        codes = [-1 if t is None else distinct.setdefault(t, len(distinct)) for t in texts]
        return cls(list(distinct), np.array(codes, dtype=np.int64))

    def where(self, test: Callable[[str], bool]) -> Bools:
        """Lines whose value passes ``test`` (a missing value never does)."""
        passed = np.array([test(v) for v in self.values] + [False], dtype=bool)
        return passed[self.codes]  # code -1 takes the trailing False

    def map(self, value: Callable[[str], int], missing: int) -> Ints:
        """Each line's ``value(text)`` (``missing`` where it has none)."""
        table = np.array([value(v) for v in self.values] + [missing], dtype=np.int64)
        return table[self.codes]


@dataclass(frozen=True)
class LineColumns:
    """Lines as the guardrails read them, one entry per line in each column.

    Money is in whole millionths of the line's currency (``currency``). A line's unit price is
    ``price_num / price_den`` millionths; ``price_den`` is 0 for a line without a quantity, which
    has no unit price. Its deal value (currency units) is the product of ``deal_factors`` over
    ``deal_den``. ``facts`` and ``quoted``: the lines and their prices when there are few (judging
    a request), so that reasons quote their amounts as written."""

    sku_key: Values  # the SKU, case folded
    family: Values
    currency: Values
    qty: Ints  # millionths of a unit
    standard: Ints
    price_num: Ints
    price_den: Ints
    cost: Ints
    no_cost: Bools
    floor: Ints  # the price book's floor price
    no_floor: Bools
    deal_factors: tuple[Term, ...]
    deal_den: Term
    facts: tuple[LineFacts, ...] = ()
    quoted: tuple[Decimal, ...] = ()  # the unit prices of ``facts`` as written

    @property
    def n(self) -> int:
        return len(self.qty)

    @classmethod
    def of_lines(cls, lines: Sequence[tuple[LineFacts, Decimal]]) -> LineColumns:
        """Lines and their unit prices (a request's), one row each."""
        facts = [line for line, _ in lines]
        prices = [ratio(price, MICRO) for _, price in lines]
        deals = [ratio(line.deal_value) for line in facts]

        def micros(amounts: list[Decimal | None]) -> Ints:
            return _column([0 if a is None else int(a * MICRO) for a in amounts])

        return cls(
            sku_key=Values.of([line.sku.casefold() for line in facts]),
            family=Values.of([line.family for line in facts]),
            currency=Values.of([line.currency for line in facts]),
            qty=_column([int(Decimal(line.qty) * MICRO) for line in facts]),
            standard=micros([line.standard_price for line in facts]),
            price_num=_column([num for num, _ in prices]),
            price_den=_column([den for _, den in prices]),
            cost=micros([line.unit_cost for line in facts]),
            no_cost=np.array([line.unit_cost is None for line in facts], dtype=bool),
            floor=micros([line.item_floor for line in facts]),
            no_floor=np.array([line.item_floor is None for line in facts], dtype=bool),
            deal_factors=(_column([num for num, _ in deals]),),
            deal_den=_column([den for _, den in deals]),
            facts=tuple(facts),
            quoted=tuple(price for _, price in lines),
        )


# What the checks share ------------------------------------------------------------------------


@dataclass(frozen=True)
class Floor:
    """One floor that applies to some lines (``amount`` None: it cannot be checked there)."""

    covers: Bools
    amount: Ints | None
    source: Callable[[int], str]  # the reason, for one line
    written: Callable[[int], Decimal | None] | None = None  # the amount as written, for one line


class Context:
    """The policy and the lines, and what the checks work out once for all of them."""

    def __init__(self, policy: Policy, lines: LineColumns) -> None:
        self.policy = policy
        self.lines = lines
        self.n = lines.n

    @cached_property
    def order(self) -> list[int]:
        return self.policy.rule_order()

    @cached_property
    def covered(self) -> dict[int, Bools]:
        """For each rule (by position), the lines it covers."""
        return {i: self._covers(self.policy.rule[i]) for i in self.order}

    def _covers(self, rule: Rule) -> Bools:
        lines, n = self.lines, self.n
        mask = np.ones(n, dtype=bool)
        if rule.sku is not None:
            wanted = rule.sku.casefold()
            if rule.specificity == 4:
                key = wanted.strip()
                mask &= lines.sku_key.where(lambda sku: sku.strip() == key)
            else:
                mask &= lines.sku_key.where(lambda sku: fnmatch.fnmatchcase(sku, wanted))
        if rule.family is not None:
            family = rule.family.casefold()
            mask &= lines.family.where(lambda value: value.casefold() == family)
        if rule.min_qty is not None:
            mask &= lines.qty >= rule.min_qty * MICRO
        if rule.max_qty is not None:
            mask &= lines.qty <= rule.max_qty * MICRO
        for bound, sign in ((rule.min_deal_value, 1), (rule.max_deal_value, -1)):
            if bound is not None:  # deal value = factors / den  against  bound = a / b
                a, b = ratio(bound)
                over = difference([*lines.deal_factors, b], [a, lines.deal_den], n)
                mask &= ~negative(over * sign)
        return mask

    @cached_property
    def limit_scope(self) -> list[Ints]:
        """For each level, where its limit on each line comes from: 0 the default limits, i + 1
        the rule at position i (the most specific matching rule that names the level)."""
        scopes = []
        for level in self.policy.levels:
            scope = np.zeros(self.n, dtype=np.int64)
            for i in reversed(self.order):
                if level in self.policy.rule[i].limits:
                    np.copyto(scope, i + 1, where=self.covered[i])
            scopes.append(scope)
        return scopes

    def limits(self, row: int) -> list[tuple[str, Decimal, str]]:
        """Each level's limit for one line and the scope it came from, lowest level first."""
        result = []
        for level, scope in zip(self.policy.levels, self.limit_scope, strict=True):
            i = int(scope[row]) - 1
            if i < 0:
                result.append((level, self.policy.limits[level], "default limits"))
            else:
                rule = self.policy.rule[i]
                result.append((level, rule.limits[level], rule.describe()))
        return result

    @cached_property
    def in_currency(self) -> Bools:
        return self.lines.currency.where(lambda c: c == self.policy.currency)

    @cached_property
    def step(self) -> Term:
        """The minor unit of each line's currency, in millionths (one number when all lines
        share a currency)."""
        currency = self.lines.currency
        if len(currency.values) == 1 and bool(np.all(currency.codes == 0)):
            return int(10 ** (6 - minor_units(currency.values[0])))
        return currency.map(lambda c: 10 ** (6 - minor_units(c)), missing=10**4)

    @cached_property
    def standard_value(self) -> Ints:
        """Each line's standard price times its unit price's denominator: what the unit price's
        numerator is compared with (a discount is ``standard_value - price_num`` over it)."""
        return product([self.lines.standard, self.lines.price_den], self.n)

    @cached_property
    def priced(self) -> Bools:
        return np.asarray(self.lines.price_den != 0, dtype=bool)

    @cached_property
    def floors(self) -> list[Floor]:
        """Every floor, in the order reasons name them: the price book's, then each rule's (most
        specific first), a floor price before a minimum margin."""
        policy, lines = self.policy, self.lines
        found = [Floor(~lines.no_floor, lines.floor, self._item_floor, self._item_written)]
        for i in self.order:
            rule, covered = policy.rule[i], self.covered[i]
            if not covered.any():
                continue
            if rule.floor_price is not None:
                amount = _full(self.n, int(rule.floor_price * MICRO))
                named = _RuleFloor(rule)
                found.append(Floor(covered & self.in_currency, amount, named, named.written))
                found.append(Floor(covered & ~self.in_currency, None, self._foreign(rule)))
            if rule.min_margin_pct is not None:
                # price x (1 - m/100) >= cost: the floor is cost / (1 - m/100), rounded up to
                # the minor unit of the line's currency (the floor is a price of the line).
                with_cost = covered & ~lines.no_cost
                if with_cost.any():
                    a, b = ratio(rule.min_margin_pct)
                    margin = ceil_multiple([lines.cost, 100 * b], 100 * b - a, self.step, self.n)
                    found.append(Floor(with_cost, margin, self._margin(rule, margin)))
                found.append(Floor(covered & lines.no_cost, None, self._no_cost(rule)))
        return [f for f in found if f.covers.any()]

    @cached_property
    def hard_floor(self) -> tuple[Ints, Bools]:
        """The highest floor on each line (millionths) and the lines without any."""
        highest: Ints = np.zeros(self.n, dtype=np.int64)
        none = np.ones(self.n, dtype=bool)
        for floor in self.floors:
            if floor.amount is not None:
                amount = floor.amount
                higher = floor.covers & (none | (amount > highest))
                if amount.dtype != np.int64 and highest.dtype == np.int64:
                    highest = highest.astype(object)
                highest = np.where(higher, amount, highest)
                none &= ~floor.covers
        if highest.dtype != np.int64 and all(abs(int(v)) < 2**63 for v in highest):
            highest = highest.astype(np.int64)
        return highest, none

    @cached_property
    def below(self) -> Bools:
        """Lines priced below their hard floor (never a line without a unit price)."""
        lines = self.lines
        floor, none = self.hard_floor
        below = ~none & self.priced
        if below.any():
            below &= negative(difference([lines.price_num], [floor, lines.price_den], self.n))
        return below

    @cached_property
    def unchecked(self) -> Bools:
        """Lines with a floor that cannot be checked (a foreign currency, no unit cost)."""
        mask = np.zeros(self.n, dtype=bool)
        for floor in self.floors:
            if floor.amount is None:
                mask |= floor.covers
        return mask

    def floor_of(self, row: int) -> tuple[Decimal | None, list[str], list[str]]:
        """One line's hard floor as written where it comes from, its sources, and the floors
        that cannot be checked."""
        applying = [f for f in self.floors if f.covers[row]]
        unknown = [f.source(row) for f in applying if f.amount is None]
        highest, none = self.hard_floor
        if none[row]:
            return None, [], unknown
        top = highest[row]
        sources = [f for f in applying if f.amount is not None and f.amount[row] == top]
        first = sources[0]
        written = first.written(row) if first.written else self.decimal(int(top), row)
        return written, [f.source(row) for f in sources], unknown

    def decimal(self, micros: int, row: int) -> Decimal:
        """Millionths of one line's currency as a price in that currency (``134`` yen)."""
        currency = self.lines.currency.values[int(self.lines.currency.codes[row])]
        return (Decimal(micros) / MICRO).quantize(quantum(currency))

    # The reasons, for one line (judge) ---------------------------------------------------------

    def _item_written(self, row: int) -> Decimal | None:
        return self.lines.facts[row].item_floor

    def _item_floor(self, row: int) -> str:
        return f"the price book's floor price {self.lines.facts[row].item_floor}"

    def _foreign(self, rule: Rule) -> Callable[[int], str]:
        def source(row: int) -> str:
            return (
                f"{rule.describe()}: floor price {rule.floor_price} {self.policy.currency} "
                f"cannot be checked against a price in {self.lines.facts[row].currency}"
            )

        return source

    def _margin(self, rule: Rule, margin: Ints) -> Callable[[int], str]:
        def source(row: int) -> str:
            assert rule.min_margin_pct is not None
            return (
                f"{rule.describe()}: minimum margin {format_pct(rule.min_margin_pct)}% over "
                f"unit cost {self.lines.facts[row].unit_cost} needs at least "
                f"{self.decimal(int(margin[row]), row)}"
            )

        return source

    def _no_cost(self, rule: Rule) -> Callable[[int], str]:
        def source(row: int) -> str:
            assert rule.min_margin_pct is not None
            return (
                f"{rule.describe()}: minimum margin {format_pct(rule.min_margin_pct)}% cannot be "
                f"checked: SKU {self.lines.facts[row].sku} has no unit cost in the price book"
            )

        return source


class _RuleFloor:
    """A rule's floor price as a reason, and as written."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule

    def __call__(self, row: int) -> str:
        return f"{self.rule.describe()}: floor price {self.rule.floor_price}"

    def written(self, row: int) -> Decimal | None:
        return self.rule.floor_price


# The checks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A check's verdict on each line: the level needed (a rank, 0 the first level) and whether
    nobody may approve it; ``findings(row)`` says why, for one line."""

    rank: Ints
    reject: Bools
    findings: Callable[[int], list[Finding]]


def check_hard_floors(context: Context) -> Outcome:
    """Below a hard floor nobody may approve; a floor that cannot be checked goes to the top.

    A line without a quantity has no unit price: it cannot be below a floor, and there is
    nothing to check against a floor that cannot be checked."""
    policy = context.policy
    below = context.below
    unknown = context.unchecked & context.priced
    top = len(policy.levels) - 1

    def findings(row: int) -> list[Finding]:
        amount, sources, cannot = context.floor_of(row)
        found = [Finding(reason, level=policy.levels[-1]) for reason in cannot]
        if below[row]:
            found.append(
                Finding(f"below the hard floor {amount} ({'; '.join(sources)})", reject=True)
            )
        return found

    return Outcome(np.where(unknown, top, 0), below, findings)


def check_discount_limits(context: Context) -> Outcome:
    """The lowest level whose limit covers the discount from the standard price (a limit is
    inclusive); beyond the top level's, nobody may approve. A line at or above its standard
    price (or without a quantity, so without a price) has no discount to approve."""
    policy, lines, n = context.policy, context.lines, context.n
    # The discount is 100 x (S - P) / S with P = num / den: there is one when S x den > num
    # (``standard_value`` is S x den).
    price, standard = lines.price_num, context.standard_value
    discount = context.priced & (lines.standard > 0)
    if discount.any():
        discount &= negative(_minus(price, standard))
    # Every limit over one denominator B: L = keep / B, and the test is
    # (100B - keep) x S x den <= 100B x num, one multiplication of the prices for all levels.
    limits = [*policy.limits.values(), *(v for rule in policy.rule for v in rule.limits.values())]
    common = math.lcm(*(ratio(limit)[1] for limit in limits))
    scaled = product([100 * common, price], n)
    rank = np.full(n, -1, dtype=np.int64)
    for k in range(len(policy.levels) - 1, -1, -1):
        level = policy.levels[k]
        # each scope's 100B - keep: the default's first, then each rule's (by position)
        table = _column(
            [int((100 - limit) * common) for limit in (
                policy.limits[level],
                *(rule.limits.get(level, Decimal(0)) for rule in policy.rule),
            )]
        )  # fmt: skip
        within = ~negative(_minus(scaled, product([table[context.limit_scope[k]], standard], n)))
        rank = np.where(within, k, rank)
    beyond = discount & (rank < 0)
    rank = np.where(discount & ~beyond, rank, 0)

    def findings(row: int) -> list[Finding]:
        if not discount[row]:
            return [Finding("at or above the standard price: no discount to approve")]
        limits = context.limits(row)
        summary = describe_limits(limits)
        if not beyond[row]:
            return [Finding(summary, level=limits[int(rank[row])][0])]
        pct = discount_pct(lines.facts[row].standard_price, lines.quoted[row])
        return [
            Finding(
                f"{summary}; {format_pct(pct)}% is beyond the top level ({limits[-1][0]})",
                reject=True,
            )
        ]

    return Outcome(rank, beyond, findings)


def describe_limits(limits: list[tuple[str, Decimal, str]]) -> str:
    """``Hardware: rep may grant up to 10.00%, manager up to 20.00%`` (each scope named)."""
    scopes = {scope for _, _, scope in limits}
    parts = [
        f"{level} {'may grant ' if i == 0 else ''}up to {format_pct(limit)}%"
        + ("" if len(scopes) == 1 else f" ({scope})")
        for i, (level, limit, scope) in enumerate(limits)
    ]
    text = ", ".join(parts)
    return f"{limits[0][2]}: {text}" if len(scopes) == 1 else text


Check = Callable[[Context], Outcome]
CHECKS: list[Check] = [check_hard_floors, check_discount_limits]
