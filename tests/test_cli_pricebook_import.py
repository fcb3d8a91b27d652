"""The marketer imports price book workbooks as they really are."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from pricing.pricebook import editions
from tests.conftest import Cli, cache_formula_values, write_workbook

TITLE = [["Acme Tools: Price Book 2026"], ["All prices in USD, excl. VAT"], []]


def stored_editions(cli: Cli) -> list[int]:
    return [e.number for e in editions.editions(cli.store())]


def item(cli: Cli, sku: str, on: str = "2030-01-01") -> dict:
    return cli.json("pricebook", "show", sku, "--as-of", on)


def test_import__marketing_sheet_with_title_sections_and_notes(cli: Cli, workbook) -> None:
    path = workbook(
        [
            *TITLE,
            ["Item #", "Description", "List Price", "Unit Cost", "Notes"],
            ["HARDWARE"],
            ["HW-100", "Router", "$1,234.50", 700, "new model"],
            [None, None, None, None, None],
            ["HW-101 ", "Switch", 99.9, "45.10", None],
            ["Software Subscriptions"],
            ["SW-200", "Cloud seat", "12,50", None, "per user / year"],
        ]
    )
    result = cli("pricebook", "import", str(path), "--effective", "2026-01-01")
    assert result.exit_code == 0, result.output
    assert "Imported edition 1" in result.stdout
    assert stored_editions(cli) == [1]
    router = item(cli, "HW-100")
    assert router["family"] == "HARDWARE"
    assert router["list_price"] == "1234.50"
    assert router["unit_cost"] == "700.00"
    assert item(cli, "hw-101")["sku"] == "HW-101"  # trailing space trimmed, case-insensitive lookup
    assert item(cli, "HW-101")["list_price"] == "99.90"
    assert item(cli, "SW-200")["family"] == "Software Subscriptions"
    assert item(cli, "SW-200")["list_price"] == "12.50"


@pytest.mark.parametrize(
    ("sku_header", "price_header", "family_header"),
    [
        ("SKU", "List Price", "Family"),
        ("Item #", "Price", "Category"),
        ("Part Number", "MSRP", "Product Line"),
        ("product_code", "Unit Price", "CATEGORY"),
        (" Item No. ", "List Price (USD)", "family"),
    ],
)
def test_import__headers_are_matched_loosely(
    cli: Cli, workbook, sku_header: str, price_header: str, family_header: str
) -> None:
    path = workbook([[sku_header, family_header, price_header], ["A-1", "Tools", 10]])
    result = cli("pricebook", "import", str(path))
    assert result.exit_code == 0, result.output
    assert item(cli, "A-1")["family"] == "Tools"


def test_import__column_option_maps_headers_in_other_languages(cli: Cli, workbook) -> None:
    path = workbook(
        [
            ["Alkon hinnasto"],
            [],
            ["Numero", "Nimi", "Hinta", "Tyyppi"],
            ["000123", "Viini", "12.48", "punaviinit"],
        ]
    )
    result = cli(
        "pricebook", "import", str(path), "--currency", "EUR",
        "--column", "sku=Numero", "--column", "list_price=Hinta",
        "--column", "name=Nimi", "--column", "family=Tyyppi",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    wine = item(cli, "000123")
    assert wine["sku"] == "000123"
    assert (wine["list_price"], wine["currency"], wine["family"]) == ("12.48", "EUR", "punaviinit")


def test_import__every_problem_is_reported_at_once_with_its_cell_and_nothing_is_stored(
    cli: Cli, workbook
) -> None:
    path = workbook(
        [
            ["SKU", "Name", "Price", "Cost"],
            ["A-1", "ok", 10, 5],
            ["A-2", "letter O", "12,5O", None],
            ["A-3", "no price", None, 3],
            ["A-4", "zero", 0, None],
            ["A-5", "negative", -4, None],
            [None, "orphan", 9, None],
            [" a-1", "duplicate", 11, None],
        ]
    )
    document = cli.json("pricebook", "import", str(path), expect=2)
    assert document["edition"] is None
    cells = {p["cell"]: p for p in document["problems"] if p["severity"] == "error"}
    assert set(cells) == {"C3", "C4", "C5", "C6", "A7", "A8", "A2"}
    assert cells["C3"]["value"] == "12,5O"
    assert cells["C3"]["sheet"] == "Price Book"
    assert "not a number" in cells["C3"]["message"]
    assert "without a SKU" in cells["A7"]["message"]
    assert "A2" in cells["A8"]["message"] and "A8" in cells["A2"]["message"]
    human = cli("pricebook", "import", str(path))
    assert human.exit_code == 2
    assert "'Price Book'!C3: \"12,5O\": list price is not a number" in human.stderr
    assert "Traceback" not in human.output
    assert stored_editions(cli) == []


def test_import__a_failed_import_leaves_the_previous_edition_as_it_was(cli: Cli, workbook) -> None:
    good = workbook([["SKU", "Price"], ["A-1", 10]], name="good.xlsx")
    bad = workbook([["SKU", "Price"], ["A-1", 12], ["A-2", "ten"]], name="bad.xlsx")
    assert cli("pricebook", "import", str(good), "--effective", "2026-01-01").exit_code == 0
    assert cli("pricebook", "import", str(bad), "--effective", "2026-02-01").exit_code == 2
    assert stored_editions(cli) == [1]
    assert item(cli, "A-1")["list_price"] == "10.00"


def test_import__formulas_use_their_cached_values_and_uncached_ones_are_problems(
    cli: Cli, tmp_path: Path
) -> None:
    path = write_workbook(
        tmp_path / "formulas.xlsx",
        {
            "Price Book": [
                ["SKU", "Price", "Cost"],
                ["A-1", "=10*2", 5],
                ["A-2", "=B2*2", None],
                ["A-3", 7, "=B4/2"],
            ]
        },
    )
    cache_formula_values(path, {"B2": "20"})
    document = cli.json("pricebook", "import", str(path), expect=2)
    problems = {p["cell"]: p for p in document["problems"]}
    assert problems["B3"]["severity"] == "error"
    assert "formula without a cached value" in problems["B3"]["message"]
    assert problems["C4"]["severity"] == "warning"
    cache_formula_values(path, {"B3": "40"})
    document = cli.json("pricebook", "import", str(path))
    assert document["edition"] == 1
    assert item(cli, "A-1")["list_price"] == "20.00"
    assert item(cli, "A-2")["list_price"] == "40.00"
    assert item(cli, "A-3")["unit_cost"] is None


def test_import__skus_stay_text_with_leading_zeros_and_numeric_cells_lose_no_digits(
    cli: Cli, workbook
) -> None:
    path = workbook([["SKU", "Price"], ["000042", 5], [1001, 6], ["  0007  ", 7]])
    assert cli("pricebook", "import", str(path)).exit_code == 0
    skus = [i["sku"] for i in cli.json("pricebook", "show", "--as-of", "2030-01-01")["items"]]
    assert skus == ["000042", "1001", "0007"]


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("utf-8-sig", 'SKU,Name,Price\nA-1,Café crème,"$1,234.50"\n'),
        ("utf-8", "SKU,Name,Price\nA-1,Café crème,1234.50\n"),
        ("cp1252", "SKU;Name;Price\nA-1;Café crème;1.234,50 €\n"),
        ("cp1252", '"Price list 2026"\n\nItem #;Description;List Price\nA-1;Café crème;1234,50\n'),
    ],
)
def test_import__csv_in_utf8_or_windows_1252_comma_or_semicolon(
    cli: Cli, tmp_path: Path, encoding: str, text: str
) -> None:
    path = tmp_path / "prices.csv"
    path.write_bytes(text.encode(encoding))
    result = cli("pricebook", "import", str(path))
    assert result.exit_code == 0, result.output
    got = item(cli, "A-1")
    assert (got["name"], got["list_price"]) == ("Café crème", "1234.50")


def test_import__csv_problems_name_the_line(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "prices.csv"
    path.write_text("SKU,Price\nA-1,10\nA-2,abc\n")
    result = cli("pricebook", "import", str(path))
    assert result.exit_code == 2
    assert 'prices.csv line 3, column B: "abc": list price is not a number' in result.stderr


def test_reimport__same_content_is_unchanged_and_makes_no_edition(cli: Cli, workbook) -> None:
    path = workbook([["SKU", "Price"], ["A-1", 10], ["A-2", 20]])
    first = cli.json("pricebook", "import", str(path), "--effective", "2026-01-01")
    assert (first["edition"], first["added"], first["unchanged"]) == (1, 2, False)
    again = cli.json("pricebook", "import", str(path), "--effective", "2026-03-01")
    assert again["edition"] is None
    assert again["unchanged"] is True
    assert (again["added"], again["removed"], again["changed"]) == (0, 0, 0)
    assert stored_editions(cli) == [1]
    assert "Unchanged" in cli("pricebook", "import", str(path)).stdout


def test_reimport__the_same_book_back_dated_makes_the_edition_that_was_meant(
    cli: Cli, workbook
) -> None:
    """Given a book imported without --effective (so in force from today), when the marketer
    imports it again with the date she meant, then that makes a new edition from that date
    (found by the new-owner trial: 'Unchanged', and the year's deals priced on the old book);
    a future edition's file imported again without a date stays unchanged."""
    from datetime import date

    path = workbook([["SKU", "Price"], ["A-1", 10], ["A-2", 20]])
    assert cli.json("pricebook", "import", str(path))["edition"] == 1
    meant = cli.json("pricebook", "import", str(path), "--effective", "2026-01-01")
    assert (meant["edition"], meant["unchanged"]) == (2, False)
    assert cli.json("pricebook", "show", "A-1", "--as-of", "2026-02-01")["edition"] == 2
    future = workbook([["SKU", "Price"], ["A-1", 12], ["A-2", 22]])
    ahead = f"{date.today().year + 1}-01-01"
    assert cli.json("pricebook", "import", str(future), "--effective", ahead)["edition"] == 3
    again = cli.json("pricebook", "import", str(future))
    assert (again["edition"], again["unchanged"]) == (None, True)
    assert stored_editions(cli) == [1, 2, 3]


def test_a_file_that_drops_most_of_the_book_asks_whether_it_is_the_right_file(
    cli: Cli, workbook
) -> None:
    """Given a book of 40 SKUs, when the marketer imports a file holding 10 of them and new
    ones (a part, or another company's list), then a warning asks whether it is the right file
    before the 30 dropped SKUs are listed (found by the new-owner trial)."""
    old = workbook([["SKU", "Price"], *[[f"A-{i}", 10 + i] for i in range(40)]], name="v1.xlsx")
    new = workbook([["SKU", "Price"], *[[f"A-{i}", 10 + i] for i in range(10)],
                    *[[f"B-{i}", 5] for i in range(100)]], name="v2.xlsx")  # fmt: skip
    cli("pricebook", "import", str(old), "--effective", "2026-01-01")
    result = cli("pricebook", "import", str(new), "--effective", "2027-01-01", "--dry-run")
    assert "30 of the previous edition's 40 SKUs are not in this file: is it the right file" in (
        result.stderr
    )


def test_dry_run__reports_what_would_happen_and_stores_nothing(cli: Cli, workbook) -> None:
    path = workbook([["SKU", "Price"], ["A-1", 10]])
    result = cli("pricebook", "import", str(path), "--dry-run")
    assert result.exit_code == 0
    assert "Dry run" in result.stdout and "nothing stored" in result.stdout
    assert cli.json("pricebook", "import", str(path), "--dry-run")["edition"] is None
    assert stored_editions(cli) == []


def test_next_edition__warnings_are_shown_without_blocking(cli: Cli, workbook) -> None:
    first = workbook(
        [["SKU", "Price", "Cost"], ["A-1", 10, 5], ["A-2", 20, 8], ["A-3", 30, 9]], name="v1.xlsx"
    )
    second = workbook(
        [["SKU", "Price", "Cost"], ["A-1", 16, 5], ["A-2", 20, 25], ["A-4", 40, None]],
        name="v2.xlsx",
    )
    cli("pricebook", "import", str(first), "--effective", "2026-01-01")
    result = cli("pricebook", "import", str(second), "--effective", "2027-01-01")
    assert result.exit_code == 0, result.output
    assert "'Price Book'!B2: \"16.00\": list price moved +60.00 %" in result.stderr
    assert "'Price Book'!C3: \"25\": unit cost is above the list price 20.00" in result.stderr
    assert "SKU 'A-3' is in the previous edition but not in this file" in result.stderr
    assert "is it the right file" not in result.stderr  # one of three dropped
    document = cli.json("pricebook", "diff")
    assert [i["sku"] for i in document["added"]] == ["A-4"]
    assert [i["sku"] for i in document["removed"]] == ["A-3"]
    changed = {c["sku"]: c for c in document["changed"]}
    assert changed["A-1"]["old_price"] == "10.00" and changed["A-1"]["new_price"] == "16.00"
    assert changed["A-1"]["change_pct"] == "60.00"
    assert changed["A-2"]["fields"] == {"unit_cost": {"old": "8.00", "new": "25.00"}}


def test_editions__the_price_in_force_depends_on_the_date(cli: Cli, workbook) -> None:
    cli("pricebook", "import", str(workbook([["SKU", "Price"], ["A-1", 10]], name="a.xlsx")),
        "--effective", "2026-01-01")  # fmt: skip
    cli("pricebook", "import", str(workbook([["SKU", "Price"], ["A-1", 12]], name="b.xlsx")),
        "--effective", "2027-01-01")  # fmt: skip
    assert item(cli, "A-1", "2026-06-30")["list_price"] == "10.00"
    assert item(cli, "A-1", "2026-06-30")["edition"] == 1
    assert item(cli, "A-1", "2027-01-01")["list_price"] == "12.00"
    before = cli("pricebook", "show", "A-1", "--as-of", "2025-12-31")
    assert before.exit_code == 2
    assert "no edition is in force on 2025-12-31" in before.stderr
    listed = cli.json("pricebook", "editions")
    assert [
        (e["edition"], e["effective_from"], e["items"], e["source"], e["imported_by"])
        for e in listed
    ] == [
        (1, "2026-01-01", 1, "a.xlsx", "mia"),
        (2, "2027-01-01", 1, "b.xlsx", "mia"),
    ]
    assert listed[0]["imported_at"].endswith("Z")


def test_tiers_sheet__gives_standard_volume_prices_per_sku_or_family(cli: Cli, workbook) -> None:
    path = workbook(
        [
            ["SKU", "Family", "Price"],
            ["HW-1", "Hardware", 120],
            ["HW-2", "Hardware", 200],
            ["SW-1", "Software", 50],
        ],
        tiers=[
            ["Volume pricing"],
            ["SKU", "Family", "Min Qty", "Price", "Discount %"],
            [None, "hardware", 10, None, "5%"],
            [None, "Hardware", 50, None, 10],
            ["HW-1", None, 50, 114, None],
        ],
    )
    document = cli.json("pricebook", "import", str(path))
    assert document["tiers"] == 3
    hw1 = item(cli, "HW-1")
    assert hw1["tiers"] == [
        {"min_qty": 50, "price": "114.00", "discount_pct": None, "scope": "sku"}
    ]
    hw2 = item(cli, "HW-2")
    assert [(t["min_qty"], t["price"], t["discount_pct"]) for t in hw2["tiers"]] == [
        (10, "190.00", "5.00"),
        (50, "180.00", "10.00"),
    ]
    assert item(cli, "SW-1")["tiers"] == []
    _, book = editions.in_force(cli.store(), date(2030, 1, 1))
    hw2_item = book.get("HW-2")
    assert hw2_item is not None
    assert book.standard_price(hw2_item, 9)[0] == Decimal(200)
    assert book.standard_price(hw2_item, 10)[0] == Decimal(190)
    assert book.standard_price(hw2_item, 500)[0] == Decimal(180)


def test_tiers_sheet__fractions_and_bad_rows(cli: Cli, workbook) -> None:
    path = workbook(
        [["SKU", "Family", "Price"], ["HW-1", "Hardware", 100]],
        tiers=[
            ["Family", "SKU", "Min Qty", "Discount %", "Price"],
            ["Hardware", None, 10, 0.05, None],
            ["Hardware", None, 20, 0.1, None],
            [None, "NOPE-1", 5, None, 3],
            ["Hardware", None, "ten", None, 80],
        ],
    )
    document = cli.json("pricebook", "import", str(path), expect=2)
    problems = {(p["cell"], p["severity"]): p["message"] for p in document["problems"]}
    assert "no such SKU" in problems[("B4", "error")]
    assert "whole number" in problems[("C5", "error")]
    assert "fractions" in problems[("D1", "warning")]


def test_import__files_with_no_price_rows_or_unreadable_are_refused_clearly(
    cli: Cli, workbook, tmp_path: Path
) -> None:
    header_only = workbook([["SKU", "Price"]])
    result = cli("pricebook", "import", str(header_only))
    assert result.exit_code == 2 and "no price rows" in result.stderr
    no_header = workbook([["Foo", "Bar"], [1, 2]], name="nohead.xlsx")
    result = cli("pricebook", "import", str(no_header))
    assert result.exit_code == 2 and "--column sku=HEADER" in result.stderr
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    result = cli("pricebook", "import", str(empty))
    assert result.exit_code == 2 and "empty" in result.stderr
    missing = cli("pricebook", "import", str(tmp_path / "nope.xlsx"))
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    bad_column = cli("pricebook", "import", str(header_only), "--column", "colour=Farbe")
    assert bad_column.exit_code == 2 and "unknown field 'colour'" in bad_column.stderr
    no_sheet = cli("pricebook", "import", str(header_only), "--sheet", "Nope")
    assert no_sheet.exit_code == 2 and "no sheet named 'Nope'" in no_sheet.stderr
    assert stored_editions(cli) == []


def test_import__sheet_named_like_prices_is_preferred_over_the_first(
    cli: Cli, tmp_path: Path
) -> None:
    path = write_workbook(
        tmp_path / "b.xlsx",
        {"Read me": [["This workbook holds our prices"]], "Prices": [["SKU", "Price"], ["A-1", 3]]},
    )
    document = cli.json("pricebook", "import", str(path))
    assert document["sheet"] == "Prices"


def test_store__money_is_exact_in_the_database(cli: Cli, workbook) -> None:
    cli(
        "pricebook",
        "import",
        str(workbook([["SKU", "Price"], ["A-1", "0.10"], ["A-2", 1234567.89]])),
    )
    db = cli.store()
    with db.read() as conn:
        book = editions.load_book(conn, 1)
    assert book.items["a-1"].list_price == Decimal("0.10")
    assert book.items["a-2"].list_price == Decimal("1234567.89")


# A book's currency across editions (issue 22, item 6) ----------------------------------------


def wholesale_csv(path: Path, header: str, prices: list[object]) -> Path:
    """A published wholesale price list as csv: a price header that may name the currency."""
    rows = ["SKU,Name," + header] + [
        f"W-{n},Wine {n},{price}" for n, price in enumerate(prices, start=1)
    ]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_next_edition__a_file_naming_no_currency_keeps_the_books_currency_and_says_so(
    cli: Cli, tmp_path: Path
) -> None:
    first = wholesale_csv(tmp_path / "e1.csv", "Wholesale Price (CAD)", [10, 20, 30, 40])
    assert cli("pricebook", "import", str(first), "--effective", "2026-01-01").exit_code == 0
    assert item(cli, "W-1")["currency"] == "CAD"
    # the next edition's header is just "price": one price of four moved
    second = wholesale_csv(tmp_path / "e2.csv", "price", [10, 22, 30, 40])
    document = cli.json("pricebook", "import", str(second), "--effective", "2026-02-01")
    assert (document["changed"], document["unchanged_items"]) == (1, 3)
    assert document["currencies"] == ["CAD"]
    said = [p["message"] for p in document["problems"] if p["severity"] == "warning"]
    assert any("names no currency" in m and "CAD" in m and "--currency" in m for m in said)
    assert item(cli, "W-2")["currency"] == "CAD"
    human = cli("pricebook", "import", str(wholesale_csv(tmp_path / "e3.csv", "price", [11])))
    assert human.exit_code == 0 and "read in CAD" in human.stderr


def test_next_edition__a_file_in_another_currency_is_refused_unless_currency_says_so(
    cli: Cli, tmp_path: Path
) -> None:
    first = wholesale_csv(tmp_path / "e1.csv", "Wholesale Price (CAD)", [10, 20])
    assert cli("pricebook", "import", str(first), "--effective", "2026-01-01").exit_code == 0
    in_usd = wholesale_csv(tmp_path / "e2.csv", "Price (USD)", [10, 24])
    refused = cli("pricebook", "import", str(in_usd), "--effective", "2026-02-01")
    assert refused.exit_code == 2
    assert "USD" in refused.stderr and "CAD" in refused.stderr
    assert "--currency USD" in refused.stderr
    assert stored_editions(cli) == [1]
    # a Currency column naming another currency is refused the same way
    column = tmp_path / "e2b.csv"
    column.write_text("SKU,Price,Currency\nW-1,10,EUR\nW-2,20,EUR\n", encoding="utf-8")
    assert cli("pricebook", "import", str(column)).exit_code == 2
    assert stored_editions(cli) == [1]
    # on purpose: every SKU changes currency, and no move is a price move in %
    args = ("pricebook", "import", str(in_usd), "--effective", "2026-02-01", "--currency", "USD")
    document = cli.json(*args)
    assert document["edition"] == 2 and document["currencies"] == ["USD"]
    said = [p["message"] for p in document["problems"]]
    assert any("2 SKU(s) changed currency" in m and "CAD -> USD" in m for m in said)
    assert not any("moved" in m for m in said)
    diff = cli.json("pricebook", "diff")
    assert {c["sku"]: c["change_pct"] for c in diff["changed"]} == {"W-1": None, "W-2": None}


def test_first_edition__a_file_naming_no_currency_is_in_the_currency_option_or_usd(
    cli: Cli, tmp_path: Path
) -> None:
    plain = wholesale_csv(tmp_path / "e1.csv", "price", [10])
    document = cli.json("pricebook", "import", str(plain), "--currency", "eur")
    assert document["currencies"] == ["EUR"]
    assert not [p for p in document["problems"] if "names no currency" in p["message"]]


# Rows with errors of their own left out on purpose (issue 22, item 7) -------------------------


def out_of_stock_book(workbook) -> Path:
    return workbook(
        [
            *TITLE,
            ["SKU", "Name", "Family", "List Price", "Unit Cost"],
            ["HW-100", "Router", "Hardware", 120, 70],
            ["HW-200", "Switch", "Hardware", 0.00, 50],  # out of stock: no price
            ["HW-300", "Hub", "Hardware", 80, None],
            [None, "Forgotten SKU", "Hardware", 99, None],
            ["SW-1", "Seat", "Software", 50, None],
            ["sw-1 ", "Seat, again", "Software", 55, None],
            ["SV-1", "Install", "Services", "ask us", None],
        ],
        tiers=[
            ["SKU", "Min Qty", "Price"],
            ["HW-100", 50, 114],
            ["HW-200", 10, 40],  # the SKU left out: its tier goes too
        ],
    )


def test_import__an_unpriced_row_blocks_the_book_and_the_error_names_skip_invalid(
    cli: Cli, workbook
) -> None:
    result = cli("pricebook", "import", str(out_of_stock_book(workbook)))
    assert result.exit_code == 2
    assert "'Price Book'!D6" in result.stderr and "above zero" in result.stderr
    assert "or import with --skip-invalid to leave these rows out" in result.stderr
    assert stored_editions(cli) == []


def test_import__skip_invalid_stores_the_valid_rows_and_lists_the_skipped_ones_with_cells(
    cli: Cli, workbook
) -> None:
    path = out_of_stock_book(workbook)
    document = cli.json("pricebook", "import", str(path), "--skip-invalid")
    assert document["edition"] == 1
    assert (document["items"], document["tiers"]) == (2, 1)
    skipped = {(s["sheet"], s["row"]): s for s in document["skipped"]}
    assert sorted(skipped) == [
        ("Price Book", 6), ("Price Book", 8), ("Price Book", 9), ("Price Book", 10),
        ("Price Book", 11), ("Tiers", 3),
    ]  # fmt: skip
    unpriced = skipped["Price Book", 6]
    assert unpriced["sku"] == "HW-200"
    assert unpriced["cells"] == {
        "SKU": "HW-200", "Name": "Switch", "Family": "Hardware", "List Price": "0",
        "Unit Cost": "50",
    }  # fmt: skip
    assert unpriced["problems"] == ["list price must be above zero"]
    assert skipped["Price Book", 8]["sku"] is None  # values without a SKU
    # a duplicate SKU: neither copy is stored, since the book does not say which is right
    assert {skipped["Price Book", r]["sku"] for r in (9, 10)} == {"SW-1", "sw-1"}
    assert "no such SKU" in skipped["Tiers", 3]["problems"][0]
    assert {p["severity"] for p in document["problems"]} == {"warning"}
    assert all(p["message"].startswith("left out: ") for p in document["problems"])
    _, book = editions.in_force(cli.store(), date(2030, 1, 1))
    assert sorted(book.items) == ["hw-100", "hw-300"]
    human = cli("pricebook", "import", str(path), "--skip-invalid", "--effective", "2026-01-01")
    assert human.exit_code == 0, human.output
    assert "Left out 6 row(s) with errors" in human.stderr
    assert "'Price Book' row 6: SKU='HW-200', Name='Switch'" in human.stderr


def test_import__skip_invalid_never_leaves_out_an_error_of_the_whole_file(
    cli: Cli, workbook, tmp_path: Path
) -> None:
    every_row_bad = workbook([["SKU", "Price"], ["A-1", 0], ["A-2", "n/a"]], name="bad.xlsx")
    result = cli("pricebook", "import", str(every_row_bad), "--skip-invalid")
    assert result.exit_code == 2 and "no price rows" in result.stderr
    no_header = workbook([["Item", "Cost"], ["A-1", 3]], name="nohead.xlsx")
    assert cli("pricebook", "import", str(no_header), "--skip-invalid").exit_code == 2
    first = wholesale_csv(tmp_path / "e1.csv", "Price (CAD)", [10])
    assert cli("pricebook", "import", str(first)).exit_code == 0
    other = wholesale_csv(tmp_path / "e2.csv", "Price (USD)", [10, 0])
    result = cli("pricebook", "import", str(other), "--skip-invalid")
    assert result.exit_code == 2 and "--currency USD" in result.stderr
    assert stored_editions(cli) == [1]


def test_tiers_sheet__column_option_maps_its_headers_too(cli: Cli, workbook) -> None:
    path = workbook(
        [["Numero", "Nimi", "Hinta"], ["000123", "Viini", 12.5], ["000456", "Olut", 3]],
        tiers=[["Numero", "Min Qty", "Price"], ["000123", 12, 11]],
    )
    args = ("--column", "sku=Numero", "--column", "list_price=Hinta", "--currency", "EUR")
    document = cli.json("pricebook", "import", str(path), *args)
    assert document["tiers"] == 1
    assert item(cli, "000123")["tiers"][0]["price"] == "11.00"


def test_tiers_sheet__a_row_naming_neither_says_which_headers_it_looked_in(
    cli: Cli, workbook
) -> None:
    path = workbook(
        [["SKU", "Family", "Price"], ["HW-1", "Hardware", 100]],
        tiers=[["Item Code", "Family", "Min Qty", "Price"], [None, None, 10, 90]],
    )
    document = cli.json("pricebook", "import", str(path), expect=2)
    said = [p["message"] for p in document["problems"] if p["severity"] == "error"]
    assert said == [
        "a tier names either a SKU or a family; this row names neither (the SKU column "
        "'Item Code' is empty; the Family column 'Family' is empty)"
    ]
