"""The owner's operations on people: add, list, change a role, reset a token, remove."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricing import api
from pricing.operations import Caller, Document, operation

if TYPE_CHECKING:
    from pricing.access.people import NewToken
    from pricing.storage.people import PersonRecord


def _person(found: PersonRecord) -> Document:
    return {
        "name": found.name,
        "role": found.role,
        "email": found.email,
        "active": found.active,
        "created_at": found.created_at,
        "created_by": found.created_by,
        "removed_at": found.removed_at,
    }


def _token(caller: Caller, made: NewToken) -> Document:
    """A person and their new token, with where they sign in (the server's ``base_url``)."""
    from pricing import config

    return {
        **_person(made.person),
        "token": made.token,
        "server": config.settings().base_url,
        "yours": made.person.name.casefold() == caller.user.casefold(),
    }


@operation("people.add")
def add(caller: Caller, *, name: str, role: str, email: str | None = None) -> Document:
    """Register a person with a role; their token is in the answer, once."""
    made = api.add_person(caller.store(create=True), name, role, user=caller.user, email=email)
    return _token(caller, made)


@operation("people.list")
def list_(caller: Caller) -> Document:
    """Everyone registered, by name."""
    return [_person(p) for p in api.list_people(caller.store(), user=caller.user)]


@operation("people.role")
def role(caller: Caller, *, name: str, role: str) -> Document:
    """Give a person another role (an owner, never for themselves)."""
    return _person(api.set_role(caller.store(), name, role, user=caller.user))


@operation("people.reset")
def reset(caller: Caller, *, name: str) -> Document:
    """A new token for a person; the old one stops working."""
    made = api.reset_token(caller.store(), name, user=caller.user)
    return _token(caller, made)


@operation("people.remove")
def remove(caller: Caller, *, name: str) -> Document:
    """Take a person's access away."""
    return _person(api.remove_person(caller.store(), name, user=caller.user))


@operation("people.whoami")
def whoami(caller: Caller) -> Document:
    """Who the caller is, as the store knows them."""
    found = api.whoami(caller.store(), caller.user)
    return {"name": found.name, "role": found.role, "registered": found.registered}
