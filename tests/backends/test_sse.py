"""Payload decoding: exactly json.loads, or an InvalidEvent."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wai.backends.sse import InvalidEvent, _decode

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@given(JSON, st.sampled_from(["", " ", "\n", "\t \r\n"]), st.sampled_from(["", " ", "\r\n"]))
def test_any_json_value_with_surrounding_whitespace_decodes_as_json_loads(
    value: object, before: str, after: str
) -> None:
    text = before + json.dumps(value) + after
    assert _decode(text) == json.loads(text)


@pytest.mark.parametrize("text", ['{"a": 1} x', '{"a": 1}{"b": 2}', "[DONE", "\ufeff{}", "", "nan"])
def test_anything_else_is_an_invalid_event(text: str) -> None:
    assert _decode(text) == InvalidEvent(text)
