"""The tests' forked ``pricing`` processes (tests/forking.py) behave as processes started from
scratch: the same exit codes, output and errors, the same signals, the same files."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import forking
from tests.conftest import SAMPLE_DATA

FRESH = {"PYTHONHASHSEED": "7"}  # (an interpreter setting: never forked, started from scratch)


def _both(args: list[str], cwd: Path, stdin: str = "") -> tuple[tuple[int, str, str], ...]:
    """The command forked, then started from scratch: (exit code, stdout, stderr) each."""
    if os.environ.get("PRICING_TEST_FORK", "1") == "0":
        pytest.skip("PRICING_TEST_FORK=0: no process is forked")
    done = []
    for extra in ({}, FRESH):
        before = forking.FORKED[0]
        run = subprocess.run(
            [sys.executable, "-m", "pricing", *args], cwd=cwd, input=stdin, text=True,
            capture_output=True, env={**os.environ, **extra}, timeout=60,
        )  # fmt: skip
        assert forking.FORKED[0] == before + (0 if extra else 1), "forked as it should be"
        done.append((run.returncode, run.stdout, run.stderr))
    return tuple(done)


def test_a_forked_command_prints_and_exits_as_one_started_from_scratch(tmp_path: Path) -> None:
    book = str(SAMPLE_DATA / "price-book-2025.xlsx")
    for args in (
        ["--json", "pricebook", "import", book, "--effective", "2025-01-01"],
        ["pricebook", "show", "NO-SUCH-SKU"],
        ["--help"],
        ["no-such-command"],
    ):
        forked, fresh = _both(["--db", str(tmp_path / f"{len(args)}.db"), *args], tmp_path)
        if args[1:3] == ["pricebook", "import"]:  # (each its own store: ids differ)
            assert forked[0] == fresh[0] == 0 and forked[2] == fresh[2] == ""
            continue
        assert forked == fresh, args


def test_a_forked_command_reads_its_stdin_and_its_folder(tmp_path: Path) -> None:
    (tmp_path / "pricing.db").write_bytes(b"not a database")
    forked, fresh = _both(["login", "--server", "http://127.0.0.1:9"], tmp_path, "prc_x\n")
    assert forked == fresh and forked[0] == 2 and "cannot reach" in forked[1] + forked[2]


def test_a_forked_command_is_killed_by_a_signal_as_a_process(tmp_path: Path) -> None:
    """A kill reaches the child itself, and its status says so (as the fault tests need)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pricing", "login", "--server", "http://127.0.0.1:9"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )  # fmt: skip
    time.sleep(0.2)  # (waiting for its token on stdin)
    assert process.poll() is None
    process.send_signal(signal.SIGKILL)
    assert process.wait(10) == -signal.SIGKILL
    assert process.stdin is not None
    process.stdin.close()


def test_an_empty_environment_is_the_childs_whole_environment(tmp_path: Path) -> None:
    """``env={}`` gives the child no variable at all (not this process's), as a fresh process."""
    forked = subprocess.run(
        [sys.executable, "-m", "pricing", "pricebook", "editions"], cwd=tmp_path, env={},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert forked.returncode == 2 and "pricing.db" in forked.stderr, forked.stderr


def test_a_wait_of_no_time_left_is_a_timeout(tmp_path: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "pricing", "login", "--server", "http://127.0.0.1:9"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        cwd=tmp_path,
    )  # fmt: skip
    try:
        for timeout in (-0.001, 0.0, 0.05):
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"wait({timeout}) returned while the child waits for stdin")
    finally:
        process.kill()
        process.wait(10)
        assert process.stdin is not None
        process.stdin.close()
