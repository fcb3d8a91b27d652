"""The people of a team: adding them, their roles, their tokens, removing them.

A token is 32 random bytes (URL-safe text, ``prc_…``), shown once when a person is added or
their token reset, and stored only as a *keyed* hash: HMAC-SHA256 of its SHA-256, with a key
derived from the server's audit secret (:func:`pricing.config.token_keys`). A hash of that much
randomness cannot be reversed or guessed, so no slow password hash is needed; the key makes a
hash written into ``people`` by hand (by someone holding the database, not the secret) match no
token. Every change is an audited event (subject ``person:NAME``), and sign-in checks the
person's row against that seal (:func:`signed_in`).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from pricing import config
from pricing.access import authority, passwords
from pricing.access.authority import BASE_ROLES, Actor, key, policy_levels
from pricing.errors import DamagedError, InputError, NotFoundError, Refused, Unsealed
from pricing.storage import audit, queries, signins, store
from pricing.storage import people as rows
from pricing.storage.people import PersonRecord
from pricing.storage.store import Store

TOKEN_PREFIX = "prc_"


@dataclass(frozen=True)
class NewToken:
    """A person and the token and password just made for them (shown once, never stored)."""

    person: PersonRecord
    token: str
    password: str


def plain_hash(token: str) -> str:
    """A token's SHA-256 (what stores before schema 0012 kept; never compared on its own)."""
    return hashlib.sha256(token.strip().encode("utf-8")).hexdigest()


def token_hash(token: str) -> str:
    """What is stored for a new token: keyed with the current secret's token key."""
    return rows.keyed_hash(config.token_keys(create=True)[0], plain_hash(token))


def _new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def _check_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InputError(": give the person's name", field="name")
    if len(name) > 100:
        raise InputError(": a name of at most 100 characters", field="name")
    if any(unicodedata.category(ch)[0] in "CZ" and ch != " " for ch in name):
        raise InputError(f" {name!r}: letters, digits, spaces and punctuation only", field="name")
    return name


def roles(conn: Connection) -> list[str]:
    """The roles a person may have: rep, manager, owner, marketer, and any level of the
    newest policy."""
    return list(dict.fromkeys([*BASE_ROLES, *policy_levels(conn)]))


def _check_role(conn: Connection, role: str) -> str:
    role = role.strip().lower()
    known = roles(conn)
    if role not in known:
        raise InputError(f" {role!r} is not a role; roles: {', '.join(known)}", field="role")
    return role


def _existing(conn: Connection, name: str) -> PersonRecord:
    person = rows.by_name(conn, key(name))
    if person is None or not person.active:
        raise NotFoundError(f"nobody called {name!r} is registered (see `pricing people list`)")
    return person


def _record(
    conn: Connection, by: Actor, action: str, name: str, note: str | None, at: datetime
) -> None:
    audit.record(conn, by=by.name, action=action, subjects=[audit.subject("person", key(name))],
                 note=note, at=at)  # fmt: skip


def add(
    db: Store, name: str, role: str, *, by: Actor, email: str | None = None,
    now: datetime | None = None,
) -> NewToken:  # fmt: skip
    """Register a person with a role and make their token. The first person of a store must
    be an owner (from then on, roles are stored: see :mod:`pricing.access.authority`)."""
    name = _check_name(name)
    email = check_email(email)
    now = now or store.utcnow()
    token = _new_token()
    password = passwords.initial(name)
    with db.write() as conn:
        role = _check_role(conn, role)
        first = not rows.anyone(conn)
        if first and role != "owner":
            raise InputError(
                f": the first person registered must be an owner (not {role}): roles live in the "
                "store from then on, and someone must be able to add the others",
                field="role",
            )
        authority.may_add(by, first=first)
        existing = rows.by_name(conn, key(name))
        if existing is not None and existing.active:
            raise InputError(f" {name!r} is already registered, as {existing.role}", field="name")
        if existing is not None:  # removed once: registered again, as a new person
            rows.set_values(conn, key(name), name=name, role=role, email=email,
                            token_hash=token_hash(token), removed_at=None, created_at=now,
                            created_by=by.name, since_request=queries.last_request(conn))  # fmt: skip
        else:
            rows.insert(conn, name=name, key=key(name), role=role, email=email,
                        token_hash=token_hash(token), at=now, by=by.name)  # fmt: skip
        passwords.keep_initial(conn, password, now)
        _record(conn, by, "person.added", name, role, now)
        person = rows.by_name(conn, key(name))
    assert person is not None
    return NewToken(person, token, password.password)


def listed(db: Store) -> list[PersonRecord]:
    """Everyone registered (removed people too, marked), by name. Who may list them is the
    operation's ``needs`` (``people.manage``: an owner, once anyone is registered)."""
    with db.read() as conn:
        return rows.all_people(conn)


def set_role(
    db: Store, name: str, role: str, *, by: Actor, now: datetime | None = None
) -> PersonRecord:
    """Give a person another role: an owner's decision (the operation's ``needs``), never
    one's own (:func:`pricing.access.authority.may_set_role`)."""
    now = now or store.utcnow()
    with db.write() as conn:
        person = _existing(conn, name)
        role = _check_role(conn, role)
        authority.may_set_role(by, person.name)
        _keep_an_owner(conn, person, role)
        _still_sealed(conn, person)
        rows.set_values(conn, key(name), role=role)
        _record(conn, by, "person.role", name, f"{person.role} -> {role}", now)
        changed = rows.by_name(conn, key(name))
    assert changed is not None
    return changed


def check_email(email: str | None) -> str | None:
    """An email address as it is kept (None: none): one ``@`` between a name and a domain, no
    spaces or control characters (a line break would be a header of the mail)."""
    if email is None or not email.strip():
        return None
    email = email.strip()
    local, at, domain = email.rpartition("@")
    if (not at or not local or "." not in domain or len(email) > 254
            or any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in email)):  # fmt: skip
        raise InputError(f" {email[:80]!r} is not an email address (name@example.com)",
                         field="email")  # fmt: skip
    return email


def set_email(
    db: Store, name: str, email: str | None, *, by: Actor, now: datetime | None = None
) -> PersonRecord:
    """Give a person another email address (None: none, so no mail for them): an owner's
    decision (the operation's ``needs``), recorded in the audit (``person.email``)."""
    now = now or store.utcnow()
    email = check_email(email)
    with db.write() as conn:
        person = _existing(conn, name)
        _still_sealed(conn, person)
        rows.set_values(conn, key(name), email=email)
        _record(conn, by, "person.email", name, email or "no address", now)
        changed = rows.by_name(conn, key(name))
    assert changed is not None
    return changed


def reset(db: Store, name: str, *, by: Actor, now: datetime | None = None) -> NewToken:
    """A new token and a new password for a person; the old ones stop working at once, and
    every browser they were signed in from is signed out."""
    now = now or store.utcnow()
    token = _new_token()
    password = passwords.initial(name)
    with db.write() as conn:
        person = _existing(conn, name)
        authority.may_reset(by, person.name)
        _still_sealed(conn, person)
        rows.set_values(conn, key(name), token_hash=token_hash(token))
        passwords.keep_initial(conn, password, now)
        _record(conn, by, "person.token_reset", name, None, now)
    return NewToken(person, token, password.password)


def remove(db: Store, name: str, *, by: Actor, now: datetime | None = None) -> PersonRecord:
    """Take a person's access away (their token stops working; their past stays theirs): an
    owner's decision (the operation's ``needs``), never about themselves
    (:func:`pricing.access.authority.may_remove`)."""
    now = now or store.utcnow()
    with db.write() as conn:
        person = _existing(conn, name)
        authority.may_remove(by, person.name)
        _keep_an_owner(conn, person, None)
        rows.set_values(conn, key(name), removed_at=now, token_hash=None)
        signins.forget(conn, key(name))
        _record(conn, by, "person.removed", name, None, now)
        removed = rows.by_name(conn, key(name))
    assert removed is not None
    return removed


def _still_sealed(conn: Connection, person: PersonRecord) -> None:
    """Refuse to record a person's row again (a new role, a new token) while it differs from
    its seal: the new entry would make a change made behind the tool's back look like the
    owner's. Removing the person is still possible."""
    why = audit.unsealed(conn, audit.subject("person", key(person.name)))
    if why is not None:
        raise Refused(
            f"{person.name}'s record in the database was changed outside pricing ({why}); "
            f"nothing was changed. Restore it from a backup, or remove {person.name} and add "
            "them again (`pricing audit verify` names every change made that way)"
        )


def _keep_an_owner(conn: Connection, person: PersonRecord, new_role: str | None) -> None:
    """Refuse to take the last owner's role or access away. Not a rule of who acts (it holds
    whoever asks), so it stays here with the rows it counts."""
    if person.role == "owner" and new_role != "owner" and rows.active_with_role(conn, "owner") == 1:
        raise Refused(f"{person.name} is the only owner: make someone else owner first")


def signed_in(conn: Connection, token: str) -> PersonRecord | None:
    """The active person whose token this is (None for a wrong or revoked token): the token's
    keyed hash under a secret this configuration holds (a hash written by hand into the
    database matches none), and the person's row as its newest audit entry sealed it
    (:class:`pricing.errors.Unsealed` for a row changed behind the tool's back: a role
    raised, a token hash replaced, a person inserted without the tool, or sealed again with a
    secret rotated out). Reading only: :func:`sign_in` also keys a token again after a
    rotation."""
    found = _token_owner(conn, token)
    return found.person if found is not None else None


def _token_owner(conn: Connection, token: str) -> rows.TokenOwner | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    plain = plain_hash(token)
    found = rows.by_token_hash(conn, [rows.keyed_hash(k, plain) for k in config.token_keys()])
    if found is None:
        return None
    why = audit.broken_seal(conn, found.entry, audit.person_digest(found.row))
    if why is not None:
        raise Unsealed(found.person.name, why)
    return found


REKEYED = "person.token_rekeyed"


def sign_in(db: Store, token: str) -> PersonRecord | None:
    """:func:`signed_in`, and a token whose hash is keyed with a secret rotated out keyed again
    with the current one (in one write transaction, recorded as ``person.token_rekeyed``), so
    that after a rotation each person's stored hash moves to the new key at their first
    sign-in. An old-key hash is accepted only from a row whose seal holds under the secret in
    force where it stands: written by the server before the rotation (or left as it was by a
    change since, such as a new role), never a row sealed with the old secret after it.

    The row is looked at twice when its seal does not hold: a change made by the tool between
    reading the row and reading its entry is not taken for one."""
    try:
        with db.read() as conn:
            found = _token_owner(conn, token)
    except Unsealed:
        with db.read() as conn:
            found = _token_owner(conn, token)
    if found is None or found.key == 0:
        return found.person if found is not None else None
    person = found.person
    try:
        with db.write() as conn:
            found = _token_owner(conn, token)  # again, under the write lock: the row as it is
            if found is None or found.key == 0:
                return found.person if found is not None else None
            rows.set_values(conn, key(person.name), token_hash=token_hash(token))
            audit.record(conn, by=audit.SYSTEM, action=REKEYED,
                         subjects=[audit.subject("person", key(person.name))],
                         note="at sign-in: under the secret in force since its rotation")  # fmt: skip
    except DamagedError as exc:  # the chain refuses every change: signed in, keyed later
        logging.getLogger("pricing.access").warning(
            "%s's token is not keyed again with the current secret: %s", person.name, exc
        )
    return person
