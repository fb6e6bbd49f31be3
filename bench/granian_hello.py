"""The server's own ceiling for bench/serve.py: a hello-world RSGI app on granian, doing no work
at all, so whatever it reaches is what granian itself costs per request on this machine.

    granian --interface rsgi --workers N --http 1 bench.granian_hello:app    (from the repo root)
"""

from __future__ import annotations

from typing import Any

BODY = b"ok"
HEADERS = [("content-type", "text/plain")]


class Hello:
    """Every request, whatever its method or path: 200 `ok`."""

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        proto.response_bytes(200, HEADERS, BODY)


app = Hello()
