"""The library API: the operations a front end calls, used directly (no CLI, no click)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import pricing
from pricing import api
from pricing.errors import InputError
from pricing.requests import lifecycle
from pricing.requests.records import LineInput
from pricing.storage.store import Store
from tests.conftest import write_workbook
from tests.test_cli_requests import TEAM
from tests.test_policy import POLICY


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Store]:
    store = api.open_store(f"sqlite:///{tmp_path / 'pricing.db'}", create=True)
    yield store
    store.close()


def _book(tmp_path: Path, price: int = 120) -> Path:
    return write_workbook(
        tmp_path / f"book-{price}.xlsx",
        {
            "Price Book": [
                ["SKU", "Family", "List Price", "Unit Cost"],
                ["HW-100", "Hardware", price, 70],
                ["SV-1", "Services", 100, 60],
            ],
            "Tiers": [["SKU", "Min Qty", "Price"], ["HW-100", 50, 114]],
        },
    )


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert pricing.__all__ == sorted(pricing.__all__)
    for name in pricing.__all__:
        assert getattr(pricing, name) is not None, name


def test_import__the_marketer_imports_a_workbook_and_the_edition_exists(
    db: Store, tmp_path: Path
) -> None:
    result = api.import_price_book(db, _book(tmp_path), effective_from=date(2026, 1, 1), user="mia")
    assert not result.failed and result.edition == 1 and result.items == 2 and result.tiers == 1

    listing = api.list_editions(db, on=date(2026, 6, 1))
    assert [e.number for e in listing.editions] == [1]
    assert listing.in_force is not None and listing.in_force.imported_by == "mia"
    shown = api.show_item(db, "HW-100", on=date(2026, 6, 1))
    assert shown.item.list_price == Decimal(120) and shown.item.currency == "USD"


def test_import__a_store_opener_is_called_only_for_a_readable_file(tmp_path: Path) -> None:
    opened: list[Store] = []

    def opener() -> Store:
        store = api.open_store(f"sqlite:///{tmp_path / 'p.db'}", create=True)
        opened.append(store)
        return store

    with pytest.raises(api.InputError):
        api.import_price_book(
            opener, tmp_path / "missing.xlsx", effective_from=date(2026, 1, 1), user="mia"
        )
    assert opened == []
    result = api.import_price_book(
        opener, _book(tmp_path), effective_from=date(2026, 1, 1), user="mia", dry_run=True
    )
    assert result.dry_run and result.edition is None and len(opened) == 1
    assert api.stored_counts(opened[0])["editions"] == 0
    opened[0].close()


def test_import__same_content_twice_makes_no_second_edition_and_diff_needs_two(
    db: Store, tmp_path: Path
) -> None:
    for _ in range(2):
        last = api.import_price_book(
            db, _book(tmp_path), effective_from=date(2026, 1, 1), user="mia"
        )
    assert last.unchanged and last.previous == 1
    with pytest.raises(pricing.NotFoundError, match="a diff needs two"):
        api.diff_editions(db)
    api.import_price_book(db, _book(tmp_path, 130), effective_from=date(2027, 1, 1), user="mia")
    compared = api.diff_editions(db)
    assert (compared.old.number, compared.new.number) == (1, 2)
    assert [c.new.sku for c in compared.diff.changed] == ["HW-100"]


def test_policy_and_request__a_rep_submits_and_a_manager_approves(
    db: Store, tmp_path: Path
) -> None:
    api.import_price_book(db, _book(tmp_path), effective_from=date(2026, 1, 1), user="mia")
    file = tmp_path / "guardrails.toml"
    file.write_text(POLICY + TEAM)
    parsed = api.check_policy(file)
    assert parsed.policy is not None and not parsed.problems
    version = api.load_policy(db, parsed, user="dana")
    assert api.show_policy(db).version == version.version == 1

    check = lifecycle.submit(
        db, customer="Acme", reason="bid", inputs=[LineInput("HW-100", 10, Decimal(110))],
        user="priya", check=True,
    )  # fmt: skip
    assert check.request is not None and check.request.id is None
    assert api.stored_counts(db)["requests"] == 0

    submitted = lifecycle.submit(
        db, customer="Acme", reason="bid", inputs=[LineInput("HW-100", 10, Decimal(100))],
        user="priya",
    )  # fmt: skip
    request = submitted.request
    assert request is not None and request.status == "pending"
    approved = lifecycle.approve(db, request.code, user="marco", note="ok")
    assert approved.status == "approved"
    assert [r.code for r in lifecycle.list_requests(db, status="approved")] == [request.code]
    assert api.verify_audit(db).intact


def test_errors_name_fields_not_flags(db: Store) -> None:
    with pytest.raises(InputError) as raised:
        lifecycle.submit(db, customer=" ", reason="r", inputs=[], user="priya")
    assert raised.value.field == "customer"
    assert str(raised.value) == "customer: name the customer the special price is for"
    assert raised.value.for_input("--customer").startswith("--customer: name the customer")
    with pytest.raises(InputError) as raised:
        lifecycle.list_requests(db, status="nope")
    assert raised.value.field == "status" and "--" not in str(raised.value)


def test_the_core_reads_the_environment_in_one_place() -> None:
    root = Path(pricing.__file__).parent
    readers = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "os.environ" in path.read_text() or "getenv" in path.read_text()
    )
    assert readers == ["config.py"]


def test_a_deals_file_without_a_header_stores_nothing_and_says_why(
    db: Store, tmp_path: Path
) -> None:
    """Given a csv with no recognisable header, when it is read and imported through the API,
    then the result carries the problem and the store holds no deal line."""
    junk = tmp_path / "junk.csv"
    junk.write_text("nothing,here\n1,2\n")
    read = api.read_deals(junk)
    assert read.lines is None and read.problems
    result = api.import_deals(db, read, user="olga")
    assert result.added == 0 and result.problems == read.problems
    assert api.stored_counts(db)["deal_lines"] == 0
