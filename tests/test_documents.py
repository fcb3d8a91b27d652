"""One JSON document per result, in the core: what ``--json`` prints is ``pricing.documents``.

A server answers with the same documents without importing the CLI; these tests compare the
CLI's ``--json`` text with ``documents.dumps(documents.X(api call))``, byte for byte.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import pricing
from pricing import api, config, documents
from pricing.analysis.report import parse_by
from pricing.analysis.report_files import write
from pricing.analysis.report_judged import unjudged
from pricing.requests import lifecycle, quoting
from pricing.requests.records import LineInput
from pricing.results import policy as guardrails
from pricing.results import pricebook as book
from pricing.results.deals import DealsImported, DealsRefused
from pricing.results.report import DriftReport
from pricing.results.requests import QuoteResult, RequestRefused, RequestResult, RequestShown
from pricing.results.simulation import PolicySimulation
from tests.conftest import Cli, write_workbook

ROOT = Path(pricing.__file__).parent


@pytest.fixture
def cli(sqlite_url: str) -> Iterator[Cli]:
    """One database engine is enough here: the documents do not depend on it."""
    runner = Cli(sqlite_url)
    yield runner
    runner.close()


def printed(cli: Cli, *args: str, user: str | None = None, expect: int = 0) -> str:
    result = cli(*args, "--json", user=user)
    assert result.exit_code == expect, result.output
    return result.stdout


def as_printed(document: object) -> str:
    return documents.dumps(document) + "\n"


def test_request_documents_are_the_cores(sales: Cli) -> None:
    submitted = printed(
        sales, "request", "--customer", "Acme", "--reason", "bid", "HW-100", "--qty", "10",
        "--price", "100", user="priya",
    )  # fmt: skip
    code = json.loads(submitted)["id"]
    db = sales.store()
    assert submitted == as_printed(RequestResult.of(lifecycle.get(db, code)))
    assert printed(sales, "requests", "show", code) == as_printed(
        RequestShown.of(lifecycle.get(db, code))
    )
    approved = printed(sales, "approve", code, "--note", "ok", user="marco")
    assert approved == as_printed(RequestResult.of(lifecycle.get(db, code)))
    assert printed(sales, "requests") == as_printed(
        [RequestResult.of(r) for r in lifecycle.list_requests(db)]
    )
    assert printed(sales, "quote", "HW-100", "--qty", "60", "--customer", "Acme") == as_printed(
        QuoteResult.of(quoting.quote(db, "HW-100", 60), "Acme")
    )


def test_a_refused_request_is_the_cores_refusal(sales: Cli) -> None:
    out = printed(
        sales, "request", "--customer", "Acme", "--reason", "bid", "NOPE-1", "--qty", "1",
        "--price", "1", user="priya", expect=2,
    )  # fmt: skip
    refused = lifecycle.submit(
        sales.store(), customer="Acme", reason="bid", user="priya", check=True,
        inputs=[LineInput("NOPE-1", 1, Decimal(1))],
    )  # fmt: skip
    assert refused.request is None and refused.problems
    assert out == as_printed(RequestRefused.of(refused.problems))


def test_price_book_and_policy_documents_are_the_cores(owner: Cli, tmp_path: Path) -> None:
    db = owner.store()
    on = date.today()
    assert printed(owner, "pricebook", "show") == as_printed(
        book.PriceBookView.of(api.show_price_book(db, on=on))
    )
    shown = api.show_item(db, "HW-100", on=date(2025, 6, 1))
    assert printed(owner, "pricebook", "show", "HW-100", "--as-of", "2025-06-01") == as_printed(
        book.Item.of(shown.edition, shown.item, shown.book)
    )
    assert printed(owner, "pricebook", "editions") == as_printed(
        book.EditionListed.listing(api.list_editions(db, on=on))
    )
    assert printed(owner, "pricebook", "diff") == as_printed(
        book.PriceBookDiff.of(api.diff_editions(db))
    )
    assert printed(owner, "pricebook", "diff", "--impact") == as_printed(
        book.PriceBookDiff.of(api.diff_editions(db, impact=True))
    )
    assert printed(owner, "policy", "show") == as_printed(
        guardrails.PolicyVersionShown.of(api.show_policy(db))
    )
    loaded = json.loads(printed(owner, "policy", "show"))
    assert loaded["version"] == 1 and loaded["policy"]["currency"]

    workbook = write_workbook(
        tmp_path / "v3.xlsx",
        {"Price Book": [["SKU", "Nimi", "Hinta"], ["HW-100", "Router", 140], ["NEW-1", "X", 5]]},
    )
    pairs = ["name=Nimi", "list_price=Hinta"]
    out = printed(
        owner, "pricebook", "import", str(workbook), "--effective", "2027-01-01", "--dry-run",
        "--column", pairs[0], "--column", pairs[1],
    )  # fmt: skip
    columns = api.column_overrides(pairs, kind="pricebook")
    dry = api.import_price_book(
        db, workbook, effective_from=date(2027, 1, 1), user="mia", dry_run=True, columns=columns
    )
    assert out == as_printed(book.PriceBookImport.of(dry))
    exported = tmp_path / "clean.xlsx"
    assert printed(owner, "pricebook", "export", str(exported)) == as_printed(
        book.PriceBookExport.of(api.export_price_book(db, exported, on=on))
    )


def test_a_loaded_policy_is_the_cores_version_document(cli: Cli, tmp_path: Path) -> None:
    from tests.test_cli_requests import TEAM
    from tests.test_policy import POLICY

    file = tmp_path / "g.toml"
    file.write_text(POLICY + TEAM)
    out = printed(cli, "policy", "load", str(file), user="dana")
    db = cli.store()
    assert out == as_printed(guardrails.PolicyLoaded.of(api.show_policy(db, 1), unjudged(db)))
    assert printed(cli, "policy", "check", str(file)) == as_printed(
        guardrails.PolicyCheck.of(api.check_policy(file))
    )


def test_deals_import_documents_are_the_cores(owner: Cli, tmp_path: Path) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Sales\n"
        "D1,2026-02-01,Acme,priya,HW-100,10,1200\n"
        "D2,2026-02-02,Acme,priya,GONE-9,0,0\n"
    )
    read = api.read_deals(deals)
    dry = api.import_deals(owner.store(), read, user="mia", dry_run=True)
    assert printed(owner, "deals", "import", str(deals), "--dry-run") == as_printed(
        DealsImported.of(read, dry, dry_run=True)
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("Order ID,Order Date,Customer,SKU,Quantity,Sales\nD1,not a date,A,HW-100,1,9\n")
    refused = api.read_deals(bad)
    assert any(p.severity == "error" for p in refused.problems)
    assert printed(owner, "deals", "import", str(bad), expect=2) == as_printed(
        DealsRefused.of(refused)
    )


def test_the_cli_builds_no_document_of_its_own() -> None:
    """Problems, money and dates become JSON in pricing.documents only."""
    for path in sorted((ROOT / "cli").glob("*.py")):
        text = path.read_text()
        assert ".as_dict()" not in text, path.name
        assert "format_pct" not in text and "format_money" not in text, path.name
        assert not re.search(r"def \w*document\w*\(", text), path.name
        assert not re.search(r"emit_json\(\s*[\[{]", text), path.name  # a literal document


def test_documents_and_the_api_load_without_the_cli() -> None:
    """A server imports the API and the documents: neither may pull in click or pricing.cli."""
    code = (
        "import sys, pricing.api, pricing.documents; "
        "assert not [m for m in sys.modules if m == 'click' or m.startswith('pricing.cli')]"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_column_overrides_and_breakdowns_go_through_the_api() -> None:
    assert api.column_overrides(["sku=Numero"], kind="pricebook") == {"sku": "Numero"}
    assert api.column_overrides(["qty=bottles_sold"], kind="deals") == {"qty": "bottles_sold"}
    with pytest.raises(api.InputError) as raised:
        api.column_overrides(["qty=bottles_sold"], kind="pricebook")
    assert raised.value.field == "columns"
    assert parse_by("rep,family") == ["rep", "family"]
    with pytest.raises(api.InputError) as raised:
        parse_by("planet")
    assert raised.value.field == "by"


def test_report_and_simulation_files_are_written_through_the_api(
    owner: Cli, tmp_path: Path
) -> None:
    db = owner.store()
    report = api.build_report(db)
    write(report, tmp_path / "drift.json")
    assert json.loads((tmp_path / "drift.json").read_text()) == json.loads(
        documents.dumps(DriftReport.of(report))
    )
    proposed = api.show_policy(db).policy
    simulation = api.simulate_policy(db, proposed)
    api.write_simulation(simulation, tmp_path / "what-if.json", currency=proposed.currency)
    assert json.loads((tmp_path / "what-if.json").read_text()) == json.loads(
        documents.dumps(PolicySimulation.of(simulation, proposed.currency))
    )


def test_the_acting_user_is_configuration_not_storage(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PRICING_USER", "olga")
    assert config.acting_user() == "olga" and config.acting_user("dana") == "dana"
    monkeypatch.delenv("PRICING_USER")
    assert config.acting_user()  # the login name, else "unknown"
    storage = "".join(p.read_text() for p in (ROOT / "storage").rglob("*.py"))
    assert "getpass" not in storage and "config.user" not in storage
