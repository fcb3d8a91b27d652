"""Text from users that a spreadsheet would run as a formula never comes back as one.

Customers, reps, deal ids and SKUs come from CRM exports and price books; any of them may start
with =, +, -, @, a tab or a carriage return. Every csv and xlsx pricing writes keeps them text.
"""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import Cli
from tests.test_policy import POLICY

HOSTILE = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(1)", "\tTAB", "\rCR"]
STARTS = ("=", "+", "-", "@", "\t", "\r")


def test_no_output_file_carries_a_live_formula(owner: Cli, tmp_path: Path) -> None:
    rows = ["Deal,Date,Customer,Salesperson,SKU,Qty,Net Price"]
    for i, text in enumerate(HOSTILE):
        quoted = '"' + text.replace('"', '""') + '"'
        rows.append(f"{quoted},2026-03-0{i + 1},{quoted},{quoted},HW-100,1,100")
    rows.append('X,2026-03-09,Acme,priya,"=EVIL()",1,5')  # unmatched: listed by SKU
    deals = tmp_path / "deals.csv"
    deals.write_text("\n".join(rows) + "\n")
    assert owner("deals", "import", str(deals)).exit_code == 0
    stricter = tmp_path / "stricter.toml"
    stricter.write_text(POLICY.replace("rep = 10.0", "rep = 1.0", 1))

    written = []
    for name, args in [
        ("report.xlsx", ["report", "--by", "customer,rep"]),
        ("report.csv", ["report", "--by", "customer,rep"]),
        ("what-if.xlsx", ["policy", "simulate", str(stricter)]),
        ("what-if.csv", ["policy", "simulate", str(stricter)]),
    ]:
        result = owner(*args, "-o", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        written.append(tmp_path / name)

    seen_text = set()
    for path in written:
        if path.suffix == ".xlsx":
            for sheet in load_workbook(path).worksheets:
                for row in sheet.iter_rows():
                    for cell in row:
                        assert cell.data_type != "f", f"{path.name} {sheet.title}!{cell.coordinate}"
                        if isinstance(cell.value, str):
                            seen_text.add(cell.value)
        else:
            with path.open(newline="") as handle:
                for row in csv.reader(handle):
                    for field in row[:3]:  # the key columns: user text
                        assert not field.startswith(STARTS) or _is_number(field), (path.name, row)
                        seen_text.add(field)
    for text in HOSTILE[:1]:
        assert "'" + text in seen_text  # kept, readable, as text


def _is_number(field: str) -> bool:
    try:
        float(field)
    except ValueError:
        return False
    return True


def test_control_characters_in_user_text_do_not_break_any_written_workbook(
    owner: Cli, tmp_path: Path
) -> None:
    """Given a customer, a rep and a SKU holding an escape sequence and other controls no xlsx
    cell may hold, when the owner writes the report, the what-if and the price book export,
    then every file is written (exit 0) with the characters shown as visible escapes."""
    hostile = "Acme\x1b[2J\x07\x00"
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Deal,Date,Customer,Salesperson,SKU,Qty,Net Price\n"
        f"A,2026-03-02,{hostile},pri\x1bya,HW-100,1,100\n"
        "B,2026-03-03,Globex,priya,HW-\x1b9,1,5\n"  # unmatched: listed by SKU
    )
    imported = owner("deals", "import", str(deals))
    if imported.exit_code == 2:  # NUL refused at import: the rest still must not break a file
        deals.write_text(deals.read_text().replace("\x00", ""))
        imported = owner("deals", "import", str(deals))
    assert imported.exit_code == 0, imported.stderr
    stricter = tmp_path / "stricter.toml"
    stricter.write_text(POLICY.replace("rep = 10.0", "rep = 1.0", 1))
    seen: set[str] = set()
    book = tmp_path / "hostile-book.csv"
    book.write_text("SKU,Name,Family,List Price\nHW-100,Router\x1b]8;;http://x\x1b\\,Hardware,10\n")
    assert owner("pricebook", "import", str(book), "--effective", "2027-01-01").exit_code == 0
    for name, args in [
        ("report.xlsx", ["report", "--by", "customer,rep", "-o"]),
        ("report-sku.xlsx", ["report", "--by", "sku", "-o"]),
        ("what-if.xlsx", ["policy", "simulate", str(stricter), "-o"]),
        ("book.xlsx", ["pricebook", "export", "--as-of", "2027-01-01"]),
    ]:
        result = owner(*args, str(tmp_path / name))
        assert result.exit_code == 0, (name, result.stderr)
        for sheet in load_workbook(tmp_path / name).worksheets:
            for row in sheet.iter_rows(values_only=True):
                seen.update(v for v in row if isinstance(v, str))
    assert "Acme\\x1b[2J\\x07" in {v[: len("Acme\\x1b[2J\\x07")] for v in seen}
    assert "pri\\x1bya" in seen
    assert "Router\\x1b]8;;http://x\\x1b\\" in seen
    assert not any("\x1b" in v for v in seen)
