"""Exchange rates (schema revision 0016): each import of a rates file, and the rates it added or
changed. Part of the store's metadata (:mod:`pricing.storage.store` loads this module).

A rate is kept as the exact text of its decimal (a rate has more places than money's
millionths: 1 IDR is 0.0000493 EUR) and its day as ISO text, so that both databases' drivers
return them as they were written (what the keyed audit digests). An import stores only the
rates it adds or changes; the rate of a (base, currency, day) is the newest import's.
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Integer, String, Table, Text

from pricing.storage.store import Timestamp, metadata

fx_imports = Table(
    "fx_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),  # the file's name, as given
    Column("sha256", String(64), nullable=False),
    Column("imported_at", Timestamp, nullable=False),
    Column("imported_by", String(200), nullable=False),
    Column("rates", Integer, nullable=False),  # in the file
    Column("added", Integer, nullable=False),
    Column("changed", Integer, nullable=False),
    Column("first_day", String(10), nullable=False),
    Column("last_day", String(10), nullable=False),
)

fx_rates = Table(
    "fx_rates",
    metadata,
    Column("import_id", Integer, ForeignKey("fx_imports.id"), primary_key=True),
    Column("position", Integer, primary_key=True),  # in the import: the order it is digested in
    Column("base", String(3), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("day", String(10), nullable=False),  # YYYY-MM-DD
    Column("rate", String(40), nullable=False),  # units of currency for one of base
    Index("ix_fx_rates_lookup", "base", "currency", "day"),
)
