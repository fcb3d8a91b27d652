"""The headers of a deals file: which field each column holds (``DEAL_HEADERS``, the names of
common CRM and invoicing exports), what a file must name to be read, and the problem that says
what is missing, with the header most like it.
"""

from __future__ import annotations

from pricing.io.headers import closest_header, likely_header
from pricing.io.sheets import Sheet
from pricing.lines import schema
from pricing.problems import Problem

# Field -> accepted headers, best first (compared after normalise_header). Besides the usual
# names, the line-item exports of common CRMs and invoicing systems, by the labels their own
# documentation gives: Salesforce (opportunity products: Opportunity ID, Product Code, Sales
# Price, Total Price, Line Item ID), HubSpot (Record ID, Deal Name, Deal owner, Associated
# Company), Pipedrive (Deal - ID, Deal - Title, Deal - Won time, Product code, Item price, Sum),
# Zoho Books (Invoice Number, Item Name, Item Price, Item Total, Sales person), Odoo (Order
# Reference, Order Lines/Product, Order Lines/Unit Price, Order Lines/Subtotal, Partner) and
# ERPNext (Posting Date, Item Code, Rate, Net Rate, Net Amount, Discount Percentage).
DEAL_HEADERS: dict[str, tuple[str, ...]] = {
    "line_id": (
        "row id", "line id", "line no", "line", "order line", "invoice line", "line item id",
        "order line id", "deal product id", "order line no", "invoice line no", "line item no",
        "row no", "sales order item",
    ),
    "deal_id": (
        "order id", "order no", "deal", "deal id", "invoice", "invoice no", "invoiceno",
        "invoice id", "opportunity", "opportunity id", "order", "invoice number",
        "deal name", "deal title", "opportunity name", "order reference", "sales order",
        "sales invoice", "record id", "deal no", "opportunity no",
    ),
    "date": (
        "date", "order date", "close date", "invoice date", "invoicedate", "deal date",
        "sale date", "transaction date", "closed date", "sales date", "posting date",
        "won time", "deal won time", "deal close date", "invoice bill date", "date ordered",
    ),
    "customer": (
        "customer", "customer name", "account", "account name", "client", "company",
        "customer id", "customerid", "store name", "associated company", "organization",
        "deal organization", "partner",
    ),
    "rep": (
        "salesperson", "sales rep", "rep", "owner", "account manager", "sales person",
        "seller", "account owner", "opportunity owner", "sales manager", "deal owner",
    ),
    "sku": (
        "sku", "product id", "item no", "item", "stockcode", "stock code", "product code",
        "part no", "item code", "article no", "product", "product sku", "product product code",
        "order lines product", "item code items", "internal reference",
    ),
    "qty": (
        "quantity", "qty", "units", "qty sold", "units sold", "volume", "order lines quantity",
        "quantity items", "qty items", "invoiced quantity", "quantity ordered", "qty ordered",
        "ordered quantity", "quantity sold", "qty invoiced",
    ),
    "amount": (
        "sales", "amount", "line total", "line amount", "net amount", "revenue", "total",
        "sale amount", "total price", "item total", "subtotal", "sum", "order lines subtotal",
        "amount items", "net amount items", "price subtotal", "sales amount", "line value",
        "extended price", "extended amount", "net sales", "line net amount",
    ),
    "unit_price": (
        "net price", "net unit price", "unit price", "unitprice", "price", "sale price",
        "selling price", "net unit", "price each", "sales price", "item price", "net rate",
        "rate", "order lines unit price", "rate items", "net rate items",
    ),
    "discount": (
        "discount", "discount %", "disc", "discount pct", "discount percent", "disc %",
        "discount percentage", "order lines discount %", "discount percentage items",
    ),
    "request_id": ("request", "request id", "deviation", "deviation id", "approval id"),
    "currency": ("currency", "ccy", "currency code", "currency iso code"),
    # Read, never stored: lines of a cancelled, void or lost status are left out (LEFT_OUT).
    "status": (
        "status", "stage", "deal stage", "order status", "line status", "invoice status",
        "deal status", "opportunity stage", "stage name", "sales stage", "document status",
    ),
}  # fmt: skip
# Headers of a line's number within its deal (1, 2, 3 on each order): with a deal id, the
# line's identity is its deal and that number. Compared squashed (io.headers.squash). A bare
# "Line" stays: in exports it is a per-order line number, and read as a line id alone a file
# of one order (lines 1, 2, 3: unique) would find another order's stored lines 1, 2, 3
# "already present". Lines stored by their id alone before (``L:``) are still found by the
# deals import (service._held_as_line_ids).
LINE_IN_DEAL = frozenset(
    {"lineno", "line", "orderline", "orderlineno", "invoiceline", "invoicelineno", "lineitemno"}
)
REQUIRED = ("date", "sku", "qty")
MONEY = ("amount", "unit_price", "discount")
NUMBER_FIELDS = ("qty", *MONEY)


# Text inputs read as they are (blank: null): every text column of the schema's inputs the
# file may have, but the SKU (required, and keyed).
TEXT_INPUTS = tuple(
    c.name
    for c in schema.DECLARED
    if c.role is schema.Role.INPUT and c.kind == "string" and c.name != "sku"
)


def complete(mapping: dict[str, int]) -> bool:
    """Whether a header row names every field a deal line needs."""
    return all(f in mapping for f in REQUIRED) and any(f in mapping for f in MONEY)


_LABELS = {"date": "date", "sku": "SKU", "qty": "quantity"}


def no_header(name: str, head: Sheet, overrides: dict[str, str]) -> Problem:
    """No row names every required field: the row that names most of them, and each field it
    lacks with the header most like it; else (no such row) what the header must name."""
    likely = likely_header(head, DEAL_HEADERS, overrides)
    if likely is not None:
        row, mapping = likely
        cells = head.rows[row]
        missing = [f for f in REQUIRED if f not in mapping]
        if not any(f in mapping for f in MONEY):
            missing.append("amount")
        said = []
        for field_name in missing:
            aliases = (
                tuple(a for m in MONEY for a in DEAL_HEADERS[m])
                if field_name == "amount"
                else DEAL_HEADERS[field_name]
            )
            label = _LABELS.get(field_name, "line amount, net unit price or discount")
            closest = closest_header(cells, aliases, mapping.values())
            if closest is not None:
                said.append(
                    f"no {label} column: the closest header is {closest!r}; if that is it, "
                    f'add --column {field_name}="{closest}"'
                )
            else:
                said.append(f"no {label} column; name it with --column {field_name}=HEADER")
        return Problem("error", "; ".join(said), **head.location(row))
    wanted = ", ".join(f"{f}={h!r}" for f, h in overrides.items())
    return Problem(
        "error",
        "no row in the first 30 names a date, a SKU, a quantity and an amount, net price or "
        "discount column" + (f" (looked for {wanted})" if wanted else "")
        + "; name them with --column date=HEADER --column sku=HEADER --column qty=HEADER "
        "--column amount=HEADER"
        + (f" (sheet {head.name!r} was read; another with --sheet NAME)" if head.name else ""),
        file=name, sheet=head.name,
    )  # fmt: skip


def no_customer_or_rep(head: Sheet, header_row: int, mapping: dict[str, int]) -> list[Problem]:
    """A warning for a file without a customer or a salesperson column: its lines show as
    "(none)" in that breakdown. (No header is suggested: a territory or a phone number looks
    like an owner to difflib, and is not one.)"""
    labels = {"customer": "customer", "rep": "salesperson"}
    missing = [f for f in labels if f not in mapping]
    if not missing:
        return []
    named = " or ".join(labels[f] for f in missing)
    hint = " or ".join(f"--column {f}=HEADER" for f in missing)
    return [
        Problem(
            "warning",
            f"no {named} column was found: the report shows every line under (none) by "
            f"{named}; if a column holds it, name it with {hint}",
            **head.location(header_row),
        )
    ]


def no_status(head: Sheet, header_row: int, mapping: dict[str, int]) -> Problem:
    """An error for --status given for a file without a status column."""
    closest = closest_header(head.rows[header_row], DEAL_HEADERS["status"], mapping.values())
    hint = (
        f'the closest header is {closest!r}: if it holds the status, add --column status="{closest}"'
        if closest is not None
        else "if a column holds it, name it with --column status=HEADER"
    )
    return Problem(
        "error", f"--status was given but the file has no status column; {hint}",
        **head.location(header_row),
    )  # fmt: skip


def no_deal_id(head: Sheet, header_row: int, mapping: dict[str, int]) -> Problem:
    """A warning for a file without a deal id column: how its deals will be counted, and the
    header that looked closest to one."""
    closest = closest_header(head.rows[header_row], DEAL_HEADERS["deal_id"], mapping.values())
    looked = (
        f"the closest header is {closest!r}; if it holds the deal, import with "
        f'--column deal_id="{closest}"'
        if closest is not None
        else "if a column holds the deal, name it with --column deal_id=HEADER"
    )
    return Problem(
        "warning",
        f"no deal id column: each line is counted as a deal of its own; {looked}",
        **head.location(header_row),
    )
