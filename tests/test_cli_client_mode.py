"""The command line (and the library object) in client mode, without a server: what is refused
before any call (the commands that work on a database of this host), and what the client does
with the answers of `pricing login` and of resetting one's own token (a server faked at
:func:`pricing.client.call`, which every call in client mode goes through)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from pricing import client, config
from pricing.cli import main

SERVER = "http://127.0.0.1:9"  # nothing listens there: a call that went out would fail
LOCAL_TAIL = f" (client mode is on: {SERVER}, from PRICING_SERVER or `pricing login`)"
DB_REFUSAL = (
    "`pricing db` works on the database directly: run it on the server's host with --db"
    + LOCAL_TAIL
)
DEMO_REFUSAL = (
    "`pricing demo` runs on a database of its own, not on the team's server: run it with "
    "--db, or where client mode is off" + LOCAL_TAIL
)


class FakeServer:
    """What the client sent (operation, parameters, the token, the name claimed), answering
    each operation with the document given."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, dict[str, Any], str, str | None]] = []

    def __call__(self, login: config.Login, name: str, params: Any, /, **kw: Any) -> Any:
        self.calls.append((name, dict(params), login.token, kw.get("user")))
        return self.answers[name]


def _run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A person's own configuration folder, and no call may reach a server unless faked."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(client, "call", FakeServer({}))
    return tmp_path


@pytest.mark.parametrize(
    ("args", "refusal"),
    [
        (["db", "status"], DB_REFUSAL),
        (["db", "upgrade"], DB_REFUSAL),
        (["demo", "--dir", "demo"], DEMO_REFUSAL),
    ],
)
def test_a_local_command_in_client_mode_is_refused_exit_2_before_any_call(
    home: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], refusal: str
) -> None:
    """Given client mode on (PRICING_SERVER and a token), when `db status`, `db upgrade` or
    `demo` is run, then it exits 2 saying where to run it and where client mode comes from,
    with the error as the JSON document under --json; nothing is sent, made or written."""
    monkeypatch.setenv(config.SERVER, SERVER)
    monkeypatch.setenv(config.TOKEN, "prc_x")
    done = _run(*args)
    assert (done.exit_code, done.stdout, done.stderr) == (2, "", f"error: {refusal}\n")
    shown = _run("--json", *args)
    assert shown.exit_code == 2 and json.loads(shown.stdout) == {"error": refusal}
    assert shown.stderr == f"error: {refusal}\n"
    assert client.call.calls == []  # type: ignore[attr-defined]
    assert sorted(p.name for p in home.iterdir()) == []  # no database, no demo folder


def test_a_local_command_with_db_runs_on_that_database_whatever_the_client_mode(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given client mode on, when `db upgrade` and `db status` name a database with --db, then
    they work on it (--db means this host's database)."""
    monkeypatch.setenv(config.SERVER, SERVER)
    monkeypatch.setenv(config.TOKEN, "prc_x")
    url = f"sqlite:///{home / 'here.db'}"
    upgraded = _run("--db", url, "--json", "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert json.loads(upgraded.stdout)["from"] is None
    status = _run("--db", url, "--json", "db", "status")
    assert status.exit_code == 0 and json.loads(status.stdout)["state"] == "up to date"


IDENTITY = {"name": "priya", "role": "rep", "registered": True}


def test_login_asks_who_the_token_is_claiming_no_name_and_keeps_it(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a token and a PRICING_USER naming someone (left from embedded use), when the
    person signs in, then the server is asked who the token is, with no name claimed, and the
    answer is printed with the server and where the sign-in is kept."""
    server = FakeServer({"people.whoami": IDENTITY})
    monkeypatch.setattr(client, "call", server)
    monkeypatch.setenv(config.USER, "dana")
    kept = home / "config" / "pricing" / "login.toml"
    done = _run("--json", "login", "--server", SERVER, stdin="prc_priya\n")
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {**IDENTITY, "server": SERVER, "kept_in": str(kept)}
    assert list(json.loads(done.stdout)) == ["name", "role", "registered", "server", "kept_in"]
    assert server.calls == [("people.whoami", {}, "prc_priya", None)]
    said = _run("login", "--server", SERVER, stdin="prc_priya\n")
    assert said.stdout == f"Signed in to {SERVER} as priya (rep); kept in {kept}.\n"
    assert 'token = "prc_priya"' in kept.read_text()


def _reset_answer(*, yours: bool) -> dict[str, Any]:
    return {
        "name": "priya" if yours else "ravi", "role": "rep", "email": None, "active": True,
        "created_at": "2026-01-01T10:00:00Z", "created_by": "dana", "removed_at": None,
        "token": "prc_new", "password": "pw-new", "server": None, "yours": yours,
    }  # fmt: skip


def test_resetting_ones_own_token_keeps_the_new_one_where_the_sign_in_was_kept(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a person signed in with `pricing login` (the token kept), when they reset their
    own token, then the kept sign-in holds the new one and the output says so; the --json
    document is the server's answer as it was."""
    where = config.keep_login(SERVER, "prc_old")
    server = FakeServer({"people.reset": _reset_answer(yours=True)})
    monkeypatch.setattr(client, "call", server)
    done = _run("people", "reset", "priya")
    assert done.exit_code == 0, done.output
    assert f"Your sign-in now uses it ({where})." in done.stdout
    assert 'token = "prc_new"' in where.read_text()
    assert server.calls == [("people.reset", {"name": "priya"}, "prc_old", None)]
    config.keep_login(SERVER, "prc_old")
    shown = _run("--json", "people", "reset", "priya")
    assert json.loads(shown.stdout) == _reset_answer(yours=True)
    assert 'token = "prc_new"' in where.read_text()


def test_resetting_ones_own_token_given_by_the_environment_keeps_nothing(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given client mode from PRICING_SERVER and PRICING_TOKEN (nothing kept, or a kept
    sign-in not in use), when a person resets their own token, then no sign-in is written and
    the output says the old token no longer works; resetting someone else's keeps nothing."""
    where = config.keep_login(SERVER, "prc_kept")
    monkeypatch.setenv(config.SERVER, SERVER)
    monkeypatch.setenv(config.TOKEN, "prc_old")
    monkeypatch.setattr(client, "call", FakeServer({"people.reset": _reset_answer(yours=True)}))
    done = _run("people", "reset", "priya")
    assert done.exit_code == 0, done.output
    assert "Your old token no longer works: sign in with `pricing login --server URL`." in (
        done.stdout
    )
    assert 'token = "prc_kept"' in where.read_text()
    monkeypatch.delenv(config.SERVER)
    monkeypatch.delenv(config.TOKEN)
    monkeypatch.setattr(client, "call", FakeServer({"people.reset": _reset_answer(yours=False)}))
    other = _run("people", "reset", "ravi")
    assert other.exit_code == 0 and "Their token and web password" in other.stdout
    assert 'token = "prc_kept"' in where.read_text()


# The library object opened on a server: the same methods, the same decisions -------------------


def test_an_object_opened_on_a_server_refuses_the_local_methods_and_no_server_serves_them(
    home: Path,
) -> None:
    """Given `pricing.open` on a server's address, when a method that works only on this
    host's database is called, then it is refused (InputError, the reason and the server
    named) before anything is sent; the server's operations leave them out, the library's
    reference has them."""
    import pricing
    from pricing.errors import InputError
    from pricing.operations import find, load_all

    with pricing.open(SERVER, token="prc_x") as p:
        for call in (p.db_status, p.db_upgrade, lambda: p.new_demo(folder=home / "demo")):
            with pytest.raises(InputError, match=re.escape(f"client mode is on: {SERVER}")):
                call()
    assert client.call.calls == []  # type: ignore[attr-defined]
    assert not (home / "demo").exists()
    local = {"db.status", "db.upgrade", "demo.new"}
    assert local & set(load_all()) == set() and local <= set(load_all(local=True))
    assert find("db.status").local is not None and find("db.check").local is None


def test_an_object_opened_on_a_database_answers_db_status_and_upgrade_as_the_cli_prints(
    home: Path,
) -> None:
    import pricing
    from pricing.results.store import DbStatus, DbUpgrade

    url = f"sqlite:///{home / 'lib.db'}"
    with pricing.open(url, user="dana") as p:
        upgraded = p.db_upgrade()
        status = p.db_status()
    assert type(upgraded) is DbUpgrade and upgraded.from_ is None and upgraded.changed
    assert type(status) is DbStatus and status.state == "up to date"
    printed = _run("--db", url, "--json", "db", "status")
    assert json.loads(printed.stdout) == status.model_dump(mode="json")


def test_an_object_on_a_server_signs_in_with_its_own_new_token_and_writes_no_sign_in(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given `pricing.open` on a server with a token given (not the kept sign-in), when the
    caller resets their own token, then the object goes on with the new one and no sign-in is
    written; resetting someone else's changes nothing."""
    import pricing

    server = FakeServer({"people.reset": _reset_answer(yours=True)})
    monkeypatch.setattr(client, "call", server)
    with pricing.open(SERVER, token="prc_old") as p:
        made = p.reset_token(name="priya")
        assert made.kept_in is None and p.login is not None and p.login.token == "prc_new"
        server.answers["people.reset"] = _reset_answer(yours=False)
        p.reset_token(name="ravi")
        assert p.login.token == "prc_new"
    assert [token for _, _, token, _ in server.calls] == ["prc_old", "prc_new"]
    assert not config.login_file().exists()
    assert "kept_in" not in made.model_dump(mode="json")
