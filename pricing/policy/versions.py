"""Policy versions: every load is kept, with who loaded it and from when it is in force."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from pricing.errors import InputError, NotFoundError
from pricing.policy.model import Policy
from pricing.storage import store
from pricing.storage.store import Store

if TYPE_CHECKING:
    from pricing.policy.file import PolicyFile


@dataclass(frozen=True)
class PolicyVersion:
    version: int
    effective_from: date
    loaded_at: datetime
    loaded_by: str
    source: str
    sha256: str
    policy: Policy


def read_policy_file(path: Path) -> PolicyFile:
    from pricing.io.sheets import read_input
    from pricing.policy.file import parse_policy

    try:
        text = read_input(path).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file; save the policy as UTF-8 TOML") from None
    return parse_policy(text, path.name)


def load(db: Store, parsed: PolicyFile, *, user: str, now: datetime | None = None) -> PolicyVersion:
    """Store a valid policy as the newest version (in force from its effective_from, or today)."""
    import hashlib

    assert parsed.policy is not None, "only a valid policy can be loaded"
    now = now or store.utcnow()
    effective = parsed.policy.effective_from or now.date()
    digest = hashlib.sha256(parsed.text.encode()).hexdigest()
    with db.write() as conn:
        version = conn.execute(
            store.policies.insert()
            .values(
                effective_from=effective,
                loaded_at=now,
                loaded_by=user,
                source=parsed.source,
                sha256=digest,
                text=parsed.text,
                body=json.dumps(parsed.policy.to_dict()),
            )
            .returning(store.policies.c.id)
        ).scalar_one()
        from pricing.lines.service import rematch

        rematch(conn, since=effective)
    return PolicyVersion(int(version), effective, now, user, parsed.source, digest, parsed.policy)


def in_force(conn: Connection, on: date) -> PolicyVersion:
    """The newest policy version effective on or before ``on``."""
    t = store.policies
    row = conn.execute(
        select(t)
        .where(t.c.effective_from <= on)
        .order_by(t.c.effective_from.desc(), t.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        any_row = conn.execute(select(t.c.id).limit(1)).first()
        raise NotFoundError(
            f"no policy is in force on {on.isoformat()}"
            if any_row
            else "no policy loaded yet: the owner loads one with `pricing policy load guardrails.toml`"
        )
    return _version(row)


def get(conn: Connection, version: int) -> PolicyVersion:
    row = conn.execute(select(store.policies).where(store.policies.c.id == version)).first()
    if row is None:
        raise NotFoundError(f"no policy version {version}")
    return _version(row)


def latest_currency(db: Store) -> str | None:
    """The currency of the newest policy, the default for price books without one."""
    with db.read() as conn:
        row = conn.execute(
            select(store.policies.c.body).order_by(store.policies.c.id.desc()).limit(1)
        ).first()
    if row is None:
        return None
    return str(json.loads(row.body)["currency"])


def _version(row: Any) -> PolicyVersion:
    """A policy version from a stored row (any object with the columns as attributes)."""
    return PolicyVersion(
        version=row.id,
        effective_from=row.effective_from,
        loaded_at=row.loaded_at,
        loaded_by=row.loaded_by,
        source=row.source,
        sha256=row.sha256,
        policy=Policy.from_dict(json.loads(row.body)),
    )
