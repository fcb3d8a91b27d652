"""Deal guidance: what similar past deals were sold at, before the salesperson calls back.

Similar means the same SKU (else its family), the same quantity band and a window of days before
the quote's date (the last 365 days by default; ``quote --as-of --window`` look elsewhere).
Figures come with the number of deals behind them and the window they come from, and are never
given from fewer than five deals.
Discounts are realized discounts from each deal's standard price, so they apply to today's
standard price whatever editions came in between.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy.engine import Connection

from pricing.errors import InputError
from pricing.io.arrow import fill_null
from pricing.keys import sku_key
from pricing.money import MICRO, round_money
from pricing.storage import deal_tables, queries

MINIMUM_DEALS = 5
WINDOW_DAYS = 365
MAX_WINDOW_DAYS = 36_500  # a hundred years: any history; beyond it, a typo
BANDS = ((1, 1), (2, 9), (10, 49), (50, 249), (250, None))


@dataclass(frozen=True)
class Guidance:
    deals: int
    basis: str  # "sku" or "family"
    band: str
    since: date
    discount_p25: Decimal
    discount_median: Decimal
    discount_p75: Decimal
    target_price: Decimal
    floor_price: Decimal
    stretch_price: Decimal
    requests_won: int
    requests_lost: int
    scope: str  # the SKU or the family the figures come from
    window_to: date  # the window's last day (the quote's date); ``since`` is its first
    window_days: int

    @property
    def window_from(self) -> date:
        return self.since


def band_of(qty: int) -> tuple[int, int | None]:
    return next((low, high) for low, high in BANDS if qty >= low and (high is None or qty <= high))


def describe_band(band: tuple[int, int | None]) -> str:
    low, high = band
    if high is None:
        return f"{low}+"
    return str(low) if low == high else f"{low}-{high}"


def percentile(values: list[Decimal], p: Decimal) -> Decimal:
    """Linear interpolation between closest ranks, as spreadsheets compute PERCENTILE."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def check_window(window: object) -> None:
    """An InputError unless ``window`` is a whole number of days from 1 to
    :data:`MAX_WINDOW_DAYS`."""
    if (
        isinstance(window, bool)
        or not isinstance(window, int)
        or not 1 <= window <= MAX_WINDOW_DAYS
    ):
        raise InputError(
            f" {window!r} must be a whole number of days from 1 to {MAX_WINDOW_DAYS:,}",
            field="window",
        )


def guidance(
    conn: Connection,
    *,
    sku: str,
    family: str | None,
    qty: int,
    standard: Decimal,
    hard_floor: Decimal | None,
    currency: str,
    on: date,
    window: int = WINDOW_DAYS,
) -> tuple[Guidance | None, str]:
    """Guidance for a quote from the ``window`` days up to ``on``, or None and the reason (too
    few comparable deals in that window, and where the history's deals are)."""
    check_window(window)
    band = band_of(qty)
    # A window reaching before the calendar's first day starts there.
    since = on - timedelta(days=window) if (on - date.min).days >= window else date.min
    scopes = [("sku", sku_key(sku))]
    if family:
        scopes.append(("family", family.casefold()))
    first, last = deal_tables.first_date(conn), deal_tables.last_date(conn)
    overlaps = first is not None and last is not None and first <= on and last >= since
    # (no deal in the window: nothing to read, and the deal history's modules are not loaded)
    past = _comparable(conn, since, on, band, scopes) if overlaps else {b: [] for b, _ in scopes}
    counted = 0
    for basis, key in scopes:
        rows = past[basis]
        deals = {row[0] for row in rows}
        counted = max(counted, len(deals))
        if len(deals) < MINIMUM_DEALS:
            continue
        discounts = [Decimal(std - net) / Decimal(std) * 100 for _, std, net in rows]
        p25, median, p75 = (percentile(discounts, Decimal(p)) for p in ("0.25", "0.5", "0.75"))

        def price(discount: Decimal) -> Decimal:
            return round_money(standard * (100 - discount) / 100, currency)

        floor = price(p75)
        if hard_floor is not None and hard_floor > floor:
            floor = hard_floor
        won, lost = _outcomes(conn, basis, key, since, on)
        return (
            Guidance(
                deals=len(deals),
                basis=basis,
                band=describe_band(band),
                since=since,
                discount_p25=p25,
                discount_median=median,
                discount_p75=p75,
                target_price=price(median),
                floor_price=floor,
                stretch_price=price(p25),
                requests_won=won,
                requests_lost=lost,
                scope=sku if basis == "sku" else (family or ""),
                window_to=on,
                window_days=window,
            ),
            "",
        )
    held = (
        f"; the deal history runs from {first.isoformat()} to {last.isoformat()}"
        if first is not None and last is not None
        else "; the deal history is empty"
    )
    return None, (
        f"no guidance: only {counted} comparable deal(s) from {since.isoformat()} to "
        f"{on.isoformat()} ({window} days) for this SKU or its family at quantity "
        f"{describe_band(band)} (at least {MINIMUM_DEALS} needed){held}"
    )


def _comparable(
    conn: Connection,
    since: date,
    on: date,
    band: tuple[int, int | None],
    scopes: list[tuple[str, str]],
) -> dict[str, list[tuple[str, int, int]]]:
    """Matched lines of the window in the quantity band, per scope (SKU, family):
    (deal, standard revenue, net amount), in millionths."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Imported here: a request check judges without reading the deal history.
    from pricing.lines import segments

    lines = segments.scan(
        conn,
        ["deal_id", "sku_key", "family", "qty", "standard_revenue", "net_amount", "edition_id"],
        start=since,
        end=on,
    )
    keep = pc.and_(
        pc.is_valid(lines["edition_id"]), pc.greater(lines["standard_revenue"], pa.scalar(0))
    )
    keep = pc.and_(keep, pc.greater_equal(lines["qty"], pa.scalar(band[0] * MICRO)))
    if band[1] is not None:
        keep = pc.and_(keep, pc.less_equal(lines["qty"], pa.scalar(band[1] * MICRO)))
    lines = lines.filter(keep)
    found = {}
    for basis, key in scopes:
        column = lines["sku_key"] if basis == "sku" else pc.utf8_lower(lines["family"])
        chosen = lines.filter(fill_null(pc.equal(column, pa.scalar(key)), False))
        found[basis] = list(
            zip(
                *(
                    chosen[name].to_pylist()
                    for name in ("deal_id", "standard_revenue", "net_amount")
                ),
                strict=True,
            )
        )
    return found


def _outcomes(conn: Connection, basis: str, key: str, since: date, on: date) -> tuple[int, int]:
    """Won and lost requests that had a line for this SKU (or family), asked for within the
    window."""
    return queries.request_outcomes(conn, basis, key, since=since, until=on)
