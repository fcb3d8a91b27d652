"""Damage is named, not a traceback: `pricing db check`, a damaged store met by a command, a
database URL that cannot be read, a login that may not create tables, an edited schema revision,
and a new SQLite file readable by its owner only (issue 17).

A store is damaged behind the tool's back here the way a failing disk, a bad restore or a slip
in psql would do it: one stored value overwritten with garbage, one byte flipped, a policy's text
edited, a price item deleted. Each time the owner must learn which thing is damaged, which
import (file, when) it belongs to and how to get it back, with exit 2 from the command that met
it and exit 1 from `db check` (a check that failed), never a traceback.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from pricing.cli import main
from pricing.storage.store import Store
from tests.conftest import Cli, postgres_admin
from tests.serving import environment, serving

# Two exports: deal O-2 starts in January's and goes on in February's.
HEADER = "Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price\n"
JANUARY = HEADER + (
    "O-1,2026-01-10,Acme,priya,HW-100,10,118.00\n"
    "O-1,2026-01-10,Acme,priya,SV-1,2,95.00\n"
    "O-2,2026-01-20,Globex,sam,HW-100,5,125.00\n"
)
FEBRUARY = HEADER + (
    "O-2,2026-01-20,Globex,sam,HW-100,5,125.00\n"
    "O-2,2026-01-20,Globex,sam,SV-1,1,99.00\n"
    "O-3,2026-02-03,Initech,priya,SV-1,3,90.00\n"
)


def build_stocked(cli: Cli, folder: Path) -> None:
    """Two deals imports: 1 is january.csv, 2 is february.csv."""
    for name, rows in (("january.csv", JANUARY), ("february.csv", FEBRUARY)):
        (folder / name).write_text(rows)
        assert cli("deals", "import", str(folder / name)).exit_code == 0


@pytest.fixture
def stocked(owner: Cli, built: Callable[..., Cli]) -> Cli:
    """The owner's store with two deals imports: 1 is january.csv, 2 is february.csv."""
    return built("stocked", owner, build_stocked, on="owner")


def damage(cli: Cli, number: int, column: str, how: str = "garbage") -> int:
    """Overwrite one stored column of import ``number``'s first segment: with garbage, or the
    same bytes with one of them flipped. The segment's number."""
    with cli.store().engine.begin() as conn:
        segment = conn.execute(
            text("SELECT min(id) FROM deal_segments WHERE import_id = :n"), {"n": number}
        ).scalar_one()
        where = {"s": segment, "c": column}
        blob = bytes(
            conn.execute(
                text("SELECT data FROM deal_columns WHERE segment_id = :s AND name = :c"), where
            ).scalar_one()
        )
        if how == "garbage":
            changed = b"\x00garbage\xff" * 3
        else:
            middle = len(blob) // 2
            changed = blob[:middle] + bytes([blob[middle] ^ 0x10]) + blob[middle + 1 :]
        conn.execute(
            text("UPDATE deal_columns SET data = :d WHERE segment_id = :s AND name = :c"),
            {**where, "d": changed},
        )
    return int(segment)


def no_traceback(result: Any) -> None:
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception


# db check on a sound store -----------------------------------------------------------------------


def test_db_check__a_sound_store_passes(stocked: Cli) -> None:
    """Given a store with editions, a policy and two deals imports, when the owner runs
    `pricing db check`, then it exits 0, says the store is sound and what it checked."""
    document = stocked.json("db", "check")
    assert document["sound"] is True and document["findings"] == []
    assert document["checked"]["deal_lines"] == 5  # february.csv repeats one of january.csv
    assert document["checked"]["segments"] == 2 and document["checked"]["editions"] == 2
    assert document["checked"]["policies"] == 1
    human = stocked("db", "check")
    assert human.exit_code == 0, human.output
    assert "sound" in human.stdout


# A command that meets a damaged segment --------------------------------------------------------


@pytest.mark.parametrize("how", ["garbage", "flipped"])
def test_a_damaged_deal_value__report_names_its_import_and_the_way_back(
    stocked: Cli, tmp_path: Path, how: str
) -> None:
    """Given february.csv's stored quantities overwritten (garbage, or one byte flipped), when
    the owner reads the report, simulates a policy or a rep asks for a quote, then each exits 2
    naming import 2, its file and when, and how to recover; nothing is printed as a result."""
    damage(stocked, 2, "qty", how)
    from tests.test_policy import POLICY

    proposed = tmp_path / "proposed.toml"
    proposed.write_text(POLICY.replace("rep = 10.0", "rep = 5.0"))
    for command in (
        ["report"],
        ["report", "--by", "rep", "--json"],
        ["policy", "simulate", str(proposed)],
        ["quote", "SV-1", "--qty", "1"],
    ):
        result = stocked(*command)
        assert result.exit_code == 2, (command, result.output)
        no_traceback(result)
        message = result.stderr
        assert "damaged" in message and "deals import 2" in message, (command, message)
        assert "february.csv" in message and "imported" in message, message
        assert "pricing deals undo 2" in message and "backup" in message, message
        assert "pricing db check" in message, message
    # What tells the owner which file it was still works.
    listed = stocked.json("deals", "imports")
    imports = listed if isinstance(listed, list) else next(iter(listed.values()))
    assert [i["source"] for i in imports] == ["january.csv", "february.csv"]


# db check names each damaged thing -----------------------------------------------------------


def test_db_check__names_each_damaged_thing_and_how_to_recover_exit_1(stocked: Cli) -> None:
    """Given a damaged deal segment, a policy whose text was edited and an edition that lost a
    price item, when the owner runs `pricing db check`, then it exits 1 and names each with the
    way to recover; --json carries the same findings."""
    segment = damage(stocked, 2, "customer")
    with stocked.store().engine.begin() as conn:
        conn.execute(text("UPDATE policies SET text = text || '# edited' WHERE id = 1"))
        conn.execute(text("DELETE FROM price_items WHERE edition_id = 1 AND sku = 'SV-1'"))
    result = stocked("db", "check")
    assert result.exit_code == 1, result.output
    no_traceback(result)
    out = result.output
    assert f"segment {segment}" in out and "deals import 2" in out and "february.csv" in out
    assert "pricing deals undo 2" in out and "pricing deals import" in out
    assert "policy version 1" in out and "edition 1" in out and "backup" in out

    document = stocked.json("db", "check", expect=1)
    assert document["sound"] is False
    findings = document["findings"]
    deal = [f for f in findings if f["kind"] == "deal data"]
    assert deal and all(f["import"]["id"] == 2 for f in deal)
    assert deal[0]["import"]["source"] == "february.csv" and deal[0]["segment"] == segment
    assert deal[0]["column"] == "customer" and "pricing deals undo 2" in deal[0]["recover"]
    kinds = {f["kind"] for f in findings}
    assert {"deal data", "policy", "edition"} <= kinds, findings
    assert all(f["what"] and f["problem"] and f["recover"] for f in findings)


def test_db_check__a_flipped_byte_that_still_decodes_is_found(stocked: Cli) -> None:
    """One byte flipped inside a compressed column may still decode, into other numbers: the
    digest recorded when the segment was stored finds it all the same."""
    damage(stocked, 1, "qty", "flipped")
    document = stocked.json("db", "check", expect=1)
    (found,) = [f for f in document["findings"] if f["kind"] == "deal data"]
    assert found["import"]["id"] == 1 and found["column"] == "qty"


# Recovering -------------------------------------------------------------------------------------


def test_undo_and_import_again_recover_a_damaged_import(stocked: Cli, tmp_path: Path) -> None:
    """Given january.csv's stored data damaged (deal O-2 starts there and goes on in
    february.csv), when the owner does what the message says (`deals undo 1`, then imports
    january.csv again), then the report is what it was, deals counted once, the check passes
    and the audit verifies."""
    before = stocked.json("report", "--by", "rep")
    damage(stocked, 1, "deal_first")
    assert stocked("report").exit_code == 2
    undone = stocked("deals", "undo", "1")
    assert undone.exit_code == 0, undone.output
    again = stocked("deals", "import", str(tmp_path / "january.csv"))
    assert again.exit_code == 0, again.output
    assert stocked.json("report", "--by", "rep") == before
    assert stocked.json("db", "check")["sound"] is True
    assert stocked("audit", "verify").exit_code == 0


# Who may check ----------------------------------------------------------------------------------


def test_db_check_is_the_owners(cli: Cli) -> None:
    """Once people are registered, only the owner checks the database (exit 1 for others)."""
    assert cli("people", "add", "dana", "--role", "owner", user="dana").exit_code == 0
    assert cli("people", "add", "priya", "--role", "rep", user="dana").exit_code == 0
    refused = cli("db", "check", user="priya")
    assert refused.exit_code == 1 and "only owner" in refused.stderr, refused.output
    assert cli("db", "check", user="dana").exit_code == 0


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A team server over an SQLite store with an owner (dana) and a rep (priya): its address
    and their tokens (made on the database itself, sharing the tests' configuration)."""

    url = f"sqlite:///{tmp_path / 'team.db'}"
    administrator = Cli(url, user="dana")
    tokens = {name: administrator.json("people", "add", name, "--role", role)["token"]
              for name, role in (("dana", "owner"), ("priya", "rep"))}  # fmt: skip
    administrator.close()
    with serving(url, tmp_path) as address:
        yield address, tokens


def test_db_check_through_the_team_server(
    server: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    """In client mode the owner's check runs on the server's database; a rep is refused."""
    import subprocess
    import sys

    address, tokens = server

    def client(person: str, *args: str) -> subprocess.CompletedProcess[str]:
        env = environment(PRICING_SERVER=address, PRICING_TOKEN=tokens[person])
        return subprocess.run([sys.executable, "-m", "pricing", *args], env=env, cwd=tmp_path,
                              capture_output=True, text=True, timeout=60)  # fmt: skip

    done = client("dana", "db", "check", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["sound"] is True and document["checked"]["audited_subjects"] == 2
    refused = client("priya", "db", "check")
    assert refused.returncode == 1 and "only owner" in refused.stderr, refused.stderr


# A database URL that cannot be read ---------------------------------------------------------


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("url", ["postgresql://a@[::1/x", "postgresql://a:s3cret@[::1/x",
                                 "postgresql://a@host:port/x"])  # fmt: skip
def test_a_malformed_database_url_is_named_exit_2(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a database URL that cannot be parsed (given with --db, in PRICING_DATABASE_URL or
    in the configuration file), when any command runs, then it says which URL and where it
    came from, exit 2, no traceback and never the password."""
    from pricing import config

    monkeypatch.chdir(tmp_path)
    given = run("--db", url, "pricebook", "editions")
    monkeypatch.setenv("PRICING_DATABASE_URL", url)
    from_environment = run("report")
    monkeypatch.delenv("PRICING_DATABASE_URL")
    settings = tmp_path / "server.toml"
    settings.write_text(f'database_url = "{url}"\n')
    monkeypatch.setenv(config.CONFIG, str(settings))
    config.settings.cache_clear()
    from_file = run("requests")
    for result, origin in ((given, "--db"), (from_environment, "PRICING_DATABASE_URL"),
                           (from_file, str(settings))):  # fmt: skip
        assert result.exit_code == 2, result.output
        no_traceback(result)
        assert "database URL" in result.output and origin in result.output, result.output
        assert "postgresql://USER@HOST" in result.output, result.output
        assert "s3cret" not in result.output
    assert list(tmp_path.iterdir()) == [settings]  # no pricing.db made on the way


# A login that may not create or read the tables ------------------------------------------------


@pytest.fixture
def restricted_login(empty_postgres_url: str) -> Iterator[tuple[str, str]]:
    """A PostgreSQL login that may use the store's schema but not create anything in it (as a
    team's administrator would hand out), and the administrator's URL of that schema."""
    admin = postgres_admin()
    role = f"pricing_r_{uuid.uuid4().hex[:8]}"
    schema = empty_postgres_url.rsplit("%3D", 1)[1]
    admin.execute(f"CREATE ROLE {role} LOGIN")
    admin.execute(f'GRANT USAGE ON SCHEMA "{schema}" TO {role}')
    base, _, query = empty_postgres_url.partition("?")
    login = base.replace("postgres@", f"{role}@", 1) + "?" + query
    try:
        yield login, empty_postgres_url
    finally:
        admin.execute(f"DROP OWNED BY {role}")
        admin.execute(f"DROP ROLE {role}")
        admin.close()


def test_postgresql__a_first_command_by_a_login_that_may_not_create_tables(
    restricted_login: tuple[str, str], tmp_path: Path
) -> None:
    """Given an empty schema and a login without CREATE on it, when that login's first command
    runs, then it says to run `pricing db upgrade` as the administrator (exit 2) and creates
    nothing; once the administrator has, a login not granted the tables is told that too."""
    login, admin_url = restricted_login
    book = tmp_path / "book.csv"
    book.write_text("SKU,Price\nA-1,10\n")
    person = Cli(login)
    first = person("pricebook", "import", str(book))
    assert first.exit_code == 2, first.output
    no_traceback(first)
    assert "pricing db upgrade" in first.stderr and "administrator" in first.stderr
    assert "nothing was changed" in first.stderr
    administrator = Cli(admin_url)
    assert administrator.json("db", "status")["schema_revision"] is None  # nothing created
    assert administrator("db", "upgrade").exit_code == 0
    denied = person("pricebook", "editions")
    assert denied.exit_code == 2, denied.output
    no_traceback(denied)
    assert "permission denied" in denied.stderr and "administrator" in denied.stderr
    person.close()
    administrator.close()


# An edited schema revision ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        ("UPDATE alembic_version SET version_num = 'zzz'", "no version of pricing wrote"),
        ("UPDATE alembic_version SET version_num = '0003'", "failed"),
        ("DELETE FROM alembic_version", "no schema revision"),
    ],
    ids=["garbage", "older-than-its-tables", "emptied"],
)
def test_an_edited_schema_revision_is_named_exit_2_and_nothing_changes(
    stocked: Cli, edit: str, words: str
) -> None:
    """Given a store whose alembic_version was edited by hand, when the owner runs a command,
    then it says so (exit 2), how to recover, and changes nothing."""
    before = stocked.json("report")
    raw = Store.connect(stocked.db_url)  # the database as psql sees it: no schema check
    try:
        with raw.engine.begin() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            conn.execute(text(edit))
            tables = sorted(_tables(conn))
        result = stocked("report")
        assert result.exit_code == 2, result.output
        no_traceback(result)
        assert words in result.stderr, result.stderr
        assert "alembic_version" in result.stderr and "nothing was changed" in result.stderr
        assert "newer version" not in result.stderr
        with raw.engine.begin() as conn:
            assert sorted(_tables(conn)) == tables
            conn.execute(text("DELETE FROM alembic_version"))
            conn.execute(text("INSERT INTO alembic_version VALUES (:r)"), {"r": revision})
    finally:
        raw.close()
    assert stocked.json("report") == before


def _tables(conn: Any) -> list[str]:
    from sqlalchemy import inspect

    return list(inspect(conn).get_table_names())


# The SQLite file's mode ------------------------------------------------------------------------


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o277], ids=oct)
def test_a_new_sqlite_database_and_its_wal_are_for_their_owner_only(
    tmp_path: Path, umask: int
) -> None:
    """Given the usual umask (022), a lax one (002) or one that leaves the owner no write
    (277), when pricing makes a new pricing.db, then it and its -wal and -shm files are created
    0600: no other local user reads the deals, and its owner may write them."""
    old = os.umask(umask)
    try:
        _new_database_is_private(tmp_path)
    finally:
        os.umask(old)


def _new_database_is_private(tmp_path: Path) -> None:
    book = tmp_path / "book.csv"
    book.write_text("SKU,Price\nA-1,10\n")
    db = tmp_path / "pricing.db"
    result = run("--db", str(db), "pricebook", "import", str(book))
    assert result.exit_code == 0, result.output
    assert mode(db) == 0o600
    store = Store.open(f"sqlite:///{db}")  # WAL and shared memory exist while it is open
    try:
        with store.write() as conn:
            conn.execute(text("UPDATE editions SET source = source"))
        for suffix in ("-wal", "-shm"):
            side = db.with_name(db.name + suffix)
            assert side.exists() and mode(side) == 0o600, (suffix, oct(mode(side)))
    finally:
        store.close()


@pytest.mark.usefixtures("usual_umask")
def test_an_existing_database_keeps_its_mode_and_db_check_warns(tmp_path: Path) -> None:
    """Given a pricing.db someone made readable by everyone, pricing leaves its mode alone
    (it is theirs to choose) and `db check` warns, saying how to make it private (exit 0)."""
    db = tmp_path / "shared.db"
    with closing(sqlite3.connect(db)):
        pass
    db.chmod(0o644)
    cli = Cli(f"sqlite:///{db}")
    book = tmp_path / "book.csv"
    book.write_text("SKU,Price\nA-1,10\n")
    assert cli("pricebook", "import", str(book)).exit_code == 0
    assert mode(db) == 0o644
    result = cli("db", "check")
    assert result.exit_code == 0, result.output
    assert "readable by every local user" in result.output and "chmod 600" in result.output
    document = cli.json("db", "check")
    assert document["sound"] is True
    (warning,) = document["findings"]
    assert warning["severity"] == "warning" and "chmod 600" in warning["recover"]
    cli.close()
