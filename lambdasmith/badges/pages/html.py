"""What every page shares: escaping, the document around a page's content, and the headers.

Everything that came from a request or the data goes through `esc` (text and attribute values
alike), and a URL becomes a link only through `http_url`: an `javascript:` or `data:` URL posted
as a run's link is shown as text, never made clickable.
"""

from __future__ import annotations

import html
import os
from urllib.parse import quote

from lambdasmith.badges.ingest import absolute_http_url
from lambdasmith.kit.http.documents import StaticFile
from lambdasmith.kit.http.responses import Response, cacheable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdasmith.kit.http.events import Request

__all__ = ["ASSETS", "CSP", "PAGE_CACHE", "esc", "http_url", "link", "segment", "page", "page_response"]

_HERE = os.path.dirname(__file__)
ASSETS = {
    "site.css": StaticFile(os.path.join(_HERE, "site.css"), "/assets/site.css", "text/css; charset=utf-8"),
    "builder.js": StaticFile(os.path.join(_HERE, "builder.js"), "/assets/builder.js", "text/javascript; charset=utf-8"),
}

# Scripts and styles only from files of this origin (no inline code, no CDN); images from this
# origin (the badges) and data: (the empty favicon); fetch() only to this origin (the builder's
# error messages). Nothing may frame the pages, and forms only submit here.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
PAGE_CACHE = "public, max-age=60"  # a pushed result shows on the dashboard within a minute


def esc(value: object) -> str:
    """Text for HTML content or a double-quoted attribute value."""
    return html.escape(str(value), quote=True)


def http_url(value: object) -> str | None:
    """The value when ingestion's rule takes it as an absolute http(s) URL and it holds no control
    character, else None (it is then shown as text)."""
    if not absolute_http_url(value) or any(ord(c) < 32 for c in str(value)):
        return None
    return str(value)


def link(url: object, text: str) -> str:
    """`<a>` to an http(s) URL, or the escaped text alone when the URL is anything else."""
    target = http_url(url)
    if target is None:
        return esc(text)
    return f'<a href="{esc(target)}" rel="nofollow noopener">{esc(text)}</a>'


def segment(value: str) -> str:
    """One path segment, percent-encoded (a branch `feature/x` stays one segment)."""
    return quote(value, safe="")


def page(title: str, body: str, *, scripts: tuple[str, ...] = ()) -> str:
    """The whole document; `body` is markup whose data is already escaped."""
    css = ASSETS["site.css"].url
    tags = "".join(f'<script src="{esc(ASSETS[name].url)}" defer></script>' for name in scripts)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title>"
        '<link rel="icon" href="data:,">'
        f'<link rel="stylesheet" href="{esc(css)}">{tags}</head>'
        '<body><header class="site"><a class="home" href="/">lambdasmith badges</a>'
        '<nav><a href="/">Badge builder</a> <a href="/openapi.json">API (OpenAPI)</a></nav></header>'
        f'<main id="main">{body}</main></body></html>\n'
    )


def page_response(request: Request, markup: str, status: int = 200, cache: str = PAGE_CACHE) -> Response:
    """An HTML response with the security headers; a 200 gets an ETag and answers 304 when it can."""
    response = Response(status, markup, {"Content-Type": "text/html; charset=utf-8", **SECURITY_HEADERS})
    if status != 200:
        response.headers["Cache-Control"] = "no-store"
        return response
    return cacheable(response, request.headers, cache)
