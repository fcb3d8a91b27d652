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


MANAGERS = {
    "West": "Anna Andreadi",
    "East": "Chuck Magee",
    "Central": "Kelly Williams",
    "South": "Cassandra Brandow",
}


def test_superstore__derived_price_book_and_drift_totals(cli: Cli, tmp_path) -> None:
    """List = Sales / (1 - Discount) / Quantity per product (ID and name); the report's totals
    equal the sums computed here from the file itself."""
    import csv
    from collections import defaultdict
    from decimal import ROUND_HALF_EVEN, Decimal

    source = needs_shared_data("superstore_orders.csv")
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    names_per_id: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["Product Name"] not in names_per_id[row["Product ID"]]:
            names_per_id[row["Product ID"]].append(row["Product Name"])

    def sku(row: dict[str, str]) -> str:
        names = names_per_id[row["Product ID"]]
        return (
            row["Product ID"]
            if len(names) == 1
            else f"{row['Product ID']}/{names.index(row['Product Name']) + 1}"
        )

    lists: dict[str, Decimal] = {}
    for row in rows:
        price = Decimal(row["Sales"]) / (1 - Decimal(row["Discount"])) / Decimal(row["Quantity"])
        lists.setdefault(sku(row), price.quantize(Decimal("0.01"), ROUND_HALF_EVEN))
    assert len(lists) == 1894
    book = tmp_path / "superstore-prices.csv"
    with book.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["SKU", "List Price"])
        writer.writerows((key, f"{price}") for key, price in lists.items())
    deals = tmp_path / "superstore-deals.csv"
    with deals.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Row ID", "Order ID", "Order Date", "Ship Date", "Customer Name", "Salesperson",
                         "SKU", "Quantity", "Sales", "Discount"])  # fmt: skip
        for row in rows:
            writer.writerow([row["Row ID"], row["Order ID"], row["Order Date"], row["Ship Date"],
                             row["Customer Name"], MANAGERS[row["Region"]], sku(row), row["Quantity"],
                             row["Sales"], row["Discount"]])  # fmt: skip
    assert cli("pricebook", "import", str(book), "--effective", "2014-01-01").exit_code == 0
    imported = cli.json("deals", "import", str(deals))
    assert (imported["lines"], imported["added"], imported["unmatched"]) == (9994, 9994, 0)
    report = cli.json("report", "--by", "rep")
    t = report["totals"]
    net = sum(Decimal(row["Sales"]) for row in rows)
    list_revenue = sum(lists[sku(row)] * int(row["Quantity"]) for row in rows)
    assert net == Decimal("2297200.8603")
    assert t["net_revenue"] == str(net.quantize(Decimal("0.01"), ROUND_HALF_EVEN))
    assert t["list_revenue"] == str(list_revenue)
    assert t["leakage"] == str((list_revenue - net).quantize(Decimal("0.01"), ROUND_HALF_EVEN))
    assert t["special_discount"] == t["leakage"] and t["standard_discount"] == "0.00"
    assert (t["lines"], t["deals"]) == (9994, len({row["Order ID"] for row in rows}))
    by_rep = {g["key"]["rep"]: g for g in report["groups"]}
    for region, manager in MANAGERS.items():
        expected = sum(Decimal(row["Sales"]) for row in rows if row["Region"] == region)
        assert by_rep[manager]["net_revenue"] == str(
            expected.quantize(Decimal("0.01"), ROUND_HALF_EVEN)
        )


def test_iowa__every_line_at_list_means_zero_drift(cli: Cli, tmp_path) -> None:
    """The control case: sale_dollars = retail x bottles, so leakage is exactly 0."""
    import csv

    source = needs_shared_data("iowa_liquor_sales_2012-01-31.csv")
    with source.open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["state_bottle_retail"] and r["sale_dollars"]]
    assert len(rows) == 9503  # the 7 lines without prices are left out here
    book = tmp_path / "iowa-prices.csv"
    retail = {r["item_number"]: r["state_bottle_retail"] for r in rows}
    with book.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Item Number", "Price"])
        writer.writerows(retail.items())
    deals = tmp_path / "iowa-deals.csv"
    with deals.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert cli("pricebook", "import", str(book), "--effective", "2012-01-01").exit_code == 0
    imported = cli.json("deals", "import", str(deals), "--column", "qty=bottles_sold",
                        "--column", "amount=sale_dollars", "--column", "customer=store_name")  # fmt: skip
    assert (imported["lines"], imported["added"], imported["unmatched"]) == (9503, 9503, 0)
    t = cli.json("report")["totals"]
    assert t["leakage"] == "0.00" and t["realization_pct"] == "100.00"
    assert t["list_revenue"] == t["net_revenue"] and t["out_of_policy_lines"] == 0
    again = cli.json("deals", "import", str(deals), "--column", "qty=bottles_sold",
                     "--column", "amount=sale_dollars", "--column", "customer=store_name")  # fmt: skip
    assert again["already_present"] == 9503


def test_online_retail__returns_fees_and_write_offs_each_in_their_place(cli: Cli, tmp_path) -> None:
    """A price book of each product's most frequent price (so that lines sold above and below
    it exist); the invoices as they are: credit invoices (negative quantities), postage, fees
    and manual lines no book lists, write-offs at price 0. Every figure of the report equals the
    one worked out here from the file: sales, returns, unmatched money and write-offs apart."""
    import csv
    from collections import Counter, defaultdict
    from decimal import ROUND_HALF_EVEN, Decimal

    source = needs_shared_data("online_retail_sample.csv")
    with source.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    seen: dict[str, Counter[Decimal]] = defaultdict(Counter)
    for row in rows:
        if row["StockCode"][:1].isdigit() and Decimal(row["UnitPrice"]) > 0:
            seen[row["StockCode"].casefold()][Decimal(row["UnitPrice"])] += 1
    book: dict[str, Decimal] = {}
    for code, prices in seen.items():
        most = max(prices.values())
        book[code] = min(price for price, n in prices.items() if n == most)
    path = tmp_path / "online-retail-prices.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["SKU", "List Price"])
        writer.writerows(book.items())
    assert cli("pricebook", "import", str(path), "--effective", "2010-01-01",
               "--currency", "GBP").exit_code == 0  # fmt: skip
    imported = cli.json("deals", "import", str(source))
    assert (imported["lines"], imported["added"]) == (2709, 2709)

    zero = Decimal(0)
    want: dict[str, Decimal] = defaultdict(Decimal)
    counts: Counter[str] = Counter()
    deals: set[str] = set()
    for row in rows:
        qty, price = int(row["Quantity"]), Decimal(row["UnitPrice"])
        net, listed = price * qty, book.get(row["StockCode"].casefold())
        if qty < 0 and net == 0:
            counts["stock_adjustment_lines"] += 1
            continue
        if qty >= 0:
            deals.add(row["InvoiceNo"])
        if listed is None:
            counts["unmatched_lines"] += 1
            want["unmatched_net_revenue"] += net
        elif qty < 0:
            counts["returns_lines"] += 1
            counts["returns_above_list_lines"] += net < listed * qty
            want["returns_amount"] += net
            want["returns_at_list"] += listed * qty
        else:
            counts["sales_lines"] += 1
            counts["above_standard_lines"] += net > listed * qty
            counts["above_standard_flagged_lines"] += net > 3 * listed * qty
            want["list_revenue"] += listed * qty
            want["net_revenue"] += net
            want["special_discount"] += max(listed * qty - net, zero)
            want["above_standard_amount"] += max(net - listed * qty, zero)
    want["net_after_returns"] = want["net_revenue"] + want["returns_amount"]
    assert counts["returns_lines"] == 47 and counts["stock_adjustment_lines"] == 7
    assert counts["unmatched_lines"] == 20  # postage, fees, manual lines, free samples

    t = cli.json("report")["totals"]
    for key, amount in want.items():
        assert t[key] == str(amount.quantize(Decimal("0.01"), ROUND_HALF_EVEN)), key
    for key, count in counts.items():
        assert t[key] == count, key
    assert (t["lines"], t["deals"]) == (2709, len(deals))
    # No policy is loaded: every sale is not judged, and no return ever is.
    assert (t["unjudged_lines"], t["out_of_policy_lines"]) == (counts["sales_lines"], 0)
    assert t["realization_pct"] == str(
        (want["net_revenue"] / want["list_revenue"] * 100).quantize(Decimal("0.01"))
    )
