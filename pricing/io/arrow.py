"""The Arrow types the column code speaks in, named once for the type checker.

pyarrow-stubs make ``pa.Array`` and ``pa.ChunkedArray`` generic in their scalar type. A deal-line
column is one of a dozen types, chosen by name at run time (:mod:`pricing.lines.schema`), so
the functions that take or return "a column" use the aliases below; a function over one known
type names it (``pa.Int64Array``, ``pa.BooleanArray``, ``pa.DictionaryArray``...).

The aliases exist for the type checker only: import them under ``TYPE_CHECKING``. The functions
below wrap the few Arrow calls the stubs type wrongly or loosely, so that the fix (a checked
narrowing, or one commented ``type: ignore``) is written once. Importing this module does not
import pyarrow, so ``pricing --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, cast

if TYPE_CHECKING:
    from datetime import date

    import pyarrow as pa

    # One column, whatever its type (the scalar type is decided by the schema at run time).
    Array: TypeAlias = pa.Array[Any]
    # A column whole or in chunks (pandas hands over, and table columns are, chunked arrays).
    Column: TypeAlias = pa.Array[Any] | pa.ChunkedArray[Any]
    Chunked: TypeAlias = pa.ChunkedArray[Any]
    # A text column dictionary-encoded: integer indices into its distinct values.
    Dictionary: TypeAlias = pa.DictionaryArray[Any, Any]


def fill_null(column: Column, value: int | float | str | bool) -> Column:
    """``pc.fill_null`` with a Python fill value."""
    import pyarrow.compute as pc

    # The stubs declare fill_null as coalesce, whose arguments share one type; a Python value
    # is a documented fill value.
    filled: Column = pc.fill_null(column, value)  # type: ignore[type-var, assignment]
    return filled


def texts(column: Column) -> list[str]:
    """A text column that holds no nulls (a required column of the schema) as Python strings.
    The stubs type ``to_pylist`` as a list of optional values: the schema knows better."""
    return cast(list[str], column.to_pylist())


def dates(column: Column) -> list[date]:
    """A date column that holds no nulls as Python dates (see :func:`texts`)."""
    return cast(list["date"], column.to_pylist())


def dictionary_encode(values: Array) -> Dictionary:
    """``pc.dictionary_encode`` of one array: the stubs return a plain ``Array``, Arrow a
    ``DictionaryArray``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(values)
    assert isinstance(encoded, pa.DictionaryArray)
    return encoded
