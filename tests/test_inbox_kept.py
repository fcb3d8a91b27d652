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
from decimal import Decimal
from pathlib import Path

import pytest

from pricing.errors import InputError
from pricing.operations.library import Pricing
from pricing.requests import inbox
from pricing.storage.store import Store, requests, utcnow
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


def registered(store: Store) -> Callable[[str], Pricing]:
    """The sales team registered as people (dana first, the owner who adds the others)."""
    who = as_(store)
    for name, role in (("dana", "owner"), ("marco", "manager"), ("nina", "manager"),
                       ("priya", "rep")):  # fmt: skip
        who("dana").add_person(name=name, role=role)
    return who


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
    who = registered(server_store)
    asked = who("priya").request(customer="Acme", reason="bid", lines=MANAGERS_DECISION)
    assert ids(who("marco")) == [asked.id]

    who("dana").set_role(name="marco", role="rep")

    assert ids(who("marco")) == [] and ids(who("nina")) == [asked.id]
    assert reads == ["marco", "marco", "nina"]


def test_a_changed_request_and_a_removed_approver_show_on_the_next_reload(
    server_store: Store,
) -> None:
    who = registered(server_store)
    asked = who("priya").request(customer="Acme", reason="bid", lines=MANAGERS_DECISION)
    assert [(r.id, r.lines[0].price) for r in who("marco").inbox()] == [
        (asked.id, Decimal("96.90"))
    ]

    who("priya").change_request(ident=asked.id or "", lines=[
        {"sku": "HW-100", "qty": 50, "price": "95.00"}])  # fmt: skip

    assert [r.lines[0].price for r in who("marco").inbox()] == [Decimal("95.00")]
    who("dana").remove_person(name="nina")
    refused = who("nina")
    with pytest.raises(InputError):
        refused.inbox()


def test_a_name_is_kept_as_given(server_store: Store) -> None:
    """While nobody is registered, the policy's people are matched by name, so " marco" is
    not marco: each is answered for itself, never from the other's page."""
    who = as_(server_store)
    asked = who("priya").request(customer="Acme", reason="bid", lines=MANAGERS_DECISION)

    assert [r.id for r in who(" marco").inbox()] == []
    assert [r.id for r in who("marco").inbox()] == [asked.id]


def test_a_row_edited_behind_the_tools_back_shows_once_the_kept_page_is_old(
    server_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hand edit records nothing in the audit: the kept page stands for KEPT_SECONDS."""
    who = as_(server_store)
    asked = who("priya").request(customer="Acme", reason="bid", lines=MANAGERS_DECISION)
    assert [r.id for r in who("marco").inbox()] == [asked.id]
    with server_store.write() as conn:
        conn.execute(requests.update().values(status="withdrawn"))

    assert [r.id for r in who("marco").inbox()] == [asked.id]  # kept: nothing recorded
    monkeypatch.setattr(inbox, "KEPT_SECONDS", 0.0)
    assert who("marco").inbox() == []


def test_a_whole_inbox_asked_for_at_once_is_not_kept(
    server_store: Store, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox, "KEPT_LONGEST", 2)
    who = as_(server_store)
    for customer in ("Acme", "Globex", "Initech"):
        who("priya").request(customer=customer, reason="bid", lines=MANAGERS_DECISION)

    assert len(who("marco").inbox()) == 3 and len(who("marco").inbox()) == 3
    assert len(who("marco").inbox(limit=2)) == 2 and len(who("marco").inbox(limit=2)) == 2
    assert reads == ["marco", "marco", "marco"]  # the page of two was kept, the three were not
