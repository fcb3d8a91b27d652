"""Looking after the database: is everything stored still as it was written?"""

from __future__ import annotations

from pricing import api, documents
from pricing.operations import Caller, Document, operation


@operation("db.check")
def check(caller: Caller) -> Document:
    """Verify the store: every deal-data segment decodes and holds what was stored, editions
    and policies hold what was recorded, every subject matches the audit; each damaged thing
    named with how to recover (the owner's)."""
    checked = api.check_database(caller.store(), user=caller.user, progress=caller.progress)
    return documents.store_check(checked)
