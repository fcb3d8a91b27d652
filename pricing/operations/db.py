"""Looking after the database: is everything stored still as it was written?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricing import results
from pricing.operations import Session, lazy_module, operation

if TYPE_CHECKING:
    import pricing.results.store  # noqa: F401  (what ``results.store`` is)
    from pricing import api
else:
    api = lazy_module("pricing.api")  # the core's entry points: loaded when a method runs here


class Database(Session):
    """Looking after the database: methods of :class:`pricing.Pricing`."""

    @operation("db.check", needs="database")
    def db_check(self) -> results.store.DbCheck:
        """Verify the store: every deal-data segment decodes and holds what was stored, editions
        and policies hold what was recorded, every subject matches the audit; each damaged thing
        named with how to recover (the owner's)."""

        checked = api.check_database(self.store(), user=self.user, progress=self.progress)
        return results.store.DbCheck.of(checked)
