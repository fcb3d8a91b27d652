"""The approver's pages in a real browser: Playwright driving Debian's Chromium against a real
`pricing serve`, as a manager on a laptop and a rep on a 390-pixel phone use them.

Skipped, saying why, where no Chromium is installed (`.ci/run` installs Debian's). With
``PRICING_SCREENSHOTS=docs/img`` the story leaves the screenshots docs/team.md shows there.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli, build_sales
from tests.serving import serving
from tests.test_cli_requests import ask

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="no Chromium here (Debian: apt-get install chromium; .ci/run installs it)",
)
PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1280, "height": 860}


@dataclass
class Site:
    address: str
    cli: Cli
    passwords: dict[str, str]
    browser: Any
    shots: Path | None

    def page(self, viewport: dict[str, int] = LAPTOP) -> Any:
        context = self.browser.new_context(viewport=viewport, base_url=self.address)
        return context.new_page()

    def shot(self, page: Any, name: str) -> None:
        if self.shots is not None:
            page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, _new_store_file: Path) -> Iterator[Site]:
    from playwright.sync_api import sync_playwright

    from tests.conftest import new_store

    folder = tmp_path_factory.mktemp("browser")
    url = new_store(_new_store_file, folder / "pricing.db")
    cli = Cli(url)
    build_sales(cli, folder)
    passwords = {}
    for name, role in (("dana", "owner"), ("marco", "manager"), ("priya", "rep")):
        passwords[name] = cli.json("people", "add", name, "--role", role, user="dana")["password"]
    ask(cli, "HW-100", "--qty", "50", "--price", "96.90")  # R-000001: a manager's decision
    ask(cli, "HW-100", "--qty", "50", "--price", "80")  # R-000002: the owner's decision
    from tests.test_cli_requests import TEAM
    from tests.test_policy import POLICY

    since_january = folder / "guardrails-2026.toml"  # the same policy, in force for the deals
    since_january.write_text('effective_from = "2026-01-01"\n' + POLICY + TEAM)
    assert cli("policy", "load", str(since_january), user="dana").exit_code == 0
    deals = folder / "deals.csv"
    deals.write_text(
        "Order ID,Order Date,Customer,Rep,SKU,Quantity,Net Price\n"
        "SO-1,2026-02-01,Acme,priya,HW-100,60,102.60\nSO-2,2026-02-03,Globex,priya,SV-1,4,90\n"
        "SO-3,2026-03-05,Initech,ravi,HW-200,5,70\nSO-4,2026-03-09,Acme,ravi,SW-1,20,46\n"
        "SO-5,2026-03-20,Globex,ravi,HW-100,50,91.20\n"
    )
    assert cli("deals", "import", str(deals), user="dana").exit_code == 0
    shots = (
        Path(os.environ["PRICING_SCREENSHOTS"]) if os.environ.get("PRICING_SCREENSHOTS") else None
    )
    with serving(url, folder) as address, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield Site(address, cli, passwords, browser, shots)
        finally:
            browser.close()
    cli.close()


def sign_in(page: Any, name: str, password: str, *, choose: Site | None = None) -> None:
    """Sign in on the page; on the printed password, the person then chooses their own (kept
    in ``choose.passwords``) and goes on."""
    page.goto("/login")
    page.fill("#name", name)
    page.fill("#password", password)
    page.click("main button[type=submit]")
    if choose is not None and "/password" in page.url:
        own = f"{name}'s own password"
        page.fill("#current", password)
        page.fill("#new", own)
        page.fill("#again", own)
        page.click("main button[type=submit]")
        choose.passwords[name] = own


def test_a_manager_approves_from_the_inbox_and_the_rep_sees_it(site: Site) -> None:
    page = site.page()
    page.goto("/inbox")
    assert page.url.endswith("/login?next=/inbox")
    sign_in(page, "marco", site.passwords["marco"])
    assert "/password?next=/inbox" in page.url  # the printed password: choose one's own first
    assert "first sign-in" in page.inner_text("main")
    page.fill("#current", site.passwords["marco"])
    page.fill("#new", "marco's own secret")
    page.fill("#again", "marco's own secret")
    page.click("main button[type=submit]")
    site.passwords["marco"] = "marco's own secret"
    assert page.url.endswith("/inbox")  # on to where he was going
    assert "Waiting for your decision" in page.inner_text("h1")
    row = page.locator("tr", has_text="R-000001")
    assert "Acme" in row.inner_text() and "manager" in row.inner_text()
    site.shot(page, "inbox-desktop")
    row.locator("a").click()
    assert page.url.endswith("/requests/R-000001")
    site.shot(page, "request-desktop")
    page.fill("#note", "strategic account")
    page.click("button.approve")
    assert page.url.endswith("/requests/R-000001?decided=1")  # a reload does not post again
    assert "R-000001 approved." in page.inner_text("main")
    assert site.cli.json("requests", "show", "R-000001", user="dana")["decided_by"] == "marco"

    phone = site.page(PHONE)
    sign_in(phone, "priya", site.passwords["priya"], choose=site)
    phone.goto("/mine")
    mine = phone.locator("tr", has_text="R-000001")
    assert "approved" in mine.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    site.shot(phone, "mine-phone")


def test_on_a_phone_the_owner_reads_the_inbox_and_a_request(site: Site) -> None:
    phone = site.page(PHONE)
    sign_in(phone, "dana", site.passwords["dana"], choose=site)
    phone.goto("/inbox")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    site.shot(phone, "inbox-phone")
    phone.goto("/requests/R-000002")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert phone.locator("button.approve").is_visible()
    site.shot(phone, "request-phone")


def test_a_rep_has_no_inbox_entry_for_her_own_request_and_is_refused_by_hand(site: Site) -> None:
    page = site.page()
    sign_in(page, "priya", site.passwords["priya"], choose=site)
    page.goto("/inbox")
    assert "R-000002" not in page.inner_text("main")
    page.goto("/requests/R-000002")
    assert page.locator("button.approve").count() == 0
    token = page.get_attribute("input[name=csrf]", "value")  # her own session's form token
    answer = page.request.post("/requests/R-000002/decide",
                               form={"outcome": "approve", "csrf": token or ""})  # fmt: skip
    assert answer.status == 403 and "nobody decides their own request" in answer.text()
    assert site.cli.json("requests", "show", "R-000002", user="dana")["status"] == "pending"


def test_a_form_posted_without_its_token_is_refused(site: Site) -> None:
    page = site.page()
    sign_in(page, "dana", site.passwords["dana"], choose=site)
    page.goto("/requests/R-000002")
    answer = page.request.post("/requests/R-000002/decide", form={"outcome": "approve"})
    assert answer.status == 403 and "nothing was decided" in answer.text()
    assert site.cli.json("requests", "show", "R-000002", user="dana")["status"] == "pending"


def test_a_wrong_password_opens_nothing(site: Site) -> None:
    page = site.page()
    sign_in(page, "dana", "not her password")
    assert "do not match" in page.inner_text("main")
    assert not [c for c in page.context.cookies() if c["name"] == "pricing_session"]
    page.goto("/inbox")
    assert "/login" in page.url


def test_the_owner_reads_the_drift_report_for_the_period_chosen(site: Site) -> None:
    page = site.page()
    sign_in(page, "dana", site.passwords["dana"], choose=site)
    page.click("text=Report")
    assert page.locator("svg").count() > 0
    page.fill("input[name=from]", "2026-03-01")
    page.click("text=Show")
    assert "from=2026-03-01" in page.url
    assert "ravi" in page.inner_text("body") and "priya" not in page.inner_text("body")
    site.shot(page, "report-desktop")
