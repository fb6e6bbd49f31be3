"""An HTTP client for calling upstream APIs from a Lambda handler.

Why not `urllib.request`: it opens a new TCP (and TLS) connection per call, which on Lambda costs
more than the call itself, and it has no retry policy. This client keeps keep-alive connections per
origin across warm invocations (`kit.http.wire`, which also spares a cold start `http.client`),
retries transient failures with jittered exponential backoff, honours `Retry-After`, and decodes
gzip.

Only GET: retrying is safe because it is idempotent.
"""

from __future__ import annotations

import time

from lambdasmith.kit.http.wire import Pool, WireError
from lambdasmith.kit.retry import full_jitter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable, Mapping

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "RETRY_AFTER_CAP",
    "MAX_BODY",
    "MAX_IDLE_PER_ORIGIN",
    "UpstreamError",
    "UpstreamResponse",
    "parse_retry_after",
    "parse_link_header",
    "UpstreamClient",
]

BACKOFF_BASE = 0.2  # seconds; full jitter: sleep uniform(0, min(CAP, BASE * 2**attempt))
BACKOFF_CAP = 5.0
RETRY_AFTER_CAP = 30.0  # a longer Retry-After outlives the caller's patience: give up instead
MAX_BODY = 32 * 1024 * 1024  # decoded bytes; guards a Lambda's memory against a runaway upstream
MAX_IDLE_PER_ORIGIN = 4


class UpstreamError(Exception):
    """No usable HTTP response: a transport failure that outlived the retries, or a body too large
    or undecodable."""

    def __init__(self, message: str, url: str) -> None:
        super().__init__(f"{message} ({url})")
        self.url = url


class _BadBody(Exception):
    """A response whose body could not be decoded; treated like a transport failure."""


class _TooLarge(Exception):
    """A body over MAX_BODY; not retried, since the next attempt would be as large."""


class UpstreamResponse:
    """Status, headers (lower-cased names; repeated headers such as `link` joined with ", ")
    and the body, already gunzipped (then `content-encoding`/`content-length` are dropped)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes):
        self.status = status
        self.headers = headers
        self.body = body

    def __repr__(self) -> str:
        return f"UpstreamResponse({self.status}, {len(self.body)} bytes)"

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        """The body as JSON; ValueError (kit/jsonread.py) when it is not, or is too deep."""
        from lambdasmith.kit import jsonread

        return jsonread.loads(self.body)


def _retryable(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


def parse_retry_after(value: str, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` value (delta-seconds or HTTP-date); None if invalid."""
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(int(value))
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT; parsedate gives naive for "-0000"
        from datetime import timezone

        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def parse_link_header(value: str) -> dict[str, str]:
    """`<url>; rel="next", <url>; rel="last"` → {"next": url, "last": url}."""
    links: dict[str, str] = {}
    for part in value.split(","):
        target, _, params = part.strip().partition(";")
        target = target.strip()
        if not (target.startswith("<") and target.endswith(">")):
            continue
        for param in params.split(";"):
            name, _, val = param.strip().partition("=")
            if name.strip().lower() == "rel":
                for rel in val.strip().strip('"').split():
                    links.setdefault(rel.lower(), target[1:-1])
    return links


def _gunzip(data: bytes) -> bytes:
    import zlib

    out: list[bytes] = []
    size = 0
    while data:
        decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            chunk = decoder.decompress(data, MAX_BODY + 1 - size)
        except zlib.error as exc:
            raise _BadBody(f"bad gzip body: {exc}") from exc
        size += len(chunk)
        out.append(chunk)
        if size > MAX_BODY:
            raise _TooLarge()
        if not decoder.eof:
            raise _BadBody("truncated gzip body")
        data = decoder.unused_data  # concatenated gzip members
    return b"".join(out)


class UpstreamClient:
    """GET with keep-alive reuse, retries and gzip; safe to share between threads.

    Retries (up to `retries` after the first attempt) cover 429, 5xx, timeouts and connection
    errors. When they run out the last HTTP response is returned as is (callers decide what a 503
    means); a transport failure raises `UpstreamError`. A reused keep-alive connection that the
    server had already closed is replaced once, immediately, without counting as a retry.
    """

    def __init__(
        self,
        user_agent: str,
        timeout: float = 10.0,
        retries: int = 3,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.user_agent = user_agent
        self.timeout = timeout
        self.retries = max(0, retries)
        self._sleep = sleep
        self._rng = rng
        self._clock = clock
        self._pool = Pool(timeout, MAX_IDLE_PER_ORIGIN)

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> UpstreamResponse:
        send = {"user-agent": ("User-Agent", self.user_agent), "accept-encoding": ("Accept-Encoding", "gzip")}
        for name, value in (headers or {}).items():
            send[name.lower()] = (name, value)
        attempt = 0
        while True:
            response: UpstreamResponse | None = None
            failure: BaseException | None = None
            try:
                response = self._exchange(url, list(send.values()))
            except (OSError, _BadBody) as exc:  # WireError and socket timeouts are OSErrors
                failure = exc
            if response is not None and not _retryable(response.status):
                return response
            if attempt >= self.retries:
                break
            delay = full_jitter(attempt, BACKOFF_BASE, BACKOFF_CAP, self._rng)
            if response is not None and "retry-after" in response.headers:
                wait = parse_retry_after(response.headers["retry-after"], self._clock())
                if wait is not None:
                    if wait > RETRY_AFTER_CAP:
                        return response
                    delay = wait
            self._sleep(delay)
            attempt += 1
        if response is not None:
            return response
        raise UpstreamError(f"{type(failure).__name__}: {failure}", url) from failure

    def close(self) -> None:
        """Close idle connections (in-flight ones close when their request ends)."""
        self._pool.close()

    def __enter__(self) -> UpstreamClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _exchange(self, url: str, headers: list[tuple[str, str]]) -> UpstreamResponse:
        try:
            resp = self._pool.request("GET", url, headers, max_body=MAX_BODY)
        except WireError as e:
            if "exceeds" in str(e):
                raise UpstreamError(f"body over {MAX_BODY} bytes", url) from None
            raise
        merged: dict[str, str] = {}
        for key, value in resp.headers:
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        body = resp.body
        if merged.get("content-encoding", "").strip().lower() in ("gzip", "x-gzip") and body:
            try:
                body = _gunzip(body)
            except _TooLarge:
                raise UpstreamError(f"body over {MAX_BODY} bytes", url) from None
            merged.pop("content-encoding", None)
            merged.pop("content-length", None)
        return UpstreamResponse(resp.status, merged, body)
