"""A store whose items are priced in several currencies: the drift report never adds euros to
dollars (issue 27): each currency's totals, groups and waterfall apart (`by_currency`, a section
of the terminal, the workbook and the page each), the report's own figures those of its main
currency, and `--by currency` a group per currency."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.conftest import Cli, write_workbook

BOOK = {
    "Price Book": [
        ["SKU", "Name", "List Price", "Currency"],
        ["US-1", "Router", 100, "USD"],
        ["US-2", "Switch", 40, "USD"],  # (most items in dollars: the report's own currency)
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


# Each currency's figures, summed by hand: (lines, deals, list revenue, net revenue).
EXPECTED = {
    "USD": (2, 2, Decimal(2 * 100 + 100), Decimal("191") + Decimal("100")),
    "EUR": (1, 1, Decimal(3 * 90), Decimal("243.75")),
    "JPY": (1, 1, Decimal(15000), Decimal(14000)),
}


def test_a_report_over_several_currencies_never_adds_them(cli: Cli, tmp_path: Path) -> None:
    """Given sales in dollars, euros and yen, when the owner reads the report, then each
    currency's totals are their own exact sums (by_currency, the book's main currency first),
    the report's own totals are those of its currency alone, and it says so."""
    report = stocked(cli, tmp_path).json("report")

    assert report["currency"] == "USD"
    parts = {part["currency"]: part for part in report["by_currency"]}
    assert [part["currency"] for part in report["by_currency"]] == ["USD", "EUR", "JPY"]
    for code, (lines, deals, at_list, net) in EXPECTED.items():
        totals = parts[code]["totals"]
        assert (totals["lines"], totals["deals"]) == (lines, deals), code
        assert Decimal(totals["list_revenue"]) == at_list, code
        assert Decimal(totals["net_revenue"]) == net, code
        assert Decimal(parts[code]["waterfall"][-1]["amount"]) == net, code
    assert report["totals"] == parts["USD"]["totals"]  # (never 191 + 100 + 243.75 + 14000)
    assert report["waterfall"] == parts["USD"]["waterfall"]
    assert parts["JPY"]["totals"]["net_revenue"] == "14000"  # yen have no minor unit
    assert parts["EUR"]["totals"]["net_revenue"] == "243.75"
    mixed = [note for note in report["notes"] if note.startswith("the sales are in")]
    assert mixed and "EUR, JPY and USD" in mixed[0] and "never added together" in mixed[0]
    assert report["from"] == "2026-03-02" and report["to"] == "2026-03-05"  # every currency's


def test_in_the_terminal_each_currency_has_its_section(cli: Cli, tmp_path: Path) -> None:
    said = stocked(cli, tmp_path)("report", "--by", "customer")

    assert said.exit_code == 0, said.output
    assert "warning: the sales are in EUR, JPY and USD" in said.stderr
    sections = said.stdout.split("Price drift, ")[1:]
    assert [s.split(":", 1)[0].rsplit(" ", 1)[1] for s in sections] == ["USD", "EUR", "JPY"]
    assert "Acme" in sections[0] and "Beta" not in sections[0]
    assert "Beta" in sections[1] and "243.75" in sections[1]
    assert "14,000" in sections[2] and "Delta" in sections[2]


def test_by_currency_each_currencys_group_is_its_own_exact_sums(cli: Cli, tmp_path: Path) -> None:
    """Broken down by currency, each currency's section holds its one group (the report's own
    groups are its own currency's: never a table ranking yen against euros)."""
    report = stocked(cli, tmp_path).json("report", "--by", "currency")

    assert [g["key"]["currency"] for g in report["groups"]] == ["USD"]
    groups = {g["key"]["currency"]: g for part in report["by_currency"] for g in part["groups"]}
    assert set(groups) == {"EUR", "JPY", "USD"}
    for code, (lines, deals, at_list, net) in EXPECTED.items():
        assert (groups[code]["lines"], groups[code]["deals"]) == (lines, deals), code
        assert Decimal(groups[code]["list_revenue"]) == at_list, code
        assert Decimal(groups[code]["net_revenue"]) == net, code
    assert report["deals_overlap"] is False


def test_a_deal_in_two_currencies_counts_in_each_and_the_details_of_each_are_its_own(
    cli: Cli, tmp_path: Path
) -> None:
    """A deal with a dollar line and a euro line below its limit: each currency's figures count
    it; the workbook lists the euro line out of policy on the euro sheet, and a euro sale far
    above its standard price to check there, never on the dollar ones."""
    from openpyxl import load_workbook

    stocked(cli, tmp_path)
    policy = tmp_path / "policy.toml"
    policy.write_text(
        'currency = "USD"\nlevels = ["rep", "manager"]\neffective_from = 2026-01-01\n'
        "[limits]\nrep = 10\nmanager = 20\n"
    )
    assert cli("policy", "load", str(policy)).exit_code == 0, cli(
        "policy", "load", str(policy)
    ).output
    more = tmp_path / "more.csv"
    more.write_text(
        "Deal,Date,Customer,SKU,Qty,Net Price\n"
        "D-7,2026-05-01,Omega,US-1,1,100\n"
        "D-7,2026-05-01,Omega,EU-1,1,45\n"  # 50 % off: out of policy
        "D-8,2026-05-02,Omega,EU-1,1,500\n"  # 5.6 times its standard price: to check
    )
    assert cli("deals", "import", str(more)).exit_code == 0
    report = cli.json("report", "--from", "2026-05-01")
    parts = {part["currency"]: part["totals"] for part in report["by_currency"]}
    assert (parts["USD"]["deals"], parts["EUR"]["deals"]) == (1, 2)
    assert parts["EUR"]["out_of_policy_lines"] == 1 and parts["USD"]["out_of_policy_lines"] == 0

    workbook = tmp_path / "drift.xlsx"
    assert cli("report", "--from", "2026-05-01", "-o", str(workbook)).exit_code == 0
    book = load_workbook(workbook)
    euro_lines = [row for row in book["Out of policy EUR"].iter_rows(min_row=2, values_only=True)]
    assert [row[1] for row in euro_lines] == ["D-7"]
    assert [row[1] for row in book["To check EUR"].iter_rows(min_row=2, values_only=True)] == [
        "D-8"
    ]
    assert list(book["Out of policy"].iter_rows(min_row=2, values_only=True)) == []


def test_each_currencys_groups_add_up_to_its_totals(cli: Cli, tmp_path: Path) -> None:
    report = stocked(cli, tmp_path).json("report", "--by", "customer")

    for part in report["by_currency"]:
        net = sum(Decimal(g["net_revenue"]) for g in part["groups"])
        assert net == Decimal(part["totals"]["net_revenue"]), part["currency"]
    assert report["groups"] == report["by_currency"][0]["groups"]


def test_a_period_of_euro_lines_alone_is_reported_in_euros(cli: Cli, tmp_path: Path) -> None:
    """A refund in euros, the only line of the period, is reported in euros (never as dollars
    because most of the book is in dollars); with a dollar sale beside it, apart from it."""
    stocked(cli, tmp_path)
    refund = tmp_path / "refund.csv"
    refund.write_text(
        "Deal,Date,Customer,SKU,Qty,Net Price\n"
        "D-9,2026-04-01,Beta,EU-1,-1,81.25\n"
        "D-10,2026-04-02,Acme,US-2,1,40\n"
    )
    assert cli("deals", "import", str(refund)).exit_code == 0
    alone = cli.json("report", "--from", "2026-04-01", "--to", "2026-04-01")
    assert alone["currency"] == "EUR" and "by_currency" not in alone
    assert alone["totals"]["returns_amount"] == "-81.25"

    both = cli.json("report", "--from", "2026-04-01", "--to", "2026-04-30")
    parts = {part["currency"]: part["totals"] for part in both["by_currency"]}
    assert both["currency"] == "USD" and both["totals"]["returns_amount"] == "0.00"
    assert parts["EUR"]["returns_amount"] == "-81.25"
    assert parts["USD"]["net_revenue"] == "40.00"


def test_one_currency_keeps_the_report_as_it_was(cli: Cli, tmp_path: Path) -> None:
    stocked(cli, tmp_path)
    report = cli.json("report", "--to", "2026-03-03", "--from", "2026-03-02")  # D-1, D-2: two
    assert "by_currency" in report
    only = cli.json("report", "--from", "2026-03-04", "--to", "2026-03-04")  # D-3: dollars
    assert "by_currency" not in only
    assert not any(note.startswith("the sales are in") for note in only["notes"])


def test_the_files_have_a_section_per_currency(cli: Cli, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    stocked(cli, tmp_path)
    workbook, page = tmp_path / "drift.xlsx", tmp_path / "drift.html"
    assert cli("report", "--by", "customer", "-o", str(workbook)).exit_code == 0
    assert cli("report", "--by", "customer", "-o", str(page)).exit_code == 0

    book = load_workbook(workbook)
    assert {"Summary", "Summary EUR", "Summary JPY", "By customer EUR"} <= set(book.sheetnames)
    euros = {row[0]: row[1] for row in book["Summary EUR"].iter_rows(min_row=5, values_only=True)}
    assert Decimal(str(euros["Net revenue"])) == Decimal("243.75")
    assert (
        book["Summary EUR"]["A2"].value.startswith("Period")
        and "EUR" in book["Summary EUR"]["A2"].value
    )
    text = page.read_text(encoding="utf-8")
    assert "Sales in EUR" in text and "Sales in JPY" in text
    assert "sales in USD" in text  # the report's own section says its currency


def test_the_library_gives_each_currency_as_typed_figures(tmp_path: Path, sqlite_url: str) -> None:
    import pricing

    stocked(Cli(sqlite_url), tmp_path)
    with pricing.open(sqlite_url, user="mia") as p:
        report = p.report()
    assert report.by_currency is not None
    parts = {part.currency: part.totals for part in report.by_currency}
    assert parts["EUR"].net_revenue == Decimal("243.75")
    assert parts["JPY"].net_revenue == Decimal(14000)


def test_the_csv_has_a_currency_column_and_every_currencys_rows(cli: Cli, tmp_path: Path) -> None:
    import csv

    stocked(cli, tmp_path)
    path = tmp_path / "drift.csv"
    assert cli("report", "--by", "customer", "-o", str(path)).exit_code == 0
    rows = list(csv.DictReader(path.read_text(encoding="utf-8").splitlines()))
    totals = {row["currency"]: row for row in rows if row["customer"] == "TOTAL"}
    assert set(totals) == {"USD", "EUR", "JPY"}
    for code, (lines, _, _, net) in EXPECTED.items():
        assert int(totals[code]["lines"]) == lines and Decimal(totals[code]["net_revenue"]) == net
    assert {(row["currency"], row["customer"]) for row in rows if row["customer"] != "TOTAL"} == {
        ("USD", "Acme"),
        ("USD", "Gamma"),
        ("EUR", "Beta"),
        ("JPY", "Delta"),
    }
