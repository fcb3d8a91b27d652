"""Files as they really arrive: wrong extensions, broken or protected workbooks, empty files."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Cli, write_workbook
from tests.hostile import PEAK_WRAPPER, peak_of


def editions(cli: Cli) -> list[dict]:
    """The editions stored (none, and no database file created, when every import failed)."""
    if cli.db_url.startswith("sqlite") and not Path(cli.db_url.removeprefix("sqlite:///")).exists():
        return []
    return cli.json("pricebook", "editions")


def test_a_csv_named_xlsx_and_an_xlsx_named_csv_are_read_by_content(
    cli: Cli, tmp_path: Path
) -> None:
    fake_xlsx = tmp_path / "prices.xlsx"
    fake_xlsx.write_text("SKU,Price\nA-1,10\n")
    assert cli("pricebook", "import", str(fake_xlsx)).exit_code == 0
    real = write_workbook(tmp_path / "real.xlsx", {"Price Book": [["SKU", "Price"], ["A-1", 11]]})
    fake_csv = tmp_path / "prices.csv"
    shutil.copy(real, fake_csv)
    assert cli("pricebook", "import", str(fake_csv)).exit_code == 0
    assert [e["items"] for e in editions(cli)] == [1, 1]


def test_a_truncated_workbook_is_refused_clearly(cli: Cli, tmp_path: Path) -> None:
    real = write_workbook(tmp_path / "real.xlsx", {"Price Book": [["SKU", "Price"], ["A-1", 11]]})
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(real.read_bytes()[: len(real.read_bytes()) // 2])
    result = cli("pricebook", "import", str(broken))
    assert result.exit_code == 2
    assert "broken.xlsx" in result.stderr and "save it again as .xlsx" in result.stderr
    assert "Traceback" not in result.output
    assert editions(cli) == []


def test_an_old_xls_or_a_password_protected_workbook_says_how_to_convert(
    cli: Cli, tmp_path: Path
) -> None:
    ole = tmp_path / "old.xls"
    ole.write_bytes(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    )  # the OLE container both use
    result = cli("pricebook", "import", str(ole))
    assert result.exit_code == 2
    assert "save it as .xlsx" in result.stderr


def test_empty_and_missing_files_everywhere(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for args in (["pricebook", "import"], ["deals", "import"], ["policy", "check"]):
        result = cli(*args, str(empty))
        assert result.exit_code == 2 and "empty" in result.stderr, args
        result = cli(*args, str(tmp_path / "missing.csv"))
        assert result.exit_code == 2 and "no such file" in result.stderr, args
    folder = tmp_path / "a-folder.xlsx"
    folder.mkdir()
    assert cli("pricebook", "import", str(folder)).exit_code == 2


def rewrite_sheet_xml(path: Path, change: Callable[[str], str]) -> None:
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["xl/worksheets/sheet1.xml"] = change(
        members["xl/worksheets/sheet1.xml"].decode()
    ).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def test_a_workbook_declaring_a_million_rows_imports_what_it_holds(tmp_path: Path) -> None:
    book = write_workbook(tmp_path / "book.xlsx", {"Price Book": [["SKU", "Price"], ["A-1", 11]]})
    rewrite_sheet_xml(
        book, lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', xml)
    )
    code, err, peak = peak_of("--db", str(tmp_path / "p.db"), "pricebook", "import", str(book))
    assert code == 0, err
    assert peak < 250, f"{peak} MB for a two-row sheet"


def test_a_stray_value_at_the_last_cell_of_the_sheet_is_refused_not_read(tmp_path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Price Book"
    sheet.append(["SKU", "Price"])
    sheet.append(["A-1", 11])
    sheet["XFD1048576"] = "x"  # 17 billion cells from A1
    workbook.save(tmp_path / "stray.xlsx")
    for command in (["pricebook", "import"], ["deals", "import"]):
        code, err, peak = peak_of(
            "--db", str(tmp_path / "p.db"), *command, str(tmp_path / "stray.xlsx")
        )
        assert code == 2, err
        assert "XFD1048576" in err and "1,048,576 rows x 16,384 columns" in err
        assert "Traceback" not in err and peak < 250
    assert not (tmp_path / "p.db").exists()


def unreadable(path: Path) -> list[str]:
    """The path made unreadable for the command; the prefix that runs it as such a user.

    Root reads any file, so as root the command runs without the capabilities that let it."""
    path.chmod(0o000)
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable here")
    return ["setpriv", "--bounding-set", "-dac_override,-dac_read_search"]


def test_a_file_that_cannot_be_read_says_so(tmp_path: Path) -> None:
    secret = tmp_path / "secret.csv"
    secret.write_text("SKU,Price\nA-1,10\n")
    prefix = unreadable(secret)
    db = tmp_path / "p.db"
    try:
        for args in (
            ["pricebook", "import", str(secret)],
            ["deals", "import", str(secret)],
            ["policy", "check", str(secret)],
            ["request", "--customer", "A", "--reason", "r", "--file", str(secret)],
        ):
            done = subprocess.run(
                [*prefix, sys.executable, "-m", "pricing", "--db", str(db), *args],
                capture_output=True,
                text=True,
            )
            assert done.returncode == 2, (args, done.stderr)
            assert "secret.csv" in done.stderr and "Traceback" not in done.stderr, args
            assert "not readable" in done.stderr or "permission denied" in done.stderr, args
    finally:
        secret.chmod(0o644)
    assert not db.exists()


def test_a_50_mb_deals_file_shows_progress_on_a_terminal_in_bounded_memory(tmp_path: Path) -> None:
    if shutil.which("script") is None:
        pytest.skip("no `script` command to give the import a terminal")
    db = tmp_path / "p.db"
    book = tmp_path / "book.csv"
    book.write_text(
        "SKU,List Price\n" + "".join(f"SKU-{i:05d},{20 + i % 900}.00\n" for i in range(20_000))
    )
    assert subprocess.run([sys.executable, "-m", "pricing", "--db", str(db), "pricebook", "import",
                           str(book), "--effective", "2025-01-01"], capture_output=True).returncode == 0  # fmt: skip
    deals = tmp_path / "deals.csv"
    with deals.open("w") as out:
        out.write("Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price\n")
        i = 0
        while out.tell() < 50 * 2**20:
            out.writelines(
                f"SO-{n // 3:07d},2026-{1 + n % 12:02d}-{1 + n % 28:02d},Customer {n % 4999},"
                f"rep{n % 7},SKU-{n % 20_000:05d},{1 + n % 9},{19 + n % 900}.50\n"
                for n in range(i, i + 50_000)
            )
            i += 50_000
    command = shlex.join(
        [sys.executable, "-c", PEAK_WRAPPER, "--db", str(db), "deals", "import", str(deals)]
    )
    done = subprocess.run(["script", "-qec", command, "/dev/null"], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "100"})  # fmt: skip
    output = done.stdout
    assert "Matching and storing" in output, output[-2000:]  # the bar, drawn on the terminal
    peak, status = re.findall(r"peak (\d+) (\d+)", output)[-1]
    assert status == "0", output[-2000:]
    assert f"{i:,} lines; added {i:,}" in output
    assert int(peak) < 650, f"peak {peak} MB for a 50 MB file"  # ~600 MB measured


def test_an_argument_that_is_not_utf8_is_refused_not_a_traceback(tmp_path: Path) -> None:
    """Given a terminal that sends bytes that are not UTF-8 (a SKU typed in Latin-1), when the
    rep asks for it, then she is told, exit 2, on SQLite as on any database."""
    book = tmp_path / "book.csv"
    book.write_text("SKU,List Price\nHW-1,10\n")
    db = str(tmp_path / "p.db")
    assert subprocess.run([sys.executable, "-m", "pricing", "--db", db, "pricebook", "import",
                           str(book)], capture_output=True).returncode == 0  # fmt: skip
    for args in ([b"pricebook", b"show", b"\x9b\xff"], [b"quote", b"HW-\xe9", b"--qty", b"1"]):
        done = subprocess.run(
            [sys.executable.encode(), b"-m", b"pricing", b"--db", db.encode(), *args],
            capture_output=True,
        )
        assert done.returncode == 2, done.stderr
        assert b"is not UTF-8 text" in done.stderr and b"Traceback" not in done.stderr
