"""``pricing demo``: the whole story on sample_data, end to end, as a user would type it."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from pricing.cli.common import say, settings


@click.command(
    epilog="""
\b
Examples:
  pricing demo
  pricing demo --dir /tmp/pricing-demo
"""
)
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("demo"),
    show_default=True,
    help="Folder for the demo's database and the files it writes (its database is made anew).",
)
def demo(folder: Path) -> None:
    """Run the whole story on sample_data, end to end, in a fresh database.

    Price book editions, guardrails, requests and approvals, two years of deals and the drift
    report (report.xlsx and report.html in the demo folder).
    """
    made = settings().pricing().new_demo(folder=folder)
    db = Path(made.database)
    steps = _steps(folder, Path(made.sample_data))
    for note, user, args, expected in steps:
        _run(db, note, user, args, expected)
    report_xlsx, report_html = folder / "report.xlsx", folder / "report.html"
    export = folder / "price-book-export.xlsx"
    say("")
    say(
        f"Done. The drift report is in {report_xlsx.resolve()} and {report_html.resolve()}; "
        f"the database is {db}; the price book export is {export}.",
        fg="green",
    )


Step = tuple[str, str, list[str], tuple[int, ...]]


def _steps(folder: Path, sample_data: Path) -> list[Step]:
    """(what happens, who types it, the command, the exit codes that are the expected answer)."""
    book_2025 = sample_data / "price-book-2025.xlsx"
    book_2026 = sample_data / "price-book-2026.xlsx"
    deals_file = sample_data / "deals-2025-2026.csv"
    report_xlsx, report_html = folder / "report.xlsx", folder / "report.html"
    export = folder / "price-book-export.xlsx"
    policy = sample_data / "guardrails.toml"
    lines = sample_data / "request-lines.csv"
    marketer, owner, manager, rep, rep2 = "mia", "dana", "marco", "priya", "sam"
    return [
        ("The marketer imports the 2025 price book.", marketer,
         ["pricebook", "import", str(book_2025), "--effective", "2025-01-01"], (0,)),
        ("And the 2026 edition, with its price increases (warnings are shown, not blocking).", marketer,
         ["pricebook", "import", str(book_2026), "--effective", "2026-01-01"], (0,)),
        ("Both editions are kept; the one in force depends on the date.", marketer,
         ["pricebook", "editions"], (0,)),
        ("What changed between them:", marketer, ["pricebook", "diff"], (0,)),
        ("One SKU as priced in mid-2025, with its standard volume tiers:", marketer,
         ["pricebook", "show", "HW-1001", "--as-of", "2025-06-30"], (0,)),
        ("The same SKU under the 2026 edition:", marketer,
         ["pricebook", "show", "HW-1001", "--as-of", "2026-06-30"], (0,)),
        ("A clean copy of the 2026 edition for the sales team:", marketer,
         ["pricebook", "export", str(export), "--as-of", "2026-06-30"], (0,)),
        ("Re-importing the clean copy changes nothing:", marketer,
         ["pricebook", "import", str(export), "--effective", "2026-01-01", "--dry-run"], (0,)),
        ("The owner checks and loads the guardrails.", owner, ["policy", "check", str(policy)], (0,)),
        ("", owner, ["policy", "load", str(policy)], (0,)),
        ("", owner, ["policy", "show"], (0,)),
        ("Before calling the customer back, a salesperson asks what she may offer:", rep,
         ["quote", "HW-1001", "--qty", "25", "--customer", "Acme Corp"], (0,)),
        ("Within her own authority: approved at once.", rep,
         ["request", "--customer", "Acme Corp", "--reason", "competitive bid vs. Contoso",
          "HW-1001", "--qty", "25", "--discount", "10"], (0,)),
        ("Deeper: it waits for a manager.", rep,
         ["request", "--customer", "Acme Corp", "--reason", "multi-site rollout",
          "HW-1018", "--qty", "4", "--discount", "12"], (0,)),
        ("Below the services margin floor: rejected, nobody can approve it (exit 1).", rep2,
         ["request", "--customer", "Globex", "--reason", "first project", "PS-5001", "--qty", "1",
          "--price", "450"], (1,)),
        ("A whole deal from a file: the strictest line decides (owner).", rep,
         ["request", "--customer", "Initech", "--reason", "3-year renewal with expansion",
          "--file", str(lines)], (0,)),
        ("Nobody approves their own request (exit 1):", rep, ["approve", "R-000002"], (1,)),
        ("A manager approves the one at manager level:", manager,
         ["approve", "R-000002", "--note", "strategic account, signed before quarter end"], (0,)),
        ("But not the one that needs the owner (exit 1):", manager, ["approve", "R-000004"], (1,)),
        ("The owner rejects it, saying why:", owner,
         ["reject", "R-000004", "--note", "software at 30% is too deep; offer a 3-year prepay instead"],
         (0,)),
        ("The salesperson records what happened:", rep, ["requests", "won", "R-000001"], (0,)),
        ("", rep, ["requests", "lost", "R-000002"], (0,)),
        ("Every request, and one request's full history:", owner, ["requests"], (0,)),
        ("", owner, ["requests", "show", "R-000002"], (0,)),
        ("Two years of closed deals from the CRM, each matched to the list in force on its date:", owner,
         ["deals", "import", str(deals_file)], (0,)),
        ("The owner's drift report, by salesperson:", owner, ["report", "--by", "rep"], (0,)),
        ("And as files to read and share:", owner,
         ["report", "--by", "rep,family", "-o", str(report_xlsx)], (0,)),
        ("", owner, ["report", "--by", "rep", "-o", str(report_html)], (0,)),
        ("What if reps could grant less? The proposed policy, tried on two years of deals:", owner,
         ["policy", "simulate", str(sample_data / "guardrails-proposed.toml")], (0,)),
    ]  # fmt: skip


def _run(db: Path, note: str, user: str, args: list[str], expected: tuple[int, ...]) -> None:
    """One step as the user would type it; a step that does not exit as expected stops the demo."""
    from pricing.cli import main

    full = ["--db", str(db), "--user", user, *args]
    if note:
        say("")
        say(f"# {note}", fg="cyan")
    say("$ pricing " + shlex.join(full), bold=True)
    try:
        returned = main.main(full, prog_name="pricing", standalone_mode=False)
        code = returned if isinstance(returned, int) else 0  # click returns ctx.exit codes
    except click.exceptions.Exit as done:
        code = done.exit_code or 0
    if code not in expected:
        raise click.ClickException(f"demo step failed (exit {code}): pricing {shlex.join(args)}")
