"""The audit's witness: the chain's head appended, after every change, outside the database
(a file, or a second database: :mod:`pricing.storage.witness`), so that a chain cut back,
emptied or rebuilt is found even by whoever holds the store's database and its key.

It stands apart from the chain (:mod:`pricing.storage.audit`) because it is the only part that
writes outside the store (a file under an exclusive lock, or another database) and fails
differently: a witness that cannot be appended to is logged, the change being committed.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from pricing import config
from pricing.errors import ConfigError
from pricing.storage import store, urls, witness
from pricing.storage.audit_entries import Head, stamp


@dataclass(frozen=True)
class Witnessed:
    """The newest head the witness recorded of one store: when, and in which witness (a file,
    or a database: :func:`witness_name`)."""

    head: Head
    at: str
    file: str


def witness_name() -> str:
    """The witness as messages name it: its file, or its database (never a password)."""
    url = config.witness_url()
    return witness.shown(url) if url else str(config.witness_file())


def store_key(conn: Connection) -> str | None:
    """How the witness names a store: its URL without a password (an SQLite file by its real
    path); None for a database in memory (a dry run's), which nothing witnesses."""
    url = conn.engine.url
    if conn.dialect.name == "sqlite":
        database = url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        return "sqlite:///" + os.path.realpath(database)
    return urls.display_url(url.render_as_string(hide_password=False))


def append_head(where: str, ident: str, head: Head) -> None:
    """Append ``head`` of the store ``where`` whose id is ``ident`` to the witness (after the
    commit that made it): one line, under an
    exclusive lock, so that the workers of a server (and commands on its host) share it. A
    witness that cannot be written is logged, not raised: the change is committed already.
    A database witness (:mod:`pricing.storage.witness`) gets a row instead."""
    url = config.witness_url()
    if url:
        try:
            witness.append(url, stamp(store.utcnow()), head.seq, head.mac, where, ident)
        except (SQLAlchemyError, ImportError, ValueError) as exc:  # (a driver, a URL)
            logging.getLogger("pricing.audit").error(
                "could not append the audit's entry %d to its witness %s: %s",
                head.seq, witness.shown(url), exc.__class__.__name__,
            )  # fmt: skip
        return
    path = config.witness_file()
    line = f"{stamp(store.utcnow())}\t{head}\t{where}\t{ident}\n".encode()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            _lock(descriptor)
            os.write(descriptor, line)
        finally:
            os.close(descriptor)  # (and so the lock)
    except OSError as exc:
        logging.getLogger("pricing.audit").error(
            "could not append the audit's entry %d to its witness %s: %s",
            head.seq, path, exc.strerror,
        )  # fmt: skip


def _lock(descriptor: int) -> None:
    try:
        import fcntl
    except ImportError:  # not on this system: appends of one line are atomic enough
        return
    fcntl.flock(descriptor, fcntl.LOCK_EX)


def witness_ready() -> str:
    """The witness file, made if it is not there (mode 0600), or the witness database, its
    table made: a server checks it may append to it before it answers anyone
    (:class:`ConfigError` naming it otherwise). The witness as messages name it."""
    url = config.witness_url()
    if url:
        return witness.ready(url)
    path = config.witness_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.close(os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
    except OSError as exc:
        raise ConfigError(
            f"cannot append to the audit's witness {path}: {exc.strerror}; name a file the "
            f"server's user may write in witness_file (or {config.WITNESS})"
        ) from None
    return str(path)


def witnessed(where: str, ident: str) -> Witnessed | None:
    """The newest head the witness recorded of the store at ``where`` whose id is ``ident``."""
    return witnessed_all(where).get(ident)


def witnessed_all(where: str) -> dict[str, Witnessed]:
    """The newest head the witness recorded of each store (by id) at the address ``where``
    (the first line of the highest entry: a later line of that number with another MAC is a
    rebuilt chain's).

    The witness file is read whole, never only its end: after a chain was cut back, the
    server appends lower numbers after the highest one recorded, and the heads of the other
    stores recorded at this address (a database recreated there) may be anywhere in it. A
    database witness answers with an indexed query instead."""
    url = config.witness_url()
    if url:
        return {
            ident: Witnessed(Head(row.seq, row.mac), row.at, witness.shown(url))
            for ident, row in witness.newest(url, where).items()
        }
    path = config.witness_file()
    try:
        lines = path.open(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"cannot read the audit's witness {path}: {exc.strerror}") from None
    best: dict[str, Witnessed] = {}
    with lines:
        for line in lines:
            at, _, rest = line.rstrip("\n").partition("\t")
            text, _, rest = rest.partition("\t")
            named, _, ident = rest.partition("\t")
            if named != where:
                continue
            try:
                found = Head.parse(text)
            except ValueError:
                continue  # a line cut short while it was written
            if ident not in best or found.seq > best[ident].head.seq:
                best[ident] = Witnessed(found, at, str(path))
    return best
