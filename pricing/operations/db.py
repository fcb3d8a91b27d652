"""Looking after the database: where it is, its schema, upgrading it, and is everything stored
still as it was written?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricing import results
from pricing.operations import Session, lazy_module, operation

if TYPE_CHECKING:
    import pricing.results.store  # noqa: F401  (what ``results.store`` is)
    from pricing import api
else:
    api = lazy_module("pricing.api")  # the core's entry points: loaded when a method runs here

# Why `db status` and `db upgrade` run only here: they work on the database itself (a server's
# client holds none), before and beside the store the other operations open.
DIRECTLY = "`pricing db` works on the database directly: run it on the server's host with --db"


class Database(Session):
    """Looking after the database: methods of :class:`pricing.Pricing`."""

    @operation("db.status", local=DIRECTLY)
    def db_status(self) -> results.store.DbStatus:
        """Where the database is, its schema revision and what it holds (changes nothing; a
        missing SQLite file is an error, never created)."""

        return results.store.DbStatus.of(api.database_status(self.url))

    @operation("db.upgrade", local=DIRECTLY)
    def db_upgrade(self) -> results.store.DbUpgrade:
        """Apply the schema migrations this version of pricing needs (safe to run any time)."""

        return results.store.DbUpgrade.of(api.upgrade_database(self.url))

    @operation("db.check", needs="database")
    def db_check(self) -> results.store.DbCheck:
        """Verify the store: every deal-data segment decodes and holds what was stored, editions
        and policies hold what was recorded, every subject matches the audit; each damaged thing
        named with how to recover (the owner's)."""

        checked = api.check_database(self.store(), user=self.user, progress=self.progress)
        return results.store.DbCheck.of(checked)
