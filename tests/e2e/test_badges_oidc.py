"""OIDC ingestion end to end (NEW): `lambdasmith serve` with BADGES_OIDC_ISSUER pointing at a fake
GitHub issuer on loopback (its own RSA key and JWKS), tokens posted in `Authorization: Bearer`.

Also the rotating HMAC keys (two active, then one) and a repository's own key, over HTTP."""

from __future__ import annotations

import json
import time
import uuid

import pytest

from lambdasmith.badges.signature import sign_v2
from tests.e2e.test_badges_e2e import fresh_branch, lambdasmith, now_iso, payload
from tests.support.fake_oidc import OMIT, FakeIssuer
from tests.support.serving import Served, http

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def issuer():
    with FakeIssuer(repository="Acme/Web") as fake:
        yield fake


@pytest.fixture(scope="module")
def backend_env() -> dict[str, str]:
    """The backends' variables: none here (SQLite); test_badges_oidc_aws.py points them at AWS."""
    return {}


@pytest.fixture(scope="module")
def server(issuer, backend_env, tmp_path_factory):
    data = str(tmp_path_factory.mktemp("oidc-data"))
    for args in (["acme", "--type", "oidc"], ["strict", "--type", "oidc", "--repos", "app", "--branches", "main,release/*"]):
        r = lambdasmith("badges", "register-org", *args, data_dir=data, env=backend_env)
        assert r.returncode == 0, r.stderr
    served = Served(data, ["badges"], {**backend_env, "BADGES_OIDC_ISSUER": issuer.issuer}).start()
    yield served
    served.stop()


def post(server, token: str, branch: str = "main", repo: str = "web", owner: str = "acme", scheme: str = "Bearer"):
    path = f"/tests/results/linux/{owner}/{repo}/{branch}"
    return http("POST", server.urls["badges"] + path,
                {"Content-Type": "application/json", "Authorization": f"{scheme} {token}"}, payload(7, 1, 0))


def error_code(r) -> str:
    return r.json()["error_details"][0]["error_code"]


def test_a_valid_token_posts_and_the_badge_shows_it(server, issuer):
    branch = fresh_branch()
    token = issuer.mint({"ref": f"refs/heads/{branch}"})
    r = post(server, token, branch)
    assert r.status == 201, r
    assert r.json()["repository"] == f"acme/web/linux/{branch}"
    badge = http("GET", server.urls["badges"] + f"/badges/tests/linux/acme/web/{branch}").json()
    assert badge["message"] == "7 passed, 1 failed"


def test_a_replayed_token_is_refused(server, issuer):
    token = issuer.mint()
    assert post(server, token).status == 201
    again = post(server, token)
    assert again.status == 400 and error_code(again) == "TOKEN_ALREADY_USED"


def test_a_pull_request_posts_for_its_head_branch(server, issuer):
    token = issuer.mint({"event_name": "pull_request", "ref": "refs/pull/12/merge", "head_ref": "Feature/X"})
    assert post(server, token, "feature%2Fx").status == 201
    assert post(server, issuer.mint({"event_name": "pull_request", "ref": "refs/pull/12/merge",
                                     "head_ref": "feature/x"}), "main").status == 403  # fmt: skip


@pytest.mark.parametrize(("overrides", "where", "field"), [
    ({"repository": "acme/other"}, {}, "repo"),
    ({}, {"repo": "other"}, "repo"),
    ({"repository_owner": "evil", "repository": "evil/web"}, {}, "owner"),
    ({"ref": "refs/heads/dev"}, {}, "branch"),
    ({"ref": "refs/tags/v1"}, {}, "branch"),
])
def test_claims_that_do_not_match_the_path_are_403(server, issuer, overrides, where, field):
    r = post(server, issuer.mint(overrides), **where)
    assert r.status == 403 and error_code(r) == "OIDC_CLAIMS_MISMATCH"
    assert r.json()["error_details"][0]["property_name"] == field


def now() -> int:
    return int(time.time())


@pytest.mark.parametrize(("case", "mint"), [
    ("expired", lambda i: i.mint({"exp": now() - 120, "iat": now() - 600, "nbf": now() - 600})),
    ("not yet valid", lambda i: i.mint({"nbf": now() + 600, "iat": now(), "exp": now() + 900})),
    ("wrong audience", lambda i: i.mint({"aud": "someone-else"})),
    ("wrong issuer", lambda i: i.mint({"iss": "https://token.actions.githubusercontent.com"})),
    ("wrong key", lambda i: i.mint(key=i.foreign_key)),
    ("alg none", lambda i: i.mint(alg="none")),
    ("alg HS256 with the public key", lambda i: i.mint(alg="HS256")),
    ("unknown kid", lambda i: i.mint(kid="no-such-kid")),
    ("no jti", lambda i: i.mint({"jti": OMIT})),
    ("no exp", lambda i: i.mint({"exp": OMIT})),
    ("lives too long", lambda i: i.mint({"exp": now() + 6 * 3600})),
    ("garbage", lambda i: "not.a.token"),
    ("empty", lambda i: ""),
])
def test_bad_tokens_are_401(server, issuer, case, mint):
    r = post(server, mint(issuer))
    assert r.status == 401, (case, r)
    assert error_code(r) == "INVALID_TOKEN" and r.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert "Traceback" not in r.body.decode()


def test_an_unknown_org_gets_the_same_answer_as_for_hmac(server, issuer):
    token = issuer.mint({"repository_owner": "nobody", "repository": "nobody/web"})
    r = post(server, token, owner="nobody")
    hmac = http("POST", server.urls["badges"] + "/tests/results/linux/nobody/web/main",
                {"Content-Type": "application/json", "X-Signature": "sha256=00", "X-Timestamp": now_iso(),
                 "X-Nonce": uuid.uuid4().hex}, payload())  # fmt: skip
    assert (r.status, r.json()) == (hmac.status, hmac.json()) == (401, hmac.json())
    assert error_code(r) == "ORG_SECRET_MISSING"


def test_the_orgs_repository_and_branch_lists_apply(server, issuer):
    def strict(repo, ref):
        return issuer.mint({"repository_owner": "strict", "repository": f"strict/{repo}", "ref": f"refs/heads/{ref}"})

    assert post(server, strict("app", "release/1.2"), "release%2F1.2", "app", "strict").status == 201
    for repo, branch in (("web", "main"), ("app", "dev")):
        r = post(server, strict(repo, branch), branch, repo, "strict")
        assert r.status == 403 and "does not accept OIDC results" in r.json()["message"]


def test_a_rotated_issuer_key_is_fetched_once_and_unknown_kids_are_rate_limited(tmp_path):
    # its own issuer and server: the refetch budget (one a minute) must not be spent by other tests
    with FakeIssuer(repository="Acme/Web") as fresh:
        assert lambdasmith("badges", "register-org", "acme", "--type", "oidc", data_dir=str(tmp_path)).returncode == 0
        env = {"BADGES_OIDC_ISSUER": fresh.issuer, "BADGES_OIDC_REFETCH_INTERVAL": "1"}
        served = Served(str(tmp_path), ["badges"], env).start()
        try:
            assert post(served, fresh.mint({"ref": "refs/heads/a"}), "a").status == 201
            assert fresh.jwks_requests == 1
            fresh.rotate()
            assert post(served, fresh.mint({"ref": "refs/heads/b"}), "b").status == 401  # within the interval
            time.sleep(1.1)
            assert post(served, fresh.mint({"ref": "refs/heads/b"}), "b").status == 201  # unknown kid: refetched
            assert post(served, fresh.mint({"ref": "refs/heads/c"}), "c").status == 201
            assert fresh.jwks_requests == 2  # then cached
            time.sleep(1.1)
            for _ in range(5):
                assert post(served, fresh.mint(kid="made-up")).status == 401
            assert fresh.jwks_requests == 3  # at most one refetch per interval, whatever kids are sent
        finally:
            served.stop()


def test_the_scheme_is_case_insensitive_and_hmac_headers_are_not_needed(server, issuer):
    assert post(server, issuer.mint({"ref": "refs/heads/lower"}), "lower", scheme="bearer").status == 201


# ---------------------------------------------------------------- rotating HMAC keys


@pytest.fixture(scope="module")
def hmac_server(backend_env, tmp_path_factory):
    data = str(tmp_path_factory.mktemp("rotation-data"))
    served = Served(data, ["badges"], backend_env).start()
    yield served, data, backend_env
    served.stop()


def signed(base, secret, owner="rot", repo="web"):
    branch = fresh_branch()
    path = f"/tests/results/linux/{owner}/{repo}/{branch}"
    body, ts, nonce = payload(), now_iso(), uuid.uuid4().hex
    headers = {"Content-Type": "application/json", "X-Timestamp": ts, "X-Nonce": nonce, "X-Signature-Version": "2",
               "X-Signature": sign_v2(secret, "POST", path, ts, nonce, body)}
    return http("POST", base + path, headers, body)


def test_two_active_keys_then_the_old_one_retired(hmac_server):
    served, data, env = hmac_server
    base = served.urls["badges"]
    old, new, own = ("old-key-" + uuid.uuid4().hex * 2, "new-key-" + uuid.uuid4().hex * 2, "repo-key-" + uuid.uuid4().hex * 2)
    reg = ("badges", "register-org", "rot", "--type", "testdata")
    assert lambdasmith(*reg, "--secret", old, data_dir=data, env=env).returncode == 0
    assert signed(base, old).status == 201 and signed(base, new).status == 401
    assert lambdasmith(*reg, "--add-secret", "--secret", new, data_dir=data, env=env).returncode == 0
    assert signed(base, old).status == 201 and signed(base, new).status == 201  # CI can switch now
    assert lambdasmith(*reg, "--retire-secret", data_dir=data, env=env).returncode == 0
    refused = signed(base, old)
    assert refused.status == 401 and json.loads(refused.body)["error_details"][0]["error_code"] == "INVALID_SIGNATURE"
    assert signed(base, new).status == 201
    # a repository's own key overrides the org's for that repository only
    assert lambdasmith(*reg, "--repo", "private", "--secret", own, data_dir=data, env=env).returncode == 0
    assert signed(base, own, repo="private").status == 201
    assert signed(base, new, repo="private").status == 401
    assert signed(base, new, repo="web").status == 201 and signed(base, own, repo="web").status == 401


def test_badges_push_oidc_posts_to_the_real_server(server, issuer):
    """The CI client end to end: it asks the fake GitHub for the job's token, the server verifies it."""
    import os
    import subprocess
    import sys

    branch = fresh_branch()
    issuer_env = issuer.actions_env()
    env = {**os.environ, **issuer_env, "BADGES_URL": server.urls["badges"], "GITHUB_REPOSITORY": "Acme/Web",
           "GITHUB_REF_NAME": branch, "RUNNER_OS": "Linux", "GITHUB_SHA": "0123456789abcdef", "GITHUB_RUN_ID": "9",
           "GITHUB_SERVER_URL": "https://github.com", "GITHUB_ACTIONS": "true"}  # fmt: skip
    env.pop("BADGES_SECRET", None)
    # the fake issuer mints tokens for main by default: point its ref at this job's branch
    original = issuer.claims
    issuer.claims = lambda audience=None: {**original(audience), "ref": f"refs/heads/{branch}"}
    try:
        r = subprocess.run([sys.executable, "-m", "lambdasmith", "badges", "push", "--oidc",
                            "--passed", "5", "--failed", "0", "--skipped", "1"],
                           capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    finally:
        issuer.claims = original
    assert r.returncode == 0, r.stderr
    assert issuer.token_requests >= 1
    badge = http("GET", server.urls["badges"] + f"/badges/tests/linux/acme/web/{branch}").json()
    assert badge["message"] == "5 passed"


def test_orgs_list_shows_key_ids_and_oidc_rules_on_this_backend(hmac_server):
    """`orgs list` reads the org table its backend's way (SQL here, a paginated Scan on DynamoDB)."""
    from lambdasmith.badges.store import key_id

    _served, data, env = hmac_server
    org, first, second = "lister" + uuid.uuid4().hex[:6], "first-" + uuid.uuid4().hex * 2, "second-" + uuid.uuid4().hex * 2
    reg = ("badges", "register-org", org, "--type", "testdata")
    assert lambdasmith(*reg, "--secret", first, data_dir=data, env=env).returncode == 0
    assert lambdasmith(*reg, "--add-secret", "--secret", second, data_dir=data, env=env).returncode == 0
    assert lambdasmith("badges", "register-org", org, "--type", "oidc", "--branches", "main",
                       data_dir=data, env=env).returncode == 0  # fmt: skip
    listed = lambdasmith("badges", "orgs", "list", data_dir=data, env=env)
    assert listed.returncode == 0 and first not in listed.stdout and second not in listed.stdout
    rows = [line for line in listed.stdout.splitlines() if line.startswith(org + " ")]
    assert len(rows) == 2
    assert rows[0].split()[1] == "oidc" and rows[0].endswith("repositories=any branches=main")
    assert rows[1].split()[1] == "testdata" and f"[{key_id(second)}], badges/{org}/testdata [{key_id(first)}]" in rows[1]
    removed = lambdasmith("badges", "orgs", "remove", org, data_dir=data, env=env)
    assert removed.returncode == 0 and removed.stdout.splitlines() == [f"{org} testdata: removed", f"{org} oidc: removed"]
