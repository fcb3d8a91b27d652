"""A rotated secret locks its old holder out (issue 23, finding 3), through the team server.

The audit's secret was rotated because it leaked: the attacker holds the database (psql as its
owner) *and the old secret*, not the new one nor the server's host. The server records the
rotation when it starts; from then on nothing keyed with the old secret signs anyone in (a
person's row sealed again with it, a chain cut back to before the rotation), while every
person's token, stored under the old secret's key, still signs in once and is keyed again with
the new one.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg
import pytest
import sqlalchemy as sa

from pricing import config
from pricing.storage import audit_entries, audit_subjects
from pricing.storage.people import keyed_hash
from tests.conftest import postgres_database
from tests.serving import embedded, serving

OLD = "the-secret-that-leaked-" + "o" * 32
NEW = "the-secret-after-the-leak-" + "n" * 32
PEOPLE = {"dana": "owner", "marco": "manager", "priya": "rep"}


@dataclass
class Rotated:
    """A store whose people were added under ``OLD``, served under ``NEW`` (``OLD`` kept in
    previous_secret_files so that the older entries still verify)."""

    url: str
    folder: Path
    server: str
    tokens: dict[str, str]

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The administrator on the server's host, with the server's (rotated) configuration
        (in this process: what is tested is the store and the server's process)."""
        return embedded(
            self.folder, "--db", self.url, "--user", "dana", *args,
            PRICING_CONFIG=str(self.folder / "server.toml"),
        )  # fmt: skip

    def call(self, person: str, operation: str, token: str | None = None) -> int:
        """``operation`` over HTTP signed in with ``person``'s token: the status answered."""
        answer = httpx.post(
            f"{self.server}/api/{operation}", json={"params": {}},
            headers={"Authorization": f"Bearer {token or self.tokens[person]}"}, timeout=60,
        )  # fmt: skip
        return answer.status_code

    def one(self, statement: str) -> tuple[object, ...]:
        with psycopg.connect(self.url) as conn:
            row = conn.execute(statement).fetchone()  # type: ignore[arg-type]
        assert row is not None, statement
        return tuple(row)


def _key_id(secret: str) -> str:
    return config.key_id(secret.encode())


def _token_key(secret: str) -> bytes:
    import hmac

    return hmac.new(secret.encode(), config.TOKEN_PURPOSE, hashlib.sha256).digest()


@pytest.fixture
def rotated(tmp_path: Path) -> Iterator[Rotated]:
    """The witness is a second database (as for the servers of several hosts), which the
    attacker holding the store's database cannot write."""
    (tmp_path / "old-secret").write_text(OLD)
    (tmp_path / "new-secret").write_text(NEW)
    with postgres_database() as url, postgres_database() as witness:
        (tmp_path / "server.toml").write_text(
            'secret_file = "new-secret"\nprevious_secret_files = ["old-secret"]\n'
            f'witness_url = "{witness}"\n'
        )
        tokens = {}
        for name, role in PEOPLE.items():
            done = embedded(
                tmp_path, "--db", url, "--user", "dana", "people", "add", name, "--role", role,
                "--json", PRICING_SECRET=OLD, PRICING_AUDIT_WITNESS=witness,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            tokens[name] = json.loads(done.stdout)["token"]
        settings = str(tmp_path / "server.toml")
        with serving(url, tmp_path, PRICING_CONFIG=settings) as address:
            yield Rotated(url, tmp_path, address, tokens)


def test_the_server_records_the_rotation_and_keys_each_token_again_at_its_sign_in(
    rotated: Rotated,
) -> None:
    """Given people added under the old secret, when the server starts under the new one, then
    the rotation is the chain's newest entry before anyone signs in; each person signs in with
    their token, whose stored hash is then keyed with the new secret (one entry, once), and
    the audit holds."""
    rotation = rotated.one("SELECT seq, action, key_id FROM audit_log ORDER BY seq DESC")
    assert rotation[1:] == ("audit.rotated", _key_id(NEW))
    plain = hashlib.sha256(rotated.tokens["priya"].encode()).hexdigest()
    before = rotated.one("SELECT token_hash FROM people WHERE name_key = 'priya'")[0]
    assert before == keyed_hash(_token_key(OLD), plain)

    assert rotated.call("priya", "requests.list") == 200
    after = rotated.one("SELECT token_hash FROM people WHERE name_key = 'priya'")[0]
    assert after == keyed_hash(_token_key(NEW), plain)
    newest = rotated.one("SELECT seq, action, subject, key_id FROM audit_log ORDER BY seq DESC")
    assert newest == (int(str(rotation[0])) + 1, "person.token_rekeyed", "person:priya",
                      _key_id(NEW))  # fmt: skip
    assert rotated.call("priya", "requests.list") == 200  # keyed once: no entry more
    assert rotated.one("SELECT max(seq) FROM audit_log")[0] == newest[0]
    assert rotated.call("dana", "people.list") == 200
    done = rotated.admin("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr


def _append_keyed_with_old(conn: sa.Connection, subject: str, action: str) -> int:
    """What the attacker holding the old secret does: an entry for ``subject`` as it is stored
    now, keyed with the old secret and linked to the chain's newest entry."""
    newest = conn.execute(sa.text("SELECT seq, mac FROM audit_log ORDER BY seq DESC")).first()
    assert newest is not None
    seq, previous = newest
    digest = audit_subjects.content_digest(conn, subject) or ""
    at = datetime.now(UTC).replace(microsecond=0)
    mac = audit_entries.entry_mac(OLD.encode(), previous, seq + 1, at, "dana", action, subject, digest, None,
                     _key_id(OLD))  # fmt: skip
    conn.execute(
        sa.text("INSERT INTO audit_log (seq, at, by, action, subject, digest, note, key_id, mac) "
                "VALUES (:seq, :at, 'dana', :action, :subject, :d, NULL, :k, :m)"),
        {"seq": seq + 1, "at": at, "action": action, "subject": subject, "d": digest,
         "k": _key_id(OLD), "m": mac},
    )  # fmt: skip
    return int(seq) + 1


def test_a_row_sealed_again_with_the_rotated_out_secret_never_signs_in(
    rotated: Rotated,
) -> None:
    """Given the attacker with psql and the old secret, who raises priya to owner and seals her
    row again with an entry keyed with the old secret after the rotation, when priya (or the
    attacker with her token) calls an owner's operation, then sign-in is refused (401), and
    verify names the entry (exit 1)."""
    engine = sa.create_engine(rotated.url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("UPDATE people SET role = 'owner' WHERE name_key = 'priya'"))
            forged = _append_keyed_with_old(conn, "person:priya", "person.role")
    finally:
        engine.dispose()
    assert rotated.call("priya", "people.list") == 401
    assert rotated.call("priya", "requests.list") == 401
    assert "priya" in (rotated.folder / "server.log").read_text()  # the refusal is logged
    assert rotated.call("marco", "requests.list") == 200  # others still sign in
    done = rotated.admin("audit", "verify")
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"entry {forged} (person.role of person priya by dana): it is keyed with a secret " \
           "rotated out" in done.stderr, done.stderr  # fmt: skip
    assert "rotation is not signed" not in done.stderr  # nothing recorded over the forgery


def test_a_token_keyed_with_the_old_secret_on_a_chain_cut_before_the_rotation_never_acts(
    rotated: Rotated,
) -> None:
    """Given the attacker with psql and the old secret, who cuts the chain back to before the
    rotation (so that the old secret seems still in force), writes a token of their own under
    the old secret's key into marco's row and seals it with the old secret, when they sign in
    with it, then the server refuses (401); the next change on the host is refused against the
    witness (it would record the rotation over the forged entry), and verify finds the cut."""
    token = "prc_" + secrets.token_urlsafe(32)
    chosen = keyed_hash(_token_key(OLD), hashlib.sha256(token.encode()).hexdigest())
    engine = sa.create_engine(rotated.url.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DELETE FROM audit_log WHERE action = 'audit.rotated'"))
            conn.execute(sa.text("UPDATE people SET token_hash = :h WHERE name_key = 'marco'"),
                         {"h": chosen})  # fmt: skip
            _append_keyed_with_old(conn, "person:marco", "person.token_reset")
    finally:
        engine.dispose()
    assert rotated.call("marco", "people.list", token=token) == 401
    assert rotated.call("marco", "requests.list", token=token) == 401
    changed = rotated.admin("people", "add", "nora", "--role", "rep")
    assert changed.returncode == 2, changed.stdout + changed.stderr
    assert "does not hold what its witness recorded" in changed.stderr
    assert "witness (database postgresql://" in changed.stderr
    assert rotated.one("SELECT count(*) FROM people WHERE name_key = 'nora'") == (0,)
    done = rotated.admin("audit", "verify")
    assert done.returncode == 1, done.stdout + done.stderr
