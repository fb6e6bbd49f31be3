"""A hypothesis fuzz of signed ingestion, validly signed so the fuzz reaches past the MAC: any
body, any timestamp header and body `timestamp`, through the badges handler as API Gateway
hands it. Every answer is 201 or a 4xx — never a 5xx."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lambdasmith.badges import app as badges_app
from lambdasmith.badges.config import BadgesConfig
from lambdasmith.badges.signature import sign_v2
from lambdasmith.badges.wiring import open_store
from lambdasmith.local.apigw import v2_event

SECRET = "fuzz-secret"
PATH = "/tests/results/linux/acme/fuzz/main"
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    config = BadgesConfig.from_env({"LAMBDASMITH_DATA_DIR": str(tmp_path_factory.mktemp("ingest-fuzz"))})
    open_store(config).register_org("acme", "testdata", SECRET)
    return badges_app.create_app(config)


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


timestamps = st.one_of(st.datetimes(timezones=st.just(timezone.utc)).map(lambda d: d.isoformat()),
                       st.text(max_size=40), st.sampled_from(["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"]))  # fmt: skip
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
payloads = st.fixed_dictionaries({}, optional={
    "platform": scalars, "passed": scalars | st.integers(0, 10), "failed": scalars | st.integers(0, 10),
    "skipped": scalars | st.integers(0, 10), "total": scalars | st.integers(0, 30), "url_html": scalars,
    "timestamp": timestamps, "commit": scalars, "run_id": scalars, "workflow_run_url": scalars,
})  # fmt: skip


def _post(app, body: bytes, ts: str) -> int:
    nonce = uuid.uuid4().hex
    headers = [("content-type", "application/json"), ("x-nonce", nonce), ("x-timestamp", ts), ("x-signature-version", "2"),
               ("x-signature", sign_v2(SECRET, "POST", PATH, ts, nonce, body))]  # fmt: skip
    return app.handler(v2_event("POST", PATH, headers, body))["statusCode"]


@FUZZ
@given(doc=payloads)
def test_a_signed_payload_of_any_shape_is_201_or_a_client_error(app, doc):
    status = _post(app, json.dumps(doc).encode(), _now())
    assert status == 201 or 400 <= status < 500


@FUZZ
@given(ts=timestamps, body=st.binary(max_size=300))
def test_any_timestamp_header_and_any_body_is_a_client_error_or_201(app, ts, body):
    try:
        status = _post(app, body, ts)
    except UnicodeEncodeError:  # a header value an HTTP client could not send
        return
    assert status == 201 or 400 <= status < 500
