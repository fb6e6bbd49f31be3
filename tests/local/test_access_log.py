"""The access log: escaping, the client behind trusted proxies, both formats."""

from __future__ import annotations

import io
import ipaddress
import json

import pytest

from lambdasmith.local.access_log import AccessLog, client_ip, escape

PROXIES = (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("10.0.0.0/8"))


@pytest.mark.parametrize(("raw", "shown"), [
    ("/plain?q=1", "/plain?q=1"),
    ("/a\x1b[31mred", "/a\\x1b[31mred"),
    ("/x\r\nFORGED 200", "/x\\x0d\\x0aFORGED 200"),
    ("/del\x7f/c1\x85", "/del\\x7f/c1\\x85"),
    ("/back\\slash", "/back\\\\slash"),
    ("/ünïcode", "/ünïcode"),
    ("/line\u2028sep", "/line\\u2028sep"),
])  # fmt: skip
def test_escape_leaves_nothing_a_terminal_or_a_log_parser_would_act_on(raw, shown):
    assert escape(raw) == shown
    assert escape(raw).isprintable()


def test_escape_cuts_long_targets():
    assert len(escape("/" + "a" * 5000)) == 1025 and escape("/" + "a" * 5000).endswith("…")


@pytest.mark.parametrize(("peer", "xff", "client"), [
    ("203.0.113.5", "198.51.100.1", "203.0.113.5"),  # not a trusted proxy: its header is a claim
    ("127.0.0.1", None, "127.0.0.1"),
    ("127.0.0.1", "198.51.100.1", "198.51.100.1"),
    ("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3", "198.51.100.1"),  # skip trusted hops, stop at the first other
    ("127.0.0.1", "10.1.2.3, 10.4.5.6", "10.1.2.3"),  # all trusted: the farthest
    ("127.0.0.1", "garbage, 198.51.100.1", "198.51.100.1"),
    ("127.0.0.1", "198.51.100.1, <script>", "127.0.0.1"),  # never an entry that is not an address
    ("127.0.0.1", "2001:db8::1", "2001:db8::1"),
])  # fmt: skip
def test_the_client_behind_trusted_proxies(peer, xff, client):
    assert client_ip(peer, xff, PROXIES) == client


def test_no_trusted_proxies_means_the_peer():
    assert client_ip("127.0.0.1", "198.51.100.1", ()) == "127.0.0.1"


def test_a_json_line_has_the_keys_of_operations():
    out = io.StringIO()
    AccessLog("badges", console=False, stream=out).write("1.2.3.4", "GET", "/x\x00", 200, 12, 1.23456, "rid")
    line = out.getvalue()
    assert line.endswith("\n") and line.count("\n") == 1
    doc = json.loads(line)
    assert {k: doc[k] for k in ("level", "service", "message", "client_ip", "method", "path", "status", "bytes",
                                "duration_ms", "request_id")} == {  # fmt: skip
        "level": "INFO", "service": "badges", "message": "access", "client_ip": "1.2.3.4", "method": "GET",
        "path": "/x\\x00", "status": 200, "bytes": 12, "duration_ms": 1.235, "request_id": "rid"}  # fmt: skip
    assert len(doc["timestamp"]) == 24 and doc["timestamp"].endswith("Z")


def test_a_console_line_reads_as_one_line():
    out = io.StringIO()
    AccessLog("wardrobe", console=True, stream=out).write("::1", "POST", "/items\n", 201, 7, 0.5, "rid")
    line = out.getvalue()
    assert line.count("\n") == 1 and " wardrobe ::1 POST /items\\x0a 201 7B 0.5ms rid" in line
