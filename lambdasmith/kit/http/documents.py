"""A JSON document served as is (a service's OpenAPI description), read on its first request.

The file is neither read nor parsed at import, so a cold start that never serves it pays
nothing; once read, it stays in memory (compact) for the warm invocations.
"""

from __future__ import annotations

import json

from lambdasmith.kit.http.responses import Response, cacheable, dumps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.kit.http.events import Request

__all__ = ["JsonDocument"]

DOCUMENT_CACHE = "public, max-age=300"


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
