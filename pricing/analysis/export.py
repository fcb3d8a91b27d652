"""The deal history written out whole (``pricing deals export``): every stored line with what
matching decided of it, as Parquet or csv, for analysts to read with DuckDB, pandas, Spark or a
BI tool instead of the report.

The columns are the stored ones (:data:`pricing.lines.schema.DECLARED`, their meaning written
once there), less the history's own bookkeeping (deal numbering), with each amount and quantity
as an exact decimal (stored as whole millionths: ``DECIMAL(38,6)``, never a float), a request
as people name it (``R-000123``), the policy's verdict only where the report reads it (a sale),
and what the report decides of a line (:func:`pricing.analysis.report_judged.judged`, the same
view): its part (a sale, a return, a stock adjustment, or unmatched), whether it is out of
policy, judged at all, below the price its request approved, or at a contracted price. Written
by DuckDB straight from the stored columns: nothing goes through Python line by line.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pricing.analysis.report_judged import judged, read_cover
from pricing.errors import InputError
from pricing.lines import schema, segments
from pricing.lines.inmemory import duck
from pricing.storage.store import Store
from pricing.text import FORMULA_START

Format = Literal["parquet", "csv"]
FORMATS: dict[str, Format] = {".parquet": "parquet", ".csv": "csv"}
LEFT_OUT = ("deal_no", "deal_first")  # the history's bookkeeping: a number per deal, its first
# What the report decides of each line, after the stored columns: (name, SQL over the judged
# view, what it means).
DECIDED: tuple[tuple[str, str, str], ...] = (
    ("part", "CASE WHEN sale THEN 'sale' WHEN ret THEN 'return' WHEN adj THEN 'adjustment' "
             "ELSE 'unmatched' END",
     "sale (quantity 0 or more, matched), return (below 0, matched), adjustment (below 0 at "
     "price 0: stock, never judged) or unmatched (no list price on its date)"),
    ("out_of_policy", "oop",
     "a sale needing an approval that no approved request or contract covers, or below the "
     "hard floor"),
    ("judged", "sale AND NOT unjudged",
     "a sale with a policy in force on its date (a return, an adjustment or an unmatched line "
     "is never judged)"),
    ("below_approved_price", "below",
     "sold below the price its approved request or contract allows"),
    ("at_contract_price", "contracted", "a sale at or above a contracted price in its period"),
)  # fmt: skip
# Stored columns written otherwise than as stored: (SQL, what it holds). The policy's verdict
# is a sale's (a return or an adjustment is never judged: its stored level means nothing).
OF_A_SALE = "(null unless the line is a sale)"
WRITTEN: dict[str, tuple[str, str]] = {
    "request_id": (
        "CASE WHEN request_id IS NULL THEN NULL WHEN request_id < 1000000 "
        "THEN 'R-' || lpad(CAST(request_id AS VARCHAR), 6, '0') "
        "ELSE 'R-' || CAST(request_id AS VARCHAR) END",
        "the request the line was sold under (R-000123): from the file, or linked to a won "
        "request",
    ),
    "level": ("CASE WHEN sale THEN level END",
              f"the approval level the sale needed, or rejected {OF_A_SALE}"),
    "level_rank": ("CASE WHEN sale THEN level_rank END",
                   "that level's rank: 0 the first level, 1 the second, and so on; -1 "
                   f"rejected {OF_A_SALE}"),
    "below_floor": ("CASE WHEN sale THEN coalesce(below_floor, 0) = 1 END",
                    f"the net unit price is below the hard floor {OF_A_SALE}"),
}  # fmt: skip
_QUOTE = "'"


@dataclass(frozen=True)
class Exported:
    """A deals export written: where, how many lines, of which period, in which columns."""

    path: Path
    format: Format
    lines: int
    start: date | None
    end: date | None
    columns: tuple[str, ...]


def columns() -> list[tuple[str, str]]:
    """The export's columns with what each holds, in file order (the docs list them)."""
    stored = [
        (c.name, WRITTEN[c.name][1] if c.name in WRITTEN
         else c.description + (" (an exact decimal)" if c.micros else ""))
        for c in schema.DECLARED
        if c.name not in LEFT_OUT
    ]  # fmt: skip
    return [*stored, *((name, meaning) for name, _, meaning in DECIDED)]


def export_deals(
    db: Store, path: Path, *, start: date | None = None, end: date | None = None
) -> Exported:
    """Write the stored lines dated from ``start`` to ``end`` (both included; open when None)
    to ``path``, Parquet or csv by its suffix, in storage order. The file is written in a
    folder of this process's own beside it and moved into place whole: a file of that name is
    replaced only once the new one is complete, never written through (a link planted beside
    it is not followed), and never the store itself."""
    _not_the_store(db, path)
    format_ = FORMATS.get(path.suffix.lower())
    if format_ is None:
        raise InputError(f"-o {path}: write .parquet or .csv (the suffix says which)")
    stored = [c for c in schema.NAMES if c not in LEFT_OUT]
    chosen = [_written(c, csv=format_ == "csv") for c in stored]
    chosen += [f"{sql} AS {name}" for name, sql, _ in DECIDED]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=".pricing-export-", dir=path.parent.resolve()))
    except OSError as exc:
        raise InputError(f"{path}: cannot write the export ({exc.strerror})") from None
    try:
        with db.read() as conn:
            cover = read_cover(conn)
            # (the order of storage: DuckDB keeps the order of what it reads through a
            # projection where no ORDER BY is given, not through the joins with what may cover
            # a line)
            order = ["seq"] if cover is not None else []
            lines = segments.scan(conn, [*stored, *order], start=start, end=end)
        query = f"SELECT {', '.join(chosen)} FROM judged" + (" ORDER BY seq" if order else "")
        written = work / f"deals{path.suffix.lower()}"
        options = "FORMAT PARQUET, COMPRESSION ZSTD" if format_ == "parquet" else "FORMAT CSV"
        import duckdb

        con = duck(lines=lines, **({"cover": cover} if cover is not None else {}))
        try:
            con.execute(judged(cover is not None))
            con.execute(f"COPY ({query}) TO '{_quoted(written)}' ({options})")
        except duckdb.IOException as exc:  # the disk is full, say
            said = str(exc).splitlines()[0].removeprefix("IO Error: ")[:200]
            raise InputError(f"{path}: cannot write the export ({said})") from None
        finally:
            con.close()
        os.replace(written, path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write the export ({exc.strerror})") from None
    finally:
        shutil.rmtree(work, ignore_errors=True)
    names = tuple([*stored, *(name for name, _, _ in DECIDED)])
    return Exported(path, format_, lines.num_rows, start, end, names)


def _not_the_store(db: Store, path: Path) -> None:
    """Refuse to write over the SQLite file the store is (or its journal)."""
    url = db.engine.url
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        return
    store = Path(str(url.database)).resolve()
    journals = [Path(f"{store}{suffix}") for suffix in ("-wal", "-shm", "-journal")]
    if path.resolve() in (store, *journals):
        raise InputError(f"-o {path}: that is the database itself; write the export elsewhere")


def _written(name: str, *, csv: bool) -> str:
    """A stored column as written out: as :data:`WRITTEN` says, an amount or quantity (whole
    millionths) as an exact ``DECIMAL(38,6)``, else as stored; in a csv, text never a live
    formula (a leading ``'``, as every csv the product writes:
    :data:`pricing.text.FORMULA_START`)."""
    column = schema.BY_NAME[name]
    if name in WRITTEN:
        sql = WRITTEN[name][0]
    elif column.micros:
        sql = f"CAST(CAST({name} AS DECIMAL(38,0)) * 0.000001 AS DECIMAL(38,6))"
    else:
        sql = name
    if csv and column.kind == "string":
        starts = ", ".join(f"chr({ord(c)})" for c in FORMULA_START)
        quote = _QUOTE * 4  # (SQL's text of one quote)
        sql = f"CASE WHEN left({sql}, 1) IN ({starts}) THEN {quote} || {sql} ELSE {sql} END"
    return f"{sql} AS {name}"


def _quoted(path: Path) -> str:
    """A path as a SQL string literal's text (a quote doubled)."""
    return str(path).replace("'", "''")
