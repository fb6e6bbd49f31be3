"""A hypothesis fuzz of what functions are handed: Invoke API requests, items events, SQS worker
records, cursors and JWTs. Bounded by examples (and no deadline), a few seconds in all. What it
holds: bad input is a client error — never a 5xx, never an exception out of a worker."""

from __future__ import annotations

import base64
import io
import json
import types

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from lambdasmith.kit.auth import jwt
from lambdasmith.kit.observability.logs import Logger
from lambdasmith.kit.observability.metrics import Metrics
from lambdasmith.kit.table.cursors import BadCursor, decode_cursor

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
deep_text = st.integers(min_value=1, max_value=3000).map(lambda n: "[" * n + "]" * (n % 3))
bodies = st.one_of(
    st.binary(max_size=200), json_values.map(lambda v: json.dumps(v).encode()), deep_text.map(str.encode)
)


@pytest.fixture(scope="module")
def invoke_api(tmp_path_factory):
    from lambdasmith.local.invoke import InvokeApi

    api = InvokeApi(str(tmp_path_factory.mktemp("fuzz-invoke")), refs={"echo": "tests.support.invoke_functions:echo"})
    yield api
    api.close()


@FUZZ
@given(body=bodies, context=st.one_of(st.none(), st.text(max_size=50), json_values.map(
    lambda v: base64.b64encode(json.dumps(v).encode()).decode()), deep_text.map(lambda t: base64.b64encode(t.encode()).decode())),
    kind=st.sampled_from(["RequestResponse", "Event", "DryRun", "Bogus"]))  # fmt: skip
def test_the_invoke_api_answers_any_request_below_500(invoke_api, body, context, kind):
    headers = {"x-amz-invocation-type": kind, **({"x-amz-client-context": context} if context is not None else {})}
    reply = invoke_api.dispatch("POST", "/2015-03-31/functions/echo/invocations", headers, body)
    assert reply.status < 500, reply.body[:200]


@pytest.fixture(scope="module")
def items(tmp_path_factory):
    from lambdasmith.items.app import ItemsProcessor
    from lambdasmith.items.config import ItemsConfig
    from lambdasmith.items.wiring import open_store

    config = ItemsConfig(data_dir=str(tmp_path_factory.mktemp("fuzz-items")))
    out = io.StringIO()
    return ItemsProcessor(config, open_store(config), Logger("items", stream=out), Metrics("Fuzz", "items", stream=out))


@FUZZ
@given(event=st.one_of(json_values, st.fixed_dictionaries(
    {"action": st.sampled_from(["create", "update", "delete", "nope"]), "data": json_values},
    optional={"idempotencyKey": json_values})))  # fmt: skip
def test_items_answers_any_event_with_a_client_error_at_worst(items, event):
    result = items.handle(event, types.SimpleNamespace(aws_request_id=None, function_name="items"))
    assert result["statusCode"] < 500, result


@pytest.fixture(scope="module")
def worker(tmp_path_factory):
    from lambdasmith.wardrobe.config import WardrobeConfig
    from lambdasmith.wardrobe.wiring import open_store
    from lambdasmith.wardrobe.worker import ShareWorker

    out = io.StringIO()
    store = open_store(WardrobeConfig(data_dir=str(tmp_path_factory.mktemp("fuzz-worker"))))
    return ShareWorker(store, Logger("wardrobe-worker", stream=out), Metrics("Fuzz", "wardrobe-worker", stream=out))


@FUZZ
@given(
    bodies=st.lists(st.one_of(st.text(max_size=100), json_values.map(json.dumps), deep_text), min_size=1, max_size=5)
)
def test_the_share_worker_reports_bad_records_one_by_one(worker, bodies):
    records = [
        {"messageId": f"m{i}", "body": b, "attributes": {"ApproximateReceiveCount": "1"}} for i, b in enumerate(bodies)
    ]
    result = worker.handle({"Records": records})
    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed <= {r["messageId"] for r in records}


@FUZZ
@given(token=st.one_of(st.text(max_size=300), st.lists(st.text(alphabet="abcdefghijklmnopqrstuvwxyzABC0123456789-_", max_size=80),
                                                      min_size=1, max_size=4).map(".".join),
                       st.tuples(json_values, json_values).map(lambda hp: ".".join(
                           base64.urlsafe_b64encode(json.dumps(x).encode()).decode().rstrip("=") for x in hp) + ".sig")))  # fmt: skip
def test_a_jwt_is_claims_or_invalid_token(token):
    try:
        jwt.decode(token, "secret")
    except jwt.InvalidToken:
        pass


@FUZZ
@given(cursor=st.one_of(st.text(max_size=200), json_values.map(lambda v: base64.urlsafe_b64encode(json.dumps(v).encode()).decode()),
                        deep_text.map(lambda t: base64.urlsafe_b64encode(t.encode()).decode())))  # fmt: skip
def test_a_cursor_is_a_key_or_bad_cursor(cursor):
    try:
        decode_cursor(cursor, {"PK", "SK"})
    except BadCursor:
        pass
