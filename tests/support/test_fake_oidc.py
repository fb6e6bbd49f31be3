"""The fake GitHub OIDC issuer, end to end: its tokens verify with JwksCache + verify_token over real
HTTP (UpstreamClient) and with PyJWT's PyJWKClient, rotation is picked up, and its broken tokens
and its token request endpoint behave as GitHub's would."""

import json
import urllib.error
import urllib.request

import jwt as pyjwt
import pytest

from lambdasmith.kit.auth.jwt import ExpiredToken, InvalidToken
from lambdasmith.kit.auth.oidc import JwksCache, upstream_fetch, verify_token
from lambdasmith.kit.http.upstream import UpstreamClient
from tests.support.fake_oidc import OMIT, FakeIssuer

AUD = "lambdasmith-badges"


class Clock:
    def __init__(self) -> None:
        self.t = 1_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def client():
    with UpstreamClient("lambdasmith-tests", timeout=5, retries=0) as c:
        yield c


@pytest.fixture
def fake():
    with FakeIssuer() as issuer:
        yield issuer


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def cache(fake, client, clock):
    return JwksCache(upstream_fetch(client), fake.issuer, clock=clock)


def verify(token, cache, fake, **kwargs):
    return verify_token(token, cache, issuer=fake.issuer, audience=AUD, **kwargs)


def test_a_minted_token_verifies_over_http(fake, cache):
    assert fake.issuer.startswith("http://127.0.0.1:")
    claims = verify(fake.mint(), cache, fake)
    assert claims["iss"] == fake.issuer and claims["aud"] == AUD
    assert claims["sub"] == "repo:owner/repo:ref:refs/heads/main"
    assert (claims["repository"], claims["repository_owner"], claims["ref"], claims["head_ref"],
            claims["event_name"]) == ("owner/repo", "owner", "refs/heads/main", "", "push")
    assert claims["exp"] - claims["iat"] == 300 and claims["nbf"] == claims["iat"]
    assert isinstance(claims["run_id"], str) and len(claims["jti"]) == 36
    for _ in range(3):
        verify(fake.mint(), cache, fake)
    assert (fake.discovery_requests, fake.jwks_requests) == (1, 1)


def test_overrides_replace_and_remove_claims(fake, cache):
    claims = verify(fake.mint({"repository": "other/repo", "nbf": OMIT, "ref": "refs/tags/v1"}), cache, fake)
    assert claims["repository"] == "other/repo" and claims["ref"] == "refs/tags/v1" and "nbf" not in claims
    with pytest.raises(InvalidToken, match="'exp'"):
        verify(fake.mint({"exp": OMIT}), cache, fake)


def test_rotation_is_picked_up_by_refetching(fake, cache, clock):
    old = fake.mint()
    verify(old, cache, fake)
    new_kid = fake.rotate()
    new = fake.mint()
    assert fake.kid == new_kid and len(fake.kids) == 2
    with pytest.raises(InvalidToken, match="unknown"):  # the first fetch was just now: no refetch yet
        verify(new, cache, fake)
    clock.t += 60
    assert verify(new, cache, fake)["iss"] == fake.issuer
    assert verify(old, cache, fake)  # the old key is still published
    assert fake.jwks_requests == 2


def test_a_retired_key_stops_verifying_after_the_next_refresh(fake, cache, clock):
    old = fake.mint()
    verify(old, cache, fake)
    fake.rotate(retire_old=True)
    clock.t += 3600
    assert verify(fake.mint(), cache, fake)
    with pytest.raises(InvalidToken, match="unknown"):
        verify(old, cache, fake)


def test_broken_tokens_are_refused(fake, cache):
    cases = {
        "token signature is invalid": fake.mint(key=fake.foreign_key),
        "token algorithm must be RS256": fake.mint(alg="none"),
        "token has no key id": fake.mint(headers={"kid": OMIT}),
        "token signing key is unknown": fake.mint(kid="not-a-kid"),
        "token audience is not accepted": fake.mint({"aud": "someone-else"}),
        "token issuer is not accepted": fake.mint({"iss": "https://token.actions.githubusercontent.com"}),
    }
    for message, token in cases.items():
        with pytest.raises(InvalidToken) as exc:
            verify(token, cache, fake)
        assert exc.value.message == message
    with pytest.raises(InvalidToken, match="algorithm"):
        verify(fake.mint(alg="HS256"), cache, fake)
    with pytest.raises(ExpiredToken):
        verify(fake.mint({"exp": 1}), cache, fake)
    with pytest.raises(ValueError):
        fake.mint(alg="RS512")


def test_pyjwt_verifies_its_tokens_too(fake):
    # The fake's JWKS and tokens are what a second, independent verifier expects.
    signing_key = pyjwt.PyJWKClient(fake.issuer + "/jwks").get_signing_key_from_jwt(fake.mint())
    claims = pyjwt.decode(fake.mint(), signing_key.key, algorithms=["RS256"], audience=AUD, issuer=fake.issuer)
    assert claims["repository"] == "owner/repo"
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(fake.mint(key=fake.foreign_key), signing_key.key, algorithms=["RS256"], audience=AUD)


def test_the_token_request_endpoint_answers_like_githubs(fake, client, cache):
    env = fake.actions_env()
    assert set(env) == {"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"}
    url = env["ACTIONS_ID_TOKEN_REQUEST_URL"] + "&audience=" + AUD
    response = client.get(url, {"Authorization": "Bearer " + env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]})
    assert response.status == 200
    assert verify(response.json()["value"], cache, fake)["aud"] == AUD

    default = client.get(env["ACTIONS_ID_TOKEN_REQUEST_URL"],
                         {"Authorization": "Bearer " + env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]}).json()["value"]
    with pytest.raises(InvalidToken, match="audience"):  # GitHub's default audience is the owner's URL
        verify(default, cache, fake)
    assert verify_token(default, cache, issuer=fake.issuer, audience="https://github.com/owner")

    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"]}):
        assert client.get(url, headers).status == 401
    assert fake.token_requests == 5


def test_the_fake_speaks_plain_http_to_urllib_too(fake):
    with urllib.request.urlopen(fake.issuer + "/.well-known/openid-configuration") as r:
        config = json.load(r)
    assert config["issuer"] == fake.issuer and config["jwks_uri"] == fake.issuer + "/jwks"
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(fake.issuer + "/nope")
    assert exc.value.code == 404
    exc.value.close()
