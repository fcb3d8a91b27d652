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
