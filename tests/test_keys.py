"""The keys things are found by (:mod:`pricing.keys`) read alike by every reader: a glob by
Python's ``re`` (one request line) and by RE2 (a million deal lines, in Arrow) exactly as
:func:`fnmatch.fnmatchcase` reads it; a SKU's key in Python and in Arrow; a request id typed by a
person and in a deals file's column."""

from __future__ import annotations

import fnmatch

import pyarrow as pa
import pyarrow.compute as pc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing.keys import glob_matcher, glob_re2, request_code, request_number, sku_key

# The characters a glob or a SKU is made of here: the glob syntax, what either regex engine
# reads its own way, space and a few letters, digits and non-ASCII ones (ß folds to ss).
_CHARS = st.sampled_from(list("*?[]!^-\\:&|~.$()+{}\n aAbBcz09_ßé€"))
_TEXT = st.text(_CHARS, max_size=8)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(glob=_TEXT, texts=st.lists(_TEXT, min_size=1, max_size=8))
def test_glob__re_and_re2_match_exactly_what_fnmatch_matches(glob: str, texts: list[str]) -> None:
    """A SKU pattern covers the same lines whether one request line is judged or a million
    deal lines are: both readings are fnmatch's."""
    expected = [fnmatch.fnmatchcase(text, glob) for text in texts]
    matches = glob_matcher(glob)
    assert [matches(text) for text in texts] == expected
    in_arrow = pc.match_substring_regex(pa.array(texts, pa.string()), glob_re2(glob))
    assert in_arrow.to_pylist() == expected


def test_glob__the_cases_people_write() -> None:
    """Stars, one character, sets, negated sets, ranges; a lone ``[`` is itself."""
    cases = {
        "HW-1*": (["HW-1", "HW-100"], ["hw-100", "XHW-1"]),
        "a[!b]d": (["acd", "a!d"], ["abd", "ad"]),
        "a[]]d": (["a]d"], ["abd"]),
        "[x": (["[x"], ["x"]),
        "sv-[0-9]?": (["sv-12"], ["sv-a1", "sv-1"]),
        "[z-a]": ([], ["z", "a", ""]),
    }
    for glob, (covered, not_covered) in cases.items():
        matches = glob_matcher(glob)
        assert [matches(t) for t in covered] == [True] * len(covered), glob
        assert [matches(t) for t in not_covered] == [False] * len(not_covered), glob


@settings(max_examples=300, deadline=None)
@given(skus=st.lists(st.text(st.sampled_from(list(" \t\x1c\u3000\xa0aAzZß-İ1é")), max_size=6)))
def test_sku_key__arrow_keys_a_column_as_python_keys_each_sku(skus: list[str]) -> None:
    """The deals reader trims (``utf8_trim_whitespace``) and case folds
    (:func:`pricing.lines.matching.casefold`) a SKU column; each key is :func:`sku_key`'s."""
    from pricing.lines.matching import casefold

    column = casefold(pc.utf8_trim_whitespace(pa.array(skus, pa.string())))
    assert column.to_pylist() == [sku_key(sku) for sku in skus]


def test_sku_key__case_and_surrounding_space_aside() -> None:
    assert sku_key("  Hw-100\t") == sku_key("HW-100") == "hw-100"
    assert sku_key("STRAßE") == sku_key("strasse")
    assert sku_key("HW 100") != sku_key("HW100")


@settings(max_examples=300, deadline=None)
@given(
    text=st.one_of(
        st.text(st.sampled_from(list("rR-0123456789 x٣")), max_size=12),
        st.integers(1, 999_999_999).map(request_code),
    )
)
def test_request_id__typed_and_in_a_deals_file_read_alike(text: str) -> None:
    """A request id a person types (``requests show r-12``) and one in a deals file's column
    (RE2, after the reader trims it) are the same ids."""
    from pricing.keys import REQUEST_ID

    trimmed = pc.utf8_trim_whitespace(pa.array([text], pa.string()))
    found = pc.extract_regex(trimmed, REQUEST_ID)[0]
    in_arrow = int(found["n"].as_py()) if found.is_valid else None
    assert request_number(text) == in_arrow


def test_request_id__the_forms_people_write() -> None:
    assert [request_number(t) for t in ("R-000123", "r-123", "r123", " 123 ", "R-0")] == [
        123, 123, 123, 123, 0,
    ]  # fmt: skip
    assert [request_number(t) for t in ("R-", "RR-1", "R-1234567890", "R-١٢", "1.0")] == [None] * 5
    assert request_code(123) == "R-000123"
    assert request_number(request_code(7)) == 7
