"""Test-result ingestion: the checks a signed CI request passes before anything is stored.

Order matters: size, headers, timestamp window, org secret, signature — and only then the nonce
is burned (FIX: an unsigned request cannot burn a nonce), atomically with the result itself.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from urllib.parse import urlsplit

from lambdasmith.badges import signature
from lambdasmith.kit import jsonread
from lambdasmith.kit.http.routing import HTTPError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

INT32_MAX = 2**31 - 1
TS_KEY_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # fixed width, so keys sort in time order


def bad(message: str, code: str | None = None, field: str | None = None, status: int = 400) -> HTTPError:
    return HTTPError(status, message, code=code, field=field)


def parse_timestamp(value: str) -> datetime | None:
    """ISO-8601 date and time → aware UTC datetime (no offset means UTC); None when unparseable
    or outside 1970..9998 (ASCII digits only: a Unicode digit class admits other scripts')."""
    v = value.strip()
    if not 16 <= len(v) <= 64 or not re.match(r"^[0-9]{4}-?[0-9]{2}-?[0-9]{2}[T ]", v):
        return None
    try:
        dt = datetime.fromisoformat(v)
    except ValueError:
        return None
    if not 1970 <= dt.year <= 9998:  # checked before any arithmetic: year 1 or 9999 ± an offset overflows
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc)


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_RFC1123 = re.compile(r"^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), ([0-9]{2}) (" + "|".join(_MONTHS) + r") ([0-9]{4}) "
                      r"([0-9]{2}):([0-9]{2}):([0-9]{2}) GMT$")  # fmt: skip


def parse_header_timestamp(value: str) -> datetime | None:
    """An `X-Timestamp`: ISO 8601 (`parse_timestamp`) or, as BadgeSmith's parser also takes,
    RFC 1123 (`Thu, 03 Dec 2026 07:00:00 GMT`); None otherwise. Same 1970..9998 range."""
    dt = parse_timestamp(value)
    if dt is not None:
        return dt
    m = _RFC1123.match(value.strip())
    if not m:
        return None
    day, month, year, hh, mm, ss = m.groups()
    try:
        dt = datetime(int(year), _MONTHS.index(month) + 1, int(day), int(hh), int(mm), int(ss), tzinfo=timezone.utc)
    except ValueError:  # 31 Feb, 25:00
        return None
    return dt if 1970 <= dt.year <= 9998 else None


def ts_key(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime(TS_KEY_FORMAT)


def iso_ms(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def check_window(header: str, now: float, max_age: int, max_skew: int) -> None:
    dt = parse_header_timestamp(header)
    if dt is None:
        raise bad("X-Timestamp is not an ISO-8601 (or RFC 1123) date and time", "INVALID_TIMESTAMP", "X-Timestamp")
    age = now - dt.timestamp()
    if age > max_age:
        raise bad(f"X-Timestamp is more than {max_age} seconds old", "INVALID_TIMESTAMP", "X-Timestamp")
    if -age > max_skew:
        raise bad(f"X-Timestamp is more than {max_skew} seconds in the future", "INVALID_TIMESTAMP", "X-Timestamp")


def required_headers(headers: dict[str, str]) -> tuple[str, str, str]:
    values = []
    for name in ("X-Signature", "X-Timestamp", "X-Nonce"):
        v = headers.get(name.lower(), "").strip()
        if not v:
            raise bad(f"Missing required header {name}", "MISSING_HEADER", name)
        values.append(v)
    nonce = values[2]
    if len(nonce) > 128 or not nonce.isprintable():
        raise bad("X-Nonce must be at most 128 printable characters", "INVALID_NONCE", "X-Nonce")
    return values[0], values[1], nonce


def verify_signature(
    secret: str, v2_only: bool, headers: dict[str, str], method: str, path: str, body: bytes
) -> None:
    sig = headers.get("x-signature", "")
    version = headers.get("x-signature-version", "1").strip() or "1"
    if version == "2":
        expected = signature.sign_v2(secret, method, path, headers["x-timestamp"].strip(), headers["x-nonce"].strip(), body)
    elif version == "1":
        if v2_only:
            raise bad("This organisation accepts only signature version 2", "SIGNATURE_VERSION_REQUIRED", "X-Signature-Version", 401)
        expected = signature.sign_v1(secret, body)
    else:
        raise bad("X-Signature-Version must be 1 or 2", "INVALID_SIGNATURE_VERSION", "X-Signature-Version")
    if not signature.matches(sig, expected):
        raise bad("Invalid signature", "INVALID_SIGNATURE", "X-Signature", 401)


def verify_any(secrets: list[Any], headers: dict[str, str], method: str, path: str, body: bytes) -> None:
    """Accept a signature made with any of the active keys (two during a rotation)."""
    for i, secret in enumerate(secrets):
        try:
            verify_signature(secret.value, secret.v2_only, headers, method, path, body)
            return
        except HTTPError as e:
            if e.code != "INVALID_SIGNATURE" or i == len(secrets) - 1:
                raise


def absolute_http_url(v: Any) -> bool:
    """A string that is an absolute http(s) URL of at most 2048 characters, without whitespace:
    what a result's links must be (and all the dashboard will make a link of)."""
    if not isinstance(v, str) or len(v) > 2048:
        return False
    try:
        u = urlsplit(v)
    except ValueError:
        return False
    return u.scheme in ("http", "https") and bool(u.netloc) and not any(c.isspace() for c in v)


def parse_payload(body: bytes) -> tuple[dict[str, Any], datetime]:
    """The validated, normalised result to store, and when the tests ran."""
    try:
        data = jsonread.loads(body)
    except ValueError:  # malformed, not UTF-8, too deep (kit/jsonread.py)
        raise bad("Invalid JSON body", "INVALID_JSON", "body") from None
    if not isinstance(data, dict):
        raise bad("Invalid test payload: body must be a JSON object", "INVALID_TEST_PAYLOAD", "body")

    def invalid(field: str, why: str) -> HTTPError:
        return bad(f"Invalid test payload: {field} {why}", "INVALID_TEST_PAYLOAD", field)

    out: dict[str, Any] = {}
    for field in ("platform", "commit", "run_id"):
        v = data.get(field)
        if not isinstance(v, str) or not v.strip():
            raise invalid(field, "is required and must be a non-blank string")
        if len(v) > 512:
            raise invalid(field, "is too long")
        out[field] = v
    for field in ("passed", "failed", "skipped", "total"):
        v = data.get(field)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= INT32_MAX:
            raise invalid(field, "must be a whole number ≥ 0")
        out[field] = v
    if out["total"] != out["passed"] + out["failed"] + out["skipped"]:
        raise invalid("total", "must equal passed + failed + skipped")
    for field in ("url_html", "workflow_run_url"):
        if not absolute_http_url(data.get(field)):
            raise invalid(field, "must be an absolute http(s) URL")
        out[field] = data[field]
    ts = data.get("timestamp")
    when = parse_timestamp(ts) if isinstance(ts, str) else None
    if when is None:
        raise invalid("timestamp", "must be an ISO-8601 date and time")
    out["timestamp"] = iso_ms(when) if when.microsecond % 1000 == 0 else when.strftime(TS_KEY_FORMAT)
    return out, when
