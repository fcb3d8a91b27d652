"""Contracted prices: a customer's standing price for a period, asked for and approved as a
request, then used on every order without asking again.

The sales fixture's team: dana (owner), marco and nina (managers), priya (rep). HW-100 lists at
120; the policy lets a rep give 2 % off it and a manager 20 %: 110 (8.33 % off) is a manager's.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from pricing.storage.store import utcnow
from tests.conftest import Cli


def contract(cli: Cli, starts: date, ends: date, *line: str, expect: int = 0) -> dict:
    done = cli("request", "--customer", "Acme", "--reason", "framework agreement", "--contract",
               "--from", starts.isoformat(), "--to", ends.isoformat(), *line, "--json",
               user="priya")  # fmt: skip
    assert done.exit_code == expect, done.output
    return dict(json.loads(done.stdout))


def in_force(cli: Cli, folder: Path, since: date, head: str = "", rule: str = "") -> None:
    """The fixture's policy (``head``: top-level keys before it, ``rule``: a rule after its
    own), in force since ``since``."""
    from tests.test_cli_requests import TEAM
    from tests.test_policy import POLICY

    policy = folder / "policy.toml"
    policy.write_text(f'effective_from = "{since}"\n{head}' + POLICY + rule + TEAM)
    assert cli("policy", "load", str(policy), user="dana").exit_code == 0


def order(cli: Cli, customer: str, price: str) -> dict:
    return cli.json("request", "--customer", customer, "--reason", "order", "HW-100", "--qty",
                    "5", "--price", price, user="priya")  # fmt: skip


def test_a_contract_is_asked_for_judged_and_approved_like_any_request(sales: Cli) -> None:
    today = utcnow().date()
    asked = contract(sales, today, today + timedelta(days=89), "HW-100", "--qty", "1",
                     "--price", "110")  # fmt: skip
    assert (asked["status"], asked["level"]) == ("pending", "manager")
    assert asked["contract"] == {"starts": today.isoformat(),
                                 "ends": (today + timedelta(days=89)).isoformat(),
                                 "ended_at": None, "ended_by": None}  # fmt: skip
    assert sales("approve", "R-000001", user="priya").exit_code == 1  # (nobody decides their own)
    approved = sales.json("approve", "R-000001", user="marco")
    assert approved["expires_at"] == f"{today + timedelta(days=90)}T00:00:00Z"  # its last day whole
    [listed] = sales.json("contracts")
    assert (listed["id"], listed["state"], listed["expiring"]) == ("R-000001", "in force", False)
    assert listed["prices"] == [{"sku": "HW-100", "price": "110.00", "min_qty": 1,
                                 "list_price": "120.00", "list_below": False}]  # fmt: skip
    said = sales("approve", "R-000001", user="nina")
    assert said.exit_code == 1
    assert sales("audit", "verify").exit_code == 0


def test_an_order_at_or_above_the_contracted_price_needs_no_approval(sales: Cli) -> None:
    today = utcnow().date()
    contract(sales, today, today + timedelta(days=30), "HW-100", "--qty", "1", "--price", "110")
    assert order(sales, "Acme", "110")["status"] == "pending"  # (not approved yet: nothing holds)
    assert sales("approve", "R-000001", user="marco").exit_code == 0

    at = order(sales, "ACME ", "110")
    above = order(sales, "Acme", "115")
    below = order(sales, "Acme", "109.99")
    elsewhere = order(sales, "Globex", "110")

    assert (at["status"], above["status"]) == ("approved", "approved")
    assert (
        "at or above Acme's contracted price 110.00 for 1 or more (R-000001"
        in (at["lines"][0]["reasons"][-1])
    )
    assert (below["status"], elsewhere["status"]) == ("pending", "pending")
    quoted = sales.json("quote", "HW-100", "--qty", "5", "--customer", "acme")
    assert quoted["contract"] == {"id": "R-000001", "price": "110.00", "min_qty": 1,
                                  "starts": today.isoformat(),
                                  "ends": (today + timedelta(days=30)).isoformat()}  # fmt: skip
    assert sales.json("quote", "HW-100", "--qty", "5", "--customer", "Globex")["contract"] is None
    human = sales("quote", "HW-100", "--qty", "5", "--customer", "Acme")
    assert "Contracted price for Acme: 110.00 USD for 1 or more (R-000001" in human.stdout


def test_a_deal_at_the_contracted_price_is_in_policy_through_its_last_day_not_after(
    sales: Cli, tmp_path: Path
) -> None:
    """Given a contract from ``first`` to ``last`` at 110, when deals of the customer at 110
    close the day before, on the first day, on the last day and the day after, then only the
    two inside are in policy (both days included); one at 105 inside is below the contract."""
    today = utcnow().date()
    first, last = today, today + timedelta(days=10)
    in_force(sales, tmp_path, since=first - timedelta(days=30))
    contract(sales, first, last, "HW-100", "--qty", "1", "--price", "110")
    assert sales("approve", "R-000001", user="marco").exit_code == 0
    rows = [("D-1", first - timedelta(days=1), "110"), ("D-2", first, "110"),
            ("D-3", last, "110"), ("D-4", last + timedelta(days=1), "110"),
            ("D-5", today + timedelta(days=1), "105")]  # fmt: skip
    deals = tmp_path / "deals.csv"
    deals.write_text("Deal,Date,Customer,SKU,Qty,Net Price\n"
                     + "".join(f"{d},{on},Acme,HW-100,1,{p}\n" for d, on, p in rows))  # fmt: skip
    assert sales("deals", "import", str(deals)).exit_code == 0

    report = sales.json("report")
    totals = report["totals"]
    assert totals["unjudged_lines"] == 0
    assert totals["out_of_policy_lines"] == 3  # D-1, D-4, and D-5 below the contract
    assert totals["below_approved_lines"] == 1  # D-5
    # The contract's leakage, its own part of the waterfall: D-2 and D-3, 10.00 off 120 each.
    assert (totals["contract_lines"], totals["contract_discount"]) == (2, "20.00")
    steps = {step["step"]: step["amount"] for step in report["waterfall"]}
    assert steps["Contracted prices (special discount under contracts)"] == "-20.00"
    assert steps["Special discount within policy or approved"] == "0.00"
    listed = sales("report", "-o", str(tmp_path / "report.xlsx"))
    assert listed.exit_code == 0
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "report.xlsx")["Out of policy"]
    why = {row[1]: row[-1] for row in sheet.iter_rows(min_row=2, values_only=True) if row[1]}
    assert why["D-5"] == "needs manager approval; below the customer's contracted price"
    assert why["D-4"] == "needs manager approval; no approved request"
    inside = sales.json("report", "--from", first.isoformat(), "--to", last.isoformat())
    assert inside["totals"]["out_of_policy_lines"] == 1  # D-5 only

    said = sales("contracts", "end", "R-000001", user="marco")  # (a manager: no owner)
    assert said.exit_code == 1 and "only an owner (owner) may end a contract early" in said.stderr
    ended = sales.json("contracts", "end", "R-000001", "--on", today.isoformat(), "--note",
                       "customer moved to list", user="dana")  # fmt: skip
    assert ended["contract"]["ends"] == today.isoformat()
    assert ended["contract"]["ended_by"] == "dana"
    assert sales.json("report")["totals"]["out_of_policy_lines"] == 4  # D-3 now after its end
    assert sales.json("report")["totals"]["contract_lines"] == 1  # D-2, on its first (last) day
    assert sales.json("requests", "show", "R-000001")["events"][-1]["action"] == "ended"
    assert sales("audit", "verify").exit_code == 0


def test_the_policy_bounds_a_contract_and_may_ask_more_of_it(sales: Cli, tmp_path: Path) -> None:
    today = utcnow().date()
    in_force(sales, tmp_path, today, 'contract_max_days = 30\ncontract_level = "manager"\n')
    shown = sales.json("policy", "show")["policy"]
    assert (shown["contract_max_days"], shown["contract_level"]) == (30, "manager")
    assert "contracts of at most 30 days, each needing manager" in sales("policy", "show").stdout
    too_long = sales("request", "--customer", "Acme", "--reason", "r", "--contract", "--from",
                     today.isoformat(), "--to", (today + timedelta(days=30)).isoformat(),
                     "HW-200", "--qty", "1", "--discount", "1", user="priya")  # fmt: skip
    assert too_long.exit_code == 2
    assert "31 days; the policy allows contracts of at most 30 days" in too_long.stderr
    small = contract(sales, today, today + timedelta(days=29), "HW-200", "--qty", "1",
                     "--discount", "1")  # fmt: skip
    assert (small["status"], small["level"]) == ("pending", "manager")
    assert "a contract needs manager or above" in small["lines"][0]["reasons"][-1]
    for args, why in ((["--to", today.isoformat()], "a period is for a contract"),
                      (["--contract", "--from", today.isoformat()], "its first and last day")):  # fmt: skip
        done = sales("request", "--customer", "Acme", "--reason", "r", *args, "HW-200", "--qty",
                     "1", "--discount", "1", user="priya")  # fmt: skip
        assert done.exit_code == 2 and why in done.stderr, done.output


def test_a_price_book_moving_list_below_a_contract_flags_it(sales: Cli, tmp_path: Path) -> None:
    from tests.conftest import write_workbook

    today = utcnow().date()
    contract(sales, today, today + timedelta(days=20), "HW-100", "--qty", "1", "--price", "110")
    assert sales("approve", "R-000001", user="marco").exit_code == 0
    book = write_workbook(tmp_path / "cheaper.xlsx", {"Price Book": [
        ["SKU", "Name", "Family", "List Price", "Unit Cost"],
        ["HW-100", "Router", "Hardware", 105, 70], ["HW-200", "Switch", "Hardware", 100, 50],
        ["SV-1", "Install day", "Services", 100, 60], ["SW-1", "Seat", "Software", 50, None],
    ]})  # fmt: skip
    assert sales("pricebook", "import", str(book), "--effective", today.isoformat()).exit_code == 0
    [listed] = sales.json("contracts", "--expiring", "30")
    assert listed["expiring"] is True
    assert (
        listed["prices"][0]["list_below"] is True and listed["prices"][0]["list_price"] == "105.00"
    )
    human = sales("contracts")
    assert "list below contract" in human.stdout and "ends within 30 days" in human.stdout
    assert sales.json("contracts", "--expiring", "5") == []
    assert sales.json("contracts", "--customer", "Globex") == []


def test_a_contract_price_holds_from_its_quantity_up(sales: Cli, tmp_path: Path) -> None:
    """A contract line's quantity is the least an order needs for its price (the price was
    judged against that quantity's standard price): a price for 60 or more covers no order of
    one, in a request or in the deal history."""
    today = utcnow().date()
    in_force(sales, tmp_path, since=today - timedelta(days=30))
    volume = contract(sales, today, today + timedelta(days=30), "HW-100", "--qty", "60",
                      "--price", "110")  # 3.5 % off the tier price 114: manager  # fmt: skip
    assert sales("approve", volume["id"], user="marco").exit_code == 0
    single = sales.json("request", "--customer", "Acme", "--reason", "order", "HW-100", "--qty",
                        "1", "--price", "110", user="priya")  # fmt: skip
    bulk = sales.json("request", "--customer", "Acme", "--reason", "order", "HW-100", "--qty",
                      "60", "--price", "110", user="priya")  # fmt: skip
    assert (single["status"], bulk["status"]) == ("pending", "approved")
    assert "110.00 for 60 or more" in bulk["lines"][0]["reasons"][-1]
    assert sales.json("quote", "HW-100", "--qty", "1", "--customer", "Acme")["contract"] is None
    quoted = sales.json("quote", "HW-100", "--qty", "60", "--customer", "Acme")["contract"]
    assert (quoted["price"], quoted["min_qty"]) == ("110.00", 60)
    deals = tmp_path / "deals.csv"
    deals.write_text("Deal,Date,Customer,SKU,Qty,Net Price\n"
                     f"D-1,{today},Acme,HW-100,1,110\nD-2,{today},Acme,HW-100,60,110\n")  # fmt: skip
    assert sales("deals", "import", str(deals)).exit_code == 0
    totals = sales.json("report")["totals"]
    assert (totals["out_of_policy_lines"], totals["contract_lines"]) == (1, 1)  # D-1; D-2


def test_a_contract_judges_days_to_come_only(sales: Cli) -> None:
    """A contract starts today at the earliest (it never puts deals already closed in policy);
    once in force only an owner ends it, never before its first day, and a rep may withdraw it
    only until then."""
    today = utcnow().date()
    past = sales("request", "--customer", "Acme", "--reason", "r", "--contract", "--from",
                 (today - timedelta(days=1)).isoformat(), "--to", today.isoformat(), "HW-100",
                 "--qty", "1", "--price", "110", user="priya")  # fmt: skip
    assert past.exit_code == 2 and "a contract starts today at the earliest" in past.stderr
    now = contract(
        sales, today, today + timedelta(days=9), "HW-100", "--qty", "1", "--price", "110"
    )
    later = contract(sales, today + timedelta(days=5), today + timedelta(days=9), "HW-100",
                     "--qty", "1", "--price", "110")  # fmt: skip
    for ident in (now["id"], later["id"]):
        assert sales("approve", ident, user="marco").exit_code == 0
    for args in (["requests", "withdraw", now["id"]],
                 ["requests", "change", now["id"], "HW-100", "--qty", "1", "--price", "109"]):  # fmt: skip
        refused = sales(*args, user="priya")
        assert refused.exit_code == 1 and "an owner ends it (pricing contracts end)" in (
            refused.stderr
        ), args
    upcoming = contract(sales, today + timedelta(days=5), today + timedelta(days=9), "HW-100",
                        "--qty", "1", "--price", "110")  # fmt: skip
    assert sales("approve", upcoming["id"], user="marco").exit_code == 0
    cancelled = sales.json("contracts", "end", later["id"], "--on", today.isoformat(), user="dana")
    assert cancelled["contract"]["ends"] == today.isoformat()  # (before its first day: cancelled)
    withdrawn = sales.json("requests", "withdraw", upcoming["id"], user="priya")
    assert withdrawn["status"] == "withdrawn"
    states = {c["id"]: c["state"] for c in sales.json("contracts")}
    assert states == {now["id"]: "in force", later["id"]: "ended", upcoming["id"]: "withdrawn"}


def test_a_rejected_contract_is_listed_with_what_it_asked(sales: Cli) -> None:
    today = utcnow().date()
    asked = contract(sales, today, today + timedelta(days=9), "SV-1", "--qty", "1", "--price",
                     "70", expect=1)  # below SV-1's margin floor: rejected  # fmt: skip
    [listed] = sales.json("contracts", "--customer", "Acme")
    assert (listed["id"], listed["state"]) == (asked["id"], "rejected")
    assert [p["price"] for p in listed["prices"]] == ["70.00"]


def test_what_a_contract_gives_ends_with_it_and_it_is_no_deal(sales: Cli) -> None:
    """An order approved by a contract's price is approved no longer than the contract; a
    contract is never won or lost (its deals are imported); a far future, and a contract level
    at the lowest level, are refused."""
    today = utcnow().date()
    short = contract(sales, today, today + timedelta(days=3), "HW-100", "--qty", "1", "--price",
                     "110")  # fmt: skip
    assert sales("approve", short["id"], user="marco").exit_code == 0
    ordered = order(sales, "Acme", "110")
    assert ordered["status"] == "approved"
    assert ordered["expires_at"] == f"{today + timedelta(days=4)}T00:00:00Z"  # (not 30 days)
    won = sales("requests", "won", short["id"], user="priya")
    assert won.exit_code == 1 and "is a contract, not a deal" in won.stderr
    far = sales("request", "--customer", "Acme", "--reason", "r", "--contract", "--from",
                "9999-12-01", "--to", "9999-12-31", "HW-100", "--qty", "1", "--price", "110",
                user="priya")  # fmt: skip
    assert far.exit_code == 2 and "days ahead" in far.stderr, far.output


def test_a_contract_written_into_the_database_for_a_moment_grants_nothing(sales: Cli) -> None:
    """Given an approved request for one deal, when someone holding the database gives it a
    contract period for a moment, then an order at its price is not approved by it (the row
    does not hold against the keyed audit), and nothing stays behind to verify."""
    from sqlalchemy import text

    ask_ = sales.json("request", "--customer", "Acme", "--reason", "deal", "HW-100", "--qty",
                      "1", "--price", "110", user="priya")  # fmt: skip
    assert sales("approve", ask_["id"], user="marco").exit_code == 0
    today = utcnow().date()
    with sales.store().engine.begin() as conn:
        conn.execute(text("INSERT INTO contract_terms (request_id, starts, ends) "
                          "VALUES (1, :s, :e)"), {"s": today, "e": today + timedelta(days=30)})  # fmt: skip
    assert order(sales, "Acme", "110")["status"] == "pending"
    with sales.store().engine.begin() as conn:
        conn.execute(text("DELETE FROM contract_terms"))
    assert sales("audit", "verify").exit_code == 0


def test_a_contract_covers_no_more_than_its_approver_gave(sales: Cli, tmp_path: Path) -> None:
    """Given big deals that need the owner, when a rep's contract (approved by the rule, within
    her limit) or a manager's covers their price, then a big order at it still needs the owner,
    in a request and in the report; and a contract approved after its first day covers from the
    day approved, never the days it waited."""
    from pricing.requests import lifecycle

    today = utcnow().date()
    in_force(sales, tmp_path, today,
             rule="\n[[rule]]\nmin_deal_value = 5000\nlimits = { rep = 0, manager = 0 }\n")  # fmt: skip
    own = contract(sales, today, today + timedelta(days=20), "HW-200", "--qty", "1", "--price",
                   "91")  # within a rep's 10 %: approved by the rule  # fmt: skip
    assert own["status"] == "approved"
    big = sales.json("request", "--customer", "Acme", "--reason", "big", "HW-200", "--qty", "60",
                     "--price", "91", "--check", user="priya")  # fmt: skip
    assert (big["status"], big["level"]) == ("pending", "owner")
    deals = tmp_path / "deals.csv"
    deals.write_text(f"Deal,Date,Customer,SKU,Qty,Net Price\nD-1,{today},Acme,HW-200,60,91\n")
    assert sales("deals", "import", str(deals)).exit_code == 0
    assert sales.json("report")["totals"]["out_of_policy_lines"] == 1
    waited = contract(sales, today, today + timedelta(days=20), "HW-100", "--qty", "1", "--price",
                      "110")  # fmt: skip
    later = utcnow() + timedelta(days=2)
    approved = lifecycle.approve(sales.store(), waited["id"], user="marco", now=later)
    assert approved.contract is not None and approved.contract.starts == later.date()
    assert "covers from" in (approved.events[-1].note or "")


def test_the_waterfall_adds_up_to_the_cent_with_amounts_below_one() -> None:
    """Steps of sub-cent amounts (line totals of 110.005 under a contract and 95.005 within
    policy) add up to net as shown: each step is the move between two rounded levels."""
    from decimal import Decimal

    from pricing.analysis.report_document import TOTAL_STEPS, waterfall
    from pricing.analysis.report_figures import Metrics

    figures = Metrics(list_revenue=Decimal(240), standard_revenue=Decimal(240),
                      net_revenue=Decimal("205.01"), special_discount=Decimal("34.99"),
                      contract_discount=Decimal("9.995"))  # fmt: skip
    steps = waterfall(figures, "USD")
    moves = sum(Decimal(s["amount"] or 0) for s in steps if s["step"] not in TOTAL_STEPS)
    assert Decimal(steps[0]["amount"] or 0) + moves == Decimal(steps[-1]["amount"] or 0)
    assert {s["step"]: s["amount"] for s in steps}["Net revenue"] == "205.01"
