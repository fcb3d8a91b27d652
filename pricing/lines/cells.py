"""The cells of a deals file as the reader checks them: where a value is (file, line, cell), a
problem for each bad one, and the few facts about an Arrow text column read straight from its
buffers (blank, holding a NUL byte, too long) without a copy.

Every step of :mod:`pricing.lines.reader` (numbers, dates, identities, statuses) reports
through one :class:`Cells`, so that a problem reads the same whichever step found it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

from pricing.io.sheets import Sheet, column_letter
from pricing.limits import FIELD_CHARS
from pricing.problems import Problem, Problems, Severity, kind_of

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from pricing.io.arrow import Array

    Mask = npt.NDArray[np.bool_]  # one flag per row of the file
    Micros = npt.NDArray[np.int64]  # whole millionths per row
    Ints = npt.NDArray[np.int64]
    Days = npt.NDArray[np.datetime64]
    Numbers = tuple[Micros, Mask]  # values, and where they are missing

NUL_MESSAGE = (
    "holds a NUL byte (\\0), which no value a person types has (a damaged export?); remove it "
    "and import again"
)


class Where(TypedDict, total=False):
    file: str
    sheet: str | None
    line: int
    cell: str


class Cells:
    """Where the mapped columns of a file are, and the problems and notes found in them. Masks
    are numpy booleans over the file's rows; row ``index`` is on line ``first_line + index``."""

    def __init__(
        self,
        name: str,
        head: Sheet,
        is_csv: bool,
        mapping: dict[str, int],
        first_line: int,
        found: Problems,
    ) -> None:
        self.name, self.sheet, self.is_csv = name, head.name, is_csv
        self.mapping = mapping
        self.first_line = first_line
        self.found = found
        self.notes: list[str] = []
        header = head.rows[first_line - 2] if first_line - 2 < len(head.rows) else []
        # Each field's header as written (its column letter when the header row is shorter).
        self.headers = {
            f: (header[c] if c < len(header) else column_letter(c)) for f, c in mapping.items()
        }

    def where(self, index: int, field_name: str) -> Where:
        line = self.first_line + index
        col = column_letter(self.mapping[field_name])
        if self.is_csv:
            return {"file": self.name, "line": line, "cell": f"{col}{line}"}
        return {"file": self.name, "sheet": self.sheet, "cell": f"{col}{line}"}

    def bad(
        self,
        mask: Mask,
        values: Array,
        field_name: str,
        message: str,
        severity: Severity = "error",
    ) -> None:
        """A problem for each line of ``mask``: counted, and the first of its kind listed."""
        import numpy as np

        count = int(np.count_nonzero(mask))
        if not count:
            return
        for index in np.flatnonzero(mask)[: self.found.room(severity, kind_of(message), count)]:
            where = self.where(int(index), field_name)
            value = values[int(index)].as_py()
            self.found.append(Problem(severity, message, value=str(value), **where))

    def nul_bytes(self, raw: dict[str, Array]) -> None:
        """An error for each cell holding a NUL byte (no database keeps one as text)."""
        for name, values in raw.items():
            nul = with_nul(values)
            if nul is not None:
                self.bad(nul, values, name, NUL_MESSAGE)


def stripped(values: Array) -> Array:
    """An Arrow text column without the whitespace around its values: the column itself when
    none has any (its bytes all printable ASCII: the usual export's ids, dates, SKUs and
    numbers; no copy, one vectorised pass), else Arrow's trimmed copy."""
    import pyarrow.compute as pc

    content = _content(values)
    if content is not None and content.min() > 0x20 and content.max() < 0x7F:
        return values
    trimmed: Array = pc.utf8_trim_whitespace(values)
    return trimmed


def nulled(values: Array, blank: Mask) -> Array:
    """An Arrow text column (no nulls) with its ``blank`` values null: the same buffers under a
    validity bitmap (no copy of the text), or the column itself when none is blank."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not blank.any():
        return values
    if values.offset == 0 and values.null_count == 0:
        validity = pa.array(np.logical_not(blank)).buffers()[1]
        _, ends, data = values.buffers()
        return pa.Array.from_buffers(pa.string(), len(values), [validity, ends, data])
    chosen: Array = pc.if_else(pa.array(blank), pa.scalar(None, pa.string()), values)
    return chosen


def holds_any(values: Array, marks: bytes) -> bool:
    """Whether any value of an Arrow text column holds one of the (ASCII) ``marks``: a
    vectorised pass over its bytes for each."""
    content = _content(values)
    return content is not None and any(bool((content == mark).any()) for mark in marks)


def _content(values: Array) -> npt.NDArray[np.uint8] | None:
    """The bytes of an Arrow text column's values (no copy), or None when it has none."""
    import numpy as np

    ends = offsets(values)
    data = values.buffers()[2]
    start, end = int(ends[0]), int(ends[-1])
    if data is None or end == start:
        return None
    # pa.Buffer has the buffer protocol (``__buffer__``), which numpy's stubs see only on 3.12.
    content: npt.NDArray[np.uint8] = np.frombuffer(data, np.uint8, end - start, start)  # type: ignore[call-overload]
    return content


def with_nul(values: Array) -> Mask | None:
    """Which values of an Arrow text column hold a NUL byte, or None when none does (the usual
    file: the smallest byte of the column's data, one vectorised pass and no copy)."""
    import pyarrow.compute as pc

    content = _content(values)
    if content is None or content.min() > 0:
        return None
    found: Mask = pc.match_substring(values, "\x00").to_numpy(zero_copy_only=False)
    return found


def too_long(values: Array) -> tuple[int, int] | None:
    """The first value of an Arrow text column longer than limits.FIELD_CHARS characters (its
    index and length), or None: from the offsets first (bytes are at least as many as
    characters), so that a column of short values costs one pass over its offsets."""
    import numpy as np
    import pyarrow.compute as pc

    limit = FIELD_CHARS.value
    sizes = np.diff(offsets(values))
    if not len(sizes) or int(sizes.max()) <= limit:
        return None
    chars = pc.utf8_length(cast("pa.StringArray", values)).to_numpy(zero_copy_only=False)
    over = np.flatnonzero(chars > limit)
    return (int(over[0]), int(chars[over[0]])) if len(over) else None


def offsets(values: Array) -> npt.NDArray[np.int32]:
    """Where each value of an Arrow text column starts in its data, and where the last ends."""
    import numpy as np

    data = values.buffers()[1]  # a text array's offsets; never None
    assert data is not None
    # pa.Buffer has the buffer protocol (``__buffer__``), which numpy's stubs see only on 3.12.
    found: npt.NDArray[np.int32] = np.frombuffer(data, np.int32, len(values) + 1, values.offset * 4)  # type: ignore[call-overload]
    return found


def spread(rows: npt.NDArray[np.intp], chosen: Mask, size: int) -> Mask:
    """A mask over ``size`` rows, set at ``rows[chosen]``."""
    import numpy as np

    mask = np.zeros(size, dtype=bool)
    mask[rows[chosen]] = True
    return mask


def empty(values: Array) -> Mask:
    """Which values of an Arrow text column (no nulls) are empty, as a numpy mask: where the
    offsets of consecutive values are equal."""
    ends = offsets(values)
    empty: Mask = ends[1:] == ends[:-1]
    return empty
