"""helpers.sh `secret_string` and github_traffic's token read at run time, against a fake of AWS's
Parameters and Secrets Lambda Extension (GET /secretsmanager/get?secretId=…, header
X-Aws-Parameters-Secrets-Token = the function's session token)."""

from __future__ import annotations

import pytest

from tests.shell.test_examples import HELPERS, FakeGitHub, body_of, http_event, run_example, run_shell, traffic
from tests.support.upstreams import FakeServer, Reply, Request, json_reply


class FakeExtension(FakeServer):
    """GET /secretsmanager/get?secretId=NAME with the session-token header → the secret's JSON."""

    gzip = False

    def __init__(self, secrets: dict[str, str]) -> None:
        super().__init__()
        self.secrets = secrets
        self.seen: list[tuple[str, str | None]] = []

    def route(self, request: Request) -> Reply:
        name, token = request.query.get("secretId", ""), request.headers.get("x-aws-parameters-secrets-token")
        self.seen.append((name, token))
        if request.path != "/secretsmanager/get" or token != "session-tok":
            return Reply(401, b"unauthorized")
        if name not in self.secrets:
            return json_reply(400, {"__type": "ResourceNotFoundException"})
        return json_reply(200, {"Name": name, "SecretString": self.secrets[name]})

    def env(self) -> dict[str, str]:
        return {"PARAMETERS_SECRETS_EXTENSION_HTTP_PORT": str(self.port), "AWS_SESSION_TOKEN": "session-tok"}


@pytest.fixture
def extension():
    with FakeExtension({"shell/github-token": "from-secrets-manager", "odd name/with+chars": "v"}) as fake:
        yield fake


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
