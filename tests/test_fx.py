"""Exchange rates: the owner imports the European Central Bank's reference rates as published
(or a plain list), and reads the rate of a currency on a day (``pricing fx``).

The ECB's file (``../shared/data/ecb_eurofxref_hist.csv``): a row per day since 1999-01-04,
newest first, a column per currency, ``N/A`` where a currency had no rate, a trailing empty
column; 1 EUR = 1.1172 USD = 0.8338 GBP on 2026-10-30, a Friday.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from pathlib import Path

import pytest

from pricing.storage.fx_tables import fx_series
from tests.conftest import Cli

ECB = Path(__file__).resolve().parents[2] / "shared" / "data" / "ecb_eurofxref_hist.csv"


def ten_digits(dividend: str, divisor: str) -> Decimal:
    """The quotient to ten significant digits, half-even, as a rate derived is."""
    with localcontext() as ctx:
        ctx.prec, ctx.rounding = 10, ROUND_HALF_EVEN
        return Decimal(dividend) / Decimal(divisor)


@pytest.fixture
def ecb_recent(tmp_path: Path) -> Path:
    """The ECB's file as published, its newest 30 days (header and all)."""
    if not ECB.exists():
        pytest.skip(f"the ECB's rates are not here ({ECB})")
    lines = ECB.read_text(encoding="utf-8").splitlines(keepends=True)
    recent = tmp_path / "eurofxref-hist.csv"
    recent.write_text("".join(lines[:31]), encoding="utf-8")
    return recent


def imported(cli: Cli, file: Path, *extra: str, user: str = "dana") -> dict[str, object]:
    return cli.json("fx", "import", str(file), *extra, user=user)  # type: ignore[no-any-return]


def shown(cli: Cli, currency: str, *extra: str) -> dict[str, str]:
    return cli.json("fx", "show", currency, *extra)  # type: ignore[no-any-return]


def stored_rates(cli: Cli) -> int:
    from sqlalchemy import func, select

    with cli.store().read() as conn:
        return int(conn.execute(select(func.sum(fx_series.c.days))).scalar_one() or 0)


def test_the_ecbs_file_as_published_imports_whole_and_once(cli: Cli) -> None:
    """Given the ECB's whole history, when the owner imports it, then every published rate is
    stored (N/A is no rate, the empty last column no currency), and importing it again stores
    nothing and says so."""
    if not ECB.exists():
        pytest.skip(f"the ECB's rates are not here ({ECB})")
    if not cli.db_url.startswith("sqlite"):
        pytest.skip("41 rows stored the same way on PostgreSQL: the other tests import there")
    cells = [line.rstrip("\n").split(",")[1:] for line in ECB.read_text().splitlines()[1:]]
    published = sum(1 for row in cells for cell in row if cell not in ("N/A", ""))

    done = imported(cli, ECB)

    assert done["id"] == 1 and done["shape"] == "wide" and done["bases"] == ["EUR"]
    assert done["rates"] == done["added"] == published == 221_702
    assert (done["first_day"], done["last_day"]) == ("1999-01-04", "2026-10-30")
    assert len(done["currencies"]) == 41 and "CYP" in done["currencies"]  # (gone since 2008)
    again = imported(cli, ECB)
    assert again["id"] is None and again["added"] == again["changed"] == 0
    assert again["unchanged"] == published and stored_rates(cli) == published
    said = cli("fx", "import", str(ECB), user="dana")
    assert said.exit_code == 0 and "Rates unchanged" in said.stdout
    assert cli("audit", "verify").exit_code == 0


def test_the_rate_on_a_weekend_is_fridays_and_an_old_one_is_said_to_be(
    cli: Cli, ecb_recent: Path
) -> None:
    imported(cli, ecb_recent)

    sunday = shown(cli, "EUR", "--in", "USD", "--as-of", "2026-11-01")
    assert (sunday["rate"], sunday["published"], sunday["how"]) == (
        "1.1172",
        "2026-10-30",
        "direct",
    )
    assert (sunday["age_days"], sunday["stale"]) == (2, False)
    later = cli("fx", "show", "EUR", "--in", "USD", "--as-of", "2026-11-20")
    assert later.exit_code == 0 and "1 EUR = 1.1172 USD on 2026-11-20" in later.stdout
    assert "this rate is 21 days old (more than 7)" in later.stderr


def test_a_rate_the_other_way_or_through_the_base_is_said_to_be_so(
    cli: Cli, ecb_recent: Path
) -> None:
    """1 USD in EUR is 1 / 1.1172; 1 GBP in USD is 1.1172 / 0.8338 (both per EUR), each to ten
    significant digits, half-even, once."""
    imported(cli, ecb_recent)

    usd = shown(cli, "USD", "--in", "EUR", "--as-of", "2026-10-30")
    gbp = shown(cli, "GBP", "--in", "USD", "--as-of", "2026-10-30")

    assert Decimal(usd["rate"]) == ten_digits("1", "1.1172") == Decimal("0.8950948801")
    assert usd["how"] == "inverted (1 EUR = 1.1172 USD)"
    assert Decimal(gbp["rate"]) == ten_digits("1.1172", "0.8338") == Decimal("1.339889662")
    assert gbp["how"] == "via EUR (1 EUR = 0.8338 GBP = 1.1172 USD)"
    assert shown(cli, "USD", "--in", "USD")["rate"] == "1"


def test_with_no_rate_on_or_before_the_day_it_says_which_and_exits_2(
    cli: Cli, ecb_recent: Path
) -> None:
    nothing = cli("fx", "show", "USD", "--in", "EUR")
    assert nothing.exit_code == 2 and "no rates are stored: `pricing fx import FILE` first" in (
        nothing.stderr
    )
    imported(cli, ecb_recent)
    before = cli("fx", "show", "USD", "--in", "EUR", "--as-of", "2026-01-01")
    assert before.exit_code == 2 and "Traceback" not in before.output
    assert "no exchange rate of USD in EUR on or before 2026-01-01" in before.stderr
    odd = cli("fx", "show", "dollars")
    assert odd.exit_code == 2 and "'DOLLARS': a currency code" in odd.stderr


def test_a_plain_list_of_rates_and_a_corrected_rate(cli: Cli, tmp_path: Path) -> None:
    """Given date,currency,rate lines against USD, when one rate is corrected and the file
    imported again, then only that rate is stored again, and the newest is the one shown."""
    rates = tmp_path / "rates.csv"
    rates.write_text("date,currency,rate\n2026-03-02,CAD,1.3601\n2026-03-02,JPY,149.5\n"
                     "2026-03-03,CAD,1.3655\n")  # fmt: skip
    first = imported(cli, rates, "--base", "USD")
    assert (first["shape"], first["bases"], first["added"]) == ("long", ["USD"], 3)

    rates.write_text(rates.read_text().replace("1.3655", "1.3650"))
    corrected = imported(cli, rates, "--base", "USD")

    assert (corrected["id"], corrected["added"], corrected["changed"]) == (2, 0, 1)
    assert corrected["unchanged"] == 2
    assert shown(cli, "USD", "--in", "CAD", "--as-of", "2026-03-04")["rate"] == "1.365"
    cad_in_jpy = shown(cli, "CAD", "--in", "JPY", "--as-of", "2026-03-02")
    assert Decimal(cad_in_jpy["rate"]) == ten_digits("149.5", "1.3601")
    assert cli("audit", "verify").exit_code == 0


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Date,USD,\n2026-10-30,1.1172,\n2026-10-29,abc,\n",
         "line 3, column B: \"abc\": the rate is not a number"),
        ("Date,USD,\n2026-10-30,-1.1,\n", "line 2, column B: \"-1.1\": a rate is a number more than 0"),
        ("Date,USD,\n30/10/2026,1.1172,\n", "line 2, column A: \"30/10/2026\": the date is not"),
        ("Date,USD,Dollar\n2026-10-30,1.1,1.2\n", "line 1, column C: \"Dollar\": a column is not"),
        ("Date,USD,EUR\n2026-10-30,1.1,1\n", "a column of the base EUR itself"),
        ("date,currency,rate\n2026-10-30,USD,1.1\n2026-10-30,USD,1.2\n",
         "a second rate of USD for 2026-10-30"),
        ("date,currency,rate\n2026-10-30,EUR,1\n", "a rate of EUR against itself"),
        ("when,what\n2026-10-30,1\n", "no header"),
        ("Date,USD\n", "the file holds no rate"),
        ("Date,USD,JPY\n2026-10-30,1,5,175.68\n", "line 2, column D: the row has more cells"),
        ("date,currency,rate\n2026-10-30,USD,1,5\n", "the row has more cells than the header"),
        ("Date,USD\n2026-10-30,1.1172\n2026-10-30,1.2\n", "a second rate of USD for 2026-10-30"),
        ("date,currency,rate\n2026-W44-5,USD,1.9\n", "the date is not a day as YYYY-MM-DD"),
        ("date,currency,rate\n20261030,USD,1.9\n", "the date is not a day as YYYY-MM-DD"),
        ("Date,USD\n2026-10-30,1e-30\n", "the rate is not a number written as 1.1172"),
        ("Date,USD\n2026-10-30,0.0000000000001\n", "a rate is a number more than 0 (from a million millionth"),
        ("Date,USD\n2026-10-30,1_000\n", "the rate is not a number written as 1.1172"),
        ("Date,USD\n2026-10-30,1E2\n", "the rate is not a number written as 1.1172"),
        ("Date,USD\n2026-10-30,\uff11.\uff15\n", "the rate is not a number written as 1.1172"),
    ],
)  # fmt: skip
def test_a_file_with_a_problem_stores_nothing_and_names_the_cell(
    cli: Cli, tmp_path: Path, text: str, said: str
) -> None:
    bad = tmp_path / "rates.csv"
    bad.write_text(text)

    done = cli("fx", "import", str(bad), user="dana")

    assert done.exit_code == 2 and "Traceback" not in done.output, done.output
    assert said in done.stderr and "no rate was stored" in done.stderr
    assert stored_rates(cli) == 0


def test_a_rep_may_not_import_rates(cli: Cli, ecb_recent: Path) -> None:
    for name, role in (("dana", "owner"), ("priya", "rep"), ("mia", "marketer")):
        assert cli("people", "add", name, "--role", role, user="dana").exit_code == 0

    refused = cli("fx", "import", str(ecb_recent), user="priya")

    assert refused.exit_code == 1 and "only marketer or owner may import exchange rates" in (
        refused.stderr
    )
    assert stored_rates(cli) == 0
    assert cli("fx", "import", str(ecb_recent), user="mia").exit_code == 0


def test_a_rate_changed_in_the_database_by_hand_is_found_by_the_audit(
    cli: Cli, ecb_recent: Path
) -> None:
    imported(cli, ecb_recent)
    with cli.store().write() as conn:
        usd = fx_series.c.currency == "USD"
        series = conn.execute(fx_series.select().where(usd)).one()
        edited = series.rates.replace('"2026-10-30":"1.1172"', '"2026-10-30":"1.5"')
        assert edited != series.rates
        conn.execute(fx_series.update().where(usd).values(rates=edited))

    verified = cli("audit", "verify")

    assert verified.exit_code == 1 and "exchange rates import 1" in verified.output


def test_the_policy_says_how_old_a_rate_may_be(cli: Cli, ecb_recent: Path, tmp_path: Path) -> None:
    """The policy in force on the day asked says how old its rate may be (7 days unless)."""
    from tests.test_policy import POLICY

    imported(cli, ecb_recent)
    assert shown(cli, "EUR", "--in", "USD", "--as-of", "2026-11-20")["stale"] is True
    guardrails = tmp_path / "guardrails.toml"
    guardrails.write_text("fx_max_age_days = 30\neffective_from = 2026-01-01\n" + POLICY)
    assert cli("policy", "load", str(guardrails), user="dana").exit_code == 0

    later = shown(cli, "EUR", "--in", "USD", "--as-of", "2026-11-20")

    assert (later["age_days"], later["max_age_days"], later["stale"]) == (21, 30, False)
    assert "exchange rates old after 30 days" in cli("policy", "show").stdout
    guardrails.write_text('fx_max_age_days = "30"\n' + POLICY)
    refused = cli("policy", "check", str(guardrails))
    assert refused.exit_code == 2 and "fx_max_age_days" in refused.stderr


def test_a_series_written_by_hand_under_no_import_is_never_read(cli: Cli, ecb_recent: Path) -> None:
    """The audit digests each import's rows: a row under no import would be nobody's, so no
    lookup reads it (and the rates shown are the imported ones)."""
    imported(cli, ecb_recent)
    row = "99, 'EUR', 'USD', 0, '2026-11-30', '2026-11-30', 1, '{\"2026-11-30\":\"9.99\"}'"
    if cli.db_url.startswith("sqlite"):  # as the sqlite3 shell does: no foreign keys checked
        import sqlite3
        from contextlib import closing

        with closing(sqlite3.connect(cli.db_url.removeprefix("sqlite:///"))) as raw:
            raw.execute(f"INSERT INTO fx_series VALUES ({row})")
            raw.commit()
    else:
        with cli.store().write() as conn:  # a superuser turns the checks off
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql(f"INSERT INTO fx_series VALUES ({row})")

    assert shown(cli, "EUR", "--in", "USD", "--as-of", "2026-12-01")["rate"] == "1.1172"


def test_a_newer_rate_the_other_way_round_beats_an_older_direct_one(
    cli: Cli, ecb_recent: Path, tmp_path: Path
) -> None:
    imported(cli, ecb_recent)  # EUR-based, to 2026-10-30
    newer = tmp_path / "usd.csv"
    newer.write_text("date,currency,rate\n2026-12-04,EUR,0.85\n")
    imported(cli, newer, "--base", "USD")

    found = shown(cli, "EUR", "--in", "USD", "--as-of", "2026-12-04")

    assert (found["published"], found["stale"]) == ("2026-12-04", False)
    assert Decimal(found["rate"]) == ten_digits("1", "0.85")
    assert found["how"] == "inverted (1 USD = 0.85 EUR)"


def test_a_tiny_rate_shows_without_an_exponent(cli: Cli, tmp_path: Path) -> None:
    """The Turkish lira before 2005: 1,836,200 TRL to the euro; a euro-lira rate is shown as
    people write it, to ten significant digits."""
    lira = tmp_path / "trl.csv"
    lira.write_text("date,currency,rate\n2004-12-31,TRL,1836200\n")
    imported(cli, lira)

    found = shown(cli, "TRL", "--in", "EUR", "--as-of", "2004-12-31")

    assert found["rate"] == "0.0000005446029844" and Decimal(found["rate"]) == ten_digits(
        "1", "1836200"
    )
    said = cli("fx", "show", "TRL", "--in", "EUR", "--as-of", "2004-12-31")
    assert "1 TRL = 0.0000005446029844 EUR" in said.stdout


def test_a_workbook_of_rates_with_date_cells_and_numbers(cli: Cli, tmp_path: Path) -> None:
    from datetime import date

    from tests.conftest import write_workbook

    book = write_workbook(tmp_path / "rates.xlsx", {"Rates": [
        ["Date", "Currency", "Rate"], [date(2026, 10, 29), "USD", 1.113],
        [date(2026, 10, 30), "USD", 1.1172], [date(2026, 10, 30), "JPY", 175.68]]})  # fmt: skip

    done = imported(cli, book)

    assert (done["shape"], done["rates"], done["first_day"]) == ("long", 3, "2026-10-29")
    assert shown(cli, "USD", "--in", "EUR", "--as-of", "2026-10-29")["how"] == (
        "inverted (1 EUR = 1.113 USD)"
    )


def test_an_older_import_with_a_later_day_still_gives_that_day(cli: Cli, tmp_path: Path) -> None:
    """The rate on a day is the last published on or before it, whichever import holds it;
    where two imports hold the same day, the newer one's."""
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("date,currency,rate\n2026-10-29,USD,1.11\n2026-10-30,USD,1.12\n")
    second.write_text("date,currency,rate\n2026-10-29,USD,1.13\n")
    imported(cli, first)
    imported(cli, second)

    assert shown(cli, "EUR", "--in", "USD", "--as-of", "2026-10-30")["rate"] == "1.12"
    assert shown(cli, "EUR", "--in", "USD", "--as-of", "2026-10-29")["rate"] == "1.13"
