"""``pricing serve``, ``pricing login`` and ``pricing logout``: the team server and signing in."""

from __future__ import annotations

import click

from pricing.cli.common import emit_json, json_option, say, settings
from pricing.errors import InputError


@click.command(
    epilog="""
\b
Examples:
  pricing serve                                   (a local trial on pricing.db)
  pricing serve --config /etc/pricing/server.toml --host 127.0.0.1 --port 8765
  PRICING_DATABASE_URL=postgresql://pricing@db/pricing pricing serve
"""
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--config",
    "config_file",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="The server's configuration (TOML: database_url, secret_file or secret, "
    "previous_secret_files, base_url, witness_file or witness_url, [mail]); env PRICING_CONFIG.",
)
def serve(host: str, port: int, config_file: str | None) -> None:
    """Run the team server over the database of --db: people sign in with their tokens.

    Every call is checked against the caller's role. Only the server holds the database and
    the audit's secret; put TLS in front of it (a reverse proxy)."""
    import uvicorn

    from pricing import config
    from pricing.server.app import create_app

    config.use_settings(config_file)
    cfg = settings()
    configured = config.settings()
    if configured.file is None and not config.audit_secret_configured():
        say(
            "No configuration: a local trial. The audit's secret is kept in "
            f"{config.local_secret_file()} (mode 0600); a team gives --config FILE.",
            err=True,
        )
    config.audit_key()  # a missing, unreadable or weak secret stops the server here (exit 2)
    from pricing.storage.audit import witness_ready

    witness = witness_ready()  # and so does a witness it may not append to
    say(f"The audit's head is appended to its witness {witness} after every change.", err=True)
    mail = config.mail_settings()  # a mail setting that cannot be stops the server here (exit 2)
    if mail is None:
        say("Mail: not configured; what is to be mailed waits in the outbox (`pricing db "
            "status`) until [mail] or PRICING_SMTP_HOST names a mail server.", err=True)  # fmt: skip
    else:
        links = config.base_url() or "(no base_url: links name the page only)"
        say(f"Mail: through {mail.host}:{mail.port}{' with STARTTLS' if mail.starttls else ''}"
            f" as {mail.sender}; links to {links}.", err=True)  # fmt: skip
    _listenable(host, port)
    app = create_app(cfg.db_url)
    say(f"pricing server on http://{host}:{port} (API docs at /docs); Ctrl-C stops it.",
               err=True)  # fmt: skip
    uvicorn.run(app, host=host, port=port, log_level="warning")


def _listenable(host: str, port: int) -> None:
    """Refuse a --host that is no address of this machine's kind (``256.1.1.1``, a name with
    control characters, which the name lookup met with a traceback) before the server starts."""
    import socket

    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError, ValueError) as exc:
        raise InputError(f" {host!r}: not an address to listen on ({exc})", field="host") from None


@click.command(
    epilog="""
\b
Examples:
  pricing login --server https://pricing.example.com      (asks for your token)
  pass show pricing | pricing login --server https://pricing.example.com
  PRICING_TOKEN=prc_… pricing login --server http://127.0.0.1:8765
  pricing login --server http://pricing.lan:8765 --insecure   (a network you trust)
"""
)
@click.option("--server", required=True, metavar="URL", help="The team server's address.")
@click.option(
    "--insecure",
    is_flag=True,
    help="Send the token over plain http to a host other than this one (it crosses the "
    "network readable by anyone on the way; refused without this, or PRICING_INSECURE=1).",
)
@json_option
def login(server: str, insecure: bool) -> None:
    """Sign in to the team server with your personal token; commands then go through it.

    The token comes from PRICING_TOKEN, else standard input: typed at a prompt that does not
    show it, or the first line of what is piped in. It is checked with the server, then kept
    in your configuration folder (mode 0600)."""
    from pricing import config
    from pricing.operations.library import Pricing
    from pricing.results.people import SignedIn

    token = config.token() or _token_from_stdin()
    if not token:
        raise InputError("no token given: type it at the prompt, pipe it in, or set PRICING_TOKEN")
    insecure = insecure or config.insecure_allowed()
    # On the server whatever its address looks like (one that is none is refused, named).
    with Pricing(login=config.Login(server, token, insecure)) as on_server:
        me = on_server.whoami()  # who the token signs in: a wrong one is refused here
    where = config.keep_login(server, token, insecure)
    signed = SignedIn.kept(me, server=server, kept_in=str(where))
    if settings().json:
        emit_json(signed)
    else:
        say(f"Signed in to {server} as {signed.name} ({signed.role}); kept in {signed.kept_in}.")


def _token_from_stdin() -> str:
    """The token typed at a hidden prompt on a terminal; piped in (not a terminal), the first
    line read quietly: no prompt, and no warning that the input may be echoed."""
    import sys

    if sys.stdin is None:  # no standard input at all (closed, or a windowed program)
        return ""
    if not sys.stdin.isatty():
        return sys.stdin.readline().strip()
    return str(click.prompt("Your personal token", hide_input=True)).strip()


@click.command(
    epilog="""
\b
Examples:
  pricing logout
"""
)
def logout() -> None:
    """Forget the kept sign-in (commands then use the local database again)."""
    from pricing import config

    if config.forget_login():
        say("Signed out: the kept token is deleted.")
    else:
        say("Not signed in.")
