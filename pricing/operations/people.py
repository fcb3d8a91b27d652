"""The owner's operations on people: add, list, change a role, reset a token, remove."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricing import results
from pricing.operations import Session, lazy_module, operation

if TYPE_CHECKING:
    import pricing.results.people  # noqa: F401  (what ``results.people`` is)
    from pricing import api
    from pricing.access.people import NewToken
else:
    api = lazy_module("pricing.api")  # the core's entry points: loaded when a method runs here


def _token(session: Session, made: NewToken) -> results.people.PersonToken:
    """A person and their new token, with where they sign in (the server's ``base_url``)."""
    from pricing import config

    return results.people.PersonToken.made(
        made, server=config.settings().base_url, user=session.user
    )


class People(Session):
    """The owner's methods on people: methods of :class:`pricing.Pricing`."""

    @operation("people.add")
    def add_person(
        self, *, name: str, role: str, email: str | None = None
    ) -> results.people.PersonToken:
        """Register a person with a role; their token is in the answer, once."""
        made = api.add_person(self.store(create=True), name, role, user=self.user, email=email)
        return _token(self, made)

    @operation("people.list")
    def people(self) -> list[results.people.Person]:
        """Everyone registered, by name."""

        return [results.people.Person.of(p) for p in api.list_people(self.store(), user=self.user)]

    @operation("people.role")
    def set_role(self, *, name: str, role: str) -> results.people.Person:
        """Give a person another role (an owner, never for themselves)."""

        return results.people.Person.of(api.set_role(self.store(), name, role, user=self.user))

    @operation("people.reset")
    def reset_token(self, *, name: str) -> results.people.PersonToken:
        """A new token for a person; the old one stops working."""
        made = api.reset_token(self.store(), name, user=self.user)
        return _token(self, made)

    @operation("people.remove")
    def remove_person(self, *, name: str) -> results.people.Person:
        """Take a person's access away."""

        return results.people.Person.of(api.remove_person(self.store(), name, user=self.user))

    @operation("people.whoami")
    def whoami(self) -> results.people.Identity:
        """Who the caller is, as the store knows them."""

        return results.people.Identity.of(api.whoami(self.store(), self.user))
