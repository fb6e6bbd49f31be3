"""Function URLs of shell functions end to end: `lambdasmith serve shell invoke` in a subprocess,
with a configuration (LAMBDASMITH_SHELL_FUNCTIONS) pointing at the test bootstraps of
tests/support/runtime_bootstraps, driven over real HTTP; the same functions through the Invoke API."""

from __future__ import annotations

import base64
import json
import socket
import sys
import time
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from lambdasmith.local.function_urls import BOOTSTRAP, EXAMPLES, HELPERS
from tests.support.serving import Served, http

pytestmark = pytest.mark.e2e

BOOTSTRAPS = Path(__file__).resolve().parents[1] / "support" / "runtime_bootstraps"
REAL_RUNTIME = BOOTSTRAP.exists() and (EXAMPLES / "health.sh").exists()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("function-urls")
    functions = {
        "web": {"handler": "web.run", "task_root": str(BOOTSTRAPS / "handlers"), "timeout_s": 5,
                "bootstrap": [sys.executable, str(BOOTSTRAPS / "python_bootstrap.py")]},
        "bashfn": {"handler": "echo.run", "task_root": str(tmp), "bootstrap": [str(BOOTSTRAPS / "bash_bootstrap.sh")]},
    }  # fmt: skip
    if REAL_RUNTIME:  # the project's own bootstrap (default) and example
        functions["health"] = {"handler": "health.run", "task_root": str(EXAMPLES), "timeout_s": 10}
        functions["health-py"] = {"handler": "health.run", "task_root": str(EXAMPLES), "timeout_s": 10,
                                  "bootstrap": "python"}  # the Python bootstrap, the option
    config = tmp / "shell-functions.json"
    config.write_text(json.dumps({"functions": functions}))
    served = Served(str(tmp / "data"), ["shell", "invoke"], {"LAMBDASMITH_SHELL_FUNCTIONS": str(config)}).start()
    yield served
    assert served.stop() == 0


def request(server, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None):
    """One request on its own connection; the raw header list (repeated Set-Cookie kept)."""
    u = urlsplit(server.urls["shell"])
    conn = HTTPConnection(u.hostname, u.port, timeout=15)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.getheaders(), r.read()
    finally:
        conn.close()


def test_the_url_table_names_shell_on_its_own_port(server):
    assert server.urls["shell"].startswith("http://127.0.0.1:")
    assert server.urls["shell"] != server.urls["invoke"]
    # The banner says where a new shell function's helpers are and how to declare one.
    deadline = time.monotonic() + 5
    while str(HELPERS) not in "".join(server.output) and time.monotonic() < deadline:
        time.sleep(0.05)  # the line after the URLs reaches the output drain a moment later
    banner = "".join(server.output)
    assert str(HELPERS) in banner and "LAMBDASMITH_SHELL_FUNCTIONS" in banner


def test_status_code_result_passes_through_with_headers_and_cookies(server):
    status, headers, body = request(server, "GET", "/web/status")
    assert status == 201
    assert body == b"created"
    assert ("x-test", "yes") in [
        (k.lower(), v) for k, v in headers
    ]  # names are case-insensitive (hyper sends lower case)
    assert [v for k, v in headers if k.lower() == "set-cookie"] == ["a=1; Path=/", "b=2"]


def test_base64_body_is_decoded(server):
    status, headers, body = request(server, "GET", "/web/binary")
    assert status == 200 and body == bytes(range(256))
    assert dict((k.lower(), v) for k, v in headers)["content-type"] == "application/octet-stream"


def test_json_without_status_code_is_200_json(server):
    r = http("GET", server.urls["shell"] + "/web/plain")
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == {"hello": "world", "n": 1}


def test_text_becomes_a_json_string(server):
    r = http("GET", server.urls["shell"] + "/web/text")
    assert r.status == 200 and r.headers["content-type"] == "application/json"
    assert r.json() == "just text"


def test_handler_error_is_502(server):
    r = http("GET", server.urls["shell"] + "/web/fail")
    assert r.status == 502
    assert r.json()["message"] == "Internal Server Error"


def test_unknown_function_is_404(server):
    r = http("GET", server.urls["shell"] + "/nope/anything")
    assert r.status == 404 and "nope" in r.json()["message"]
    assert set(r.json()["functions"]) >= {"web", "bashfn"}
    assert http("GET", server.urls["shell"] + "/").status == 404


def test_event_is_payload_2_with_the_path_after_the_function_name(server):
    status, _, body = request(server, "POST", "/web/echo/path?a=1&a=2&b=x", body=b'{"k":"v"}',
                              headers={"Content-Type": "application/json", "Cookie": "c1=1; c2=2", "X-Custom": "hi"})  # fmt: skip
    assert status == 200
    event = json.loads(body)["event"]
    assert event["version"] == "2.0" and event["routeKey"] == "$default"
    assert event["rawPath"] == "/echo/path"
    assert event["rawQueryString"] == "a=1&a=2&b=x"
    assert event["queryStringParameters"] == {"a": "1,2", "b": "x"}
    assert event["cookies"] == ["c1=1", "c2=2"]
    assert event["headers"]["x-custom"] == "hi"
    assert event["requestContext"]["http"]["method"] == "POST"
    assert event["requestContext"]["http"]["path"] == "/echo/path"
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert event["body"] == '{"k":"v"}' and event["isBase64Encoded"] is False
    root = json.loads(request(server, "GET", "/web?z=1")[2])["event"]
    assert root["rawPath"] == "/" and root["rawQueryString"] == "z=1"


def test_event_carries_what_a_function_url_adds(server):
    """As AWS's Function URL front end: one request id for the event, the runtime and the answer;
    x-forwarded-* and x-amzn-trace-id headers; the protocol the client spoke; text media types
    recognised whatever their case."""
    port = urlsplit(server.urls["shell"]).port
    status, headers, body = request(server, "POST", "/web/echo", body=b"caf\xc3\xa9",
                                    headers={"Content-Type": "Text/Plain; charset=UTF-8", "X-Forwarded-For": "203.0.113.9"})  # fmt: skip
    assert status == 200
    got = json.loads(body)
    event, runtime = got["event"], got["runtime"]
    answer_id = dict((k.lower(), v) for k, v in headers)["x-amzn-requestid"]
    assert event["requestContext"]["requestId"] == runtime["requestId"] == answer_id
    h = event["headers"]
    assert h["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"  # the client's claim, then its address
    assert (h["x-forwarded-proto"], h["x-forwarded-port"]) == ("http", str(port))
    assert h["x-amzn-trace-id"].startswith("Root=1-") and h["x-amzn-trace-id"] == runtime["traceId"]
    assert event["requestContext"]["http"]["protocol"] == "HTTP/1.1"
    assert event["isBase64Encoded"] is False and event["body"] == "café"
    u = urlsplit(server.urls["shell"])
    with socket.create_connection((u.hostname, u.port), timeout=10) as sock:
        sock.sendall(b"GET /web/echo HTTP/1.0\r\nHost: x\r\n\r\n")
        raw = b"".join(iter(lambda: sock.recv(65536), b""))
    assert json.loads(raw.partition(b"\r\n\r\n")[2])["event"]["requestContext"]["http"]["protocol"] == "HTTP/1.0"
    given = "Root=1-5f84c7a3-3f2a1b0c9d8e7f6a5b4c3d2e;Parent=53995c3f42cd8ad8;Sampled=1"
    traced = json.loads(request(server, "GET", "/web/echo", headers={"X-Amzn-Trace-Id": given})[2])
    assert traced["event"]["headers"]["x-amzn-trace-id"] == traced["runtime"]["traceId"] == given


def test_keep_alive_serves_many_requests_on_one_connection(server):
    u = urlsplit(server.urls["shell"])
    conn = HTTPConnection(u.hostname, u.port, timeout=15)
    try:
        for n in range(20):
            conn.request("GET", f"/web/plain?n={n}")
            r = conn.getresponse()
            assert r.status == 200 and json.loads(r.read()) == {"hello": "world", "n": 1}
    finally:
        conn.close()


def test_bash_curl_bootstrap_function_text_reply(server):
    r = http("GET", server.urls["shell"] + "/bashfn/x")
    assert r.status == 200
    assert r.json()["echo"]["rawPath"] == "/x"


def invoke(server, name: str, payload: bytes, headers: dict[str, str] | None = None):
    return http(
        "POST", f"{server.urls['invoke']}/2015-03-31/functions/{name}/invocations", headers=headers, body=payload
    )


def test_the_same_function_through_the_invoke_api(server):
    r = invoke(server, "web", b'{"rawPath": "/plain"}')
    assert r.status == 200 and "x-amz-function-error" not in r.headers
    assert r.json() == {"hello": "world", "n": 1}
    text = invoke(server, "web", b'{"rawPath": "/text"}')
    assert text.body == b"just text"  # the response bytes, as the runtime posted them


def test_invoke_api_error_is_unhandled_with_the_error_json(server):
    r = invoke(server, "web", b'{"rawPath": "/fail"}', {"X-Amz-Log-Type": "Tail"})
    assert r.status == 200
    assert r.headers["x-amz-function-error"] == "Unhandled"
    error = r.json()
    assert error["errorType"] == "RuntimeError" and error["errorMessage"] == "handler failed"
    log = base64.b64decode(r.headers["x-amz-log-result"]).decode()
    assert f"END RequestId: {r.headers['x-amzn-requestid']}" in log and "REPORT RequestId" in log


def test_invoke_api_event_invocation_is_accepted(server):
    assert invoke(server, "web", b'{"rawPath": "/plain"}', {"X-Amz-Invocation-Type": "Event"}).status == 202


def test_health_example_answers_through_the_real_bootstrap(server):
    assert REAL_RUNTIME, "lambdasmith/shell/runtime/bootstrap and examples/health.sh must exist"
    r = http("GET", server.urls["shell"] + "/health")
    assert r.status == 200, (r.body, "".join(server.output[-30:]))
    assert r.json()["status"] == "ok"
    via_invoke = invoke(
        server, "health", json.dumps({"rawPath": "/", "requestContext": {"http": {"method": "GET"}}}).encode()
    )
    assert via_invoke.status == 200 and "x-amz-function-error" not in via_invoke.headers
    assert json.loads(via_invoke.json()["body"])["status"] == "ok"
    py = http("GET", server.urls["shell"] + "/health-py")
    assert py.status == 200 and py.json()["status"] == "ok"
