"""Mail: the approvers are told a request waits for them, the salesperson of each decision.

Against a real SMTP server the tests start (aiosmtpd on 127.0.0.1). Given the sales team, each
with an email address (dana the owner, marco and nina managers, priya a rep): priya's request
that needs a manager mails dana, marco and nina, never priya; the mail links to the request's
page, which asks for a sign-in and decides nothing by being opened.
"""

from __future__ import annotations

import email
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from pricing.server.mailer import Mailer
from pricing.storage import store as stored
from tests.conftest import Cli, build_sales
from tests.serving import free_port, serving
from tests.test_cli_requests import ask

BASE = "https://pricing.example.com"


@dataclass
class Mailbox:
    """What the SMTP server received: each message with the addresses it was for."""

    received: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.received.append((list(envelope.rcpt_tos), message))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for rcpt, m in self.received if address in rcpt]

    def wait_for(self, count: int, seconds: float = 15) -> None:
        deadline = time.monotonic() + seconds
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)


@contextmanager
def smtp_server(port: int) -> Iterator[Mailbox]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


def mail_environment(port: int) -> dict[str, str]:
    return {"PRICING_SMTP_HOST": "127.0.0.1", "PRICING_SMTP_PORT": str(port),
            "PRICING_SMTP_SENDER": "pricing@example.com", "PRICING_BASE_URL": BASE}  # fmt: skip


@dataclass
class Team:
    cli: Cli
    port: int
    store: stored.Store

    def outbox(self) -> Any:
        from pricing.storage import outbox

        with self.store.read() as conn:
            return outbox.state(conn)


@pytest.fixture
def team(db_url: str, built: Callable[..., Cli], monkeypatch: pytest.MonkeyPatch) -> Iterator[Team]:
    """On SQLite and on PostgreSQL (where two servers' mailers really overlap)."""
    cli = built("sales", Cli(db_url), build_sales)
    for name, role in (("dana", "owner"), ("marco", "manager"), ("nina", "manager"),
                       ("priya", "rep")):  # fmt: skip
        added = cli("people", "add", name, "--role", role, "--email", f"{name}@example.com",
                    user="dana")  # fmt: skip
        assert added.exit_code == 0, added.output
    port = free_port()
    for name, value in mail_environment(port).items():
        monkeypatch.setenv(name, value)
    yield Team(cli, port, cli.store())
    cli.close()


def body(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content()).replace("\r\n", "\n")


def test_each_approver_is_mailed_a_link_to_the_request_and_the_rep_is_not(team: Team) -> None:
    ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")  # needs a manager
    with smtp_server(team.port) as box:
        assert Mailer(team.store).send_due() == 3
    assert sorted(r[0] for r, _ in box.received) == [
        "dana@example.com", "marco@example.com", "nina@example.com",
    ]  # fmt: skip
    assert box.to("priya@example.com") == []
    message = box.to("marco@example.com")[0]
    assert message["From"] == "pricing@example.com"
    assert (
        message["Subject"] == "Approval needed: Acme, 5,700.00 USD at standard, manager: R-000001"
    )
    text = body(message)
    assert "priya asks for a special price for Acme.\nWhy: competitive bid\n" in text
    assert "HW-100 x 50: 96.90 USD each, 15.00 % off standard 114.00 USD" in text
    assert f"{BASE}/requests/R-000001" in text
    assert team.outbox().waiting == 0 and team.outbox().sent == 3


def test_the_link_opens_the_page_after_sign_in_and_never_decides(team: Team) -> None:
    from anyio.from_thread import start_blocking_portal

    from pricing.server.app import create_app
    from tests.test_web_pages import Browser

    ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")
    app = create_app(team.cli.db_url)
    with start_blocking_portal() as portal:
        scanner = Browser(app, portal)  # a mail scanner following the link, as it does
        opened = scanner.get("/requests/R-000001")
        assert opened.status_code == 303
        assert opened.headers["location"] == "/login?next=/requests/R-000001"
    app.state.store.close()
    assert team.cli.json("requests", "show", "R-000001", user="dana")["status"] == "pending"


def test_the_rep_is_mailed_each_decision_and_the_expiry(team: Team) -> None:
    ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")
    ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")
    approved = team.cli("approve", "R-000001", "--note", "strategic account", user="marco")
    assert approved.exit_code == 0
    rejected = team.cli("reject", "R-000002", "--note", "not this quarter", user="nina")
    assert rejected.exit_code == 0
    with smtp_server(team.port) as box:
        Mailer(team.store).send_due()
        told = {m["Subject"]: body(m) for m in box.to("priya@example.com")}
        assert "R-000001 for Acme was approved by marco" in told
        assert "Their note: strategic account" in told["R-000001 for Acme was approved by marco"]
        assert "R-000002 for Acme was rejected by nina" in told
        assert "not this quarter" in told["R-000002 for Acme was rejected by nina"]
        from pricing.requests import lifecycle

        later = stored.utcnow() + timedelta(days=400)
        lifecycle.list_requests(team.store, now=later)  # the approval's validity has passed
        Mailer(team.store).send_due(now=later)
        expired = [m for m in box.to("priya@example.com") if "expired" in m["Subject"]]
    assert [m["Subject"] for m in expired] == ["R-000001 for Acme has expired"]


def test_with_the_mail_server_down_requests_are_stored_at_once_and_mail_goes_later(
    team: Team,
) -> None:
    started = time.monotonic()
    ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")  # nobody listens on the port
    mailer = Mailer(team.store)
    assert mailer.send_due() == 0
    assert time.monotonic() - started < 10
    state = team.outbox()
    assert (state.waiting, state.failing) == (3, 3)
    assert "ConnectionRefusedError" in state.last_error
    status = team.cli("db", "status")
    assert (
        "Mail the mail server has not taken" in status.stdout
        and "ConnectionRefusedError" in status.stdout
    )
    assert team.cli.json("requests", "show", "R-000001", user="dana")["status"] == "pending"
    with smtp_server(team.port) as box:
        assert mailer.send_due() == 0  # not yet: it waits its retry time
        assert mailer.send_due(now=stored.utcnow() + timedelta(seconds=31)) == 3
    assert len(box.received) == 3 and team.outbox().waiting == 0


def test_a_mail_is_never_sent_twice_not_after_a_restart_nor_by_two_servers(team: Team) -> None:
    for _ in range(3):
        ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")
    with smtp_server(team.port) as box:
        mailers = [Mailer(team.store), Mailer(team.store)]  # two server processes at once
        threads = [threading.Thread(target=m.send_due) for m in mailers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert Mailer(team.store).send_due() == 0  # a server started again
    assert len(box.received) == 9
    assert len({m["Message-ID"] for _, m in box.received}) == 9


def test_nobody_is_mailed_from_a_person_row_written_into_the_database_by_hand(
    team: Team,
) -> None:
    """Someone holding only the database (THREATS.md) cannot have the deal's prices mailed to
    an address of theirs: not by editing an approver's address, not by inserting an owner."""
    from sqlalchemy import update

    from pricing.storage.store import people

    with team.store.write() as conn:
        conn.execute(update(people).where(people.c.name_key == "marco")
                     .values(email="mallory@evil.example"))  # fmt: skip
        conn.execute(people.insert().values(
            name="eve", name_key="eve", role="owner", email="eve@evil.example",
            created_at=stored.utcnow(), created_by="dana"))  # fmt: skip
    ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")
    with smtp_server(team.port) as box:
        Mailer(team.store).send_due()
    told = sorted(r[0] for r, _ in box.received)
    assert told == ["dana@example.com", "nina@example.com"]


def test_what_a_rep_typed_stays_on_one_line_of_the_mail(team: Team) -> None:
    result = team.cli("request", "--customer", "Acme\nOpen it here: http://evil.example/approve",
                      "--reason", "bid\r\nBcc: x@evil.example", "HW-100", "--qty", "50",
                      "--price", "96.90", user="priya")  # fmt: skip
    assert result.exit_code == 0, result.output
    with smtp_server(team.port) as box:
        Mailer(team.store).send_due()
    text = body(box.to("marco@example.com")[0])
    assert not any(line.startswith(("Open it here", "Bcc")) for line in text.splitlines())
    assert "Acme Open it here: http://evil.example/approve" in text


def test_a_request_decided_before_its_mail_went_is_not_mailed_for_a_decision(team: Team) -> None:
    ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")  # the mail server is down
    assert team.cli("approve", "R-000001", user="nina").exit_code == 0
    with smtp_server(team.port) as box:
        Mailer(team.store).send_due()
    assert [m["Subject"] for _, m in box.received] == ["R-000001 for Acme was approved by nina"]
    assert team.outbox().unsent == 3 and team.outbox().waiting == 0


def test_a_changed_request_that_needs_a_decision_again_says_so(team: Team) -> None:
    ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")
    assert team.cli("approve", "R-000001", user="nina").exit_code == 0
    changed = team.cli("requests", "change", "R-000001", "HW-100", "--qty", "60", "--price",
                       "96.90", user="priya")  # fmt: skip
    assert changed.exit_code == 0, changed.output
    with smtp_server(team.port) as box:
        Mailer(team.store).send_due()
    again = [m for m in box.to("marco@example.com") if "again" in m["Subject"]]
    assert len(again) == 1 and "an approval given before no longer stands" in body(again[0])


def test_a_mail_written_into_the_database_by_hand_is_never_sent(team: Team) -> None:
    from pricing.storage import outbox

    phishing = outbox.Mail("decision_needed", "dana@example.com", "Approval needed: urgent",
                           "Sign in here:", "//evil.example/login", None)  # fmt: skip
    with team.store.write() as conn:
        outbox.put(conn, phishing, sealed="0" * 64, at=stored.utcnow())

    with smtp_server(team.port) as box:
        assert Mailer(team.store).send_due() == 0
    assert box.received == []
    assert "its seal does not hold" in (team.outbox().last_error or "")
    assert team.outbox().unsent == 1


def test_the_server_sends_the_outbox_while_it_runs(team: Team, tmp_path: Path) -> None:
    env = {**mail_environment(team.port), "PRICING_MAIL_INTERVAL": "0.2"}
    with smtp_server(team.port) as box:
        with serving(team.cli.db_url, tmp_path, **env):
            ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")
            box.wait_for(3)
            assert len(box.received) == 3
        with serving(team.cli.db_url, tmp_path, **env):  # started again: nothing twice
            ask(team.cli, "HW-100", "--qty", "50", "--price", "80")  # the owner's: dana only
            box.wait_for(4)
            time.sleep(0.5)
    assert len(box.received) == 4
    assert box.received[-1][0] == ["dana@example.com"]


def test_mail_settings_come_from_the_file_and_a_password_goes_only_over_starttls(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pricing import config
    from pricing.errors import ConfigError

    for name in config.MAIL_ENV.values():
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "smtp-password").write_text("s3cret\n")
    server = tmp_path / "server.toml"
    server.write_text('[mail]\nhost = "smtp.example.com"\nsender = "pricing@example.com"\n'
                      'user = "pricing"\npassword_file = "smtp-password"\n')  # fmt: skip
    monkeypatch.setenv(config.CONFIG, str(server))
    config.settings.cache_clear()
    with pytest.raises(ConfigError, match="only over STARTTLS"):
        config.mail_settings()
    monkeypatch.setenv("PRICING_SMTP_STARTTLS", "1")
    settings = config.mail_settings()
    assert settings is not None
    assert (settings.host, settings.port, settings.starttls) == ("smtp.example.com", 587, True)
    assert settings.password_file == tmp_path / "smtp-password"
    server.write_text('[mail]\nhost = "smtp.example.com"\nsendr = "typo"\n')
    config.settings.cache_clear()
    with pytest.raises(ConfigError, match="unknown mail setting 'sendr'"):
        config.mail_settings()


def test_the_owner_changes_an_address_and_the_mail_goes_there(team: Team) -> None:
    assert team.cli("people", "email", "marco", "marco@new.example", user="dana").exit_code == 0
    refused = team.cli("people", "email", "marco", "x@evil.example", user="priya")
    assert refused.exit_code == 1 and "owner" in refused.stderr
    wrong = team.cli("people", "email", "nina", "not an address", user="dana")
    assert wrong.exit_code == 2 and "is not an email address" in wrong.stderr
    assert team.cli("people", "email", "nina", "--none", user="dana").exit_code == 0
    ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")
    with smtp_server(team.port) as box:
        Mailer(team.store).send_due()
    assert sorted(r[0] for r, _ in box.received) == ["dana@example.com", "marco@new.example"]
    assert team.cli("audit", "verify", user="dana").exit_code == 0
