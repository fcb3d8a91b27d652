"""The browsers signed in to the web pages: a cookie each, until sign-out or expiry.

A session's cookie holds the person's name key, its expiry and 192 random bits; the store keeps
only its hash keyed with a key derived from the server's secret (``web_sessions``). A browser is
signed in while its cookie's hash is stored, its expiry has not passed and the person's row holds
against its seal. So someone who holds the database but not the secret can end sessions (delete
rows) but can make none: a row written by hand, or one whose name was changed to another
person's, matches no cookie, because the name is in the cookie and under the key.

The form token that protects each page's forms (CSRF) is derived from the cookie under the same
key: nothing more to store, and a page of another site cannot know it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pricing import config
from pricing.access.authority import Actor, actor_of, key
from pricing.errors import Unsealed
from pricing.storage import audit, signins, store
from pricing.storage import people as rows
from pricing.storage.people import PersonRecord
from pricing.storage.store import Store

PURPOSE = b"pricing web session v1"
LIFETIME = timedelta(hours=12)


def _session_key() -> bytes:
    return hmac.new(config.token_keys(create=True)[0], PURPOSE, hashlib.sha256).digest()


def _id_hash(cookie: str) -> str:
    return hmac.new(_session_key(), cookie.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SignedIn:
    """A browser's session: whose, until when, its cookie and its form token."""

    person: PersonRecord
    expires: datetime
    cookie: str
    actor: Actor  # as the session was read: what a page offers them (an act checks again)
    initial: bool = False  # still on the password printed for them: they choose theirs first

    @property
    def form_token(self) -> str:
        return form_token(self.cookie)


def form_token(cookie: str) -> str:
    """The token each form of the session carries (CSRF): derived from the cookie, keyed."""
    return hmac.new(_session_key(), b"form\0" + cookie.encode("utf-8"), hashlib.sha256).hexdigest()


def same_token(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def begin(
    db: Store, person: PersonRecord, *, address: str, now: datetime | None = None
) -> SignedIn:
    """Sign a person in from a browser (their password was checked): the cookie to set.
    Recorded in the audit (``person.signed_in``, with the address), as the start of whatever
    they decide on the pages."""
    now = now or store.utcnow()
    expires = now + LIFETIME
    name_key = key(person.name)
    encoded = base64.urlsafe_b64encode(name_key.encode("utf-8")).decode("ascii").rstrip("=")
    cookie = f"{encoded}.{int(expires.timestamp())}.{secrets.token_urlsafe(24)}"
    with db.write() as conn:
        signins.drop_expired(conn, now)
        signins.add_session(conn, _id_hash(cookie), name_key, at=now, expires=expires)
        audit.record(conn, by=person.name, action="person.signed_in",
                     subjects=[audit.subject("person", name_key)],
                     note=f"web pages, from {address[:100]}", at=now)  # fmt: skip
        actor = actor_of(conn, person)
    return SignedIn(person, expires, cookie, actor)


def _claims(cookie: str) -> tuple[str, datetime] | None:
    """The name key and expiry a cookie says (None: not a cookie of ours)."""
    parts = cookie.split(".")
    if len(parts) != 3 or len(cookie) > 600:
        return None
    try:
        name_key = base64.urlsafe_b64decode(parts[0] + "=" * (-len(parts[0]) % 4)).decode("utf-8")
        expires = datetime.fromtimestamp(int(parts[1]), UTC)
    except (binascii.Error, UnicodeDecodeError, ValueError, OverflowError, OSError):
        return None
    return name_key, expires


def current(db: Store, cookie: str | None, *, now: datetime | None = None) -> SignedIn | None:
    """The session a browser's cookie is (None: none, expired, signed out, or not ours).
    :class:`Unsealed` when the person's row differs from its seal."""
    claims = _claims(cookie) if cookie else None
    if claims is None or cookie is None:
        return None
    name_key, expires = claims
    if expires <= (now or store.utcnow()):
        return None
    with db.read() as conn:
        if signins.session_key(conn, _id_hash(cookie)) != name_key:
            return None
        person = rows.by_name(conn, name_key)
        if person is None or not person.active:
            return None
        why = audit.unsealed(conn, audit.subject("person", name_key))
        stored = signins.password(conn, name_key)
        actor = actor_of(conn, person)
    if why is not None:
        raise Unsealed(person.name, why)
    return SignedIn(person, expires, cookie, actor, initial=stored is not None and stored.initial)


def end(db: Store, cookie: str) -> None:
    """Sign a browser out (its cookie no longer signs anyone in, even if it is kept)."""
    with db.write() as conn:
        signins.end_session(conn, _id_hash(cookie))


def id_hash(cookie: str) -> str:
    """What the store keeps of a cookie (to sign a person out everywhere but here)."""
    return _id_hash(cookie)
