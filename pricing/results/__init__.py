"""The typed results of :class:`pricing.Pricing`'s methods, each declared once.

Each result is a pydantic model (Decimal money, dates, enums); its JSON
(``model_dump(mode="json")``) is the ``--json`` document of PRODUCT.md key for key, what the
server answers and what a client validates back into the same model. One module per domain;
what several share (problems, their counts) is in :mod:`pricing.results.common`.
"""


def __getattr__(name: str) -> object:
    """A domain's results (``results.pricebook``), imported on first use: an operations module
    names its result types through this package, so that loading the library object (every
    command does) loads neither pydantic nor the models of commands that do not run."""
    import importlib

    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{name}":
            raise
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
