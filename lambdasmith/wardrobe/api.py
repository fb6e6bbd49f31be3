"""Wardrobe API routes (REST API, payload 1.0). Lambda entry point: `lambdasmith.wardrobe.api.handler`.

    POST /users/{userId}/items          create (idempotent by key), 201 / 200 / 409 / 422
    GET  /users/{userId}/items          ?season=&category=&limit=&cursor=   newest first
    POST /items/{itemId}/share          202: the share goes through the queue to the worker
    GET  /users/{userId}/activities     ?limit=&cursor=   newest first (NEW)
    GET  /openapi.json                  this API's OpenAPI 3.1 document, no token needed (NEW)

Every other route needs `Authorization: Bearer <HS256 JWT>`; the user is the token's `sub` (or `userId`).
"""

from __future__ import annotations

import os

from lambdasmith.kit import jsonread
from lambdasmith.kit.http.documents import JsonDocument
from lambdasmith.kit.http.events import Request
from lambdasmith.kit.http.responses import NO_STORE, Response, json_response
from lambdasmith.kit.http.routing import App, HTTPError, Router, lambda_handler
from lambdasmith.kit.ids import uuid4
from lambdasmith.kit.numbers import whole_number
from lambdasmith.kit.observability.logs import Logger
from lambdasmith.kit.observability.metrics import Metrics
from lambdasmith.wardrobe.config import WardrobeConfig

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.kit.queue.port import Queue
    from lambdasmith.kit.secrets.port import SecretStore
    from lambdasmith.wardrobe.store import WardrobeStore

STATUS_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
                409: "conflict", 413: "payload_too_large", 422: "unprocessable", 500: "internal_error"}  # fmt: skip
TEXT_LIMITS = {"name": 200, "category": 100, "color": 50, "brand": 100}
ID_MAX = 128
# This API's OpenAPI document: read on the first GET /openapi.json, never at import.
OPENAPI = JsonDocument(os.path.join(os.path.dirname(__file__), "openapi.json"))


def error_body(err: HTTPError) -> dict[str, Any]:
    return {"error": err.code or STATUS_CODES.get(err.status, "error"), "message": err.message}


def bad(message: str) -> HTTPError:
    return HTTPError(400, message, code="bad_request")


class WardrobeService:
    def __init__(self, config: WardrobeConfig, store: WardrobeStore, secrets: SecretStore, queue: Queue | None,
                 logger: Logger, metrics: Metrics):  # fmt: skip
        self.config = config
        self.store = store
        self.secrets = secrets
        self._queue = queue
        self.logger = logger
        self.metrics = metrics

    @property
    def queue(self) -> Queue:
        if self._queue is None:
            from lambdasmith.wardrobe.wiring import open_share_queue

            self._queue = open_share_queue(self.config)
        return self._queue

    # ------------------------------------------------------------------ auth

    def _secret(self) -> str:
        secret = self.secrets.get(self.config.jwt_secret_name)
        if not secret:
            self.logger.error("JWT secret is not configured", name=self.config.jwt_secret_name)
            raise HTTPError(500, "Server is not configured")
        return secret

    def caller(self, request: Request) -> str:
        from lambdasmith.kit.auth import jwt

        header = request.header("authorization") or ""
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPError(401, "Missing bearer token", code="unauthorized")
        c = self.config
        try:
            claims = jwt.decode(token.strip(), self._secret(), leeway_s=c.jwt_leeway_s, issuer=c.jwt_issuer,
                                audience=c.jwt_audience)  # fmt: skip
        except jwt.InvalidToken as e:
            raise HTTPError(401, str(e), code="unauthorized") from None
        user = jwt.user_id(claims)
        if not user or not _valid_id(user):
            raise HTTPError(401, "Token has no usable sub or userId claim", code="unauthorized")
        return user

    def owner(self, request: Request) -> str:
        user = self.caller(request)
        if request.path_params["userId"] != user:
            raise HTTPError(403, "user mismatch", code="forbidden")
        return user

    def _cursor_key(self) -> bytes:
        from lambdasmith.kit.digest import hmac_sha256

        return hmac_sha256(self._secret().encode("utf-8"), b"wardrobe-cursor-v1")

    # ------------------------------------------------------------------ routes

    def create_item(self, request: Request) -> Response:
        from lambdasmith.kit.digest import json_sha256
        from lambdasmith.wardrobe import store as st

        user = self.owner(request)
        if len(request.body) > self.config.max_body_bytes:
            raise HTTPError(413, f"Body exceeds {self.config.max_body_bytes} bytes")
        data = _json_object(request.body)
        fields, errors, body_key = validate_item(data)
        if errors:
            raise validation_failed(errors)
        header_key = request.header("idempotency-key")
        if header_key is not None and body_key is not None and header_key != body_key:
            raise validation_failed([("idempotencyKey", "must equal the Idempotency-Key header")])
        key = header_key if header_key is not None else body_key
        if key is not None and not (0 < len(key) <= 255 and key.isprintable()):
            raise bad("Idempotency key must be 1 to 255 printable characters")
        digest = json_sha256(fields)
        try:
            item, created = self.store.create(user, fields, key, digest)
        except st.ItemOwnedByOther:
            raise HTTPError(409, "itemId belongs to another user", code="conflict") from None
        except st.ItemExists:
            raise HTTPError(409, "item already exists", code="conflict") from None
        except st.IdempotencyMismatch:
            raise HTTPError(422, "Idempotency key was used with a different payload", code="idempotency_key_reused") from None
        self.metrics.add("ItemCreated" if created else "ItemCreatedIdempotent")
        return json_response(item, 201 if created else 200, NO_STORE)

    def list_items(self, request: Request) -> Response:
        user = self.owner(request)
        q = request.query
        season = q.get("season", "").strip().lower() or None
        from lambdasmith.wardrobe.store import SEASONS

        if season is not None and season not in SEASONS:
            raise bad(f"season must be one of {', '.join(SEASONS)}")
        category = q.get("category") or None
        limit = _limit(q.get("limit"))
        expect = {"u": user, "k": "items", "s": season, "c": category}
        start = self._open_cursor(q.get("cursor"), expect)
        items, cursor = self.store.list_items(user, season, category, limit, start, self.config.list_read_budget)
        self.metrics.add("ItemsListed", len(items))  # items, as Wdrbe counts them; not requests
        return self._page(items, cursor, expect)

    def activities(self, request: Request) -> Response:
        user = self.owner(request)
        limit = _limit(request.query.get("limit"))
        expect = {"u": user, "k": "activities"}
        items, cursor = self.store.activities(user, limit, self._open_cursor(request.query.get("cursor"), expect))
        return self._page(items, cursor, expect)

    def share(self, request: Request) -> Response:
        from lambdasmith.wardrobe.messages import SHARE_ITEM, build_share

        user = self.caller(request)
        item_id = request.path_params["itemId"]
        item = self.store.get_item(item_id) if _valid_id(item_id) else None
        if item is None:
            raise HTTPError(404, "item not found", code="not_found")
        if item["userId"] != user:
            raise HTTPError(403, "item belongs to another user", code="forbidden")
        event_id = request.request_id or uuid4()
        self.queue.send(build_share(user, item_id, event_id), {"type": SHARE_ITEM})
        self.metrics.add("ShareEventsEnqueued")
        return json_response({"itemId": item_id, "status": "queued", "eventId": event_id}, 202, NO_STORE)

    # ------------------------------------------------------------------ paging

    def _open_cursor(self, cursor: str | None, expect: dict[str, Any]) -> str | None:
        if not cursor:
            return None
        from lambdasmith.kit.table.cursors import BadCursor, unseal

        try:
            return unseal(cursor, self._cursor_key(), expect)["p"]
        except (BadCursor, KeyError) as e:
            raise bad(f"Invalid cursor: {e}") from None

    def _page(self, items: list[dict[str, Any]], cursor: str | None, expect: dict[str, Any]) -> Response:
        token = None
        if cursor is not None:
            from lambdasmith.kit.table.cursors import seal

            token = seal({**expect, "p": cursor}, self._cursor_key())
        return json_response({"items": items, "nextCursor": token, "hasMore": token is not None}, headers=NO_STORE)


# ---------------------------------------------------------------------- validation


def _valid_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= ID_MAX and value.isprintable() and "#" not in value


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = jsonread.loads(body)
    except ValueError:  # malformed, not UTF-8, too deep (kit/jsonread.py)
        raise HTTPError(400, "Invalid JSON", code="bad_request") from None
    if not isinstance(data, dict):
        raise HTTPError(400, "Body must be a JSON object", code="bad_request")
    return data


def _limit(raw: str | None) -> int:
    """20 when absent, zero or negative (as Wdrbe reads it), else clamped to 1..100; a limit that is
    not a whole number is a 400 (Wdrbe silently pages by 20: a typo should not look like data)."""
    if raw is None or raw == "":
        return 20
    negative = raw.startswith("-")
    n = whole_number(raw[1:] if negative else raw)  # ASCII digits only, bounded (kit/numbers.py)
    if n is None:
        raise bad("limit must be a whole number")
    return 20 if negative or n == 0 else min(n, 100)


def validation_failed(errors: list[tuple[str, str]]) -> HTTPError:
    """400 `validation_failed`: `errors` are sentences, as Wdrbe's clients read them; `details`
    (ours) name the field of each, for clients that mark the form field."""
    body = {"error": "validation_failed", "errors": [f"{field} {why}" for field, why in errors],
            "details": [{"field": field, "message": f"{field} {why}"} for field, why in errors]}  # fmt: skip
    return HTTPError(400, "Validation failed", body=body)


def validate_item(data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]], str | None]:
    """The item's fields, normalised; every problem found (not just the first) as (field, what it
    must be); the body's key."""
    errors: list[tuple[str, str]] = []
    out: dict[str, Any] = {}

    def err(field: str, message: str) -> None:
        errors.append((field, message))

    item_id = data.get("itemId")
    if not _valid_id(item_id):
        err("itemId", f"is required: 1 to {ID_MAX} printable characters, no '#'")
    else:
        out["itemId"] = item_id
    for field in ("name", "category"):
        v = data.get(field)
        if not isinstance(v, str) or not v.strip():
            err(field, "is required")
        elif len(v) > TEXT_LIMITS[field]:
            err(field, f"must be {TEXT_LIMITS[field]} characters or fewer")
        else:
            out[field] = v.strip()
    season = data.get("season")
    if season is None:
        out["season"] = None
    elif not isinstance(season, str) or season.strip().lower() not in ("spring", "summer", "autumn", "fall", "winter", "all-season"):
        err("season", "must be one of: spring, summer, autumn, fall, winter, all-season")
    else:
        out["season"] = season.strip().lower()
    for field in ("color", "brand"):
        v = data.get(field)
        if v is None:
            out[field] = None
        elif not isinstance(v, str) or len(v) > TEXT_LIMITS[field]:
            err(field, f"must be a string of {TEXT_LIMITS[field]} characters or fewer")
        else:
            out[field] = v
    pd = data.get("purchaseDate")
    if pd is None:
        out["purchaseDate"] = None
    elif not isinstance(pd, str) or not _is_date(pd):
        err("purchaseDate", "must be a date as YYYY-MM-DD")
    else:
        out["purchaseDate"] = pd
    url = data.get("imageUrl")
    if url is None:
        out["imageUrl"] = None
    elif not isinstance(url, str) or len(url) > 2048 or not url.startswith(("https://", "http://")) or any(c.isspace() for c in url):
        err("imageUrl", "must be an absolute http(s) URL")
    else:
        out["imageUrl"] = url
    key = data.get("idempotencyKey")
    if key is not None and not isinstance(key, str):
        err("idempotencyKey", "must be a string")
        key = None
    return out, errors, key


def _is_date(text: str) -> bool:
    from datetime import date

    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


# ---------------------------------------------------------------------- the app


def build_router(svc: WardrobeService) -> Router:
    r = Router()
    r.post("/users/{userId}/items")(svc.create_item)
    r.get("/users/{userId}/items")(svc.list_items)
    r.post("/items/{itemId}/share")(svc.share)
    r.get("/users/{userId}/activities")(svc.activities)
    r.get("/openapi.json")(OPENAPI.handler)
    return r


def create_app(config: WardrobeConfig, store: WardrobeStore | None = None, secrets: SecretStore | None = None,
               queue: Queue | None = None) -> App:  # fmt: skip
    from lambdasmith.wardrobe import wiring

    logger = Logger(default_service="wardrobe")
    metrics = Metrics(default_namespace="Wdrbe", default_service="wardrobe")
    if secrets is None:
        secrets = wiring.open_secrets(config)
    svc = WardrobeService(config, store or wiring.open_store(config), secrets, queue, logger, metrics)

    def after(request: Request, response: Response) -> None:
        if response.status >= 500:
            metrics.add("UnhandledErrors")
        metrics.flush()

    return App(build_router(svc), logger=logger, error_body=error_body,
               cors_allow_headers=("content-type", "authorization", "idempotency-key", "x-request-id"), after=after)  # fmt: skip


handler = lambda_handler(lambda: create_app(WardrobeConfig.from_env()))
