"""Client mode never sends a token in clear to another host without being told (issue 23, Low
list: "the client sends a token over plain http to any host without a word").

Given a listener on an address of this machine that is not loopback (what a server across the
network is to the client), a client pointed at it over plain http sends nothing; with
``--insecure`` at login, or ``PRICING_INSECURE=1``, it does. Loopback and https are as before.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.serving import environment

TOKEN = "prc_" + "s" * 40


def _outward_address() -> str:
    """An IPv4 address of this machine that is not loopback (skip when there is none)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("10.255.255.255", 1))  # no packet is sent: only a route is chosen
            address = str(probe.getsockname()[0])
        except OSError:
            address = ""
    if not address or address.startswith("127.") or address == "0.0.0.0":
        pytest.skip("this machine has no address but loopback")
    return address


class Listener:
    """A socket on ``address`` that keeps whatever any connection sends it."""

    def __init__(self, address: str) -> None:
        self.sock = socket.create_server((address, 0))
        self.sock.settimeout(0.2)
        self.url = f"http://{address}:{self.sock.getsockname()[1]}"
        self.received = b""
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.done.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    self.received += conn.recv(65536)

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    made = Listener(_outward_address())
    try:
        yield made
    finally:
        made.close()


def _pricing(home: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "pricing", *args], input=stdin, cwd=home, capture_output=True,
        env=environment(XDG_CONFIG_HOME=str(home), **env), text=True, timeout=60,
    )  # fmt: skip


def test_a_token_is_not_sent_over_plain_http_to_another_host(
    listener: Listener, tmp_path: Path
) -> None:
    """Given PRICING_SERVER=http://<this machine's network address>, when a rep runs a
    command or signs in, then it exits 2 saying why and what to do, and the listener received
    nothing: no token crossed the network."""
    done = _pricing(tmp_path, "requests", PRICING_SERVER=listener.url, PRICING_TOKEN=TOKEN)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "plain http to another host" in done.stderr and "--insecure" in done.stderr
    assert TOKEN not in done.stderr + done.stdout
    signed = _pricing(tmp_path, "login", "--server", listener.url, stdin=TOKEN + "\n")
    assert signed.returncode == 2 and "plain http to another host" in signed.stderr
    assert not (tmp_path / "pricing" / "login.toml").exists()
    listener.close()
    assert listener.received == b""


def test_insecure_when_told_so_at_login_or_in_the_environment(
    listener: Listener, tmp_path: Path
) -> None:
    """Told so, the client sends (the listener is no server: the call then fails as any
    unanswered call does, exit 2, never a traceback)."""
    done = _pricing(tmp_path, "requests", PRICING_SERVER=listener.url, PRICING_TOKEN=TOKEN,
                    PRICING_INSECURE="1")  # fmt: skip
    assert done.returncode == 2 and "plain http" not in done.stderr, done.stderr
    signed = _pricing(tmp_path, "login", "--server", listener.url, "--insecure",
                      stdin=TOKEN + "\n")  # fmt: skip
    assert signed.returncode == 2 and "plain http" not in signed.stderr, signed.stderr
    listener.close()
    assert b"Authorization: Bearer " + TOKEN.encode() in listener.received


def test_a_kept_insecure_login_is_used_and_loopback_and_https_are_as_before(tmp_path: Path) -> None:
    from pricing import client, config
    from pricing.errors import ServerError

    for server in ("http://127.0.0.1:9", "http://localhost:9", "http://[::1]:9",
                   "https://pricing.example.com"):  # fmt: skip
        client._safe_to_send(config.Login(server, TOKEN))
    with pytest.raises(ServerError, match="plain http to another host"):
        client._safe_to_send(config.Login("http://pricing.example.com", TOKEN))
    client._safe_to_send(config.Login("http://pricing.example.com", TOKEN, insecure=True))
    home = tmp_path / "kept"
    env = environment(XDG_CONFIG_HOME=str(home))
    script = (
        "from pricing import config; "
        "config.keep_login('http://pricing.lan:8765', 'prc_x', insecure=True); "
        "print(config.login())"
    )
    shown = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                           text=True, timeout=60)  # fmt: skip
    assert "insecure=True" in shown.stdout, shown.stderr
