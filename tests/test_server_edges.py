"""The team server's edges, attacked (issue 23: "Refuse before reading", "Errors that leak
nothing"): what a signed-in rep or anyone on the network can make the server receive, keep on
its disk or say about its database.

One real server over a PostgreSQL database of its own, with a temporary folder of its own
(TMPDIR) so that what it leaves there can be counted.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import postgres_admin, postgres_database
from tests.serving import serving
from tests.test_server import PEOPLE, SECRET, Team

MB = 1 << 20


@pytest.fixture(scope="module")
def temporary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("server-tmp")


@pytest.fixture(scope="module")
def left_behind(temporary: Path) -> dict[str, Path]:
    """Folders a server killed with -9 left (its process is gone), and one of a process that
    still runs (another worker's, in use), there before the server starts."""
    dead = temporary / "pricing-upload-999999999-kill9"
    (dead / "file").mkdir(parents=True)
    (dead / "file" / "deals.csv").write_bytes(b"x" * 1000)
    output = temporary / "pricing-output-999999999-kill9"
    output.mkdir()
    alive = temporary / f"pricing-upload-{os.getpid()}-inuse"
    alive.mkdir()
    return {"dead": dead, "output": output, "alive": alive}


@pytest.fixture(scope="module")
def edge(
    tmp_path_factory: pytest.TempPathFactory, temporary: Path, left_behind: dict[str, Path]
) -> Iterator[Team]:
    folder = tmp_path_factory.mktemp("edge")
    with postgres_database() as url:
        made = Team(url, "", folder)
        for name, role in PEOPLE.items():
            done = made.admin("people", "add", name, "--role", role, "--json")
            assert done.returncode == 0, done.stderr
            made.tokens[name] = json.loads(done.stdout)["token"]
        env = {"PRICING_SECRET": SECRET, "TMPDIR": str(temporary), "PRICING_LOCK_TIMEOUT": "1",
               "PRICING_BODY_TIMEOUT": "2"}  # fmt: skip
        with serving(url, folder, **env) as address:
            made.server = address
            yield made


def _copies(temporary: Path) -> list[Path]:
    """What the server keeps in its temporary folder (its folders and their files)."""
    return sorted(p for p in temporary.rglob("*") if "inuse" not in str(p))


def _multipart(size: int, boundary: str = "edge-boundary") -> tuple[Iterator[bytes], int]:
    """A deals upload of ``size`` bytes, made as it is sent (no disk): the body and its length."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="request"\r\n\r\n'
        f'{{"params": {{}}, "names": {{}}}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="deals.csv"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def chunks() -> Iterator[bytes]:
        yield head
        line = b"SO-1,2026-01-05,Acme,priya,HW-200,1,10.00\n"
        block = line * (MB // len(line))
        sent = 0
        while sent < size:
            part = block[: size - sent]
            sent += len(part)
            yield part
        yield tail

    return chunks(), len(head) + size + len(tail)


# Refuse before reading --------------------------------------------------------------------------


def test_copies_a_killed_server_left_are_removed_when_the_server_starts(
    edge: Team, left_behind: dict[str, Path]
) -> None:
    """Given upload and output folders left by a server process killed with -9, when a server
    starts, then they are gone; a folder of a process that still runs is left alone."""
    assert not left_behind["dead"].exists()
    assert not left_behind["output"].exists()
    assert left_behind["alive"].exists()


def test_a_reps_large_deals_upload_is_refused_at_once_and_nothing_is_kept(
    edge: Team, temporary: Path
) -> None:
    """Given a rep's token, when the rep posts a 400 MB deals upload (only the owner imports
    deals), then the server answers 403 at once, from the token, without receiving the
    upload, and its temporary folder holds nothing afterwards."""
    before = edge.snapshot()
    body, length = _multipart(400 * MB)
    headers = {
        "Authorization": f"Bearer {edge.tokens['priya']}",
        "Content-Type": "multipart/form-data; boundary=edge-boundary",
        "Content-Length": str(length),
    }
    started = time.monotonic()
    answer = httpx.post(f"{edge.server}/api/deals.import", content=body, headers=headers,
                        timeout=60)  # fmt: skip
    took = time.monotonic() - started
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["kind"] == "refused"
    assert "only owner may import or change deal data" in answer.json()["error"]["message"]
    assert took < 1.5, f"refused after {took:.1f} s: the upload was received first"
    assert _copies(temporary) == []
    assert edge.snapshot() == before


def test_the_refusal_comes_before_the_upload_is_even_sent(edge: Team) -> None:
    """Given a rep who sends a deals upload's head and its first 64 KB of a declared 400 MB,
    then stops, the 403 arrives at once: the server never waited for the body."""
    host, port = edge.server.removeprefix("http://").split(":")
    body, length = _multipart(400 * MB)
    head = (
        f"POST /api/deals.import HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {edge.tokens['priya']}\r\n"
        f"Content-Type: multipart/form-data; boundary=edge-boundary\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(head + next(body) + next(body)[: 64 * 1024])
        try:
            answer = sock.recv(65536)
        except TimeoutError:
            pytest.fail("no answer in 5 s: the server waits for the upload before refusing it")
    assert answer.startswith(b"HTTP/1.1 403"), answer[:200]
    assert b"connection: close" in answer.lower()


@pytest.mark.parametrize(
    ("person", "operation"),
    [("mia", "policy.simulate"), ("priya", "policy.simulate"), ("priya", "policy.load"),
     ("priya", "pricebook.import"), ("mia", "requests.submit")],
)  # fmt: skip
def test_an_upload_the_role_does_not_allow_is_refused_before_it_is_read(
    edge: Team, temporary: Path, person: str, operation: str
) -> None:
    """A rep's policy to simulate (the Low list: it was read before the rep was refused), a
    marketer's lines: 403 before the body, whatever it holds (here not even a valid form)."""
    answer = httpx.post(
        f"{edge.server}/api/{operation}", content=b"--x\r\nnot a form at all",
        headers={"Authorization": f"Bearer {edge.tokens[person]}",
                 "Content-Type": "multipart/form-data; boundary=x"}, timeout=30,
    )  # fmt: skip
    assert answer.status_code == 403, answer.text
    assert answer.json()["error"]["kind"] == "refused"
    assert _copies(temporary) == []


def test_docs_load_nothing_from_elsewhere(edge: Team) -> None:
    """Given a server without Internet access (or a browser without), when someone opens
    /docs, then the page is whole: no script, style or font from another host (it was Swagger
    UI from a CDN), and it names every operation with what it takes."""
    page = httpx.get(f"{edge.server}/docs", timeout=30)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    text = page.text
    assert "<script" not in text and "cdn" not in text
    assert "http://" not in text and "https://" not in text
    for operation in edge.operations():
        assert f"POST /api/{operation}" in text, operation
    assert "lines_file</code>: file" in text
    assert httpx.get(f"{edge.server}/redoc", timeout=30).status_code == 404


def _half_sent(edge: Team, person: str, operation: str, multipart: bool) -> socket.socket:
    """A connection that sent a call's head and 10 bytes of its declared 1,000, then waits."""
    host, port = edge.server.removeprefix("http://").split(":")
    kind = "multipart/form-data; boundary=x" if multipart else "application/json"
    head = (
        f"POST /api/{operation} HTTP/1.1\r\nHost: {host}\r\n"
        f"Authorization: Bearer {edge.tokens[person]}\r\nContent-Type: {kind}\r\n"
        f"Content-Length: 1000\r\n\r\n"
    ).encode()
    sock = socket.create_connection((host, int(port)), timeout=15)
    sock.sendall(head + (b"--x\r\nConte" if multipart else b'{"params":'))
    return sock


@pytest.mark.parametrize("multipart", [False, True])
def test_a_body_that_stalls_is_cut_off(edge: Team, temporary: Path, multipart: bool) -> None:
    """Given a call that sends part of its body and then nothing (40 such calls stayed open
    for minutes), when PRICING_BODY_TIMEOUT (here 2 s) passes, then the server answers 408
    and closes the connection; nothing is kept."""
    operation = "policy.check" if multipart else "requests.submit"
    started = time.monotonic()
    answer = b""
    with _half_sent(edge, "priya", operation, multipart) as sock:
        try:
            while part := sock.recv(65536):  # to the end: the server closes the connection
                answer += part
        except TimeoutError:
            pytest.fail("the half-sent call was still open after 15 s")
    assert answer.startswith(b"HTTP/1.1 408"), answer[:300]
    assert b"stopped arriving" in answer
    assert time.monotonic() - started < 10
    assert _copies(temporary) == []


def test_a_person_runs_at_most_two_uploads_at_once(edge: Team) -> None:
    """Given two of a rep's uploads still arriving, when she sends a third, then it is 429 at
    once; other people are not held back, and once hers end she may send again."""
    policy = b"[x]\n"

    def upload(person: str) -> httpx.Response:
        return httpx.post(
            f"{edge.server}/api/policy.check",
            headers={"Authorization": f"Bearer {edge.tokens[person]}"},
            data={"request": json.dumps({"params": {}, "names": {}})},
            files={"file": ("p.toml", policy, "application/octet-stream")}, timeout=30,
        )  # fmt: skip

    first = _half_sent(edge, "priya", "policy.check", True)
    second = _half_sent(edge, "priya", "policy.check", True)
    try:
        time.sleep(0.5)  # both are past their sign-in and receiving
        third = upload("priya")
        assert third.status_code == 429, third.text
        assert "2 uploads running" in third.json()["error"]["message"]
        assert upload("ravi").status_code == 200
    finally:
        for sock in (first, second):
            with contextlib.suppress(OSError):
                sock.recv(65536)  # their 408, once they stall
            sock.close()
    assert upload("priya").status_code == 200


def test_failed_sign_ins_are_logged_and_an_address_that_keeps_guessing_waits(
    edge: Team,
) -> None:
    """Given someone at one address trying tokens, then each failure is logged with the
    address (never the token) and after 10 in a minute that address is refused (429) whatever
    it sends, while people at other addresses sign in as before."""
    guesser = httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2"), timeout=30)
    url = f"{edge.server}/api/requests.list"
    guesses = [f"prc_guess{n:02d}" + "g" * 30 for n in range(10)]
    with guesser:
        for guess in guesses:
            answer = guesser.post(url, json={"params": {}},
                                  headers={"Authorization": f"Bearer {guess}"})  # fmt: skip
            assert answer.status_code == 401, answer.text
        answer = guesser.post(url, json={"params": {}},
                              headers={"Authorization": f"Bearer {edge.tokens['priya']}"})  # fmt: skip
        assert answer.status_code == 429, answer.text
        assert "too many failed sign-ins" in answer.json()["error"]["message"]
        assert int(answer.headers["retry-after"]) > 0
    assert edge.post("priya", "requests.list", {}).status_code == 200  # another address
    log = (edge.folder / "server.log").read_text()
    assert log.count("failed sign-in from 127.0.0.2") == 10
    assert "sign-ins from 127.0.0.2 refused" in log
    assert not any(guess in log for guess in guesses)


# Errors that leak nothing ------------------------------------------------------------------------


def _leaks(text: str, url: str) -> list[str]:
    """What of the database's address, login or settings ``text`` shows."""
    database = url.rsplit("/", 1)[1]
    shown = [word for word in ("127.0.0.1", "5432", "postgres", database, "PRICING_LOCK_TIMEOUT",
                               "lock_timeout", "Traceback") if word in text]  # fmt: skip
    return shown


def test_an_upload_name_of_300_characters_is_named_never_a_500(edge: Team, temporary: Path) -> None:
    """Given a file name no disk takes (300 characters), when a rep uploads it (or asks for an
    output file of that name), then the answer is 400 naming it, and nothing is kept."""
    name = "q" * 295 + ".toml"
    answer = httpx.post(
        f"{edge.server}/api/policy.check",
        headers={"Authorization": f"Bearer {edge.tokens['priya']}"},
        data={"request": json.dumps({"params": {}, "names": {}})},
        files={"file": (name, b"[x]\n", "application/octet-stream")}, timeout=30,
    )  # fmt: skip
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["kind"] == "input" and error["field"] == "file"
    assert "300 characters" in error["detail"] and "rename the file" in error["detail"]
    answer = httpx.post(
        f"{edge.server}/api/pricebook.export",
        headers={"Authorization": f"Bearer {edge.tokens['mia']}"},
        json={"params": {}, "output": "o" * 300 + ".xlsx"}, timeout=30,
    )  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["field"] == "output", answer.text
    assert _copies(temporary) == []


def test_a_rep_waiting_on_a_lock_is_told_the_store_is_busy_and_nothing_of_the_database(
    edge: Team,
) -> None:
    """Given someone holding a lock on the people table longer than the server waits (1 s),
    when a rep calls, then the answer is 503 "the store is busy", without the database's
    host, port, login or name, nor the server's setting; in client mode the same, exit 2."""
    with psycopg.connect(edge.url) as holder:
        holder.execute("LOCK TABLE people IN ACCESS EXCLUSIVE MODE")
        answer = edge.post("priya", "requests.list", {})
        done = edge.client("priya", "requests")
        holder.rollback()
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"] == {"kind": "store", "message": answer.json()["error"]["message"]}
    assert "the store is busy" in answer.json()["error"]["message"]
    assert _leaks(answer.text, edge.url) == []
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "the store is busy" in done.stderr
    assert _leaks(done.stdout + done.stderr, edge.url) == []


def test_zz_a_database_that_is_down_is_503_and_health_says_so(edge: Team) -> None:
    """Given the database refusing every connection (as when it is down), when anyone calls,
    then the answer is 503 "the store is unavailable" (never 500 "a bug", never its address)
    and /api/health says unavailable (503); once the database is back, both are well again."""
    database = edge.url.rsplit("/", 1)[1]
    admin = postgres_admin()
    try:
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                      "WHERE datname = %s AND pid <> pg_backend_pid()", [database])  # fmt: skip
        health = httpx.get(f"{edge.server}/api/health", timeout=30)
        calls = [edge.post("priya", "requests.list", {}) for _ in range(2)]
        done = edge.client("priya", "requests")
    finally:
        admin.execute(f'ALTER DATABASE "{database}" WITH ALLOW_CONNECTIONS true')
        admin.close()
    assert health.status_code == 503, health.text
    assert health.json()["status"] == "unavailable"
    for answer in calls:
        assert answer.status_code == 503, answer.text
        assert "the store is unavailable" in answer.json()["error"]["message"]
        assert _leaks(answer.text, edge.url) == []
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "the store is unavailable" in done.stderr
    assert _leaks(done.stdout + done.stderr, edge.url) == []
    deadline = time.monotonic() + 20
    while httpx.get(f"{edge.server}/api/health", timeout=30).status_code != 200:
        assert time.monotonic() < deadline, "the server did not find its database again"
        time.sleep(0.2)
    assert edge.post("priya", "requests.list", {}).status_code == 200
