"""Items through the local Invoke API when its storage is down: the failure must surface as a
Lambda error (sync: X-Amz-Function-Error: Unhandled; async: retried twice, then dead-lettered),
never as a 200 or a 500 body."""

from __future__ import annotations

import json
import socket
import time

import pytest

from tests.support.serving import Served, http

pytestmark = pytest.mark.e2e


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


@pytest.fixture(scope="module")
def outage(tmp_path_factory):
    """The Invoke API with items pointed at a DynamoDB endpoint that refuses every connection."""
    data = str(tmp_path_factory.mktemp("items-outage"))
    home = tmp_path_factory.mktemp("aws-home")
    env = {"LAMBDASMITH_TABLE_BACKEND": "dynamodb", "AWS_ENDPOINT_URL_DYNAMODB": f"http://127.0.0.1:{closed_port()}",
           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"), "LAMBDASMITH_ASYNC_RETRY_DELAY": "0.2"}
    served = Served(data, ["invoke"], env).start()
    yield served
    served.stop()


def test_sync_failure_is_an_unhandled_lambda_error(outage):
    url = outage.urls["invoke"] + "/2015-03-31/functions/items/invocations"
    r = http("POST", url, {}, json.dumps({"action": "create", "data": {"name": "x"}}))
    assert r.status == 200 and r.headers.get("x-amz-function-error") == "Unhandled"
    err = r.json()
    assert err["errorType"] in ("ConnectionRefusedError", "OSError") and "statusCode" not in err


def test_client_errors_are_still_answered(outage):
    url = outage.urls["invoke"] + "/2015-03-31/functions/items/invocations"
    r = http("POST", url, {}, json.dumps({"action": "archive", "data": {}}))
    assert r.status == 200 and "x-amz-function-error" not in r.headers and r.json()["statusCode"] == 400


def test_async_failure_is_retried_then_dead_lettered(outage):
    from lambdasmith.kit.backends import open_queue

    url = outage.urls["invoke"] + "/2015-03-31/functions/items/invocations"
    event = {"action": "create", "data": {"name": "lost?"}, "correlationId": "async-outage"}
    r = http("POST", url, {"X-Amz-Invocation-Type": "Event"}, json.dumps(event))
    assert r.status == 202
    dlq = open_queue("items-dlq", data_dir=outage.data_dir)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = dlq.receive(1, visibility_timeout_s=30)
        if got:
            assert json.loads(got[0].body) == event  # nothing accepted is lost: the event waits here
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the failed async event never reached items-dlq")
    request_id = r.headers["x-amzn-requestid"]
    attempts = [line for line in outage.output if f"REPORT RequestId: {request_id}" in line]
    assert len(attempts) == 3  # the first attempt and two retries, as Lambda does
