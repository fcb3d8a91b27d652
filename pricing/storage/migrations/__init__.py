"""Alembic migrations, run programmatically on a connection the store already holds."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Connection

_HERE = Path(__file__).parent


def _config(connection: Connection | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_HERE))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config())
    return {rev.revision for rev in script.walk_revisions()}


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return str(ScriptDirectory.from_config(_config()).get_current_head())


def upgrade_to_head(connection: Connection) -> None:
    from alembic import command

    from pricing.storage import seals

    # Blocks written by the migrations before 0011 (which seals them all) have nowhere to keep
    # a seal yet.
    seals.suspend(connection, _current(connection) < "0011")
    try:
        command.upgrade(_config(connection), "head")
    finally:
        seals.suspend(connection, False)


def _current(connection: Connection) -> str:
    from alembic.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision() or ""
