"""The owner reads figures that mean what they say (issue 22): sales above standard apart from
the discounts, returns apart from the sales, money left out said, rankings by the money given
away, deal counts that overlap said, and no percentage of nothing.

The price book and policy are the ``owner`` fixture's: HW-100 at 120 (114 from 50 units) and
SV-1 at 100 (cost 60, so a margin floor of 80) in 2025; HW-100 may go 2 % below standard at the
rep's level, SV-1 5 %, anything beyond needs a manager (none approves here).
"""

from __future__ import annotations

import csv
import io
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.conftest import Cli

HEADER = "Invoice,Invoice Date,Customer,Sales Rep,SKU,Quantity,Line Total\n"

# An invoicing export as one comes: invoices, credit invoices (negative quantities), postage
# and marketplace fees (no SKU in the price book), a sale above list, one far above its
# standard price (a typo in the quantity?), a refund above list, a stock write-off, and a rebate
# without goods (quantity 0: a credit on the sale, so special discount, never judged).
EXPORT = (
    HEADER
    + """\
INV-1,2025-03-03,Acme,priya,HW-100,10,1080.00
INV-1,2025-03-03,Acme,priya,SV-1,2,196.00
INV-1,2025-03-03,Acme,priya,POSTAGE,1,15.00
INV-2,2025-03-10,Globex,sam,HW-100,1,150.00
INV-2,2025-03-10,Globex,sam,HW-100,60,6840.00
INV-3,2025-03-12,Initech,sam,SV-1,1,450.00
C-INV-1,2025-03-20,Acme,priya,HW-100,-2,-216.00
C-INV-2,2025-03-21,Globex,sam,SV-1,-1,-120.00
C-INV-2,2025-03-21,Globex,sam,POSTAGE,-1,-15.00
ADJ-1,2025-03-31,,,HW-100,-3,0.00
INV-4,2025-03-25,Acme,lee,AMAZONFEE,1,7.50
INV-5,2025-03-26,Acme,lee,HW-100,0,-20.00
"""
)

LIST = {"HW-100": Decimal(120), "SV-1": Decimal(100)}  # the owner fixture's 2025 edition
RULES = {"HW-100": Decimal(2), "SV-1": Decimal(5)}  # the rep's limit, % below standard
FLOORS = {"SV-1": Decimal(80)}  # 60 / (1 - 25 %)


def standard_price(sku: str, qty: Decimal) -> Decimal:
    return Decimal(114) if sku == "HW-100" and qty >= 50 else LIST[sku]


def cents(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01"), ROUND_HALF_EVEN))


def figures(rows: list[dict[str, str]], flag: Decimal = Decimal(3)) -> dict[str, Any]:
    """Every figure of the report, worked out here from the csv rows by the rules of
    docs/owner.md (not by the code that reports them)."""
    f: dict[str, Any] = {
        key: Decimal(0)
        for key in ("quantity", "list_revenue", "standard_revenue", "net_revenue",
                    "special_discount", "above_standard_amount", "out_of_policy_amount",
                    "returns_amount", "returns_at_list", "unmatched_net_revenue")
    }  # fmt: skip
    for key in ("lines", "sales_lines", "returns_lines", "unmatched_lines", "stock_adjustment_lines",
                "above_standard_lines", "above_standard_flagged_lines", "returns_above_list_lines",
                "out_of_policy_lines"):  # fmt: skip
        f[key] = 0
    deals: set[str] = set()
    for row in rows:
        qty, net, sku = Decimal(row["Quantity"]), Decimal(row["Line Total"]), row["SKU"]
        f["lines"] += 1
        if qty < 0 and net == 0:
            f["stock_adjustment_lines"] += 1
            continue
        if qty >= 0:
            deals.add(row["Invoice"])
        if sku not in LIST:
            f["unmatched_lines"] += 1
            f["unmatched_net_revenue"] += net
            continue
        at_list, standard = LIST[sku] * qty, standard_price(sku, qty) * qty
        if qty < 0:
            f["returns_lines"] += 1
            f["returns_amount"] += net
            f["returns_at_list"] += at_list
            f["returns_above_list_lines"] += -net > -at_list
            continue
        f["sales_lines"] += 1
        f["quantity"] += qty
        f["list_revenue"] += at_list
        f["standard_revenue"] += standard
        f["net_revenue"] += net
        if net < standard:
            f["special_discount"] += standard - net
            if qty == 0:
                continue  # no unit price: never judged
            unit = net / qty
            off = (standard_price(sku, qty) - unit) / standard_price(sku, qty) * 100
            if unit < FLOORS.get(sku, Decimal(0)) or off > RULES[sku]:
                f["out_of_policy_lines"] += 1
                f["out_of_policy_amount"] += standard - net
        elif net > standard:
            f["above_standard_lines"] += 1
            f["above_standard_amount"] += net - standard
            f["above_standard_flagged_lines"] += net > flag * standard
    f["deals"] = len(deals)
    f["standard_discount"] = f["list_revenue"] - f["standard_revenue"]
    f["gross_discount"] = f["standard_discount"] + f["special_discount"]
    f["leakage"] = f["list_revenue"] - f["net_revenue"]
    f["net_after_returns"] = f["net_revenue"] + f["returns_amount"]
    f["realization_pct"] = (
        cents(f["net_revenue"] / f["list_revenue"] * 100) if f["list_revenue"] else None
    )
    return f


def as_shown(expected: dict[str, Any]) -> dict[str, Any]:
    """The figures as ``--json`` writes them: money in cents, counts as numbers."""
    return {
        key: cents(value) if isinstance(value, Decimal) and key != "quantity" else value
        for key, value in expected.items()
    }


def export(tmp_path: Path, text: str = EXPORT, name: str = "export.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_every_figure_of_a_real_shaped_export_is_what_the_lines_make(
    owner: Cli, tmp_path: Path
) -> None:
    """Given an invoicing export with credit invoices, fees, lines above list and a write-off,
    when the owner reads the report (whole and by rep), then every figure equals what plain
    arithmetic over the csv gives, in the totals and in each rep's row."""
    assert owner("deals", "import", str(export(tmp_path))).exit_code == 0
    rows = rows_of(EXPORT)
    report = owner.json("report", "--by", "rep")
    want = as_shown(figures(rows))
    got = report["totals"]
    assert {key: got[key] for key in want} == {
        **want,
        "quantity": int(want["quantity"]),
    }
    # The export's own shape, said in numbers: what the owner reads first.
    assert (got["special_discount"], got["above_standard_amount"]) == ("144.00", "380.00")
    assert (got["returns_lines"], got["stock_adjustment_lines"], got["deals"]) == (2, 1, 5)
    assert got["unmatched_net_revenue"] == "7.50"  # postage 15, credited 15, a fee of 7.50
    for group in report["groups"]:
        rep = group["key"]["rep"]
        mine = [r for r in rows if (r["Sales Rep"] or "(none)") == rep]
        expected = as_shown(figures(mine))
        assert {key: group[key] for key in expected} == {
            **expected,
            "quantity": int(expected["quantity"]),
        }, rep
    assert report["deals_overlap"] is False  # each invoice has one rep


def test_sales_above_standard_no_longer_cancel_the_discounts(
    owner: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a discount of 120 on one router and a premium of 380 on others, when the owner
    reads the report, then the special discount is the 120 (not -260), the premium is its own
    step of the waterfall in every format, the discount histogram has a range for it, and the
    line sold at 4.5 times its standard price is flagged to check (bound configurable)."""
    text = HEADER + (
        "A,2025-03-03,Acme,priya,HW-100,10,1080.00\n"  # 12 below standard
        "B,2025-03-04,Acme,priya,HW-100,1,150.00\n"  # 30 above
        "C,2025-03-05,Acme,sam,SV-1,1,450.00\n"  # 350 above: 4.5 x standard
    )
    assert owner("deals", "import", str(export(tmp_path, text))).exit_code == 0
    report = owner.json("report")
    t = report["totals"]
    assert (t["special_discount"], t["above_standard_amount"], t["above_standard_lines"]) == (
        "120.00", "380.00", 2,
    )  # fmt: skip
    assert (t["leakage"], t["gross_discount"], t["net_revenue"]) == ("-260.00", "120.00", "1680.00")
    assert t["above_standard_flagged_lines"] == 1
    steps = [(s["step"], Decimal(s["amount"])) for s in report["waterfall"]]
    assert [name for name, _ in steps] == [
        "List revenue", "Standard discount (marketing's tiers)", "Standard revenue",
        "Special discount within policy or approved", "Out-of-policy discount",
        "Above standard (sales above their standard price)", "Net revenue",
    ]  # fmt: skip
    amounts = dict(steps)
    assert amounts["Above standard (sales above their standard price)"] == Decimal("380.00")
    assert (
        amounts["List revenue"]
        + amounts["Standard discount (marketing's tiers)"]
        + amounts["Special discount within policy or approved"]
        + amounts["Out-of-policy discount"]
        + amounts["Above standard (sales above their standard price)"]
        == amounts["Net revenue"]
    )
    said = owner("report").stdout
    assert "+ above standard (sales above standard)" in said and "380.00 in 2 lines" in said
    assert "1 line to check (1 sold far above their standard price" in said
    assert "Realization" in said and "118.31 %" in said

    assert owner("report", "-o", str(tmp_path / "r.xlsx")).exit_code == 0
    book = load_workbook(tmp_path / "r.xlsx")
    flow = {row[0]: row[1] for row in book["Waterfall"].iter_rows(min_row=2, values_only=True)}
    assert Decimal(str(flow["Above standard (sales above their standard price)"])) == 380
    histogram = {
        row[0]: row[1]
        for row in book["Price bands"].iter_rows(values_only=True)
        if row[0] in ("above standard", "0 %", "5-10 %")
    }
    assert histogram == {"above standard": 2, "0 %": 0, "5-10 %": 1}  # 10 % off: up to 10
    checks = list(book["To check"].iter_rows(min_row=2, values_only=True))
    assert len(checks) == 1 and checks[0][4] == "SV-1"
    assert "4.5x its standard price: check its price or quantity" in checks[0][-1]
    assert owner("report", "-o", str(tmp_path / "r.html")).exit_code == 0
    page = (tmp_path / "r.html").read_text()
    assert "Above standard (sales above their standard price)" in page and "380.00" in page
    assert "check its price or quantity" in page

    monkeypatch.setenv("PRICING_ABOVE_STANDARD_FLAG", "5")
    assert owner.json("report")["totals"]["above_standard_flagged_lines"] == 0
    monkeypatch.setenv("PRICING_ABOVE_STANDARD_FLAG", "1.2")  # 150 / 120 = 1.25 too
    assert owner.json("report")["totals"]["above_standard_flagged_lines"] == 2
    monkeypatch.setenv("PRICING_ABOVE_STANDARD_FLAG", "three")
    refused = owner("report")
    assert refused.exit_code == 2 and "Traceback" not in refused.output
    assert "PRICING_ABOVE_STANDARD_FLAG='three': must be a number above 1" in refused.stderr


def test_returns_are_apart_from_the_sales_and_never_judged(owner: Cli, tmp_path: Path) -> None:
    """Given a sale out of policy, a credit invoice refunding a service below list (it once
    read as a 40 % discount nobody may approve), a refund above list, a credit invoice of
    returns only and a stock write-off at price 0, when the owner reads the report, then the
    returns are their own figures, never out of policy, never a deal; the refund above list is
    flagged and the write-off listed as a stock adjustment, out of every money figure."""
    text = HEADER + (
        "INV-1,2025-03-03,Acme,priya,HW-100,1,96.00\n"  # 20 % off: out of policy (24.00)
        "C-1,2025-03-04,Acme,priya,SV-1,-1,-60.00\n"  # refunded below list
        "C-2,2025-03-05,Acme,priya,SV-1,-1,-130.00\n"  # refunded above list: to check
        "W-1,2025-03-06,,,HW-100,-4,0\n"  # a write-off
    )
    assert owner("deals", "import", str(export(tmp_path, text))).exit_code == 0
    t = owner.json("report")["totals"]
    assert (t["out_of_policy_lines"], t["out_of_policy_amount"]) == (1, "24.00")
    assert (t["returns_lines"], t["returns_amount"], t["returns_at_list"]) == (2, "-190.00", "-200.00")  # fmt: skip
    assert (t["net_revenue"], t["net_after_returns"]) == ("96.00", "-94.00")
    assert (t["list_revenue"], t["special_discount"], t["quantity"]) == ("120.00", "24.00", 1)
    assert (t["returns_above_list_lines"], t["stock_adjustment_lines"]) == (1, 1)
    assert (t["lines"], t["sales_lines"], t["deals"], t["unjudged_lines"]) == (4, 1, 1, 0)
    said = owner("report").stdout
    assert "-190.00 in 2 lines (at list -200.00)" in said
    assert "Net after returns" in said and "-94.00" in said
    assert owner("report", "-o", str(tmp_path / "r.xlsx")).exit_code == 0
    book = load_workbook(tmp_path / "r.xlsx")
    out = list(book["Out of policy"].iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in out] == ["INV-1"]  # never a return
    assert [row[1] for row in book["To check"].iter_rows(min_row=2, values_only=True)] == ["C-2"]
    adjusted = list(book["Stock adjustments"].iter_rows(min_row=2, values_only=True))
    assert [(row[1], row[4], row[5]) for row in adjusted] == [("W-1", "HW-100", -4)]
    bands = {row[0]: row[1] for row in book["Price bands"].iter_rows(values_only=True) if row[0]}
    assert bands["15-20 %"] == 1 and bands["50 %+"] == 0  # the refunds are not discounts


def test_the_discount_histogram_counts_a_discount_at_a_ranges_upper_bound_within_it(
    owner: Cli, tmp_path: Path
) -> None:
    """Given sales at exactly 5 %, 10 % and 30 % off list (a policy's limits are inclusive),
    when the owner reads the discount distribution, then each is in the range it ends ("0-5 %",
    "5-10 %", "20-30 %"), not the next one; no discount is "0 %" alone, 30.01 % is "30-50 %";
    the chart says how the ranges are bounded."""
    text = HEADER + "".join(
        f"I-{i},2025-03-03,Acme,priya,SV-1,1,{price}\n"
        for i, price in enumerate(["100.00", "98.00", "95.00", "90.00", "70.00", "69.99"])
    )
    assert owner("deals", "import", str(export(tmp_path, text))).exit_code == 0
    assert owner("report", "-o", str(tmp_path / "r.xlsx")).exit_code == 0
    sheet = load_workbook(tmp_path / "r.xlsx")["Price bands"]
    rows = [row[:2] for row in sheet.iter_rows(values_only=True) if row[0]]
    start = next(i for i, row in enumerate(rows) if row[0] == "Discount") + 1
    assert dict(rows[start:]) == {
        "above standard": 0, "0 %": 1, "0-5 %": 2, "5-10 %": 1, "10-15 %": 0, "15-20 %": 0,
        "20-30 %": 1, "30-50 %": 1, "50 %+": 0,
    }  # fmt: skip
    said = "each range above its lower bound, up to its upper one (0-5 %: above 0, up to 5 %)"
    assert any(said in str(row[0]) for row in rows)
    assert owner("report", "-o", str(tmp_path / "r.html")).exit_code == 0
    assert said in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_unmatched_money_is_shown_and_rankings_follow_the_money_given_away(
    owner: Cli, tmp_path: Path
) -> None:
    """Given a rep who gave 120 of discount and sold other routers 400 above list (leakage
    -280) and a rep who gave 10, and fees no price book lists, when the owner reads the report
    by rep, then the first rep is ranked first (by the money given away, not by leakage), the
    fees' money is in every row and per SKU, `--sort` chooses another figure, and a bad one is
    refused naming the figures there are."""
    text = HEADER + (
        "A,2025-03-03,Acme,priya,HW-100,10,1080.00\n"
        "B,2025-03-04,Acme,priya,HW-100,5,1000.00\n"
        "C,2025-03-05,Acme,sam,SV-1,1,90.00\n"
        "C,2025-03-05,Acme,sam,POSTAGE,1,12.50\n"
        "D,2025-03-06,Acme,lee,FEE,2,-8.00\n"
    )
    assert owner("deals", "import", str(export(tmp_path, text))).exit_code == 0
    report = owner.json("report", "--by", "rep")
    assert report["sort"] == "gross_discount"
    assert [g["key"]["rep"] for g in report["groups"]] == ["priya", "sam", "lee"]
    assert report["totals"]["unmatched_net_revenue"] == "4.50"
    by_rep = {g["key"]["rep"]: g["unmatched_net_revenue"] for g in report["groups"]}
    assert by_rep == {"priya": "0.00", "sam": "12.50", "lee": "-8.00"}
    by_leakage = owner.json("report", "--by", "rep", "--sort", "leakage")
    assert [g["key"]["rep"] for g in by_leakage["groups"]] == ["sam", "lee", "priya"]
    said = owner("report", "--by", "rep").stdout
    assert "Top 3 of 3 by gross discount" in said
    assert "2 (net 4.50)" in said  # unmatched lines and their money
    bad = owner("report", "--by", "rep", "--sort", "colour")
    assert bad.exit_code == 2 and "Traceback" not in bad.output
    assert "--sort 'colour' is not a figure of the report" in bad.stderr
    assert "gross_discount" in bad.stderr and "net_after_returns" in bad.stderr
    assert owner("report", "--by", "rep", "-o", str(tmp_path / "r.xlsx")).exit_code == 0
    unmatched = list(load_workbook(tmp_path / "r.xlsx")["Unmatched"].iter_rows(values_only=True))
    assert unmatched[0][:3] == ("SKU", "Lines", "Net revenue")
    assert {row[0]: Decimal(str(row[2])) for row in unmatched[1:]} == {
        "POSTAGE": Decimal("12.5"), "FEE": Decimal(-8),
    }  # fmt: skip


def test_a_ranking_that_shows_the_first_groups_says_how_many_more(
    owner: Cli, tmp_path: Path
) -> None:
    """Given twelve customers, when the owner reads the report by customer, then the terminal
    shows the first ten and says two more."""
    text = HEADER + "".join(
        f"I-{i},2025-03-03,Customer {i:02d},priya,HW-100,1,{110 + i}.00\n" for i in range(12)
    )
    assert owner("deals", "import", str(export(tmp_path, text))).exit_code == 0
    said = owner("report", "--by", "customer").stdout
    assert "Top 10 of 12 by gross discount" in said
    assert "2 more: --json or -o FILE.xlsx lists every group." in said
    first = owner.json("report", "--by", "customer")["groups"][0]
    assert first["key"] == {"customer": "Customer 00"}  # the largest discount (10.00) first


def test_a_ranking_by_returns_puts_the_largest_refunds_first_and_shows_them(
    owner: Cli, tmp_path: Path
) -> None:
    """Given twelve customers of whom three had refunds (credit lines of 200, 50 and 20 at
    list 100 each), when the owner reads the report by customer sorted by returns amount (or
    returns at list), then the largest refunds come first, not the customers without any,
    and the terminal's table shows the figure it is sorted by."""
    text = (
        HEADER
        + "".join(f"I-{i},2025-03-03,Customer {i:02d},priya,SV-1,1,100.00\n" for i in range(12))
        + (
            "C-1,2025-03-10,Customer 05,priya,SV-1,-2,-200.00\n"
            "C-2,2025-03-10,Customer 09,priya,SV-1,-1,-50.00\n"
            "C-3,2025-03-11,Customer 11,priya,SV-1,-1,-20.00\n"
        )
    )
    assert owner("deals", "import", str(export(tmp_path, text))).exit_code == 0
    report = owner.json("report", "--by", "customer", "--sort", "returns_amount")
    first = [(g["key"]["customer"], g["returns_amount"]) for g in report["groups"][:4]]
    assert first == [("Customer 05", "-200.00"), ("Customer 09", "-50.00"),
                     ("Customer 11", "-20.00"), ("Customer 00", "0.00")]  # fmt: skip
    at_list = owner.json("report", "--by", "customer", "--sort", "returns_at_list")["groups"]
    assert [g["key"]["customer"] for g in at_list[:3]] == [
        "Customer 05", "Customer 09", "Customer 11",
    ]  # fmt: skip
    said = owner("report", "--by", "customer", "--sort", "returns_amount").stdout
    assert "Top 10 of 12 by returns amount" in said
    table = said.split("Top 10 of 12", 1)[1].splitlines()
    assert "Returns (refunded)" in table[1]
    assert table[3].startswith("Customer 05") and table[3].rstrip().endswith("-200.00")
    # A figure the table shows already is not shown twice.
    shown = owner("report", "--by", "customer", "--sort", "leakage").stdout
    assert shown.split("Top 10 of 12", 1)[1].count("Leakage") == 1
    assert owner("report", "--by", "customer", "--sort", "returns_amount", "-o",
                 str(tmp_path / "r.html")).exit_code == 0  # fmt: skip
    assert (
        "Ranked by returns (refunded), the most refunded first."
        in (tmp_path / "r.html").read_text()
    )


def test_the_breakdown_says_which_columns_count_lines_and_counts_read_as_english(
    owner: Cli, tmp_path: Path
) -> None:
    """Given a deal of two reps over two months, a line out of policy and one far above its
    standard price, when the owner reads the report by rep and month, then the table's line
    counts beside the money say "(lines)", one line is "1 line", and the note on overlapping
    deals says "two reps or two months"."""
    text = HEADER + (
        "O-1,2025-03-31,Acme,priya,HW-100,1,96.00\n"  # 20 % off: out of policy
        "O-1,2025-04-01,Acme,sam,SV-1,1,450.00\n"  # 4.5 x its standard price: to check
    )
    assert owner("deals", "import", str(export(tmp_path, text))).exit_code == 0
    said = owner("report", "--by", "rep,month").stdout
    header = said.split("Top 2 of 2", 1)[1].splitlines()[1]
    assert "Out of policy (lines)" in header
    assert "1 line to check (1 sold far above their standard price, 0 refunds" in said
    assert "24.00 in 1 line" in said and "in 1 lines" not in said
    notes = owner.json("report", "--by", "rep,month")["notes"]
    assert any("(two reps or two months) counting in each" in note for note in notes)
    assert any(note.startswith("1 line to check") for note in notes)
    by_family = owner.json("report", "--by", "family")["notes"]
    assert not any("two familys" in note for note in by_family)


def test_deal_counts_that_overlap_are_said_and_a_percentage_of_nothing_is_null(
    owner: Cli, tmp_path: Path
) -> None:
    """Given a deal with lines of two reps, when the owner reads the report by rep, then the
    reps' deal counts add to more than the total and the report says so; given a period of
    fees alone (no list revenue), realization is null, shown "n/a", not "0.00 %"."""
    text = HEADER + (
        "O-1,2025-03-03,Acme,priya,HW-100,1,120.00\n"
        "O-1,2025-03-03,Acme,sam,SV-1,1,100.00\n"
        "O-2,2025-04-03,Acme,sam,POSTAGE,1,9.00\n"
    )
    assert owner("deals", "import", str(export(tmp_path, text))).exit_code == 0
    report = owner.json("report", "--by", "rep")
    assert report["totals"]["deals"] == 2
    assert {g["key"]["rep"]: g["deals"] for g in report["groups"]} == {"priya": 1, "sam": 2}
    assert report["deals_overlap"] is True
    assert any(note.startswith("deals overlap") for note in report["notes"])
    said = owner("report", "--by", "rep").stdout
    assert "Deals overlap: a deal with lines in several groups counts in each" in said
    assert "(the groups count 3 deals, the total 2)" in said
    assert owner.json("report")["deals_overlap"] is False

    fees = owner.json("report", "--from", "2025-04-01")
    assert fees["totals"]["realization_pct"] is None
    assert fees["totals"]["weighted_discount_pct"] is None
    assert fees["totals"]["list_revenue"] == "0.00"
    assert fees["totals"]["unmatched_net_revenue"] == "9.00"
    said = owner("report", "--from", "2025-04-01").stdout
    assert "n/a" in said and "0.00 %" not in said
    months = owner.json("report", "--by", "month")["groups"]
    assert [m["realization_pct"] for m in months] == ["100.00", None]
