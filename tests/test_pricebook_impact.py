"""The marketer sees what a new edition means on last period's volume and open approvals."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Cli, write_workbook
from tests.test_cli_deals_report import deals_csv


def test_diff_impact__volume_repriced_and_open_approvals_rejudged(
    owner: Cli, tmp_path: Path
) -> None:
    # Sold in 2026 under edition 2 (HW-100 at 130, SV-1 at 100).
    owner("deals", "import", str(deals_csv(tmp_path, "Deal,Date,SKU,Qty,Net Price\n"
                                                   "A,2026-02-01,HW-100,10,125\nB,2026-03-01,SV-1,2,100\n")))  # fmt: skip
    # An approval at rep authority today: 2 % off HW-100's 130 is within the rep's 2 %.
    result = owner("request", "--customer", "Acme", "--reason", "x", "HW-100", "--qty", "1",
                   "--price", "127.40", "--json", user="priya")  # fmt: skip
    assert '"status": "approved"' in result.stdout
    # Next year's edition: HW-100 up 10 % (143), SV-1 dropped, a new SKU.
    v3 = write_workbook(tmp_path / "v3.xlsx", {"Price Book": [
        ["SKU", "Family", "List Price", "Unit Cost"], ["HW-100", "Hardware", 143, 70], ["NEW-1", "Hardware", 10, 5]]})  # fmt: skip
    assert owner("pricebook", "import", str(v3), "--effective", "2027-01-01").exit_code == 0
    document = owner.json(
        "pricebook", "diff", "2", "3", "--impact", "--from", "2026-01-01", "--to", "2026-12-31"
    )
    impact = document["impact"]
    assert impact["lines"] == 2 and impact["lines_no_longer_listed"] == 1
    families = {f["family"]: f for f in impact["families"]}
    assert families["Hardware"]["list_revenue_old"] == "1300.00"
    assert families["Hardware"]["list_revenue_new"] == "1430.00"
    assert families["Hardware"]["change_pct"] == "10.00"
    assert (
        impact["total"]["list_revenue_old"] == "1500.00"
    )  # services' 200 counted at the old price
    assert impact["open_approved_requests"] == 1
    [affected] = impact["requests_affected"]
    assert affected["request"] == "R-000001" and "would need manager" in affected["why"]
    human = owner("pricebook", "diff", "2", "3", "--impact")
    assert "1 line(s) of 1 open approved request(s) would fall below" in human.stdout


def test_diff_impact__a_removed_sku_is_volume_apart_not_a_price_cut(
    owner: Cli, tmp_path: Path
) -> None:
    """Given 2026 sales of HW-100 and SV-1, when the next edition raises HW-100 by 10 %, drops
    SV-1 and keeps a SKU the older edition compared did not list, then the headline is +10 % over
    the SKUs both editions list, and the dropped and added SKUs' volume is shown apart."""
    owner("pricebook", "import", str(write_workbook(tmp_path / "v2b.xlsx", {"Price Book": [
        ["SKU", "Family", "List Price"], ["HW-100", "Hardware", 130], ["SV-1", "Services", 100],
        ["NEW-1", "Hardware", 9]]})),
        "--effective", "2026-06-01")  # fmt: skip
    sold = (
        "Deal,Date,SKU,Qty,Net Price\nA,2026-02-01,HW-100,10,125\nB,2026-03-01,SV-1,2,100\n"
        "C,2026-07-01,NEW-1,5,9\n"
    )
    owner("deals", "import", str(deals_csv(tmp_path, sold)))
    v3 = write_workbook(tmp_path / "v3.xlsx", {"Price Book": [
        ["SKU", "Family", "List Price"], ["HW-100", "Hardware", 143], ["NEW-1", "Hardware", 10]]})  # fmt: skip
    assert owner("pricebook", "import", str(v3), "--effective", "2027-01-01").exit_code == 0
    args = ("pricebook", "diff", "2", "4", "--impact", "--from", "2026-01-01", "--to", "2026-12-31")
    impact = owner.json(*args)["impact"]
    changes = impact["price_changes"]
    assert (changes["lines"], changes["quantity"]) == (1, 10)
    assert (changes["list_revenue_old"], changes["list_revenue_new"]) == ("1300.00", "1430.00")
    assert changes["change_pct"] == "10.00"
    assert changes["families"] == [
        {"family": "Hardware", "lines": 1, "quantity": 10, "list_revenue_old": "1300.00",
         "list_revenue_new": "1430.00", "change": "130.00", "change_pct": "10.00"}
    ]  # fmt: skip
    assert impact["removed"] == {"lines": 1, "quantity": 2, "list_revenue_old": "200.00"}
    assert impact["added"] == {"lines": 1, "quantity": 5, "list_revenue_new": "50.00"}
    assert impact["total"]["change_pct"] == "-4.67"  # kept as it was: the removed at 0
    text = owner(*args).stdout
    assert "SKUs in both editions: list revenue 1,300.00 -> 1,430.00 (+10.00 %)" in text
    assert "No longer listed: 1 lines, quantity 2, list revenue 200.00 at the old prices" in text
    assert "New in this edition: 1 lines, quantity 5, list revenue 50.00 at the new" in text
    assert "-4.67" not in text
    # Editions 1 and 2 both predate NEW-1: its line is said, not silently left out.
    older = (
        "pricebook",
        "diff",
        "1",
        "2",
        "--impact",
        "--from",
        "2026-01-01",
        "--to",
        "2026-12-31",
    )
    impact = owner.json(*older)["impact"]
    assert impact["in_neither"] == {"lines": 1, "quantity": 5}
    assert impact["lines"] == impact["price_changes"]["lines"] + 1 + impact["removed"]["lines"]
    text = owner(*older).stdout
    assert "In neither edition: 1 lines, quantity 5, of SKUs sold under other editions" in text


def test_diff_impact__an_open_approval_is_judged_again_as_one_deal(
    cli: Cli, tmp_path: Path
) -> None:
    """Given an approval of 6 x HW-1 and 6 x HW-2 at 15 %, within the rep's 20 % because the
    deal is worth 1,140.00 at standard prices (each line alone is below the 1,000 of the
    rule), when the next edition raises HW-1 by 1.00, then the approval is judged again as the
    one deal it is: still within the rep's authority, so not listed as affected."""
    from tests.test_cli_requests import deal_value_store, write_lines

    deal_value_store(cli, tmp_path)
    lines = write_lines(tmp_path, [("HW-1", 6, 15), ("HW-2", 6, 15)])
    asked = cli.json("request", "--customer", "Acme", "--reason", "bid", "--file", str(lines),
                     user="priya")  # fmt: skip
    assert asked["status"] == "approved"
    book = tmp_path / "next.csv"
    book.write_text("SKU,Family,List Price\nHW-1,Hardware,101.00\nHW-2,Hardware,90.00\n")
    assert cli("pricebook", "import", str(book), "--effective", "2099-01-01").exit_code == 0
    impact = cli.json("pricebook", "diff", "1", "2", "--impact", user="dana")["impact"]
    assert impact["open_approved_requests"] == 1
    assert impact["requests_affected"] == []
