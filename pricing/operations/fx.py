"""Exchange rates: importing a rates file (the ECB's as published, or a plain list), and the
rate of a currency on a day."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pricing import results
from pricing.operations import Session, operation

if TYPE_CHECKING:
    import pricing.results.fx  # noqa: F401  (what ``results.fx`` is)


class Fx(Session):
    """Exchange rates: methods of :class:`pricing.Pricing`."""

    @operation("fx.import", files=("file",), needs="fx.import")
    def import_rates(self, file: Path, *, base: str | None = None) -> results.fx.FxImported:
        """Store the rates of a file that are new or changed (nothing on any error; the same
        file again stores nothing). ``base``: the base of a file that does not name one (EUR,
        the ECB's, when not given)."""
        from pricing.fx import rates

        done = rates.import_file(lambda: self.store(create=True), file, user=self.user, base=base)
        return results.fx.FxImported.of(done)

    @operation("fx.show")
    def rate(
        self, *, currency: str, in_currency: str | None = None, as_of: date | None = None
    ) -> results.fx.FxRate:
        """One unit of ``currency`` in ``in_currency`` (default: the policy's currency, else
        the rates' base) on ``as_of`` (default today): the last rate published on or before."""
        from pricing.fx import rates

        db = self.store()
        quote = in_currency or rates.home_currency(db)
        found = rates.rate_on(db, currency, quote, as_of or date.today())
        return results.fx.FxRate.of(found)
