"""``pricing db …``: where the database is, its schema version, and upgrading it."""

from __future__ import annotations

import click

from pricing.cli.common import emit_json, json_option, local_only, print_table, say, settings


@click.group()
def db() -> None:
    """Where the database is, at which schema version, and upgrading it."""


LOCAL = "`pricing db` works on the database directly: run it on the server's host with --db"


@db.command(
    "status",
    epilog="""
\b
Examples:
  pricing db status
  pricing --db postgresql://pricing@db.example/pricing db status --json
""",
)
@json_option
def status() -> None:
    """Say where the database is, its schema version and what it holds (changes nothing)."""
    local_only(LOCAL)
    from pricing import api, documents

    cfg = settings()
    status = api.database_status(cfg.db_url)
    revision = status.schema_revision
    document = documents.database_status(status)
    if cfg.json:
        emit_json(document)
        return
    rows = [
        ("Database", document["url"]),
        ("Engine", document["dialect"]),
        (
            "Schema revision",
            f"{revision or '(none)'} (this version of pricing: {status.latest_revision})",
        ),
        ("State", status.state),
        *((name.replace("_", " ").capitalize(), f"{n:,}") for name, n in status.counts.items()),
    ]
    print_table(["What", "Value"], rows)


@db.command(
    "upgrade",
    epilog="""
\b
Examples:
  pricing db upgrade
  PRICING_DATABASE_URL=postgresql://pricing@db.example/pricing pricing db upgrade
""",
)
@json_option
def upgrade() -> None:
    """Apply the schema migrations this version of pricing needs (safe to run any time)."""
    local_only(LOCAL)
    from pricing import api, documents

    cfg = settings()
    upgraded = api.upgrade_database(cfg.db_url)
    before, after = upgraded.before, upgraded.after
    if cfg.json:
        emit_json(documents.schema_upgrade(upgraded))
        return
    if not upgraded.changed:
        say(f"Already at schema revision {after}; nothing to do.")
    else:
        say(f"Upgraded the schema from {before or '(empty)'} to {after}.")
