"""`pricing people` on the store itself: the administrator's path to the first owner."""

from __future__ import annotations

from tests.conftest import Cli


def test_people_add_and_role__an_operation_parameter_called_name_reaches_it(cli: Cli) -> None:
    """Given an empty store, when the administrator adds the first owner and the owner adds and
    promotes a rep, then each command answers for the person named (not a usage crash)."""
    first = cli.json("people", "add", "dana", "--role", "owner")
    assert first["name"] == "dana" and first["role"] == "owner" and first["token"]
    assert cli.json("people", "add", "priya", "--role", "rep", user="dana")["role"] == "rep"
    assert cli.json("people", "role", "priya", "manager", user="dana")["role"] == "manager"


def test_people_list__the_first_owner_reads_added_by_the_administrator_on_the_database(
    cli: Cli,
) -> None:
    """Given a store whose first owner was added on the database by its operating-system user
    root (nobody registered yet), and people she added since, when she lists people, then the
    first owner reads "added by the administrator, on the database" (not "root", who is nobody
    in the store); the others read the owner who added them; --json keeps root as it was."""
    assert cli("people", "add", "dana", "--role", "owner", user="root").exit_code == 0
    for name, role in (("priya", "rep"), ("marco", "manager")):
        assert cli("people", "add", name, "--role", role, user="dana").exit_code == 0
    listed = cli("people", "list", user="dana")
    assert listed.exit_code == 0, listed.output
    rows = {line.split()[0]: line for line in listed.stdout.splitlines() if line.split()}
    assert "the administrator, on the database" in rows["dana"]
    assert "root" not in listed.stdout
    assert "the administrator" not in rows["priya"] and "dana" in rows["priya"]
    assert "dana" in rows["marco"]
    document = cli.json("people", "list", user="dana")
    assert {p["name"]: p["created_by"] for p in document} == {
        "dana": "root", "marco": "dana", "priya": "dana",
    }  # fmt: skip
