"""Matching deal lines to the list price, standard price and policy in force on their dates.

Everything here works on whole columns (pandas/numpy), because a deals history is millions of
lines. The one rules engine is :func:`pricing.policy.judge`; :func:`classify` is its column-wise
twin, and lines within a hair of a limit are decided by ``judge`` itself so that both agree
exactly (a test checks them line by line). Money stays in whole millionths; products that could
overflow 64 bits are done with Python integers.
"""

from __future__ import annotations

import fnmatch
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from pricing.money import minor_units
from pricing.policy import LineFacts, Policy, judge

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.engine import Connection

MICRO = 1_000_000
ITEM_COLUMNS = [
    "edition_id",
    "sku_key",
    "family",
    "list_price",
    "unit_cost",
    "item_floor",
    "item_currency",
]


class Reference:
    """Price book and policy rows read once and reused while a big file is matched in chunks."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._rows: dict[str, list[tuple[Any, ...]]] = {}

    def fetch(self, sql: str) -> list[tuple[Any, ...]]:
        """Rows as plain tuples straight from the driver (SQLAlchemy Row objects are slow to
        turn into DataFrames by the hundred thousand)."""
        if sql not in self._rows:
            cursor = self.conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(sql)
                self._rows[sql] = list(cursor.fetchall())
            finally:
                cursor.close()
        return self._rows[sql]


def match(
    conn: Connection, lines: pd.DataFrame, reference: Reference | None = None
) -> pd.DataFrame:
    """Add edition, list, standard, net and policy columns to deal lines (one row each)."""
    import pandas as pd

    reference = reference or Reference(conn)
    fetch = reference.fetch

    lines = lines.copy()
    lines["_order"] = np.arange(len(lines))
    lines["date"] = lines["date"].astype("datetime64[ns]")
    editions = pd.DataFrame(
        fetch("SELECT id, effective_from FROM editions"),
        columns=["edition_id", "effective_from"],
    )
    out = _empty_columns(lines)
    if editions.empty or lines.empty:
        return out.sort_values("_order").drop(columns="_order")
    editions["effective_from"] = pd.to_datetime(editions["effective_from"]).astype("datetime64[ns]")
    editions = (
        editions.sort_values(["effective_from", "edition_id"])
        .drop_duplicates("effective_from", keep="last")
        .reset_index(drop=True)
    )
    out = pd.merge_asof(
        out.sort_values("date").drop(columns="edition_id"),
        editions,
        left_on="date",
        right_on="effective_from",
        direction="backward",
    ).drop(columns="effective_from")
    out["edition_id"] = out["edition_id"].astype("Int64")
    items = _items(fetch, out)
    out = out.drop(
        columns=["family", "list_price", "unit_cost", "item_floor", "item_currency"]
    ).merge(items, how="left", on=["edition_id", "sku_key"])
    matched = out["list_price"].notna()
    out.loc[~matched, "edition_id"] = pd.NA  # no list price on that date: unmatched
    out["standard_price"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    if matched.any():
        out.loc[matched, "standard_price"] = _standard_prices(fetch, out[matched])
    _money(out, matched)
    _judge(fetch, out, matched)
    return out.sort_values("_order").drop(columns="_order").reset_index(drop=True)


def _empty_columns(lines: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = lines.copy()
    for name in ("edition_id", "list_price", "unit_cost", "item_floor", "standard_price",
                 "net_amount", "list_revenue", "standard_revenue", "cost_amount", "hard_floor",
                 "policy_version", "level_rank", "below_floor"):  # fmt: skip
        out[name] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    for name in ("family", "item_currency", "level"):
        out[name] = pd.Series(None, index=out.index, dtype=object)
    return out


def _items(fetch: Any, lines: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    numbers = sorted({int(e) for e in lines["edition_id"].dropna().unique()})
    if not numbers:
        return pd.DataFrame(columns=ITEM_COLUMNS)
    marks = ", ".join(str(n) for n in numbers)
    rows = fetch(
        "SELECT edition_id, sku_key, family, list_price, unit_cost, floor_price, currency "
        f"FROM price_items WHERE edition_id IN ({marks})",
    )
    items = pd.DataFrame(rows, columns=ITEM_COLUMNS)
    items["edition_id"] = items["edition_id"].astype("Int64")
    for name in ("list_price", "unit_cost", "item_floor"):
        items[name] = items[name].astype("Int64")
    return items


def _standard_prices(fetch: Any, lines: pd.DataFrame) -> Any:
    """The list price after the tiers of the line's edition for its quantity."""
    import pandas as pd

    numbers = ", ".join(str(int(n)) for n in lines["edition_id"].unique())
    tiers = pd.DataFrame(
        fetch(
            "SELECT edition_id, sku, family, min_qty, price, discount_pct FROM price_tiers "
            f"WHERE edition_id IN ({numbers})",
        ),
        columns=["edition_id", "sku", "family", "min_qty", "price", "discount_pct"],
    )
    standard = lines["list_price"].astype("Int64").copy()
    if tiers.empty:
        return standard
    tiers["edition_id"] = tiers["edition_id"].astype("Int64")
    tiers["min_qty"] = tiers["min_qty"].astype("int64") * MICRO
    tiers["sku_key"] = tiers["sku"].str.casefold()
    tiers["family_key"] = tiers["family"].str.casefold()
    work = lines[["edition_id", "sku_key", "family", "qty", "list_price", "item_currency"]].copy()
    work["family_key"] = work["family"].fillna("").str.casefold()
    work["qty"] = work["qty"].astype("int64")
    work["_row"] = work.index
    own = tiers[tiers["sku_key"].notna()]
    has_own = work.set_index(["edition_id", "sku_key"]).index.isin(
        own.set_index(["edition_id", "sku_key"]).index
    )
    chosen = []
    for scope, subset, key in (
        ("sku", own, "sku_key"),
        ("family", tiers[tiers["sku_key"].isna()], "family_key"),
    ):
        rows = work[has_own] if scope == "sku" else work[~has_own]
        if rows.empty or subset.empty:
            continue
        found = pd.merge_asof(
            rows.sort_values("qty"),
            subset[["edition_id", key, "min_qty", "price", "discount_pct"]].sort_values("min_qty"),
            left_on="qty",
            right_on="min_qty",
            by=["edition_id", key],
            direction="backward",
        )
        chosen.append(found[found["min_qty"].notna()])
    if not chosen:
        return standard
    found = pd.concat(chosen)
    for row, list_price, price, pct, currency in zip(
        found["_row"],
        found["list_price"],
        found["price"],
        found["discount_pct"],
        found["item_currency"],
        strict=True,
    ):
        if price is not None and not pd.isna(price):
            standard[row] = int(price)
        else:
            exact = Decimal(int(list_price)) * (100 * MICRO - int(pct)) / (100 * MICRO)
            standard[row] = _round_to_unit(exact, currency)
    return standard


def _int(value: Any) -> int:
    """A pandas or numpy scalar as a Python int."""
    return int(value)


def _round_to_unit(micros: Decimal, currency: str) -> int:
    """Half-even to the currency's minor unit, in millionths."""
    step: int = 10 ** (6 - minor_units(currency))
    return int((micros / step).quantize(Decimal(1), rounding="ROUND_HALF_EVEN")) * step


def _money(out: pd.DataFrame, matched: Any) -> None:
    """Net amount (line amount > net price x qty > list less discount), revenues, cost."""
    import pandas as pd

    qty = out["qty"].astype("Int64")
    whole = (qty % MICRO == 0).fillna(False)
    units = (qty // MICRO).astype("Int64")
    net = out["amount"].astype("Int64").copy()
    by_price = net.isna() & out["unit_price"].notna()
    fast = by_price & whole
    net[fast] = out.loc[fast, "unit_price"].astype("Int64") * units[fast]
    for row in out.index[by_price & ~whole]:
        net[row] = int(Decimal(_int(out.at[row, "unit_price"])) * int(qty[row]) / MICRO)
    by_discount = net.isna() & out["discount_pct"].notna() & matched
    for row in out.index[by_discount]:
        unit = (
            Decimal(_int(out.at[row, "list_price"]))
            * (100 * MICRO - _int(out.at[row, "discount_pct"]))
            / (100 * MICRO)
        )
        net[row] = int(
            (unit * int(qty[row]) / MICRO).quantize(Decimal(1), rounding="ROUND_HALF_EVEN")
        )
    out["net_amount"] = net

    def times_qty(column: str) -> Any:
        values = out[column].astype("Int64")
        result = pd.Series(pd.NA, index=out.index, dtype="Int64")
        ok = values.notna() & whole
        result[ok] = values[ok] * units[ok]
        for row in out.index[values.notna() & ~whole]:
            result[row] = int(Decimal(int(values[row])) * int(qty[row]) / MICRO)
        return result

    out["list_revenue"] = times_qty("list_price")
    out["standard_revenue"] = times_qty("standard_price")
    out["cost_amount"] = times_qty("unit_cost")


def _judge(fetch: Any, out: pd.DataFrame, matched: Any) -> None:
    """Policy classification of every matched line under the policy in force on its date."""
    import pandas as pd

    from pricing.policies import _version

    columns = ("id", "effective_from", "loaded_at", "loaded_by", "source", "sha256", "body")
    rows = [
        dict(zip(columns, r, strict=True))
        for r in fetch(f"SELECT {', '.join(columns)} FROM policies")
    ]
    if not rows or not matched.any():
        return
    versions = [_version(_Row(r)) for r in rows]
    table = (
        pd.DataFrame(
            [(v.version, pd.Timestamp(v.effective_from)) for v in versions],
            columns=["policy_version", "from"],
        )
        .sort_values(["from", "policy_version"])
        .drop_duplicates("from", keep="last")
    )
    table["from"] = table["from"].astype("datetime64[ns]")
    work = out.loc[matched, ["date"]].copy()
    work["_row"] = work.index
    found = pd.merge_asof(
        work.sort_values("date"), table, left_on="date", right_on="from", direction="backward"
    )
    found = found[found["policy_version"].notna()]
    by_version = {v.version: v.policy for v in versions}
    for version, group in found.groupby("policy_version"):
        index = group["_row"].to_numpy()
        ranks, levels, floors, below = classify(by_version[_int(version)], out.loc[index])
        out.loc[index, "policy_version"] = _int(version)
        out.loc[index, "level_rank"] = ranks
        out.loc[index, "level"] = levels
        out.loc[index, "hard_floor"] = floors
        out.loc[index, "below_floor"] = below


class _Row:
    def __init__(self, mapping: Any) -> None:
        self.__dict__.update(dict(mapping))


def classify(policy: Policy, lines: pd.DataFrame) -> tuple[Any, Any, Any, Any]:
    """Column-wise :func:`judge`: rank of the level needed (0 within the first level, -1
    rejected), its name, the hard floor (millionths) and whether the price is below it."""
    import pandas as pd

    n = len(lines)
    qty = lines["qty"].astype("int64").to_numpy()
    units = qty / MICRO
    standard = lines["standard_price"].astype("int64").to_numpy()
    net = lines["net_amount"].astype("int64").to_numpy()
    unit_price = np.where(qty != 0, net / np.where(qty != 0, units, 1), 0.0) * 1.0  # millionths
    sku = lines["sku_key"].to_numpy(dtype=object)
    family = lines["family"].fillna("").str.casefold().to_numpy(dtype=object)
    deal_value = standard / MICRO * units
    cost = lines["unit_cost"]
    currencies = lines["item_currency"].to_numpy(dtype=object)
    levels = policy.levels
    order = sorted(
        range(len(policy.rule)),
        key=lambda i: (-policy.rule[i].specificity, -(policy.rule[i].min_qty or 0),
                       -float(policy.rule[i].min_deal_value or 0), i),
    )  # fmt: skip
    limits = np.full((n, len(levels)), np.nan)
    floor = lines["item_floor"].astype("Float64").fillna(np.nan).to_numpy(dtype=float)
    unknown = np.zeros(n, dtype=bool)
    for i in order:
        rule = policy.rule[i]
        mask = np.ones(n, dtype=bool)
        if rule.sku is not None:
            if rule.specificity == 4:
                mask &= sku == rule.sku.strip().casefold()
            else:
                mask &= pd.Series(sku).str.match(fnmatch.translate(rule.sku.casefold())).to_numpy()
        if rule.family is not None:
            mask &= family == rule.family.casefold()
        if rule.min_qty is not None:
            mask &= units >= rule.min_qty
        if rule.max_qty is not None:
            mask &= units <= rule.max_qty
        if rule.min_deal_value is not None:
            mask &= deal_value >= float(rule.min_deal_value)
        if rule.max_deal_value is not None:
            mask &= deal_value <= float(rule.max_deal_value)
        for k, level in enumerate(levels):
            if level in rule.limits:
                fill = mask & np.isnan(limits[:, k])
                limits[fill, k] = float(rule.limits[level])
        if rule.floor_price is not None:
            same = mask & (currencies == policy.currency)
            floor = np.where(same, np.fmax(floor, float(rule.floor_price) * MICRO), floor)
            unknown |= mask & (currencies != policy.currency)
        if rule.min_margin_pct is not None:
            has_cost = mask & cost.notna().to_numpy()
            unknown |= mask & ~has_cost
            step = 10 ** (6 - minor_units(policy.currency))
            margin_floor = (
                np.ceil(
                    cost.astype("Float64").fillna(0).to_numpy(dtype=float)
                    / (1 - float(rule.min_margin_pct) / 100)
                    / step
                    - 1e-9
                )
                * step
            )
            floor = np.where(has_cost, np.fmax(floor, margin_floor), floor)
    for k, level in enumerate(levels):
        limits[:, k] = np.where(np.isnan(limits[:, k]), float(policy.limits[level]), limits[:, k])
    pct = np.where(
        standard != 0, (standard - unit_price) / np.where(standard != 0, standard, 1) * 100, 0.0
    )
    rank = np.full(n, -1)
    for k in range(len(levels) - 1, -1, -1):
        rank = np.where(pct <= limits[:, k], k, rank)
    rank = np.where(pct <= 0, 0, rank)
    rank = np.where(unknown & (rank >= 0), len(levels) - 1, rank)
    below = np.where(np.isnan(floor), False, unit_price < floor - 1e-6)
    rank = np.where(below, -1, rank)
    # Lines within a hair of a limit or floor are decided exactly, by judge() itself.
    close = np.abs(pct[:, None] - limits).min(axis=1) < 1e-6
    close |= ~np.isnan(floor) & (np.abs(unit_price - floor) < 1)
    close |= unknown
    if close.any():
        subset = lines[close]
        for j, (_, line) in zip(np.flatnonzero(close), subset.iterrows(), strict=True):
            decided = judge(policy, _facts(line), _unit_decimal(line))
            rank[j] = -1 if decided.decision == "rejected" else (
                0 if decided.level is None else levels.index(decided.level))  # fmt: skip
            below[j] = bool(
                decided.hard_floor is not None and _unit_decimal(line) < decided.hard_floor
            )
    names = np.array([None, *levels], dtype=object)[rank + 1]
    names = np.where(rank == -1, "rejected", names)
    floors = pd.array(np.where(np.isnan(floor), -1, np.round(floor)).astype("int64"), dtype="Int64")
    floors[np.isnan(floor)] = pd.NA
    return rank, names, floors, below.astype(int)


def _unit_decimal(line: Any) -> Decimal:
    return Decimal(int(line["net_amount"])) / Decimal(int(line["qty"]))


def _facts(line: Any) -> LineFacts:
    def money(value: Any) -> Decimal | None:
        import pandas as pd

        return None if value is None or pd.isna(value) else Decimal(int(value)) / MICRO

    standard = money(line["standard_price"])
    assert standard is not None
    qty = Decimal(int(line["qty"])) / MICRO
    return LineFacts(
        sku=line["sku"],
        family=line["family"],
        qty=qty,
        list_price=money(line["list_price"]) or standard,
        standard_price=standard,
        currency=line["item_currency"],
        unit_cost=money(line["unit_cost"]),
        item_floor=money(line["item_floor"]),
        deal_value=standard * qty,
    )
