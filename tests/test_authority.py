"""Who may act, as a rule table: given each role, when they try each action, then allowed or
refused (and the refusal people read). Every decision of who may act is made in
``pricing.access.authority``; the last tests keep it there."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from pricing.access import authority
from pricing.access.authority import MAY, Actor
from pricing.errors import Refused
from pricing.policy.model import Person, Policy
from pricing.policy.versions import PolicyVersion

# The table, written out (not read from MAY): y = allowed. A policy level ("director") counts
# as a manager; a role the policy does not know ("intern") as a rep.
TABLE = """
                     rep  manager  owner  marketer  director  intern
pricebook.import      -      -       y       y         -        -
policy.load           -      -       y       -         -        -
policy.simulate       -      y       y       -         y        -
deals.import          -      -       y       -         -        -
report                -      y       y       y         y        -
people.manage         -      -       y       -         -        -
audit                 -      -       y       -         -        -
request.submit        y      y       y       -         y        y
request.read_all      -      y       y       -         y        -
database              -      -       y       -         -        -
contract.end          -      -       y       -         -        -
fx.import             -      -       y       y         -        -
"""
KIND = {"director": "manager", "intern": "rep"}


def _table() -> list[tuple[str, str, bool]]:
    header, *rows = TABLE.strip().splitlines()
    roles = header.split()
    cases = []
    for row in rows:
        action, *marks = row.split()
        cases += [(role, action, mark == "y") for role, mark in zip(roles, marks, strict=True)]
    return cases


def test_the_table_names_every_action() -> None:
    assert {action for _, action, _ in _table()} == set(MAY)


@pytest.mark.parametrize(("role", "action", "allowed"), _table())
def test_given_a_role_when_it_takes_an_action(role: str, action: str, allowed: bool) -> None:
    person = Actor("kim", role, registered=True, kind=KIND.get(role, role))
    assert person.may(action) is allowed  # type: ignore[arg-type]
    if allowed:
        person.require(action)  # type: ignore[arg-type]
        return
    with pytest.raises(Refused, match=rf"^kim is {role}: only .* may "):
        person.require(action)  # type: ignore[arg-type]


def test_while_nobody_is_registered_the_person_at_the_keyboard_may_do_anything() -> None:
    alone = Actor("kim", None, registered=False)
    for action in MAY:
        alone.require(action)


# Requests: who may decide, act on, change and read one ------------------------------------


@dataclass
class Asked:
    id: int | None
    rep: str
    level: str | None

    @property
    def code(self) -> str:
        return f"R-{self.id:06d}"


POLICY = Policy(
    levels=["rep", "manager", "owner"],
    limits={"rep": Decimal(5), "manager": Decimal(15), "owner": Decimal(30)},
    person=[Person("lou", "manager")],
)
VERSION = PolicyVersion(3, date(2026, 1, 1), datetime(2026, 1, 1), "dana", "g.toml", "", POLICY)
PEOPLE = {
    "priya": Actor("priya", "rep", registered=True, kind="rep"),
    "ravi": Actor("ravi", "rep", registered=True, kind="rep"),
    "marco": Actor("marco", "manager", registered=True, kind="manager"),
    "mia": Actor("mia", "marketer", registered=True, kind="marketer"),
    "dana": Actor("dana", "owner", registered=True, kind="owner"),
    "lou": Actor("lou", None, registered=False),  # nobody registered: the policy's team says
    "zed": Actor("zed", None, registered=False),  # nobody registered, not in the team
}
PRIYAS = Asked(1, "priya", "manager")  # priya's request, waiting for a manager
TOP = Asked(2, "priya", "director")  # waiting for a level the policy has dropped since

ALLOWED = ""
REQUEST_RULES: list[tuple[str, str, Callable[[Actor], object], str]] = [
    # who, trying what, the call, then: allowed ("") or the refusal
    ("priya", "to approve her own", lambda a: authority.may_decide(a, PRIYAS, VERSION, "approved"),
     "nobody decides their own request: R-000001 was submitted by priya; another manager or "
     "someone above must approve it"),
    ("ravi", "to reject priya's", lambda a: authority.may_decide(a, PRIYAS, VERSION, "rejected"),
     "R-000001 needs manager or above; ravi is rep"),
    ("marco", "to approve priya's", lambda a: authority.may_decide(a, PRIYAS, VERSION, "approved"),
     ALLOWED),
    ("mia", "to approve priya's", lambda a: authority.may_decide(a, PRIYAS, VERSION, "approved"),
     "mia is marketer, not an approval level of the policy in force (rep, manager, owner)"),
    ("dana", "to approve priya's", lambda a: authority.may_decide(a, PRIYAS, VERSION, "approved"),
     ALLOWED),
    ("lou", "to approve priya's", lambda a: authority.may_decide(a, PRIYAS, VERSION, "approved"),
     ALLOWED),
    ("zed", "to approve priya's", lambda a: authority.may_decide(a, PRIYAS, VERSION, "approved"),
     "zed is not in the team of the policy in force (version 3); only people listed there "
     "with a role may decide requests"),
    ("marco", "to approve a dropped level's", lambda a: authority.may_decide(a, TOP, VERSION, "approved"),
     "R-000002 needs director, which the policy in force no longer has: an owner (owner) "
     "decides it"),
    ("dana", "to approve a dropped level's", lambda a: authority.may_decide(a, TOP, VERSION, "approved"),
     ALLOWED),
    ("priya", "to mark her own won", lambda a: authority.may_act_for(a, PRIYAS, POLICY, "mark won"),
     ALLOWED),
    ("dana", "to mark priya's lost", lambda a: authority.may_act_for(a, PRIYAS, POLICY, "mark lost"),
     ALLOWED),
    ("marco", "to mark priya's won", lambda a: authority.may_act_for(a, PRIYAS, POLICY, "mark won"),
     "only priya (who asked) or an owner may mark won R-000001"),
    ("lou", "to mark priya's won", lambda a: authority.may_act_for(a, PRIYAS, POLICY, "mark won"),
     ALLOWED),
    ("zed", "to mark priya's won", lambda a: authority.may_act_for(a, PRIYAS, POLICY, "mark won"),
     "only priya (who asked) or an owner may mark won R-000001"),
    ("priya", "to change her own", lambda a: authority.may_change(a, PRIYAS), ALLOWED),
    ("dana", "to change priya's", lambda a: authority.may_change(a, PRIYAS), ALLOWED),
    ("marco", "to change priya's", lambda a: authority.may_change(a, PRIYAS),
     "only priya, who asked, may change R-000001; submit a request of your own instead"),
    ("priya", "to read her own", lambda a: authority.may_read(a, PRIYAS), ALLOWED),
    ("marco", "to read priya's", lambda a: authority.may_read(a, PRIYAS), ALLOWED),
    ("ravi", "to read priya's", lambda a: authority.may_read(a, PRIYAS),
     "R-000001 is priya's: only managers and owners see other people's requests"),
    ("mia", "to read priya's", lambda a: authority.may_read(a, PRIYAS),
     "R-000001 is priya's: only managers and owners see other people's requests"),
    ("ravi", "to list priya's", lambda a: authority.listed_rep(a, "priya"),
     "ravi is rep: only managers and owners see other people's requests"),
    ("ravi", "to list his own", lambda a: authority.listed_rep(a, "RAVI"), ALLOWED),
    ("marco", "to list priya's", lambda a: authority.listed_rep(a, "priya"), ALLOWED),
    # People
    ("ravi", "to add a person", lambda a: authority.may_add(a, first=False),
     "ravi is rep: only owner may manage people (list, add, change roles, reset others' tokens, "
     "remove)"),
    ("zed", "to add the first person", lambda a: authority.may_add(a, first=True), ALLOWED),
    ("dana", "to add a person", lambda a: authority.may_add(a, first=False), ALLOWED),
    ("dana", "to change her own role", lambda a: authority.may_set_role(a, "Dana"),
     "nobody changes their own role: another owner must change Dana's"),
    ("dana", "to change marco's role", lambda a: authority.may_set_role(a, "marco"), ALLOWED),
    ("ravi", "to reset his own token", lambda a: authority.may_reset(a, "ravi"), ALLOWED),
    ("ravi", "to reset priya's token", lambda a: authority.may_reset(a, "priya"),
     "ravi is rep: only owner may manage people (list, add, change roles, reset others' tokens, "
     "remove)"),
    ("dana", "to reset priya's token", lambda a: authority.may_reset(a, "priya"), ALLOWED),
    ("dana", "to remove herself", lambda a: authority.may_remove(a, "dana"),
     "nobody removes themselves: another owner must"),
    ("dana", "to remove ravi", lambda a: authority.may_remove(a, "ravi"), ALLOWED),
]  # fmt: skip


@pytest.mark.parametrize(
    ("who", "trying", "call", "then"),
    REQUEST_RULES,
    ids=[f"{w} {t}" for w, t, _, _ in REQUEST_RULES],
)
def test_given_a_person_when_they_act_on_a_request_or_a_person(
    who: str, trying: str, call: Callable[[Actor], object], then: str
) -> None:
    if then == ALLOWED:
        call(PEOPLE[who])
        return
    with pytest.raises(Refused) as refused:
        call(PEOPLE[who])
    assert str(refused.value) == then


def test_a_rep_sees_only_their_own_and_a_manager_everyones() -> None:
    ravis = Asked(3, "ravi", None)
    assert [authority.may_see(PEOPLE["ravi"], r) for r in (PRIYAS, ravis)] == [False, True]
    assert [authority.may_see(PEOPLE["marco"], r) for r in (PRIYAS, ravis)] == [True, True]
    assert authority.listed_rep(PEOPLE["ravi"], None) == "ravi"
    assert authority.listed_rep(PEOPLE["marco"], None) is None


def test_a_name_registered_again_does_not_inherit_the_earlier_persons_requests() -> None:
    again = Actor("priya", "rep", registered=True, kind="rep", since_request=5)
    assert not authority.may_see(again, PRIYAS)
    assert authority.may_see(again, Asked(6, "priya", None))
    with pytest.raises(Refused):
        authority.may_change(again, PRIYAS)


# Keeping it in one place --------------------------------------------------------------------

PACKAGE = Path(__file__).resolve().parents[1] / "pricing"
DECIDING = {"may", "require", "owns", "is_owner", "role_in", "same"}


def _decisions(source: str, where: str) -> list[str]:
    """The calls in ``source`` that decide who may act: an Actor's deciding method, or an
    Actor built."""
    found = []
    for node in ast.walk(ast.parse(source, where)):
        if not isinstance(node, ast.Call):
            continue
        called = node.func
        if isinstance(called, ast.Attribute) and called.attr in DECIDING:
            found.append(f"{where}:{node.lineno}: .{called.attr}()")
        if isinstance(called, ast.Name) and called.id == "Actor":
            found.append(f"{where}:{node.lineno}: Actor()")
    return found


def test_no_module_but_authority_decides_who_may_act() -> None:
    """The Actor's deciding methods are called, and an Actor is built, in
    ``access/authority.py`` only: elsewhere code asks one of its functions (or declares an
    operation's ``needs``), so no other module refuses anyone for who they are."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path != PACKAGE / "access" / "authority.py":
            found += _decisions(path.read_text(), str(path.relative_to(PACKAGE)))
    assert found == []


def test_the_check_finds_a_decision_made_elsewhere() -> None:
    """The walk above is not blind: a module deciding for itself is found."""
    stray = "def f(actor, p):\n    if not actor.may('audit'):\n        raise Refused('no')\n"
    assert _decisions(stray, "stray.py") == ["stray.py:2: .may()"]
    assert _decisions("who = Actor('kim', 'rep', registered=True)\n", "s.py") == ["s.py:1: Actor()"]
