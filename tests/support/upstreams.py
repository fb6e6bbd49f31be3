"""Fake NuGet and GitHub Packages servers on 127.0.0.1, shaped like the real responses we read.

Run them in-process (`FakeNuGet(data).start()`, a thread) or as a subprocess for end-to-end tests:

    python -m tests.support.upstreams nuget|github --port 0 --data data.json   (or --data-json '{…}')

The first stdout line is the base URL. Data shapes:
    nuget:  {"packages": {"Package.Id": ["1.0.0", "1.1.0-beta.1", …]}}
    github: {"tokens": {"org": "token"}, "packages": {"org": {"package": ["1.0.0", …]}}}
A combined file {"nuget": {…}, "github": {…}} works for both kinds.

Both fakes speak HTTP/1.1 keep-alive, answer conditional requests (ETag / If-None-Match,
Last-Modified / If-Modified-Since) with 304, gzip when asked, and have a control endpoint:
    GET  /_control  → {"requests", "connections", "fail", "times",
                       "log": [{method, path, query, headers, status}, …]}
    POST /_control  {"fail": 500, "times": 2, "retry_after": "1"}  fail the next 2 requests
                    {"fail": null}  recover;  {"reset": true}  zero counters and log
                    {"packages": {…}, "tokens": {…}}  replace data;  {"drop_connections": true}
Control requests are not counted or logged.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

ROOT = Path(__file__).resolve().parents[2]
LOG_LIMIT = 500


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    connection: int  # serial number of the TCP connection it arrived on
    status: int | None = None  # what the fake answered


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    close: bool = False  # send Connection: close and hang up after this reply
    hangup: bool = False  # send nothing at all and drop the connection (a crashed upstream)


def json_reply(status: int, obj: Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    body = json.dumps(obj).encode()
    return Reply(status, body, [("Content-Type", "application/json; charset=utf-8"), *(headers or [])])


def _etag_matches(if_none_match: str, etag: str) -> bool:
    """Weak comparison, as RFC 9110 prescribes for If-None-Match."""
    if if_none_match.strip() == "*":
        return True
    bare = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == bare for tag in if_none_match.split(","))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle + delayed ACK add 40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.serial = self.server.fake._opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fake._closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(
            self.command,
            parts.path,
            dict(parse_qsl(parts.query)),
            {k.lower(): v for k, v in self.headers.items()},
            body,
            self.serial,
        )
        reply = self.server.fake._dispatch(request, self.connection)
        if reply.hangup:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        for name, value in reply.headers:
            self.send_header(name, value)
        if reply.status != 304 and not 100 <= reply.status < 200 and reply.status != 204:
            self.send_header("Content-Length", str(len(reply.body)))
        if reply.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD" and reply.status not in (204, 304):
            self.wfile.write(reply.body)
        self.wfile.flush()

    do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = _serve


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    fake: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a client that hung up (or timed out on us) is routine in these tests
        super().handle_error(request, client_address)


class FakeServer:
    """An HTTP/1.1 server on an ephemeral loopback port that counts connections and requests.

    Subclasses implement `route(request) -> Reply`; this class adds the control endpoint, failure
    injection, conditional GET and gzip.
    """

    gzip = True

    def __init__(self, port: int = 0) -> None:
        self.lock = threading.RLock()
        self.requests = 0
        self.connections = 0
        self.log: list[Request] = []
        self.fail: int | None = None
        self.fail_times: int | None = None
        self.retry_after: str | None = None
        self._sockets: set[socket.socket] = set()
        self._serial = 0
        self._server = _Server(("127.0.0.1", port), _Handler)
        self._server.fake = self
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------------------- lifecycle

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeServer:
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._server.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(5)
            self._thread = None
        self.drop_connections()
        self._server.server_close()

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -------------------------------------------------------------------------- test controls

    def set_failure(self, status: int | None, times: int | None = None, retry_after: str | None = None) -> None:
        with self.lock:
            self.fail, self.fail_times, self.retry_after = status, times, retry_after

    def reset_counters(self) -> None:
        with self.lock:
            self.requests = 0
            self.connections = 0
            self.log.clear()

    def drop_connections(self, keep: socket.socket | None = None) -> None:
        """Hang up every open connection, as a server does with idle keep-alive sockets."""
        with self.lock:
            victims = [s for s in self._sockets if s is not keep]
        for sock in victims:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "connections": self.connections,
                "fail": self.fail,
                "times": self.fail_times,
                "log": [{"method": r.method, "path": r.path, "query": r.query, "headers": r.headers,
                         "status": r.status} for r in self.log],
            }

    def configure(self, payload: dict[str, Any]) -> None:
        """Apply a `POST /_control` payload; subclasses take their data keys."""
        if payload.get("reset"):
            self.reset_counters()
        if "fail" in payload:
            self.set_failure(payload["fail"], payload.get("times"), payload.get("retry_after"))

    # -------------------------------------------------------------------------- plumbing

    def route(self, request: Request) -> Reply:
        raise NotImplementedError

    def _opened(self, sock: socket.socket) -> int:
        with self.lock:
            self.connections += 1
            self._serial += 1
            self._sockets.add(sock)
            return self._serial

    def _closed(self, sock: socket.socket) -> None:
        with self.lock:
            self._sockets.discard(sock)

    def _dispatch(self, request: Request, sock: socket.socket) -> Reply:
        if request.path == "/_control":
            if request.method == "POST":
                payload = json.loads(request.body or b"{}")
                self.configure(payload)
                if payload.get("drop_connections"):
                    self.drop_connections(keep=sock)
            return json_reply(200, self.state())
        with self.lock:
            self.requests += 1
            self.log.append(request)
            del self.log[:-LOG_LIMIT]
            failing = self.fail
            if failing is not None and self.fail_times is not None:
                self.fail_times -= 1
                if self.fail_times <= 0:
                    self.fail, self.fail_times = None, None
            retry_after = self.retry_after
        if failing is not None:
            extra = [("Retry-After", retry_after)] if retry_after is not None else []
            reply = json_reply(failing, {"message": "injected failure"}, extra)
        else:
            reply = self._finish(request, self.route(request))
        request.status = reply.status
        return reply

    def _finish(self, request: Request, reply: Reply) -> Reply:
        if reply.status == 200 and request.method in ("GET", "HEAD"):
            names = {k.lower(): v for k, v in reply.headers}
            inm = request.headers.get("if-none-match")
            ims = request.headers.get("if-modified-since")
            etag, lm = names.get("etag"), names.get("last-modified")
            not_modified = False
            if inm is not None:
                not_modified = etag is not None and _etag_matches(inm, etag)
            elif ims is not None and lm is not None:
                try:
                    not_modified = email.utils.parsedate_to_datetime(lm) <= email.utils.parsedate_to_datetime(ims)
                except (TypeError, ValueError):
                    not_modified = False
            if not_modified:
                keep = [(k, v) for k, v in reply.headers if k.lower() in ("etag", "last-modified", "cache-control")]
                return Reply(304, b"", keep, reply.close)
        accepts = request.headers.get("accept-encoding", "")
        if self.gzip and reply.body and "gzip" in accepts.lower():
            names = {k.lower() for k, _ in reply.headers}
            if "content-encoding" not in names:
                reply = Reply(reply.status, gzip.compress(reply.body),
                              [*reply.headers, ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")], reply.close)
        return reply


def _http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def _strong_etag(obj: Any) -> str:
    return '"' + hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:32] + '"'


class FakeNuGet(FakeServer):
    """`GET /v3-flatcontainer/{id-lowercase}/index.json` → {"versions": […]}.

    Like the real flat container (blob storage), the path is case-sensitive: an id that was not
    lower-cased is a 404.
    """

    def __init__(self, packages: dict[str, list[str]] | None = None, port: int = 0) -> None:
        super().__init__(port)
        self.packages: dict[str, list[str]] = {}
        self.modified: dict[str, float] = {}
        self.set_packages(packages or {})

    def set_versions(self, package_id: str, versions: list[str]) -> None:
        with self.lock:
            key = package_id.lower()
            self.packages[key] = list(versions)
            self.modified[key] = float(int(time.time()))

    def set_packages(self, packages: dict[str, list[str]]) -> None:
        with self.lock:
            self.packages.clear()
            for pid, versions in packages.items():
                self.set_versions(pid, versions)

    def configure(self, payload: dict[str, Any]) -> None:
        super().configure(payload)
        if "packages" in payload:
            self.set_packages(payload["packages"])

    def route(self, request: Request) -> Reply:
        parts = request.path.strip("/").split("/")
        if request.method not in ("GET", "HEAD"):
            return Reply(405, headers=[("Allow", "GET, HEAD")])
        if len(parts) != 3 or parts[0] != "v3-flatcontainer" or parts[2] != "index.json":
            return Reply(404, b"<Error><Code>BlobNotFound</Code></Error>", [("Content-Type", "application/xml")])
        with self.lock:
            versions = self.packages.get(parts[1]) if parts[1] == parts[1].lower() else None
            modified = self.modified.get(parts[1], 0.0)
        if versions is None:
            return Reply(404, b"<Error><Code>BlobNotFound</Code></Error>", [("Content-Type", "application/xml")])
        doc = {"versions": versions}
        return json_reply(200, doc, [("ETag", _strong_etag(doc)), ("Last-Modified", _http_date(modified)),
                                     ("Cache-Control", "max-age=120")])


class FakeGitHub(FakeServer):
    """`GET /orgs/{org}/packages/nuget/{package}/versions` with a Bearer token per org.

    Pages (`per_page` ≤ 100, default 30; `page`) carry `Link` headers whose URLs use
    `/organizations/{id}/…` as GitHub's do, so clients must follow links rather than rebuild them.
    Versions are served in the order given. Missing/unknown token → 401, another org's token → 403,
    unknown package → 404. Each page has a weak ETag.
    """

    def __init__(self, packages: dict[str, dict[str, list[str]]] | None = None,
                 tokens: dict[str, str] | None = None, port: int = 0) -> None:
        super().__init__(port)
        self.packages: dict[str, dict[str, list[str]]] = {}
        self.tokens: dict[str, str] = {}
        self.org_ids: dict[str, int] = {}
        self.set_data(packages or {}, tokens or {})

    def set_data(self, packages: dict[str, dict[str, list[str]]] | None = None,
                 tokens: dict[str, str] | None = None) -> None:
        with self.lock:
            if packages is not None:
                self.packages = {org.lower(): {p.lower(): list(v) for p, v in pkgs.items()}
                                 for org, pkgs in packages.items()}
            if tokens is not None:
                self.tokens = {org.lower(): tok for org, tok in tokens.items()}
            for org in [*self.packages, *self.tokens]:
                self.org_ids.setdefault(org, 1000 + len(self.org_ids))

    def set_versions(self, org: str, package: str, versions: list[str]) -> None:
        with self.lock:
            self.packages.setdefault(org.lower(), {})[package.lower()] = list(versions)
            self.org_ids.setdefault(org.lower(), 1000 + len(self.org_ids))

    def configure(self, payload: dict[str, Any]) -> None:
        super().configure(payload)
        if "packages" in payload or "tokens" in payload:
            self.set_data(payload.get("packages"), payload.get("tokens"))

    def route(self, request: Request) -> Reply:
        if request.method not in ("GET", "HEAD"):
            return Reply(405, headers=[("Allow", "GET, HEAD")])
        parts = request.path.strip("/").split("/")
        if len(parts) != 6 or parts[0] not in ("orgs", "organizations") or parts[2:4] != ["packages", "nuget"] \
                or parts[5] != "versions":
            return self._error(404, "Not Found")
        with self.lock:
            if parts[0] == "orgs":
                org = parts[1].lower()
            else:
                org = next((o for o, i in self.org_ids.items() if str(i) == parts[1]), "")
            auth = request.headers.get("authorization", "")
            scheme, _, token = auth.partition(" ")
            if scheme.lower() not in ("bearer", "token") or not token:
                return self._error(401, "Requires authentication")
            owners = [o for o, t in self.tokens.items() if t == token.strip()]
            if not owners:
                return self._error(401, "Bad credentials")
            if org not in owners:
                return self._error(403, "Resource not accessible by personal access token")
            versions = self.packages.get(org, {}).get(parts[4].lower())
            org_id = self.org_ids.get(org, 0)
        if versions is None:
            return self._error(404, "Package not found.")
        try:
            per_page = max(1, min(100, int(request.query.get("per_page", "30"))))
            page = max(1, int(request.query.get("page", "1")))
        except ValueError:
            return self._error(400, "Invalid pagination")
        pages = max(1, -(-len(versions) // per_page))
        chunk = versions[(page - 1) * per_page: page * per_page]
        pkg = parts[4].lower()
        first_id = 10_000 * org_id + (page - 1) * per_page
        entries = [
            {
                "id": first_id + i,
                "name": name,
                "url": f"{self.url}/orgs/{org}/packages/nuget/{pkg}/versions/{first_id + i}",
                "package_html_url": f"https://github.com/orgs/{org}/packages/nuget/package/{pkg}",
                "created_at": "2024-01-01T00:00:00Z",
                "updated_at": "2024-01-01T00:00:00Z",
                "html_url": f"https://github.com/orgs/{org}/packages/nuget/{pkg}/{first_id + i}",
                "metadata": {"package_type": "nuget"},
            }
            for i, name in enumerate(chunk)
        ]
        base = f"{self.url}/organizations/{org_id}/packages/nuget/{pkg}/versions?per_page={per_page}&page="
        links = []
        if page < pages:
            links += [f'<{base}{page + 1}>; rel="next"', f'<{base}{pages}>; rel="last"']
        if page > 1:
            links += [f'<{base}{page - 1}>; rel="prev"', f'<{base}1>; rel="first"']
        headers = [("ETag", "W/" + _strong_etag(entries)), ("X-RateLimit-Remaining", "4999"),
                   ("Cache-Control", "private, max-age=60, s-maxage=60")]
        if links:
            headers.append(("Link", ", ".join(links)))
        return json_reply(200, entries, headers)

    @staticmethod
    def _error(status: int, message: str) -> Reply:
        return json_reply(status, {"message": message, "documentation_url": "https://docs.github.com/rest",
                                   "status": str(status)})


# ------------------------------------------------------------------------------ subprocess mode


def build(kind: str, data: dict[str, Any], port: int = 0) -> FakeServer:
    if kind in data and isinstance(data[kind], dict):
        data = data[kind]
    if kind == "nuget":
        return FakeNuGet(data.get("packages", {}), port=port)
    if kind == "github":
        return FakeGitHub(data.get("packages", {}), data.get("tokens", {}), port=port)
    raise ValueError(f"unknown fake {kind!r}")


class FakeProcess:
    """A fake started as `python -m tests.support.upstreams` — for tests that need a separate process."""

    def __init__(self, kind: str, data: dict[str, Any], port: int = 0) -> None:
        fd, self._data_path = tempfile.mkstemp(prefix=f"fake-{kind}-", suffix=".json")
        with os.fdopen(fd, "w") as f:
            json.dump(data, f)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.upstreams", kind, "--port", str(port), "--data", self._data_path],
            stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("http://"):
            self.stop()
            raise RuntimeError(f"fake {kind} did not start (exit code {self.proc.returncode})")

    def control(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        return control(self.url, payload)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        Path(self._data_path).unlink(missing_ok=True)

    def __enter__(self) -> FakeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def control(base_url: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """GET (no payload) or POST the control endpoint of a fake, in-process or not."""
    data = None if payload is None else json.dumps(payload).encode()
    req = urllib.request.Request(f"{base_url}/_control", data=data, method="GET" if data is None else "POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.support.upstreams", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("kind", choices=["nuget", "github"])
    parser.add_argument("--port", type=int, default=0)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--data", help="path of a JSON file with the packages")
    source.add_argument("--data-json", help="the packages as a JSON string")
    args = parser.parse_args(argv)
    if args.data:
        data = json.loads(Path(args.data).read_text())
    else:
        data = json.loads(args.data_json or "{}")
    fake = build(args.kind, data, args.port)
    print(fake.url, flush=True)
    try:
        fake.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    sys.exit(main())
