"""SHA-256, HMAC-SHA256 and a constant-time compare from CPython's builtin modules when there are.

`hashlib` (and `hmac`, which imports it) loads OpenSSL, ~3 ms of a cold start; ETags and SigV4
need only SHA-256, which CPython also builds in (`_sha256` up to 3.11, `_sha2` from 3.12), and MAC
checks need only `hmac.compare_digest`, which is `_operator._compare_digest`. Falls back to
hashlib / a pure-Python loop elsewhere. Every MAC check in lambdasmith goes through `same_bytes`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable

__all__ = ["hmac_sha256", "json_sha256", "same_bytes", "sha256_digest", "sha256_hex"]

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


def sha256_digest(data: bytes) -> bytes:
    """The 32-byte SHA-256 of `data` (RSA signatures sign the raw digest)."""
    return sha256(data).digest()


def json_sha256(value: object) -> str:
    """SHA-256 (hex) of `value` as canonical JSON (sorted keys, no spaces): the same data gives
    the same digest whatever its key order — what an idempotency record keeps of its request."""
    import json  # every handler has it loaded already

    return sha256_hex(json.dumps(value, sort_keys=True, separators=(",", ":")).encode("utf-8"))


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    """RFC 2104 HMAC with SHA-256."""
    if len(key) > _BLOCK:
        key = sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    inner = sha256(key.translate(_IPAD) + msg).digest()
    return sha256(key.translate(_OPAD) + inner).digest()


def _same_bytes_slowly(a: bytes, b: bytes) -> bool:
    if len(a) != len(b):
        return False
    diff = 0
    for x, y in zip(a, b):
        diff |= x ^ y
    return diff == 0


def _builtin_compare() -> Callable[[bytes, bytes], bool]:
    """`_operator._compare_digest`: constant time in C (what `hmac.compare_digest` was before
    3.10 routed it through OpenSSL), without `hmac` pulling in OpenSSL."""
    try:
        from _operator import _compare_digest
    except ImportError:  # pragma: no cover - depends on the interpreter
        return _same_bytes_slowly
    return _compare_digest


_compare = _builtin_compare()


def same_bytes(a: bytes, b: bytes) -> bool:
    """a == b in time that depends on the length only, not on where they differ (MAC checks)."""
    return bool(_compare(a, b))
