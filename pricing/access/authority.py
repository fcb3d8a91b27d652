"""Who is acting and what they may do.

Roles live in one place: once anybody is registered (``pricing people add``), a person's role
is the one stored with them, and the policy file's person list no longer grants anything (a
policy that lists its author as owner makes nobody an owner). A store where nobody is
registered trusts the person at the keyboard: the named user, with the role the policy's person
list gives them, as before people existed (a one-person file, the demo). The same checks run
in both; in a store without people they catch mistakes, not attacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.engine import Connection

from pricing.errors import InputError, Refused
from pricing.policy.model import Policy
from pricing.storage import people as rows
from pricing.storage import queries

# What each action needs, by role. A role the policy adds between rep and owner (a "director")
# counts as a manager here while the newest policy has it as a level; its approval authority
# comes from the policy's levels. A role the policy does not know (any more) counts as a rep:
# its own requests, nothing else.
Action = Literal[
    "pricebook.import", "policy.load", "policy.simulate", "deals.import", "report",
    "people.manage", "audit", "request.submit", "request.read_all", "database",
]  # fmt: skip
MAY: dict[Action, frozenset[str]] = {
    "pricebook.import": frozenset({"marketer", "owner"}),
    "policy.load": frozenset({"owner"}),
    "policy.simulate": frozenset({"manager", "owner"}),
    "deals.import": frozenset({"owner"}),
    "report": frozenset({"manager", "owner", "marketer"}),
    "people.manage": frozenset({"owner"}),
    "audit": frozenset({"owner"}),
    "request.submit": frozenset({"rep", "manager", "owner"}),
    "request.read_all": frozenset({"manager", "owner"}),
    "database": frozenset({"owner"}),
}
DOING: dict[Action, str] = {
    "pricebook.import": "import a price book",
    "policy.load": "load a policy",
    "policy.simulate": "simulate a policy over the deal history",
    "deals.import": "import or change deal data",
    "report": "read the drift report",
    "people.manage": "manage people (list, add, change roles, reset others' tokens, remove)",
    "audit": "read or verify the audit",
    "request.submit": "submit a request",
    "request.read_all": "see other people's requests",
    "database": "look after the database",
}
BASE_ROLES = ("rep", "manager", "owner", "marketer")


def policy_levels(conn: Connection) -> list[str]:
    """The approval levels of the newest policy (none before a policy is loaded)."""
    import json

    body = queries.latest_policy_body(conn)
    if not body:
        return []
    try:
        levels = json.loads(body).get("levels", [])
    except (ValueError, AttributeError):
        return []  # a body edited into garbage grants nothing (policy show names it)
    return [str(level) for level in levels] if isinstance(levels, list) else []


def kind_of(conn: Connection, role: str) -> str:
    """What a stored role counts as: itself for the base roles, a manager for a level of the
    newest policy, else a rep (a role the policy dropped keeps no rights beyond its own)."""
    if role in BASE_ROLES:
        return role
    return "manager" if role in policy_levels(conn) else "rep"


@dataclass(frozen=True)
class Actor:
    """A person acting: their name, their stored role (None while nobody is registered: the
    policy's person list then says), and whether roles are stored at all."""

    name: str
    role: str | None
    registered: bool
    kind: str | None = None  # what the role counts as (a base role), once registered
    since_request: int | None = None  # registered again: the requests before are not theirs

    def may(self, action: Action) -> bool:
        """Whether the stored role allows ``action`` (always, while nobody is registered)."""
        return not self.registered or (self.kind is not None and self.kind in MAY[action])

    def owns(self, number: int | None, rep: str) -> bool:
        """Whether request ``number``, submitted under the name ``rep``, is this person's: the
        same name, and not from before they were registered again (an earlier person who had
        the name keeps their requests)."""
        earlier = self.since_request
        return self.same(rep) and (earlier is None or number is None or number > earlier)

    def require(self, action: Action) -> None:
        """Refuse (a business "no", exit 1) an action the role does not allow."""
        if not self.may(action):
            allowed = " or ".join(sorted(MAY[action]))
            raise Refused(f"{self.name} is {self.role}: only {allowed} may {DOING[action]}")

    def role_in(self, policy: Policy) -> str | None:
        """The role deciding approvals: the stored one, else the policy's person list's."""
        return self.role if self.registered else policy.role_of(self.name)

    def is_owner(self) -> bool:
        return self.registered and self.role == "owner"

    def same(self, name: str) -> bool:
        return self.name.casefold() == name.casefold()


def key(name: str) -> str:
    """A name as it is compared: case folded, surrounding spaces dropped."""
    return name.strip().casefold()


def actor(conn: Connection, name: str) -> Actor:
    """The person named ``name`` as the store knows them; once people are registered an
    unregistered name is refused (exit 2): nobody acts as someone who does not exist."""
    if not rows.anyone(conn):
        return Actor(name, None, registered=False)
    person = rows.by_name(conn, key(name))
    if person is None or not person.active:
        gone = " (removed)" if person is not None else ""
        raise InputError(
            f" {name!r} is not a registered person of this store{gone}: name yourself as "
            "`pricing people list` shows you, or ask the owner to add you",
            field="user",
        )
    return Actor(person.name, person.role, registered=True, kind=kind_of(conn, person.role),
                 since_request=person.since_request)  # fmt: skip
