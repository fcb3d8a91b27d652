"""Well-formed files that sit just under the old bounds and still took gigabytes: the bounds on
what is held once read (the text of a sheet, its cells, the text of a deals file's columns, the
lines of a deals file) refuse them, exit 2, naming the file, the bound and its variable, and
nothing is stored; genuine files under the bounds import as before.

The bounds are lowered here through their variables so that each file stays small; what the
defaults cost at their worst is measured by ``bench/bounds.py`` (``make bounds``).
"""

from __future__ import annotations

import json
import random
import string
import zipfile
from pathlib import Path

import pytest

from pricing.limits import DEALS_ROWS, PRICE_BOOK_ROWS, UNMATCHED_SKUS_LISTED
from tests.conftest import Cli
from tests.hostile import Measured, measured
from tests.test_hostile_deals import deals_csv, good_lines, nothing_stored
from tests.test_hostile_files import ask, shop, stored_requests  # noqa: F401 (a fixture)

PEAK_MB = 600
_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    b'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    b'"application/xml"/></Types>'
)
_REL = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = b"http://schemas.openxmlformats.org/package/2006/relationships"
_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def workbook(path: Path, sheet: str, rows: bytes, strings: list[str] | None = None) -> Path:
    """An xlsx of one sheet whose ``<sheetData>`` is ``rows`` as given (written any way a
    program may write XML), and ``strings`` as its shared strings."""
    return workbook_of(path, {sheet: rows}, strings)


def workbook_of(path: Path, sheets: dict[str, bytes], strings: list[str] | None = None) -> Path:
    """An xlsx of ``sheets`` (name: the XML of its rows) and ``strings`` as shared strings."""
    shared = b"".join(b"<si><t>" + s.encode() + b"</t></si>" for s in strings or [])
    listed = b"".join(
        b'<sheet name="%s" sheetId="%d" r:id="rId%d"/>' % (name.encode(), n, n)
        for n, name in enumerate(sheets, start=1)
    )
    targets = b"".join(
        b'<Relationship Id="rId%d" Type="%s/worksheet" Target="worksheets/sheet%d.xml"/>'
        % (n, _REL, n)
        for n in range(1, len(sheets) + 1)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _TYPES)
        archive.writestr(
            "_rels/.rels",
            b'<Relationships xmlns="' + _PKG + b'"><Relationship Id="rId1" Type="' + _REL
            + b'/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        )  # fmt: skip
        archive.writestr(
            "xl/workbook.xml",
            b'<workbook xmlns="' + _MAIN + b'" xmlns:r="' + _REL + b'"><sheets>' + listed
            + b"</sheets></workbook>",
        )  # fmt: skip
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            b'<Relationships xmlns="' + _PKG + b'">' + targets + b'<Relationship Id="rId0" Type="'
            + _REL + b'/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        )  # fmt: skip
        archive.writestr("xl/sharedStrings.xml", b'<sst xmlns="' + _MAIN + b'">' + shared + b"</sst>")  # fmt: skip
        for n, rows in enumerate(sheets.values(), start=1):
            archive.writestr(
                f"xl/worksheets/sheet{n}.xml",
                b'<worksheet xmlns="' + _MAIN + b'"><sheetData>' + rows + b"</sheetData></worksheet>",
            )  # fmt: skip
    return path


def book_rows(count: int, name: bytes = b"") -> bytes:
    """A header and ``count`` price book rows, each its own SKU; ``name``: the XML of each
    row's name cell (after its SKU and price)."""
    header = b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>List Price</t></is></c><c r="C1" t="inlineStr"><is><t>Name</t></is></c></row>'  # fmt: skip
    return header + b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>HW-%d</t></is></c><c r="B%d"><v>120</v></c>%s</row>'
        % (r, r, r, r, name.replace(b"{r}", b"%d" % r))
        for r in range(2, count + 2)
    )  # fmt: skip


def import_book(tmp_path: Path, book: Path, **env: str) -> Measured:
    db = tmp_path / "p.db"
    return measured("--db", str(db), "pricebook", "import", str(book), "--effective", "2026-01-01", env=env)  # fmt: skip


def refused(run: Measured, *said: str) -> None:
    """Exit 2, the message saying each of ``said``, no traceback, under 600 MB."""
    assert run.exit_code == 2, (run.exit_code, run.stdout[-500:], run.stderr[-2000:])
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    for text in said:
        assert text in run.stderr, (text, run.stderr[-2000:])
    assert "nothing was stored" in run.stderr
    assert run.peak_mb < PEAK_MB, f"peak {run.peak_mb} MB"


def no_edition(tmp_path: Path) -> bool:
    db = tmp_path / "p.db"
    if not db.exists():
        return True
    done = measured("--db", str(db), "--json", "pricebook", "editions")
    return bool(json.loads(done.stdout) == [])


# The text of a sheet ---------------------------------------------------------------------------


def test_a_price_book_csv_with_more_text_than_the_bound_is_refused_as_it_is_read(
    tmp_path: Path,
) -> None:
    """Given a csv price book of 2 MB of names and a bound of 1 MB of text in one sheet, when
    imported, then it is refused naming the bound and its variable, and nothing is stored;
    under the default bound (24 MB) the same file imports."""
    book = tmp_path / "names.csv"
    book.write_text("SKU,List Price,Name\n" + "".join(f"HW-{n},120,{'n' * 100}\n" for n in range(20_000)))  # fmt: skip
    run = import_book(tmp_path, book, PRICING_MAX_SHEET_TEXT_MB="1")
    refused(run, "names.csv", "text in one sheet over the limit of 1 MB", "PRICING_MAX_SHEET_TEXT_MB=N (MB)")  # fmt: skip
    assert no_edition(tmp_path)
    assert import_book(tmp_path, book).exit_code == 0


def test_one_long_shared_string_counts_in_every_cell_that_shows_it(tmp_path: Path) -> None:
    """Given a 60 KB workbook whose 500 rows all show one shared name of 30,000 characters (the
    reader copies it into each cell: 15 MB of text once read), and a bound of 8 MB, when
    imported, then it is refused before the sheet is parsed, naming the bound; however the
    cells write their type (``t='s'``, ``t = "s"``, a namespace prefix), it is counted; with a
    bound of 16 MB it imports."""
    forms = [
        b'<c r="C{r}" t="s"><v>0</v></c>',
        b"<c r='C{r}' t='s'><v>0</v></c>",
        b'<c t = "s" r="C{r}"><v>0</v></c>',
    ]
    for number, form in enumerate(forms):
        rows = book_rows(500, form)
        if number == 2:  # every element with a namespace prefix, as some libraries write them
            rows = rows.replace(b"<c ", b"<x:c ").replace(b"</c>", b"</x:c>").replace(b"<v>", b"<x:v>").replace(b"</v>", b"</x:v>")  # fmt: skip
        book = workbook(tmp_path / f"shared-{number}.xlsx", "Price Book", rows, ["n" * 30_000])
        assert book.stat().st_size < 100_000
        run = import_book(tmp_path, book, PRICING_MAX_SHEET_TEXT_MB="8")
        refused(run, f"shared-{number}.xlsx", "text in one sheet over the limit of 8 MB", "PRICING_MAX_SHEET_TEXT_MB")  # fmt: skip
        assert run.peak_mb < 200
        assert no_edition(tmp_path)
    assert import_book(tmp_path, book, PRICING_MAX_SHEET_TEXT_MB="16").exit_code == 0


def test_shared_strings_over_the_text_bound_are_refused_before_the_workbook_is_read(
    tmp_path: Path,
) -> None:
    letters = random.Random(3).choices(string.ascii_letters, k=20_000)
    strings = [f"{n:06d}" + "".join(letters[n:] + letters[:n]) for n in range(120)]  # 2.4 MB
    book = workbook(tmp_path / "strings.xlsx", "Price Book", book_rows(3), strings)
    run = import_book(tmp_path, book, PRICING_MAX_SHEET_TEXT_MB="2")
    refused(
        run,
        "strings.xlsx, part 'xl/sharedStrings.xml', shared strings",
        "text in one sheet over the limit of 2 MB",
    )
    assert no_edition(tmp_path)


def test_a_request_file_whose_cells_all_show_one_long_string_is_refused(
    shop: Cli,  # noqa: F811 (the fixture of tests.test_hostile_files)
    tmp_path: Path,
) -> None:
    """Given a request's lines file of 3,000 lines (under the line bound), each with a note of
    30,000 characters from one shared string (90 MB once read), when a rep asks with it, then
    it is refused under the default bound of 24 MB of text, and no request is stored."""
    header = b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>Qty</t></is></c><c r="C1" t="inlineStr"><is><t>Price</t></is></c><c r="D1" t="inlineStr"><is><t>Note</t></is></c></row>'  # fmt: skip
    lines = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>HW-100</t></is></c><c r="B%d"><v>1</v></c><c r="C%d"><v>110</v></c><c r="D%d" t="s"><v>0</v></c></row>'
        % (r, r, r, r, r)
        for r in range(2, 3002)
    )  # fmt: skip
    book = workbook(tmp_path / "lines.xlsx", "Lines", header + lines, ["n" * 30_000])
    refused(ask(shop, book), "lines.xlsx", "text in one sheet over the limit of 24 MB")
    assert stored_requests(shop) == []


# The cells of a sheet --------------------------------------------------------------------------


def test_more_cells_than_the_bound_are_refused_in_a_csv_and_in_a_workbook(tmp_path: Path) -> None:
    """Given 600 rows of two cells and a bound of 1,000 cells, when imported as csv or as xlsx,
    then each is refused naming the bound and PRICING_MAX_CELLS (the workbook before its sheet
    is parsed), and nothing is stored; with a bound of 2,000 both import."""
    csv_book = tmp_path / "cells.csv"
    csv_book.write_text("SKU,List Price\n" + "".join(f"HW-{n},120\n" for n in range(600)))
    xlsx_book = workbook(tmp_path / "cells.xlsx", "Price Book", book_rows(600))
    for book in (csv_book, xlsx_book):
        run = import_book(tmp_path, book, PRICING_MAX_CELLS="1000")
        refused(run, book.name, "over the limit of 1,000 cells in one sheet", "PRICING_MAX_CELLS=N")
        assert no_edition(tmp_path)
    for book in (csv_book, xlsx_book):
        assert import_book(tmp_path, book, PRICING_MAX_CELLS="2000").exit_code == 0


def test_the_cells_bound_is_on_all_the_sheets_an_import_holds_at_once(tmp_path: Path) -> None:
    """Given a workbook whose price sheet and tiers sheet have 1,800 cells each (the importer
    holds both at once) and a bound of 3,000 cells, when imported, then the tiers sheet is
    refused with the sheet read before it, and nothing is stored; each alone is within the
    bound, and with 4,000 the workbook imports."""
    tiers = b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>Min Qty</t></is></c><c r="C1" t="inlineStr"><is><t>Discount %</t></is></c></row>' + b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>HW-%d</t></is></c><c r="B%d"><v>10</v></c><c r="C%d"><v>5</v></c></row>'
        % (r, r, r, r, r)
        for r in range(2, 601)
    )  # fmt: skip
    book = workbook_of(tmp_path / "tiers.xlsx", {"Price Book": book_rows(599), "Tiers": tiers})
    run = import_book(tmp_path, book, PRICING_MAX_CELLS="3000")
    refused(run, "tiers.xlsx, sheet 'Tiers'", "over the limit of 3,000 cells in one sheet", "with the sheets read before it")  # fmt: skip
    assert no_edition(tmp_path)
    assert import_book(tmp_path, book, PRICING_MAX_CELLS="4000").exit_code == 0


def test_a_tiers_sheet_of_more_rows_than_its_bound_is_refused_before_it_is_parsed(
    tmp_path: Path,
) -> None:
    tiers = b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c><c r="B1" t="inlineStr"><is><t>Min Qty</t></is></c><c r="C1" t="inlineStr"><is><t>Discount %</t></is></c></row>' + b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>HW-%d</t></is></c><c r="B%d"><v>10</v></c><c r="C%d"><v>5</v></c></row>'
        % (r, r, r, r, r)
        for r in range(2, 62)
    )  # fmt: skip
    book = workbook_of(tmp_path / "tiers.xlsx", {"Price Book": book_rows(60), "Tiers": tiers})
    run = import_book(tmp_path, book, PRICING_MAX_TIERS="20")
    refused(run, "tiers.xlsx, sheet 'Tiers'", "over the limit of 20 rows of volume tiers", "PRICING_MAX_TIERS=N")  # fmt: skip
    assert no_edition(tmp_path)
    assert import_book(tmp_path, book).exit_code == 0


@pytest.mark.parametrize(
    "far",
    [
        b'<c s="0" r="J30000"><v>1</v></c>',  # the reference after another attribute
        b"<c r='J30000'><v>1</v></c>",  # in single quotes
        b'<c\nr="J30000"><v>1</v></c>',  # after a line break
        b'<c r="j30000"><v>1</v></c>',  # in small letters
        b'<x:c r="J30000"><x:v>1</x:v></x:c>',  # with a namespace prefix
    ],
)
def test_a_cell_far_out_cannot_hide_from_the_cells_bound_by_how_it_is_written(
    tmp_path: Path, far: bytes
) -> None:
    """Given a book of two rows and one cell at J30000 (a grid of 300,000 cells), written in a
    way the workbook reader takes but Excel does not write, and a bound of 100,000 cells, when
    imported, then the sheet is refused before it is parsed, naming the cell."""
    rows = book_rows(2) + b'<row r="30000">' + far + b"</row>"
    book = workbook(tmp_path / "far.xlsx", "Price Book", rows)
    run = import_book(tmp_path, book, PRICING_MAX_CELLS="100000")
    refused(run, "far.xlsx", "over the limit of 100,000 cells in one sheet", "30,000 rows x 10 columns")  # fmt: skip
    assert no_edition(tmp_path)


def test_a_price_book_of_more_rows_than_the_default_is_refused_and_the_bound_can_be_raised(
    tmp_path: Path,
) -> None:
    rows = PRICE_BOOK_ROWS.value
    book = tmp_path / "rows.csv"
    book.write_text("SKU,List Price\n" + "".join(f"HW-{n},120\n" for n in range(rows)))
    run = import_book(tmp_path, book)
    refused(run, "rows.csv", f"over the limit of {rows:,} rows", "PRICING_MAX_ROWS")
    assert no_edition(tmp_path)
    assert import_book(tmp_path, book, PRICING_MAX_ROWS=str(rows + 1)).exit_code == 0


# Deals files -----------------------------------------------------------------------------------


def test_a_deals_file_with_more_text_than_the_bound_is_refused_as_it_is_read(
    owner: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given 2 MB of customer names in a deals csv and a bound of 1 MB of text in the columns
    read, when imported, then it is refused naming the line it was reached by, the bound and
    PRICING_MAX_DEALS_TEXT_MB, and nothing is stored; text in a column no field maps does not
    count, and the same names import under the default bound."""
    names = [f"O-{i},2025-06-15,{'Acme ' * 40}{i},HW-100,1,110.00" for i in range(10_000)]
    path = deals_csv(tmp_path, names)
    monkeypatch.setenv("PRICING_MAX_DEALS_TEXT_MB", "1")
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "deals.csv: text in the columns read over the limit of 1 MB" in result.stderr
    assert "(found more than 1 MB by line" in result.stderr
    assert "PRICING_MAX_DEALS_TEXT_MB=N (MB)" in result.stderr
    assert nothing_stored(owner)
    unmapped = tmp_path / "notes.csv"
    unmapped.write_text(
        "Order ID,Order Date,SKU,Quantity,Net Price,Notes\n"
        + "".join(f"O-{i},2025-06-15,HW-100,1,110.00,{'note ' * 40}\n" for i in range(10_000))
    )
    assert owner("deals", "import", str(unmapped)).exit_code == 0
    monkeypatch.delenv("PRICING_MAX_DEALS_TEXT_MB")
    assert owner("deals", "import", str(path)).exit_code == 0


def test_a_deals_workbook_of_more_lines_than_the_bound_is_refused_before_it_is_parsed(
    tmp_path: Path,
) -> None:
    header = b'<row r="1">' + b"".join(
        b'<c r="%s1" t="inlineStr"><is><t>%s</t></is></c>' % (col, name)
        for col, name in ((b"A", b"Order ID"), (b"B", b"Order Date"), (b"C", b"SKU"), (b"D", b"Quantity"), (b"E", b"Net Price"))
    ) + b"</row>"  # fmt: skip
    lines = b"".join(
        b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>O-%d</t></is></c><c r="B%d" t="inlineStr"><is><t>2025-06-15</t></is></c><c r="C%d" t="inlineStr"><is><t>HW-100</t></is></c><c r="D%d"><v>1</v></c><c r="E%d"><v>110</v></c></row>'
        % (r, r, r, r, r, r, r)
        for r in range(2, 302)
    )  # fmt: skip
    book = workbook(tmp_path / "deals.xlsx", "Deals", header + lines)
    db = f"sqlite:///{tmp_path / 'pricing.db'}"
    run = measured("--db", db, "deals", "import", str(book), env={"PRICING_MAX_DEAL_LINES": "100"})
    refused(run, "deals.xlsx", "over the limit of 100 lines", "PRICING_MAX_DEAL_LINES")
    assert DEALS_ROWS.value >= 1_000_000  # the default takes a million-line export


def test_skus_of_no_price_book_are_listed_up_to_a_readable_number_and_counted(
    owner: Cli, tmp_path: Path
) -> None:
    """Given 1,500 lines, each a SKU no price book has, when imported, then all are stored as
    unmatched, --json lists the first 1,000 SKUs by name with their first dates and counts all
    1,500, and the terminal names the first 10 and the number of the rest."""
    lines = [f"O-{i},2025-06-{1 + i % 28:02d},Acme,ZZ-{i:05d},1,110.00" for i in range(1_500)]
    path = deals_csv(tmp_path, lines)
    found = owner.json("deals", "import", str(path), "--dry-run")
    assert found["unmatched"] == 1_500 and found["unmatched_sku_count"] == 1_500
    assert len(found["unmatched_skus"]) == UNMATCHED_SKUS_LISTED == 1_000
    assert found["unmatched_skus"][:2] == [
        {"sku": "ZZ-00000", "first_date": "2025-06-01"},
        {"sku": "ZZ-00001", "first_date": "2025-06-02"},
    ]
    said = owner("deals", "import", str(path))
    assert said.exit_code == 0, said.output
    assert "ZZ-00009 (from 2025-06-10) and 1,490 more SKUs" in said.stdout


def test_good_lines_still_import_in_full(owner: Cli, tmp_path: Path) -> None:
    """The bounds do not touch a genuine file: 2,000 lines import, and again is a no-op."""
    path = deals_csv(tmp_path, good_lines(2_000))
    first = owner.json("deals", "import", str(path))
    assert first["added"] == 2_000 and first["unmatched"] == 0
    again = owner.json("deals", "import", str(path))
    assert again["added"] == 0
