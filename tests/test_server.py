"""The team server, attacked as the people at its terminals would: every attempt is refused and
leaves the store as it was (docs: /work/shared/THREATS.md, issue 15).

One real server (``pricing serve`` in a subprocess, on a free port) over a fresh PostgreSQL
schema, the audit's secret in its environment. The people and the first price book and policy
are made by the administrator's path (``pricing --db URL …``, embedded, as the owner dana); then
everyone acts in client mode (``python -m pricing`` with PRICING_SERVER and PRICING_TOKEN, no
``--db``), or, where a command is not converted yet or for load, over HTTP with httpx.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

import pricing
from tests.conftest import postgres_database, write_workbook
from tests.serving import embedded, environment, free_port, serving
from tests.test_cli_requests import TEAM
from tests.test_policy import POLICY

ROOT = Path(__file__).resolve().parents[1]
SECRET = "test-server-audit-secret-" + "k" * 32
PEOPLE = {"dana": "owner", "marco": "manager", "nina": "manager", "priya": "rep", "ravi": "rep",
          "mia": "marketer"}  # fmt: skip
CLIENT_FORBIDDEN = (
    "sqlalchemy",
    "pandas",
    "pyarrow",
    "numpy",
    "fastapi",
    "uvicorn",
    "rich",
    "pygments",
)
# Lines and the level they need under tests.test_policy.POLICY (HW-200: rep 10 %, manager 20 %,
# owner 30 %).
WITHIN_REP = ["HW-200", "--qty", "1", "--discount", "5"]
MANAGER_LEVEL = ["HW-200", "--qty", "2", "--discount", "15"]
OWNER_LEVEL = ["HW-200", "--qty", "3", "--discount", "25"]


@dataclass
class Team:
    """The server, its database and the people's tokens."""

    url: str
    server: str
    folder: Path
    tokens: dict[str, str] = field(default_factory=dict)

    # The administrator's path: embedded, on the database itself, with the server's secret
    # (in this process: what is tested here is the client's process and the server's).
    def admin(self, *args: str, user: str = "dana") -> subprocess.CompletedProcess[str]:
        return embedded(self.folder, "--db", self.url, "--user", user, *args, PRICING_SECRET=SECRET)

    # A person at a terminal in client mode: no --db, the server and their token. In this
    # process (what is tested is what the client sends and the server answers); the process
    # itself, its exit code and output, in ``client_process``.
    def client(
        self, person: str | None, *args: str, token: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return embedded(self.folder, *args, **self._client_settings(person, token, env))

    # The same, as a process of its own (``python -m pricing``): a few tests hold the process's
    # contract (exit codes, stdout and stderr, nothing printed but the message).
    def client_process(
        self, person: str | None, *args: str, token: str | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pricing", *args],
            env=environment(**self._client_settings(person, token, env)),
            cwd=self.folder, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    def _client_settings(
        self, person: str | None, token: str | None, env: dict[str, str]
    ) -> dict[str, str]:
        given = token if token is not None else self.tokens.get(person or "", "")
        settings = {"PRICING_SERVER": self.server, **env}
        if given:
            settings["PRICING_TOKEN"] = given
        return settings

    def client_json(self, person: str, *args: str) -> Any:
        done = self.client(person, *args, "--json")
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def post(
        self, person: str | None, operation: str, params: dict[str, Any], **kwargs: Any
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.tokens[person]}"} if person else {}
        return httpx.post(
            f"{self.server}/api/{operation}", json={"params": params}, headers=headers,
            timeout=60, **kwargs,
        )  # fmt: skip

    def operations(self) -> list[str]:
        paths = httpx.get(f"{self.server}/openapi.json", timeout=10).json()["paths"]
        return sorted(p.removeprefix("/api/") for p in paths if p != "/api/health")

    def submit(self, person: str, *line: str) -> dict[str, Any]:
        """A request stored for ``person`` (through the server)."""
        return self.client_json(person, "request", "--customer", "Acme", "--reason", "bid", *line)

    def snapshot(self) -> dict[str, str]:
        """A digest of every table of the store: equal before and after means nothing changed."""
        with psycopg.connect(self.url) as conn:
            tables = [row[0] for row in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )]  # fmt: skip
            digests = {}
            for table in sorted(tables):
                rows = conn.execute(f'SELECT md5(t::text) FROM "{table}" t').fetchall()
                digests[table] = hashlib.sha256(
                    "\n".join(sorted(r[0] for r in rows)).encode()
                ).hexdigest()
        return digests

    def count(self, sql: str) -> Any:
        with psycopg.connect(self.url) as conn:
            row = conn.execute(sql).fetchone()
        assert row is not None
        return row[0]


def refused(done: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    """A command refused with exit ``code``, a message naming ``words``, and no traceback."""
    assert done.returncode == code, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr + done.stdout
    for word in words:
        assert word in done.stderr, done.stderr


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    folder = tmp_path_factory.mktemp("team")
    with postgres_database() as url:
        made = Team(url, "", folder)
        for name, role in PEOPLE.items():  # dana first: the first person is an owner
            done = made.admin("people", "add", name, "--role", role, "--json")
            assert done.returncode == 0, done.stderr
            made.tokens[name] = json.loads(done.stdout)["token"]
        book = write_workbook(folder / "book.xlsx", {
            "Price Book": [["SKU", "Name", "Family", "List Price", "Unit Cost"],
                           ["HW-100", "Router", "Hardware", 120, 70],
                           ["HW-200", "Switch", "Hardware", 100, 50],
                           ["SV-1", "Install day", "Services", 100, 60]],
        })  # fmt: skip
        policy = folder / "guardrails.toml"
        policy.write_text(POLICY + TEAM)
        for step in (("pricebook", "import", str(book), "--effective", "2026-01-01"),
                     ("policy", "load", str(policy))):  # fmt: skip
            done = made.admin(*step)
            assert done.returncode == 0, done.stderr
        # Its tests try forged tokens from this one address by the dozen (every operation):
        # tests.test_server_edges shows the default pace of 10 failed sign-ins a minute.
        env = {"PRICING_SECRET": SECRET, "PRICING_MAX_UPLOAD_MB": "2",
               "PRICING_SIGNIN_FAILURES": "10000"}  # fmt: skip
        with serving(url, folder, **env) as address:
            made.server = address
            yield made


# 1. Acting as someone else ----------------------------------------------------------------------


def test_user_naming_someone_else_is_refused_exit_2(team: Team) -> None:
    pending = team.submit("priya", *MANAGER_LEVEL)
    before = team.snapshot()
    refused(team.client("priya", "--user", "marco", "approve", pending["id"]), 2,
            "signed in as priya", "only as yourself")  # fmt: skip
    refused(team.client("priya", "approve", pending["id"], PRICING_USER="marco"), 2,
            "signed in as priya")  # fmt: skip
    assert team.snapshot() == before
    # naming oneself is fine
    mine = team.client("priya", "--user", "priya", "requests", "show", pending["id"], "--json")
    assert mine.returncode == 0, mine.stderr


def test_a_wrong_token_is_refused_exit_2_without_a_traceback(team: Team) -> None:
    before = team.snapshot()
    forged = "prc_" + "A" * 43
    for token in (forged, "not-a-token", team.tokens["priya"] + "x"):
        done = team.client_process(None, "requests", "--json", token=token)
        refused(done, 2, "token is wrong or was revoked")
        assert token not in done.stderr + done.stdout  # a token is never echoed
    done = team.client_process(None, "requests")  # client mode without any token
    refused(done, 2, "PRICING_TOKEN")
    assert team.snapshot() == before


def test_a_token_stops_working_when_reset_and_when_the_person_is_removed(team: Team) -> None:
    added = team.admin("people", "add", "tom", "--role", "rep", "--json")
    assert added.returncode == 0, added.stderr
    first = json.loads(added.stdout)["token"]
    assert team.client(None, "requests", "--json", token=first).returncode == 0
    # the owner resets tom's token through the server
    reset = team.client("dana", "people", "reset", "tom", "--json")
    assert reset.returncode == 0, reset.stderr
    second = json.loads(reset.stdout)["token"]
    refused(team.client(None, "requests", "--json", token=first), 2, "revoked")
    assert team.client(None, "requests", "--json", token=second).returncode == 0
    # removed by the administrator's path
    assert team.admin("people", "remove", "tom").returncode == 0
    before = team.snapshot()
    done = team.client(None, "request", "--customer", "Acme", "--reason", "bid", *WITHIN_REP,
                       token=second)  # fmt: skip
    refused(done, 2, "revoked")
    assert second not in done.stderr
    assert team.snapshot() == before


# 2. Raising one's own authority -----------------------------------------------------------------


def test_a_rep_cannot_raise_her_authority_through_people(team: Team) -> None:
    before = team.snapshot()
    refused(team.client("priya", "people", "role", "priya", "owner"), 1, "only owner")
    refused(team.client("priya", "people", "add", "eve", "--role", "owner"), 1, "only owner")
    refused(team.client("priya", "people", "role", "ravi", "manager"), 1, "only owner")
    refused(team.client("priya", "people", "reset", "marco"), 1, "only owner")  # marco's token
    refused(team.client("priya", "people", "remove", "dana"), 1, "only owner")
    refused(team.client("priya", "people", "list"), 1, "only owner")
    refused(team.client("marco", "people", "role", "marco", "owner"), 1, "only owner")
    refused(team.client("dana", "people", "role", "dana", "manager"), 1, "own role")
    assert team.snapshot() == before


def test_a_policy_that_lists_a_rep_as_owner_makes_nobody_an_owner(team: Team) -> None:
    listed = team.folder / "self-listed.toml"
    listed.write_text(POLICY + TEAM.replace('name = "priya"\nrole = "rep"',
                                            'name = "priya"\nrole = "owner"'))  # fmt: skip
    assert team.admin("policy", "load", str(listed)).returncode == 0
    pending = team.submit("ravi", *OWNER_LEVEL)
    before = team.snapshot()
    refused(team.client("priya", "approve", pending["id"]), 1)
    assert team.snapshot() == before


# 3. Deciding what one may not ------------------------------------------------------------------


def test_nobody_approves_their_own_request(team: Team) -> None:
    pending = team.submit("priya", *MANAGER_LEVEL)
    assert pending["status"] == "pending"
    before = team.snapshot()
    refused(team.client("priya", "approve", pending["id"]), 1)
    refused(team.client("priya", "reject", pending["id"], "--note", "mine"), 1)
    # a manager's own request, at a manager's level: still not his to decide
    own = team.submit("marco", *MANAGER_LEVEL)
    assert own["status"] == "pending"
    before = team.snapshot()
    refused(team.client("marco", "approve", own["id"]), 1, "own")
    assert team.snapshot() == before


def test_a_manager_cannot_approve_a_line_at_the_owners_level(team: Team) -> None:
    pending = team.submit("priya", *OWNER_LEVEL)
    assert (pending["status"], pending["level"]) == ("pending", "owner")
    before = team.snapshot()
    refused(team.client("marco", "approve", pending["id"]), 1, "owner")
    assert team.snapshot() == before
    approved = team.client_json("dana", "approve", pending["id"])  # the owner may
    assert (approved["status"], approved["decided_by"]) == ("approved", "dana")


def test_a_request_is_changed_and_closed_by_its_own_salesperson_only(team: Team) -> None:
    mine = team.submit("priya", *WITHIN_REP)
    before = team.snapshot()
    refused(team.client("ravi", "requests", "won", mine["id"]), 1)
    refused(team.client("ravi", "requests", "change", mine["id"], *WITHIN_REP), 1)
    for person in ("ravi", "marco"):  # (another rep; a manager, who may decide but not withdraw)
        refused(team.client(person, "requests", "withdraw", mine["id"]), 1)
    assert team.snapshot() == before
    withdrawn = team.client_json("priya", "requests", "withdraw", mine["id"], "--note", "lost it")
    assert withdrawn["status"] == "withdrawn"
    theirs = team.submit("ravi", *WITHIN_REP)["id"]  # (an owner acts for a rep who left)
    assert team.client_json("dana", "requests", "withdraw", theirs)["status"] == "withdrawn"


def test_a_contract_is_approved_by_someone_else_and_ended_by_the_owner_only(team: Team) -> None:
    from datetime import timedelta

    from pricing.storage.store import utcnow

    today = utcnow().date()
    asked = team.client_json("priya", "request", "--customer", "Initrode", "--reason", "framework",
                             "--contract", "--from", today.isoformat(), "--to",
                             (today + timedelta(days=60)).isoformat(), *MANAGER_LEVEL)  # fmt: skip
    assert (asked["status"], asked["contract"]["starts"]) == ("pending", today.isoformat())
    before = team.snapshot()
    refused(team.client("priya", "approve", asked["id"]), 1, "nobody decides their own request")
    assert team.snapshot() == before
    assert team.client_json("marco", "approve", asked["id"])["status"] == "approved"
    before = team.snapshot()
    for person in ("priya", "ravi", "marco"):  # (the rep who asked, another, a manager)
        refused(team.client(person, "contracts", "end", asked["id"]), 1, "end a contract early")
    assert team.snapshot() == before
    ended = team.client_json("dana", "contracts", "end", asked["id"], "--note", "renegotiated")
    assert (ended["contract"]["ends"], ended["contract"]["ended_by"]) == (today.isoformat(), "dana")
    listed = team.client_json("priya", "contracts", "--customer", "initrode")
    assert [(c["id"], c["state"]) for c in listed] == [(asked["id"], "in force")]
    pending = team.client_json("priya", "request", "--customer", "Initrode", "--reason", "more",
                               "--contract", "--from", today.isoformat(), "--to",
                               (today + timedelta(days=9)).isoformat(), *MANAGER_LEVEL)  # fmt: skip
    seen = {person: [c["id"] for c in team.client_json(person, "contracts")]
            for person in ("priya", "ravi", "marco")}  # fmt: skip
    assert pending["id"] in seen["priya"] and pending["id"] in seen["marco"]
    assert pending["id"] not in seen["ravi"] and asked["id"] in seen["ravi"]  # (in force: all)


# Who sees what ----------------------------------------------------------------------------------


def test_reps_see_their_own_requests_and_managers_see_all(team: Team) -> None:
    ours = {team.submit("priya", *WITHIN_REP)["id"], team.submit("ravi", *WITHIN_REP)["id"]}
    for rep in ("priya", "ravi"):
        seen = team.client_json(rep, "requests")
        assert seen and {r["rep"] for r in seen} == {rep}
    everyone = team.client_json("marco", "requests")
    assert {"priya", "ravi"} <= {r["rep"] for r in everyone}
    assert ours <= {r["id"] for r in everyone}
    priyas = next(
        i for i in ours if team.client_json("marco", "requests", "show", i)["rep"] == "priya"
    )
    before = team.snapshot()
    refused(team.client("ravi", "requests", "show", priyas), 1, "see other people's requests")
    refused(team.client("ravi", "requests", "--rep", "priya"), 1)
    assert team.snapshot() == before


# 4. Loosening the rules ------------------------------------------------------------------------


def _upload(team: Team, person: str, operation: str, params: dict[str, Any], part: str,
            path: Path) -> httpx.Response:  # fmt: skip
    """A call with a file, sent as the HTTP API takes it (what the CLI's client sends)."""
    with path.open("rb") as handle:
        return httpx.post(
            f"{team.server}/api/{operation}",
            headers={"Authorization": f"Bearer {team.tokens[person]}"},
            data={"request": json.dumps({"params": params, "names": {}})},
            files={part: (path.name, handle, "application/octet-stream")},
            timeout=60,
        )


def _refused_403(response: httpx.Response) -> None:
    assert response.status_code == 403, response.text
    assert response.json()["error"]["kind"] == "refused"


@pytest.mark.parametrize("person", ["priya", "marco", "mia"])
def test_only_the_owner_loads_a_policy(team: Team, person: str) -> None:
    loose = team.folder / "loose.toml"
    loose.write_text(POLICY.replace("rep = 10.0", "rep = 19.0") + TEAM)  # valid, and looser
    before = team.snapshot()
    refused(team.client(person, "policy", "load", str(loose)), 1, f"{person} is", "only owner")
    _refused_403(_upload(team, person, "policy.load", {}, "file", loose))
    assert team.snapshot() == before


@pytest.mark.parametrize("person", ["priya", "marco"])
def test_only_a_marketer_or_the_owner_imports_a_price_book(team: Team, person: str) -> None:
    cheap = write_workbook(team.folder / "cheap.xlsx", {
        "Price Book": [["SKU", "Family", "List Price"], ["HW-200", "Hardware", 30]],
    })  # fmt: skip
    before = team.snapshot()
    done = team.client(person, "pricebook", "import", str(cheap), "--effective", "2026-02-01")
    refused(done, 1, f"{person} is", "may import")
    params = {"effective": "2026-02-01"}
    _refused_403(_upload(team, person, "pricebook.import", params, "file", cheap))
    assert team.snapshot() == before


@pytest.mark.parametrize("person", ["priya", "mia"])
def test_only_the_owner_imports_deals(team: Team, person: str) -> None:
    deals = team.folder / "deals.csv"
    deals.write_text("Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price\n"
                     "SO-1,2026-01-05,Acme,priya,HW-200,1,10.00\n")  # fmt: skip
    before = team.snapshot()
    refused(team.client(person, "deals", "import", str(deals)), 1, f"{person} is", "only owner")
    _refused_403(_upload(team, person, "deals.import", {}, "file", deals))
    assert team.snapshot() == before


def test_deals_imports_listed_replaced_and_undone_through_the_server(team: Team) -> None:
    """The owner lists, replaces and undoes imports in client mode as embedded; a manager may
    list them but not undo one; an unknown import exits 2; the store ends as it began."""
    deals = team.folder / "undo-deals.csv"
    deals.write_text("Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price\n"
                     "UD-1,2026-01-05,Acme,priya,HW-200,1,95.00\n"
                     "UD-2,2026-01-06,Acme,priya,SV-1,1,99.00\n")  # fmt: skip
    before = team.snapshot()
    first = team.client_json("dana", "deals", "import", str(deals))
    again = team.client_json("dana", "deals", "import", str(deals))
    assert again["already_imported_as"] == first["id"] and again["added"] == 0
    refused(team.client("dana", "deals", "import", str(deals), "--column", "deal_id=Sales Rep"),
            2, f"--replace {first['id']}")  # fmt: skip
    replaced = team.client_json("dana", "deals", "import", str(deals), "--column",
                                "deal_id=Sales Rep", "--replace", str(first["id"]))  # fmt: skip
    assert replaced["replaced"]["id"] == first["id"] and replaced["added"] == 2
    listed = team.client_json("marco", "deals", "imports")
    assert [i["id"] for i in listed][-1] == replaced["id"]
    assert listed[-1]["columns"]["deal_id"] == "Sales Rep"
    refused(team.client("marco", "deals", "undo", str(replaced["id"])), 1)
    refused(team.client("dana", "deals", "undo", "999999"), 2, "deals imports")
    undone = team.client_json("dana", "deals", "undo", str(replaced["id"]))
    assert (undone["removed"], undone["kept"]) == (2, 0)
    # As it began, but for the audit and the edition's columnar copy the first import made.
    kept = ("audit_log", "edition_columns")
    after = team.snapshot()
    assert {k: v for k, v in after.items() if k not in kept} == {
        k: v for k, v in before.items() if k not in kept
    }


def test_the_library_over_the_server_answers_what_embedded_answers(team: Team) -> None:
    """``pricing.open(server, token=...)``: the server's JSON validated into the method's typed
    result (a report, the deals imports, a what-if), dumping to what the CLI prints."""
    import pricing
    from pricing.results.deals import DealImport
    from pricing.results.report import DetailedReport, DriftReport
    from pricing.results.simulation import PolicySimulation

    deals = team.folder / "library-deals.csv"
    deals.write_text("Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price\n"
                     "LB-1,2026-01-07,Acme,priya,HW-200,2,90.00\n")  # fmt: skip
    with pricing.open(team.server, token=team.tokens["dana"]) as p:
        imported = p.import_deals(deals)
        rep = p.report(by=["rep"])
        listed = p.deal_imports()
        simulated = p.simulate(team.folder / "guardrails.toml")
        printed = team.client_json("dana", "report", "--by", "rep")
        p.undo_import(number=imported.id)
    assert type(rep) is DriftReport and not isinstance(rep, DetailedReport)
    assert rep.totals.lines >= 1 and rep.groups
    assert rep.model_dump(mode="json") == printed
    assert listed and all(type(i) is DealImport for i in listed)
    assert [i.id for i in listed][-1] == imported.id
    assert type(simulated) is PolicySimulation


# Anyone else on the network --------------------------------------------------------------------


def test_a_rep_cannot_read_deal_volumes_and_others_approvals_through_a_diff(team: Team) -> None:
    _refused_403(team.post("priya", "pricebook.diff", {"impact": True}))


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("policy.check", {}),  # a file operation called without its file
        ("requests.submit", {"customer": "A", "reason": "b", "lines": [{"qty": 1, "discount": "1"}]}),
        ("requests.submit", {"customer": "A", "reason": "b",
                             "lines": [{"sku": "HW-200", "qty": 1, "discount": "1e999999999"}]}),
        ("requests.submit", {"customer": "A\u0000", "reason": "b",
                             "lines": [{"sku": "HW-200", "qty": 1, "discount": "1"}]}),
        ("requests.quote", {"sku": "HW-200", "qty": 10**30}),
        ("policy.show", {"version": 10**20}),
    ],
)  # fmt: skip
def test_odd_calls_are_input_errors_never_a_server_failure(
    team: Team, operation: str, params: dict[str, Any]
) -> None:
    before = team.snapshot()
    answer = team.post("priya", operation, params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["kind"] == "input"
    assert team.snapshot() == before


def test_an_upload_named_dot_dot_is_read_as_a_file_of_its_own(team: Team) -> None:
    with (team.folder / "odd.toml").open("w") as out:
        out.write("not toml [")
    with (team.folder / "odd.toml").open("rb") as handle:
        answer = httpx.post(
            f"{team.server}/api/policy.check",
            headers={"Authorization": f"Bearer {team.tokens['priya']}"},
            data={"request": json.dumps({"params": {}, "names": {}})},
            files={"file": ("..", handle, "application/octet-stream")},
            timeout=60,
        )
    assert answer.status_code == 200, answer.text
    assert answer.json()["document"]["problems"]


def test_a_call_larger_than_the_servers_bound_is_refused_before_it_is_stored(
    team: Team,
) -> None:
    """Given a server that takes uploads of up to 2 MB (PRICING_MAX_UPLOAD_MB) and calls of
    parameters up to 1 MB, when a rep sends more, declared or streamed without a length, then
    the server answers 413 with an input error and stores nothing; at the terminal it is a
    clear message, exit 2."""
    before = team.snapshot()
    headers = {"Authorization": f"Bearer {team.tokens['priya']}"}
    big_reason = {"customer": "Acme", "reason": "x" * (2 << 20),
                  "lines": [{"sku": "HW-200", "qty": 1, "discount": "1"}]}  # fmt: skip
    answer = team.post("priya", "requests.submit", big_reason)
    assert answer.status_code == 413, answer.text
    assert answer.json()["error"]["kind"] == "input"
    assert "over the limit of 1 MB" in answer.json()["error"]["message"]

    def streamed() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"params": {"customer": "Acme", "reason": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}}'

    answer = httpx.post(f"{team.server}/api/requests.submit", content=streamed(),
                        headers={**headers, "Content-Type": "application/json"}, timeout=60)  # fmt: skip
    assert answer.status_code == 413, answer.text
    book = team.folder / "huge-book.csv"
    book.write_bytes(b"SKU,List Price\n" + b"HW-1,10\n" * 400_000)  # 3.2 MB
    answer = _upload(team, "dana", "pricebook.import", {}, "file", book)
    assert answer.status_code == 413, answer.text
    assert "PRICING_MAX_UPLOAD_MB" in answer.json()["error"]["message"]
    done = team.client("dana", "pricebook", "import", str(book))
    refused(done, 2, "upload size over the limit of 2 MB", "administrator", "nothing was stored")
    assert team.snapshot() == before


def _at_terminal(
    team: Team, home: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """A person's own terminal: their configuration folder, no pricing variable set."""
    return subprocess.run(
        [sys.executable, "-m", "pricing", *args], input=stdin,
        env=environment(XDG_CONFIG_HOME=str(home)), cwd=home, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip


def test_login_keeps_the_token_for_this_user_only_and_logout_forgets_it(
    team: Team, tmp_path: Path
) -> None:
    team.submit("priya", *WITHIN_REP)
    home = tmp_path / "priya"
    home.mkdir()
    signed = _at_terminal(
        team, home, "login", "--server", team.server, stdin=team.tokens["priya"] + "\n"
    )
    assert signed.returncode == 0, signed.stderr
    assert "as priya (rep)" in signed.stdout and team.tokens["priya"] not in signed.stdout
    kept = home / "pricing" / "login.toml"
    assert kept.stat().st_mode & 0o777 == 0o600
    mine = json.loads(_at_terminal(team, home, "requests", "--json").stdout)
    assert mine and {r["rep"] for r in mine} == {"priya"}  # through the server, as priya
    assert _at_terminal(team, home, "logout").returncode == 0
    assert not kept.exists()
    local = _at_terminal(team, home, "requests")
    assert local.returncode == 2 and "no database at" in local.stderr  # back to a local file


def test_login__a_piped_token_is_read_quietly_without_a_prompt_or_an_echo_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a token piped to `pricing login` (a password manager, a script), then the first
    line is the token, read without a prompt and without getpass's "Password input may be
    echoed" warning; an empty pipe is refused, exit 2, saying how to give one."""
    from click.testing import CliRunner

    from pricing import client
    from pricing.cli import main

    asked: list[str] = []

    def whoami(login: Any, operation: str, params: Any, **_: Any) -> dict[str, str]:
        asked.append(login.token)
        return {"name": "priya", "role": "rep", "registered": True}

    monkeypatch.setattr(client, "call", whoami)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    server = "https://pricing.example.com"
    signed = CliRunner().invoke(main, ["login", "--server", server], input="  prc_piped \nmore\n")
    assert signed.exit_code == 0, signed.output
    assert asked == ["prc_piped"]
    assert "Your personal token" not in signed.output and "echoed" not in signed.output
    assert "as priya (rep)" in signed.stdout
    assert 'token = "prc_piped"' in (tmp_path / "config" / "pricing" / "login.toml").read_text()
    empty = CliRunner().invoke(main, ["login", "--server", server], input="\n")
    assert empty.exit_code == 2 and "no token given" in empty.stderr and asked == ["prc_piped"]

    home = tmp_path / "home"
    home.mkdir()
    down = f"http://127.0.0.1:{free_port()}"
    piped = subprocess.run(
        [sys.executable, "-m", "pricing", "login", "--server", down], input="prc_piped\n",
        env=environment(XDG_CONFIG_HOME=str(home)), cwd=home, capture_output=True, text=True,
        timeout=60,
    )  # fmt: skip
    assert piped.returncode == 2 and "cannot reach the pricing server" in piped.stderr
    assert "echoed" not in piped.stderr and "GetPassWarning" not in piped.stderr
    assert "Your personal token" not in piped.stdout + piped.stderr


def test_a_wrong_token_at_login_is_not_kept(team: Team, tmp_path: Path) -> None:
    home = tmp_path / "eve"
    home.mkdir()
    done = _at_terminal(team, home, "login", "--server", team.server, stdin="prc_guess\n")
    refused(done, 2, "wrong or was revoked")
    assert not (home / "pricing" / "login.toml").exists()


def test_a_server_that_is_down_is_named_exit_2(team: Team) -> None:
    done = team.client_process(
        "priya", "requests", PRICING_SERVER=f"http://127.0.0.1:{free_port()}"
    )
    refused(done, 2, "cannot reach the pricing server")


def test_every_call_without_a_token_is_refused_401(team: Team) -> None:
    operations = team.operations()
    assert {"requests.submit", "requests.approve", "people.add", "people.role"} <= set(operations)
    before = team.snapshot()
    with httpx.Client(timeout=10) as http:  # one client: no cookie or header outlives a call
        for operation in [*operations, "no.such.operation"]:
            url = f"{team.server}/api/{operation}"
            no_token = {"params": {}}
            headers: list[dict[str, str]] = [
                {},
                {"Authorization": "Bearer"},
                {"Authorization": "Basic ZGFuYTo="},
                {"Authorization": "Bearer prc_forged", "X-Pricing-User": "dana"},
            ]
            attempts = [http.post(url, json=no_token, headers=h) for h in headers]
            attempts.append(http.post(url, content=b"{not json"))
            for response in attempts:
                assert not http.cookies, http.cookies
                assert response.status_code == 401, (operation, response.status_code, response.text)
                assert response.json()["error"]["kind"] == "server"
    assert team.snapshot() == before


# Concurrency -----------------------------------------------------------------------------------


def test_fifty_clients_submitting_ten_requests_each_store_five_hundred(team: Team) -> None:
    stored = team.count("SELECT count(*) FROM requests")
    reps = ["priya", "ravi"]

    def client(number: int) -> list[str]:
        person = reps[number % 2]
        ids = []
        with httpx.Client(
            base_url=team.server, timeout=60,
            headers={"Authorization": f"Bearer {team.tokens[person]}"},
        ) as http:  # fmt: skip
            for i in range(10):
                response = http.post("/api/requests.submit", json={"params": {
                    "customer": f"Customer {number}", "reason": f"bulk {i}",
                    "lines": [{"sku": "HW-200", "qty": 1 + i, "discount": "5"}],
                }})  # fmt: skip
                assert response.status_code == 200, response.text
                document = response.json()["document"]
                assert document["rep"] == person
                ids.append(document["id"])
        return ids

    with ThreadPoolExecutor(50) as pool:
        ids = [i for batch in pool.map(client, range(50)) for i in batch]
    assert len(ids) == 500 and len(set(ids)) == 500
    assert team.count("SELECT count(*) FROM requests") == stored + 500
    assert team.count("SELECT count(DISTINCT id) FROM requests") == stored + 500


def test_two_managers_approving_at_once_exactly_one_decides_20_of_20(team: Team) -> None:
    clients = {
        name: httpx.Client(base_url=team.server, timeout=60,
                           headers={"Authorization": f"Bearer {team.tokens[name]}"})
        for name in ("marco", "nina")
    }  # fmt: skip
    try:
        for _ in range(20):
            pending = team.post("priya", "requests.submit", {
                "customer": "Acme", "reason": "race",
                "lines": [{"sku": "HW-200", "qty": 2, "discount": "15"}],
            }).json()["document"]  # fmt: skip
            assert pending["status"] == "pending"
            barrier = threading.Barrier(2)

            def approve(
                name: str, ident: str = pending["id"], barrier: threading.Barrier = barrier
            ) -> httpx.Response:
                barrier.wait()
                return clients[name].post(
                    "/api/requests.approve", json={"params": {"ident": ident, "note": name}}
                )

            with ThreadPoolExecutor(2) as pool:
                answers = list(pool.map(approve, ["marco", "nina"]))
            codes = sorted(a.status_code for a in answers)
            assert codes == [200, 403], [a.text for a in answers]
            loser = next(a for a in answers if a.status_code == 403)
            assert loser.json()["error"]["kind"] == "refused"
            winner = next(a for a in answers if a.status_code == 200).json()["document"]
            shown = team.post("dana", "requests.show", {"ident": pending["id"]}).json()["document"]
            assert shown["status"] == "approved"
            assert shown["decided_by"] == winner["decided_by"]
            approvals = [e for e in shown["events"] if e["action"] == "approved"]
            assert len(approvals) == 1, shown["events"]
    finally:
        for http in clients.values():
            http.close()


# Same output in both modes --------------------------------------------------------------------


def test_client_mode_prints_what_embedded_mode_prints(team: Team) -> None:
    pending = team.submit("priya", *MANAGER_LEVEL)["id"]
    ravis = team.submit("ravi", *WITHIN_REP)["id"]
    ask = ["request", "--customer", "Acme", "--reason", "bid"]
    commands = [
        [*ask, *WITHIN_REP, "--check", "--json"],
        [*ask, *OWNER_LEVEL, "--check", "--json"],
        [*ask, *OWNER_LEVEL, "--check"],
        [*ask, "NOPE-1", "--qty", "1", "--discount", "5", "--check", "--json"],
        ["requests", "--json"],
        ["requests", "--status", "pending"],
        ["requests", "show", pending],
        ["requests", "show", pending, "--json"],
        ["requests", "show", ravis],  # refused: ravi's
        ["requests", "show", "R-999999"],  # not found
        ["approve", pending],  # refused: her own
        # Files: a workbook written (the server's copy answers with the name given), a lines
        # file read (uploaded) with a problem, and one that cannot be read at all.
        ["pricebook", "export", "exported.xlsx", "--json"],
        ["pricebook", "export", "./exported.xlsx"],
        [*ask, "--file", "lines-with-a-problem.csv", "--check", "--json"],
        [*ask, "--file", "lines-empty.csv", "--check"],
        # Exchange rates: a rep may not import them (refused before the file is read), and
        # none stored is said the same way both ways.
        ["fx", "import", "rates.csv"],
        ["fx", "show", "USD", "--in", "EUR"],
        ["fx", "show", "dollars", "--json"],
    ]
    (team.folder / "rates.csv").write_text("date,currency,rate\n2026-10-30,USD,1.1172\n")
    (team.folder / "lines-with-a-problem.csv").write_text(
        "SKU,Qty,Discount\nHW-200,1,5\nNOPE-1,1,5\n"
    )
    (team.folder / "lines-empty.csv").write_text("")
    for command in commands:
        embedded = team.admin(*command, user="priya")  # (what it prints: in this process)
        client = team.client_process("priya", *command)
        assert (client.returncode, _timeless(client.stdout), client.stderr) == (
            embedded.returncode, _timeless(embedded.stdout), embedded.stderr,
        ), command  # fmt: skip


def _timeless(text: str) -> str:
    """Output with its clock times blanked (a --check is dated when it runs)."""
    import re

    return re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d)?Z?", "<time>", text)


def test_a_client_reads_each_answer_into_the_model_the_method_returns(team: Team) -> None:
    """``pricing.open(server, token=...)``: each answer is validated into the method's own
    typed result, and its JSON is what the embedded CLI prints on the database itself."""
    from pricing.documents import dumps
    from pricing.results.people import Identity, Person
    from pricing.results.requests import QuoteResult, RequestRefused, RequestResult, RequestShown
    from pricing.results.store import AuditHead, DbCheck

    pending = team.submit("priya", *MANAGER_LEVEL)["id"]
    ask = ["request", "--customer", "Acme", "--reason", "bid"]
    within = [{"sku": "HW-200", "qty": 1, "discount": "5"}]
    unknown = [{"sku": "NOPE-1", "qty": 1, "discount": "5"}]
    with pricing.open(team.server, token=team.tokens["priya"]) as p:
        answers: list[tuple[Any, type, list[str] | None]] = [
            (p.quote(sku="HW-200", qty=2), QuoteResult, ["quote", "HW-200", "--qty", "2"]),
            (p.requests(status="pending"), RequestResult, ["requests", "--status", "pending"]),
            (p.show_request(ident=pending), RequestShown, ["requests", "show", pending]),
            (p.request(customer="Acme", reason="bid", lines=within, check=True), RequestResult,
             [*ask, *WITHIN_REP, "--check"]),
            (p.request(customer="Acme", reason="bid", lines=unknown, check=True), RequestRefused,
             [*ask, "NOPE-1", "--qty", "1", "--discount", "5", "--check"]),
            (p.whoami(), Identity, None),
        ]  # fmt: skip
    with pricing.open(team.server, token=team.tokens["dana"]) as p:
        answers += [
            (p.people(), Person, ["people", "list"]),
            (p.audit_head(), AuditHead, ["audit", "head"]),
            (p.db_check(), DbCheck, ["db", "check"]),
        ]
    for answer, model, command in answers:
        for one in answer if isinstance(answer, list) else [answer]:
            assert type(one) is model, (command, one)
        if command is not None:
            user = "dana" if model in (Person, AuditHead, DbCheck) else "priya"
            embedded = team.admin(*command, "--json", user=user)
            assert _timeless(dumps(answer) + "\n") == _timeless(embedded.stdout), command
    assert answers[5][0] == Identity(name="priya", role="rep", registered=True)


def test_the_client_path_imports_no_database_or_dataframe_library(team: Team) -> None:
    probe = (
        "import json, sys\n"
        "from pricing.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {CLIENT_FORBIDDEN!r})\n"
        "print(json.dumps({'code': code, 'loaded': loaded}), file=sys.stderr)\n"
    )
    for args in (
        ["request", "--customer", "Acme", "--reason", "bid", *WITHIN_REP, "--check"],
        ["requests", "--json"],
    ):
        done = subprocess.run(
            [sys.executable, "-c", probe, *args], capture_output=True, text=True, cwd=team.folder,
            env=environment(PRICING_SERVER=team.server, PRICING_TOKEN=team.tokens["priya"]),
            timeout=60,
        )  # fmt: skip
        answer = json.loads(done.stderr.strip().splitlines()[-1])
        assert answer == {"code": 0, "loaded": []}, (args, answer)


# 5. The audit still holds after all of it -----------------------------------------------------


def test_zz_the_audit_chain_verifies_after_every_attempt(team: Team) -> None:
    done = team.admin("audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr


# 5. Changing the past: the audit emptied, then a decision made in SQL -----------------------------


def test_an_audit_emptied_in_psql_is_found_through_the_server_and_never_covered(
    tmp_path: Path,
) -> None:
    """Given a team server on PostgreSQL and an attacker with psql access as the database owner
    (no secret, no host) who empties the audit and approves a pending request directly (the
    audit said "nothing recorded yet" and the next change wrote a keyed baseline over the
    approval), when the owner verifies and checks the store through the server and a rep makes
    the next change, then both find it (exit 1), the change is refused with nothing written,
    and verify still finds it afterwards."""
    witness = tmp_path / "audit-witness"
    env = {"PRICING_SECRET": SECRET, "PRICING_AUDIT_WITNESS": str(witness)}
    with postgres_database() as url:
        team = Team(url, "", tmp_path)

        def admin(*args: str) -> subprocess.CompletedProcess[str]:
            return embedded(tmp_path, "--db", url, "--user", "dana", *args, **env)

        for name in ("dana", "marco", "priya"):
            done = admin("people", "add", name, "--role", PEOPLE[name], "--json")
            assert done.returncode == 0, done.stderr
            team.tokens[name] = json.loads(done.stdout)["token"]
        book = write_workbook(tmp_path / "book.xlsx", {"Price Book": [
            ["SKU", "List Price"], ["HW-200", 100]]})  # fmt: skip
        policy = tmp_path / "guardrails.toml"
        policy.write_text(POLICY + TEAM)
        assert admin("pricebook", "import", str(book), "--effective", "2026-01-01").returncode == 0
        assert admin("policy", "load", str(policy)).returncode == 0
        with serving(url, tmp_path, **env) as address:
            team.server = address
            pending = team.submit("priya", *MANAGER_LEVEL)
            assert team.client("dana", "audit", "verify").returncode == 0
            number = int(pending["id"].removeprefix("R-"))
            with psycopg.connect(url) as conn:
                conn.execute("TRUNCATE audit_log")
                conn.execute("UPDATE requests SET status = 'approved', decided_by = 'marco' "
                              f"WHERE id = {number}")  # fmt: skip
                conn.execute(f"UPDATE request_lines SET decision = 'approved' WHERE request_id = {number}")  # fmt: skip
            # Nobody's row has a seal left: everyone is refused at sign-in, the owner too, and
            # the administrator verifies on the server's host.
            refused(team.client("dana", "audit", "verify"), 2, "changed outside pricing")
            verified = admin("audit", "verify")
            refused(verified, 1, "the audit was emptied", "recorded entry")
            assert "Nothing has been recorded" not in verified.stdout
            checked = admin("db", "check")
            refused(checked, 1, "the audit was emptied")
            before = team.snapshot()
            refused(team.client("priya", "request", "--customer", "Acme", "--reason", "bid",
                                *WITHIN_REP), 2, "changed outside pricing")  # fmt: skip
            # A change made on the host itself is refused by the witness, nothing written.
            dearer = write_workbook(tmp_path / "dearer.xlsx", {"Price Book": [
                ["SKU", "List Price"], ["HW-200", 110]]})  # fmt: skip
            refused(admin("pricebook", "import", str(dearer), "--effective", "2026-02-01"), 2,
                    "emptied behind the tool's back", "pricing audit verify")  # fmt: skip
            assert team.snapshot() == before
            refused(admin("audit", "verify"), 1, "the audit was emptied")
