"""`lambdasmith badges push --oidc` against one fake on 127.0.0.1 that plays both GitHub's ID token
endpoint and the badges ingestion endpoint.

The token endpoint checks the request token and the audience and hands out a different token each
time; the ingestion endpoint takes each token once (as the real service does by its `jti`), so a
retry that replayed a token would be refused with 400 TOKEN_ALREADY_USED.
"""

from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from lambdasmith.badges import push

REQUEST_TOKEN = "ghs-request-token-Zq9"
SECRET = "hmac-secret-never-read"
DROP = "drop"  # a script entry: close the connection without answering


class FakeGitHubAndBadges:
    def __init__(self) -> None:
        self.audience = "lambdasmith-badges"
        self.issued: list[str] = []
        self.used: set[str] = set()
        self.token_requests: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []
        self.token_script: list[tuple[int, dict[str, Any]]] = []
        self.post_script: list[Any] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.token_url = f"{self.url}/_apis/idtoken?api-version=2.0"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def reply(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                headers = dict(self.headers.items())
                fake.token_requests.append({"path": self.path, "query": query, "headers": headers})
                if parts.path != "/_apis/idtoken" or query.get("api-version") != ["2.0"]:
                    return self.reply(404, {"message": "no such endpoint"})
                if headers.get("Authorization") != f"Bearer {REQUEST_TOKEN}":
                    return self.reply(401, {"message": "bad request token"})
                if headers.get("Accept") != "application/json" or query.get("audience") != [fake.audience]:
                    return self.reply(400, {"message": f"unexpected audience {query.get('audience')}"})
                if fake.token_script:
                    return self.reply(*fake.token_script.pop(0))
                token = f"eyJhbGciOiJSUzI1NiJ9.eyJqdGkiOiJ{len(fake.issued)}.c2lnbmF0dXJl{len(fake.issued)}"
                fake.issued.append(token)
                self.reply(200, {"count": 1, "value": token})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = dict(self.headers.items())
                fake.posts.append({"path": self.path, "headers": headers, "body": body})
                auth = headers.get("Authorization", "")
                token = auth.removeprefix("Bearer ")
                if not auth.startswith("Bearer ") or token not in fake.issued:
                    detail = {"error_code": "INVALID_TOKEN", "property_name": "Authorization"}
                    return self.reply(401, {"message": "Invalid token", "error_details": [detail]})
                if token in fake.used:
                    detail = {"error_code": "TOKEN_ALREADY_USED", "property_name": "Authorization"}
                    return self.reply(400, {"message": "Token already used", "error_details": [detail]})
                fake.used.add(token)
                step = fake.post_script.pop(0) if fake.post_script else None
                if step == DROP:
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return None
                if step is not None:
                    return self.reply(*step)
                owner, repo = self.path.split("/")[-3:-1]
                self.reply(201, {"repository": f"{owner}/{repo}"})

        return Handler

    def payload(self, i: int = -1) -> dict[str, Any]:
        return json.loads(self.posts[i]["body"])


@pytest.fixture
def fake():
    server = FakeGitHubAndBadges()
    server.thread.start()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture(autouse=True)
def actions_env(monkeypatch: pytest.MonkeyPatch, fake: FakeGitHubAndBadges) -> None:
    """A GitHub Actions job with `permissions: id-token: write` (and nothing from the real runner)."""
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "BADGES_", "RUNNER_", "ACTIONS_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    env = {
        "GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/widgets", "GITHUB_REF_NAME": "main",
        "RUNNER_OS": "Linux", "GITHUB_SHA": "abc123", "GITHUB_RUN_ID": "42", "BADGES_URL": fake.url,
        "ACTIONS_ID_TOKEN_REQUEST_URL": fake.token_url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": REQUEST_TOKEN,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(push, "RETRY_DELAYS", (0.0, 0.0))


def call(capsys: pytest.CaptureFixture[str], fake: FakeGitHubAndBadges, *argv: str) -> tuple[int, str, str]:
    code = push.main(list(argv))
    out, err = capsys.readouterr()
    for token in (REQUEST_TOKEN, SECRET, *fake.issued):
        assert token not in out + err
    assert "Traceback" not in err
    return code, out, err


def test_posts_the_same_body_and_path_with_a_bearer_token(fake, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BADGES_SECRET", SECRET)  # present, but an OIDC push neither needs nor reads it
    code, out, err = call(capsys, fake, "--oidc", "--passed", "5", "--failed", "1")
    assert (code, err) == (0, "")
    [token_request] = fake.token_requests
    assert token_request["query"] == {"api-version": ["2.0"], "audience": ["lambdasmith-badges"]}
    assert token_request["headers"]["Authorization"] == f"Bearer {REQUEST_TOKEN}"
    [post] = fake.posts
    assert post["path"] == "/tests/results/linux/acme/widgets/main"
    assert post["headers"]["Authorization"] == f"Bearer {fake.issued[0]}"
    assert post["headers"]["Content-Type"] == "application/json"
    assert not {"X-Signature", "X-Timestamp", "X-Nonce", "X-Signature-Version"} & set(post["headers"])
    payload = fake.payload()
    run_url = "https://github.com/acme/widgets/actions/runs/42"
    assert payload == {
        "platform": "linux", "passed": 5, "failed": 1, "skipped": 0, "total": 6, "url_html": run_url,
        "timestamp": payload["timestamp"], "commit": "abc123", "run_id": "42", "workflow_run_url": run_url,
    }
    assert "201 recorded 5 passed" in out and f"{fake.url}/badges/tests/linux/acme/widgets/main" in out


def test_badges_oidc_true_and_the_audience_from_the_environment(fake, capsys, monkeypatch) -> None:
    fake.audience = "api://badges example/ü"
    monkeypatch.setenv("BADGES_OIDC", "true")
    monkeypatch.setenv("BADGES_OIDC_AUDIENCE", fake.audience)
    assert call(capsys, fake, "--passed", "1")[0] == 0
    assert "audience=api%3A%2F%2Fbadges%20example%2F%C3%BC" in fake.token_requests[0]["path"]
    # the flag wins over the variable
    fake.audience = "other"
    assert call(capsys, fake, "--passed", "1", "--audience", "other")[0] == 0
    assert len(fake.posts) == 2


def test_a_token_url_without_a_query_string_gets_one(fake, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"{fake.url}/_apis/idtoken")
    fake.token_script = [(200, {"value": "unused"})]
    code, _, err = call(capsys, fake, "--oidc", "--passed", "1")
    assert code == 1  # our fake wants api-version=2.0, so it said 404
    assert fake.token_requests[0]["path"] == "/_apis/idtoken?audience=lambdasmith-badges"
    assert "cannot get the job's OIDC token from GitHub: HTTP 404: no such endpoint" in err


@pytest.mark.parametrize("failure", [(500, {"message": "down"}), DROP], ids=["500", "connection-reset"])
def test_a_retry_asks_for_a_new_token(fake, capsys, failure) -> None:
    fake.post_script = [failure]
    code, out, err = call(capsys, fake, "--oidc", "--passed", "1")
    assert code == 0, err
    assert len(fake.token_requests) == 2 and len(fake.posts) == 2
    sent = [p["headers"]["Authorization"] for p in fake.posts]
    assert sent == [f"Bearer {t}" for t in fake.issued] and sent[0] != sent[1]
    assert "attempt 1 failed" in err and "201 recorded" in out


def test_a_replayed_token_would_be_refused(fake, capsys, monkeypatch) -> None:
    # the fake's jti check is real: a client that reused the first token would have failed here
    fake.issued.append("eyJ.a.b")
    monkeypatch.setattr(push, "_id_token", lambda *_: "eyJ.a.b")
    fake.post_script = [(503, {"message": "busy"})]
    code, _, err = call(capsys, fake, "--oidc", "--passed", "1")
    assert code == 1
    assert "HTTP 400: Token already used [TOKEN_ALREADY_USED:Authorization]" in err


@pytest.mark.parametrize(
    "status, body, shown",
    [
        (401, {"message": "Invalid token", "error_details": [{"error_code": "INVALID_TOKEN"}]},
         "HTTP 401: Invalid token [INVALID_TOKEN] (the service did not accept the job's OIDC token: is the org "
         "registered with `lambdasmith badges register-org ORG --type oidc`"),
        (403, {"message": "The token's repository is not acme/widgets",
               "error_details": [{"error_code": "OIDC_CLAIMS_MISMATCH", "property_name": "repository"}]},
         "HTTP 403: The token's repository is not acme/widgets [OIDC_CLAIMS_MISMATCH:repository] (the token's "
         "claims name the job's own repository and ref"),
    ],
)
def test_a_refusal_is_explained_and_not_retried(fake, capsys, status, body, shown) -> None:
    fake.post_script = [(status, body)]
    code, out, err = call(capsys, fake, "--oidc", "--passed", "1")
    assert (code, out) == (1, "")
    assert len(fake.posts) == 1 and len(fake.token_requests) == 1
    assert err.startswith(f"badges push: error: {shown}") and err.count("\n") == 1


def test_a_token_quoted_back_by_the_service_is_redacted(fake, capsys) -> None:
    fake.post_script = [(401, {"message": "rejected eyJhbGciOiJSUzI1NiJ9.eyJqdGkiOiJ0.c2lnbmF0dXJl0"})]
    code, _, err = call(capsys, fake, "--oidc", "--passed", "1")
    assert code == 1 and "HTTP 401: rejected <redacted>" in err


@pytest.mark.parametrize("missing", [["ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
                                     ["ACTIONS_ID_TOKEN_REQUEST_TOKEN"], ["ACTIONS_ID_TOKEN_REQUEST_URL"]])
def test_without_the_id_token_permission_it_exits_2(fake, capsys, monkeypatch, missing) -> None:
    for name in missing:
        monkeypatch.delenv(name)
    code, out, err = call(capsys, fake, "--oidc", "--passed", "1")
    assert (code, out) == (2, "")
    assert err == f"badges push: error: {push.ID_TOKEN_PERMISSION}\n"
    assert "permissions: id-token: write" in err
    assert fake.token_requests == [] and fake.posts == []


def test_dry_run_redacts_the_token_and_asks_for_none(fake, capsys) -> None:
    code, out, _ = call(capsys, fake, "--oidc", "--passed", "2", "--dry-run")
    assert code == 0
    head, _, body = out.partition("\n\n")
    lines = head.splitlines()
    assert lines[0] == f"POST {fake.url}/tests/results/linux/acme/widgets/main"
    assert "Authorization: Bearer <redacted>" in lines
    assert not any(line.startswith("X-") for line in lines)
    assert json.loads(body)["total"] == 2
    assert fake.token_requests == [] and fake.posts == []


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--oidc", "--secret", SECRET], "--oidc and --secret exclude each other"),
        (["--oidc", "--signature-version", "2"], "--oidc and --signature-version exclude each other"),
        (["--audience", "x"], "--audience only applies with --oidc"),
        (["--oidc", "--audience", " "], "--audience must not be blank"),
        (["BADGES_OIDC=yes"], "BADGES_OIDC must be true or false, got 'yes'"),
    ],
)
def test_usage_errors_exit_2(fake, capsys, monkeypatch, argv, message) -> None:
    if argv == ["BADGES_OIDC=yes"]:
        monkeypatch.setenv("BADGES_OIDC", "yes")
        argv = []
    code, out, err = call(capsys, fake, *argv, "--passed", "1")
    assert (code, out) == (2, "")
    assert err.splitlines()[0].startswith(f"badges push: error: {message}")  # every problem is listed
    assert fake.token_requests == [] and fake.posts == []


@pytest.mark.parametrize(
    "script, shown",
    [
        ([(403, {"message": "Not permitted"})],
         "badges push: error: cannot get the job's OIDC token from GitHub: HTTP 403: Not permitted\n"),
        ([(200, {"count": 0})],
         'badges push: error: cannot get the job\'s OIDC token from GitHub: HTTP 200 without a token '
         '(expected {"value": "<jwt>"})\n'),
        ([(200, {"value": "two\r\nlines"})], "HTTP 200 without a token"),
    ],
)
def test_a_token_endpoint_refusal_exits_1_without_posting(fake, capsys, script, shown) -> None:
    fake.token_script = list(script)
    code, out, err = call(capsys, fake, "--oidc", "--passed", "1")
    assert (code, out) == (1, "")
    assert shown in err
    assert len(fake.token_requests) == 1 and fake.posts == []


def test_a_failing_token_endpoint_is_retried_then_given_up(fake, capsys) -> None:
    fake.token_script = [(502, {"message": "bad gateway"})] * 3
    code, _, err = call(capsys, fake, "--oidc", "--passed", "1")
    assert code == 1
    assert len(fake.token_requests) == 3 and fake.posts == []
    assert err.splitlines()[-1] == ("badges push: error: cannot get the job's OIDC token from GitHub: "
                                    "HTTP 502: bad gateway (gave up after 3 attempts)")
    # and a token endpoint that recovers lets the push through
    fake.token_script = [(503, {"message": "busy"})]
    assert call(capsys, fake, "--oidc", "--passed", "1")[0] == 0
    assert len(fake.posts) == 1


def test_the_request_token_sent_to_github_is_never_echoed(fake, capsys, monkeypatch) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "wrong-request-token")
    code, _, err = call(capsys, fake, "--oidc", "--passed", "1")
    assert code == 1 and "HTTP 401: bad request token" in err
    assert "wrong-request-token" not in err


def test_unreachable_token_endpoint_exits_1(fake, capsys, monkeypatch) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", f"http://127.0.0.1:{port}/idtoken?api-version=2.0")
    code, _, err = call(capsys, fake, "--oidc", "--passed", "1")
    assert code == 1 and fake.posts == []
    assert err.splitlines()[-1].startswith(
        f"badges push: error: cannot get the job's OIDC token from GitHub: cannot reach 127.0.0.1:{port}: ")
    assert "gave up after 3 attempts" in err
