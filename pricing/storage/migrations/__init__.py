"""Alembic migrations, run programmatically on a connection the store already holds."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table
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


def create_at_head(connection: Connection) -> None:
    """Make the schema of a database holding no table at all, at once: the tables of
    :data:`pricing.storage.store.metadata` (the same, table for table, column for column, index
    for index, as the migrations make: tests/test_store.py proves it on SQLite and PostgreSQL),
    the store's random id (what 0012 gives every new store) and the revision, the head's, in
    alembic's own table. On the caller's transaction, without loading alembic or running the
    migrations one by one; a store that holds anything is upgraded by them (:func:`upgrade_to_head`).
    """
    import secrets

    from pricing.storage import store

    store.metadata.create_all(connection, checkfirst=False)
    _ALEMBIC_VERSION.create(connection, checkfirst=False)
    connection.execute(_ALEMBIC_VERSION.insert().values(version_num=store.SCHEMA_REVISION))
    connection.execute(store.audit_state.insert().values(name="store", value=secrets.token_hex(16)))


# Alembic's table of the revision, as alembic makes it (alembic.runtime.migration).
_ALEMBIC_VERSION = Table(
    "alembic_version",
    MetaData(),
    Column("version_num", String(32), nullable=False),
    PrimaryKeyConstraint("version_num", name="alembic_version_pkc"),
)


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
