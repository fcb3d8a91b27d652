"""The numpy backend of :mod:`pricing.policy.arrays`, for columns of deal lines.

Products are int64 where every row surely fits (the product of each term's largest size, in
floats, below 2**62, so that a difference of two products fits too) and Python integers
(object arrays) where it might not. The bound decides only which; it never decides a
comparison. Each column's bound is worked out once (a column used in several products is not
scanned again).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

Ints = npt.NDArray[Any]
Bools = npt.NDArray[np.bool_]
Term = Ints | int

_FITS = 2.0**62  # a product below this (estimated in floats) is computed in int64

__all__ = ["NumpyArrays"]


class NumpyArrays:
    """The backend for columns (one per set of lines: it remembers each column's bound)."""

    def __init__(self) -> None:
        self._bounds: dict[int, tuple[weakref.ref[Ints], float]] = {}

    def bound(self, column: Ints) -> float:
        """The largest size of a value in ``column`` (at least 1), as a float."""
        known = self._bounds.get(id(column))
        if known is not None and known[0]() is column:
            return known[1]
        size = 1.0
        if len(column):
            size = max(abs(float(column.max())), abs(float(column.min())), 1.0)
        self._remember(column, size)
        return size

    def _remember(self, column: Ints, size: float) -> None:
        self._bounds[id(column)] = (weakref.ref(column), size)

    def full(self, n: int, value: int) -> Ints:
        full: Ints = np.full(n, value, dtype=np.int64 if abs(value) < 2**62 else object)
        return full

    def flags(self, n: int, value: bool) -> Bools:
        return np.full(n, value, dtype=bool)

    def column(self, values: Sequence[int]) -> Ints:
        if all(abs(v) < 2**62 for v in values):
            return np.array(values, dtype=np.int64)
        return np.array(values, dtype=object)

    def mask(self, values: Sequence[bool]) -> Bools:
        return np.array(values, dtype=bool)

    def take(self, table: Sequence[int], codes: Ints) -> Ints:
        column = self.column(table)
        taken: Ints = column.take(codes)
        if taken.dtype == np.int64:
            self._remember(taken, max([abs(float(v)) for v in table] + [1.0]))
        return taken

    def take_flags(self, table: Sequence[bool], codes: Ints) -> Bools:
        taken: Bools = np.array(table, dtype=bool).take(codes)
        return taken

    def where(self, condition: Bools, a: Term, b: Term) -> Ints:
        chosen: Ints = np.where(condition, a, b)
        return chosen

    def positions(self, n: int, most: int) -> Ints:
        return self.small(n, 0, most)

    def small(self, n: int, value: int, most: int) -> Ints:
        """``value`` on every row, in the smallest type in which any two values from -1 to
        ``most`` differ without overflow (so that :meth:`fill` may use arithmetic)."""
        dtype = np.int8 if most < 63 else np.int16 if most < 16_000 else np.int64
        return np.full(n, value, dtype=dtype)

    def fill(self, into: Ints, value: Term, where: Bools) -> Ints:
        if isinstance(value, int) and into.dtype in (np.int8, np.int16):
            # into + (value - into) x where: no branch per row (np.copyto with a mask of
            # scattered rows is several times slower)
            into += (value - into) * where
            return into
        wide = isinstance(value, np.ndarray) and value.dtype == object
        if into.dtype != object and (wide or (isinstance(value, int) and abs(value) >= 2**62)):
            into = into.astype(object)
        np.copyto(into, value, where=where)
        return into

    def maximum(self, a: Ints, b: Ints) -> Ints:
        return np.maximum(a, b)

    def all(self, mask: Bools) -> bool:
        return bool(np.all(mask))

    def any(self, mask: Bools) -> bool:
        return bool(mask.any())

    def invert(self, mask: Bools) -> Bools:
        return ~mask

    def at(self, values: Ints | Bools, row: int) -> Any:
        return values[row]

    def product(self, terms: Sequence[Term], n: int) -> Ints:
        scalar, columns = 1, []
        for term in terms:
            if isinstance(term, np.ndarray):
                columns.append(term)
            else:
                scalar *= term
        bound = max(abs(float(scalar)), 1.0)
        for column in columns:
            bound *= self.bound(column)
        wide = bound >= _FITS
        if not columns:
            return self.full(n, scalar) if not wide else np.full(n, scalar, dtype=object)
        result: Ints = columns[0].astype(object if wide else np.int64, copy=False)
        for column in columns[1:]:
            result = result * (column.astype(object) if wide else column)
        if scalar != 1:
            result = result * scalar
        if not wide:
            self._remember(result, bound)
        return result

    def ceil_multiple(
        self, numerator: Sequence[Term], denominator: int, step: Term, n: int
    ) -> Ints:
        whole = self.product(numerator, n)
        if isinstance(step, int) and whole.dtype == np.int64 and step * denominator < 2**62:
            rounded: Ints = -(-whole // (step * denominator)) * step
            return rounded
        divisor = self.product([step, denominator], n)
        if whole.dtype != np.int64 or divisor.dtype != np.int64:
            whole, divisor = whole.astype(object), divisor.astype(object)
        return -(-whole // divisor) * step

    def plain(self, values: Ints) -> Ints:
        return values.astype(np.int64)

    def narrow(self, values: Ints) -> Ints:
        if values.dtype != np.int64 and all(abs(int(v)) < 2**63 for v in values):
            return values.astype(np.int64)
        return values

    def group_sum(self, groups: Ints, values: Ints) -> Ints:
        """Sums by group in int64 where every group's sum surely fits (its sum of sizes, in
        floats, below 2**62), else in Python integers. Groups are numbered densely (deal
        numbers), so a group's position is its number: no sort, no hash (others are ranked first)."""
        n = len(values)
        if not n:
            return values.astype(np.int64)
        low, high = int(groups.min()), int(groups.max())
        if low >= 0 and high - low <= 4 * n + 1024:
            groups = groups - low  # a chunk's deals are numbered from where it starts
        else:
            _, groups = np.unique(groups, return_inverse=True)
        if values.dtype == np.int64:
            largest = max(abs(float(values.max())), abs(float(values.min())), 1.0)
            if largest * n < _FITS or largest * float(np.bincount(groups).max()) < _FITS:
                sums = np.zeros(int(groups.max()) + 1, dtype=np.int64)
                np.add.at(sums, groups, values)
                found: Ints = sums[groups]
                return found
        totals: dict[int, int] = {}
        for group, value in zip(groups.tolist(), values.tolist(), strict=True):
            totals[group] = totals.get(group, 0) + int(value)
        return np.array([totals[group] for group in groups.tolist()], dtype=object)
