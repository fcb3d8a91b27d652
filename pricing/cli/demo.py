"""``pricing demo``: the whole story on sample_data, end to end, as a user would type it."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from pricing.errors import InputError

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"


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
    """Run the story on sample_data: import two price book editions, compare, show, export."""
    from pricing.cli import main

    if not SAMPLE_DATA.is_dir():
        raise InputError(f"no sample data at {SAMPLE_DATA}: run the demo from a pricing checkout")
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "pricing.db"
    for stale in folder.glob("pricing.db*"):
        stale.unlink()
    book_2026 = SAMPLE_DATA / "price-book-2026.xlsx"
    book_2027 = SAMPLE_DATA / "price-book-2027.xlsx"
    export = folder / "price-book-export.xlsx"
    steps: list[tuple[str, list[str]]] = [
        ("The marketer imports the 2026 price book.",
         ["pricebook", "import", str(book_2026), "--effective", "2026-01-01"]),
        ("And the 2027 edition, with its price changes (warnings are shown, not blocking).",
         ["pricebook", "import", str(book_2027), "--effective", "2027-01-01"]),
        ("Both editions are kept; the one in force depends on the date.",
         ["pricebook", "editions"]),
        ("What changed between them:", ["pricebook", "diff"]),
        ("One SKU today, with its standard volume tiers:", ["pricebook", "show", "HW-1001"]),
        ("The same SKU as it will be priced in 2027:",
         ["pricebook", "show", "HW-1001", "--as-of", "2027-01-01"]),
        ("A clean copy of the 2027 edition for the sales team:",
         ["pricebook", "export", str(export), "--as-of", "2027-01-01"]),
        ("Re-importing the clean copy changes nothing:",
         ["pricebook", "import", str(export), "--effective", "2027-01-01", "--dry-run"]),
    ]  # fmt: skip
    for note, args in steps:
        full = ["--db", str(db), "--user", "mia", *args]
        click.secho(f"\n# {note}", fg="cyan")
        click.secho("$ pricing " + shlex.join(full), bold=True)
        try:
            main.main(full, prog_name="pricing", standalone_mode=False)
        except click.exceptions.Exit as done:
            if done.exit_code not in (0, None):
                raise
    click.secho(f"\nDone. The demo's database is {db}; the export is {export}.", fg="green")
