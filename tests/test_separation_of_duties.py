"""Who may decide what: the rules an auditor checks first.

The sales fixture's team: dana (owner), marco and nina (managers), priya (rep). HW-100 at 96.90
for 50 is 15 % off its tier price of 114: a manager's decision. At 80 it is 29.82 %: the owner's.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pricing.storage.store import utcnow
from tests.conftest import Cli
from tests.test_cli_requests import ask


def decide(cli: Cli, user: str, *args: str) -> tuple[int, str]:
    result = cli(*args, user=user)
    assert "Traceback" not in result.output
    return result.exit_code, result.stderr


def status(cli: Cli, ident: str) -> str:
    return cli.json("requests", "show", ident)["status"]


def test_nobody_decides_their_own_request_whatever_their_role(sales: Cli) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")  # priya's, needs a manager
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90", user="marco")  # marco's own
    code, err = decide(sales, "priya", "approve", "R-000001")
    assert code == 1 and "nobody decides their own request" in err
    code, err = decide(sales, "marco", "approve", "R-000002")
    assert code == 1 and "nobody decides their own request" in err
    assert "another manager or someone above" in err
    code, err = decide(sales, "marco", "reject", "R-000002", "--note", "mine, withdrawn")
    assert code == 1 and "nobody decides their own request" in err
    assert decide(sales, "nina", "approve", "R-000002")[0] == 0  # another manager may


def test_a_role_below_the_level_cannot_approve(sales: Cli) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "80")  # needs the owner
    for user in ("nina", "marco"):
        code, err = decide(sales, user, "approve", "R-000001")
        assert code == 1 and f"needs owner or above; {user} is manager" in err
        code, err = decide(sales, user, "reject", "R-000001", "--note", "no")
        assert code == 1 and "needs owner or above" in err
    assert status(sales, "R-000001") == "pending"
    assert decide(sales, "dana", "approve", "R-000001")[0] == 0


def test_someone_outside_the_team_cannot_decide_anything(sales: Cli) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    for args in (("approve", "R-000001"), ("reject", "R-000001", "--note", "no")):
        code, err = decide(sales, "mallory", *args)
        assert code == 1 and "mallory is not in the team" in err
    code, err = decide(sales, "mallory", "requests", "lost", "R-000001")
    assert code == 1 and "only priya (who asked) or an owner may mark" in err
    code, err = decide(sales, "mallory", "requests", "change", "R-000001", "HW-100", "--qty", "50",
                       "--price", "114")  # fmt: skip
    assert code == 1 and "only priya, who asked, may change" in err
    assert [e["action"] for e in sales.json("requests", "show", "R-000001")["events"]] == [
        "submitted"
    ]


def test_a_decided_request_cannot_be_decided_again(sales: Cli) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    assert decide(sales, "nina", "approve", "R-000001", "--note", "strategic")[0] == 0
    assert decide(sales, "marco", "reject", "R-000002", "--note", "not this quarter")[0] == 0
    for user, args in [
        ("marco", ("approve", "R-000001")),
        ("dana", ("reject", "R-000001", "--note", "overrule")),
        ("dana", ("approve", "R-000002")),
        ("nina", ("reject", "R-000002", "--note", "again")),
    ]:
        code, err = decide(sales, user, *args)
        assert code == 1 and "only a pending request can be decided" in err, (user, args)
    assert (status(sales, "R-000001"), status(sales, "R-000002")) == ("approved", "rejected")
    assert sales.json("requests", "show", "R-000001")["decided_by"] == "nina"


def test_an_expired_approval_does_not_cover_a_later_deal(sales: Cli, tmp_path: Path) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    assert decide(sales, "nina", "approve", "R-000001")[0] == 0
    today = utcnow().date()
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Deal,Date,Customer,SKU,Qty,Net Price,Request ID\n"
        f"D-1,{today.isoformat()},Acme,HW-100,50,96.90,R-000001\n"
        f"D-2,{(today + timedelta(days=31)).isoformat()},Acme,HW-100,50,96.90,R-000001\n"
    )
    assert sales("deals", "import", str(deals)).exit_code == 0
    report = sales.json("report", "--by", "customer")
    assert report["totals"]["out_of_policy_lines"] == 1  # D-2, after the 30 days of validity
    out = sales.json("report", "--from", (today + timedelta(days=1)).isoformat())
    assert out["totals"]["out_of_policy_lines"] == 1 and out["totals"]["lines"] == 1


def test_changing_an_approved_request_needs_a_new_approval(sales: Cli, tmp_path: Path) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    assert decide(sales, "nina", "approve", "R-000001", "--note", "ok at 96.90")[0] == 0
    today = utcnow().date().isoformat()
    deals = tmp_path / "deals.csv"
    deals.write_text(
        f"Deal,Date,Customer,SKU,Qty,Net Price,Request ID\nD-1,{today},Acme,HW-100,60,95.00,R-000001\n"
    )
    assert sales("deals", "import", str(deals)).exit_code == 0

    changed = sales.json("requests", "change", "R-000001", "HW-100", "--qty", "60", "--price", "95",
                         "--reason", "ten more units", user="priya")  # fmt: skip
    assert (changed["status"], changed["level"], changed["decided_by"]) == (
        "pending",
        "manager",
        None,
    )
    assert sales.json("report")["totals"]["out_of_policy_lines"] == 1  # the old approval is void
    assert decide(sales, "priya", "approve", "R-000001")[0] == 1  # still nobody's own
    assert decide(sales, "nina", "approve", "R-000001", "--note", "ok at 95")[0] == 0
    assert sales.json("report")["totals"]["out_of_policy_lines"] == 0

    events = sales.json("requests", "show", "R-000001")["events"]
    assert [(e["by"], e["action"]) for e in events] == [
        ("priya", "submitted"), ("nina", "approved"), ("priya", "changed"), ("nina", "approved"),
    ]  # fmt: skip
    assert events[2]["note"] == (
        "was HW-100 x 50 at 96.90 (approved); now HW-100 x 60 at 95.00; ten more units"
    )
    assert sales.json("audit", "verify")["intact"] is True


def test_a_change_within_the_reps_limit_is_approved_at_once_and_checks_store_nothing(
    sales: Cli,
) -> None:
    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")
    checked = sales.json("requests", "change", "R-000001", "HW-100", "--qty", "50", "--price",
                         "112", "--check", user="priya")  # fmt: skip
    assert checked["status"] == "approved"
    assert status(sales, "R-000001") == "pending"  # --check stored nothing
    changed = sales.json("requests", "change", "R-000001", "HW-100", "--qty", "50", "--price",
                         "112", user="priya")  # fmt: skip
    assert (changed["status"], changed["decided_by"]) == ("approved", "system")
    assert changed["expires_at"] is not None


def test_only_an_open_request_can_change(sales: Cli) -> None:
    ask(sales, "HW-200", "--qty", "5", "--discount", "5")  # approved at submission
    assert sales("requests", "won", "R-000001", user="priya").exit_code == 0
    code, err = decide(sales, "priya", "requests", "change", "R-000001", "HW-200", "--qty", "6",
                       "--discount", "5")  # fmt: skip
    assert code == 1 and "R-000001 is won" in err and "submit a new request" in err
    code, err = decide(sales, "priya", "requests", "change", "R-000009", "HW-200", "--qty", "6",
                       "--discount", "5")  # fmt: skip
    assert code == 2 and "no request R-000009" in err


def test_an_owner_decides_a_request_whose_level_the_policy_no_longer_has(
    sales: Cli, tmp_path: Path
) -> None:
    """Given a request waiting for a manager, when a new policy drops the manager level, then
    nobody else may decide it, but an owner still can (it was stuck for everyone, owners too)."""
    from tests.test_policy import POLICY

    ask(sales, "HW-100", "--qty", "50", "--price", "96.90")  # priya's, needs a manager
    flat = (
        POLICY.replace('levels = ["rep", "manager", "owner"]', 'levels = ["rep", "owner"]')
        .replace("manager = 20.0\n", "")
        .replace("manager = 10.0, ", "")
        .replace("manager = 25.0, ", "")
    )
    guardrails = tmp_path / "flat.toml"
    guardrails.write_text(flat + '\n[[person]]\nname = "priya"\nrole = "rep"\n')
    loaded = sales("policy", "load", str(guardrails))
    assert loaded.exit_code == 0, loaded.output
    code, err = decide(sales, "priya", "approve", "R-000001")
    assert code == 1 and status(sales, "R-000001") == "pending", err
    code, err = decide(sales, "dana", "approve", "R-000001")
    assert (code, err) == (0, ""), err
    assert status(sales, "R-000001") == "approved"
