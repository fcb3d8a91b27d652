"""Real public files from ../shared/data: meet them where they are."""

from __future__ import annotations

from tests.conftest import Cli, needs_shared_data

ALKO_COLUMNS = ["--column", "sku=Numero", "--column", "list_price=Hinta",
                "--column", "name=Nimi", "--column", "family=Tyyppi"]  # fmt: skip


def test_alko_price_list_imports_with_a_column_mapping(cli: Cli) -> None:
    path = needs_shared_data("alko_price_list_2026-01-07.xlsx")
    document = cli.json("pricebook", "import", str(path), "--currency", "EUR", *ALKO_COLUMNS)
    assert document["edition"] == 1
    assert document["items"] == 11953
    assert not [p for p in document["problems"] if p["severity"] == "error"]
    items = cli.json("pricebook", "show")["items"]
    leading_zero = [i for i in items if i["sku"].startswith("0")]
    assert len(leading_zero) == 333
    first = items[0]
    assert (first["sku"], first["list_price"], first["currency"]) == ("906458", "12.48", "EUR")
    families = {i["family"] for i in items if i["family"]}
    assert "punaviinit" in families
    assert not any(f != f2 and f.casefold() == f2.casefold() for f in families for f2 in families)
    again = cli.json("pricebook", "import", str(path), "--currency", "EUR", *ALKO_COLUMNS)
    assert again["unchanged"] is True
