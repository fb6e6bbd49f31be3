from __future__ import annotations

import pytest

from lambdasmith.kit.numbers import whole_number


@pytest.mark.parametrize(("text", "value"), [("0", 0), ("20", 20), ("007", 7), ("123456789", 123456789)])
def test_ascii_digits(text, value):
    assert whole_number(text) == value


@pytest.mark.parametrize(
    "text", ["", None, "²", "٣", "-1", "+1", " 5", "5 ", "1_000", "1e3", "9" * 10, "9" * 5000, "0x1"]
)
def test_anything_else_is_none(text):
    assert whole_number(text) is None
