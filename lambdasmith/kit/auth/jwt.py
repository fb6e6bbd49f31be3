"""HS256 JSON Web Tokens (RFC 7519, compact JWS of RFC 7515) for Lambda handlers.

One algorithm, HMAC-SHA256, and nothing negotiable by the token: a header whose `alg` is anything
but exactly "HS256" is refused before any signature work, so neither "none" nor the RS/HS key
confusion (an RS256 token "verified" with the public key as an HMAC secret) can get through.

Decisions a reader should know:

- `typ` may be absent; when present it must be "JWT" in any letter case (RFC 7519 §5.1). Other
  types (e.g. "at+jwt", "JOSE") are refused so that a token minted for another purpose with the
  same key is not taken for a session token.
- `crit` is refused outright: this verifier understands no header extension.
- `aud` present in the token but no `audience` configured on `decode` is accepted (PyJWT would
  refuse it): a handler that does not configure an audience has said it does not partition
  tokens by audience, and the signature already proves a holder of the shared secret minted it.
  The claim's shape is still checked (a string or a list of strings).
- Base64url is strict: no padding, no whitespace, only `A-Z a-z 0-9 - _`, and canonical (unused
  trailing bits zero), so one token has exactly one spelling and no byte of it can change
  without the token being refused.
- Duplicate member names in the header or the claims JSON, and the non-JSON constants NaN and
  Infinity, are refused: two parsers must not be able to read one token two ways.

Cold start: imports `json`, `time`, `math` and `binascii` (via kit.b64url) only; HMAC comes from the builtin SHA-256
(`lambdasmith.kit.digest`), not OpenSSL.
"""

from __future__ import annotations

import json
import time
from math import isfinite

from lambdasmith.kit import b64url
from lambdasmith.kit.digest import hmac_sha256, same_bytes

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ALGORITHM",
    "MAX_TOKEN_LENGTH",
    "InvalidToken",
    "ExpiredToken",
    "NotYetValid",
    "encode",
    "decode",
    "user_id",
    # shared with the RS256 verifier (kit/auth/oidc.py): one reading of a token for both algorithms
    "read_header",
    "decode_segment",
    "parse_object",
    "check_claims",
]

ALGORITHM = "HS256"
MAX_TOKEN_LENGTH = 8192
"""Longer tokens are refused before any parsing (a session token is a few hundred bytes)."""



class InvalidToken(Exception):
    """The token is not acceptable; `message` (also `str(exc)`) is safe to show a client."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class ExpiredToken(InvalidToken):
    """`exp` is in the past, beyond the leeway."""


class NotYetValid(InvalidToken):
    """`nbf` or `iat` is in the future, beyond the leeway."""


def encode(claims: dict, secret: str | bytes, *, headers: dict | None = None) -> str:
    """Sign `claims` with HS256 and return the compact token.

    The header is {"alg":"HS256","typ":"JWT"} plus `headers` (e.g. `kid`), keys sorted; the
    claims keep their order. JSON is compact and ASCII-escaped, so for the same input the token
    is byte-for-byte PyJWT's. `headers` may drop `typ` with `{"typ": None}` but may not set
    anything `decode` would refuse (another `alg` or `typ`, or `crit`): that raises ValueError.
    """
    if not isinstance(claims, dict):
        raise TypeError("JWT claims must be a dict")
    header: dict[str, Any] = {"typ": "JWT", "alg": ALGORITHM}
    if headers:
        header.update(headers)
    if header.get("typ") is None:
        del header["typ"]
    if header["alg"] != ALGORITHM:
        raise ValueError(f"only {ALGORITHM} is supported, not {header['alg']!r}")
    if "typ" in header and not _is_jwt_type(header["typ"]):
        raise ValueError(f"header typ must be 'JWT', not {header['typ']!r}")
    if "crit" in header:
        raise ValueError("the crit header is not supported")
    signing_input = _b64encode(_dumps(header, sort_keys=True)) + b"." + _b64encode(_dumps(claims))
    signature = hmac_sha256(_key(secret), signing_input)
    return (signing_input + b"." + _b64encode(signature)).decode("ascii")


def decode(
    token: str,
    secret: str | bytes,
    *,
    leeway_s: float = 120,
    issuer: str | None = None,
    audience: str | None = None,
    require: tuple[str, ...] = ("exp",),
    now: float | None = None,
) -> dict:
    """Verify an HS256 token and return its claims, or raise `InvalidToken`.

    Checked, in order: size and shape, header (`alg` exactly "HS256", `typ` "JWT" if present, no
    `crit`), signature (constant time), claims object, the `require`d claims present, `exp`/`nbf`/
    `iat` numbers and within `leeway_s` seconds of `now` (default: the wall clock), `iss` equal to
    `issuer` and `aud` containing `audience` when those are given. An `aud` claim with no
    `audience` configured is accepted (see the module docstring).
    """
    key = _key(secret)
    if leeway_s < 0:
        raise ValueError("leeway_s must not be negative")
    header, header_b64, payload_b64, signature_b64 = read_header(token, ALGORITHM)

    payload = decode_segment(payload_b64, "payload")
    signature = decode_segment(signature_b64, "signature")
    expected = hmac_sha256(key, (header_b64 + "." + payload_b64).encode("ascii"))
    if not same_bytes(signature, expected):
        raise InvalidToken("token signature is invalid")

    claims = parse_object(payload, "payload")
    check_claims(claims, now=now, leeway_s=leeway_s, issuer=issuer, audience=audience, require=require)
    return claims


def read_header(token: str, algorithm: str, *, max_length: int = MAX_TOKEN_LENGTH) -> tuple[dict, str, str, str]:
    """The checks made before any key or signature work, for a verifier of one `algorithm`.

    Refuses a non-string or longer than `max_length`, anything but three dot-separated parts, a
    header that is not one strict-base64url JSON object, `alg` other than exactly `algorithm`,
    `typ` other than "JWT" (any case), and `crit`. Returns (header, header_b64, payload_b64,
    signature_b64); the payload and signature are not decoded yet.
    """
    if not isinstance(token, str):
        raise InvalidToken("token must be a string")
    if len(token) > max_length:
        raise InvalidToken("token is too long")
    parts = token.split(".")
    if len(parts) != 3:
        raise InvalidToken("token must have three dot-separated parts")
    header_b64, payload_b64, signature_b64 = parts

    header = parse_object(decode_segment(header_b64, "header"), "header")
    if header.get("alg") != algorithm:
        raise InvalidToken(f"token algorithm must be {algorithm}")
    if "typ" in header and not _is_jwt_type(header["typ"]):
        raise InvalidToken("token type must be JWT")
    if "crit" in header:
        raise InvalidToken("token uses unsupported critical header extensions")
    return header, header_b64, payload_b64, signature_b64


def check_claims(
    claims: dict,
    *,
    now: float | None,
    leeway_s: float,
    issuer: str | None,
    audience: str | None,
    require: tuple[str, ...],
) -> None:
    """The claim checks of `decode` (see there), for claims whose signature is already verified."""
    for name in require:
        if name not in claims:
            raise InvalidToken(f"token is missing the {name!r} claim")

    if now is None:
        now = time.time()
    exp = _numeric_date(claims, "exp")
    nbf = _numeric_date(claims, "nbf")
    iat = _numeric_date(claims, "iat")
    if exp is not None and exp <= now - leeway_s:
        raise ExpiredToken("token has expired")
    if nbf is not None and nbf > now + leeway_s:
        raise NotYetValid("token is not valid yet")
    if iat is not None and iat > now + leeway_s:
        raise NotYetValid("token was issued in the future")

    if issuer is not None and claims.get("iss") != issuer:
        raise InvalidToken("token issuer is not accepted")
    if "aud" in claims:
        aud = claims["aud"]
        audiences = [aud] if isinstance(aud, str) else aud
        if not isinstance(audiences, list) or not all(isinstance(a, str) for a in audiences):
            raise InvalidToken("token audience must be a string or a list of strings")
        if audience is not None and audience not in audiences:
            raise InvalidToken("token audience is not accepted")
    elif audience is not None:
        raise InvalidToken("token has no audience")


def user_id(claims: dict) -> str | None:
    """The caller's id: `sub`, else `userId`; only a non-empty string counts."""
    for name in ("sub", "userId"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    elif not isinstance(secret, (bytes, bytearray)):
        raise TypeError("JWT secret must be str or bytes")
    if not secret:
        raise ValueError("JWT secret must not be empty")
    return bytes(secret)


def _is_jwt_type(typ: object) -> bool:
    return isinstance(typ, str) and typ.upper() == "JWT"


def _dumps(obj: dict, sort_keys: bool = False) -> bytes:
    return json.dumps(obj, separators=(",", ":"), sort_keys=sort_keys, allow_nan=False).encode("ascii")


def _b64encode(data: bytes) -> bytes:
    return b64url.encode(data).encode("ascii")


def decode_segment(segment: str, what: str) -> bytes:
    """The bytes of one token segment (strict base64url); InvalidToken naming `what` otherwise."""
    try:
        return b64url.decode(segment)
    except ValueError as e:
        raise InvalidToken(f"token {what} is {e}") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member name")
    return obj


def parse_object(data: bytes, what: str) -> dict:
    """One JSON object from UTF-8 `data`, with no duplicate member names and no NaN/Infinity;
    InvalidToken naming `what` otherwise (also for nesting past the recursion limit)."""
    try:
        value = json.loads(
            data.decode("utf-8"), object_pairs_hook=_unique_object, parse_constant=_reject_constant
        )
    except (ValueError, RecursionError):  # UnicodeDecodeError, JSONDecodeError; deep nesting
        raise InvalidToken(f"token {what} is not valid JSON") from None
    if not isinstance(value, dict):
        raise InvalidToken(f"token {what} must be a JSON object")
    return value


def _numeric_date(claims: dict, name: str) -> float | None:
    if name not in claims:
        return None
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidToken(f"token {name!r} claim must be a number")
    if not isfinite(value):  # 1e999 parses as infinity: an `exp` that never comes
        raise InvalidToken(f"token {name!r} claim must be a finite number")
    return value
