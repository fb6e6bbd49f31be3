"""The one JSON reader for outside input: bounded depth, one error type, no recursion."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from lambdasmith.kit.jsonread import MAX_DEPTH, JSONInputError, loads, nested_deeper


@pytest.mark.parametrize("bad", ["[" * 3000, '{"a":' * 3000 + "1" + "}" * 3000, "[" * 65 + "]" * 65, b"\xff\xfe",
                                 '{"a": 1' + "9" * 5000 + "}", "", "[1,", None, 5])  # fmt: skip
def test_what_it_refuses_is_one_value_error(bad):
    with pytest.raises(JSONInputError) as e:
        loads(bad)
    assert "set_int_max_str_digits" not in str(e.value)


def test_the_limit_itself_and_brackets_inside_strings_are_fine():
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    assert loads('["]]]]", "\\"[[[[", "{{{{"]' + "") == ["]]]]", '"[[[[', "{{{{"]
    assert loads(json.dumps({"k": ["[" * 500]})) == {"k": ["[" * 500]}
    assert loads(b'{"a": [1, 2, {"b": null}]}') == {"a": [1, 2, {"b": None}]}


def test_a_size_cap():
    with pytest.raises(JSONInputError):
        loads(b"[1]" * 10, max_bytes=10)


def _nest(depth: int) -> list:
    value: list = []
    for _ in range(depth - 1):
        value = [value]
    return value


def test_nested_deeper_walks_without_recursion():
    assert nested_deeper(_nest(600), 32) and not nested_deeper(_nest(32), 32)
    assert not nested_deeper({"a": [1, {"b": 2}], "c": "x"}, 3) and nested_deeper({"a": [{"b": []}]}, 3)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='[]{}",:0123456789 \\enultrfa-.', max_size=400))
def test_any_text_is_a_value_or_the_error(text):
    try:
        loads(text)
    except JSONInputError:
        pass


@settings(max_examples=100, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3),
                    max_leaves=30))  # fmt: skip
def test_what_json_dumps_writes_reads_back(value):
    assert loads(json.dumps(value)) == value
