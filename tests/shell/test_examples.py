"""helpers.sh and the shell examples (health, echo_request, github_traffic).

Each example runs as `bash -c 'source FILE && run'` with a payload 2.0 event on stdin, and once
through the bootstrap against the fake Runtime API of tests/shell/test_bootstrap.py. github_traffic
talks to a local fake GitHub (GITHUB_API_URL). These tests need jq and curl: without them they fail
and say so (apt-get install jq curl).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.shell.test_bootstrap import Bootstrap, FakeRuntimeAPI, require_tools

ROOT = Path(__file__).resolve().parents[2]
SHELL = ROOT / "lambdasmith" / "shell"
EXAMPLES = SHELL / "examples"
HELPERS = SHELL / "runtime" / "helpers.sh"


@pytest.fixture(autouse=True)
def tools():
    require_tools("bash", "jq", "curl")


def http_event(method: str = "GET", path: str = "/", query: dict[str, str] | None = None,
               headers: dict[str, str] | None = None, body: str | None = None, b64: bool = False,
               source_ip: str = "203.0.113.7", user_agent: str = "curl/8.5.0") -> bytes:
    """A Function URL (payload 2.0) event."""
    query = query or {}
    headers = {"host": "abc.lambda-url.us-east-1.on.aws", "user-agent": user_agent, **(headers or {})}
    raw_query = "&".join(f"{k}={v}" for k, v in query.items())
    event = {
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": raw_query,
        "headers": headers, "requestContext": {
            "accountId": "anonymous", "apiId": "abc", "domainName": "abc.lambda-url.us-east-1.on.aws",
            "domainPrefix": "abc", "http": {"method": method, "path": path, "protocol": "HTTP/1.1",
                                            "sourceIp": source_ip, "userAgent": user_agent},
            "requestId": "r-1", "routeKey": "$default", "stage": "$default",
            "time": "01/Nov/2026:00:00:00 +0000", "timeEpoch": 1793491200000},
        "isBase64Encoded": b64,
    }
    if query:
        event["queryStringParameters"] = query
    if body is not None:
        event["body"] = body
    return json.dumps(event).encode()


def run_shell(script: str, stdin: bytes, env: dict[str, str] | None = None, *args: str) -> subprocess.CompletedProcess:
    full_env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8", **(env or {})}
    return subprocess.run(["bash", "-c", script, "test", *args], input=stdin, capture_output=True,
                          env=full_env, timeout=30)


def run_example(name: str, event: bytes, env: dict[str, str] | None = None) -> dict:
    done = run_shell('source "$1" && run', event, env, str(EXAMPLES / f"{name}.sh"))
    assert done.returncode == 0, done.stderr.decode()
    response = json.loads(done.stdout)
    return response


def body_of(response: dict) -> dict:
    assert response["headers"]["content-type"] == "application/json"
    return json.loads(response["body"])


def helpers(snippet: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return run_shell(f'source "$1"\n{snippet}', stdin, None, str(HELPERS))


# --- helpers.sh ----------------------------------------------------------------------------------


def test_helpers_read_the_event_fields():
    event = http_event("POST", "/p/q", {"name": "Zoë", "x": "1"}, {"X-Custom-Thing": "v1", "content-type": "text/plain"},
                       user_agent="agent/1 (quote \" in it)")
    done = helpers('event_init; for f in "$(event_method)" "$(event_path)" "$(event_source_ip)" "$(event_user_agent)" '
                   '"$(event_query name)" "$(event_query missing)" "$(event_header x-custom-THING)" '
                   '"$(event_header Content-Type)"; do printf "[%s]" "$f"; done', event)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode() == ('[POST][/p/q][203.0.113.7][agent/1 (quote " in it)][Zoë][][v1][text/plain]')


def test_helpers_event_body_plain_and_base64_binary():
    plain = helpers("event_init; event_body", http_event("POST", body='{"k": "v"}\n'))
    assert plain.stdout == b'{"k": "v"}\n'
    raw = bytes(range(256))
    binary = helpers("event_init; event_body", http_event("POST", body=base64.b64encode(raw).decode(), b64=True))
    assert binary.stdout == raw


def test_helpers_payload_1_0_event():
    event = json.dumps({"httpMethod": "PUT", "path": "/v1", "headers": {"User-Agent": "ua-1"},
                        "queryStringParameters": {"a": "b"},
                        "requestContext": {"identity": {"sourceIp": "198.51.100.1", "userAgent": "ua-1"}}}).encode()
    done = helpers('event_init; printf "%s|%s|%s|%s|%s" "$(event_method)" "$(event_path)" "$(event_source_ip)" '
                   '"$(event_user_agent)" "$(event_query a)"', event)
    assert done.stdout.decode() == "PUT|/v1|198.51.100.1|ua-1|b"


def test_reading_the_event_without_event_init_fails_loudly():
    done = helpers("event_method", http_event())
    assert done.returncode != 0
    assert b"event_init" in done.stderr


def test_respond_builds_json_with_jq_not_by_concatenation():
    nasty = 'quote " backslash \\ newline \n tab \t unicode é </script>'
    done = run_shell('source "$1"; respond 418 "$BODY" "x-a=1=2" "X-Quote=q\\"q"', b"", {"BODY": nasty}, str(HELPERS))
    assert done.returncode == 0, done.stderr
    response = json.loads(done.stdout)
    assert response == {"statusCode": 418, "body": nasty,
                        "headers": {"content-type": "text/plain; charset=utf-8", "x-a": "1=2", "X-Quote": 'q"q'}}
    typed = run_shell('source "$1"; respond 200 "<b>hi</b>" Content-Type=text/html', b"", None, str(HELPERS))
    assert json.loads(typed.stdout)["headers"] == {"Content-Type": "text/html"}


def test_respond_json_sends_the_json_as_given_and_refuses_bad_calls():
    done = run_shell('source "$1"; respond_json 201 \'{"a": [1, "x\\"y"]}\' x-b=2', b"", None, str(HELPERS))
    response = json.loads(done.stdout)
    assert response["statusCode"] == 201
    assert response["headers"] == {"content-type": "application/json", "x-b": "2"}
    assert json.loads(response["body"]) == {"a": [1, 'x"y']}
    for call in ('respond_json 200 ""', 'respond_json 2000 "{}"', 'respond_json 200 "{}" no-equals-sign'):
        bad = run_shell('source "$1"; ' + call, b"", None, str(HELPERS))
        assert bad.returncode != 0 and bad.stdout == b"", call


def test_json_quote_escapes_like_json():
    text = 'quote " backslash \\ newline \n tab \t cr \r bell \a unit \x1f é ✓'
    done = run_shell('source "$1"; json_quote out "$2"; printf %s "$out"', b"", None, str(HELPERS), text)
    assert json.loads(done.stdout) == text


def test_log_goes_to_stderr():
    done = helpers("log hello there; printf out")
    assert (done.stdout, done.stderr) == (b"out", b"hello there\n")


# --- health and echo_request ---------------------------------------------------------------------


def test_health():
    response = run_example("health", http_event(path="/health"))
    assert response["statusCode"] == 200
    body = body_of(response)
    assert body["status"] == "ok"
    when = datetime.strptime(body["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - when).total_seconds()) < 60


def test_echo_request():
    event = http_event("PATCH", "/things/7", {"q": "a b", "n": "1"}, source_ip="198.51.100.23",
                       user_agent='Mozilla/5.0 "quoted"')
    body = body_of(run_example("echo_request", event))
    assert body["method"] == "PATCH"
    assert body["path"] == "/things/7"
    assert body["query"] == {"q": "a b", "n": "1"}
    assert body["source_ip"] == "198.51.100.23"
    assert body["user_agent"] == 'Mozilla/5.0 "quoted"'


# --- github_traffic against a fake GitHub --------------------------------------------------------


class FakeGitHub:
    """GET /repos/{owner}/{name}/traffic/views, answering from `routes` (path → (status, body))."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, bytes]] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                fake.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                status, body = fake.routes.get(self.path, (404, b'{"message":"Not Found"}'))
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def github():
    fake = FakeGitHub()
    yield fake
    fake.close()


def traffic(views: list[tuple[str, int, int]], count: int | None = None, uniques: int | None = None) -> bytes:
    """A traffic/views body in GitHub's shape."""
    return json.dumps({
        "count": sum(v for _, v, _ in views) if count is None else count,
        "uniques": max([u for _, _, u in views], default=0) if uniques is None else uniques,
        "views": [{"timestamp": f"{day}T00:00:00Z", "count": v, "uniques": u} for day, v, u in views],
    }).encode()


def gh_env(github: FakeGitHub) -> dict[str, str]:
    return {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": "t0k3n-for-tests"}


def test_github_traffic_normal(github):
    github.routes["/repos/octo/hello/traffic/views"] = (200, traffic(
        [("2026-11-01", 10, 4), ("2026-11-02", 25, 9), ("2026-11-03", 3, 1)], count=38, uniques=12))
    response = run_example("github_traffic", http_event(query={"repo": "octo/hello"}), gh_env(github))
    assert response["statusCode"] == 200
    assert body_of(response) == {
        "repository": "octo/hello", "total_views": 38, "unique_visitors": 12,
        "last_14_days": [{"date": "2026-11-01", "views": 10, "unique": 4},
                         {"date": "2026-11-02", "views": 25, "unique": 9},
                         {"date": "2026-11-03", "views": 3, "unique": 1}],
        "summary": {"avg_daily_views": 12.67, "peak_day": "2026-11-02"},
    }
    path, headers = github.seen[-1]
    assert path == "/repos/octo/hello/traffic/views"
    assert headers["authorization"] == "Bearer t0k3n-for-tests"


def test_github_traffic_keeps_the_last_14_days(github):
    days = [(f"2026-10-{d:02d}", d, 1) for d in range(1, 21)]
    github.routes["/repos/o/r/traffic/views"] = (200, traffic(days))
    body = body_of(run_example("github_traffic", http_event(query={"repo": "o/r"}), gh_env(github)))
    assert [d["date"] for d in body["last_14_days"]] == [f"2026-10-{d:02d}" for d in range(7, 21)]
    assert body["summary"]["peak_day"] == "2026-10-20"


def test_github_traffic_empty_views_gives_zeros(github):
    github.routes["/repos/octo/quiet/traffic/views"] = (200, b'{"count":0,"uniques":0,"views":[]}')
    response = run_example("github_traffic", http_event(query={"repo": "octo/quiet"}), gh_env(github))
    assert response["statusCode"] == 200
    assert body_of(response) == {"repository": "octo/quiet", "total_views": 0, "unique_visitors": 0,
                                 "last_14_days": [], "summary": {"avg_daily_views": 0, "peak_day": None}}


def test_github_traffic_upstream_404_is_a_502_with_its_status(github):
    response = run_example("github_traffic", http_event(query={"repo": "octo/missing"}), gh_env(github))
    assert response["statusCode"] == 502
    body = body_of(response)
    assert body["upstream_status"] == 404
    assert body["message"] == "Not Found"


def test_github_traffic_upstream_unreachable_is_a_502(github):
    env = {"GITHUB_API_URL": "http://127.0.0.1:9", "GITHUB_TOKEN": "t"}  # discard port: refused
    response = run_example("github_traffic", http_event(query={"repo": "octo/hello"}), env)
    assert response["statusCode"] == 502
    assert body_of(response)["upstream_status"] == 0


@pytest.mark.parametrize("query", [{}, {"repo": ""}, {"repo": "no-slash"}, {"repo": "a/b/../c"}, {"repo": "../traffic"},
                                   {"repo": "octo/.."}, {"repo": "octo/."}, {"repo": "-octo/x"}, {"repo": "oc_to/x"},
                                   {"repo": "o" * 40 + "/x"}, {"repo": "octo/" + "x" * 101}])  # fmt: skip
def test_github_traffic_without_a_valid_repo_is_a_400(github, query):
    response = run_example("github_traffic", http_event(query=query), gh_env(github))
    assert response["statusCode"] == 400
    assert "repo" in body_of(response)["error"]
    assert github.seen == []


def test_github_traffic_without_a_token_is_a_500(github):
    response = run_example("github_traffic", http_event(query={"repo": "o/r"}), {"GITHUB_API_URL": github.url})
    assert response["statusCode"] == 500
    assert github.seen == []


# --- through the bootstrap -----------------------------------------------------------------------


@pytest.fixture
def through_bootstrap(tmp_path):
    started: list[tuple[FakeRuntimeAPI, Bootstrap]] = []

    def start(handler: str, env: dict[str, str] | None = None) -> FakeRuntimeAPI:
        api = FakeRuntimeAPI()
        boot = Bootstrap(api, EXAMPLES, handler, env, log_dir=tmp_path)
        started.append((api, boot))
        return api

    yield start
    for api, boot in started:
        boot.stop()
        api.close()


def test_examples_through_the_bootstrap(through_bootstrap, github):
    github.routes["/repos/octo/hello/traffic/views"] = (200, traffic([("2026-11-05", 7, 2)]))
    health = through_bootstrap("health.run").invoke(http_event(path="/"), timeout=20)
    assert body_of(json.loads(health.body))["status"] == "ok"
    echo = through_bootstrap("echo_request.run").invoke(http_event("DELETE", "/x", {"a": "1"}), timeout=20)
    assert body_of(json.loads(echo.body))["method"] == "DELETE"
    api = through_bootstrap("github_traffic.run", gh_env(github))
    posted = api.invoke(http_event(query={"repo": "octo/hello"}), timeout=20)
    assert posted.kind == "response"
    assert body_of(json.loads(posted.body))["last_14_days"] == [{"date": "2026-11-05", "views": 7, "unique": 2}]
    missing = api.invoke(http_event(), timeout=20)
    assert json.loads(missing.body)["statusCode"] == 400


def test_health_through_the_runtime_emulator(tmp_path):
    from lambdasmith.local.runtime_api import RuntimeEmulator

    bootstrap = str(SHELL / "runtime" / "bootstrap")
    with RuntimeEmulator("health", [bootstrap], "health.run", str(EXAMPLES), timeout_s=10, log=lambda s: None) as emu:
        result = emu.invoke(http_event(path="/"))
    assert result.ok, result.payload
    assert body_of(json.loads(result.payload))["status"] == "ok"


def test_every_example_through_the_runtime_emulator(github):
    """Each example end to end as Lambda runs it: emulator → real bootstrap → handler."""
    from lambdasmith.local.runtime_api import RuntimeEmulator

    github.routes["/repos/octo/hello/traffic/views"] = (200, traffic([("2026-11-05", 7, 2), ("2026-11-06", 3, 1)]))
    github.routes["/repos/octo/empty/traffic/views"] = (200, traffic([]))
    bootstrap = [str(SHELL / "runtime" / "bootstrap")]

    def run(handler: str, event: bytes, env: dict[str, str] | None = None) -> dict:
        with RuntimeEmulator(handler.split(".")[0], bootstrap, handler, str(EXAMPLES), env=env, timeout_s=15,
                             log=lambda line: None) as emu:
            result = emu.invoke(event)
        assert result.ok, result.payload
        return json.loads(result.payload)

    assert body_of(run("health.run", http_event(path="/")))["status"] == "ok"
    echo = body_of(run("echo_request.run", http_event("PUT", "/a/b", {"q": "1"})))
    assert (echo["method"], echo["path"]) == ("PUT", "/a/b")
    traffic_body = body_of(run("github_traffic.run", http_event(query={"repo": "octo/hello"}), gh_env(github)))
    assert traffic_body["total_views"] == 10 and [d["date"] for d in traffic_body["last_14_days"]] == ["2026-11-05", "2026-11-06"]
    empty = body_of(run("github_traffic.run", http_event(query={"repo": "octo/empty"}), gh_env(github)))
    assert empty["total_views"] == 0 and empty["summary"]["avg_daily_views"] == 0
