"""Library callers get the answers the CLI's flags give: lines are checked in the core."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import pricing
from pricing import api
from pricing.requests import lifecycle
from pricing.requests.records import LineInput
from pricing.storage.store import Store
from tests.test_api import _book
from tests.test_cli_requests import TEAM
from tests.test_policy import POLICY


@pytest.fixture
def stocked(tmp_path: Path) -> Iterator[Store]:
    """A store with a price book and a policy whose team has a rep and a manager."""
    db = api.open_store(f"sqlite:///{tmp_path / 'pricing.db'}", create=True)
    api.import_price_book(db, _book(tmp_path), effective_from=date(2026, 1, 1), user="mia")
    policy = tmp_path / "guardrails.toml"
    policy.write_text(POLICY + TEAM)
    api.load_policy(db, api.check_policy(policy), user="dana")
    yield db
    db.close()


@pytest.mark.parametrize(
    ("line", "says"),
    [
        (LineInput("HW-100", 0, Decimal(100)), "quantity must be a whole number of 1"),
        (LineInput("HW-100", -3, Decimal(100)), "quantity must be a whole number of 1"),
        (LineInput("HW-100", 2, Decimal(100), Decimal(5)), "either a price or a discount"),
        (LineInput("HW-100", 2), "either a price or a discount"),
        (LineInput("HW-100", 2, 99.5), "exact decimal number"),  # type: ignore[arg-type]
        # -50 % was approved at 343.50, above the standard price, where the CLI refused it
        (LineInput("HW-100", 3, None, Decimal(-50)), "a discount must be from 0 to below"),
        (LineInput("HW-100", 3, None, Decimal(100)), "a discount must be from 0 to below"),
        (LineInput("HW-100", 3, Decimal(0)), "the special price must be above zero"),
        (LineInput("HW-100", 3, Decimal(-5)), "the special price must be above zero"),
    ],
)
def test_a_line_given_wrong_is_a_problem_and_nothing_is_stored(
    stocked: Store, line: LineInput, says: str
) -> None:
    """Given a rep's line that the CLI's flags would never let through, when it is submitted
    through the library, then it is refused as a problem and no request exists."""
    result = lifecycle.submit(stocked, customer="Acme", reason="bid", inputs=[line], user="priya")
    assert result.request is None
    assert [p.severity for p in result.problems] == ["error"]
    assert says in result.problems[0].message
    assert api.stored_counts(stocked)["requests"] == 0


def test_a_request_is_found_by_its_number_or_its_code(stocked: Store) -> None:
    submitted = lifecycle.submit(
        stocked, customer="Acme", reason="bid", user="priya",
        inputs=[LineInput("HW-100", 10, Decimal(100))],
    )  # fmt: skip
    assert submitted.request is not None and submitted.request.id is not None
    by_number = lifecycle.get(stocked, submitted.request.id)  # type: ignore[arg-type]
    assert by_number.code == submitted.request.code == lifecycle.get(stocked, "1").code


def test_an_invalid_policy_file_is_refused_not_asserted(stocked: Store, tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('currency = "USD"\nlevels = ["rep"]\n[limits]\nrep = "lots"\n')
    parsed = api.check_policy(broken)
    assert parsed.policy is None
    with pytest.raises(api.InputError, match="the policy has errors"):
        api.load_policy(stocked, parsed, user="dana")


def test_paths_may_be_text_views_default_to_today_and_breakdowns_are_checked(
    stocked: Store, tmp_path: Path
) -> None:
    """A script passes a path as text, asks for today's book without a date, and gets an
    InputError on the field ``by`` for a breakdown the report does not have."""
    assert api.check_policy(str(tmp_path / "guardrails.toml")).policy is not None
    assert api.show_price_book(stocked).edition.number == 1
    assert api.list_editions(stocked).in_force is not None
    assert api.show_item(stocked, "HW-100").item.sku == "HW-100"
    assert api.build_report(stocked, by="rep").groups == []
    with pytest.raises(api.InputError) as raised:
        api.build_report(stocked, by=["colour"])
    assert raised.value.field == "by"
    assert {"open", "Pricing"} <= set(dir(pricing))
    assert {"request", "report"} <= set(dir(pricing.Pricing))


def test_a_request_of_more_lines_than_any_deal_has_is_refused_before_it_is_priced(
    stocked: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the bound of lines per request (10,000; PRICING_MAX_REQUEST_LINES raises it), when
    a caller of the library or the server sends one line more, then the request is refused
    naming the bound and the variable, and nothing is stored; at the bound it is taken."""
    from pricing.errors import InputError

    line = LineInput("HW-100", 1, Decimal(100))
    monkeypatch.setenv("PRICING_MAX_REQUEST_LINES", "50")
    with pytest.raises(InputError, match=r"over the limit of 50 lines per request \(found 51\)"):
        lifecycle.submit(stocked, customer="Acme", reason="bid", user="priya",
                               inputs=[line] * 51)  # fmt: skip
    assert api.stored_counts(stocked)["requests"] == 0
    taken = lifecycle.submit(
        stocked, customer="Acme", reason="bid", user="priya", inputs=[line] * 50
    )
    assert taken.request is not None and len(taken.request.lines) == 50
    monkeypatch.delenv("PRICING_MAX_REQUEST_LINES")
    with pytest.raises(InputError, match="PRICING_MAX_REQUEST_LINES"):
        lifecycle.submit(stocked, customer="Acme", reason="bid", user="priya",
                               inputs=[line] * 10_001, check=True)  # fmt: skip


def test_a_negative_discount_through_the_server_is_refused_and_nothing_is_stored(
    tmp_path: Path,
) -> None:
    """Given a team's server over an SQLite store, when a rep sends a line at -50 % (a price
    above the standard price) straight to its API, and again through the client, then the
    server answers the core's problem (the client exits 2 naming it) and no request exists."""
    import subprocess
    import sys

    import httpx

    from tests.conftest import Cli
    from tests.serving import environment, serving

    url = f"sqlite:///{tmp_path / 'pricing.db'}"
    administrator = Cli(url, user="dana")
    tokens = {
        name: administrator.json("people", "add", name, "--role", role)["token"]
        for name, role in (("dana", "owner"), ("priya", "rep"))
    }
    administrator.json("pricebook", "import", str(_book(tmp_path)), "--effective", "2026-01-01")
    policy = tmp_path / "guardrails.toml"
    policy.write_text(POLICY + TEAM)
    administrator.json("policy", "load", str(policy))
    line = {"sku": "HW-100", "qty": 3, "discount": "-50"}
    with serving(url, tmp_path) as address:
        answer = httpx.post(
            f"{address}/api/requests.submit",
            json={"params": {"customer": "Acme", "reason": "bid", "lines": [line]}},
            headers={"Authorization": f"Bearer {tokens['priya']}"},
            timeout=60,
        )
        client = subprocess.run(
            [sys.executable, "-m", "pricing", "request", "--customer", "Acme", "--reason", "bid",
             "HW-100", "--qty", "3", "--discount", "-50"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
            env=environment(PRICING_SERVER=address, PRICING_TOKEN=tokens["priya"]),
        )  # fmt: skip
    assert answer.status_code == 200, answer.text  # answered: a refusal with its problems
    document = answer.json()["document"]
    assert document.get("id") is None and document.get("status") is None, document
    assert "a discount must be from 0 to below 100" in json.dumps(document["problems"])
    assert client.returncode == 2, client.stdout + client.stderr
    assert "a discount must be from 0 to below 100" in client.stdout + client.stderr
    assert "Traceback" not in client.stderr
    assert administrator.json("requests") == []
