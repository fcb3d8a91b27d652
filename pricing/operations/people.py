"""The owner's operations on people: add, list, change a role, reset a token, remove."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricing import api
from pricing.operations import Document, Session, operation

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


def _token(session: Session, made: NewToken) -> Document:
    """A person and their new token, with where they sign in (the server's ``base_url``)."""
    from pricing import config

    return {
        **_person(made.person),
        "token": made.token,
        "server": config.settings().base_url,
        "yours": made.person.name.casefold() == session.user.casefold(),
    }


class People(Session):
    """The owner's methods on people: methods of :class:`pricing.Pricing`."""

    @operation("people.add")
    def add_person(self, *, name: str, role: str, email: str | None = None) -> Document:
        """Register a person with a role; their token is in the answer, once."""
        made = api.add_person(self.store(create=True), name, role, user=self.user, email=email)
        return _token(self, made)

    @operation("people.list")
    def people(self) -> Document:
        """Everyone registered, by name."""
        return [_person(p) for p in api.list_people(self.store(), user=self.user)]

    @operation("people.role")
    def set_role(self, *, name: str, role: str) -> Document:
        """Give a person another role (an owner, never for themselves)."""
        return _person(api.set_role(self.store(), name, role, user=self.user))

    @operation("people.reset")
    def reset_token(self, *, name: str) -> Document:
        """A new token for a person; the old one stops working."""
        made = api.reset_token(self.store(), name, user=self.user)
        return _token(self, made)

    @operation("people.remove")
    def remove_person(self, *, name: str) -> Document:
        """Take a person's access away."""
        return _person(api.remove_person(self.store(), name, user=self.user))

    @operation("people.whoami")
    def whoami(self) -> Document:
        """Who the caller is, as the store knows them."""
        found = api.whoami(self.store(), self.user)
        return {"name": found.name, "role": found.role, "registered": found.registered}
