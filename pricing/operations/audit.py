"""The keyed audit chain: has anything been changed behind the tool's back?"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricing import results
from pricing.operations import Session, lazy_module, operation

if TYPE_CHECKING:
    import pricing.results.store  # noqa: F401  (what ``results.store`` is)
    from pricing import api
else:
    api = lazy_module("pricing.api")  # the core's entry points: loaded when a method runs here


class Audit(Session):
    """The keyed audit chain: methods of :class:`pricing.Pricing`."""

    @operation("audit.verify", needs="audit")
    def audit_verify(self, *, kept: str | None = None) -> results.store.AuditVerdict:
        """Check every entry of the chain and every stored subject against it (``kept``: a head,
        ``SEQ:MAC``, kept elsewhere, to find entries cut from the end)."""

        return results.store.AuditVerdict.of(
            api.verify_audit(self.store(), kept=kept, user=self.user)
        )

    @operation("audit.head", needs="audit")
    def audit_head(self) -> results.store.AuditHead:
        """The chain's newest entry (``SEQ:MAC``), to keep somewhere the database is not."""

        from pricing.storage.audit import head

        return results.store.AuditHead.of(head(self.store()))
