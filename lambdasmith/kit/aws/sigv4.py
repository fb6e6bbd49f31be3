"""AWS Signature Version 4 for a request with its body in hand (what every JSON-protocol call is).

The canonical pieces are public because `sigv4_verify` checks received requests with them: one
implementation on both ends, proven equal to botocore's in tests/kit/aws/test_sigv4.py.
"""

from __future__ import annotations

import time

from lambdasmith.kit.digest import hmac_sha256, sha256_hex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

__all__ = [
    "UNSIGNED", "quote", "amz_date", "signing_key", "canonical_uri", "canonical_query", "canonical_headers",
    "canonical_request", "credential_scope", "signature", "sign",
]  # fmt: skip

# Hop-by-hop and tracing headers change in transit, so neither side signs them (botocore's list).
UNSIGNED = frozenset({
    "authorization", "baggage", "connection", "expect", "keep-alive", "proxy-authenticate",
    "proxy-authorization", "te", "traceparent", "tracestate", "trailer", "transfer-encoding", "upgrade",
    "user-agent", "x-amzn-trace-id",
})  # fmt: skip
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def quote(text: str, safe: str = "") -> str:
    """RFC 3986 percent-encoding of everything but unreserved characters (and `safe`)."""
    keep = _UNRESERVED | frozenset(safe.encode())
    return "".join(chr(b) if b in keep else f"%{b:02X}" for b in text.encode("utf-8"))


def amz_date(epoch: float | None = None) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() if epoch is None else epoch))


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac_sha256(key, msg.encode("utf-8"))


def signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    k = _hmac(("AWS4" + secret_key).encode("utf-8"), date)
    return _hmac(_hmac(_hmac(k, region), service), "aws4_request")


def canonical_uri(path: str) -> str:
    """The path as sent, dot segments and repeated slashes removed (RFC 3986 5.2.4, as botocore
    and AWS services other than S3 do), then percent-encoded once more: SigV4 double-encodes."""
    segments: list[str] = []
    for seg in path.split("/"):
        if seg == "..":
            if segments:
                segments.pop()
        elif seg and seg != ".":
            segments.append(seg)
    tail = "/" if path.endswith("/") and segments else ""
    return quote("/" + "/".join(segments) + tail, safe="/~")


def canonical_query(query: str) -> str:
    """The query as sent (already percent-encoded by the caller), its pairs sorted."""
    if not query:
        return ""
    return "&".join(f"{k}={v}" for k, v in sorted(p.partition("=")[::2] for p in query.split("&")))


def canonical_headers(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Lower-case name -> value with whitespace trimmed and runs collapsed; a repeated header's
    values joined by "," in the order they came (SigV4's rule, so both ends agree on repeats)."""
    out: dict[str, str] = {}
    for name, raw in headers:
        key, value = name.lower(), " ".join(str(raw).split())
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def canonical_request(method: str, path: str, query: str, signed: Mapping[str, str], payload_hash: str) -> str:
    """SigV4 step 1. `signed` is `canonical_headers` output limited to the signed names."""
    names = sorted(signed)
    return "\n".join(
        [
            method.upper(),
            canonical_uri(path),
            canonical_query(query),
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            payload_hash,
        ]
    )


def credential_scope(stamp: str, region: str, service: str) -> str:
    return f"{stamp[:8]}/{region}/{service}/aws4_request"


def signature(secret_key: str, stamp: str, region: str, service: str, canonical: str) -> tuple[str, str]:
    """SigV4 steps 2-4: (hex signature, string to sign) of a canonical request signed at `stamp`."""
    scope = credential_scope(stamp, region, service)
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{sha256_hex(canonical.encode('utf-8'))}"
    key = signing_key(secret_key, stamp[:8], region, service)
    return hmac_sha256(key, to_sign.encode("utf-8")).hex(), to_sign


def sign(
    method: str,
    path: str,
    query: str,
    headers: dict[str, str],
    body: bytes,
    *,
    access_key: str,
    secret_key: str,
    token: str | None,
    region: str,
    service: str,
    now: float | None = None,
) -> dict[str, str]:
    """Return `headers` plus X-Amz-Date, X-Amz-Security-Token (when there is a token) and
    Authorization. `headers` must include Host."""
    stamp = amz_date(now)
    out = dict(headers)
    out["X-Amz-Date"] = stamp
    if token:
        out["X-Amz-Security-Token"] = token
    signed = {k: v for k, v in canonical_headers(out.items()).items() if k not in UNSIGNED}
    canonical = canonical_request(method, path, query, signed, sha256_hex(body))
    sig, _ = signature(secret_key, stamp, region, service, canonical)
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{credential_scope(stamp, region, service)}, "
        f"SignedHeaders={';'.join(sorted(signed))}, Signature={sig}"
    )
    return out
