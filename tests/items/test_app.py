"""The items processor: every action, every client error, idempotency, and unexpected failures
that must be raised (so Lambda counts them) rather than answered."""

import io
import json
import os
import subprocess
import sys
import threading
import types
from pathlib import Path

import pytest

from lambdasmith.items.app import ItemsProcessor
from lambdasmith.items.config import ItemsConfig
from lambdasmith.items.wiring import open_store
from lambdasmith.kit.observability.logs import Logger
from lambdasmith.kit.observability.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def out():
    return io.StringIO()


@pytest.fixture
def proc(tmp_path, out):
    config = ItemsConfig(data_dir=str(tmp_path))
    return ItemsProcessor(config, open_store(config), Logger("items", stream=out),
                          Metrics("LambdaProductionReadiness", "items", stream=out))


def ctx(request_id="req-1"):
    return types.SimpleNamespace(aws_request_id=request_id, function_name="items", memory_limit_in_mb=128,
                                 invoked_function_arn="arn:aws:lambda:us-east-1:0:function:items")


def body(result):
    return json.loads(result["body"])


def create(proc, name="Widget", rid="r-create", **data):
    r = proc.handle({"action": "create", "data": {"name": name, **data}}, ctx(rid))
    assert r["statusCode"] == 200, r
    return body(r)["data"]["id"]


# ---------------------------------------------------------------- actions


def test_create_answers_the_success_shape(proc):
    r = proc.handle({"action": "create", "data": {"name": "Widget", "color": "red"}}, ctx("abc"))
    assert r["statusCode"] == 200
    assert r["headers"] == {"Content-Type": "application/json", "X-Correlation-ID": "abc"}
    b = body(r)
    assert b["success"] is True and b["correlationId"] == "abc"
    assert b["data"]["status"] == "created" and b["data"]["name"] == "Widget"
    assert len(b["data"]["id"]) == 36 and b["data"]["timestamp"].endswith("Z")
    assert proc.store.get(b["data"]["id"])["color"] == "red"


def test_update_merges_fields(proc):
    item_id = create(proc, color="red", size="M")
    r = proc.handle({"action": "update", "data": {"id": item_id, "color": "blue"}}, ctx("r-upd"))
    assert r["statusCode"] == 200 and body(r)["data"]["status"] == "updated"
    stored = proc.store.get(item_id)
    assert (stored["color"], stored["size"], stored["name"], stored["version"]) == ("blue", "M", "Widget", 2)


def test_delete_then_delete_again_is_404(proc):
    item_id = create(proc)
    r = proc.handle({"action": "delete", "data": {"id": item_id}}, ctx("r-del"))
    assert r["statusCode"] == 200 and body(r)["data"] == {"id": item_id, "status": "deleted", "timestamp": body(r)["data"]["timestamp"]}
    assert proc.store.get(item_id) is None
    again = proc.handle({"action": "delete", "data": {"id": item_id}}, ctx("r-del-2"))
    assert again["statusCode"] == 404 and body(again)["success"] is False and item_id in body(again)["error"]


def test_update_of_a_missing_item_is_404(proc):
    r = proc.handle({"action": "update", "data": {"id": "nope", "name": "x"}}, ctx())
    assert r["statusCode"] == 404


# ---------------------------------------------------------------- client errors


@pytest.mark.parametrize("event,needle", [
    ([1, 2], "JSON object"),
    ("create", "JSON object"),
    ({}, "action is required"),
    ({"action": "archive", "data": {}}, "unknown action"),
    ({"action": 5, "data": {}}, "unknown action"),
    ({"action": "create"}, "data must be an object"),
    ({"action": "create", "data": []}, "data must be an object"),
    ({"action": "create", "data": {}}, "data.name is required"),
    ({"action": "create", "data": {"name": "   "}}, "data.name is required"),
    ({"action": "create", "data": {"name": 42}}, "data.name is required"),
    ({"action": "create", "data": {"name": "x" * 201}}, "at most 200"),
    ({"action": "create", "data": {"name": "x", "createdAt": "then"}}, "createdAt cannot be set"),
    ({"action": "update", "data": {"name": "x"}}, "data.id is required"),
    ({"action": "update", "data": {"id": ""}}, "data.id is required"),
    ({"action": "delete", "data": {"id": 7}}, "data.id is required"),
    ({"action": "create", "data": {"name": "big", "blob": "x" * 500_000}}, "item rejected"),
])
def test_client_errors_are_400_with_what_is_wrong(proc, event, needle):
    r = proc.handle(event, ctx())
    assert r["statusCode"] == 400, r
    b = body(r)
    assert b["success"] is False and needle in b["error"] and b["correlationId"] == "req-1"
    assert "Traceback" not in r["body"]


# ---------------------------------------------------------------- correlation and idempotency


def test_correlation_id_from_header_or_field(proc, out):
    r = proc.handle({"action": "create", "data": {"name": "a"}, "headers": {"x-correlation-id": "from-header"}}, ctx("r1"))
    assert r["headers"]["X-Correlation-ID"] == "from-header" and body(r)["correlationId"] == "from-header"
    r = proc.handle({"action": "create", "data": {"name": "b"}, "correlationId": "from-field"}, ctx("r2"))
    assert body(r)["correlationId"] == "from-field"
    logs = [json.loads(line) for line in out.getvalue().splitlines() if '"level"' in line]
    assert logs and all(line["correlation_id"] in ("from-header", "from-field") for line in logs)


def test_same_request_id_gives_the_first_result(proc):
    event = {"action": "create", "data": {"name": "once"}}
    first = proc.handle(event, ctx("retry-me"))
    second = proc.handle(event, ctx("retry-me"))
    assert second == first
    third = proc.handle(event, ctx("another"))
    assert body(third)["data"]["id"] != body(first)["data"]["id"]


def test_idempotency_key_wins_over_request_id(proc):
    event = {"action": "create", "data": {"name": "keyed"}, "idempotencyKey": "k-1"}
    first = proc.handle(event, ctx("a"))
    assert proc.handle(event, ctx("b")) == first


def test_concurrent_twins_apply_once(proc):
    event = {"action": "create", "data": {"name": "twin"}, "idempotencyKey": "twin"}
    results = []
    threads = [threading.Thread(target=lambda: results.append(proc.handle(event, ctx(f"t{i}")))) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r["body"] for r in results}) == 1


# ---------------------------------------------------------------- unexpected failures


class BrokenTable:
    """A table whose backend is down: every call fails the way a dependency outage does."""

    def __getattr__(self, name):
        def fail(*a, **k):
            raise ConnectionRefusedError("table backend unreachable")

        return fail


def test_unexpected_failure_is_raised_not_answered(tmp_path, out):
    from lambdasmith.items.store import ItemsStore

    proc = ItemsProcessor(ItemsConfig(data_dir=str(tmp_path)), ItemsStore(BrokenTable(), 60),
                          Logger("items", stream=out), Metrics("LambdaProductionReadiness", "items", stream=out))
    with pytest.raises(ConnectionRefusedError):
        proc.handle({"action": "create", "data": {"name": "x"}}, ctx("boom"))
    lines = out.getvalue().splitlines()
    err = next(json.loads(line) for line in lines if '"level": "ERROR"' in line)
    assert err["message"] == "unexpected failure" and err["correlation_id"] == "boom"
    emf = next(json.loads(line) for line in lines if line.startswith('{"_aws"'))
    assert emf["InvocationCount"] == 1 and emf["ErrorCount"] == 1 and "SuccessCount" not in emf


def test_metrics_count_invocations_successes_and_errors(proc, out):
    create(proc)
    proc.handle({"action": "nope"}, ctx("bad"))
    docs = [json.loads(line) for line in out.getvalue().splitlines() if line.startswith('{"_aws"')]
    assert docs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "LambdaProductionReadiness"
    assert docs[0]["SuccessCount"] == 1 and docs[1]["ErrorCount"] == 1
    assert all(d["InvocationCount"] == 1 for d in docs)


def test_trace_id_reaches_the_logs(proc, out, monkeypatch):
    monkeypatch.setenv("_X_AMZN_TRACE_ID", "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1")
    create(proc)
    line = next(json.loads(x) for x in out.getvalue().splitlines() if '"level"' in x)
    assert line["xray_trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"


# ---------------------------------------------------------------- lambdasmith invoke


def invoke(*args, data_dir, stdin=None):
    return subprocess.run([sys.executable, "-m", "lambdasmith", "invoke", *args, "--data-dir", str(data_dir)],
                          capture_output=True, text=True, input=stdin)


def test_invoke_command_with_sample_events(tmp_path):
    r = invoke("items", str(ROOT / "events" / "items-create.json"), data_dir=tmp_path)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)  # stdout is the result only: logs went to stderr
    assert result["statusCode"] == 200 and json.loads(result["body"])["correlationId"] == "sample-create"
    assert "REPORT RequestId:" in r.stderr and "Init Duration:" in r.stderr
    bad = invoke("items", str(ROOT / "events" / "items-invalid.json"), data_dir=tmp_path)
    assert bad.returncode == 0 and json.loads(bad.stdout)["statusCode"] == 400
    health = invoke("badges", str(ROOT / "events" / "badges-health.json"), data_dir=tmp_path)
    assert json.loads(health.stdout)["statusCode"] == 200
    worker = invoke("wardrobe-worker", "-", data_dir=tmp_path, stdin=(ROOT / "events" / "wardrobe-worker-share.json").read_text())
    assert json.loads(worker.stdout) == {"batchItemFailures": []}
    api = invoke("wardrobe-api", str(ROOT / "events" / "wardrobe-api-unauthorized.json"), data_dir=tmp_path)
    assert json.loads(api.stdout)["statusCode"] == 401


def _emf(text: str) -> list[dict]:
    return [d for d in (json.loads(line) for line in text.splitlines() if line.startswith("{")) if "_aws" in d]


def test_every_handler_takes_its_names_from_the_powertools_variables(tmp_path):
    """A deployment matches the dashboards it already has by setting POWERTOOLS_SERVICE_NAME and
    POWERTOOLS_METRICS_NAMESPACE; no handler may hard-code its names over them."""
    env = {**os.environ, "POWERTOOLS_SERVICE_NAME": "dashboards-name", "POWERTOOLS_METRICS_NAMESPACE": "DashNS"}
    share = (ROOT / "events" / "wardrobe-worker-share.json").read_text()
    # (badges and the wardrobe API: tests/badges/test_metrics.py, tests/wardrobe/test_metrics.py)
    for function, event in [("items", str(ROOT / "events" / "items-create.json")), ("wardrobe-worker", "-")]:
        r = subprocess.run([sys.executable, "-m", "lambdasmith", "invoke", function, event, "--data-dir", str(tmp_path)],
                           capture_output=True, text=True, input=share, env=env)  # fmt: skip
        assert r.returncode == 0, r.stderr
        logs = [d for d in (json.loads(line) for line in r.stderr.splitlines() if line.startswith("{")) if "level" in d]
        assert logs and all(line["service"] == "dashboards-name" for line in logs), function
        docs = _emf(r.stderr)  # the function's stdout (EMF included) goes to stderr; stdout is the result
        assert docs, function
        for doc in docs:
            assert doc["service"] == "dashboards-name", function
            assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "DashNS", function


def test_invoke_command_errors(tmp_path):
    assert invoke("nope", data_dir=tmp_path).returncode == 2
    assert invoke("items", "{not json", data_dir=tmp_path).returncode == 2
    (tmp_path / "a-file").write_text("")  # storage that cannot open: an unexpected failure
    failing = invoke("items", '{"action":"create","data":{"name":"x"}}', data_dir=tmp_path / "a-file" / "data")
    assert failing.returncode == 1
    err = json.loads(failing.stdout)
    assert set(err) == {"errorMessage", "errorType", "requestId", "stackTrace"}


def test_data_nested_deeper_than_dynamodb_allows_is_a_client_error_not_a_stack_trace(proc):
    from lambdasmith.items.app import MAX_DATA_DEPTH

    deep: list = []
    for _ in range(600):
        deep = [deep]
    result = proc.handle({"action": "create", "data": {"name": "n", "deep": deep}}, ctx())
    assert result["statusCode"] == 400 and f"{MAX_DATA_DEPTH} levels" in body(result)["error"]


def test_an_idempotency_key_reused_for_another_action_or_payload_is_a_422_and_does_nothing(proc):
    created = body(proc.handle({"action": "create", "data": {"name": "kept"}, "idempotencyKey": "k-shared"}, ctx("a")))
    item_id = created["data"]["id"]
    deleting = proc.handle({"action": "delete", "data": {"id": item_id}, "idempotencyKey": "k-shared"}, ctx("b"))
    assert deleting["statusCode"] == 422 and "idempotencyKey" in body(deleting)["error"]
    other_payload = proc.handle({"action": "create", "data": {"name": "other"}, "idempotencyKey": "k-shared"}, ctx("c"))
    assert other_payload["statusCode"] == 422
    assert proc.store.get(item_id) is not None  # nothing was deleted
    again = proc.handle({"action": "create", "data": {"name": "kept"}, "idempotencyKey": "k-shared"}, ctx("d"))
    assert body(again)["data"]["id"] == item_id  # the same request still gets its first answer
