"""The share queue's one message, SHARE_ITEM: built by the API's share route, parsed by the worker.

Why a module of its own: the producer (`wardrobe.api`) and the consumer (`wardrobe.worker`) must
agree on the fields, and each used to spell them out alone; here the shape is written once.

    {"type":"SHARE_ITEM","userId":…,"itemId":…,"timestamp":"…Z","requestId":…}

`requestId` is the exactly-once key (the worker's applied-event marker); ids are non-empty,
printable, at most 128 characters and free of `#` (they become parts of table keys).
Cold start: imports `json` and the kit's clock only.
"""

from __future__ import annotations

import json

from lambdasmith.kit import jsonread
from lambdasmith.kit.clock import utc_iso_ms

__all__ = ["SHARE_ITEM", "InvalidMessage", "build_share", "parse_share"]

SHARE_ITEM = "SHARE_ITEM"
"""The message's `type`, also sent as its `type` message attribute."""

_IDS = ("userId", "itemId", "requestId")


class InvalidMessage(ValueError):
    pass


def build_share(user_id: str, item_id: str, request_id: str, timestamp: str | None = None) -> str:
    """The body of a SHARE_ITEM message (compact JSON); `timestamp` defaults to now."""
    msg = {"type": SHARE_ITEM, "userId": user_id, "itemId": item_id,
           "timestamp": utc_iso_ms() if timestamp is None else timestamp, "requestId": request_id}  # fmt: skip
    return json.dumps(msg, separators=(",", ":"))


def parse_share(body: str) -> tuple[str, str, str]:
    """(userId, itemId, requestId) of a SHARE_ITEM message, or InvalidMessage."""
    try:
        msg = jsonread.loads(body)
    except (TypeError, ValueError):
        raise InvalidMessage("body is not JSON") from None
    if not isinstance(msg, dict) or msg.get("type") != SHARE_ITEM:
        raise InvalidMessage("not a SHARE_ITEM message")
    values = []
    for field in _IDS:
        v = msg.get(field)
        if not isinstance(v, str) or not v or len(v) > 128 or "#" in v or not v.isprintable():
            raise InvalidMessage(f"{field} missing or invalid")
        values.append(v)
    if not isinstance(msg.get("timestamp"), str):
        raise InvalidMessage("timestamp missing")
    return values[0], values[1], values[2]
