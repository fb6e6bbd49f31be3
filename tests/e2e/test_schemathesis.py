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
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
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


def operations(url: str) -> list:
    """The document's operations (OPTIONS, answered for any path by the router, left out)."""
    schema = schemathesis.openapi.from_url(url + "/openapi.json")
    return [r.ok() for r in schema.get_all_operations() if r.ok().method.upper() != "OPTIONS"]


def _allowed_502(case, response) -> bool:
    path = case.operation.path
    return response.status_code == 502 and path.startswith(("/badges/packages/nuget/", "/badges/packages/github/"))


def fuzz(url: str, headers: dict[str, str] | None = None) -> int:
    """Every operation, valid and invalid requests; the number of requests sent.

    Driven with hypothesis directly rather than through schemathesis' pytest plugin, whose
    fixture loader does not run under pytest 9."""
    sent = 0
    for operation in operations(url):
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @FUZZ
            def check(case) -> None:
                nonlocal sent
                given_auth = "authorization" in {k.lower() for k in (case.headers or {})}
                response = case.call(base_url=url, headers=None if given_auth else headers)
                sent += 1
                if not _allowed_502(case, response):
                    case.validate_response(response, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:  # nothing invalid to send (an operation without parameters)
                assert mode is GenerationMode.NEGATIVE, operation.path
    return sent


def test_badges_api(served):
    assert fuzz(served[0]["badges"]) > 100


def test_wardrobe_api(served):
    urls, token = served
    assert fuzz(urls["wardrobe"], {"Authorization": f"Bearer {token}"}) > 50
