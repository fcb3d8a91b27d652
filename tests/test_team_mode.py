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


def test_the_same_export_imported_by_several_people_at_once_is_stored_once(
    postgres_url: str, tmp_path: Path
) -> None:
    """Given a shared PostgreSQL store, when four people import the same deals export at the
    same moment, then each line is stored once and each deal counted once."""
    import json
    import subprocess
    import sys

    owner = Cli(postgres_url)
    try:
        assert owner("pricebook", "import", str(SAMPLE_DATA / "price-book-2025.xlsx"),
                     "--effective", "2025-01-01").exit_code == 0  # fmt: skip
        assert owner("policy", "load", str(SAMPLE_DATA / "guardrails.toml")).exit_code == 0
        deals = SAMPLE_DATA / "deals-2025-2026.csv"
        argv = [sys.executable, "-m", "pricing", "--db", postgres_url, "--json", "deals",
                "import", str(deals)]  # fmt: skip
        processes = [subprocess.Popen(argv, stdout=subprocess.PIPE, text=True) for _ in range(4)]
        results = [json.loads(p.communicate()[0]) for p in processes]
        assert [p.returncode for p in processes] == [0] * 4
        assert sorted(r["added"] for r in results)[:3] == [0, 0, 0]  # one stored them all
        lines = results[0]["lines"]
        report = owner.json("report")
        assert report["totals"]["lines"] == lines
        with deals.open() as handle:
            orders = {row.split(",")[0] for row in list(handle)[1:]}
        assert report["totals"]["deals"] == len(orders)
    finally:
        owner.close()
