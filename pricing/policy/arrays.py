"""The array namespace the guardrails are written against, and its pure-Python backend.

A check is written once, with array operators (``&``, ``|``, ``~``, comparisons, ``*``, ``-``,
``//``, ``[row]``) and the few functions of :class:`Arrays` (``where``, ``maximum``, ``full``,
exact products, ...). The engine picks the backend from the lines: numpy
(:mod:`pricing.policy.arrays_numpy`) for columns of deal lines, :data:`PYTHON` for the handful
of lines of a request, whose values are Python integers and booleans in lists, so that judging
one request line imports no numpy and costs microseconds.

Both backends are exact: numpy multiplies in int64 where the products surely fit and in Python
integers where they might not; the Python backend always uses Python integers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import repeat
from typing import TYPE_CHECKING, Any, Protocol, cast

if TYPE_CHECKING:  # the types only: judging a request line imports no numpy
    import numpy as np
    import numpy.typing as npt

    Ints = npt.NDArray[Any]  # int64, or Python integers (object) where a value needs more bits
    Bools = npt.NDArray[np.bool_]
    Term = Ints | int

__all__ = ["PYTHON", "SCALAR", "Arrays", "PyArray"]


class Arrays(Protocol):
    """What the checks call besides array operators."""

    def full(self, n: int, value: int) -> Ints: ...

    def flags(self, n: int, value: bool) -> Bools: ...

    def column(self, values: Sequence[int]) -> Ints: ...

    def mask(self, values: Sequence[bool]) -> Bools: ...

    def take(self, table: Sequence[int], codes: Ints) -> Ints:
        """``table[code]`` for each code; code -1 takes the table's last entry."""
        ...

    def take_flags(self, table: Sequence[bool], codes: Ints) -> Bools: ...

    def where(self, condition: Bools, a: Term, b: Term) -> Ints: ...

    def positions(self, n: int, most: int) -> Ints:
        """Zeros, in a type that holds the integers 0 to ``most`` (compact for numpy)."""
        ...

    def small(self, n: int, value: int, most: int) -> Ints:
        """``value`` on every row, for small integers (-1 to ``most``; compact for numpy)."""
        ...

    def fill(self, into: Ints, value: Term, where: Bools) -> Ints:
        """``into`` with ``value`` (each row's, or one for all) where ``where`` holds; ``into``
        may be changed in place."""
        ...

    def maximum(self, a: Ints, b: Ints) -> Ints: ...

    def all(self, mask: Bools) -> bool: ...

    def any(self, mask: Bools) -> bool: ...

    def invert(self, mask: Bools) -> Bools: ...

    def at(self, values: Ints | Bools, row: int) -> Any:
        """One line's value."""
        ...

    def product(self, terms: Sequence[Term], n: int) -> Ints:
        """The product of ``terms`` (columns or integers) row by row, exactly."""
        ...

    def ceil_multiple(
        self, numerator: Sequence[Term], denominator: int, step: Term, n: int
    ) -> Ints:
        """``prod(numerator) / denominator`` rounded up to a multiple of ``step`` (each row's)."""
        ...

    def plain(self, values: Ints) -> Ints:
        """Small integers (:meth:`small`) as ordinary integers (int64 for numpy)."""
        ...

    def narrow(self, values: Ints) -> Ints:
        """The same integers, in the backend's compact form where they fit."""
        ...

    def group_sum(self, groups: Ints, values: Ints) -> Ints:
        """For each row, the exact sum of ``values`` over the rows of its group (``groups``:
        non-negative integers naming each row's group)."""
        ...


class PyArray:
    """A short list of Python integers or booleans with numpy's elementwise operators."""

    __slots__ = ("v",)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, values: list[Any]) -> None:
        self.v = values

    def __len__(self) -> int:
        return len(self.v)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.v)

    def __repr__(self) -> str:
        return f"PyArray({self.v!r})"

    def __getitem__(self, row: int) -> Any:
        return self.v[row]

    def tolist(self) -> list[Any]:
        return list(self.v)

    def any(self) -> bool:
        return any(self.v)

    def _pairs(self, other: Any) -> Iterable[tuple[Any, Any]]:
        if isinstance(other, PyArray):
            return zip(self.v, other.v, strict=True)
        return zip(self.v, repeat(other))

    def __and__(self, other: Any) -> PyArray:
        return PyArray([bool(a and b) for a, b in self._pairs(other)])

    __rand__ = __and__

    def __or__(self, other: Any) -> PyArray:
        return PyArray([bool(a or b) for a, b in self._pairs(other)])

    __ror__ = __or__

    def __invert__(self) -> PyArray:
        return PyArray([not a for a in self.v])

    def __neg__(self) -> PyArray:
        return PyArray([-a for a in self.v])

    def __lt__(self, other: Any) -> PyArray:
        return PyArray([a < b for a, b in self._pairs(other)])

    def __le__(self, other: Any) -> PyArray:
        return PyArray([a <= b for a, b in self._pairs(other)])

    def __gt__(self, other: Any) -> PyArray:
        return PyArray([a > b for a, b in self._pairs(other)])

    def __ge__(self, other: Any) -> PyArray:
        return PyArray([a >= b for a, b in self._pairs(other)])

    def __eq__(self, other: object) -> PyArray:  # type: ignore[override]
        return PyArray([a == b for a, b in self._pairs(other)])

    def __ne__(self, other: object) -> PyArray:  # type: ignore[override]
        return PyArray([a != b for a, b in self._pairs(other)])

    def __mul__(self, other: Any) -> PyArray:
        return PyArray([a * b for a, b in self._pairs(other)])

    __rmul__ = __mul__

    def __sub__(self, other: Any) -> PyArray:
        return PyArray([a - b for a, b in self._pairs(other)])

    def __floordiv__(self, other: Any) -> PyArray:
        return PyArray([a // b for a, b in self._pairs(other)])


# Typed as numpy arrays, so that a check reads the same whichever backend runs it.
_ints = cast("Callable[[list[Any]], Ints]", PyArray)
_bools = cast("Callable[[list[Any]], Bools]", PyArray)


def _v(values: Ints | Bools) -> list[Any]:
    """The list inside a PyArray (typed as a numpy array)."""
    found: object = values
    assert isinstance(found, PyArray)
    return found.v


def _list(values: Term, n: int) -> list[Any]:
    found: object = values  # a PyArray, typed as a numpy array
    return found.v if isinstance(found, PyArray) else [values] * n


class _Python:
    """The backend for a handful of lines: Python integers, exact by nature."""

    def full(self, n: int, value: int) -> Ints:
        return _ints([value] * n)

    def flags(self, n: int, value: bool) -> Bools:
        return _bools([value] * n)

    def column(self, values: Sequence[int]) -> Ints:
        return _ints([int(v) for v in values])

    def mask(self, values: Sequence[bool]) -> Bools:
        return _bools([bool(v) for v in values])

    def take(self, table: Sequence[int], codes: Ints) -> Ints:
        return _ints([table[c] for c in _v(codes)])

    def take_flags(self, table: Sequence[bool], codes: Ints) -> Bools:
        return _bools([table[c] for c in _v(codes)])

    def where(self, condition: Bools, a: Term, b: Term) -> Ints:
        mask = _v(condition)
        n = len(mask)
        return _ints(
            [x if c else y for c, x, y in zip(mask, _list(a, n), _list(b, n), strict=True)]
        )

    def positions(self, n: int, most: int) -> Ints:
        return _ints([0] * n)

    def small(self, n: int, value: int, most: int) -> Ints:
        return _ints([value] * n)

    def fill(self, into: Ints, value: Term, where: Bools) -> Ints:
        return self.where(where, value, into)

    def maximum(self, a: Ints, b: Ints) -> Ints:
        return _ints([max(x, y) for x, y in zip(a, b, strict=True)])

    def all(self, mask: Bools) -> bool:
        return all(_v(mask))

    def any(self, mask: Bools) -> bool:
        return any(_v(mask))

    def invert(self, mask: Bools) -> Bools:
        return ~mask

    def at(self, values: Ints | Bools, row: int) -> Any:
        return _v(values)[row]

    def product(self, terms: Sequence[Term], n: int) -> Ints:
        values = [1] * n
        for term in terms:
            values = [v * t for v, t in zip(values, _list(term, n), strict=True)]
        return _ints(values)

    def ceil_multiple(
        self, numerator: Sequence[Term], denominator: int, step: Term, n: int
    ) -> Ints:
        whole = self.product(numerator, n)
        steps = _list(step, n)
        return _ints([-(-w // (s * denominator)) * s for w, s in zip(whole, steps, strict=True)])

    def plain(self, values: Ints) -> Ints:
        return values

    def narrow(self, values: Ints) -> Ints:
        return values

    def group_sum(self, groups: Ints, values: Ints) -> Ints:
        sums: dict[int, int] = {}
        for group, value in zip(_v(groups), _v(values), strict=True):
            sums[group] = sums.get(group, 0) + value
        return _ints([sums[group] for group in _v(groups)])


PYTHON: Arrays = _Python()
"""The pure-Python backend (a request's lines)."""


class _Scalar:
    """The backend for one line: each column is a plain Python integer or boolean, so every
    operator of a check is Python's own (the cost of judging one request line)."""

    def full(self, n: int, value: int) -> Ints:
        return cast("Ints", value)

    def flags(self, n: int, value: bool) -> Bools:
        return cast("Bools", value)

    def column(self, values: Sequence[int]) -> Ints:
        (value,) = values
        return cast("Ints", int(value))

    def mask(self, values: Sequence[bool]) -> Bools:
        (value,) = values
        return cast("Bools", bool(value))

    def take(self, table: Sequence[int], codes: Ints) -> Ints:
        return cast("Ints", table[_one(codes)])

    def take_flags(self, table: Sequence[bool], codes: Ints) -> Bools:
        return cast("Bools", table[_one(codes)])

    def where(self, condition: Bools, a: Term, b: Term) -> Ints:
        return cast("Ints", a if _one(condition) else b)

    def positions(self, n: int, most: int) -> Ints:
        return cast("Ints", 0)

    def small(self, n: int, value: int, most: int) -> Ints:
        return cast("Ints", value)

    def fill(self, into: Ints, value: Term, where: Bools) -> Ints:
        return cast("Ints", value if _one(where) else into)

    def maximum(self, a: Ints, b: Ints) -> Ints:
        return cast("Ints", max(_one(a), _one(b)))

    def all(self, mask: Bools) -> bool:
        return bool(_one(mask))

    def any(self, mask: Bools) -> bool:
        return bool(_one(mask))

    def invert(self, mask: Bools) -> Bools:
        return cast("Bools", not _one(mask))

    def at(self, values: Ints | Bools, row: int) -> Any:
        return values

    def product(self, terms: Sequence[Term], n: int) -> Ints:
        value = 1
        for term in terms:
            value *= _one(term)
        return cast("Ints", value)

    def ceil_multiple(
        self, numerator: Sequence[Term], denominator: int, step: Term, n: int
    ) -> Ints:
        whole, each = _one(self.product(numerator, n)), _one(step)
        return cast("Ints", -(-whole // (each * denominator)) * each)

    def plain(self, values: Ints) -> Ints:
        return values

    def narrow(self, values: Ints) -> Ints:
        return values

    def group_sum(self, groups: Ints, values: Ints) -> Ints:
        return values  # one line: its own group


def _one(value: object) -> Any:
    """A one-line column (an int or a bool, typed as a numpy array) as itself."""
    return value


SCALAR: Arrays = _Scalar()
"""The backend for one line (a request line judged alone, a quote)."""
