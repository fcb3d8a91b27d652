"""Trying a file never starts a database: dry runs, checks and reads leave no pricing.db behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli, write_workbook

BOOK = [["SKU", "Family", "List Price", "Unit Cost"], ["HW-100", "Hardware", 120, 70],
        ["SV-1", "Services", 100, 60]]  # fmt: skip
DEALS = (
    "Order ID,Order Date,Customer,Salesperson,SKU,Qty,Net Price\n"
    "SO-1,2026-03-02,Acme,ann,HW-100,2,110\n"
    "SO-1,2026-03-02,Acme,ann,SV-1,1,100\n"
    "SO-2,2026-03-03,Globex,bob,HW-999,1,50\n"
)


def _files(tmp_path: Path) -> tuple[Path, Path]:
    book = write_workbook(tmp_path / "book.xlsx", {"Price Book": BOOK})
    deals = tmp_path / "deals.csv"
    deals.write_text(DEALS, encoding="utf-8")
    return book, deals


def _dry_runs(cli: Cli, book: Path, deals: Path) -> list[str]:
    """The dry runs' answers, as JSON and as people read them."""
    runs = [
        ("pricebook", "import", str(book), "--effective", "2026-01-01", "--dry-run"),
        ("deals", "import", str(deals), "--dry-run"),
    ]
    answers = []
    for args in runs:
        for extra in ((), ("--json",)):
            result = cli(*args, *extra)
            assert result.exit_code == 0, result.output
            answers.append(result.stdout)
    return answers


def test_dry_runs__on_a_missing_database_create_no_file_and_answer_as_on_a_new_one(
    tmp_path: Path,
) -> None:
    """Given no pricing.db yet, when the marketer tries her price book and the owner his deals
    export with --dry-run, then no database file exists afterwards (it used to be a 1.8 MB
    one), and each answers exactly as on a new, empty database: every item added, every line
    new."""
    book, deals = _files(tmp_path)
    missing = tmp_path / "missing" / "pricing.db"
    missing.parent.mkdir()
    answers = _dry_runs(Cli(f"sqlite:///{missing}"), book, deals)
    assert list(missing.parent.iterdir()) == []
    priced = json.loads(answers[1])
    assert (priced["edition"], priced["added"], priced["items"]) == (None, 2, 2)
    lines = json.loads(answers[3])
    assert (lines["lines"], lines["added"], lines["already_present"]) == (3, 3, 0)

    touched = tmp_path / "touched" / "pricing.db"  # an empty file (`touch pricing.db`)
    touched.parent.mkdir()
    touched.touch()
    assert _dry_runs(Cli(f"sqlite:///{touched}"), book, deals) == answers
    assert [(p.name, p.stat().st_size) for p in touched.parent.iterdir()] == [("pricing.db", 0)]

    empty = tmp_path / "empty" / "pricing.db"
    empty.parent.mkdir()
    fresh = Cli(f"sqlite:///{empty}")
    assert fresh("db", "upgrade").exit_code == 0  # a database with nothing in it yet
    assert _dry_runs(fresh, book, deals) == answers
    assert fresh.json("pricebook", "editions") == []


def test_dry_runs__on_a_stored_database_still_compare_with_what_it_holds(
    cli: Cli, tmp_path: Path
) -> None:
    """Given a database holding the book and the deals, a dry run of the same files reads the
    stored ones (nothing new, every line already present), not an empty database."""
    book, deals = _files(tmp_path)
    assert cli("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    assert cli("deals", "import", str(deals)).exit_code == 0
    again = cli.json("deals", "import", str(deals), "--dry-run")
    assert (again["already_imported_as"], again["added"], again["already_present"]) == (1, 0, 3)
    tried = cli.json("pricebook", "import", str(book), "--effective", "2026-01-01", "--dry-run")
    assert tried["unchanged"] is True and tried["added"] == 0


def test_dry_runs__on_a_postgresql_database_without_tables_create_none(
    empty_postgres_url: str, tmp_path: Path
) -> None:
    """Given a team's PostgreSQL database where pricing has stored nothing yet, dry runs answer
    as on a new store and leave it without a single table."""
    from sqlalchemy import inspect

    from pricing.storage.store import Store

    book, deals = _files(tmp_path)
    answers = _dry_runs(Cli(empty_postgres_url), book, deals)
    assert json.loads(answers[3])["added"] == 3
    store = Store.connect(empty_postgres_url, create=False)
    try:
        with store.engine.connect() as conn:
            assert inspect(conn).get_table_names() == []
    finally:
        store.close()


# Commands that only read, or check a request without storing it.
READS = [
    ("report",), ("pricebook", "show"), ("pricebook", "show", "HW-100"), ("pricebook", "editions"),
    ("quote", "HW-100", "--qty", "1"), ("requests",),
    ("request", "--customer", "Acme", "--reason", "x", "HW-100", "--qty", "1", "--price", "99",
     "--check"),
    ("policy", "show"), ("people", "list"), ("deals", "imports"),
]  # fmt: skip


@pytest.mark.parametrize("args", READS, ids=lambda args: " ".join(args[:2]))
def test_reads_and_checks__on_a_missing_database_create_no_file(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    """Given no pricing.db here, a command that only reads (or checks a request) says there is
    no database there (exit 2, naming the file and how to start one) and leaves none behind."""
    missing = tmp_path / "pricing.db"
    result = Cli(f"sqlite:///{missing}")(*args)
    assert result.exit_code == 2, result.output
    assert f"no database at {missing}" in result.stderr
    assert "pricing pricebook import FILE" in result.stderr
    assert list(tmp_path.iterdir()) == []
