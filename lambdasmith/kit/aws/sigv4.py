"""AWS Signature Version 4 for a request with its body in hand (what every JSON-protocol call is)."""

from __future__ import annotations

import time

from lambdasmith.kit.digest import hmac_sha256, sha256_hex

__all__ = ["UNSIGNED", "quote", "amz_date", "signing_key", "canonical_query", "sign"]

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


def canonical_query(query: str) -> str:
    """The query as sent (already percent-encoded by the caller), its pairs sorted."""
    if not query:
        return ""
    return "&".join(f"{k}={v}" for k, v in sorted(p.partition("=")[::2] for p in query.split("&")))


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
    signed: dict[str, str] = {}
    for k, v in out.items():
        lk = k.lower()
        if lk not in UNSIGNED:
            value = " ".join(str(v).split())
            signed[lk] = f"{signed[lk]},{value}" if lk in signed else value
    names = sorted(signed)
    canonical = "\n".join(
        [
            method.upper(),
            quote(path or "/", safe="/"),
            canonical_query(query),
            "".join(f"{n}:{signed[n]}\n" for n in names),
            ";".join(names),
            sha256_hex(body),
        ]
    )
    scope = f"{stamp[:8]}/{region}/{service}/aws4_request"
    to_sign = f"AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{sha256_hex(canonical.encode('utf-8'))}"
    signature = hmac_sha256(signing_key(secret_key, stamp[:8], region, service), to_sign.encode("utf-8")).hex()
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out
