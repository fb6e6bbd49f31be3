"""Badges service routes. Lambda entry point: `lambdasmith.badges.app.handler`.

    GET  /health
    GET  /badges/packages/{provider}/{package}          nuget
    GET  /badges/packages/{provider}/{org}/{package}    github
    GET  /badges/tests/{platform}/{owner}/{repo}/{branch}
    POST /tests/results/{platform}/{owner}/{repo}/{branch}          (HMAC-signed ingestion)
    GET  /tests/results/{platform}/{owner}/{repo}/{branch}          latest result as JSON (NEW)
    GET  /tests/results/{platform}/{owner}/{repo}/{branch}/history  newest first, paged (NEW)
    GET  /redirect/test-results/{platform}/{owner}/{repo}/{branch}
    GET  /badges/tests/{platform}/{owner}/{repo}/{branch}/trend.svg pass-rate sparkline (NEW)
    GET  /openapi.json                                              this API's OpenAPI 3.1 document (NEW)
    GET  /                                                          the badge builder page (NEW)
    GET  /dashboard/{owner}/{repo}                                  a repository's test results page (NEW)
    GET  /assets/{name}                                             the pages' stylesheet and script

Every badge URL also answers as SVG: a `.svg` suffix or `Accept: image/svg+xml` (NEW).
"""

from __future__ import annotations

import os
import time

from lambdasmith.badges import shields
from lambdasmith.badges.config import BadgesConfig
from lambdasmith.badges.store import BadgeStore, DuplicateResult, NonceUsed, Repo
from lambdasmith.kit.http.documents import JsonDocument
from lambdasmith.kit.http.events import Request
from lambdasmith.kit.http.responses import NO_STORE, Response, cacheable, json_response, redirect, svg_response
from lambdasmith.kit.http.routing import App, HTTPError, Router, lambda_handler
from lambdasmith.kit.numbers import whole_number
from lambdasmith.kit.observability.logs import Logger
from lambdasmith.kit.observability.metrics import Metrics
from lambdasmith.kit.table.port import ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

BADGE_CACHE = "public, s-maxage=600, max-age=300, stale-while-revalidate=1200, stale-if-error=3600"
# Test results change with every push: a badge (at the edge too: s-maxage) is at most 30 s old, or
# 60 s while a cache revalidates, so a push shows within a minute.
TEST_CACHE = "public, s-maxage=30, max-age=30, stale-while-revalidate=30, stale-if-error=3600"
ERROR_BADGE_CACHE = "public, max-age=60"  # ?shields=1 errors: shields.io may keep them, briefly
CACHE_SECONDS = (30, 86400)  # the bounds of ?cacheSeconds=
STALE_CACHE = "public, max-age=60, stale-if-error=3600"  # upstream is failing: look again soon
USER_AGENT = "lambdasmith-badges/0.1"
CORS_HEADERS = ("content-type", "x-signature", "x-timestamp", "x-nonce", "x-signature-version", "authorization")
RESULT_FIELDS = (
    "platform", "passed", "failed", "skipped", "total", "url_html",
    "timestamp", "commit", "run_id", "workflow_run_url",
)  # fmt: skip
# This API's OpenAPI document: read on the first GET /openapi.json, never at import.
OPENAPI = JsonDocument(os.path.join(os.path.dirname(__file__), "openapi.json"))


class BadgesService:
    def __init__(self, config: BadgesConfig, store: BadgeStore, source: Any, logger: Logger, metrics: Metrics):
        self.config = config
        self.store = store
        self._source = source  # badges.upstream.PackageSource, made on the first package badge
        self._oidc: Any = None  # badges.oidc_ingest.Verifier, made on the first Bearer-authenticated post
        self.logger = logger
        self.metrics = metrics

    @property
    def source(self) -> Any:
        if self._source is None:
            from lambdasmith.badges.upstream import PackageSource
            from lambdasmith.kit.http.upstream import UpstreamClient

            c = self.config
            client = UpstreamClient(USER_AGENT, timeout=c.upstream_timeout_s)
            self._source = PackageSource(client, c.nuget_base_url, c.github_api_url, cache_ttl=c.upstream_cache_ttl_s)
        return self._source

    # ------------------------------------------------------------------ health

    def health(self, request: Request) -> Response:
        from datetime import datetime, timezone

        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        return json_response({"status": "Healthy", "time_stamp": now}, headers=NO_STORE)

    # ------------------------------------------------------------------ package badges

    def package_nuget_or_error(self, request: Request) -> Response:
        p = request.path_params
        provider = p["provider"].lower()
        if provider == "github":
            raise HTTPError(400, "GitHub packages need an organisation: /badges/packages/github/{org}/{package}",
                            code="ORG_REQUIRED", field="org")
        if provider != "nuget":
            raise _invalid_provider(provider)
        return self._package(request, "nuget", None, p["package"])

    def package_github_or_error(self, request: Request) -> Response:
        p = request.path_params
        provider = p["provider"].lower()
        if provider == "nuget":
            raise HTTPError(400, "NuGet packages take no organisation: /badges/packages/nuget/{package}",
                            code="ORG_NOT_APPLICABLE", field="org")
        if provider != "github":
            raise _invalid_provider(provider)
        return self._package(request, "github", p["org"], p["package"])

    def _package(self, request: Request, provider: str, org: str | None, package: str) -> Response:
        from lambdasmith.badges import upstream, versions

        package, as_svg = _svg_suffix(package, request)
        if not package.strip():
            raise HTTPError(400, "Package identifier is required", code="PACKAGE_ID_REQUIRED", field="package")
        rng = None
        if request.query.get("version", "").strip():
            try:
                rng = versions.parse_range(request.query["version"])
            except ValueError as e:
                raise HTTPError(400, f"Invalid version range: {e}", code="PACKAGE_RANGE_INVALID", field="versionRange") from None
        prerelease = request.query.get("prerelease", "").strip().lower() == "true"
        try:
            if provider == "nuget":
                found = self.source.nuget_versions(package)
            else:
                assert org is not None
                token = self.store.org_secret(org, "package")
                if token is None:
                    raise HTTPError(401, f"No package token registered for organisation '{org}'",
                                    code="ORG_TOKEN_MISSING", field="org")
                found = self.source.github_versions(org, package, token.value)
        except upstream.PackageNotFound:
            raise HTTPError(404, f"Package '{package}' not found", code="PACKAGE_NOT_FOUND", field="package") from None
        except upstream.UpstreamAuthError:
            self.metrics.add("UpstreamFailures")
            raise HTTPError(502, f"{provider} rejected the organisation's token", code="UPSTREAM_AUTH") from None
        except upstream.UpstreamUnavailable as e:
            self.metrics.add("UpstreamFailures")
            self.logger.warning("upstream unavailable", provider=provider, package=package, error=str(e))
            raise HTTPError(502, f"{provider} is unavailable", code="UPSTREAM_UNAVAILABLE") from None
        best = versions.best_match(found.versions, rng, prerelease)
        if best is None:
            raise HTTPError(404, "No version matches", code="VERSION_NOT_FOUND", field="version")
        pre = versions.parse_version(best)
        is_pre = pre is not None and pre.is_prerelease
        if provider == "nuget":
            badge = shields.Badge("nuget", best, "orange" if is_pre else "blue", "nuget")
        else:
            badge = shields.Badge("github", best, "orange" if is_pre else "green", "github")
        if found.stale:
            self.logger.warning("serving stale upstream data", provider=provider, package=package)
        # Last-Modified: when upstream last confirmed these versions (BadgeSmith sends upstream's or Date).
        return self._badge(request, badge, as_svg, STALE_CACHE if found.stale else BADGE_CACHE, found.checked_at)

    # ------------------------------------------------------------------ test results

    def _repo(self, request: Request, strip_svg: bool = False) -> tuple[Repo, bool]:
        p = request.path_params
        branch, as_svg = _svg_suffix(p["branch"], request) if strip_svg else (p["branch"], False)
        for name, value in (("platform", p["platform"]), ("owner", p["owner"]), ("repo", p["repo"]), ("branch", branch)):
            if not value.strip() or len(value) > 256:
                raise HTTPError(400, f"Invalid {name}", code="INVALID_ROUTE_PARAMETER", field=name)
        return Repo.of(p["platform"], p["owner"], p["repo"], branch), as_svg

    def _latest_or_404(self, where: Repo) -> dict[str, Any]:
        latest = self.store.latest(where)
        if latest is None:
            raise _no_results(where)
        return latest

    def test_badge(self, request: Request) -> Response:
        where, as_svg = self._repo(request, strip_svg=True)
        latest = self._latest_or_404(where)
        fmt = request.query.get("format", "").lower()
        fmt = fmt if fmt in shields.TEST_FORMATS else ""  # an unknown format draws the default, not an error
        badge = shields.test_badge(latest["passed"], latest["failed"], latest.get("skipped", 0), fmt)
        return self._badge(request, badge, as_svg, TEST_CACHE, latest.get("ReceivedAt"))

    def trend_badge(self, request: Request) -> Response:
        from lambdasmith.badges import trend

        where, _ = self._repo(request)
        runs = self.store.history(where, trend.runs_wanted(request.query)).items  # newest first
        if not runs:
            raise _no_results(where)
        response = svg_response(trend.render(list(reversed(runs)), request.query))
        return cacheable(response, request.headers, _cache_policy(request, TEST_CACHE)[0], runs[0].get("ReceivedAt"))

    # ------------------------------------------------------------------ pages

    def builder_page(self, request: Request) -> Response:
        from lambdasmith.badges.pages import builder

        return builder.render(self.store, request, self.config.public_url)

    def dashboard_page(self, request: Request) -> Response:
        from lambdasmith.badges.pages import dashboard

        p = request.path_params
        return dashboard.render(self.store, request, p["owner"], p["repo"])

    def asset(self, request: Request) -> Response:
        from lambdasmith.badges.pages.html import ASSETS

        asset = ASSETS.get(request.path_params["name"])
        if asset is None:
            raise HTTPError(404, "Not found")
        return asset.handler(request)

    def test_redirect(self, request: Request) -> Response:
        where, _ = self._repo(request)
        latest = self._latest_or_404(where)
        url = latest["url_html"]
        return cacheable(redirect(url), request.headers, TEST_CACHE, latest.get("ReceivedAt"), url.encode("utf-8"))

    def latest_result(self, request: Request) -> Response:
        where, _ = self._repo(request)
        latest = self._latest_or_404(where)
        return cacheable(json_response(_public(where, latest)), request.headers, TEST_CACHE, latest.get("ReceivedAt"))

    def history(self, request: Request) -> Response:
        where, _ = self._repo(request)
        limit = whole_number(request.query.get("limit", "20"))  # ASCII digits only, bounded (kit/numbers.py)
        if limit is None:
            raise HTTPError(400, "limit must be a whole number from 1 to 100", code="INVALID_LIMIT", field="limit")
        limit = min(max(limit, 1), 100)
        try:
            page = self.store.history(where, limit, request.query.get("cursor") or None)
        except ValidationError:
            raise HTTPError(400, "Invalid cursor", code="INVALID_CURSOR", field="cursor") from None
        body = {"items": [_public(where, r) for r in page.items], "next_cursor": page.cursor}
        return json_response(body, headers={"Cache-Control": "public, max-age=60"})

    def ingest(self, request: Request) -> Response:
        from lambdasmith.badges import ingest

        c = self.config
        if len(request.body) > c.max_body_bytes:
            raise HTTPError(413, f"Body exceeds {c.max_body_bytes} bytes", code="PAYLOAD_TOO_LARGE", field="body")
        where, _ = self._repo(request)
        token = _bearer_token(request.header("authorization"))
        if token is not None:
            return self._ingest_oidc(request, where, token)
        _sig, ts_header, nonce = ingest.required_headers(request.headers)
        now = time.time()
        ingest.check_window(ts_header, now, c.timestamp_max_age_s, c.timestamp_max_skew_s)
        secrets = self.store.signing_secrets(where.owner, where.repo)
        if not secrets:
            raise _org_unknown(where)
        ingest.verify_any(secrets, request.headers, request.method, request.path, request.body)
        return self._store_result(request, where, nonce, now, "Nonce already used", "NONCE_ALREADY_USED", "X-Nonce")

    def _ingest_oidc(self, request: Request, where: Repo, token: str) -> Response:
        from lambdasmith.badges import oidc_ingest

        policy = self.store.oidc_policy(where.owner)
        if policy is None:
            raise _org_unknown(where)
        if self._oidc is None:
            from lambdasmith.kit.http.upstream import UpstreamClient

            c = self.config
            client = UpstreamClient(USER_AGENT, timeout=c.upstream_timeout_s)
            self._oidc = oidc_ingest.Verifier(c.oidc_issuer, c.oidc_audience, c.nonce_ttl_s, client, c.oidc_refetch_s)
        now = time.time()
        claims = self._oidc.claims(token, now)
        oidc_ingest.authorize(claims, where, policy)
        return self._store_result(request, where, "oidc:" + claims["jti"], now, "OIDC token already used",
                                  "TOKEN_ALREADY_USED", "Authorization")  # fmt: skip

    def _store_result(self, request: Request, where: Repo, nonce: str, now: float, used: str, used_code: str,
                      used_field: str) -> Response:
        """The authenticated body, validated and stored with its nonce burned in the same transaction."""
        from lambdasmith.badges import ingest
        from lambdasmith.kit.clock import utc_iso_ms

        result, when = ingest.parse_payload(request.body)
        result["ReceivedAt"] = int(now)
        try:
            self.store.record(where, nonce, result, ingest.ts_key(when), now)
        except NonceUsed:
            raise HTTPError(400, used, code=used_code, field=used_field) from None
        except DuplicateResult:
            raise HTTPError(409, "A result with this timestamp already exists for this branch",
                            code="DUPLICATE_TEST_RESULT", field="timestamp") from None
        self.metrics.add("TestResultsIngested")
        body = {"test_result_id": result["run_id"], "repository": where.display, "timestamp": utc_iso_ms(now)}
        return json_response(body, 201, NO_STORE)

    # ------------------------------------------------------------------ rendering

    def _badge(self, request: Request, badge: "shields.Badge", as_svg: bool, cache: str, modified: float | None) -> Response:
        cache, seconds = _cache_policy(request, cache)
        if as_svg:
            response = svg_response(shields.render_svg(badge, request.query))
        else:
            response = json_response(badge.endpoint(seconds))
        response.headers["Vary"] = "Accept"
        return cacheable(response, request.headers, cache, modified)


def _cache_policy(request: Request, default: str) -> tuple[str, int | None]:
    """`?cacheSeconds=N` (shields.io's endpoint field; bounded to CACHE_SECONDS) replaces the
    route's cache lifetime; anything unreadable keeps the default."""
    n = whole_number(request.query.get("cacheSeconds", ""))
    if n is None:
        return default, None
    n = min(max(n, CACHE_SECONDS[0]), CACHE_SECONDS[1])
    return f"public, s-maxage={n}, max-age={n}, stale-while-revalidate={n}, stale-if-error=3600", n


def _bearer_token(authorization: str | None) -> str | None:
    """The token of `Authorization: Bearer <token>` (scheme case-insensitive; "" when it has none
    or is not set off by a space, RFC 7235's SP), or None when the header is absent or names another
    scheme (then HMAC applies)."""
    parts = (authorization or "").split(None, 1)
    if not parts or parts[0].lower() != "bearer":
        return None
    rest = (authorization or "").strip()[len(parts[0]):]
    return rest.strip() if rest.startswith(" ") else ""


def _no_results(where: Repo) -> HTTPError:
    return HTTPError(404, f"No test results for {where.display}", code="TEST_RESULTS_NOT_FOUND")


def _org_unknown(where: Repo) -> HTTPError:
    return HTTPError(401, f"No signing secret registered for organisation '{where.owner}'",
                     code="ORG_SECRET_MISSING", field="owner")


def _invalid_provider(provider: str) -> HTTPError:
    return HTTPError(400, f"Unknown package provider '{provider}' (nuget or github)", code="INVALID_PROVIDER", field="provider")


def _svg_suffix(segment: str, request: Request) -> tuple[str, bool]:
    if segment.lower().endswith(".svg"):
        return segment[:-4], True
    return segment, "image/svg+xml" in (request.header("accept") or "")


def _public(where: Repo, row: dict[str, Any]) -> dict[str, Any]:
    from datetime import datetime, timezone

    out = {k: row[k] for k in RESULT_FIELDS if k in row}
    out["repository"] = where.display
    if "ReceivedAt" in row:
        out["received_at"] = datetime.fromtimestamp(row["ReceivedAt"], timezone.utc).isoformat().replace("+00:00", "Z")
    return out


def _badge_errors(fn: Callable[[Request], Response]) -> Callable[[Request], Response]:
    """Errors of a badge requested as an image come back as an image with the badge's own label
    (`nuget | not found`), so a README shows why. With `?shields=1` (NEW) an error is a 200
    endpoint badge with `isError: true`, so img.shields.io draws our message, not its "invalid"."""

    def wrapped(request: Request) -> Response:
        try:
            return fn(request)
        except HTTPError as e:
            last = request.path.rstrip("/").rsplit("/", 1)[-1]
            as_svg = last.lower().endswith(".svg") or "image/svg+xml" in (request.header("accept") or "")
            for_shields = request.query.get("shields", "").lower() in ("1", "true")
            if not (as_svg or for_shields):
                raise
            badge = shields.error_badge(_error_label(request), e.status, e.code)
            if as_svg:
                response = svg_response(shields.render_svg(badge, request.query))
                response.status = e.status
                response.headers.update(NO_STORE)
                return response
            response = json_response(badge.endpoint(), headers={"Cache-Control": ERROR_BADGE_CACHE, "Vary": "Accept"})
            return response

    return wrapped


def _error_label(request: Request) -> str:
    provider = request.path_params.get("provider", "").lower()
    if provider in ("nuget", "github"):
        return provider
    return "tests" if "platform" in request.path_params else "badge"


def build_router(svc: BadgesService) -> Router:
    r = Router()
    r.get("/health")(svc.health)
    r.get("/badges/packages/{provider}/{package}")(_badge_errors(svc.package_nuget_or_error))
    r.get("/badges/packages/{provider}/{org}/{package}")(_badge_errors(svc.package_github_or_error))
    r.get("/badges/tests/{platform}/{owner}/{repo}/{branch}")(_badge_errors(svc.test_badge))
    r.get("/badges/tests/{platform}/{owner}/{repo}/{branch}/trend.svg")(_badge_errors(svc.trend_badge))
    r.post("/tests/results/{platform}/{owner}/{repo}/{branch}")(svc.ingest)
    r.get("/tests/results/{platform}/{owner}/{repo}/{branch}")(svc.latest_result)
    r.get("/tests/results/{platform}/{owner}/{repo}/{branch}/history")(svc.history)
    r.get("/redirect/test-results/{platform}/{owner}/{repo}/{branch}")(svc.test_redirect)
    r.get("/openapi.json")(OPENAPI.handler)
    r.get("/")(svc.builder_page)
    r.get("/dashboard/{owner}/{repo}")(svc.dashboard_page)
    r.get("/assets/{name}")(svc.asset)
    return r


def create_app(config: BadgesConfig, store: BadgeStore | None = None, source: Any = None) -> App:
    logger = Logger(default_service="badges")
    metrics = Metrics(default_namespace="BadgeSmith", default_service="badges")
    if store is None:
        from lambdasmith.badges.wiring import open_store

        store = open_store(config)
    svc = BadgesService(config, store, source, logger, metrics)

    def flush(request: Request, response: Response) -> None:
        metrics.flush()

    return App(build_router(svc), logger=logger, cors_allow_headers=CORS_HEADERS, after=flush)


handler = lambda_handler(lambda: create_app(BadgesConfig.from_env()))
