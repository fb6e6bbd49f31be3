"""The peer of bench/serve.py: the three routes it measures, written as an ordinary FastAPI app and
served by uvicorn (`uvicorn --workers N`, uvloop and httptools from `uvicorn[standard]`).

    GET /health
    GET /badges/packages/nuget/{package}                   NuGet version badge (cached upstream)
    GET /badges/tests/{platform}/{owner}/{repo}/{branch}   latest test-result badge (SQLite)
    GET /users/{user_id}/items                             a wardrobe page (JWT, SQLite)

What it shares with `lambdasmith serve`, and why that is fair: the work behind each route is
lambdasmith's own domain and storage code, called the way our handlers call it —
`BadgesConfig` / `WardrobeConfig` from the same environment, `badges.wiring.open_store` and
`wardrobe.wiring.open_store` / `open_secrets` on the same data dir (the same SQLite file), the same
`PackageSource` with its in-process version cache (same TTL, same revalidation), `versions.best_match`,
`shields.test_badge`, `kit.auth.jwt.decode` and `kit.table.cursors.seal` — and the response policy
(Cache-Control, a strong ETag over the body, Last-Modified, `Vary: Accept`, 304 on If-None-Match,
no-store on wardrobe pages) is the same, so each request does the same data work and answers the
same bytes. What differs is all HTTP: routing, request parsing, dependency injection, validation,
response objects, the event loop and the server are FastAPI's, Starlette's and uvicorn's, not our
API Gateway emulation, event building and Lambda invocation. No lambdasmith handler is called.

Written the way FastAPI's documentation says: path operations that touch SQLite or upstream (blocking
I/O) are plain `def` (FastAPI runs them on its thread pool); the JWT check is an `async def`
dependency (CPU only; its secret is read through the same in-memory cache ours uses). With
BENCH_PEER_ASYNC=1 every path operation runs on the event loop instead (no thread-pool hop) — the
faster variant, for `bench/serve.py --peer-async`.

Not reproduced, because the bench does not measure them: error bodies (FastAPI's `{"detail": …}`),
the `.svg` image of a badge, the GitHub Packages route, ingestion. Our handler also writes an EMF
metrics line per wardrobe page; this peer writes none (uvicorn's access log is left on, as ours is).
"""

from __future__ import annotations

import functools
import hashlib
import os
from datetime import datetime, timezone
from typing import Annotated, Any, Callable

from fastapi import Depends, FastAPI, Header, HTTPException, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response

from lambdasmith.badges import shields, upstream, versions
from lambdasmith.badges.app import BADGE_CACHE, STALE_CACHE, TEST_CACHE, USER_AGENT
from lambdasmith.badges.config import BadgesConfig
from lambdasmith.badges.store import Repo
from lambdasmith.badges.wiring import open_store as open_badge_store
from lambdasmith.kit.auth import jwt
from lambdasmith.kit.digest import hmac_sha256
from lambdasmith.kit.http.responses import NO_STORE, http_date, if_none_match
from lambdasmith.kit.http.upstream import UpstreamClient
from lambdasmith.kit.table.cursors import BadCursor, seal, unseal
from lambdasmith.wardrobe import wiring as wardrobe_wiring
from lambdasmith.wardrobe.config import WardrobeConfig
from lambdasmith.wardrobe.store import SEASONS

JSON = "application/json; charset=utf-8"
RUN_ON_LOOP = os.environ.get("BENCH_PEER_ASYNC") == "1"

badges_config = BadgesConfig.from_env()
badge_store = open_badge_store(badges_config)
package_source = upstream.PackageSource(
    UpstreamClient(USER_AGENT, timeout=badges_config.upstream_timeout_s),
    badges_config.nuget_base_url,
    badges_config.github_api_url,
    cache_ttl=badges_config.upstream_cache_ttl_s,
)
wardrobe_config = WardrobeConfig.from_env()
wardrobe_store = wardrobe_wiring.open_store(wardrobe_config)
wardrobe_secrets = wardrobe_wiring.open_secrets(wardrobe_config)

app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_headers=["content-type", "authorization"])


def route(path: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """`app.get(path)`; with BENCH_PEER_ASYNC=1 the same function runs on the event loop."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        if not RUN_ON_LOOP:
            return app.get(path)(fn)

        @functools.wraps(fn)
        async def on_loop(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs)

        app.get(path)(on_loop)
        return fn

    return register


# ---------------------------------------------------------------------- responses


def with_validators(response: Response, request: Request, cache_control: str, modified: float | None) -> Response:
    """Strong ETag over the body, Cache-Control, Last-Modified; 304 when the client has it."""
    etag = '"' + hashlib.sha256(response.body).hexdigest() + '"'
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = cache_control
    if modified is not None:
        response.headers["Last-Modified"] = http_date(modified)
    if if_none_match(request.headers.get("if-none-match"), etag):
        keep = {k: v for k, v in response.headers.items() if k in ("etag", "cache-control", "last-modified", "vary")}
        return Response(status_code=304, headers=keep)
    return response


def badge_response(request: Request, badge: shields.Badge, cache_control: str, modified: float | None) -> Response:
    response = JSONResponse(badge.endpoint(), media_type=JSON, headers={"Vary": "Accept"})
    return with_validators(response, request, cache_control, modified)


# ---------------------------------------------------------------------- badges


@app.get("/health")
async def health() -> Response:
    now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
    return JSONResponse({"status": "Healthy", "time_stamp": now}, media_type=JSON, headers=NO_STORE)


@route("/badges/packages/nuget/{package}")
def nuget_badge(package: str, request: Request, version: str | None = None, prerelease: str = "") -> Response:
    if not package.strip():
        raise HTTPException(400, "Package identifier is required")
    try:
        wanted = versions.parse_range(version) if version else None
    except ValueError as e:
        raise HTTPException(400, f"Invalid version range: {e}") from None
    try:
        found = package_source.nuget_versions(package)
    except upstream.PackageNotFound:
        raise HTTPException(404, f"Package '{package}' not found") from None
    except upstream.UpstreamUnavailable:
        raise HTTPException(502, "nuget is unavailable") from None
    best = versions.best_match(found.versions, wanted, prerelease.strip().lower() == "true")
    if best is None:
        raise HTTPException(404, "No version matches")
    parsed = versions.parse_version(best)
    color = "orange" if parsed is not None and parsed.is_prerelease else "blue"
    badge = shields.Badge("nuget", best, color, "nuget")
    return badge_response(request, badge, STALE_CACHE if found.stale else BADGE_CACHE, found.checked_at)


@route("/badges/tests/{platform}/{owner}/{repo}/{branch}")
def test_badge(platform: str, owner: str, repo: str, branch: str, request: Request) -> Response:
    for name, value in (("platform", platform), ("owner", owner), ("repo", repo), ("branch", branch)):
        if not value.strip() or len(value) > 256:
            raise HTTPException(400, f"Invalid {name}")
    where = Repo.of(platform, owner, repo, branch)
    latest = badge_store.latest(where)
    if latest is None:
        raise HTTPException(404, f"No test results for {where.display}")
    badge = shields.test_badge(latest["passed"], latest["failed"], latest.get("skipped", 0))
    return badge_response(request, badge, TEST_CACHE, latest.get("ReceivedAt"))


# ---------------------------------------------------------------------- wardrobe


def jwt_secret() -> str:
    secret = wardrobe_secrets.get(wardrobe_config.jwt_secret_name)
    if not secret:
        raise HTTPException(500, "Server is not configured")
    return secret


async def current_user(authorization: Annotated[str | None, Header()] = None) -> str:
    scheme, _, token = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HTTPException(401, "Missing bearer token")
    c = wardrobe_config
    try:
        claims = jwt.decode(token.strip(), jwt_secret(), leeway_s=c.jwt_leeway_s, issuer=c.jwt_issuer,
                            audience=c.jwt_audience)  # fmt: skip
    except jwt.InvalidToken as e:
        raise HTTPException(401, str(e)) from None
    user = jwt.user_id(claims)
    if not user:
        raise HTTPException(401, "Token has no usable sub or userId claim")
    return user


def cursor_key() -> bytes:
    return hmac_sha256(jwt_secret().encode("utf-8"), b"wardrobe-cursor-v1")


@route("/users/{user_id}/items")
def list_items(
    user_id: str,
    user: Annotated[str, Depends(current_user)],
    season: str | None = None,
    category: str | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> Response:
    if user_id != user:
        raise HTTPException(403, "user mismatch")
    season = (season or "").strip().lower() or None
    if season is not None and season not in SEASONS:
        raise HTTPException(400, f"season must be one of {', '.join(SEASONS)}")
    category = category or None
    expect = {"u": user, "k": "items", "s": season, "c": category}
    start = None
    if cursor:
        try:
            start = unseal(cursor, cursor_key(), expect)["p"]
        except (BadCursor, KeyError) as e:
            raise HTTPException(400, f"Invalid cursor: {e}") from None
    page_size = min(max(limit, 1), 100)
    items, after = wardrobe_store.list_items(user, season, category, page_size, start, wardrobe_config.list_read_budget)
    token = seal({**expect, "p": after}, cursor_key()) if after is not None else None
    return JSONResponse({"items": items, "nextCursor": token, "hasMore": token is not None}, media_type=JSON,
                        headers=NO_STORE)  # fmt: skip
