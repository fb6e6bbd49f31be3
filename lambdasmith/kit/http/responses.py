"""Responses: JSON, SVG, redirects, and HTTP caching (strong ETag, 304, Cache-Control)."""

from __future__ import annotations

import json
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "NO_STORE",
    "Response",
    "dumps",
    "json_response",
    "svg_response",
    "redirect",
    "etag_of",
    "http_date",
    "if_none_match",
    "cacheable",
]

NO_STORE = {
    "Cache-Control": "no-store, no-cache, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
}


class Response:
    __slots__ = ("status", "body", "headers", "cookies")

    def __init__(
        self,
        status: int = 200,
        body: bytes | str = b"",
        headers: dict[str, str] | None = None,
        cookies: list[str] | None = None,
    ):
        self.status = status
        self.body = body
        self.headers = headers if headers is not None else {}
        self.cookies = cookies if cookies is not None else []

    def body_bytes(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body

    def encoded_body(self) -> tuple[str, bool]:
        """Body as the proxy result carries it: text as is, anything else base64."""
        if isinstance(self.body, str):
            return self.body, False
        ctype = self.headers.get("Content-Type", "")
        if _is_text(ctype):
            try:
                return self.body.decode("utf-8"), False
            except UnicodeDecodeError:
                pass
        if not self.body:
            return "", False
        import base64

        return base64.b64encode(self.body).decode("ascii"), True


def _is_text(ctype: str) -> bool:
    c = ctype.lower()
    return c.startswith("text/") or "json" in c or "xml" in c or "javascript" in c


def dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def json_response(obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    h = {"Content-Type": "application/json; charset=utf-8"}
    if headers:
        h.update(headers)
    return Response(status, dumps(obj), h)


def svg_response(svg: str, headers: dict[str, str] | None = None) -> Response:
    h = {"Content-Type": "image/svg+xml; charset=utf-8"}
    if headers:
        h.update(headers)
    return Response(200, svg, h)


def redirect(location: str, status: int = 302, headers: dict[str, str] | None = None) -> Response:
    h = {"Location": location}
    if headers:
        h.update(headers)
    return Response(status, "", h)


def etag_of(body: bytes) -> str:
    from lambdasmith.kit.digest import sha256_hex

    return '"' + sha256_hex(body) + '"'


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def http_date(epoch: float) -> str:
    """RFC 9110 IMF-fixdate (email.utils would do it, at a cold-start cost of ~10 ms)."""
    t = time.gmtime(epoch)
    return f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} {t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"


def if_none_match(header: str | None, etag: str) -> bool:
    """True when an `If-None-Match` header matches (lists, `*`, weak `W/` forms compare weakly).

    As BadgeSmith does, a bare token is taken as if quoted and the comparison ignores case (our
    ETags are hex): a CDN holding `ABC123` or `"abc123"` revalidates to a 304 either way."""
    if not header:
        return False
    header = header.strip()
    if header == "*":
        return True
    bare = (etag[2:] if etag.startswith("W/") else etag).lower()
    for candidate in header.split(","):
        c = candidate.strip()
        if c.startswith(("W/", "w/")):
            c = c[2:]
        if c and not c.startswith('"'):
            c = f'"{c}"'
        if c.lower() == bare:
            return True
    return False


def cacheable(
    response: Response,
    request_headers: dict[str, str],
    cache_control: str,
    last_modified: float | None = None,
    etag_source: bytes | None = None,
) -> Response:
    """Give a 200 response its validators and cache policy; answer 304 when the client has it.

    `etag_source` stands in for the body where the body says nothing (a redirect's location).
    """
    etag = etag_of(response.body_bytes() if etag_source is None else etag_source)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control
    if last_modified is not None:
        response.headers["Last-Modified"] = http_date(last_modified)
    vary = response.headers.get("Vary")
    if if_none_match(request_headers.get("if-none-match"), etag):
        keep = {"ETag": etag, "Cache-Control": cache_control}
        if "Last-Modified" in response.headers:
            keep["Last-Modified"] = response.headers["Last-Modified"]
        if vary:
            keep["Vary"] = vary
        return Response(304, b"", keep)
    return response
