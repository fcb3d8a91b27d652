"""An approver's inbox is kept between reloads, and shows every change at once.

The server answers ``/inbox`` from one store for every browser; an answer is kept for the keyed
audit's newest entry it was read under (and the day), so a reload with nothing changed reads no
request again, and anything recorded since (a request submitted, decided, withdrawn, a role
changed, a policy loaded) is there on the next reload. The sales fixture's team: dana (owner),
marco and nina (managers), priya (rep); HW-100 at 96.90 for 50 is a manager's decision.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pricing.operations.library import Pricing
from pricing.requests import inbox
from pricing.storage.store import Store, utcnow
from tests.conftest import Cli
from tests.test_cli_requests import TEAM
from tests.test_policy import POLICY

MANAGERS_DECISION = [{"sku": "HW-100", "qty": 50, "price": "96.90"}]


@pytest.fixture
def server_store(sales: Cli) -> Iterator[Store]:
    """The one store a server holds for every person's pages."""
    store = Store.open(sales.db_url)
    yield store
    store.close()


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Whose inbox was read from the requests' rows (not kept)."""
    read: list[str] = []
    waiting = inbox._waiting

    def counted(conn, user, now, **page):  # type: ignore[no-untyped-def]
        read.append(user)
        return waiting(conn, user, now, **page)

    monkeypatch.setattr(inbox, "_waiting", counted)
    return read


def as_(store: Store) -> Callable[[str], Pricing]:
    return lambda user: Pricing(user=user, store=store)


def ids(person: Pricing) -> list[str | None]:
    return [r.id for r in person.inbox()]


def test_a_reload_with_nothing_changed_reads_no_request_again(
    server_store: Store, reads: list[str]
) -> None:
    who = as_(server_store)
    asked = who("priya").request(customer="Acme", reason="bid", lines=MANAGERS_DECISION)

    first, again = who("marco").inbox(), who("marco").inbox()

    assert [r.id for r in first] == [asked.id] and again == first
    assert reads == ["marco"]  # the reload was answered from what was kept
    assert [r.id for r in who("nina").inbox()] == [asked.id]  # another person: read for her
    assert reads == ["marco", "nina"]


def test_a_kept_answer_is_made_afresh_for_each_caller(server_store: Store) -> None:
    """A caller that changes the requests it was given changes nobody else's answer."""
    who = as_(server_store)
    who("priya").request(customer="Acme", reason="bid", lines=MANAGERS_DECISION)
    given = inbox.waiting_for(server_store, "marco")

    given[0].lines.clear()
    given[0].status = "approved"

    again = inbox.waiting_for(server_store, "marco")
    assert again[0].status == "pending" and len(again[0].lines) == 1


def test_every_change_is_in_the_next_reload(
    server_store: Store, reads: list[str], tmp_path: Path
) -> None:
    """Given marco's inbox read, when requests are submitted, decided and withdrawn and the
    policy makes marco a rep, then each of his reloads shows it at once."""
    who = as_(server_store)
    assert ids(who("marco")) == []
    first = who("priya").request(customer="Acme", reason="bid", lines=MANAGERS_DECISION)
    assert ids(who("marco")) == [first.id]
    second = who("priya").request(customer="Globex", reason="bid", lines=MANAGERS_DECISION)
    assert ids(who("marco")) == [first.id, second.id]

    who("nina").approve(ident=first.id or "")
    assert ids(who("marco")) == [second.id]
    who("priya").withdraw(ident=second.id or "")
    assert ids(who("marco")) == []
    third = who("priya").request(customer="Initech", reason="bid", lines=MANAGERS_DECISION)
    assert ids(who("marco")) == [third.id]

    demoted = tmp_path / "guardrails.toml"
    demoted.write_text(POLICY + TEAM.replace('name = "marco"\nrole = "manager"',
                                             'name = "marco"\nrole = "rep"'))  # fmt: skip
    assert who("dana").load_policy(demoted).version is not None
    assert ids(who("marco")) == []
    assert ids(who("nina")) == [third.id]
    assert ids(who("marco")) == [] and ids(who("nina")) == [third.id]  # nothing changed since
    assert reads == ["marco"] * 7 + ["nina"]  # a read after each change, none without one


def test_the_kept_answer_is_the_days(server_store: Store, reads: list[str]) -> None:
    """The policy in force is the day's: an answer kept today is not tomorrow's."""
    who = as_(server_store)
    asked = who("priya").request(customer="Acme", reason="bid", lines=MANAGERS_DECISION)
    today = utcnow()

    for _ in range(2):
        assert [r.code for r in inbox.waiting_for(server_store, "marco", now=today)] == [asked.id]
    tomorrow = inbox.waiting_for(server_store, "marco", now=today + timedelta(days=1))

    assert [r.code for r in tomorrow] == [asked.id]
    assert reads == ["marco", "marco"]


def test_a_registered_approver_given_another_role_sees_it_on_the_next_reload(
    server_store: Store, reads: list[str]
) -> None:
    who = as_(server_store)
    for name, role in (("dana", "owner"), ("marco", "manager"), ("nina", "manager"),
                       ("priya", "rep")):  # fmt: skip
        who("dana").add_person(name=name, role=role)
    asked = who("priya").request(customer="Acme", reason="bid", lines=MANAGERS_DECISION)
    assert ids(who("marco")) == [asked.id]

    who("dana").set_role(name="marco", role="rep")

    assert ids(who("marco")) == [] and ids(who("nina")) == [asked.id]
    assert reads == ["marco", "marco", "nina"]
