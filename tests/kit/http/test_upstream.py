"""UpstreamClient against a scripted HTTP/1.1 server on 127.0.0.1: reuse, retries, gzip."""

from __future__ import annotations

import email.utils
import gzip
import json
import socket
import subprocess
import sys
import threading
from typing import Callable

import pytest

from lambdasmith.kit.http import upstream
from lambdasmith.kit.http.upstream import UpstreamClient, UpstreamError, parse_link_header, parse_retry_after
from tests.support.upstreams import FakeServer, Reply, Request

UA = "lambdasmith-tests/1.0"


class Scripted(FakeServer):
    """Answers from a script: a list of replies (the last repeats) or a function of the request."""

    gzip = False

    def __init__(self) -> None:
        super().__init__()
        self.script: list[Reply] | Callable[[Request], Reply] = [Reply(200, b"ok")]
        self.calls = 0

    def route(self, request: Request) -> Reply:
        with self.lock:
            self.calls += 1
            n = self.calls
        if callable(self.script):
            return self.script(request)
        return self.script[min(n, len(self.script)) - 1]


@pytest.fixture
def server():
    with Scripted() as s:
        yield s


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


def client(sleeps: Sleeps, **kw) -> UpstreamClient:
    kw.setdefault("rng", lambda: 0.5)
    return UpstreamClient(UA, sleep=sleeps, **kw)


def test_sequential_gets_reuse_one_keep_alive_connection(server, sleeps):
    with client(sleeps) as c:
        for i in range(5):
            r = c.get(f"{server.url}/item/{i}")
            assert r.status == 200 and r.body == b"ok"
    assert server.requests == 5
    assert server.connections == 1
    assert {r.connection for r in server.log} == {1}
    assert sleeps == []


def test_user_agent_and_accept_encoding_are_sent(server, sleeps):
    client(sleeps).get(f"{server.url}/x?a=1&b=2", headers={"X-Extra": "yes"})
    req = server.log[0]
    assert req.headers["user-agent"] == UA
    assert req.headers["accept-encoding"] == "gzip"
    assert req.headers["x-extra"] == "yes"
    assert req.path == "/x" and req.query == {"a": "1", "b": "2"}


def test_caller_headers_override_defaults_case_insensitively(server, sleeps):
    client(sleeps).get(server.url + "/", headers={"accept-encoding": "identity", "user-agent": "other"})
    assert server.log[0].headers["accept-encoding"] == "identity"
    assert server.log[0].headers["user-agent"] == "other"


def test_503_then_200_is_retried_after_a_jittered_backoff(server, sleeps):
    server.script = [Reply(503, b"busy"), Reply(200, b"fine")]
    r = client(sleeps).get(server.url + "/")
    assert (r.status, r.body) == (200, b"fine")
    assert server.requests == 2
    assert sleeps == [pytest.approx(0.1)]  # rng 0.5 × base 0.2


def test_backoff_doubles_up_to_the_cap(server, sleeps):
    server.script = [Reply(500)]
    r = client(sleeps, rng=lambda: 1.0, retries=7).get(server.url + "/")
    assert r.status == 500
    assert sleeps == pytest.approx([0.2, 0.4, 0.8, 1.6, 3.2, 5.0, 5.0])
    assert server.requests == 8


def test_429_with_retry_after_seconds_waits_exactly_that_long(server, sleeps):
    server.script = [Reply(429, b"slow down", [("Retry-After", "7")]), Reply(200, b"ok")]
    r = client(sleeps).get(server.url + "/")
    assert r.status == 200
    assert sleeps == [7.0]


def test_retry_after_http_date_is_measured_with_the_injected_clock(server, sleeps):
    now = 1_700_000_000.0
    when = email.utils.formatdate(now + 12, usegmt=True)
    server.script = [Reply(503, b"", [("Retry-After", when)]), Reply(200, b"ok")]
    r = client(sleeps, clock=lambda: now).get(server.url + "/")
    assert r.status == 200
    assert sleeps == [pytest.approx(12.0)]


def test_retry_after_beyond_the_cap_gives_up_at_once(server, sleeps):
    server.script = [Reply(503, b"maintenance", [("Retry-After", "3600")]), Reply(200, b"ok")]
    r = client(sleeps).get(server.url + "/")
    assert (r.status, r.body) == (503, b"maintenance")
    assert sleeps == []
    assert server.requests == 1


def test_retries_exhausted_returns_the_last_5xx(server, sleeps):
    server.script = lambda req: Reply(502, f"attempt {server.calls}".encode())
    r = client(sleeps, retries=3).get(server.url + "/")
    assert (r.status, r.body) == (502, b"attempt 4")
    assert len(sleeps) == 3
    assert server.requests == 4


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410])
def test_client_errors_are_not_retried(server, sleeps, status):
    server.script = [Reply(status, b"no")]
    assert client(sleeps).get(server.url + "/").status == status
    assert server.requests == 1 and sleeps == []


def test_zero_retries_means_one_attempt(server, sleeps):
    server.script = [Reply(503)]
    assert client(sleeps, retries=0).get(server.url + "/").status == 503
    assert server.requests == 1 and sleeps == []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_raises_upstream_error_after_retries(sleeps):
    url = f"http://127.0.0.1:{free_port()}/index.json"
    with pytest.raises(UpstreamError) as info:
        client(sleeps, retries=3).get(url)
    assert info.value.url == url
    assert isinstance(info.value.__cause__, ConnectionRefusedError)
    assert len(sleeps) == 3


def test_idle_connection_closed_by_the_server_is_replaced_transparently(server, sleeps):
    c = client(sleeps)
    assert c.get(server.url + "/a").status == 200
    server.drop_connections()  # the server's keep-alive timeout fires while we sit idle
    r = c.get(server.url + "/b")
    assert (r.status, r.body) == (200, b"ok")
    assert sleeps == []  # the reconnect is not a retry
    assert server.connections == 2
    assert [req.path for req in server.log] == ["/a", "/b"]


def test_reused_connection_hung_up_mid_request_is_replaced_without_counting_a_retry(server, sleeps):
    server.script = [Reply(200, b"first"), Reply(0, hangup=True), Reply(200, b"again")]
    c = client(sleeps, retries=0)
    assert c.get(server.url + "/").body == b"first"
    r = c.get(server.url + "/")
    assert (r.status, r.body) == (200, b"again")
    assert sleeps == []
    assert server.connections == 2


def test_hangup_on_a_fresh_connection_counts_as_a_retry(server, sleeps):
    server.script = [Reply(0, hangup=True), Reply(200, b"ok")]
    r = client(sleeps).get(server.url + "/")
    assert r.status == 200
    assert len(sleeps) == 1


def test_hangups_on_every_attempt_raise(server, sleeps):
    server.script = [Reply(0, hangup=True)]
    with pytest.raises(UpstreamError):
        client(sleeps, retries=2).get(server.url + "/")
    assert server.requests == 3 and len(sleeps) == 2


def test_timeout_is_retried(server, sleeps):
    release = threading.Event()

    def slow_first(req: Request) -> Reply:
        if server.calls == 1:
            release.wait(10)  # longer than the client's timeout; released when the test ends
        return Reply(200, b"ok")

    server.script = slow_first
    try:
        r = client(sleeps, timeout=0.3, retries=1).get(server.url + "/")
    finally:
        release.set()
    assert (r.status, r.body) == (200, b"ok")
    assert len(sleeps) == 1
    assert server.requests == 2


def test_gzip_body_is_decoded(server, sleeps):
    payload = json.dumps({"versions": ["1.0.0"] * 200}).encode()
    server.script = [Reply(200, gzip.compress(payload), [("Content-Encoding", "gzip")])]
    r = client(sleeps).get(server.url + "/")
    assert r.body == payload
    assert r.json() == {"versions": ["1.0.0"] * 200}
    assert "content-encoding" not in r.headers


def test_corrupt_gzip_is_retried_then_raises(server, sleeps):
    server.script = [Reply(200, b"\x1f\x8b not gzip at all", [("Content-Encoding", "gzip")])]
    with pytest.raises(UpstreamError):
        client(sleeps, retries=1).get(server.url + "/")
    assert server.requests == 2


def test_body_over_the_limit_is_refused_without_retrying(server, sleeps, monkeypatch):
    monkeypatch.setattr(upstream, "MAX_BODY", 100)
    server.script = [Reply(200, b"x" * 101)]
    with pytest.raises(UpstreamError, match="bytes"):
        client(sleeps).get(server.url + "/")
    assert server.requests == 1


def test_headers_are_lower_cased_and_every_link_is_kept(server, sleeps):
    server.script = [Reply(200, b"[]", [("ETag", 'W/"abc"'), ("Link", '<http://a/?page=2>; rel="next"'),
                                        ("Link", '<http://a/?page=9>; rel="last"')])]
    r = client(sleeps).get(server.url + "/")
    assert r.headers["etag"] == 'W/"abc"'
    assert parse_link_header(r.headers["link"]) == {"next": "http://a/?page=2", "last": "http://a/?page=9"}


def test_304_has_an_empty_body_and_keeps_the_connection(server, sleeps):
    server.script = [Reply(304, b"", [("ETag", '"v1"')])]
    c = client(sleeps)
    for _ in range(3):
        r = c.get(server.url + "/", headers={"If-None-Match": '"v1"'})
        assert (r.status, r.body) == (304, b"")
    assert server.connections == 1


def test_connection_close_from_the_server_is_not_an_error(server, sleeps):
    server.script = [Reply(200, b"bye", close=True)]
    c = client(sleeps)
    assert [c.get(server.url + "/").body for _ in range(3)] == [b"bye"] * 3
    assert server.connections == 3
    assert sleeps == []


def test_concurrent_gets_from_threads(server, sleeps):
    server.script = lambda req: Reply(200, req.path.encode())
    c = client(sleeps)
    results: dict[int, list[bytes]] = {}

    def work(n: int) -> None:
        results[n] = [c.get(f"{server.url}/{n}/{i}").body for i in range(5)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == {n: [f"/{n}/{i}".encode() for i in range(5)] for n in range(8)}
    assert server.connections <= 8
    assert sum(len(v) for v in c._pool._idle.values()) <= upstream.MAX_IDLE_PER_ORIGIN


@pytest.mark.parametrize("url", ["ftp://example.com/x", "not a url", "http:///path"])
def test_non_http_urls_are_rejected(url, sleeps):
    with pytest.raises(ValueError):
        client(sleeps).get(url)


@pytest.mark.parametrize(("value", "now", "expected"), [
    ("5", 0.0, 5.0),
    (" 0 ", 0.0, 0.0),
    ("Sun, 06 Nov 1994 08:49:37 GMT", 784111777.0 - 3, 3.0),
    ("Sun, 06 Nov 1994 08:49:37 GMT", 784111777.0 + 60, 0.0),  # in the past: go now
    ("soon", 0.0, None),
    ("-1", 0.0, None),
])
def test_parse_retry_after(value, now, expected):
    assert parse_retry_after(value, now) == (None if expected is None else pytest.approx(expected))


def test_parse_link_header_github_shape():
    value = ('<https://api.github.com/organizations/1/packages/nuget/x/versions?per_page=100&page=2>; rel="next", '
             '<https://api.github.com/organizations/1/packages/nuget/x/versions?per_page=100&page=3>; rel="last"')
    links = parse_link_header(value)
    assert links["next"].endswith("page=2") and links["last"].endswith("page=3")
    assert parse_link_header("") == {}
    assert parse_link_header("garbage") == {}


def test_importing_the_module_loads_neither_http_client_nor_ssl():
    probe = "import sys, lambdasmith.kit.http.upstream; print(sorted({'ssl', 'http.client', 'random', 'email'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
