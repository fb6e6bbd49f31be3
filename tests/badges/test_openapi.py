"""lambdasmith/badges/openapi.json: valid OpenAPI 3.1, the router's routes exactly, served at
GET /openapi.json (read on first request, never at import), and what the handler really answers
conforms to it (status, content type, body), error shapes included."""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from lambdasmith.badges import app as badges_app
from lambdasmith.badges.config import BadgesConfig
from lambdasmith.badges.wiring import open_store
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
from tests.support.templates import event

DOCUMENT = Path(badges_app.__file__).with_name("openapi.json")
doc, conform = document_fixtures(badges_app.__file__)
SECRET = "openapi-test-secret"


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> BadgesConfig:
    return BadgesConfig.from_env({"LAMBDASMITH_DATA_DIR": str(tmp_path_factory.mktemp("badges-openapi"))})


@pytest.fixture(scope="module")
def app(config: BadgesConfig) -> Any:
    return badges_app.create_app(config)


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]) -> None:
    check_document(doc)
    assert doc["servers"][0]["url"] == "http://127.0.0.1:8000"
    assert path_parameters_declared(doc) == []


def test_every_route_is_documented_and_every_operation_routed(doc: dict[str, Any], app: Any) -> None:
    assert operations(doc) == router_operations(app.router)
    # The router answers a CORS preflight on every path: each documented path says so.
    assert {p for p, item in doc["paths"].items() if "options" not in item} == set()
    assert len({normalise(p) for p in doc["paths"]}) == len(doc["paths"])


def test_ingestion_documents_its_headers_and_body(doc: dict[str, Any]) -> None:
    op = doc["paths"]["/tests/results/{platform}/{owner}/{repo}/{branch}"]["post"]
    headers = {p["name"] for p in op["parameters"] if p["in"] == "header"}
    assert headers == {"X-Signature", "X-Timestamp", "X-Nonce", "X-Signature-Version"}
    assert op["security"] == [{"hmacSignature": []}, {"githubOidc": []}]  # either one
    assert doc["components"]["securitySchemes"]["githubOidc"]["scheme"] == "bearer"
    assert not any(p["required"] for p in op["parameters"] if p["in"] == "header")  # an OIDC post sends none
    assert doc["components"]["securitySchemes"]["hmacSignature"] == {
        **doc["components"]["securitySchemes"]["hmacSignature"],
        "type": "apiKey",
        "in": "header",
        "name": "X-Signature",
    }
    body = doc["components"]["schemas"]["TestResultPayload"]
    assert set(body["required"]) == set(badges_app.RESULT_FIELDS)
    assert {"200", "304", "400", "404", "502"} <= set(
        doc["paths"]["/badges/packages/{provider}/{package}"]["get"]["responses"]
    )
    assert "413" in op["responses"] and "409" in op["responses"]


def test_openapi_json_is_served_and_cacheable(doc: dict[str, Any], app: Any, conform: Conformance) -> None:
    r = conform.check("GET", "/openapi.json", "/openapi.json", app.handler(event("GET", "/openapi.json")))
    assert r["statusCode"] == 200
    assert r["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert body_of(r) == doc
    assert r["headers"]["Cache-Control"].startswith("public")
    etag = r["headers"]["ETag"]
    again = app.handler(event("GET", "/openapi.json", headers={"If-None-Match": etag}))
    assert conform.check("GET", "/openapi.json", "/openapi.json", again)["statusCode"] == 304
    head = app.handler(event("HEAD", "/OpenAPI.JSON"))
    assert head["statusCode"] == 200 and head["body"] == ""


PROBE = r"""
import json, sys
from lambdasmith.badges import app
before = app.OPENAPI.body
result = app.handler({"version": "2.0", "rawPath": "/openapi.json", "rawQueryString": "", "headers": {},
                      "requestContext": {"http": {"method": "GET", "path": "/openapi.json"}, "requestId": "r1"}})
print(json.dumps({"before": before, "status": result["statusCode"], "cached": app.OPENAPI.body is not None,
                  "same": json.loads(result["body"]) == json.load(open(app.OPENAPI.path))}))
"""


def test_the_handler_reads_the_document_only_when_asked(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60,
                          env={"LAMBDASMITH_DATA_DIR": str(tmp_path), "PATH": ""}, check=True)  # fmt: skip
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "before": None,
        "status": 200,
        "cached": True,
        "same": True,
    }


# ------------------------------------------------------------------ real answers against the document


def signed(body: bytes, nonce: str | None = None) -> dict[str, str]:
    mac = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"X-Signature": f"sha256={mac}", "X-Timestamp": ts, "X-Nonce": nonce or uuid.uuid4().hex,
            "Content-Type": "application/json"}  # fmt: skip


def payload(**over: Any) -> bytes:
    data = {"platform": "linux", "passed": 9, "failed": 1, "skipped": 0, "total": 10,
            "url_html": "https://ci.example/run/1", "timestamp": datetime.now(timezone.utc).isoformat(),
            "commit": "abc123", "run_id": "run-1", "workflow_run_url": "https://ci.example/wf/1"}  # fmt: skip
    data.update(over)
    return json.dumps(data).encode()


RESULTS = "/tests/results/{platform}/{owner}/{repo}/{branch}"
HISTORY = RESULTS + "/history"
BADGE = "/badges/tests/{platform}/{owner}/{repo}/{branch}"
REDIRECT = "/redirect/test-results/{platform}/{owner}/{repo}/{branch}"
NUGET = "/badges/packages/{provider}/{package}"
GITHUB = "/badges/packages/{provider}/{org}/{package}"


def test_answers_conform_to_the_document(app: Any, config: BadgesConfig, conform: Conformance) -> None:
    open_store(config).register_org("acme", "testdata", SECRET)
    branch = f"b{int(time.time() * 1000)}"
    repo = f"/linux/Acme/widgets/{branch}"

    def call(method: str, template: str, path: str, query: str = "", headers: dict | None = None,
             body: bytes | None = None) -> dict:  # fmt: skip
        result = app.handler(event(method, path, query, headers, body.decode() if body is not None else None))
        return conform.check(method, template, path, result)

    assert body_of(call("GET", "/health", "/health"))["status"] == "Healthy"
    # errors before anything is stored
    assert call("GET", RESULTS, "/tests/results" + repo)["statusCode"] == 404
    assert call("GET", BADGE, "/badges/tests" + repo)["statusCode"] == 404
    svg = call("GET", BADGE, "/badges/tests" + repo + ".svg")
    assert svg["statusCode"] == 404 and svg["headers"]["Content-Type"].startswith("image/svg+xml")
    assert call("GET", REDIRECT, "/redirect/test-results" + repo)["statusCode"] == 404
    assert call("GET", RESULTS, "/tests/results/linux/acme/%20/x")["statusCode"] == 400
    empty = call("GET", HISTORY, "/tests/results" + repo + "/history")
    assert body_of(empty) == {"items": [], "next_cursor": None}
    assert call("GET", HISTORY, "/tests/results" + repo + "/history", "limit=x")["statusCode"] == 400
    assert call("GET", HISTORY, "/tests/results" + repo + "/history", "cursor=nope")["statusCode"] == 400
    assert call("POST", RESULTS, "/tests/results" + repo, body=payload())["statusCode"] == 400  # no headers
    unknown = "/tests/results/linux/nobody/widgets/main"
    assert call("POST", RESULTS, unknown, headers=signed(payload()), body=payload())["statusCode"] == 401
    bad_sig = {**signed(payload()), "X-Signature": "sha256=" + "0" * 64}
    assert call("POST", RESULTS, "/tests/results" + repo, headers=bad_sig, body=payload())["statusCode"] == 401
    invalid = payload(total=11)
    r = call("POST", RESULTS, "/tests/results" + repo, headers=signed(invalid), body=invalid)
    assert body_of(r)["error_details"] == [{"error_code": "INVALID_TEST_PAYLOAD", "property_name": "total"}]
    big = b" " * (config.max_body_bytes + 1)
    assert call("POST", RESULTS, "/tests/results" + repo, headers=signed(big), body=big)["statusCode"] == 413
    # a stored result, then everything that shows it
    good = payload()
    nonce = uuid.uuid4().hex
    created = call("POST", RESULTS, "/tests/results" + repo, headers=signed(good, nonce), body=good)
    assert created["statusCode"] == 201, created["body"]
    assert call("POST", RESULTS, "/tests/results" + repo, headers=signed(good, nonce), body=good)["statusCode"] == 400
    assert call("POST", RESULTS, "/tests/results" + repo, headers=signed(good), body=good)["statusCode"] == 409
    latest = call("GET", RESULTS, "/tests/results" + repo)
    assert latest["statusCode"] == 200
    etag = latest["headers"]["ETag"]
    assert call("GET", RESULTS, "/tests/results" + repo, headers={"If-None-Match": etag})["statusCode"] == 304
    page = call("GET", HISTORY, "/tests/results" + repo + "/history", "limit=1")
    assert len(body_of(page)["items"]) == 1
    assert call("GET", BADGE, "/badges/tests" + repo)["statusCode"] == 200
    assert call("GET", BADGE, "/badges/tests" + repo, "style=plastic", {"Accept": "image/svg+xml"})["statusCode"] == 200
    assert call("GET", REDIRECT, "/redirect/test-results" + repo)["statusCode"] == 302
    # package badges, up to the point where upstream would be asked
    assert call("GET", NUGET, "/badges/packages/npm/left-pad")["statusCode"] == 400
    assert call("GET", NUGET, "/badges/packages/github/left-pad")["statusCode"] == 400
    assert call("GET", NUGET, "/badges/packages/nuget/x", "version=[bad")["statusCode"] == 400
    assert call("GET", GITHUB, "/badges/packages/nuget/acme/x")["statusCode"] == 400
    assert call("GET", GITHUB, "/badges/packages/GitHub/acme/x.svg")["statusCode"] == 401
    # preflight
    pre = call(
        "OPTIONS", RESULTS, "/tests/results" + repo, headers={"Access-Control-Request-Headers": "X-Nonce, X-Other"}
    )
    assert pre["statusCode"] == 204 and pre["headers"]["Access-Control-Allow-Headers"] == "x-nonce"


def test_router_answers_outside_the_operations_are_the_documented_shapes(app: Any, doc: dict[str, Any]) -> None:
    """404 and 405 come from the router for any path: components/responses describes them."""
    import jsonschema

    error = doc["components"]["schemas"]["Error"]
    missing = app.handler(event("GET", "/nowhere"))
    assert missing["statusCode"] == 404
    jsonschema.validate(body_of(missing), error)
    wrong = app.handler(event("DELETE", "/health"))
    assert wrong["statusCode"] == 405 and wrong["headers"]["Allow"] == "GET, HEAD, OPTIONS"
    jsonschema.validate(body_of(wrong), error)
    assert set(doc["components"]["responses"]) >= {"NotFound", "MethodNotAllowed", "InternalError", "NotModified"}
