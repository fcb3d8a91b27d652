"""What an attacker tried after issue 17 was built, and what now holds.

An ordinary user holds a file they hand to an importer (a marketer's price book, a rep's
request lines, through the team's server too), text they type, and their own token. Each test
here is one way such a person broke the bounds, crashed a command or slipped a value past a
check, told as the story of the file they made; each failed on the code as it was found.

The workbooks are made part by part in the test's own folder: a few KB that claim gigabytes.
"""

from __future__ import annotations

import random
import struct
import zipfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.conftest import Cli
from tests.hostile import Measured, measured
from tests.test_hostile_files import ask, no_more_editions

MB = 1 << 20
PEAK_MB = 600

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT = "http://purl.oclc.org/ooxml/spreadsheetml/main"
RELATIONSHIPS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PACKAGE = "http://schemas.openxmlformats.org/package/2006/relationships"
SHEET_TYPE = RELATIONSHIPS + "/worksheet"


def package_rels(workbook: str = "xl/workbook.xml") -> str:
    return (
        f'<?xml version="1.0"?><Relationships xmlns="{PACKAGE}"><Relationship Id="rId1" '
        f'Type="{RELATIONSHIPS}/officeDocument" Target="{workbook}"/></Relationships>'
    )


def workbook_xml(*sheets: tuple[str, str], main: str = MAIN) -> str:
    listed = "".join(
        f'<sheet name="{name}" sheetId="{n}" r:id="{rel}"/>'
        for n, (name, rel) in enumerate(sheets, 1)
    )
    return (
        f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{RELATIONSHIPS}">'
        f"<sheets>{listed}</sheets></workbook>"
    )


def workbook_rels(*targets: tuple[str, str], namespace: str = PACKAGE) -> str:
    listed = "".join(
        f'<Relationship Id="{rel}" Type="{SHEET_TYPE}" Target="{target}"/>'
        for rel, target in targets
    )
    return f'<?xml version="1.0"?><Relationships xmlns="{namespace}">{listed}</Relationships>'


def sheet_xml(rows: str, main: str = MAIN) -> str:
    return (
        f'<?xml version="1.0"?><worksheet xmlns="{main}"><sheetData>{rows}</sheetData></worksheet>'
    )


def cells(r: int, *values: str | int) -> str:
    out = []
    for c, value in enumerate(values):
        ref = f"{chr(65 + c)}{r}"
        if isinstance(value, str):
            out.append(f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>')
        else:
            out.append(f'<c r="{ref}"><v>{value}</v></c>')
    return f'<row r="{r}">{"".join(out)}</row>'


BOOK = cells(1, "SKU", "List Price") + cells(2, "HW-1", 10)
# One value far out: the grid from A1 to it is 1,048,576 rows of 78 columns (82 million cells,
# 3.3 GB to the workbook reader) in a file of 2 KB.
FAR = BOOK + '<row r="1048576"><c r="BZ1048576"><v>1</v></c></row>'


def standard_parts(rows: str = BOOK) -> dict[str, str | bytes]:
    return {
        "_rels/.rels": package_rels(),
        "xl/workbook.xml": workbook_xml(("Price Book", "rId1")),
        "xl/_rels/workbook.xml.rels": workbook_rels(("rId1", "worksheets/sheet1.xml")),
        "xl/worksheets/sheet1.xml": sheet_xml(rows),
    }


def workbook(path: Path, parts: dict[str, str | bytes]) -> Path:
    """A workbook of exactly these parts, in this order."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    return path


def noise(size: int, seed: int = 7) -> Iterator[bytes]:
    """``size`` bytes of letters, never '<', compressing about 60 times (under the ratio bound
    of a zip bomb): the same noisy megabyte again and again (deflate looks back 32 KB only)."""
    rnd = random.Random(seed)
    block = bytearray(b"a" * MB)
    for i in range(0, MB, 120):
        block[i] = rnd.randrange(97, 123)
    whole, rest = divmod(size, MB)
    for _ in range(whole):
        yield bytes(block)
    yield bytes(block[:rest])


def streamed(path: Path, parts: dict[str, str | bytes], name: str, head: bytes, size: int,
             tail: bytes) -> Path:  # fmt: skip
    """A workbook of ``parts``, then the part ``name``: ``head``, ``size`` bytes of noise, ``tail``."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for part, content in parts.items():
            if part != name:
                archive.writestr(part, content)
        with archive.open(name, "w", force_zip64=True) as out:
            out.write(head)
            for chunk in noise(size):
                out.write(chunk)
            out.write(tail)
    return path


def import_book(folder: Path, book: Path) -> Measured:
    """The marketer imports ``book`` in a fresh process (its peak memory measured)."""
    db = folder / "pricing.db"
    return measured("--db", str(db), "--user", "mia", "pricebook", "import", str(book))


def refused(run: Measured, *said: str) -> None:
    assert run.exit_code == 2, (run.exit_code, run.stderr[-2000:])
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    for text in said:
        assert text in run.stderr, (text, run.stderr[-2000:])
    assert "nothing was stored" in run.stderr, run.stderr[-2000:]
    assert run.peak_mb < PEAK_MB, f"peak {run.peak_mb} MB"


# The zip directory ------------------------------------------------------------------------------


def test_a_zip_directory_of_more_parts_than_its_end_record_declares_is_refused(
    tmp_path: Path,
) -> None:
    """Given a small price book whose zip directory goes on with 150,000 empty entries while
    its end record declares the 5 real ones (zipfile parses the directory by its size: 3
    million such entries took 1.5 GB and 43 s), when the marketer imports it, then it is
    refused at once for its number of parts."""
    book = workbook(tmp_path / "lying.xlsx", standard_parts())
    data = book.read_bytes()
    at = data.rfind(b"PK\x05\x06")
    count, size, offset = struct.unpack_from("<HII", data, at + 10)
    fake = b"".join(
        struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0,
                    0, 0, 0, 0) + b"%07d" % i
        for i in range(150_000)
    )  # fmt: skip
    directory = data[offset : offset + size] + fake
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count, count, len(directory), offset, 0)
    book.write_bytes(data[:offset] + directory + end)

    refused(import_book(tmp_path, book), "over the limit of 100,000 parts in one workbook")


# What is read is what was checked ---------------------------------------------------------------

EVASIONS: dict[str, dict[str, str | None]] = {
    # calamine finds parts whatever their case and with '\' for '/'; the check looked for one name
    "workbook part in other case": {
        "_rels/.rels": package_rels("xl/Workbook.xml"),
        "xl/Workbook.xml": workbook_xml(("Price Book", "rId1")),
        "xl/workbook.xml": None,
    },
    "relationships under a backslash name": {
        "xl/_rels/workbook.xml.rels": None,
        "xl\\_rels\\workbook.xml.rels": workbook_rels(("rId1", "worksheets/sheet1.xml")),
    },
    "sheet part in other case": {
        "xl/worksheets/sheet1.xml": None,
        "xl/worksheets/Sheet1.xml": sheet_xml(FAR),
    },
    # the check read elements in one namespace only: Strict OOXML (Excel's "Strict Open XML
    # Spreadsheet") and a relationships part without one went unchecked
    "strict namespace": {
        "xl/workbook.xml": workbook_xml(("Price Book", "rId1"), main=STRICT),
        "xl/worksheets/sheet1.xml": sheet_xml(FAR, main=STRICT),
    },
    "relationships without namespace": {
        "xl/_rels/workbook.xml.rels": workbook_rels(
            ("rId1", "worksheets/sheet1.xml"), namespace=""
        ),
    },
    # ambiguities readers resolve differently: the check took the last sheet of a name and the
    # first relationship of an id, calamine the first and the last
    "two sheets of one name": {
        "xl/workbook.xml": workbook_xml(("Price Book", "rId1"), ("Price Book", "rId2")),
        "xl/_rels/workbook.xml.rels": workbook_rels(
            ("rId1", "worksheets/sheet1.xml"), ("rId2", "worksheets/sheet2.xml")
        ),
        "xl/worksheets/sheet2.xml": sheet_xml(BOOK),
    },
    "two relationships of one id": {
        "xl/_rels/workbook.xml.rels": workbook_rels(
            ("rId1", "worksheets/sheet2.xml"), ("rId1", "worksheets/sheet1.xml")
        ),
        "xl/worksheets/sheet2.xml": sheet_xml(BOOK),
    },
}


@pytest.mark.parametrize("trick", list(EVASIONS))
def test_the_sheet_the_reader_reads_is_the_sheet_that_was_checked(
    tmp_path: Path, trick: str
) -> None:
    """Given a 2 KB price book whose sheet reaches cell BZ1048576 (82 million cells), written so
    that the sheet check found no sheet, or another one, than the workbook reader reads (3.3 GB
    and 15 s each), when the marketer imports it, then it is refused in a second, well under
    600 MB: either for the cells, or for the ambiguity itself."""
    parts: dict[str, str | bytes] = standard_parts(FAR)
    for name, content in EVASIONS[trick].items():
        if content is None:
            del parts[name]
        else:
            parts[name] = content
    run = import_book(tmp_path, workbook(tmp_path / "evasive.xlsx", parts))
    assert run.exit_code == 2, (run.exit_code, run.stderr[-2000:], run.peak_mb)
    assert "too many to read" in run.stderr or "nothing was stored" in run.stderr, run.stderr
    assert run.peak_mb < PEAK_MB and "Traceback" not in run.stderr


def test_a_strict_open_xml_workbook_is_still_read(cli: Cli, tmp_path: Path) -> None:
    """Given a price book saved by Excel as Strict Open XML (another namespace), when the
    marketer imports it, then it is read as before (its sheet found and checked)."""
    parts = standard_parts()
    parts["xl/workbook.xml"] = workbook_xml(("Price Book", "rId1"), main=STRICT)
    parts["xl/worksheets/sheet1.xml"] = sheet_xml(BOOK, main=STRICT)
    done = cli("pricebook", "import", str(workbook(tmp_path / "strict.xlsx", parts)))
    assert done.exit_code == 0, done.output
    assert [item["sku"] for item in cli.json("pricebook", "show")["items"]] == ["HW-1"]


def test_an_opendocument_spreadsheet_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """Given an 880-byte OpenDocument spreadsheet whose one row repeats a million times over 30
    columns (3.1 GB and 9 s to the workbook reader, with no check of its sheet at all), when the
    marketer imports it, then it is refused as not an xlsx workbook."""
    content = (
        '<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:'
        'opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:'
        'table:1.0"><office:body><office:spreadsheet><table:table table:name="Price Book">'
        '<table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-'
        'columns-repeated="30" office:value-type="float" office:value="1"/></table:table-row>'
        "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    book = tmp_path / "book.ods"
    with zipfile.ZipFile(book, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    refused(import_book(tmp_path, book), "it is not an xlsx workbook")


def test_a_shared_strings_part_behind_a_decoy_is_checked_too(cli: Cli, tmp_path: Path) -> None:
    """Given a price book whose real shared strings hold a SKU with a NUL byte and a 40,000
    character name, behind a clean part also named sharedStrings.xml in another folder (the
    check read the first such part it met, the reader its own: the NUL was stored), when the
    marketer imports it, then the cells are refused."""
    strings = f'<sst xmlns="{MAIN}"><si><t>HW-\x00NUL</t></si><si><t>{"L" * 40_000}</t></si></sst>'
    rows = cells(1, "SKU", "Name", "List Price") + (
        '<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c><c r="C2"><v>10'
        "</v></c></row>"
    )
    parts = {"a/sharedStrings.xml": f'<sst xmlns="{MAIN}"/>', **standard_parts(rows)}
    parts["xl/sharedStrings.xml"] = strings
    done = cli("pricebook", "import", str(workbook(tmp_path / "decoy.xlsx", parts)))
    assert done.exit_code == 2, done.output
    assert "over the limit of 32,767 characters in one cell" in done.output
    assert no_more_editions(cli)


# Parts read whole ------------------------------------------------------------------------------


@pytest.mark.parametrize("part", ["_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/styles.xml"])  # fmt: skip
def test_a_part_read_whole_is_bounded_before_it_is_read(tmp_path: Path, part: str) -> None:
    """Given a price book whose package relationships, workbook part, its relationships or its
    styles hold a 70 MB comment (1.5 GB of one took 3.1 GB: read whole by the check and by the
    reader), when the marketer imports it, then it is refused for that part's size."""
    parts = standard_parts()
    body = str(parts.get(part, f'<styleSheet xmlns="{MAIN}"></styleSheet>'))
    cut = body.rindex("</")
    book = streamed(tmp_path / "big.xlsx", parts, part, (body[:cut] + "<!--").encode(), 70 * MB,
                    ("-->" + body[cut:]).encode())  # fmt: skip
    refused(import_book(tmp_path, book), f"part {part!r}: part size over the limit of 64 MB")


def test_a_workbook_part_nested_thousands_deep_is_refused(cli: Cli, tmp_path: Path) -> None:
    """Given a workbook part nested 5,000 levels deep (3 million levels took 918 MB as a tree),
    when the marketer imports it, then it is refused for its nesting."""
    parts = standard_parts()
    parts["xl/workbook.xml"] = str(parts["xl/workbook.xml"]).replace(
        "</workbook>", "<a>" * 5000 + "</a>" * 5000 + "</workbook>"
    )
    done = cli("pricebook", "import", str(workbook(tmp_path / "deep.xlsx", parts)))
    assert done.exit_code == 2, done.output
    assert "over the limit of 64 levels of nesting" in done.output


# One giant piece of text ------------------------------------------------------------------------


def test_a_giant_shared_string_is_refused_before_the_reader_holds_it(tmp_path: Path) -> None:
    """Given a 5 MB price book whose one shared string is 300 MB (1.5 GB of one passed 5 GB and
    aborted the process: the reader held it, then Python a copy, before its cell was checked),
    when the marketer imports it, then it is refused while it is scanned, under 600 MB."""
    parts = standard_parts()
    head = f'<sst xmlns="{MAIN}"><si><t>'.encode()
    book = streamed(tmp_path / "string.xlsx", parts, "xl/sharedStrings.xml", head, 300 * MB,
                    b"</t></si></sst>")  # fmt: skip
    refused(import_book(tmp_path, book), "more than 8,388,608 bytes")


@pytest.mark.parametrize(
    ("where", "head", "tail"),
    [
        ("a comment", b"</sheetData><!--", b"--></worksheet>"),
        ("an inline string", b'<row r="3"><c r="A3" t="inlineStr"><is><t>',
         b"</t></is></c></row></sheetData></worksheet>"),
        ("an attribute", b'<row r="3"><c r="A3" x="', b'"/></row></sheetData></worksheet>'),
    ],
    ids=["comment", "inline string", "attribute"],
)  # fmt: skip
def test_megabytes_of_text_without_a_tag_in_a_sheet_are_refused_while_it_is_scanned(
    cli: Cli, tmp_path: Path, where: str, head: bytes, tail: bytes
) -> None:
    """Given a price book whose sheet holds 3 MB of text without a tag in {where} (1.5 GB of
    it took 1.6 GB and 12 to 27 s: the reader holds each whole, and a comment or an attribute
    was not even looked at), when the marketer imports it, then it is refused while the sheet
    is scanned, before the reader reads it."""
    sheet = sheet_xml(BOOK).encode()
    start = sheet[: sheet.index(b"</sheetData>")] + head
    book = streamed(tmp_path / "text.xlsx", standard_parts(), "xl/worksheets/sheet1.xml", start,
                    3 * MB, tail)  # fmt: skip
    done = cli("pricebook", "import", str(book))
    assert done.exit_code == 2, done.output
    assert "text without a tag over the limit of 1 MB" in done.output, done.output


# Parts zipfile cannot open --------------------------------------------------------------------


@pytest.mark.parametrize(("method", "flags", "said"), [(9, 0, "compression method 9"), (99, 0, "compression method 99"), (8, 1, "it is encrypted")])  # fmt: skip
@pytest.mark.parametrize("part", ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"])
def test_a_part_compressed_as_excel_never_does_or_encrypted_is_refused_not_a_traceback(
    cli: Cli, tmp_path: Path, part: str, method: int, flags: int, said: str
) -> None:
    """Given a price book whose sheet or shared strings part says it is compressed with
    Deflate64, an unknown method, or encrypted (zipfile cannot open it: a traceback, exit 1),
    when the marketer imports it, then it is refused naming the part."""
    parts = {**standard_parts(), "xl/sharedStrings.xml": f'<sst xmlns="{MAIN}"/>'}
    book = workbook(tmp_path / "odd.xlsx", parts)
    data = bytearray(book.read_bytes())
    with zipfile.ZipFile(book) as archive:
        info = archive.getinfo(part)
    struct.pack_into("<HH", data, info.header_offset + 6, info.flag_bits | flags, method)
    central = data.rfind(b"PK\x01\x02" + data[:0])
    while central >= 0:  # the part's entry in the central directory too
        length = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46 : central + 46 + length] == part.encode():
            struct.pack_into("<HH", data, central + 8, info.flag_bits | flags, method)
        central = data.rfind(b"PK\x01\x02", 0, central)
    book.write_bytes(bytes(data))

    done = cli("pricebook", "import", str(book))
    assert done.exit_code == 2, done.output
    assert f"part {part!r}: cannot be read ({said}" in done.output, done.output


def test_a_workbook_whose_sheets_the_reader_cannot_list_is_refused_not_a_traceback(
    cli: Cli, tmp_path: Path
) -> None:
    """Given a workbook the reader opens but finds no sheet in (its workbook part renamed:
    IndexError, exit 1), when the marketer imports it, then it is refused, exit 2."""
    parts = standard_parts()
    parts["_rels/.rels"] = package_rels("xl/wb.xml")
    parts["xl/wb.xml"] = parts.pop("xl/workbook.xml")
    done = cli("pricebook", "import", str(workbook(tmp_path / "renamed.xlsx", parts)))
    assert done.exit_code == 2, done.output
    assert "the workbook has no sheets" in done.output


# A store edited by hand --------------------------------------------------------------------------


def sql(cli: Cli, statement: str) -> None:
    """What an edit by hand does (psql, sqlite3): one statement, committed."""
    from sqlalchemy import text

    with cli.store().engine.begin() as conn:
        conn.execute(text(statement))


@pytest.mark.parametrize(
    "body",
    ["{not json", "{}", "null", """{"levels": ["rep"], "limits": {"rep": "x"}}"""],
    ids=["not json", "empty", "null", "garbage amount"],
)
def test_policy_rules_edited_into_garbage_are_named_not_a_traceback(owner: Cli, body: str) -> None:
    """Given a store whose policy's stored rules (the body every decision reads) were edited
    into garbage, which `db check` named but every request, decision and `policy show` met as
    a traceback (and `db check` itself for a garbage amount), when the rep asks for a price and
    the owner shows the policy and checks the store, then each says which policy version is
    damaged and how to recover (exit 2; db check exit 1)."""
    sql(owner, f"UPDATE policies SET body = '{body}'")
    for asked in (
        owner("request", "--customer", "Acme", "--reason", "bid", "HW-100", "--qty", "1",
              "--discount", "5", "--check", user="priya"),
        owner("policy", "show"),
    ):  # fmt: skip
        assert asked.exit_code == 2, asked.output
        assert "policy version 1 (g.toml) is damaged" in asked.output, asked.output
        assert "pricing policy load g.toml" in asked.output
    checked = owner("db", "check")
    assert checked.exit_code == 1, checked.output
    assert "policy version 1 (g.toml): its stored rules do not read" in checked.output


@pytest.mark.parametrize(
    ("edit", "command"),
    [
        ("UPDATE request_lines SET reasons = '{bad'", ["requests"]),
        ("UPDATE request_lines SET reasons = '5'", ["requests", "show", "R-000001"]),
        ("UPDATE request_lines SET price = 'x'", ["approve", "R-000001"]),
        ("UPDATE requests SET created_at = 'yesterday'", ["requests", "show", "R-000001"]),
    ],
    ids=["reasons not json", "reasons not a list", "price not a number", "date not a date"],
)
def test_a_request_edited_by_hand_is_named_not_a_traceback(
    sqlite_url: str, tmp_path: Path, edit: str, command: list[str]
) -> None:
    """Given an SQLite store where a request's row was edited by hand into values of the wrong
    kind (SQLite keeps them: a traceback for the request list, the request and its approval),
    when the owner lists, opens or approves it, then the request is named as damaged with the
    way back, exit 2."""
    from tests.test_policy import POLICY

    store = Cli(sqlite_url)
    book = tmp_path / "book.csv"
    book.write_text("SKU,List Price\nHW-100,120\n")
    policy = tmp_path / "guardrails.toml"
    policy.write_text(POLICY + '\n[[person]]\nname = "marco"\nrole = "manager"\n')
    assert store("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    assert store("policy", "load", str(policy), user="dana").exit_code == 0
    assert store("request", "--customer", "Acme", "--reason", "bid", "HW-100", "--qty", "1",
                "--discount", "12", user="priya").exit_code == 0  # fmt: skip
    sql(store, edit)
    done = store(*command, user="dana")
    assert done.exit_code == 2, done.output
    assert "request R-000001 is damaged" in done.output and "backup" in done.output
    store.close()


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE deal_imports SET imported_at = 'x'",
        "UPDATE editions SET effective_from = 'x'",
        "UPDATE audit_log SET at = 'x' WHERE seq = 1",
    ],
    ids=["import time", "edition date", "audit time"],
)
def test_db_check_names_a_table_whose_row_does_not_read_instead_of_crashing(
    sqlite_url: str, tmp_path: Path, edit: str
) -> None:
    """Given an SQLite store where a date was overwritten with 'x' (the check of damage itself
    ended in a traceback), when the owner runs `pricing db check` and `pricing audit verify`,
    then the check names the part it could not read and carries on (exit 1), and the audit
    says an entry does not read (exit 2)."""
    store = Cli(sqlite_url, user="dana")
    book = tmp_path / "book.csv"
    book.write_text("SKU,List Price\nHW-100,120\n")
    deals = tmp_path / "deals.csv"
    deals.write_text("Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price\n"
                     "O-1,2026-02-01,Acme,priya,HW-100,1,110\n")  # fmt: skip
    assert store("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    assert store("deals", "import", str(deals)).exit_code == 0
    sql(store, edit)
    checked = store("db", "check")
    assert checked.exit_code == 1, checked.output
    assert "a row holds a value that does not read" in checked.output, checked.output
    verified = store("audit", "verify")
    assert verified.exit_code in (1, 2), verified.output
    if "audit" in edit:
        assert verified.exit_code == 2 and "an entry that does not read" in verified.output
    store.close()


# Odd arguments and odd csv --------------------------------------------------------------------


def test_a_demo_folder_that_cannot_be_made_is_named_not_a_traceback(cli: Cli) -> None:
    """Given a demo folder under /proc (no folder can be made there: FileNotFoundError, exit
    1), when someone runs the demo, then the folder is named, exit 2."""
    done = cli("demo", "--dir", "/proc/no-such-place/demo")
    assert done.exit_code == 2, done.output
    assert "/proc/no-such-place/demo: cannot be the demo's folder" in done.output


@pytest.mark.parametrize("host", ["256.1.1.1", "\x1b[2J\x9b.example"])
def test_a_server_address_that_is_none_is_named_before_the_server_starts(
    sqlite_url: str, host: str
) -> None:
    """Given a --host that is no address (a name with control characters ended in a
    UnicodeError traceback), when the administrator starts the server, then the address is
    named, escaped, exit 2."""
    done = Cli(sqlite_url)("serve", "--host", host, "--port", "8999")
    assert done.exit_code == 2, done.output
    assert "not an address to listen on" in done.output
    assert "\x1b" not in done.output and "\x9b" not in done.output


def test_a_csv_quote_that_never_closes_is_named_for_what_it_is(cli: Cli, tmp_path: Path) -> None:
    """Given a price book csv whose quote opened on line 2 never closes (the refusal said
    "line 32770, column A ... found 3"), when the marketer imports it, then the message says a
    quoted value runs over many lines."""
    book = tmp_path / "book.csv"
    book.write_text('SKU,Name,List Price\nHW-1,"Router\n' + "more text\n" * 20_000)
    done = cli("pricebook", "import", str(book))
    assert done.exit_code == 2, done.output
    assert "a quoted value running over many lines (a quote never closed?)" in done.output
    assert "(found more than 131,072)" in done.output


# The team's server ------------------------------------------------------------------------------


def test_a_reps_upload_is_refused_past_the_bound_of_the_file_it_carries(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a team server and a rep with a 25 MB "lines file" (any signed-in rep could send
    4 GB per call, PRICING_MAX_UPLOAD_MB, which the server spooled to disk twice before the
    lines importer refused it at 20 MB), when she sends it declared or streamed, then the
    server answers 413 as it arrives, naming the lines file's bound and its variable."""
    import asyncio

    import httpx

    from pricing.server.app import create_app

    monkeypatch.setenv("PRICING_SECRET", "s" * 64)
    administrator = Cli(sqlite_url, user="dana")
    administrator.json("people", "add", "dana", "--role", "owner")
    token = administrator.json("people", "add", "priya", "--role", "rep")["token"]
    app = create_app(sqlite_url)
    headers = {"Authorization": f"Bearer {token}"}
    form = {"request": '{"params": {"customer": "Acme", "reason": "bid"}}'}
    lines = b"SKU,Qty,Discount\n" + b"HW-1,1,5\n" * (25 * MB // 9)

    async def streamed() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'--b\r\nContent-Disposition: form-data; name="lines_file"; filename="l.csv"\r\n\r\n'
        for _ in range(25):
            yield b"HW-1,1,5\n" * (MB // 9)
        yield b"\r\n--b--\r\n"

    async def send() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://team") as client:
            declared = await client.post("/api/requests.submit", headers=headers, data=form,
                                         files={"lines_file": ("lines.csv", lines)})  # fmt: skip
            chunked = await client.post("/api/requests.submit", content=streamed(), headers={
                **headers, "Content-Type": "multipart/form-data; boundary=b"})  # fmt: skip
        return declared, chunked

    declared, chunked = asyncio.run(send())
    assert declared.status_code == 413, declared.text
    said = declared.json()["error"]["message"]
    assert "file size over the limit of 20 MB" in said and "PRICING_MAX_REQUEST_FILE_MB" in said
    assert chunked.status_code == 413, chunked.text


@pytest.fixture
def shop(tmp_path: Path) -> Cli:
    """A store on SQLite with a price book and the policy, where a rep's request is judged."""
    from tests.test_cli_requests import TEAM
    from tests.test_policy import POLICY

    cli = Cli(f"sqlite:///{tmp_path / 'shop.db'}")
    book = tmp_path / "book.csv"
    book.write_text("SKU,List Price\nHW-1,120\n")
    assert cli("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    policy = tmp_path / "guardrails.toml"
    policy.write_text(POLICY + TEAM)
    assert cli("policy", "load", str(policy), user="dana").exit_code == 0
    return cli


def test_a_lines_workbook_holding_more_than_a_request_needs_is_refused_from_its_directory(
    shop: Cli, tmp_path: Path
) -> None:
    """Given a rep's 3 MB lines workbook whose sheet carries a 150 MB comment broken every
    256 KB by a '<' (a 19 MB one of 1 GB made the team's server hold 1 GB: the reader holds a
    comment whole, and a lines workbook could be 2 GB uncompressed, as a price book), when she
    asks for the request, then it is refused from the zip directory, naming the variable."""
    laced = bytearray()
    for chunk in noise(MB):
        laced += chunk
    piece = b"<x".join(bytes(laced[at : at + MB // 4]) for at in range(0, MB, MB // 4)) + b"<x"
    sheet = sheet_xml(cells(1, "SKU", "Qty", "Discount") + cells(2, "HW-1", 1, 5)).encode()
    book = tmp_path / "lines.xlsx"
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, content in standard_parts().items():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, content)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(sheet.replace(b"</sheetData>", b"</sheetData><!--"))
            for _ in range(150):
                out.write(piece)
            out.write(b"-->")
    refused(ask(shop, book), "uncompressed workbook content over the limit of 100 MB",
            "PRICING_MAX_REQUEST_XLSX_MB")  # fmt: skip
