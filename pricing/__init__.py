"""pricing: standard list pricing kept apart from deal-level special pricing.

The package is a library first: the operations below are what every front end calls (the
``pricing`` CLI today, a server tomorrow); they never print, never exit and never import
click. Each is a typed function over an open store (:func:`open_store`)::

    import pricing

    db = pricing.open_store("sqlite:///pricing.db", create=True)
    result = pricing.import_price_book(db, Path("book.xlsx"), effective_from=date.today(),
                                       user="mia")

The operations live in :mod:`pricing.api` and are loaded on first use, so that importing
``pricing`` (and ``pricing --help``) stays fast.
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
    from pricing.api import (
        BookView,
        DatabaseStatus,
        EditionDiff,
        EditionListing,
        Export,
        ItemView,
        SchemaUpgrade,
        Submission,
        approve_request,
        build_report,
        change_request,
        check_policy,
        database_status,
        diff_editions,
        export_price_book,
        import_deals,
        import_price_book,
        list_editions,
        list_requests,
        load_policy,
        open_store,
        quote,
        read_deals,
        read_request_lines,
        record_outcome,
        reject_request,
        show_item,
        show_policy,
        show_price_book,
        show_request,
        simulate_policy,
        stored_counts,
        submit_request,
        upgrade_database,
        verify_audit,
    )
    from pricing.problems import Problem

__version__ = "0.1.0"

_API = frozenset(
    {
        "BookView",
        "DatabaseStatus",
        "EditionDiff",
        "EditionListing",
        "Export",
        "ItemView",
        "SchemaUpgrade",
        "Submission",
        "approve_request",
        "build_report",
        "change_request",
        "check_policy",
        "database_status",
        "diff_editions",
        "export_price_book",
        "import_deals",
        "import_price_book",
        "list_editions",
        "list_requests",
        "load_policy",
        "open_store",
        "quote",
        "read_deals",
        "read_request_lines",
        "record_outcome",
        "reject_request",
        "show_item",
        "show_policy",
        "show_price_book",
        "show_request",
        "simulate_policy",
        "stored_counts",
        "submit_request",
        "upgrade_database",
        "verify_audit",
    }
)

__all__ = [
    "BookView",
    "DatabaseStatus",
    "EditionDiff",
    "EditionListing",
    "Export",
    "InputError",
    "ItemView",
    "NotFoundError",
    "PricingError",
    "Problem",
    "Refused",
    "SchemaError",
    "SchemaUpgrade",
    "StoreError",
    "Submission",
    "__version__",
    "approve_request",
    "build_report",
    "change_request",
    "check_policy",
    "database_status",
    "diff_editions",
    "export_price_book",
    "import_deals",
    "import_price_book",
    "list_editions",
    "list_requests",
    "load_policy",
    "open_store",
    "quote",
    "read_deals",
    "read_request_lines",
    "record_outcome",
    "reject_request",
    "show_item",
    "show_policy",
    "show_price_book",
    "show_request",
    "simulate_policy",
    "stored_counts",
    "submit_request",
    "upgrade_database",
    "verify_audit",
]


def __getattr__(name: str) -> object:
    """The operations and their results, imported from :mod:`pricing.api` on first use."""
    if name in _API:
        from pricing import api

        return getattr(api, name)
    if name == "Problem":
        from pricing.problems import Problem

        return Problem
    raise AttributeError(f"module 'pricing' has no attribute {name!r}")
