"""HMAC signatures of test-result ingestion requests.

v1 (BadgeSmith): `sha256=` + hex HMAC-SHA256(org secret, raw body).
v2 (ours, `X-Signature-Version: 2`): the MAC covers method, path, timestamp, nonce and the body's
SHA-256, so a captured body cannot be replayed onto another repository or branch.
"""

from __future__ import annotations

from lambdasmith.kit.digest import hmac_sha256, same_bytes, sha256_hex

PREFIX = "sha256="


def v2_message(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    digest = sha256_hex(body)
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{digest}".encode("utf-8")


def sign_v1(secret: str, body: bytes) -> str:
    return PREFIX + hmac_sha256(secret.encode("utf-8"), body).hex()


def sign_v2(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    msg = v2_message(method, path, timestamp, nonce, body)
    return PREFIX + hmac_sha256(secret.encode("utf-8"), msg).hex()


def matches(header: str, expected: str) -> bool:
    """Constant-time comparison; the `sha256=` prefix and the hex digits are case-insensitive."""
    given = header.strip()
    if given[: len(PREFIX)].lower() != PREFIX:
        return False
    return same_bytes(given[len(PREFIX) :].lower().encode(), expected[len(PREFIX) :].encode())
