"""`make demo` runs the whole story on sample_data; the sample files are what the script makes."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from openpyxl import load_workbook

from pricing.cli import main
from pricing.pricebook.file import read_price_book
from tests.conftest import SAMPLE_DATA


def test_demo_runs_the_story_end_to_end(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["demo", "--dir", str(tmp_path / "demo")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "Imported edition 1" in result.stdout
    assert "Imported edition 2" in result.stdout
    assert "Unchanged:" in result.stdout
    assert (tmp_path / "demo" / "price-book-export.xlsx").exists()
    assert (tmp_path / "demo" / "report.xlsx").exists() and (
        tmp_path / "demo" / "report.html"
    ).exists()
    by_month = load_workbook(tmp_path / "demo" / "report.xlsx")["By month"]
    months = [row[0] for row in by_month.iter_rows(min_row=2, values_only=True) if row[0]]
    assert len(months) >= 22 and months == sorted(months)  # the realization chart runs in time
    assert "Request R-000001 for Acme Corp: approved." in result.stdout
    assert "Request R-000003 for Globex: REJECTED." in result.stdout
    assert "nobody decides their own request" in result.stderr
    assert "R-000004 needs owner or above; marco is manager" in result.stderr
    from pricing.requests import lifecycle as requests
    from pricing.storage.store import Store

    listed = requests.list_requests(Store.open(f"sqlite:///{tmp_path / 'demo' / 'pricing.db'}"))
    assert [r.status for r in listed] == ["won", "lost", "rejected", "rejected"]
    assert [r.decided_by for r in listed] == ["system", "marco", "system", "dana"]


def test_sample_price_books_look_like_a_marketers_and_import_cleanly() -> None:
    for name, skus in (("price-book-2025.xlsx", 134), ("price-book-2026.xlsx", 135)):
        read = read_price_book(SAMPLE_DATA / name)
        assert read.book is not None
        assert not [p for p in read.problems if p.severity == "error"]
        assert len(read.book.items) == skus
        families = {item.family for item in read.book.items.values()}
        assert families == {"Hardware", "Accessories", "Software", "Support", "Services"}
        assert all(item.unit_cost is not None for item in read.book.items.values())
        assert len(read.book.tiers) >= 5
        sheet = load_workbook(SAMPLE_DATA / name)["Price Book"]
        assert sheet["A1"].value.startswith("Brightline Systems")
        first_item = next(row for row in sheet.iter_rows() if str(row[0].value).startswith("HW-"))
        assert first_item[2].number_format.startswith('"$"')


def test_the_demo_runs_twice_in_one_folder(tmp_path: Path) -> None:
    """`make demo` run again (the database recreated at the same path, one configuration
    folder and so one audit witness): both runs succeed, and the second store's audit is
    intact (the first store's witnessed heads are another store's)."""
    for _ in range(2):
        result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "demo")])
        assert result.exit_code == 0, result.output
    url = f"sqlite:///{tmp_path / 'demo' / 'pricing.db'}"
    verified = CliRunner().invoke(main, ["--db", url, "audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "The audit is intact" in verified.stdout and "1 earlier database" in verified.stdout
