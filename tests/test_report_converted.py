"""`report --currency`: every line's money converted at the exchange rate of its own date (the
European Central Bank's reference rates, imported as published), summed exactly and rounded
once, and said so: which lines, at which rates (issue 27)."""

from __future__ import annotations

import csv
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DATA, Cli, write_workbook

RATES = SAMPLE_DATA / "ecb-rates-recent.csv"
BOOK = {
    "Price Book": [
        ["SKU", "Name", "List Price", "Currency"],
        ["US-1", "Router", 100, "USD"],
        ["US-2", "Switch", 40, "USD"],
        ["EU-1", "Router", 90, "EUR"],
        ["JP-1", "Router", 15000, "JPY"],
    ]
}
# (deal, day, SKU, quantity, net unit price): 2026-09-05 and -06 are a weekend (Friday's rate).
SOLD = [
    ("D-1", "2026-09-02", "US-1", 2, "95.50"),
    ("D-2", "2026-09-03", "EU-1", 3, "81.25"),
    ("D-3", "2026-09-05", "EU-1", 1, "88.10"),
    ("D-4", "2026-09-06", "JP-1", 1, "14000"),
    ("D-5", "2026-09-07", "JP-1", 2, "13333"),
    ("D-6", "2026-09-08", "US-2", 5, "39.99"),
]
LIST = {"US-1": ("USD", Decimal(100)), "US-2": ("USD", Decimal(40)),
        "EU-1": ("EUR", Decimal(90)), "JP-1": ("JPY", Decimal(15000))}  # fmt: skip


def ecb() -> dict[date, dict[str, Decimal]]:
    """The file's rates, read here on their own: each day's units of each currency per euro."""
    with RATES.open(newline="") as file:
        return {
            date.fromisoformat(row["Date"]): {
                code: Decimal(value) for code, value in row.items()
                if code not in ("", "Date") and value not in ("N/A", "")
            }
            for row in csv.DictReader(file)
        }  # fmt: skip


def rate(currency: str, into: str, day: date) -> Decimal:
    """One ``currency`` in ``into`` on ``day``: the last rates published on or before it,
    direct from the euro or through it, to ten significant digits, half-even, once."""
    table = ecb()
    published = max(d for d in table if d <= day)
    per_euro = {**table[published], "EUR": Decimal(1)}
    if currency == into:
        return Decimal(1)
    if currency == "EUR":
        return per_euro[into]
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 10, ROUND_HALF_EVEN
        return per_euro[into] / per_euro[currency]


def expected(into: str) -> tuple[Decimal, Decimal]:
    """The list and net revenue of the lines above in ``into``: each line converted at its
    day's rate, summed exactly, rounded once to the cent."""
    at_list = net = Decimal(0)
    for _, day, sku, qty, price in SOLD:
        currency, listed = LIST[sku]
        r = rate(currency, into, date.fromisoformat(day))
        at_list += listed * qty * r
        net += Decimal(price) * qty * r
    cent = Decimal("0.01") if into != "JPY" else Decimal(1)
    return (at_list.quantize(cent, ROUND_HALF_EVEN), net.quantize(cent, ROUND_HALF_EVEN))


@pytest.fixture
def stocked(cli: Cli, tmp_path: Path) -> Cli:
    book = write_workbook(tmp_path / "book.xlsx", BOOK)
    assert cli("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Deal,Date,Customer,SKU,Qty,Net Price\n"
        + "".join(f"{d},{day},Acme,{sku},{qty},{price}\n" for d, day, sku, qty, price in SOLD)
    )
    assert cli("deals", "import", str(deals)).exit_code == 0
    assert cli("fx", "import", str(RATES)).exit_code == 0
    return cli


@pytest.mark.parametrize("into", ["USD", "EUR", "JPY", "GBP"])
def test_every_line_converted_at_its_dates_rate_sums_exactly(stocked: Cli, into: str) -> None:
    report = stocked.json("report", "--currency", into)

    at_list, net = expected(into)
    assert report["currency"] == into and "by_currency" not in report
    assert Decimal(report["totals"]["list_revenue"]) == at_list
    assert Decimal(report["totals"]["net_revenue"]) == net
    assert report["waterfall"][-1]["amount"] == report["totals"]["net_revenue"]
    others = [s for s in SOLD if LIST[s[2]][0] != into]
    assert report["converted"]["lines"] == len(others)
    assert {used["currency"] for used in report["rates"]} == {LIST[s[2]][0] for s in others}


def test_the_rates_used_are_said(stocked: Cli) -> None:
    report = stocked.json("report", "--currency", "USD")

    used = {r["currency"]: r for r in report["rates"]}
    assert used["EUR"]["lines"] == 2 and used["EUR"]["how"] == ["direct"]
    assert (used["EUR"]["from"], used["EUR"]["to"]) == ("2026-09-03", "2026-09-05")
    rates = [rate("EUR", "USD", date(2026, 9, 3)), rate("EUR", "USD", date(2026, 9, 5))]
    assert Decimal(used["EUR"]["lowest"]) == min(rates)
    assert Decimal(used["EUR"]["highest"]) == max(rates)
    assert used["JPY"]["how"] == ["via EUR"]
    note = next(n for n in report["notes"] if n.startswith("converted to USD"))
    assert "4 lines in EUR and JPY" in note and "rounded once" in note
    said = stocked("report", "--currency", "usd")
    assert said.exit_code == 0 and "Converted to USD: 4 lines in EUR and JPY" in said.stdout


def test_a_day_without_a_rate_is_an_error_naming_it_and_nothing_else(
    stocked: Cli, tmp_path: Path
) -> None:
    early = tmp_path / "early.csv"
    early.write_text("Deal,Date,Customer,SKU,Qty,Net Price\nD-9,2026-07-01,Beta,EU-1,1,90\n")
    assert stocked("deals", "import", str(early)).exit_code == 0

    refused = stocked("report", "--currency", "USD")
    assert refused.exit_code == 2
    assert "no exchange rate of EUR in USD on or before 2026-07-01" in refused.stderr
    assert "rates begin 2026-08-10" in refused.stderr and "import older rates" in refused.stderr
    assert "Traceback" not in refused.output and refused.stdout == ""
    later = stocked.json(
        "report", "--currency", "USD", "--from", "2026-09-01"
    )  # (a period with rates)
    assert later["converted"]["lines"] == 4
    wrong = stocked("report", "--currency", "dollars")
    assert wrong.exit_code == 2 and "a currency code" in wrong.stderr
    unknown = stocked("report", "--currency", "XYZ", "--from", "2026-09-01")
    assert unknown.exit_code == 2 and "rates begin" not in unknown.stderr  # (no pair's do)
    assert "no rate of XYZ is stored, directly or through" in unknown.stderr


def test_the_files_say_what_was_converted(stocked: Cli, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    workbook, page = tmp_path / "drift.xlsx", tmp_path / "drift.html"
    assert (
        stocked("report", "--currency", "USD", "--by", "customer", "-o", str(workbook)).exit_code
        == 0
    )
    assert stocked("report", "--currency", "USD", "-o", str(page)).exit_code == 0

    summary = load_workbook(workbook)["Summary"]
    texts = [str(c.value) for row in summary.iter_rows() for c in row if c.value]
    assert any(text.startswith("Converted to USD: 4 lines") for text in texts)
    values = {row[0]: row[1] for row in summary.iter_rows(min_row=5, values_only=True)}
    assert Decimal(str(values["Net revenue"])).quantize(Decimal("0.01")) == expected("USD")[1]
    assert "Converted to USD: 4 lines" in page.read_text(encoding="utf-8")


def test_the_library_converts_too(stocked: Cli) -> None:
    import pricing

    with pricing.open(stocked.db_url, user="mia") as p:
        report = p.report(currency="USD")
    assert report.converted is not None and report.converted.lines == 4
    assert report.totals.net_revenue == expected("USD")[1]
    assert report.rates is not None and {r.currency for r in report.rates} == {"EUR", "JPY"}


def test_sums_too_large_to_hold_exactly_or_rates_too_small_are_refused_never_a_traceback(
    stocked: Cli, tmp_path: Path
) -> None:
    """Ten billion dollars in rupiah (about 1.6 x 10^14) is beyond what the converted sums hold
    exactly; a rupiah worth 8.1 x 10^-12 euros, too small a rate to hold exactly: each is an error
    saying so (exit 2), never a traceback and never a sum rounded or zeroed silently."""
    huge = tmp_path / "huge.csv"
    huge.write_text("Deal,Date,Customer,SKU,Qty,Net Price\nD-9,2026-09-02,Big,US-1,100000000,100\n")
    assert stocked("deals", "import", str(huge)).exit_code == 0
    refused = stocked("report", "--currency", "IDR")
    assert refused.exit_code == 2, refused.output
    assert "too large to sum exactly" in refused.stderr and "Traceback" not in refused.output

    book = tmp_path / "rupiah.csv"
    book.write_text(
        "SKU,List Price,Currency\nUS-1,100,USD\nUS-2,40,USD\nEU-1,90,EUR\nJP-1,15000,JPY\n"
        "ID-1,1000000,IDR\n"
    )  # (a currency the book had not: said on purpose)
    added = stocked(
        "pricebook", "import", str(book), "--effective", "2026-08-01", "--currency", "IDR"
    )
    assert added.exit_code == 0, added.output
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,rate,base\n2026-09-02,IDR,123456789012,EUR\n")
    assert stocked("fx", "import", str(rates)).exit_code == 0
    sold = tmp_path / "sold.csv"
    sold.write_text("Deal,Date,Customer,SKU,Qty,Net Price\nD-10,2026-09-02,Jaya,ID-1,1,900000\n")
    assert stocked("deals", "import", str(sold)).exit_code == 0
    tiny = stocked("report", "--currency", "EUR", "--from", "2026-09-02", "--to", "2026-09-02")
    assert tiny.exit_code == 2, tiny.output
    assert "too small a rate to convert exactly" in tiny.stderr and "IDR" in tiny.stderr


def test_a_rate_older_than_the_policys_bound_is_said(stocked: Cli, tmp_path: Path) -> None:
    """A euro sale four weeks after the last rate stored is converted at that rate, and the
    report says how many lines were converted at a rate older than fx_max_age_days (7)."""
    late = tmp_path / "late.csv"
    late.write_text("Deal,Date,Customer,SKU,Qty,Net Price\nD-9,2026-11-27,Beta,EU-1,1,90\n")
    assert stocked("deals", "import", str(late)).exit_code == 0

    report = stocked.json("report", "--currency", "USD")
    used = {r["currency"]: r for r in report["rates"]}
    assert (used["EUR"]["stale_lines"], used["EUR"]["oldest_days"]) == (1, 28)
    assert used["JPY"]["stale_lines"] == 0
    assert any(
        n.startswith("1 line converted at a rate older than 7 days") for n in report["notes"]
    )
    said = stocked("report", "--currency", "USD")
    assert "warning: 1 line converted at a rate older than 7 days" in said.stderr
    fresh = stocked.json("report", "--currency", "USD", "--to", "2026-10-30")
    assert not any("fx_max_age_days" in n for n in fresh["notes"])
