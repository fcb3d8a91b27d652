"""A real `pricing serve` for the tests that go through the team server, started one way.

The server runs in a process of its own over the database given, on a free port of 127.0.0.1,
with an environment free of the test run's own PRICING_ settings; its log is kept beside the
test's files and must hold no traceback when it stops.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


def environment(**extra: str) -> dict[str, str]:
    """This process's environment without any pricing setting, with this checkout importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PRICING_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def embedded(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``pricing *args`` run in this process, as ``python -m pricing`` would run in ``folder``
    with ``environment(**env)``: no PRICING_ setting but ``env``, the configuration read again.
    What a process gives back (exit code, output, errors); an exception fails the test. For the
    administrator's steps a test makes but does not test: a process of its own costs half a
    second of imports each time."""
    from pricing import config
    from pricing.cli import main

    with pytest.MonkeyPatch.context() as patch:
        for name in os.environ:
            if name.startswith("PRICING_"):
                patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        patch.chdir(folder)
        config.settings.cache_clear()
        config.audit_keys.cache_clear()
        try:
            done = CliRunner().invoke(main, list(args), catch_exceptions=False)
        finally:
            config.settings.cache_clear()
            config.audit_keys.cache_clear()
    return subprocess.CompletedProcess(args, done.exit_code, done.stdout, done.stderr)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(url: str, folder: Path, **env: str) -> Iterator[str]:
    """``pricing serve`` over the database ``url`` until the block ends: its address. Fails
    the test when it does not answer its health check in 30 s, or when its log (``folder /
    server.log``) holds a traceback afterwards."""
    port = free_port()
    address = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "pricing", "--db", url, "serve", "--port", str(port)],
            env=environment(**env), cwd=folder, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(f"{address}/api/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert process.poll() is None, log.read_text()
                assert time.monotonic() < deadline, "the server did not start in 30 s"
                time.sleep(0.1)
            yield address
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
    assert "Traceback" not in log.read_text(), log.read_text()
