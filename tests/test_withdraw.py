"""The salesperson takes back a request the deal no longer needs (``pricing requests withdraw``).

The sales fixture's team: dana (owner), marco and nina (managers), priya (rep). HW-100 at 96.90
for 50 is 15 % off its tier price of 114: a manager's decision; HW-200 at 5 % off is priya's own.
"""

from __future__ import annotations

from pathlib import Path

from pricing.storage.store import utcnow
from tests.conftest import Cli
from tests.test_cli_requests import ask


def refused(cli: Cli, user: str, *args: str) -> str:
    done = cli(*args, user=user)
    assert done.exit_code == 1 and "Traceback" not in done.output, done.output
    return done.stderr


def test_a_withdrawn_request_leaves_the_inbox_and_keeps_who_and_why(sales: Cli) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    assert [r["id"] for r in sales.json("inbox", user="marco")] == ["R-000001"]

    withdrawn = sales.json("requests", "withdraw", "R-000001", "--note", "customer postponed",
                           user="priya")  # fmt: skip

    assert withdrawn["status"] == "withdrawn" and withdrawn["id"] == "R-000001"
    assert sales.json("inbox", user="marco") == []
    assert sales.json("requests", "--waiting-for-me", user="nina") == []
    assert [r["id"] for r in sales.json("requests", "--status", "withdrawn")] == ["R-000001"]
    shown = sales.json("requests", "show", "R-000001")
    last = shown["events"][-1]
    assert (last["action"], last["by"]) == ("withdrawn", "priya")
    assert last["note"] == "was waiting for approval; customer postponed"
    said = refused(sales, "marco", "approve", "R-000001")
    assert "R-000001 is withdrawn" in said
    human = sales("requests", "withdraw", "R-000001", user="priya")
    assert human.exit_code == 1
    assert "only a pending or approved request can be withdrawn" in human.stderr
    assert sales("audit", "verify").exit_code == 0


def test_a_withdrawn_approval_covers_no_deal(sales: Cli, tmp_path: Path) -> None:
    """Given a deal closed at the approved price, when the rep withdraws the approval, then the
    report counts the deal out of policy: nothing covers it any more."""
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    assert sales("approve", "R-000001", user="nina").exit_code == 0
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Deal,Date,Customer,SKU,Qty,Net Price,Request ID\n"
        f"D-1,{utcnow().date().isoformat()},Acme,HW-100,50,96.90,R-000001\n"
    )
    assert sales("deals", "import", str(deals)).exit_code == 0
    assert sales.json("report")["totals"]["out_of_policy_lines"] == 0

    said = sales("requests", "withdraw", "R-000001", user="priya")

    assert said.exit_code == 0 and "Withdrew R-000001 for Acme" in said.stdout
    assert sales.json("report")["totals"]["out_of_policy_lines"] == 1
    assert sales.json("requests", "show", "R-000001")["events"][-1]["note"] == "was approved"
    assert sales("requests", "won", "R-000001", user="priya").exit_code == 1


def test_only_the_salesperson_who_asked_withdraws(sales: Cli) -> None:
    """Nobody is registered here, so nobody is an owner either: a manager who may decide the
    request, the policy's owner and a stranger are all refused (tests/test_server.py: a
    registered owner may, on the team server)."""
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    for user in ("marco", "nina", "dana", "outsider"):
        said = refused(sales, user, "requests", "withdraw", "R-000001")
        assert "only priya, who asked, may withdraw R-000001" in said, user
    assert sales.json("requests", "show", "R-000001")["status"] == "pending"


def test_a_request_decided_or_closed_cannot_be_withdrawn(sales: Cli) -> None:
    ask(sales, "HW-200", "--qty", "5", "--discount", "5")  # approved at submission
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")  # pending
    ask(sales, "HW-200", "--qty", "5", "--discount", "5")  # approved at submission
    assert sales("requests", "won", "R-000001", user="priya").exit_code == 0
    assert sales("reject", "R-000002", "--note", "not now", user="marco").exit_code == 0
    assert sales("requests", "lost", "R-000003", user="priya").exit_code == 0
    for ident, status in (("R-000001", "won"), ("R-000002", "rejected"), ("R-000003", "lost")):
        said = refused(sales, "priya", "requests", "withdraw", ident)
        assert f"{ident} is {status}: only a pending or approved request" in said
        assert sales.json("requests", "show", ident)["status"] == status
