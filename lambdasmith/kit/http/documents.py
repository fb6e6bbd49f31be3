"""Files served as they are: a JSON document (a service's OpenAPI description) and static
assets (a page's stylesheet and script), each read on its first request.

No file is read or parsed at import, so a cold start that never serves one pays nothing; once
read, it stays in memory for the warm invocations.
"""

from __future__ import annotations

import json

from lambdasmith.kit.http.responses import Response, cacheable, dumps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.kit.http.events import Request

__all__ = ["JsonDocument", "StaticFile"]

DOCUMENT_CACHE = "public, max-age=300"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"


class JsonDocument:
    """`document.handler` answers GET with the file's JSON, an ETag, and 304 on `If-None-Match`."""

    __slots__ = ("path", "body")

    def __init__(self, path: str):
        self.path = path
        self.body: str | None = None  # compact JSON, once read

    def load(self) -> dict[str, Any]:
        with open(self.path, "rb") as f:
            doc: dict[str, Any] = json.loads(f.read().decode("utf-8"))
        return doc

    def handler(self, request: Request) -> Response:
        if self.body is None:
            self.body = dumps(self.load())
        response = Response(200, self.body, {"Content-Type": "application/json; charset=utf-8"})
        return cacheable(response, request.headers, DOCUMENT_CACHE)


class StaticFile:
    """A page asset. Pages link it as `url` (`path?v=<hash of the content>`), so a browser may
    keep that URL for a year: a new deploy changes the content, hence the URL. A request for any
    other version (an old page, a hand-typed URL) is answered with the current file, briefly cached.
    """

    __slots__ = ("path", "route", "content_type", "_body", "_version")

    def __init__(self, path: str, route: str, content_type: str):
        self.path = path
        self.route = route
        self.content_type = content_type
        self._body: bytes | None = None
        self._version = ""

    def _load(self) -> bytes:
        if self._body is None:
            from lambdasmith.kit.digest import sha256_hex

            with open(self.path, "rb") as f:
                self._body = f.read()
            self._version = sha256_hex(self._body)[:16]
        return self._body

    @property
    def url(self) -> str:
        self._load()
        return f"{self.route}?v={self._version}"

    def handler(self, request: Request) -> Response:
        body = self._load()
        response = Response(200, body, {"Content-Type": self.content_type, "X-Content-Type-Options": "nosniff"})
        cache = IMMUTABLE_CACHE if request.query.get("v") == self._version else DOCUMENT_CACHE
        return cacheable(response, request.headers, cache)
