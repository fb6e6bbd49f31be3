"""The access log of `lambdasmith serve`: one line per request on stderr, for operations.

JSON by default (a log pipeline, `journalctl -o cat | jq`), with the keys Powertools users
know (`level`, `timestamp`, `service`, `message`) and the request's own:

    {"level":"INFO","timestamp":"2026-12-03T05:40:00.123Z","service":"badges","message":"access",
     "client_ip":"203.0.113.9","method":"GET","path":"/health","status":200,"bytes":15,
     "duration_ms":0.42,"request_id":"…"}

and, for a person at a terminal (or with POWERTOOLS_DEV=true), the same facts on one line:

    2026-12-03T05:40:00.123Z badges 203.0.113.9 GET /health 200 15B 0.4ms …

Everything from the request is escaped (a request target with control characters cannot forge a
log line or drive a terminal), and long targets are cut, so one line stays one atomic write
even with several worker processes writing to the same stream.

The client is the connecting peer, unless that peer is a trusted proxy
(LAMBDASMITH_TRUSTED_PROXIES): then X-Forwarded-For is read from the right, skipping trusted
hops, and the first address not trusted is the client (the left of it is the client's claim).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import sys
import time
from typing import Any, Sequence, TextIO

__all__ = ["AccessLog", "client_ip", "escape"]

_json = json.dumps

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_PATH = 1024  # characters of the request target kept in a line


def escape(text: str, limit: int = MAX_PATH) -> str:
    """Printable text: control characters (C0, DEL, C1) and backslashes as escapes, cut to `limit`."""
    if len(text) > limit:
        text = text[:limit] + "…"
    if text.isprintable() and "\\" not in text:
        return text
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def _trusted(address: str, proxies: Sequence[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


def client_ip(peer: str, forwarded_for: str | None, proxies: Sequence[Network]) -> str:
    """Who the request came from: `peer`, or behind trusted proxies the nearest untrusted hop of
    X-Forwarded-For (never an entry that is not an address)."""
    if not forwarded_for or not proxies or not _trusted(peer, proxies):
        return peer
    client = peer
    for hop in reversed(forwarded_for.split(",")):
        hop = hop.strip()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            break  # garbage in the header: the last hop we could read stands
        client = hop
        if not _trusted(hop, proxies):
            break
    return client


_second: list[Any] = [None, ""]  # the last whole second formatted, and its text


def _timestamp(now: float) -> str:
    whole = int(now)
    if _second[0] != whole:
        _second[0], _second[1] = whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    return f"{_second[1]}.{int(now * 1000) % 1000:03d}Z"


class AccessLog:
    """Writes one line per request for `service`, as JSON or for a console.

    Inside a running event loop, the lines of the requests finished in one turn of the loop are
    written together when it next runs callbacks (one system call for many under load, each line
    still whole); outside one, at once."""

    def __init__(self, service: str, console: bool, stream: TextIO | None = None) -> None:
        self.service = service
        self.console = console
        self._stream = stream
        self._service_json = json.dumps(service)
        self._pending: list[str] = []

    def write(self, client: str, method: str, path: str, status: int, size: int, duration_ms: float,
              request_id: str) -> None:  # fmt: skip
        ts = _timestamp(time.time())
        if self.console:
            line = (f"{ts} {self.service} {escape(client, 64)} {escape(method, 16)} {escape(path)} "
                    f"{status} {size}B {duration_ms:.1f}ms {request_id}\n")  # fmt: skip
        else:
            line = (f'{{"level":"INFO","timestamp":"{ts}","service":{self._service_json},"message":"access",'
                    f'"client_ip":{_json(escape(client, 64))},"method":{_json(escape(method, 16))},'
                    f'"path":{_json(escape(path))},"status":{int(status)},"bytes":{int(size)},'
                    f'"duration_ms":{duration_ms:.3f},"request_id":{_json(request_id)}}}\n')  # fmt: skip
        self._pending.append(line)
        if len(self._pending) == 1:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write now
                self.flush()

    def flush(self) -> None:
        lines, self._pending = self._pending, []
        if lines:
            stream = self._stream or sys.stderr
            stream.write("".join(lines))
            stream.flush()
