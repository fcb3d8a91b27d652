"""Who is acting and what they may do: every decision of who may act, in one module.

The table :data:`MAY` says which roles may take each action; an operation declares the action
it needs (``@operation(..., needs=...)``) and :func:`authorize` checks it. What depends on the
thing acted on is decided here too, by the functions below, which the domain modules only call:
who may decide a request (:func:`may_decide`), act on it (:func:`may_act_for`), change it
(:func:`may_change`), read it (:func:`may_read`, :func:`listed_rep`); who may add a person, change
their role, reset their token or remove them. Each refuses with :class:`~pricing.errors.Refused`
(a business "no", exit 1), the one module that raises it for who acts (``tests/test_authority.py``
keeps it so). Rules that are not about who acts (only a pending request is decided, a store keeps
an owner) stay with their data.

Roles live in one place: once anybody is registered (``pricing people add``), a person's role
is the one stored with them, and the policy file's person list no longer grants anything (a
policy that lists its author as owner makes nobody an owner). A store where nobody is
registered trusts the person at the keyboard: the named user, with the role the policy's person
list gives them, as before people existed (a one-person file, the demo). The same checks run
in both; in a store without people they catch mistakes, not attacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy.engine import Connection

from pricing.errors import InputError, Refused
from pricing.keys import person_key
from pricing.policy.model import Policy
from pricing.storage import people as rows
from pricing.storage import queries

if TYPE_CHECKING:
    from pricing.policy.versions import PolicyVersion
    from pricing.storage.people import PersonRecord
    from pricing.storage.store import Store

# What each action needs, by role. A role the policy adds between rep and owner (a "director")
# counts as a manager here while the newest policy has it as a level; its approval authority
# comes from the policy's levels. A role the policy does not know (any more) counts as a rep:
# its own requests, nothing else.
Action = Literal[
    "pricebook.import", "policy.load", "policy.simulate", "deals.import", "report",
    "people.manage", "audit", "request.submit", "request.read_all", "database", "contract.end",
    "fx.import",
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
    "contract.end": frozenset({"owner"}),
    "fx.import": frozenset({"marketer", "owner"}),
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
    "contract.end": "end a contract early",
    "fx.import": "import exchange rates",
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
    """A name as it is compared: case folded, surrounding spaces dropped (:func:`pricing.keys.
    person_key`)."""
    return person_key(name)


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
    return actor_of(conn, person)


def actor_of(conn: Connection, person: rows.PersonRecord) -> Actor:
    """A registered, active person (as read) acting."""
    return Actor(person.name, person.role, registered=True, kind=kind_of(conn, person.role),
                 since_request=person.since_request)  # fmt: skip


def acting(db: Store, user: str) -> Actor:
    """The person ``user`` names as this store knows them (exit 2 for an unregistered name
    once people are registered)."""
    with db.read() as conn:
        return actor(conn, user)


def allows(actor: Actor, action: Action) -> bool:
    """Whether ``actor``'s role allows ``action`` (what a page offers them: a link to the
    report for those who may read it); the action itself is checked again when it is taken."""
    return actor.may(action)


def authorize(db: Store, user: str | None, action: Action | None) -> Actor | None:
    """The acting person, refused (exit 1) if their role does not allow ``action``; a store
    where nobody is registered allows it. ``user`` None is a program holding the database
    itself, trusted as its administrator.

    Called for the action an operation declares (:func:`pricing.operations.operation`'s
    ``needs``) when it first opens the store."""
    if user is None:
        return None
    found = acting(db, user)
    if action is not None:
        found.require(action)
    return found


def require_signed_in(db: Store, person: PersonRecord, action: Action) -> None:
    """Refuse a person the server signed in by token (so registered) whose stored role does not
    allow ``action``: the server's check from the token, before it reads a call's body. The
    database is read only for a role of the policy's own (what it counts as, :func:`kind_of`)."""
    kind = person.role
    if kind not in BASE_ROLES:
        with db.read() as conn:
            kind = kind_of(conn, person.role)
    Actor(person.name, person.role, registered=True, kind=kind,
          since_request=person.since_request).require(action)  # fmt: skip


# Requests: who may act on one ---------------------------------------------------------------


class Asked(Protocol):
    """What the rules below read of a deviation request (a
    :class:`pricing.requests.lifecycle.Request`, whose layer sits above this one)."""

    @property
    def id(self) -> int | None: ...
    @property
    def rep(self) -> str: ...
    @property
    def level(self) -> str | None: ...
    @property
    def code(self) -> str | None: ...


def may_decide(actor: Actor, request: Asked, version: PolicyVersion, outcome: str) -> None:
    """Refuse, with the reason, anyone who may not approve or reject (``outcome``) a pending
    request: a role of the policy in force's levels, covering the request's level, never on
    their own request. A level the policy dropped while the request waited is decided by the
    top of the policy (an owner), so that it is never left for nobody to decide."""
    verb = "approve" if outcome == "approved" else "reject"
    policy = version.policy
    role, user = actor.role_in(policy), actor.name
    if role is None:
        raise Refused(
            f"{user} is not in the team of the policy in force (version {version.version}); "
            "only people listed there with a role may decide requests"
        )
    if role not in policy.levels:
        raise Refused(f"{user} is {role}, not an approval level of the policy in force "
                      f"({', '.join(policy.levels)})")  # fmt: skip
    if actor.same(request.rep):
        raise Refused(
            f"nobody decides their own request: {request.code} was submitted by {request.rep}; "
            f"another {request.level} or someone above must {verb} it"
        )
    level = request.level or policy.levels[-1]
    if level not in policy.levels:
        if actor.is_owner() or role == policy.levels[-1]:
            return
        raise Refused(
            f"{request.code} needs {level}, which the policy in force no longer has: an owner "
            f"({policy.levels[-1]}) decides it"
        )
    if not policy.covers(role, level):
        raise Refused(f"{request.code} needs {level} or above; {user} is {role}")


def may_act_for(actor: Actor, request: Asked, policy: Policy, doing: str) -> None:
    """Refuse anyone but a request's own salesperson or an owner acting on it (``doing``: mark
    it won or lost); while nobody is registered, anyone in the policy's team may too (as
    before people were stored)."""
    if actor.owns(request.id, request.rep) or actor.is_owner():
        return
    if not actor.registered and policy.role_of(actor.name) is not None:
        return
    raise Refused(f"only {request.rep} (who asked) or an owner may {doing} {request.code}")


def may_change(actor: Actor, request: Asked, doing: str = "change") -> None:
    """Refuse anyone but a request's own salesperson or an owner changing its lines or
    withdrawing it (``doing``), registered or not: what a rep asked for is the rep's."""
    if not actor.owns(request.id, request.rep) and not actor.is_owner():
        instead = "; submit a request of your own instead" if doing == "change" else ""
        raise Refused(f"only {request.rep}, who asked, may {doing} {request.code}{instead}")


def may_keep_approval_of(actor: Actor, request: Asked) -> bool:
    """Whether ``actor``'s new request may keep the approval a person gave ``request``: it is
    their own (the same person: not one registered since under its salesperson's name)."""
    return actor.owns(request.id, request.rep)


def gave(actor: Actor, approval: Asked) -> bool:
    """Whether the approval of request ``approval`` may be ``actor``'s: not asked for before
    they were registered again under the name (the earlier person gave it), as
    :meth:`Actor.owns` says of a request."""
    earlier = actor.since_request
    return earlier is None or approval.id is None or approval.id > earlier


def may_end_contract(actor: Actor, policy: Policy) -> None:
    """Refuse anyone but an owner ending a contract early: the stored role once people are
    registered (the operation's ``needs`` asks it first), else the policy's person list's,
    where the owner is the top level (ending one judges the customer's deals again)."""
    if actor.registered:
        actor.require("contract.end")
        return
    role = policy.role_of(actor.name)
    if role not in ("owner", policy.levels[-1]):
        raise Refused(f"{actor.name} is {role or 'not in the policy in force'}: only an owner "
                      f"({policy.levels[-1]}) may end a contract early")  # fmt: skip


def may_read(viewer: Actor, request: Asked) -> None:
    """Refuse a viewer whose role may not read everyone's requests one that is not theirs."""
    if not may_see(viewer, request):
        raise Refused(
            f"{request.code} is {request.rep}'s: only managers and owners see other people's "
            "requests"
        )


def sees_contract(viewer: Actor, contract: Asked, current: bool) -> bool:
    """Whether ``viewer`` may list ``contract``: as a request (their own, or everyone's for a
    manager and the owner), or, for anyone, while it is approved and in force or to come
    (``current``: the customer's prices a quote shows every salesperson)."""
    return current or may_see(viewer, contract)


def may_see(viewer: Actor, request: Asked) -> bool:
    """Whether ``viewer`` may see ``request``: everyone's for a manager and the owner (and
    anyone while nobody is registered), else their own only."""
    return viewer.may("request.read_all") or viewer.owns(request.id, request.rep)


def listed_rep(viewer: Actor, rep: str | None) -> str | None:
    """Whose requests ``viewer`` may list when asking for ``rep``'s (None: everyone's): what
    was asked for a role that may read all, else the viewer's own, refused when they ask for
    someone else's (:func:`may_see` then keeps those that are theirs)."""
    if viewer.may("request.read_all"):
        return rep
    if rep is not None and not viewer.same(rep):
        raise Refused(f"{viewer.name} is {viewer.role}: only managers and owners see other "
                      "people's requests")  # fmt: skip
    return viewer.name


# People: who may change whom ------------------------------------------------------------------


def may_add(by: Actor, *, first: bool) -> None:
    """Refuse anyone but an owner adding a person, once someone is registered (the first
    person, an owner, is added by whoever holds the store)."""
    if not first:
        by.require("people.manage")


def may_set_role(by: Actor, name: str) -> None:
    """Refuse anyone changing their own role (the role table, ``people.manage``, is the
    operation's ``needs``)."""
    if by.same(name):
        raise Refused(f"nobody changes their own role: another owner must change {name}'s")


def may_reset(by: Actor, name: str) -> None:
    """Refuse a token reset of someone else's by a role that may not manage people (one's
    own token anyone may reset)."""
    if not by.same(name):
        by.require("people.manage")


def may_remove(by: Actor, name: str) -> None:
    """Refuse anyone removing themselves (the role table is the operation's ``needs``)."""
    if by.same(name):
        raise Refused("nobody removes themselves: another owner must")
