"""The number columns of a deals file: quantities, the money (line amount, net unit price,
discount) kept exactly as whole millionths, the decimal mark decided once for the file, and the
checks on their values (a missing amount, a zero quantity, an amount other than qty x price).

Plain numbers are read in bulk by Arrow; the rest (``$1,234.50``) one distinct value at a time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pricing.io.arrow import dictionary_encode, fill_null, texts
from pricing.keys import REQUEST_ID
from pricing.lines.cells import empty, holds_any, nulled, spread
from pricing.lines.headers import MONEY, NUMBER_FIELDS
from pricing.money import (
    AMBIGUOUS_DECIMAL,
    DECIDES_DECIMAL,
    MICRO,
    TOO_LARGE,
    TOO_LARGE_TEXT,
    parse_decimal,
)
from pricing.problems import Problem

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from pricing.io.arrow import Array
    from pricing.lines.cells import Cells, Mask, Micros, Numbers


def decimal_mark(
    cells: Cells,
    text: dict[str, Array],
    keep: Mask,
    blank: dict[str, Mask],
    decimal: str | None,
    text_cells: dict[str, Mask],
) -> None:
    """Decide, once for the file, whether money written as text has a decimal comma or
    point: ``decimal`` when given, else the values that decide it (``12,5``, ``1.234,56``
    or ``12.50``). When none does and some could be either (``1,234``), an error quotes
    them. With a decimal comma the values that could be either are rewritten in place
    (``1.234`` is 1234 and ``1,234`` is 1.234) in every number column."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    def written(name: str) -> Mask:
        typed = text_cells.get(name)
        return keep & ~blank[name] & (typed if typed is not None else True)

    money = [name for name in MONEY if name in text]
    numbers = [name for name in NUMBER_FIELDS if name in text]
    either = {
        name: (
            pc.match_substring_regex(text[name], AMBIGUOUS_DECIMAL).to_numpy(zero_copy_only=False)
            & written(name)
            if holds_any(text[name], b".,")  # (a column of whole numbers has no mark at all)
            else np.zeros(len(keep), dtype=bool)
        )
        for name in numbers
    }
    if not any(mask.any() for mask in either.values()):
        return  # nothing could be read two ways (the usual export: one pass per column)
    if decimal is None:
        found = {
            mark: any(
                (pc.match_substring_regex(text[n], pattern).to_numpy(zero_copy_only=False)
                 & written(n)).any()
                for n in money
            )
            for mark, pattern in DECIDES_DECIMAL.items()
        }  # fmt: skip
        if found["comma"] != found["point"]:
            decimal = "comma" if found["comma"] else "point"
        elif not found["comma"]:
            _ambiguous_money(cells, text, [n for n in money if either[n].any()], either)
    if decimal != "comma":
        return  # a decimal point is how the values are read anyway
    for name in numbers:
        if not either[name].any():
            continue
        values = text[name]
        dotted = pc.match_substring(values, ".").to_numpy(zero_copy_only=False)
        thousands = pc.replace_substring(values, ".", "")
        decimals = pc.replace_substring(values, ",", ".")
        text[name] = pc.if_else(
            pa.array(either[name] & dotted),
            thousands,
            pc.if_else(pa.array(either[name] & ~dotted), decimals, values),
        )
    if np.any([written(n).any() for n in money]):
        cells.notes.append("money read with a decimal comma (1.234,50 = 1234.50)")


def _ambiguous_money(
    cells: Cells, text: dict[str, Array], money: list[str], either: dict[str, Mask]
) -> None:
    """An error for the first money column whose values could have either decimal mark
    (``either``), with examples."""
    import numpy as np

    for name in money:
        rows = np.flatnonzero(either[name])
        examples = list(dict.fromkeys(text[name].take(rows[:50]).to_pylist()))[:2]
        quoted = " and ".join(f'"{e}"' for e in examples)
        cells.found.append(
            Problem(
                "error",
                f"the {name.replace('_', ' ')}s do not say whether the comma or the point "
                f"marks decimals ({quoted} could be thousands or decimals, and no value "
                "decides it); give --decimal point if 1,234 means one thousand two hundred "
                "thirty-four, or --decimal comma if it means 1.234",
                value=str(examples[0]),
                **cells.where(int(rows[0]), name),
            )
        )
        return


def money(
    cells: Cells, text: dict[str, Array], blank: dict[str, Mask], keep: Mask, qty: Numbers
) -> dict[str, Numbers]:
    """The money columns the file has, each missing where a preceding one is given (line
    amount > net price > discount): only the winner is kept."""
    import numpy as np

    n = len(keep)
    money_given = np.zeros(n, dtype=bool)
    money: dict[str, Numbers] = {}
    for name in MONEY:
        if name in text:
            due = keep & ~money_given
            if name == "discount":
                money[name] = discount(cells, text[name], due, blank[name])
            else:
                money[name] = number(
                    cells, text[name], due, blank[name], name, name.replace("_", " ")
                )
            money_given |= ~blank[name]
    if "unit_price" in money:  # qty x price must fit too (a line amount is kept exactly)
        (count, count_missing), (price, price_missing) = qty, money["unit_price"]
        size = np.abs(count.astype(float) * price.astype(float))
        huge = keep & ~count_missing & ~price_missing & (size >= float(TOO_LARGE) * 1e12)
        if huge.any():
            cells.bad(huge, text["unit_price"], "unit_price",
                     f"quantity x net unit price {TOO_LARGE_TEXT}")  # fmt: skip
    missing = keep & ~money_given
    if missing.any():
        field_name = next(f for f in MONEY if f in text)
        cells.bad(missing, text[field_name], field_name,
                 "no amount, net price or discount on this line")  # fmt: skip
    return money


def quantities(
    cells: Cells, values: Array, keep: Mask, qty: Numbers, money: dict[str, Numbers]
) -> None:
    """A warning for each zero quantity (saying what the report does with its amount, if
    it has one), a note for the negative ones."""
    import numpy as np

    count, missing = qty
    zero = keep & ~missing & (count == 0)
    charged = np.zeros_like(zero)
    if "amount" in money:  # only a line amount is money without goods (qty x price is 0)
        amount, absent = money["amount"]
        charged = zero & ~absent & (amount != 0)
    if (zero & ~charged).any():
        cells.bad(zero & ~charged, values, "qty", "quantity is zero: the line counts nothing",
                 "warning")  # fmt: skip
    if charged.any():
        cells.bad(
            charged, values, "qty",
            "quantity is zero with an amount: the report counts its amount as a price "
            "adjustment of the sale (a credit as special discount, a charge as above "
            "standard; never judged), or as unmatched money if its SKU has no list price",
            "warning",
        )  # fmt: skip
    negative = keep & ~missing & (count < 0)
    if negative.any():
        cells.notes.append(
            f"{int(negative.sum())} line(s) with a negative quantity (returns or credits) are kept as such"
        )


def disagreeing(
    cells: Cells, text: dict[str, Array], qty: Numbers, money: dict[str, Numbers], counted: Mask
) -> None:
    """A warning for lines whose line amount is not their quantity x unit price beyond
    rounding (half a cent a unit, and on the amount): the amount is what was charged;
    how many, and a few with both values."""
    if "amount" not in money or "unit_price" not in money:
        return
    import numpy as np

    (count, no_count), (amount, no_amount) = qty, money["amount"]
    price, no_price = money["unit_price"]
    both = counted & ~no_count & ~no_amount & ~no_price
    if not both.any():
        return
    units = count.astype(float) / MICRO
    expected = units * price.astype(float)  # millionths
    off = both & (np.abs(expected - amount) > 5_000 * (np.abs(units) + 1) + 1)
    rows = np.flatnonzero(off)
    if not len(rows):
        return
    amount_header, price_header = cells.headers["amount"], cells.headers["unit_price"]
    examples = "; ".join(
        f"line {cells.first_line + int(r)}: {micros_text(int(count[r]))} x "
        f"{micros_text(int(price[r]), money=True)} = "
        f"{micros_text(int(count[r]) * int(price[r]) // MICRO, money=True)}, "
        f"{amount_header} {micros_text(int(amount[r]), money=True)}"
        for r in rows[:3]
    )
    cells.found.append(
        Problem(
            "warning",
            f"{len(rows):,} line(s) have a line amount ({amount_header}) other than their "
            f"quantity x unit price ({price_header}) beyond rounding (e.g. {examples}): "
            "the line amount is what was charged and is what counts",
            value=text["amount"][int(rows[0])].as_py(),
            **cells.where(int(rows[0]), "amount"),
        )
    )


def number(
    cells: Cells, values: Array, keep: Mask, blank: Mask, field_name: str, label: str
) -> Numbers:
    """Millionths and a missing mask; plain numbers in bulk (Arrow), the rest (``$1,234.50``)
    one distinct value at a time: a column of one bad value repeated is parsed once."""
    import numpy as np

    numbers = _floats(values)
    finite = np.isfinite(numbers)
    ok = finite & (np.abs(np.where(finite, numbers, 0)) < 1e9)
    micros = np.round(np.where(ok, numbers, 0) * MICRO).astype("int64")
    missing = ~ok
    rows = np.flatnonzero(keep & ~ok & ~blank)
    if len(rows):
        _parse_each(cells, values, rows, micros, missing, field_name, label)
    if field_name == "qty" and (keep & blank).any():
        cells.bad(keep & blank, values, field_name, "quantity is missing")
    return micros, missing


def _parse_each(
    cells: Cells,
    values: Array,
    rows: npt.NDArray[np.intp],
    micros: Micros,
    missing: Mask,
    field_name: str,
    label: str,
) -> None:
    """The values at ``rows`` that Arrow could not read as plain numbers (``$1,234.50``),
    parsed one distinct value at a time into ``micros`` (``missing`` cleared), and an
    error for each that is not a number: a column of one bad value repeated parses once."""
    import numpy as np

    distinct = dictionary_encode(values.take(rows))
    codes = distinct.indices.to_numpy(zero_copy_only=False)
    parsed = np.zeros(len(distinct.dictionary), dtype=np.int64)
    failed: dict[str, list[int]] = {}  # message -> the distinct values it is about
    for code, text in enumerate(texts(distinct.dictionary)):
        try:
            amount = parse_decimal(text)
            if abs(amount) >= TOO_LARGE:
                raise ValueError(TOO_LARGE_TEXT)
            parsed[code] = int((amount * MICRO).to_integral_value())
        except (ValueError, ArithmeticError) as exc:
            failed.setdefault(f"{label} {exc}", []).append(code)
    wrong = np.zeros(len(parsed), dtype=bool)
    for message, which in failed.items():
        wrong[which] = True
        cells.bad(spread(rows, np.isin(codes, which), len(values)), values, field_name, message)
    good = ~wrong[codes]
    micros[rows[good]] = parsed[codes[good]]
    missing[rows[good]] = False


def discount(cells: Cells, values: Array, keep: Mask, blank: Mask) -> Numbers:
    """Discount off list as a percentage in millionths: fractions or percents, said which."""
    import pyarrow.compute as pc

    has_percent = pc.ends_with(values, "%").to_numpy(zero_copy_only=False)
    cleaned = pc.utf8_trim_whitespace(pc.replace_substring_regex(values, "%$", ""))
    micros, missing = number(cells, cleaned, keep, empty(cleaned), "discount", "discount")
    plain = keep & ~blank & ~has_percent
    given = plain & ~missing
    if plain.any() and (abs(micros[given]) <= MICRO).all():
        micros[plain] *= 100
        cells.notes.append("discounts read as fractions of list (0.2 = 20 %)")
    elif plain.any():
        cells.notes.append("discounts read as percentages (20 = 20 %)")
    out_of_range = keep & ~missing & ((micros < 0) | (micros > 100 * MICRO))
    if out_of_range.any():
        cells.bad(out_of_range, values, "discount", "discount must be between 0 and 100 %")
    return micros, missing


def request_ids(cells: Cells, values: Array, keep: Mask) -> Numbers:
    import pyarrow as pa
    import pyarrow.compute as pc

    extracted = pc.extract_regex(values, REQUEST_ID)
    found = pc.is_valid(extracted).to_numpy(zero_copy_only=False)
    number: Array = pc.if_else(pa.array(found), extracted.field("n"), "0")
    ids = pc.cast(number, pa.int64()).to_numpy()
    bad = keep & ~empty(values) & ~found
    if bad.any():
        cells.bad(bad, values, "request_id", "is not a request id (they look like R-000123)")
    return ids, ~found


def micros_text(micros: int, *, money: bool = False) -> str:
    """Millionths as a person reads them: ``34``, ``1.5``; money with at least two decimals
    (``3,400.00``, ``0.125``)."""
    from decimal import Decimal

    value = Decimal(micros).scaleb(-6)
    cents = value.quantize(Decimal("0.01"))
    if money and value == cents:
        return f"{cents:,}"
    if micros % MICRO == 0:
        return f"{micros // MICRO:,}"
    return f"{value.normalize():,}"


_PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _floats(values: Array) -> npt.NDArray[np.float64]:
    """Text as float64, NaN where blank or not a plain number (``1,234.50`` or ``$5`` are read
    one by one by the caller): Arrow's parser, in one pass when every value is plain."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text: Array = nulled(values, empty(values))
    numbers: npt.NDArray[np.float64]
    try:
        numbers = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        plain = pc.match_substring_regex(text, _PLAIN_NUMBER)
        text = pc.if_else(fill_null(plain, False), text, pa.scalar(None, pa.string()))
        numbers = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    return numbers
