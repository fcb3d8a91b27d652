"""Deal guidance in a quote: what similar past deals were sold at, never from fewer than 5."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from pricing.requests.guidance import percentile
from pricing.storage.store import utcnow
from tests.conftest import Cli
from tests.test_cli_deals_report import deals_csv


def import_sales(owner: Cli, tmp_path: Path, rows: list[tuple[str, int, str]]) -> None:
    today = utcnow().date()
    lines = [
        f"G{i},{(today - timedelta(days=10 + i)).isoformat()},{sku},{qty},{price}"
        for i, (sku, qty, price) in enumerate(rows)
    ]
    owner(
        "deals",
        "import",
        str(deals_csv(tmp_path, "Deal,Date,SKU,Qty,Net Price\n" + "\n".join(lines) + "\n")),
    )


def test_quote__no_guidance_from_fewer_than_five_deals(owner: Cli, tmp_path: Path) -> None:
    import_sales(owner, tmp_path, [("SV-1", 1, "95")] * 4)
    document = owner.json("quote", "SV-1", "--qty", "1")
    assert document["guidance"] is None
    assert "only 4 comparable deal(s)" in document["guidance_note"]
    assert "at least 5 needed" in owner("quote", "SV-1", "--qty", "1").stdout


def test_quote__percentiles_of_similar_deals_with_their_count(owner: Cli, tmp_path: Path) -> None:
    prices = ["100", "98", "96", "95", "94", "92", "90"]  # standard 100 (Services, no tiers)
    import_sales(
        owner, tmp_path, [("SV-1", 1, p) for p in prices] + [("SV-1", 20, "50")]
    )  # other band
    g = owner.json("quote", "SV-1", "--qty", "1")["guidance"]
    discounts = [100 - Decimal(p) for p in prices]
    assert (g["deals"], g["basis"], g["quantity_band"]) == (7, "sku", "1")
    assert owner.json("quote", "SV-1", "--qty", "2")["guidance"] is None  # another quantity band
    assert g["discount_median"] == f"{percentile(discounts, Decimal('0.5')):.2f}" == "5.00"
    assert g["discount_p25"] == "3.00" and g["discount_p75"] == "7.00"
    assert (g["target_price"], g["stretch_price"]) == ("95.00", "97.00")
    assert g["floor_price"] == "93.00"  # p75 of discount, above the margin floor of 80


def test_quote__the_policy_floor_wins_over_a_lower_p75_price(owner: Cli, tmp_path: Path) -> None:
    # Services family deals priced far below the SV-1 margin floor (80): the floor is the floor.
    import_sales(owner, tmp_path, [("SV-1", 1, "60")] * 6)
    g = owner.json("quote", "SV-1", "--qty", "1")["guidance"]
    assert g["basis"] == "sku" and g["floor_price"] == "80.00"


CLASSIC_POLICY = """\
currency = "USD"
levels = ["rep", "manager"]
effective_from = 2003-01-01

[limits]
rep = 10.0
manager = 20.0
"""


def classic_history(cli: Cli, tmp_path: Path) -> None:
    """A classic sales export's shape: a price book and policy from 2003, and twelve orders of
    S10-1678 from 2003 to 2005, nothing since."""
    book = tmp_path / "book.csv"
    book.write_text("SKU,Family,List Price\nS10-1678,Motorcycles,100.00\n")
    assert cli("pricebook", "import", str(book), "--effective", "2003-01-01").exit_code == 0
    policy = tmp_path / "classic.toml"
    policy.write_text(CLASSIC_POLICY)
    assert cli("--user", "dana", "policy", "load", str(policy)).exit_code == 0
    rows = [
        f"{10100 + i},{2003 + i // 5}-{1 + i % 5 * 2:02d}-15,S10-1678,30,{95 - i % 4}.00"
        for i in range(12)
    ]
    deals = deals_csv(tmp_path, "Order ID,Order Date,SKU,Quantity,Net Price\n" + "\n".join(rows))
    assert cli("deals", "import", str(deals)).exit_code == 0


def test_quote__a_history_of_past_years_gives_guidance_as_of_a_date_and_window(
    cli: Cli, tmp_path: Path
) -> None:
    """Given deals from 2003 to 2005 only, when the rep quotes today, then there is no
    guidance and the output names the window, its deal count and where the history is, and
    suggests --as-of and --window; as of 2005-12-31 with a 730-day window, the guidance is
    there and says the window it used."""
    classic_history(cli, tmp_path)
    today = utcnow().date()
    document = cli.json("quote", "S10-1678", "--qty", "30")
    assert document["guidance"] is None
    assert (
        f"only 0 comparable deal(s) from {today - timedelta(days=365)} to {today}"
        in (document["guidance_note"])
    )
    shown = cli("quote", "S10-1678", "--qty", "30").stdout
    assert "(365 days)" in shown and "the deal history runs from 2003-01-15 to 2005-03-15" in shown
    assert "--as-of" in shown and "--window" in shown
    g = cli.json("quote", "S10-1678", "--qty", "30", "--as-of", "2005-12-31", "--window", "730")[
        "guidance"
    ]
    assert (g["deals"], g["window_from"], g["window_to"], g["window_days"]) == (
        7,
        "2004-01-01",
        "2005-12-31",
        730,
    )
    assert (g["requests_won"], g["requests_lost"]) == (0, 0)
    shown = cli("quote", "S10-1678", "--qty", "30", "--as-of", "2005-12-31", "--window", "730")
    assert "from 2004-01-01 to 2005-12-31 (730 days)" in shown.stdout
    assert "requests won 0 of 0 decided" in shown.stdout
    refused = cli("quote", "S10-1678", "--qty", "30", "--window", "0")
    assert refused.exit_code == 2 and "--window" in refused.output


def test_quote__a_window_beyond_any_calendar_is_refused_naming_the_option(
    cli: Cli, tmp_path: Path
) -> None:
    """Given a deal history, when the rep asks for guidance over 800,000 days (before the
    calendar's first day), then the quote is refused (exit 2) naming --window and its bounds,
    without a traceback; the longest window allowed is answered."""
    classic_history(cli, tmp_path)
    refused = cli("quote", "S10-1678", "--qty", "30", "--window", "800000")
    assert refused.exit_code == 2, refused.output
    assert "--window" in refused.stderr and "from 1 to 36,500" in refused.stderr
    assert "Traceback" not in refused.output
    g = cli.json("quote", "S10-1678", "--qty", "30", "--as-of", "2005-12-31", "--window", "36500")
    assert g["guidance"]["window_days"] == 36500
