"""Tamper-evident paging cursors: what a client gets back is sealed with an HMAC, so an altered
cursor, or one minted for another user or other filters, is refused instead of honoured."""

from __future__ import annotations

import json

from lambdasmith.kit import b64url
from lambdasmith.kit.digest import hmac_sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAC_BYTES = 16
MAX_CURSOR_CHARS = 4096


class BadCursor(ValueError):
    pass


def _unb64(text: str) -> bytes:
    try:
        return b64url.decode(text)
    except ValueError:
        raise BadCursor("cursor is not base64url") from None


def seal(state: dict[str, Any], key: bytes) -> str:
    body = json.dumps(state, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return b64url.encode(body) + "." + b64url.encode(hmac_sha256(key, body)[:MAC_BYTES])


def unseal(cursor: str, key: bytes, expect: dict[str, Any]) -> dict[str, Any]:
    """The state inside `cursor`, which must carry every item of `expect` unchanged."""
    if not isinstance(cursor, str) or len(cursor) > MAX_CURSOR_CHARS or cursor.count(".") != 1:
        raise BadCursor("malformed cursor")
    body_text, mac_text = cursor.split(".")
    body, mac = _unb64(body_text), _unb64(mac_text)
    import hmac

    if not hmac.compare_digest(mac, hmac_sha256(key, body)[:MAC_BYTES]):
        raise BadCursor("cursor was altered")
    try:
        state = json.loads(body)
    except ValueError:
        raise BadCursor("malformed cursor") from None
    if not isinstance(state, dict) or any(state.get(k) != v for k, v in expect.items()):
        raise BadCursor("cursor belongs to another user or query")
    return state
