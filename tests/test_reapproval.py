"""Smart re-approval: what an approver already gave is not asked for again when the request
changes within it, and nothing else is taken for granted.

The sales fixture's team: dana (owner), marco and nina (managers), priya (rep). HW-100 at 96.90
for 50 is 15 % off its tier price of 114: a manager's decision (a rep may give 2 % off HW-100,
15 % off a line of 50 or more of HW-1*). The policy keeps an approval valid for 30 days.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from tests.conftest import Cli
from tests.test_cli_requests import TEAM, ask
from tests.test_policy import POLICY


def approved_by_nina(sales: Cli, *line: str) -> dict:
    ask(sales, *(line or ("HW-100", "--qty", "50", "--price", "96.90")))
    return sales.json("approve", "R-000001", user="nina")


def change(sales: Cli, *line: str, check: bool = False) -> dict:
    return sales.json("requests", "change", "R-000001", *line, *(["--check"] if check else []),
                      user="priya")  # fmt: skip


def test_a_change_within_the_approval_keeps_it_and_says_which(sales: Cli) -> None:
    """Given nina's approval of 50 at 96.90, when priya changes it to 50 at 97.50, then it is
    still approved by nina, valid as long as before, and its history names the approval."""
    approval = approved_by_nina(sales)

    changed = change(sales, "HW-100", "--qty", "50", "--price", "97.50")

    assert (changed["status"], changed["level"]) == ("approved", approval["level"])
    assert changed["decided_by"] == "nina" and changed["expires_at"] == approval["expires_at"]
    [line] = changed["lines"]
    assert line["decision"] == "approved"
    assert "within R-000001's approval by nina" in line["reasons"][-1]
    assert "96.90 for up to 50" in line["reasons"][-1]
    history = sales.json("requests", "show", "R-000001")["events"]
    assert [(e["action"], e["by"]) for e in history][-2:] == [("changed", "priya"),
                                                              ("approved", "system")]  # fmt: skip
    assert "the approval stands (reused)" in history[-1]["note"]
    assert sales.json("inbox", user="marco") == []
    assert sales("audit", "verify").exit_code == 0


def test_the_same_lines_again_keep_the_approval(sales: Cli) -> None:
    """A discount stored to six places is compared as stored: the very line approved (10.18333…
    % off) is within itself."""
    approved_by_nina(sales, "HW-100", "--qty", "10", "--price", "107.78")
    assert change(sales, "HW-100", "--qty", "10", "--price", "107.78")["status"] == "approved"


def test_a_change_beyond_the_approval_waits_for_an_approver_again(sales: Cli) -> None:
    approved_by_nina(sales)
    for line in (["--qty", "60", "--price", "96.90"],  # more units
                 ["--qty", "50", "--price", "95.00"],  # a lower price
                 ["--qty", "40", "--price", "97.50"]):  # fewer, off a higher standard: 18.75 %  # fmt: skip
        checked = change(sales, "HW-100", *line, check=True)
        assert (checked["status"], checked["level"]) == ("pending", "manager"), line
    changed = change(sales, "HW-100", "--qty", "60", "--price", "96.90")
    assert (changed["status"], changed["decided_by"]) == ("pending", None)
    assert [r["id"] for r in sales.json("inbox", user="marco")] == ["R-000001"]


def test_two_lines_of_one_approved_line_ask_again(sales: Cli, tmp_path: Path) -> None:
    """Each line within the approved one, but 100 units where 50 were approved: asked again."""
    approved_by_nina(sales)
    lines = tmp_path / "lines.csv"
    lines.write_text("SKU,Qty,Price\nHW-100,50,96.90\nHW-100,50,96.90\n")
    assert change(sales, "--file", str(lines), check=True)["status"] == "pending"


def test_a_line_the_rule_approved_grants_nothing_deeper(sales: Cli, tmp_path: Path) -> None:
    """Given (HW-100 without a rule of its own) a request whose HW-100 line of 60 at 14 % was
    within the rep's own limit for 50 or more (approved by the rule) and whose HW-200 line nina
    approved, when priya changes HW-100 to 40 at a higher price, 14 % off the higher standard
    (over a rep's 10 % below 50), then it waits for an approver: the rule's approval is no
    person's."""
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.replace('sku = "HW-100"\nlimits = { rep = 2.0 }',
                                     'sku = "HW-9*"\nlimits = { rep = 2.0 }') + TEAM)  # fmt: skip
    assert sales("policy", "load", str(policy), user="dana").exit_code == 0
    lines = tmp_path / "lines.csv"
    lines.write_text("SKU,Qty,Price\nHW-100,60,98.04\nHW-200,5,85\n")
    asked = sales.json("request", "--customer", "Acme", "--reason", "r", "--file", str(lines),
                       user="priya")  # fmt: skip
    assert [line["decision"] for line in asked["lines"]] == ["approved", "pending"]
    assert sales("approve", "R-000001", user="nina").exit_code == 0
    lines.write_text("SKU,Qty,Price\nHW-100,40,103.20\nHW-200,5,85\n")
    checked = change(sales, "--file", str(lines), check=True)
    assert [line["decision"] for line in checked["lines"]] == ["pending", "pending"]
    assert checked["status"] == "pending"


def test_an_approver_no_longer_allowed_to_approve_it_is_not_reused(
    sales: Cli, tmp_path: Path
) -> None:
    """Given nina's manager approval of 15 %, when the owner lowers a manager's HW-100 limit to
    5 %, then the same lines changed within her approval need the owner."""
    approved_by_nina(sales)
    tighter = tmp_path / "tighter.toml"
    tighter.write_text(POLICY.replace('sku = "HW-100"\nlimits = { rep = 2.0 }',
                                      'sku = "HW-100"\nlimits = { rep = 2.0, manager = 5.0 }')
                       + TEAM)  # fmt: skip
    assert sales("policy", "load", str(tighter), user="dana").exit_code == 0
    checked = change(sales, "HW-100", "--qty", "50", "--price", "97.50", check=True)
    assert (checked["status"], checked["level"]) == ("pending", "owner")


def test_a_new_request_is_judged_afresh_while_the_approved_one_is_open(sales: Cli) -> None:
    """An approval is used once: while its own request is open (its deal holds its units), the
    same lines asked again (by priya, by the approver herself, by another rep) wait for an
    approver, and nothing of the approval is read back through a check."""
    approved_by_nina(sales)
    for user in ("priya", "nina", "ravi"):
        again = ask(sales, "HW-100", "--qty", "50", "--price", "96.90", "--check", user=user)
        assert again["status"] == "pending", user
        assert not any("R-000001" in reason for reason in again["lines"][0]["reasons"])


def registered(sales: Cli) -> None:
    """dana (owner), nina (manager) and priya (rep) registered: roles stored from then on."""
    for name, role in (("dana", "owner"), ("nina", "manager"), ("priya", "rep")):
        assert sales("people", "add", name, "--role", role, user="dana").exit_code == 0


def withdrawn_after_nina_approved(sales: Cli) -> None:
    """nina's approval of 50 HW-200 (list 100, no tiers) at 85.00, 15 % off: a manager's."""
    approved_by_nina(sales, "HW-200", "--qty", "50", "--price", "85.00")
    assert sales("requests", "withdraw", "R-000001", user="priya").exit_code == 0


def test_a_new_request_within_a_withdrawn_approval_keeps_it_and_says_which(sales: Cli) -> None:
    """Given nina's approval of 50 at 85.00, withdrawn by priya, when priya asks again for the
    same customer 30 at 85.50, then the new request is approved by nina's approval (valid as
    long as it was), says so in its lines, its history and ``reused_approval``, tells nobody
    and waits in no inbox; the audit chain holds."""
    withdrawn_after_nina_approved(sales)
    first = sales.json("requests", "show", "R-000001")

    again = ask(sales, "HW-200", "--qty", "30", "--price", "85.50")

    assert (again["id"], again["status"], again["decided_by"]) == ("R-000002", "approved", "nina")
    assert again["expires_at"] == first["expires_at"] and again["reused_approval"] == "R-000001"
    [line] = again["lines"]
    assert "within R-000001's approval by nina" in line["reasons"][-1]
    shown = sales.json("requests", "show", "R-000002")
    assert shown["reused_approval"] == "R-000001"
    assert "the approval stands (reused)" in shown["events"][-1]["note"]
    assert sales.json("inbox", user="marco") == [] and sales.json("inbox", user="nina") == []
    assert sales.json("requests", "show", "R-000001")["reused_approval"] is None
    said = sales("requests", "show", "R-000002").stdout
    assert "Keeps R-000001's approval by nina" in said
    assert sales("audit", "verify").exit_code == 0


def test_each_unit_of_an_approval_is_kept_once_across_new_requests(sales: Cli) -> None:
    """Given nina's approval of 50, withdrawn: 30 kept by a new request leave 20; 30 more wait
    for an approver; once the first new request is lost (its units free again) they keep it."""
    withdrawn_after_nina_approved(sales)
    assert ask(sales, "HW-200", "--qty", "30", "--price", "85.50")["status"] == "approved"

    over = ask(sales, "HW-200", "--qty", "30", "--price", "85.50")
    assert (over["status"], over["reused_approval"]) == ("pending", None)
    assert ask(sales, "HW-200", "--qty", "20", "--price", "85.50", "--check")["status"] == (
        "approved"
    )

    assert sales("requests", "lost", "R-000002", user="priya").exit_code == 0
    third = ask(sales, "HW-200", "--qty", "40", "--price", "85.50")
    assert (third["status"], third["reused_approval"]) == ("approved", "R-000001")


def test_a_new_request_keeps_no_approval_it_is_not_within(sales: Cli) -> None:
    """Beyond the withdrawn approval (a lower price, more units, another SKU, another
    customer, another rep) a new request waits for an approver as before."""
    withdrawn_after_nina_approved(sales)
    for line in (["HW-200", "--qty", "50", "--price", "84.00"],
                 ["HW-200", "--qty", "60", "--price", "85.00"],
                 ["SW-1", "--qty", "50", "--price", "42.50"]):  # fmt: skip
        checked = ask(sales, *line, "--check")
        assert (checked["status"], checked["reused_approval"]) == ("pending", None), line
    other_rep = ask(sales, "HW-200", "--qty", "50", "--price", "85.00", "--check", user="ravi")
    assert other_rep["status"] == "pending"
    other_customer = sales.json(
        "request", "--customer", "Globex", "--reason", "bid", "HW-200", "--qty", "50",
        "--price", "85.00", "--check", user="priya",
    )  # fmt: skip
    assert other_customer["status"] == "pending"
    same_customer = sales.json(
        "request", "--customer", "  ACME ", "--reason", "bid", "HW-200", "--qty", "50",
        "--price", "85.00", "--check", user="priya",
    )  # fmt: skip
    assert same_customer["status"] == "approved"  # (the customer as the report compares it)


def test_a_withdrawn_approval_past_its_validity_or_its_approvers_limit_is_not_kept(
    sales: Cli, tmp_path: Path
) -> None:
    """The approval is kept only while valid (30 days) and while nina may still approve it (a
    manager's limit lowered to 12 %: the same lines need the owner)."""
    from datetime import timedelta

    from pricing.requests import lifecycle
    from pricing.requests.records import LineInput
    from pricing.storage.store import utcnow

    withdrawn_after_nina_approved(sales)
    line = LineInput(sku="HW-200", qty=50, price=Decimal("85.00"))
    for days, status in ((29, "approved"), (31, "pending")):
        request, _ = lifecycle.submit(
            sales.store(), customer="Acme", reason="again", inputs=[line], user="priya",
            check=True, now=utcnow() + timedelta(days=days),
        )  # fmt: skip
        assert request is not None and request.status == status, days
    tighter = tmp_path / "tighter.toml"
    tighter.write_text(POLICY.replace("manager = 20.0", "manager = 12.0") + TEAM)
    assert sales("policy", "load", str(tighter), user="dana").exit_code == 0
    checked = ask(sales, "HW-200", "--qty", "50", "--price", "85.00", "--check")
    assert (checked["status"], checked["level"]) == ("pending", "owner")


def test_an_approval_kept_by_a_new_request_is_sealed_in_the_audit(sales: Cli) -> None:
    """Given a new request that kept R-000001's approval, when someone with the database points
    it at another request by hand, then `audit verify` names the request."""
    withdrawn_after_nina_approved(sales)
    ask(sales, "HW-200", "--qty", "30", "--price", "85.50")
    with sales.store().engine.begin() as conn:
        conn.exec_driver_sql("UPDATE approval_reuses SET approval_id = 2 WHERE request_id = 2")
    verified = sales("audit", "verify")
    assert verified.exit_code != 0 and "R-000002" in verified.output


def test_an_approval_kept_is_no_source_of_another_and_its_units_come_back_once(
    sales: Cli,
) -> None:
    """Given nina's 50 units kept by R-000002, then withdrawn: a third request keeps nina's
    approval (R-000001), never R-000002's, and a fourth waits: the 50 units approved once are
    never offered twice (a tester's chain doubled them on each withdrawal)."""
    withdrawn_after_nina_approved(sales)
    assert ask(sales, "HW-200", "--qty", "50", "--price", "85.00")["status"] == "approved"
    assert sales("requests", "withdraw", "R-000002", user="priya").exit_code == 0

    third = ask(sales, "HW-200", "--qty", "50", "--price", "85.00")
    fourth = ask(sales, "HW-200", "--qty", "50", "--price", "85.00")

    assert (third["status"], third["reused_approval"]) == ("approved", "R-000001")
    assert (fourth["status"], fourth["reused_approval"]) == ("pending", None)
    assert "within R-000001's approval by nina" in third["lines"][0]["reasons"][-1]


def test_a_new_request_is_approved_when_it_is_asked_not_before(sales: Cli) -> None:
    withdrawn_after_nina_approved(sales)
    again = ask(sales, "HW-200", "--qty", "50", "--price", "85.00")
    assert again["decided_at"] >= again["created_at"]


def test_a_name_registered_again_keeps_nothing_the_earlier_person_was_approved(
    sales: Cli,
) -> None:
    """Given priya's approval withdrawn, when priya is removed and someone else is registered
    as priya, then the new priya's request waits for an approver."""
    registered(sales)
    withdrawn_after_nina_approved(sales)
    assert ask(sales, "HW-200", "--qty", "10", "--price", "85.00", "--check")["status"] == (
        "approved"
    )
    assert sales("people", "remove", "priya", user="dana").exit_code == 0
    assert sales("people", "add", "priya", "--role", "rep", user="dana").exit_code == 0

    again = ask(sales, "HW-200", "--qty", "10", "--price", "85.00")

    assert (again["status"], again["reused_approval"]) == ("pending", None)


def test_a_request_edited_by_hand_for_a_moment_grants_nothing(sales: Cli) -> None:
    """Given nina's approval of 50 withdrawn, when someone with the database raises its units
    to 5,000 (or hides the row of a request that kept some) for as long as a request takes,
    then the request waits for an approver, and once put back `audit verify` is intact."""
    withdrawn_after_nina_approved(sales)
    ask(sales, "HW-200", "--qty", "30", "--price", "85.00")  # R-000002 keeps 30 of the 50
    engine = sales.store().engine
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE request_lines SET qty = 5000 WHERE request_id = 1")
    raised = ask(sales, "HW-200", "--qty", "5000", "--price", "85.00")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE request_lines SET qty = 50 WHERE request_id = 1")
        conn.exec_driver_sql("DELETE FROM approval_reuses WHERE request_id = 2")
    hidden = ask(sales, "HW-200", "--qty", "50", "--price", "85.00")
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO approval_reuses VALUES (2, 1)")

    assert (raised["status"], hidden["status"]) == ("pending", "pending")
    assert sales("audit", "verify").exit_code == 0


def test_a_request_changed_beyond_the_approval_it_kept_no_longer_names_it(sales: Cli) -> None:
    """Given R-000002 keeping 30 of nina's 50, when priya changes it to 60 units, then it waits
    for an approver, names no approval kept, and nina's 50 units are free again."""
    withdrawn_after_nina_approved(sales)
    ask(sales, "HW-200", "--qty", "30", "--price", "85.00")

    changed = sales.json("requests", "change", "R-000002", "HW-200", "--qty", "60", "--price",
                         "85.00", user="priya")  # fmt: skip

    assert (changed["status"], changed["reused_approval"]) == ("pending", None)
    assert ask(sales, "HW-200", "--qty", "50", "--price", "85.00")["status"] == "approved"
    assert sales("audit", "verify").exit_code == 0


def test_each_approved_line_is_counted_by_the_best_assignment(sales: Cli, tmp_path: Path) -> None:
    """Given nina's approval of two lines (50 at 85.00, 50 at 88.00), withdrawn, and 50 at 88.00
    kept by a new request, then 50 at 85.00 is still within the line at 85.00 (a first fit
    had given the line at 85.00 to the 88.00 and asked the approvers)."""
    lines = tmp_path / "two.csv"
    lines.write_text("sku,qty,price\nHW-200,50,85.00\nHW-200,50,88.00\n")
    first = sales.json("request", "--customer", "Acme", "--reason", "bid", "--file", str(lines),
                       user="priya")  # fmt: skip
    assert first["status"] == "pending"
    assert sales("approve", "R-000001", user="nina").exit_code == 0
    assert sales("requests", "withdraw", "R-000001", user="priya").exit_code == 0
    kept = ask(sales, "HW-200", "--qty", "50", "--price", "88.00")
    assert kept["status"] == "approved" and "88.00 for up to 50" in kept["lines"][0]["reasons"][-1]

    again = ask(sales, "HW-200", "--qty", "50", "--price", "85.00")

    assert (again["status"], again["reused_approval"]) == ("approved", "R-000001")


def test_an_approved_request_edited_by_hand_keeps_nothing_when_changed(sales: Cli) -> None:
    """Given nina's approval of 50, when someone with the database raises its units to 5,000 and
    priya changes the request (or marks it won, or withdraws it), then it is refused, nothing
    is changed, and `audit verify` still names the request: a change never seals a hand edit
    in (it had: the edit then no longer showed)."""
    approved_by_nina(sales, "HW-200", "--qty", "50", "--price", "85.00")
    with sales.store().engine.begin() as conn:
        conn.exec_driver_sql("UPDATE request_lines SET qty = 5000 WHERE request_id = 1")

    for args in (("requests", "change", "R-000001", "HW-200", "--qty", "5000", "--price",
                  "85.00"), ("requests", "won", "R-000001"), ("requests", "withdraw", "R-000001")):  # fmt: skip
        refused = sales(*args, user="priya")
        assert refused.exit_code != 0 and "R-000001 was changed outside pricing" in refused.stderr

    assert sales.json("requests", "show", "R-000001")["status"] == "approved"
    verified = sales("audit", "verify")
    assert verified.exit_code != 0 and "R-000001" in verified.output


def test_a_keeper_edited_by_hand_for_a_moment_frees_no_units(sales: Cli) -> None:
    """Given R-000002 keeping all 50 of nina's units: when someone with the database marks it
    withdrawn under another rep (or removes its link and moves it to another customer) for as
    long as a request takes, then the new request waits; the approval's history says who kept
    it, and once put back `audit verify` is intact (a reviewer's: 50 units approved twice)."""
    withdrawn_after_nina_approved(sales)
    ask(sales, "HW-200", "--qty", "50", "--price", "85.00")
    history = sales.json("requests", "show", "R-000001")["events"]
    assert (history[-1]["action"], history[-1]["note"]) == ("kept", "its approval kept by R-000002")
    engine = sales.store().engine
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE requests SET status = 'withdrawn', rep = 'zz' WHERE id = 2")
    moved = ask(sales, "HW-200", "--qty", "50", "--price", "85.00")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE requests SET status = 'approved', rep = 'priya' WHERE id = 2")
        conn.exec_driver_sql("DELETE FROM approval_reuses WHERE request_id = 2")
        conn.exec_driver_sql("UPDATE requests SET customer = 'Elsewhere' WHERE id = 2")
    unlinked = ask(sales, "HW-200", "--qty", "50", "--price", "85.00")
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE requests SET customer = 'Acme' WHERE id = 2")
        conn.exec_driver_sql("INSERT INTO approval_reuses VALUES (2, 1)")

    assert (moved["status"], unlinked["status"]) == ("pending", "pending")
    assert sales("audit", "verify").exit_code == 0


def test_an_approver_registered_again_under_the_name_gave_nothing(sales: Cli) -> None:
    """Given nina's approval withdrawn, when nina is removed and someone else is registered as
    nina, a manager, then priya's new request waits (a reviewer's: the earlier nina's approval
    came back with the new one)."""
    registered(sales)
    withdrawn_after_nina_approved(sales)
    assert sales("people", "remove", "nina", user="dana").exit_code == 0
    assert sales("people", "add", "nina", "--role", "manager", user="dana").exit_code == 0

    again = ask(sales, "HW-200", "--qty", "50", "--price", "85.00")

    assert (again["status"], again["reused_approval"]) == ("pending", None)


def test_a_pending_request_edited_by_hand_is_not_decided(sales: Cli) -> None:
    """Given priya's pending request whose price someone raised by hand to what a rep may give,
    when nina approves (or rejects) it, then she is refused and it waits as it was."""
    ask(sales, "HW-200", "--qty", "50", "--price", "85.00")
    with sales.store().engine.begin() as conn:
        conn.exec_driver_sql("UPDATE request_lines SET price = 95000000 WHERE request_id = 1")

    for decision in (("approve",), ("reject", "--note", "too deep")):
        refused = sales(decision[0], "R-000001", *decision[1:], user="nina")
        assert refused.exit_code != 0 and "R-000001 was changed outside pricing" in refused.stderr
    assert sales.json("requests", "show", "R-000001")["status"] == "pending"
