"""The queries on ``people``: who is registered, in which role, and whose token this is."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, Table, bindparam, func, literal, select, update
from sqlalchemy.engine import Connection, Row

from pricing.storage.audit import Entry
from pricing.storage.store import audit_log, people


@dataclass(frozen=True)
class PersonRecord:
    """One row of ``people`` (the token only as its hash, and only to compare)."""

    name: str
    role: str
    email: str | None
    created_at: datetime
    created_by: str
    removed_at: datetime | None
    # Registered again after a removal: the requests under this name up to this number are
    # the earlier person's (None: never removed and added again).
    since_request: int | None = None

    @property
    def active(self) -> bool:
        return self.removed_at is None


def _person(row: Row[*tuple[Any, ...]]) -> PersonRecord:
    return PersonRecord(
        row.name, row.role, row.email, row.created_at, row.created_by, row.removed_at,
        row.since_request,
    )  # fmt: skip


_SHOWN = (people.c.name, people.c.role, people.c.email, people.c.created_at,
          people.c.created_by, people.c.removed_at, people.c.since_request)  # fmt: skip


def anyone(conn: Connection) -> bool:
    """Whether anybody was ever registered (from then on, roles live here)."""
    return conn.execute(select(people.c.id).limit(1)).first() is not None


def by_name(conn: Connection, key: str) -> PersonRecord | None:
    row = conn.execute(select(*_SHOWN).where(people.c.name_key == key)).first()
    return _person(row) if row else None


@dataclass(frozen=True)
class TokenOwner:
    """Whose token hash was found, as sign-in checks it."""

    person: PersonRecord
    row: tuple[Any, ...]  # their row as the database driver returned it (what the audit digests)
    entry: Entry | None  # their newest audit entry (None: the chain never named them)
    key: int  # which of the keys given matched: 0 the current one, else a rotated-out one


def by_token_hash(conn: Connection, hashes: Sequence[str]) -> TokenOwner | None:
    """The active person whose stored token hash is one of ``hashes`` (one per key held, the
    current one first), with all that sign-in checks, in one read per key tried."""
    for index, token_hash in enumerate(hashes):
        result = conn.execute(_signing_in(), {"token_hash": token_hash})
        raw = result.cursor.fetchall() if result.cursor is not None else []
        result.close()
        if raw:
            row = tuple(raw[0])
            person, logged = row[: len(people.columns)], row[len(people.columns) :]
            found = _from_driver(conn, people, person)
            entry = _from_driver(conn, audit_log, logged)
            return TokenOwner(
                PersonRecord(
                    found["name"], found["role"], found["email"], found["created_at"],
                    found["created_by"], found["removed_at"], found["since_request"],
                ),
                person,
                Entry(**entry) if entry["seq"] is not None else None,
                index,
            )  # fmt: skip
    return None


@cache
def _signing_in() -> Select[Any]:
    """A person by their token hash, with their newest audit entry (built once: building a
    statement costs more than running it)."""
    kept = audit_log.alias("kept")
    newest = (
        select(func.max(kept.c.seq))
        .where(kept.c.subject == literal("person:") + people.c.name_key)
        .correlate(people)
        .scalar_subquery()
    )
    return (
        select(people, audit_log)
        .select_from(people.outerjoin(audit_log, audit_log.c.seq == newest))
        .where(people.c.token_hash == bindparam("token_hash"), people.c.removed_at.is_(None))
    )


def _from_driver(conn: Connection, table: Table, row: Sequence[Any]) -> dict[str, Any]:
    """A table's row as the driver returned it, each value read as its column's type."""
    processors = _PROCESSORS.get((conn.dialect.name, table.name))
    if processors is None:
        processors = _PROCESSORS[(conn.dialect.name, table.name)] = [
            column.type.dialect_impl(conn.dialect).result_processor(conn.dialect, None)
            for column in table.columns
        ]
    return {
        column.name: process(value) if process is not None else value
        for column, process, value in zip(table.columns, processors, row, strict=True)
    }


_PROCESSORS: dict[tuple[str, str], list[Any]] = {}


def keyed_hash(key: bytes, plain: str) -> str:
    """What is stored for a token whose SHA-256 (hex) is ``plain``: HMAC-SHA256 of it under
    the token key ``key`` (:func:`pricing.config.token_keys`)."""
    return hmac.new(key, plain.encode("ascii"), hashlib.sha256).hexdigest()


def all_people(conn: Connection) -> list[PersonRecord]:
    return [_person(row) for row in conn.execute(select(*_SHOWN).order_by(people.c.name_key))]


def active_with_role(conn: Connection, role: str) -> int:
    statement = select(func.count()).where(people.c.role == role, people.c.removed_at.is_(None))
    return int(conn.execute(statement).scalar_one())


def insert(
    conn: Connection, *, name: str, key: str, role: str, email: str | None, token_hash: str,
    at: datetime, by: str,
) -> None:  # fmt: skip
    conn.execute(
        people.insert().values(
            name=name,
            name_key=key,
            role=role,
            email=email,
            token_hash=token_hash,
            created_at=at,
            created_by=by,
        )
    )


def set_values(conn: Connection, key: str, **values: object) -> None:
    conn.execute(update(people).where(people.c.name_key == key).values(**values))
