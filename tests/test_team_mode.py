"""Team mode: the same story on the embedded SQLite file and on PostgreSQL gives the same report."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import SAMPLE_DATA, Cli


def tell_the_story(cli: Cli) -> dict:
    steps = [
        (
            "pricebook",
            "import",
            str(SAMPLE_DATA / "price-book-2025.xlsx"),
            "--effective",
            "2025-01-01",
        ),
        ("policy", "load", str(SAMPLE_DATA / "guardrails.toml")),
        ("deals", "import", str(SAMPLE_DATA / "deals-2025-2026.csv")),
        (
            "pricebook",
            "import",
            str(SAMPLE_DATA / "price-book-2026.xlsx"),
            "--effective",
            "2026-01-01",
        ),
    ]
    for step in steps:
        assert cli(*step).exit_code == 0
    return cli.json("report", "--by", "rep,family,month")


def test_the_same_report_on_sqlite_and_postgresql_to_the_cent(
    sqlite_url: str, postgres_url: str, tmp_path: Path
) -> None:
    embedded, team = Cli(sqlite_url), Cli(postgres_url)
    try:
        on_sqlite, on_postgres = tell_the_story(embedded), tell_the_story(team)
    finally:
        embedded.close()
        team.close()
    assert on_sqlite["totals"] == on_postgres["totals"]
    assert on_sqlite["totals"]["lines"] == 3405
    key = lambda g: tuple(g["key"].values())  # noqa: E731
    assert sorted(on_sqlite["groups"], key=key) == sorted(on_postgres["groups"], key=key)
    assert on_sqlite["waterfall"] == on_postgres["waterfall"]
