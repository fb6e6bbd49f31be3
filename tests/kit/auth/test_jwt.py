"""HS256 JWTs: interoperable with PyJWT both ways, and every malformed, tampered or confused token
refused with InvalidToken. Time is injected (`now=`), never read from the clock."""

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import types

import jwt as pyjwt
import pytest

from lambdasmith.kit.auth import jwt as ourjwt
from lambdasmith.kit.auth.jwt import ExpiredToken, InvalidToken, NotYetValid, decode, encode, user_id

SECRET = "test-secret-0123456789-abcdefghijklmnop"  # ≥ 32 bytes: PyJWT warns on shorter HMAC keys
BYTES_SECRET = bytes(range(256))[::7] + b"\xff\x00\xfe-not-utf8"
NOW = 1_700_000_000
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
NO_TIME_CHECKS = {"verify_exp": False, "verify_nbf": False, "verify_iat": False}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def hand_sign(header: bytes | dict, payload: bytes | dict | list, secret: str | bytes = SECRET,
              digest=hashlib.sha256) -> str:
    """A token built without either implementation: raw JSON bytes in, stdlib HMAC signature."""
    if not isinstance(header, bytes):
        header = json.dumps(header, separators=(",", ":")).encode()
    if not isinstance(payload, bytes):
        payload = json.dumps(payload, separators=(",", ":")).encode()
    key = secret.encode() if isinstance(secret, str) else secret
    signing_input = b64url(header) + "." + b64url(payload)
    return signing_input + "." + b64url(hmac.new(key, signing_input.encode(), digest).digest())


def resign(token: str, secret: str | bytes = SECRET) -> str:
    """Recompute a token's HS256 signature (keeps header and payload exactly as they are)."""
    head, body, _ = token.split(".")
    return hand_sign(b64url_decode(head), b64url_decode(body), secret)


GOOD_HEADER = {"alg": "HS256", "typ": "JWT"}
GOOD_CLAIMS = {"sub": "user-1", "exp": NOW + 3600, "iat": NOW, "nbf": NOW, "iss": "https://issuer.example",
               "aud": "api", "name": "Zoë 🚀"}


# -- interoperability with PyJWT -------------------------------------------------------------------

INTEROP_CASES = [
    pytest.param({"sub": "u1", "exp": NOW + 60}, SECRET, {}, id="exp-only"),
    pytest.param({"sub": "u1", "exp": NOW + 60, "nbf": NOW - 5, "iat": NOW - 5}, SECRET, {}, id="exp-nbf-iat"),
    pytest.param({"exp": NOW + 60, "iss": "https://issuer.example"}, SECRET, {"issuer": "https://issuer.example"},
                 id="iss"),
    pytest.param({"exp": NOW + 60, "aud": "api"}, SECRET, {"audience": "api"}, id="aud-string"),
    pytest.param({"exp": NOW + 60, "aud": ["web", "api"]}, SECRET, {"audience": "api"}, id="aud-list"),
    pytest.param({"exp": NOW + 60.5, "sub": "u1"}, BYTES_SECRET, {}, id="bytes-secret-float-exp"),
    pytest.param({"exp": NOW + 60, "name": "Zoë 🚀", "sub": "ユーザー", "tags": ["ä", {"ö": None}]},
                 "sécret-ünïcode-key-0123456789-abcdef", {}, id="unicode-claims-and-secret"),
]


@pytest.mark.parametrize(("claims", "secret", "checks"), INTEROP_CASES)
def test_tokens_minted_by_pyjwt_decode(claims, secret, checks):
    token = pyjwt.encode(claims, secret, algorithm="HS256")
    assert decode(token, secret, now=NOW, **checks) == claims


@pytest.mark.parametrize(("claims", "secret", "checks"), INTEROP_CASES)
def test_our_tokens_decode_with_pyjwt(claims, secret, checks):
    token = encode(claims, secret)
    # PyJWT reads the wall clock; the time claims are checked by our own tests with `now` injected.
    got = pyjwt.decode(token, secret, algorithms=["HS256"], options=NO_TIME_CHECKS, **checks)
    assert got == claims


@pytest.mark.parametrize(("claims", "headers"), [
    ({"sub": "u1", "exp": NOW + 60}, None),
    ({"exp": NOW + 60, "name": "Zoë 🚀", "nested": {"b": [1, 2.5, True, None], "a": "x"}}, None),
    ({"z": 1, "a": 2, "exp": NOW}, {"kid": "key-2024"}),
    ({"exp": NOW}, {"kid": "k1", "x-custom": ["a", "b"], "typ": "JWT"}),
])
@pytest.mark.parametrize("secret", [SECRET, BYTES_SECRET])
def test_our_tokens_are_byte_for_byte_pyjwts(claims, headers, secret):
    assert encode(claims, secret, headers=headers) == pyjwt.encode(claims, secret, algorithm="HS256",
                                                                    headers=headers)


def test_a_token_without_typ_interoperates():
    theirs = pyjwt.encode({"exp": NOW + 60}, SECRET, algorithm="HS256", headers={"typ": None})
    ours = encode({"exp": NOW + 60}, SECRET, headers={"typ": None})
    assert ours == theirs
    assert json.loads(b64url_decode(ours.split(".")[0])) == {"alg": "HS256"}
    assert decode(theirs, SECRET, now=NOW) == {"exp": NOW + 60}


def test_header_and_claims_are_compact_json():
    token = encode({"b": 1, "a": [1, 2]}, SECRET, headers={"kid": "k"})
    head, body, sig = token.split(".")
    assert b64url_decode(head) == b'{"alg":"HS256","kid":"k","typ":"JWT"}'
    assert b64url_decode(body) == b'{"b":1,"a":[1,2]}'
    assert "=" not in token and len(b64url_decode(sig)) == 32


# -- tampering -------------------------------------------------------------------------------------

def good_token(**extra) -> str:
    return encode({**GOOD_CLAIMS, **extra}, SECRET)


def test_the_untampered_token_is_accepted():
    # The control for every tampering test below: the same token, unchanged, decodes.
    assert decode(good_token(), SECRET, now=NOW, issuer="https://issuer.example", audience="api") == GOOD_CLAIMS


def test_every_character_replaced_is_refused():
    token = good_token()
    assert len(token) < 400  # bounds the loop
    for i, ch in enumerate(token):
        if ch == ".":
            continue
        for step in (1, 32):  # a neighbour (often only low bits differ) and a far character
            other = ALPHABET[(ALPHABET.index(ch) + step) % 64]
            tampered = token[:i] + other + token[i + 1:]
            with pytest.raises(InvalidToken):
                decode(tampered, SECRET, now=NOW)


def test_every_decoded_byte_flipped_is_refused():
    # Flip a bit in the decoded bytes and re-encode canonically: valid base64url, changed content.
    token = good_token()
    segments = token.split(".")
    for s, segment in enumerate(segments):
        raw = b64url_decode(segment)
        for i in range(len(raw)):
            for bit in (0x01, 0x80):
                flipped = raw[:i] + bytes([raw[i] ^ bit]) + raw[i + 1:]
                tampered = ".".join(b64url(flipped) if k == s else seg for k, seg in enumerate(segments))
                with pytest.raises(InvalidToken):
                    decode(tampered, SECRET, now=NOW)


def test_a_second_spelling_of_the_signature_is_refused():
    # 32 bytes take 43 characters whose last carries 2 unused bits: a lenient decoder reads the
    # altered spelling as the very same signature.
    token = good_token()
    head, body, sig = token.split(".")
    last = ALPHABET.index(sig[-1])
    twin = sig[:-1] + ALPHABET[last ^ 0b0001]
    assert twin != sig and b64url_decode(twin) == b64url_decode(sig)
    with pytest.raises(InvalidToken, match="canonical"):
        decode(f"{head}.{body}.{twin}", SECRET, now=NOW)


def test_wrong_secret_is_refused():
    with pytest.raises(InvalidToken, match="signature"):
        decode(good_token(), SECRET + "x", now=NOW)
    with pytest.raises(InvalidToken, match="signature"):
        decode(pyjwt.encode({"exp": NOW + 60}, SECRET, algorithm="HS256"), BYTES_SECRET, now=NOW)


def test_stripped_or_truncated_signature_is_refused():
    head, body, sig = good_token().split(".")
    for token in (f"{head}.{body}.", f"{head}.{body}", f"{head}.{body}.{sig[:-1]}", f"{head}.{body}.{sig[:-4]}"):
        with pytest.raises(InvalidToken):
            decode(token, SECRET, now=NOW)


@pytest.fixture
def no_signature_work(monkeypatch):
    """Makes any HMAC computation in the module fail the test."""
    def forbidden(key, msg):
        raise AssertionError("signature work done for a token whose algorithm was already wrong")
    monkeypatch.setattr(ourjwt, "hmac_sha256", forbidden)


@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE", "hs256", "HS384", "HS512", "RS256", "ES256",
                                 "PS256", "EdDSA", "", "HS256 ", None, 256, ["HS256"]])
def test_any_other_alg_is_refused_before_signature_work(alg, no_signature_work):
    header = {"typ": "JWT"} if alg is None else {"alg": alg, "typ": "JWT"}
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps({"exp": NOW + 60}).encode())
    for sig in ("", b64url(b"\0" * 32)):
        with pytest.raises(InvalidToken, match="algorithm"):
            decode(f"{head}.{body}.{sig}", SECRET, now=NOW)


def test_alg_none_with_empty_signature_is_refused():
    token = b64url(b'{"alg":"none","typ":"JWT"}') + "." + b64url(b'{"sub":"admin","exp":1800000000}') + "."
    with pytest.raises(InvalidToken, match="algorithm"):
        decode(token, SECRET, now=NOW)


def test_hs512_with_a_valid_hs512_signature_is_refused(no_signature_work):
    token = pyjwt.encode({"sub": "u1", "exp": NOW + 60}, SECRET + SECRET, algorithm="HS512")
    assert pyjwt.decode(token, SECRET + SECRET, algorithms=["HS512"], options=NO_TIME_CHECKS)["sub"] == "u1"
    with pytest.raises(InvalidToken, match="algorithm"):
        decode(token, SECRET + SECRET, now=NOW)


@pytest.fixture(scope="module")
def rsa_public_pem():
    serialization = pytest.importorskip("cryptography.hazmat.primitives.serialization")
    rsa = pytest.importorskip("cryptography.hazmat.primitives.asymmetric.rsa")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return private, public


def test_a_real_rs256_token_is_refused_even_with_the_public_key_as_secret(rsa_public_pem, no_signature_work):
    private, public = rsa_public_pem
    token = pyjwt.encode({"sub": "u1", "exp": NOW + 60}, private, algorithm="RS256")
    with pytest.raises(InvalidToken, match="algorithm"):
        decode(token, public, now=NOW)


PUBLIC_KEY_TEXT = ("-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAu1SU1LfVLPHCozMxH2Mo\n"
                   "4lgOEePzNm0tRgeLezV6ffAt0gunVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u\n-----END PUBLIC KEY-----\n")


def test_rs_hs_key_confusion_is_refused():
    # The classic attack: the verifier's RSA public key is public, so an attacker HMACs with it and
    # labels the token RS256 (or HS256) hoping the key is used as an HMAC secret.
    claims = {"sub": "admin", "exp": NOW + 60}
    confused = hand_sign({"alg": "RS256", "typ": "JWT"}, claims, PUBLIC_KEY_TEXT)
    with pytest.raises(InvalidToken, match="algorithm"):
        decode(confused, PUBLIC_KEY_TEXT, now=NOW)
    # Control: the very same signature scheme under an HS256 label is a valid token for that key,
    # so the refusal above comes from the algorithm check, not from a broken signature.
    assert decode(hand_sign(GOOD_HEADER, claims, PUBLIC_KEY_TEXT), PUBLIC_KEY_TEXT, now=NOW) == claims


def test_hand_built_tokens_decode_when_well_formed():
    # Control for the hand-built refusals below: hand_sign makes valid tokens.
    assert decode(hand_sign(GOOD_HEADER, {"exp": NOW + 1}), SECRET, now=NOW) == {"exp": NOW + 1}


@pytest.mark.parametrize("header", [
    b"[]", b'"HS256"', b"null", b"{", b"", b'{"alg":"HS256"} x', b"\xef\xbb\xbf{\"alg\":\"HS256\"}",
    b'{"alg":"HS256","alg":"HS256"}', b'{"alg":"none","alg":"HS256"}', b'{"alg":"HS256","typ":"JWT","typ":"JWT"}',
    '{"alg":"HS256"}'.encode("utf-16"), b'{"alg":"HS256","x":"\xff"}',
])
def test_header_that_is_not_one_json_object_is_refused(header):
    with pytest.raises(InvalidToken, match="header"):
        decode(hand_sign(header, {"exp": NOW + 60}), SECRET, now=NOW)


@pytest.mark.parametrize("typ", ["JWT", "jwt", "Jwt"])
def test_typ_jwt_in_any_case_is_accepted(typ):
    assert decode(hand_sign({"alg": "HS256", "typ": typ}, {"exp": NOW + 60}), SECRET, now=NOW)


@pytest.mark.parametrize("typ", ["at+jwt", "JOSE", "JWS", "", None, 1, ["JWT"]])
def test_other_typ_is_refused(typ):
    with pytest.raises(InvalidToken, match="type"):
        decode(hand_sign({"alg": "HS256", "typ": typ}, {"exp": NOW + 60}), SECRET, now=NOW)


@pytest.mark.parametrize("crit", [["exp"], [], ["b64"], None])
def test_crit_header_is_refused(crit):
    token = hand_sign({"alg": "HS256", "crit": crit, "b64": True}, {"exp": NOW + 60})
    with pytest.raises(InvalidToken, match="critical"):
        decode(token, SECRET, now=NOW)


def test_other_header_fields_are_allowed():
    token = encode({"exp": NOW + 60}, SECRET, headers={"kid": "k1", "cty": "x"})
    assert decode(token, SECRET, now=NOW) == {"exp": NOW + 60}


@pytest.mark.parametrize("payload", [
    b"[]", b'[{"exp":1800000000}]', b'"claims"', b"1800000000", b"null", b"", b"{", b'{"exp":1800000000}{}',
    b'{"sub":"a","sub":"b","exp":1800000000}', b'{"exp":NaN}', b'{"exp":Infinity}', b'{"exp":-Infinity}',
    b'{"exp":1800000000,"n":"\xc3"}', '{"exp":1800000000}'.encode("utf-16"), b'{"exp":1800000000,"a":' + b"[" * 2500 + b"]" * 2500 + b"}",
])
def test_payload_that_is_not_one_json_object_is_refused(payload):
    with pytest.raises(InvalidToken, match="payload"):
        decode(hand_sign(GOOD_HEADER, payload), SECRET, now=NOW)


def test_extra_or_missing_segments_are_refused():
    token = good_token()
    head, body, sig = token.split(".")
    for bad in (token + ".", token + "." + sig, f"{head}.{body}.{sig}.{sig}", f"{head}.{sig}", head, "", "..",
                "...", f".{body}.{sig}", f"{head}..{sig}"):
        with pytest.raises(InvalidToken):
            decode(bad, SECRET, now=NOW)


def test_padding_is_refused():
    token = hand_sign(GOOD_HEADER, {"exp": NOW + 60, "x": "ab"})
    segments = token.split(".")
    assert decode(token, SECRET, now=NOW)
    for s, segment in enumerate(segments):
        for pad in ("=" * (-len(segment) % 4) or "====", "=", "=="):
            padded = ".".join(seg + pad if k == s else seg for k, seg in enumerate(segments))
            with pytest.raises(InvalidToken):
                decode(padded, SECRET, now=NOW)


@pytest.mark.parametrize("mangle", [
    lambda t: " " + t, lambda t: t + " ", lambda t: t + "\n", lambda t: "\t" + t, lambda t: "Bearer " + t,
    lambda t: t[:10] + " " + t[10:], lambda t: t[:10] + "\n" + t[10:], lambda t: t.replace("-", "+").replace("_", "/"),
    lambda t: t[:5] + "é" + t[6:], lambda t: t[:5] + "\0" + t[6:], lambda t: t[:5] + "\u0410" + t[6:],
])
def test_whitespace_and_foreign_characters_are_refused(mangle):
    token = encode({"exp": NOW + 60, "k": "~~~???>>>"}, SECRET)  # JSON whose base64 has '-' and '_'
    assert "-" in token or "_" in token
    assert mangle(token) != token
    with pytest.raises(InvalidToken):
        decode(mangle(token), SECRET, now=NOW)


def test_overlong_tokens_are_refused_before_parsing():
    near = encode({"exp": NOW + 60, "pad": "x" * 5900}, SECRET)
    assert 7900 < len(near) <= ourjwt.MAX_TOKEN_LENGTH
    assert decode(near, SECRET, now=NOW)["pad"] == "x" * 5900
    over = encode({"exp": NOW + 60, "pad": "x" * 6200}, SECRET)
    assert len(over) > ourjwt.MAX_TOKEN_LENGTH
    with pytest.raises(InvalidToken, match="too long"):
        decode(over, SECRET, now=NOW)


@pytest.mark.parametrize("token", [None, b"a.b.c", 123, ["a", "b", "c"]])
def test_a_token_that_is_not_a_string_is_refused(token):
    with pytest.raises(InvalidToken):
        decode(token, SECRET, now=NOW)


# -- time claims (now and leeway injected) ---------------------------------------------------------

def test_expiry_within_leeway_is_accepted_and_beyond_is_refused():
    token = encode({"exp": NOW - 100}, SECRET)
    assert decode(token, SECRET, now=NOW) == {"exp": NOW - 100}  # default leeway 120 s
    with pytest.raises(ExpiredToken, match="expired"):
        decode(token, SECRET, now=NOW + 21)
    with pytest.raises(ExpiredToken):
        decode(token, SECRET, now=NOW, leeway_s=99)
    assert decode(token, SECRET, now=NOW, leeway_s=101)


def test_expiry_boundary_is_exclusive():
    token = encode({"exp": NOW}, SECRET)
    assert decode(token, SECRET, now=NOW - 0.001, leeway_s=0)
    with pytest.raises(ExpiredToken):
        decode(token, SECRET, now=NOW, leeway_s=0)
    with pytest.raises(ExpiredToken):
        decode(token, SECRET, now=NOW + 120)  # exp == now - leeway is expired
    assert decode(token, SECRET, now=NOW + 119.5)


def test_not_before_in_the_future_beyond_leeway_is_refused():
    token = encode({"exp": NOW + 3600, "nbf": NOW + 121}, SECRET)
    with pytest.raises(NotYetValid, match="not valid yet"):
        decode(token, SECRET, now=NOW)
    assert decode(token, SECRET, now=NOW + 1)  # now nbf is 120 s ahead: within the leeway
    with pytest.raises(NotYetValid):
        decode(token, SECRET, now=NOW + 1, leeway_s=0)


def test_issued_in_the_future_beyond_leeway_is_refused():
    token = encode({"exp": NOW + 3600, "iat": NOW + 121}, SECRET)
    with pytest.raises(NotYetValid, match="issued in the future"):
        decode(token, SECRET, now=NOW)
    assert decode(token, SECRET, now=NOW + 1)


def test_time_errors_are_invalid_tokens():
    assert issubclass(ExpiredToken, InvalidToken) and issubclass(NotYetValid, InvalidToken)


@pytest.mark.parametrize("claim", ["exp", "nbf", "iat"])
@pytest.mark.parametrize("value", ["1800000000", True, False, None, [NOW + 60], {"t": NOW + 60}])
def test_non_numeric_time_claims_are_refused(claim, value):
    claims = {"exp": NOW + 60, claim: value}
    with pytest.raises(InvalidToken, match=f"'{claim}' claim must be a number"):
        decode(encode(claims, SECRET), SECRET, now=NOW)


@pytest.mark.parametrize("raw", [b'{"exp":1e999}', b'{"exp":1800000000,"nbf":-1e999}'])
def test_infinite_time_claims_are_refused(raw):
    with pytest.raises(InvalidToken, match="finite"):
        decode(hand_sign(GOOD_HEADER, raw), SECRET, now=NOW)


def test_float_and_big_int_time_claims_are_numbers():
    assert decode(encode({"exp": NOW + 0.5, "iat": float(NOW)}, SECRET), SECRET, now=NOW, leeway_s=0)
    assert decode(encode({"exp": 10**30}, SECRET), SECRET, now=NOW)["exp"] == 10**30


def test_exp_is_required_by_default():
    token = encode({"sub": "u1"}, SECRET)
    with pytest.raises(InvalidToken, match="'exp'"):
        decode(token, SECRET, now=NOW)
    assert decode(token, SECRET, now=NOW, require=()) == {"sub": "u1"}
    with pytest.raises(InvalidToken, match="'iat'"):
        decode(encode({"exp": NOW + 60}, SECRET), SECRET, now=NOW, require=("exp", "iat"))


def test_now_defaults_to_the_wall_clock(monkeypatch):
    monkeypatch.setattr(ourjwt, "time", types.SimpleNamespace(time=lambda: NOW + 1000))
    token = encode({"exp": NOW + 60}, SECRET)
    with pytest.raises(ExpiredToken):
        decode(token, SECRET)
    monkeypatch.setattr(ourjwt, "time", types.SimpleNamespace(time=lambda: NOW))
    assert decode(token, SECRET) == {"exp": NOW + 60}


def test_negative_leeway_is_a_programming_error():
    with pytest.raises(ValueError):
        decode(good_token(), SECRET, now=NOW, leeway_s=-1)


# -- issuer and audience ---------------------------------------------------------------------------

def test_issuer_must_match_when_configured():
    token = good_token()
    assert decode(token, SECRET, now=NOW, issuer="https://issuer.example")
    for issuer in ("https://other.example", "https://issuer.example/", "HTTPS://ISSUER.EXAMPLE", ""):
        with pytest.raises(InvalidToken, match="issuer"):
            decode(token, SECRET, now=NOW, issuer=issuer)
    with pytest.raises(InvalidToken, match="issuer"):
        decode(encode({"exp": NOW + 60}, SECRET), SECRET, now=NOW, issuer="https://issuer.example")
    assert decode(token, SECRET, now=NOW)  # not configured: not checked


@pytest.mark.parametrize(("aud", "accepted"), [
    ("api", True), (["web", "api"], True), (["api"], True),
    ("web", False), (["web", "admin"], False), ([], False), ("API", False), (["apiX"], False),
])
def test_audience_must_be_contained_when_configured(aud, accepted):
    token = encode({"exp": NOW + 60, "aud": aud}, SECRET)
    if accepted:
        assert decode(token, SECRET, now=NOW, audience="api")["aud"] == aud
    else:
        with pytest.raises(InvalidToken, match="audience"):
            decode(token, SECRET, now=NOW, audience="api")


def test_missing_audience_is_refused_when_configured():
    with pytest.raises(InvalidToken, match="no audience"):
        decode(encode({"exp": NOW + 60}, SECRET), SECRET, now=NOW, audience="api")


def test_audience_claim_without_configured_audience_is_accepted():
    # Our documented choice (PyJWT refuses this): no configured audience means none is checked.
    token = encode({"exp": NOW + 60, "aud": ["web", "api"]}, SECRET)
    assert decode(token, SECRET, now=NOW)["aud"] == ["web", "api"]
    with pytest.raises(pyjwt.InvalidAudienceError):
        pyjwt.decode(token, SECRET, algorithms=["HS256"], options=NO_TIME_CHECKS)


@pytest.mark.parametrize("aud", [1, None, True, {"api": 1}, ["api", 1], [["api"]]])
@pytest.mark.parametrize("audience", ["api", None])
def test_malformed_audience_claim_is_refused(aud, audience):
    with pytest.raises(InvalidToken, match="audience must be"):
        decode(encode({"exp": NOW + 60, "aud": aud}, SECRET), SECRET, now=NOW, audience=audience)


# -- encode's own contract -------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [{"alg": "none"}, {"alg": "HS512"}, {"typ": "at+jwt"}, {"crit": ["exp"]}])
def test_encode_refuses_headers_decode_would_refuse(headers):
    with pytest.raises(ValueError):
        encode({"exp": NOW}, SECRET, headers=headers)


def test_encode_refuses_bad_arguments():
    with pytest.raises(TypeError):
        encode([("exp", NOW)], SECRET)
    with pytest.raises(ValueError):
        encode({"exp": float("nan")}, SECRET)
    with pytest.raises(ValueError):
        encode({"exp": NOW}, "")
    with pytest.raises(ValueError):
        decode(good_token(), b"", now=NOW)
    with pytest.raises(TypeError):
        encode({"exp": NOW}, 12345)


def test_str_and_bytes_secrets_agree():
    assert encode({"exp": NOW}, "kéy-0123456789") == encode({"exp": NOW}, "kéy-0123456789".encode())


def test_messages_are_user_facing():
    try:
        decode(good_token(), "wrong-secret", now=NOW)
    except InvalidToken as exc:
        assert exc.message == str(exc) == "token signature is invalid"
    else:
        pytest.fail("wrong secret accepted")


# -- user_id ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("claims", "expected"), [
    ({"sub": "u1", "userId": "u2"}, "u1"),
    ({"userId": "u2"}, "u2"),
    ({"sub": "", "userId": "u2"}, "u2"),
    ({"sub": 42, "userId": "u2"}, "u2"),
    ({"sub": None, "userId": "u2"}, "u2"),
    ({"sub": "", "userId": ""}, None),
    ({"sub": ["u1"], "userId": 7}, None),
    ({}, None),
])
def test_user_id_is_sub_then_user_id(claims, expected):
    assert user_id(claims) == expected


def test_user_id_from_a_decoded_pyjwt_token():
    token = pyjwt.encode({"userId": "ユーザー", "exp": NOW + 60}, SECRET, algorithm="HS256")
    assert user_id(decode(token, SECRET, now=NOW)) == "ユーザー"


# -- cold start ------------------------------------------------------------------------------------

def test_import_loads_neither_openssl_nor_typing():
    probe = ("import sys; import lambdasmith.kit.auth.jwt as j; "
             "t = j.encode({'exp': 2e9}, 'k'); j.decode(t, 'k', now=0); "
             "print(' '.join(sorted(sys.modules)))")
    loaded = set(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                check=True).stdout.split())
    assert "lambdasmith.kit.auth.jwt" in loaded
    assert not {"hashlib", "_hashlib", "hmac", "ssl", "typing", "dataclasses", "base64"} & loaded
