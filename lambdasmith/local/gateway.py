"""The HTTP front of every `lambdasmith serve` endpoint: an ASGI application that granian (a
Rust/hyper HTTP server) runs, doing on one machine what API Gateway does in front of a function.

hyper parses HTTP/1.1 strictly (a smuggling shape — two Content-Lengths, `Content-Length : 5`,
`Transfer-Encoding: xchunked`, `+5` — is a 400 and a closed connection) and closes a connection
that has not sent a complete request head within the head timeout. What the server cannot know
is done here, per request, before an endpoint sees it:

- a method no endpoint serves → 501 with a JSON body;
- a body over the endpoint's cap → 413, and the body is never kept: read away when it is not
  huge (the client reads its answer, the connection stays usable), else refused unread and the
  connection closed;
- a body that does not arrive within the body timeout → 408, connection closed;
- the endpoint runs on a handler thread (`lambdasmith.local.threads`), never on the event loop;
- response headers with CR, LF or NUL, or names that are not HTTP tokens, never reach the wire:
  502, and the reason in the log (as API Gateway refuses a malformed integration response);
- one access-log line per request (`lambdasmith.local.access_log`).

ASGI rather than granian's own RSGI (faster by a third on a hello world): RSGI hands over the
*decoded* path, and `/badges/tests/linux/o/r/feature%2Fx` must reach the function as sent.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import traceback
from typing import TYPE_CHECKING, Any, Awaitable, Callable

from lambdasmith.kit.ids import uuid4
from lambdasmith.local.access_log import AccessLog, client_ip
from lambdasmith.local.apigw import HttpResult
from lambdasmith.local.threads import Threads

if TYPE_CHECKING:
    from lambdasmith.local.endpoints import Endpoint
    from lambdasmith.local.serve_config import ServeConfig

__all__ = ["Gateway", "Request", "header_problem"]

KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
HOP_BY_HOP = frozenset({"content-length", "connection", "transfer-encoding", "keep-alive", "upgrade"})
DISCARD_LIMIT = 16 * 1024 * 1024  # an oversized body up to this is read away, not kept (see _read_body)
_TOKEN = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class Request:
    """One HTTP request as an endpoint is given it: the target as it came on the wire (path and
    query still percent-encoded), headers in order with lower-case names, the whole body."""

    __slots__ = ("method", "target", "headers", "body", "client_ip", "peer_ip", "request_id", "protocol", "scheme",
                 "port")  # fmt: skip

    def __init__(self, method: str, target: str, headers: list[tuple[str, str]], body: bytes, client_ip: str,
                 peer_ip: str, request_id: str, protocol: str = "HTTP/1.1", scheme: str = "http",
                 port: int = 0) -> None:  # fmt: skip
        self.method, self.target, self.headers, self.body = method, target, headers, body
        self.client_ip, self.peer_ip, self.request_id = client_ip, peer_ip, request_id
        self.protocol, self.scheme, self.port = protocol, scheme, port  # as the client spoke to us

    def header(self, name: str) -> str | None:
        """The first value of a header (name in lower case)."""
        for k, v in self.headers:
            if k == name:
                return v
        return None


def _protocol(http_version: str) -> str:
    """The request line's protocol. granian reports HTTP/1.0 as "1" (ASGI says "1.0")."""
    return "HTTP/" + {"1": "1.0"}.get(http_version, http_version)


def header_problem(headers: list[tuple[str, str]]) -> str | None:
    """Why these response headers cannot be sent, or None."""
    for name, value in headers:
        if not name or not _TOKEN.issuperset(name):
            return f"header name {name[:64]!r} is not an HTTP token"
        if "\r" in value or "\n" in value or "\0" in value:
            return f"header {name!r} has CR, LF or NUL in its value"
    return None


def _encode(text: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8")


class _Abort(Exception):
    """The client went away before its request was complete: nothing to answer."""


class Gateway:
    """The ASGI application of one endpoint (one per worker process)."""

    def __init__(self, endpoint: Endpoint, config: ServeConfig) -> None:
        self.endpoint = endpoint
        self.body_timeout_s = config.body_timeout_s
        self.proxies = config.proxies()
        self.log = AccessLog(endpoint.name, config.console()) if config.access_log else None
        self.threads = Threads(config.threads, endpoint.name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.threads.run(lambda _: self.endpoint.start(), None)
                except Exception as e:
                    await send({"type": "lifespan.startup.failed", "message": f"{type(e).__name__}: {e}"})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                try:
                    await self.threads.run(lambda _: self.endpoint.stop(), None)
                finally:
                    await send({"type": "lifespan.shutdown.complete"})
                return

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        method = scope["method"]
        raw_path = scope.get("raw_path") or scope["path"].encode("utf-8")
        target = raw_path.decode("latin-1")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("latin-1")
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        peer = (scope.get("client") or ("", 0))[0]
        forwarded = next((v for k, v in headers if k == "x-forwarded-for"), None) if self.proxies else None
        request = Request(method, target, headers, b"", client_ip(peer, forwarded, self.proxies), peer, uuid4(),
                          _protocol(scope.get("http_version", "1.1")), scope.get("scheme", "http"),
                          (scope.get("server") or ("", 0))[1] or 0)  # fmt: skip
        close = False
        try:
            result = self._refusal(request)
            if result is None:
                result, close = await self._read_body(request, receive)
            if result is None:
                result = await self._run(request)
        except _Abort:
            self._log(request, 499, 0, started)
            return
        problem = header_problem(result.headers)
        if not 200 <= result.status <= 599:
            problem = f"status {result.status} is not a final HTTP status"
        if problem:
            sys.stderr.write(json.dumps({"level": "ERROR", "service": self.endpoint.name, "message": "response refused",
                                         "reason": problem, "request_id": request.request_id}) + "\n")  # fmt: skip
            result = self.endpoint.error(502, "Internal Server Error", request.request_id)
        await self._send(result, method, close, send)
        self._log(request, result.status, 0 if method == "HEAD" else len(result.body), started)

    def _refusal(self, request: Request) -> HttpResult | None:
        """What is answered before the body is read, if anything."""
        if request.method not in KNOWN_METHODS:
            return self.endpoint.error(501, f"Method {request.method} is not implemented", request.request_id)
        return self.endpoint.admit(request)

    async def _read_body(self, request: Request, receive: Receive) -> tuple[HttpResult | None, bool]:
        """The whole body within the body timeout and the cap; or the answer instead, and whether
        the connection must then close.

        A body over the cap is never kept: when it is at most DISCARD_LIMIT it is read and dropped
        (within the same timeout), so the client reads its 413 and the connection stays usable;
        a bigger one — or one the client would only send after `100 Continue` — is refused at once
        and the connection closed, unread."""
        length = request.header("content-length")
        if length in (None, "0") and request.header("transfer-encoding") is None:
            return None, False  # no body: nothing to wait for
        cap = self.endpoint.max_body
        if length is not None and not length.isdigit():  # hyper lets only digits through; in case
            return self.endpoint.error(400, "Invalid Content-Length", request.request_id), True
        if length is not None and int(length) > cap:
            if int(length) > DISCARD_LIMIT or (request.header("expect") or "").lower() == "100-continue":
                return self.endpoint.error(413, "Request Entity Too Large", request.request_id), True
        chunks: list[bytes] = []
        size = 0
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout_at(loop.time() + self.body_timeout_s):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _Abort()
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > DISCARD_LIMIT:
                        return self.endpoint.error(413, "Request Entity Too Large", request.request_id), True
                    if chunk and size <= cap:
                        chunks.append(chunk)
                    if not message.get("more_body"):
                        break
        except TimeoutError:
            return self.endpoint.error(408, "Request Timeout", request.request_id), True
        if size > cap:
            return self.endpoint.error(413, "Request Entity Too Large", request.request_id), False
        request.body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        return None, False

    async def _run(self, request: Request) -> HttpResult:
        try:
            return await self.threads.run(self.endpoint.handle, request)
        except Exception:  # our own failure, never the function's (that is the endpoint's 502)
            sys.stderr.write(f"{self.endpoint.name}: internal error on {request.request_id}\n{traceback.format_exc()}")
            return self.endpoint.error(500, "Internal Server Error", request.request_id)

    async def _send(self, result: HttpResult, method: str, close: bool, send: Send) -> None:
        status = result.status
        out = []
        length = None
        for name, value in result.headers:
            lower = name.lower()
            if lower in HOP_BY_HOP:
                if lower == "content-length":
                    length = value
                continue
            out.append((lower.encode("latin-1"), _encode(value)))
        body = result.body
        if method == "HEAD" or status in (204, 304) or status < 200:
            if method == "HEAD" and status not in (204, 304):
                out.append((b"content-length", _encode(length if length and length.isdigit() else str(len(body)))))
            body = b""
        if close:
            out.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})

    def _log(self, request: Request, status: int, size: int, started: float) -> None:
        if self.log is not None:
            ms = (time.perf_counter() - started) * 1000
            self.log.write(request.client_ip, request.method, request.target, status, size, ms, request.request_id)
