"""Deal storage sealed by position (issue 23, finding 5): someone who can write to the database
but holds no server secret moves, swaps or deletes stored column blocks. Before, the report read
other numbers and exited 0 (a deleted ``net_amount`` block gave net 0, ``net_amount`` and
``list_revenue`` swapped gave 108 % realization, ``rep`` and ``customer`` swapped listed
customers as reps). Now every command that reads the history exits 2 naming the import and the
way back; never a wrong number.

Each attack is plain SQL on the database, as the attacker would type it into psql.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import Cli
from tests.test_db_check import no_traceback, stocked  # noqa: F401 (a fixture)


def sql(cli: Cli, *statements: str) -> None:
    with cli.store().engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))


def first_segment(cli: Cli, number: int) -> int:
    with cli.store().engine.begin() as conn:
        found = conn.execute(
            text("SELECT min(id) FROM deal_segments WHERE import_id = :n"), {"n": number}
        ).scalar_one()
    return int(found)


def swap_columns(cli: Cli, segment: int, one: str, other: str) -> None:
    """Two blocks of a segment swapped by name: rows, seals and all."""
    sql(
        cli,
        f"UPDATE deal_columns SET name = 'swap' WHERE segment_id = {segment} AND name = '{one}'",
        f"UPDATE deal_columns SET name = '{one}' WHERE segment_id = {segment} AND name = '{other}'",
        f"UPDATE deal_columns SET name = '{other}' WHERE segment_id = {segment} AND name = 'swap'",
    )


def refused_naming(
    cli: Cli, number: int, source: str, tmp_path: Path, *, commands: list[list[str]] | None = None
) -> None:
    """The report, a policy what-if and a quote each exit 2, name import ``number`` (its file)
    and how to get it back; no number is printed."""
    from tests.test_policy import POLICY

    proposed = tmp_path / "proposed.toml"
    proposed.write_text(POLICY.replace("rep = 10.0", "rep = 5.0"))
    for command in commands or (
        ["report"],
        ["report", "--by", "rep", "--json"],
        ["policy", "simulate", str(proposed)],
        ["quote", "SV-1", "--qty", "1"],
    ):
        result = cli(*command)
        assert result.exit_code == 2, (command, result.output)
        no_traceback(result)
        if "--json" in command:  # the error as a document, nothing else
            assert list(json.loads(result.stdout)) == ["error"], result.stdout
            message = json.loads(result.stdout)["error"]
        else:
            assert result.stdout == "", (command, result.stdout)
            message = result.stderr
        assert "damaged" in message and f"deals import {number}" in message, (command, message)
        assert source in message, message
        assert f"pricing deals undo {number}" in message and "backup" in message, message


def test_attacker_deletes_a_net_amount_block__report_simulate_quote_exit_2(
    stocked: Cli,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Given an attacker with psql access who deletes the net_amount block of import 2's
    segment, when the owner reads the report, simulates a policy or a rep asks for a quote,
    then each exits 2 naming import 2 and the way back (before: net 0, realization 0 %)."""
    segment = first_segment(stocked, 2)
    sql(stocked, f"DELETE FROM deal_columns WHERE segment_id = {segment} AND name = 'net_amount'")
    refused_naming(stocked, 2, "february.csv", tmp_path)
    assert "net_amount block is missing" in stocked("report").stderr


def test_attacker_swaps_net_amount_and_list_revenue__exit_2(
    stocked: Cli,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Given an attacker who swaps the net_amount and list_revenue blocks of import 1's
    segment (rows, seals and all), when the report, a what-if or a quote reads them, then
    each exits 2 naming import 1 (before: 108 % realization, exit 0)."""
    swap_columns(stocked, first_segment(stocked, 1), "net_amount", "list_revenue")
    refused_naming(stocked, 1, "january.csv", tmp_path)


def test_attacker_swaps_rep_and_customer__exit_2(
    stocked: Cli,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Given an attacker who swaps the rep and customer blocks of import 1's segment, when a
    report by rep or by customer reads them, then it exits 2 naming import 1 (before:
    customers listed as reps, exit 0). A command that reads neither column prints no name and
    its numbers are right; `db check` names the swap all the same."""
    swap_columns(stocked, first_segment(stocked, 1), "rep", "customer")
    by = [["report", "--by", "rep"], ["report", "--by", "customer", "--json"]]
    refused_naming(stocked, 1, "january.csv", tmp_path, commands=by)
    checked = stocked.json("db", "check", expect=1)
    found = {(f["import"]["id"], f["column"]) for f in checked["findings"] if f.get("import")}
    assert {(1, "rep"), (1, "customer")} <= found, checked["findings"]


def test_attacker_swaps_only_the_bytes_of_two_blocks__exit_2(stocked: Cli) -> None:  # noqa: F811
    """The same with the bytes swapped and each row keeping its seal."""
    segment = first_segment(stocked, 1)
    sql(
        stocked,
        f"UPDATE deal_columns SET data = (SELECT data FROM deal_columns WHERE segment_id = "
        f"{segment} AND name = 'list_revenue') WHERE segment_id = {segment} "
        "AND name = 'net_amount'",
    )
    result = stocked("report", "--json")
    assert result.exit_code == 2 and "deals import 1" in result.stderr, result.output


def test_attacker_swaps_a_block_between_two_imports__exit_2(owner: Cli, tmp_path: Path) -> None:
    """Given two imports of as many lines each and an attacker who swaps their net_amount
    blocks (rows, seals and all: each still decodes and holds its segment's count), when the
    history is read, then it exits 2 naming an import (before: each import's net was the
    other's, exit 0)."""
    header = "Order ID,Order Date,Customer,Sales Rep,SKU,Quantity,Net Price\n"
    march = (
        header
        + "O-7,2026-03-02,Acme,priya,HW-100,10,118.00\nO-8,2026-03-05,Umbrella,sam,SV-1,2,95.00\n"
    )
    april = (
        header
        + "O-9,2026-04-02,Globex,sam,HW-100,900,1.00\nO-10,2026-04-07,Hooli,priya,SV-1,1,1.00\n"
    )
    for name, rows in (("march.csv", march), ("april.csv", april)):
        (tmp_path / name).write_text(rows)
        assert owner("deals", "import", str(tmp_path / name)).exit_code == 0
    one, two = first_segment(owner, 1), first_segment(owner, 2)
    sql(
        owner,
        f"UPDATE deal_columns SET name = 'swap' WHERE segment_id = {one} AND name = 'net_amount'",
        f"UPDATE deal_columns SET segment_id = {one} WHERE segment_id = {two} "
        "AND name = 'net_amount'",
        f"UPDATE deal_columns SET segment_id = {two}, name = 'net_amount' "
        f"WHERE segment_id = {one} AND name = 'swap'",
    )
    refused_naming(owner, 1, "march.csv", tmp_path)


def test_attacker_moves_a_segment_to_another_import__exit_2(stocked: Cli) -> None:  # noqa: F811
    """Given an attacker who gives import 2's segment to import 1, then it exits 2."""
    sql(stocked, f"UPDATE deal_segments SET import_id = 1 WHERE id = {first_segment(stocked, 2)}")
    result = stocked("report")
    assert result.exit_code == 2 and "damaged" in result.stderr, result.output


@pytest.mark.parametrize(
    "attack",
    [
        "DELETE FROM deal_columns WHERE segment_id = {s}",
        "UPDATE deal_segments SET lines = lines - 1 WHERE id = {s}",
        "UPDATE deal_segments SET first_date = '2020-01-01' WHERE id = {s}",
        "DELETE FROM deal_manifests WHERE import_id = 2",
        "UPDATE deal_manifests SET body = replace(body, '\"rep\",', '') WHERE import_id = 2",
        "UPDATE deal_columns SET seal = NULL WHERE segment_id = {s} AND name = 'qty'",
    ],
    ids=["all-blocks", "count", "dates", "manifest-deleted", "manifest-edited", "seal-removed"],
)
def test_attacker_edits_a_count_a_date_or_the_manifest__exit_2(
    stocked: Cli,  # noqa: F811
    attack: str,
) -> None:
    """A segment emptied of its blocks, its count or dates changed, its import's manifest
    deleted or edited, a seal removed: the report exits 2 naming import 2."""
    sql(stocked, attack.format(s=first_segment(stocked, 2)))
    result = stocked("report", "--by", "rep")
    assert result.exit_code == 2, result.output
    no_traceback(result)
    assert "deals import 2" in result.stderr, result.stderr


def test_attacker_deletes_a_whole_segment__exit_2(stocked: Cli) -> None:  # noqa: F811
    """Given an attacker who deletes import 2's segment, its blocks and all, then the report
    exits 2: the import's manifest lists a segment that is not there."""
    segment = first_segment(stocked, 2)
    sql(
        stocked,
        f"DELETE FROM deal_columns WHERE segment_id = {segment}",
        f"DELETE FROM deal_segments WHERE id = {segment}",
    )
    result = stocked("report")
    assert result.exit_code == 2, result.output
    assert "deals import 2" in result.stderr and "missing" in result.stderr, result.stderr


def test_the_way_back_works__undo_and_import_again(
    stocked: Cli,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Given import 1's net_amount and list_revenue swapped, when the owner does what the
    message says (undo 1, import january.csv again), then the report is what it was."""
    before = stocked.json("report", "--by", "rep")
    swap_columns(stocked, first_segment(stocked, 1), "net_amount", "list_revenue")
    assert stocked("report").exit_code == 2
    undone = stocked("deals", "undo", "1")
    assert undone.exit_code == 0, undone.output
    again = stocked("deals", "import", str(tmp_path / "january.csv"))
    assert again.exit_code == 0, again.output
    assert stocked.json("report", "--by", "rep") == before


def test_a_sound_store_reads_as_before_after_rematch_and_undo(
    stocked: Cli,  # noqa: F811
) -> None:
    """What the tool itself writes stays sealed: undoing import 1 (february.csv's copy of deal
    O-2 becomes import 2's own) leaves a store every command reads."""
    assert stocked("deals", "undo", "1").exit_code == 0
    result = stocked("report", "--by", "rep")
    assert result.exit_code == 0, result.output
    assert stocked("db", "check").exit_code == 0


def test_a_store_from_before_seals_is_sealed_on_upgrade(
    stocked: Cli,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Given a store at revision 0010 (no seals, no manifests), when the owner runs `pricing db
    upgrade`, then its blocks are sealed as they are: the report reads as before, and a swap
    made after the upgrade is found."""
    before = stocked.json("report", "--by", "rep")
    sql(
        stocked,
        "DROP TABLE deal_manifests",
        "ALTER TABLE deal_columns DROP COLUMN seal",
        "UPDATE alembic_version SET version_num = '0010'",
    )
    stocked.close()
    upgraded = stocked("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert stocked.json("report", "--by", "rep") == before
    assert stocked.json("db", "check")["sound"] is True
    swap_columns(stocked, first_segment(stocked, 2), "net_amount", "list_revenue")
    refused_naming(stocked, 2, "february.csv", tmp_path, commands=[["report"]])


def test_a_segment_a_later_import_held_whole_is_sealed_to_it_on_undo(
    owner: Cli, tmp_path: Path
) -> None:
    """Given january.csv imported, then a file holding all its lines and more, when import 1
    is undone, then its segment becomes import 2's (sealed to it): every command reads it, the
    check passes; and import 2's blocks swapped afterwards are found, naming import 2."""
    from tests.test_db_check import JANUARY

    (tmp_path / "january.csv").write_text(JANUARY)
    (tmp_path / "more.csv").write_text(JANUARY + "O-4,2026-02-10,Hooli,sam,SV-1,4,97.00\n")
    for name in ("january.csv", "more.csv"):
        assert owner("deals", "import", str(tmp_path / name)).exit_code == 0
    before = owner.json("report", "--by", "rep")
    moved = first_segment(owner, 1)
    assert owner("deals", "undo", "1").exit_code == 0
    assert owner.json("report", "--by", "rep") == before
    assert owner.json("db", "check")["sound"] is True
    with owner.store().engine.begin() as conn:
        now = conn.execute(text(f"SELECT import_id FROM deal_segments WHERE id = {moved}"))
        assert now.scalar_one() == 2  # kept whole, not stored anew
    swap_columns(owner, moved, "net_amount", "list_revenue")
    refused_naming(owner, 2, "more.csv", tmp_path, commands=[["report"]])


def test_through_the_team_server__a_swapped_block_is_refused_not_reported(
    stocked: Cli,  # noqa: F811
    tmp_path: Path,
) -> None:
    """Given a team server over the store (PostgreSQL, and SQLite) and an attacker with
    database access who swaps import 1's net_amount and list_revenue blocks, when the owner
    asks the server for the report and a rep for a quote, then each exits 2 naming import 1
    and the way back, and the server's log holds no traceback."""
    import subprocess
    import sys

    from tests.serving import environment, serving

    tokens = {name: stocked.json("people", "add", name, "--role", role, user="dana")["token"]
              for name, role in (("dana", "owner"), ("priya", "rep"))}  # fmt: skip
    stocked.close()
    swap_columns(stocked, first_segment(stocked, 1), "net_amount", "list_revenue")
    with serving(stocked.db_url, tmp_path) as address:

        def client(person: str, *args: str) -> subprocess.CompletedProcess[str]:
            env = environment(PRICING_SERVER=address, PRICING_TOKEN=tokens[person])
            return subprocess.run([sys.executable, "-m", "pricing", *args], env=env,
                                  cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip

        for person, command in (
            ("dana", ["report", "--json"]),
            ("priya", ["quote", "SV-1", "--qty", "1"]),
        ):
            done = client(person, *command)
            assert done.returncode == 2, (command, done.stdout, done.stderr)
            said = done.stderr + done.stdout
            assert "deals import 1" in said and "pricing deals undo 1" in said, said
            assert "Traceback" not in said, said
            assert "net_amount block" in said or "list_revenue block" in said, said
