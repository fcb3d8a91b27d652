"""The people methods answer typed results: a person, a person with their new token, the
caller; their JSON is what ``pricing --json people ...`` prints, and a client reads it back as
the same model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import pricing
from pricing import api
from pricing.results.people import Identity, Person, PersonToken
from tests.conftest import Cli
from tests.test_results_requests import as_printed, printed, read_back


@pytest.fixture
def cli(sqlite_url: str) -> Iterator[Cli]:
    """One database engine is enough here: the results do not depend on it."""
    runner = Cli(sqlite_url)
    yield runner
    runner.close()


def test_people_methods_answer_what_the_cli_prints(cli: Cli) -> None:
    api.open_store(cli.db_url, create=True).close()
    with pricing.open(cli.db_url, user="dana") as p:
        assert p.people() == [] and printed(cli, "people", "list", user="dana") == "[]\n"
        dana = p.add_person(name="dana", role="owner")
        priya = p.add_person(name="priya", role="rep", email="priya@example.com")
        marco = p.set_role(name="priya", role="manager")
        again = p.reset_token(name="dana")
        me = p.whoami()
        removed = p.remove_person(name="priya")
        everyone = p.people()
    assert type(dana) is PersonToken and dana.yours and dana.active and dana.server is None
    assert type(priya) is PersonToken and not priya.yours and priya.token != dana.token
    assert type(marco) is Person and marco.role == "manager"
    assert again.yours and again.token != dana.token
    assert me == Identity(name="dana", role="owner", registered=True)
    assert type(removed) is Person and not removed.active and removed.removed_at is not None
    assert as_printed(everyone) == printed(cli, "people", "list", user="dana")
    # What `people add` prints: the same keys, in order (the token is a new one each time).
    added = cli.json("people", "add", "mia", "--role", "marketer", user="dana")
    assert list(added) == list(dana.model_dump(mode="json"))
    assert type(read_back("people.add", dana)) is PersonToken

    for name, result in [
        ("people.add", priya),
        ("people.reset", again),
        ("people.role", marco),
        ("people.remove", removed),
        ("people.whoami", me),
    ]:
        back = read_back(name, result)
        assert type(back) is type(result) and back == result, name
    assert read_back("people.list", everyone) == everyone
    assert all(type(person) is Person for person in everyone)
