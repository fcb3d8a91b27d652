"""The requests methods answer typed results: what ``pricing.open(...).quote(...)`` returns is
a model whose JSON is what ``pricing --json quote`` prints, byte for byte, and a client reads
that JSON back into the same model (the union of ``request`` into the right one of its three).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest

import pricing
from pricing import documents
from pricing.operations import find
from pricing.results.requests import (
    LinesFileRefused,
    QuoteResult,
    RequestRefused,
    RequestResult,
    RequestShown,
)
from tests.conftest import Cli
from tests.test_quote_guidance import import_sales


@pytest.fixture
def cli(sqlite_url: str) -> Iterator[Cli]:
    """One database engine is enough here: the results do not depend on it."""
    runner = Cli(sqlite_url)
    yield runner
    runner.close()


def printed(cli: Cli, *args: str, user: str | None = None, expect: int = 0) -> str:
    """What ``pricing --json ARGS`` prints on stdout (its exit code checked)."""
    result = cli(*args, "--json", user=user)
    assert result.exit_code == expect, result.output
    return result.stdout


def as_printed(result: object) -> str:
    """A typed result (or a list of them) as ``--json`` prints it: its ``model_dump(mode="json")``."""
    return documents.dumps(result) + "\n"


def read_back(name: str, result: object) -> object:
    """What a client makes of the server's JSON answer for operation ``name``."""
    return find(name).answer(json.loads(documents.dumps(result)))


ASK = ("request", "--customer", "Acme", "--reason", "bid")


def test_quote_request_and_refusals_are_models_printed_as_the_cli_prints(
    sales: Cli, tmp_path: Path
) -> None:
    import_sales(sales, tmp_path, [("SV-1", 1, p) for p in ("100", "98", "96", "95", "94")])
    bad = tmp_path / "lines.csv"
    bad.write_text("SKU,Qty,Price\nHW-100,many,1\n")
    with pricing.open(sales.db_url, user="priya") as p:
        quote = p.quote(sku="SV-1", qty=1, customer="Acme")
        submitted = p.request(
            customer="Acme", reason="bid", lines=[{"sku": "HW-100", "qty": 10, "price": "100"}]
        )
        refused = p.request(
            customer="Acme", reason="bid", lines=[{"sku": "NOPE-1", "qty": 1, "price": "1"}]
        )
        file_refused = p.request(customer="Acme", reason="bid", lines_file=bad)
        assert isinstance(submitted, RequestResult) and submitted.id is not None
        shown = p.show_request(ident=submitted.id)
        listed = p.requests()
    assert isinstance(quote, QuoteResult) and quote.guidance is not None
    assert (quote.list_price, quote.standard_price, quote.currency) == (
        Decimal("100.00"), Decimal("100.00"), "USD",
    )  # fmt: skip
    assert quote.guidance.deals == 5 and quote.guidance.discount_median == Decimal("4.00")
    assert as_printed(quote) == printed(sales, "quote", "SV-1", "--qty", "1", "--customer", "Acme")

    assert type(shown) is RequestShown and shown.events[0].by == "priya"
    assert as_printed(shown) == printed(sales, "requests", "show", submitted.id)
    assert submitted.model_dump() == shown.model_dump(exclude={"events"})
    assert submitted.lines[0].price == Decimal("100.00") and submitted.status == "pending"
    assert as_printed(listed) == printed(sales, "requests", user="priya")

    assert type(refused) is RequestRefused and refused.id is None and refused.problems
    assert as_printed(refused) == printed(
        sales, *ASK, "NOPE-1", "--qty", "1", "--price", "1", user="priya", expect=2
    )
    assert type(file_refused) is LinesFileRefused and file_refused.file == "lines.csv"
    assert as_printed(file_refused) == printed(
        sales, *ASK, "--file", str(bad), user="priya", expect=2
    )

    with pricing.open(sales.db_url, user="marco") as p:
        approved = p.approve(ident=submitted.id, note="ok")
    assert type(approved) is RequestResult and approved.status == "approved"
    assert approved.decided_by == "marco" and approved.expires_at is not None
    shown_now = json.loads(printed(sales, "requests", "show", submitted.id))
    del shown_now["events"]
    assert approved.model_dump(mode="json") == shown_now

    # A client validates the server's JSON into the model the method returns here.
    for name, result in [
        ("requests.quote", quote),
        ("requests.submit", submitted),
        ("requests.submit", refused),
        ("requests.submit", file_refused),
        ("requests.show", shown),
        ("requests.approve", approved),
    ]:
        back = read_back(name, result)
        assert type(back) is type(result) and back == result, name
    assert read_back("requests.list", listed) == listed
    assert all(type(r) is RequestResult for r in listed)
    assert read_back("requests.list", []) == []


def test_a_requests_status_is_one_of_the_lifecycles() -> None:
    from typing import get_args

    from pricing.requests.records import STATUSES
    from pricing.results.requests import Status

    assert get_args(Status) == STATUSES


def test_a_contracts_state_is_one_the_result_declares() -> None:
    """Given a contract of each status, before, during and after its period, when the
    contracts' listing names its state, then the result's ContractState has that name."""
    from datetime import date
    from types import SimpleNamespace
    from typing import get_args

    from pricing.requests import ContractState
    from pricing.requests.contracts import _state
    from pricing.requests.records import STATUSES

    terms = SimpleNamespace(starts=date(2026, 3, 1), ends=date(2026, 3, 31))
    named = {
        _state(SimpleNamespace(status=status, contract=terms), today)  # type: ignore[arg-type]
        for status in STATUSES
        for today in (date(2026, 2, 1), date(2026, 3, 1), date(2026, 3, 31), date(2026, 4, 1))
    }
    assert named == set(get_args(ContractState))
