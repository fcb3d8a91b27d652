"""The guardrails, each written once, over columns of lines (a single line is a table of one row).

A check takes a :class:`Context` (the policy, the lines as :class:`LineColumns`, and what several
checks share: which rules cover each line, each line's hard floor) and returns an
:class:`Outcome`: for every line the lowest level that may approve it (0: the first level) and
whether nobody may; and, for one line, the findings a person reads. :data:`CHECKS` is the list the
engine runs, for a request's lines (:func:`pricing.policy.engine.judge_lines`) and for a million deal
lines (:func:`pricing.policy.engine.classify`) alike.

Adding a guardrail is adding one function to :data:`CHECKS` (and one test).

Money is exact: amounts are whole millionths of the line's currency; a unit price and a deal
value are ratios of integers; each comparison multiplies out in 64-bit integers where the
products are certain to fit, and in Python integers where they might not (:func:`product`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

from pricing.keys import glob_matcher, sku_key
from pricing.money import MICRO, format_pct, minor_units, quantum
from pricing.policy.arrays import PYTHON, SCALAR, Arrays, PyArray
from pricing.policy.model import Finding, LineFacts, Policy, Rule, discount_pct

if TYPE_CHECKING:
    from pricing.policy.arrays import Bools, Ints, Term

_T = TypeVar("_T")


class _once(Generic[_T]):
    """:func:`functools.cached_property` without its lock (Python 3.11 takes it on each first
    read, and judging one line reads a dozen of them once)."""

    def __init__(self, func: Callable[[Any], _T]) -> None:
        self.func = func
        self.__doc__ = func.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> _once[_T]: ...

    @overload
    def __get__(self, instance: object, owner: type | None = None) -> _T: ...

    def __get__(self, instance: object | None, owner: type | None = None) -> _T | _once[_T]:
        if instance is None:
            return self
        value = self.func(instance)
        instance.__dict__[self.name] = value
        return value


# Exact integer arithmetic ---------------------------------------------------------------------


def arrays_for(column: Ints) -> Arrays:
    """The backend of a column: Python for a request's lines, numpy for columns of deal lines."""
    found: object = column  # a PyArray (or an int: one line) is typed as a numpy array
    if isinstance(found, int):
        return SCALAR
    if isinstance(found, PyArray):
        return PYTHON
    from pricing.policy.arrays_numpy import NumpyArrays

    return NumpyArrays()


def product(terms: Sequence[Term], n: int) -> Ints:
    """The product of numpy ``terms`` (columns or integers) row by row, exactly: int64 when
    every row surely fits, else Python integers."""
    from pricing.policy.arrays_numpy import NumpyArrays

    return NumpyArrays().product(terms, n)


def ratio(amount: Decimal, scale: int = 1) -> tuple[int, int]:
    """``amount x scale`` as an exact fraction of integers (numerator, positive denominator)."""
    return (amount * scale).as_integer_ratio()


def times(amount: int, qty: int) -> int:
    """``amount x qty`` (both millionths) in millionths, rounded half-even once, exactly: a
    line's revenue at a price (its standard revenue at its standard price)."""
    quotient, remainder = divmod(amount * qty, MICRO)
    twice = 2 * remainder
    return quotient + int(twice > MICRO or (twice == MICRO and quotient % 2 == 1))


def deal_values(deal: Ints, qty: Ints, standard_revenue: Ints) -> Ints:
    """THE deal value, for each line: the value of the deal it belongs to, at standard prices.

    A deal's value is the sum of the standard revenue (quantity x standard price, millionths)
    of all its sales lines: lines of quantity above zero (a return is never part of a deal's
    size, nor judged). ``deal`` names each line's deal (non-negative integers; a request is
    one deal). Every path that judges a line takes its deal value from here: a request's lines
    (:meth:`LineColumns.of_lines`), the deal history at import and re-match, ``policy
    simulate`` and a price change's impact on open approvals."""
    xp = arrays_for(qty)
    return xp.group_sum(deal, xp.where(qty > 0, standard_revenue, 0))


def _at(amount: Term, row: int) -> int:
    """One line's amount (``amount`` is each line's, or one for all)."""
    return amount if isinstance(amount, int) else int(amount[row])  # one line: an int


# The lines ------------------------------------------------------------------------------------


class Values:
    """A text column as its distinct values and each line's code (-1 where missing): a million
    lines hold a few thousand SKUs and a handful of families, so a Python test (casefold,
    a glob) runs once per distinct value. :meth:`later` defers the work until a rule needs the
    column (a policy without SKU rules never encodes the SKUs)."""

    def __init__(self, values: list[str], codes: Ints, xp: Arrays | None = None) -> None:
        self.values = values  # the distinct values
        self.codes = codes  # each line's position in ``values`` (-1 where missing)
        self.xp = arrays_for(codes) if xp is None else xp

    @classmethod
    def later(
        cls,
        load: Callable[[], Values],
        xp: Arrays,
        *,
        equal: Callable[[str], Bools] | None = None,
        glob: Callable[[str], Bools] | None = None,
    ) -> Values:
        """The values ``load()`` returns, worked out when first needed. ``equal`` and ``glob``:
        the same tests as :meth:`where_equal` and :meth:`where_glob` over the whole column at
        once, where the column's owner has them (a million SKUs need no encoding then)."""
        return _Later(load, xp, equal, glob)

    @classmethod
    def of(cls, texts: Sequence[str | None], xp: Arrays) -> Values:
        """A few lines' texts (a Python backend)."""
        distinct: dict[str, int] = {}
        codes = [-1 if t is None else distinct.setdefault(t, len(distinct)) for t in texts]
        return cls(list(distinct), xp.column(codes), xp)

    def where(self, test: Callable[[str], bool]) -> Bools:
        """Lines whose value passes ``test`` (a missing value never does)."""
        passed = [test(v) for v in self.values] + [False]
        return self.xp.take_flags(passed, self.codes)  # code -1 takes the trailing False

    def where_equal(self, wanted: str) -> Bools:
        """Lines whose value, without surrounding space, is ``wanted`` (a missing value never
        is)."""
        return self.where(lambda value: value.strip() == wanted)

    def where_glob(self, pattern: str) -> Bools:
        """Lines whose value matches the glob ``pattern`` (:func:`pricing.keys.glob_regex`)."""
        return self.where(glob_matcher(pattern))

    def map(self, value: Callable[[str], int], missing: int) -> Ints:
        """Each line's ``value(text)`` (``missing`` where it has none)."""
        return self.xp.take([value(v) for v in self.values] + [missing], self.codes)


class _Later(Values):
    """:class:`Values` loaded on first use of ``values`` or ``codes``."""

    def __init__(
        self,
        load: Callable[[], Values],
        xp: Arrays,
        equal: Callable[[str], Bools] | None,
        glob: Callable[[str], Bools] | None,
    ) -> None:
        self._load = load
        self.xp = xp
        self._equal = equal
        self._glob = glob

    def where_equal(self, wanted: str) -> Bools:
        return super().where_equal(wanted) if self._equal is None else self._equal(wanted)

    def where_glob(self, pattern: str) -> Bools:
        return super().where_glob(pattern) if self._glob is None else self._glob(pattern)

    def __getattr__(self, name: str) -> Any:  # only while values and codes are not set
        if name not in ("values", "codes"):
            raise AttributeError(name)
        loaded = self._load()
        self.values, self.codes = loaded.values, loaded.codes
        return getattr(self, name)


@dataclass(frozen=True)
class LineColumns:
    """Lines as the guardrails read them, one entry per line in each column.

    Money is in whole millionths of the line's currency (``currency``). A line's unit price is
    ``price_num / price_den`` millionths; ``price_den`` is 0 for a line without a quantity, which
    has no unit price. ``deal_value``: the value of the line's deal (millionths, from
    :func:`deal_values`). ``facts`` and ``quoted``: the lines and their prices when there are few (judging
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
    deal_value: Ints
    facts: tuple[LineFacts, ...] = ()
    quoted: tuple[Decimal, ...] = ()  # the unit prices of ``facts`` as written

    @property
    def n(self) -> int:
        return len(self.facts) if self.facts else len(self.qty)

    @_once
    def xp(self) -> Arrays:
        """The array backend of these columns."""
        return arrays_for(self.qty)

    @classmethod
    def of_lines(cls, lines: Sequence[tuple[LineFacts, Decimal]]) -> LineColumns:
        """Lines and their unit prices (a request's), one row each: one line as plain Python
        integers and booleans (:data:`SCALAR`), a few as lists (:data:`PYTHON`). The lines
        are one deal: its value is :func:`deal_values` of them all."""
        facts = [line for line, _ in lines]
        prices = [ratio(price, MICRO) for _, price in lines]
        xp = SCALAR if len(facts) == 1 else PYTHON
        column = xp.column
        qty = column([_micros(line.qty) for line in facts])
        standard = [_micros(line.standard_price) for line in facts]
        revenue = column([times(s, q) for s, q in zip(standard, _list(qty), strict=True)])

        def micros(amounts: list[Decimal | None]) -> Ints:
            return column([0 if a is None else int(a * MICRO) for a in amounts])

        return cls(
            sku_key=Values.of([sku_key(line.sku) for line in facts], xp),
            family=Values.of([line.family for line in facts], xp),
            currency=Values.of([line.currency for line in facts], xp),
            qty=qty,
            standard=column(standard),
            price_num=column([num for num, _ in prices]),
            price_den=column([den for _, den in prices]),
            cost=micros([line.unit_cost for line in facts]),
            no_cost=xp.mask([line.unit_cost is None for line in facts]),
            floor=micros([line.item_floor for line in facts]),
            no_floor=xp.mask([line.item_floor is None for line in facts]),
            deal_value=deal_values(xp.full(len(facts), 0), qty, revenue),
            facts=tuple(facts),
            quoted=tuple(price for _, price in lines),
        )


def _micros(amount: int | Decimal) -> int:
    """An exact amount of a line (a quantity, a price) in whole millionths (rounded half-even
    below a millionth, as every stored amount is)."""
    return int((Decimal(amount) * MICRO).to_integral_value())


def _list(values: Ints) -> list[int]:
    """A request's column (one line: an int) as a list."""
    found: object = values
    return [found] if isinstance(found, int) else list(found)  # type: ignore[call-overload]


# What the checks share ------------------------------------------------------------------------


@dataclass(frozen=True)
class Floor:
    """One floor that applies to some lines (``amount`` None: it cannot be checked there)."""

    covers: Bools
    amount: Term | None  # each line's, or one for all
    source: Callable[[int], str]  # the reason, for one line
    written: Callable[[int], Decimal | None] | None = None  # the amount as written, for one line


class Context:
    """The policy and the lines, and what the checks work out once for all of them: which rules
    cover each line and where each level's limit on it comes from (here), and each line's hard
    floor (:attr:`floors`, worked out by :class:`Floors`)."""

    def __init__(self, policy: Policy, lines: LineColumns) -> None:
        self.policy = policy
        self.lines = lines
        self.n = lines.n
        self.xp = lines.xp

    @_once
    def order(self) -> tuple[int, ...]:
        return self.policy.scope_order

    @_once
    def covered(self) -> dict[int, Bools]:
        """For each rule (by position), the lines it covers."""
        return {i: self._covers(self.policy.rule[i]) for i in self.order}

    def _covers(self, rule: Rule) -> Bools:
        mask: Bools | None = None
        for test in self._tests(rule):
            mask = test() if mask is None else mask & test()
            if not self.xp.any(mask):  # covers no line: the remaining tests cannot change that
                break
        return self.xp.flags(self.n, True) if mask is None else mask

    def _tests(self, rule: Rule) -> list[Callable[[], Bools]]:
        """The tests a line passes when ``rule`` covers it, the cheapest first."""
        lines, n, xp = self.lines, self.n, self.xp
        tests: list[Callable[[], Bools]] = []
        if rule.family is not None:
            family = rule.family.casefold()
            tests.append(lambda: lines.family.where(lambda value: value.casefold() == family))
        if rule.sku is not None:
            if rule.specificity == 4:
                key = sku_key(rule.sku)
                tests.append(lambda: lines.sku_key.where_equal(key))
            else:
                pattern = rule.sku.casefold()
                tests.append(lambda: lines.sku_key.where_glob(pattern))
        if rule.min_qty is not None:
            least = rule.min_qty * MICRO
            tests.append(lambda: lines.qty >= least)
        if rule.max_qty is not None:
            most = rule.max_qty * MICRO
            tests.append(lambda: lines.qty <= most)
        for bound, sign in ((rule.min_deal_value, 1), (rule.max_deal_value, -1)):
            if bound is not None:  # deal value (millionths) x b  against  bound = a / b
                a, b = ratio(bound)

                def deal(a: int = a, b: int = b, sign: int = sign) -> Bools:
                    value = xp.product([lines.deal_value, b], n)
                    limit = a * MICRO
                    within: Bools = value >= limit if sign > 0 else value <= limit
                    return within

                tests.append(deal)
        return tests

    @_once
    def covering(self) -> list[int]:
        """The rules (by position) that cover at least one line, most specific first."""
        return [i for i in self.order if self.xp.any(self.covered[i])]

    @_once
    def limit_scope(self) -> list[Ints]:
        """For each level, where its limit on each line comes from: 0 the default limits, i + 1
        the rule at position i (the most specific matching rule that names the level)."""
        scopes = []
        for level in self.policy.levels:
            scope = self.xp.positions(self.n, len(self.policy.rule))
            for i in reversed(self.covering):
                if level in self.policy.rule[i].limits:
                    scope = self.xp.fill(scope, i + 1, self.covered[i])
            scopes.append(scope)
        return scopes

    def limits(self, row: int) -> list[tuple[str, Decimal, str]]:
        """Each level's limit for one line and the scope it came from, lowest level first."""
        result = []
        for level, scope in zip(self.policy.levels, self.limit_scope, strict=True):
            i = int(self.xp.at(scope, row)) - 1
            if i < 0:
                result.append((level, self.policy.limits[level], "default limits"))
            else:
                rule = self.policy.rule[i]
                result.append((level, rule.limits[level], rule.describe()))
        return result

    @_once
    def in_currency(self) -> Bools:
        return self.lines.currency.where(lambda c: c == self.policy.currency)

    @_once
    def step(self) -> Term:
        """The minor unit of each line's currency, in millionths (one number when all lines
        share a currency)."""
        currency = self.lines.currency
        if len(currency.values) == 1 and self.xp.all(currency.codes == 0):
            return int(10 ** (6 - minor_units(currency.values[0])))
        return currency.map(lambda c: 10 ** (6 - minor_units(c)), missing=10**4)

    @_once
    def standard_value(self) -> Ints:
        """Each line's standard price times its unit price's denominator: what the unit price's
        numerator is compared with (a discount is ``standard_value - price_num`` over it)."""
        return self.xp.product([self.lines.standard, self.lines.price_den], self.n)

    @_once
    def priced(self) -> Bools:
        priced: Bools = self.lines.price_den != 0
        return priced

    def decimal(self, micros: int, row: int) -> Decimal:
        """Millionths of one line's currency as a price in that currency (``134`` yen)."""
        currency = self.lines.currency.values[int(self.xp.at(self.lines.currency.codes, row))]
        return (Decimal(micros) / MICRO).quantize(quantum(currency))

    @_once
    def floors(self) -> Floors:
        """Every hard floor on the lines, the highest on each and the lines below theirs."""
        return Floors(self)

    def forget(self) -> None:
        """Drop what was worked out (the columns and the floors whose sources refer back to
        this context), so that the memory returns without the cyclic collector."""
        floors = self.__dict__.get("floors")
        if floors is not None:
            floors.forget()
        self.__dict__.clear()


class Floors:
    """Every hard floor on the lines of a :class:`Context`, in the order reasons name them (the
    price book's, then each covering rule's), the highest on each line, the lines below theirs
    and those with a floor that cannot be checked; for one line, its floor as written and the
    reasons that say where each comes from.

    Apart from the context because the floors are one concern (only the hard-floor check and
    the engine's floor columns read them), and their reasons refer back to it: :meth:`forget`
    undoes that cycle."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.policy, self.lines = context.policy, context.lines
        self.n, self.xp = context.n, context.xp

    @_once
    def each(self) -> list[Floor]:
        """Every floor, in the order reasons name them: the price book's, then each rule's (most
        specific first), a floor price before a minimum margin."""
        policy, lines, context = self.policy, self.lines, self.context
        xp = self.xp
        found = [
            Floor(xp.invert(lines.no_floor), lines.floor, self._item_floor, self._item_written)
        ]
        for i in context.covering:
            rule, covered = policy.rule[i], context.covered[i]
            if rule.floor_price is not None:
                amount = int(rule.floor_price * MICRO)
                named = _RuleFloor(rule)
                found.append(Floor(covered & context.in_currency, amount, named, named.written))
                found.append(
                    Floor(covered & xp.invert(context.in_currency), None, self._foreign(rule))
                )
            if rule.min_margin_pct is not None:
                # price x (1 - m/100) >= cost: the floor is cost / (1 - m/100), rounded up to
                # the minor unit of the line's currency (the floor is a price of the line).
                with_cost = covered & xp.invert(lines.no_cost)
                if xp.any(with_cost):
                    a, b = ratio(rule.min_margin_pct)
                    margin = self.xp.ceil_multiple(
                        [lines.cost, 100 * b], 100 * b - a, context.step, self.n
                    )
                    found.append(Floor(with_cost, margin, self._margin(rule, margin)))
                found.append(Floor(covered & lines.no_cost, None, self._no_cost(rule)))
        return [f for f in found if xp.any(f.covers)]

    @_once
    def hard_floor(self) -> tuple[Ints, Bools]:
        """The highest floor on each line (millionths) and the lines without any."""
        xp = self.xp
        highest = xp.full(self.n, 0)
        none = xp.flags(self.n, True)
        for floor in self.each:
            if floor.amount is not None:
                higher = floor.covers & (none | (floor.amount > highest))
                highest = xp.fill(highest, floor.amount, higher)
                none &= xp.invert(floor.covers)
        return xp.narrow(highest), none

    @_once
    def below(self) -> Bools:
        """Lines priced below their hard floor (never a line without a unit price)."""
        lines = self.lines
        floor, none = self.hard_floor
        below = self.xp.invert(none) & self.context.priced
        if self.xp.any(below):
            below &= lines.price_num < self.xp.product([floor, lines.price_den], self.n)
        return below

    @_once
    def unchecked(self) -> Bools:
        """Lines with a floor that cannot be checked (a foreign currency, no unit cost)."""
        mask = self.xp.flags(self.n, False)
        for floor in self.each:
            if floor.amount is None:
                mask |= floor.covers
        return mask

    def of(self, row: int) -> tuple[Decimal | None, list[str], list[str]]:
        """One line's hard floor as written where it comes from, its sources, and the floors
        that cannot be checked."""
        at = self.xp.at
        applying = [f for f in self.each if at(f.covers, row)]
        unknown = [f.source(row) for f in applying if f.amount is None]
        highest, none = self.hard_floor
        if at(none, row):
            return None, [], unknown
        top = at(highest, row)
        sources = [f for f in applying if f.amount is not None and _at(f.amount, row) == top]
        first = sources[0]
        written = first.written(row) if first.written else self.context.decimal(int(top), row)
        return written, [f.source(row) for f in sources], unknown

    def forget(self) -> None:
        """Drop the floors, whose sources are closures over this object and its context."""
        self.__dict__.clear()

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
                f"{self.context.decimal(_at(margin, row), row)}"
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
    floors = context.floors
    below = floors.below
    unknown = floors.unchecked & context.priced
    top = len(policy.levels) - 1

    def findings(row: int) -> list[Finding]:
        amount, sources, cannot = floors.of(row)
        found = [Finding(reason, level=policy.levels[-1]) for reason in cannot]
        if context.xp.at(below, row):
            said = f"below the hard floor {amount} ({'; '.join(sources)})"
            floor, _ = floors.hard_floor
            standard = int(context.xp.at(context.lines.standard, row))
            if standard < int(context.xp.at(floor, row)):
                # Not the discount's fault: even the standard price breaks the floor.
                said += (
                    f"; the standard price {context.decimal(standard, row)} itself is below "
                    "it: the price book or the policy needs correcting, not the discount"
                )
            found.append(Finding(said, reject=True))
        return found

    rank = context.xp.fill(context.xp.small(context.n, 0, top), top, unknown)
    return Outcome(rank, below, findings)


def check_discount_limits(context: Context) -> Outcome:
    """The lowest level whose limit covers the discount from the standard price (a limit is
    inclusive); beyond the top level's, nobody may approve. A line at or above its standard
    price (or without a quantity, so without a price) has no discount to approve."""
    policy, lines, n, xp = context.policy, context.lines, context.n, context.xp
    # The discount is 100 x (S - P) / S with P = num / den: there is one when S x den > num
    # (``standard_value`` is S x den).
    price, standard = lines.price_num, context.standard_value
    discount = context.priced & (lines.standard > 0)
    if xp.any(discount):
        discount &= price < standard
    # Every limit over one denominator B: L = keep / B. A level may grant the discount when
    # (100B - keep) x S x den <= 100B x num, that is (100B - keep being an integer) when
    # 100B - keep <= cap = floor(100B x num / (S x den)): one division for all levels.
    common, grid = policy.limit_grid
    cap = xp.product([100 * common, price], n) // xp.where(discount, standard, 1)
    rank = xp.small(n, -1, len(policy.levels))
    for k in range(len(policy.levels) - 1, -1, -1):
        # each scope's 100B - keep: the default's first, then each rule's (by position)
        within = xp.take(grid[k], context.limit_scope[k]) <= cap
        rank = xp.fill(rank, k, within)
    beyond = discount & (rank < 0)
    rank = xp.fill(rank, 0, xp.invert(discount & xp.invert(beyond)))

    def findings(row: int) -> list[Finding]:
        if not xp.at(discount, row):
            return [Finding("at or above the standard price: no discount to approve")]
        limits = context.limits(row)
        summary = describe_limits(limits)
        if not xp.at(beyond, row):
            return [Finding(summary, level=limits[int(xp.at(rank, row))][0])]
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
