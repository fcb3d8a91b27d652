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
