"""The salesperson asks for special prices; approvers decide; the owner sees every step."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from pricing.requests import lifecycle as requests
from pricing.storage.store import utcnow
from tests.conftest import Cli, write_workbook
from tests.test_policy import POLICY

TEAM = """
[[person]]
name = "marco"
role = "manager"

[[person]]
name = "nina"
role = "manager"

[[person]]
name = "priya"
role = "rep"
"""


def ask(cli: Cli, *args: str, user: str = "priya", expect: int = 0) -> dict:
    result = cli(
        "request", "--customer", "Acme", "--reason", "competitive bid", *args, "--json", user=user
    )
    assert result.exit_code == expect, result.output
    return json.loads(result.stdout)


def test_request__the_contracts_example_is_pending_for_a_manager(sales: Cli) -> None:
    document = ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    assert document["id"] == "R-000001"
    assert (document["status"], document["level"], document["customer"]) == (
        "pending",
        "manager",
        "Acme",
    )
    [line] = document["lines"]
    assert {k: line[k] for k in ("sku", "qty", "list_price", "standard_price", "price", "discount_pct",
                                 "decision", "level")} == {
        "sku": "HW-100", "qty": 50, "list_price": "120.00", "standard_price": "114.00",
        "price": "96.90", "discount_pct": "15.00", "decision": "pending", "level": "manager",
    }  # fmt: skip
    assert any("rep may grant up to" in reason for reason in line["reasons"])


def test_request__within_the_rep_limit_is_approved_at_submission(sales: Cli) -> None:
    document = ask(sales, "HW-200", "--qty", "5", "--discount", "10")
    assert (document["status"], document["level"]) == ("approved", None)
    assert document["lines"][0]["price"] == "90.00"
    assert document["decided_by"] == "system" and document["expires_at"]


def test_request__discount_is_rounded_half_even_and_judged_on_the_rounded_price(sales: Cli) -> None:
    # 12.5 % off 114.00 = 99.75 exactly; 12.345 % off 120 = 105.186 -> 105.19 (12.34 % exact)
    document = ask(sales, "HW-100", "--qty", "50", "--discount", "12.5", "--check")
    assert document["lines"][0]["price"] == "99.75"
    document = ask(sales, "HW-100", "--qty", "1", "--discount", "10.005", "--check")
    line = document["lines"][0]
    assert line["price"] == "107.99"  # 120 * 0.89995 = 107.994
    assert line["discount_pct"] == "10.01" and line["decision"] == "pending"


def test_request__rejected_below_a_floor_exits_1_and_is_stored(sales: Cli) -> None:
    document = ask(sales, "SV-1", "--qty", "1", "--price", "79", expect=1)
    assert document["status"] == "rejected" and document["level"] is None
    assert "below the hard floor 80.00" in document["lines"][0]["reasons"][0]
    assert [r["id"] for r in sales.json("requests")] == ["R-000001"]


def test_check__stores_nothing_and_still_answers(sales: Cli) -> None:
    document = ask(sales, "HW-100", "--qty", "1", "--price", "60", "--check", expect=1)
    assert document["id"] is None and document["status"] == "rejected"
    assert ask(sales, "HW-100", "--qty", "1", "--price", "100", "--check")["status"] == "pending"
    assert sales.json("requests") == []


def test_request__many_lines_the_strictest_decides(sales: Cli, tmp_path: Path) -> None:
    lines = tmp_path / "lines.csv"
    lines.write_text("SKU,Qty,Price,Discount %\nHW-200,5,95,\nHW-100,50,,15\nSW-1,10,39,\n")
    document = ask(sales, "--file", str(lines))
    assert [line["decision"] for line in document["lines"]] == ["approved", "pending", "pending"]
    assert [line["level"] for line in document["lines"]] == [None, "manager", "owner"]
    assert (document["status"], document["level"]) == ("pending", "owner")


def test_request__bad_lines_are_reported_with_cells_and_nothing_is_stored(
    sales: Cli, tmp_path: Path
) -> None:
    lines = write_workbook(
        tmp_path / "lines.xlsx",
        {
            "Lines": [
                ["SKU", "Qty", "Price"],
                ["HW-200", 0, 95],
                ["NOPE", 2, 10],
                ["HW-100", 1, "abc"],
            ]
        },
    )
    result = sales(
        "request", "--customer", "Acme", "--reason", "x", "--file", str(lines), user="priya"
    )
    assert result.exit_code == 2
    assert "'Lines'!B2" in result.stderr and "'Lines'!C4" in result.stderr
    assert sales.json("requests") == []
    unknown = write_workbook(
        tmp_path / "u.xlsx", {"Lines": [["SKU", "Qty", "Price"], ["NOPE", 2, 10]]}
    )
    result = sales(
        "request", "--customer", "Acme", "--reason", "x", "--file", str(unknown), user="priya"
    )
    assert (
        result.exit_code == 2 and "no SKU 'NOPE'" in result.stderr and "'Lines'!A2" in result.stderr
    )


def test_request__usage_mistakes_exit_2(sales: Cli) -> None:
    base = ["request", "--customer", "Acme", "--reason", "x"]
    assert sales(*base, "HW-100", "--qty", "1").exit_code == 2
    assert sales(*base, "HW-100", "--qty", "1", "--price", "1", "--discount", "2").exit_code == 2
    assert sales(*base, "HW-100", "--qty", "1", "--price", "99.999").exit_code == 2
    assert sales(*base, "HW-100", "--qty", "1", "--price", "ten").exit_code == 2
    assert sales(*base, "NOPE", "--qty", "1", "--price", "1").exit_code == 2
    assert sales.json("requests") == []


def test_request__without_a_policy_says_what_to_do(cli: Cli, workbook) -> None:
    cli(
        "pricebook",
        "import",
        str(workbook([["SKU", "Price"], ["A", 10]])),
        "--effective",
        "2026-01-01",
    )
    result = cli(
        "request", "--customer", "Acme", "--reason", "x", "A", "--qty", "1", "--price", "9"
    )
    assert result.exit_code == 2 and "pricing policy load" in result.stderr


def test_quote__list_standard_floor_and_lowest_price_per_level(sales: Cli) -> None:
    document = sales.json("quote", "HW-100", "--qty", "50")
    assert (document["list_price"], document["standard_price"], document["hard_floor"]) == (
        "120.00",
        "114.00",
        "40.00",
    )
    assert document["levels"] == [
        {"level": "rep", "max_discount_pct": "2.00", "lowest_price": "111.72"},  # the HW-100 rule
        {"level": "manager", "max_discount_pct": "25.00", "lowest_price": "85.50"},
        {"level": "owner", "max_discount_pct": "35.00", "lowest_price": "74.10"},
    ]
    assert document["guidance"] is None
    human = sales("quote", "HW-100", "--qty", "50")
    assert "hard floor 40.00" in human.stdout and "111.72" in human.stdout


def test_approve__by_a_manager_returns_the_updated_request(sales: Cli) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    approved = sales.json("approve", "R-000001", "--note", "strategic", user="marco")
    assert (approved["status"], approved["level"], approved["decided_by"]) == (
        "approved",
        "manager",
        "marco",
    )
    assert approved["lines"][0]["decision"] == "approved"
    assert approved["expires_at"] > approved["decided_at"]
    shown = sales.json("requests", "show", "R-000001")
    assert [(e["by"], e["action"], e["note"]) for e in shown["events"]] == [
        ("priya", "submitted", "competitive bid"),
        ("marco", "approved", "strategic"),
    ]


def test_lifecycle__approved_won_lost_and_listing(sales: Cli) -> None:
    ask(sales, "HW-200", "--qty", "5", "--discount", "5")  # approved at submission
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")  # pending
    assert sales("requests", "won", "R-000002", user="priya").exit_code == 1  # still pending
    assert sales("requests", "won", "R-000001", user="priya").exit_code == 0
    assert sales("requests", "lost", "R-000002", user="priya").exit_code == 0
    assert sales("requests", "won", "R-000001", user="priya").exit_code == 1  # already won
    assert sales("requests", "lost", "R-000001", user="outsider").exit_code == 1
    listed = sales.json("requests")
    assert [(r["id"], r["status"], r["rep"]) for r in listed] == [
        ("R-000001", "won", "priya"),
        ("R-000002", "lost", "priya"),
    ]
    assert all(r["created_at"].endswith("Z") for r in listed)
    assert [r["id"] for r in sales.json("requests", "--status", "won")] == ["R-000001"]
    assert sales.json("requests", "--rep", "nobody") == []
    human = sales("requests")
    assert "R-000001" in human.stdout and "won" in human.stdout


def test_expiry__an_approval_passes_its_validity_and_cannot_be_won(sales: Cli) -> None:
    ask(sales, "HW-200", "--qty", "5", "--discount", "5")
    db = sales.store()
    later = utcnow() + timedelta(days=31)
    request = requests.get(db, "R-000001", now=later)
    assert request.status == "expired"
    assert request.events[-1].action == "expired" and request.events[-1].by == "system"
    with pytest.raises(Exception, match="expired"):
        requests.record_outcome(db, "R-000001", outcome="won", user="priya", now=later)
    assert requests.get(db, "R-000001", now=later).status == "expired"


def test_request_ids__many_salespeople_at_once_all_succeed_with_distinct_ids(sales: Cli) -> None:
    """10 processes on one SQLite file, 12 on PostgreSQL, each a command started at once (more
    than the machine's cores, most of each one's time its imports): each stored once, none
    refused."""
    count = 12 if sales.db_url.startswith("postgresql") else 10
    argv = [
        sys.executable, "-m", "pricing", "--db", sales.db_url, "--user", "priya", "--json", "request",
        "--customer", "Acme", "--reason", "rush", "HW-200", "--qty", "1", "--discount", "5",
    ]  # fmt: skip
    processes = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(count)
    ]
    outputs = [p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0] * count, [err for _, err in outputs]
    ids = [json.loads(out)["id"] for out, _ in outputs]
    assert len(set(ids)) == count
    assert len(sales.json("requests")) == count
    assert sales.json("audit", "verify")["intact"] is True  # concurrent appends kept one chain


def test_two_approvers_at_the_same_moment__exactly_one_decision_wins(sales: Cli) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")  # needs a manager
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pricing",
                "--db",
                sales.db_url,
                "--user",
                user,
                "approve",
                "R-000001",
                "--note",
                "go",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for user in ("marco", "nina")
    ]
    outputs = [p.communicate() for p in processes]
    assert sorted(p.returncode for p in processes) == [0, 1], outputs
    refusal = next(err for (_, err), p in zip(outputs, processes, strict=True) if p.returncode == 1)
    assert "R-000001" in refusal and ("a moment ago" in refusal or "is approved by" in refusal)
    shown = sales.json("requests", "show", "R-000001")
    assert [e["action"] for e in shown["events"]] == ["submitted", "approved"]


def test_pricebook_without_currency_column_takes_the_policys_currency(
    cli: Cli, workbook, tmp_path: Path
) -> None:
    guardrails = tmp_path / "g.toml"
    guardrails.write_text(POLICY.replace('currency = "USD"', 'currency = "EUR"'))
    assert cli("policy", "load", str(guardrails)).exit_code == 0
    cli("pricebook", "import", str(workbook([["SKU", "Price"], ["A-1", 10]])))
    assert cli.json("pricebook", "show", "A-1")["currency"] == "EUR"
    cli(
        "pricebook",
        "import",
        str(workbook([["SKU", "Price"], ["A-1", 11]], name="b.xlsx")),
        "--currency",
        "sek",
    )
    assert cli.json("pricebook", "show", "A-1")["currency"] == "SEK"


def test_a_list_price_below_its_own_margin_floor_is_blamed_on_the_book_not_the_rep(
    sales: Cli, tmp_path: Path
) -> None:
    """Given a service whose list price (70) is below its 25 % margin floor over cost 60
    (80.00), when a rep quotes it or asks for the list price, then the refusal says the
    standard price itself breaks the floor and the book or the policy needs correcting, not
    the discount (found by the new-owner trial: 'below the hard floor', blaming the rep)."""
    book = write_workbook(tmp_path / "low.xlsx", {"Price Book": [
        ["SKU", "Name", "Family", "List Price", "Unit Cost"],
        ["HW-100", "Router", "Hardware", 120, 70], ["SV-2", "Half day", "Services", 70, 60]]})  # fmt: skip
    assert sales("pricebook", "import", str(book), "--effective", "2026-02-01").exit_code == 0
    checked = sales.json("request", "--check", "--customer", "Acme", "--reason", "list",
                         "SV-2", "--qty", "1", "--price", "70", expect=1)  # fmt: skip
    reasons = " ".join(checked["lines"][0]["reasons"])
    assert "below the hard floor 80.00" in reasons
    assert "the standard price 70.00 itself is below it" in reasons
    quoted = sales("quote", "SV-2", "--qty", "1")
    assert "warning: the standard price itself is below the hard floor" in quoted.stderr
    fine = sales("quote", "HW-100", "--qty", "1")
    assert "warning" not in fine.stderr


DEAL_VALUE_POLICY = """\
currency = "USD"
levels = ["rep", "manager"]
effective_from = 2025-01-01

[limits]
rep = 5.0
manager = 30.0

[[rule]]
name = "Deals of 1,000 or more"
min_deal_value = 1000
limits = { rep = 20.0 }

[[person]]
name = "priya"
role = "rep"
"""


def deal_value_store(cli: Cli, tmp_path: Path) -> None:
    """Two SKUs at 100.00 and 90.00, and a policy whose rep may grant 20 % on deals of 1,000
    or more at standard prices (5 % below that)."""
    book = tmp_path / "book.csv"
    book.write_text("SKU,Family,List Price\nHW-1,Hardware,100.00\nHW-2,Hardware,90.00\n")
    assert cli("pricebook", "import", str(book), "--effective", "2025-01-01").exit_code == 0
    policy = tmp_path / "deal-value.toml"
    policy.write_text(DEAL_VALUE_POLICY)
    assert cli("--user", "dana", "policy", "load", str(policy)).exit_code == 0


def test_a_deal_is_judged_on_its_whole_value_in_a_request_and_in_the_deal_history(
    cli: Cli, tmp_path: Path
) -> None:
    """Given the rule `min_deal_value = 1000, limits = { rep = 20.0 }` over `rep = 5.0`, when
    the rep asks for 6 x 100.00 and 6 x 90.00 at 15 % (a deal worth 1,140.00 at standard
    prices), then it is within their authority; and when the same two lines close as one
    deal, the deal history classifies them alike: no line out of policy (before, each line was
    judged at its own value, 600.00 and 540.00, and both were out of policy for 171.00)."""
    deal_value_store(cli, tmp_path)
    document = ask(cli, "HW-1", "--qty", "6", "--discount", "15", "--check")
    assert document["status"] == "pending"  # one line alone: 600.00, below 1,000
    document = ask(cli, "--file", str(write_lines(tmp_path, [("HW-1", 6, 15), ("HW-2", 6, 15)])))
    assert (document["status"], [line["decision"] for line in document["lines"]]) == (
        "approved",
        ["approved", "approved"],
    )
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Order ID,Order Date,Customer,SKU,Quantity,Net Price\n"
        "SO-1,2025-03-01,Acme,HW-1,6,85.00\nSO-1,2025-03-01,Acme,HW-2,6,76.50\n"
    )
    assert cli("deals", "import", str(deals)).exit_code == 0
    totals = cli.json("report")["totals"]
    assert (totals["out_of_policy_lines"], totals["out_of_policy_amount"]) == (0, "0.00")


def test_a_later_file_adding_lines_to_a_deal_reclassifies_the_deal_s_stored_lines(
    cli: Cli, tmp_path: Path
) -> None:
    """Given a deal's first line stored alone (600.00 at standard prices: 15 % needs a
    manager), when a later file adds its second line (the deal is now worth 1,140.00), then
    both lines are classified on the deal's whole value: within the rep's 20 %."""
    deal_value_store(cli, tmp_path)
    header = "Order ID,Order Date,Customer,SKU,Quantity,Net Price\n"
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(header + "SO-1,2025-03-01,Acme,HW-1,6,85.00\n")
    # The later export holds the order again, with its new line.
    second.write_text(
        header + "SO-1,2025-03-01,Acme,HW-1,6,85.00\nSO-1,2025-03-01,Acme,HW-2,6,76.50\n"
    )
    assert cli("deals", "import", str(first)).exit_code == 0
    assert cli.json("report")["totals"]["out_of_policy_lines"] == 1
    assert cli.json("deals", "import", str(second))["added"] == 1
    assert cli.json("report")["totals"]["out_of_policy_lines"] == 0
    from pricing.lines import segments

    with cli.store().read() as conn:
        stored = segments.scan(conn, ["sku", "level"]).to_pylist()
    assert sorted((row["sku"], row["level"]) for row in stored) == [
        ("HW-1", "rep"),
        ("HW-2", "rep"),
    ]


def write_lines(tmp_path: Path, lines: list[tuple[str, int, int]]) -> Path:
    path = tmp_path / "lines.csv"
    path.write_text("SKU,Qty,Discount %\n" + "".join(f"{s},{q},{d}\n" for s, q, d in lines))
    return path


def test_undoing_the_import_that_grew_a_deal_judges_the_deal_on_what_it_keeps(
    cli: Cli, tmp_path: Path
) -> None:
    """Given a deal grown to 1,140.00 by a later file (both lines within the rep's 20 %), when
    that later import is undone, then the line the deal keeps is judged again on the 600.00
    left: it needs a manager (out of policy), and the audit still verifies."""
    deal_value_store(cli, tmp_path)
    header = "Order ID,Order Date,Customer,SKU,Quantity,Net Price\n"
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(header + "SO-1,2025-03-01,Acme,HW-1,6,85.00\n")
    second.write_text(
        header + "SO-1,2025-03-01,Acme,HW-1,6,85.00\nSO-1,2025-03-01,Acme,HW-2,6,76.50\n"
    )
    assert cli("deals", "import", str(first)).exit_code == 0
    assert cli.json("deals", "import", str(second))["added"] == 1
    assert cli.json("report")["totals"]["out_of_policy_lines"] == 0
    assert cli("deals", "undo", "2").exit_code == 0
    assert cli.json("report")["totals"]["out_of_policy_lines"] == 1
    assert cli("audit", "verify").exit_code == 0


def test_a_deal_split_across_chunks_or_interleaved_in_the_file_is_judged_whole(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given lines matched two at a time, when a file lists a deal's three lines across two
    chunks, and another file interleaves two deals' lines, then every line is judged on its
    whole deal's value (each deal is worth 1,000 or more: within the rep's 20 %)."""
    from pricing.lines import segments, storing

    monkeypatch.setattr(storing, "CHUNK", 2)
    deal_value_store(cli, tmp_path)
    header = "Order ID,Order Date,Customer,SKU,Quantity,Net Price\n"
    across = tmp_path / "across.csv"
    across.write_text(header + "SO-1,2025-03-01,Acme,HW-1,4,85.00\n"
                      "SO-1,2025-03-01,Acme,HW-2,4,76.50\nSO-1,2025-03-01,Acme,HW-1,4,85.00\n")  # fmt: skip
    interleaved = tmp_path / "interleaved.csv"
    interleaved.write_text(header + "SO-2,2025-04-01,Acme,HW-1,6,85.00\n"
                           "SO-3,2025-04-01,Beta,HW-1,6,85.00\nSO-2,2025-04-01,Acme,HW-2,6,76.50\n"
                           "SO-3,2025-04-01,Beta,HW-2,6,76.50\n")  # fmt: skip
    assert cli.json("deals", "import", str(across))["added"] == 3
    assert cli.json("deals", "import", str(interleaved))["added"] == 4
    with cli.store().read() as conn:
        stored = segments.scan(conn, ["deal_id", "level"]).to_pylist()
    assert sorted((row["deal_id"], row["level"]) for row in stored) == [
        ("SO-1", "rep")] * 3 + [("SO-2", "rep")] * 2 + [("SO-3", "rep")] * 2  # fmt: skip
    assert cli.json("report")["totals"]["out_of_policy_lines"] == 0
