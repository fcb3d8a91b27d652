"""Property-based: every importer, fed files with junk in any cell, either imports correctly or
refuses with problems naming cells (exit 2), never a traceback, and changes nothing on refusal.

Each test builds a file from generated rows: a header of known and unknown names (some
duplicated, in any order), rows that are known good, mixed with rows holding junk of every kind
(blanks, types, huge and negative numbers, unicode, formulas, long strings, money and dates as
text). Good rows carry prices the test knows, so a successful import is checked against them.

``PRICING_HYPOTHESIS_EXAMPLES`` scales the number of cases (default 100 per test, 5 tests).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from pricing.api import stored_counts
from tests.conftest import Cli, Snapshot, sqlite_snapshot, write_workbook

EXAMPLES = int(os.environ.get("PRICING_HYPOTHESIS_EXAMPLES", "100"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same cases on every run: CI stays deterministic
)

# Cells -----------------------------------------------------------------------------------------

FORMULAS = st.sampled_from([
    "=1+1", "=SUM(A1:A3)", "+1", "-1", "@SUM(1)", "\t12", "\r12", '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0", "=#REF!",
])  # fmt: skip
MONEY_TEXT = st.sampled_from([
    "$1,234.50", "1.234,50", "(12.00)", "(1,234.50)", "12%", "12 %", "-5", "0", "0.00", "1e309",
    "NaN", "inf", "-inf", "12,5O", "€ 3,00", "  7.25  ", "1 234,56", "1,2,3", "$", "--1", "٣٫٥",
    "9" * 40, "0.0000001", "1,000", "12.5.3",
])  # fmt: skip
DATE_TEXT = st.sampled_from([
    "2026-02-30", "13/13/2026", "31.12.2026", "12/31/2026", "2026-13-01", "45678", "yesterday",
    "2026/03/04", "1899-12-31", "0000-00-00", "3/4/26",
])  # fmt: skip
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
LONG_TEXT = st.text(st.characters(exclude_categories=("Cs",)), min_size=300, max_size=3000)
NUMBERS = st.one_of(
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9
    ),
)
DATES = st.one_of(
    st.dates(min_value=date(1900, 3, 1), max_value=date(2100, 1, 1)),
    st.datetimes(min_value=datetime(1900, 3, 1), max_value=datetime(2100, 1, 1)),
)
EDGES = st.sampled_from([
    10**12, 10**12 - 1, 999_999_999_999.99, 10**17, 2**63, -(2**63), 0.001, 1e-7, -0.0, 0, -1,
])  # fmt: skip
JUNK = st.one_of(
    st.none(), TEXT, LONG_TEXT, FORMULAS, MONEY_TEXT, DATE_TEXT, NUMBERS, EDGES, DATES,
    st.booleans(),
)  # fmt: skip
GOOD_PRICE = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("99999.99"), places=2)
# A good row's price, now and then an edge value in a row otherwise fine (the row then proves
# nothing about the price stored, only that nothing breaks).
ROW_PRICE = st.one_of(GOOD_PRICE, GOOD_PRICE, GOOD_PRICE, EDGES)


def for_xlsx(value: Any) -> Any:
    """What openpyxl can store: text without XML-illegal characters, floats for decimals."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:32767]
    if isinstance(value, Decimal):
        return float(value)
    return value


def for_csv(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.replace("\x00", "")
    return str(value)


# Files -----------------------------------------------------------------------------------------


@dataclass
class Table:
    """A generated sheet: header, rows, and what the good rows say (by SKU or line)."""

    header: list[Any]
    rows: list[list[Any]]
    good: dict[str, Decimal]

    def write(self, path: Path, sheet: str = "Sheet1", extra: dict[str, Any] | None = None) -> Path:
        if path.suffix == ".xlsx":
            sheets = {sheet: [[for_xlsx(v) for v in row] for row in [self.header, *self.rows]]}
            return write_workbook(path, {**sheets, **(extra or {})})
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            for row in [self.header, *self.rows]:
                writer.writerow([for_csv(v) for v in row])
        return path


@st.composite
def tables(
    draw: st.DrawFn,
    known: list[str],
    good_row: Any,
    *,
    rows: int = 6,
) -> Table:
    """A header of the known names (each maybe dropped or duplicated), junk names among them,
    shuffled; good rows (from ``good_row``) and junk rows, junk cells anywhere."""
    columns = [name for name in known if draw(st.integers(0, 9)) > 0]
    if draw(st.integers(0, 9)) == 0 and columns:
        columns.append(draw(st.sampled_from(columns)))  # a duplicate header
    columns += draw(st.lists(st.one_of(TEXT, st.none(), NUMBERS), max_size=2))
    order = draw(st.permutations(range(len(columns))))
    header = [columns[i] for i in order]
    body: list[list[Any]] = []
    good: dict[str, Decimal] = {}
    for index in range(draw(st.integers(0, rows))):
        if draw(st.integers(0, 3)):
            key, values, price = draw(good_row(index))
            row = [values.get(name) for name in header]
            if draw(st.integers(0, 4)) == 0 and row:  # junk in one cell of a good row
                junk = draw(st.one_of(JUNK, EDGES))  # edges twice as likely: they hide well
                row[draw(st.integers(0, len(row) - 1))] = junk
            elif isinstance(price, Decimal):
                good[key] = price
        else:
            row = [draw(JUNK) for _ in header]
        body.append(row)
    return Table(header, body, good)


def book_row(index: int) -> st.SearchStrategy[tuple[str, dict[str, Any], Decimal]]:
    sku = f"G-{index:03d}"
    return st.tuples(ROW_PRICE, st.sampled_from([None, "Hardware", "Services"]), TEXT).map(
        lambda t: (sku, {"SKU": sku, "List Price": t[0], "Family": t[1], "Name": t[2]}, t[0])
    )


BOOK_COLUMNS = ["SKU", "Name", "Family", "List Price", "Unit Cost", "Currency", "Status"]


def snapshot(db_url: str) -> Snapshot:
    return sqlite_snapshot(Path(db_url.removeprefix("sqlite:///")))


@pytest.fixture
def stocked() -> Iterator[Cli]:
    """A database (its own folder, kept for all the examples of one test) with an edition of
    G-000..G-019 and a policy, so deals and requests have something to match."""
    with tempfile.TemporaryDirectory() as folder:
        cli = Cli(f"sqlite:///{folder}/pricing.db")
        book = Path(folder) / "book.csv"
        book.write_text("SKU,List Price\n" + "".join(f"G-{i:03d},100\n" for i in range(20)))
        assert cli("pricebook", "import", str(book), "--effective", "2025-01-01").exit_code == 0
        policy = Path(folder) / "p.toml"
        policy.write_text(
            'currency = "USD"\nlevels = ["rep", "manager"]\n[limits]\nrep = 5\nmanager = 20\n'
        )
        assert cli("policy", "load", str(policy)).exit_code == 0
        yield cli
        cli.close()


CASES: dict[str, int] = {"count": 0, "refused": 0}


def attempt(cli: Cli, *args: str, allowed: tuple[int, ...] = (0, 2)) -> tuple[int, str, bool]:
    """Run a command on the store; on exit 2 the store must be exactly as it was."""
    CASES["count"] += 1
    before = snapshot(cli.db_url)
    result = cli(*args)  # catch_exceptions=False: a traceback fails the test
    assert result.exit_code in allowed, (args, result.output)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        CASES["refused"] += 1
        assert snapshot(cli.db_url) == before, f"{args}: refused, yet the store changed"
    return result.exit_code, result.stdout, snapshot(cli.db_url) != before


WHOLE_SHEET = ("no row in the first", "the sheet is empty", "no price rows")


def assert_names_cells(output: str) -> None:
    """A refusal of file content names where: a cell, a line or a key; only a problem with the
    whole sheet (no header, no rows) names just the sheet or file."""
    import json

    document = json.loads(output)  # --json: every outcome is one JSON document
    for problem in document.get("problems", []):
        if problem["severity"] != "error":
            continue
        located = problem.get("cell") or problem.get("line") or problem.get("key")
        whole = problem["message"].startswith(WHOLE_SHEET) and (
            problem.get("sheet") or problem.get("file")
        )
        assert located or whole, problem


# The price book ---------------------------------------------------------------------------------


@PROPERTY
@given(table=tables(BOOK_COLUMNS, book_row), suffix=st.sampled_from([".xlsx", ".csv"]))
def test_price_book_with_junk(stocked: Cli, table: Table, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = table.write(Path(folder) / f"book{suffix}", sheet="Price Book")
        code, out, _ = attempt(stocked, "pricebook", "import", str(path), "--json")
    assert_names_cells(out)
    if code == 2:
        return
    shown = {i["sku"]: i["list_price"] for i in stocked.json("pricebook", "show")["items"]}
    for sku, price in table.good.items():
        if sku in shown:
            assert shown[sku] == f"{price:.2f}", sku
    assert all(Decimal(p) > 0 for p in shown.values())


TIER_COLUMNS = ["SKU", "Min Qty", "Price", "Discount %"]


def tier_row(index: int) -> st.SearchStrategy[tuple[str, dict[str, Any], Decimal]]:
    sku = f"G-{index % 20:03d}"
    return st.tuples(st.integers(2, 10_000), GOOD_PRICE.filter(lambda p: p < 100)).map(
        lambda t: (f"{sku}@{t[0]}", {"SKU": sku, "Min Qty": t[0], "Price": t[1]}, t[1])
    )


@PROPERTY
@given(table=tables(TIER_COLUMNS, tier_row))
def test_tiers_with_junk(stocked: Cli, table: Table) -> None:
    with tempfile.TemporaryDirectory() as folder:
        book = [["SKU", "List Price"], *[[f"G-{i:03d}", 100] for i in range(20)]]
        tiers = [[for_xlsx(v) for v in row] for row in [table.header, *table.rows]]
        path = write_workbook(Path(folder) / "book.xlsx", {"Price Book": book, "Tiers": tiers})
        attempt(stocked, "pricebook", "import", str(path), "--json")


# The policy -------------------------------------------------------------------------------------

POLICY_LINES = [
    'currency = "USD"',
    "approval_valid_days = 30",
    'levels = ["rep", "manager", "owner"]',
    "[limits]",
    "rep = 10.0",
    "manager = 20.0",
    "owner = 30.0",
    "[[rule]]",
    'family = "Services"',
    "limits = { rep = 5.0, manager = 10.0 }",
    "min_margin_pct = 25.0",
    "[[rule]]",
    'sku = "G-0*"',
    "min_qty = 50",
    "floor_price = 40.00",
    "[[person]]",
    'name = "dana"',
    'role = "owner"',
]
TOML_VALUES = st.one_of(
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(str(f), repr(f))
    ),
    TEXT.map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(
        ["true", "[]", '["rep"]', "{}", "{ rep = -1 }", "2026-01-01", '"G-[*"', "[1, 2]"]
    ),
    TEXT,  # not TOML at all
)


@st.composite
def policies(draw: st.DrawFn) -> str:
    lines = list(POLICY_LINES)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        action = draw(st.integers(0, 3))
        if action == 0 and "=" in lines[at]:
            lines[at] = lines[at].split("=", 1)[0] + "= " + draw(TOML_VALUES)
        elif action == 1:
            del lines[at]
        elif action == 2:
            lines.insert(at, draw(TOML_VALUES))
        else:
            lines.insert(at, draw(st.sampled_from(["[limits]", "[[rule]]", "[[person]]", "x = 1"])))
    return "\n".join(lines) + "\n"


@PROPERTY
@given(text=policies())
def test_policy_with_junk(stocked: Cli, text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "guardrails.toml"
        path.write_text(text, encoding="utf-8", errors="replace")
        checked, _, changed = attempt(stocked, "policy", "check", str(path), "--json")
        assert not changed
        loaded, _, _ = attempt(stocked, "policy", "load", str(path), "--json")
    assert checked == loaded  # check and load agree on every file
    if loaded == 0:
        assert stocked.json("policy", "show")["policy"]["currency"]


# Request lines ----------------------------------------------------------------------------------

LINE_COLUMNS = ["SKU", "Qty", "Price", "Discount %"]


def request_row(index: int) -> st.SearchStrategy[tuple[str, dict[str, Any], Decimal]]:
    sku = f"G-{index % 20:03d}"
    return st.tuples(
        st.integers(1, 500), st.one_of(GOOD_PRICE.filter(lambda p: p < 100), EDGES)
    ).map(lambda t: (str(index), {"SKU": sku, "Qty": t[0], "Price": t[1]}, t[1]))


@PROPERTY
@given(table=tables(LINE_COLUMNS, request_row), suffix=st.sampled_from([".xlsx", ".csv"]))
def test_request_lines_with_junk(stocked: Cli, table: Table, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = table.write(Path(folder) / f"lines{suffix}")
        ask = ["request", "--customer", "Acme", "--reason", "bid", "--file", str(path), "--json"]
        checked, _, changed = attempt(stocked, *ask, "--check", allowed=(0, 1, 2))
        assert not changed  # --check stores nothing, whatever the answer
        code, out, changed = attempt(stocked, *ask, allowed=(0, 1, 2))
    assert code == checked
    if code in (0, 1):
        assert changed
        import json

        stored = json.loads(out)
        assert stored["id"] and len(stored["lines"]) >= 1
        for line in stored["lines"]:
            assert Decimal(line["price"]) > 0


# Deals ------------------------------------------------------------------------------------------

DEAL_COLUMNS = ["Deal", "Date", "Customer", "Salesperson", "SKU", "Qty", "Net Price"]


def deal_row(index: int) -> st.SearchStrategy[tuple[str, dict[str, Any], Decimal]]:
    return st.tuples(
        st.dates(min_value=date(2025, 1, 1), max_value=date(2026, 12, 31)),
        st.one_of(st.integers(1, 500), EDGES),
        ROW_PRICE,
        st.sampled_from(["Acme", "Globex", None]),
    ).map(
        lambda t: (
            str(index),
            {"Deal": f"D-{index}", "Date": t[0].isoformat(), "Customer": t[3],
             "Salesperson": "priya", "SKU": f"G-{index % 25:03d}", "Qty": t[1], "Net Price": t[2]},
            t[2],
        )
    )  # fmt: skip


@PROPERTY
@given(table=tables(DEAL_COLUMNS, deal_row, rows=8), suffix=st.sampled_from([".xlsx", ".csv"]))
def test_deals_with_junk(stocked: Cli, table: Table, suffix: str) -> None:
    before = stored_counts(stocked.store())["deal_lines"]
    with tempfile.TemporaryDirectory() as folder:
        path = table.write(Path(folder) / f"deals{suffix}")
        code, out, _ = attempt(stocked, "deals", "import", str(path), "--json")
    if code == 2:
        return
    import json

    result = json.loads(out)
    assert result["added"] + result["already_present"] == result["lines"]
    assert stored_counts(stocked.store())["deal_lines"] == before + result["added"]
    report = stocked.json("report")["totals"]
    # Every stored line is in the report (returns and zero prices too: the total may be below
    # zero, so its sign says nothing), and its money is an exact decimal.
    assert report["lines"] == stored_counts(stocked.store())["deal_lines"]
    assert Decimal(report["net_revenue"]).is_finite()


def test_a_refusal_that_names_no_place_is_caught() -> None:
    """The location check the properties rely on fails for an error that names no place."""
    import json

    def problem(message: str = "bad", **where: str | None) -> str:
        base = {"severity": "error", "message": message, "cell": None, "line": None}
        return json.dumps({"problems": [base | {"sheet": None} | where]})

    with pytest.raises(AssertionError):
        assert_names_cells(problem())
    with pytest.raises(AssertionError):
        assert_names_cells(problem("list price is not a number", sheet="Price Book"))
    assert_names_cells(problem(sheet="Price Book", cell="B3"))
    assert_names_cells(problem("the sheet is empty: no price rows at all", sheet="Price Book"))


@pytest.fixture(scope="module", autouse=True)
def _some_junk_is_refused() -> Iterator[None]:
    """After the properties of this module: junk that is never refused would test nothing."""
    yield
    if CASES["count"] >= 50:
        assert 0 < CASES["refused"] < CASES["count"], CASES
