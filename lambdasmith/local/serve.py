"""`lambdasmith serve`: every system on one machine, each on its own port.

    BASE+0  badges          (HTTP API, payload 2.0)
    BASE+1  wardrobe        (REST API, payload 1.0)        — later issue
    BASE+2  shell    shell functions (Function URLs; lambdasmith.local.function_urls)
    BASE+3  invoke          (Lambda Invoke API for every function, sync and async)

Each request runs the same handler that runs on Lambda, in this process, on a thread.
API Gateway systems are in SYSTEMS; endpoints of the platform itself (the Invoke API) in PLATFORM.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Callable

from lambdasmith.local.functions import load
from lambdasmith.local.apigw import (
    MAX_REQUEST_BYTES,
    Context,
    HttpResult,
    LambdaHandler,
    v1_event,
    v1_result,
    v2_event,
    v2_result,
)

if TYPE_CHECKING:
    from lambdasmith.local.function_urls import FunctionUrlServer
    from lambdasmith.local.invoke import InvokeServer

SYSTEMS: dict[str, tuple[int, str, str]] = {
    # name: (port offset, "module:attribute" of the Lambda handler, API Gateway payload version)
    "badges": (0, "lambdasmith.badges.app:handler", "2.0"),  # HTTP API
    "wardrobe": (1, "lambdasmith.wardrobe.api:handler", "1.0"),  # REST API
}

PLATFORM: dict[str, int] = {
    # name: port offset of a platform endpoint that serves every function rather than one system
    "shell": 2,  # Function URLs of the shell functions, /{function}/… (lambdasmith.local.function_urls)
    "invoke": 3,  # Lambda Invoke API (lambdasmith.local.invoke), with its async-invocation workers
}

SERVABLE = [*SYSTEMS, *PLATFORM]


class FunctionServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], name: str, handler: LambdaHandler, payload: str = "2.0",
                 access_log: bool = True):  # fmt: skip
        super().__init__(address, _RequestHandler)
        self.function_name = name
        self.lambda_handler = handler
        self.payload = payload
        self.access_log = access_log

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class _RequestHandler(BaseHTTPRequestHandler):
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
            elif n > MAX_REQUEST_BYTES:
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
        ctx = Context(self.server.function_name)
        try:
            result = self.server.lambda_handler(event, ctx)
        except Exception as e:  # a handler that raises is a 502 at the gateway, as on AWS
            sys.stderr.write(json.dumps({"level": "ERROR", "message": "handler raised", "error": repr(e)}) + "\n")
            return self._reply_error(502, "Internal Server Error")
        return v1_result(result) if rest else v2_result(result)

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


def open_server(name: str, host: str, base_port: int, data_dir: str) -> FunctionServer | InvokeServer | FunctionUrlServer:
    """The HTTP server of one system or platform endpoint, bound to BASE+offset (any port for 0)."""
    offset = SYSTEMS[name][0] if name in SYSTEMS else PLATFORM[name]
    address = (host, base_port + offset if base_port else 0)
    if name == "invoke":
        from lambdasmith.local.function_urls import invoke_runners
        from lambdasmith.local.invoke import InvokeServer

        return InvokeServer(address, data_dir, runners=invoke_runners())  # its async workers stop in server_close
    if name == "shell":
        from lambdasmith.local.function_urls import FunctionUrlServer, shell_functions

        return FunctionUrlServer(address, shell_functions())
    _, ref, payload = SYSTEMS[name]
    return FunctionServer(address, name, load(ref), payload)


def serve(systems: list[str], host: str, base_port: int, data_dir: str, ready: Callable[[dict[str, str]], None] | None = None) -> None:
    os.environ["LAMBDASMITH_DATA_DIR"] = os.path.abspath(data_dir)
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    # Before anything answers: a client may stop us as soon as its first request is served.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    servers = {name: open_server(name, host, base_port, os.environ["LAMBDASMITH_DATA_DIR"]) for name in systems}
    pumps = start_pumps(systems)
    urls = {name: s.url for name, s in servers.items()}
    print("lambdasmith serve — data in " + os.environ["LAMBDASMITH_DATA_DIR"], flush=True)
    for name, url in urls.items():
        print(f"  {name:<10} {url}", flush=True)
    if "wardrobe" in systems:
        print("  (a wardrobe token: lambdasmith wardrobe token USER)", flush=True)
    if ready:
        ready(urls)
    threads = [threading.Thread(target=s.serve_forever, name=name, daemon=True) for name, s in servers.items()]
    for t in threads:
        t.start()
    stop.wait()
    for p in pumps:
        p.stop()
    for s in servers.values():
        s.shutdown()
        s.server_close()
    if "shell" in systems or "invoke" in systems:
        from lambdasmith.local.function_urls import close_shell_functions

        close_shell_functions()  # the shell functions' bootstraps


def start_pumps(systems: list[str]) -> list[Any]:
    """Event source mappings of the served systems: the wardrobe's share queue → its worker."""
    pumps = []
    if "wardrobe" in systems:
        from lambdasmith.local.pump import QueuePump
        from lambdasmith.wardrobe.config import WardrobeConfig
        from lambdasmith.wardrobe.wiring import ensure_local_secret, open_share_queue
        from lambdasmith.wardrobe.worker import handler as worker

        config = WardrobeConfig.from_env()
        if config.secret_backend == "sqlite":
            ensure_local_secret(config)
        visibility = int(os.environ.get("WARDROBE_VISIBILITY_TIMEOUT", "30"))
        pump = QueuePump(open_share_queue(config), worker, visibility_timeout_s=visibility)
        pump.start()
        pumps.append(pump)
    return pumps


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="serve every system locally")
    p.add_argument("systems", nargs="*", metavar="SYSTEM", help=f"systems to serve (default: all of {', '.join(SERVABLE)})")
    p.add_argument("--host", default=os.environ.get("LAMBDASMITH_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("LAMBDASMITH_PORT", "8000")),
                   help="base port (badges on BASE, wardrobe BASE+1, shell BASE+2, invoke API BASE+3); 0 = ephemeral")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    unknown = [s for s in args.systems if s not in SERVABLE]
    if unknown:
        print(f"lambdasmith serve: unknown system {unknown[0]!r} (one of {', '.join(SERVABLE)})", file=sys.stderr)
        return 2
    try:
        serve(args.systems or SERVABLE, args.host, args.port, args.data_dir)
    except (OSError, ValueError) as e:  # a port in use, a bad setting (e.g. of the invoke API)
        print(f"lambdasmith serve: {e}", file=sys.stderr)
        return 1
    return 0
