"""Inputs that are not files: refused, named and said for what they are, before they are opened.

A named pipe (FIFO) given to an importer used to block it forever (it waits for a writer that
never comes); a symbolic link to ``/dev/zero`` given to client mode printed a traceback. Each
command runs in a process of its own with a timeout, so that a hang fails the test rather than
hanging the suite (issue 23, finding 6 and the Low list).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.serving import environment

TIMEOUT = 30  # a refused file is named in about a second; a hang is killed and fails the test

COMMANDS: dict[str, tuple[str, ...]] = {
    "deals import": ("deals", "import", "{file}"),
    "pricebook import": ("pricebook", "import", "{file}", "--effective", "2026-01-01"),
    "policy check": ("policy", "check", "{file}"),
    "policy load": ("policy", "load", "{file}"),
    "policy simulate": ("policy", "simulate", "{file}"),
    "request --file": ("request", "--customer", "Acme", "--reason", "bid", "--file", "{file}"),
}


def _run(folder: Path, args: tuple[str, ...], file: Path, **env: str) -> subprocess.CompletedProcess[str]:  # fmt: skip
    given = [str(file) if a == "{file}" else a for a in args]
    try:
        return subprocess.run(
            [sys.executable, "-m", "pricing", *given], env=environment(**env), cwd=folder,
            capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        pytest.fail(f"`pricing {' '.join(given)}` still waited on {file} after {TIMEOUT} s")


def _refused(done: subprocess.CompletedProcess[str], file: Path, *words: str) -> None:
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stdout + done.stderr
    assert str(file) in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "deals.csv"
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_fifo_given_to_an_importer_is_refused_before_it_is_opened(
    command: str, fifo: Path, tmp_path: Path
) -> None:
    """Given a named pipe nobody writes to, when any importer is given it, then it exits 2
    at once naming the file as a named pipe, and the database is not even made."""
    db = tmp_path / "pricing.db"
    done = _run(tmp_path, ("--db", f"sqlite:///{db}", *COMMANDS[command]), fifo)
    _refused(done, fifo, "named pipe", "not a regular file")


@pytest.mark.parametrize("command", ["deals import", "pricebook import", "policy load"])
def test_a_link_to_a_device_or_a_folder_is_refused_for_what_it_is(
    command: str, tmp_path: Path
) -> None:
    link = tmp_path / "book.xlsx"
    link.symlink_to("/dev/zero")
    db = f"sqlite:///{tmp_path / 'pricing.db'}"
    done = _run(tmp_path, ("--db", db, *COMMANDS[command]), link)
    _refused(done, link, "a device (through a symbolic link)")
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    done = _run(tmp_path, ("--db", db, *COMMANDS[command]), folder)
    _refused(done, folder)
    assert "is a folder" in done.stderr or "is a directory" in done.stderr, done.stderr


@pytest.mark.parametrize("command", list(COMMANDS))
def test_client_mode_refuses_a_pipe_or_a_device_before_uploading_it(
    command: str, fifo: Path, tmp_path: Path
) -> None:
    """Given client mode (a server and a token), when the file to upload is a symbolic link
    to /dev/zero or a named pipe, then the client refuses it, exit 2, without a traceback and
    before it reaches for the server (none runs at this address)."""
    link = tmp_path / "lines.csv"
    link.symlink_to("/dev/zero")
    login = {"PRICING_SERVER": "http://127.0.0.1:9", "PRICING_TOKEN": "t" * 40}
    _refused(_run(tmp_path, COMMANDS[command], link, **login), link, "a device")
    _refused(_run(tmp_path, COMMANDS[command], fifo, **login), fifo, "named pipe")
