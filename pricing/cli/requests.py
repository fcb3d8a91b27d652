"""The salesperson's and the approver's commands: quote, request, requests, approve, reject."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from pricing.cli.common import (
    echo_problems,
    emit_json,
    exit_with,
    json_option,
    print_table,
    settings,
)

if TYPE_CHECKING:
    from pricing.api import Submission
    from pricing.requests.lifecycle import LineInput, Request


def _decimal(_ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value.strip().removesuffix("%"))
    except InvalidOperation:
        raise click.BadParameter(f"{value!r} is not a number", param=param) from None


@click.command(
    epilog="""
\b
Examples:
  pricing quote HW-1001 --qty 25
  pricing quote HW-1001 --qty 25 --customer "Acme Corp" --json
"""
)
@click.argument("sku")
@click.option("--qty", type=click.IntRange(min=1), required=True, help="Quantity of the deal line.")
@click.option("--customer", metavar="NAME", help="The customer (recorded for guidance).")
@json_option
def quote(sku: str, qty: int, customer: str | None) -> None:
    """List, standard price and the lowest price each approval level may grant, and the hard floor."""
    from pricing import api, documents

    cfg = settings()
    q = api.quote(cfg.store(), sku, qty)
    if cfg.json:
        emit_json(documents.quote(q, customer))
        return
    from pricing.money import display_money

    floor = display_money(q.hard_floor, q.currency) if q.hard_floor is not None else "none"
    click.echo(
        f"{q.sku} {q.name or ''} x {q.qty}: list {display_money(q.list_price, q.currency)} "
        f"{q.currency}, standard {display_money(q.standard_price, q.currency)} "
        f"(edition {q.edition}); hard floor {floor}."
    )
    print_table(
        ["Level", "Max discount %", "Lowest price"],
        [(lv, f"{pct:.2f}", display_money(low, q.currency)) for lv, pct, low in q.levels],
        right=["Max discount %", "Lowest price"],
    )
    for reason in q.floor_reasons:
        click.echo(f"  floor: {reason}")
    g = q.guidance
    if g is None:
        click.echo(q.guidance_note.capitalize() + ".")
        return
    scope = "this SKU" if g.basis == "sku" else f"its family, {g.scope}"
    outcomes = (
        f"; requests won {g.requests_won} of {g.requests_won + g.requests_lost} decided"
        if g.requests_won + g.requests_lost
        else ""
    )
    click.echo(
        f"Guidance from {g.deals} deals of {scope} at quantity {g.band} since {g.since.isoformat()}: "
        f"discount p25 {g.discount_p25:.2f}%, median {g.discount_median:.2f}%, p75 {g.discount_p75:.2f}%"
        f"{outcomes}."
    )
    click.echo(
        f"  target {display_money(g.target_price, q.currency)}, floor "
        f"{display_money(g.floor_price, q.currency)}, stretch {display_money(g.stretch_price, q.currency)}"
    )


def line_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The lines of a request: SKU --qty N (--price P | --discount PCT), or --file; and --check."""
    for option in reversed(
        [
            click.option("--qty", type=click.IntRange(min=1), help="Quantity of the line."),
            click.option(
                "--price", metavar="P", callback=_decimal, help="The special unit price asked for."
            ),
            click.option(
                "--discount",
                metavar="PCT",
                callback=_decimal,
                help="Or: % off the standard price (12.5 = 12.5 %).",
            ),
            click.option(
                "--file",
                "lines_file",
                type=click.Path(path_type=Path, dir_okay=False),
                help="Many lines from csv/xlsx: SKU, Qty, and Price or Discount % per line.",
            ),
            click.option(
                "--check",
                is_flag=True,
                help="Judge only: store nothing (exit 1 if it would be rejected).",
            ),
        ]
    ):
        f = option(f)
    return f


@click.command(
    epilog="""
\b
Examples:
  pricing request --customer "Acme Corp" --reason "competitive bid" HW-1001 --qty 25 --price 199
  pricing request --customer Acme --reason "3-year deal" SW-3001 --qty 200 --discount 12.5 --check
  pricing request --customer Acme --reason "site rollout" --file lines.csv --json
"""
)
@click.argument("sku", required=False)
@click.option("--customer", metavar="NAME", required=True, help="Who the special price is for.")
@click.option("--reason", metavar="TEXT", required=True, help="Why the deal needs it.")
@line_options
@json_option
def request(
    sku: str | None,
    customer: str,
    reason: str,
    qty: int | None,
    price: Decimal | None,
    discount: Decimal | None,
    lines_file: Path | None,
    check: bool,
) -> None:
    """Ask for a special price for a customer's deal: one line, or many from a file.

    Each line is measured from the standard price (list after volume tiers) and judged under the
    policy in force: approved at once within the rep's limit, pending for the level that covers
    it, or rejected beyond the top level or below a hard floor. Exit 0 approved or pending,
    1 rejected.
    """
    from pricing import api

    cfg = settings()
    ctx = click.get_current_context()
    inputs = _line_inputs(ctx, sku, qty, price, discount, lines_file)
    submitted = api.submit_request(
        cfg.store(), customer=customer, reason=reason, lines=inputs,
        user=cfg.acting_user(), check=check,
    )  # fmt: skip
    _answer(ctx, submitted, check=check, refused="nothing submitted")


def _line_inputs(
    ctx: click.Context,
    sku: str | None,
    qty: int | None,
    price: Decimal | None,
    discount: Decimal | None,
    lines_file: Path | None,
) -> list[LineInput]:
    """The lines asked for: one from the arguments, or many from a file (exit 2 on problems)."""
    from pricing import LineInput, api, documents

    if lines_file is not None:
        if sku or qty or price is not None or discount is not None:
            raise click.UsageError(
                "give either SKU --qty N (--price P | --discount PCT) or --file, not both"
            )
        inputs, problems = api.read_request_lines(lines_file)
        if problems:
            if not settings().json:
                echo_problems(problems)
            exit_with(ctx, f"{lines_file.name}: nothing submitted; fix the lines above",
                      document=documents.request_refused(problems))  # fmt: skip
        return inputs
    if not sku or qty is None:
        raise click.UsageError("name the SKU and --qty (or give --file)")
    if (price is None) == (discount is None):
        raise click.UsageError("give either --price or --discount")
    if discount is not None and not 0 <= discount < 100:
        raise click.BadParameter("a discount is from 0 to below 100 (%)", param_hint="--discount")
    return [LineInput(sku, qty, price, discount)]


def _answer(
    ctx: click.Context,
    submitted: Submission,
    *,
    check: bool,
    refused: str,
) -> None:
    """Print the judged request; exit 2 when its lines had errors, 1 when it is rejected."""
    from pricing import documents

    cfg = settings()
    result, problems = submitted.request, submitted.problems
    if result is None:
        if not cfg.json:
            echo_problems(problems)
        exit_with(ctx, refused, document=documents.request_refused(problems))
    if cfg.json:
        emit_json(documents.request(result))
    else:
        _print_request(result, check=check)
    if result.status == "rejected":
        ctx.exit(1)


def _headline(r: Request, check: bool = False) -> str:
    state = r.status + (f", needs {r.level} or above" if r.status == "pending" else "")
    name = "Check (nothing stored)" if check else f"Request {r.code}"
    return f"{name} for {r.customer}: {state.upper() if r.status == 'rejected' else state}."


def _print_request(r: Request, *, check: bool = False) -> None:
    from pricing.money import display_money

    click.echo(_headline(r, check))
    print_table(
        ["#", "SKU", "Qty", "List", "Standard", "Price", "Discount %", "Decision"],
        [
            (
                line.line_no,
                line.sku,
                line.qty,
                display_money(line.list_price, r.currency),
                display_money(line.standard_price, r.currency),
                display_money(line.price, r.currency),
                f"{line.discount_pct:.2f}",
                line.decision + (f" ({line.level})" if line.level else ""),
            )
            for line in r.lines
        ],
        right=["#", "Qty", "List", "Standard", "Price", "Discount %"],
    )
    for line in r.lines:
        for reason in line.reasons:
            click.echo(f"  line {line.line_no}: {reason}")


@click.group(
    invoke_without_command=True,
    epilog="""
\b
Examples:
  pricing requests --status pending
  pricing requests --rep priya --json
  pricing requests show R-000001
  pricing requests change R-000001 HW-1001 --qty 40 --price 205
  pricing requests won R-000001
""",
)
@click.option(
    "--status", type=click.Choice(["approved", "pending", "rejected", "expired", "won", "lost"])
)
@click.option("--rep", metavar="NAME", help="Only this salesperson's requests.")
@json_option
@click.pass_context
def requests_(ctx: click.Context, status: str | None, rep: str | None) -> None:
    """List deviation requests (newest last), or act on one: show, change, won, lost."""
    if ctx.invoked_subcommand is not None:
        return
    from pricing import api, documents

    cfg = settings()
    found = api.list_requests(cfg.store(), status=status, rep=rep)
    if cfg.json:
        emit_json(documents.requests(found))
        return
    if not found:
        click.echo("No requests" + (f" with status {status}" if status else "") + ".")
        return
    print_table(
        [
            "ID",
            "Created (UTC)",
            "Rep",
            "Customer",
            "Lines",
            "Max discount %",
            "Status",
            "Level",
            "Decided by",
        ],
        [
            (
                r.code,
                r.created_at.strftime("%Y-%m-%d %H:%M"),
                r.rep,
                r.customer,
                len(r.lines),
                f"{max(line.discount_pct for line in r.lines):.2f}",
                r.status,
                r.level or "",
                r.decided_by or "",
            )
            for r in found
        ],
        right=["Lines", "Max discount %"],
    )


requests_.name = "requests"


@requests_.command(
    "show",
    epilog="""
\b
Examples:
  pricing requests show R-000001
  pricing requests show 1 --json
""",
)
@click.argument("ident", metavar="ID")
@json_option
def show(ident: str) -> None:
    """One request: its lines with decisions and reasons, and every event (who, when, note)."""
    from pricing import api, documents

    cfg = settings()
    r = api.show_request(cfg.store(), ident)
    if cfg.json:
        emit_json(documents.request(r, events=True))
        return
    _print_request(r)
    click.echo(f"Asked by {r.rep}: {r.reason}")
    if r.expires_at and r.status == "approved":
        click.echo(f"Approval valid until {r.expires_at:%Y-%m-%d %H:%M} UTC.")
    print_table(
        ["When (UTC)", "Who", "What", "Note"],
        [(e.at.strftime("%Y-%m-%d %H:%M"), e.by, e.action, e.note or "") for e in r.events],
        title="History",
    )


@requests_.command(
    "change",
    epilog="""
\b
Examples:
  pricing requests change R-000002 HW-1001 --qty 40 --price 205
  pricing requests change R-000002 --file lines.csv --reason "customer added a site"
  pricing requests change R-000002 HW-1001 --qty 40 --discount 8 --check --json
""",
)
@click.argument("ident", metavar="ID")
@click.argument("sku", required=False)
@click.option("--reason", metavar="TEXT", help="Why it changes (kept with the request).")
@line_options
@json_option
def change(
    ident: str,
    sku: str | None,
    reason: str | None,
    qty: int | None,
    price: Decimal | None,
    discount: Decimal | None,
    lines_file: Path | None,
    check: bool,
) -> None:
    """Replace the lines of your pending or approved request; they are judged afresh.

    An approval covered the prices it saw: after a change the request needs a new approval,
    unless the new lines are within your own limit. Only the salesperson who asked may change
    a request; won, lost, rejected or expired requests cannot change (submit a new one).
    Exit 0 approved or pending, 1 rejected or refused.
    """
    from pricing import api

    cfg = settings()
    ctx = click.get_current_context()
    inputs = _line_inputs(ctx, sku, qty, price, discount, lines_file)
    changed = api.change_request(
        cfg.store(), ident, lines=inputs, user=cfg.acting_user(), reason=reason, check=check
    )
    _answer(ctx, changed, check=check, refused="nothing changed")


def _outcome_command(outcome: Literal["won", "lost"]) -> click.Command:
    @click.command(
        outcome,
        epilog=f"""
\b
Examples:
  pricing requests {outcome} R-000001
""",
    )
    @click.argument("ident", metavar="ID")
    @json_option
    def record(ident: str) -> None:
        from pricing import api, documents

        cfg = settings()
        r = api.record_outcome(cfg.store(), ident, outcome=outcome, user=cfg.acting_user())
        if cfg.json:
            emit_json(documents.request(r))
            return
        click.echo(f"{r.code} for {r.customer}: marked {outcome}.")

    record.help = f"Record that the deal of an approved request was {outcome}."
    return record


requests_.add_command(_outcome_command("won"))
requests_.add_command(_outcome_command("lost"))


@click.command(
    epilog="""
\b
Examples:
  pricing --user marco approve R-000002 --note "strategic account"
  pricing approve R-000002 --json
"""
)
@click.argument("ident", metavar="ID")
@click.option("--note", metavar="TEXT", help="Why, for the record.")
@json_option
def approve(ident: str, note: str | None) -> None:
    """Approve a pending request: your role must cover its level, and it cannot be your own."""
    from pricing import api, documents

    cfg = settings()
    r = api.approve_request(cfg.store(), ident, user=cfg.acting_user(), note=note)
    if cfg.json:
        emit_json(documents.request(r))
        return
    click.echo(
        f"Approved {r.code} for {r.customer}; valid until {r.expires_at:%Y-%m-%d}."
        if r.expires_at
        else f"Approved {r.code}."
    )


@click.command(
    epilog="""
\b
Examples:
  pricing --user dana reject R-000003 --note "below our margin target; offer 3-year terms instead"
  pricing reject R-000003 --note "needs a signed 3-year term" --json
"""
)
@click.argument("ident", metavar="ID")
@click.option("--note", metavar="TEXT", required=True, help="Why: the salesperson reads it.")
@json_option
def reject(ident: str, note: str) -> None:
    """Reject a pending request, with a note saying why."""
    from pricing import api, documents

    cfg = settings()
    r = api.reject_request(cfg.store(), ident, user=cfg.acting_user(), note=note)
    if cfg.json:
        emit_json(documents.request(r))
        return
    click.echo(f"Rejected {r.code} for {r.customer}.")
