"""How a price book file is to be read: what the caller asks for, each with a default."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Progress = Callable[[int, int], None]


@dataclass
class ReadOptions:
    """How to read a price book file; every field has the default a marketer expects."""

    sheet: str | None = None
    columns: Mapping[str, str] = field(default_factory=dict)
    currency: str = "USD"
    # ``currency`` was asked for (``--currency``), not a default: a book that names another
    # currency in its price header or cells is then an error, not read in that one.
    currency_given: bool = False
    # The book's newest edition: its number and its currencies (that of most items first);
    # None for a first edition. A file naming no currency is then in that edition's currency
    # (and says so), and one naming another currency is an error unless ``currency_given``.
    previous: tuple[int, tuple[str, ...]] | None = None
    # Leave out the rows with errors of their own (a zero price, a duplicate SKU, ...) and
    # list them (``PriceBookFile.skipped``), instead of refusing the file.
    skip_invalid: bool = False
