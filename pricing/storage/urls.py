"""Where a store is: its URL as given (``--db``, ``PRICING_DATABASE_URL``, the configuration
file, else ``pricing.db`` here), and the same URL as it may be shown.

Apart from :mod:`pricing.storage.store` because reading and showing a URL needs neither the
tables nor an engine: the witness, the api's status and the tests name databases with it.
"""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from pricing import config
from pricing.errors import ConfigError, InputError, PricingError

DEFAULT_URL = "sqlite:///pricing.db"


def resolve_url(url: str | None) -> str:
    """``url`` (``--db``), else ``PRICING_DATABASE_URL`` or the configuration file's
    ``database_url``, else ``pricing.db`` here; a bare path means SQLite. A URL that cannot be
    parsed is refused, naming where it came from (never its password)."""
    written = url or config.database_url() or DEFAULT_URL
    resolved = written if "://" in written else f"sqlite:///{written}"
    if resolved.startswith(("postgresql://", "postgres://")):
        resolved = "postgresql+psycopg://" + resolved.split("://", 1)[1]
    try:
        make_url(resolved)
    except (ArgumentError, ValueError):  # ValueError: a port that is not a number, e.g. [::1
        raise _unreadable_url(written, given=url is not None) from None
    return resolved


def _unreadable_url(written: str, *, given: bool) -> PricingError:
    detail = (
        f" {_redacted(written)!r}: not a database URL pricing can read; write it as "
        "postgresql://USER@HOST[:PORT]/DATABASE (an IPv6 address in brackets: [::1]) or give "
        "the path of an SQLite file"
    )
    if given:
        return InputError(detail, field="db")
    return ConfigError(config.database_url_origin() + detail)


def _redacted(url: str) -> str:
    """A URL that may not parse, its password (between ``user:`` and the last ``@``) hidden."""
    scheme, separator, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not separator or not at or ":" not in userinfo:
        return url
    return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}"


def display_url(url: str) -> str:
    """The URL safe to show: a password is never printed."""
    try:
        shown = make_url(url).render_as_string(hide_password=True)
        return shown.replace("postgresql+psycopg://", "postgresql://", 1)
    except (ArgumentError, ValueError):
        return "<unparseable database URL>"
