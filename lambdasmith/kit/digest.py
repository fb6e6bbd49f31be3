"""SHA-256 and HMAC-SHA256 from CPython's builtin module when there is one.

`hashlib` loads OpenSSL, ~3 ms of a cold start; ETags and SigV4 need only SHA-256, which CPython
also builds in (`_sha256` up to 3.11, `_sha2` from 3.12). Falls back to hashlib elsewhere.
"""

from __future__ import annotations

__all__ = ["sha256_hex", "hmac_sha256"]

try:
    from _sha256 import sha256  # type: ignore[import-not-found]  # CPython ≤ 3.11
except ImportError:  # pragma: no cover - depends on the interpreter
    try:
        from _sha2 import sha256  # type: ignore[import-not-found]  # CPython ≥ 3.12
    except ImportError:
        from hashlib import sha256

_BLOCK = 64
_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))


def sha256_hex(data: bytes) -> str:
    return sha256(data).hexdigest()


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    """RFC 2104 HMAC with SHA-256."""
    if len(key) > _BLOCK:
        key = sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = sha256(key.translate(_IPAD) + msg).digest()
    return sha256(key.translate(_OPAD) + inner).digest()
