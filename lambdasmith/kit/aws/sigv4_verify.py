"""Checking an AWS Signature Version 4 on a request we received (the server side of `sigv4`).

`lambdasmith serve` bound to a non-loopback address must not run functions for anyone who can
reach the port, yet the AWS CLI and boto3 should work against it unchanged: they already sign
every call with SigV4. So the local Invoke API checks those signatures against operator-given
key -> secret pairs. The canonical request is built by `sigv4` itself, the very code proven equal
to botocore's, so signer and verifier cannot drift apart. Errors carry the codes and wording AWS
Lambda answers with, so clients report them the way they would against AWS.
"""

from __future__ import annotations

import time

from lambdasmith.kit.aws import sigv4
from lambdasmith.kit.digest import same_bytes, sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

__all__ = ["SignatureError", "verify", "parse_credentials"]

MISSING = "MissingAuthenticationTokenException"
UNRECOGNIZED = "UnrecognizedClientException"
INVALID = "InvalidSignatureException"
_ALGORITHM = "AWS4-HMAC-SHA256"
_PRESIGN_PARAMS = ("x-amz-algorithm=", "x-amz-credential=", "x-amz-signature=")
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)


class SignatureError(Exception):
    """A request that must be refused: `code` is AWS's error type (what the client keys on),
    `message` the human text. AWS Lambda answers all of them with HTTP 403."""

    status = 403

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _invalid(message: str) -> SignatureError:
    return SignatureError(INVALID, message)


def _parse_authorization(value: str) -> tuple[list[str], list[str], str]:
    """(credential parts, signed header names, signature) of an `AWS4-HMAC-SHA256 ...` header."""
    fields: dict[str, str] = {}
    for part in value[len(_ALGORITHM) :].split(","):
        name, eq, v = part.strip().partition("=")
        if eq:
            fields[name] = v.strip()
    for need in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(need):
            raise _invalid(f"Authorization header requires '{need}' parameter. Authorization={value}")
    parts = fields["Credential"].split("/")
    if len(parts) != 5 or not all(parts):
        raise _invalid(
            "Credential should be of the form <access key id>/<date>/<region>/<service>/aws4_request, "
            f"not '{fields['Credential']}'."
        )
    return parts, fields["SignedHeaders"].split(";"), fields["Signature"]


def _check_stamp(stamp: str, epoch: float, max_skew_s: int) -> None:
    """X-Amz-Date within `max_skew_s` of now. Fixed-width UTC stamps sort as they read, so the
    window is compared as text (and reported in AWS's words) without loading `datetime`."""
    digits = stamp[:8] + stamp[9:15]
    if not (len(stamp) == 16 and stamp[8] == "T" and stamp[15] == "Z" and digits.isascii() and digits.isdigit()) or not (
        1 <= int(stamp[4:6]) <= 12 and 1 <= int(stamp[6:8]) <= 31
        and int(stamp[9:11]) < 24 and int(stamp[11:13]) < 60 and int(stamp[13:15]) < 61
    ):  # fmt: skip
        raise _invalid(f"X-Amz-Date must be in the ISO8601 Long Format (yyyyMMdd'T'HHmmss'Z'), not '{stamp}'.")
    skew = f"{max_skew_s // 60} min." if max_skew_s % 60 == 0 else f"{max_skew_s} s."
    current = sigv4.amz_date(epoch)
    earliest, latest = sigv4.amz_date(epoch - max_skew_s), sigv4.amz_date(epoch + max_skew_s)
    if stamp < earliest:
        raise _invalid(f"Signature expired: {stamp} is now earlier than {earliest} ({current} - {skew})")
    if stamp > latest:
        raise _invalid(f"Signature not yet current: {stamp} is still later than {latest} ({current} + {skew})")


def verify(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    *,
    credentials: Mapping[str, str],
    service: str = "lambda",
    now: datetime | None = None,
    max_skew_s: int = 300,
) -> str:
    """The access key id whose secret signed this request, or `SignatureError`.

    `target` is the request target exactly as received (path and query still percent-encoded as
    the client sent them: SigV4 signs the wire form). Any region is accepted, since a local server
    has none; the scope's service must be `service`. A session token, when sent, is taken as is:
    `credentials` holds long-term key -> secret pairs only. `now` must be timezone-aware.
    """
    if now is not None and now.utcoffset() is None:
        raise ValueError("verify: `now` must be a timezone-aware datetime")
    path, _, query = target.partition("?")
    received = sigv4.canonical_headers(headers)
    authorizations = [v for k, v in headers if k.lower() == "authorization"]
    if not authorizations:
        hint = " (query-string presigned requests are not supported)" if _presigned(query) else ""
        raise SignatureError(MISSING, f"Missing Authentication Token{hint}")
    if len(authorizations) > 1:
        raise _invalid("The request carries more than one Authorization header.")
    authorization = authorizations[0].strip()
    if authorization.split(" ", 1)[0] != _ALGORITHM:
        raise SignatureError(MISSING, f"Missing Authentication Token (Authorization is not {_ALGORITHM})")

    (key_id, date, region, scope_service, terminator), names, signature = _parse_authorization(authorization)
    if names != sorted(set(names)) or any(n != n.lower() or not n for n in names):
        raise _invalid(f"SignedHeaders must be lower-case names, sorted and distinct: '{';'.join(names)}'.")
    for need in ("host", "x-amz-date"):
        if need not in names:
            raise _invalid(f"'{need}' must be a 'SignedHeader' in the AWS Authorization.")
    absent = [n for n in names if n not in received]
    if absent:
        raise _invalid(f"Signed header(s) absent from the request: {', '.join(absent)}.")

    secret = credentials.get(key_id)
    if secret is None:
        raise SignatureError(UNRECOGNIZED, "The security token included in the request is invalid.")

    stamp = received["x-amz-date"]
    if scope_service != service:
        raise _invalid(f"Credential should be scoped to correct service: '{service}'.")
    if terminator != "aws4_request":
        raise _invalid(f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'.")
    if date != stamp[:8]:
        raise _invalid(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{date}' != '{stamp[:8]}', from '{stamp}'."
        )
    _check_stamp(stamp, time.time() if now is None else now.timestamp(), max_skew_s)

    # The body is always part of what is signed: a declared hash must be the body's (so neither
    # UNSIGNED-PAYLOAD nor streaming payloads pass); without one botocore signs the body's hash.
    payload_hash = sha256_hex(body)
    declared = received.get("x-amz-content-sha256")
    if declared is not None and declared != payload_hash:
        raise _invalid("The provided 'x-amz-content-sha256' header does not match what was computed.")

    canonical = sigv4.canonical_request(method, path, query, {n: received[n] for n in names}, payload_hash)
    expected, to_sign = sigv4.signature(secret, stamp, region, scope_service, canonical)
    if not same_bytes(expected.encode(), signature.encode()):
        raise _invalid(
            f"{_MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\n"
            f"The String-to-Sign should have been\n'{to_sign}'\n"
        )
    return key_id


def _presigned(query: str) -> bool:
    return any(pair.lower().startswith(_PRESIGN_PARAMS) for pair in query.split("&"))


def parse_credentials(text: str) -> dict[str, str]:
    """`KEY:SECRET,KEY2:SECRET2` (whitespace around either is ignored) as {key: secret}.

    Strict, because it guards a network port: a typo must stop the server, not lock out a client
    or admit an empty secret. Messages name the entry and the key, never the secret.
    """
    out: dict[str, str] = {}
    entries = text.split(",")
    if not text.strip():
        raise ValueError("credentials: none given; expected KEY:SECRET[,KEY2:SECRET2...]")
    for i, entry in enumerate(entries, 1):
        key, colon, secret = (s.strip() for s in entry.partition(":"))
        where = f"credentials entry {i}"
        if not entry.strip():
            raise ValueError(f"{where} is empty (a stray ','?); expected KEY:SECRET[,KEY2:SECRET2...]")
        if not colon:
            raise ValueError(f"{where} has no ':' between access key id and secret; expected KEY:SECRET")
        if not key:
            raise ValueError(f"{where} has an empty access key id")
        if not secret:
            raise ValueError(f"{where} (key {key!r}) has an empty secret")
        if any(c.isspace() or c == "/" for c in key):
            raise ValueError(f"{where}: access key id {key!r} must not contain whitespace or '/'")
        if any(c.isspace() for c in secret):
            raise ValueError(f"{where} (key {key!r}): the secret must not contain whitespace")
        if key in out:
            raise ValueError(f"{where}: access key id {key!r} is given twice")
        out[key] = secret
    return out
