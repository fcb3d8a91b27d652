"""The date column of a deals file: ISO dates in one pass, else Excel serial numbers and
d/m/yyyy or m/d/yyyy, which of the two decided from the column's own values (never a guess),
or read with ``--date-format``; and a warning for lines dated after today.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, cast

from pricing.errors import InputError
from pricing.io.arrow import fill_null
from pricing.lines.cells import nulled
from pricing.problems import Problem

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    import pyarrow as pa

    from pricing.io.arrow import Array
    from pricing.lines.cells import Cells, Days, Ints, Mask

EXCEL_EPOCH = "1899-12-30"


def check_date_format(date_format: str) -> None:
    """Refuse a ``--date-format`` that cannot read a date: an unknown directive (``%Q``), or
    one without the year, month and day (``%d/%m``, ``dd/mm/yyyy``)."""
    from datetime import datetime

    sample = date(2025, 1, 31)
    hint = "write it with the directives of strftime, e.g. %d/%m/%Y or %m/%d/%Y"
    try:
        back = datetime.strptime(sample.strftime(date_format), date_format).date()
    except ValueError as exc:
        raise InputError(f" {date_format!r}: {exc}; {hint}", field="date_format") from None
    if back != sample:
        raise InputError(
            f" {date_format!r} does not name the year, month and day; {hint}", field="date_format"
        )


def read_dates(
    cells: Cells, values: Array, keep: Mask, blank: Mask, date_format: str | None
) -> Days:
    """Days (numpy datetime64[D], NaT where missing or wrong)."""
    present = keep & ~blank
    if (keep & blank).any():
        cells.bad(keep & blank, values, "date", "the date is missing")
    if date_format is None:
        iso = _iso_days(values, present)
        if iso is not None:  # the usual export: plain ISO dates only
            return iso
    import numpy as np
    import pandas as pd  # dates in other formats: its parsers

    undecided: Mask | None = None  # dates whose day and month may be swapped
    if date_format:
        series = pd.Series(values.to_pylist(), dtype="str")
        text = series if " " in date_format else series.str.replace(r" .*$", "", regex=True)
        try:
            parsed = pd.to_datetime(text, format=date_format, errors="coerce")
        except ValueError as exc:
            raise InputError(f" {date_format!r}: {exc}", field="date_format") from None
        cells.notes.append(f"dates read with --date-format {date_format}")
        days: Days = parsed.dt.normalize().to_numpy().astype("datetime64[D]")
    else:
        days, undecided = _guess_dates(cells, values, present)
    bad = present & np.isnat(days)
    if undecided is not None:
        bad &= ~undecided
    if bad.any():
        hint = (
            f"is not a date in the format {date_format}"
            if date_format
            else "is not a date (use ISO 2026-01-31, m/d/yyyy, d.m.yyyy or --date-format)"
        )
        cells.bad(bad, values, "date", f"the date {hint}")
    return days


def future(cells: Cells, days: Days, keep: Mask, values: Array) -> None:
    """A warning for lines dated after today: a deal is a sale closed already, so such a
    date is more likely a day and month read the wrong way round, or a planned order.
    One warning says how many and where the first of them are."""
    import numpy as np

    later = keep & (days > np.datetime64(date.today(), "D"))  # NaT is never later
    rows = np.flatnonzero(later)
    if not len(rows):
        return
    first = ", ".join(str(cells.first_line + int(i)) for i in rows[:5])
    more = ", …" if len(rows) > 5 else ""
    cells.found.append(
        Problem(
            "warning",
            f"{len(rows):,} line(s) dated after today ({date.today()}), at line(s) "
            f"{first}{more}: deals are sales closed already; check the date column (day "
            "and month the wrong way round? give --date-format) or leave those lines out",
            value=values[int(rows[0])].as_py(),
            **cells.where(int(rows[0]), "date"),
        )
    )


def _guess_dates(cells: Cells, values: Array, present: Mask) -> tuple[Days, Mask | None]:
    """ISO dates mixed with others, Excel serial numbers, m/d/yyyy or d.m.yyyy (which of the
    two decided from the column's own values): days, NaT where not read. Worked out with
    Arrow's text functions and numbers, never a Python object per line (a million lines of
    dates as Python strings, split into their parts, take hundreds of MB). With the days, the
    dates whose day and month may be swapped (None: none), an error said once already."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    result: Days = np.full(len(values), np.datetime64("NaT"), "datetime64[D]")
    day_part = pc.replace_substring_regex(values, r"[ T].*$", "")

    def matching(pattern: str) -> Mask:
        found: Mask = fill_null(pc.match_substring_regex(day_part, pattern), False).to_numpy(
            zero_copy_only=False
        )
        return found

    def numbers(column: Array, chosen: Mask) -> npt.NDArray[np.int64]:
        picked: npt.NDArray[np.int64] = pc.cast(column.filter(pa.array(chosen)), pa.int64()).to_numpy()  # fmt: skip
        return picked

    def calendar(year: Ints, month: Ints, day: Ints) -> Days:
        found = pd.to_datetime({"year": year, "month": month, "day": day}, errors="coerce")
        days: Days = found.to_numpy().astype("datetime64[D]")
        return days

    iso = matching(r"^\d{4}-\d{1,2}-\d{1,2}$") & present
    if iso.any():
        ymd = pc.extract_regex(day_part, r"^(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})$")
        parts = [ymd.field(name) for name in ("y", "m", "d")]
        result[iso] = calendar(*(numbers(part, iso) for part in parts))
    serial = matching(r"^\d{4,5}(\.\d+)?$") & present & ~iso
    if serial.any():
        chosen = pc.cast(day_part.filter(pa.array(serial)), pa.float64()).to_numpy()
        result[serial] = np.datetime64(EXCEL_EPOCH) + np.floor(chosen).astype(np.int64)
        cells.notes.append("numbers in the date column read as Excel serial dates")
    rest = present & ~iso & ~serial
    if not rest.any():
        return result, None  # all ISO or serial: no day/month order to decide
    found = pc.extract_regex(
        day_part, r"^(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})[/.\-](?P<y>\d{2,4})$"
    )
    dmy = pc.is_valid(found).to_numpy(zero_copy_only=False) & rest
    if not dmy.any():
        return result, None
    first, second = numbers(found.field("a"), dmy), numbers(found.field("b"), dmy)
    separators = found.field("sep").filter(pa.array(dmy))
    dotted = bool(pc.all(pc.equal(separators, pa.scalar("."))).as_py())
    if (first > 12).any() and (second > 12).any():
        order = None
    elif (first > 12).any() or dotted:
        order = "day first"
    elif (second > 12).any():
        order = "month first"
    else:  # no value decides it: never a guess
        _ambiguous_dates(cells, day_part.filter(pa.array(dmy)), found.filter(pa.array(dmy)), np.flatnonzero(dmy))  # fmt: skip
        return result, dmy
    if order is None:
        cells.found.append(
            Problem("error", "the dates mix day-first and month-first values; give --date-format",
                    **cells.where(int(np.flatnonzero(dmy)[0]), "date"))
        )  # fmt: skip
        return result, None
    years = found.field("y").filter(pa.array(dmy))
    digits = pc.utf8_length(cast("pa.StringArray", years)).to_numpy(zero_copy_only=False)
    year = pc.cast(years, pa.int64()).to_numpy()
    year = np.where(digits == 4, year, 20 * 10**digits + year)  # "25" is 2025, as "20" + "25"
    day, month = (first, second) if order == "day first" else (second, first)
    result[dmy] = calendar(year, month, day)
    example = "d.m.yyyy or d/m/yyyy" if order == "day first" else "m/d/yyyy"
    cells.notes.append(f"dates read as {example} ({order}, from the column's own values)")
    return result, None


def _ambiguous_dates(
    cells: Cells, values: Array, parts: pa.StructArray, rows: npt.NDArray[np.intp]) -> None:  # fmt: skip
    """An error for a date column no value of which has a day above 12 (03/02/2025 is
    3 February or 2 March): two examples and both --date-format choices."""
    import pyarrow.compute as pc

    examples = pc.unique(values)[:2].to_pylist()
    separator = str(parts.field("sep")[0].as_py())
    year = "%Y" if len(str(parts.field("y")[0].as_py())) == 4 else "%y"
    day_first = separator.join(("%d", "%m", year))
    month_first = separator.join(("%m", "%d", year))
    quoted = " and ".join(f'"{e}"' for e in examples)
    cells.found.append(
        Problem(
            "error",
            f"the dates do not say whether the day or the month comes first (no day above "
            f"12: {quoted}); give --date-format {day_first} for day first or "
            f"--date-format {month_first} for month first",
            value=examples[0],
            **cells.where(int(rows[0]), "date"),
        )
    )


def _iso_days(values: Array, present: Mask) -> Days | None:
    """Days, when every present value is a valid ``YYYY-MM-DD`` (Arrow's strict parser, one
    pass); else None, and the values are read one way or another by the slower guesser."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        days = pc.cast(nulled(values, ~present), pa.date32())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return np.asarray(days.to_numpy(zero_copy_only=False), dtype="datetime64[D]")
