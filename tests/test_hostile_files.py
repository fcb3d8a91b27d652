"""Hostile files given to the price book and request-lines importers: each is refused with a
message that names the file, the bound and how to raise it, exit 2, nothing stored, within a
few seconds and under 600 MB; and a long list of problems stays readable.

The files are made here, in the test's own folder: gigabyte files are sparse (no disk), zip
bombs are written as one compressed part of a repeated chunk (seconds), and the command runs in
a fresh process whose peak memory is read (:mod:`tests.hostile`).
"""

from __future__ import annotations

import struct
import time
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pricing.limits import PRICE_BOOK_ROWS
from tests.conftest import Cli, write_workbook
from tests.hostile import Measured, measured, sparse_file

GB = 1 << 30
MB = 1 << 20
PEAK_MB = 600

# A minimal workbook, part by part, so that a sheet's XML can be streamed (or lie).
_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    b'package/2006/content-types"><Default Extension="rels" ContentType="application/'
    b'vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    b'"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
    b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
    b'"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    b'spreadsheetml.worksheet+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="xl/workbook.xml"/></Relationships>'
)
_SHEET_RELS = (
    b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats'
    b'.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
    b'openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    b'Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org'
    b'/spreadsheetml/2006/main"><dimension ref="A1:C2"/><sheetData>'
)
_SHEET_TAIL = b"</sheetData></worksheet>"
SHEET_PART = "xl/worksheets/sheet1.xml"


def _workbook_xml(sheet: str) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org'
        b'/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/'
        b'2006/relationships"><sheets><sheet name="' + sheet.encode() + b'" sheetId="1" '
        b'r:id="rId1"/></sheets></workbook>'
    )


def row(*cells: object) -> bytes:
    """One row of sheet XML as a generator writes it: no row or cell numbers, inline text."""
    xml = [b"<row>"]
    for value in cells:
        if isinstance(value, str):
            xml.append(b'<c t="inlineStr"><is><t>' + value.encode() + b"</t></is></c>")
        else:
            xml.append(b"<c><v>" + str(value).encode() + b"</v></c>")
    xml.append(b"</row>")
    return b"".join(xml)


def streamed_workbook(
    path: Path, body: Iterable[bytes], *, sheet: str = "Price Book", level: int = 1
) -> Path:
    """An xlsx whose one sheet is ``body`` (chunks of row XML), compressed as it is written."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _workbook_xml(sheet))
        archive.writestr("xl/_rels/workbook.xml.rels", _SHEET_RELS)
        with archive.open(SHEET_PART, "w", force_zip64=True) as part:
            part.write(_SHEET_HEAD)
            for chunk in body:
                part.write(chunk)
            part.write(_SHEET_TAIL)
    return path


def shared_strings_workbook(path: Path, rows: list[list[str | int]]) -> Path:
    """An xlsx as Excel writes it: text in the shared strings part, cells pointing into it."""
    strings: list[str] = []
    xml = [b"<sheetData>"]
    for r, cells in enumerate(rows, start=1):
        xml.append(b'<row r="%d">' % r)
        for c, value in enumerate(cells):
            ref = b"%c%d" % (65 + c, r)
            if isinstance(value, str):
                strings.append(value)
                xml.append(b'<c r="%s" t="s"><v>%d</v></c>' % (ref, len(strings) - 1))
            else:
                xml.append(b'<c r="%s"><v>%d</v></c>' % (ref, value))
        xml.append(b"</row>")
    sheet = _SHEET_HEAD.split(b"<sheetData>")[0] + b"".join(xml) + _SHEET_TAIL
    shared = (
        b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main">'
        + b"".join(b"<si><t>" + text.encode() + b"</t></si>" for text in strings)
        + b"</sst>"
    )
    rels = _SHEET_RELS.replace(
        b"</Relationships>",
        b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        b'relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _workbook_xml("Price Book"))
        archive.writestr("xl/_rels/workbook.xml.rels", rels)
        archive.writestr("xl/sharedStrings.xml", shared)
        archive.writestr(SHEET_PART, sheet)
    return path


def repeated(first: bytes, again: bytes, times: int) -> Iterator[bytes]:
    """``first``, then ``again`` ``times`` times, in chunks of about a megabyte."""
    yield first
    per_chunk = max(1, MB // len(again))
    chunk = again * per_chunk
    whole, rest = divmod(times, per_chunk)
    for _ in range(whole):
        yield chunk
    yield again * rest


def no_more_editions(cli: Cli) -> bool:
    """No edition stored (and on SQLite no database made by the refused import)."""
    if cli.db_url.startswith("sqlite"):
        db = Path(cli.db_url.removeprefix("sqlite:///"))
        if not db.exists():
            return True
    return bool(cli.json("pricebook", "editions") == [])


def refused(run: Measured, *said: str, seconds: float | None = None) -> None:
    """Exit 2, the message saying each of ``said``, no traceback, under 600 MB."""
    assert run.exit_code == 2, (run.exit_code, run.stderr[-2000:])
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    for text in said:
        assert text in run.stderr, (text, run.stderr[-2000:])
    assert run.peak_mb < PEAK_MB, f"peak {run.peak_mb} MB"


@pytest.fixture
def shop(tmp_path: Path) -> Cli:
    """A store on SQLite with a price book and the policy: requests can be judged. Hostile files
    are refused before any database is touched, so one database suffices here."""
    from tests.test_cli_requests import TEAM
    from tests.test_policy import POLICY

    cli = Cli(f"sqlite:///{tmp_path / 'shop.db'}")
    book = write_workbook(
        tmp_path / "book.xlsx",
        {"Price Book": [["SKU", "List Price"], ["HW-100", 120], ["HW-200", 100]]},
    )
    assert cli("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    policy = tmp_path / "guardrails.toml"
    policy.write_text(POLICY + TEAM)
    assert cli("policy", "load", str(policy), user="dana").exit_code == 0
    return cli


def ask(shop: Cli, lines: Path, *, env: dict[str, str] | None = None) -> Measured:
    """The rep asks for a request with ``lines``, as a user would, in a fresh process."""
    db = shop.db_url.removeprefix("sqlite:///")
    return measured(
        "--db", db, "--user", "priya", "request", "--customer", "Acme", "--reason", "bid",
        "--file", str(lines), env=env, timeout=90,
    )  # fmt: skip


def stored_requests(shop: Cli) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = shop.json("requests", user="dana")
    return found


# 1. The size on disk, before a byte is read ---------------------------------------------------


@pytest.mark.parametrize(("name", "start"), [("huge.csv", b"SKU,List Price\n"), ("huge.xlsx", b"PK\x03\x04")])  # fmt: skip
def test_a_gigabyte_price_book_is_refused_by_its_size_before_it_is_read(
    tmp_path: Path, name: str, start: bytes
) -> None:
    huge = sparse_file(tmp_path / name, GB, start)
    db = tmp_path / "p.db"
    run = measured("--db", str(db), "pricebook", "import", str(huge), timeout=60)
    refused(run, name, "200 MB", "PRICING_MAX_PRICE_BOOK_MB", "1,024 MB")
    assert not db.exists()
    # A marketer whose book really is that large can raise the bound; the file is then read
    # (and found to be what it is: a gigabyte of nothing).
    assert "200 MB" not in measured(
        "--db", str(db), "pricebook", "import", str(tmp_path / name),
        env={"PRICING_MAX_PRICE_BOOK_MB": "1"}, timeout=60,
    ).stderr  # fmt: skip


@pytest.mark.parametrize(("name", "start"), [("lines.csv", b"SKU,Qty,Price\n"), ("lines.xlsx", b"PK\x03\x04")])  # fmt: skip
def test_a_gigabyte_request_lines_file_is_refused_by_its_size(
    shop: Cli, tmp_path: Path, name: str, start: bytes
) -> None:
    huge = sparse_file(tmp_path / name, GB, start)
    refused(ask(shop, huge), name, "20 MB", "PRICING_MAX_REQUEST_FILE_MB")
    assert stored_requests(shop) == []


# 2. Zip bombs, from the zip directory, before anything is decompressed -------------------------


@pytest.fixture(scope="module")
def bomb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A workbook of a few MB whose sheet is a gigabyte of one repeated row of XML."""
    folder = tmp_path_factory.mktemp("bomb")
    again = row("HW-100", 10, 5)
    path = streamed_workbook(
        folder / "bomb.xlsx", repeated(row("SKU", "Qty", "Price"), again, GB // len(again))
    )
    yield path
    path.unlink()


@pytest.mark.parametrize(
    "command",
    [
        ["pricebook", "import"],
        ["deals", "import"],
        ["--user", "priya", "request", "--customer", "Acme", "--reason", "bid", "--file"],
    ],
    ids=["pricebook", "deals", "request"],
)
def test_an_xlsx_zip_bomb_is_refused_from_its_zip_directory(
    shop: Cli, bomb: Path, command: list[str]
) -> None:
    assert bomb.stat().st_size < 16 * MB
    started = time.monotonic()
    run = measured("--db", shop.db_url.removeprefix("sqlite:///"), *command, str(bomb), timeout=60)
    refused(run, "bomb.xlsx", "xl/worksheets/sheet1.xml", "100 times")
    assert time.monotonic() - started < 15
    assert stored_requests(shop) == []


def lie_about_size(path: Path, part: str, declared: int, real: bytes) -> None:
    """Rewrite the zip directory (local header and central directory) so that ``part`` claims
    to be ``declared`` bytes with the checksum of its first ``declared`` bytes: a directory that
    lies, made to pass a ratio check and a checksum of what that size covers."""
    data = bytearray(path.read_bytes())
    crc, name = zlib.crc32(real[:declared]), part.encode()
    for signature, name_at, crc_at, size_at, fixed in ((b"PK\x03\x04", 26, 14, 22, 30), (b"PK\x01\x02", 28, 16, 24, 46)):  # fmt: skip
        at = data.find(signature)
        while at >= 0:
            length = struct.unpack_from("<H", data, at + name_at)[0]
            if data[at + fixed : at + fixed + length] == name:
                struct.pack_into("<I", data, at + crc_at, crc)
                struct.pack_into("<I", data, at + size_at, declared)
            at = data.find(signature, at + 4)
    path.write_bytes(data)


def test_a_workbook_whose_zip_directory_lies_about_its_sizes_is_refused(
    shop: Cli, tmp_path: Path
) -> None:
    again = row("HW-100", 10, 5)
    real = _SHEET_HEAD + row("SKU", "Qty", "Price") + again * (64 * MB // len(again)) + _SHEET_TAIL
    liar = tmp_path / "liar.xlsx"
    with zipfile.ZipFile(liar, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _RELS)
        archive.writestr("xl/workbook.xml", _workbook_xml("Price Book"))
        archive.writestr("xl/_rels/workbook.xml.rels", _SHEET_RELS)
        archive.writestr(SHEET_PART, real)
    lie_about_size(liar, SHEET_PART, MB, real)
    with zipfile.ZipFile(liar) as archive:  # what the directory claims: 1 MB, not a bomb
        assert archive.getinfo(SHEET_PART).file_size == MB
    db = shop.db_url.removeprefix("sqlite:///")
    for command in (["pricebook", "import"], ["deals", "import"]):
        run = measured("--db", db, *command, str(liar), timeout=60)
        refused(run, "liar.xlsx", "save it again as .xlsx")
    refused(ask(shop, liar), "liar.xlsx")  # (its first megabyte is already too many lines)


# 3. Millions of rows ------------------------------------------------------------------------


def test_a_small_xlsx_of_three_million_copies_of_one_row_is_refused_in_seconds(
    tmp_path: Path,
) -> None:
    again = row("HW-100", 10)
    book = streamed_workbook(
        tmp_path / "three-million.xlsx",
        repeated(row("SKU", "List Price"), again, 3_000_000),
        level=9,
    )
    assert book.stat().st_size < 1 * MB
    started = time.monotonic()
    run = measured("--db", str(tmp_path / "p.db"), "pricebook", "import", str(book), timeout=60)
    refused(run, "three-million.xlsx")
    assert time.monotonic() - started < 10
    assert len(run.stderr.splitlines()) < 5
    assert not (tmp_path / "p.db").exists()


def test_a_sheet_with_more_rows_than_the_bound_is_refused_before_it_is_parsed(
    tmp_path: Path,
) -> None:
    """Rows that compress no better than real ones (each its own SKU and price): the zip
    directory finds nothing wrong, the row count does, before the sheet is parsed."""

    def rows() -> Iterator[bytes]:
        yield b'<row r="1"><c r="A1" t="inlineStr"><is><t>SKU</t></is></c></row>'
        for start in range(2, 1_200_002, 20_000):
            yield b"".join(
                b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>SKU-%d</t></is></c>'
                b'<c r="B%d"><v>%d.%02d</v></c></row>' % (r, r, r * 7919, r, r % 9973, r % 97)
                for r in range(start, start + 20_000)
            )

    book = streamed_workbook(tmp_path / "rows.xlsx", rows())
    started = time.monotonic()
    run = measured("--db", str(tmp_path / "p.db"), "pricebook", "import", str(book), timeout=60)
    refused(
        run, "rows.xlsx", f"over the limit of {PRICE_BOOK_ROWS.value:,} rows", "PRICING_MAX_ROWS"
    )
    assert time.monotonic() - started < 15


def duplicates(path: Path, rows: int) -> Path:
    """A price book whose every row is SKU HW-100 (each with its own name, as real rows)."""
    with path.open("w") as out:
        out.write("SKU,Name,List Price\n")
        out.writelines(f"HW-100,Router batch {n},120\n" for n in range(rows))
    return path


def test_the_rows_of_a_whole_book_all_duplicates_print_a_few_lines_and_count_the_rest(
    tmp_path: Path,
) -> None:
    """Given a price book whose 250,000 rows (the default bound, its header included) are all
    one SKU, when it is imported, then a few lines are printed and the rest counted, within the
    memory bound."""
    book = duplicates(tmp_path / "duplicates.csv", 249_999)
    run = measured("--db", str(tmp_path / "p.db"), "pricebook", "import", str(book), timeout=120)
    assert run.exit_code == 2 and "Traceback" not in run.stderr
    lines = run.stderr.splitlines()
    assert len(lines) < 50, f"{len(lines)} lines printed"
    assert lines[0].startswith('error: duplicates.csv line 3, column A: "HW-100": duplicate SKU')
    assert lines.count("... and 249,978 more like this") == 1  # the copies; the first row once
    assert lines[-1].startswith("error: duplicates.csv: nothing imported: 249,999 error(s)")
    assert run.peak_mb < PEAK_MB


def test_json_lists_the_first_problems_of_each_kind_and_counts_all(tmp_path: Path) -> None:
    cli = Cli(f"sqlite:///{tmp_path / 'p.db'}")
    book = duplicates(tmp_path / "duplicates.csv", 10_000)
    document = cli.json("pricebook", "import", str(book), expect=2)
    assert len(document["problems"]) == 21  # 20 copies, and the first row once
    first, again = document["problems"][0]["message"], document["problems"][1]["message"]
    assert "'HW-100' is already at line 2" in first and again == "duplicate SKU: again at line 3"
    assert document["problem_counts"] == [
        {"severity": "error", "message": first, "count": 9_999},
        {"severity": "error", "message": again, "count": 1},
    ]


# 4. Lines per request -------------------------------------------------------------------------


def test_a_request_of_more_lines_than_the_bound_is_refused_and_the_bound_can_be_raised(
    shop: Cli, tmp_path: Path
) -> None:
    lines = tmp_path / "lines.csv"
    lines.write_text("SKU,Qty,Price\n" + "HW-100,1,110\n" * 10_001)
    refused(ask(shop, lines), "lines.csv", "10,000 lines per request", "PRICING_MAX_REQUEST_LINES")
    assert stored_requests(shop) == []
    three = tmp_path / "three.csv"
    three.write_text("SKU,Qty,Price\n" + "HW-100,1,110\n" * 3)
    refused(ask(shop, three, env={"PRICING_MAX_REQUEST_LINES": "2"}), "2 lines per request")
    assert ask(shop, three).exit_code == 0
    assert len(stored_requests(shop)) == 1


def test_a_request_file_of_millions_of_lines_stops_at_the_bound(shop: Cli, tmp_path: Path) -> None:
    """A csv just under the size bound and an xlsx of two million lines: reading stops at the
    bound (the csv) or before the sheet is parsed (the xlsx)."""
    csv_lines = tmp_path / "many.csv"
    with csv_lines.open("w") as out:
        out.write("SKU,Qty,Price\n")
        out.writelines("HW-100,1,110\n" for _ in range(1_500_000))
    assert csv_lines.stat().st_size < 20 * MB
    again = row("HW-100", 1, 110)
    xlsx_lines = streamed_workbook(
        tmp_path / "many.xlsx", repeated(row("SKU", "Qty", "Price"), again, 2_000_000), sheet="Lines", level=9
    )  # fmt: skip
    assert xlsx_lines.stat().st_size < 1 * MB
    for lines in (csv_lines, xlsx_lines):
        started = time.monotonic()
        refused(ask(shop, lines), lines.name)
        assert time.monotonic() - started < 10, lines.name
    assert stored_requests(shop) == []


def test_an_xlsx_request_of_varied_lines_over_the_bound_is_refused_before_it_is_parsed(
    shop: Cli, tmp_path: Path
) -> None:
    body = [row("SKU", "Qty", "Price")] + [row(f"HW-{n}", 1 + n % 7, 100 + n % 13) for n in range(50_000)]  # fmt: skip
    book = streamed_workbook(tmp_path / "varied.xlsx", [b"".join(body)], sheet="Lines")
    refused(ask(shop, book), "varied.xlsx", "10,000 lines per request", "PRICING_MAX_REQUEST_LINES")


# 5. Columns and field length ------------------------------------------------------------------


@pytest.mark.parametrize("length", [40_000, 200_000])
def test_a_csv_cell_longer_than_excel_allows_is_refused_naming_its_cell(
    tmp_path: Path, length: int
) -> None:
    book = tmp_path / "long.csv"
    book.write_text(f"SKU,Name,List Price\nHW-1,Router,10\nHW-2,{'x' * length},12\n")
    run = measured("--db", str(tmp_path / "p.db"), "pricebook", "import", str(book))
    refused(run, "long.csv line 3, column B", "32,767 characters in one cell", f"{length:,}")
    assert not (tmp_path / "p.db").exists()


def test_a_long_cell_in_an_xlsx_or_a_request_file_is_refused_naming_its_cell(
    shop: Cli, tmp_path: Path
) -> None:
    book = streamed_workbook(
        tmp_path / "long.xlsx",
        [row("SKU", "Name", "List Price"), row("HW-1", "Router", 10), row("HW-2", "y" * 40_000, 12)],
    )  # fmt: skip
    run = measured("--db", str(tmp_path / "p.db"), "pricebook", "import", str(book))
    refused(run, "'Price Book'!B3", "32,767 characters in one cell", "40,000")
    shared = shared_strings_workbook(
        tmp_path / "shared.xlsx", [["SKU", "Name", "List Price"], ["HW-1", "w" * 33_000, 10]]
    )
    run = measured("--db", str(tmp_path / "p.db"), "pricebook", "import", str(shared))
    refused(run, "'Price Book'!B2", "32,767 characters in one cell", "33,000")
    lines = tmp_path / "lines.csv"
    lines.write_text(f"SKU,Qty,Price,Note\nHW-100,1,110,{'z' * 50_000}\n")
    refused(ask(shop, lines), "lines.csv line 2, column D", "32,767 characters in one cell")
    assert stored_requests(shop) == []


def test_a_row_wider_than_excel_allows_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "wide.csv"
    book.write_text("SKU,List Price\nHW-1,10\n" + ",".join(["1"] * 20_000) + "\n")
    run = measured("--db", str(tmp_path / "p.db"), "pricebook", "import", str(book))
    refused(run, "wide.csv line 3", "16,384 columns", "20,000")


# 6. NUL bytes ---------------------------------------------------------------------------------


def nul_book(tmp_path: Path, suffix: str) -> Path:
    if suffix == ".csv":
        path = tmp_path / "nul.csv"
        path.write_bytes(b"SKU,List Price\nHW-100,120\nHW-10\x0018,130\n")
        return path
    if suffix == "shared.xlsx":
        rows: list[list[str | int]] = [["SKU", "List Price"], ["HW-100", 120], ["HW-10_x0000_18", 130]]  # fmt: skip
        return shared_strings_workbook(tmp_path / "nul.xlsx", rows)
    return streamed_workbook(
        tmp_path / "nul.xlsx",
        [row("SKU", "List Price"), row("HW-100", 120), row("HW-10_x0000_18", 130)],
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", "shared.xlsx"])
def test_a_nul_byte_in_a_price_book_cell_is_refused_with_its_cell_on_both_databases(
    cli: Cli, tmp_path: Path, suffix: str
) -> None:
    result = cli("pricebook", "import", str(nul_book(tmp_path, suffix)))
    assert result.exit_code == 2, result.output
    where = "nul.csv line 3, column A" if suffix == ".csv" else "'Price Book'!A3"
    assert where in result.stderr and "NUL" in result.stderr, result.stderr
    assert "\x00" not in result.output
    assert no_more_editions(cli)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_a_nul_byte_in_a_request_line_is_refused_with_its_cell(
    sales: Cli, tmp_path: Path, suffix: str
) -> None:
    if suffix == ".csv":
        lines = tmp_path / "lines.csv"
        lines.write_bytes(b"SKU,Qty,Price\nHW-100,1,110\nHW-2\x0000,2,90\n")
        where = "lines.csv line 3, column A"
    else:
        lines = streamed_workbook(
            tmp_path / "lines.xlsx",
            [row("SKU", "Qty", "Price"), row("HW-100", 1, 110), row("HW-2_x0000_00", 2, 90)],
            sheet="Lines",
        )
        where = "'Lines'!A3"
    result = sales("request", "--customer", "Acme", "--reason", "bid", "--file", str(lines), user="priya")  # fmt: skip
    assert result.exit_code == 2, result.output
    assert where in result.stderr and "NUL" in result.stderr, result.stderr
    assert sales.json("requests") == []


# 7. Problems: the first of each kind with their cells, the rest counted ---------------------


def test_problems_are_capped_per_kind_at_the_source() -> None:
    from pricing.limits import PROBLEMS_PER_KIND
    from pricing.problems import Problem, Problems

    found = Problems()
    for n in range(100_000):
        found.append(Problem("error", f"duplicate SKU: 'HW-{n}' is already at A{n + 2}", cell=f"A{n + 3}"))  # fmt: skip
        found.append(Problem("warning", f"list price moved +{n}.00 % from 10", cell=f"B{n + 3}"))
    found.append(Problem("error", "no price rows under the header"))
    assert len(found) == 2 * PROBLEMS_PER_KIND + 1
    assert found.counts == {"error": 100_001, "warning": 100_000}
    assert [(k.severity, k.message, k.count) for k in found.kind_counts()] == [
        ("error", "duplicate SKU: 'HW-0' is already at A2", 100_000),
        ("warning", "list price moved +0.00 % from 10", 100_000),
        ("error", "no price rows under the header", 1),
    ]
