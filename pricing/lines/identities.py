"""Each deal line's identity, so that importing the same lines twice does not double them: its
line id, else its deal id and position in the deal, else (a file with no ids) its content and
how many identical lines came before it. Lines of one file are never "already present" because
of each other: a key given twice within the file is an error naming its lines.
"""

from __future__ import annotations

from concurrent.futures import Future
from typing import TYPE_CHECKING, cast

from pricing.io.arrow import fill_null, texts
from pricing.io.headers import squash
from pricing.io.perf import in_background
from pricing.io.sheets import normalise_header
from pricing.lines.headers import LINE_IN_DEAL
from pricing.problems import Problem

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    import pyarrow as pa

    from pricing.io.arrow import Array, Column
    from pricing.lines.cells import Cells, Mask

    # deal ids, line keys, each line its deal's first, deal numbers, a line key given before
    Keys = tuple[Array, Array, Mask, npt.NDArray[np.int64], Mask]


def start_keys(
    cells: Cells, text: dict[str, Array], blank: dict[str, Mask], keep: Mask
) -> Future[Keys] | None:
    """Ids become keys on another thread while the values are converted (Arrow and numpy
    release the GIL): a million-line file's keys take as long as its dates and amounts."""
    import pyarrow as pa

    ids: dict[str, Array] = {
        name: text[name] if keep.all() else text[name].filter(pa.array(keep))
        for name in ("deal_id", "line_id")
        if name in text and not (blank[name] & keep).any()
    }
    in_deal = squash(normalise_header(cells.headers.get("line_id"))) in LINE_IN_DEAL
    return in_background(_id_keys, ids, in_deal) if ids else None


def repeated_ids(cells: Cells, keys: Keys, text: dict[str, Array], keep: Mask) -> None:
    """An error for line ids that repeat within the file when no deal id says whose line
    each is, or a deal's line number given twice: the first few, with their lines."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    _, line_key, _, _, repeated = keys
    rows = np.flatnonzero(keep)  # the file's row of each line read
    shown = []
    for key in dict.fromkeys(texts(line_key.filter(repeated).slice(0, 200))):
        found = pc.equal(line_key, pa.scalar(key, pa.string()))
        at = np.flatnonzero(found.to_numpy(zero_copy_only=False))
        lines = [str(cells.first_line + int(rows[i])) for i in at[:4]]
        said = ", ".join(lines[:-1]) + f" and {lines[-1]}" + (", …" if len(at) > 4 else "")
        value = text["line_id"][int(rows[at[0]])].as_py()
        if str(key).startswith("N:"):
            deal = text["deal_id"][int(rows[at[0]])].as_py()
            shown.append(f"{cells.headers['deal_id']} {deal} line {value} is on lines {said}")
        else:
            shown.append(f"{value} is on lines {said}")
        if len(shown) == 3:
            break
    first = int(rows[int(np.flatnonzero(repeated)[0])])
    count = int(repeated.sum())
    if str(line_key[0].as_py()).startswith("N:"):
        message = (
            f"{count:,} line(s) repeat a line of their deal ({'; '.join(shown)}): each "
            "line of a deal is given once; fix the export (a line given twice?) and "
            "import again"
        )
    else:
        message = (
            f"the line ids ({cells.headers['line_id']}) repeat within the file "
            f"({'; '.join(shown)}): a number that repeats is a line's number within its "
            + (
                f"deal, and the deal id ({cells.headers['deal_id']}) is blank on some "
                "lines, so it cannot say whose; fill it in and import again"
                if "deal_id" in text
                else "deal, and no deal id column says whose; name it with --column "
                "deal_id=HEADER (the order or invoice number) and import again"
            )
        )
    cells.found.append(Problem("error", message, **cells.where(first, "line_id")))


def with_keys(lines: pa.Table, keyed: Keys | None, fields: set[str]) -> pa.Table:
    """The lines with their deal ids, line keys, whether each is its deal's first line in
    this file, and the deal's number within this file."""
    import numpy as np
    import pyarrow as pa

    if keyed is not None:
        deal_id, line_key, first, codes, _ = keyed
    else:  # no ids: each line is its own deal, known by its content
        deal_id = line_key = _content_keys(lines, fields)
        first, codes = np.ones(len(line_key), dtype=bool), np.arange(len(line_key))
    return (
        lines.append_column("deal_id", deal_id)
        .append_column("line_key", line_key)
        .append_column("deal_first", pa.array(first))
        .append_column("deal_code", pa.array(codes))
    )


def _id_keys(ids: dict[str, Array], in_deal: bool = False) -> Keys:
    """Deal ids and line keys that make a re-import of the same lines a no-op, whether each
    line is its deal's first in the file, a number per deal (the same for its lines), and
    which lines repeat a key given on an earlier line of the file (an error: lines of one file
    are never "already present" because of each other).

    A line id unique in the file is the line's identity (``L:``, as it always was); a line's
    number within its deal (``in_deal``: a header like Line No or ORDERLINENUMBER), or a line
    id that repeats in the file, is one together with the deal id (``N:``: the deal id's
    length, so that no two pairs run together alike, the deal id and the number). Without
    line ids: the deal id and the line's position in its deal (``D:``)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    deal, line = ids.get("deal_id"), ids.get("line_id")
    if line is not None:
        repeated: Mask | None = None
        if deal is None or not in_deal:
            line_position, line_codes = positions(line)
            repeated = line_position > 1
        if deal is not None and (repeated is None or repeated.any()):
            size = pc.cast(pc.utf8_length(cast("pa.StringArray", deal)), pa.string())
            # The stubs want all scalars or all arrays; Arrow broadcasts the scalars (and below).
            key: Array = pc.binary_join_element_wise("N:", size, ":", deal, "#", line, "")  # type: ignore[call-overload]
            position, codes = positions(deal)
            return deal, key, position == 1, codes, positions(key)[0] > 1
        assert repeated is not None
        key = pc.binary_join_element_wise("L:", line, "")  # type: ignore[call-overload]
        if deal is None:  # each line its own deal, numbered as its id first comes
            return key, key, line_position == 1, line_codes, repeated
        position, codes = positions(deal)
        return deal, key, position == 1, codes, repeated
    assert deal is not None  # the reader requires a deal id or a line id
    position, codes = positions(deal)
    numbers = pc.cast(pa.array(position), pa.string())
    key = pc.binary_join_element_wise("D:", deal, "#", numbers, "")  # type: ignore[call-overload]
    return deal, key, position == 1, codes, np.zeros(len(position), dtype=bool)


def _content_keys(lines: pa.Table, fields: set[str]) -> Array:
    """Keys of lines in a file without ids (each line its own deal): a hash of its content
    and how many identical lines came before it. Made with pandas exactly as when the store
    first kept such keys, so that re-importing an old file still finds its lines: a line's
    hash depends on its own values only, so the lines are hashed a slice at a time (the text
    of all their values at once would take gigabytes), and the keys are written by Arrow."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    def nullable(kind: pa.DataType) -> pd.api.extensions.ExtensionDtype | None:
        return pd.Int64Dtype() if kind == pa.int64() else None

    def hashed(part: pa.Table) -> npt.NDArray[np.uint64]:
        def integers(name: str, field_name: str) -> pd.Series[pd.Int64Dtype] | None:
            if field_name not in fields:
                return None
            column: pd.Series[pd.Int64Dtype] = part[name].to_pandas(types_mapper=nullable)
            return column

        def texts(name: str) -> pd.Series[str] | None:
            return part[name].to_pandas().astype("str") if name in fields else None

        frame = pd.DataFrame(
            {
                "date": part["date"].to_numpy().astype("datetime64[ns]"),
                "sku_key": part["sku_key"].to_pandas().astype("str"),
                "qty": integers("qty", "qty"),
                "amount": integers("amount", "amount"),
                "unit_price": integers("unit_price", "unit_price"),
                "discount_pct": integers("discount_pct", "discount"),
                "customer": texts("customer"),
                "rep": texts("rep"),
            }
        )
        found = pd.util.hash_pandas_object(frame.astype(str), index=False)
        return np.asarray(found, dtype=np.uint64)

    slices = range(0, lines.num_rows, _KEY_SLICE)
    content = np.concatenate([hashed(lines.slice(start, _KEY_SLICE)) for start in slices] or [np.zeros(0, np.uint64)])  # fmt: skip
    repeat = pc.cast(pa.array(_occurrences(content)), pa.string())
    hashes = pc.cast(pa.array(content), pa.string())
    del content
    key: Array = pc.binary_join_element_wise("H:", hashes, "#", repeat, "")
    return key


_KEY_SLICE = 100_000  # lines hashed at a time


def _occurrences(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
    """Each value's occurrence number, counting from 1 in order: by a stable sort of the
    numbers (grouping them in a hash table takes several times the memory)."""
    import numpy as np

    order = np.argsort(values, kind="stable")
    ordered = values[order]
    where = np.arange(len(values))
    new = np.empty(len(values), dtype=bool)
    new[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=new[1:])
    starts = np.maximum.accumulate(np.where(new, where, 0))
    found = np.empty(len(values), dtype=np.int64)
    found[order] = where - starts + 1
    return found


def positions(
    values: Column,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each value's occurrence number, counting from 1 in file order (line 1, 2, … of a deal),
    and a number per distinct value, in the order the values first come. By a stable sort of
    the values (Arrow's), as fast as hashing them for ids (each its own, or a deal's lines
    together) and a fraction of the memory: a hash table of a million distinct ids takes
    150 MB."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from pricing.lines.segments import whole  # loaded by then (preload)

    column = whole(values)
    n = len(column)
    where = np.arange(n)
    if n > 1 and not column.null_count and _ascending(column):
        # Sorted already (an export in order of its ids): the sort's order is the file's.
        starts = pc.not_equal(column.slice(1), column.slice(0, n - 1)).to_numpy(
            zero_copy_only=False
        )
        new = np.concatenate([[True], starts])
        return where - np.maximum.accumulate(np.where(new, where, 0)) + 1, np.cumsum(new) - 1
    order = pc.array_sort_indices(column).to_numpy()
    new = np.ones(n, dtype=bool)  # where a value begins, in sorted order
    if n > 1:
        ordered = column.take(pa.array(order))
        differs = pc.not_equal(ordered.slice(1), ordered.slice(0, n - 1))
        new[1:] = fill_null(differs, True).to_numpy(zero_copy_only=False)
        del ordered, differs
    firsts = order[new]  # each value's first line (the sort is stable)
    rank = np.empty(len(firsts), dtype=np.int64)
    rank[np.argsort(firsts, kind="stable")] = np.arange(len(firsts))
    codes = np.empty(n, dtype=np.int64)
    codes[order] = rank[np.cumsum(new) - 1]
    position = np.empty(n, dtype=np.int64)
    position[order] = where - np.maximum.accumulate(np.where(new, where, 0)) + 1
    return position, codes


def _ascending(column: Array) -> bool:
    """Whether a column (no nulls) is in ascending order (one comparison of each value with the
    next)."""
    import pyarrow.compute as pc

    n = len(column)
    return bool(pc.all(pc.less_equal(column.slice(0, n - 1), column.slice(1))).as_py())
