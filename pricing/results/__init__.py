"""The typed results of :class:`pricing.Pricing`'s methods, each declared once.

Each result is a pydantic model (Decimal money, dates, enums); its JSON
(``model_dump(mode="json")``) is the ``--json`` document of PRODUCT.md key for key, what the
server answers and what a client validates back into the same model. One module per domain;
what several share (problems, their counts) is in :mod:`pricing.results.common`.
"""

from types import ModuleType


def __getattr__(name: str) -> ModuleType:
    """A domain's module, imported on first use (``results.deals``): an operation's return
    annotation may name its result type (resolved when a client validates an answer) without
    every command importing pydantic when the library object is made."""
    import importlib

    if name.startswith("_"):
        raise AttributeError(name)
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
