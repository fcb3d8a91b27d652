"""The ``pricing`` command line: a thin layer that parses options, calls the core and prints.

Nothing heavy is imported here: each command imports the core it needs when it runs, so that
``pricing --help`` and short commands start fast.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from pricing import __version__
from pricing.cli.common import Settings, exit_with, json_option
from pricing.errors import PricingError, Refused

EXAMPLES = """
\b
Examples:
  pricing pricebook import price-book-2026.xlsx --effective 2026-01-01
  pricing pricebook show HW-100
  pricing policy load guardrails.toml
  pricing request --customer Acme --reason "competitive bid" HW-100 --qty 10 --discount 12
  pricing --user dana approve R-000001
  pricing --json pricebook editions
  pricing demo --dir /tmp/pricing-demo
"""


class PricingGroup(click.Group):
    """A click group that turns pricing's own errors into a message and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Refused as exc:
            exit_with(ctx, str(exc), code=1)
        except PricingError as exc:
            exit_with(ctx, str(exc), code=2)
        except KeyboardInterrupt:
            click.echo("interrupted; nothing more was stored", err=True)
            ctx.exit(130)


@click.group(
    cls=PricingGroup, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    envvar="PRICING_DATABASE_URL",
    help="Database URL (default: SQLite file pricing.db here; env PRICING_DATABASE_URL). "
    "A plain path means an SQLite file; postgresql://user@host/db for a team.",
)
@click.option(
    "--user",
    metavar="NAME",
    envvar="PRICING_USER",
    help="Who is acting (default: env PRICING_USER, else your login name).",
)
@json_option
@click.version_option(__version__, prog_name="pricing")
@click.pass_context
def main(ctx: click.Context, db_url: str | None, user: str | None) -> None:
    """Standard list pricing, deal-level special pricing, guardrails and drift.

    Marketing imports the price book (pricing pricebook ...); sales asks for special
    prices; the owner sets guardrails, approves and reads the drift report.
    """
    settings = ctx.ensure_object(Settings)
    settings.db_url = db_url
    settings.user = user


def _register() -> None:
    from pricing.cli.demo import demo
    from pricing.cli.policy import policy
    from pricing.cli.pricebook import pricebook
    from pricing.cli.requests import approve, quote, reject, request, requests_

    for command in (pricebook, policy, quote, request, requests_, approve, reject, demo):
        main.add_command(command)


_register()

__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
