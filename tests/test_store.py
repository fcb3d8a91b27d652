"""The store: migrations are the schema, money is exact, newer databases are refused."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from pricing.cli import main
from pricing.errors import SchemaError, StoreError
from pricing.storage import seals, store
from pricing.storage.migrations import head_revision
from pricing.storage.store import Amount, Store
from pricing.storage.urls import display_url, resolve_url
from tests.conftest import Cli, _schema_of, postgres_admin


def test_schema_revision_constant_is_the_migrations_head() -> None:
    assert head_revision() == store.SCHEMA_REVISION


def test_migrations_create_exactly_the_tables_the_code_uses(db_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    db = Store.open(db_url)
    try:
        with db.engine.connect() as conn:
            differences = compare_metadata(MigrationContext.configure(conn), store.metadata)
    finally:
        db.close()
    assert differences == []


def _schema(url: str) -> dict[str, Any]:
    """All the inspector says of a store's tables (columns in order with their types,
    nullability, defaults; keys, foreign keys, indexes, unique and check constraints), its
    revision and the names of its audit state."""
    from sqlalchemy import inspect

    db = Store.connect(url)
    try:
        with db.engine.connect() as conn:
            seen = inspect(conn)
            tables: dict[str, Any] = {}
            for name in sorted(seen.get_table_names()):
                columns = [
                    (c["name"], c["type"].compile(conn.dialect), c["nullable"], c.get("default"))
                    for c in seen.get_columns(name)
                ]
                tables[name] = {
                    "columns": columns,
                    "primary key": seen.get_pk_constraint(name),
                    "foreign keys": sorted(map(repr, seen.get_foreign_keys(name))),
                    "indexes": sorted(map(repr, seen.get_indexes(name))),
                    "unique": sorted(map(repr, seen.get_unique_constraints(name))),
                    "checks": sorted(map(repr, seen.get_check_constraints(name))),
                }
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).all()
            state = conn.execute(text("SELECT name FROM audit_state ORDER BY name")).all()
            text_of = []  # on SQLite, the schema's own text (what bench/equivalence.py compares)
            if conn.dialect.name == "sqlite":
                schema = "SELECT type, name, tbl_name, sql FROM sqlite_master"
                text_of = sorted(conn.exec_driver_sql(schema).all())
    finally:
        db.close()
    return {"tables": tables, "revision": revision, "audit state": state, "text": text_of}


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_new_store_made_at_once_has_the_schema_the_migrations_make(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new database gets its tables at once (create_at_head, stamped at the head) rather than
    through the 13 migrations (on PostgreSQL through Store.open; a new SQLite file is migrated,
    a store in memory is made so): the very schema they make, on both engines."""
    from contextlib import ExitStack

    from pricing.storage import migrations
    from tests.conftest import postgres_schema

    with ExitStack() as stack:
        if backend == "sqlite":
            made_url, migrated_url = (f"sqlite:///{tmp_path / n}" for n in ("made.db", "up.db"))
        else:
            made_url = stack.enter_context(postgres_schema())
            migrated_url = stack.enter_context(postgres_schema())
        migrated = Store.connect(migrated_url)
        with migrated.write() as conn:
            migrations.upgrade_to_head(conn)  # every migration, from an empty database
            if backend == "sqlite":
                assert migrations.sqlite_schema(conn) == migrations.SQLITE_HEAD.read_text(), (
                    "the migrations' schema changed: write head.sqlite.sql again from a store "
                    "they made (migrations.sqlite_schema)"
                )
        migrated.close()

        def no_migrations(_conn: Any) -> None:
            raise AssertionError("a new store was migrated, not made at once")

        monkeypatch.setattr(migrations, "upgrade_to_head", no_migrations)
        if backend == "sqlite":  # (a new SQLite file is migrated: made at once here)
            made = Store.connect(made_url)
            with made.write() as conn:
                migrations.create_at_head(conn)
            made.close()
        else:
            Store.open(made_url).close()
        made, expected = _schema(made_url), _schema(migrated_url)
    assert made["tables"] == expected["tables"]
    assert made["text"] == expected["text"]
    assert made["revision"] == expected["revision"] == [(store.SCHEMA_REVISION,)]
    assert made["audit state"] == expected["audit state"] == [("store",)]


def test_a_new_store_in_memory_is_made_without_loading_alembic() -> None:
    import subprocess
    import sys

    code = (
        "import sys; from pricing.storage.store import Store; "
        "Store.open('sqlite://').close(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_sqlite_is_in_wal_mode_with_a_busy_timeout(sqlite_url: str) -> None:
    db = Store.open(sqlite_url)
    with db.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    db.close()


def test_a_database_from_a_newer_version_is_refused_and_left_alone(db_url: str, cli: Cli) -> None:
    db = Store.open(db_url)
    try:
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
        with pytest.raises(SchemaError, match="newer version of pricing"):
            Store.open(db_url)
        result = cli("pricebook", "editions")
        assert result.exit_code == 2
        assert "newer version of pricing" in result.stderr
        status = cli.json("db", "status")
        assert status["schema_revision"] == "9999" and "newer version" in status["state"]
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == "9999"
    finally:
        db.close()


def test_db_status_and_upgrade(db_url: str, cli: Cli) -> None:
    if db_url.startswith("sqlite"):  # no file yet: status says so and creates nothing
        Path(db_url.removeprefix("sqlite:///")).unlink()  # (the new store the fixture made)
        missing = cli("db", "status")
        assert missing.exit_code == 2 and "no database at" in missing.stderr
        assert not Path(db_url.removeprefix("sqlite:///")).exists()
        assert cli("db", "upgrade").exit_code == 0
        assert cli.json("db", "status")["schema_revision"] == store.SCHEMA_REVISION
        return
    schema = _schema_of(db_url)  # a database without tables yet: the new store's emptied
    with closing(postgres_admin()) as admin:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE; CREATE SCHEMA "{schema}"')
    before = cli.json("db", "status")
    assert before["schema_revision"] is None and before["latest_revision"] == store.SCHEMA_REVISION
    assert "secret" not in before["url"]
    upgraded = cli.json("db", "upgrade")
    assert upgraded == {"from": None, "to": store.SCHEMA_REVISION, "changed": True}
    assert cli.json("db", "upgrade")["changed"] is False
    after = cli.json("db", "status")
    assert after["state"] == "up to date" and after["counts"]["editions"] == 0
    assert after["dialect"] in ("sqlite", "postgresql")


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


def test_first_use_by_many_processes_at_once_migrates_once(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = tmp_path / "fresh.db"
    book = tmp_path / "book.csv"
    book.write_text("SKU,Price\nA-1,10\n")
    argv = [
        sys.executable,
        "-m",
        "pricing",
        "--db",
        str(db),
        "pricebook",
        "import",
        str(book),
        "--json",
    ]
    processes = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(8)
    ]
    results = [p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0] * 8, results
    editions = [json.loads(out)["edition"] for out, _ in results]
    assert sorted(editions, key=str) == [1] + [None] * 7  # one stored it, the rest: unchanged
    assert Store.open(f"sqlite:///{db}").schema_revision() == store.SCHEMA_REVISION


def test_a_password_in_a_database_url_is_never_printed() -> None:
    for url in (
        "postgresql://priya:s3cret-pw@127.0.0.1:1/pricing",  # nothing listens there
        "postgresql://priya:s3cret-pw@no-such-host.invalid/pricing",
        "mysql://priya:s3cret-pw@127.0.0.1/pricing",  # a driver pricing does not ship
    ):
        result = CliRunner().invoke(main, ["--db", url, "pricebook", "editions"])
        assert result.exit_code == 2, result.output
        assert "s3cret-pw" not in result.output and "***" in result.output, result.output


def test_deal_lines_stored_as_rows_move_to_segments_on_upgrade(owner: Cli, tmp_path: Path) -> None:
    """Given a database from before deal lines were stored as segments (revision 0004), when the
    owner runs `pricing db upgrade`, then the report over its deals is what it was."""
    if not owner.db_url.startswith("sqlite"):
        pytest.skip("the migration's SQL is the same on PostgreSQL; checked on SQLite")
    import sqlite3
    from contextlib import closing

    from alembic import command
    from sqlalchemy import create_engine

    from pricing.lines import segments
    from pricing.storage.migrations import _config
    from tests.test_cli_deals_report import SALES, deals_csv

    assert owner("deals", "import", str(deals_csv(tmp_path, SALES))).exit_code == 0
    expected = owner.json("report", "--by", "rep,sku")
    with owner.store().read() as conn:
        lines = segments.scan(conn, RAW_COLUMNS)
    old = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{old}")
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0004")
    engine.dispose()
    with closing(sqlite3.connect(old)) as conn:
        conn.execute("ATTACH ? AS new", (owner.db_url.removeprefix("sqlite:///"),))
        for table in ("editions", "price_items", "price_tiers", "policies", "deal_imports"):
            # The columns the old table had (later revisions added some, read as nulls).
            names = ", ".join(r[1] for r in conn.execute(f"PRAGMA main.table_info({table})"))
            conn.execute(f"INSERT INTO main.{table} ({names}) SELECT {names} FROM new.{table}")
        rows = list(zip(*(lines[name].to_pylist() for name in RAW_COLUMNS), strict=True))
        marks = ", ".join("?" for _ in RAW_COLUMNS)
        conn.executemany(
            f"INSERT INTO deal_lines ({', '.join(RAW_COLUMNS)}) VALUES ({marks})",
            [
                tuple(
                    str(v) if name == "date" else v
                    for name, v in zip(RAW_COLUMNS, row, strict=True)
                )
                for row in rows
            ],
        )
        conn.commit()
    before = Cli(f"sqlite:///{old}")
    assert before("db", "upgrade").exit_code == 0
    assert before.json("report", "--by", "rep,sku") == expected
    assert before.json("db", "status")["schema_revision"] == store.SCHEMA_REVISION
    # Imports recorded before their file's digest, mapping and dates were kept list them as null.
    (listed,) = before.json("deals", "imports")
    assert listed["lines"] == 4 and listed["sha256"] is None and listed["columns"] is None
    # The upgrade gives the store an id (0010's re-matching began its chain, before stores had
    # ids: a chain verify accepts unkeyed over the id), and later changes verify.
    with before.store().read() as conn:
        state = dict(conn.execute(text("SELECT name, value FROM audit_state")).all())
    assert len(state["store"]) == 32 and "baseline" not in state
    book = tmp_path / "later.csv"
    book.write_text("SKU,List Price\nHW-1,10\n")
    changed = before("pricebook", "import", str(book), "--effective", "2030-01-01")
    assert changed.exit_code == 0, changed.output
    verdict = before.json("audit", "verify")
    assert verdict["intact"] and verdict["witnessed"] == verdict["head"]
    before.close()


RAW_COLUMNS = (
    "line_key", "deal_id", "deal_first", "date", "customer", "rep", "sku", "sku_key", "qty",
    "amount", "unit_price", "discount_pct", "request_id", "currency", "import_id",
)  # fmt: skip


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql__a_held_lock_waits_lock_timeout_then_says_so_and_stores_nothing(
    sales: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given another session holding the lock that queues appends to the audit (as a stalled
    client or psql could), when a salesperson submits with PRICING_LOCK_TIMEOUT=1, then the
    command gives up within seconds, says the database is locked (exit 2) and stores nothing."""
    import threading
    import time

    import psycopg

    from pricing.storage import audit

    db = sales.store()
    with db.read() as conn:
        before = conn.execute(text("SELECT count(*) FROM requests")).scalar()
    head = audit.head(db)
    monkeypatch.setenv("PRICING_LOCK_TIMEOUT", "1")
    with psycopg.connect(sales.db_url) as holder:  # one transaction until the block ends
        holder.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(current_schema()))", (audit._LOCK,)
        )
        # Let go after 20 s, so that a command that ignores the timeout fails here, not hangs.
        release = threading.Timer(20, holder.rollback)
        release.start()
        started = time.monotonic()
        try:
            result = sales("request", "--customer", "Acme", "--reason", "bid", "HW-100",
                           "--qty", "1", "--discount", "5", user="priya")  # fmt: skip
        finally:
            waited = time.monotonic() - started
            release.cancel()
    assert result.exit_code == 2, result.output
    assert "locked" in result.stderr and "nothing was changed" in result.stderr
    assert "PRICING_LOCK_TIMEOUT" in result.stderr and "Traceback" not in result.stderr
    assert 0.9 < waited < 10
    with db.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM requests")).scalar() == before
    assert audit.head(db) == head


def test_a_history_classified_line_by_line_is_judged_on_one_deal_value_on_upgrade(
    cli: Cli, tmp_path: Path
) -> None:
    """Given a store from before one deal value (revision 0009), whose two-line deal worth
    1,140.00 was classified line by line (each line below the rule's 1,000: both out of
    policy), when the owner runs `pricing db upgrade`, then the deal's lines are classified on
    the deal's whole value: none is out of policy."""
    if not cli.db_url.startswith("sqlite"):
        pytest.skip("the migration's SQL is the same on PostgreSQL; checked on SQLite")
    from sqlalchemy import text

    from pricing.lines import schema, segments
    from pricing.lines.matching import Reference, match
    from tests.test_cli_requests import deal_value_store

    deal_value_store(cli, tmp_path)
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Order ID,Order Date,Customer,SKU,Quantity,Net Price\n"
        "SO-1,2025-03-01,Acme,HW-1,6,85.00\nSO-1,2025-03-01,Acme,HW-2,6,76.50\n"
    )
    assert cli("deals", "import", str(deals)).exit_code == 0
    with cli.store().write() as conn:  # as the code before 0010 stored them: line by line
        reference = Reference(conn)

        def alone(segment: Any) -> dict[str, Any]:
            matched = match(conn, segment.select(list(schema.FACTS)), reference)
            return {name: matched[name] for name in schema.MATCHED}

        segments.rewrite(conn, alone, reads=list(schema.FACTS))
        conn.execute(text("UPDATE alembic_version SET version_num = '0009'"))
        conn.execute(text("DROP TABLE deal_manifests"))  # what 0011 adds
        conn.execute(text("ALTER TABLE deal_columns DROP COLUMN seal"))
        seals.suspend(conn, True)
        levels = segments.scan(conn, ["level"])["level"].to_pylist()
        seals.suspend(conn, False)
    assert levels == ["manager", "manager"]
    assert cli("db", "upgrade").exit_code == 0
    assert cli.json("db", "status")["schema_revision"] == store.SCHEMA_REVISION
    assert cli.json("report")["totals"]["out_of_policy_lines"] == 0


class _Switching:
    """A cursor whose switch to write-ahead mode is refused ``locked`` times first."""

    def __init__(self, locked: int, error: str = "database is locked") -> None:
        self.locked, self.error, self.tried = locked, error, 0

    def execute(self, statement: str) -> None:
        assert statement == "PRAGMA journal_mode = WAL"
        self.tried += 1
        if self.tried <= self.locked:
            raise sqlite3.OperationalError(self.error)


def test_a_new_files_switch_to_wal_waits_for_the_lock_then_gives_up() -> None:
    """Another process making the same new file holds a lock SQLite's busy handler does not
    wait for while it switches it to write-ahead mode: the switch is tried again until the lock
    timeout, and any other error is said at once."""
    waited = _Switching(locked=3)
    store._write_ahead(waited, timeout=5)  # type: ignore[arg-type]
    assert waited.tried == 4
    stuck = _Switching(locked=10_000)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        store._write_ahead(stuck, timeout=0.05)  # type: ignore[arg-type]
    assert 2 <= stuck.tried < 100
    other = _Switching(locked=1, error="disk I/O error")
    with pytest.raises(sqlite3.OperationalError, match="disk"):
        store._write_ahead(other, timeout=5)  # type: ignore[arg-type]
    assert other.tried == 1
