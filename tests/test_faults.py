"""Faults: a process killed mid-write, a locked, read-only, missing or full database.

What a user must be able to rely on: whatever happens to the process or the disk, the database
holds either everything a command did or none of it, and says clearly what went wrong.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from tests.conftest import Cli, sqlite_snapshot

BOOK_ROWS = 40_000


def pricing_argv(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "pricing", "--db", str(db), "--user", "priya", *args]


def run(db: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        pricing_argv(db, *args), capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def integrity(db: Path) -> str:
    with closing(sqlite3.connect(db)) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def big_book(path: Path, bump: int = 0) -> Path:
    with path.open("w") as out:
        out.write("SKU,Name,Family,List Price\n")
        for i in range(BOOK_ROWS):
            out.write(f"X-{i:06d},Item {i},Family {i % 20},{10 + i % 500 + bump}.50\n")
    return path


def big_deals(path: Path) -> Path:
    with path.open("w") as out:
        out.write("Deal,Date,Customer,Salesperson,SKU,Qty,Net Price\n")
        for i in range(BOOK_ROWS):
            out.write(f"D-{i // 3},2026-11-{1 + i % 25:02d},C{i % 300},rep{i % 7},"
                      f"X-{i:06d},{1 + i % 9},{9 + i % 500}.00\n")  # fmt: skip
    return path


@pytest.fixture(scope="module")
def stocked_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite database with one edition of a 40,000-SKU book and a policy, made once."""
    folder = tmp_path_factory.mktemp("stocked")
    db = folder / "pricing.db"
    assert run(db, "pricebook", "import", str(big_book(folder / "book.csv")),
               "--effective", "2026-01-01").returncode == 0  # fmt: skip
    policy = folder / "guardrails.toml"
    policy.write_text(
        'currency = "USD"\nlevels = ["rep", "manager"]\n[limits]\nrep = 5.0\nmanager = 20.0\n'
        '[[person]]\nname = "priya"\nrole = "rep"\n'
    )
    assert run(db, "policy", "load", str(policy)).returncode == 0
    with closing(sqlite3.connect(db)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db


@pytest.fixture
def stocked(stocked_template: Path, tmp_path: Path) -> Path:
    db = tmp_path / "pricing.db"
    shutil.copy(stocked_template, db)
    return db


def count(db: Path, sql: str) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute(sql).fetchone()[0])


def kill_at_moments(
    db: Path, argv: list[str], moments: list[float], complete: Callable[[Path], bool]
) -> int:
    """Start the command again and again and SIGKILL it after each moment. After each kill the
    database must be intact and hold either exactly what it held before, or the command's whole
    work (it committed just before the kill): never a part. Returns the kills that left it as
    before."""
    before = sqlite_snapshot(db)
    untouched = 0
    for moment in moments:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(moment)
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait()
        assert integrity(db) == "ok", moment
        if sqlite_snapshot(db) == before:
            untouched += 1
            continue
        assert complete(db), f"killed after {moment} s, the database holds part of the work"
        break  # the command had committed: the state moved on, as it should
    return untouched


MOMENTS = [
    0.03,
    0.06,
    0.1,
    0.2,
    0.3,
    0.45,
    0.6,
    0.9,
    1.2,
    1.6,
    2.5,
    4.0,
]  # dense early: a fast machine finishes in ~0.8 s, a process forked from the zygote in 0.3


def test_a_killed_price_book_import_leaves_the_previous_edition_exactly(
    stocked: Path, tmp_path: Path
) -> None:
    argv = pricing_argv(stocked, "pricebook", "import", str(big_book(tmp_path / "v2.csv", 7)))
    untouched = kill_at_moments(stocked, argv, MOMENTS, lambda db: (
        count(db, "SELECT count(*) FROM editions") == 2
        and count(db, "SELECT count(*) FROM price_items") == 2 * BOOK_ROWS
    ))  # fmt: skip
    assert untouched >= 3


def test_a_killed_deals_import_adds_no_line(stocked: Path, tmp_path: Path) -> None:
    argv = pricing_argv(stocked, "deals", "import", str(big_deals(tmp_path / "deals.csv")))
    untouched = kill_at_moments(stocked, argv, MOMENTS, lambda db: (
        count(db, "SELECT coalesce(sum(lines), 0) FROM deal_segments") == BOOK_ROWS
    ))  # fmt: skip
    assert untouched >= 3


# A request forked from the tests' zygote (tests/forking.py) is done in ~30 ms, one started from
# scratch in ~0.5 s: kills from early on for the one, later for the other.
KILL_A_REQUEST = [0.002, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.25, 0.3,
                  0.4, 0.5, 0.7, 1.0, 3.0]  # fmt: skip


def test_a_killed_request_is_stored_whole_or_not_at_all(stocked: Path) -> None:
    argv = pricing_argv(stocked, "request", "--customer", "Acme", "--reason", "bid",
                        "X-000001", "--qty", "3", "--discount", "3")  # fmt: skip
    untouched = kill_at_moments(stocked, argv, KILL_A_REQUEST,
                                lambda db: (
        count(db, "SELECT count(*) FROM requests") == 1
        and count(db, "SELECT count(*) FROM request_lines") == 1
        and count(db, "SELECT count(*) FROM request_events") == 2  # submitted, approved
    ))  # fmt: skip
    assert untouched >= 3
    assert run(stocked, "audit", "verify").returncode == 0


def test_a_locked_database_waits_then_says_so_and_changes_nothing(
    stocked: Path, tmp_path: Path
) -> None:
    before = sqlite_snapshot(stocked)
    holder = sqlite3.connect(stocked, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program is writing
    try:
        started = time.monotonic()
        result = run(stocked, "pricebook", "import", str(big_book(tmp_path / "v2.csv", 3)),
                     env={"PRICING_LOCK_TIMEOUT": "0.5"})  # fmt: skip
        waited = time.monotonic() - started
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 2, result.stderr
    assert "locked" in result.stderr and "nothing was changed" in result.stderr
    assert "PRICING_LOCK_TIMEOUT" in result.stderr and "Traceback" not in result.stderr
    assert waited < 15
    assert sqlite_snapshot(stocked) == before


def test_a_missing_database_is_named_and_not_created(tmp_path: Path) -> None:
    db = tmp_path / "typo.db"
    for args in (
        ["pricebook", "editions"],
        ["pricebook", "show", "X-1"],
        ["report"],
        ["requests"],
        ["quote", "X-1", "--qty", "1"],
        ["approve", "R-000001"],
        ["audit", "verify"],
        ["db", "status"],
    ):
        result = run(db, *args)
        assert result.returncode == 2, (args, result.stderr)
        assert f"no database at {db}" in result.stderr and "Traceback" not in result.stderr
    assert not db.exists()


@contextmanager
def read_only(db: Path) -> Iterator[None]:
    """The database file as a colleague without write access sees it."""
    if os.geteuid() != 0:
        db.chmod(0o444)
        db.parent.chmod(0o555)
        try:
            yield
        finally:
            db.parent.chmod(0o755)
            db.chmod(0o644)
        return
    if shutil.which("chattr") is None:
        pytest.skip("running as root without chattr: no way to make a file read-only here")
    for extra in db.parent.glob(db.name + "-*"):
        extra.unlink()
    if subprocess.run(["chattr", "+i", str(db)], capture_output=True).returncode != 0:
        pytest.skip("running as root on a file system without chattr +i: cannot test read-only")
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(db)], check=True)


def test_a_read_only_database_reads_but_refuses_writes_clearly(
    stocked: Path, tmp_path: Path
) -> None:
    before = sqlite_snapshot(stocked)
    v2 = big_book(tmp_path / "v2.csv", 3)
    with read_only(stocked):
        result = run(stocked, "pricebook", "import", str(v2))
        assert result.returncode == 2, result.stderr
        assert "read-only" in result.stderr and "nothing was changed" in result.stderr
        assert "Traceback" not in result.stderr
    assert sqlite_snapshot(stocked) == before


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB file system that a 40,000-SKU import cannot fit on."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to fill up here ({done.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)


def test_a_full_disk_says_so_and_leaves_the_database_as_it_was(
    small_disk: Path, tmp_path: Path
) -> None:
    db = small_disk / "pricing.db"
    small = tmp_path / "small.csv"
    small.write_text("SKU,Price\nA-1,10\nA-2,20\n")
    assert run(db, "pricebook", "import", str(small), "--effective", "2026-01-01").returncode == 0
    before = sqlite_snapshot(db)
    result = run(db, "pricebook", "import", str(big_book(tmp_path / "big.csv")))
    assert result.returncode == 2, result.stderr
    assert "full" in result.stderr and "nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert sqlite_snapshot(db) == before and integrity(db) == "ok"


def test_a_database_from_a_newer_version_exits_2(cli: Cli) -> None:
    """(The full case, with the database left untouched, is in test_store.)"""
    assert cli("db", "upgrade").exit_code == 0
    with cli.store().engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    result = cli("pricebook", "editions")
    assert result.exit_code == 2 and "newer version of pricing" in result.stderr
