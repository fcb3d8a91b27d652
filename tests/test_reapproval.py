"""Smart re-approval: what an approver already gave is not asked for again.

The sales fixture's team: dana (owner), marco and nina (managers), priya (rep). HW-100 at 96.90
for 50 is 15 % off its tier price of 114: a manager's decision. The policy keeps an approval
valid for 30 days.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pricing.requests import lifecycle
from pricing.requests.lifecycle import LineInput
from pricing.storage.store import utcnow
from tests.conftest import Cli
from tests.test_cli_requests import ask


def approved_by_nina(sales: Cli) -> dict:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    return sales.json("approve", "R-000001", user="nina")


def test_a_change_within_the_approval_keeps_it_and_says_which(sales: Cli) -> None:
    """Given nina's approval of 50 at 96.90, when priya changes it to 50 at 97.50, then it is
    still approved by nina, valid as long as before, and its history names the approval."""
    approval = approved_by_nina(sales)

    changed = sales.json("requests", "change", "R-000001", "HW-100", "--qty", "50", "--price",
                         "97.50", user="priya")  # fmt: skip

    assert (changed["status"], changed["level"]) == ("approved", None)
    assert changed["decided_by"] == "nina" and changed["expires_at"] == approval["expires_at"]
    [line] = changed["lines"]
    assert (line["decision"], line["level"]) == ("approved", None)
    assert "within R-000001's approval by nina" in line["reasons"][-1]
    assert "96.90 for up to 50" in line["reasons"][-1]
    history = sales.json("requests", "show", "R-000001")["events"]
    assert [(e["action"], e["by"]) for e in history][-2:] == [("changed", "priya"),
                                                              ("approved", "system")]  # fmt: skip
    assert "the approval stands (reused)" in history[-1]["note"]
    assert sales.json("inbox", user="marco") == []
    assert sales("audit", "verify").exit_code == 0


def test_a_change_beyond_the_approval_waits_for_an_approver_again(sales: Cli) -> None:
    approved_by_nina(sales)
    for line in (["--qty", "60", "--price", "96.90"],  # more units
                 ["--qty", "50", "--price", "95.00"],  # a lower price
                 ["--qty", "40", "--price", "97.50"]):  # fewer, off a higher standard: 18.75 %  # fmt: skip
        checked = sales.json("requests", "change", "R-000001", "HW-100", *line, "--check",
                             user="priya")  # fmt: skip
        assert (checked["status"], checked["level"]) == ("pending", "manager"), line
    changed = sales.json("requests", "change", "R-000001", "HW-100", "--qty", "60", "--price",
                         "96.90", user="priya")  # fmt: skip
    assert (changed["status"], changed["decided_by"]) == ("pending", None)
    assert [r["id"] for r in sales.json("inbox", user="marco")] == ["R-000001"]


def test_a_new_request_of_the_customer_within_a_valid_approval_is_approved_at_once(
    sales: Cli,
) -> None:
    approved_by_nina(sales)

    checked = ask(sales, "HW-100", "--qty", "50", "--price", "97", "--check")
    again = ask(sales, "HW-100", "--qty", "50", "--price", "97")

    assert checked["id"] is None and checked["status"] == "approved"
    assert (again["id"], again["status"], again["decided_by"]) == ("R-000002", "approved", "system")
    shown = sales.json("requests", "show", "R-000002")
    assert "R-000001's approval by nina" in shown["events"][-1]["note"]
    assert "approved at submission (reused)" in shown["events"][-1]["note"]
    assert shown["expires_at"] == sales.json("requests", "show", "R-000001")["expires_at"]
    other = sales.json("request", "--customer", "Beta", "--reason", "bid", "HW-100", "--qty",
                       "50", "--price", "97")  # fmt: skip
    assert other["status"] == "pending"  # (another customer: nina approved Acme's deal)
    assert ask(sales, "HW-100", "--qty", "50", "--price", "96")["status"] == "pending"


def test_a_withdrawn_or_expired_approval_is_not_reused(sales: Cli) -> None:
    approved_by_nina(sales)
    assert ask(sales, "HW-100", "--qty", "50", "--price", "97", "--check")["status"] == "approved"
    db = sales.store()
    line = [LineInput("HW-100", 50, price=Decimal("97"))]
    later = utcnow() + timedelta(days=31)
    expired, _ = lifecycle.submit(db, customer="Acme", reason="r", inputs=line, user="priya",
                                  check=True, now=later)  # fmt: skip
    assert expired is not None and expired.status == "pending"
    assert sales("requests", "withdraw", "R-000001", user="priya").exit_code == 0
    assert ask(sales, "HW-100", "--qty", "50", "--price", "97")["status"] == "pending"
