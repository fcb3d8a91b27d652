"""One rules engine: a line judged alone and the same line classified among a million agree.

``judge_lines`` (a request's lines, Decimal) and ``classify`` (whole columns of deal lines, integer
millionths) run the same checks; the property test below compares them line by line over random
policies, currencies with 0, 2 and 3 minor units, fractional, zero and huge quantities, items with
and without a cost or a floor, standard prices below list (what a tier makes of a price: the
engine judges from the standard price; the tier prices themselves are compared with the price
book's own in tests/test_cli_deals_report.py), and prices exactly at a limit or a floor.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing.lines import segments
from pricing.lines.matching import classify
from pricing.lines.schema import CLASSIFIED
from pricing.money import quantum
from pricing.policy.engine import judge_lines
from pricing.policy.model import LineFacts, Policy, Rule
from tests.conftest import Cli

MICRO = 1_000_000
LEVELS = ["rep", "manager", "director", "owner"]
CURRENCIES = ["JPY", "USD", "KWD"]
SKUS = [("HW-100", "Hardware"), ("HW-150", "Hardware"), ("hw-2x", None), ("SV-1", "Services")]


def _pct(draw: Any) -> Decimal:
    return Decimal(draw(st.integers(0, 900))) / 10  # 0.0 to 90.0


@st.composite
def policies(draw: Any) -> Policy:
    levels = LEVELS[: draw(st.integers(1, 4))]
    start = draw(st.integers(0, 300))
    limits = {}
    for level in levels:
        limits[level] = Decimal(start) / 10
        start += draw(st.integers(0, 150))
    rules = []
    for _ in range(draw(st.integers(0, 4))):
        low_qty = draw(st.none() | st.integers(0, 60))
        low_value = draw(st.none() | st.integers(0, 20_000))
        rules.append(
            Rule(
                sku=draw(st.none() | st.sampled_from(["HW-100", "HW-1*", "hw-?x", "*"])),
                family=draw(st.none() | st.sampled_from(["Hardware", "services"])),
                min_qty=low_qty,
                max_qty=draw(st.none() | st.integers(low_qty or 0, 100)),
                min_deal_value=None if low_value is None else Decimal(low_value),
                max_deal_value=draw(st.none() | st.integers(low_value or 0, 40_000).map(Decimal)),
                limits={lv: _pct(draw) for lv in levels if draw(st.booleans())},
                floor_price=draw(
                    st.none() | st.integers(1, 20_000).map(lambda c: Decimal(c) / 100)
                ),
                min_margin_pct=draw(st.none() | st.integers(0, 800).map(lambda m: Decimal(m) / 10)),
            )
        )
    return Policy(
        levels=levels, limits=limits, currency=draw(st.sampled_from(CURRENCIES)), rule=rules
    )


@st.composite
def deal_lines(draw: Any, *, zero: bool = False) -> tuple[dict[str, Any], Decimal | None]:
    """One deal line as classify reads it (millionths) and its unit price (None without qty)."""
    sku, family = draw(st.sampled_from(SKUS))
    currency = draw(st.sampled_from(CURRENCIES))
    step = int(quantum(currency) * MICRO)
    if zero:
        qty = 0
    else:
        qty = draw(
            st.sampled_from([1, 2, 3, 10, 49, 50, 60, 100]).map(lambda q: q * MICRO)
            | st.integers(1, 100_000).map(lambda k: k * 1000)  # fractional: 0.001 to 100
            | st.integers(1, 10**7).map(lambda q: q * MICRO)  # huge
        )
    standard = draw(st.integers(1, 200_000)) * step
    listed = standard + draw(st.sampled_from([0, 0, standard // 10 // step * step, 5 * step]))
    cost = draw(st.none() | st.integers(0, standard * 2 // step).map(lambda c: c * step))
    floor = draw(st.none() | st.integers(1, standard // step).map(lambda c: c * step))
    row = {
        "sku": sku, "sku_key": sku.casefold(), "family": family, "qty": qty,
        "standard_price": standard, "list_price": listed, "unit_cost": cost,
        "item_floor": floor, "item_currency": currency,
    }  # fmt: skip
    if zero:
        row["net_amount"] = draw(st.sampled_from([0, standard]))
        return row, None
    mode = draw(st.sampled_from(["any", "limit", "floor", "below floor", "standard"]))
    if mode == "limit":  # exactly a whole-percent discount (a limit's boundary when it is one)
        price = Decimal(standard) * (100 - draw(st.integers(0, 60))) / 100
    elif mode in ("floor", "below floor"):
        # the margin floor in the line's currency and in the others', or the item's floor
        margin = Decimal(draw(st.integers(0, 800))) / 10
        if cost is not None and draw(st.booleans()):
            unit = quantum(draw(st.sampled_from(CURRENCIES))) * MICRO
            price = (cost / (1 - margin / 100) / unit).quantize(1, ROUND_CEILING) * unit
        else:
            price = Decimal(floor if floor is not None else standard)
        if mode == "below floor":
            price -= draw(st.sampled_from([1000, 10_000, 500_000]))
    elif mode == "standard":
        price = Decimal(standard)
    else:
        price = Decimal(draw(st.integers(standard // 2000, standard * 12 // 10_000))) * 1000
    # a multiple of 1000 millionths, as quantities are: the net amount is whole (quantize(1000)
    # would round to whole millionths only, and the net amount would be truncated)
    price = max((price / 1000).quantize(Decimal(1), ROUND_CEILING) * 1000, Decimal(1000))
    net = int(price) * qty // MICRO
    row["net_amount"] = net
    return row, Decimal(int(price)) / MICRO


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    kinds = {"sku": pa.string(), "sku_key": pa.string(), "family": pa.string()}
    kinds["item_currency"] = pa.string()
    return pa.table(
        {
            name: pa.array([r[name] for r in rows], kinds.get(name, pa.int64()))
            for name in CLASSIFIED
        }
    )


def _floors(values: Any) -> list[int | None]:
    """Hard floors as classify returns them, as whole millionths (None where none)."""
    out: list[int | None] = []
    for value in values.to_pylist() if hasattr(values, "to_pylist") else values.tolist():
        out.append(None if value is None or value != value else round(value))
    return out


def _facts(row: dict[str, Any]) -> LineFacts:
    def money(value: int | None) -> Decimal | None:
        return None if value is None else Decimal(value) / MICRO

    standard = Decimal(row["standard_price"]) / MICRO
    qty = Decimal(row["qty"]) / MICRO
    return LineFacts(
        sku=row["sku"],
        family=row["family"],
        qty=qty,
        list_price=Decimal(row["list_price"]) / MICRO,
        standard_price=standard,
        currency=row["item_currency"],
        unit_cost=money(row["unit_cost"]),
        item_floor=money(row["item_floor"]),
    )


def _expected(policy: Policy, row: dict[str, Any], price: Decimal) -> tuple[int, int | None, int]:
    decided = judge_lines(policy, [(_facts(row), price)])[0]
    rank = -1 if decided.decision == "rejected" else (
        0 if decided.level is None else policy.levels.index(decided.level))  # fmt: skip
    floor = decided.hard_floor
    below = int(floor is not None and price < floor)
    return rank, None if floor is None else int(floor * MICRO), below


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.lists(deal_lines(), min_size=1, max_size=6))
def test_engine__judge_and_classify_agree_line_by_line(
    policy: Policy, lines: list[tuple[dict[str, Any], Decimal]]
) -> None:
    ranks, floors, below = classify(policy, _table([row for row, _ in lines]))
    got = list(zip(list(ranks), _floors(floors), list(below), strict=True))
    for k, (row, price) in enumerate(lines):
        assert price is not None
        assert (int(got[k][0]), got[k][1], int(got[k][2])) == _expected(policy, row, price), (
            row,
            price,
        )
    # The same lines as one deal: judged together (a request) and classified with one deal
    # number (a closed deal), each line takes the deal's value and the same class.
    together = judge_lines(policy, [(_facts(row), price) for row, price in lines if price])
    one_deal = _table([row for row, _ in lines]).append_column(
        "deal_no", pa.array([7] * len(lines), pa.int32())
    )
    ranks, floors, below = classify(policy, one_deal)
    for k, decided in enumerate(together):
        rank = -1 if decided.decision == "rejected" else (
            0 if decided.level is None else policy.levels.index(decided.level))  # fmt: skip
        floor = None if decided.hard_floor is None else int(decided.hard_floor * MICRO)
        assert (int(ranks[k]), _floors(floors)[k]) == (rank, floor), (k, lines)


@settings(max_examples=100, deadline=None)
@given(policies(), st.lists(deal_lines(zero=True), min_size=1, max_size=3))
def test_engine__a_line_without_quantity_has_no_price_to_hold_below_a_floor(
    policy: Policy, lines: list[tuple[dict[str, Any], None]]
) -> None:
    """No unit price: nothing to approve and nothing below a floor; its floor is still stored."""
    ranks, floors, below = classify(policy, _table([row for row, _ in lines]))
    for k, (row, _) in enumerate(lines):
        floor = judge_lines(policy, [(_facts(row), Decimal(row["standard_price"]) / MICRO)])[
            0
        ].hard_floor
        assert (int(ranks[k]), int(below[k])) == (0, 0)
        assert _floors(floors)[k] == (None if floor is None else int(floor * MICRO))


def test_engine__a_jpy_line_under_a_usd_policy_has_its_margin_floor_in_yen() -> None:
    """The issue's example: cost 100, 25 % margin: 133.33… is 134 yen, so 133.50 is below it."""
    policy = Policy(
        levels=["rep", "owner"],
        limits={"rep": Decimal(10), "owner": Decimal(40)},
        rule=[Rule(family="Hardware", min_margin_pct=Decimal(25))],
    )
    row = {
        "sku": "HW-1", "sku_key": "hw-1", "family": "Hardware", "qty": 2 * MICRO,
        "standard_price": 150 * MICRO, "list_price": 150 * MICRO, "unit_cost": 100 * MICRO,
        "item_floor": None, "item_currency": "JPY", "net_amount": 267 * MICRO,
    }  # fmt: skip
    decided = judge_lines(policy, [(_facts(row), Decimal("133.50"))])[0]
    assert (decided.decision, decided.hard_floor) == ("rejected", Decimal(134))
    ranks, floors, below = classify(policy, _table([row]))
    assert (int(ranks[0]), _floors(floors), int(below[0])) == (-1, [134 * MICRO], 1)


ZERO_QTY_POLICY = """\
currency = "USD"
levels = ["rep", "manager", "owner"]
effective_from = 2025-01-01

[limits]
rep = 10.0
manager = 20.0
owner = 30.0

[[rule]]
family = "Services"
min_margin_pct = 25.0
"""


def test_deals_import__a_zero_quantity_line_without_a_cost_is_a_warning_not_a_traceback(
    cli: Cli, tmp_path: Path
) -> None:
    """A free or cancelled line (quantity 0) of an item without a cost, under a minimum-margin
    rule: the import succeeds, warns naming the line, and the line is within the first level."""
    book = tmp_path / "book.csv"
    book.write_text("SKU,Family,List Price\nSV-1,Services,100\nHW-1,Hardware,50\n")
    policy = tmp_path / "guardrails.toml"
    policy.write_text(ZERO_QTY_POLICY)
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Order ID,Order Date,SKU,Quantity,Net Price\n"
        "O-1,2025-06-01,SV-1,0,90.00\nO-1,2025-06-01,SV-1,2,90.00\nO-2,2025-06-02,HW-1,1,45\n"
    )
    assert cli("pricebook", "import", str(book), "--effective", "2025-01-01").exit_code == 0
    assert cli("policy", "load", str(policy)).exit_code == 0
    result = cli("deals", "import", str(deals))
    assert result.exit_code == 0, result.output
    assert 'deals.csv line 2, column D: "0": quantity is zero' in result.output
    with cli.store().read() as conn:
        stored = segments.scan(conn, ["qty", "level_rank", "below_floor", "level"]).to_pylist()
    by_qty = {row["qty"]: row for row in stored}
    assert (by_qty[0]["level_rank"], by_qty[0]["below_floor"], by_qty[0]["level"]) == (
        0,
        0,
        "rep",
    )
    # The line with a quantity and no cost still goes to the top level (the margin is unknown).
    assert (by_qty[2_000_000]["level_rank"], by_qty[2_000_000]["level"]) == (2, "owner")


@st.composite
def closed_deals(draw: Any) -> list[list[tuple[str, str | None, int, int, int]]]:
    """Deals of 1 to 4 sales lines: (SKU, family, quantity, standard price, price) in cents."""
    deals = []
    for _ in range(draw(st.integers(1, 3))):
        lines = []
        for _ in range(draw(st.integers(1, 4))):
            sku, family = draw(st.sampled_from(SKUS))
            standard = draw(st.integers(100, 500_000))
            price = draw(st.integers(standard // 2, standard + 100))
            lines.append((sku, family, draw(st.integers(1, 60)), standard, price))
        deals.append(lines)
    return deals


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), closed_deals())
def test_engine__a_request_and_the_same_lines_closed_as_a_deal_get_the_same_class(
    policy: Policy, deals: list[list[tuple[str, str | None, int, int, int]]]
) -> None:
    """One deal value: each deal asked for as a request (its lines priced and judged by the
    request path) and the same lines closed as deals (several deals in one table of the deal
    history, classified by the deal path) give every line the same class and floor."""
    from pricing.pricebook.model import PriceItem
    from pricing.requests.lifecycle import _judge_lines
    from pricing.requests.records import LineInput

    policy = Policy(levels=policy.levels, limits=policy.limits, currency="USD", rule=policy.rule)
    rows, expected = [], []
    for number, lines in enumerate(deals):
        priced = []
        for sku, family, qty, standard, price in lines:
            cents = Decimal(standard) / 100
            item = PriceItem(sku, cents, "USD", family=family)
            priced.append(
                (LineInput(sku, qty, Decimal(price) / 100), item, cents, Decimal(price) / 100)
            )
            rows.append({
                "sku": sku, "sku_key": sku.casefold(), "family": family, "qty": qty * MICRO,
                "standard_price": standard * 10_000, "list_price": standard * 10_000,
                "unit_cost": None, "item_floor": None, "item_currency": "USD",
                "net_amount": price * qty * 10_000, "deal_no": number,
                "standard_revenue": standard * qty * 10_000,
            })  # fmt: skip
        for line in _judge_lines(policy, priced):
            rank = -1 if line.decision == "rejected" else (
                0 if line.level is None else policy.levels.index(line.level))  # fmt: skip
            expected.append(
                (rank, None if line.hard_floor is None else int(line.hard_floor * MICRO))
            )
    kinds = {"sku": pa.string(), "sku_key": pa.string(), "family": pa.string(),
             "item_currency": pa.string()}  # fmt: skip
    table = pa.table(
        {name: pa.array([r[name] for r in rows], kinds.get(name, pa.int64())) for name in rows[0]}
    )
    ranks, floors, _ = classify(policy, table)
    assert list(zip([int(r) for r in ranks], _floors(floors), strict=True)) == expected, deals
