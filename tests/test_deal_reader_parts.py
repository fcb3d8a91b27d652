"""The deals import's shortcuts give what the long way gives: ids already in order are numbered
without a sort, a column with nothing to strip is not copied, blanks become nulls without a copy
of the text, a segment's blobs are hashed once for their seal and the audit. Each is checked
against the plain definition."""

from __future__ import annotations

import hashlib

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.lines import segments
from pricing.lines.cells import empty, holds_any, nulled, stripped
from pricing.lines.identities import positions

IDS = st.lists(st.sampled_from(["SO-1", "SO-2", "SO-10", "so-2", "Ä-3", "", "SO-1 "]), max_size=40)
TEXTS = st.lists(
    st.sampled_from(["12", "1.5", " 7", "8 ", "", "x y", "\t9", "é", "5,000", "\u00a0ok", "a"]),
    max_size=30,
)


def _by_definition(values: list[str]) -> tuple[list[int], list[int]]:
    """Occurrence numbers from 1 in file order, and a number per value in order of first
    appearance: what :func:`positions` means."""
    seen: dict[str, int] = {}
    counts: dict[str, int] = {}
    codes: list[int] = []
    occurrence: list[int] = []
    for value in values:
        codes.append(seen.setdefault(value, len(seen)))
        counts[value] = counts.get(value, 0) + 1
        occurrence.append(counts[value])
    return occurrence, codes


@settings(max_examples=200, deadline=None)
@given(IDS, st.booleans())
def test_positions__sorted_ids_number_as_the_sort_does(values: list[str], in_order: bool) -> None:
    if in_order:
        values = sorted(values, key=lambda v: v.encode())  # Arrow compares bytes
    position, codes = positions(pa.array(values, pa.string()))
    occurrence, first_seen = _by_definition(values)
    assert position.tolist() == occurrence
    assert codes.tolist() == first_seen


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_stripped__same_values_as_arrows_trim(values: list[str]) -> None:
    column = pa.array(values, pa.string())
    assert stripped(column).to_pylist() == pc.utf8_trim_whitespace(column).to_pylist()


@settings(max_examples=200, deadline=None)
@given(TEXTS, st.integers(min_value=0, max_value=3))
def test_nulled__blanks_are_nulls_and_nothing_else_changes(values: list[str], cut: int) -> None:
    column = pa.array(values, pa.string()).slice(min(cut, len(values)))  # offset 0 or not
    found = nulled(column, empty(column))
    assert found.to_pylist() == [v or None for v in column.to_pylist()]


@given(TEXTS)
def test_holds_any__finds_a_mark_anywhere_in_the_values(values: list[str]) -> None:
    column = pa.array(values, pa.string())
    assert holds_any(column, b".,") == any("." in v or "," in v for v in values)


def test_empty__blank_values_from_the_offsets() -> None:
    column = pa.array(["a", "", " ", ""], pa.string()).slice(1)
    assert np.array_equal(empty(column), [True, False, True])


def test_sealed__the_audit_digest_is_the_sha256_of_the_whole_blob() -> None:
    table = pa.table({"v": pa.array(["a", None, "ccc"] * 1000, pa.string())})
    blob, hexdigest = segments.sealed(table)
    assert blob == segments.encode_table(table)
    assert hexdigest == hashlib.sha256(blob).hexdigest()
    assert segments.decode_table(blob).equals(table)
