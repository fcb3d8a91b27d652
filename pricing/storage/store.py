"""Storage: SQLAlchemy Core over SQLite (default, embedded) or PostgreSQL (a team).

Money is stored as whole millionths in BIGINT columns: exact on both engines, and summable in
SQL without floating point. The schema is created and upgraded by Alembic migrations, but for
a new PostgreSQL database or store in memory, made at once at the head
(:func:`~pricing.storage.migrations.create_at_head`); a database already at this version's
revision is used without importing Alembic, which keeps short commands fast.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    event,
    text,
)
from sqlalchemy.engine import Connection, Dialect, Engine, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, DBAPICursor
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from pricing import config
from pricing.errors import (
    SchemaError,
    StoreBusy,
    StoreError,
)
from pricing.money import from_micros, to_micros
from pricing.storage.urls import display_url, resolve_url

SCHEMA_REVISION = "0017"
MEMORY_URL = "sqlite://"  # an SQLite database in memory: a dry run's when nothing is stored yet
LOCK_NOT_AVAILABLE = "55P03"  # PostgreSQL: lock_timeout ran out (SQLSTATE lock_not_available)
NOT_PERMITTED = "42501"  # PostgreSQL: insufficient_privilege (no CREATE, no SELECT, ...)
PRIVATE = 0o600  # a new SQLite file (and so its -wal and -shm): its owner reads and writes it


def bulk_insert(
    conn: Connection,
    table: Table,
    rows: Sequence[tuple[Any, ...]],
    *,
    columns: Sequence[str] | None = None,
) -> None:
    """Insert many rows in table column order, through the driver's executemany.

    Values must already be in storage form (Amounts as micros, dates as ISO text): this skips
    SQLAlchemy's per-row processing, which dominates a 100,000-row import.
    """
    style = conn.dialect.paramstyle
    marker = {"qmark": "?", "numeric": ":{}", "named": ":p{}"}.get(style, "%s")
    names = list(columns) if columns else [col.name for col in table.columns]
    placeholders = ", ".join(marker.format(i + 1) for i in range(len(names)))
    statement = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({placeholders})"
    for start in range(0, len(rows), 50_000):
        conn.exec_driver_sql(statement, rows[start : start + 50_000])


class Timestamp(TypeDecorator[datetime]):
    """A point in time, always read back as an aware UTC datetime (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class Amount(TypeDecorator[Decimal]):
    """An exact decimal (up to 6 places) stored as an integer count of millionths."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        return to_micros(value)

    def process_result_value(self, value: int | None, dialect: Dialect) -> Decimal | None:
        return from_micros(value)


metadata: MetaData = MetaData()

editions = Table(
    "editions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("effective_from", Date, nullable=False),
    Column("source", Text, nullable=False),
    Column("imported_at", Timestamp, nullable=False),
    Column("imported_by", String(200), nullable=False),
    Column("item_count", Integer, nullable=False),
    Column("source_sha256", String(64), nullable=False),
)

price_items = Table(
    "price_items",
    metadata,
    Column("edition_id", Integer, ForeignKey("editions.id"), primary_key=True),
    Column("sku_key", String(200), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("sku", String(200), nullable=False),
    Column("name", Text),
    Column("family", String(200)),
    Column("list_price", Amount, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("unit_cost", Amount),
    Column("floor_price", Amount),
    Column("status", String(100)),
)

price_tiers = Table(
    "price_tiers",
    metadata,
    Column("edition_id", Integer, ForeignKey("editions.id"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("sku", String(200)),
    Column("family", String(200)),
    Column("min_qty", Integer, nullable=False),
    Column("price", Amount),
    Column("discount_pct", Amount),
)


policies = Table(
    "policies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("effective_from", Date, nullable=False),
    Column("loaded_at", Timestamp, nullable=False),
    Column("loaded_by", String(200), nullable=False),
    Column("source", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("body", Text, nullable=False),
)

requests = Table(
    "requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("customer", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("rep", String(200), nullable=False),
    Column("status", String(20), nullable=False),
    Column("level", String(100)),
    Column("currency", String(3), nullable=False),
    Column("policy_version", Integer, ForeignKey("policies.id"), nullable=False),
    Column("edition_id", Integer, ForeignKey("editions.id"), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("decided_at", Timestamp),
    Column("decided_by", String(200)),
    Column("expires_at", Timestamp),
    Index("ix_requests_status", "status"),
    Index("ix_requests_rep", "rep"),
)

request_lines = Table(
    "request_lines",
    metadata,
    Column("request_id", Integer, ForeignKey("requests.id"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(200), nullable=False),
    Column("family", String(200)),
    Column("qty", Integer, nullable=False),
    Column("list_price", Amount, nullable=False),
    Column("standard_price", Amount, nullable=False),
    Column("price", Amount, nullable=False),
    Column("discount_pct", Amount, nullable=False),
    Column("unit_cost", Amount),
    Column("hard_floor", Amount),
    Column("decision", String(20), nullable=False),
    Column("level", String(100)),
    Column("reasons", Text, nullable=False),
)

request_events = Table(
    "request_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("requests.id"), nullable=False),
    Column("at", Timestamp, nullable=False),
    Column("by", String(200), nullable=False),
    Column("action", String(30), nullable=False),
    Column("note", Text),
    Index("ix_request_events_request", "request_id"),
)

# The people of a team: who may sign in (a token, stored only as a hash keyed with a key derived
# from the server's secret: pricing.access.people) and in which role. While nobody is
# registered, the store trusts the named user and the policy's person list.
people = Table(
    "people",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("name_key", String(200), nullable=False, unique=True),  # casefolded name
    Column("role", String(100), nullable=False),
    Column("email", Text),
    Column("token_hash", String(64), unique=True),
    Column("created_at", Timestamp, nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("removed_at", Timestamp),
    # Registered again after a removal: requests under this name up to this number are the
    # earlier person's, never this one's (NULL: registered once).
    Column("since_request", Integer),
)

# The audit: one chain over every change (pricing.storage.audit). Each entry records the digest
# of its subject's stored content after the change, and an HMAC (keyed with a secret that is
# never in the database) over the entry and the previous entry's MAC.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Timestamp, nullable=False),
    Column("by", String(200), nullable=False),
    Column("action", String(40), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("note", Text),
    Column("key_id", String(16), nullable=False),
    Column("mac", String(64), nullable=False),
    Index("ix_audit_log_subject", "subject"),
)

# The audit's own state (since 0012): ``store`` = the store's random id (the chain's first
# entry is keyed over it; the witness names heads by it); ``baseline`` = ``pending`` while a
# store upgraded from before the keyed audit holds things no entry recorded yet.
audit_state = Table(
    "audit_state",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("value", Text, nullable=False),
)


deal_imports = Table(
    "deal_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("imported_at", Timestamp, nullable=False),
    Column("imported_by", String(200), nullable=False),
    Column("lines", Integer, nullable=False),
    Column("added", Integer, nullable=False),
    # Since 0008 (null before): the file's SHA-256, the mapping (field -> header, JSON) and date
    # format it was read with, its lines' dates, and the keys of the lines it held that were
    # stored already (an Arrow blob; kept for it when the import that stored them is undone).
    Column("sha256", String(64)),
    Column("columns", Text),
    Column("date_format", String(100)),
    Column("decimal", String(10)),  # the decimal mark money was read with, when given
    Column("first_date", Date),
    Column("last_date", Date),
    Column("held_keys", LargeBinary),
    # Since 0009 (null before, and for a file without a status column): which statuses were
    # kept ("default", "all", "only:…") and the lines left out by status (JSON status -> lines).
    Column("status_filter", Text),
    Column("skipped_by_status", Text),
    Index("ix_deal_imports_sha256", "sha256"),
)

deal_segments = Table(
    "deal_segments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("import_id", Integer, ForeignKey("deal_imports.id")),
    Column("lines", Integer, nullable=False),
    Column("first_date", Date, nullable=False),
    Column("last_date", Date, nullable=False),
    Index("ix_deal_segments_last_date", "last_date"),
)

deal_columns = Table(
    "deal_columns",
    metadata,
    Column("segment_id", Integer, ForeignKey("deal_segments.id"), primary_key=True),
    Column("name", String(40), primary_key=True),
    # One column of the segment's lines: a zstd-compressed Arrow IPC stream (pricing.lines.segments).
    # It ends with the stream's SHA-256, checked whenever it is read (since issue 17).
    Column("data", LargeBinary, nullable=False),
    # Since 0011 (deal seals): its seal, an HMAC binding it to its import, segment, column, lines and bytes
    # with a key derived from the server's secret (pricing.storage.seals): "key id:hex".
    Column("seal", String(80)),
)

deal_manifests = Table(
    "deal_manifests",
    metadata,
    # Since 0011: each import's layout (0: lines stored before imports were recorded): its
    # segments, their lines and columns, as JSON, and its seal (pricing.storage.seals).
    Column("import_id", Integer, primary_key=True, autoincrement=False),
    Column("body", Text, nullable=False),
    Column("seal", String(80), nullable=False),
)


edition_columns = Table(
    "edition_columns",
    metadata,
    Column("edition_id", Integer, ForeignKey("editions.id"), primary_key=True),
    # The edition's items for matching deal lines: a compressed Arrow IPC stream (its columns
    # those of pricing.lines.matching's item lookups), written the first time it is needed.
    Column("data", LargeBinary, nullable=False),
)


def advisory_lock(conn: Connection, key: int) -> None:
    """On PostgreSQL, queue up behind the transactions holding lock ``key`` in this store's
    schema (advisory locks are database-wide: the schema keeps stores in separate schemas of
    one database, e.g. tests, out of each other's way). SQLite's BEGIN IMMEDIATE does this."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key, hashtext(current_schema()))"),
                     {"key": key})  # fmt: skip


_AFTER_COMMIT = "pricing.store.after_commit"


def after_commit(conn: Connection, run: Callable[[], None]) -> bool:
    """Run ``run`` once the write transaction of ``conn`` (:meth:`Store.write`) has committed,
    never when it rolls back. False when ``conn`` is no such transaction (nothing will run)."""
    waiting = conn.info.get(_AFTER_COMMIT)
    if waiting is None:
        return False
    waiting.append(run)
    return True


def utcnow() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class Store:
    """An open database at the current schema revision; connections come from here."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Writers of one process (the server's threads) queue here, in turn, rather than in
        # SQLite's busy handler, whose growing sleeps let a waiting writer lose to newer ones
        # again and again (16 clients: p95 0.9 s). PostgreSQL queues them itself.
        self._writers = threading.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def open(cls, url: str | None = None, *, upgrade: bool = True, create: bool = True) -> Store:
        """Connect and bring the schema to this version (migrations run on first use).

        ``create=False`` is for commands that only read or act on what is stored: a missing
        SQLite file is then a mistake (a wrong folder or --db) to say, not a database to create.
        """
        store = cls.connect(url, create=create)
        try:
            store.ensure_schema(upgrade=upgrade)
        except (OperationalError, StoreError):
            store.close()
            raise
        return store

    @classmethod
    def for_dry_run(cls, url: str | None = None) -> Store:
        """The database at ``url`` for an operation that changes nothing (a dry run, a check):
        the stored one; when nothing is stored there yet (no SQLite file, or a database without
        pricing's tables), an empty one in memory, so that trying a file creates no database
        and answers exactly as on a new one."""
        resolved = resolve_url(url)
        file = _sqlite_file(resolved)
        if file is not None and (not file.exists() or file.stat().st_size == 0):
            return cls.open(MEMORY_URL)  # (an empty file too: opening it would write to it)
        store = cls.connect(resolved, create=False)
        try:
            with store.engine.connect() as conn:
                empty = _revision(conn, store.url) is None and not _has_tables(conn)
            if empty:
                store.close()
                return cls.open(MEMORY_URL)
            store.ensure_schema()
        except (OperationalError, StoreError):
            store.close()
            raise
        return store

    @classmethod
    def connect(cls, url: str | None = None, *, create: bool = True) -> Store:
        """Connect without touching the schema (for ``pricing db status``)."""
        resolved = resolve_url(url)
        if not create:
            _must_exist(resolved)
        engine = _make_engine(resolved)
        if create:
            _create_private(_sqlite_file(resolved))
        store = cls(engine)
        try:
            with store.engine.connect():
                pass
        except (OperationalError, DBAPIError) as exc:
            store.close()
            raise StoreError(
                f"cannot open the database {display_url(resolved)}: {_reason(exc)}"
            ) from None
        return store

    @property
    def url(self) -> str:
        return display_url(str(self.engine.url.render_as_string(hide_password=False)))

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading: one consistent snapshot."""
        with _translate_errors(self), self.engine.connect() as conn, conn.begin():
            yield conn  # (a database that is down is a StoreError from connect() too)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits everything or nothing; on SQLite it takes the write lock
        at once (BEGIN IMMEDIATE) so concurrent writers queue instead of failing."""
        if self._writers is not None:
            if not self._writers.acquire(timeout=lock_timeout()):
                raise StoreBusy(f"database {self.url}: {_reason_locked()}")
            try:
                with self._transaction() as conn:
                    yield conn
            finally:
                self._writers.release()
            return
        with self._transaction() as conn:
            yield conn

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        done: list[Callable[[], None]] = []
        with (
            _translate_errors(self),
            self.engine.connect().execution_options(immediate=True) as conn,
        ):
            conn.info[_AFTER_COMMIT] = done
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info.pop(_AFTER_COMMIT, None)
        for run in done:  # committed
            run()

    def compact(self) -> None:
        """Give the pages of dropped tables back to the file system (an SQLite file keeps them
        for reuse; PostgreSQL's autovacuum does this by itself)."""
        if self.engine.dialect.name != "sqlite":
            return
        raw = self.engine.raw_connection()
        try:
            raw.driver_connection.execute("VACUUM")  # type: ignore[union-attr]
        finally:
            raw.close()

    def schema_revision(self) -> str | None:
        with self.engine.connect() as conn:
            return _revision(conn, self.url)

    def ensure_schema(self, upgrade: bool = True) -> None:
        """Bring the schema to this version's revision; refuse a database from a newer version,
        one whose recorded revision was edited by hand, and say what a login that may not
        create tables should ask for. A failed upgrade changes nothing (one transaction)."""
        with self.engine.connect() as conn:
            revision = _revision(conn, self.url)
        if revision == SCHEMA_REVISION:
            return
        from pricing.storage.migrations import create_at_head, known_revisions, upgrade_to_head

        if revision is not None and revision not in known_revisions():
            raise _unknown_revision(self.url, revision)
        if not upgrade:
            raise StoreError(f"the database {self.url} needs `pricing db upgrade`")
        with self.write() as conn:
            if conn.dialect.name == "postgresql":
                # Concurrent first uses queue here; SQLite's BEGIN IMMEDIATE does the same.
                advisory_lock(conn, 7201558)
            current = _revision(conn, self.url)
            if current is None and _has_tables(conn):  # (seen under the lock: no race)
                raise StoreError(
                    f"the database {self.url} holds pricing's tables but no schema revision: "
                    "its alembic_version table was emptied or dropped by hand; nothing was "
                    "changed. Restore the database from a backup, or (the administrator) put "
                    "back the revision its tables are at"
                )
            if current != SCHEMA_REVISION:
                try:
                    if current is None and _made_at_once(conn):
                        create_at_head(conn)  # a new database: its tables at once
                    else:
                        upgrade_to_head(conn)
                except DBAPIError as exc:
                    raise _upgrade_failed(self.url, current, exc) from None


def _unknown_revision(url: str, revision: str) -> SchemaError:
    """A revision this version does not know: a newer pricing's (``0010``), or an edit."""
    if revision.isdigit() and len(revision) == len(SCHEMA_REVISION) and revision > SCHEMA_REVISION:
        return SchemaError(
            f"the database {url} is at schema revision {revision}, written by a newer "
            "version of pricing; upgrade pricing before using it (nothing was changed)"
        )
    return SchemaError(
        f"the database {url} says it is at schema revision {revision!r}, which no version of "
        f"pricing wrote: its alembic_version table was edited by hand; nothing was changed. "
        f"Restore the database from a backup, or (the administrator) put back the revision its "
        f"tables are at (this version's is {SCHEMA_REVISION})"
    )


def _upgrade_failed(url: str, revision: str | None, exc: DBAPIError) -> StoreError:
    if _not_permitted(exc):
        refusal = str(exc.orig).strip().splitlines()[0]
        return StoreError(
            f"the database {url} needs its tables created or upgraded, and this login may not "
            f"({refusal}); nothing was changed. Ask the administrator to run `pricing db upgrade` "
            "with a login that owns the database's schema, then run this again"
        )
    reason = _reason(exc)
    return StoreError(
        f"upgrading the schema of {url} from {revision or '(empty)'} to {SCHEMA_REVISION} "
        f"failed ({reason}); nothing was changed. If its alembic_version table was edited by "
        "hand, restore the database from a backup, or (the administrator) put back the "
        "revision its tables are at"
    )


def _has_tables(conn: Connection) -> bool:
    """Whether pricing's tables are there (its first table, since revision 0001)."""
    from sqlalchemy import inspect

    return inspect(conn).has_table(editions.name)


def _made_at_once(conn: Connection) -> bool:
    """Whether a database without a revision gets its schema at once
    (:func:`~pricing.storage.migrations.create_at_head`): one holding no table at all (a new
    SQLite file, a new PostgreSQL database or schema, memory); one holding anything is
    brought up by the migrations."""
    from sqlalchemy import inspect

    return not inspect(conn).get_table_names()


def _revision(conn: Connection, url: str) -> str | None:
    try:
        with conn.begin_nested() if conn.in_transaction() else conn.begin():
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except (OperationalError, DBAPIError) as exc:
        message = str(exc.orig).lower()
        if "no such table" in message or "does not exist" in message:
            return None
        if _not_permitted(exc):
            raise StoreError(f"database {url}: {_reason(exc)}") from None
        raise


def _sqlite_file(url: str) -> Path | None:
    """The file of an SQLite URL (None for other databases and in-memory ones)."""
    if not url.startswith("sqlite"):
        return None
    database = make_url(url).database
    return Path(database).expanduser() if database and database != ":memory:" else None


def _must_exist(url: str) -> None:
    file = _sqlite_file(url)
    if file is not None and not file.exists():
        raise StoreError(
            f"no database at {file.resolve()}: nothing is stored there yet. "
            "Run this in the folder of your pricing.db, point --db or PRICING_DATABASE_URL at it, "
            "or start one with `pricing pricebook import FILE`"
        )


def _create_private(file: Path | None) -> None:
    """Make a new SQLite file readable and writable by its owner only, whatever the umask:
    SQLite then gives its -wal and -shm files the same mode. An existing file keeps the mode
    its owner chose (``pricing db check`` warns when everyone may read it)."""
    if file is None:
        return
    try:
        made = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        return
    except OSError as exc:
        raise StoreError(f"cannot create the database {file}: {exc.strerror}") from None
    try:
        if hasattr(os, "fchmod"):  # (not on Windows, where the mode bits mean nothing)
            os.fchmod(made, PRIVATE)  # a umask such as 0277 took more than others' bits
    finally:
        os.close(made)


def world_readable(url: str) -> Path | None:
    """The SQLite file of ``url`` when every local user may read it (None: not, or not an
    SQLite file)."""
    import stat

    file = _sqlite_file(url)
    if file is None or not file.exists():
        return None
    return file.resolve() if file.stat().st_mode & stat.S_IROTH else None


def lock_timeout() -> float:
    """Seconds to wait for another writer (PRICING_LOCK_TIMEOUT, default 30) before giving up."""
    raw = config.lock_timeout()
    try:
        seconds = float(raw) if raw else 30.0
    except ValueError:
        raise StoreError(f"PRICING_LOCK_TIMEOUT={raw!r}: give a number of seconds") from None
    return max(seconds, 0.0)


def _write_ahead(cursor: DBAPICursor, timeout: float) -> None:
    """Put an SQLite file in write-ahead mode. Switching a new file takes a lock that SQLite's
    busy handler does not wait for: a process opening the file while another switches it, or
    makes its first tables, was refused "database is locked" (1 in a few hundred of
    tests/test_store.py's eight processes at once on a busy machine); it waits here instead,
    as long as for any other lock."""
    import sqlite3
    import time

    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.1)


def _make_engine(url: str) -> Engine:
    from sqlalchemy import create_engine

    if url.startswith("sqlite"):
        file = _sqlite_file(url)
        if file is not None and not file.resolve().parent.is_dir():
            raise StoreError(
                f"cannot create the database {make_url(url).database}: "
                f"no folder {file.resolve().parent}"
            )
        timeout = lock_timeout()
        if make_url(url).database in (None, "", ":memory:"):
            # One connection for every thread: each new connection to memory is another database.
            from sqlalchemy.pool import StaticPool

            engine = create_engine(
                url,
                connect_args={"timeout": timeout, "check_same_thread": False},
                poolclass=StaticPool,
            )
        else:
            engine = create_engine(url, connect_args={"timeout": timeout})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA cache_size = -65536")  # 64 MB: bulk imports touch big indexes
            # A new file only (an existing one keeps its size): the deal history is blobs of
            # hundreds of KB, and big pages store them with a fraction of the page bookkeeping
            # (90 MB: 0.27 -> 0.19 s, insert and commit).
            cursor.execute("PRAGMA page_size = 65536")
            try:
                _write_ahead(cursor, timeout)
                cursor.execute("PRAGMA synchronous = NORMAL")
            finally:
                cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            immediate = conn.get_execution_options().get("immediate")
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine
    try:
        engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise StoreError(f"cannot use the database URL {display_url(url)}: {exc}") from None
    if engine.dialect.name == "postgresql":
        # A statement waits for a lock (a row, a table, an advisory lock: the queues of writers)
        # no longer than PRICING_LOCK_TIMEOUT, as on SQLite; 0 would mean "for ever" here.
        wait_ms = max(int(lock_timeout() * 1000), 1)

        @event.listens_for(engine, "connect")
        def _on_pg_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
            cursor = dbapi_connection.cursor()
            try:
                cursor.execute(f"SET lock_timeout = {wait_ms}")
            finally:
                cursor.close()
            dbapi_connection.commit()  # a session setting, kept by every later transaction

    return engine


@contextmanager
def _translate_errors(store: Store) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        error = StoreBusy if _locked(exc) else StoreError
        raise error(f"database {store.url}: {_reason(exc)}") from None
    except DBAPIError as exc:
        if not _not_permitted(exc):
            raise
        raise StoreError(f"database {store.url}: {_reason(exc)}") from None


def _locked(exc: DBAPIError) -> bool:
    """The statement waited for a lock longer than allowed (PostgreSQL's lock_timeout, SQLite's
    busy timeout)."""
    if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
        return True
    return "database is locked" in str(exc.orig)


def _not_permitted(exc: DBAPIError) -> bool:
    """PostgreSQL refused the login a privilege (to create, read or change a table)."""
    return getattr(exc.orig, "sqlstate", None) == NOT_PERMITTED


def _reason(exc: DBAPIError) -> str:
    message = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
    if getattr(exc.orig, "sqlstate", None) == LOCK_NOT_AVAILABLE:
        message = f"database is locked ({message})"
    if _not_permitted(exc):
        return (
            f"{message}: this login may not use these tables; nothing was changed. Ask the "
            "administrator to grant it access (or to run `pricing db upgrade` if the schema is new)"
        )
    if "locked" in message:
        return _reason_locked(message)
    if "readonly" in message or "read-only" in message:
        return (
            f"{message}: the file or its folder is read-only for you; nothing was changed. "
            "Ask for write access, or use a copy you may write"
        )
    if "disk is full" in message or "disk I/O error" in message or "No space" in message:
        return (
            f"{message}: the disk may be full or failing; nothing was changed. Free some space "
            "and run the command again"
        )
    if "unable to open" in message:
        return f"{message}: check that the file and its folder exist and that you may read them"
    return message


def _reason_locked(message: str = "database is locked") -> str:
    return (
        f"{message}: another program is writing to it and did not finish within "
        f"{lock_timeout():g} s; nothing was changed. Try again (PRICING_LOCK_TIMEOUT sets the wait)"
    )


# The team server's own tables (passwords, web sessions, the mail outbox): in a module of their
# own, registered with the metadata above when this one is loaded.
from pricing.storage.fx_tables import fx_imports as fx_imports  # noqa: E402
from pricing.storage.fx_tables import fx_series as fx_series  # noqa: E402
from pricing.storage.team_tables import approval_reuses as approval_reuses  # noqa: E402
from pricing.storage.team_tables import contract_terms as contract_terms  # noqa: E402
from pricing.storage.team_tables import mail_outbox as mail_outbox  # noqa: E402
from pricing.storage.team_tables import passwords as passwords  # noqa: E402
from pricing.storage.team_tables import web_sessions as web_sessions  # noqa: E402
