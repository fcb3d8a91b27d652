"""The marketer looks at editions, compares them and exports a clean copy."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.conftest import BookRows, Cli, write_workbook


def in_folder(folder: Path) -> Callable[..., Path]:
    """The ``workbook`` fixture's builder, writing into ``folder``."""

    def build(rows: BookRows, *, tiers: BookRows | None = None, name: str = "book.xlsx") -> Path:
        sheets: dict[str, BookRows] = {"Price Book": rows}
        if tiers is not None:
            sheets["Tiers"] = tiers
        return write_workbook(folder / name, sheets)

    return build


def build_two_editions(cli: Cli, folder: Path) -> None:
    workbook = in_folder(folder)
    v1 = workbook(
        [["SKU", "Name", "Family", "Price", "Cost"], ["HW-100", "Router", "Hardware", 120, 70],
         ["HW-200", "Switch", "Hardware", 300, 150], ["SV-1", "Install", "Services", 900, None]],
        tiers=[["SKU", "Family", "Min Qty", "Price", "Discount %"], ["HW-100", None, 50, 114, None]],
        name="v1.xlsx",
    )  # fmt: skip
    v2 = workbook(
        [["SKU", "Name", "Family", "Price", "Cost"], ["HW-100", "Router", "Hardware", 126, 70],
         ["HW-300", "Firewall", "Hardware", 800, 400], ["SV-1", "Installation", "Services", 900, None]],
        tiers=[["SKU", "Family", "Min Qty", "Price", "Discount %"], ["HW-100", None, 50, 119.7, None]],
        name="v2.xlsx",
    )  # fmt: skip
    assert cli("pricebook", "import", str(v1), "--effective", "2026-01-01").exit_code == 0
    assert cli("pricebook", "import", str(v2), "--effective", "2027-01-01").exit_code == 0


@pytest.fixture
def two_editions(cli: Cli, built: Callable[..., Cli]) -> Cli:
    return built("two_editions", cli, build_two_editions)


def test_show_sku__json_shape_of_the_contract(two_editions: Cli) -> None:
    document = two_editions.json("pricebook", "show", "HW-100", "--as-of", "2027-02-01")
    assert document == {
        "sku": "HW-100",
        "name": "Router",
        "family": "Hardware",
        "list_price": "126.00",
        "currency": "USD",
        "unit_cost": "70.00",
        "floor_price": None,
        "status": None,
        "edition": 2,
        "effective_from": "2027-01-01",
        "tiers": [{"min_qty": 50, "price": "119.70", "discount_pct": None, "scope": "sku"}],
    }


def test_show_all__lists_the_edition_in_force(two_editions: Cli) -> None:
    document = two_editions.json("pricebook", "show", "--as-of", "2026-05-01")
    assert (document["edition"], document["effective_from"]) == (1, "2026-01-01")
    assert [i["sku"] for i in document["items"]] == ["HW-100", "HW-200", "SV-1"]
    human = two_editions("pricebook", "show", "--as-of", "2026-05-01", "--family", "services")
    assert human.exit_code == 0
    assert "SV-1" in human.stdout and "HW-100" not in human.stdout
    assert "Edition 1, effective 2026-01-01" in human.stdout


def test_show__unknown_sku_is_a_clear_exit_2(two_editions: Cli) -> None:
    result = two_editions("pricebook", "show", "NOPE-1")
    assert result.exit_code == 2
    assert "no SKU 'NOPE-1' in edition" in result.stderr
    assert json.loads(two_editions("--json", "pricebook", "show", "NOPE-1").stdout)["error"]


def test_json__is_accepted_before_and_after_the_command(two_editions: Cli) -> None:
    before = two_editions("--json", "pricebook", "editions")
    after = two_editions("pricebook", "editions", "--json")
    assert before.exit_code == after.exit_code == 0
    assert json.loads(before.stdout) == json.loads(after.stdout)
    assert [e["edition"] for e in json.loads(before.stdout)] == [1, 2]


def test_diff__summary_first_then_added_removed_changed(two_editions: Cli) -> None:
    result = two_editions("pricebook", "diff")
    assert result.exit_code == 0
    first_line = result.stdout.splitlines()[0]
    assert first_line == (
        "Edition 1 (effective 2026-01-01) -> edition 2 (effective 2027-01-01): "
        "1 added, 1 removed, 2 changed, 0 unchanged; volume tiers changed"
    )
    assert "+5.00" in result.stdout
    assert "name: Install -> Installation" in result.stdout
    document = two_editions.json("pricebook", "diff", "1", "2")
    assert [i["sku"] for i in document["added"]] == ["HW-300"]
    assert [i["sku"] for i in document["removed"]] == ["HW-200"]
    assert {c["sku"]: c["change_pct"] for c in document["changed"]} == {
        "HW-100": "5.00",
        "SV-1": None,
    }
    assert document["tiers_changed"] is True


def test_diff__needs_two_editions(cli: Cli, workbook) -> None:
    assert cli("pricebook", "diff").exit_code == 2
    cli("pricebook", "import", str(workbook([["SKU", "Price"], ["A", 1]])))
    result = cli("pricebook", "diff")
    assert result.exit_code == 2 and "needs two" in result.stderr
    assert cli("pricebook", "diff", "1", "7").exit_code == 2


def test_export__clean_workbook_reimports_as_unchanged(two_editions: Cli, tmp_path: Path) -> None:
    path = tmp_path / "clean.xlsx"
    result = two_editions("pricebook", "export", str(path), "--as-of", "2027-01-01")
    assert result.exit_code == 0, result.output
    book = load_workbook(path)
    assert book.sheetnames == ["Price Book", "Tiers"]
    sheet = book["Price Book"]
    header = [c.value for c in sheet[4]]
    assert header[:4] == ["SKU", "Name", "Family", "List Price"]
    assert sheet["A5"].value == "HW-100" and sheet["D5"].value == 126
    assert sheet["D5"].number_format == "#,##0.00"
    assert sheet.freeze_panes == "A5"
    again = two_editions.json("pricebook", "import", str(path))
    assert again["unchanged"] is True and again["edition"] is None


def test_export__text_that_looks_like_a_formula_is_written_as_text(
    cli: Cli, workbook, tmp_path: Path
) -> None:
    source = tmp_path / "evil.csv"
    source.write_text(
        'SKU,Name,Price\nA-1,"=HYPERLINK(""http://x"")",10\nA-2,+1+1,5\nA-3,@SUM(A1),4\n'
    )
    assert cli("pricebook", "import", str(source)).exit_code == 0
    path = tmp_path / "out.xlsx"
    assert cli("pricebook", "export", str(path)).exit_code == 0
    sheet = load_workbook(path)["Price Book"]
    names = {sheet.cell(r, 1).value: sheet.cell(r, 2) for r in range(5, 8)}
    assert names["A-1"].value == '=HYPERLINK("http://x")' and names["A-1"].data_type == "s"
    assert names["A-2"].data_type == "s" and names["A-3"].data_type == "s"
    assert cli.json("pricebook", "import", str(path))["unchanged"] is True


def test_export__refuses_a_name_that_is_not_xlsx(two_editions: Cli, tmp_path: Path) -> None:
    result = two_editions("pricebook", "export", str(tmp_path / "out.csv"))
    assert result.exit_code == 2 and ".xlsx" in result.stderr


def test_editions__empty_store_says_what_to_do(cli: Cli) -> None:
    assert cli("db", "upgrade").exit_code == 0  # a database with nothing in it yet
    result = cli("pricebook", "editions")
    assert result.exit_code == 0
    assert "pricing pricebook import" in result.stdout
    assert cli.json("pricebook", "editions") == []


def test_export__a_wrong_name_is_refused_before_any_database_is_opened(
    cli: Cli, tmp_path: Path
) -> None:
    """Given no database yet, a csv export name is still answered about the name."""
    result = cli("pricebook", "export", str(tmp_path / "clean.csv"))
    assert result.exit_code == 2
    assert "name it with .xlsx" in result.output
    assert "no database" not in result.output


def test_show__money_has_thousands_separators(cli: Cli, workbook, tmp_path: Path) -> None:
    """Given a book in EUR with a 3,199 router (cost 1,850, floor 2,400, a 2,999 tier) and a
    policy with a 1,500 floor rule, when the marketer shows the SKU and the owner the policy,
    then every amount reads with its thousands separator."""
    book = workbook(
        [["SKU", "Name", "Family", "Price", "Cost", "Floor Price", "Currency"],
         ["HW-900", "Core router", "Hardware", 3199, 1850, 2400, "EUR"]],
        tiers=[["SKU", "Min Qty", "Price"], ["HW-900", 10, 2999]],
    )  # fmt: skip
    assert cli("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    shown = cli("pricebook", "show", "HW-900").stdout
    for amount in ("3,199.00 EUR", "1,850.00", "2,400.00", "2,999.00"):
        assert amount in shown, amount
    assert "3199.00" not in shown
    whole = cli("pricebook", "show").stdout
    assert "3,199.00" in whole and "10+: 2,999.00" in whole
    from tests.test_policy import POLICY

    guardrails = tmp_path / "g.toml"
    guardrails.write_text(POLICY.replace("floor_price = 40.00", "floor_price = 1500.00"))
    assert cli("policy", "load", str(guardrails)).exit_code == 0
    assert "1,500.00" in cli("policy", "show").stdout


def build_a_year_of_moves(cli: Cli, folder: Path) -> None:
    workbook = in_folder(folder)
    header = ["SKU", "Name", "Family", "Price"]
    v1 = workbook(
        [header, ["HW-1", "Router", "Hardware", 100], ["HW-2", "Switch", "Hardware", 200],
         ["HW-3", "Cable", "Hardware", 10], ["SV-1", "Install", "Services", 500],
         ["SV-2", "Training", "Services", 300], ["OLD-1", "Modem", "Hardware", 50]],
        name="v1.xlsx",
    )  # fmt: skip
    v2 = workbook(
        [header, ["HW-1", "Router", "Hardware", 103], ["HW-2", "Switch", "Hardware", 150],
         ["HW-3", "Cable", "Hardware", 10], ["SV-1", "Install", "Services", 600],
         ["SV-2", "Training day", "Services", 300], ["NEW-1", "Firewall", "Hardware", 900]],
        name="v2.xlsx",
    )  # fmt: skip
    assert cli("pricebook", "import", str(v1), "--effective", "2026-01-01").exit_code == 0
    assert cli("pricebook", "import", str(v2), "--effective", "2027-01-01").exit_code == 0


@pytest.fixture
def a_year_of_moves(cli: Cli, built: Callable[..., Cli]) -> Cli:
    """Two editions of a book where prices move by different amounts in two families."""
    return built("a_year_of_moves", cli, build_a_year_of_moves)


def test_diff__changed_only_sorted_by_the_size_of_the_move(a_year_of_moves: Cli) -> None:
    document = a_year_of_moves.json("pricebook", "diff", "--changed-only", "--sort", "move")
    assert document["added"] == [] and document["removed"] == []
    # HW-2 -25 %, SV-1 +20 %, HW-1 +3 %, then SV-2 (only its name changed)
    assert [(c["sku"], c["change_pct"]) for c in document["changed"]] == [
        ("HW-2", "-25.00"),
        ("SV-1", "20.00"),
        ("HW-1", "3.00"),
        ("SV-2", None),
    ]
    # the counts stay those of the whole diff
    assert document["summary"].endswith("1 added, 1 removed, 4 changed, 1 unchanged")
    human = a_year_of_moves("pricebook", "diff", "--changed-only", "--sort", "move")
    assert human.exit_code == 0, human.output
    assert "Added" not in human.stdout and "Removed" not in human.stdout
    rows = [line.split()[0] for line in human.stdout.splitlines() if line[:3] in ("HW-", "SV-")]
    assert rows == ["HW-2", "SV-1", "HW-1", "SV-2"]
    by_sku = a_year_of_moves.json("pricebook", "diff", "--sort", "sku")
    assert [c["sku"] for c in by_sku["changed"]] == ["HW-1", "HW-2", "SV-1", "SV-2"]


def test_diff__one_family_only(a_year_of_moves: Cli) -> None:
    document = a_year_of_moves.json("pricebook", "diff", "--family", "services")
    assert [c["sku"] for c in document["changed"]] == ["SV-1", "SV-2"]
    assert document["added"] == [] and document["removed"] == []
    hardware = a_year_of_moves.json("pricebook", "diff", "--family", "Hardware")
    assert [i["sku"] for i in hardware["added"]] == ["NEW-1"]
    assert [i["sku"] for i in hardware["removed"]] == ["OLD-1"]
    assert [c["sku"] for c in hardware["changed"]] == ["HW-1", "HW-2"]
    human = a_year_of_moves("pricebook", "diff", "--family", "services")
    assert "SV-1" in human.stdout and "HW-1" not in human.stdout
    assert "of family 'services'" in human.stdout
    assert a_year_of_moves("pricebook", "diff", "--sort", "size").exit_code == 2


def test_show__a_name_instead_of_a_sku_lists_the_items_whose_name_has_it(
    a_year_of_moves: Cli,
) -> None:
    human = a_year_of_moves("pricebook", "show", "router")
    assert human.exit_code == 0, human.output
    assert "HW-1" in human.stdout and "1 item(s) matching 'router'" in human.stdout
    document = a_year_of_moves.json("pricebook", "show", "TRAIN")
    assert [i["sku"] for i in document["items"]] == ["SV-2"]
    assert a_year_of_moves.json("pricebook", "show", "hw-1")["sku"] == "HW-1"  # a SKU as before


def test_show__an_unknown_text_suggests_the_closest_skus_and_names(a_year_of_moves: Cli) -> None:
    typo = a_year_of_moves("pricebook", "show", "HW-9")
    assert typo.exit_code == 2
    assert "no SKU 'HW-9'" in typo.stderr
    assert "did you mean: " in typo.stderr and "HW-1 (Router)" in typo.stderr
    misspelt = a_year_of_moves("pricebook", "show", "Ruoter")
    assert misspelt.exit_code == 2 and "HW-1 (Router)" in misspelt.stderr
    nothing = a_year_of_moves("pricebook", "show", "zzzzzzzz")
    assert nothing.exit_code == 2 and "did you mean" not in nothing.stderr
