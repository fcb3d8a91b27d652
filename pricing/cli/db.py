"""``pricing db …``: where the database is, its schema version, and upgrading it."""

from __future__ import annotations

import click

from pricing.cli.common import emit_json, json_option, print_table, settings


@click.group()
def db() -> None:
    """Where the database is, at which schema version, and upgrading it."""


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
    from pricing import api
    from pricing.storage.migrations import known_revisions
    from pricing.storage.store import SCHEMA_REVISION, Store, display_url, resolve_url

    cfg = settings()
    store = Store.connect(cfg.db_url, create=False)
    try:
        revision = store.schema_revision()
        if revision is None:
            state = "empty: its tables are created on first use (or by `pricing db upgrade`)"
        elif revision == SCHEMA_REVISION:
            state = "up to date"
        elif revision in known_revisions():
            state = "older: `pricing db upgrade` brings it up to date (commands also do it on first use)"
        else:
            state = "written by a newer version of pricing: upgrade pricing before using it"
        counts = api.stored_counts(store) if revision == SCHEMA_REVISION else {}
    finally:
        store.close()
    document = {
        "url": display_url(resolve_url(cfg.db_url)),
        "dialect": store.engine.dialect.name,
        "schema_revision": revision,
        "latest_revision": SCHEMA_REVISION,
        "state": state,
        "counts": counts,
    }
    if cfg.json:
        emit_json(document)
        return
    rows = [
        ("Database", document["url"]),
        ("Engine", document["dialect"]),
        ("Schema revision", f"{revision or '(none)'} (this version of pricing: {SCHEMA_REVISION})"),
        ("State", state),
        *((name.replace("_", " ").capitalize(), f"{n:,}") for name, n in counts.items()),
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
    from pricing.storage.store import SCHEMA_REVISION, Store

    cfg = settings()
    store = Store.connect(cfg.db_url)
    try:
        before = store.schema_revision()
        store.ensure_schema(upgrade=True)
        if before is not None and before != SCHEMA_REVISION:
            store.compact()  # e.g. 0005 moved deal lines into a third of the space
    finally:
        store.close()
    if cfg.json:
        emit_json({"from": before, "to": SCHEMA_REVISION, "changed": before != SCHEMA_REVISION})
        return
    if before == SCHEMA_REVISION:
        click.echo(f"Already at schema revision {SCHEMA_REVISION}; nothing to do.")
    else:
        click.echo(f"Upgraded the schema from {before or '(empty)'} to {SCHEMA_REVISION}.")
