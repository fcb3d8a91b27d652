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
