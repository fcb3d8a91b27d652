"""The keyed audit chain: has anything been changed behind the tool's back?"""

from __future__ import annotations

from pricing import api, documents
from pricing.operations import Caller, Document, operation


@operation("audit.verify")
def verify(caller: Caller, *, kept: str | None = None) -> Document:
    """Check every entry of the chain and every stored subject against it (``kept``: a head,
    ``SEQ:MAC``, kept elsewhere, to find entries cut from the end)."""
    return documents.audit(api.verify_audit(caller.store(), kept=kept, user=caller.user))


@operation("audit.head")
def head(caller: Caller) -> Document:
    """The chain's newest entry (``SEQ:MAC``), to keep somewhere the database is not."""
    return documents.audit_head(api.audit_head(caller.store(), user=caller.user))
