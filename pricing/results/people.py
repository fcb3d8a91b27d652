"""What the owner's methods on people answer: a person, a person with a new token, the caller."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import Field

from pricing.results.common import Result

if TYPE_CHECKING:
    from pricing.access.authority import Actor
    from pricing.access.people import NewToken
    from pricing.storage.people import PersonRecord


class Person(Result):
    """A registered person: name, role, email, whether they still have access, who added them
    and when, and when they were removed (None while they have access)."""

    name: str
    role: str
    email: str | None
    active: bool
    created_at: datetime
    created_by: str
    removed_at: datetime | None

    @classmethod
    def of(cls, found: PersonRecord) -> Person:
        return cls.model_validate(_person_fields(found))


def _person_fields(found: PersonRecord) -> dict[str, object]:
    return {
        "name": found.name,
        "role": found.role,
        "email": found.email,
        "active": found.active,
        "created_at": found.created_at,
        "created_by": found.created_by,
        "removed_at": found.removed_at,
    }


class PersonToken(Person):
    """A person and the token and web password just made for them (shown once, never stored),
    with where they sign in (``server``: the server's ``base_url``, None when not configured)
    and whether the token is the caller's own (``yours``: their old one stopped working).

    ``kept_in`` is the client's, not part of the document: where a client signed in with the
    token `pricing login` kept keeps its own new one (None when it keeps none)."""

    token: str
    password: str
    server: str | None
    yours: bool
    kept_in: str | None = Field(default=None, exclude=True)

    @classmethod
    def made(cls, made: NewToken, *, server: str | None, user: str) -> PersonToken:
        return cls.model_validate(
            {
                **_person_fields(made.person),
                "token": made.token,
                "password": made.password,
                "server": server,
                "yours": made.person.name.casefold() == user.casefold(),
            }
        )


class Identity(Result):
    """``people whoami``: who the caller is as the store knows them (``role`` None while
    nobody is registered; ``registered``: whether roles are stored at all)."""

    name: str
    role: str | None
    registered: bool

    @classmethod
    def of(cls, actor: Actor) -> Identity:
        return cls.model_validate(actor, from_attributes=True)  # its fields, by name


class SignedIn(Identity):
    """``login``: who the token signs in (as :class:`Identity`), on which server, and the file
    the sign-in is kept in."""

    server: str
    kept_in: str

    @classmethod
    def kept(cls, me: Identity, *, server: str, kept_in: str) -> SignedIn:
        return cls.model_validate({**me.model_dump(), "server": server, "kept_in": kept_in})
