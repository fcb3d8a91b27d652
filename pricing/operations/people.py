"""The owner's operations on people: add, list, change a role, reset a token, remove.

Each calls :mod:`pricing.access.people` as the acting person; who may do what is said by the
operation's ``needs`` and by :mod:`pricing.access.authority`, which the people module asks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricing import results
from pricing.operations import Session, operation

if TYPE_CHECKING:
    import pricing.results.people  # noqa: F401  (what ``results.people`` is)
    from pricing.access.authority import Actor
    from pricing.access.people import NewToken


def _token(session: Session, made: NewToken) -> results.people.PersonToken:
    """A person and their new token, with where they sign in (the server's ``base_url``)."""
    from pricing import config

    return results.people.PersonToken.made(made, server=config.base_url(), user=session.user)


def _new_token_taken(
    session: Session, made: results.people.PersonToken
) -> results.people.PersonToken:
    """A client's own new token, as the server answered it: the session signs in with it from
    now on (the old one no longer works), and a session signed in with the token `pricing
    login` kept keeps the new one there in its place (``kept_in`` says where)."""
    if session.login is None or not made.yours:
        return made
    from dataclasses import replace

    session.login = replace(session.login, token=made.token)
    if not session.keeps_login:
        return made
    from pricing import config

    kept = config.keep_login(session.login.server, made.token, session.login.insecure)
    return made.model_copy(update={"kept_in": str(kept)})


def _acting(session: Session, *, create: bool = False) -> Actor:
    """The caller as the store knows them (the database opened, ``create``: a first person
    may start it)."""
    from pricing.access.authority import acting

    return acting(session.store(create=create), session.user)


class People(Session):
    """The owner's methods on people: methods of :class:`pricing.Pricing`."""

    @operation("people.add")
    def add_person(
        self, *, name: str, role: str, email: str | None = None
    ) -> results.people.PersonToken:
        """Register a person with a role; their token and web password are in the answer, once."""
        from pricing.access import people

        by = _acting(self, create=True)
        return _token(self, people.add(self.store(), name, role, by=by, email=email))

    @operation("people.list", needs="people.manage")
    def people(self) -> list[results.people.Person]:
        """Everyone registered, by name."""
        from pricing.access import people

        return [results.people.Person.of(p) for p in people.listed(self.store())]

    @operation("people.role", needs="people.manage")
    def set_role(self, *, name: str, role: str) -> results.people.Person:
        """Give a person another role (an owner, never for themselves)."""
        from pricing.access import people

        by = _acting(self)
        return results.people.Person.of(people.set_role(self.store(), name, role, by=by))

    @operation("people.email", needs="people.manage")
    def set_email(self, *, name: str, email: str | None = None) -> results.people.Person:
        """Give a person another email address (none: no mail for them)."""
        from pricing.access import people

        by = _acting(self)
        return results.people.Person.of(people.set_email(self.store(), name, email, by=by))

    @operation("people.reset", answered=_new_token_taken)
    def reset_token(self, *, name: str) -> results.people.PersonToken:
        """A new token and web password for a person; the old ones stop working (a client
        resetting its own signs in with the new one from then on)."""
        from pricing.access import people

        by = _acting(self)
        return _token(self, people.reset(self.store(), name, by=by))

    @operation("people.remove", needs="people.manage")
    def remove_person(self, *, name: str) -> results.people.Person:
        """Take a person's access away."""
        from pricing.access import people

        by = _acting(self)
        return results.people.Person.of(people.remove(self.store(), name, by=by))

    @operation("people.whoami", claims_user=False)
    def whoami(self) -> results.people.Identity:
        """Who the caller is, as the store knows them (through a server: who the token signs
        in, whatever name the session would claim)."""

        return results.people.Identity.of(_acting(self))
