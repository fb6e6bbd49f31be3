"""wardrobe.messages: the SHARE_ITEM message the API builds is the one the worker parses."""

import json

import pytest

from lambdasmith.wardrobe.messages import (
    SHARE_ITEM,
    InvalidMessage,
    build_share,
    parse_share,
)


def test_what_is_built_parses_back():
    assert parse_share(build_share("u-1", "i-2", "r-3")) == ("u-1", "i-2", "r-3")


def test_the_built_shape():
    body = build_share("u", "i", "r", timestamp="2026-01-02T03:04:05.678Z")
    assert body == '{"type":"SHARE_ITEM","userId":"u","itemId":"i","timestamp":"2026-01-02T03:04:05.678Z","requestId":"r"}'
    assert json.loads(build_share("u", "i", "r"))["timestamp"].endswith("Z")
    assert SHARE_ITEM == "SHARE_ITEM"


def good(**changes):
    msg = json.loads(build_share("u", "i", "r"))
    msg.update(changes)
    return json.dumps({k: v for k, v in msg.items() if v is not None})


@pytest.mark.parametrize(
    ("body", "why"),
    [
        ("not json", "not JSON"),
        (None, "not JSON"),
        ("[1]", "not a SHARE_ITEM"),
        (good(type="OTHER"), "not a SHARE_ITEM"),
        (good(userId=None), "userId"),
        (good(itemId=""), "itemId"),
        (good(requestId="a#b"), "requestId"),
        (good(userId="x" * 129), "userId"),
        (good(itemId="tab\there"), "itemId"),
        (good(requestId=7), "requestId"),
        (good(timestamp=None), "timestamp"),
    ],
)
def test_invalid_messages_are_refused_with_a_reason(body, why):
    with pytest.raises(InvalidMessage, match=why):
        parse_share(body)


def test_invalid_message_is_a_value_error():
    assert issubclass(InvalidMessage, ValueError)
