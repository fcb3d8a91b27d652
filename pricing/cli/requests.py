"""The salesperson's and the approver's commands: quote, request, requests, approve, reject."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from pricing.cli.common import (
    date_option,
    echo_found_problems,
    emit_json,
    exit_with,
    json_option,
    print_table,
    say,
    settings,
)

if TYPE_CHECKING:
    from pricing.operations.requests import Line
    from pricing.results.requests import Answer, RequestResult

MINUTE = "%Y-%m-%d %H:%M"  # a point in time as the tables show it (UTC)


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
  pricing quote HW-1001 --qty 25 --as-of 2005-05-31 --window 730
"""
)
@click.argument("sku")
@click.option("--qty", type=int, required=True, help="Quantity of the deal line.")
@click.option(
    "--customer", metavar="NAME", help="The customer: shows their contracted price, if any."
)
@date_option(
    "--as-of",
    help="Quote as of this date: its price book, policy, and guidance from the days before "
    "it (default: today).",
)
@click.option(
    "--window",
    type=int,
    metavar="DAYS",
    help="Guidance from the deals of this many days up to the quote's date (default 365; "
    "at most 36,500).",
)
@json_option
def quote(
    sku: str, qty: int, customer: str | None, as_of: datetime | None, window: int | None
) -> None:
    """List, standard price and the lowest price each approval level may grant, and the hard floor."""
    cfg = settings()
    q = cfg.pricing().quote(
        sku=sku,
        qty=qty,
        customer=customer,
        as_of=as_of.date() if as_of else None,
        window=window,
    )
    if cfg.json:
        emit_json(q)
        return
    floor = f"{q.hard_floor:,}" if q.hard_floor is not None else "none"
    say(
        f"{q.sku} {q.name or ''} x {q.qty}: list {q.list_price:,} {q.currency}, standard "
        f"{q.standard_price:,} (edition {q.edition}); hard floor {floor}."
    )
    print_table(
        ["Level", "Max discount %", "Lowest price"],
        [(lv.level, str(lv.max_discount_pct), f"{lv.lowest_price:,}") for lv in q.levels],
        right=["Max discount %", "Lowest price"],
    )
    for reason in q.floor_reasons:
        say(f"  floor: {reason}")
    if q.contract is not None:
        k = q.contract
        if q.hard_floor is not None and k.price < q.hard_floor:
            say(f"Contracted price for {q.customer}: {k.price:,} {q.currency} ({k.id}), below "
                f"the hard floor {q.hard_floor:,} set since: nobody may sell at it now.")  # fmt: skip
        else:
            say(f"Contracted price for {q.customer}: {k.price:,} {q.currency} for {k.min_qty:,} "
                f"or more ({k.id}, {k.starts} to {k.ends}): an order at or above it needs no "
                "approval.")  # fmt: skip
    elif q.customer:
        say(f"{q.customer} has no contracted price for {q.sku} in force.")
    if q.hard_floor is not None and q.hard_floor > q.standard_price:
        say(
            "warning: the standard price itself is below the hard floor, so no sale at the "
            "standard price is allowed: the price book or the policy needs correcting",
            err=True,
        )
    g = q.guidance
    if g is None:
        say((q.guidance_note or "").capitalize() + ".")
        if "deal history runs" in (q.guidance_note or ""):
            say("  Look where the deals are: --as-of DATE (the quote's date) and --window DAYS.")
        return
    scope = "this SKU" if g.basis == "sku" else f"its family, {g.scope}"
    decided = g.requests_won + g.requests_lost
    say(
        f"Guidance from {g.deals} deals of {scope} at quantity {g.quantity_band} from "
        f"{g.window_from} to {g.window_to} ({g.window_days} days): discount p25 "
        f"{g.discount_p25}%, median {g.discount_median}%, p75 {g.discount_p75}%; "
        f"requests won {g.requests_won} of {decided} decided in that window."
    )
    say(f"  target {g.target_price:,}, floor {g.floor_price:,}, stretch {g.stretch_price:,}")


def line_options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The lines of a request: SKU --qty N (--price P | --discount PCT), or --file; and --check."""
    for option in reversed(
        [
            click.option("--qty", type=int, help="Quantity of the line."),
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
  pricing request --customer Acme --reason "framework agreement" --contract \\
      --from 2027-01-01 --to 2027-12-31 HW-1001 --qty 1 --price 189
"""
)
@click.argument("sku", required=False)
@click.option("--customer", metavar="NAME", required=True, help="Who the special price is for.")
@click.option("--reason", metavar="TEXT", required=True, help="Why the deal needs it.")
@click.option(
    "--contract", is_flag=True,
    help="Standing prices: the customer's for every order from --from to --to, once approved.",
)  # fmt: skip
@click.option("--from", "starts", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="A contract's first day (YYYY-MM-DD).")  # fmt: skip
@click.option("--to", "ends", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="A contract's last day, included (YYYY-MM-DD).")  # fmt: skip
@line_options
@json_option
def request(
    sku: str | None,
    customer: str,
    reason: str,
    contract: bool,
    starts: datetime | None,
    ends: datetime | None,
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
    cfg = settings()
    ctx = click.get_current_context()
    lines, lines_file = _line_inputs(sku, qty, price, discount, lines_file)
    answer = cfg.pricing().request(
        customer=customer, reason=reason, lines=lines, check=check, lines_file=lines_file,
        contract=contract, starts=starts.date() if starts else None,
        ends=ends.date() if ends else None,
    )  # fmt: skip
    _answer(ctx, answer, check=check, refused="nothing submitted")


def _line_inputs(
    sku: str | None,
    qty: int | None,
    price: Decimal | None,
    discount: Decimal | None,
    lines_file: Path | None,
) -> tuple[list[Line] | None, Path | None]:
    """The lines asked for: one from the arguments, or a file (its lines read where the
    operation runs)."""
    if lines_file is not None:
        if sku or qty or price is not None or discount is not None:
            raise click.UsageError(
                "give either SKU --qty N (--price P | --discount PCT) or --file, not both"
            )
        return None, lines_file
    if not sku or qty is None:
        raise click.UsageError("name the SKU and --qty (or give --file)")
    # Every rule on the line itself (quantity, price, discount) is the core's, said as a problem.
    line: Line = {"sku": sku, "qty": qty, "price": _text(price), "discount": _text(discount)}
    return [line], None


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _answer(ctx: click.Context, answer: Answer, *, check: bool, refused: str) -> None:
    """Print the judged request; exit 2 when its lines had errors, 1 when it is rejected."""
    from pricing.results.requests import LinesFileRefused, RequestRefused

    cfg = settings()
    if isinstance(answer, RequestRefused):
        if not cfg.json:
            echo_found_problems(answer.problems, answer.problem_counts)
        if isinstance(answer, LinesFileRefused):
            refused = f"{answer.file}: {refused}; fix the lines above"
        exit_with(ctx, refused, document=answer)
    if cfg.json:
        emit_json(answer)
    else:
        _print_request(answer, check=check)
    if answer.status == "rejected":
        ctx.exit(1)


def _headline(r: RequestResult, check: bool = False) -> str:
    state = r.status + (f", needs {r.level} or above" if r.status == "pending" else "")
    name = "Check (nothing stored)" if check else f"Request {r.id}"
    if r.contract is not None:
        name += f" (contract, {r.contract.starts} to {r.contract.ends})"
    return f"{name} for {r.customer}: {state.upper() if r.status == 'rejected' else state}."


def _print_request(r: RequestResult, *, check: bool = False) -> None:
    say(_headline(r, check))
    print_table(
        ["#", "SKU", "Qty", "List", "Standard", "Price", "Discount %", "Decision"],
        [
            (
                line.line,
                line.sku,
                line.qty,
                f"{line.list_price:,}",
                f"{line.standard_price:,}",
                f"{line.price:,}",
                str(line.discount_pct),
                line.decision + (f" ({line.level})" if line.level else ""),
            )
            for line in r.lines
        ],
        right=["#", "Qty", "List", "Standard", "Price", "Discount %"],
    )
    for line in r.lines:
        for reason in line.reasons:
            say(f"  line {line.line}: {reason}")


@click.group(
    invoke_without_command=True,
    epilog="""
\b
Examples:
  pricing requests --status pending
  pricing requests --waiting-for-me              (what you may decide; also: pricing inbox)
  pricing requests --rep priya --json
  pricing requests show R-000001
  pricing requests change R-000001 HW-1001 --qty 40 --price 205
  pricing requests withdraw R-000001 --note "customer went elsewhere"
  pricing requests won R-000001
""",
)
@click.option(
    "--status",
    type=click.Choice(["approved", "pending", "rejected", "expired", "won", "lost", "withdrawn"]),
)
@click.option("--rep", metavar="NAME", help="Only this salesperson's requests.")
@click.option(
    "--waiting-for-me", "waiting", is_flag=True,
    help="Only the pending requests you may decide (not your own), oldest first.",
)  # fmt: skip
@json_option
@click.pass_context
def requests_(ctx: click.Context, status: str | None, rep: str | None, waiting: bool) -> None:
    """List deviation requests (newest last), or act on one: show, change, withdraw, won, lost."""
    if ctx.invoked_subcommand is not None:
        return
    if waiting and (status or rep):
        raise click.UsageError("--waiting-for-me lists pending requests: no --status or --rep")
    cfg = settings()
    if waiting:
        _waiting(cfg.pricing().inbox(), as_json=cfg.json)
        return
    found = cfg.pricing().requests(status=status, rep=rep)
    _listed(found, f"No requests{f' with status {status}' if status else ''}.", as_json=cfg.json)


@click.command(
    epilog="""
\b
Examples:
  pricing inbox
  pricing --user marco inbox --json
""",
)
@json_option
def inbox() -> None:
    """The pending requests waiting for your decision, oldest first (never your own)."""
    cfg = settings()
    _waiting(cfg.pricing().inbox(), as_json=cfg.json)


def _waiting(found: list[RequestResult], *, as_json: bool) -> None:
    """What waits for the caller, as the inbox page shows it: whose, why, worth how much at
    standard, how deep, for which level, since when."""
    if as_json:
        emit_json(found)
        return
    if not found:
        say("No requests waiting for you.")
        return
    print_table(
        ["ID", "Created (UTC)", "Rep", "Customer", "Why", "At standard", "Max discount %",
         "Needs"],
        [
            (
                r.id, f"{r.created_at:{MINUTE}}", r.rep, r.customer, r.reason,
                f"{sum((line.standard_price * line.qty for line in r.lines), Decimal(0)):,} "
                f"{r.currency}",
                f"{max(line.discount_pct for line in r.lines):.2f}", r.level or "",
            )
            for r in found
        ],
        right=["At standard", "Max discount %"],
    )  # fmt: skip


def _listed(found: list[RequestResult], none: str, *, as_json: bool) -> None:
    if as_json:
        emit_json(found)
        return
    if not found:
        say(none)
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
                r.id,
                f"{r.created_at:{MINUTE}}",
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
    cfg = settings()
    r = cfg.pricing().show_request(ident=ident)
    if cfg.json:
        emit_json(r)
        return
    _print_request(r)
    say(f"Asked by {r.rep}: {r.reason}")
    if r.reused_approval is not None:
        say(f"Keeps {r.reused_approval}'s approval by {r.decided_by} (withdrawn or lost there).")
    if r.expires_at and r.status == "approved":
        say(f"Approval valid until {r.expires_at:{MINUTE}} UTC.")
    print_table(
        ["When (UTC)", "Who", "What", "Note"],
        [(f"{e.at:{MINUTE}}", e.by, e.action, e.note or "") for e in r.events],
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
    unless the new lines are within your own limit, or each at or within what the approval
    gave (the same SKU, at its price or above, no deeper a discount, at most its units, and
    the approver may still approve it: then the approval stands). Only the salesperson who asked may change a request; won, lost,
    rejected, expired or withdrawn requests cannot change (submit a new one).
    Exit 0 approved or pending, 1 rejected or refused.
    """
    cfg = settings()
    ctx = click.get_current_context()
    lines, lines_file = _line_inputs(sku, qty, price, discount, lines_file)
    answer = cfg.pricing().change_request(
        ident=ident, lines=lines, reason=reason, check=check, lines_file=lines_file
    )
    _answer(ctx, answer, check=check, refused="nothing changed")


@requests_.command(
    "withdraw",
    epilog="""
\b
Examples:
  pricing requests withdraw R-000002 --note "customer postponed the project"
  pricing requests withdraw R-000002 --json
""",
)
@click.argument("ident", metavar="ID")
@click.option("--note", metavar="TEXT", help="Why, for the record.")
@json_option
def withdraw(ident: str, note: str | None) -> None:
    """Take back your pending or approved request when the deal no longer needs it.

    It leaves the approvers' inboxes and covers no deal any more, not even one closed while it
    was approved (mark a request won instead when its deal closed). Won, lost, rejected or
    expired requests cannot be withdrawn. Only the salesperson who asked, or a registered owner,
    may withdraw a request.
    """
    cfg = settings()
    r = cfg.pricing().withdraw(ident=ident, note=note)
    if cfg.json:
        emit_json(r)
        return
    say(f"Withdrew {r.id} for {r.customer}: no longer waiting for approval, covering no deal.")


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
        cfg = settings()
        r = cfg.pricing().record_outcome(ident=ident, outcome=outcome)
        if cfg.json:
            emit_json(r)
            return
        say(f"{r.id} for {r.customer}: marked {outcome}.")

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
    cfg = settings()
    r = cfg.pricing().approve(ident=ident, note=note)
    if cfg.json:
        emit_json(r)
        return
    if r.contract is not None:
        say(f"Approved contract {r.id} for {r.customer}: its prices hold from "
            f"{r.contract.starts} to {r.contract.ends}.")  # fmt: skip
        return
    say(
        f"Approved {r.id} for {r.customer}; valid until {r.expires_at:%Y-%m-%d}."
        if r.expires_at
        else f"Approved {r.id}."
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
    cfg = settings()
    r = cfg.pricing().reject(ident=ident, note=note)
    if cfg.json:
        emit_json(r)
        return
    say(f"Rejected {r.id} for {r.customer}.")
