"""schemathesis over the badges and wardrobe OpenAPI documents, against a running `lambdasmith
serve` that serves them (`/openapi.json`): generated requests, valid and invalid, with checks
that nothing is a 5xx (other than an upstream route's documented 502) and that every answer
conforms to the document (status code, content type, body schema).

Bounded by examples per operation (SCHEMATHESIS_EXAMPLES, default 30), so the stage takes
seconds, not minutes; CI runs the same numbers every time (derandomized)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.support.sweep import serving

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES") or 30)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck))  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    with serving(str(tmp_path_factory.mktemp("schemathesis"))) as (urls, token):
        yield urls, token


@pytest.fixture(scope="module")
def badges_api(served):
    return schemathesis.openapi.from_url(served[0]["badges"] + "/openapi.json")


@pytest.fixture(scope="module")
def wardrobe_api(served):
    return schemathesis.openapi.from_url(served[0]["wardrobe"] + "/openapi.json")


badges = schemathesis.pytest.from_fixture("badges_api")
wardrobe = schemathesis.pytest.from_fixture("wardrobe_api")


def _allowed_502(case, response) -> bool:
    path = case.operation.path
    return response.status_code == 502 and path.startswith(("/badges/packages/nuget/", "/badges/packages/github/"))


def _validate(case, base_url: str, headers: dict[str, str] | None = None) -> None:
    response = case.call(base_url=base_url, headers=headers)
    if _allowed_502(case, response):
        return
    case.validate_response(response, checks=CHECKS)


@badges.parametrize()
@FUZZ
def test_badges_api(case, served):
    _validate(case, served[0]["badges"])


@wardrobe.parametrize()
@FUZZ
def test_wardrobe_api(case, served):
    urls, token = served
    headers = (
        {"Authorization": f"Bearer {token}"}
        if "authorization" not in {k.lower() for k in (case.headers or {})}
        else None
    )
    _validate(case, urls["wardrobe"], headers)
