"""``pricing contracts``: the customers' standing prices (asked for with ``request --contract``),
and ending one early."""

from __future__ import annotations

from datetime import datetime

import click

from pricing.cli.common import emit_json, json_option, print_table, say, settings


@click.group(
    invoke_without_command=True,
    epilog="""
\b
Examples:
  pricing contracts
  pricing contracts --customer "Acme Corp" --json
  pricing contracts --expiring 30
  pricing --user dana contracts end R-000004 --on 2027-03-31 --note "customer moved to list"
""",
)
@click.option("--customer", metavar="NAME", help="Only this customer's contracts.")
@click.option("--expiring", metavar="DAYS", type=click.IntRange(0, 36_500),
              help="Only contracts in force that end within DAYS days.")  # fmt: skip
@json_option
@click.pass_context
def contracts(ctx: click.Context, customer: str | None, expiring: int | None) -> None:
    """Contracted prices: each customer's standing prices, their periods and states.

    A contract is a request asked for with `pricing request --contract --from DATE --to DATE`
    and approved as any request. While in force, each of its prices is the customer's: an order
    at or above it needs no approval, and the drift report counts a deal line at or above it as
    approved. A contract ending within 30 days is flagged, and so is a price whose list price in
    the price book in force has moved below it.
    """
    if ctx.invoked_subcommand is not None:
        return
    cfg = settings()
    found = cfg.pricing().contracts(customer=customer, expiring=expiring)
    if cfg.json:
        emit_json(found)
        return
    if not found:
        say("No contracts" + (f" for {customer}" if customer else "") + ".")
        return
    print_table(
        ["Contract", "Customer", "From", "To", "State", "SKU", "Min qty", "Price", "List now",
         "Flags"],
        [
            (
                c.id, c.customer, str(c.starts), str(c.ends), c.state, p.sku, f"{p.min_qty:,}",
                f"{p.price:,}",
                "" if p.list_price is None else f"{p.list_price:,}",
                ", ".join(flag for flag, on in (("ends within 30 days", c.expiring),
                                                ("list below contract", p.list_below)) if on),
            )
            for c in found
            for p in c.prices
        ],
        right=["Min qty", "Price", "List now"],
    )  # fmt: skip


@contracts.command(
    "end",
    epilog="""
\b
Examples:
  pricing contracts end R-000004
  pricing contracts end R-000004 --on 2027-03-31 --note "customer moved to list" --json
""",
)
@click.argument("ident", metavar="ID")
@click.option("--on", "on", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="Its new last day, included (default today).")  # fmt: skip
@click.option("--note", metavar="TEXT", help="Why, for the record.")
@json_option
def end(ident: str, on: datetime | None, note: str | None) -> None:
    """End an approved contract early (owner only): from the day after, its prices are the
    customer's no more, and deals at them count as out of policy again."""
    cfg = settings()
    r = cfg.pricing().end_contract(ident=ident, on=on.date() if on else None, note=note)
    if cfg.json:
        emit_json(r)
        return
    assert r.contract is not None
    say(f"Contract {r.id} for {r.customer} now ends on {r.contract.ends}.")
