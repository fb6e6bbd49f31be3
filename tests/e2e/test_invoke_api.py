"""The local Lambda Invoke API end to end: `lambdasmith serve invoke` in a subprocess, driven over
raw HTTP, through boto3's Lambda client and through the AWS CLI (v1), sync and async.

The test functions (tests/support/invoke_functions.py) are added to the registry with
LAMBDASMITH_EXTRA_FUNCTIONS; each records its calls in a JSON-lines file, so tests can count
attempts and tell which server process ran an event.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote, urlsplit

import boto3
import pytest
from botocore.config import Config

from lambdasmith.kit.backends import open_queue
from tests.support.serving import Served, http

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AWS = Path(sys.executable).with_name("aws")
ARN = "arn:aws:lambda:us-east-1:000000000000:function"
TEST_FUNCTIONS = {
    "echo": "echo", "cold": "echo", "boom": "boom", "flaky": "flaky", "chatty": "chatty",
    "ctx": "context_info", "gate": "gate", "unserialisable": "unserialisable",
}  # fmt: skip


def server_env(tmp: Path) -> dict[str, str]:
    state = tmp / "state"
    state.mkdir(exist_ok=True)
    extras = ",".join(f"{name}=tests.support.invoke_functions:{attr}" for name, attr in TEST_FUNCTIONS.items())
    return {
        "LAMBDASMITH_EXTRA_FUNCTIONS": extras,
        "LAMBDASMITH_ASYNC_RETRY_DELAY": "1",
        "INVOKE_TEST_LOG": str(tmp / "calls.jsonl"),
        "INVOKE_TEST_STATE": str(state),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "AWS_REGION": "us-east-1",
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("invoke")
    served = Served(str(tmp / "data"), ["invoke"], server_env(tmp)).start()
    yield served
    assert served.stop() == 0


@pytest.fixture(scope="module")
def api(server) -> str:
    return server.urls["invoke"]


def url(api: str, name: str, query: str = "") -> str:
    return f"{api}/2015-03-31/functions/{quote(name, safe='')}/invocations{query}"


def invoke(api: str, name: str, payload: Any = None, body: bytes | None = None, **headers: str):
    data = body if body is not None else json.dumps(payload if payload is not None else {}).encode()
    return http("POST", url(api, name), {k.replace("_", "-"): v for k, v in headers.items()}, data)


def calls(server: Served, function: str, **match: Any) -> list[dict[str, Any]]:
    path = Path(server.env["INVOKE_TEST_LOG"])
    if not path.exists():
        return []
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [r for r in rows if r["function"] == function and all(r.get(k) == v for k, v in match.items())]


def by_id(server: Served, function: str, ident: str) -> list[dict[str, Any]]:
    return [r for r in calls(server, function) if isinstance(r["event"], dict) and r["event"].get("id") == ident]


def wait_for(what: Callable[[], Any], timeout: float = 20.0, message: str = "condition") -> Any:
    """Poll until `what()` is truthy (bounded); its value."""
    deadline = time.monotonic() + timeout
    while True:
        got = what()
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {message}")
        time.sleep(0.05)


def log_lines(server: Served, request_id: str) -> list[str]:
    return [line.rstrip("\n") for line in list(server.output) if request_id in line]


# ---------------------------------------------------------------- RequestResponse over raw HTTP


def test_sync_invocation_answers_the_json_result(api):
    r = invoke(api, "echo", {"a": 1, "nested": {"b": [1, 2]}})
    assert r.status == 200, r
    assert r.json() == {"a": 1, "nested": {"b": [1, 2]}}
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-amz-executed-version"] == "$LATEST"
    assert "x-amz-function-error" not in r.headers and "x-amz-log-result" not in r.headers
    assert re.fullmatch(r"[0-9a-f-]{36}", r.headers["x-amzn-requestid"])


def test_none_is_null_and_an_empty_payload_is_an_empty_object(api):
    assert invoke(api, "echo", body=b"null").body == b"null"
    empty = invoke(api, "echo", body=b"")
    assert empty.status == 200 and empty.json() == {}


def test_an_exception_is_an_unhandled_function_error(api):
    r = invoke(api, "boom", {"id": "sync-boom"}, X_Amz_Log_Type="Tail")
    assert r.status == 200
    assert r.headers["x-amz-function-error"] == "Unhandled"
    error = r.json()
    assert set(error) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert error["errorMessage"] == "boom" and error["errorType"] == "ValueError"
    assert error["requestId"] == r.headers["x-amzn-requestid"]
    # The function's own frames only, as Lambda's Python runtime lists them.
    assert len(error["stackTrace"]) == 1
    assert "invoke_functions.py" in error["stackTrace"][0] and 'raise ValueError("boom")' in error["stackTrace"][0]
    assert "invoke.py" not in "".join(error["stackTrace"])
    # The runtime logs the error with its traceback, inside the invocation's log.
    log = base64.b64decode(r.headers["x-amz-log-result"]).decode()
    assert "[ERROR] ValueError: boom\nTraceback (most recent call last):\n" in log
    assert log.index("[ERROR]") < log.index(f"END RequestId: {error['requestId']}")


def test_a_result_that_is_not_json_is_a_marshal_error(api):
    r = invoke(api, "unserialisable")
    assert r.status == 200 and r.headers["x-amz-function-error"] == "Unhandled"
    assert r.json()["errorType"] == "Runtime.MarshalError"
    assert r.json()["errorMessage"].startswith("Unable to marshal response")


def test_dry_run_answers_204_and_runs_nothing(server, api):
    marker = uuid.uuid4().hex
    r = invoke(api, "echo", {"id": marker}, X_Amz_Invocation_Type="DryRun")
    assert r.status == 204 and r.body == b""
    assert by_id(server, "echo", marker) == []
    # Dry runs check the function exists, as Lambda does.
    assert invoke(api, "nope", X_Amz_Invocation_Type="DryRun").status == 404


def test_an_unknown_function_is_a_resource_not_found(api):
    r = invoke(api, "no-such-function", {"a": 1})
    assert r.status == 404
    assert r.headers["x-amzn-errortype"] == "ResourceNotFoundException"
    assert r.json() == {"Type": "User", "message": f"Function not found: {ARN}:no-such-function"}


@pytest.mark.parametrize(
    "name, query, qualifier",
    [
        ("ctx", "", None),
        ("ctx:live", "", "live"),
        (f"{ARN}:ctx", "", None),
        (f"{ARN}:ctx:live", "", "live"),
        ("000000000000:function:ctx", "", None),
        ("ctx", "?Qualifier=%24LATEST", "$LATEST"),
    ],
)
def test_function_names_arns_and_qualifiers(api, name, query, qualifier):
    r = http("POST", url(api, name, query), {}, b"{}")
    assert r.status == 200, r
    ctx = r.json()
    assert ctx["function_name"] == "ctx"
    assert ctx["invoked_function_arn"] == f"{ARN}:ctx" + (f":{qualifier}" if qualifier else "")
    # The raw (unescaped) ARN in the path works too.
    raw = http("POST", f"{api}/2015-03-31/functions/{name}/invocations{query}", {}, b"{}")
    assert raw.status == 200 and raw.json()["function_name"] == "ctx"


def test_unknown_function_by_arn_names_the_arn(api):
    r = http("POST", url(api, f"{ARN}:ghost:live"), {}, b"{}")
    assert r.status == 404 and r.json()["message"] == f"Function not found: {ARN}:ghost:live"


def test_context_object(api):
    client_context = {"custom": {"tenant": "t1"}, "env": {"platform": "test"}, "client": {"app_title": "demo"}}
    encoded = base64.b64encode(json.dumps(client_context).encode()).decode()
    r = invoke(api, "ctx", X_Amz_Client_Context=encoded)
    ctx = r.json()
    assert ctx["aws_request_id"] == r.headers["x-amzn-requestid"]
    assert ctx["memory_limit_in_mb"] == 128 and ctx["function_version"] == "$LATEST"
    assert 0 < ctx["remaining_ms"] <= 30_000
    assert ctx["log_group_name"] == "/aws/lambda/ctx"
    assert ctx["client_custom"] == {"tenant": "t1"} and ctx["client_env"] == {"platform": "test"}
    assert ctx["client_app_title"] == "demo"
    assert invoke(api, "ctx").json()["client_custom"] is None


def test_bad_requests_are_client_errors(server, api):
    marker = uuid.uuid4().hex
    bad_json = invoke(api, "echo", body=b'{"id": "' + marker.encode() + b'",')
    assert bad_json.status == 400 and bad_json.headers["x-amzn-errortype"] == "InvalidRequestContentException"
    assert bad_json.json()["Type"] == "User" and "json" in bad_json.json()["message"]
    assert by_id(server, "echo", marker) == []
    bad_type = invoke(api, "echo", X_Amz_Invocation_Type="Sometimes")
    assert bad_type.status == 400 and bad_type.headers["x-amzn-errortype"] == "InvalidParameterValueException"
    bad_context = invoke(api, "echo", X_Amz_Client_Context="not base64 json!")
    assert bad_context.status == 400 and bad_context.headers["x-amzn-errortype"] == "InvalidRequestContentException"


def test_wrong_method_and_path_are_json_errors(api):
    get = http("GET", url(api, "echo"))
    assert get.status == 405 and get.headers["x-amzn-errortype"] == "MethodNotAllowedException"
    assert get.headers["allow"] == "POST" and "message" in get.json()
    for path in ("/", "/2015-03-31/functions/echo", "/2015-03-31/functions/echo/invocations/extra"):
        r = http("POST", api + path, {}, b"{}")
        assert r.status == 404 and r.headers["x-amzn-errortype"] == "UnknownOperationException", path
        assert "message" in r.json()


def test_payload_over_6_mb_is_413_and_the_connection_stays_usable(api):
    u = urlsplit(api)
    conn = HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        big = b'{"x": "' + b"a" * (6 * 1024 * 1024) + b'"}'
        conn.request("POST", urlsplit(url(api, "echo")).path, body=big)
        r = conn.getresponse()
        body = json.loads(r.read())
        assert r.status == 413 and r.getheader("x-amzn-ErrorType") == "RequestTooLargeException"
        assert "6291456" in body["message"]
        sock = conn.sock
        conn.request("POST", urlsplit(url(api, "echo")).path, body=b'{"after": true}')
        r = conn.getresponse()
        assert r.status == 200 and json.loads(r.read()) == {"after": True} and conn.sock is sock
    finally:
        conn.close()


def test_keep_alive_serves_many_invocations_on_one_connection(api):
    u = urlsplit(api)
    conn = HTTPConnection(u.hostname, u.port, timeout=15)
    path = urlsplit(url(api, "echo")).path
    try:
        conn.request("POST", path, body=b'{"i": -1}')
        conn.getresponse().read()
        sock = conn.sock
        for i in range(200):
            conn.request("POST", path, body=json.dumps({"i": i}))
            r = conn.getresponse()
            assert r.status == 200 and json.loads(r.read()) == {"i": i}
            assert conn.sock is sock, "the server closed a keep-alive connection"
    finally:
        conn.close()


# ---------------------------------------------------------------- logs


def tail_of(r) -> str:
    return base64.b64decode(r.headers["x-amz-log-result"]).decode("utf-8")


def test_tail_returns_what_the_invocation_printed(api):
    r = invoke(api, "chatty", {"marker": "tail-check", "lines": 4}, X_Amz_Log_Type="Tail")
    assert r.status == 200 and r.json() == {"printed": 4}
    log = tail_of(r)
    rid = r.headers["x-amzn-requestid"]
    for i in range(4):  # even lines went to stdout, odd ones to stderr: both are in the log
        assert f"tail-check line {i}\n" in log
    assert log.startswith(f"START RequestId: {rid} Version: $LATEST\n")
    assert f"END RequestId: {rid}\n" in log and f"REPORT RequestId: {rid}\t" in log


def test_tail_holds_only_its_own_invocation_under_concurrency(api):
    markers = [f"worker-{i}-{uuid.uuid4().hex[:6]}" for i in range(4)]

    def one(marker: str):
        return marker, invoke(api, "chatty", {"marker": marker, "lines": 6, "pause": 0.02}, X_Amz_Log_Type="Tail")

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(one, markers))
    for marker, r in results:
        log = tail_of(r)
        assert sum(f"{marker} line" in line for line in log.splitlines()) == 6
        assert not [m for m in markers if m != marker and m in log]


def test_tail_keeps_the_last_4_kb(api):
    r = invoke(api, "chatty", {"marker": "many", "lines": 400}, X_Amz_Log_Type="Tail")
    raw = base64.b64decode(r.headers["x-amz-log-result"])
    assert len(raw) == 4096
    log = raw.decode("utf-8")
    assert "many line 399\n" in log and "many line 0\n" not in log and "START RequestId" not in log
    assert "REPORT RequestId" in log


def test_no_tail_without_log_type(api):
    assert "x-amz-log-result" not in invoke(api, "chatty", {"lines": 1}).headers


REPORT = re.compile(
    r"REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: 128 MB\tMax Memory Used: \d+ MB(?P<init>\tInit Duration: [\d.]+ ms)?\t?$"
)


def test_start_end_report_lines_with_init_duration_on_the_first_invocation_only(server, api):
    first = invoke(api, "cold", {"n": 1})
    second = invoke(api, "cold", {"n": 2})
    reports = []
    for r in (first, second):
        rid = r.headers["x-amzn-requestid"]
        lines = wait_for(lambda: [line for line in log_lines(server, rid) if line.startswith("REPORT")],
                         message=f"REPORT line of {rid}")  # fmt: skip
        assert f"START RequestId: {rid} Version: $LATEST" in log_lines(server, rid)
        assert f"END RequestId: {rid}" in log_lines(server, rid)
        match = REPORT.match(lines[0])
        assert match and match["id"] == rid, lines[0]
        reports.append(match)
    assert reports[0]["init"] is not None
    assert reports[1]["init"] is None


# ---------------------------------------------------------------- boto3


@pytest.fixture(scope="module")
def lambda_client(api):
    return boto3.client("lambda", endpoint_url=api, region_name="us-east-1", aws_access_key_id="x",
                        aws_secret_access_key="x", config=Config(retries={"max_attempts": 1}))  # fmt: skip


def test_boto3_sync_and_function_error(lambda_client):
    ok = lambda_client.invoke(FunctionName="echo", Payload=json.dumps({"via": "boto3"}))
    assert ok["StatusCode"] == 200 and ok["ExecutedVersion"] == "$LATEST"
    assert json.loads(ok["Payload"].read()) == {"via": "boto3"} and "FunctionError" not in ok
    failed = lambda_client.invoke(FunctionName="boom", Payload=b"{}")
    assert failed["StatusCode"] == 200 and failed["FunctionError"] == "Unhandled"
    assert json.loads(failed["Payload"].read())["errorMessage"] == "boom"


def test_boto3_event_dry_run_and_qualified_arn(server, lambda_client):
    marker = uuid.uuid4().hex
    queued = lambda_client.invoke(FunctionName="echo", InvocationType="Event", Payload=json.dumps({"id": marker}))
    assert queued["StatusCode"] == 202
    ran = wait_for(lambda: by_id(server, "echo", marker), message="the Event invocation")
    assert ran[0]["requestId"] == queued["ResponseMetadata"]["RequestId"]
    assert lambda_client.invoke(FunctionName="echo", InvocationType="DryRun")["StatusCode"] == 204
    arn = lambda_client.invoke(FunctionName=f"{ARN}:ctx", Qualifier="live", Payload=b"{}")
    assert json.loads(arn["Payload"].read())["invoked_function_arn"] == f"{ARN}:ctx:live"


def test_boto3_unknown_function_raises_resource_not_found(lambda_client):
    with pytest.raises(lambda_client.exceptions.ResourceNotFoundException) as caught:
        lambda_client.invoke(FunctionName="ghost", Payload=b"{}")
    assert caught.value.response["Error"]["Message"] == f"Function not found: {ARN}:ghost"
    with pytest.raises(lambda_client.exceptions.InvalidRequestContentException):
        lambda_client.invoke(FunctionName="echo", Payload=b"{not json")


def test_boto3_log_tail_and_client_context(lambda_client):
    r = lambda_client.invoke(FunctionName="chatty", LogType="Tail", Payload=json.dumps({"marker": "boto-tail"}))
    log = base64.b64decode(r["LogResult"]).decode()
    assert "boto-tail line 0" in log and "boto-tail line 1" in log and "REPORT RequestId" in log
    cc = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    ctx = json.loads(lambda_client.invoke(FunctionName="ctx", ClientContext=cc, Payload=b"{}")["Payload"].read())
    assert ctx["client_custom"] == {"k": "v"}


# ---------------------------------------------------------------- the AWS CLI


def aws_cli(tmp_path: Path, api: str, *args: str) -> subprocess.CompletedProcess:
    home = tmp_path / "aws-home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": str(home / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"),
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"})  # fmt: skip
    return subprocess.run([str(AWS), "lambda", "invoke", "--endpoint-url", api, *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=60)  # fmt: skip


@pytest.fixture(scope="module")
def aws_cli_available():
    if not AWS.exists():
        pytest.fail(f"the AWS CLI is not installed at {AWS} (awscli is in the dev dependency group)")


def test_aws_cli_invoke(aws_cli_available, api, tmp_path):
    # AWS CLI v1 sends --payload as given (v2 would need --cli-binary-format raw-in-base64-out).
    runs = {
        "echo": ("--function-name", "echo", "--payload", '{"a":1}', "echo.json"),
        "boom": ("--function-name", "boom", "--payload", '{"a":1}', "boom.json"),
        "ghost": ("--function-name", "ghost", "ghost.json"),
        "tail": ("--function-name", "chatty", "--log-type", "Tail", "--payload", '{"marker":"cli"}', "tail.json"),
    }
    with ThreadPoolExecutor(len(runs)) as pool:
        done = dict(zip(runs, pool.map(lambda a: aws_cli(tmp_path, api, *a), runs.values())))
    echo = done["echo"]
    assert echo.returncode == 0, echo.stderr
    assert json.loads(echo.stdout)["StatusCode"] == 200
    assert json.loads((tmp_path / "echo.json").read_text()) == {"a": 1}
    boom = done["boom"]
    assert boom.returncode == 0, boom.stderr
    assert '"FunctionError": "Unhandled"' in boom.stdout
    assert json.loads((tmp_path / "boom.json").read_text())["errorType"] == "ValueError"
    ghost = done["ghost"]
    assert ghost.returncode != 0 and "ResourceNotFoundException" in ghost.stderr
    tail = done["tail"]
    assert tail.returncode == 0, tail.stderr
    assert "cli line 0" in base64.b64decode(json.loads(tail.stdout)["LogResult"]).decode()


def test_aws_cli_invokes_the_items_function(aws_cli_available, server, api, tmp_path):
    create = {"action": "create", "data": {"name": "from the CLI"}}
    r = aws_cli(tmp_path, api, "--function-name", "items", "--payload", json.dumps(create), "items.json")
    assert r.returncode == 0, r.stderr
    meta = json.loads(r.stdout)
    assert meta["StatusCode"] == 200 and "FunctionError" not in meta, (tmp_path / "items.json").read_text()
    result = json.loads((tmp_path / "items.json").read_text())
    assert result["statusCode"] == 200
    body = json.loads(result["body"])
    assert body["success"] is True and body["data"]["status"] == "created" and body["data"]["id"]
    bad = aws_cli(tmp_path, api, "--function-name", "items", "--payload", '{"action":"explode"}', "bad.json")
    assert bad.returncode == 0 and json.loads((tmp_path / "bad.json").read_text())["statusCode"] == 400


# ---------------------------------------------------------------- Event invocations


def test_event_failing_twice_is_retried_and_applied_once(server, api):
    ident = uuid.uuid4().hex
    r = invoke(api, "flaky", {"id": ident, "fail": 2}, X_Amz_Invocation_Type="Event")
    assert r.status == 202 and r.body == b""
    applied = wait_for(lambda: [c for c in by_id(server, "flaky", ident) if c["outcome"] == "applied"],
                       message="the third attempt")  # fmt: skip
    attempts = by_id(server, "flaky", ident)
    assert [c["outcome"] for c in attempts] == ["failed", "failed", "applied"]
    assert len(applied) == 1
    # Every attempt is the same invocation: the request id of the 202.
    assert {c["requestId"] for c in attempts} == {r.headers["x-amzn-requestid"]}
    queue = open_queue("lambda-async-flaky", backend="sqlite", data_dir=server.data_dir)
    assert queue.approximate_count() == 0
    dlq = open_queue("flaky-dlq", backend="sqlite", data_dir=server.data_dir)
    assert dlq.receive(10, 1) == []


def test_event_failing_every_attempt_goes_to_the_dlq(server, api):
    ident = uuid.uuid4().hex
    payload = json.dumps({"id": ident, "note": "poison"})
    r = invoke(api, "boom", body=payload.encode(), X_Amz_Invocation_Type="Event")
    assert r.status == 202
    dlq = open_queue("boom-dlq", backend="sqlite", data_dir=server.data_dir)
    got = wait_for(lambda: dlq.receive(1, 30), message="the DLQ message")
    message = got[0]
    assert message.body == payload
    assert message.attributes["RequestID"] == r.headers["x-amzn-requestid"]
    assert message.attributes["ErrorMessage"] == "boom"
    assert message.attributes["ErrorCode"] == "200"
    assert len(by_id(server, "boom", ident)) == 3
    dlq.delete_batch([message.receipt])


def test_event_payload_over_256_kb_is_413(api):
    r = invoke(api, "echo", body=b'{"x": "' + b"a" * (256 * 1024) + b'"}', X_Amz_Invocation_Type="Event")
    assert r.status == 413 and r.headers["x-amzn-errortype"] == "RequestTooLargeException"


def test_a_queued_event_survives_a_restart(tmp_path):
    env = server_env(tmp_path)
    served = Served(str(tmp_path / "data"), ["invoke"], env).start()
    try:
        ident = uuid.uuid4().hex
        r = invoke(served.urls["invoke"], "gate", {"id": ident}, X_Amz_Invocation_Type="Event")
        assert r.status == 202
        first_pids = served.processes()
        assert served.stop() == 0
        # Stored durably, and visible again for the next server even if it had started running.
        queue = open_queue("lambda-async-gate", backend="sqlite", data_dir=served.data_dir)
        assert queue.approximate_count() == 1
        assert not [c for c in by_id(served, "gate", ident) if c["outcome"] == "done"]
        (Path(env["INVOKE_TEST_STATE"]) / f"gate-{ident}").touch()
        served.urls = {}
        served.start()
        done = wait_for(lambda: [c for c in by_id(served, "gate", ident) if c["outcome"] == "done"],
                        message="the event after the restart")  # fmt: skip
        assert len(done) == 1
        assert done[0]["pid"] in served.processes() and done[0]["pid"] not in first_pids
        assert done[0]["requestId"] == r.headers["x-amzn-requestid"]
    finally:
        served.stop()
