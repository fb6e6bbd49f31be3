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

import ipaddress
import json
import sys
import time
from typing import Sequence, TextIO

__all__ = ["AccessLog", "client_ip", "escape"]

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


def _timestamp(now: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now * 1000) % 1000:03d}Z"


class AccessLog:
    """Writes one line per request for `service`, as JSON or for a console."""

    def __init__(self, service: str, console: bool, stream: TextIO | None = None) -> None:
        self.service = service
        self.console = console
        self._stream = stream

    def write(self, client: str, method: str, path: str, status: int, size: int, duration_ms: float,
              request_id: str) -> None:  # fmt: skip
        now = time.time()
        if self.console:
            line = (f"{_timestamp(now)} {self.service} {escape(client, 64)} {escape(method, 16)} {escape(path)} "
                    f"{status} {size}B {duration_ms:.1f}ms {request_id}\n")  # fmt: skip
        else:
            record = {"level": "INFO", "timestamp": _timestamp(now), "service": self.service, "message": "access",
                      "client_ip": escape(client, 64), "method": escape(method, 16), "path": escape(path),
                      "status": status, "bytes": size, "duration_ms": round(duration_ms, 3), "request_id": request_id}  # fmt: skip
            line = json.dumps(record, separators=(",", ":")) + "\n"
        stream = self._stream or sys.stderr
        stream.write(line)
        stream.flush()
