"""The drift report: how far the deals closed are from list, by who, where and when."""

from __future__ import annotations

from pathlib import Path

from pricing import api, documents
from pricing.operations import Caller, Document, day, operation

DETAILED = (".xlsx", ".html")  # files with months, price bands and lines, not only the totals


@operation("report.build", output=True)
def build(
    caller: Caller,
    *,
    start: str | None = None,
    end: str | None = None,
    by: str | None = None,
    sort: str | None = None,
    output: Path | None = None,
) -> Document:
    """The drift report over the deals from ``start`` to ``end`` (``YYYY-MM-DD``, default all),
    broken down ``by`` (``rep,family``: rep, family, sku, customer, month), the groups ranked
    by ``sort`` (a figure of the report); ``output`` writes it as .xlsx, .html, .csv or .json."""
    breakdown = api.report_breakdown(by)
    result = api.build_report(
        caller.store(),
        start=day(start, "from"),
        end=day(end, "to"),
        by=breakdown,
        details=output is not None and output.suffix.lower() in DETAILED,
        sort=sort,
        user=caller.user,
    )
    if output is not None:
        api.write_report(result, output)
    return documents.report(result)
