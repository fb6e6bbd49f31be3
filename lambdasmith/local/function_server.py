"""An HTTP server in front of one function, as API Gateway puts one there: each request becomes
a payload 1.0 (REST API) or 2.0 (HTTP API) event, runs through `lambdasmith.local.invocation`
on a thread of this process, and the function's result becomes the response.

`RequestHandler` is the request handling both `lambdasmith serve`'s systems and the Function URLs
(`lambdasmith.local.function_urls`) use: keep-alive, a bounded Content-Length body (no chunked
bodies), the access log on stderr; a subclass replaces `_invoke`.
"""

from __future__ import annotations

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from lambdasmith.local import invocation
from lambdasmith.local.apigw import HttpResult, v1_event, v1_result, v2_event, v2_result
from lambdasmith.local.invocation import MAX_SYNC_PAYLOAD
from lambdasmith.local.servers import LocalServer

__all__ = ["FunctionServer", "RequestHandler"]


class FunctionServer(LocalServer, ThreadingHTTPServer):
    """One function behind an API Gateway of payload version `payload` ("1.0" or "2.0")."""

    def __init__(self, address: tuple[str, int], name: str, function: invocation.Function, payload: str = "2.0",
                 access_log: bool = True):  # fmt: skip
        super().__init__(address, RequestHandler)
        self.function_name = name  # in the access log
        self.function = function
        self.payload = payload
        self.access_log = access_log


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FunctionServer

    def _handle(self) -> None:
        started = time.perf_counter()
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            result = self._reply_error(411, "Content-Length required")
        else:
            try:
                n = int(length or 0)
            except ValueError:
                n = -1
            if n < 0:
                result = self._reply_error(400, "Invalid Content-Length")
            elif n > MAX_SYNC_PAYLOAD:
                self.close_connection = True
                result = self._reply_error(413, "Request Entity Too Large")
            else:
                body = self.rfile.read(n) if n else b""
                result = self._invoke(body)
        self._send(result)
        if self.server.access_log:
            ms = (time.perf_counter() - started) * 1000
            sys.stderr.write(f"{self.server.function_name} {self.command} {self.path} {result.status} {ms:.1f}ms\n")

    def _invoke(self, body: bytes) -> HttpResult:
        rest = self.server.payload == "1.0"
        if rest:
            event = v1_event(self.command, self.path, list(self.headers.items()), body, source_ip=self.client_address[0])
        else:
            event = v2_event(self.command, self.path, list(self.headers.items()), body,
                             source_ip=self.client_address[0], host=self.headers.get("Host", "localhost"))  # fmt: skip
        # The gateway takes the result as it is, and keeps its own log (the access log below).
        outcome = invocation.invoke(self.server.function, event, marshal=False, log=None)
        if outcome.function_error:  # a handler that raises is a 502 at the gateway, as on AWS
            error = repr(outcome.exception) if outcome.exception is not None else outcome.error_message
            sys.stderr.write(json.dumps({"level": "ERROR", "message": "handler raised", "error": error}) + "\n")
            return self._reply_error(502, "Internal Server Error")
        return v1_result(outcome.result) if rest else v2_result(outcome.result)

    def _reply_error(self, status: int, message: str) -> HttpResult:
        return HttpResult(status, [("Content-Type", "application/json")], json.dumps({"message": message}).encode())

    def _send(self, result: HttpResult) -> None:
        self.send_response(result.status)
        names = set()
        for k, v in result.headers:
            if k.lower() in ("content-length", "connection", "transfer-encoding"):
                continue
            names.add(k.lower())
            self.send_header(k, v)
        if self.command == "HEAD":
            given = dict((k.lower(), v) for k, v in result.headers).get("content-length")
            self.send_header("Content-Length", given or str(len(result.body)))
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(result.body)))
        self.end_headers()
        if result.body and result.status not in (204, 304):
            self.wfile.write(result.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:  # our own access log instead
        pass
