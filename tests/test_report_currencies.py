"""A store whose items are priced in several currencies: the drift report says that its
totals add them up, and `--by currency` gives each currency's figures apart (issue 27: the
first step to reports that never add euros to dollars)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.conftest import Cli, write_workbook

BOOK = {
    "Price Book": [
        ["SKU", "Name", "List Price", "Currency"],
        ["US-1", "Router", 100, "USD"],
        ["EU-1", "Router", 90, "EUR"],
        ["JP-1", "Router", 15000, "JPY"],
    ]
}
DEALS = (
    "Deal,Date,Customer,SKU,Qty,Net Price\n"
    "D-1,2026-03-02,Acme,US-1,2,95.50\n"  # USD: list 200, net 191
    "D-2,2026-03-03,Beta,EU-1,3,81.25\n"  # EUR: list 270, net 243.75
    "D-3,2026-03-04,Gamma,US-1,1,100\n"  # USD: list 100, net 100
    "D-4,2026-03-05,Delta,JP-1,1,14000\n"  # JPY: list 15000, net 14000
)


def stocked(cli: Cli, tmp_path: Path) -> Cli:
    book = write_workbook(tmp_path / "book.xlsx", BOOK)
    assert cli("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    deals = tmp_path / "deals.csv"
    deals.write_text(DEALS)
    assert cli("deals", "import", str(deals)).exit_code == 0, cli(
        "deals", "import", str(deals)
    ).output
    return cli


def test_a_report_over_several_currencies_says_its_totals_add_them(
    cli: Cli, tmp_path: Path
) -> None:
    report = stocked(cli, tmp_path).json("report")

    assert any("the sales are in EUR and JPY and USD" in note for note in report["notes"])
    said = cli("report")
    assert "warning: the sales are in EUR and JPY and USD" in said.stderr


def test_by_currency_each_currencys_figures_are_its_own_exact_sums(
    cli: Cli, tmp_path: Path
) -> None:
    report = stocked(cli, tmp_path).json("report", "--by", "currency")

    groups = {g["key"]["currency"]: g for g in report["groups"]}
    assert set(groups) == {"EUR", "JPY", "USD"}
    expected = {  # list and net revenue, summed by hand per currency
        "USD": (Decimal(2 * 100 + 100), Decimal("191") + Decimal("100")),
        "EUR": (Decimal(3 * 90), Decimal("243.75")),
        "JPY": (Decimal(15000), Decimal(14000)),
    }
    for code, (at_list, net) in expected.items():
        assert Decimal(groups[code]["list_revenue"]) == at_list, code
        assert Decimal(groups[code]["net_revenue"]) == net, code
    mixed = [note for note in report["notes"] if note.startswith("the sales are in")]
    assert mixed and "the groups by currency are each one's own" in mixed[0]
