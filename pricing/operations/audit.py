"""The keyed audit chain: has anything been changed behind the tool's back?"""

from __future__ import annotations

from pricing import api, documents
from pricing.operations import Document, Session, operation


class Audit(Session):
    """The keyed audit chain: methods of :class:`pricing.Pricing`."""

    @operation("audit.verify")
    def audit_verify(self, *, kept: str | None = None) -> Document:
        """Check every entry of the chain and every stored subject against it (``kept``: a head,
        ``SEQ:MAC``, kept elsewhere, to find entries cut from the end)."""
        return documents.audit(api.verify_audit(self.store(), kept=kept, user=self.user))

    @operation("audit.head")
    def audit_head(self) -> Document:
        """The chain's newest entry (``SEQ:MAC``), to keep somewhere the database is not."""
        return documents.audit_head(api.audit_head(self.store(), user=self.user))
