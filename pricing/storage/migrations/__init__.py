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
    """Make the schema of a database holding no table at all, at once, as the migrations
    would leave it: on SQLite the very statements they leave in its schema
    (:data:`SQLITE_HEAD`, so that the file is the same to its schema's text), elsewhere the
    tables of :data:`pricing.storage.store.metadata` and alembic's own; then the revision,
    the head's, and the store's random id (what 0012 gives every new store). On the caller's
    transaction, without loading alembic or running the migrations one by one; a store that
    holds anything, and a new SQLite file, are made by them (:func:`upgrade_to_head`; the store
    decides). tests/test_store.py proves the schema made so the migrations' on SQLite and
    PostgreSQL."""
    import secrets

    from pricing.storage import store

    if connection.dialect.name == "sqlite":
        for statement in SQLITE_HEAD.read_text(encoding="utf-8").split(";\n\n"):
            if statement.strip():
                connection.exec_driver_sql(statement)
    else:
        store.metadata.create_all(connection, checkfirst=False)
        _ALEMBIC_VERSION.create(connection, checkfirst=False)
    connection.execute(_ALEMBIC_VERSION.insert().values(version_num=store.SCHEMA_REVISION))
    connection.execute(store.audit_state.insert().values(name="store", value=secrets.token_hex(16)))


# The schema of an SQLite store the migrations brought to the head, statement by statement as
# its schema holds them (sqlite_schema's text, in the order they were made): written by
# sqlite_schema() from a migrated store, kept equal to it by tests/test_store.py.
SQLITE_HEAD = _HERE / "head.sqlite.sql"


def sqlite_schema(connection: Connection) -> str:
    """The statements of an SQLite database's schema, in the order they were made, as
    :data:`SQLITE_HEAD` holds them (run it on a store fresh from the migrations to write it)."""
    made = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid"
    ).scalars()
    return "".join(f"{statement};\n\n" for statement in made)


# Alembic's table of the revision, as alembic makes it (alembic.ddl.impl.version_table_impl).
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
