"""The audit's witness as a database: for the servers of several hosts, which share no file.

Each change's head is appended as a row of ``audit_witness`` in a second database named by the
configuration's ``witness_url`` (or ``PRICING_AUDIT_WITNESS`` given as a URL), as a line is
appended to the witness file (:mod:`pricing.storage.audit`). It holds against whoever can
write to the store's database only if they cannot write to this one: another database, under
a role of its own that the servers use and the store's owner does not hold (docs/team.md).

Reading the newest head of a store is an indexed query, however many changes were witnessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import (
    BigInteger,
    Column,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from pricing.errors import ConfigError
from pricing.storage import urls

heads = Table(
    "audit_witness",
    MetaData(),
    Column("id", Integer, primary_key=True, autoincrement=True),  # the order of appends
    Column("at", String(40), nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("mac", String(64), nullable=False),
    Column("store", Text, nullable=False),  # the store's address (store_key)
    Column("ident", String(64), nullable=False),  # the store's id
    Index("ix_audit_witness_store", "store", "ident", "seq"),
)


@dataclass(frozen=True)
class Row:
    """The newest head recorded of one store id: its number, MAC and when."""

    seq: int
    mac: str
    at: str


def shown(url: str) -> str:
    """The witness as messages name it (never a password)."""
    return "database " + urls.display_url(url)


@cache
def _engine(url: str) -> Engine:
    from sqlalchemy import create_engine

    resolved = url
    if resolved.startswith(("postgresql://", "postgres://")):
        resolved = "postgresql+psycopg://" + resolved.split("://", 1)[1]
    engine = create_engine(resolved, pool_pre_ping=True)
    heads.metadata.create_all(engine, checkfirst=True)
    return engine


def ready(url: str) -> str:
    """Connect to the witness and make its table if it is not there (a server checks this
    before it answers anyone): the witness as messages name it, or :class:`ConfigError`."""
    try:
        with _engine(url).begin() as conn:
            conn.execute(select(func.count()).select_from(heads).where(heads.c.id < 0))
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        _engine.cache_clear()
        raise ConfigError(
            f"cannot append to the audit's witness {shown(url)}: {exc.__class__.__name__}; "
            "name a database the server may write in witness_url (or PRICING_AUDIT_WITNESS)"
        ) from None
    return shown(url)


def append(url: str, at: str, seq: int, mac: str, where: str, ident: str) -> None:
    """Record a head (raises SQLAlchemyError when the witness cannot be written)."""
    try:
        engine = _engine(url)
    except (SQLAlchemyError, ImportError, ValueError):
        _engine.cache_clear()  # the table is made at the next try
        raise
    with engine.begin() as conn:
        conn.execute(heads.insert().values(at=at, seq=seq, mac=mac, store=where, ident=ident))


def newest(url: str, where: str) -> dict[str, Row]:
    """The newest head recorded of each store id at the address ``where``: the first row of
    the highest number (a later row of that number with another MAC is a rebuilt chain's)."""
    top = (
        select(heads.c.ident, func.max(heads.c.seq).label("seq"))
        .where(heads.c.store == where)
        .group_by(heads.c.ident)
        .subquery()
    )
    first = (
        select(func.min(heads.c.id))
        .join(top, (heads.c.ident == top.c.ident) & (heads.c.seq == top.c.seq))
        .where(heads.c.store == where)
        .group_by(heads.c.ident)
    )
    try:
        with _engine(url).connect() as conn:
            rows = conn.execute(
                select(heads.c.ident, heads.c.seq, heads.c.mac, heads.c.at).where(
                    heads.c.id.in_(first)
                )
            ).all()
    except (SQLAlchemyError, ImportError, ValueError) as exc:
        _engine.cache_clear()
        raise ConfigError(
            f"cannot read the audit's witness {shown(url)}: {exc.__class__.__name__}"
        ) from None
    return {str(r.ident): Row(int(r.seq), str(r.mac), str(r.at)) for r in rows}
