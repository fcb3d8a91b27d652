"""Quotes: what a salesperson may offer for a SKU and quantity before calling the customer back:
the price book and policy in force on the day, the lowest price each approval level may grant,
the hard floor, and guidance from the deals closed before."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from pricing.errors import InputError, NotFoundError
from pricing.policy import versions as policies
from pricing.policy.engine import hard_floor, lowest_prices
from pricing.pricebook import editions
from pricing.requests.guidance import WINDOW_DAYS, Guidance, check_window, guidance
from pricing.requests.lifecycle import line_facts
from pricing.requests.records import Request, RequestLine
from pricing.storage import store
from pricing.storage.store import Store


@dataclass
class Quote:
    """What a salesperson may offer for a SKU and quantity, before calling the customer back."""

    sku: str
    name: str | None
    qty: int
    currency: str
    list_price: Decimal
    standard_price: Decimal
    hard_floor: Decimal | None
    floor_reasons: list[str]
    levels: list[tuple[str, Decimal, Decimal]]  # level, max discount %, lowest price
    edition: int
    policy_version: int
    guidance: Guidance | None = None
    guidance_note: str = ""
    on: date | None = None  # the date the quote is for (its book, policy and window's end)
    # The customer's contracted price for the SKU that day: its contract, and the line
    contract: tuple[Request, RequestLine] | None = None


def quote(
    db: Store,
    sku: str,
    qty: int,
    *,
    on: date | None = None,
    window: int | None = None,
    customer: str | None = None,
) -> Quote:
    """What may be offered for ``qty`` of ``sku`` on ``on`` (default today): the price book
    and policy in force that day, guidance from the ``window`` days before it (default
    :data:`~pricing.requests.guidance.WINDOW_DAYS`), and ``customer``'s contracted price."""
    if isinstance(qty, bool) or not isinstance(qty, int) or qty < 1:
        raise InputError(" must be a whole number of 1 or more", field="qty")
    window = WINDOW_DAYS if window is None else window
    check_window(window)
    on = on or store.utcnow().date()
    with db.read() as conn:
        edition = editions.edition_in_force(conn, on)
        if edition is None:
            raise NotFoundError(f"no price book edition is in force on {on.isoformat()}")
        version = policies.in_force(conn, on)
        book = editions.load_book(conn, edition.number, sku=sku)
        item = book.get(sku)
        if item is None:
            raise NotFoundError(
                f"no SKU {sku!r} in the price book in force (edition {edition.number})"
            )
        standard, _ = book.standard_price(item, qty)
        facts = line_facts(item, qty, standard)
        floor, reasons, unknown = hard_floor(version.policy, facts)
        contracted = None
        if customer:
            from pricing.requests import contracts

            held = contracts.in_force(conn, customer, on)
            contracted = contracts.contracted_line(held, item.sku, item.currency, qty)
        advice, note = guidance(
            conn, sku=item.sku, family=item.family, qty=qty, standard=standard,
            hard_floor=floor, currency=item.currency, on=on, window=window,
        )  # fmt: skip
    return Quote(
        sku=item.sku,
        name=item.name,
        qty=qty,
        currency=item.currency,
        list_price=item.list_price,
        standard_price=standard,
        hard_floor=floor,
        floor_reasons=reasons + unknown,
        levels=lowest_prices(version.policy, facts),
        edition=edition.number,
        policy_version=version.version,
        guidance=advice,
        guidance_note=note,
        on=on,
        contract=contracted,
    )
