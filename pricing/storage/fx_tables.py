"""Exchange rates (schema revision 0016): each import of a rates file, and the rates it added or
changed. Part of the store's metadata (:mod:`pricing.storage.store` loads this module).

An import keeps, per base and currency, the series of the days it added or changed: a JSON
object of day (YYYY-MM-DD) to the rate's exact decimal text (a rate has more places than
money's millionths: 1 IDR is 0.0000493 EUR). The ECB's whole history is 41 rows, read and
written at once, and digested by the keyed audit as such; the rate of a (base, currency, day)
is the newest import's.
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

fx_series = Table(
    "fx_series",
    metadata,
    Column("import_id", Integer, ForeignKey("fx_imports.id"), primary_key=True),
    Column("base", String(3), primary_key=True),
    Column("currency", String(3), primary_key=True),  # units of currency for one of base
    Column("position", Integer, nullable=False),  # in the import: the order it is digested in
    Column("first_day", String(10), nullable=False),
    Column("last_day", String(10), nullable=False),
    Column("days", Integer, nullable=False),
    Column("rates", Text, nullable=False),  # JSON: {"YYYY-MM-DD": "1.1172", ...}, by day
    Index("ix_fx_series_pair", "base", "currency"),
)
