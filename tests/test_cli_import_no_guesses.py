"""Imports that read like a colleague: what a file cannot tell is asked, never guessed.

Given a file a person really has, when it is imported, then the import either reads it the way
its author meant, or stops (exit 2, nothing stored) and says what to give it: two examples of
what is unclear and the option that settles it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tests.conftest import Cli, write_workbook

AMBIGUOUS_DATES = """Order ID,Order Date,Customer,SKU,Quantity,Amount
O-1,03/02/2025,Acme,SV-1,1,100
O-2,01/04/2025,Acme,SV-1,1,100
O-3,05/03/2025,Acme,SV-1,1,100
"""
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\x00\x00\x00\x10\x08\x06\x00\x00\x00"


def write(tmp_path: Path, text: str, name: str = "deals.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def unexpected(problems: list[dict[str, object]]) -> list[dict[str, object]]:
    """The problems but the warning that a file has no customer or salesperson column."""
    return [p for p in problems if "salesperson column was found" not in str(p["message"])]


def stored_lines(cli: Cli) -> int:
    return int(cli.json("report")["totals"]["lines"])


def test_dates_that_cannot_tell_day_from_month_stop_the_import(owner: Cli, tmp_path: Path) -> None:
    """Given dates none of which has a day above 12, when imported, then exit 2 with two of
    them and both --date-format choices, nothing stored; with the day-first format they are
    stored day-first."""
    path = write(tmp_path, AMBIGUOUS_DATES)
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2
    assert "deals.csv line 2, column B" in result.stderr
    assert '"03/02/2025" and "01/04/2025"' in result.stderr
    assert "--date-format %d/%m/%Y" in result.stderr and "--date-format %m/%d/%Y" in result.stderr
    assert "is not a date" not in result.stderr  # one message, not one per line
    assert stored_lines(owner) == 0

    assert owner("deals", "import", str(path), "--date-format", "%d/%m/%Y").exit_code == 0
    months = owner.json("report", "--by", "month")
    assert months["from"] == "2025-02-03"
    assert [g["key"]["month"] for g in months["groups"]] == ["2025-02", "2025-03", "2025-04"]


def test_a_date_format_that_is_not_one_is_named_by_its_flag(owner: Cli, tmp_path: Path) -> None:
    path = write(tmp_path, AMBIGUOUS_DATES)
    for bad in ("%Q", "dd/mm/yyyy", "%d/%m"):
        result = owner("deals", "import", str(path), "--date-format", bad)
        assert result.exit_code == 2, bad
        assert "--date-format" in result.stderr and "Traceback" not in result.output, bad
    assert stored_lines(owner) == 0


def test_money_that_cannot_tell_a_decimal_comma_from_a_point_stops_the_import(
    owner: Cli, tmp_path: Path
) -> None:
    """Given amounts that are all like 1,234 (thousands, or three decimals?), when imported,
    then exit 2 with examples and both --decimal choices; either choice then reads them."""
    path = write(tmp_path, "Order ID,Order Date,SKU,Quantity,Amount\n"
                           'O-1,2025-03-01,SV-1,1,"1,234"\nO-2,2025-03-02,SV-1,1,"12,500"\n')  # fmt: skip
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2
    assert '"1,234" and "12,500"' in result.stderr and "line 2, column E" in result.stderr
    assert "--decimal point" in result.stderr and "--decimal comma" in result.stderr
    assert stored_lines(owner) == 0

    comma = owner.json("deals", "import", str(path), "--decimal", "comma", "--dry-run")
    assert comma["added"] == 2 and not unexpected(comma["problems"])
    assert owner("deals", "import", str(path), "--decimal", "point").exit_code == 0
    assert owner.json("report")["totals"]["net_revenue"] == "13734.00"


def test_values_that_decide_the_decimal_mark_keep_working(owner: Cli, tmp_path: Path) -> None:
    """A decimal comma shown by one value (12,5 or 1.234,56) reads the others the same way:
    1.234 is then one thousand two hundred thirty-four and 1,234 is 1.234."""
    path = write(tmp_path, "Order ID;Order Date;SKU;Quantity;Amount\nO-1;2025-03-01;SV-1;1;1.234,56\n"
                           "O-2;2025-03-01;SV-1;1;12,5\nO-3;2025-03-01;SV-1;1;1.234\nO-4;2025-03-01;SV-1;1;1,234\n")  # fmt: skip
    document = owner.json("deals", "import", str(path))
    assert document["added"] == 4
    assert owner.json("report")["totals"]["net_revenue"] == "2482.29"  # 1234.56+12.5+1234+1.234
    points = write(tmp_path, 'Order ID,Order Date,SKU,Quantity,Amount\nP-1,2025-03-01,SV-1,1,"1,234.50"\n'
                             'P-2,2025-03-01,SV-1,1,"2,000"\n', "points.csv")  # fmt: skip
    assert owner("deals", "import", str(points)).exit_code == 0
    assert owner.json("report")["totals"]["net_revenue"] == "5716.79"  # + 1234.50 + 2000


def test_numbers_typed_as_numbers_in_a_workbook_are_never_ambiguous(
    owner: Cli, tmp_path: Path
) -> None:
    path = write_workbook(tmp_path / "deals.xlsx", {"Deals": [
        ["Order ID", "Order Date", "SKU", "Quantity", "Amount"],
        ["O-1", date(2025, 3, 1), "SV-1", 1, 1.234], ["O-2", date(2025, 3, 1), "SV-1", 1, 2.5],
        ["O-3", date(2025, 3, 1), "SV-1", 1, 1000.125],
    ]})  # fmt: skip
    assert owner("deals", "import", str(path)).exit_code == 0
    assert owner.json("report")["totals"]["net_revenue"] == "1003.86"


def test_a_file_without_a_deal_id_says_how_deals_are_counted(owner: Cli, tmp_path: Path) -> None:
    """Given no column the importer knows as the deal id, when imported, then a warning names
    the header that looked closest and says each line is a deal of its own."""
    path = write(tmp_path, "Deal Ref,Order Date,SKU,Quantity,Amount\n"
                           "A,2025-03-01,SV-1,1,90\nA,2025-03-01,HW-100,1,110\n")  # fmt: skip
    result = owner("deals", "import", str(path))
    assert result.exit_code == 0
    assert "warning: deals.csv line 1: no deal id column" in result.stderr
    assert "each line is counted as a deal of its own" in result.stderr
    assert "'Deal Ref'" in result.stderr and '--column deal_id="Deal Ref"' in result.stderr
    assert owner.json("report")["totals"]["deals"] == 2


@pytest.mark.parametrize(
    ("header", "mapped"),
    [
        # HubSpot deals with line items
        ("Deal Name,Close Date,Associated Company,Deal owner,Product SKU,Quantity,Unit price",
         {"deal_id": "Deal Name", "sku": "Product SKU", "customer": "Associated Company",
          "rep": "Deal owner", "unit_price": "Unit price"}),
        # Salesforce opportunity products
        ("Opportunity Name,Close Date,Account Name,Opportunity Owner,Product Code,Quantity,"
         "Sales Price,Line Item ID",
         {"deal_id": "Opportunity Name", "sku": "Product Code", "unit_price": "Sales Price",
          "line_id": "Line Item ID"}),
        # Pipedrive deal products
        ("Deal - Title,Deal - Won time,Deal - Organization,Deal - Owner,Product - Product code,"
         "Quantity,Item price",
         {"deal_id": "Deal - Title", "date": "Deal - Won time", "sku": "Product - Product code",
          "unit_price": "Item price", "customer": "Deal - Organization"}),
        # Zoho Books invoices
        ("Invoice Number,Invoice Date,Customer Name,Sales person,SKU,Quantity,Item Price,Item Total",
         {"deal_id": "Invoice Number", "amount": "Item Total", "rep": "Sales person"}),
        # Odoo sales order lines
        ("Order Reference,Order Date,Customer,Salesperson,Order Lines/Product,"
         "Order Lines/Quantity,Order Lines/Unit Price,Order Lines/Discount (%)",
         {"deal_id": "Order Reference", "sku": "Order Lines/Product",
          "qty": "Order Lines/Quantity", "unit_price": "Order Lines/Unit Price"}),
        # ERPNext sales invoice items
        ("Sales Invoice,Posting Date,Customer,Item Code,Qty,Net Rate,Net Amount",
         {"deal_id": "Sales Invoice", "date": "Posting Date", "sku": "Item Code",
          "amount": "Net Amount"}),
    ],
)  # fmt: skip
def test_line_item_exports_of_common_crms_are_recognised(
    owner: Cli, tmp_path: Path, header: str, mapped: dict[str, str]
) -> None:
    values = {"Quantity": "2", "Qty": "2", "Order Lines/Quantity": "2"}
    cells = [values.get(h, "") for h in header.split(",")]
    row = []
    for h, v in zip(header.split(","), cells, strict=True):
        lowered = h.lower()
        if v:
            row.append(v)
        elif "date" in lowered or "time" in lowered:
            row.append("2025-03-01")
        elif any(k in lowered for k in ("price", "rate", "total", "amount")):
            row.append("95")
        elif any(k in lowered for k in ("sku", "code", "product")):
            row.append("SV-1")
        elif "discount" in lowered:
            row.append("0")
        else:
            row.append("X-1")
    path = write(tmp_path, header + "\n" + ",".join(row) + "\n")
    document = owner.json("deals", "import", str(path))
    assert document["added"] == 1
    assert {k: document["columns"][k] for k in mapped} == mapped
    assert not [p for p in document["problems"] if "deal id" in p["message"]]


def test_a_missing_required_header_is_named_with_the_closest_one(
    owner: Cli, tmp_path: Path
) -> None:
    path = write(tmp_path, "Order ID,Order Date,Customer,SKU,Qty Ordred,Amount\n"
                           "O-1,2025-03-01,Acme,SV-1,1,90\n")  # fmt: skip
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2
    assert "deals.csv line 1: no quantity column" in result.stderr
    assert "'Qty Ordred'" in result.stderr and '--column qty="Qty Ordred"' in result.stderr
    assert "a date, a SKU" not in result.stderr  # only what is missing
    assert stored_lines(owner) == 0


@pytest.mark.parametrize("name", ["deals.xlsx", "deals.csv"])
def test_an_image_renamed_as_a_spreadsheet_is_not_a_spreadsheet(
    owner: Cli, tmp_path: Path, name: str
) -> None:
    cli = owner
    path = tmp_path / name
    path.write_bytes(PNG + bytes(range(256)) * 4)
    for command in (["deals", "import"], ["pricebook", "import"]):
        result = cli(*command, str(path))
        assert result.exit_code == 2, command
        assert f"{name}: not a spreadsheet" in result.stderr and "PNG" in result.stderr
        assert "header" not in result.stderr and "Traceback" not in result.output
    assert len(cli.json("pricebook", "editions")) == 2  # the fixture's, no third
    assert stored_lines(cli) == 0


def test_a_price_book_in_euros_says_so_in_its_header_or_cells(cli: Cli, tmp_path: Path) -> None:
    """Given a book whose price header says EUR, or whose prices carry € or EUR, when imported
    without --currency, then its items are in EUR (not the default USD); with a --currency
    that disagrees, exit 2 and nothing stored."""
    header = write_workbook(tmp_path / "header.xlsx", {"Price Book": [
        ["SKU", "List Price (EUR)"], ["A-1", 12], ["A-2", 3199],
    ]})  # fmt: skip
    cells = write_workbook(tmp_path / "cells.xlsx", {"Price Book": [
        ["SKU", "List Price"], ["A-1", "€12,00"], ["A-2", "EUR 3.199,00"],
    ]})  # fmt: skip
    result = cli("pricebook", "import", str(header), "--currency", "USD")
    assert result.exit_code == 2
    assert "'Price Book'!B1" in result.stderr and "in EUR" in result.stderr
    assert "--currency is USD" in result.stderr
    result = cli("pricebook", "import", str(cells), "--currency", "GBP")
    assert result.exit_code == 2 and "'Price Book'!B2" in result.stderr
    assert cli("pricebook", "import", str(header), "--currency", "EUR", "--dry-run").exit_code == 0

    for book in (header, cells):
        assert cli("pricebook", "import", str(book), "--effective", "2025-01-01").exit_code == 0
        item = cli.json("pricebook", "show", "A-2")
        assert (item["currency"], item["list_price"]) == ("EUR", "3199.00")


def test_a_price_in_another_currency_than_the_book_is_an_error(cli: Cli, tmp_path: Path) -> None:
    book = write_workbook(tmp_path / "mixed.xlsx", {"Price Book": [
        ["SKU", "Price"], ["A-1", "€12.00"], ["A-2", "€8.00"], ["A-3", "£5.00"],
    ]})  # fmt: skip
    result = cli("pricebook", "import", str(book))
    assert result.exit_code == 2
    assert "'Price Book'!B4" in result.stderr and "in GBP but the book is in EUR" in result.stderr


def test_a_cover_page_first_lists_the_sheets_and_suggests_sheet(cli: Cli, tmp_path: Path) -> None:
    """Given a workbook whose first sheet is a cover page, when imported, then the message
    lists the sheets, says which looks like a price book and how to import it."""
    book = write_workbook(tmp_path / "book.xlsx", {
        "Cover": [["ACME price list 2026"], [], ["Confidential: do not forward"]],
        "Notes": [["Prices exclude VAT"]],
        "Q1 2026": [["SKU", "List Price"], ["A-1", 10]],
    })  # fmt: skip
    result = cli("pricebook", "import", str(book))
    assert result.exit_code == 2
    assert "the workbook's sheets are 'Cover', 'Notes', 'Q1 2026'" in result.stderr
    assert "'Q1 2026' looks like a price book: import it with --sheet 'Q1 2026'" in result.stderr
    assert cli("pricebook", "import", str(book), "--sheet", "Q1 2026").exit_code == 0


def test_a_price_book_missing_its_price_column_names_the_closest_header(
    cli: Cli, tmp_path: Path
) -> None:
    book = write_workbook(tmp_path / "book.xlsx", {"Price Book": [
        ["SKU", "Name", "Family", "Preis"], ["A-1", "Widget", "Hardware", 10],
    ]})  # fmt: skip
    result = cli("pricebook", "import", str(book))
    assert result.exit_code == 2
    assert "no list price column: the closest header is 'Preis'" in result.stderr
    assert '--column list_price="Preis"' in result.stderr


def test_an_unmatched_sku_that_lost_its_leading_zeros_gets_a_hint(cli: Cli, tmp_path: Path) -> None:
    """Given a book with SKU 00123 and deals whose export dropped the zeros (123), when the
    deals are imported, then a warning names both."""
    book = tmp_path / "book.csv"
    book.write_text("SKU,List Price\n00123,10\nA-1,5\n")
    assert cli("pricebook", "import", str(book), "--effective", "2025-01-01").exit_code == 0
    deals = write(tmp_path, "Order ID,Order Date,SKU,Quantity,Amount\n"
                            "O-1,2025-03-01,123,1,10\nO-2,2025-03-01,77,1,10\n")  # fmt: skip
    document = cli.json("deals", "import", str(deals))
    assert document["unmatched"] == 2
    hints = [p["message"] for p in unexpected(document["problems"]) if p["severity"] == "warning"]
    assert len(hints) == 1
    assert "SKU '123' has no list price, but the price book has '00123'" in hints[0]
    assert "leading zeros" in hints[0]


def test_a_price_book_whose_prices_cannot_tell_the_decimal_mark_stops(
    cli: Cli, tmp_path: Path
) -> None:
    """Given prices typed as text, all like 1,234, when imported, then exit 2 with examples;
    one price that shows a decimal comma (12,50) makes 1,234 read as 1.234."""
    unclear = write_workbook(tmp_path / "unclear.xlsx", {"Price Book": [
        ["SKU", "List Price"], ["A-1", "1,234"], ["A-2", "12,500"], ["A-3", 7],
    ]})  # fmt: skip
    result = cli("pricebook", "import", str(unclear))
    assert result.exit_code == 2
    assert "'Price Book'!B2" in result.stderr and '"1,234" and "12,500"' in result.stderr
    clear = write_workbook(tmp_path / "clear.xlsx", {"Price Book": [
        ["SKU", "List Price"], ["A-1", "1,234"], ["A-2", "1.234"], ["A-3", "12,50"],
    ]})  # fmt: skip
    assert cli("pricebook", "import", str(clear), "--effective", "2025-01-01").exit_code == 0
    prices = {i["sku"]: i["list_price"] for i in cli.json("pricebook", "show")["items"]}
    assert prices == {"A-1": "1.23", "A-2": "1234.00", "A-3": "12.50"}


def test_a_price_book_in_another_currency_than_the_policy_is_imported_with_a_warning(
    sales: Cli, tmp_path: Path
) -> None:
    """Given a USD policy, when the marketer imports a book priced in EUR, then it is stored
    but she is told that deals and floors will be compared with it as if in one currency."""
    book = write_workbook(tmp_path / "eur.xlsx", {"Price Book": [
        ["SKU", "Family", "List Price (EUR)"], ["HW-100", "Hardware", 110],
    ]})  # fmt: skip
    # the book's newest edition is in USD: changing its currency is said with --currency
    args = ("pricebook", "import", str(book), "--effective", "2026-06-01")
    assert sales.json(*args, expect=2)["edition"] is None
    result = sales.json(*args, "--currency", "EUR")
    warned = [p["message"] for p in result["problems"] if p["severity"] == "warning"]
    assert any("in EUR while the policy's limits and floors are in USD" in m for m in warned)
    assert result["edition"] is not None


def test_a_currency_column_adding_a_currency_is_a_warning_and_one_replacing_them_an_error(
    sales: Cli, tmp_path: Path
) -> None:
    """Given a USD book, when the next edition's Currency column keeps its USD prices (named,
    or left blank) and adds a SKU in EUR (then JPY), then it is stored with a warning naming
    the new currency; when every row is in GBP (the book in another currency: a mislabelled
    export), it is refused unless --currency GBP says so."""
    blank = write_workbook(tmp_path / "blank.xlsx", {"Price Book": [
        ["SKU", "List Price", "Currency"], ["HW-100", 120, None], ["EU-2", 80, "EUR"],
    ]})  # fmt: skip
    kept = sales.json("pricebook", "import", str(blank), "--effective", "2026-05-15")
    assert kept["edition"] is not None  # (a blank cell is the book's currency: kept beside EUR)
    assert any("the first prices in EUR" in p["message"] for p in kept["problems"])
    added = write_workbook(tmp_path / "added.xlsx", {"Price Book": [
        ["SKU", "List Price", "Currency"], ["HW-100", 120, "USD"], ["JP-1", 9000, "JPY"],
    ]})  # fmt: skip
    result = sales.json("pricebook", "import", str(added), "--effective", "2026-06-01")
    assert result["edition"] is not None
    warned = [p for p in result["problems"] if p["severity"] == "warning"]
    assert any("the first prices in JPY" in p["message"] and p["cell"] == "C3" for p in warned)
    flipped = write_workbook(tmp_path / "flipped.xlsx", {"Price Book": [
        ["SKU", "List Price", "Currency"], ["HW-100", 120, "GBP"], ["SV-1", 90, "GBP"],
    ]})  # fmt: skip
    refused = sales.json("pricebook", "import", str(flipped), "--effective", "2026-07-01",
                         expect=2)  # fmt: skip
    assert refused["edition"] is None
    assert any("import with --currency GBP" in p["message"] for p in refused["problems"])


def test_deals_dated_after_today_are_imported_with_a_warning_saying_how_many_and_where(
    owner: Cli, tmp_path: Path
) -> None:
    """Given two past deals and seven dated after today (a date read the wrong way round, or
    an order not closed yet), when imported, then they are stored and one warning says how
    many and the first lines."""
    from datetime import timedelta

    today = date.today()
    rows = [f"O-{i},{today - timedelta(days=i + 1)},SV-1,1,100" for i in range(2)]
    rows += [f"F-{i},{today + timedelta(days=i + 1)},SV-1,1,100" for i in range(7)]
    path = write(tmp_path, "Order ID,Order Date,SKU,Quantity,Amount\n" + "\n".join(rows) + "\n")
    result = owner("deals", "import", str(path))
    assert result.exit_code == 0, result.output
    assert "7 line(s) dated after today" in result.stderr
    assert "at line(s) 4, 5, 6, 7, 8, …" in result.stderr
    assert "warning: deals.csv line 4, column B" in result.stderr
    document = owner.json("deals", "import", str(path), "--dry-run")
    (warning,) = [p for p in document["problems"] if "after today" in p["message"]]
    assert warning["severity"] == "warning" and warning["line"] == 4
    assert stored_lines(owner) == 9


def test_a_csv_whose_lines_end_cr_cr_lf_is_read_line_for_line(owner: Cli, tmp_path: Path) -> None:
    """Given a csv whose every line ends \\r\\r\\n (line ends converted twice, e.g. by a script
    on Windows), when imported, then its lines are read as their author meant: a problem is
    named by its own line, and the corrected file imports all of them."""
    rows = ["Order ID,Order Date,SKU,Quantity,Amount", "O-1,2025-03-01,SV-1,1,100",
            "O-2,2025-03-02,SV-1,two,100", "O-3,2025-03-03,SV-1,3,300"]  # fmt: skip
    path = tmp_path / "deals.csv"
    path.write_bytes("\r\r\n".join(rows).encode() + b"\r\r\n")
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2
    assert 'deals.csv line 3, column D: "two": quantity is not a number' in result.stderr
    assert stored_lines(owner) == 0
    path.write_bytes("\r\r\n".join(rows).replace("two", "2").encode() + b"\r\r\n")
    done = owner.json("deals", "import", str(path))
    assert (done["lines"], done["added"]) == (3, 3) and not unexpected(done["problems"])
    assert owner.json("report")["totals"]["quantity"] == 6


def test_a_line_without_its_quantity_is_an_error_with_its_cell(owner: Cli, tmp_path: Path) -> None:
    """Every other quantity a plain number, one left empty: that cell is named, nothing
    stored (a quantity is never guessed, not even as zero)."""
    path = write(tmp_path, "Order ID,Order Date,SKU,Quantity,Amount\n"
                           "O-1,2025-03-01,SV-1,1,100\nO-2,2025-03-01,SV-1,,100\n")  # fmt: skip
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2
    assert "deals.csv line 3, column D: quantity is missing" in result.stderr
    assert stored_lines(owner) == 0


def test_a_deals_workbook_with_a_cover_sheet_is_read_from_the_sheet_with_the_header(
    owner: Cli, tmp_path: Path
) -> None:
    """Given a CRM workbook whose first sheet is a read-me and whose deals are on 'Export 1',
    when the owner imports it, then the deals sheet is found and read; --sheet names another
    sheet, and a sheet that does not exist is refused with the sheets listed (found by the
    new-owner trial: 'no row in the first 30 names …' and no --sheet for deals)."""
    rows = [["Order ID", "Order Date", "SKU", "Quantity", "Net Price"],
            ["O-1", "2026-03-02", "HW-100", 1, 120], ["O-2", "2026-03-03", "SV-1", 2, 90]]  # fmt: skip
    book = write_workbook(tmp_path / "crm.xlsx", {
        "Read me": [["Exported from the CRM on 2026-11-30"], ["Do not edit"]],
        "Export 1": rows,
    })  # fmt: skip
    imported = owner.json("deals", "import", str(book))
    assert imported["added"] == 2
    missing = owner("deals", "import", str(book), "--sheet", "Deals 2026")
    assert missing.exit_code == 2
    assert "has no sheet 'Deals 2026'; its sheets are 'Read me', 'Export 1'" in missing.stderr
    cover = owner("deals", "import", str(book), "--sheet", "Read me")
    assert cover.exit_code == 2 and "another with --sheet NAME" in cover.stderr
    assert stored_lines(owner) == 2


def test_a_mistyped_column_mapping_is_named_with_the_header_it_meant(
    owner: Cli, tmp_path: Path
) -> None:
    """Given --column naming a header no row has (a typo), when the marketer or the owner
    imports, then that mapping is the error, with the closest header (found by the new-owner
    trial: a generic 'no row names a SKU' for the price book, 'no deal id column' for deals)."""
    book = tmp_path / "book.csv"
    book.write_text("Item Number,Price\nA-1,10\n")
    said = owner("pricebook", "import", str(book), "--column", "sku=Item Nmbr")
    assert said.exit_code == 2
    assert '--column sku="Item Nmbr": no column of the first 30 rows has that header; the ' \
        'closest is "Item Number"' in said.stderr  # fmt: skip
    deals = tmp_path / "deals.csv"
    deals.write_text("Deal Name,Date,SKU,Qty,Net Price\nD-1,2026-03-02,HW-100,1,120\n")
    said = owner("deals", "import", str(deals), "--column", "deal_id=Deal Nme")
    assert said.exit_code == 2 and 'the closest is "Deal Name"' in said.stderr
    assert stored_lines(owner) == 0
