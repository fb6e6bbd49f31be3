"""A lean HTTP/1.1 client over `socket`, with pooled keep-alive connections.

`http.client` drags the `email` package into a cold start (~15 ms here); the upstream client and
the AWS client need only this: one request at a time per connection, Content-Length or chunked
bodies, TLS through `ssl` (imported on the first https connection only), and connections kept
alive between warm invocations.
"""

from __future__ import annotations

import socket
import threading

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ssl import SSLContext
    from types import ModuleType
    from typing import BinaryIO

__all__ = [
    "MAX_LINE",
    "MAX_HEADERS",
    "WireError",
    "Disconnected",
    "Response",
    "Connection",
    "split_url",
    "Pool",
]

MAX_LINE = 65536
MAX_HEADERS = 200


class WireError(OSError):
    """The peer broke the HTTP protocol or the connection."""


class Disconnected(WireError):
    """The peer closed the connection before answering (a stale keep-alive connection)."""


class Response:
    __slots__ = ("status", "reason", "headers", "body")

    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.reason = reason
        self.headers = headers  # (lower-cased name, value), in order, repeats kept
        self.body = body

    def header(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def header_values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name]


class Connection:
    """One HTTP/1.1 connection; not thread-safe (the pool hands it to one caller at a time)."""

    def __init__(self, scheme: str, host: str, port: int, timeout: float):
        self.scheme, self.host, self.port, self.timeout = scheme, host, port, timeout
        self.sock: socket.socket | None = None
        self.file: BinaryIO | None = None
        self.used = False  # has answered at least one request (so it may have gone stale)
        self.max_body: int | None = None

    def open(self) -> None:
        sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.scheme == "https":
            import ssl

            sock = _tls_context(ssl).wrap_socket(sock, server_hostname=self.host)
        self.sock = sock
        self.file = sock.makefile("rb")

    def close(self) -> None:
        for c in (self.file, self.sock):
            if c is not None:
                try:
                    c.close()
                except OSError:
                    pass
        self.sock = self.file = None

    def request(
        self, method: str, target: str, headers: list[tuple[str, str]], body: bytes = b"", max_body: int | None = None
    ) -> tuple[Response, bool]:
        """Send one request; the response and whether the connection may be reused."""
        self.max_body = max_body
        lines = [f"{method} {target} HTTP/1.1"]
        names = set()
        for k, v in headers:
            if "\r" in k or "\n" in k or "\r" in v or "\n" in v:
                raise ValueError("header names and values must not contain CR or LF")
            names.add(k.lower())
            lines.append(f"{k}: {v}")
        if "host" not in names:
            default = 443 if self.scheme == "https" else 80
            lines.append(f"Host: {self.host}" + ("" if self.port == default else f":{self.port}"))
        if body or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if self.sock is None:
            self.open()
        assert self.sock is not None and self.file is not None
        self.sock.settimeout(self.timeout)
        self.sock.sendall(head + body if len(body) < 65536 else head)
        if len(body) >= 65536:
            self.sock.sendall(body)
        self.used = True
        return self._read_response(method)

    def _readline(self) -> bytes:
        assert self.file is not None
        line = self.file.readline(MAX_LINE + 1)
        if len(line) > MAX_LINE:
            raise WireError("header line too long")
        return line

    def _read_response(self, method: str) -> tuple[Response, bool]:
        while True:
            status_line = self._readline()
            if not status_line:
                raise Disconnected("connection closed before a response")
            parts = status_line.decode("latin-1").rstrip("\r\n").split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
                raise WireError(f"bad status line {status_line[:80]!r}")
            version, status = parts[0], int(parts[1])
            reason = parts[2] if len(parts) > 2 else ""
            headers = self._read_headers()
            if status != 100:  # skip interim responses
                break
        keep = version == "HTTP/1.1"
        conn = ",".join(v for k, v in headers if k == "connection").lower()
        if "close" in conn:
            keep = False
        elif "keep-alive" in conn:
            keep = True
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return Response(status, reason, headers, b""), keep
        te = ",".join(v for k, v in headers if k == "transfer-encoding").lower()
        if "chunked" in te:
            body = self._read_chunked()
        else:
            length = next((v for k, v in headers if k == "content-length"), None)
            if length is not None:
                try:
                    n = int(length)
                except ValueError:
                    raise WireError(f"bad Content-Length {length!r}") from None
                body = self._read_exact(n)
            else:
                assert self.file is not None
                limit = -1 if self.max_body is None else self.max_body + 1
                body = self.file.read(limit)  # delimited by close
                if self.max_body is not None and len(body) > self.max_body:
                    raise WireError(f"response body exceeds {self.max_body} bytes")
                keep = False
        return Response(status, reason, headers, body), keep

    def _read_headers(self) -> list[tuple[str, str]]:
        headers: list[tuple[str, str]] = []
        while True:
            line = self._readline()
            if line in (b"\r\n", b"\n", b""):
                return headers
            if len(headers) >= MAX_HEADERS:
                raise WireError("too many headers")
            text = line.decode("latin-1").rstrip("\r\n")
            if text[:1] in (" ", "\t") and headers:  # obsolete line folding
                k, v = headers[-1]
                headers[-1] = (k, v + " " + text.strip())
                continue
            name, sep, value = text.partition(":")
            if not sep:
                raise WireError(f"bad header line {text[:80]!r}")
            headers.append((name.strip().lower(), value.strip()))

    def _read_exact(self, n: int) -> bytes:
        assert self.file is not None
        if self.max_body is not None and n > self.max_body:
            raise WireError(f"response body exceeds {self.max_body} bytes")
        data = self.file.read(n)
        if len(data) != n:
            raise Disconnected(f"connection closed after {len(data)} of {n} body bytes")
        return data

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_line = self._readline().split(b";", 1)[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise WireError(f"bad chunk size {size_line[:20]!r}") from None
            if size == 0:
                self._read_headers()  # trailers
                return b"".join(chunks)
            chunks.append(self._read_exact(size))
            self._readline()
            if self.max_body is not None and sum(map(len, chunks)) > self.max_body:
                raise WireError(f"response body exceeds {self.max_body} bytes")


_tls: SSLContext | None = None


def _tls_context(ssl: ModuleType) -> SSLContext:
    global _tls
    if _tls is None:
        _tls = ssl.create_default_context()
    return _tls


def split_url(url: str) -> tuple[str, str, int, str]:
    """scheme, host, port, target (path + query) — without urllib.parse."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    authority, slash, path = rest.partition("/")
    target = slash + path if slash else "/"
    if "?" in authority:
        authority, _, q = authority.partition("?")
        target = "/?" + q
    authority = authority.rpartition("@")[2]
    if authority.startswith("["):  # IPv6 literal
        host, _, port_s = authority[1:].partition("]")
        port_s = port_s.lstrip(":")
    else:
        host, _, port_s = authority.partition(":")
    port = int(port_s) if port_s else (443 if scheme == "https" else 80)
    if not host:
        raise ValueError(f"URL has no host: {url!r}")
    return scheme, host, port, target


class Pool:
    """Idle keep-alive connections per origin, shared by threads."""

    def __init__(self, timeout: float = 10.0, max_idle_per_origin: int = 4):
        self.timeout = timeout
        self.max_idle = max_idle_per_origin
        self._idle: dict[tuple[str, str, int], list[Connection]] = {}
        self._lock = threading.Lock()

    def request(
        self,
        method: str,
        url: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        timeout: float | None = None,
        max_body: int | None = None,
    ) -> Response:
        """One request. A stale pooled connection is replaced transparently, once; any other
        failure raises (retry policy belongs to the caller, who knows what is safe to repeat)."""
        scheme, host, port, target = split_url(url)
        origin = (scheme, host, port)
        conn = self._take(origin)
        fresh = conn is None
        if conn is None:
            conn = Connection(scheme, host, port, self.timeout if timeout is None else timeout)
        elif timeout is not None:
            conn.timeout = timeout
        try:
            response, keep = conn.request(method, target, headers or [], body, max_body)
        except (Disconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError):
            conn.close()
            if fresh:
                raise
            conn = Connection(scheme, host, port, self.timeout if timeout is None else timeout)
            try:
                response, keep = conn.request(method, target, headers or [], body, max_body)
            except BaseException:
                conn.close()
                raise
        except BaseException:
            conn.close()
            raise
        if keep:
            self._give(origin, conn)
        else:
            conn.close()
        return response

    def _take(self, origin: tuple[str, str, int]) -> Connection | None:
        with self._lock:
            idle = self._idle.get(origin)
            return idle.pop() if idle else None

    def _give(self, origin: tuple[str, str, int], conn: Connection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.max_idle:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for c in conns:
            c.close()
