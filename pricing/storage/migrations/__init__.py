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

    command.upgrade(_config(connection), "head")
