"""The lean HTTP/1.1 client against real sockets: framing, keep-alive, stale connections."""

import socket
import threading

import pytest

from lambdasmith.kit.http.wire import Disconnected, Pool, WireError, split_url


class RawServer:
    """A loopback server answering each request with the next canned raw response."""

    def __init__(self, responses, close_after=None):
        self.responses = list(responses)
        self.close_after = close_after  # close each connection after this many responses
        self.requests: list[bytes] = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    def _conn(self, conn):
        f = conn.makefile("rb")
        served = 0
        with conn:
            while self.responses:
                head = b""
                while not head.endswith(b"\r\n\r\n"):
                    line = f.readline()
                    if not line:
                        return
                    head += line
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                body = f.read(length) if length else b""
                self.requests.append(head + body)
                conn.sendall(self.responses.pop(0))
                served += 1
                if self.close_after and served >= self.close_after:
                    return

    def close(self):
        self.sock.close()


def ok(body=b"hello", extra=b""):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s\r\n%s" % (len(body), extra, body)


def test_keep_alive_reuses_one_connection():
    srv = RawServer([ok(b"1"), ok(b"2"), ok(b"3")])
    pool = Pool()
    bodies = [pool.request("GET", srv.url + "/x").body for _ in range(3)]
    assert bodies == [b"1", b"2", b"3"] and srv.connections == 1
    assert srv.requests[0].startswith(b"GET /x HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in srv.requests[0]


def test_chunked_body_and_trailers():
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n"
    srv = RawServer([chunked, ok(b"next")])
    pool = Pool()
    assert pool.request("GET", srv.url).body == b"hello world"
    assert pool.request("GET", srv.url).body == b"next" and srv.connections == 1


def test_close_delimited_body_is_not_reused():
    srv = RawServer([b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it"], close_after=1)
    r = Pool().request("GET", srv.url)
    assert r.body == b"all of it"


def test_no_body_for_head_204_304():
    srv = RawServer([b"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
                     b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", ok(b"z")])
    pool = Pool()
    assert pool.request("GET", srv.url).status == 304
    assert pool.request("HEAD", srv.url).body == b""
    assert pool.request("GET", srv.url).body == b"z" and srv.connections == 1


def test_post_sends_body_and_length():
    srv = RawServer([ok(b"done")])
    r = Pool().request("POST", srv.url + "/p?q=1", [("Content-Type", "application/json")], b'{"a":1}')
    assert r.status == 200
    req = srv.requests[0]
    assert req.startswith(b"POST /p?q=1 HTTP/1.1") and b"Content-Length: 7" in req and req.endswith(b'{"a":1}')


def test_stale_pooled_connection_is_replaced_once():
    srv = RawServer([ok(b"a"), ok(b"b")], close_after=1)  # server drops every connection after one answer
    pool = Pool()
    assert pool.request("GET", srv.url).body == b"a"
    assert pool.request("GET", srv.url).body == b"b"
    assert srv.connections == 2


def test_fresh_connection_failure_raises():
    srv = RawServer([], close_after=1)  # accepts, then closes without answering
    srv.responses = []
    with pytest.raises((Disconnected, ConnectionError)):
        Pool().request("GET", srv.url)


def test_malformed_status_line_raises():
    srv = RawServer([b"SMTP ready\r\n\r\n"])
    with pytest.raises(WireError):
        Pool().request("GET", srv.url)


def test_header_injection_is_refused():
    with pytest.raises(ValueError):
        Pool().request("GET", "http://127.0.0.1:9/", [("X-A", "1\r\nX-B: 2")])


def test_repeated_headers_are_kept():
    srv = RawServer([ok(b"", b"Link: <a>; rel=\"next\"\r\nlink: <b>; rel=\"last\"\r\n")])
    r = Pool().request("GET", srv.url)
    assert r.header_values("link") == ['<a>; rel="next"', '<b>; rel="last"']


@pytest.mark.parametrize("url,parts", [
    ("http://h/p?q=1", ("http", "h", 80, "/p?q=1")),
    ("https://h:8443", ("https", "h", 8443, "/")),
    ("http://[::1]:81/x", ("http", "::1", 81, "/x")),
    ("http://h?x=1", ("http", "h", 80, "/?x=1")),
])
def test_split_url(url, parts):
    assert split_url(url) == parts


@pytest.mark.parametrize("url", ["ftp://h/", "h/p", "http:///p"])
def test_split_url_rejects(url):
    with pytest.raises(ValueError):
        split_url(url)
