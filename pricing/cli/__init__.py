"""The ``pricing`` command line: a thin layer that parses options, calls the core and prints.

Nothing heavy is imported here: each command imports the core it needs when it runs, so that
``pricing --help`` and short commands start fast.
"""

from __future__ import annotations

import importlib
import sys
from types import TracebackType
from typing import Any

import click

from pricing import __version__
from pricing.cli.common import Settings, error_message, exit_with, json_option, say
from pricing.errors import PricingError, Refused
from pricing.text import visible

EXAMPLES = """
\b
Examples:
  pricing pricebook import price-book-2026.xlsx --effective 2026-01-01
  pricing deals import orders.csv
  pricing report --by rep -o drift.xlsx
  pricing pricebook show HW-100
  pricing policy load guardrails.toml
  pricing request --customer Acme --reason "competitive bid" HW-100 --qty 10 --discount 12
  pricing --user dana approve R-000001
  pricing --json pricebook editions
  pricing demo --dir /tmp/pricing-demo
"""


def _skip_httpx_command_line() -> None:
    """Let httpx load without its own command line, which this one never runs.

    Importing httpx imports ``httpx._main`` (its ``httpx`` command: rich's consoles and progress
    bars, pygments' lexers), 163 M instructions of the 1,223 M a `request --check` took in
    client mode. A module that is None in ``sys.modules`` is one Python will not import, and
    httpx takes that as its command line's extras not installed. Done by this program only
    (a script using the library keeps httpx whole), and only before httpx is first loaded."""
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


# name -> (module, attribute, one-line help). Commands are imported only when run, so that
# `pricing --help` and each command load no more than they need; a test keeps the help
# lines here equal to the commands' own.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "pricebook": ("pricing.cli.pricebook", "pricebook",
                  "Import, inspect, compare and export the standard price book (marketing's list prices)."),
    "policy": ("pricing.cli.policy", "policy",
               "Write, check, load and read the guardrails every special price is held to."),
    "quote": ("pricing.cli.requests", "quote",
              "List, standard price and the lowest price each approval level may grant, and the hard floor."),
    "request": ("pricing.cli.requests", "request",
                "Ask for a special price for a customer's deal: one line, or many from a file."),
    "requests": ("pricing.cli.requests", "requests_",
                 "List deviation requests (newest last), or act on one: show, change, withdraw, won, lost."),
    "inbox": ("pricing.cli.requests", "inbox",
              "The pending requests waiting for your decision, oldest first (never your own)."),
    "approve": ("pricing.cli.requests", "approve",
                "Approve a pending request: your role must cover its level, and it cannot be your own."),
    "reject": ("pricing.cli.requests", "reject", "Reject a pending request, with a note saying why."),
    "contracts": ("pricing.cli.contracts", "contracts",
                  "Contracted prices: each customer's standing prices, their periods and states."),
    "fx": ("pricing.cli.fx", "fx",
           "Exchange rates: import them (the ECB's file as published) and read a day's rate."),
    "deals": ("pricing.cli.deals", "deals",
              "Import the deals actually closed (CRM or invoicing exports) for the drift report."),
    "report": ("pricing.cli.report", "report",
               "The drift report: how far the deals closed are from list, where, and by whom."),
    "audit": ("pricing.cli.audit", "audit",
              "Check that nothing stored was changed behind the tool's back (the keyed audit chain)."),
    "people": ("pricing.cli.people", "people",
               "Who may sign in and in which role: add, list, change roles or addresses, reset, remove."),
    "serve": ("pricing.cli.server", "serve",
              "Run the team server over the database of --db: people sign in with their tokens."),
    "login": ("pricing.cli.server", "login",
              "Sign in to the team server with your personal token; commands then go through it."),
    "logout": ("pricing.cli.server", "logout",
               "Forget the kept sign-in (commands then use the local database again)."),
    "db": ("pricing.cli.db", "db", "Where the database is, its schema version, upgrading and checking it."),
    "demo": ("pricing.cli.demo", "demo",
             "Run the whole story on sample_data, end to end, in a fresh database."),
}  # fmt: skip


class PricingGroup(click.Group):
    """The top-level group: commands loaded on demand; pricing's own errors become a message
    and exit code 2 (a business "no", :class:`Refused`, exit code 1)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attribute, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, help_) for name, (_, _, help_) in COMMANDS.items()])

    def main(self, *args: Any, **kwargs: Any) -> Any:
        sys.excepthook = shown_traceback
        _skip_httpx_command_line()
        return super().main(*args, **kwargs)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Refused as exc:
            exit_with(ctx, error_message(exc), code=1)
        except PricingError as exc:
            exit_with(ctx, error_message(exc), code=2)
        except KeyboardInterrupt:
            say("interrupted; nothing more was stored", err=True)
            ctx.exit(130)


def shown_traceback(
    kind: type[BaseException], error: BaseException, trace: TracebackType | None
) -> None:
    """A bug's traceback (the process's last words), each line shown as :func:`say` shows one:
    an exception that quotes a value (openpyxl's IllegalCharacterError quotes the cell) cannot
    drive the terminal either."""
    import traceback  # (a bug's last words: not loaded by every command)

    for line in "".join(traceback.format_exception(kind, error, trace)).splitlines():
        sys.stderr.write(visible(line) + "\n")
    sys.stderr.flush()


@click.group(
    cls=PricingGroup, epilog=EXAMPLES, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.option(
    "--db",
    "db_url",
    metavar="URL",
    help="Database URL (default: SQLite file pricing.db here; env PRICING_DATABASE_URL). "
    "A plain path means an SQLite file; postgresql://… is a team's database, used directly "
    "only by its server and the administrator (people use the server: pricing login).",
)
@click.option(
    "--user",
    metavar="NAME",
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


__all__ = ["main"]

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
