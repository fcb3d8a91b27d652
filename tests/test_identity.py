"""Nothing in the database can mint identity (issue 23, finding 2; THREATS.md attack 8).

The attacker holds the database (psql as its owner: a leaked backup credential, a colleague with
a SQL login) and not the server's secret, host or files. Whatever they write into ``people`` (a
token hash of their own, a ghost owner, a raised role) never lets anyone sign in or act, and
`audit verify` names the row. A name removed and added again is a new person, who does not
inherit the earlier person's requests; a role the policy does not know acts as a rep.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from tests.conftest import Cli, postgres_database, write_workbook
from tests.serving import serving
from tests.test_cli_requests import TEAM
from tests.test_policy import POLICY
from tests.test_server import MANAGER_LEVEL, OWNER_LEVEL, SECRET, Team, refused

PEOPLE = {"dana": "owner", "marco": "manager", "priya": "rep", "ravi": "rep"}


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    folder = tmp_path_factory.mktemp("identity")
    with postgres_database() as url:
        made = Team(url, "", folder)
        for name, role in PEOPLE.items():  # dana first: the first person is an owner
            done = made.admin("people", "add", name, "--role", role, "--json")
            assert done.returncode == 0, done.stderr
            made.tokens[name] = json.loads(done.stdout)["token"]
        book = write_workbook(folder / "book.xlsx", {
            "Price Book": [["SKU", "Name", "Family", "List Price", "Unit Cost"],
                           ["HW-200", "Switch", "Hardware", 100, 50]],
        })  # fmt: skip
        policy = folder / "guardrails.toml"
        policy.write_text(POLICY + TEAM)
        for step in (("pricebook", "import", str(book), "--effective", "2026-01-01"),
                     ("policy", "load", str(policy))):  # fmt: skip
            done = made.admin(*step)
            assert done.returncode == 0, done.stderr
        with serving(url, folder, PRICING_SECRET=SECRET) as address:
            made.server = address
            yield made


def psql(team: Team, statement: str, *params: object) -> None:
    """What the attacker does: one statement as the database's owner, committed."""
    with psycopg.connect(team.url) as conn:
        conn.execute(statement, params)  # type: ignore[arg-type]


def stored_hash(team: Team, name: str) -> str:
    return str(team.count(f"SELECT token_hash FROM people WHERE name_key = '{name}'"))


def chosen_token() -> tuple[str, str]:
    """A token the attacker made, and its plain SHA-256 (what they can compute)."""
    token = "prc_" + secrets.token_urlsafe(32)
    return token, hashlib.sha256(token.encode()).hexdigest()


def approve(team: Team, token: str, number: str) -> int:
    """An approval over HTTP with ``token``: the status the server answered."""
    import httpx

    answer = httpx.post(
        f"{team.server}/api/requests.approve", json={"params": {"ident": number}},
        headers={"Authorization": f"Bearer {token}"}, timeout=60,
    )  # fmt: skip
    return answer.status_code


def status(team: Team, number: str) -> str:
    return str(team.count(f"SELECT status FROM requests WHERE id = {int(number[2:])}"))


def test_a_managers_token_hash_replaced_by_one_the_attacker_chose_never_signs_in(
    team: Team,
) -> None:
    """Given an attacker with psql who writes the SHA-256 of a token they chose into marco's
    row, when they approve with that token, then the server refuses it (401) and nothing is
    approved; marco's own hash put back, marco signs in again."""
    pending = team.submit("priya", *MANAGER_LEVEL)
    token, plain = chosen_token()
    kept = stored_hash(team, "marco")
    psql(team, "UPDATE people SET token_hash = %s WHERE name_key = 'marco'", plain)
    try:
        assert approve(team, token, pending["id"]) == 401
        refused(team.client(None, "approve", pending["id"], token=token), 2, "token")
        assert status(team, pending["id"]) == "pending"
    finally:
        psql(team, "UPDATE people SET token_hash = %s WHERE name_key = 'marco'", kept)
    assert team.client_json("marco", "requests", "show", pending["id"])["status"] == "pending"
    assert kept != hashlib.sha256(team.tokens["marco"].encode()).hexdigest()  # stored keyed


def test_a_ghost_owner_inserted_with_a_chosen_hash_never_acts(team: Team) -> None:
    """Given an attacker with psql who inserts an owner row with the hash of a token they
    chose, or with a real person's stored hash moved onto it, when the ghost approves, then
    the server refuses (401) and nothing is approved."""
    pending = team.submit("priya", *OWNER_LEVEL)
    token, plain = chosen_token()
    insert = ("INSERT INTO people (name, name_key, role, token_hash, created_at, created_by) "
              "VALUES ('ghost', 'ghost', 'owner', %s, now(), 'dana')")  # fmt: skip
    psql(team, insert, plain)
    try:
        assert approve(team, token, pending["id"]) == 401
    finally:
        psql(team, "DELETE FROM people WHERE name_key = 'ghost'")
    # The keyed hash of a real person's token, moved onto a ghost owner: the ghost has no seal.
    kept = stored_hash(team, "ravi")
    psql(team, "UPDATE people SET token_hash = NULL WHERE name_key = 'ravi'")
    psql(team, insert, kept)
    try:
        assert approve(team, team.tokens["ravi"], pending["id"]) == 401
        found = team.admin("audit", "verify")
        assert found.returncode == 1 and "person ghost" in found.stdout + found.stderr, found
    finally:
        psql(team, "DELETE FROM people WHERE name_key = 'ghost'")
        psql(team, "UPDATE people SET token_hash = %s WHERE name_key = 'ravi'", kept)
    assert status(team, pending["id"]) == "pending"


def test_a_reps_role_raised_to_owner_by_update_is_refused_at_sign_in_and_found(
    team: Team,
) -> None:
    """Given an attacker with psql who raises priya's role to owner, when priya signs in,
    then the server refuses her (401), logs the refusal without her token, and `audit verify`
    names the row; her role put back, she signs in again."""
    pending = team.submit("ravi", *OWNER_LEVEL)
    psql(team, "UPDATE people SET role = 'owner' WHERE name_key = 'priya'")
    try:
        assert approve(team, team.tokens["priya"], pending["id"]) == 401
        done = team.client("priya", "requests")
        refused(done, 2, "changed outside pricing")
        assert status(team, pending["id"]) == "pending"
        found = team.admin("audit", "verify")
        assert found.returncode == 1 and "person priya" in found.stdout + found.stderr, found
        # The owner's next change to priya would seal the raised role as the owner's: refused.
        before = team.snapshot()
        refused(team.client("dana", "people", "reset", "priya"), 1, "changed outside pricing")
        refused(team.client("dana", "people", "role", "priya", "manager"), 1,
                "changed outside pricing")  # fmt: skip
        assert team.snapshot() == before
    finally:
        psql(team, "UPDATE people SET role = 'rep' WHERE name_key = 'priya'")
    log = (team.folder / "server.log").read_text()
    assert "sign-in refused for 'priya'" in log, log
    assert team.tokens["priya"] not in log
    assert team.client("priya", "requests").returncode == 0
    assert team.admin("audit", "verify").returncode == 0


def test_a_name_removed_and_added_again_is_a_new_person_without_the_old_requests(
    team: Team,
) -> None:
    """Given olga who submitted a request and was removed, when someone called olga is added
    again, then the new olga neither sees nor acts on the earlier olga's request."""
    added = team.admin("people", "add", "olga", "--role", "rep", "--json")
    assert added.returncode == 0, added.stderr
    team.tokens["olga"] = json.loads(added.stdout)["token"]
    earlier = team.submit("olga", *MANAGER_LEVEL)
    assert team.admin("people", "remove", "olga").returncode == 0
    again = team.admin("people", "add", "olga", "--role", "rep", "--json")
    assert again.returncode == 0, again.stderr
    team.tokens["olga"] = json.loads(again.stdout)["token"]
    assert team.client_json("olga", "requests") == []
    refused(team.client("olga", "requests", "show", earlier["id"]), 1, "only managers")
    before = team.snapshot()
    refused(team.client("olga", "requests", "won", earlier["id"]), 1, "who asked")
    assert team.snapshot() == before
    mine = team.submit("olga", *MANAGER_LEVEL)  # her own requests are hers
    assert [r["id"] for r in team.client_json("olga", "requests")] == [mine["id"]]


def test_a_role_the_policy_no_longer_has_keeps_no_rights_beyond_its_own_requests(
    team: Team,
) -> None:
    """Given a director (a level of the policy) and a policy loaded without that level, when
    the director asks for others' requests or the report, then it is refused: the role acts
    as a rep."""
    with_director = POLICY.replace('levels = ["rep", "manager", "owner"]',
                                   'levels = ["rep", "manager", "director", "owner"]')  # fmt: skip
    with_director = with_director.replace("manager = 20.0\n", "manager = 20.0\ndirector = 25.0\n")
    first, second = team.folder / "with-director.toml", team.folder / "without.toml"
    first.write_text(with_director + TEAM)
    second.write_text(POLICY + TEAM)
    assert team.admin("policy", "load", str(first)).returncode == 0
    added = team.admin("people", "add", "dora", "--role", "director", "--json")
    assert added.returncode == 0, added.stderr
    team.tokens["dora"] = json.loads(added.stdout)["token"]
    others = team.submit("priya", *MANAGER_LEVEL)
    assert team.client("dora", "requests", "show", others["id"]).returncode == 0
    assert team.admin("policy", "load", str(second)).returncode == 0
    refused(team.client("dora", "requests", "show", others["id"]), 1, "only managers")
    refused(team.client("dora", "report"), 1, "dora is director")
    assert team.client("dora", "request", "--customer", "Acme", "--reason", "own",
                       *MANAGER_LEVEL).returncode == 0  # fmt: skip


def test_zz_the_audit_holds_after_every_attempt(team: Team) -> None:
    done = team.admin("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr


# The upgrade of a store whose tokens are plain SHA-256 (schema 0010) --------------------------


def _store_at_0010(url: str) -> dict[str, str]:
    """A store at schema 0010 with dana (owner) and priya (rep), their tokens stored as plain
    SHA-256 and their rows sealed in the chain, as pricing 0010 left them: their tokens."""
    import sqlalchemy as sa
    from alembic import command

    from pricing.storage import audit, audit_subjects
    from pricing.storage.migrations import _config
    from pricing.storage.store import Store, utcnow

    before = sa.table("people", *(sa.column(c) for c in (
        "id", "name", "name_key", "role", "email", "token_hash", "created_at", "created_by",
        "removed_at")))  # fmt: skip
    engine = sa.create_engine(url)
    tokens = {name: chosen_token()[0] for name in ("dana", "priya")}
    with engine.begin() as conn:
        command.upgrade(_config(conn), "0010")
        for name, role in (("dana", "owner"), ("priya", "rep")):
            conn.execute(sa.insert(before).values(
                name=name, name_key=name, role=role,
                token_hash=hashlib.sha256(tokens[name].encode()).hexdigest(),
                created_at=utcnow(), created_by="root",
            ))  # fmt: skip
            rows = audit_subjects.raw_rows(conn, sa.select(before).where(before.c.name_key == name))
            conn.info.setdefault(audit_subjects._KNOWN, {})[f"people:{name}"] = (
                audit_subjects.rows_digest("people", rows)
            )
        audit.record(conn, by="root", action="person.added",
                     subjects=[audit.subject("person", n) for n in tokens])  # fmt: skip
    engine.dispose()
    assert Store.connect(url).schema_revision() == "0010"
    return tokens


def test_the_upgrade_keys_plain_token_hashes_and_a_plain_hash_never_signs_in_after(
    no_store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a store whose tokens are stored as plain SHA-256 (schema 0010), when it is
    upgraded with the server's secret, then every token still signs in, its stored hash is
    keyed, the audit holds, and a plain SHA-256 written by hand afterwards never signs in."""
    from pricing import config
    from pricing.access import people
    from pricing.storage import audit
    from pricing.storage.store import SCHEMA_REVISION, Store

    monkeypatch.setenv(config.SECRET, SECRET)
    config.audit_keys.cache_clear()
    tokens = _store_at_0010(no_store_url)
    store = Store.open(no_store_url)  # upgrades
    try:
        assert store.schema_revision() == SCHEMA_REVISION
        for name, token in tokens.items():
            person = people.sign_in(store, token)
            assert person is not None and person.name == name
        assert audit.verify(store).intact
        token, plain = chosen_token()
        with store.write() as conn:
            conn.exec_driver_sql(
                "UPDATE people SET token_hash = ? WHERE name_key = 'priya'", (plain,)
            )
        assert people.sign_in(store, token) is None
    finally:
        store.close()


def test_the_upgrade_without_the_servers_secret_stops_and_changes_nothing(
    no_store_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Given a store at 0010 with plain token hashes, when `db upgrade` runs with another
    secret than the one its audit was keyed with, then it stops (exit 2) naming the server's
    configuration, and the store stays at 0010 with its hashes as they were."""
    from pricing import config

    monkeypatch.setenv(config.SECRET, SECRET)
    config.audit_keys.cache_clear()
    _store_at_0010(no_store_url)
    monkeypatch.setenv(config.SECRET, "another-secret-" + "x" * 40)
    config.audit_keys.cache_clear()
    done = Cli(no_store_url, user="dana")("db", "upgrade")
    assert done.exit_code == 2, done.output
    assert "server's configuration" in done.output and "nothing was changed" in done.output
    from pricing.storage.store import Store

    assert Store.connect(no_store_url).schema_revision() == "0010"
