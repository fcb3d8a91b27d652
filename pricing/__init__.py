"""pricing: standard list pricing kept apart from deal-level special pricing.

The package is a library first. :func:`open` gives the one object every front end stands on,
:class:`Pricing`: the ``pricing`` CLI calls one of its methods per command, the team server
routes each call to the same method, and a script uses it the same way::

    import pricing

    with pricing.open("sqlite:///shop.db", user="dana") as p:  # or open(server_url, token=...)
        p.import_price_book("book.xlsx", effective="2026-01-01")
        rep = p.report(by=["rep"])
        rep.totals.net_revenue  # a Decimal

Each method answers with a typed result (:mod:`pricing.results`: pydantic models whose
``model_dump(mode="json")`` is the command's ``--json`` document); errors are the
:class:`PricingError` tree of :mod:`pricing.errors`. ``docs/library.md`` lists every method.
The object and its results are loaded on first use, so that importing ``pricing`` (and
``pricing --help``) stays fast.
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
    from pricing.operations.library import Pricing, open

__version__ = "0.1.0"

# What is loaded on first use, by the module that defines it.
_TYPES = {"Pricing": "pricing.operations.library", "open": "pricing.operations.library"}

__all__ = [
    "InputError",
    "NotFoundError",
    "Pricing",
    "PricingError",
    "Refused",
    "SchemaError",
    "StoreError",
    "__version__",
    "open",
]


def __dir__() -> list[str]:
    """The exported names, so that ``help(pricing)`` and completion show them."""
    return sorted({*globals(), *__all__})


def __getattr__(name: str) -> object:
    """The library object and :func:`open`, imported on first use."""
    import importlib

    if name in _TYPES:
        return getattr(importlib.import_module(_TYPES[name]), name)
    raise AttributeError(f"module 'pricing' has no attribute {name!r}")
