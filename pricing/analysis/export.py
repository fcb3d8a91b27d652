"""The deal history written out whole (``pricing deals export``): every stored line with what
matching decided of it, as Parquet or csv, for analysts to read with DuckDB, pandas, Spark or a
BI tool instead of the report.

The columns are the stored ones (:data:`pricing.lines.schema.DECLARED`, their meaning written
once there), less the history's own bookkeeping (deal numbering), with each amount and quantity
as an exact decimal (stored as whole millionths: ``DECIMAL(38,6)``, never a float), and what the
report decides of a line (:func:`pricing.analysis.report_judged.judged`, the same view): its
part (a sale, a return, a stock adjustment, or unmatched), whether it is out of policy, judged
at all, below the price its request approved, or at a contracted price. Written by DuckDB
straight from the stored columns: nothing goes through Python line by line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Literal

from pricing.analysis.report_judged import judged, read_cover
from pricing.errors import InputError
from pricing.lines import schema, segments
from pricing.lines.inmemory import duck
from pricing.storage.store import Store

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
    ("judged", "NOT unjudged", "false for a sale with no policy in force on its date"),
    ("below_approved_price", "below",
     "sold below the price its approved request or contract allows"),
    ("at_contract_price", "contracted", "a sale at or above a contracted price in its period"),
)  # fmt: skip


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
        (c.name, c.description + (" (exact decimal)" if c.micros else ""))
        for c in schema.DECLARED
        if c.name not in LEFT_OUT
    ]
    return [*stored, *((name, meaning) for name, _, meaning in DECIDED)]


def export_deals(
    db: Store, path: Path, *, start: date | None = None, end: date | None = None
) -> Exported:
    """Write the stored lines dated from ``start`` to ``end`` (both included; open when None)
    to ``path``, Parquet or csv by its suffix, in storage order; an existing file is replaced."""
    format_ = FORMATS.get(path.suffix.lower())
    if format_ is None:
        raise InputError(f"-o {path}: write .parquet or .csv", field="output")
    stored = [c for c in schema.NAMES if c not in LEFT_OUT]
    with db.read() as conn:
        cover = read_cover(conn)
        # (the order of storage: DuckDB keeps the order of what it reads through a projection
        # where no ORDER BY is given, not through the joins with what may cover a line)
        order = ["seq"] if cover is not None else []
        lines = segments.scan(conn, [*stored, *order], start=start, end=end)
    con = duck(lines=lines, **({"cover": cover} if cover is not None else {}))
    try:
        con.execute(judged(cover is not None))
        chosen = [_exact(c) for c in stored] + [f"{sql} AS {name}" for name, sql, _ in DECIDED]
        query = f"SELECT {', '.join(chosen)} FROM judged" + (" ORDER BY seq" if order else "")
        options = "FORMAT PARQUET, COMPRESSION ZSTD" if format_ == "parquet" else "FORMAT CSV"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            con.execute(f"COPY ({query}) TO '{_quoted(path)}' ({options})")
        except OSError as exc:
            raise InputError(f"{path}: cannot write the export ({exc.strerror})") from None
        except Exception as exc:  # DuckDB's IOException: the folder or file is not writable
            if type(exc).__name__ != "IOException":
                raise
            raise InputError(f"{path}: cannot write the export ({exc})") from None
    finally:
        con.close()
    names = tuple([*stored, *(name for name, _, _ in DECIDED)])
    return Exported(path, format_, lines.num_rows, start, end, names)


def _exact(name: str) -> str:
    """A stored column as written out: an amount or quantity (whole millionths) as an exact
    ``DECIMAL(38,6)``, any other as stored."""
    if schema.BY_NAME[name].micros:
        return f"CAST(CAST({name} AS DECIMAL(38,0)) * 0.000001 AS DECIMAL(38,6)) AS {name}"
    return name


def _quoted(path: Path) -> str:
    """A path as a SQL string literal's text (a quote doubled)."""
    return str(path).replace("'", "''")
