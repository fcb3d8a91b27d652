"""Files as they really arrive: wrong extensions, broken or protected workbooks, empty files."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import Cli, write_workbook


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
