"""Paging cursors. A table backend's resume key travels as an opaque base64url string
(`encode_cursor` / `decode_cursor`, which every backend shares); what a service hands a client
is tamper-evident besides (`seal` / `unseal`): sealed with an HMAC, so an altered cursor, or one
minted for another user or other filters, is refused instead of honoured."""

from __future__ import annotations

import json

from lambdasmith.kit import b64url, jsonread
from lambdasmith.kit.digest import hmac_sha256, same_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["MAC_BYTES", "MAX_CURSOR_CHARS", "BadCursor", "seal", "unseal", "encode_cursor", "decode_cursor"]

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
    if not same_bytes(mac, hmac_sha256(key, body)[:MAC_BYTES]):
        raise BadCursor("cursor was altered")
    try:
        state = jsonread.loads(body)
    except ValueError:
        raise BadCursor("malformed cursor") from None
    if not isinstance(state, dict) or any(state.get(k) != v for k, v in expect.items()):
        raise BadCursor("cursor belongs to another user or query")
    return state


# ---------------------------------------------------------------------------- table cursors


def encode_cursor(key: dict[str, Any]) -> str:
    """A backend's resume key (JSON) as an opaque, URL-safe, unpadded base64 string."""
    return b64url.encode(json.dumps(key, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode())


def decode_cursor(cursor: str, names: set[str]) -> dict[str, Any]:
    """The key inside a cursor, with exactly `names` as attributes; BadCursor otherwise (the
    table port answers it as its ValidationError, then checks the values and the partition)."""
    if not isinstance(cursor, str) or not cursor:
        raise BadCursor("malformed cursor")
    try:
        key = jsonread.loads(b64url.decode(cursor))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors too
        raise BadCursor("malformed cursor") from None
    if not isinstance(key, dict) or set(key) != names:
        raise BadCursor("malformed cursor")
    return key
