"""An HTTP client for calling upstream APIs from a Lambda handler.

Why not `urllib.request`: it opens a new TCP (and TLS) connection per call, which on Lambda costs
more than the call itself, and it has no retry policy. This client keeps keep-alive connections per
origin across warm invocations, retries transient failures with jittered exponential backoff,
honours `Retry-After`, and decodes gzip. `http.client` and `ssl` are imported only when the first
connection opens, so importing this module stays cheap for handlers that never call out.

Only GET: retrying is safe because it is idempotent.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Mapping

BACKOFF_BASE = 0.2  # seconds; full jitter: sleep uniform(0, min(CAP, BASE * 2**attempt))
BACKOFF_CAP = 5.0
RETRY_AFTER_CAP = 30.0  # a longer Retry-After outlives the caller's patience: give up instead
MAX_BODY = 32 * 1024 * 1024  # decoded bytes; guards a Lambda's memory against a runaway upstream
MAX_IDLE_PER_ORIGIN = 4

Origin = tuple[str, str, int]


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


@dataclass(frozen=True, slots=True)
class UpstreamResponse:
    """Status, headers (lower-cased names; repeated headers such as `link` joined with ", ")
    and the body, already gunzipped (then `content-encoding`/`content-length` are dropped)."""

    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        import json

        return json.loads(self.body)


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
        self._lock = threading.Lock()
        self._idle: dict[Origin, list[Any]] = {}
        self._ssl_context: Any = None

    # ------------------------------------------------------------------------------ public

    def get(self, url: str, headers: Mapping[str, str] | None = None) -> UpstreamResponse:
        import http.client

        origin, target = _split(url)
        send = {"User-Agent": self.user_agent, "Accept-Encoding": "gzip"}
        for name, value in (headers or {}).items():
            for existing in [k for k in send if k.lower() == name.lower()]:
                del send[existing]
            send[name] = value
        transport_errors = (OSError, http.client.HTTPException, _BadBody)
        attempt = 0
        while True:
            response: UpstreamResponse | None = None
            failure: BaseException | None = None
            try:
                response = self._exchange(origin, target, send)
            except transport_errors as exc:
                failure = exc
            if response is not None and not _retryable(response.status):
                return response
            if attempt >= self.retries:
                break
            delay = self._backoff(attempt)
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
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def __enter__(self) -> UpstreamClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------ internals

    def _backoff(self, attempt: int) -> float:
        rng = self._rng
        if rng is None:
            import random

            rng = random.random
        return rng() * min(BACKOFF_CAP, BACKOFF_BASE * (2**attempt))

    def _exchange(self, origin: Origin, target: str, headers: dict[str, str]) -> UpstreamResponse:
        import http.client

        conn, reused = self._checkout(origin)
        try:
            try:
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionError) as exc:
                # A keep-alive socket the server closed while it sat idle: replace it once.
                conn.close()
                if not reused or isinstance(exc, ConnectionRefusedError):
                    raise
                conn, reused = self._connect(origin), False
                conn.request("GET", target, headers=headers)
                resp = conn.getresponse()
            body = resp.read(MAX_BODY + 1)
            if len(body) > MAX_BODY:
                raise _TooLarge()
            merged: dict[str, str] = {}
            for name, value in resp.getheaders():
                key = name.lower()
                merged[key] = f"{merged[key]}, {value}" if key in merged else value
            if merged.get("content-encoding", "").strip().lower() in ("gzip", "x-gzip") and body:
                body = _gunzip(body)
                merged.pop("content-encoding", None)
                merged.pop("content-length", None)
            reusable = resp.isclosed() and not resp.will_close
        except _TooLarge:
            conn.close()
            raise UpstreamError(f"body over {MAX_BODY} bytes", _url(origin, target)) from None
        except BaseException:
            conn.close()
            raise
        self._checkin(origin, conn, reusable)
        return UpstreamResponse(resp.status, merged, body)

    def _checkout(self, origin: Origin) -> tuple[Any, bool]:
        with self._lock:
            idle = self._idle.get(origin)
            if idle:
                return idle.pop(), True
        return self._connect(origin), False

    def _checkin(self, origin: Origin, conn: Any, reusable: bool) -> None:
        if reusable:
            with self._lock:
                idle = self._idle.setdefault(origin, [])
                if len(idle) < MAX_IDLE_PER_ORIGIN:
                    idle.append(conn)
                    return
        conn.close()

    def _connect(self, origin: Origin) -> Any:
        import http.client

        scheme, host, port = origin
        if scheme == "http":
            return http.client.HTTPConnection(host, port, timeout=self.timeout)
        with self._lock:
            if self._ssl_context is None:
                import ssl

                self._ssl_context = ssl.create_default_context()
            context = self._ssl_context
        return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=context)


def _split(url: str) -> tuple[Origin, str]:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = parts.port or (443 if scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return (scheme, parts.hostname, port), target


def _url(origin: Origin, target: str) -> str:
    scheme, host, port = origin
    return f"{scheme}://{host}:{port}{target}"
