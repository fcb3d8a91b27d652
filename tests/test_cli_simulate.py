"""Policy what-if: the owner replays the stored deals under a proposed policy."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook

from tests.conftest import Cli
from tests.test_cli_deals_report import deals_csv
from tests.test_policy import POLICY

STRICTER = POLICY.replace(
    "limits = { rep = 5.0, manager = 10.0", "limits = { rep = 2.0, manager = 10.0"
).replace("approval_valid_days = 30", "approval_valid_days = 30\neffective_from = 2025-01-01")
DEALS = (
    "Deal,Date,Customer,SKU,Qty,Net Price\n"
    "A,2026-03-02,Acme,SV-1,1,100\n"  # no discount: approved under both
    "B,2026-03-02,Acme,HW-200x,1,1\n"  # unknown SKU: unmatched, left out
    "C,2026-03-02,Acme,SV-1,1,96\n"  # 4 %: rep under both (Services rule: rep 5)
    "D,2026-03-03,Globex,HW-100,60,123.50\n"  # 5 % off 130: needs manager under both (HW-100 rep 2)
    "E,2026-03-03,Globex,HW-100,1,123.50\n"
    "F,2026-03-04,Initech,SV-1,1,70\n"  # below the margin floor: rejected under both
)


def test_simulate__same_policy_changes_nothing(owner: Cli, tmp_path: Path) -> None:
    owner("deals", "import", str(deals_csv(tmp_path, DEALS)))
    same = tmp_path / "same.toml"
    same.write_text(
        POLICY.replace(
            "approval_valid_days = 30", "approval_valid_days = 30\neffective_from = 2025-01-01"
        )
    )
    document = owner.json("policy", "simulate", str(same))
    assert document["changed"] == []
    assert document["current"] == document["proposed"]
    assert (document["lines"], document["not_judged"]) == (5, 1)
    assert (document["unmatched_lines"], document["unjudged_lines"]) == (1, 0)
    text = owner("policy", "simulate", str(same)).stdout
    assert "lines left out: 1 unmatched (no list price on their dates)." in text
    assert document["current"]["rejected"]["lines"] == 1
    assert document["current"]["rejected"]["below_floor"] == 1


def test_simulate__a_stricter_policy_and_request_check_agree_line_by_line(
    owner: Cli, tmp_path: Path
) -> None:
    policy = tmp_path / "stricter.toml"
    policy.write_text(STRICTER)
    deals = ("Deal,Date,Customer,SKU,Qty,Net Price\n"
             + "".join(f"D{i},2026-03-0{1 + i % 5},Acme,SV-1,1,{p}\n" for i, p in enumerate([100, 97, 96, 95.5, 94, 92, 90, 86, 85, 80, 79])))  # fmt: skip
    owner("deals", "import", str(deals_csv(tmp_path, deals)))
    document = owner.json("policy", "simulate", str(policy))
    assert document["changed"], "a lower rep limit must move some lines"
    # Load the proposed policy and ask request --check for every line: the same classes.
    assert owner("policy", "load", str(policy)).exit_code == 0
    proposed = {}
    for i, price in enumerate([100, 97, 96, 95.5, 94, 92, 90, 86, 85, 80, 79]):
        result = owner("request", "--customer", "Acme", "--reason", "x", "SV-1", "--qty", "1",
                       "--price", str(price), "--check", "--json")  # fmt: skip
        check = json.loads(result.stdout)
        proposed[f"D{i}"] = "approved" if check["status"] == "approved" else (
            "rejected" if check["status"] == "rejected" else f"pending:{check['level']}")  # fmt: skip
    expected = {c["deal"]: c["proposed"] for c in document["changed"]}
    for deal, klass in expected.items():
        assert proposed[deal] == klass, deal
    counts = {
        name: sum(1 for k in proposed.values() if k == name) for name in set(proposed.values())
    }
    assert {n: v["lines"] for n, v in document["proposed"].items()} == counts


def test_simulate__outputs_and_bad_files(owner: Cli, tmp_path: Path) -> None:
    owner("deals", "import", str(deals_csv(tmp_path, DEALS)))
    policy = tmp_path / "stricter.toml"
    policy.write_text(STRICTER)
    for suffix in ("json", "csv", "xlsx", "html"):
        assert (
            owner("policy", "simulate", str(policy), "-o", str(tmp_path / f"w.{suffix}")).exit_code
            == 0
        )
    book = load_workbook(tmp_path / "w.xlsx")
    assert book.sheetnames == ["Classes", "Workload", "Changed"] and book["Classes"]._charts
    human = owner("policy", "simulate", str(policy))
    assert "lines change class" in human.stdout and "Approver level" in human.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('levels = ["rep"]\n')
    result = owner("policy", "simulate", str(bad))
    assert result.exit_code == 2 and "bad.toml: limits: Field required" in result.stderr


def test_simulate__out_of_policy_now_is_the_reports_out_of_policy(
    owner: Cli, tmp_path: Path
) -> None:
    """Given deals of which one is covered by an approved request, one sold below its approved
    price, some needing an approval nobody gave and one below a hard floor, when the owner
    simulates the policy in force, then "out of policy" now is exactly the report's (lines and
    amount), and the classes add up to the report's judged lines and special discount."""
    from decimal import Decimal

    from pricing.storage.store import utcnow
    from tests.test_cli_deals_report import approved_request

    approved_request(owner)
    today = utcnow().date().isoformat()
    deals = (
        "Deal,Date,Customer,SKU,Qty,Net Price,Request ID\n"
        "A,2026-03-02,Acme,SV-1,1,100,\n"  # no discount
        "C,2026-03-02,Acme,SV-1,1,96,\n"  # 4 %: within the rep's 5 %
        "D,2026-03-03,Globex,HW-100,60,123.50,\n"  # needs a manager, nobody approved: 390.00
        "E,2026-03-03,Globex,HW-100,1,123.50,\n"  # the same: 6.50
        "F,2026-03-04,Initech,SV-1,1,70,\n"  # below the margin floor: 30.00
        f"R1,{today},Acme,SV-1,1,92,R-000001\n"  # needs a manager; the approval covers it
        f"R2,{today},Acme,SV-1,1,91,R-000001\n"  # below the approved price: 9.00
    )
    owner("deals", "import", str(deals_csv(tmp_path, deals)))
    same = tmp_path / "same.toml"
    same.write_text(STRICTER.replace("rep = 2.0, manager = 10.0", "rep = 5.0, manager = 10.0"))
    report = owner.json("report")["totals"]
    simulated = owner.json("policy", "simulate", str(same))
    assert simulated["changed"] == []
    now = simulated["out_of_policy"]["current"]
    assert (now["lines"], now["amount"]) == (
        report["out_of_policy_lines"],
        report["out_of_policy_amount"],
    )
    assert (now["lines"], now["amount"]) == (4, "435.50")
    assert simulated["out_of_policy"]["proposed"] == now
    classes = simulated["current"]
    # Every matched sales line is compared (those no policy judges too, as "not_judged"); the
    # lines left out (not_judged) are the unmatched ones here: no return, no stock adjustment.
    assert simulated["lines"] == report["lines"] - report["unmatched_lines"]
    assert simulated["lines"] + simulated["not_judged"] == report["lines"]
    assert (simulated["unmatched_lines"], simulated["unjudged_lines"]) == (
        report["unmatched_lines"],
        report["unjudged_lines"],
    )
    assert sum(Decimal(c["special_discount"]) for c in classes.values()) == Decimal(
        report["special_discount"]
    )
    text = owner("policy", "simulate", str(same)).stdout
    assert "Out of policy (as the report counts it" in text
    assert "now 435.50 in 4 lines" in text
    owner("policy", "simulate", str(same), "-o", str(tmp_path / "w.html"))
    page = (tmp_path / "w.html").read_text()
    assert "<th>Out of policy</th><td class='num'>4</td><td class='num'>435.50</td>" in page
    owner("policy", "simulate", str(same), "-o", str(tmp_path / "w.xlsx"))
    rows = list(load_workbook(tmp_path / "w.xlsx")["Classes"].values)
    assert rows[-1][:3] == ("Out of policy (as the report counts it)", 4, Decimal("435.5"))


# Last year's deals: the policy in force since 2026 judges none of them.
UNPOLICED = (
    "Deal,Date,Customer,SKU,Qty,Net Price\n"
    "A,2025-03-01,Acme,HW-100,1,96\n"  # 20 % off 120: a manager's
    "B,2025-03-02,Acme,HW-100,1,118\n"  # 1.67 %: within the rep's 2 %
    "C,2025-03-03,Globex,SV-1,1,70\n"  # below the Services margin floor (80.00): rejected
    "D,2026-03-02,Acme,SV-1,1,100\n"  # judged now: approved
    "E,2026-03-03,Globex,HW-999,1,50\n"  # no list price: unmatched
)


def test_simulate__lines_no_policy_judges_now_are_compared_as_not_judged(
    cli: Cli, tmp_path: Path, workbook
) -> None:
    """Given a price book since 2025, a policy in force since 2026 and deals of both years,
    when the owner simulates a policy back-dated to 2025, then last year's lines are compared
    (they were left out): the current side holds them as "not_judged", each appears in the
    changed lines with the class the proposed policy gives it, the lines add up to the
    report's, and the report's unjudged lines are the current "not_judged" class. A proposed
    file that is not in force on their dates (no effective_from: from today) leaves them not
    judged on both sides, and says how to judge them."""
    from decimal import Decimal

    book = workbook([["SKU", "Family", "List Price", "Unit Cost"],
                     ["HW-100", "Hardware", 120, 70], ["SV-1", "Services", 100, 60]])  # fmt: skip
    assert cli("pricebook", "import", str(book), "--effective", "2025-01-01").exit_code == 0
    in_force = tmp_path / "g.toml"
    in_force.write_text(POLICY.replace(
        "approval_valid_days = 30", "approval_valid_days = 30\neffective_from = 2026-01-01"))  # fmt: skip
    assert cli("policy", "load", str(in_force)).exit_code == 0
    assert cli("deals", "import", str(deals_csv(tmp_path, UNPOLICED))).exit_code == 0
    back_dated = tmp_path / "back-dated.toml"
    back_dated.write_text(STRICTER)  # effective_from = 2025-01-01

    simulated = cli.json("policy", "simulate", str(back_dated))
    report = cli.json("report")["totals"]
    assert (simulated["lines"], simulated["unjudged_lines"], simulated["unmatched_lines"]) == (
        4, 3, 1,
    )  # fmt: skip
    assert simulated["lines"] == report["lines"] - report["unmatched_lines"]
    assert simulated["unjudged_lines"] == report["unjudged_lines"] == 3
    assert simulated["current"]["not_judged"] == {
        "lines": 3, "special_discount": "56.00", "below_floor": 0,
    }  # fmt: skip
    assert simulated["current"]["approved"]["lines"] == 1
    assert sum(Decimal(c["special_discount"]) for c in simulated["current"].values()) == Decimal(
        report["special_discount"]
    )
    assert "not_judged" not in simulated["proposed"]
    assert sum(c["lines"] for c in simulated["proposed"].values()) == simulated["lines"]
    moved = {c["deal"]: (c["current"], c["proposed"]) for c in simulated["changed"]}
    assert moved == {
        "A": ("not_judged", "pending:manager"),
        "B": ("not_judged", "approved"),
        "C": ("not_judged", "rejected"),
    }
    # Nobody approved A, and C is below its floor: out of policy under the proposed policy only.
    oop = simulated["out_of_policy"]
    assert (oop["current"]["lines"], oop["proposed"]["lines"]) == (0, 2)
    assert simulated["special_discount"]["current"]["inside"] == "0.00"
    text = cli("policy", "simulate", str(back_dated)).stdout
    assert (
        '3 of them have no policy in force on their dates: they are compared as "not_judged"'
        in text
    )
    assert "not_judged" in text.split("Class", 1)[1]

    today_on = tmp_path / "from-today.toml"
    today_on.write_text(POLICY)  # no effective_from: in force from the day it is loaded
    later = cli.json("policy", "simulate", str(today_on))
    assert later["current"]["not_judged"]["lines"] == later["proposed"]["not_judged"]["lines"] == 3
    assert all(c["current"] != "not_judged" for c in later["changed"])
    assert later["out_of_policy"]["proposed"]["lines"] == 0
    said = cli("policy", "simulate", str(today_on)).stdout
    assert "3 are before from-today.toml's effective_from" in said
    # What the proposed policy says of them is what request --check says under it.
    assert cli("policy", "load", str(back_dated)).exit_code == 0
    for sku, price, klass in (("HW-100", "96", "pending:manager"), ("SV-1", "70", "rejected")):
        check = cli.json("request", "--customer", "Acme", "--reason", "x", sku, "--qty", "1",
                         "--price", price, "--check", expect=1 if klass == "rejected" else 0)  # fmt: skip
        assert (check["status"], check["level"]) == (
            ("rejected", None) if klass == "rejected" else ("pending", "manager")
        )


RETURNS = (
    "Deal,Date,Customer,SKU,Qty,Net Price\n"
    "S1,2026-03-02,Acme,SV-1,2,100\n"  # a sale at list: approved
    "S2,2026-03-02,Acme,SV-1,1,97\n"  # 3 %: within the rep's 5 %
    "CR-1,2026-03-05,Acme,SV-1,-1,60\n"  # a refund below list: not a 40 % discount
    "CR-2,2026-03-06,Acme,HW-100,-1,140\n"  # a refund above list: not a premium
    "ADJ-1,2026-03-31,,SV-1,-3,0\n"  # stock written off: not a 100 % discount
    "ADJ-2,2026-03-31,,DAMAGED,-2,0\n"  # a write-off under a code no book lists: still one
    "F-1,2026-03-02,Acme,FREIGHT,1,25\n"  # a fee no price book lists: unmatched
)


def test_simulate__returns_and_stock_adjustments_are_never_judged_and_are_counted(
    owner: Cli, tmp_path: Path
) -> None:
    """Given sales, two credit-invoice lines (a refund below list and one above it), a stock
    write-off (negative quantity at price 0) and a fee, when the owner simulates a stricter
    policy, then only the two sales are in the classes; the returns are counted apart
    (returns_lines), the write-offs and the fee are left out too, and every stored line is
    either compared or left out, in the report's parts (a write-off of a code no book lists is
    a stock adjustment there, not unmatched)."""
    owner("deals", "import", str(deals_csv(tmp_path, RETURNS)))
    policy = tmp_path / "stricter.toml"
    policy.write_text(STRICTER)
    simulated = owner.json("policy", "simulate", str(policy))
    assert (simulated["lines"], simulated["returns_lines"], simulated["unmatched_lines"]) == (
        2, 2, 1,
    )  # fmt: skip
    assert simulated["not_judged"] == 5  # the fee, two returns, two stock adjustments
    totals = owner.json("report")["totals"]
    assert (totals["unmatched_lines"], totals["returns_lines"]) == (1, 2)
    assert totals["stock_adjustment_lines"] == simulated["stock_adjustment_lines"] == 2
    assert simulated["lines"] + simulated["not_judged"] == len(RETURNS.splitlines()) - 1
    assert {n: c["lines"] for n, c in simulated["current"].items()} == {"approved": 2}
    assert {n: c["lines"] for n, c in simulated["proposed"].items()} == {
        "approved": 1, "pending:manager": 1,
    }  # fmt: skip
    assert [c["deal"] for c in simulated["changed"]] == ["S2"]
    assert simulated["out_of_policy"]["current"] == {"lines": 0, "amount": "0.00"}
    text = owner("policy", "simulate", str(policy)).stdout
    assert (
        "lines left out: 1 unmatched (no list price on their dates), 2 returns (never judged "
        "against a policy), 2 stock adjustments (negative quantity at price 0)."
    ) in text
    owner("policy", "simulate", str(policy), "-o", str(tmp_path / "w.html"))
    said = "2 deal lines (left out: 1 unmatched, 2 returns, 2 stock adjustments)"
    assert said in (tmp_path / "w.html").read_text()
    owner("policy", "simulate", str(policy), "-o", str(tmp_path / "w.xlsx"))
    assert said.split(" (")[1] in load_workbook(tmp_path / "w.xlsx")["Classes"]["A1"].value


def test_policy_load__the_same_file_again_stores_nothing(owner: Cli, tmp_path: Path) -> None:
    """Given the policy in force loaded from g.toml, when the owner loads g.toml again, then
    no second version is stored, nothing is re-matched or audited, and she is told so; a
    changed file is a new version."""
    before = owner.json("policy", "show")
    audit_before = owner.json("audit", "verify")
    again = owner("policy", "load", str(tmp_path / "g.toml"))
    assert again.exit_code == 0, again.stderr
    assert "Policy unchanged: g.toml is already version 1" in again.stdout
    assert "nothing was stored" in again.stdout
    document = owner.json("policy", "load", str(tmp_path / "g.toml"))
    assert (document["version"], document["unchanged"]) == (1, True)
    assert owner.json("policy", "show")["version"] == before["version"] == 1
    assert owner.json("audit", "verify") == audit_before
    changed = tmp_path / "g.toml"
    changed.write_text(
        changed.read_text().replace("approval_valid_days = 30", "approval_valid_days = 31")
    )
    document = owner.json("policy", "load", str(changed))
    assert (document["version"], document["unchanged"]) == (2, False)


def test_simulate__a_deal_size_rule_judges_each_deal_on_its_whole_value(
    cli: Cli, tmp_path: Path
) -> None:
    """Given a deal of 6 x 100.00 and 6 x 90.00 sold at 15 % (1,140.00 at standard prices)
    stored under a policy whose rep may grant 5 %, when the owner simulates the policy that
    lets a rep grant 20 % on deals of 1,000 or more, then both lines move to approved: the
    deal's value is its lines' together (each line alone, 600.00 and 540.00, is below 1,000),
    and so it is for a period holding only one of them."""
    from tests.test_cli_requests import DEAL_VALUE_POLICY, deal_value_store

    deal_value_store(cli, tmp_path)
    current = tmp_path / "current.toml"
    current.write_text(DEAL_VALUE_POLICY.split("[[rule]]")[0])
    assert cli("--user", "dana", "policy", "load", str(current)).exit_code == 0
    deals = deals_csv(
        tmp_path,
        "Order ID,Order Date,Customer,SKU,Quantity,Net Price\n"
        "SO-1,2025-03-01,Acme,HW-1,6,85.00\nSO-1,2025-03-02,Acme,HW-2,6,76.50\n",
    )
    assert cli("deals", "import", str(deals)).exit_code == 0
    proposed = tmp_path / "proposed.toml"
    proposed.write_text(DEAL_VALUE_POLICY)
    document = cli.json("policy", "simulate", str(proposed))
    assert [(c["sku"], c["current"], c["proposed"]) for c in document["changed"]] == [
        ("HW-1", "pending:manager", "approved"),
        ("HW-2", "pending:manager", "approved"),
    ]
    second_day = cli.json("policy", "simulate", str(proposed), "--from", "2025-03-02")
    assert [(c["sku"], c["proposed"]) for c in second_day["changed"]] == [("HW-2", "approved")]


# Sales above their standard price, judged (2026) and not judged by any policy (2025).
ABOVE_STANDARD = (
    "Deal,Date,Customer,SKU,Qty,Net Price\n"
    "A,2025-03-01,Acme,HW-100,1,96\n"  # 20 % off 120: special discount 24.00, not judged
    "B,2025-03-02,Acme,HW-100,10,150\n"  # 30.00 above list each: 300.00 above standard
    "C,2026-03-02,Acme,SV-1,1,97\n"  # 3 % off 100: special discount 3.00, approved
    "D,2026-03-03,Globex,SV-1,5,140\n"  # 200.00 above standard, judged
)


def test_simulate__sales_above_standard_never_cancel_the_discounts(
    cli: Cli, tmp_path: Path, workbook
) -> None:
    """Given sales above their standard price beside discounted ones, some judged by the
    policy in force and some by none, when the owner simulates a policy, then each class's
    special discount counts only the lines sold below standard, as the report does: the
    classes add up to the report's special discount (never lowered by the premiums) and the
    current "not_judged" class is the report's unjudged special discount."""
    from decimal import Decimal

    book = workbook([["SKU", "Family", "List Price", "Unit Cost"],
                     ["HW-100", "Hardware", 120, 70], ["SV-1", "Services", 100, 60]])  # fmt: skip
    assert cli("pricebook", "import", str(book), "--effective", "2025-01-01").exit_code == 0
    in_force = tmp_path / "g.toml"
    in_force.write_text(POLICY.replace(
        "approval_valid_days = 30", "approval_valid_days = 30\neffective_from = 2026-01-01"))  # fmt: skip
    assert cli("policy", "load", str(in_force)).exit_code == 0
    assert cli("deals", "import", str(deals_csv(tmp_path, ABOVE_STANDARD))).exit_code == 0
    back_dated = tmp_path / "back-dated.toml"
    back_dated.write_text(STRICTER)

    report = cli.json("report")["totals"]
    assert (report["special_discount"], report["unjudged_special_discount"]) == ("27.00", "24.00")
    assert report["above_standard_amount"] == "500.00"
    simulated = cli.json("policy", "simulate", str(back_dated))
    for side in ("current", "proposed"):
        classes = simulated[side]
        assert sum(Decimal(c["special_discount"]) for c in classes.values()) == Decimal(
            report["special_discount"]
        ), side
        assert all(Decimal(c["special_discount"]) >= 0 for c in classes.values()), side
    assert simulated["current"]["not_judged"]["special_discount"] == "24.00"
    assert (
        simulated["current"]["not_judged"]["special_discount"]
        == (report["unjudged_special_discount"])
    )
    assert simulated["current"]["approved"]["special_discount"] == "3.00"
    inside = simulated["special_discount"]["proposed"]
    assert Decimal(inside["inside"]) + Decimal(inside["outside"]) == Decimal("27.00")
