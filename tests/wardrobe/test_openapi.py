"""lambdasmith/wardrobe/openapi.json: valid OpenAPI 3.1, the router's routes exactly, served at
GET /openapi.json without a token (read on first request, never at import), and what the handler
really answers conforms to it (status, content type, body), error shapes included."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from lambdasmith.wardrobe import api as wardrobe_api
from lambdasmith.wardrobe.config import WardrobeConfig
from lambdasmith.wardrobe.service import SERVICE
from lambdasmith.wardrobe.wiring import mint_token
from tests.support.openapi import (
    Conformance,
    body_of,
    check_document,
    document_fixtures,
    normalise,
    operations,
    path_parameters_declared,
    router_operations,
)

DOCUMENT = Path(wardrobe_api.__file__).with_name("openapi.json")
doc, conform = document_fixtures(wardrobe_api.__file__)
ITEMS, SHARE, ACTIVITIES = "/users/{userId}/items", "/items/{itemId}/share", "/users/{userId}/activities"


def rest_event(method: str, path: str, headers: dict[str, str] | None = None, body: str | None = None,
               query: dict[str, str] | None = None) -> dict[str, Any]:  # fmt: skip
    """A REST API proxy event (payload 1.0)."""
    return {"resource": path, "path": path, "httpMethod": method, "headers": headers or {},
            "multiValueHeaders": None, "queryStringParameters": query,
            "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} if query else None,
            "pathParameters": None, "stageVariables": None, "body": body, "isBase64Encoded": False,
            "requestContext": {"path": f"/prod{path}", "stage": "prod", "requestId": str(uuid.uuid4()),
                               "identity": {"sourceIp": "127.0.0.1"}}}  # fmt: skip


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> WardrobeConfig:
    return WardrobeConfig.from_env({"LAMBDASMITH_DATA_DIR": str(tmp_path_factory.mktemp("wardrobe-openapi"))})


@pytest.fixture(scope="module")
def app(config: WardrobeConfig) -> Any:
    mint_token(config, "warm-up")  # the local JWT secret exists before the app caches its absence
    return wardrobe_api.create_app(config)


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    check_document(doc)
    assert doc["servers"][0]["url"] == "http://127.0.0.1:8001"
    assert path_parameters_declared(doc) == []
    scheme = doc["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    assert doc["security"] == [{"bearerAuth": []}]
    assert doc["paths"]["/openapi.json"]["get"]["security"] == []


def test_every_route_is_documented_and_every_operation_routed(doc: dict[str, Any], app: Any) -> None:
    assert operations(doc) == router_operations(app.router)
    assert {p for p, item in doc["paths"].items() if "options" not in item} == set()
    # ...and the manifest (so the REST API deploys) routes each of them, with its preflight.
    fn = SERVICE.function("wardrobe-api")
    assert {(m, normalise(p)) for m, p in (r.split(" ", 1) for r in fn.routes)} == operations(doc, without=())


def test_create_documents_its_body_and_headers(doc: dict[str, Any]) -> None:
    op = doc["paths"][ITEMS]["post"]
    assert [p["name"] for p in op["parameters"]] == ["Idempotency-Key"]
    body = doc["components"]["schemas"]["ItemCreate"]
    assert body["required"] == ["itemId", "name", "category"]
    assert set(body["properties"]) == {"itemId", "name", "category", "season", "color", "brand", "purchaseDate",
                                       "imageUrl", "idempotencyKey"}  # fmt: skip
    assert set(op["responses"]) == {"200", "201", "400", "401", "403", "409", "413", "422", "500"}


def test_openapi_json_is_served_without_a_token(doc: dict[str, Any], app: Any, conform: Conformance) -> None:
    r = conform.check("GET", "/openapi.json", "/openapi.json", app.handler(rest_event("GET", "/openapi.json")))
    assert r["statusCode"] == 200 and r["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert body_of(r) == doc
    again = app.handler(rest_event("GET", "/openapi.json", {"If-None-Match": r["headers"]["ETag"]}))
    assert conform.check("GET", "/openapi.json", "/openapi.json", again)["statusCode"] == 304


PROBE = r"""
import json
from lambdasmith.wardrobe import api
before = api.OPENAPI.body
result = api.handler({"httpMethod": "GET", "path": "/openapi.json", "headers": {}, "body": None,
                      "requestContext": {"requestId": "r1"}})
print(json.dumps({"before": before, "status": result["statusCode"], "cached": api.OPENAPI.body is not None}))
"""


def test_the_handler_reads_the_document_only_when_asked(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60,
                          env={"LAMBDASMITH_DATA_DIR": str(tmp_path), "PATH": ""}, check=True)  # fmt: skip
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"before": None, "status": 200, "cached": True}


def test_answers_conform_to_the_document(app: Any, config: WardrobeConfig, conform: Conformance) -> None:
    alice, bob = f"alice-{uuid.uuid4().hex[:8]}", f"bob-{uuid.uuid4().hex[:8]}"
    auth = {"Authorization": f"Bearer {mint_token(config, alice)}", "Content-Type": "application/json"}
    other = {"Authorization": f"Bearer {mint_token(config, bob)}", "Content-Type": "application/json"}

    def call(method: str, template: str, path: str, headers: dict | None = None, body: Any = None,
             query: dict | None = None) -> dict:  # fmt: skip
        text = body if body is None or isinstance(body, str) else json.dumps(body)
        return conform.check(method, template, path, app.handler(rest_event(method, path, headers, text, query)))

    mine, items = f"coat-{alice}", f"/users/{alice}/items"
    item = {"itemId": mine, "name": "Wool coat", "category": "outerwear", "season": "Winter"}
    assert call("POST", ITEMS, items, body=item)["statusCode"] == 401
    assert call("POST", ITEMS, f"/users/{bob}/items", auth, item)["statusCode"] == 403
    assert call("POST", ITEMS, items, auth, "{not json")["statusCode"] == 400
    invalid = call("POST", ITEMS, items, auth, {"itemId": "a#b", "season": "monsoon"})
    assert body_of(invalid)["error"] == "validation_failed" and len(body_of(invalid)["errors"]) == 4
    big = "x" * (config.max_body_bytes + 1)
    assert call("POST", ITEMS, items, auth, big)["statusCode"] == 413
    keyed = {**auth, "Idempotency-Key": f"k-{mine}"}
    created = call("POST", ITEMS, items, keyed, item)
    assert created["statusCode"] == 201 and body_of(created)["season"] == "winter"
    assert call("POST", ITEMS, items, keyed, item)["statusCode"] == 200
    assert call("POST", ITEMS, items, keyed, {**item, "name": "Other"})["statusCode"] == 422
    assert call("POST", ITEMS, items, auth, item)["statusCode"] == 409
    assert call("POST", ITEMS, f"/users/{bob}/items", other, item)["statusCode"] == 409  # alice's itemId
    full = {
        **item,
        "itemId": f"shirt-{alice}",
        "season": None,
        "color": "blue",
        "brand": "Acme",
        "purchaseDate": "2024-02-29",
        "imageUrl": "https://img.example/s.png",
        "idempotencyKey": "body-key",
    }
    assert call("POST", ITEMS, items, auth, full)["statusCode"] == 201

    page = call("GET", ITEMS, items, auth, query={"limit": "1"})
    assert body_of(page)["hasMore"] is True and len(body_of(page)["items"]) == 1
    nxt = call("GET", ITEMS, items, auth, query={"limit": "1", "cursor": body_of(page)["nextCursor"]})
    assert nxt["statusCode"] == 200
    assert call("GET", ITEMS, items, auth, query={"season": " WINTER ", "category": "outerwear"})["statusCode"] == 200
    assert call("GET", ITEMS, items, auth, query={"season": "monsoon"})["statusCode"] == 400
    assert call("GET", ITEMS, items, auth, query={"limit": "many"})["statusCode"] == 400
    assert call("GET", ITEMS, items, auth, query={"cursor": "tampered"})["statusCode"] == 400
    assert call("GET", ITEMS, items, {"Authorization": "Bearer not.a.jwt"})["statusCode"] == 401

    share = f"/items/{mine}/share"
    queued = call("POST", SHARE, share, auth)
    assert queued["statusCode"] == 202 and body_of(queued)["status"] == "queued"
    assert call("POST", SHARE, share, other)["statusCode"] == 403
    assert call("POST", SHARE, "/items/none-such/share", auth)["statusCode"] == 404
    assert call("POST", SHARE, share)["statusCode"] == 401

    feed = call("GET", ACTIVITIES, f"/users/{alice}/activities", auth, query={"limit": "5"})
    assert {a["type"] for a in body_of(feed)["items"]} == {"ItemCreated"}
    assert call("GET", ACTIVITIES, f"/users/{bob}/activities", auth)["statusCode"] == 403

    asked = {"Access-Control-Request-Headers": "Authorization, Idempotency-Key, X-Request-Id, X-Other"}
    pre = call("OPTIONS", ITEMS, items, asked)  # Wdrbe's browser clients send X-Request-Id
    assert pre["statusCode"] == 204
    assert pre["headers"]["Access-Control-Allow-Headers"] == "authorization, idempotency-key, x-request-id"


def test_router_answers_outside_the_operations_are_the_documented_shapes(app: Any, doc: dict[str, Any]) -> None:
    import jsonschema

    error = doc["components"]["schemas"]["Error"]
    missing = app.handler(rest_event("GET", "/nowhere"))
    assert missing["statusCode"] == 404 and body_of(missing)["error"] == "not_found"
    jsonschema.validate(body_of(missing), error)
    wrong = app.handler(rest_event("DELETE", "/users/a/items"))
    assert wrong["statusCode"] == 405 and wrong["headers"]["Allow"] == "POST, GET, HEAD, OPTIONS"
    assert body_of(wrong)["error"] == "method_not_allowed"
    jsonschema.validate(body_of(wrong), error)
