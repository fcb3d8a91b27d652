"""pricing: standard list pricing kept apart from deal-level special pricing.

The package is a library first: the operations below are what every front end calls (the
``pricing`` CLI today, a server tomorrow); they never print, never exit and never import
click. Each is a typed function over an open store (:func:`open_store`) with typed inputs
and results::

    import pricing

    db = pricing.open_store("sqlite:///pricing.db", create=True)
    result = pricing.import_price_book(db, Path("book.xlsx"), effective_from=date.today(),
                                       user="mia")
    submitted = pricing.submit_request(db, customer="Acme", reason="bid", user="priya",
                                       lines=[pricing.LineInput("HW-100", 10, Decimal(99))])

The operations live in :mod:`pricing.api`; they and the types they take and return are loaded
on first use, so that importing ``pricing`` (and ``pricing --help``) stays fast. The JSON
document of each result (what ``--json`` prints, and what a server answers) is built by
:mod:`pricing.documents` and written by :func:`pricing.documents.dumps`. Errors are
the :class:`PricingError` tree of :mod:`pricing.errors`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricing.errors import (
    InputError,
    NotFoundError,
    PricingError,
    Refused,
    SchemaError,
    StoreError,
)

if TYPE_CHECKING:
    from pricing.analysis.impact import Impact
    from pricing.analysis.report import Report, Unjudged
    from pricing.analysis.simulate import Simulation
    from pricing.api import (
        BookView,
        DatabaseStatus,
        EditionDiff,
        EditionListing,
        Export,
        ItemSearch,
        ItemView,
        SchemaUpgrade,
        Submission,
        acting_user,
        approve_request,
        build_report,
        change_request,
        check_export_name,
        check_policy,
        column_overrides,
        database_status,
        diff_editions,
        export_price_book,
        import_deals,
        import_price_book,
        list_deal_imports,
        list_editions,
        list_requests,
        load_policy,
        open_store,
        quote,
        read_deals,
        read_request_lines,
        record_outcome,
        reject_request,
        report_breakdown,
        search_items,
        show_item,
        show_policy,
        show_price_book,
        show_request,
        simulate_policy,
        stored_counts,
        submit_request,
        undo_deal_import,
        unjudged_lines,
        upgrade_database,
        verify_audit,
        write_report,
        write_simulation,
    )
    from pricing.lines.history import ImportListing, Undone
    from pricing.lines.reader import DealsFile
    from pricing.lines.service import DealsImport
    from pricing.operations.library import Pricing, open
    from pricing.policy.file import PolicyFile
    from pricing.policy.model import Policy
    from pricing.policy.versions import PolicyVersion
    from pricing.pricebook.editions import ImportResult
    from pricing.pricebook.model import BookDiff, Edition, PriceBook, PriceItem
    from pricing.problems import Problem
    from pricing.requests.lifecycle import LineInput, Quote, Request
    from pricing.storage.audit import Verdict
    from pricing.storage.store import Store

__version__ = "0.1.0"

# The types of the operations' inputs and results, by the module that defines them.
_TYPES = {
    "BookDiff": "pricing.pricebook.model",
    "DealsFile": "pricing.lines.reader",
    "DealsImport": "pricing.lines.service",
    "Edition": "pricing.pricebook.model",
    "Impact": "pricing.analysis.impact",
    "ImportListing": "pricing.lines.history",
    "ImportResult": "pricing.pricebook.editions",
    "LineInput": "pricing.requests.lifecycle",
    "Policy": "pricing.policy.model",
    "PolicyFile": "pricing.policy.file",
    "PolicyVersion": "pricing.policy.versions",
    "PriceBook": "pricing.pricebook.model",
    "PriceItem": "pricing.pricebook.model",
    "Problem": "pricing.problems",
    "Quote": "pricing.requests.lifecycle",
    "Report": "pricing.analysis.report",
    "Request": "pricing.requests.lifecycle",
    "Simulation": "pricing.analysis.simulate",
    "Undone": "pricing.lines.history",
    "Store": "pricing.storage.store",
    "Unjudged": "pricing.analysis.report",
    "Verdict": "pricing.storage.audit",
}

__all__ = [
    "BookDiff",
    "BookView",
    "DatabaseStatus",
    "DealsFile",
    "DealsImport",
    "Edition",
    "EditionDiff",
    "EditionListing",
    "Export",
    "Impact",
    "ImportListing",
    "ImportResult",
    "InputError",
    "ItemSearch",
    "ItemView",
    "LineInput",
    "NotFoundError",
    "Policy",
    "PolicyFile",
    "PolicyVersion",
    "PriceBook",
    "PriceItem",
    "Pricing",
    "PricingError",
    "Problem",
    "Quote",
    "Refused",
    "Report",
    "Request",
    "SchemaError",
    "SchemaUpgrade",
    "Simulation",
    "Store",
    "StoreError",
    "Submission",
    "Undone",
    "Unjudged",
    "Verdict",
    "__version__",
    "acting_user",
    "approve_request",
    "build_report",
    "change_request",
    "check_export_name",
    "check_policy",
    "column_overrides",
    "database_status",
    "diff_editions",
    "export_price_book",
    "import_deals",
    "import_price_book",
    "list_deal_imports",
    "list_editions",
    "list_requests",
    "load_policy",
    "open",
    "open_store",
    "quote",
    "read_deals",
    "read_request_lines",
    "record_outcome",
    "reject_request",
    "report_breakdown",
    "search_items",
    "show_item",
    "show_policy",
    "show_price_book",
    "show_request",
    "simulate_policy",
    "stored_counts",
    "submit_request",
    "undo_deal_import",
    "unjudged_lines",
    "upgrade_database",
    "verify_audit",
    "write_report",
    "write_simulation",
]


_KERNEL = frozenset(
    {"InputError", "NotFoundError", "PricingError", "Refused", "SchemaError", "StoreError"}
)
# The operations and their result types: everything exported that pricing.api defines.
_API = frozenset(__all__) - _TYPES.keys() - _KERNEL - {"__version__"}


def __dir__() -> list[str]:
    """The exported names, so that ``help(pricing)`` and completion show the operations."""
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> object:
    """The operations and their types, imported on first use."""
    import importlib

    if name in ("open", "Pricing"):
        return getattr(importlib.import_module("pricing.operations.library"), name)
    if name in _API:
        return getattr(importlib.import_module("pricing.api"), name)
    if name in _TYPES:
        return getattr(importlib.import_module(_TYPES[name]), name)
    raise AttributeError(f"module 'pricing' has no attribute {name!r}")
