"""``pricing fx``: exchange rates, imported from a file and shown for a day."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from pricing.cli.common import (
    echo_found_problems,
    emit_json,
    exit_with,
    json_option,
    say,
    settings,
)


@click.group()
def fx() -> None:
    """Exchange rates: import them (the ECB's file as published) and read a day's rate.

    A rates file is the European Central Bank's reference rates as published, or a list of
    date, currency and rate.

    The rate on a day is the last one published on or before it (weekends and holidays have
    none); one published more than 7 days before (the policy's fx_max_age_days) is shown as old.
    """


@fx.command(
    "import",
    epilog="""
\b
Examples:
  pricing fx import eurofxref-hist.csv
  pricing fx import rates.csv --base USD --json
""",
)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--base", metavar="CUR",
              help="The currency a file's rates are quoted against when it does not say "
                   "(default EUR, the ECB's: 1 EUR = 1.1172 USD).")  # fmt: skip
@json_option
def import_(file: Path, base: str | None) -> None:
    """Store the rates of a file that are new or changed; the same file again stores nothing.

    The file is the ECB's reference rates as published (Date,USD,JPY,... a column per
    currency, N/A where there is no rate) or a rate per line (date,currency,rate, and base when
    it holds several). A file with any problem stores nothing (exit 2), each problem naming its
    line and column.
    """
    cfg = settings()
    done = cfg.pricing().import_rates(file=file, base=base)
    if done.refused:
        if not cfg.json:
            echo_found_problems(done.problems, done.problem_counts)
        errors = sum(c.count for c in done.problem_counts if c.severity == "error")
        exit_with(click.get_current_context(),
                  f"{file.name}: {errors:,} problem(s); no rate was stored", document=done)  # fmt: skip
    if cfg.json:
        emit_json(done)
        return
    span = f"{done.first_day} to {done.last_day}"
    held = (f"{_count(done.rates, 'rate')} of {_count(len(done.currencies), 'currency', 'currencies')}"
            f" against {', '.join(done.bases)}")  # fmt: skip
    if done.id is None:
        say(f"Rates unchanged: {file.name} holds {held} ({span}), all stored already; nothing "
            "was stored.")  # fmt: skip
        return
    say(f"Imported {file.name} as rates import {done.id}: {held} ({span}); {done.added:,} "
        f"added, {done.changed:,} changed, {done.unchanged:,} stored already.")  # fmt: skip


@fx.command(
    "show",
    epilog="""
\b
Examples:
  pricing fx show USD
  pricing fx show GBP --in USD --as-of 2026-10-31
  pricing fx show JPY --json
""",
)
@click.argument("currency", metavar="CUR")
@click.option("--in", "in_currency", metavar="CUR",
              help="The currency to show it in (default: the policy's currency).")  # fmt: skip
@click.option("--as-of", "as_of", type=click.DateTime(["%Y-%m-%d"]), metavar="DATE",
              help="The day (default today): the last rate published on or before it.")  # fmt: skip
@json_option
def show(currency: str, in_currency: str | None, as_of: datetime | None) -> None:
    """One unit of CUR in another currency on a day, with the day it was published and how it
    was found (as the file gave it, inverted, or through the base both are quoted against)."""
    cfg = settings()
    found = cfg.pricing().rate(
        currency=currency, in_currency=in_currency, as_of=as_of.date() if as_of else None
    )
    if cfg.json:
        emit_json(found)
        return
    from pricing.results.fx import plain

    said = (f"1 {found.currency} = {plain(found.rate)} {found.in_currency} on {found.as_of}: published "
            f"{found.published}, {found.how}.")  # fmt: skip
    say(said)
    if found.stale:
        say(f"warning: this rate is {found.age_days} days old (more than {found.max_age_days}): "
            "import newer rates with `pricing fx import FILE`.", err=True)  # fmt: skip


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"
