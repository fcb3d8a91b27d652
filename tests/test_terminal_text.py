"""Text is data, never markup or control (issue 17).

A SKU, a product, family or customer name, a reason, a note, a file name: whatever a file or the
database holds reaches people's terminals. A rep must not be able to break the owner's request
list with rich markup (``[/bold]``), clear the owner's screen or plant a link that opens another
address with an escape sequence, or forge a table row with a newline. Every such character is
shown as an escape people can read (``\\x1b``, ``\\n``, ``\\u202e``) in every command's human
output, embedded and through the team's server; ``--json`` gives back the exact value.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import pty
import re
import select
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.conftest import Cli
from tests.serving import environment, serving
from tests.test_cli_requests import TEAM
from tests.test_policy import POLICY

ROOT = Path(__file__).resolve().parents[1]

# What people put in files, on purpose or not.
CLEAR = "\x1b[2J\x1b[H"  # clear the screen, cursor home
LINK = "\x1b]8;;http://evil.example\x1b\\click here\x1b]8;;\x1b\\"  # OSC 8: a link to elsewhere
FILE_LINK = "\x1b]8;;evil.example\x1b\\click\x1b]8;;\x1b\\"  # the same in a file name (no '/')
TITLE = "\x1b]0;pwned\x07"  # OSC 0: the window's title, ended by BEL
C1 = "\x9b2J"  # the 8-bit CSI: clear the screen on terminals that take C1 controls
FORGED_ROW = "Acme\nR-999999  forged row"  # a newline: a table row of one's own
OVERWRITE = "Acme\roverwritten"  # a carriage return: the start of the line written over
REVERSED = "invoice\u202efdp.exe"  # a bidi override: shows as invoiceexe.pdf

# Any character a terminal acts on, in what a command printed for people: C0 but the newline
# that ends our own lines, DEL, C1, bidi embeddings, overrides and isolates.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def shown_safely(text: str) -> str:
    """``text`` (a command's stdout and stderr), after checking no raw control is in it."""
    found = RAW.search(text)
    assert found is None, f"raw {found.group()!r} reached the terminal: {text!r}"
    assert "Traceback" not in text, text
    return text


def both(result: Result) -> str:
    """Everything a command printed, stdout then stderr, checked safe."""
    return shown_safely(result.stdout + result.stderr)


def price_book(path: Path, *rows: Sequence[str]) -> Path:
    """A price book csv as a spreadsheet would write it (values quoted where they must be)."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["SKU", "Name", "Family", "List Price", "Unit Cost"])
        writer.writerow(["HW-200", "Switch", "Hardware", "100", "50"])
        writer.writerows(rows)
    return path


def guardrails(folder: Path) -> Path:
    """The policy of tests.test_policy with its team (marco manager, priya rep, dana owner)."""
    path = folder / "guardrails.toml"
    path.write_text(POLICY + TEAM)
    return path


# At a real terminal ------------------------------------------------------------------------------


def at_terminal(*args: str, **env: str) -> tuple[int, str]:
    """``pricing ARGS`` with stdin, stdout and stderr on a pseudo-terminal 250 columns wide, as a
    person runs it (rich tables, progress bars); its exit code and the bytes the screen got."""
    import fcntl
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 60, 250, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-m", "pricing", *args], stdin=child, stdout=child, stderr=child,
        env=environment(TERM="xterm-256color", COLUMNS="250", LINES="60", **env),
    )  # fmt: skip
    os.close(child)
    screen = bytearray()
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([main], [], [], 1)
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                data = os.read(main, 65536)
            except OSError:  # EIO: the command ended and closed the terminal
                break
            if not data:
                break
            screen += data
        code = process.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if process.poll() is None:
            process.kill()
        os.close(main)
    return code, screen.decode("utf-8", errors="replace")


def terminal_safe(screen: str) -> str:
    """What a terminal got, after checking that none of the hostile sequences reached it raw (our
    own styles, cursor moves and line ends are rich's and the terminal's), as plain text."""
    for raw in ("\x1b[2J", "\x1b[H", "\x1b]", "\x07", "\x9b", "\u202e"):
        assert raw not in screen, f"raw {raw!r} reached the terminal: {screen!r}"
    assert "Traceback" not in screen and "MarkupError" not in screen, screen
    # rich's styles (SGR), cursor shows and hides, line erases and moves; CRLF line ends.
    plain = re.sub(r"\x1b\[[0-9;?]*[mlhKAG]", "", screen).replace("\r\n", "\n")
    return plain


# Row 1: rich markup is shown, never parsed --------------------------------------------------------

MARKUP_SKU = "[/bold]"
MARKUP_NAME = "[link=http://x]y[/link]"
MARKUP_FAMILY = "[/] Tools"
MARKUP_CUSTOMER = "[/] Acme"
MARKUP_REASON = "[red]urgent[/red] [/]"


@pytest.fixture
def marked_up(sqlite_url: str, tmp_path: Path) -> Cli:
    """A store on SQLite (what a terminal shows does not depend on the database) where the
    marketer's price book and a rep's request are full of rich markup."""
    shop = Cli(sqlite_url)
    book = price_book(tmp_path / "book.csv", [MARKUP_SKU, MARKUP_NAME, MARKUP_FAMILY, "100", "50"])
    assert shop("pricebook", "import", str(book), "--effective", "2026-01-01").exit_code == 0
    assert shop("policy", "load", str(guardrails(tmp_path)), user="dana").exit_code == 0
    asked = shop("request", "--customer", MARKUP_CUSTOMER, "--reason", MARKUP_REASON,
                 MARKUP_SKU, "--qty", "1", "--discount", "5", user="priya")  # fmt: skip
    assert asked.exit_code == 0, asked.output
    return shop


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (["requests"], [MARKUP_CUSTOMER]),
        (["requests", "show", "R-000001"], [MARKUP_CUSTOMER, MARKUP_REASON, MARKUP_SKU]),
        (["pricebook", "show"], [MARKUP_SKU, MARKUP_NAME, MARKUP_FAMILY]),
        (["pricebook", "show", MARKUP_SKU], [MARKUP_SKU, MARKUP_NAME, MARKUP_FAMILY]),
    ],
    ids=["requests", "requests-show", "pricebook-show", "pricebook-show-sku"],
)
def test_markup_in_a_sku_a_name_or_a_customer_is_shown_literally_at_a_terminal(
    marked_up: Cli, command: list[str], expected: list[str]
) -> None:
    """Given a price book and a rep's request written in rich markup, when the owner lists the
    requests or the price book at a terminal, then it works and shows the text as typed."""
    code, screen = at_terminal("--db", marked_up.db_url, "--user", "dana", *command)
    text = terminal_safe(screen)
    assert code == 0, screen
    for value in expected:
        assert value in text, (value, text)


def test_a_file_name_in_markup_is_named_as_it_is_by_the_progress_bar(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Given a price book file named ``[bold]book [red]`` and a screen clear, when the marketer
    imports it at a terminal, then the progress bar and the summary name the file as it is."""
    name = f"[bold]book [red]{CLEAR}.csv"
    book = price_book(tmp_path / name, ["HW-1", "Router", "Tools", "10", "5"])
    code, screen = at_terminal(
        "--db", sqlite_url, "--user", "mia", "pricebook", "import", str(book)
    )
    text = terminal_safe(screen)
    assert code == 0, screen
    assert "Reading [bold]book [red]\\x1b[2J\\x1b[H.csv" in text
    assert "from [bold]book [red]\\x1b[2J\\x1b[H.csv" in text


# Row 2: control characters are shown escaped in every command ------------------------------------

HOSTILE_SKU = f"HW-{CLEAR}9"
HOSTILE_FILE = f"book{TITLE}.csv"


@dataclass
class Story:
    """A store whose price book, request, decision and deals are full of control characters, and
    everything the commands printed on the way."""

    cli: Cli
    folder: Path
    printed: dict[str, Result] = field(default_factory=dict)

    def step(self, name: str, *args: str, user: str = "dana") -> Result:
        """A command of the story, kept to look at what it printed later."""
        result = self.cli(*args, user=user)
        assert result.exit_code == 0, (name, result.output)
        self.printed[name] = result
        return result

    def run(self, name: str, *args: str, user: str = "dana") -> str:
        """What a command printed, checked safe."""
        return both(self.step(name, *args, user=user))


@pytest.fixture
def hostile(cli: Cli, tmp_path: Path) -> Story:
    story = Story(cli, tmp_path)
    book = price_book(tmp_path / HOSTILE_FILE, [HOSTILE_SKU, LINK, f"Hard{C1}ware", "100", "50"])
    story.step("import", "pricebook", "import", str(book), "--effective", "2026-01-01", user="mia")
    story.step("policy", "policy", "load", str(guardrails(tmp_path)))
    story.step("request", "request", "--customer", FORGED_ROW, "--reason", CLEAR + TITLE + REVERSED,
              HOSTILE_SKU, "--qty", "2", "--discount", "15", user="priya")  # fmt: skip
    story.step("reject", "reject", "R-000001", "--note", LINK + OVERWRITE, user="marco")
    return story


def test_control_characters_from_files_and_the_database_are_shown_escaped(hostile: Story) -> None:
    """Given a price book, a request and a rejection full of escape sequences, newlines and
    bidi overrides, when the marketer, the rep and the owner use every command that shows them,
    then each value is shown with its controls escaped (\\x1b, \\n, \\r, \\u202e): the screen is
    not cleared, no link or title is planted, no row is forged; --json keeps the exact values."""
    run = hostile.run
    assert "from book\\x1b]0;pwned\\x07.csv" in both(hostile.printed["import"])
    request = both(hostile.printed["request"])
    assert "for Acme\\nR-999999  forged row: pending" in request
    assert "HW-\\x1b[2J\\x1b[H9" in request
    assert "Rejected R-000001 for Acme\\nR-999999" in both(hostile.printed["reject"])

    listed = run("requests", "requests")
    rows = [line for line in listed.splitlines() if line.strip()]
    assert len(rows) == 3, listed  # header, rule, one request: the newline made no row
    assert "Acme\\nR-999999  forged row" in rows[2]

    shown = run("requests show", "requests", "show", "R-000001")
    assert "Asked by priya: \\x1b[2J\\x1b[H\\x1b]0;pwned\\x07invoice\\u202efdp.exe" in shown
    assert (
        "\\x1b]8;;http://evil.example\\x1b\\click here\\x1b]8;;\\x1b\\Acme\\roverwritten" in shown
    )

    book = run("pricebook show", "pricebook", "show")
    assert "HW-\\x1b[2J\\x1b[H9" in book and "Hard\\x9b2Jware" in book
    item = run("pricebook show SKU", "pricebook", "show", HOSTILE_SKU, user="mia")
    assert "\\x1b]8;;http://evil.example\\x1b\\click here" in item
    assert "book\\x1b]0;pwned\\x07.csv" in run("editions", "pricebook", "editions", user="mia")
    quoted = run("quote", "quote", HOSTILE_SKU, "--qty", "1", "--customer", FORGED_ROW,
                 user="priya")  # fmt: skip
    assert "HW-\\x1b[2J\\x1b[H9" in quoted

    exact = hostile.cli.json("requests", "show", "R-000001")
    assert (exact["customer"], exact["reason"]) == (FORGED_ROW, CLEAR + TITLE + REVERSED)
    assert exact["lines"][0]["sku"] == HOSTILE_SKU
    assert exact["events"][-1]["note"] == LINK + OVERWRITE
    assert hostile.cli.json("pricebook", "show", HOSTILE_SKU)["name"] == LINK


def test_errors_and_problems_quoting_a_hostile_value_show_it_escaped(hostile: Story) -> None:
    """Given a price book whose list price cell holds an escape sequence and whose file name holds
    another, when the marketer imports it, then the problem line and the refusal show both
    escaped on stderr (exit 2), and --json carries the cell's exact value."""
    bad = price_book(
        hostile.folder / f"bad{FILE_LINK}.csv", ["HW-1", "Router", "Tools", f"12{CLEAR}", "5"]
    )
    refused = hostile.cli("pricebook", "import", str(bad))
    assert refused.exit_code == 2, refused.output
    said = shown_safely(refused.stderr)
    assert '"12\\x1b[2J\\x1b[H": list price is not a number' in said
    assert "error: bad\\x1b]8;;evil.example\\x1b\\click\\x1b]8;;\\x1b\\.csv: nothing" in said
    document = json.loads(hostile.cli(
        "pricebook", "import", str(bad), "--json").stdout)  # fmt: skip
    assert document["problems"][0]["value"] == f"12{CLEAR}"


DEALS = "Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price\n"


def test_deals_report_and_imports_show_hostile_names_escaped(hostile: Story) -> None:
    """Given closed deals whose customer and rep names carry escape sequences and a newline, in a
    file whose name carries a link, when the owner imports them and reads the drift report by
    customer and by rep and the list of imports, then every name is shown escaped."""
    deals = hostile.folder / f"deals{FILE_LINK}.csv"
    with deals.open("w", newline="", encoding="utf-8") as out:
        out.write(DEALS)
        csv.writer(out).writerows([
            ["O-1", "2026-02-01", FORGED_ROW, f"sam{TITLE}", "HW-200", "1", "90"],
            ["O-2", "2026-02-02", REVERSED, f"ravi{C1}", HOSTILE_SKU, "1", "80"],
        ])  # fmt: skip
    imported = hostile.run("deals import", "deals", "import", str(deals))
    assert "deals\\x1b]8;;evil.example" in imported
    by_customer = hostile.run("report", "report", "--by", "customer")
    assert "Acme\\nR-999999  forged row" in by_customer and "invoice\\u202efdp.exe" in by_customer
    assert "sam\\x1b]0;pwned\\x07" in hostile.run("report by rep", "report", "--by", "rep")
    assert "deals\\x1b]8;;evil.example" in hostile.run("imports", "deals", "imports")
    assert hostile.cli.json("report", "--by", "customer")["groups"]


def test_json_output_is_exact_and_carries_no_raw_c1_or_bidi_control(hostile: Story) -> None:
    """Given values with C1 controls and a bidi override, when they are read with --json, then
    the JSON text has them as \\u escapes (a terminal shows it safely) and json.loads gives back
    exactly the stored text, escaped once, not twice."""
    result = hostile.cli("pricebook", "show", "--json", user="mia")
    assert result.exit_code == 0, result.output
    shown_safely(result.stdout.replace("\n", ""))
    assert '"Hard\\u009b2Jware"' in result.stdout
    item = json.loads(result.stdout)["items"]
    assert {i["family"] for i in item} == {"Hardware", f"Hard{C1}ware"}
    asked = hostile.cli("requests", "show", "R-000001", "--json")
    assert "\\\\u202e" not in asked.stdout and "\\u202e" in asked.stdout
    assert json.loads(asked.stdout)["reason"] == CLEAR + TITLE + REVERSED


# Row 3: the same through the team's server --------------------------------------------------------

PEOPLE = {"dana": "owner", "marco": "manager", "priya": "rep", "mia": "marketer"}


@dataclass
class Team:
    """A server (``pricing serve``) over an SQLite store, and the people's tokens. The server and
    the administrator here share the tests' configuration folder: the audit's secret of a local
    trial."""

    url: str
    server: str
    folder: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def client(self, person: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pricing", *args], cwd=self.folder, capture_output=True,
            env=environment(PRICING_SERVER=self.server, PRICING_TOKEN=self.tokens[person]),
            text=True, timeout=60,
        )  # fmt: skip


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:

    folder = tmp_path_factory.mktemp("terminal-team")
    made = Team(f"sqlite:///{folder / 'pricing.db'}", "", folder)
    administrator = Cli(made.url, user="dana")  # on the database itself, as the owner
    for name, role in PEOPLE.items():  # dana first: the first person is an owner
        made.tokens[name] = administrator.json("people", "add", name, "--role", role)["token"]
    book = price_book(folder / "book.csv", [HOSTILE_SKU, LINK, f"Hard{C1}ware", "100", "50"])
    administrator.json("pricebook", "import", str(book), "--effective", "2026-01-01")
    administrator.json("policy", "load", str(guardrails(folder)))
    with serving(made.url, folder) as address:
        made.server = address
        yield made


def test_through_the_server_hostile_values_and_its_errors_are_shown_escaped(team: Team) -> None:
    """Given a team whose price book is full of escape sequences, when a rep asks through the
    server with a hostile customer and reason, the owner lists and opens the request, and the
    marketer sends a broken price book with a hostile name (the server's error comes back as
    JSON and the client prints it), then every value and every message is shown escaped; the
    client's --json gives the exact values."""
    asked = team.client("priya", "request", "--customer", FORGED_ROW, "--reason", CLEAR + REVERSED,
                        HOSTILE_SKU, "--qty", "1", "--discount", "5")  # fmt: skip
    assert asked.returncode == 0, asked.stderr
    assert "for Acme\\nR-999999  forged row: approved" in shown_safely(asked.stdout + asked.stderr)

    listed = team.client("dana", "requests")
    assert listed.returncode == 0, listed.stderr
    assert "Acme\\nR-999999  forged row" in shown_safely(listed.stdout + listed.stderr)
    shown = team.client("dana", "requests", "show", "R-000001")
    assert "\\x1b[2J\\x1b[Hinvoice\\u202efdp.exe" in shown_safely(shown.stdout + shown.stderr)
    book = team.client("mia", "pricebook", "show")
    assert "\\x1b]8;;http://evil.example" in shown_safely(book.stdout + book.stderr)

    broken = team.folder / f"broken{FILE_LINK}.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    refused = team.client("mia", "pricebook", "import", str(broken))
    assert refused.returncode == 2, refused.stderr
    said = shown_safely(refused.stdout + refused.stderr)
    assert "broken\\x1b]8;;evil.example\\x1b\\click\\x1b]8;;\\x1b\\.xlsx" in said

    exact = json.loads(team.client("dana", "requests", "show", "R-000001", "--json").stdout)
    assert (exact["customer"], exact["reason"]) == (FORGED_ROW, CLEAR + REVERSED)
    assert exact["lines"][0]["sku"] == HOSTILE_SKU


# Row 4: any text, any command ---------------------------------------------------------------------

# Whole sequences that break terminals, rich and csv, and single characters: controls, markup,
# quotes, separators, other scripts. NUL is left out: importers refuse it (a row of its own).
FRAGMENTS = st.sampled_from([
    CLEAR, LINK, TITLE, C1, "\x1b", "\x07", "\x08", "\t", "\n", "\r", "\r\n", "\x7f", "\x9d",
    "\x85", "\u202e", "\u2066", "\u2028", "[/]", "[/bold]", "[bold]", "[link=http://x]", ":smile:",
    "[", "]", "\\", "'", '"', ",", ";", " ", "%s", "{0}",
])  # fmt: skip
CHARACTERS = st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\x00")
# A value a person could have typed: begins and ends with a letter (importers trim spaces, and a
# SKU that starts with '-' would be an option), anything in between.
VALUE = st.builds(
    lambda first, inner, last: first + "".join(inner) + last,
    st.sampled_from("ABCxyz[]é日"),
    st.lists(st.one_of(FRAGMENTS, CHARACTERS), min_size=1, max_size=8),
    st.sampled_from("ABCxyz[]é日"),
)


def _printed(cli: Cli, *args: str, user: str, expect: int = 0) -> str:
    result = cli(*args, user=user)
    assert result.exit_code == expect, (args, result.output)
    return both(result)


@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(sku=VALUE, name=VALUE, customer=VALUE, reason=VALUE)
@example(sku=f"A{CLEAR}[/bold]Z", name=f"[/]{LINK}", customer=FORGED_ROW, reason=f"x{TITLE}{C1}y")
def test_any_text_through_every_command_is_shown_safely_and_kept_exactly(
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sku: str,
    name: str,
    customer: str,
    reason: str,
) -> None:
    """Given any SKU, name, customer and reason (controls, markup, quotes, other scripts), when
    they go through a price book import, a request, the request list, the request, the price
    book, a quote and an import refused for a bad cell, as tables piped and at a terminal, then
    nothing crashes, no raw control reaches stdout or stderr, and --json gives each back exactly.
    """
    from pricing.cli import common

    shop = Cli(sqlite_url)
    folder = tmp_path / f"case-{time.monotonic_ns()}"
    folder.mkdir()
    if not (loaded := tmp_path / "policy-loaded").exists():  # (once: the store is the test's)
        assert shop("policy", "load", str(guardrails(tmp_path)), user="dana").exit_code == 0
        loaded.touch()
    book = price_book(folder / "book.csv", [sku, name, "Tools", "100", "50"])
    _printed(shop, "pricebook", "import", str(book), user="mia")
    asked = shop("request", "--customer", customer, "--reason", reason, sku, "--qty", "1",
                 "--discount", "5", "--json", user="priya")  # fmt: skip
    assert asked.exit_code == 0, asked.output
    ident = json.loads(shown_safely(asked.stdout.replace("\n", "")))["id"]
    for terminal in (False, True):
        monkeypatch.setattr(common, "_on_terminal", lambda terminal=terminal: terminal)
        _printed(shop, "requests", user="dana")
        _printed(shop, "requests", "show", ident, user="dana")
        _printed(shop, "pricebook", "show", user="mia")
        _printed(shop, "pricebook", "show", sku, user="mia")
        _printed(shop, "quote", sku, "--qty", "1", "--customer", customer, user="priya")
    bad = price_book(folder / "bad.csv", [sku, name, "Tools", reason, "50"])
    _printed(shop, "pricebook", "import", str(bad), user="mia", expect=2)

    exact = shop.json("requests", "show", ident, user="dana")
    assert (exact["customer"], exact["reason"], exact["lines"][0]["sku"]) == (customer, reason, sku)
    assert shop.json("pricebook", "show", sku, user="mia")["name"] == name
    refused = shop.json("pricebook", "import", str(bad), user="mia", expect=2)
    assert any(p["value"] == reason for p in refused["problems"]), refused["problems"]


# One way out ------------------------------------------------------------------------------------


def test_every_command_prints_through_the_one_escaping_sink() -> None:
    """Every word a command prints for people goes through pricing.cli.common (say, print_table,
    the problems, the refusal), where values are escaped once: no other CLI module calls
    click.echo, click.secho or print, or renders with rich itself."""
    offenders: list[str] = []
    for path in sorted((ROOT / "pricing" / "cli").glob("*.py")):
        if path.name in ("common.py", "reference.py"):  # reference writes the docs, for us
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call):
                called = ast.unparse(node.func)
                if called in ("click.echo", "click.secho", "print", "click.style"):
                    offenders.append(f"{path.name}:{node.lineno} {called}")
            if isinstance(node, ast.ImportFrom | ast.Import):
                names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
                names += [alias.name for alias in node.names]
                if any(n == "rich" or n.startswith("rich.") for n in names):
                    offenders.append(f"{path.name}:{node.lineno} imports rich")
    assert offenders == []


def test_a_bugs_traceback_shows_the_value_it_quotes_escaped() -> None:
    """Given a bug whose exception quotes a hostile value (openpyxl's IllegalCharacterError
    quotes the cell it refused), when it ends a pricing process, then the traceback on stderr
    shows the value escaped, and the exit code is still 1."""
    bug = (
        "from pricing.cli import main\n"
        "main.main(['--help'], standalone_mode=False)\n"
        "raise RuntimeError('HW-\\x1b[2J\\x1b]8;;http://evil\\x1b\\\\ cannot be used')\n"
    )
    done = subprocess.run([sys.executable, "-c", bug], env=environment(), capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert RAW.search(done.stderr) is None, done.stderr
    assert "RuntimeError: HW-\\x1b[2J\\x1b]8;;http://evil\\x1b\\ cannot be used" in done.stderr
