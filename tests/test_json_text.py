"""``--json`` text is written by :func:`pricing.text.json_text`, twice as fast as Python's own
indenting encoder: it must be that encoder's text, character for character."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import IntEnum, StrEnum

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.documents import json_default
from pricing.text import json_text


class _Kind(StrEnum):
    SALE = "sale"


class _Level(IntEnum):
    TOP = 3


_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.dates(),
    st.datetimes(timezones=st.just(UTC)),
    st.sampled_from([_Kind.SALE, _Level.TOP]),
)
_KEYS = st.one_of(st.text(), st.integers(), st.floats(), st.booleans(), st.none())
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(_KEYS, inner, max_size=4),
    ),
    max_leaves=30,
)


def _dumps(document: object) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False, default=json_default)


@settings(max_examples=500, deadline=None)
@given(document=_DOCUMENTS)
def test_json_text__is_json_dumps_indented_character_for_character(document: object) -> None:
    assert json_text(document, json_default) == _dumps(document)


def test_json_text__the_values_of_a_document() -> None:
    document = {
        "money": Decimal("1234.50"), "at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "on": date(2026, 1, 2), "empty": {}, "none": [], "nested": [{"a": [1, 2.5, None]}],
        "odd": [math.nan, math.inf, -math.inf, -0.0], 3: "three", True: 1, None: False,
        "text": 'quote " back \\ tab \t nul \x00 é ∑ \u2028',
    }  # fmt: skip
    assert json_text(document, json_default) == _dumps(document)
    with pytest.raises(TypeError):
        json_text({(1, 2): 1}, json_default)
    with pytest.raises(TypeError):
        json_text({"a": object()}, json_default)
