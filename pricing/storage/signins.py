"""The queries on ``passwords`` and ``web_sessions``: a person's password hash for the web
pages, and the browsers signed in (what each row means: :mod:`pricing.access.passwords` and
:mod:`pricing.access.sessions`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from pricing.storage.team_tables import passwords, web_sessions


@dataclass(frozen=True)
class StoredPassword:
    """A person's password as kept: its hash, and whether it is the one printed for them."""

    hash: str
    initial: bool
    changed_at: datetime


def password(conn: Connection, key: str) -> StoredPassword | None:
    row = conn.execute(
        select(passwords.c.hash, passwords.c.initial, passwords.c.changed_at).where(
            passwords.c.name_key == key
        )
    ).first()
    return StoredPassword(row.hash, bool(row.initial), row.changed_at) if row else None


def set_password(conn: Connection, key: str, hashed: str, *, initial: bool, at: datetime) -> None:
    """Keep ``hashed`` as the person's password (the one before it is gone)."""
    conn.execute(delete(passwords).where(passwords.c.name_key == key))
    conn.execute(
        passwords.insert().values(name_key=key, hash=hashed, initial=initial, changed_at=at)
    )


def replace_password(conn: Connection, key: str, *, was: str, hashed: str) -> bool:
    """Keep ``hashed`` instead of ``was`` (the same password, hashed again), unless the stored
    hash is no longer ``was`` (changed or reset meanwhile): False then, nothing changed."""
    done = conn.execute(
        update(passwords).where(passwords.c.name_key == key, passwords.c.hash == was)
        .values(hash=hashed)
    )  # fmt: skip
    return done.rowcount == 1


def forget(conn: Connection, key: str) -> None:
    """A person removed: no password, no browser signed in."""
    conn.execute(delete(passwords).where(passwords.c.name_key == key))
    end_sessions(conn, key)


def add_session(
    conn: Connection, id_hash: str, key: str, *, at: datetime, expires: datetime
) -> None:
    conn.execute(
        web_sessions.insert().values(
            id_hash=id_hash, name_key=key, created_at=at, expires_at=expires
        )
    )


def session_key(conn: Connection, id_hash: str) -> str | None:
    """The name key of the person a browser's session is for (None: signed out, or never)."""
    found = conn.execute(
        select(web_sessions.c.name_key).where(web_sessions.c.id_hash == id_hash)
    ).scalar()
    return None if found is None else str(found)


def end_session(conn: Connection, id_hash: str) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash))


def end_sessions(conn: Connection, key: str, *, keep: str | None = None) -> None:
    """Sign a person out of every browser (but ``keep``, the one they are using)."""
    statement = delete(web_sessions).where(web_sessions.c.name_key == key)
    if keep is not None:
        statement = statement.where(web_sessions.c.id_hash != keep)
    conn.execute(statement)


def drop_expired(conn: Connection, now: datetime) -> None:
    conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
