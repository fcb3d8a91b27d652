"""The team server's edges, attacked (issue 23: "Refuse before reading", "Errors that leak
nothing"): what a signed-in rep or anyone on the network can make the server receive, keep on
its disk or say about its database.

One real server over a PostgreSQL database of its own, with a temporary folder of its own
(TMPDIR) so that what it leaves there can be counted.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import postgres_database
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
        with serving(url, folder, PRICING_SECRET=SECRET, TMPDIR=str(temporary)) as address:
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
    assert took < 2.0, f"refused after {took:.1f} s: the upload was received first"
    assert _copies(temporary) == []
    assert edge.snapshot() == before


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
