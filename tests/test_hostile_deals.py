"""Hostile and broken deals files: every one ends in a clear message naming the file, its line or
cell and the bound (exit 2, nothing stored), never a traceback or a machine out of memory.

Each file is made by its test in ``tmp_path``; the gigabyte ones are sparse (no disk) and are
run in a fresh process whose peak memory is measured (tests/hostile.py).
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import pytest

from pricing.limits import COLUMNS, FIELD_CHARS, PROBLEMS_PER_KIND
from tests.conftest import Cli, write_workbook
from tests.hostile import measured, sparse_file

HEADER = "Order ID,Order Date,Customer,SKU,Quantity,Net Price"
MB = 1024 * 1024


def deals_csv(tmp_path: Path, lines: list[str], name: str = "deals.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def good_lines(count: int, start: int = 0) -> list[str]:
    return [f"O-{i},2025-06-15,Acme,HW-100,1,110.00" for i in range(start, start + count)]


def stored_lines(cli: Cli) -> int:
    return int(cli.json("report")["totals"]["lines"])


def nothing_stored(cli: Cli) -> bool:
    return stored_lines(cli) == 0 and cli.json("deals", "imports") == []


# One cell too long ---------------------------------------------------------------------------


def test_a_cell_over_131072_characters_names_its_line_and_the_bound(
    owner: Cli, tmp_path: Path
) -> None:
    """Given a csv whose third line holds a SKU of 140,000 characters (past the csv module's own
    field limit, which used to end in a traceback), when imported, then exit 2 naming line 3 and
    the bound of 32,767 characters, and nothing is stored."""
    path = deals_csv(tmp_path, [*good_lines(1), f"O-9,2025-06-15,Acme,{'H' * 140_000},1,110"])
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "deals.csv line 3" in result.stderr
    assert f"{FIELD_CHARS.value:,} characters in one cell" in result.stderr
    assert "(found 140,000)" in result.stderr and "Traceback" not in result.stderr
    assert nothing_stored(owner)


def test_a_long_cell_far_down_the_file_is_found_as_it_is_read(owner: Cli, tmp_path: Path) -> None:
    """Given a long cell (40,000 characters, under the csv module's limit, over Excel's) on line
    15,002, past the part of the file read to find the header, when imported, then exit 2 naming
    that line and column, and nothing is stored."""
    lines = good_lines(15_000)
    lines.append(f"O-x,2025-06-15,Acme,{'H' * 40_000},1,110")
    result = owner("deals", "import", str(deals_csv(tmp_path, lines)))
    assert result.exit_code == 2, result.output
    assert "deals.csv line 15002, column D" in result.stderr
    assert "(found 40,000)" in result.stderr
    assert nothing_stored(owner)


def rewritten(book: Path, old: bytes, new: bytes) -> Path:
    """The workbook with ``old`` written as ``new`` in its XML, as no Excel would write it."""
    with zipfile.ZipFile(book) as archive:
        parts = {name: archive.read(name).replace(old, new) for name in archive.namelist()}
    with zipfile.ZipFile(book, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return book


def test_a_long_cell_in_a_workbook_names_its_cell(owner: Cli, tmp_path: Path) -> None:
    """Excel keeps a cell to 32,767 characters; a workbook made otherwise may hold more."""
    book = write_workbook(tmp_path / "deals.xlsx", {"Deals": [
        HEADER.split(","), ["O-1", "2025-06-15", "Acme", "HW-100", 1, 110],
        ["O-2", "2025-06-15", "LONG", "HW-100", 1, 110],
    ]})  # fmt: skip
    rewritten(book, b">LONG<", b">" + b"C" * 40_000 + b"<")
    result = owner("deals", "import", str(book))
    assert result.exit_code == 2, result.output
    assert "'Deals'!C3" in result.stderr and "(found 40,000)" in result.stderr
    assert nothing_stored(owner)


# NUL bytes -----------------------------------------------------------------------------------


def test_a_nul_byte_in_a_csv_cell_is_refused_with_its_line_on_both_databases(
    owner: Cli, tmp_path: Path
) -> None:
    """Given a NUL byte inside a SKU on line 302 (past the file's first kilobytes, so the file
    passes as text), when imported, then exit 2 naming the line and column, nothing stored
    (SQLite used to store ``HW-10\\0 18``; PostgreSQL cannot store it at all)."""
    lines = good_lines(300)
    lines.append("O-x,2025-06-15,Acme,HW-10\x00 18,1,110")
    path = tmp_path / "deals.csv"
    path.write_bytes(("\n".join([HEADER, *lines, *good_lines(400, 1000)]) + "\n").encode())
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "deals.csv line 302, column D" in result.stderr and "NUL byte" in result.stderr
    assert nothing_stored(owner)


def test_a_nul_byte_near_the_top_of_a_csv_is_a_bad_cell_not_a_binary_file(
    owner: Cli, tmp_path: Path
) -> None:
    """Given a NUL byte in a customer on line 3 (inside the first kilobytes), when imported,
    then it is named with its line and column like any other bad cell, not called "not a
    spreadsheet" (found by the new-owner trial)."""
    lines = ["O-1,2025-06-15,Acme,HW-100,1,110", "O-2,2025-06-15,Dun\x00der,HW-100,1,110"]
    path = tmp_path / "deals.csv"
    path.write_bytes(("\n".join([HEADER, *lines, *good_lines(50)]) + "\n").encode())
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "deals.csv line 3, column C" in result.stderr and "NUL byte" in result.stderr
    assert "not a spreadsheet" not in result.stderr
    assert nothing_stored(owner)


def test_a_nul_byte_in_a_workbook_cell_is_refused_with_its_cell(owner: Cli, tmp_path: Path) -> None:
    """Excel writes a NUL in a cell as ``_x0000_``, which the workbook reader turns back into
    the byte; refused with its cell, nothing stored."""
    book = write_workbook(tmp_path / "deals.xlsx", {"Deals": [
        HEADER.split(","), ["O-1", "2025-06-15", "Acme", "HW-100", 1, 110],
        ["O-2", "2025-06-15", "Acme", "HW-10 NUL 18", 1, 110],
    ]})  # fmt: skip
    rewritten(book, b"HW-10 NUL 18", b"HW-10_x0000_ 18")
    result = owner("deals", "import", str(book))
    assert result.exit_code == 2, result.output
    assert "'Deals'!D3" in result.stderr and "NUL byte" in result.stderr
    assert nothing_stored(owner)


# A file name that is not UTF-8 ------------------------------------------------------------------


def test_a_file_name_that_is_not_utf8_imports_under_its_escaped_name(
    owner: Cli, tmp_path: Path
) -> None:
    """Given deals and a price book in files whose names hold the byte 0xff (made on a system
    with another encoding), when imported, then both import, and the name is stored and shown
    with that byte written as ``\\xff``."""
    deals = Path(os.fsdecode(os.fsencode(tmp_path) + b"/deals-\xff.csv"))
    deals.write_text("\n".join([HEADER, *good_lines(3)]) + "\n")
    done = owner.json("deals", "import", str(deals))
    assert done["added"] == 3 and done["file"] == "deals-\\xff.csv"
    assert owner.json("deals", "imports")[0]["source"] == "deals-\\xff.csv"
    assert owner("deals", "imports").exit_code == 0

    book = Path(os.fsdecode(os.fsencode(tmp_path) + b"/book-\xfe.csv"))
    book.write_text("SKU,List Price\nHW-100,130\nSV-1,100\n")
    assert owner("pricebook", "import", str(book), "--effective", "2027-01-01").exit_code == 0
    assert owner.json("pricebook", "editions")[-1]["source"] == "book-\\xfe.csv"


# Bounds: size, lines, columns ----------------------------------------------------------------


def test_a_gigabyte_of_nothing_named_deals_csv_is_refused_in_little_memory(
    tmp_path: Path,
) -> None:
    """Given a 1.1 GB sparse file named deals.csv (a header, 200 lines, then zeros), when
    imported, then exit 2 naming the line where the zeros begin, in far less than 600 MB; and
    with PRICING_MAX_DEALS_MB=1000 the size alone refuses it, naming the variable."""
    head = "\n".join([HEADER, *good_lines(200)]) + "\n"
    path = sparse_file(tmp_path / "deals.csv", 1100 * MB, head.encode())
    db = f"sqlite:///{tmp_path / 'pricing.db'}"
    run = measured("--db", db, "deals", "import", str(path))
    assert run.exit_code == 2, run.stderr
    assert "deals.csv line 202" in run.stderr and "NUL byte" in run.stderr
    assert run.peak_mb < 600, run.peak_mb
    bounded = measured(
        "--db", db, "deals", "import", str(path), env={"PRICING_MAX_DEALS_MB": "1000"}
    )
    assert bounded.exit_code == 2, bounded.stderr
    assert "deals.csv: file size over the limit of 1,000 MB (found 1,100 MB)" in bounded.stderr
    assert "PRICING_MAX_DEALS_MB" in bounded.stderr
    assert not (tmp_path / "pricing.db").exists()


def test_a_line_without_end_past_the_first_kilobytes_is_refused_as_it_is_read(
    tmp_path: Path,
) -> None:
    """Given 20,000 good lines and then a gigabyte of zeros (past what is read to find the
    header), when imported, then exit 2 naming where the endless line starts, in little
    memory."""
    head = "\n".join([HEADER, *good_lines(20_000)]) + "\n"
    path = sparse_file(tmp_path / "deals.csv", 1100 * MB, head.encode())
    run = measured("--db", f"sqlite:///{tmp_path / 'pricing.db'}", "deals", "import", str(path))
    assert run.exit_code == 2, run.stderr
    assert "deals.csv line 20002 or after" in run.stderr and "bytes in one line" in run.stderr
    assert run.peak_mb < 600, run.peak_mb


def test_a_file_over_the_size_bound_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = sparse_file(tmp_path / "deals.csv", 4097 * MB, (HEADER + "\n").encode())
    run = measured("--db", f"sqlite:///{tmp_path / 'pricing.db'}", "deals", "import", str(path))
    assert run.exit_code == 2, run.stderr
    assert "over the limit of 4,096 MB (found 4,097 MB)" in run.stderr
    assert run.peak_mb < 600


def test_more_lines_than_the_bound_are_refused_naming_the_variable(
    owner: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PRICING_MAX_DEAL_LINES", "1000")
    path = deals_csv(tmp_path, good_lines(1001))
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "deals.csv: over the limit of 1,000 lines" in result.stderr
    assert "PRICING_MAX_DEAL_LINES" in result.stderr
    assert nothing_stored(owner)
    assert owner("deals", "import", str(deals_csv(tmp_path, good_lines(1000)))).exit_code == 0


def test_more_columns_than_a_sheet_has_are_refused(owner: Cli, tmp_path: Path) -> None:
    wide = HEADER + "," * COLUMNS.value
    path = tmp_path / "deals.csv"
    path.write_text(wide + "\n" + "\n".join(good_lines(2)) + "\n")
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2, result.output
    assert "deals.csv line 1: over the limit of 16,384 columns" in result.stderr
    assert nothing_stored(owner)


# Problems, counted -------------------------------------------------------------------------------


def test_a_problem_on_every_line_is_listed_a_few_times_and_counted(
    owner: Cli, tmp_path: Path
) -> None:
    """Given 100,000 lines each with a date that is not one and a quantity that is not a number
    (all different), when imported, then exit 2; each kind is listed 20 times with its lines,
    the text closes it with the count of the rest, and the JSON counts them all."""
    path = tmp_path / "deals.csv"
    with path.open("w") as out:
        out.write(HEADER + "\n")
        out.writelines(f"O-{i},someday,Acme,HW-100,x{i},110\n" for i in range(100_000))
    result = owner("deals", "import", str(path))
    assert result.exit_code == 2
    assert len(result.stderr.splitlines()) < 100
    assert "and 99,980 more like this" in result.stderr
    assert "nothing imported: 200,000 error(s)" in result.stderr
    refused = json.loads(owner("deals", "import", str(path), "--json").stdout)
    errors = [p for p in refused["problems"] if p["severity"] == "error"]
    assert len(errors) == 2 * PROBLEMS_PER_KIND
    counts = {
        c["message"]: c["count"] for c in refused["problem_counts"] if c["severity"] == "error"
    }
    assert counts["quantity is not a number"] == 100_000
    assert sum(counts.values()) == 200_000
    assert nothing_stored(owner)
