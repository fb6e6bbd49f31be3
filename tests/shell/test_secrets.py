"""helpers.sh `secret_string` and github_traffic's token read at run time, against a fake of AWS's
Parameters and Secrets Lambda Extension (GET /secretsmanager/get?secretId=…, header
X-Aws-Parameters-Secrets-Token = the function's session token)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.shell.test_examples import HELPERS, FakeGitHub, body_of, http_event, run_example, run_shell, traffic


class FakeExtension:
    def __init__(self, secrets: dict[str, str]) -> None:
        self.secrets = secrets
        self.seen: list[tuple[str, str | None]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                name = parse_qs(url.query).get("secretId", [""])[0]
                fake.seen.append((name, self.headers.get("X-Aws-Parameters-Secrets-Token")))
                if url.path != "/secretsmanager/get" or self.headers.get("X-Aws-Parameters-Secrets-Token") != "session-tok":
                    status, body = 401, b"unauthorized"
                elif name not in fake.secrets:
                    status, body = 400, b'{"__type":"ResourceNotFoundException"}'
                else:
                    status, body = 200, json.dumps({"Name": name, "SecretString": fake.secrets[name]}).encode()
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.port = self.server.server_address[1]

    def env(self) -> dict[str, str]:
        return {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(self.port), "AWS_SESSION_TOKEN": "session-tok"}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def extension():
    fake = FakeExtension({"shell/github-token": "from-secrets-manager", "odd name/with+chars": "v"})
    yield fake
    fake.close()


def helpers(snippet: str, env: dict[str, str]):
    return run_shell(f'source "$1"\n{snippet}', b"", env, str(HELPERS))


@pytest.fixture
def github():
    fake = FakeGitHub()
    yield fake
    fake.close()


def test_secret_string_reads_through_the_extension_with_the_session_token(extension):
    done = helpers('secret_string "odd name/with+chars"', env=extension.env())
    assert done.returncode == 0 and done.stdout == b"v"
    assert extension.seen == [("odd name/with+chars", "session-tok")]  # URL-encoded on the way, decoded here


@pytest.mark.parametrize(("name", "env_over", "why"), [
    ("no/such", {}, "answered 400"),
    ("shell/github-token", {"AWS_SESSION_TOKEN": "wrong"}, "answered 401"),
    ("shell/github-token", {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": "9"}, "does not answer"),
])
def test_secret_string_fails_with_a_log_line(extension, name, env_over, why):
    done = helpers(f'secret_string "{name}"', env={**extension.env(), **env_over})
    assert done.returncode == 1 and done.stdout == b""
    assert why in done.stderr.decode()


def test_github_traffic_takes_its_token_from_secrets_manager_at_run_time(extension, github):
    github.routes["/repos/octo/hello/traffic/views"] = (200, traffic([("2026-12-01", 3, 2)]))
    env = {"GITHUB_API_URL": github.url, "GITHUB_TOKEN_SECRET": "shell/github-token", **extension.env()}
    response = run_example("github_traffic", http_event(query={"repo": "octo/hello"}), env)
    assert response["statusCode"] == 200 and body_of(response)["total_views"] == 3
    assert github.seen[0][1]["authorization"] == "Bearer from-secrets-manager"
    extension.secrets["shell/github-token"] = "rotated"  # a rotation reaches the next invocation
    run_example("github_traffic", http_event(query={"repo": "octo/hello"}), env)
    assert github.seen[1][1]["authorization"] == "Bearer rotated"


def test_github_traffic_without_a_readable_token_is_a_500(extension, github):
    env = {"GITHUB_API_URL": github.url, "GITHUB_TOKEN_SECRET": "no/such", **extension.env()}
    response = run_example("github_traffic", http_event(query={"repo": "octo/hello"}), env)
    assert response["statusCode"] == 500 and body_of(response) == {"error": "no GitHub token is configured"}
    assert not github.seen  # nothing went to GitHub without a token
