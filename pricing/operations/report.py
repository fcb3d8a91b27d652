"""The drift report: how far the deals closed are from list, by who, where and when."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pricing import results
from pricing.operations import Session, lazy_module, operation

if TYPE_CHECKING:
    from pricing import api
else:
    api = lazy_module("pricing.api")  # the core's entry points: loaded when a method runs here

DETAILED = (".xlsx", ".html")  # files with months, price bands and lines, not only the totals


class Reports(Session):
    """The drift report: methods of :class:`pricing.Pricing`."""

    @operation("report.build", output=True, needs="report")
    def report(
        self,
        *,
        start: date | None = None,
        end: date | None = None,
        by: list[str] | None = None,
        sort: str | None = None,
        output: Path | None = None,
        currency: str | None = None,
    ) -> results.report.AnyReport:
        """The drift report over the deals from ``start`` to ``end`` (``YYYY-MM-DD``, default all),
        broken down ``by`` (``rep,family``: rep, family, sku, customer, month, currency), the groups ranked
        by ``sort`` (a figure of the report); ``output`` writes it as .xlsx, .html, .csv or .json
        (for .xlsx and .html the answer is the
        :class:`~pricing.results.report.DetailedReport` those files show). ``currency``
        converts every line's money to it at the exchange rate of the line's date (``fx
        import`` first)."""
        from pricing.analysis.report import parse_by
        from pricing.results.report import DriftReport

        breakdown = parse_by(",".join(by) if by is not None else None)
        result = api.build_report(
            self.store(),
            start=start,
            end=end,
            by=breakdown,
            details=output is not None and output.suffix.lower() in DETAILED,
            sort=sort,
            user=self.user,
            currency=currency,
        )
        if output is not None:
            from pricing.analysis.report_files import write

            write(result, output)
        return DriftReport.of(result)
