"""The price book's and the policy's methods answer typed results whose JSON is ``--json``.

Each method of :class:`pricing.Pricing` for the marketer's commands (import, show, editions,
diff, export) and the owner's check, load and show returns a pydantic model; its
``model_dump(mode="json")`` is what ``pricing --json COMMAND`` prints, byte for byte, and a
client validates the server's answer back into the same model (the same values).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import pricing
from pricing.documents import dumps
from pricing.results import policy as guardrails
from pricing.results import pricebook as book
from tests.conftest import Cli, write_workbook
from tests.serving import serving
from tests.test_cli_deals_report import deals_csv


@pytest.fixture
def cli(sqlite_url: str) -> Iterator[Cli]:
    """One database engine is enough here: the results do not depend on it."""
    runner = Cli(sqlite_url)
    yield runner
    runner.close()


def printed(cli: Cli, *args: str, expect: int = 0, user: str | None = None) -> str:
    result = cli(*args, "--json", user=user)
    assert result.exit_code == expect, result.output
    return result.stdout


def as_printed(result: BaseModel | list[Any]) -> str:
    return dumps(result) + "\n"


def answered(method: Any, result: BaseModel | list[Any]) -> Any:
    """``result`` as a client gets it: its JSON validated into the method's return type."""
    text = json.loads(dumps(result))
    return method.operation.answer(text)


def _a_year_of_sales_and_a_third_edition(owner: Cli, tmp_path: Path) -> Path:
    """2026 sales under edition 2, an approval at rep authority, and edition 3 (HW-100 up
    10 %, SV-1 dropped, NEW-1 added): every part of a diff's impact has something in it."""
    sold = "Deal,Date,SKU,Qty,Net Price\nA,2026-02-01,HW-100,10,125\nB,2026-03-01,SV-1,2.5,100\n"
    assert owner("deals", "import", str(deals_csv(tmp_path, sold))).exit_code == 0
    asked = owner("request", "--customer", "Acme", "--reason", "x", "HW-100", "--qty", "1",
                  "--price", "127.40", "--json", user="priya")  # fmt: skip
    assert '"status": "approved"' in asked.stdout
    v3 = write_workbook(tmp_path / "v3.xlsx", {
        "Price Book": [["SKU", "Name", "Family", "List Price", "Unit Cost", "Status"],
                       ["HW-100", "Router", "Hardware", 143, 70, "active"],
                       ["NEW-1", "Widget", "Hardware", 10, 5, None]],
        "Tiers": [["Family", "Min Qty", "Discount %"], ["Hardware", 10, 5]],
    })  # fmt: skip
    return v3


def test_price_book_methods__model_dump_is_the_clis_json(owner: Cli, tmp_path: Path) -> None:
    v3 = _a_year_of_sales_and_a_third_edition(owner, tmp_path)
    exported = tmp_path / "clean.xlsx"
    broken = tmp_path / "broken.csv"
    broken.write_text("SKU,List Price\nHW-100,abc\nHW-100,12\n")
    with pricing.open(owner.db_url, user="mia") as p:
        imported = p.import_price_book(v3, effective="2027-01-01")
        assert isinstance(imported, book.PriceBookImport) and imported.edition == 3
        cases: list[tuple[Any, BaseModel | list[Any], list[str], int]] = [
            (p.price_book, p.price_book(), ["pricebook", "show"], 0),
            (p.price_book, p.price_book(sku="HW-100", as_of="2027-02-01"),
             ["pricebook", "show", "HW-100", "--as-of", "2027-02-01"], 0),
            (p.price_book, p.price_book(sku="hw", family="hardware"),
             ["pricebook", "show", "hw", "--family", "hardware"], 0),
            (p.editions, p.editions(), ["pricebook", "editions"], 0),
            (p.diff, p.diff(), ["pricebook", "diff"], 0),
            (p.diff, p.diff(old=1, new=3, changed_only=True, sort="move"),
             ["pricebook", "diff", "1", "3", "--changed-only", "--sort", "move"], 0),
            (p.diff, p.diff(old=2, new=3, impact=True, start="2026-01-01", end="2026-12-31"),
             ["pricebook", "diff", "2", "3", "--impact", "--from", "2026-01-01", "--to",
              "2026-12-31"], 0),
            (p.export_price_book, p.export_price_book(exported, edition=3),
             ["pricebook", "export", str(exported), "--edition", "3"], 0),
            (p.import_price_book, p.import_price_book(v3, effective="2028-01-01", dry_run=True),
             ["pricebook", "import", str(v3), "--effective", "2028-01-01", "--dry-run"], 0),
            (p.import_price_book, p.import_price_book(broken, currency="USD"),
             ["pricebook", "import", str(broken), "--currency", "USD"], 2),
        ]  # fmt: skip
    kinds = set()
    for method, result, command, code in cases:
        assert printed(owner, *command, expect=code) == as_printed(result), command
        again = answered(method, result)
        assert type(again) is type(result) and again == result, command
        kinds.add(type(result[0] if isinstance(result, list) else result))
    assert {book.Item, book.PriceBookView, book.EditionListed, book.PriceBookDiff,
            book.PriceBookImpact, book.PriceBookExport, book.PriceBookImport} <= kinds  # fmt: skip
    impact = next(r for _, r, _, _ in cases if isinstance(r, book.PriceBookImpact)).impact
    assert impact.requests_affected and impact.removed.lines == 1
    assert impact.removed.quantity == Decimal("2.5")  # a quantity that is not whole


def test_policy_methods__model_dump_is_the_clis_json(owner: Cli, tmp_path: Path) -> None:
    from tests.test_policy import POLICY

    loaded = tmp_path / "g.toml"  # what the owner fixture loaded: loading it again is a no-op
    invalid = tmp_path / "bad.toml"
    invalid.write_text(POLICY.replace("levels = [", "levels = 7\nx = [", 1))
    with pricing.open(owner.db_url, user="dana") as p:
        cases: list[tuple[Any, BaseModel, list[str], int]] = [
            (p.check_policy, p.check_policy(loaded), ["policy", "check", str(loaded)], 0),
            (p.check_policy, p.check_policy(invalid), ["policy", "check", str(invalid)], 2),
            (p.load_policy, p.load_policy(invalid), ["policy", "load", str(invalid)], 2),
            (p.load_policy, p.load_policy(loaded), ["policy", "load", str(loaded)], 0),
            (p.policy, p.policy(), ["policy", "show"], 0),
            (p.policy, p.policy(version=1), ["policy", "show", "--version", "1"], 0),
        ]  # fmt: skip
    for method, result, command, code in cases:
        assert printed(owner, *command, expect=code, user="dana") == as_printed(result), command
        again = answered(method, result)
        assert type(again) is type(result) and again == result, command
    kinds = [type(r) for _, r, _, _ in cases]
    assert kinds[:4] == [guardrails.ValidPolicy, guardrails.PolicyCheck,
                         guardrails.PolicyLoadRefused, guardrails.PolicyLoaded]  # fmt: skip
    shown = cases[4][1]
    assert isinstance(shown, guardrails.PolicyVersionShown)
    assert shown.policy.as_policy().limits == shown.policy.limits  # amounts as Decimals
    unchanged = cases[3][1]
    assert isinstance(unchanged, guardrails.PolicyLoaded) and unchanged.unchanged


def test_a_client_gets_the_same_models_from_the_server(tmp_path: Path) -> None:
    """Through a real server, the price book's and the policy's methods answer the same types
    and values as embedded (the server's paths become the names the client gave)."""
    from tests.test_cli_requests import TEAM
    from tests.test_policy import POLICY

    url = f"sqlite:///{tmp_path / 'pricing.db'}"
    admin = Cli(url, user="dana")
    token = admin.json("people", "add", "dana", "--role", "owner")["token"]
    v1 = write_workbook(tmp_path / "v1.xlsx", {
        "Price Book": [["SKU", "Family", "List Price", "Unit Cost"], ["HW-100", "Hardware", 120, 70],
                       ["SV-1", "Services", 100, 60]],
        "Tiers": [["SKU", "Min Qty", "Price"], ["HW-100", 50, 114]],
    })  # fmt: skip
    v2 = write_workbook(tmp_path / "v2.xlsx", {
        "Price Book": [["SKU", "Family", "List Price"], ["HW-100", "Hardware", 130]],
    })  # fmt: skip
    guardrails_file = tmp_path / "guardrails.toml"
    guardrails_file.write_text(POLICY + TEAM)
    admin.json("pricebook", "import", str(v1), "--effective", "2025-01-01")
    admin.json("pricebook", "import", str(v2), "--effective", "2026-01-01")
    admin.json("policy", "load", str(guardrails_file))

    def calls(p: pricing.Pricing, out: Path) -> list[Any]:
        return [
            p.import_price_book(v1, effective="2027-01-01", dry_run=True),
            p.price_book(),
            p.price_book(sku="HW-100", as_of="2025-06-01"),
            p.editions(),
            p.diff(),
            p.diff(old=1, new=2, impact=True),
            p.export_price_book(out, edition=1),
            p.check_policy(guardrails_file),
            p.load_policy(guardrails_file),
            p.policy(),
        ]

    with pricing.open(url, user="dana") as p:
        embedded = calls(p, tmp_path / "embedded.xlsx")
    (tmp_path / "client").mkdir()
    with serving(url, tmp_path) as address, pricing.open(address, token=token) as p:
        client = calls(p, tmp_path / "client" / "embedded.xlsx")
    admin.close()
    for here, there in zip(embedded, client, strict=True):
        assert type(there) is type(here)
        if isinstance(here, book.PriceBookExport):
            assert (there.file, here.file) == (
                str(tmp_path / "client" / "embedded.xlsx"),
                str(tmp_path / "embedded.xlsx"),
            )
            assert there.model_copy(update={"file": here.file}) == here
        else:
            assert there == here, type(here)
    assert (tmp_path / "client" / "embedded.xlsx").exists()
