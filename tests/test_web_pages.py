"""The approver's pages, as a browser without a script uses them (the same server, in process).

Given the sales team (dana the owner, marco and nina managers, priya a rep) and a request of
priya's that needs a manager: marco signs in with the password `people add` printed, finds it in
his inbox, opens it and approves it, and priya sees it approved on her page. Everything a page
refuses is a message on it, and nothing a page does is outside the rules the CLI is held to.
(tests/test_browser.py drives the same story in a real browser.)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from pricing.server.app import create_app
from tests.conftest import Cli, build_sales
from tests.test_cli_requests import ask


class Browser:
    """A browser without a script: it keeps its cookies, follows no redirect by itself."""

    def __init__(self, app: Any, portal: BlockingPortal, address: str = "127.0.0.1") -> None:
        self.portal = portal
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 50000)),
            base_url="http://testserver",
        )
        self.cookies = self.client.cookies

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(lambda: self.client.get(path, **kwargs))

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(lambda: self.client.post(path, **kwargs))


@dataclass
class Team:
    cli: Cli
    passwords: dict[str, str]
    app: Any
    portal: BlockingPortal

    def browser(self, address: str = "127.0.0.1") -> Browser:
        return Browser(self.app, self.portal, address)

    def signed_in(self, name: str, password: str | None = None) -> Browser:
        """A browser signed in as ``name``: on the printed password, they first choose their
        own, as the pages ask (``passwords`` then holds it)."""
        browser = self.browser()
        answer = sign_in(browser, name, password or self.passwords[name])
        assert answer.status_code == 303, answer.text
        if answer.headers["location"].startswith("/password"):
            own = f"{name}'s own password"
            token = form_token(browser.get("/password").text)
            chosen = browser.post("/password", data={"current": self.passwords[name], "new": own,
                                                     "again": own, "csrf": token})  # fmt: skip
            assert chosen.status_code == 303, chosen.text
            self.passwords[name] = own
        return browser


def form_token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def sign_in(browser: Browser, name: str, password: str) -> httpx.Response:
    page = browser.get("/login")
    return browser.post(
        "/login", data={"name": name, "password": password, "csrf": form_token(page.text)}
    )


@pytest.fixture
def team(sqlite_url: str, built: Callable[..., Cli]) -> Iterator[Team]:
    cli = built("sales", Cli(sqlite_url), build_sales)
    passwords = {}
    for name, role in (("dana", "owner"), ("marco", "manager"), ("nina", "manager"),
                       ("priya", "rep")):  # fmt: skip
        passwords[name] = cli.json("people", "add", name, "--role", role, user="dana")["password"]
    ask(cli, "HW-100", "--qty", "50", "--price", "96.90")  # R-000001: priya's, needs a manager
    app = create_app(sqlite_url)
    with start_blocking_portal() as portal:
        yield Team(cli, passwords, app, portal)
    app.state.store.close()
    cli.close()


def status(team: Team, code: str) -> str:
    return str(team.cli.json("requests", "show", code, user="dana")["status"])


def test_a_manager_signs_in_finds_the_request_in_the_inbox_and_approves_it(team: Team) -> None:
    marco = team.browser()
    first = sign_in(marco, "marco", team.passwords["marco"])
    assert first.status_code == 303
    assert first.headers["location"] == "/password?next=/inbox"  # the printed one: choose first
    cookie = first.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "pricing_session=" in cookie
    assert marco.get("/inbox").headers["location"] == "/password?next=/inbox"  # not before
    page = marco.get("/password?next=/inbox")
    assert "first sign-in" in page.text
    chosen = marco.post("/password", data={
        "current": team.passwords["marco"], "new": "marco's own secret",
        "again": "marco's own secret", "next": "/inbox", "csrf": form_token(page.text)})  # fmt: skip
    assert chosen.status_code == 303 and chosen.headers["location"] == "/inbox"
    inbox = marco.get("/inbox")
    assert inbox.status_code == 200
    assert "R-000001" in inbox.text and "Acme" in inbox.text and "manager" in inbox.text
    assert "5,700.00 USD" in inbox.text  # 50 x 114 at standard
    assert "15.00 %" in inbox.text and "competitive bid" in inbox.text
    page = marco.get("/requests/R-000001")
    assert page.status_code == 200 and "Approve" in page.text
    done = marco.post("/requests/R-000001/decide",
                      data={"outcome": "approve", "note": "strategic account",
                            "csrf": form_token(page.text)})  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == "/requests/R-000001?decided=1"
    assert "R-000001 approved." in marco.get(done.headers["location"]).text
    assert status(team, "R-000001") == "approved"
    shown = team.cli.json("requests", "show", "R-000001", user="dana")
    assert shown["decided_by"] == "marco"
    assert shown["events"][-1] == {
        **shown["events"][-1],
        "by": "marco",
        "note": "strategic account",
    }
    assert "R-000001" not in marco.get("/inbox").text
    priya = team.signed_in("priya")
    mine = priya.get("/mine")
    assert "R-000001" in mine.text and 'class="status approved"' in mine.text


def test_a_rep_sees_no_inbox_entry_for_her_own_request_and_cannot_approve_it_by_hand(
    team: Team,
) -> None:
    priya = team.signed_in("priya")
    assert "R-000001" not in priya.get("/inbox").text
    page = priya.get("/requests/R-000001")
    assert page.status_code == 200 and "Approve" not in page.text
    refused = priya.post("/requests/R-000001/decide",
                         data={"outcome": "approve", "csrf": form_token(page.text)})  # fmt: skip
    assert refused.status_code == 403
    assert "nobody decides their own request" in refused.text
    assert "Traceback" not in refused.text
    assert status(team, "R-000001") == "pending"


def test_a_level_too_low_and_a_request_decided_a_moment_ago_are_messages(team: Team) -> None:
    ask(team.cli, "HW-100", "--qty", "50", "--price", "80")  # R-000002: the owner's
    marco, nina = team.signed_in("marco"), team.signed_in("nina")
    assert "R-000002" not in marco.get("/inbox").text
    token = form_token(marco.get("/requests/R-000002").text)
    low = marco.post("/requests/R-000002/decide", data={"outcome": "approve", "csrf": token})
    assert low.status_code == 403 and "needs owner or above; marco is manager" in low.text
    seen_by_marco = form_token(marco.get("/requests/R-000001").text)
    nina_token = form_token(nina.get("/requests/R-000001").text)
    assert nina.post("/requests/R-000001/decide",
                     data={"outcome": "reject", "note": "not this quarter",
                           "csrf": nina_token}).status_code == 303  # fmt: skip
    late = marco.post("/requests/R-000001/decide",
                      data={"outcome": "approve", "csrf": seen_by_marco})  # fmt: skip
    assert late.status_code == 403 and "rejected by nina" in late.text
    no_note = marco.post("/requests/R-000002/decide", data={"outcome": "reject", "csrf": token})
    assert no_note.status_code == 400 and "Say why the request is rejected" in no_note.text
    assert status(team, "R-000001") == "rejected" and status(team, "R-000002") == "pending"


def test_rejecting_needs_a_note(team: Team) -> None:
    marco = team.signed_in("marco")
    token = form_token(marco.get("/requests/R-000001").text)
    refused = marco.post("/requests/R-000001/decide", data={"outcome": "reject", "csrf": token})
    assert refused.status_code == 400 and "Say why the request is rejected" in refused.text
    assert status(team, "R-000001") == "pending"


def test_a_form_posted_without_its_token_decides_nothing(team: Team) -> None:
    marco = team.signed_in("marco")
    for data in ({"outcome": "approve"}, {"outcome": "approve", "csrf": "forged"}):
        refused = marco.post("/requests/R-000001/decide", data=data)
        assert refused.status_code == 403 and "nothing was decided" in refused.text
    other = team.signed_in("nina")  # another session's token is not this one's
    stolen = form_token(other.get("/requests/R-000001").text)
    refused = marco.post("/requests/R-000001/decide", data={"outcome": "approve", "csrf": stolen})
    assert refused.status_code == 403
    assert status(team, "R-000001") == "pending"


def test_a_wrong_password_opens_nothing(team: Team) -> None:
    browser = team.browser()
    for name, password in (("marco", "wrong-password"), ("marco", team.passwords["priya"]),
                           ("nobody", team.passwords["marco"]), ("marco", "")):  # fmt: skip
        refused = sign_in(browser, name, password)
        assert refused.status_code in (401, 422), (name, refused.text)
        assert "pricing_session=" not in refused.headers.get("set-cookie", "")
    assert browser.get("/inbox").status_code == 303  # to the sign-in page
    assert browser.get("/inbox").headers["location"] == "/login?next=/inbox"


def test_the_sign_in_form_needs_its_own_token(team: Team) -> None:
    browser = team.browser()
    refused = browser.post("/login", data={"name": "marco", "password": team.passwords["marco"]})
    assert refused.status_code == 400 and "pricing_session=" not in str(refused.headers)


def test_failed_sign_ins_are_slowed_per_name_and_per_address(team: Team) -> None:
    for attempt in range(10):  # ten addresses guessing one name
        guess = sign_in(team.browser(f"10.0.0.{attempt}"), "marco", f"guess-{attempt}")
        assert guess.status_code == 401
    locked = sign_in(team.browser("10.0.1.1"), "marco", team.passwords["marco"])
    assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
    for attempt in range(10):  # one address guessing ten names
        assert sign_in(team.browser("10.0.2.2"), f"name{attempt}", "guess").status_code == 401
    locked = sign_in(team.browser("10.0.2.2"), "nina", team.passwords["nina"])
    assert locked.status_code == 429
    assert sign_in(team.browser("10.0.3.3"), "nina", team.passwords["nina"]).status_code == 303


def test_the_sign_in_form_cannot_be_posted_from_another_site(team: Team) -> None:
    """Login CSRF: another site's form signing the victim's browser in as the attacker."""
    browser = team.browser()
    for token in ("\0", "", "guess"):
        forged = browser.post("/login", data={"name": "priya", "csrf": token,
                                              "password": team.passwords["priya"]})  # fmt: skip
        assert forged.status_code == 400, token
        assert "pricing_session" not in forged.headers.get("set-cookie", "")


def test_another_sites_post_to_sign_out_changes_nothing(team: Team) -> None:
    marco = team.signed_in("marco")
    refused = marco.post("/logout", data={})
    assert "pricing_session" not in refused.headers.get("set-cookie", "")
    assert marco.get("/inbox").status_code == 200


def test_a_rep_cannot_learn_another_reps_request_by_deciding_it(team: Team) -> None:
    team.cli("people", "add", "ravi", "--role", "rep", user="dana")
    ask(team.cli, "SW-1", "--qty", "1", "--price", "50", user="ravi")  # R-000002: ravi's
    priya = team.signed_in("priya")
    token = form_token(priya.get("/inbox").text)
    refused = priya.post("/requests/R-000002/decide", data={"outcome": "approve", "csrf": token})
    said = re.search(r'role="alert">([^<]*)<', refused.text)
    assert refused.status_code == 403 and said is not None
    assert "ravi" in said.group(1) and "pending" not in said.group(1)  # whose, not its state


def test_a_person_chooses_a_password_and_the_printed_one_stops_working(team: Team) -> None:
    printed = team.passwords["marco"]
    marco = team.signed_in("marco")  # chooses "marco's own password"
    elsewhere = team.signed_in("marco")
    token = form_token(marco.get("/password").text)
    short = marco.post("/password", data={"current": team.passwords["marco"], "new": "short",
                                          "again": "short", "csrf": token})  # fmt: skip
    assert short.status_code == 400 and "A password of at least 10 characters" in short.text
    changed = marco.post("/password", data={"current": team.passwords["marco"],
                                            "new": "a long new secret", "again": "a long new secret",
                                            "next": "/mine", "csrf": token})  # fmt: skip
    assert changed.status_code == 303 and changed.headers["location"] == "/mine"
    assert marco.get("/inbox").status_code == 200  # this browser stays signed in
    assert elsewhere.get("/inbox").status_code == 303  # the other is signed out
    for old in (printed, "marco's own password"):
        assert sign_in(team.browser(), "marco", old).status_code == 401
    now = sign_in(team.browser(), "marco", "a long new secret")
    assert now.status_code == 303 and now.headers["location"] == "/inbox"


def test_wrong_current_passwords_are_slowed_as_sign_ins_are(team: Team) -> None:
    marco = team.signed_in("marco")
    token = form_token(marco.get("/password").text)
    for attempt in range(10):
        wrong = marco.post("/password", data={"current": f"guess {attempt}", "new": "x" * 12,
                                              "again": "x" * 12, "csrf": token})  # fmt: skip
        assert wrong.status_code == 403
    locked = marco.post("/password", data={"current": team.passwords["marco"], "new": "y" * 12,
                                           "again": "y" * 12, "csrf": token})  # fmt: skip
    assert locked.status_code == 429


def test_signing_out_ends_the_session_even_for_a_kept_cookie(team: Team) -> None:
    marco = team.signed_in("marco")
    kept = dict(marco.cookies)
    token = form_token(marco.get("/inbox").text)
    assert marco.post("/logout", data={"csrf": token}).status_code == 303
    replay = team.browser()
    replay.cookies.update(kept)
    assert replay.get("/inbox").status_code == 303


def test_a_reset_signs_the_person_out_and_prints_a_new_password(team: Team) -> None:
    marco = team.signed_in("marco")
    new = team.cli.json("people", "reset", "marco", user="dana")["password"]
    assert new != team.passwords["marco"]
    assert marco.get("/inbox").status_code == 303
    assert sign_in(team.browser(), "marco", team.passwords["marco"]).status_code == 401
    assert sign_in(team.browser(), "marco", new).status_code == 303


def test_a_removed_person_can_no_longer_sign_in(team: Team) -> None:
    marco = team.signed_in("marco")
    assert team.cli("people", "remove", "marco", user="dana").exit_code == 0
    assert marco.get("/inbox").status_code == 303
    assert sign_in(team.browser(), "marco", team.passwords["marco"]).status_code == 401


def test_sign_ins_and_decisions_on_the_pages_are_in_the_audit(team: Team) -> None:
    marco = team.signed_in("marco")
    token = form_token(marco.get("/requests/R-000001").text)
    marco.post("/requests/R-000001/decide", data={"outcome": "approve", "csrf": token})
    store = team.cli.store()
    from sqlalchemy import select

    from pricing.storage.store import audit_log

    with store.read() as conn:
        entries = conn.execute(select(audit_log.c.by, audit_log.c.action, audit_log.c.subject,
                                      audit_log.c.note)).all()  # fmt: skip
    assert any(e.action == "person.signed_in" and e.by == "marco"
               and e.note.startswith("web pages, from") for e in entries)  # fmt: skip
    assert any(e.by == "marco" and e.subject.startswith("request:") for e in entries)
    assert team.cli("audit", "verify", user="dana").exit_code == 0


def test_pages_load_nothing_from_elsewhere_and_cannot_be_framed(team: Team) -> None:
    marco = team.signed_in("marco")
    for path in ("/login", "/inbox", "/mine", "/requests/R-000001", "/password"):
        page = marco.get(path)
        assert page.status_code == 200, path
        policy = page.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert page.headers["cache-control"] == "no-store"
        assert not re.search(r'(src|href)="(https?:)?//', page.text), path
        assert '<meta name="viewport"' in page.text


def test_after_signing_in_the_page_asked_for_opens_and_never_another_site(team: Team) -> None:
    marco = team.browser()
    assert marco.get("/requests/R-000001").headers["location"] == "/login?next=/requests/R-000001"
    page = marco.get("/login?next=/requests/R-000001")
    assert 'name="next" value="/requests/R-000001"' in page.text
    for elsewhere in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        page = marco.get("/login", params={"next": elsewhere})
        assert 'name="next" value="/inbox"' in page.text, elsewhere


def test_a_request_one_may_not_read_is_a_message(team: Team) -> None:
    team.cli("people", "add", "ravi", "--role", "rep", user="dana")
    ask(team.cli, "SW-1", "--qty", "1", "--price", "50", user="ravi")  # another rep's
    priya = team.signed_in("priya")
    refused = priya.get("/requests/R-000002")
    assert refused.status_code == 403 and "Traceback" not in refused.text
    missing = priya.get("/requests/R-000099")
    assert missing.status_code == 404 and "no request R-000099" in missing.text


def test_the_inbox_lists_oldest_first_with_the_engines_reasons(team: Team) -> None:
    ask(team.cli, "HW-100", "--qty", "50", "--price", "90")  # R-000002, needs a manager? or more
    dana = team.signed_in("dana")
    inbox = dana.get("/inbox").text
    assert inbox.index("R-000001") < inbox.index("R-000002")
    assert '<ul class="reasons">' in inbox


def test_the_cli_lists_what_waits_for_me(team: Team) -> None:
    waiting = team.cli.json("requests", "--waiting-for-me", user="marco")
    assert [r["id"] for r in waiting] == ["R-000001"]
    assert team.cli.json("inbox", user="priya") == []
    assert [r["id"] for r in team.cli.json("inbox", user="dana")] == ["R-000001"]
    table = team.cli("inbox", user="marco").stdout
    assert "Why" in table and "competitive bid" in table and "5,700.00 USD" in table
    assert "Decided by" not in table
    assert team.cli("inbox", user="priya").stdout.strip() == "No requests waiting for you."


def test_a_password_or_session_written_into_the_database_opens_nothing(team: Team) -> None:
    """Someone who can write to the database but holds no server secret (THREATS.md): a
    rep's own password hash copied onto the owner's row, an unkeyed argon2 hash of a chosen
    password, the rep's session row moved to the owner, a row made for a cookie of their own."""
    import base64
    import hashlib

    from argon2 import PasswordHasher
    from sqlalchemy import select, update

    from pricing.storage.store import passwords, utcnow, web_sessions

    store = team.cli.store()
    with store.write() as conn:
        priyas = conn.execute(select(passwords.c.hash).where(passwords.c.name_key == "priya"))
        conn.execute(update(passwords).where(passwords.c.name_key == "dana")
                     .values(hash=priyas.scalar_one()))  # fmt: skip
    assert sign_in(team.browser(), "dana", team.passwords["priya"]).status_code == 401
    with store.write() as conn:
        conn.execute(update(passwords).where(passwords.c.name_key == "dana")
                     .values(hash=PasswordHasher().hash("chosen by mallory")))  # fmt: skip
    assert sign_in(team.browser(), "dana", "chosen by mallory").status_code == 401

    priya = team.signed_in("priya")
    with store.write() as conn:
        conn.execute(update(web_sessions).values(name_key="dana"))
    assert priya.get("/inbox").status_code == 303  # her cookie names her: no row is hers now
    forged = f"{base64.urlsafe_b64encode(b'dana').decode().rstrip('=')}.4102444800.mallory"
    with store.write() as conn:
        conn.execute(web_sessions.insert().values(
            id_hash=hashlib.sha256(forged.encode()).hexdigest(), name_key="dana",
            created_at=utcnow(), expires_at=utcnow().replace(year=2100)))  # fmt: skip
    mallory = team.browser()
    mallory.cookies.set("pricing_session", forged)
    assert mallory.get("/inbox").status_code == 303
    assert status(team, "R-000001") == "pending"


def test_a_person_whose_row_was_edited_behind_the_tools_back_cannot_sign_in(team: Team) -> None:
    from sqlalchemy import update

    from pricing.storage.store import people

    marco = team.signed_in("marco")
    with team.cli.store().write() as conn:  # priya raised to owner by hand
        conn.execute(update(people).where(people.c.name_key == "priya").values(role="owner"))
    assert sign_in(team.browser(), "priya", team.passwords["priya"]).status_code == 401
    with team.cli.store().write() as conn:
        conn.execute(update(people).where(people.c.name_key == "marco").values(role="owner"))
    assert marco.get("/inbox").status_code == 303


def test_the_owner_reads_the_drift_report_for_a_period_and_a_rep_is_refused(
    team: Team, tmp_path: Any
) -> None:
    deals = tmp_path / "deals.csv"
    deals.write_text(
        "Order ID,Order Date,Customer,Rep,SKU,Quantity,Net Price\n"
        "SO-1,2026-02-01,Acme,priya,HW-100,10,1080.00\n"
        "SO-2,2026-03-05,Globex,ravi,HW-200,5,450.00\n"
    )
    assert team.cli("deals", "import", str(deals), user="dana").exit_code == 0
    dana = team.signed_in("dana")
    whole = dana.get("/report")
    assert whole.status_code == 200 and "<svg" in whole.text
    assert "priya" in whole.text and "ravi" in whole.text
    assert whole.headers["content-security-policy"].startswith("default-src 'none'")
    february = dana.get("/report", params={"from": "2026-02-01", "to": "2026-02-28", "by": "rep"})
    assert "priya" in february.text and "ravi" not in february.text
    assert 'name="from" value="2026-02-01"' in february.text
    wrong = dana.get("/report", params={"from": "last week"})
    assert wrong.status_code == 400 and "is not a date" in wrong.text
    priya = team.signed_in("priya")
    refused = priya.get("/report")
    assert refused.status_code == 403 and "only" in refused.text and "<svg" not in refused.text


def test_the_inbox_shows_the_oldest_25_and_a_link_to_the_next(team: Team) -> None:
    for _ in range(29):  # R-000002 .. R-000030, each a manager's
        ask(team.cli, "HW-100", "--qty", "50", "--price", "96.90")
    marco = team.signed_in("marco")
    first = marco.get("/inbox").text
    shown = re.findall(r'href="/requests/(R-\d+)"', first)
    assert shown == [f"R-{n:06d}" for n in range(1, 26)]
    assert 'href="/inbox?after=R-000025"' in first
    rest = re.findall(r'href="/requests/(R-\d+)"', marco.get("/inbox?after=R-000025").text)
    assert rest == [f"R-{n:06d}" for n in range(26, 31)]


def test_a_session_ends_when_its_12_hours_are_over(team: Team) -> None:
    from datetime import timedelta

    from pricing.access import sessions
    from pricing.storage.people import by_name

    store = team.cli.store()
    with store.read() as conn:
        marco = by_name(conn, "marco")
    assert marco is not None
    signed = sessions.begin(store, marco, address="test")
    assert sessions.current(store, signed.cookie) is not None
    later = signed.expires + timedelta(seconds=1)
    assert sessions.current(store, signed.cookie, now=later) is None


def test_over_https_the_session_cookie_is_secure(team: Team) -> None:
    browser = team.browser()
    browser.client.base_url = httpx.URL("https://testserver")
    signed = sign_in(browser, "marco", team.passwords["marco"])
    assert signed.status_code == 303
    assert "Secure" in signed.headers["set-cookie"]
