"""The store: migrations are the schema, money is exact, newer databases are refused."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from pricing import store
from pricing.errors import SchemaError, StoreError
from pricing.migrations import head_revision
from pricing.store import Amount, Store, display_url, resolve_url
from tests.conftest import Cli


def test_schema_revision_constant_is_the_migrations_head() -> None:
    assert head_revision() == store.SCHEMA_REVISION


def test_migrations_create_exactly_the_tables_the_code_uses(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Store.open(db_url)
    with db.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), store.metadata)
    assert differences == []


def test_sqlite_is_in_wal_mode_with_a_busy_timeout(db_url: str) -> None:
    db = Store.open(db_url)
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_a_database_from_a_newer_version_is_refused_and_left_alone(db_url: str, cli: Cli) -> None:
    Store.open(db_url)
    engine = create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(SchemaError, match="newer version of pricing"):
        Store.open(db_url)
    result = cli("pricebook", "editions")
    assert result.exit_code == 2
    assert "newer version of pricing" in result.stderr
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"


def test_a_database_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no folder"):
        Store.open(f"sqlite:///{tmp_path / 'nope' / 'x.db'}")


def test_urls__plain_paths_mean_sqlite_and_passwords_are_hidden() -> None:
    assert resolve_url("team.db") == "sqlite:///team.db"
    assert resolve_url("postgresql://a@h/db").startswith("postgresql+psycopg://")
    assert "secret" not in display_url("postgresql+psycopg://dana:secret@db.example/pricing")


def test_amount__exact_to_six_places_and_refuses_more() -> None:
    amount = Amount()
    assert amount.process_bind_param(Decimal("1234.567891"), None) == 1234567891
    assert amount.process_result_value(1234567891, None) == Decimal("1234.567891")
    assert amount.process_result_value(5_000_000, None) == Decimal(5)
    with pytest.raises(ValueError):
        amount.process_bind_param(Decimal("0.0000001"), None)


POSTGRES_URL = os.environ.get("PRICING_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """An isolated PostgreSQL database, or a skip saying why there is none."""
    try:
        import psycopg

        admin = psycopg.connect(
            POSTGRES_URL.replace("postgresql://", "postgresql://", 1), autocommit=True
        )
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(
                f"PostgreSQL is expected in CI at {POSTGRES_URL} but is not reachable: {exc}"
            )
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {exc}")
    name = f"pricing_test_{uuid.uuid4().hex[:10]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


def test_postgresql__the_same_import_and_show_work(postgres_url: str, workbook) -> None:
    cli = Cli(postgres_url)
    path = workbook([["SKU", "Price", "Cost"], ["000042", "1.234,50", 700], ["B-1", 0.1, None]])
    document = cli.json("pricebook", "import", str(path), "--effective", "2026-01-01")
    assert document["edition"] == 1
    shown = cli.json("pricebook", "show", "000042")
    assert (shown["list_price"], shown["unit_cost"]) == ("1234.50", "700.00")
    assert cli.json("pricebook", "import", str(path))["unchanged"] is True
    db = Store.open(postgres_url)
    try:
        assert db.schema_revision() == store.SCHEMA_REVISION
    finally:
        db.close()


def test_first_use_by_many_processes_at_once_migrates_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = tmp_path / "fresh.db"
    argv = [sys.executable, "-m", "pricing", "--db", str(db), "pricebook", "editions", "--json"]
    processes = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)
    ]
    results = [p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0] * 8, results
    assert Store.open(f"sqlite:///{db}").schema_revision() == store.SCHEMA_REVISION
