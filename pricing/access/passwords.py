"""Passwords for the web pages: made when a person is added or reset, changed by the person.

A person signs in to the pages with their name and a password (the CLI keeps its token). What is
stored is an argon2id hash (argon2-cffi, RFC 9106's low-memory profile) of the password *keyed*:
HMAC-SHA256 under a key derived from the server's audit secret, over the person's name key and
the password. So a hash written into ``passwords`` by someone who holds the database but not the
secret opens nothing, and a hash copied from one person's row to another's (a rep's own onto the
owner's) does not hold there. Checking a password also checks the person's row against its
seal in the audit, as a token's sign-in does (:func:`pricing.access.people.signed_in`).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from pricing import config
from pricing.access.authority import key
from pricing.errors import InputError, Refused, Unsealed
from pricing.storage import audit, signins, store
from pricing.storage import people as rows
from pricing.storage.people import PersonRecord
from pricing.storage.store import Store

if TYPE_CHECKING:
    from argon2 import PasswordHasher

PURPOSE = b"pricing password v1"
SHORTEST = 10  # characters a password a person chooses must have
LONGEST = 200  # beyond this, a "password" is something else pasted by mistake
# The hasher (None: argon2-cffi's default, loaded on first use). Tests make it cheaper
# (tests/conftest.py); a hash says its own cost, so one made cheaper still checks, and is made
# again at the person's next sign-in.
HASHER: PasswordHasher | None = None


def _hasher() -> PasswordHasher:
    return _default_hasher() if HASHER is None else HASHER


@cache
def _default_hasher() -> PasswordHasher:
    from argon2 import PasswordHasher

    return PasswordHasher()


def new_password() -> str:
    """A password to print once: 16 characters of 96 random bits, unambiguous to copy."""
    return secrets.token_urlsafe(12)


def _keyed(secret_key: bytes, name_key: str, password: str) -> bytes:
    message = PURPOSE + b"\0" + name_key.encode("utf-8") + b"\0" + password.encode("utf-8")
    return hmac.new(secret_key, message, hashlib.sha256).hexdigest().encode("ascii")


def _hash(name_key: str, password: str) -> str:
    return _hasher().hash(_keyed(config.token_keys(create=True)[0], name_key, password))


@dataclass(frozen=True)
class Initial:
    """A password made for a person (added, or reset): to show once, and its hash to keep.
    Made before the transaction that keeps it: a hash takes about 100 ms, no writer waits."""

    name_key: str
    password: str
    hashed: str


def initial(name: str) -> Initial:
    password = new_password()
    return Initial(key(name), password, _hash(key(name), password))


def keep_initial(conn: Connection, made: Initial, now: datetime) -> None:
    """Keep ``made`` as the person's password, in the caller's transaction; every browser they
    were signed in from is signed out."""
    signins.set_password(conn, made.name_key, made.hashed, initial=True, at=now)
    signins.end_sessions(conn, made.name_key)


def _matches(stored: str, name_key: str, password: str) -> int | None:
    """Which key (0: the current one) the password checks against ``stored`` under, or None."""
    from argon2.exceptions import InvalidHashError, VerificationError

    for index, secret_key in enumerate(config.token_keys()):
        try:
            if _hasher().verify(stored, _keyed(secret_key, name_key, password)):
                return index
        except (VerificationError, InvalidHashError):
            continue
    return None


@cache
def _decoy() -> str:
    """A hash to check a password against when the name is wrong: a wrong name then costs
    the time a wrong password does."""
    return _hasher().hash(b"decoy")


def check(db: Store, name: str, password: str) -> tuple[PersonRecord, bool] | None:
    """The active person whose name and password these are, and whether the password is the
    initial one (they are asked to choose theirs); None for a wrong name or password, in about
    the same time either way. A password that checked under a secret rotated out, or with a
    cheaper hasher, is stored again as it should be. :class:`Unsealed` for a person whose row
    differs from its seal (edited behind the tool's back)."""
    name_key = key(name)
    if not name_key or len(password) > LONGEST:
        return None
    with db.read() as conn:
        person = rows.by_name(conn, name_key)
        stored = signins.password(conn, name_key) if person and person.active else None
    if person is None or stored is None:
        _matches(_decoy(), name_key, password)
        return None
    used = _matches(stored.hash, name_key, password)
    if used is None:
        return None
    with db.read() as conn:
        why = audit.unsealed(conn, audit.subject("person", name_key))
    if why is not None:
        raise Unsealed(person.name, why)
    if used != 0 or _hasher().check_needs_rehash(stored.hash):
        again = _hash(name_key, password)
        with db.write() as conn:  # only if it is still the hash checked (no reset meanwhile)
            signins.replace_password(conn, name_key, was=stored.hash, hashed=again)
    return person, stored.initial


def change(db: Store, name: str, current: str, new: str, *, keep_session: str | None) -> None:
    """A person chooses their own password: the current one must check, the new one is at
    least :data:`SHORTEST` characters and not the current one. Recorded in the audit
    (``person.password_changed``); every other browser they were signed in from is signed out."""
    if len(new) < SHORTEST:
        raise InputError(f": a password of at least {SHORTEST} characters", field="new")
    if len(new) > LONGEST:
        raise InputError(f": a password of at most {LONGEST} characters", field="new")
    if new == current:
        raise InputError(": the new password is the one you have now", field="new")
    if check(db, name, current) is None:
        raise Refused("your current password is not that: nothing was changed")
    name_key = key(name)
    now = store.utcnow()
    hashed = _hash(name_key, new)
    with db.write() as conn:
        signins.set_password(conn, name_key, hashed, initial=False, at=now)
        signins.end_sessions(conn, name_key, keep=keep_session)
        audit.record(conn, by=name, action="person.password_changed",
                     subjects=[audit.subject("person", name_key)], at=now)  # fmt: skip
