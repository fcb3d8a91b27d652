"""The environment: every variable pricing reads is read here, and nowhere else (so is the
login name, the acting user's default).

PRICING_DATABASE_URL   the database when none is given (default: pricing.db here)
PRICING_USER           who is acting when nobody is named (default: the login name)
PRICING_LOCK_TIMEOUT   seconds to wait for another writer (default 30)
"""

from __future__ import annotations

import getpass
import os

DATABASE_URL = "PRICING_DATABASE_URL"
USER = "PRICING_USER"
LOCK_TIMEOUT = "PRICING_LOCK_TIMEOUT"


def database_url() -> str | None:
    """The database URL of the environment (None when unset or empty)."""
    return os.environ.get(DATABASE_URL) or None


def user() -> str | None:
    """Who the environment says is acting (None when unset or empty)."""
    return os.environ.get(USER) or None


def acting_user(explicit: str | None = None) -> str:
    """Who is acting: ``explicit`` (``--user``), else ``PRICING_USER``, else the login name."""
    if explicit:
        return explicit
    from_environment = user()
    if from_environment:
        return from_environment
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def lock_timeout() -> str:
    """The lock wait as written in the environment (blank when unset); the store parses it."""
    return os.environ.get(LOCK_TIMEOUT, "").strip()
