"""The owner hands the deal history to an analyst: every stored line, with what matching and the
policy decided of it, as Parquet or csv (``pricing deals export``)."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import Cli
from tests.test_cli_deals_report import SALES, approved_request, deals_csv

TODAY = date.today()  # (the day the request is approved: its approval covers its deal from then)
# A sale covered by R-000001 (SV-1 at 92, approved today), a return and a stock adjustment,
# beside SALES's lines (those of 2025 before the book's first edition: unmatched, as NOPE-1).
MORE = f"""Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price,Request
O-4,{TODAY},Acme,priya,SV-1,1,92.00,R-000001
O-5,{TODAY},Acme,priya,HW-100,-1,108.00,
O-6,{TODAY + timedelta(days=1)},Acme,priya,HW-100,-2,0,
"""


def imported(sales: Cli, tmp_path: Path) -> None:
    """SALES and MORE stored in the sales store (the team: priya a rep, marco a manager)."""
    approved_request(sales)
    assert sales("deals", "import", str(deals_csv(tmp_path, SALES))).exit_code == 0
    more = deals_csv(tmp_path, MORE, "more.csv")
    assert sales("deals", "import", str(more)).exit_code == 0


def test_a_parquet_export_holds_every_line_exactly_as_the_report_counts_it(
    sales: Cli, tmp_path: Path
) -> None:
    """Given seven stored lines (sales, one unmatched, a return, a stock adjustment, one
    covered by an approved request), when the owner (dana) exports them to Parquet, then every line
    is there in storage order, amounts are exact decimals, and the sales' net, list and out of
    policy lines are the report's to the cent."""
    imported(sales, tmp_path)
    out = tmp_path / "history" / "deals.parquet"

    said = sales.json("deals", "export", "-o", str(out))

    table = pq.read_table(out)
    assert (said["lines"], said["format"], said["file"]) == (7, "parquet", str(out))
    assert table.column_names == said["columns"] and table.num_rows == 7
    assert "deal_no" not in table.column_names and "net_amount" in table.column_names
    assert table.schema.field("net_amount").type == pa.decimal128(38, 6)
    rows = table.to_pylist()
    assert [r["deal_id"] for r in rows] == ["O-1", "O-1", "O-2", "O-3", "O-4", "O-5", "O-6"]
    assert [r["part"] for r in rows] == ["unmatched", "unmatched", "sale", "unmatched", "sale",
                                         "return", "adjustment"]  # fmt: skip
    covered = rows[4]
    assert (covered["request_id"], covered["out_of_policy"]) == ("R-000001", False)
    returned, adjusted = rows[5], rows[6]  # (never judged: no verdict of the policy's)
    assert (returned["level"], returned["level_rank"], returned["judged"]) == (None, None, False)
    assert (adjusted["below_floor"], adjusted["judged"]) == (None, False)
    assert table.schema.field("below_floor").type == pa.bool_()
    assert covered["net_amount"] == Decimal("92.000000")
    totals = sales.json("report")["totals"]
    sales = [r for r in rows if r["part"] == "sale"]
    assert sum(r["net_amount"] for r in sales) == Decimal(totals["net_revenue"])
    assert sum(r["list_revenue"] for r in sales) == Decimal(totals["list_revenue"])
    assert sum(r["out_of_policy"] for r in sales) == totals["out_of_policy_lines"]


def test_a_csv_export_of_a_period_and_what_it_says(sales: Cli, tmp_path: Path) -> None:
    """--from and --to keep the lines of those days (both included); the csv has a header of
    the same columns and decimals written in full."""
    imported(sales, tmp_path)
    out = tmp_path / "march.csv"

    said = sales("deals", "export", "--from", str(TODAY), "--to", str(TODAY), "-o", str(out))

    assert said.exit_code == 0, said.output
    assert f"Wrote 2 deal lines dated {TODAY} to {TODAY}" in said.stdout
    with out.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["deal_id"], r["qty"], r["net_amount"]) for r in rows] == [
        ("O-4", "1.000000", "92.000000"), ("O-5", "-1.000000", "-108.000000"),
    ]  # fmt: skip


def test_an_export_refused_writes_nothing(sales: Cli, tmp_path: Path) -> None:
    """A file of another kind, a period that ends before it starts, a rep (who may not read
    the history): refused, saying why, and no file."""
    imported(sales, tmp_path)
    wrong = sales("deals", "export", "-o", str(tmp_path / "deals.xlsx"))
    assert wrong.exit_code == 2 and ".parquet or .csv" in wrong.stderr
    backwards = sales("deals", "export", "--from", "2026-03-02", "--to", "2026-03-01", "-o",
                      str(tmp_path / "x.csv"))  # fmt: skip
    assert backwards.exit_code == 2 and "is after the period's end" in backwards.stderr
    for name, role in (("dana", "owner"), ("priya", "rep")):
        assert sales("people", "add", name, "--role", role, user="dana").exit_code == 0
    rep = sales("deals", "export", "-o", str(tmp_path / "mine.csv"), user="priya")
    assert rep.exit_code == 1, rep.output
    assert not (tmp_path / "deals.xlsx").exists() and not (tmp_path / "mine.csv").exists()
    assert not (tmp_path / "x.csv").exists()


def test_the_library_exports_what_the_command_does(sales: Cli, tmp_path: Path) -> None:
    import pricing

    imported(sales, tmp_path)
    with pricing.open(sales.db_url, user="dana") as p:
        done = p.export_deals(output=tmp_path / "all.parquet")
    assert done.lines == 7 and pq.read_table(tmp_path / "all.parquet").num_rows == 7


def test_an_export_never_writes_through_what_lies_beside_it_nor_over_the_store(
    sales: Cli, tmp_path: Path
) -> None:
    """Given a link planted beside the export's name (where DuckDB writes a file it replaces)
    pointing at a precious file, when the export replaces its file, then the precious file is
    untouched; the store's own file as the output is refused; a csv shows a customer named
    like a formula as text."""
    imported(sales, tmp_path)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    out = tmp_path / "out.csv"
    out.write_text("old")
    (tmp_path / "tmp_out.csv").symlink_to(precious)

    assert sales("deals", "export", "-o", str(out)).exit_code == 0

    assert precious.read_text() == "keep me" and out.read_text().startswith("line_key,")
    assert not list(tmp_path.glob(".pricing-export-*"))
    store_file = sales.db_url.removeprefix("sqlite:///")
    if sales.db_url.startswith("sqlite"):
        refused = sales("deals", "export", "-o", store_file)
        assert refused.exit_code == 2 and "that is the database itself" in refused.stderr
    formula = deals_csv(tmp_path, "Deal,Date,Customer,SKU,Qty,Net Price\n"
                        f"F-1,{TODAY},=HYPERLINK(1),HW-200,1,100\n", "formula.csv")  # fmt: skip
    assert sales("deals", "import", str(formula)).exit_code == 0
    assert sales("deals", "export", "-o", str(out)).exit_code == 0
    assert "'=HYPERLINK(1)" in out.read_text()
