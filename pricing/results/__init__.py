"""The typed results of :class:`pricing.Pricing`'s methods, each declared once.

Each result is a pydantic model (Decimal money, dates, enums); its JSON
(``model_dump(mode="json")``) is the ``--json`` document of PRODUCT.md key for key, what the
server answers and what a client validates back into the same model. One module per domain;
what several share (problems, their counts) is in :mod:`pricing.results.common`.
"""
