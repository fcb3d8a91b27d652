"""The keyed audit chain: has anything been changed behind the tool's back?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricing import api
from pricing.operations import Session, operation

if TYPE_CHECKING:
    from pricing.results.store import AuditHead, AuditVerdict

# The results, imported by each method as it answers (pydantic is not loaded with the library).
RESULTS = "pricing.results.store"


class Audit(Session):
    """The keyed audit chain: methods of :class:`pricing.Pricing`."""

    @operation("audit.verify")
    def audit_verify(self, *, kept: str | None = None) -> AuditVerdict:
        """Check every entry of the chain and every stored subject against it (``kept``: a head,
        ``SEQ:MAC``, kept elsewhere, to find entries cut from the end)."""
        from pricing.results.store import AuditVerdict

        return AuditVerdict.of(api.verify_audit(self.store(), kept=kept, user=self.user))

    @operation("audit.head")
    def audit_head(self) -> AuditHead:
        """The chain's newest entry (``SEQ:MAC``), to keep somewhere the database is not."""
        from pricing.results.store import AuditHead

        return AuditHead.of(api.audit_head(self.store(), user=self.user))
