"""Every deals import is a thing the owner can see and take back: listed, recognised when the
same file comes again, refused when it would count sales twice, undone, replaced."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from pricing.storage.store import utcnow
from tests.conftest import Cli, postgres_schema, write_workbook
from tests.test_cli_deals_report import approved_request

BREAKDOWNS = ("rep", "family", "sku", "customer", "month")


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def reports(cli: Cli) -> dict[str, Any]:
    """Every report breakdown, and the totals, as JSON."""
    found = {by: cli.json("report", "--by", by) for by in BREAKDOWNS}
    found["all"] = cli.json("report", "--by", ",".join(BREAKDOWNS))
    return found


@pytest.fixture
def fresh(db_url: str, tmp_path: Path) -> Iterator[Callable[[], Cli]]:
    """Another empty store of the same kind as ``cli``'s (SQLite file or PostgreSQL schema):
    what the store would be had a file never been imported."""
    made: list[Cli] = []
    contexts: list[Any] = []

    def make() -> Cli:
        if db_url.startswith("sqlite"):
            url = f"sqlite:///{tmp_path / f'fresh-{len(made)}.db'}"
        else:
            context = postgres_schema()
            url = context.__enter__()
            contexts.append(context)
        made.append(Cli(url))
        return made[-1]

    yield make
    for cli in made:
        cli.close()
    for context in contexts:
        context.__exit__(None, None, None)


def the_owner_setup(cli: Cli, tmp_path: Path) -> None:
    """What the ``owner`` fixture stores: two editions and the policy in force since 2025."""
    from tests.test_policy import POLICY

    v1 = write_workbook(tmp_path / "v1.xlsx", {
        "Price Book": [["SKU", "Family", "List Price", "Unit Cost"], ["HW-100", "Hardware", 120, 70],
                       ["SV-1", "Services", 100, 60]],
        "Tiers": [["SKU", "Min Qty", "Price"], ["HW-100", 50, 114]],
    })  # fmt: skip
    v2 = write_workbook(tmp_path / "v2.xlsx", {
        "Price Book": [["SKU", "Family", "List Price", "Unit Cost"], ["HW-100", "Hardware", 130, 70],
                       ["SV-1", "Services", 100, 60]],
    })  # fmt: skip
    assert cli("pricebook", "import", str(v1), "--effective", "2025-01-01").exit_code == 0
    assert cli("pricebook", "import", str(v2), "--effective", "2026-01-01").exit_code == 0
    policy = tmp_path / "g.toml"
    policy.write_text(
        POLICY.replace(
            "approval_valid_days = 30", "approval_valid_days = 30\neffective_from = 2025-01-01"
        )
        + '\n[[person]]\nname = "marco"\nrole = "manager"\n'
    )
    assert cli("policy", "load", str(policy)).exit_code == 0


# Listing and recognising --------------------------------------------------------------------

ORDERS = """Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price
O-1,2025-06-15,Acme,priya,HW-100,10,108.00
O-1,2025-06-15,Acme,priya,SV-1,2,90.00
O-2,2025-07-01,Globex,sam,HW-100,60,100.00
"""


def test_imports__each_listed_with_its_file_sha256_dates_and_mapping(
    owner: Cli, tmp_path: Path
) -> None:
    path = write(tmp_path, "orders.csv", ORDERS)
    imported = owner.json("deals", "import", str(path), "--column", "rep=Sales Rep")
    listed = owner.json("deals", "imports")
    assert [i["id"] for i in listed] == [imported["id"]] == [1]
    (one,) = listed
    assert one["source"] == "orders.csv"
    assert one["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert (one["lines"], one["added"]) == (3, 3)
    assert (one["first_date"], one["last_date"]) == ("2025-06-15", "2025-07-01")
    assert one["columns"]["rep"] == "Sales Rep" and one["columns"]["date"] == "Order Date"
    assert one["date_format"] is None and one["imported_by"] == owner.user
    table = owner("deals", "imports")
    assert (
        table.exit_code == 0 and "orders.csv" in table.output and one["sha256"][:12] in table.output
    )


def test_import__the_same_file_again_adds_nothing_and_names_the_import_holding_it(
    owner: Cli, tmp_path: Path
) -> None:
    path = write(tmp_path, "orders.csv", ORDERS)
    owner.json("deals", "import", str(path))
    again = owner.json("deals", "import", str(path))
    assert (again["already_imported_as"], again["added"], again["id"]) == (1, 0, None)
    human = owner("deals", "import", str(path))
    assert human.exit_code == 0 and "import 1 holds this very file" in human.output
    assert len(owner.json("deals", "imports")) == 1
    assert owner.json("report")["totals"]["lines"] == 3


def test_import__a_file_imported_before_statuses_were_read_is_the_same_reading_after_it(
    owner: Cli, tmp_path: Path
) -> None:
    """Given a file with a Status column imported before the upgrade that reads statuses
    (its record has no status in its mapping and no status filter: it kept every line), when
    the owner imports the identical file after it, then nothing is added and it exits 0 (the
    code before refused it: "imported as import 1 with another column mapping"); with
    --all-statuses (every line kept, as then) import 1 holds this very file."""
    import json

    from sqlalchemy import text

    path = write(tmp_path, "orders.csv", "Order ID,Order Date,Customer,SKU,Quantity,Net Price,Status\n"
                 "SO-1,2025-03-01,Acme,HW-100,1,110,Shipped\nSO-2,2025-03-02,Acme,SV-1,1,95,Shipped\n"
                 "SO-3,2025-03-03,Globex,SV-1,2,90,Cancelled\n")  # fmt: skip
    assert owner.json("deals", "import", str(path), "--all-statuses")["added"] == 3
    with owner.store().write() as conn:  # as the code before migration 0009 recorded it
        columns = json.loads(conn.execute(text("SELECT columns FROM deal_imports")).scalar_one())
        del columns["status"]
        conn.execute(
            text("UPDATE deal_imports SET columns = :c, status_filter = NULL, "
                 "skipped_by_status = NULL"),
            {"c": json.dumps(columns, sort_keys=True)},
        )  # fmt: skip
    result = owner("deals", "import", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    again = json.loads(result.output)
    assert (again["added"], again["already_present"], again["conflict"]) == (0, 2, None)
    every = owner.json("deals", "import", str(path), "--all-statuses")
    assert (every["already_imported_as"], every["added"]) == (1, 0)
    assert owner.json("report")["totals"]["lines"] == 3


def test_import__the_same_file_with_another_date_format_is_refused_then_replaced(
    owner: Cli, tmp_path: Path, fresh: Callable[[], Cli]
) -> None:
    """Dates that cannot tell day from month were read month-first (--date-format %m/%d/%Y);
    the owner's were day-first. Importing the file again with --date-format %d/%m/%Y is refused
    (it would double the lines), and --replace puts the corrected reading in place of the first."""
    text = (
        "Order ID,Date,Customer,SKU,Quantity,Net Price\n"
        "O-1,03/02/2025,Acme,HW-100,1,110\nO-2,01/04/2025,Acme,SV-1,1,95\n"
        "O-3,05/03/2025,Globex,HW-100,2,108\n"
    )
    path = write(tmp_path, "ambiguous.csv", text)
    assert owner("deals", "import", str(path)).exit_code == 2  # no silent guess
    owner.json("deals", "import", str(path), "--date-format", "%m/%d/%Y")
    refused = owner.json("deals", "import", str(path), "--date-format", "%d/%m/%Y", expect=2)
    assert refused["conflict"]["import"] == 1 and refused["conflict"]["hint"] == "--replace 1"
    said = owner("deals", "import", str(path), "--date-format", "%d/%m/%Y")
    assert said.exit_code == 2 and "--replace 1" in said.stderr and "date format" in said.stderr
    assert owner.json("report")["totals"]["lines"] == 3
    replaced = owner.json(
        "deals", "import", str(path), "--date-format", "%d/%m/%Y", "--replace", "1"
    )
    assert replaced["replaced"]["id"] == 1 and replaced["added"] == 3 and replaced["id"] == 2
    assert [i["id"] for i in owner.json("deals", "imports")] == [2]

    other = fresh()
    the_owner_setup(other, tmp_path)
    other.json("deals", "import", str(path), "--date-format", "%d/%m/%Y")
    assert reports(owner) == reports(other)
    from pricing.storage import audit_entries

    with owner.store().read() as conn:
        recorded = [(e.action, e.subject, e.by) for e in audit_entries.entries(conn)][-2:]
    assert recorded == [("deals.undone", "deals:1", "mia"), ("deals.imported", "deals:2", "mia")]
    months = {g["key"]["month"] for g in owner.json("report", "--by", "month")["groups"]}
    assert months == {"2025-02", "2025-03", "2025-04"}  # 3 February, 5 March, 1 April
    assert owner.json("audit", "verify")["intact"]


# The scenario of the issue: a CRM export imported again with one more mapping ----------------


def crm_export(tmp_path: Path, lines: int = 2000) -> Path:
    """A CRM-like line-item export: deals named in "Deal Label" (a header the loose matching
    does not know, as "Deal Name" was when the issue was filed), several lines per deal, some
    repeated line for line."""
    rng = random.Random(16)
    rows = ["Deal Label,Close Date,Account,Owner,SKU,Quantity,Amount"]
    start = date(2025, 3, 1)
    deal = 0
    while len(rows) <= lines:
        deal += 1
        day = start + timedelta(days=rng.randrange(600))
        customer = rng.choice(["Acme", "Globex", "Initech", "Umbrella", "Hooli"])
        rep = rng.choice(["priya", "sam", "lee"])
        for _ in range(rng.randint(1, 4)):
            sku = rng.choice(["HW-100", "SV-1", "HW-100", "NOPE-9"])
            qty = rng.choice([1, 2, 5, 10, 60])
            amount = qty * rng.choice([90, 95.5, 100, 108, 114, 120])
            rows.append(f"Deal {deal},{day.isoformat()},{customer},{rep},{sku},{qty},{amount:.2f}")
    return write(tmp_path, "hubspot-line-items.csv", "\n".join(rows[: lines + 1]) + "\n")


def test_crm_export_again_with_a_deal_mapping__refused_then_replaced_like_a_fresh_import(
    owner: Cli, tmp_path: Path, fresh: Callable[[], Cli]
) -> None:
    path = crm_export(tmp_path)
    first = owner.json("deals", "import", str(path))
    assert first["added"] == 2000
    before = reports(owner)
    mapped = ("--column", "deal_id=Deal Label")
    refused = owner.json("deals", "import", str(path), *mapped, expect=2)
    assert refused["conflict"]["import"] == 1 and refused["added"] == 0
    assert reports(owner) == before  # nothing doubled
    assert len(owner.json("deals", "imports")) == 1

    replaced = owner.json("deals", "import", str(path), *mapped, "--replace", "1")
    assert (replaced["replaced"]["id"], replaced["added"]) == (1, 2000)
    other = fresh()
    the_owner_setup(other, tmp_path)
    other.json("deals", "import", str(path), *mapped)
    assert reports(owner) == reports(other)
    assert reports(owner)["all"]["totals"]["lines"] == 2000
    verified = owner.json("audit", "verify")
    assert verified["intact"], verified["damage"]


def test_the_same_export_with_its_customer_column_mapped_as_the_deal_id_is_refused(
    owner: Cli, tmp_path: Path
) -> None:
    """Given the CRM export imported, when the owner imports it again mapping the deal id to
    the Account column (so the new reading has no customer at all), then it is still the same
    sales: refused naming import 1, nothing doubled (found by the new-owner trial: it added
    2,000 lines and 36.7 M of revenue)."""
    export = crm_export(tmp_path).read_text().splitlines()
    with_ids = ["Line Item ID," + export[0]] + [
        f"{500000 + i},{r}" for i, r in enumerate(export[1:])
    ]
    path = write(tmp_path, "with-line-ids.csv", "\n".join(with_ids) + "\n")
    assert owner.json("deals", "import", str(path))["added"] == 2000
    before = reports(owner)
    again = write(tmp_path, "v2.csv", "\n".join(export) + "\n")  # no line ids this time
    refused = owner.json("deals", "import", str(again), "--column", "deal_id=Account", expect=2)
    assert refused["conflict"]["import"] == 1 and refused["added"] == 0
    assert reports(owner) == before


def test_new_lines_equal_to_stored_ones_under_other_ids_are_refused(
    owner: Cli, tmp_path: Path
) -> None:
    """The same sales in another file (another name, line ids added): refused, naming import 1;
    a genuinely new sale beside them does not make it pass."""
    owner.json("deals", "import", str(write(tmp_path, "orders.csv", ORDERS)))
    relabelled = ORDERS.replace("Order ID", "Invoice").replace("O-", "INV-")
    relabelled += "INV-3,2025-07-02,Initech,sam,SV-1,1,95.00\n"
    refused = owner.json(
        "deals", "import", str(write(tmp_path, "invoices.csv", relabelled)), expect=2
    )
    assert (
        refused["conflict"]["import"] == 1
        and "3 of its 4 new lines" in refused["conflict"]["reason"]
    )
    assert owner.json("report")["totals"]["lines"] == 3


def test_a_file_repeating_only_some_sales_of_an_import_gets_no_replace_hint(
    owner: Cli, tmp_path: Path
) -> None:
    """Two of import 1's three sales under other ids: replacing import 1 with this file would
    drop the third sale, so the refusal says so instead of offering --replace."""
    owner.json("deals", "import", str(write(tmp_path, "orders.csv", ORDERS)))
    lines = ORDERS.replace("Order ID", "Invoice").replace("O-", "INV-").splitlines()
    partial = write(tmp_path, "part.csv", "\n".join(lines[:3]) + "\n")
    refused = owner.json("deals", "import", str(partial), expect=2)
    assert refused["conflict"]["import"] == 1 and refused["conflict"]["hint"] is None
    assert "would remove the other 1 sales" in refused["conflict"]["reason"]
    said = owner("deals", "import", str(partial))
    assert said.exit_code == 2 and "--replace" not in said.stderr


# Undo ----------------------------------------------------------------------------------------


def test_undo__as_if_the_file_had_never_been_imported(
    owner: Cli, tmp_path: Path, fresh: Callable[[], Cli]
) -> None:
    """Given an export, then an edition, a policy and a won request, then an overlapping export
    (a deal continued in it, lines it holds too), when the first export is undone, then every
    breakdown equals a store that only ever imported the later one, and the audit holds."""
    today = utcnow().date()
    header = "Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price\n"
    early = [
        f"O-1,{today - timedelta(days=9)},Acme,priya,HW-100,10,108.00",
        f"O-1,{today - timedelta(days=9)},Acme,priya,SV-1,2,90.00",
        f"O-2,{today - timedelta(days=8)},Globex,sam,HW-100,60,100.00",
        f"O-3,{today - timedelta(days=7)},Initech,sam,SV-1,1,80.00",
    ]
    late = [
        early[2],  # held by both exports
        f"O-3,{today - timedelta(days=7)},Initech,sam,SV-1,1,80.00",  # held by both
        f"O-3,{today - timedelta(days=7)},Initech,lee,HW-100,3,125.00",  # O-3 continued
        f"O-4,{today},acme,priya,SV-1,1,92",  # sold under the won request
        f"O-5,{today},Hooli,lee,NOPE-1,1,10",  # unmatched
    ]
    first = write(tmp_path, "early.csv", header + "\n".join(early) + "\n")
    second = write(tmp_path, "late.csv", header + "\n".join(late) + "\n")
    v3 = write_workbook(tmp_path / "v3.xlsx", {
        "Price Book": [["SKU", "Family", "List Price", "Unit Cost"], ["HW-100", "Hardware", 140, 70],
                       ["SV-1", "Services", 100, 55]],
    })  # fmt: skip

    from tests.test_policy import POLICY

    stricter = tmp_path / "stricter.toml"
    stricter.write_text(
        POLICY.replace("approval_valid_days = 30", "approval_valid_days = 30\neffective_from = "
                       f"{today - timedelta(days=7)}").replace("rep = 10.0", "rep = 4.0")
        + '\n[[person]]\nname = "marco"\nrole = "manager"\n'
    )  # fmt: skip

    def after_the_first(cli: Cli) -> None:
        effective = (today - timedelta(days=8)).isoformat()
        assert cli("pricebook", "import", str(v3), "--effective", effective).exit_code == 0
        assert cli("policy", "load", str(stricter)).exit_code == 0
        approved_request(cli)
        assert cli("requests", "won", "R-000001", user="priya").exit_code == 0
        assert cli.json("deals", "import", str(second))["id"] is not None

    assert owner.json("deals", "import", str(first))["added"] == 4
    after_the_first(owner)
    undone = owner.json("deals", "undo", "1")
    assert (undone["id"], undone["removed"], undone["kept"]) == (1, 2, 2)
    assert [i["id"] for i in owner.json("deals", "imports")] == [2]

    other = fresh()
    the_owner_setup(other, tmp_path)
    after_the_first(other)
    mine, theirs = reports(owner), reports(other)
    assert mine == theirs
    assert mine["all"]["totals"]["lines"] == 5 and mine["all"]["totals"]["deals"] == 4
    verified = owner.json("audit", "verify")
    assert verified["intact"], verified["damage"]


def test_undo__of_the_only_import_empties_the_report_and_is_audited(
    owner: Cli, tmp_path: Path
) -> None:
    owner.json("deals", "import", str(write(tmp_path, "orders.csv", ORDERS)))
    said = owner("deals", "undo", "1")
    assert said.exit_code == 0 and "removed 3 line(s)" in said.output
    assert owner.json("report")["totals"]["lines"] == 0
    assert owner.json("deals", "imports") == []
    assert owner.json("audit", "verify")["intact"]
    # The file can come back, under a number never given before.
    assert owner.json("deals", "import", str(tmp_path / "orders.csv"))["id"] == 2


def test_undo__an_unknown_import_exits_2_and_a_manager_may_not(owner: Cli, tmp_path: Path) -> None:
    unknown = owner("deals", "undo", "7")
    assert unknown.exit_code == 2 and "deals imports" in unknown.stderr
    owner.json("deals", "import", str(write(tmp_path, "orders.csv", ORDERS)))
    assert owner("people", "add", "dana", "--role", "owner").exit_code == 0
    assert owner("people", "add", "marco", "--role", "manager", user="dana").exit_code == 0
    assert owner("deals", "undo", "1", user="marco").exit_code == 1
    assert owner("deals", "undo", "1", user="dana").exit_code == 0
    again = owner("deals", "undo", "1", user="dana")
    assert again.exit_code == 2 and "deals import 1 was undone already (dana," in again.stderr


def test_replace__an_unknown_import_or_a_refused_file_changes_nothing(
    owner: Cli, tmp_path: Path
) -> None:
    """--replace of an import that does not exist exits 2; a replacement whose file repeats
    another import's sales is refused and the import it was to replace stays."""
    orders = write(tmp_path, "orders.csv", ORDERS)
    sold = ORDERS.replace("O-", "X-").replace("Acme", "Hooli").replace("Globex", "Wayne")
    other = write(tmp_path, "other.csv", sold)
    owner.json("deals", "import", str(orders))
    owner.json("deals", "import", str(other))
    before = reports(owner)
    unknown = owner("deals", "import", str(orders), "--replace", "9")
    assert unknown.exit_code == 2 and "no deals import 9" in unknown.stderr
    relabelled = write(tmp_path, "relabelled.csv", ORDERS.replace("O-", "R-"))
    refused = owner.json("deals", "import", str(relabelled), "--replace", "2", expect=2)
    assert refused["conflict"]["import"] == 1 and refused["replaced"] is None
    assert [i["id"] for i in owner.json("deals", "imports")] == [1, 2]
    assert reports(owner) == before
    assert owner.json("audit", "verify")["intact"]


def test_undo__lines_a_later_export_held_without_adding_any_stay(
    owner: Cli, tmp_path: Path
) -> None:
    """A later export holding exactly the same lines (another file: it added nothing) keeps
    them when the first is undone."""
    owner.json("deals", "import", str(write(tmp_path, "june.csv", ORDERS)))
    before = reports(owner)
    later = owner.json("deals", "import", str(write(tmp_path, "june-again.csv", ORDERS + "\n")))
    assert (later["added"], later["already_present"], later["id"]) == (0, 3, 2)
    undone = owner.json("deals", "undo", "1")
    assert (undone["removed"], undone["kept"]) == (0, 3)
    assert reports(owner) == before
    assert owner.json("deals", "imports")[0]["id"] == 2
    assert owner.json("audit", "verify")["intact"]


def test_import__the_same_file_with_another_decimal_mark_is_refused(
    owner: Cli, tmp_path: Path
) -> None:
    """Money that cannot tell a decimal comma from a thousands separator was read with
    --decimal point; reading the same file again with --decimal comma would store it twice."""
    text = (
        "Order ID,Order Date,Customer,SKU,Quantity,Net Price\n"
        '1,2025-03-01,Acme,HW-100,1,"1,234"\n2,2025-03-02,Acme,HW-100,1,"2,500"\n'
    )
    path = write(tmp_path, "marks.csv", text)
    assert owner.json("deals", "import", str(path), "--decimal", "point")["added"] == 2
    refused = owner.json("deals", "import", str(path), "--decimal", "comma", expect=2)
    assert refused["conflict"]["import"] == 1 and "decimal mark" in refused["conflict"]["reason"]
    assert owner.json("deals", "imports")[0]["decimal"] == "point"
    assert owner.json("report")["totals"]["lines"] == 2


# Naming a reading is the same reading ---------------------------------------------------------


def test_import__naming_the_date_format_the_values_showed_is_the_same_reading(
    owner: Cli, tmp_path: Path
) -> None:
    """Dates whose values show day first (25/02/2025) were read day-first; importing the file
    again with --date-format %d/%m/%Y reads the same dates: already present, not "another date
    format". The same for --decimal point where the values showed a decimal point. (Naming a
    reading that gives other dates is still refused: the test above.)"""
    text = (
        "Order ID,Date,Customer,SKU,Quantity,Net Price\n"
        'O-1,25/02/2025,Acme,HW-100,1,"1,110.50"\nO-2,03/04/2025,Acme,SV-1,1,95.25\n'
    )
    path = write(tmp_path, "day-first.csv", text)
    first = owner.json("deals", "import", str(path))
    assert first["added"] == 2 and first["date_format"] is None
    again = owner.json("deals", "import", str(path), "--date-format", "%d/%m/%Y")
    assert (again["already_imported_as"], again["added"], again["id"]) == (1, 0, None)
    said = owner("deals", "import", str(path), "--date-format", "%d/%m/%Y", "--decimal", "point")
    assert said.exit_code == 0 and "import 1 holds this very file" in said.output
    assert len(owner.json("deals", "imports")) == 1
    assert owner.json("report")["totals"]["lines"] == 2


# Replacing: previewed, and stopped when it would lose most of an import -----------------------


def test_replace__previewed_with_dry_run_says_what_it_would_remove_and_add_and_changes_nothing(
    owner: Cli, tmp_path: Path
) -> None:
    owner.json("deals", "import", str(write(tmp_path, "orders.csv", ORDERS)))
    before = reports(owner)
    corrected = write(tmp_path, "corrected.csv", ORDERS.replace("108.00", "106.00"))
    preview = owner.json("deals", "import", str(corrected), "--replace", "1", "--dry-run")
    assert preview["dry_run"] and preview["id"] is None
    assert (preview["replaced"]["id"], preview["replaced"]["removed"], preview["added"]) == (
        1, 3, 3,
    )  # fmt: skip
    assert preview["shrink"] is None
    said = owner("deals", "import", str(corrected), "--replace", "1", "--dry-run")
    assert said.exit_code == 0
    assert "Would undo import 1 (orders.csv): would remove 3 line(s)." in said.output
    assert "would add 3" in said.output and "nothing stored (dry run)" in said.output
    assert reports(owner) == before
    assert [i["id"] for i in owner.json("deals", "imports")] == [1]
    assert owner.json("audit", "verify")["intact"]


def test_replace__that_removes_far_more_lines_than_it_adds_needs_force(
    owner: Cli, tmp_path: Path
) -> None:
    """Replacing a 30-line import with a 3-line file (the wrong file, or the wrong id?) is
    refused, exit 2, saying both numbers and --force; a dry run says the same as a warning;
    with --force it is done."""
    rows = [f"O-{i},2025-06-{1 + i % 28:02d},Acme,priya,HW-100,{1 + i},108.00" for i in range(30)]
    header = ORDERS.splitlines()[0]
    month = write(tmp_path, "june.csv", "\n".join([header, *rows]) + "\n")
    owner.json("deals", "import", str(month))
    before = reports(owner)
    small = write(tmp_path, "three.csv", ORDERS)
    refused = owner("deals", "import", str(small), "--replace", "1")
    assert refused.exit_code == 2
    assert "replacing import 1 would remove 30 line(s) and add 3" in refused.stderr
    assert "--dry-run" in refused.stderr and "--force" in refused.stderr
    document = owner.json("deals", "import", str(small), "--replace", "1", expect=2)
    assert document["shrink"] == {"import": 1, "removed": 30, "added": 3, "forced": False}
    assert reports(owner) == before and len(owner.json("deals", "imports")) == 1

    preview = owner("deals", "import", str(small), "--replace", "1", "--dry-run")
    assert preview.exit_code == 0 and "without --force this would be refused" in preview.stderr
    forced = owner.json("deals", "import", str(small), "--replace", "1", "--force")
    assert forced["shrink"]["forced"] and forced["replaced"]["removed"] == 30
    assert owner.json("report")["totals"]["lines"] == 3
    assert owner.json("audit", "verify")["intact"]


# Seeing each import --------------------------------------------------------------------------


def test_imports__the_table_shows_the_decimal_mark_each_was_read_with(
    owner: Cli, tmp_path: Path
) -> None:
    text = 'Order ID,Order Date,SKU,Quantity,Amount\n1,2025-03-01,HW-100,1,"1,234"\n'
    owner.json("deals", "import", str(write(tmp_path, "comma.csv", text)), "--decimal", "comma")
    owner.json("deals", "import", str(write(tmp_path, "orders.csv", ORDERS)))
    table = owner("deals", "imports").output.splitlines()
    assert table[0].split()[-5:] == ["Decimal", "Left", "out", "by", "status"]
    assert table[2].rstrip().endswith("comma") and table[3].rstrip().endswith("(from the values)")


def test_a_later_export_correcting_a_stored_line_says_so_and_how_to_correct_it(
    owner: Cli, tmp_path: Path
) -> None:
    """Given orders imported, when a later export gives O-1's second line another price and
    O-2 another date, then nothing is added or changed, and a warning says two lines are
    stored with other values, which, and to import the file with --replace 1 (found by the
    new-owner trial: 'already present' and nothing more); the same file again says nothing."""
    owner.json("deals", "import", str(write(tmp_path, "orders.csv", ORDERS)))
    assert owner.json("deals", "import", str(tmp_path / "orders.csv"))["problems"] == []
    before = reports(owner)
    corrected = ORDERS.replace("SV-1,2,90.00", "SV-1,2,85.00").replace("2025-07-01", "2025-07-02")
    path = write(tmp_path, "orders-corrected.csv", corrected)
    previewed = owner.json("deals", "import", str(path), "--dry-run")
    assert "import it with --replace 1 instead" in previewed["problems"][0]["message"]
    said = owner.json("deals", "import", str(path))
    assert (said["added"], said["already_present"], said["id"]) == (0, 3, 2)
    (warning,) = said["problems"]
    assert warning["severity"] == "warning"
    assert warning["message"].startswith("2 line(s) are stored already with other values")
    assert "deal O-1: price" in warning["message"] and "deal O-2: date" in warning["message"]
    assert (
        "undo this import (pricing deals undo 2) and import the file again with --replace 1"
        in warning["message"]
    )
    assert reports(owner) == before
    owner.json("deals", "undo", "2")
    replaced = owner.json("deals", "import", str(path), "--replace", "1")
    assert replaced["problems"] == [] and replaced["added"] == 3
    assert owner.json("report")["totals"]["net_revenue"] != before["all"]["totals"]["net_revenue"]
