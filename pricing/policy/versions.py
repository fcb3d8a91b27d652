"""Policy versions: every load is kept, with who loaded it and from when it is in force."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.engine import Connection

from pricing.errors import DamagedError, InputError, NotFoundError
from pricing.policy.model import Policy
from pricing.storage import queries, store
from pricing.storage.store import Store

if TYPE_CHECKING:
    from pricing.policy.file import PolicyFile


@dataclass(frozen=True)
class PolicyVersion:
    """One stored version of the policy: its number, the policy, from when it is in force, who
    loaded it from which file (and the file's text and SHA-256)."""

    version: int
    effective_from: date
    loaded_at: datetime
    loaded_by: str
    source: str
    sha256: str
    policy: Policy
    unchanged: bool = False  # a load of the text already newest: nothing was stored


def read_policy_file(path: Path) -> PolicyFile:
    """A policy file parsed and validated; one larger than POLICY_FILE is refused after
    reading no more than the bound (a gigabyte file costs a megabyte)."""
    # Imported here so that a request check stays fast: pydantic and the file readers are
    # needed only when a policy file is read.
    from pricing.io.sheets import read_input
    from pricing.limits import POLICY_FILE
    from pricing.policy.file import check_size, parse_policy

    data = read_input(path, POLICY_FILE.value + 1)
    if len(data) > POLICY_FILE.value:
        try:
            size = max(path.stat().st_size, len(data))
        except OSError:  # not a file one can stat (a pipe): at least this much
            size = len(data)
        check_size(size, str(path))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file; save the policy as UTF-8 TOML") from None
    return parse_policy(text, path.name)


def load(
    conn: Connection, parsed: PolicyFile, *, user: str, now: datetime | None = None
) -> PolicyVersion:
    """Store a valid policy as the newest version (in force from its effective_from, or today),
    on ``conn`` (the caller's transaction; re-matching the deal history is the caller's too:
    :func:`pricing.api.load_policy` does both).

    The same text loaded again, when it is already the newest version (and names no other
    effective_from), stores nothing and returns that version marked ``unchanged``: a second
    version identical to the first would change no judgement but clutter the history and the
    audit, and re-match every deal for nothing.
    """
    import dataclasses
    import hashlib

    if parsed.policy is None:
        raise InputError(f"{parsed.source}: the policy has errors; check it and load it again")
    now = now or store.utcnow()
    effective = parsed.policy.effective_from or now.date()
    digest = hashlib.sha256(parsed.text.encode()).hexdigest()
    newest = queries.latest_policy_row(conn)
    if (
        newest is not None
        and newest.sha256 == digest
        and parsed.policy.effective_from in (None, newest.effective_from)
    ):
        return dataclasses.replace(from_record(newest), unchanged=True)
    version = queries.insert_policy(
        conn,
        effective_from=effective,
        loaded_at=now,
        loaded_by=user,
        source=parsed.source,
        sha256=digest,
        text=parsed.text,
        body=json.dumps(parsed.policy.to_dict()),
    )
    from pricing.storage import audit  # (a request check reads policies, records nothing)

    audit.record(conn, by=user, action="policy.loaded", subjects=[audit.subject("policy", version)],
                 note=parsed.source, at=now)  # fmt: skip
    return PolicyVersion(version, effective, now, user, parsed.source, digest, parsed.policy)


def in_force(conn: Connection, on: date) -> PolicyVersion:
    """The newest policy version effective on or before ``on``."""
    record = queries.policy_row_in_force(conn, on)
    if record is None:
        raise NotFoundError(
            f"no policy is in force on {on.isoformat()}"
            if queries.any_policy(conn)
            else "no policy loaded yet: the owner loads one with `pricing policy load guardrails.toml`"
        )
    return from_record(record)


def get(conn: Connection, version: int) -> PolicyVersion:
    record = queries.policy_row(conn, version)
    if record is None:
        raise NotFoundError(f"no policy version {version}")
    return from_record(record)


def all_versions(conn: Connection) -> list[PolicyVersion]:
    """Every policy version, in the order they were loaded."""
    return [from_record(record) for record in queries.policy_rows(conn)]


def latest_currency(db: Store) -> str | None:
    """The currency of the newest policy, the default for price books without one."""
    with db.read() as conn:
        body = queries.latest_policy_body(conn)
    if body is None:
        return None
    try:
        return str(json.loads(body)["currency"])
    except (ValueError, KeyError, TypeError):
        return None  # the newest policy is damaged: a request or `pricing db check` says so


def from_record(record: queries.PolicyRecord) -> PolicyVersion:
    """A policy version from its stored row; stored rules that no longer read (an edit by hand,
    a bad restore) raise :class:`DamagedError` naming the version and how to recover: every
    request, decision and ``policy show`` reads them."""
    return PolicyVersion(
        version=record.id,
        effective_from=record.effective_from,
        loaded_at=record.loaded_at,
        loaded_by=record.loaded_by,
        source=record.source,
        sha256=record.sha256,
        policy=_stored_rules(record),
    )


def _stored_rules(record: queries.PolicyRecord) -> Policy:
    rules, why = stored_rules(record)
    if rules is None:
        raise DamagedError(
            f"policy version {record.id} ({record.source}) is damaged: its stored rules do not "
            f"read ({why}); nothing was changed. To recover, restore the database from a backup "
            "taken before the damage; to put a sound version in force meanwhile, load the file "
            f"again (`pricing policy load {record.source}`)"
        )
    return rules


def stored_rules(record: queries.PolicyRecord) -> tuple[Policy | None, str]:
    """A version's stored rules, or None and why they do not read (``pricing db check``)."""
    try:
        return Policy.from_dict(json.loads(record.body)), ""
    except (ValueError, KeyError, TypeError, AttributeError, ArithmeticError) as exc:
        if isinstance(exc, ArithmeticError):  # decimal's own words are its signal classes
            return None, "an amount that is not a number"
        first = (str(exc).strip().splitlines() or [""])[0][:120]
        return None, first or type(exc).__name__
