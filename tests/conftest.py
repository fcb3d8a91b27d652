"""Fixtures: a fresh database per test, a CLI runner bound to it, workbooks built inline."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import uuid
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pricing.cli import main
from pricing.storage.store import Store

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SAMPLE_DATA = Path(__file__).resolve().parents[1] / "sample_data"


# The modules that take longest (their tests' seconds on two cores, longest first, measured with
# --durations=0). `make test` gives each module to one worker (--dist loadfile: a module's
# fixtures are made once) and hands them out in this order, the rest after them as collected,
# so that no worker is left alone with a long module at the end. (test_rotation, whose tests
# each make two databases and start a server, and the two report modules were left to the end
# as collected; test_identity's clients now run in the test's process.)
LONGEST_FIRST = (
    "test_server.py", "test_junk_files.py", "test_faults.py", "test_cli_deals_imports.py",
    "test_rotation.py", "test_deal_seals.py", "test_cli_requests.py", "test_server_edges.py",
    "test_hostile_files.py", "test_fuzz_report.py", "test_db_check.py", "test_terminal_text.py",
    "test_cli_deals_report.py", "test_hostile_deals.py", "test_bounds_memory.py",
    "test_refuse_before_reading.py", "test_report_figures.py", "test_identity.py",
    "test_fuzz_policy.py", "test_engine.py", "test_team_mode.py", "test_store.py",
    "test_real_data.py", "test_demo.py",
)  # fmt: skip


def pytest_sessionstart(session: pytest.Session) -> None:
    """The test PostgreSQL's catalogs compacted, once, before the workers start (its
    autovacuum is off: each run's thousand schemas made and dropped leave their catalog rows
    dead, and a day of runs left pg_class at 92 MB, each catalog lookup scanning it; 128 kB
    compacted). Nothing when PostgreSQL is not there."""
    if hasattr(session.config, "workerinput"):
        return  # (a worker: the controller did it)
    import psycopg

    try:
        with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as admin:
            admin.execute("VACUUM FULL pg_class, pg_attribute, pg_type, pg_depend, pg_index, "
                          "pg_constraint, pg_trigger, pg_sequence, pg_attrdef, pg_namespace")  # fmt: skip
    except psycopg.Error:
        pass  # (not reachable, or not its owner: the tests say so, or run as they are)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest modules first (each module's own order kept)."""
    rank = {name: number for number, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(autouse=True, scope="session")
def _own_configuration(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The tests share a configuration folder of their own (the audit's secret: stores made by
    module-wide fixtures verify in every test), never the developer's, and no server, token or
    configuration file from the developer's environment."""
    from pricing import config

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.mktemp("config")))
        # Every connection to the test PostgreSQL, the servers' and the commands' included.
        patch.setenv("PGOPTIONS", " ".join(filter(None, [os.environ.get("PGOPTIONS"), FAST])))
        for name in (config.CONFIG, config.SECRET, config.SERVER, config.TOKEN):
            patch.delenv(name, raising=False)
        config.settings.cache_clear()
        config.audit_keys.cache_clear()
        yield
    config.settings.cache_clear()
    config.audit_keys.cache_clear()


@pytest.fixture(autouse=True, scope="session")
def _one_tls_context() -> Iterator[None]:
    """Each httpx client the tests make (``httpx.get`` in a loop waiting for a server, say)
    would load the certificate authorities again, 22 ms a time and 15 s of the suite's
    processor time, for servers spoken to over plain http: the tests' clients share one
    context per kind (the product's client makes its own, once a command)."""
    import functools

    from httpx._transports import default

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(default, "create_ssl_context", functools.cache(default.create_ssl_context))
        yield


@pytest.fixture(autouse=True, scope="session")
def _pricing_forked() -> Iterator[None]:
    """``python -m pricing`` started by a test is forked from this worker's zygote, which has
    imported the package once (tests/forking.py: most of each process's time was imports)."""
    from tests import forking

    forking.install()
    yield
    forking.uninstall()


@pytest.fixture(autouse=True)
def _fresh_configuration() -> Iterator[None]:
    """A test that changes the configuration (a secret, a file) leaves none of it cached."""
    from pricing import config

    yield
    config.settings.cache_clear()
    config.audit_keys.cache_clear()


@dataclass
class Cli:
    """Runs ``pricing`` against one database as a given user, like a person at a terminal."""

    db_url: str
    user: str = "mia"
    _stores: list[Store] = field(default_factory=list)

    def __call__(self, *args: str, user: str | None = None) -> Result:
        runner = CliRunner()
        return runner.invoke(
            main, ["--db", self.db_url, "--user", user or self.user, *args], catch_exceptions=False
        )

    def json(self, *args: str, expect: int = 0, user: str | None = None) -> Any:
        result = self(*args, "--json", user=user)
        assert result.exit_code == expect, result.output
        return json.loads(result.stdout)

    def store(self) -> Store:
        """The store, as a test looks at it after the commands ran (closed at teardown)."""
        store = Store.open(self.db_url)
        self._stores.append(store)
        return store

    def close(self) -> None:
        for store in self._stores:
            store.close()


POSTGRES_URL = os.environ.get("PRICING_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
# A commit to the test PostgreSQL does not wait for the disk: what a commit makes visible, and
# when, is the same; only a crash of the machine could lose it, and the tests' stores are thrown
# away. It is most of a test's time there otherwise (a flush of the log per commit).
FAST = "-c synchronous_commit=off"


def postgres_admin() -> Any:
    """A connection to the test PostgreSQL, or a skip (a failure in CI) saying why there is none."""
    import psycopg

    try:
        return psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except Exception as exc:
        if os.environ.get("CI"):
            pytest.fail(
                f"PostgreSQL is expected in CI at {POSTGRES_URL} but is not reachable: {exc}"
            )
        pytest.skip(
            f"PostgreSQL not reachable at {POSTGRES_URL} (set PRICING_TEST_POSTGRES): {exc}"
        )


@contextmanager
def postgres_database() -> Iterator[str]:
    """The URL of a database of its own in the test PostgreSQL, dropped afterwards. Advisory
    locks are per database: a store here never waits on another test's locks (a schema of
    ``postgres_url`` shares them with every other schema of the test database)."""
    admin = postgres_admin()
    name = f"pricing_t_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def schema_url(schema: str) -> str:
    """The URL of the schema ``schema`` of the test PostgreSQL database."""
    # (the URL's options replace PGOPTIONS: the setting again, before the schema)
    return f"{POSTGRES_URL}?options=-csynchronous_commit%3Doff%20-csearch_path%3D{schema}"


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of an isolated schema in the test PostgreSQL database, dropped afterwards."""
    admin = postgres_admin()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield schema_url(schema)
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


@pytest.fixture
def empty_postgres_url() -> Iterator[str]:
    """An isolated schema of the test PostgreSQL database holding nothing (pricing's first
    command makes its tables there), dropped afterwards."""
    with postgres_schema() as url:
        yield url


@pytest.fixture(scope="session")
def _schemas() -> Iterator[SchemaPool]:
    pool = SchemaPool()
    yield pool
    pool.close()


@pytest.fixture
def postgres_url(_schemas: SchemaPool) -> Iterator[str]:
    """A new store, as the first command would have made it, in an isolated schema of the test
    PostgreSQL database (its own name and store id), given back afterwards."""
    schema = _schemas.take()
    try:
        yield schema_url(schema)
    finally:
        _schemas.give_back(schema)


@pytest.fixture(scope="session")
def _new_store_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new store's SQLite file, as the first command makes it (its migrations, run once in
    this worker instead of in each test: 50 ms a test)."""
    made = tmp_path_factory.mktemp("new-store") / "pricing.db"
    Store.open(f"sqlite:///{made}").close()
    return made


def copy_database(source: Path, into: Path) -> None:
    """``into`` a copy of the SQLite database ``source``, no longer open (its log written
    back), its mode kept (the owner's only, as made): the file's bytes (a new store's 2.8 MB
    through SQLite's backup took 9 ms, copied 1); through SQLite when a log is left beside it."""
    wal = source.with_name(source.name + "-wal")
    if wal.exists() and wal.stat().st_size:
        with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(into)) as copy:
            original.backup(copy)
    else:
        shutil.copyfile(source, into)
    shutil.copymode(source, into)


def new_store(made: Path, into: Path) -> str:
    """The URL of ``into``, a copy of the new store ``made`` with a random id of its own (what
    the first command would have made there; the commands that make a store are tried on files
    of their own)."""
    import secrets

    copy_database(made, into)
    with closing(sqlite3.connect(into)) as copy, copy:
        copy.execute("UPDATE audit_state SET value = ? WHERE name = 'store'",
                     [secrets.token_hex(16)])  # fmt: skip
    return f"sqlite:///{into}"


@pytest.fixture
def sqlite_url(_new_store_file: Path, tmp_path: Path) -> str:
    """A new store in an SQLite file of the test's own."""
    return new_store(_new_store_file, tmp_path / "pricing.db")


@pytest.fixture
def no_store_url(tmp_path: Path) -> str:
    """The URL of an SQLite file that is not there yet (the first command that stores makes it)."""
    return f"sqlite:///{tmp_path / 'pricing.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every store test runs on the embedded SQLite file and on PostgreSQL (team mode), each a
    new store."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def cli(db_url: str) -> Iterator[Cli]:
    runner = Cli(db_url)
    yield runner
    runner.close()


BookRows = Sequence[Sequence[Any]]


@dataclass(frozen=True)
class Snapshot:
    """Everything an SQLite database holds: its pages as a reader sees them (the log's
    included), compared byte for byte (a digest of a new store's 2.8 MB took 2.3 ms, the
    comparison takes 0.2; the junk-file properties take thousands), shown by a digest."""

    pages: bytes

    def __repr__(self) -> str:
        digest = hashlib.sha256(self.pages).hexdigest()[:16]
        return f"Snapshot(sha256 {digest}..., {len(self.pages)} bytes)"


def sqlite_snapshot(db: Path) -> Snapshot:
    """What a committed transaction changes of ``db`` (not its dump's text: 2 ms a call)."""
    with closing(sqlite3.connect(db)) as conn:
        return Snapshot(conn.serialize())


def write_workbook(path: Path, sheets: dict[str, BookRows]) -> Path:
    """An xlsx with the given sheets, rows written as given (None is an empty cell)."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets.items():
        sheet = workbook.create_sheet(name)
        for row in rows:
            sheet.append(list(row))
    workbook.save(path)
    return path


def cache_formula_values(path: Path, values: dict[str, str]) -> None:
    """Give formula cells a cached value, as Excel does on save (openpyxl cannot)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    xml = members["xl/worksheets/sheet1.xml"].decode()
    for ref, value in values.items():
        xml = re.sub(
            rf'(<c r="{ref}"[^>]*>\s*<f>[^<]*</f>)\s*<v\s*/>',
            rf"\1<v>{value}</v>",
            xml,
        )
    members["xl/worksheets/sheet1.xml"] = xml.encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.fixture
def workbook(tmp_path: Path) -> Callable[..., Path]:
    """``workbook(rows, tiers=None, name="book.xlsx", sheet="Price Book")`` -> path."""

    def build(
        rows: BookRows,
        *,
        tiers: BookRows | None = None,
        name: str = "book.xlsx",
        sheet: str = "Price Book",
    ) -> Path:
        sheets: dict[str, BookRows] = {sheet: rows}
        if tiers is not None:
            sheets["Tiers"] = tiers
        return write_workbook(tmp_path / name, sheets)

    return build


def needs_shared_data(name: str) -> Path:
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(
            f"real data file {path} is not here (it lives in ../shared/data beside the repo)"
        )
    return path


@dataclass
class Built:
    """A store built once in this worker: its folder (``pricing.db`` and the files its build
    wrote) and the lines its audit appended to the witness (time, head, store id). On
    PostgreSQL the store is the schema of ``template`` (``pricing.db`` is not there)."""

    folder: Path
    witnessed: list[tuple[str, str, str]]
    template: SchemaTemplate | None = None


def _schema_of(url: str) -> str | None:
    """The schema of a URL made by :func:`postgres_schema`, None for any other."""
    schema = url.removeprefix(schema_url(""))
    return schema if schema != url and re.fullmatch(r"t_[0-9a-f]{12}", schema) else None


def _pg_witness_name(url: str) -> str:
    """How the audit's witness names a PostgreSQL store (``audit_witness.store_key``)."""
    from sqlalchemy.engine import make_url

    from pricing.storage.urls import display_url

    resolved = "postgresql+psycopg://" + url.split("://", 1)[1]
    return display_url(make_url(resolved).render_as_string(hide_password=False))


@dataclass
class SchemaTemplate:
    """A built schema, as each copy of it is made: its tables, constraints and indexes as
    pg_dump writes them (before the rows, and after), its tables and its sequences' values."""

    schema: str
    before: str
    after: str
    tables: list[str]
    sequences: list[tuple[str, int | None]]
    shape: str = ""

    @classmethod
    def of(cls, admin: Any, schema: str) -> SchemaTemplate:
        import subprocess

        dump = subprocess.run(
            ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "-n", schema,
             POSTGRES_URL],
            check=True, capture_output=True, text=True,
        ).stdout  # fmt: skip
        # Each object comes after a comment naming its type: the constraints and indexes are
        # made after the rows are in (pg_dump's post-data: checked once, built once).
        before: list[str] = []
        after: list[str] = []
        into = before
        for line in dump.splitlines():
            named = re.match(r"-- Name: .*; Type: ([A-Z ]+);", line)
            if named:
                post = named[1] in ("CONSTRAINT", "FK CONSTRAINT", "INDEX", "TRIGGER")
                into = after if post else before
            # (not its comments, nor psql's commands: \\restrict)
            if not line.startswith(("--", "\\")) and line != f"CREATE SCHEMA {schema};":
                into.append(line)
        tables = admin.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s ORDER BY tablename", [schema]
        ).fetchall()
        sequences = admin.execute(
            "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = %s", [schema]
        ).fetchall()
        return cls(
            schema, "\n".join(before), "\n".join(after), [t for (t,) in tables], sequences,
            shape_of(admin, schema),
        )  # fmt: skip

    def copy(self, admin: Any, into: str) -> None:
        """Make the schema ``into`` this one: every row, and sequences of its own, each
        where the template's is (the next id the same as a fresh build's). A schema of the
        same shape (a new store's) keeps its tables and only has its rows replaced: 3 ms,
        where making the tables again took 150."""
        if shape_of(admin, into) == self.shape:
            self.refill(admin, into)
            return
        with admin.transaction():
            # (what the test's store held already replaced)
            admin.execute(f'DROP SCHEMA "{into}" CASCADE; CREATE SCHEMA "{into}";')
            admin.execute(self.before.replace(f"{self.schema}.", f"{into}."))
            admin.execute("\n".join(self._rows(into)))
            admin.execute(self.after.replace(f"{self.schema}.", f"{into}."))

    def refill(self, admin: Any, into: str) -> int:
        """Replace the rows of ``into``, a schema of this one's shape, with this one's, and its
        sequences' values; how many rows it held."""
        held = 0
        with admin.transaction():
            for table in self.deletion_order():
                held += admin.execute(f'DELETE FROM "{into}"."{table}"').rowcount
            admin.execute("\n".join(self._rows(into)))
        return held

    def _rows(self, into: str) -> list[str]:
        rows = [f'INSERT INTO "{into}"."{table}" SELECT * FROM "{self.schema}"."{table}";'
                for table in reversed(self.deletion_order())]  # fmt: skip
        values = [f"SELECT setval('\"{into}\".\"{sequence}\"', {int(last)});"
                  if last is not None  # (NULL: never used, nor is the copy's)
                  else f"SELECT setval('\"{into}\".\"{sequence}\"', 1, false);"
                  for sequence, last in self.sequences]  # fmt: skip
        return rows + values

    def deletion_order(self) -> list[str]:
        """The tables, each before those its rows refer to (pricing's, then any other); rows
        are put in the other way round."""
        from pricing.storage.store import metadata

        ordered = [t.name for t in reversed(metadata.sorted_tables) if t.name in self.tables]
        return ordered + [t for t in self.tables if t not in ordered]


def shape_of(admin: Any, schema: str) -> str:
    """A digest of everything a schema is but its rows: its tables, views and sequences with
    their columns, defaults, constraints, indexes, triggers, rules, policies, options and
    privileges, its functions and its own privileges (the schema's name left out). A test that
    changes any of these leaves a schema that is dropped, not used again."""
    (digest,) = admin.execute(
        """
        WITH n AS (SELECT oid, nspname, nspacl FROM pg_namespace WHERE nspname = %(schema)s),
        parts AS (
          SELECT concat_ws(' ', 'schema', n.nspacl) AS part FROM n
          UNION ALL
          SELECT concat_ws(' ', 'class', c.relname, c.relkind, c.relacl, c.relrowsecurity,
                           c.relforcerowsecurity, c.reloptions, c.relpersistence)
          FROM pg_class c JOIN n ON c.relnamespace = n.oid
          UNION ALL
          SELECT concat_ws(' ', 'column', c.relname, a.attname, a.attnum,
                           format_type(a.atttypid, a.atttypmod), a.attnotnull,
                           pg_get_expr(d.adbin, d.adrelid), a.attacl)
          FROM pg_attribute a JOIN pg_class c ON a.attrelid = c.oid JOIN n ON c.relnamespace = n.oid
          LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attnum > 0 AND NOT a.attisdropped
          UNION ALL
          SELECT concat_ws(' ', 'constraint', c.relname, k.conname, pg_get_constraintdef(k.oid),
                           k.convalidated)
          FROM pg_constraint k JOIN pg_class c ON k.conrelid = c.oid JOIN n ON c.relnamespace = n.oid
          UNION ALL
          SELECT concat_ws(' ', 'index', pg_get_indexdef(i.indexrelid), i.indisvalid)
          FROM pg_index i JOIN pg_class c ON i.indrelid = c.oid JOIN n ON c.relnamespace = n.oid
          UNION ALL
          SELECT concat_ws(' ', 'trigger', c.relname, t.tgname, t.tgenabled)
          FROM pg_trigger t JOIN pg_class c ON t.tgrelid = c.oid JOIN n ON c.relnamespace = n.oid
          WHERE NOT t.tgisinternal  -- (a foreign key's, named by its number: the constraint's)
          UNION ALL
          SELECT concat_ws(' ', 'rule', c.relname, r.rulename, r.ev_enabled)
          FROM pg_rewrite r JOIN pg_class c ON r.ev_class = c.oid JOIN n ON c.relnamespace = n.oid
          UNION ALL
          SELECT concat_ws(' ', 'policy', c.relname, p.polname)
          FROM pg_policy p JOIN pg_class c ON p.polrelid = c.oid JOIN n ON c.relnamespace = n.oid
          UNION ALL
          SELECT concat_ws(' ', 'function', p.oid::regprocedure) FROM pg_proc p
          JOIN n ON p.pronamespace = n.oid
          UNION ALL
          SELECT concat_ws(' ', 'sequence', c.relname, q.seqincrement, q.seqmin, q.seqmax,
                           q.seqcycle)
          FROM pg_sequence q JOIN pg_class c ON q.seqrelid = c.oid JOIN n ON c.relnamespace = n.oid
        )
        SELECT md5(coalesce(string_agg(replace(part, %(qualified)s, ''), E'\n' ORDER BY part), ''))
        FROM parts
        """,
        {"schema": schema, "qualified": f"{schema}."},
    ).fetchone()
    return str(digest)


class SchemaPool:
    """This worker's schemas of the test PostgreSQL, each holding a new store. A test's schema
    whose shape it left as it was (:func:`shape_of`) is made a new store again (its rows
    replaced, a store id of its own) under a new name (the audit's witness knows a store by
    its URL), for a later test; one it changed is dropped. Making a store's tables and
    dropping them took 180 ms of PostgreSQL's time a test; replacing the rows, 5."""

    REUSED_ROWS = 5_000  # a schema that held more is dropped (autovacuum is off: dead rows)

    def __init__(self) -> None:
        self._admin: Any = None
        self._new: SchemaTemplate | None = None
        self._free: list[str] = []

    def connection(self) -> Any:
        """This worker's administrator's connection to the test PostgreSQL (autocommit)."""
        if self._admin is None or self._admin.closed:
            self._admin = postgres_admin()
        return self._admin

    def _new_store(self) -> SchemaTemplate:
        if self._new is None:
            admin = self.connection()
            schema = f"t_{uuid.uuid4().hex[:12]}"
            admin.execute(f'CREATE SCHEMA "{schema}"')
            Store.open(schema_url(schema)).close()  # (with the session's configuration)
            self._new = SchemaTemplate.of(admin, schema)
        return self._new

    def take(self) -> str:
        """A schema holding a new store, never used by a test before under its name."""
        import secrets

        template, admin = self._new_store(), self.connection()
        if self._free:
            return self._free.pop()
        schema = f"t_{uuid.uuid4().hex[:12]}"
        admin.execute(f'CREATE SCHEMA "{schema}"')
        template.copy(admin, schema)
        admin.execute(f"UPDATE \"{schema}\".audit_state SET value = %s WHERE name = 'store'",
                      [secrets.token_hex(16)])  # fmt: skip
        return schema

    def give_back(self, schema: str) -> None:
        import psycopg

        admin = self.connection()
        try:
            admin.execute("SET lock_timeout = '10s'")  # (a leaked connection: dropped instead)
            self._renew(admin, schema)
        except psycopg.Error:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        finally:
            admin.execute("RESET lock_timeout")

    def _renew(self, admin: Any, schema: str) -> None:
        import secrets

        template = self._new_store()
        exists = admin.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema]).fetchone()
        if not exists:
            return  # (the test dropped it)
        if shape_of(admin, schema) != template.shape:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
            return
        if template.refill(admin, schema) > self.REUSED_ROWS:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
            return
        renamed = f"t_{uuid.uuid4().hex[:12]}"
        with admin.transaction():
            admin.execute(f"UPDATE \"{schema}\".audit_state SET value = %s WHERE name = 'store'",
                          [secrets.token_hex(16)])  # fmt: skip
            admin.execute(f'ALTER SCHEMA "{schema}" RENAME TO "{renamed}"')
        self._free.append(renamed)

    def close(self) -> None:
        if self._admin is None:
            return
        import psycopg

        try:
            for schema in [*self._free, *([self._new.schema] if self._new else [])]:
                self._admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        except psycopg.Error:
            pass  # (PostgreSQL gone: nothing to drop)
        self._admin.close()


def _witness_name(database: Path) -> str:
    """How the audit's witness names an SQLite store (``audit_witness.store_key``)."""
    return "sqlite:///" + os.path.realpath(database)


@pytest.fixture(scope="session")
def _built_stores() -> Iterator[dict[str, Built]]:
    """The stores built in this worker; their PostgreSQL schemas are dropped at its end."""
    stores: dict[str, Built] = {}
    yield stores
    schemas = [made.template.schema for made in stores.values() if made.template]
    if schemas:
        with closing(postgres_admin()) as admin:
            for schema in schemas:
                admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def built(
    _built_stores: dict[str, Built],
    _schemas: SchemaPool,
    tmp_path_factory: pytest.TempPathFactory,
    tmp_path: Path,
) -> Callable[..., Cli]:
    """``built(name, cli, build, on=None)``: ``cli``'s store after ``build(cli, folder)``, that
    store being the one built as ``on`` (a fixture the test already asked for) or empty.

    The CLI imports are the slow part of many tests: on SQLite a build runs once per worker and
    each test gets a copy of the file, of the files the build wrote (in its ``tmp_path``) and of
    the heads its audit appended to the witness (under the copy's name): what the build would
    have made for the test. On PostgreSQL the build runs once per worker in a schema of its own,
    and each test's schema is made a copy of it (:class:`SchemaTemplate`: its rows, its
    sequences where the build left them, the same heads witnessed under the copy's URL). With a
    witness database the build runs for each test, as before. The build
    runs with the session's own configuration, so the store verifies with the audit secret
    every test sees."""
    from pricing import config

    def copy(made: Built, into: Path, url: str) -> None:
        for source in made.folder.iterdir():
            if not source.name.startswith("pricing.db"):
                (into / source.name).write_bytes(source.read_bytes())
        if made.template is not None:
            schema = _schema_of(url)
            assert schema is not None
            made.template.copy(_schemas.connection(), schema)
            record(made.witnessed, _pg_witness_name(url))
            return
        database = into / "pricing.db"
        for name in ("pricing.db", "pricing.db-wal", "pricing.db-shm"):
            (into / name).unlink(missing_ok=True)  # the copy of ``on``, replaced
        copy_database(made.folder / "pricing.db", database)
        record(made.witnessed, _witness_name(database))

    def record(lines: list[tuple[str, str, str]], name: str) -> None:
        """The heads a build witnessed, witnessed again under the name of its copy."""
        if lines:
            witness = config.witness_file()
            witness.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            with witness.open("a", encoding="utf-8") as out:
                out.writelines(f"{at}\t{head}\t{name}\t{ident}\n" for at, head, ident in lines)
            witness.chmod(0o600)

    def witnessed(name: str) -> list[tuple[str, str, str]]:
        witness = config.witness_file()
        if not witness.exists():
            return []
        fields = [line.rstrip("\n").split("\t") for line in witness.read_text().splitlines()]
        return [(at, head, ident) for at, head, named, ident in fields if named == name]

    def make(name: str, cli: Cli, build: Callable[[Cli, Path], None], on: str | None = None) -> Cli:
        # A witness database of the test's own records only what is built under it.
        schema = _schema_of(cli.db_url)
        if (
            cli.db_url != f"sqlite:///{tmp_path / 'pricing.db'}" and schema is None
        ) or config.witness_url():
            build(cli, tmp_path)
            return cli
        key = f"{name} by {cli.user} on {'postgresql' if schema else 'sqlite'}"
        made = _built_stores.get(key)
        if made is None:
            folder = tmp_path_factory.mktemp(name)
            if schema is None:
                url = f"sqlite:///{folder / 'pricing.db'}"
                if on is not None:
                    copy(_built_stores[f"{on} by {cli.user} on sqlite"], folder, url)
                template = Cli(url, user=cli.user)
                build(template, folder)
                template.close()
                made = Built(folder, witnessed(_witness_name(folder / "pricing.db")))
            else:
                # (a schema of the worker's, dropped with the other built stores at its end)
                url = schema_url(f"t_{uuid.uuid4().hex[:12]}")
                with closing(postgres_admin()) as admin:
                    admin.execute(f'CREATE SCHEMA "{_schema_of(url)}"')
                try:
                    if on is not None:
                        copy(_built_stores[f"{on} by {cli.user} on postgresql"], folder, url)
                    template = Cli(url, user=cli.user)
                    build(template, folder)
                    template.close()
                except BaseException:
                    with closing(postgres_admin()) as admin:
                        admin.execute(f'DROP SCHEMA "{_schema_of(url)}" CASCADE')
                    raise
                built_schema = _schema_of(url)
                assert built_schema is not None
                with closing(postgres_admin()) as admin:
                    shape = SchemaTemplate.of(admin, built_schema)
                made = Built(folder, witnessed(_pg_witness_name(url)), shape)
            _built_stores[key] = made
        copy(made, tmp_path, cli.db_url)
        return cli

    return make


def build_owner(cli: Cli, folder: Path) -> None:
    """Two editions (a price rise in 2026), tiers, and the policy in force since 2025."""
    v1 = write_workbook(folder / "v1.xlsx", {
        "Price Book": [["SKU", "Family", "List Price", "Unit Cost"], ["HW-100", "Hardware", 120, 70],
                       ["SV-1", "Services", 100, 60]],
        "Tiers": [["SKU", "Min Qty", "Price"], ["HW-100", 50, 114]],
    })  # fmt: skip
    v2 = write_workbook(folder / "v2.xlsx", {
        "Price Book": [["SKU", "Family", "List Price", "Unit Cost"], ["HW-100", "Hardware", 130, 70],
                       ["SV-1", "Services", 100, 60]],
    })  # fmt: skip
    assert cli("pricebook", "import", str(v1), "--effective", "2025-01-01").exit_code == 0
    assert cli("pricebook", "import", str(v2), "--effective", "2026-01-01").exit_code == 0
    from tests.test_policy import POLICY

    team = '\n[[person]]\nname = "marco"\nrole = "manager"\n'
    policy = folder / "g.toml"
    policy.write_text(
        POLICY.replace(
            "approval_valid_days = 30", "approval_valid_days = 30\neffective_from = 2025-01-01"
        )
        + team
    )
    assert cli("policy", "load", str(policy)).exit_code == 0


@pytest.fixture
def owner(cli: Cli, built: Callable[..., Cli]) -> Cli:
    """Two editions (a price rise in 2026), tiers, and the policy in force since 2025."""
    return built("owner", cli, build_owner)


def build_sales(cli: Cli, folder: Path) -> None:
    """A price book (HW-100 with a 50+ tier, services with cost, software without) and the policy."""
    book = write_workbook(
        folder / "book.xlsx",
        {
            "Price Book": [
                ["SKU", "Name", "Family", "List Price", "Unit Cost"],
                ["HW-100", "Router", "Hardware", 120, 70],
                ["HW-200", "Switch", "Hardware", 100, 50],
                ["SV-1", "Install day", "Services", 100, 60],
                ["SW-1", "Seat", "Software", 50, None],
            ],
            "Tiers": [["SKU", "Min Qty", "Price"], ["HW-100", 50, 114]],
        },
    )
    assert cli("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    guardrails = folder / "guardrails.toml"
    from tests.test_cli_requests import TEAM
    from tests.test_policy import POLICY

    guardrails.write_text(POLICY + TEAM)
    assert cli("policy", "load", str(guardrails), user="dana").exit_code == 0


@pytest.fixture
def sales(cli: Cli, built: Callable[..., Cli]) -> Cli:
    """A price book (HW-100 with a 50+ tier, services with cost, software without) and the policy."""
    return built("sales", cli, build_sales)


@pytest.fixture(autouse=True, scope="session")
def _cheap_passwords() -> Iterator[None]:
    """Passwords hashed at argon2's cheapest in the tests' own processes (100 ms a hash at the
    product's cost, for every person a test adds); what is checked is the same, and a server
    or command the tests start as a process hashes at the product's cost."""
    from argon2 import PasswordHasher, profiles

    from pricing.access import passwords

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "HASHER", PasswordHasher.from_parameters(profiles.CHEAPEST))
        yield
