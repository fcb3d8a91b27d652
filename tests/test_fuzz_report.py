"""Property-based: random deal lines, through the real importer, into the drift report.

Each example writes a deals csv of random lines (zero, negative, fractional and huge quantities;
amounts, net prices and discounts, sub-cent and huge; several currencies named; SKUs in and out
of the price book, in any case; dates before the first edition, before the policy and under
it), imports it into a store of its own (a copy of one holding a small price book, with volume
tiers, items with and without cost, one of them in yen, and a policy) and asks for the report.

The test computes what the report must say on its own, exactly, from the lines it wrote, by
the rules PRODUCT.md and docs/owner.md give: a line of negative quantity at price 0 is a stock
adjustment, left out of the money; any other line with no list price on its date is unmatched,
its net counted apart; a matched line of negative quantity is a return, apart from the sales
and never judged; the rest are sales. Net revenue is the amount, else net price x quantity,
else list less the discount; list and standard revenue are list and standard price x quantity
(standard: after the tiers, the highest minimum the whole units meet); the special discount
is standard less net over the sales below their standard, the above-standard amount net less
standard over those above it; a sale dated before the policy is unjudged; under the policy a
sale is out of policy when its discount needs an approval (none is ever given here) or it is
priced below a hard floor. Then: no traceback, exit 0 with exactly those totals (or exit 2,
with a message and nothing stored, for a file the importer must refuse), every breakdown's
groups add up to the totals, and in the totals and every group list - standard discount -
special discount + above standard = net and net + returns = net after returns, exactly.

Amounts carry at most 6 decimals, the precision the store keeps (whole millionths); a product
(price x a fractional quantity) is rounded to millionths, half-even, once per line.
"""

from __future__ import annotations

import csv
import math
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from pricing import api
from pricing.analysis.report_figures import Metrics
from pricing.storage import deal_tables
from pricing.storage.store import utcnow
from tests.conftest import Cli, write_workbook

MICRO = 10**6
BOUND = 10**12  # prices, amounts, quantities and their products stay below this (money.py)
EDITION = date(2025, 1, 1)  # the price book's first edition
RAISE = date(2026, 7, 1)  # the second: HW-100 dearer, HW-200 gone, no tiers
POLICY_FROM = date(2026, 1, 1)


@dataclass(frozen=True)
class Item:
    family: str
    list_price: Decimal
    cost: Decimal | None
    currency: str


BOOK = {
    "hw-100": Item("Hardware", Decimal("120"), Decimal("70"), "USD"),
    "hw-200": Item("Hardware", Decimal("99.99"), None, "USD"),
    "sw-1": Item("Software", Decimal("49.99"), None, "USD"),
    "jp-1": Item("Hardware", Decimal("1500"), Decimal("900"), "JPY"),
}
BOOK_2 = {**BOOK, "hw-100": Item("Hardware", Decimal("130"), Decimal("70"), "USD")}
del BOOK_2["hw-200"]
TIERS = {"hw-100": (50, Decimal("114.00")), "sw-1": (10, Decimal("44.99"))}  # 44.99: 10 % off
LIMITS = {"Hardware": (10, 20, 30), "Software": (5, 20, 30)}  # rep, manager, owner
MARGIN = {"Hardware": Decimal(25)}  # min_margin_pct: the floor is cost / 0.75, rounded up
POLICY = """\
currency = "USD"
levels = ["rep", "manager", "owner"]
effective_from = 2026-01-01

[limits]
rep = 10.0
manager = 20.0
owner = 30.0

[[rule]]
family = "Software"
limits = { rep = 5.0 }

[[rule]]
family = "Hardware"
min_margin_pct = 25.0

[[person]]
name = "dana"
role = "owner"
"""
TODAY = utcnow().date()  # requests are approved today, valid for 30 days


@dataclass(frozen=True)
class Cover:
    """An approved request line: deal lines sold under its request, of its SKU, within its
    window and at or above its price, need no other approval."""

    request: int
    sku_key: str
    price: Decimal
    start: date
    end: date | None


@dataclass(frozen=True)
class Template:
    db: Path
    covers: list[Cover]


@pytest.fixture(scope="module")
def template() -> Iterator[Template]:
    """A store with the price book (edition 1 from 2025, 2 from mid 2026), the policy (from
    2026) and request R-000001, approved today: two lines of HW-100 (at 100 and at 95, so
    that a deal line may meet two approvals) and one of SW-1 at 45."""
    with tempfile.TemporaryDirectory() as folder:
        cli = Cli(f"sqlite:///{folder}/pricing.db", user="dana")
        book = write_workbook(Path(folder) / "book.xlsx", {
            "Price Book": [["SKU", "Name", "Family", "List Price", "Unit Cost", "Currency"],
                           ["HW-100", "Router", "Hardware", 120, 70, "USD"],
                           ["HW-200", "Switch", "Hardware", 99.99, None, "USD"],
                           ["SW-1", "Seat", "Software", 49.99, None, "USD"],
                           ["JP-1", "Cable", "Hardware", 1500, 900, "JPY"]],
            "Tiers": [["SKU", "Family", "Min Qty", "Price", "Discount %"],
                      ["HW-100", None, 50, 114, None], [None, "Software", 10, None, 10]],
        })  # fmt: skip
        assert cli("pricebook", "import", str(book), "--effective", "2025-01-01").exit_code == 0
        dearer = write_workbook(Path(folder) / "book-2.xlsx", {
            "Price Book": [["SKU", "Name", "Family", "List Price", "Unit Cost", "Currency"],
                           ["HW-100", "Router", "Hardware", 130, 70, "USD"],
                           ["SW-1", "Seat", "Software", 49.99, None, "USD"],
                           ["JP-1", "Cable", "Hardware", 1500, 900, "JPY"]],
        })  # fmt: skip
        assert cli("pricebook", "import", str(dearer), "--effective", "2026-07-01").exit_code == 0
        policy = Path(folder) / "guardrails.toml"
        policy.write_text(POLICY)
        assert cli("policy", "load", str(policy)).exit_code == 0
        asked = Path(folder) / "lines.csv"
        asked.write_text("SKU,Qty,Price\nHW-100,10,100\nHW-100,20,95\nSW-1,5,45\n")
        request = ["request", "--customer", "Acme", "--reason", "renewal", "--file", str(asked)]
        assert cli(*request, user="sam").exit_code == 0
        assert cli("approve", "R-000001", "--note", "ok").exit_code == 0
        with cli.store().read() as conn:
            covers = [
                Cover(int(r.number), str(r.sku).casefold(), Decimal(r.price),
                      date.fromisoformat(str(r.decided_at)[:10]),
                      date.fromisoformat(str(r.expires_at)[:10]) if r.expires_at else None)
                for r in deal_tables.approved_request_lines(conn)
            ]  # fmt: skip
        assert len(covers) == 3, covers
        cli.close()
        yield Template(Path(folder) / "pricing.db", covers)


# The lines ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    deal: str
    day: date
    customer: str
    rep: str
    sku: str
    qty: Decimal
    amount: Decimal | None
    price: Decimal | None
    discount: Decimal | None  # percent off list
    currency: str
    request: str = ""  # the request it was sold under, as the file writes it


def money(places: int, most: int) -> st.SearchStrategy[Decimal]:
    return st.decimals(min_value=-most, max_value=most, places=places)


QUANTITIES = st.one_of(
    st.integers(-3, 120).map(Decimal),
    st.sampled_from([0, 1, -1, 49, 50, 10, 9]).map(Decimal),
    st.decimals(min_value=-60, max_value=60, places=3),
)
AMOUNTS = st.one_of(
    money(2, 10**5), money(6, 1000), st.sampled_from([Decimal(0), Decimal("-0.000001")])
)
PRICES = st.one_of(
    money(2, 2000), money(4, 200), st.sampled_from([Decimal(0), Decimal("0.000001")])
)
# Now and then, in a file of its own: values at the edge of what the store keeps.
HUGE_QUANTITIES = st.sampled_from([10**6, 10**9, 10**11, -(10**11), BOUND - 1]).map(Decimal)
HUGE_MONEY = st.sampled_from(["999999999999.99", "1e9", "-1e11", "1000000000000"]).map(Decimal)
DISCOUNTS = st.decimals(min_value=0, max_value=100, places=2)
DAYS = st.one_of(
    st.sampled_from([date(2024, 12, 31), EDITION, date(2025, 12, 31), POLICY_FROM, RAISE]),
    st.dates(min_value=date(2024, 6, 1), max_value=date(2026, 12, 31)),
    st.integers(-2, 33).map(lambda days: TODAY + timedelta(days=days)),  # around the approval
)
SKUS = st.sampled_from(
    ["HW-100", "hw-100", "Hw-100 ", "HW-200", "SW-1", "JP-1", "XX-9", "ＨＷ-100"]
)
NAMES = st.sampled_from(["Acme", "acme", "Globex, Inc.", 'O"Brien', "", "Ünïcode"])


@st.composite
def lines(draw: st.DrawFn, with_price: bool, with_discount: bool, flavour: str) -> Line:
    """One line: its money an amount, a net price or a discount (several at times, the amount
    winning); in a file of ``gaps`` now and then none at all, in one of ``edges`` now and then
    values at the edge of what the store keeps."""
    kinds = ["amount", "amount"] + ["price"] * with_price + ["discount"] * with_discount
    given = set(draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=2)))
    if flavour == "gaps" and draw(st.integers(0, 5)) == 0:
        given = set()
    edge = flavour == "edges" and draw(st.integers(0, 2)) == 0

    def maybe(kind: str, values: st.SearchStrategy[Decimal]) -> Decimal | None:
        if kind not in given:
            return None
        return draw(st.one_of(values, HUGE_MONEY) if edge and kind != "discount" else values)

    return Line(
        deal=f"D-{draw(st.integers(1, 6))}",
        day=draw(DAYS),
        customer=draw(NAMES),
        rep=draw(st.sampled_from(["priya", "sam", ""])),
        sku=draw(SKUS),
        qty=draw(st.one_of(QUANTITIES, HUGE_QUANTITIES) if edge else QUANTITIES),
        amount=maybe("amount", AMOUNTS),
        price=maybe("price", PRICES),
        discount=maybe("discount", DISCOUNTS),
        currency=draw(st.sampled_from(["USD", "usd", "EUR", "JPY", ""])),
        request=draw(st.sampled_from(["", "", "R-000001", "1", "R-000009"])),
    )


@st.composite
def deal_files(draw: st.DrawFn) -> tuple[list[Line], bool, bool]:
    with_price, with_discount = draw(st.booleans()), draw(st.booleans())
    flavour = draw(st.sampled_from(["plain", "plain", "plain", "plain", "gaps", "edges"]))
    found = draw(st.lists(lines(with_price, with_discount, flavour), min_size=1, max_size=12))
    return found, with_price, with_discount


def text(value: Decimal | None) -> str:
    return "" if value is None else format(value, "f")


def write(path: Path, found: list[Line], with_price: bool, with_discount: bool) -> Path:
    header = ["Order ID", "Date", "Customer", "Sales Rep", "SKU", "Quantity", "Amount"]
    header += ["Net Price"] * with_price + ["Discount"] * with_discount + ["Currency", "Request"]
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for line in found:
            row = [line.deal, line.day.isoformat(), line.customer, line.rep, line.sku,
                   text(line.qty), text(line.amount)]  # fmt: skip
            row += [text(line.price)] * with_price
            row += [text(line.discount) + "%" if line.discount is not None else ""] * with_discount
            writer.writerow([*row, line.currency, line.request])
    return path


# What the report must say, worked out here ----------------------------------------------------


def to_micros(value: Fraction) -> int:
    floor, rest = divmod(value.numerator, value.denominator)
    twice = 2 * rest
    if twice > value.denominator or (twice == value.denominator and floor % 2):
        return floor + 1
    return floor


def times(price: Decimal, qty: Decimal) -> int:
    """``price x qty`` in millionths, rounded half-even once."""
    return to_micros(Fraction(price) * Fraction(qty) * MICRO)


@dataclass
class Expected:
    currency: str = "USD"  # the report's: its figures are of the lines in it alone
    lines: int = 0
    deals: int = 0
    quantity: Fraction = Fraction(0)
    net: int = 0  # millionths, sales
    listed: int = 0
    standard: int = 0
    special: int = 0  # standard - net of the sales below standard
    above: int = 0  # net - standard of the sales above standard
    above_lines: int = 0
    flagged: int = 0  # sales above 3x their standard
    cost: int | None = None
    sales: int = 0
    unmatched: int = 0
    unmatched_net: int = 0
    unjudged: int = 0
    unjudged_net: int = 0
    out_of_policy: int = 0
    out_of_policy_amount: int = 0
    below_approved: int = 0
    returns: int = 0
    returns_amount: int = 0
    returns_at_list: int = 0
    returns_above_list: int = 0
    adjustments: int = 0
    refused: str | None = None  # why the importer must refuse the file


def floor_of(item: Item) -> Decimal | None:
    """The hard floor of an item (millionths as a Decimal of its currency), from the margin."""
    margin = MARGIN.get(item.family)
    if margin is None or item.cost is None:
        return None
    step = Decimal(1) if item.currency == "JPY" else Decimal("0.01")
    return (item.cost / (1 - margin / 100)).quantize(step, rounding=ROUND_CEILING)


def item_of(line: Line) -> tuple[Item, Decimal] | None:
    """The item in force on the line's date and the line's standard price (None: unmatched)."""
    book = BOOK if line.day < RAISE else BOOK_2
    key = line.sku.strip().casefold()  # the file's SKU, trimmed, in any case
    item = book.get(key)
    if item is None or line.day < EDITION:
        return None
    tier = TIERS.get(key) if line.day < RAISE else None
    units = math.floor(line.qty)  # whole units meet a tier's minimum
    return item, tier[1] if tier and units >= tier[0] else item.list_price


def refusal(line: Line, price: Decimal | None, discount: Decimal | None) -> str | None:
    """Why the importer must refuse a file holding this line (None: it must not)."""
    if line.amount is None and price is None and discount is None:
        return "no amount, net price or discount"
    if abs(line.qty) >= BOUND or (line.amount is not None and abs(line.amount) >= BOUND):
        return "too large"
    by_price = price if line.amount is None else None  # the amount wins when given
    if by_price is not None and max(abs(by_price), abs(by_price * line.qty)) >= BOUND:
        return "too large"
    matched = item_of(line)
    if matched is not None:  # its value at list, standard or cost must fit too
        item, standard = matched
        if max(abs(a * line.qty) for a in (item.list_price, standard, item.cost or 0)) >= BOUND:
            return "too large"
    return None


def expected(
    found: list[Line],
    with_price: bool,
    with_discount: bool,
    covers: list[Cover],
    start: date | None = None,
    end: date | None = None,
) -> Expected:
    """What the report of the period must say of these lines (or why they are refused)."""
    want = Expected()
    deals: set[str] = set()
    within = [line for line in found if (start or date.min) <= line.day <= (end or date.max)]
    # The currencies of the items the period's lines were matched to: over one, the report is
    # in it; over several, in the book's main one (most items in dollars), each apart.
    present = {matched[0].currency for line in within if (matched := item_of(line))}
    want.currency = present.pop() if len(present) == 1 else "USD"
    for line in found:
        price = line.price if with_price else None
        discount = line.discount if with_discount else None
        want.refused = refusal(line, price, discount) or want.refused
        if not (start or date.min) <= line.day <= (end or date.max):
            continue  # stored, and left out of the report of the period
        matched = item_of(line)
        if (matched[0].currency if matched else want.currency) != want.currency:
            continue  # another currency's: apart, never added
        want.lines += 1
        if line.amount is not None:
            net: int | None = to_micros(Fraction(line.amount) * MICRO)
        elif price is not None:
            net = times(price, line.qty)
        elif matched is not None:
            assert discount is not None or want.refused
            net = times(matched[0].list_price * (100 - (discount or 0)) / 100, line.qty)
        else:
            net = None  # a discount off no list price: no money known
        if line.qty < 0 and net == 0:
            want.adjustments += 1  # a stock adjustment: no money, no deal
            continue
        if line.qty >= 0:
            deals.add(line.deal)  # something sold: a deal
        if matched is None:
            want.unmatched += 1
            want.unmatched_net += net or 0
            continue
        assert net is not None
        item, standard = matched
        if line.qty < 0:  # a return: apart, never judged
            want.returns += 1
            want.returns_amount += net
            at_list = times(item.list_price, line.qty)
            want.returns_at_list += at_list
            want.returns_above_list += net < at_list  # refunded more than list gives
            continue
        want.sales += 1
        want.quantity += Fraction(line.qty)
        want.net += net
        want.listed += times(item.list_price, line.qty)
        standard_revenue = times(standard, line.qty)
        want.standard += standard_revenue
        want.special += max(standard_revenue - net, 0)
        want.above += max(net - standard_revenue, 0)
        want.above_lines += net > standard_revenue
        want.flagged += line.qty > 0 and net > 3 * standard_revenue
        if item.cost is not None:
            want.cost = (want.cost or 0) + times(item.cost, line.qty)
        approvals = [c for c in covers if approves(c, line)]
        at_price = [c for c in approvals if at_or_above(c, line.qty, net)]
        want.below_approved += bool(approvals) and not at_price
        if line.day < POLICY_FROM:
            want.unjudged += 1
            want.unjudged_net += net
            continue
        below_floor, needs_approval = judged(item, standard, line.qty, net)
        if below_floor or (needs_approval and not at_price):
            want.out_of_policy += 1
            want.out_of_policy_amount += max(standard_revenue - net, 0)
    want.deals = len(deals)
    return want


def approves(cover: Cover, line: Line) -> bool:
    """Whether an approved request line may cover a deal line: its request, its SKU, its window."""
    number = line.request.removeprefix("R-").lstrip("0")
    return (
        number.isdigit()
        and int(number) == cover.request
        and line.sku.strip().casefold() == cover.sku_key
        and cover.start <= line.day <= (cover.end or date.max)
    )


def at_or_above(cover: Cover, qty: Decimal, net: int) -> bool:
    """The deal's unit price (net over quantity, a return's too) is at or above the approved."""
    if qty == 0:
        return True  # no unit price: nothing sold below anything
    return Fraction(net, MICRO) / Fraction(qty) >= Fraction(cover.price)


def judged(item: Item, standard: Decimal, qty: Decimal, net: int) -> tuple[bool, bool]:
    """Whether a line under the policy is below a hard floor (nobody may approve it), and
    whether it needs an approval: a floor that cannot be checked (a margin rule on an item
    without cost: the top level decides), a discount beyond the first level's limit."""
    if qty == 0:
        return False, False  # no unit price: no discount, never below a floor
    price = Fraction(net, MICRO) / Fraction(qty)  # the unit price, exactly
    floor = floor_of(item)
    if floor is not None and price < Fraction(floor):
        return True, False
    if item.family in MARGIN and item.cost is None:
        return False, True
    if standard > 0 and price < Fraction(standard):
        discount = (Fraction(standard) - price) / Fraction(standard) * 100
        return False, discount > LIMITS[item.family][0]
    return False, False


# The property ---------------------------------------------------------------------------------


def cents(micros: int, currency: str = "USD") -> Decimal:
    """Millionths as the report writes them: rounded once to the currency's minor unit."""
    unit = Decimal(1) if currency == "JPY" else Decimal("0.01")
    return (Decimal(micros) / MICRO).quantize(unit, rounding=ROUND_HALF_EVEN)


def exact(micros: int) -> Decimal:
    return Decimal(micros) / MICRO


def assert_totals(got: Metrics, want: Expected) -> None:
    """The library's exact totals (Decimals of millionths) against the expected ones."""
    assert (got.lines, got.deals, got.unmatched_lines, got.unjudged_lines) == (
        want.lines, want.deals, want.unmatched, want.unjudged,
    )  # fmt: skip
    assert (got.sales_lines, got.returns_lines, got.stock_adjustment_lines) == (
        want.sales, want.returns, want.adjustments,
    )  # fmt: skip
    assert Fraction(got.quantity) == want.quantity
    assert got.net_revenue == exact(want.net)
    assert got.list_revenue == exact(want.listed)
    assert got.standard_revenue == exact(want.standard)
    assert got.special_discount == exact(want.special)
    assert got.above_standard_amount == exact(want.above)
    assert got.above_standard_lines == want.above_lines
    assert got.above_standard_flagged_lines == want.flagged
    assert got.cost == (None if want.cost is None else exact(want.cost))
    assert got.unmatched_net_revenue == exact(want.unmatched_net)
    assert got.unjudged_net_revenue == exact(want.unjudged_net)
    assert got.out_of_policy_lines == want.out_of_policy
    assert got.out_of_policy_amount == exact(want.out_of_policy_amount)
    assert got.below_approved_lines == want.below_approved
    assert got.returns_amount == exact(want.returns_amount)
    assert got.returns_at_list == exact(want.returns_at_list)
    assert got.returns_above_list_lines == want.returns_above_list
    assert got.net_after_returns == exact(want.net + want.returns_amount)
    assert got.realization_pct == (
        None if not want.listed else Decimal(want.net) / Decimal(want.listed) * 100
    )


def assert_adds_up(metrics: Metrics) -> None:
    """From list to net, and on to net after returns, exactly (a row of any report)."""
    assert (
        metrics.list_revenue
        - metrics.standard_discount
        - metrics.special_discount
        + metrics.above_standard_amount
        == metrics.net_revenue
    )
    assert metrics.net_revenue + metrics.returns_amount == metrics.net_after_returns
    assert metrics.special_discount == (
        metrics.in_policy_special_discount
        + metrics.out_of_policy_amount
        + metrics.unjudged_special_discount
    )
    assert min(metrics.special_discount, metrics.above_standard_amount) >= 0
    assert metrics.in_policy_special_discount >= 0


ADDING_UP = (
    "lines", "quantity", "list_revenue", "standard_revenue", "net_revenue", "out_of_policy_lines",
    "out_of_policy_amount", "unmatched_lines", "unjudged_lines", "unjudged_net_revenue",
    "below_approved_lines", "sales_lines", "special_discount", "above_standard_lines",
    "above_standard_amount", "above_standard_flagged_lines", "returns_lines", "returns_amount",
    "returns_at_list", "returns_above_list_lines", "stock_adjustment_lines",
    "unmatched_net_revenue",
)  # fmt: skip


def line(
    day: date,
    qty: str,
    *,
    amount: str | None = None,
    price: str | None = None,
    rep: str = "priya",
    request: str = "",
    sku: str = "HW-100",
    deal: str = "D-1",
) -> Line:
    number = Decimal(amount) if amount is not None else None
    unit = Decimal(price) if price is not None else None
    return Line(deal, day, "Acme", rep, sku, Decimal(qty), number, unit, None, "USD", request)


# What the property found, each the smallest case (kept: they run first, every time).
FOUND = {
    # 10^11 routers at 120: a list revenue of 1.2 x 10^13 wrapped round in 64 bits to
    # -6,446,744,073,829.55; now refused, naming the line.
    "overflow": [line(EDITION, "100000000000", amount="0")],
    # 0.006 units at 0.0001: 0.0000006 was cut to 0 millionths, not rounded to 1.
    "cut": [line(EDITION, "0.006", price="0.0001")],
    # A total summed from groups said "0.350", from one scan "0.35".
    "places": [line(EDITION, "0.128", amount="0"), line(EDITION, "0.222", amount="0", rep="sam")],
    # A period holding a deal's later line only counted 0 deals (its first line was before).
    "period": [
        line(date(2024, 12, 31), "1", amount="1"),
        line(date(2025, 12, 31), "1", amount="1"),
    ],
    # Sold under R-000001, which approves HW-100 on two lines: the line was counted twice in
    # every total (lines, deals, revenue), unmatched or not.
    "twice": [line(TODAY, "10", amount="1000", request="R-000001")],
    # A return of 3 at 90 each under it (approved at 100 and 95): once counted as sold below
    # the approved price; a return is never judged, so it is below nothing.
    "return": [line(TODAY, "-3", amount="-270", request="R-000001")],
    # No quantity, so no unit price: below no approved price, whatever the amount.
    "nothing": [line(TODAY, "0", amount="-0.01", request="R-000001")],
    # What an invoicing export holds (issue 22): a sale above list and one far above standard,
    # a return refunded below list and one above it, a write-off at price 0 (no money, no
    # deal), a deal of returns only (no deal), an unmatched fee and its credit, a free line.
    "export": [
        line(POLICY_FROM, "2", amount="300", deal="D-1"),  # list 120: above standard
        line(POLICY_FROM, "1", amount="500", deal="D-1", rep="sam"),  # over 3x: to check
        line(POLICY_FROM, "-1", amount="-100", deal="D-2"),  # a refund below list
        line(POLICY_FROM, "-1", amount="-150", deal="D-2"),  # above list: to check
        line(POLICY_FROM, "-4", amount="0", deal="D-3"),  # a stock write-off
        line(POLICY_FROM, "1", amount="12.5", sku="XX-9", deal="D-4"),  # postage
        line(POLICY_FROM, "-1", amount="-12.5", sku="XX-9", deal="D-5"),  # its credit
        line(POLICY_FROM, "3", amount="0", deal="D-6", sku="SW-1"),  # given away
    ],
}


PERIODS = [
    (None, None), (date(2025, 6, 1), None), (None, date(2026, 3, 31)),
    (date(2025, 12, 31), date(2026, 1, 1)), (date(2026, 2, 1), date(2026, 8, 31)),
]  # fmt: skip


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(
    file=deal_files(),
    by=st.sampled_from(["rep", "family", "sku", "customer", "month", "rep,month"]),
    period=st.sampled_from(PERIODS),
)
@example(file=(FOUND["overflow"], False, False), by="rep", period=(None, None))
@example(file=(FOUND["cut"], True, False), by="rep", period=(None, None))
@example(file=(FOUND["places"], False, False), by="rep", period=(None, None))
@example(file=(FOUND["period"], False, False), by="rep", period=(date(2025, 6, 1), None))
@example(file=(FOUND["twice"], False, False), by="rep", period=(None, None))
@example(file=(FOUND["return"], False, False), by="rep", period=(None, None))
@example(file=(FOUND["nothing"], False, False), by="rep", period=(None, None))
@example(file=(FOUND["export"], False, False), by="rep", period=(None, None))
def test_report_totals_are_the_exact_sums_of_the_lines_imported(
    template: Template,
    file: tuple[list[Line], bool, bool],
    by: str,
    period: tuple[date | None, date | None],
) -> None:
    """Given a store with a price book and a policy, when the owner imports random deal lines
    and reads the report (whole, by a breakdown, of a period), then every total is the exact
    sum the lines make, the groups add up to it, and a file to refuse is refused whole."""
    found, with_price, with_discount = file
    want = expected(found, with_price, with_discount, template.covers)
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(template.db, Path(folder) / "pricing.db")
        cli = Cli(f"sqlite:///{folder}/pricing.db", user="dana")
        path = write(Path(folder) / "deals.csv", found, with_price, with_discount)
        imported = cli("deals", "import", str(path), "--json")
        assert "Traceback" not in imported.output
        store = cli.store()
        if want.refused is not None:
            event(f"refused: {want.refused}")
            assert imported.exit_code == 2, imported.output
            # The file's own problems name it and the line; a value too large for the list
            # price, known only when matched, names the line by its SKU and date.
            assert "deals.csv" in imported.output or "the deal line of" in imported.stderr
            assert api.stored_counts(store)["deal_lines"] == 0  # nothing stored
            cli.close()
            return
        assert imported.exit_code == 0, imported.output
        event("imported" + ", some out of policy" * bool(want.out_of_policy))
        whole = api.build_report(store)
        assert_totals(whole.totals, want)
        assert_adds_up(whole.totals)
        whole_report = cli.json("report")
        report = whole_report["totals"]
        # Every line is in exactly one currency's figures (the report's own, or another's).
        every = whole_report.get("by_currency") or [whole_report]
        assert sum(part["totals"]["lines"] for part in every) == len(found)
        assert (report["lines"], report["deals"]) == (want.lines, want.deals)
        assert Fraction(Decimal(str(report["quantity"]))) == want.quantity
        assert report["net_revenue"] == str(cents(want.net, want.currency))
        assert report["list_revenue"] == str(cents(want.listed, want.currency))
        assert report["out_of_policy_amount"] == str(
            cents(want.out_of_policy_amount, want.currency)
        )
        assert report["special_discount"] == str(cents(want.special, want.currency))
        assert report["above_standard_amount"] == str(cents(want.above, want.currency))
        assert report["returns_amount"] == str(cents(want.returns_amount, want.currency))
        assert report["net_after_returns"] == str(
            cents(want.net + want.returns_amount, want.currency)
        )
        assert report["unmatched_net_revenue"] == str(cents(want.unmatched_net, want.currency))
        assert (report["realization_pct"] is None) == (want.listed == 0)
        assert (report["unmatched_lines"], report["unjudged_lines"]) == (
            want.unmatched, want.unjudged,
        )  # fmt: skip
        # Every breakdown: its groups add up to the totals, exactly.
        grouped = api.build_report(store, by=by)
        assert_totals(grouped.totals, want)
        for _, metrics in grouped.groups:
            assert_adds_up(metrics)
        for name in ADDING_UP:
            parts = [getattr(metrics, name) for _, metrics in grouped.groups]
            assert sum(parts, start=type(getattr(grouped.totals, name))(0)) == getattr(
                grouped.totals, name
            ), name
        shown = cli.json("report", "--by", by)
        assert sum(group["lines"] for group in shown["groups"]) == want.lines
        assert shown["totals"] == report
        # A period: its lines only; a deal counts when any of its lines falls in it.
        start, end = period
        within = expected(found, with_price, with_discount, template.covers, start, end)
        assert_totals(api.build_report(store, start=start, end=end).totals, within)
        assert_totals(api.build_report(store, start=start, end=end, by=by).totals, within)
        dates = [*(["--from", str(start)] if start else []), *(["--to", str(end)] if end else [])]
        dated = cli.json("report", *dates, "--by", by)
        assert (dated["totals"]["lines"], dated["totals"]["deals"]) == (within.lines, within.deals)
        assert dated["totals"] == cli.json("report", *dates)["totals"]
        cli.close()


def test_an_edition_that_would_make_a_stored_line_too_large_is_refused(
    template: Template,
) -> None:
    """Given 5,000,000,000 routers sold at 120 (a list revenue of 600 billion), when the
    marketer imports an edition listing the router at 1,000 (5 trillion: beyond what a line may
    be worth), then the import is refused naming the deal line, and nothing is stored."""
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(template.db, Path(folder) / "pricing.db")
        cli = Cli(f"sqlite:///{folder}/pricing.db", user="dana")
        deals = write(Path(folder) / "deals.csv", [line(EDITION, "5000000000", amount="1")], False, False)  # fmt: skip
        assert cli("deals", "import", str(deals)).exit_code == 0
        before = cli.json("report")
        book = Path(folder) / "book-3.csv"
        book.write_text("SKU,Family,List Price,Unit Cost\nHW-100,Hardware,1000,70\n")
        imported = cli("pricebook", "import", str(book), "--effective", "2025-01-01")
        assert imported.exit_code == 2, imported.output
        assert "Traceback" not in imported.output
        assert "the deal line of HW-100 on 2025-01-01" in imported.stderr
        assert "nothing was stored" in imported.stderr
        assert len(cli.json("pricebook", "editions")) == 2  # the template's two, no third
        assert cli.json("report") == before
        cli.close()
