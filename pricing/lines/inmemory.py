"""The process's one in-memory DuckDB, a cursor of it for each report, simulation and import
comparison (:func:`duck`)."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa


def duck(**tables: pa.Table) -> duckdb.DuckDBPyConnection:
    """A connection to an in-memory DuckDB with the given Arrow tables registered by name.

    Each is a cursor of the process's one in-memory database, not a database of its own: a new
    database costs 12 ms and the start of its threads, more than a small report's queries. What
    a cursor registers, and its views (TEMP: the callers' ``judged``), only it sees, so reports
    on several threads of a server never meet; nothing is made in the shared catalog. A child
    process (fork) makes a database of its own: the parent's threads are not in it."""
    import duckdb

    global _DUCK
    with _DUCK_LOCK:
        if _DUCK is None or _DUCK[0] != os.getpid():
            # (memory its queries free goes back to the system above 16 MB, as it did when
            # each report's database closed: 12 reports over 300,000 lines peaked at 856 MB
            # with DuckDB's default of 128 MB, 810 MB so, 816 MB with a database each)
            _DUCK = (os.getpid(), duckdb.connect(config={"allocator_flush_threshold": "16MB"}))
        con = _DUCK[1].cursor()
    for name, table in tables.items():
        con.register(name, table)
    return con


_DUCK: tuple[int, duckdb.DuckDBPyConnection] | None = None  # (the process that made it, it)
_DUCK_LOCK = threading.Lock()
