"""RS256 ID tokens: `verify_token` answers what PyJWT answers (PyJWKSet to pick the key by `kid`,
`jwt.decode` to verify) on tokens PyJWT and hand-built ones, valid and broken in every way, and is
stricter only where the module docstrings say. `JwksCache` caches, refetches on rotation and rate
limits, with a fake clock and a fake fetch that counts its calls."""

import base64
import hashlib
import hmac
import json
import time

import jwt as pyjwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from lambdasmith.kit.auth import oidc
from lambdasmith.kit.auth.jwt import ExpiredToken, InvalidToken, NotYetValid
from lambdasmith.kit.auth.oidc import JwksCache, check_url, upstream_fetch, verify_token
from lambdasmith.kit.auth.rsa import RsaPublicKey

ISSUER = "https://token.actions.githubusercontent.com"
DISCOVERY = ISSUER + "/.well-known/openid-configuration"
JWKS_URI = ISSUER + "/.well-known/jwks"
AUD = "lambdasmith-badges"
NOW = 1_700_000_000
DROP = object()


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_int(value: int) -> str:
    return b64u(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def jwk_of(private, kid: str, **extra) -> dict:
    numbers = private.public_key().public_numbers()
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid, "n": b64u_int(numbers.n),
            "e": b64u_int(numbers.e), **extra}


def key_of(private) -> RsaPublicKey:
    numbers = private.public_key().public_numbers()
    return RsaPublicKey(numbers.n, numbers.e)


class Clock:
    def __init__(self, t: float = NOW):
        self.t = t

    def __call__(self) -> float:
        return self.t


class FakeFetch:
    """URL → JSON document (or an exception to raise); counts calls per URL."""

    def __init__(self, jwks, config=DROP):
        self.docs = {DISCOVERY: {"issuer": ISSUER, "jwks_uri": JWKS_URI} if config is DROP else config,
                     JWKS_URI: jwks}
        self.calls: list[str] = []

    def __call__(self, url: str):
        self.calls.append(url)
        doc = self.docs.get(url, LookupError(f"no document at {url}"))
        if isinstance(doc, Exception):
            raise doc
        return doc

    @property
    def jwks_calls(self) -> int:
        return self.calls.count(JWKS_URI)


def hand_token(header: bytes | dict, payload: bytes | dict, private=None, alg: str = "RS256") -> str:
    """A token built without either implementation: raw JSON in, signed by cryptography."""
    if not isinstance(header, bytes):
        header = json.dumps(header, separators=(",", ":")).encode()
    if not isinstance(payload, bytes):
        payload = json.dumps(payload, separators=(",", ":")).encode()
    signing_input = (b64u(header) + "." + b64u(payload)).encode()
    if private is None:
        return signing_input.decode() + "."
    signature = private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return signing_input.decode() + "." + b64u(signature)


def claims_at(now: float, **changes) -> dict:
    claims = {"iss": ISSUER, "aud": AUD, "sub": "repo:owner/repo:ref:refs/heads/main", "repository": "owner/repo",
              "ref": "refs/heads/main", "iat": int(now), "nbf": int(now), "exp": int(now) + 300}
    for name, value in changes.items():
        if value is DROP:
            del claims[name]
        else:
            claims[name] = value
    return claims


@pytest.fixture
def keys(rsa_key, other_rsa_key, rsa_keys):
    """k1 and k2 are the issuer's; `foreign` is no one's it publishes."""
    return {"k1": rsa_key, "k2": other_rsa_key, "foreign": rsa_keys[1]}


@pytest.fixture
def jwks_doc(keys):
    return {"keys": [jwk_of(keys["k1"], "k1"), jwk_of(keys["k2"], "k2")]}


@pytest.fixture
def fetch(jwks_doc):
    return FakeFetch(jwks_doc)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def cache(fetch, clock):
    return JwksCache(fetch, ISSUER, clock=clock)


# -- PyJWT as the oracle ---------------------------------------------------------------------------

def pyjwt_accepts(token: str, jwks_doc: dict, leeway: int = 60) -> bool:
    """PyJWT's verdict, keys picked by kid from the same JWKS, as PyJWKClient does."""
    try:
        kid = pyjwt.get_unverified_header(token).get("kid")
        signing_key = pyjwt.PyJWKSet.from_dict(jwks_doc)[kid]
        pyjwt.decode(token, signing_key.key, algorithms=["RS256"], audience=AUD, issuer=ISSUER, leeway=leeway,
                     options={"require": ["exp", "iat"]})
    except (pyjwt.PyJWTError, KeyError):
        return False
    return True


def ours_accepts(token: str, cache: JwksCache, leeway: int = 60) -> bool:
    try:
        claims = verify_token(token, cache, issuer=ISSUER, audience=AUD, leeway_s=leeway)
    except InvalidToken:
        return False
    assert claims == json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    return True


def pyjwt_rs256(claims: dict, private, kid: str | None = "k1", **headers) -> str:
    if kid is not None:
        headers["kid"] = kid
    return pyjwt.encode(claims, private, algorithm="RS256", headers=headers)


def hs256_with_the_public_pem(claims: dict, private) -> str:
    pem = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    signing_input = b64u(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "k1"}).encode()) + "." + b64u(
        json.dumps(claims).encode())
    return signing_input + "." + b64u(hmac.new(pem, signing_input.encode(), hashlib.sha256).digest())


def tampered_payload(token: str, **changes) -> str:
    head, body, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(body + "=="))
    claims.update(changes)
    return head + "." + b64u(json.dumps(claims).encode()) + "." + sig


def oracle_cases(keys: dict, now: float) -> dict[str, str]:
    k1, k2, foreign = keys["k1"], keys["k2"], keys["foreign"]
    good = pyjwt_rs256(claims_at(now), k1)
    head, body, sig = good.split(".")
    header = {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    payload = json.dumps(claims_at(now), separators=(",", ":"))
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert len(base64.urlsafe_b64decode(sig + "==")) % 3 == 1  # 2048 bits: the last character has 4 unused bits
    sibling = alphabet[alphabet.index(sig[-1]) ^ 1]  # the same bytes, spelled another way
    return {
        "valid": good,
        "valid, second key": pyjwt_rs256(claims_at(now), k2, kid="k2"),
        "valid, audience list": pyjwt_rs256(claims_at(now, aud=["other", AUD]), k1),
        "valid, no nbf": pyjwt_rs256(claims_at(now, nbf=DROP), k1),
        "valid, float times": pyjwt_rs256(claims_at(now, exp=now + 300.5, iat=now - 0.5), k1),
        "valid, no typ": hand_token({"alg": "RS256", "kid": "k1"}, claims_at(now), k1),
        "expired": pyjwt_rs256(claims_at(now - 7200), k1),
        "expired within the leeway": pyjwt_rs256(claims_at(now, exp=int(now) - 30), k1),
        "expired beyond the leeway": pyjwt_rs256(claims_at(now, exp=int(now) - 90), k1),
        "nbf in the future": pyjwt_rs256(claims_at(now, nbf=int(now) + 3600), k1),
        "nbf within the leeway": pyjwt_rs256(claims_at(now, nbf=int(now) + 30), k1),
        "iat in the future": pyjwt_rs256(claims_at(now, iat=int(now) + 3600), k1),
        "no exp": pyjwt_rs256(claims_at(now, exp=DROP), k1),
        "no iat": pyjwt_rs256(claims_at(now, iat=DROP), k1),
        "wrong audience": pyjwt_rs256(claims_at(now, aud="someone-else"), k1),
        "audience list without ours": pyjwt_rs256(claims_at(now, aud=["a", "b"]), k1),
        "audience of another case": pyjwt_rs256(claims_at(now, aud=AUD.upper()), k1),
        "no audience": pyjwt_rs256(claims_at(now, aud=DROP), k1),
        "malformed audience": pyjwt_rs256(claims_at(now, aud=[AUD, 1]), k1),
        "wrong issuer": pyjwt_rs256(claims_at(now, iss="https://token.actions.githubusercontent.com.evil"), k1),
        "issuer with a trailing slash": pyjwt_rs256(claims_at(now, iss=ISSUER + "/"), k1),
        "no issuer": pyjwt_rs256(claims_at(now, iss=DROP), k1),
        "wrong key": pyjwt_rs256(claims_at(now), foreign),
        "the other issuer key": pyjwt_rs256(claims_at(now), k2, kid="k1"),
        "alg none": pyjwt.encode(claims_at(now), None, algorithm="none", headers={"kid": "k1"}),
        "alg none, valid RS256 signature": hand_token({"alg": "none", "kid": "k1"}, claims_at(now), k1),
        "HS256 with the public key PEM": hs256_with_the_public_pem(claims_at(now), k1),
        "RS512 by the right key": pyjwt.encode(claims_at(now), k1, algorithm="RS512", headers={"kid": "k1"}),
        "PS256 by the right key": pyjwt.encode(claims_at(now), k1, algorithm="PS256", headers={"kid": "k1"}),
        "tampered payload": tampered_payload(good, repository="evil/repo"),
        "tampered header": b64u(json.dumps({"alg": "RS256", "kid": "k2", "typ": "JWT"}).encode()) + f".{body}.{sig}",
        "signature of another token": f"{head}.{body}." + pyjwt_rs256(claims_at(now, sub="x"), k1).split(".")[2],
        "no signature": f"{head}.{body}.",
        "truncated signature": f"{head}.{body}.{sig[:-4]}",
        "two segments": f"{head}.{body}",
        "four segments": f"{good}.{sig}",
        "empty": "",
        "dots only": "..",
        "bad characters": f"{head}.{body}.{sig[:-1]}*",
        "standard base64 alphabet": f"{head}.{body}.{sig.replace('-', '+').replace('_', '/')}"
        if "-" in sig or "_" in sig else f"{head}.{body}.{sig[:-1]}+",
        "header not base64": f"!!!.{body}.{sig}",
        "header not JSON": hand_token(b"not json", claims_at(now), k1),
        "header a JSON array": hand_token(b'["RS256"]', claims_at(now), k1),
        "payload not JSON": hand_token({"alg": "RS256", "kid": "k1"}, b"{'iss': 1}", k1),
        "payload not UTF-8": hand_token({"alg": "RS256", "kid": "k1"}, b'{"sub":"\xff"}', k1),
        "payload a JSON array": hand_token({"alg": "RS256", "kid": "k1"}, b"[1, 2]", k1),
        "missing kid": pyjwt_rs256(claims_at(now), k1, kid=None),
        "unknown kid": pyjwt_rs256(claims_at(now), k1, kid="k3"),
        "kid not a string": hand_token({"alg": "RS256", "kid": 1}, claims_at(now), k1),
        "exp a string": pyjwt_rs256(claims_at(now, exp="tomorrow"), k1),
        "exp NaN": hand_token(header, payload.replace(f'"exp":{int(now) + 300}', '"exp":NaN').encode(), k1),
        "exp and iat true": hand_token(header, claims_at(now, exp=True, iat=True), k1),
        "crit header": hand_token({**header, "crit": ["exp"]}, claims_at(now), k1),
        "second spelling of the signature": f"{head}.{body}.{sig[:-1]}{sibling}",
    }


def test_the_oracle_cases_agree_with_pyjwt(keys, jwks_doc, cache):
    now = time.time()
    accepted = set()
    for name, token in oracle_cases(keys, now).items():
        verdict = pyjwt_accepts(token, jwks_doc)
        assert ours_accepts(token, cache) is verdict, name
        if verdict:
            accepted.add(name)
    assert accepted == {"valid", "valid, second key", "valid, audience list", "valid, no nbf", "valid, float times",
                        "valid, no typ", "expired within the leeway", "nbf within the leeway"}


def test_leeway_zero_agrees_with_pyjwt(keys, jwks_doc, cache):
    now = time.time()
    for exp_offset in (-30, 30):
        token = pyjwt_rs256(claims_at(now, exp=int(now) + exp_offset), keys["k1"])
        assert ours_accepts(token, cache, leeway=0) is pyjwt_accepts(token, jwks_doc, leeway=0) is (exp_offset > 0)


def stricter_cases(keys: dict, now: float) -> dict[str, str]:
    k1 = keys["k1"]
    good = pyjwt_rs256(claims_at(now), k1)
    head, body, sig = good.split(".")
    header = {"alg": "RS256", "kid": "k1", "typ": "JWT"}
    payload = json.dumps(claims_at(now), separators=(",", ":"))
    return {
        "duplicate claim": hand_token(header, payload[:-1].encode() + b',"repository":"evil/repo"}', k1),
        "duplicate header member": hand_token(b'{"alg":"RS256","kid":"k2","kid":"k1"}', claims_at(now), k1),
        "padded signature": f"{head}.{body}.{sig}" + "=" * (-len(sig) % 4),
        "typ at+jwt": hand_token({**header, "typ": "at+jwt"}, claims_at(now), k1),
    }


def test_where_pyjwt_accepts_we_refuse_on_purpose(keys, jwks_doc, cache):
    now = time.time()
    for name, token in stricter_cases(keys, now).items():
        assert not ours_accepts(token, cache), name
        assert pyjwt_accepts(token, jwks_doc), name


# -- verify_token on its own -----------------------------------------------------------------------

def test_the_claims_come_back(keys, cache):
    claims = claims_at(NOW, run_id="42", head_ref="")
    assert verify_token(pyjwt_rs256(claims, keys["k1"]), cache, issuer=ISSUER, audience=AUD, now=NOW) == claims


@pytest.mark.parametrize(("changes", "error", "message"), [
    ({"exp": NOW - 61}, ExpiredToken, "expired"),
    ({"nbf": NOW + 61}, NotYetValid, "not valid yet"),
    ({"iat": NOW + 61}, NotYetValid, "issued in the future"),
    ({"exp": DROP}, InvalidToken, "'exp'"),
    ({"iat": DROP}, InvalidToken, "'iat'"),
    ({"iss": "https://example.com"}, InvalidToken, "issuer"),
    ({"aud": "x"}, InvalidToken, "audience"),
    ({"iat": False}, InvalidToken, "number"),
])
def test_claim_errors_name_the_problem(keys, cache, changes, error, message):
    token = hand_token({"alg": "RS256", "kid": "k1"}, claims_at(NOW, **changes), keys["k1"])
    with pytest.raises(error, match=message):
        verify_token(token, cache, issuer=ISSUER, audience=AUD, now=NOW)


def test_an_infinite_exp_is_refused(keys, cache):
    payload = json.dumps(claims_at(NOW, exp="INF")).replace('"INF"', "1e999").encode()
    with pytest.raises(InvalidToken, match="finite"):
        verify_token(hand_token({"alg": "RS256", "kid": "k1"}, payload, keys["k1"]), cache, issuer=ISSUER,
                     audience=AUD, now=NOW)


def test_leeway_boundaries(keys, cache):
    def ok(**changes) -> bool:
        token = pyjwt_rs256(claims_at(NOW, **changes), keys["k1"])
        try:
            verify_token(token, cache, issuer=ISSUER, audience=AUD, leeway_s=60, now=NOW)
        except InvalidToken:
            return False
        return True

    assert ok(exp=NOW - 59) and not ok(exp=NOW - 60)  # exp is exclusive, as in PyJWT
    assert ok(nbf=NOW + 60) and not ok(nbf=NOW + 61)
    assert ok(iat=NOW + 60) and not ok(iat=NOW + 61)


@pytest.fixture
def no_key_work(monkeypatch):
    """Fails the test on any fetch or RSA operation."""
    def forbidden(*args, **kwargs):
        raise AssertionError("key work done for a token that was already refused")
    monkeypatch.setattr(oidc, "verify_pkcs1v15_sha256", forbidden)
    return JwksCache(forbidden, ISSUER)


@pytest.mark.parametrize("alg", ["none", "None", "HS256", "RS384", "RS512", "PS256", "ES256", "rs256", "RS256 ", "",
                                 None, 256, ["RS256"]])
def test_any_other_alg_is_refused_before_key_work(keys, no_key_work, alg):
    header = {"kid": "k1"} if alg is None else {"alg": alg, "kid": "k1"}
    for private in (keys["k1"], None):
        with pytest.raises(InvalidToken, match="algorithm must be RS256"):
            verify_token(hand_token(header, claims_at(NOW), private), no_key_work, issuer=ISSUER, audience=AUD,
                         now=NOW)


@pytest.mark.parametrize("header", [{"alg": "RS256"}, {"alg": "RS256", "kid": ""}, {"alg": "RS256", "kid": ["k1"]}])
def test_a_missing_kid_is_refused_before_key_work(keys, no_key_work, header):
    with pytest.raises(InvalidToken, match="key id"):
        verify_token(hand_token(header, claims_at(NOW), keys["k1"]), no_key_work, issuer=ISSUER, audience=AUD,
                     now=NOW)


def test_malformed_segments_are_refused_before_key_work(keys, no_key_work):
    head, body, sig = pyjwt_rs256(claims_at(NOW), keys["k1"]).split(".")
    for token in (f"{head}.{body}=.{sig}", f"{head}.{body}.{sig}=", f"{head}.{body}.{sig} "):
        with pytest.raises(InvalidToken, match="base64url"):
            verify_token(token, no_key_work, issuer=ISSUER, audience=AUD, now=NOW)


def test_overlong_tokens_are_refused_before_parsing(keys, cache):
    near = pyjwt_rs256(claims_at(NOW, pad="x" * 11_000), keys["k1"])
    assert 15_000 < len(near) <= oidc.MAX_TOKEN_LENGTH
    assert verify_token(near, cache, issuer=ISSUER, audience=AUD, now=NOW)["pad"]
    over = pyjwt_rs256(claims_at(NOW, pad="x" * 13_000), keys["k1"])
    with pytest.raises(InvalidToken, match="too long"):
        verify_token(over, cache, issuer=ISSUER, audience=AUD, now=NOW)


@pytest.mark.parametrize("token", [None, b"a.b.c", 1])
def test_a_token_that_is_not_a_string_is_refused(cache, token):
    with pytest.raises(InvalidToken, match="string"):
        verify_token(token, cache, issuer=ISSUER, audience=AUD, now=NOW)


def test_unknown_kid_refetches_then_refuses(keys, fetch, cache, clock):
    assert verify_token(pyjwt_rs256(claims_at(NOW), keys["k1"]), cache, issuer=ISSUER, audience=AUD, now=NOW)
    assert fetch.jwks_calls == 1
    clock.t += 60
    token = pyjwt_rs256(claims_at(NOW), keys["foreign"], kid="k3")
    with pytest.raises(InvalidToken, match="signing key is unknown"):
        verify_token(token, cache, issuer=ISSUER, audience=AUD, now=NOW)
    assert fetch.jwks_calls == 2  # refetched: the issuer might have rotated
    fetch.docs[JWKS_URI] = {"keys": fetch.docs[JWKS_URI]["keys"] + [jwk_of(keys["foreign"], "k3")]}
    clock.t += 59
    with pytest.raises(InvalidToken, match="signing key is unknown"):  # within min_refetch_s: no fetch
        verify_token(token, cache, issuer=ISSUER, audience=AUD, now=NOW)
    assert fetch.jwks_calls == 2
    clock.t += 1
    assert verify_token(token, cache, issuer=ISSUER, audience=AUD, now=NOW)["iss"] == ISSUER  # rotated in
    assert fetch.jwks_calls == 3


def test_messages_are_client_safe(keys, cache):
    # No key material, token bytes or internal detail in any refusal.
    now = time.time()
    for name, token in {**oracle_cases(keys, now), **stricter_cases(keys, now)}.items():
        try:
            verify_token(token, cache, issuer=ISSUER, audience=AUD)
        except InvalidToken as exc:
            assert exc.message == str(exc) and exc.message.startswith("token ") and len(exc.message) < 80, name
            assert "k1" not in exc.message and "Error" not in exc.message, name


def test_programming_errors_are_value_errors(cache):
    with pytest.raises(ValueError, match="not 'https://example.com'"):
        verify_token("a.b.c", cache, issuer="https://example.com", audience=AUD)
    for audience in ("", None):
        with pytest.raises(ValueError, match="audience"):
            verify_token("a.b.c", cache, issuer=ISSUER, audience=audience)
    with pytest.raises(ValueError, match="leeway"):
        verify_token("a.b.c", cache, issuer=ISSUER, audience=AUD, leeway_s=-1)


# -- JwksCache -------------------------------------------------------------------------------------

def test_nothing_is_fetched_until_a_key_is_wanted(fetch, cache, keys):
    assert fetch.calls == [] and cache.kids() == []
    assert cache.key("k1") == key_of(keys["k1"])
    assert fetch.calls == [DISCOVERY, JWKS_URI]
    assert cache.kids() == ["k1", "k2"]


def test_keys_are_cached_for_the_ttl(fetch, cache, clock, keys):
    for _ in range(5):
        assert cache.key("k1") == key_of(keys["k1"]) and cache.key("k2") == key_of(keys["k2"])
    assert fetch.jwks_calls == 1
    clock.t += 3599
    cache.key("k1")
    assert fetch.jwks_calls == 1
    clock.t += 1
    cache.key("k1")
    assert fetch.jwks_calls == 2


def test_a_rotated_key_is_found_by_refetching(fetch, cache, clock, keys):
    assert cache.key("k1") is not None
    fetch.docs[JWKS_URI] = {"keys": [jwk_of(keys["k2"], "k2"), jwk_of(keys["foreign"], "k9")]}
    clock.t += 61
    assert cache.key("k9") == key_of(keys["foreign"])
    assert fetch.jwks_calls == 2
    assert cache.key("k1") is None  # withdrawn by the issuer: gone, and no refetch within the interval
    assert fetch.jwks_calls == 2


def test_unknown_kids_refetch_at_most_once_per_interval(fetch, cache, clock):
    cache.key("k1")
    for i in range(100):  # the keys were fetched just now: no refetch
        assert cache.key(f"made-up-{i}") is None
    assert fetch.jwks_calls == 1
    clock.t += 59
    assert cache.key("made-up-x") is None and fetch.jwks_calls == 1
    clock.t += 1
    for i in range(100):  # one refetch for the first unknown kid of the interval, none for the rest
        assert cache.key(f"made-up-again-{i}") is None
    assert fetch.jwks_calls == 2
    assert cache.key("k1") is not None and fetch.jwks_calls == 2
    clock.t += 60
    assert cache.key("k1") is not None and fetch.jwks_calls == 2  # known kids never refetch before the TTL


def test_min_refetch_and_ttl_are_configurable(fetch, clock):
    cache = JwksCache(fetch, ISSUER, clock=clock, ttl_s=10, min_refetch_s=0)
    cache.key("nope")
    cache.key("nope")
    assert fetch.jwks_calls == 2
    for bad in ({"ttl_s": 0}, {"min_refetch_s": -1}):
        with pytest.raises(ValueError):
            JwksCache(fetch, ISSUER, **bad)


def test_a_failed_refresh_keeps_the_keys_and_is_rate_limited(fetch, cache, clock, keys):
    assert cache.key("k1") is not None
    fetch.docs[JWKS_URI] = OSError("connection refused")
    clock.t += 3600
    assert cache.key("k1") == key_of(keys["k1"])  # stale but kept: the issuer's outage is not ours
    assert cache.last_error == "OSError: connection refused"
    assert cache.key("k1") is not None and cache.key("k3") is None
    assert fetch.jwks_calls == 2  # no retry within min_refetch_s
    fetch.docs[JWKS_URI] = {"keys": [jwk_of(keys["k2"], "k2")]}
    clock.t += 60
    assert cache.key("k1") is None and cache.key("k2") is not None and cache.last_error is None


def test_keys_held_a_day_without_a_successful_refresh_are_dropped(fetch, cache, clock, keys):
    assert cache.key("k1") is not None
    fetch.docs[JWKS_URI] = OSError("connection refused")
    clock.t += 86399
    assert cache.key("k1") == key_of(keys["k1"])  # still within the day: kept
    clock.t += 1
    assert cache.key("k1") is None and cache.key("k2") is None and cache.kids() == []
    assert cache.last_error == "OSError: connection refused"
    fetch.docs[JWKS_URI] = {"keys": [jwk_of(keys["k1"], "k1")]}
    clock.t += 60
    assert cache.key("k1") == key_of(keys["k1"]) and cache.last_error is None  # back once the issuer answers


def test_max_stale_is_configurable_but_not_below_the_ttl(fetch, clock):
    cache = JwksCache(fetch, ISSUER, clock=clock, ttl_s=10, min_refetch_s=0, max_stale_s=30)
    assert cache.key("k1") is not None
    fetch.docs[JWKS_URI] = OSError("down")
    clock.t += 29
    assert cache.key("k1") is not None
    clock.t += 1
    assert cache.key("k1") is None
    with pytest.raises(ValueError, match="max_stale_s"):
        JwksCache(fetch, ISSUER, ttl_s=100, max_stale_s=99)


@pytest.mark.parametrize("jwks", [None, [], "keys", 1, {}, {"keys": None}, {"keys": "x"}, {"keys": {"k1": {}}},
                                  {"keys": [1, "a", None, [], {}]}, {"keys": [{"kty": "RSA", "kid": "k1"}]}])
def test_a_malformed_jwks_gives_no_keys(jwks, clock):
    cache = JwksCache(FakeFetch(jwks), ISSUER, clock=clock)
    assert cache.key("k1") is None and cache.kids() == []


@pytest.mark.parametrize("config", [
    None, [], {}, {"issuer": ISSUER}, {"issuer": ISSUER, "jwks_uri": None},
    {"issuer": ISSUER + "/", "jwks_uri": JWKS_URI},  # must name exactly this issuer
    {"issuer": "https://evil.example", "jwks_uri": JWKS_URI},
    {"issuer": ISSUER, "jwks_uri": "http://token.actions.githubusercontent.com/.well-known/jwks"},
    {"issuer": ISSUER, "jwks_uri": "ftp://example.com/jwks"},
    {"issuer": ISSUER, "jwks_uri": "/.well-known/jwks"},
])
def test_a_bad_discovery_document_gives_no_keys(jwks_doc, clock, config):
    fetch = FakeFetch(jwks_doc, config=config)
    cache = JwksCache(fetch, ISSUER, clock=clock)
    assert cache.key("k1") is None
    assert cache.last_error and JWKS_URI not in fetch.calls


def test_fetch_errors_of_any_kind_give_no_keys(jwks_doc, clock):
    for error in (ValueError("not JSON"), OSError("timeout"), RuntimeError("boom"), KeyError("x")):
        fetch = FakeFetch(jwks_doc)
        fetch.docs[DISCOVERY] = error
        cache = JwksCache(fetch, ISSUER, clock=clock)
        assert cache.key("k1") is None and type(error).__name__ in cache.last_error


def test_keys_that_are_not_rs256_rsa_are_skipped(keys, clock):
    ec_numbers = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    good = jwk_of(keys["k1"], "good")
    jwks = {"keys": [
        {"kty": "EC", "crv": "P-256", "kid": "ec", "x": b64u_int(ec_numbers.x), "y": b64u_int(ec_numbers.y)},
        {"kty": "oct", "kid": "oct", "k": "c2VjcmV0"},
        jwk_of(keys["k2"], "enc", use="enc"),
        jwk_of(keys["k2"], "rs512", alg="RS512"),
        {**jwk_of(keys["k2"], "bad-n"), "n": "AQAB="},
        {**jwk_of(keys["k2"], "small"), "n": b64u_int((1 << 1023) | 1)},
        jwk_of(keys["k2"], ""),
        {**jwk_of(keys["k2"], "x"), "kid": 7},
        good,
    ]}
    cache = JwksCache(FakeFetch(jwks), ISSUER, clock=clock)
    assert cache.key("good") == key_of(keys["k1"])
    assert cache.kids() == ["good"]


def test_a_kid_that_names_two_keys_names_neither(keys, clock):
    jwks = {"keys": [jwk_of(keys["k1"], "dup"), jwk_of(keys["k2"], "dup"), jwk_of(keys["k2"], "k2")]}
    cache = JwksCache(FakeFetch(jwks), ISSUER, clock=clock)
    assert cache.kids() == [] and cache.key("dup") is None and cache.kids() == ["k2"]


def test_the_issuer_trailing_slash_is_not_doubled(jwks_doc, clock):
    fetch = FakeFetch(jwks_doc, config={"issuer": ISSUER + "/", "jwks_uri": JWKS_URI})
    cache = JwksCache(fetch, ISSUER + "/", clock=clock)
    assert cache.key("k1") is not None and fetch.calls[0] == DISCOVERY


@pytest.mark.parametrize("url", [
    ISSUER, "https://example.com/path/tenant", "https://example.com:8443", "http://127.0.0.1:8080",
    "http://localhost:1", "http://LOCALHOST", "http://[::1]:9000/x", "http://127.0.0.1",
])
def test_issuers_that_are_https_or_loopback_http(url):
    assert check_url(url, "issuer", query=False) == url
    assert JwksCache(lambda u: None, url).issuer == url


@pytest.mark.parametrize("url", [
    "http://token.actions.githubusercontent.com", "http://example.com", "http://127.0.0.2", "http://127.0.0.1.nip.io",
    "http://localhost.evil.com", "http://127.0.0.1@evil.com", "https://user:pw@example.com", "http://[::2]:80",
    "http://[::1", "http://[::1]x", "ftp://example.com", "HTTPS://example.com", "//example.com", "example.com",
    "https://", "https://:443", "https://example.com:", "https://example.com:0", "https://example.com:99999",
    "https://example.com:x", "https://example.com/#frag", "https://example.com?x=1", "https://exa mple.com",
    "https://example.com\n", "https://exämple.com", "", None, 1,
])
def test_other_issuers_are_refused(url):
    with pytest.raises(ValueError):
        check_url(url, "issuer", query=False)
    with pytest.raises(ValueError):
        JwksCache(lambda u: None, url)


def test_a_jwks_uri_may_have_a_query():
    assert check_url("https://example.com/jwks?v=2", "jwks_uri")


def test_upstream_fetch_wants_a_2xx_json_answer():
    from lambdasmith.kit.http.upstream import UpstreamResponse

    class Client:
        def __init__(self, response):
            self.response, self.requests = response, []

        def get(self, url, headers=None):
            self.requests.append((url, headers))
            return self.response

    ok = Client(UpstreamResponse(200, {}, b'{"keys": []}'))
    assert upstream_fetch(ok)("https://x/jwks") == {"keys": []}
    assert ok.requests == [("https://x/jwks", {"Accept": "application/json"})]
    with pytest.raises(ValueError, match="HTTP 404"):
        upstream_fetch(Client(UpstreamResponse(404, {}, b"{}")))("https://x/jwks")
    with pytest.raises(ValueError):
        upstream_fetch(Client(UpstreamResponse(200, {}, b"<html>")))("https://x/jwks")
