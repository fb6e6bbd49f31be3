"""The SigV4 verifier accepts what botocore signs (SigV4Auth directly, and real boto3 Lambda
`invoke` calls captured before they leave), refuses every single change with AWS Lambda's error
code, and parses the operator's KEY:SECRET list strictly."""

import datetime
import hashlib
import random
from unittest import mock

import boto3
import pytest
from botocore.auth import SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials as BotoCredentials

from lambdasmith.kit.aws import sigv4
from lambdasmith.kit.aws.sigv4_verify import SignatureError, parse_credentials, verify
from lambdasmith.kit.http.wire import split_url

NOW = datetime.datetime(2026, 11, 22, 13, 14, 15, tzinfo=datetime.timezone.utc)
KEY, SECRET = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CREDENTIALS = {KEY: SECRET, "AKIDOTHER": "other/secret+key"}
ENDPOINT = "http://192.0.2.10:9001"  # TEST-NET-1: nothing is ever sent there
INVOKE = "/2015-03-31/functions/{}/invocations"
MISSING, UNRECOGNIZED, INVALID = (
    "MissingAuthenticationTokenException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
)


def wire_host(url):
    """The Host header an HTTP client sends for `url` (default ports left out)."""
    scheme, host, port, _ = split_url(url)
    host = f"[{host}]" if ":" in host else host
    return host if port == (443 if scheme == "https" else 80) else f"{host}:{port}"


def received(method, url, headers, body):
    """(method, target, headers, body) as the server reads them off the wire: str header values,
    every repeat kept, and the Host header botocore signs but leaves to the HTTP client to send."""
    items = [(k, v.decode() if isinstance(v, bytes) else v) for k, v in headers.items()]
    if not any(k.lower() == "host" for k, _ in items):
        items.insert(0, ("Host", wire_host(url)))
    return method, split_url(url)[3], items, body or b""


def botocore_signed(
    method,
    url,
    headers=(),
    body=b"",
    *,
    region="us-east-1",
    token=None,
    service="lambda",
    key=KEY,
    secret=SECRET,
    at=NOW,
):
    req = AWSRequest(method=method, url=url, data=body)
    for k, v in headers:
        req.headers[k] = v  # HTTPHeaders appends: a repeated name stays repeated
    with mock.patch("botocore.auth.get_current_datetime", return_value=at.replace(tzinfo=None)):
        SigV4Auth(BotoCredentials(key, secret, token), service, region).add_auth(req)
    return received(method, url, req.headers, body)


def check(request, **kw):
    method, target, headers, body = request
    return verify(
        method, target, headers, body, credentials=kw.pop("credentials", CREDENTIALS), now=kw.pop("now", NOW), **kw
    )


def refused(request, **kw):
    with pytest.raises(SignatureError) as info:
        check(request, **kw)
    return info.value


# --- (1) botocore's SigV4Auth, many request shapes -------------------------------------------

ARN = "arn:aws:lambda:eu-west-1:123456789012:function:my-fn"
SHAPES = {
    "plain name": ("POST", ENDPOINT + INVOKE.format("my-fn"), [], b'{"a":1}', {}),
    "arn percent-encoded": ("POST", ENDPOINT + INVOKE.format(ARN.replace(":", "%3A")), [], b"{}", {}),
    "arn raw colons": ("POST", ENDPOINT + INVOKE.format(ARN), [], b"{}", {}),
    "name:qualifier": ("POST", ENDPOINT + INVOKE.format("my-fn%3Aprod"), [], b"{}", {}),
    "qualifier query": ("POST", ENDPOINT + INVOKE.format("my-fn") + "?Qualifier=%24LATEST", [], b"{}", {}),
    "repeated unsorted query": ("GET", ENDPOINT + "/2015-03-31/functions/?b=2&a=3&a=1&c=x%2Fy&d=&e", [], b"", {}),
    "special query": ("GET", ENDPOINT + "/x?k=%E2%9C%93&sp=a%20b&plus=a%2Bb&t=~&s=%2A%21", [], b"", {}),
    "encoded path chars": ("GET", ENDPOINT + "/a%20b/c~d/%C3%A9/%2F", [], b"", {}),
    "dot segments, double slashes": ("GET", ENDPOINT + "/a/./b/../c//d/", [], b"", {}),
    "empty body": ("POST", ENDPOINT + INVOKE.format("my-fn"), [], b"", {}),
    "binary body": ("POST", ENDPOINT + INVOKE.format("my-fn"), [], bytes(range(256)) * 3, {}),
    "session token": ("POST", ENDPOINT + INVOKE.format("my-fn"), [], b"{}", {"token": "IQoJb3JpZ2luX2Vj//tok+=="}),
    "eu-west-1": ("POST", ENDPOINT + INVOKE.format("f"), [], b"{}", {"region": "eu-west-1"}),
    "ap-southeast-2": ("POST", ENDPOINT + INVOKE.format("f"), [], b"{}", {"region": "ap-southeast-2"}),
    "cn-north-1": ("POST", ENDPOINT + INVOKE.format("f"), [], b"{}", {"region": "cn-north-1"}),
    "us-gov-west-1": ("POST", ENDPOINT + INVOKE.format("f"), [], b"{}", {"region": "us-gov-west-1"}),
    "other key": ("POST", ENDPOINT + INVOKE.format("f"), [], b"{}", {"key": "AKIDOTHER", "secret": "other/secret+key"}),
    "lambda headers, spaces": (
        "POST",
        ENDPOINT + INVOKE.format("f"),
        [
            ("X-Amz-Invocation-Type", "Event"),
            ("X-Amz-Log-Type", "Tail"),
            ("X-Amz-Client-Context", "  eyJh   IjoxfQ== "),
            ("Content-Type", "application/json"),
        ],
        b"{}",
        {},
    ),
    "repeated header": ("POST", ENDPOINT + INVOKE.format("f"), [("X-Custom", "a"), ("X-Custom", " b  c ")], b"{}", {}),
    "explicit host, default port": (
        "POST",
        "https://lambda.local" + INVOKE.format("f"),
        [("Host", "lambda.local")],
        b"{}",
        {},
    ),
    "ipv6 host": ("POST", "http://[::1]:9001" + INVOKE.format("f"), [], b"{}", {}),
    "content-sha256 given": (
        "POST",
        ENDPOINT + INVOKE.format("f"),
        [("X-Amz-Content-SHA256", hashlib.sha256(b"{}").hexdigest())],
        b"{}",
        {},
    ),
    "unsigned hop-by-hop headers": (
        "POST",
        ENDPOINT + INVOKE.format("f"),
        [("User-Agent", "aws-cli/2"), ("X-Amzn-Trace-Id", "Root=1-abc"), ("Expect", "100-continue")],
        b"{}",
        {},
    ),
}


@pytest.mark.parametrize("shape", SHAPES.values(), ids=SHAPES)
def test_botocore_signed_requests_verify(shape):
    method, url, headers, body, kw = shape
    assert check(botocore_signed(method, url, headers, body, **kw)) == kw.get("key", KEY)


def test_our_signer_and_the_verifier_agree():
    headers = sigv4.sign(
        "POST",
        INVOKE.format("my-fn%3A1"),
        "Qualifier=1",
        {"Host": "h:1"},
        b"x",
        access_key=KEY,
        secret_key=SECRET,
        token="t",
        region="local",
        service="lambda",
        now=NOW.timestamp(),
    )
    assert check(("POST", INVOKE.format("my-fn%3A1") + "?Qualifier=1", list(headers.items()), b"x")) == KEY


# --- (2) real boto3 Lambda invoke calls, captured before they are sent -------------------------


def boto3_invoke(region="us-east-1", token=None, key=KEY, secret=SECRET, **invoke_kw):
    """The request boto3 would send for `invoke(**invoke_kw)`; a before-send hook answers it
    instead of the network (any answer will do: only the request is looked at)."""
    captured = []

    def answer(request, **_):
        captured.append(request)
        return AWSResponse(request.url, 200, {}, None)

    client = boto3.client(
        "lambda",
        region_name=region,
        endpoint_url=ENDPOINT,
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )
    client.meta.events.register("before-send.lambda.Invoke", answer)
    client.invoke(**invoke_kw)
    (request,) = captured
    return received(request.method, request.url, request.headers, request.body)


INVOCATIONS = {
    "name": {"FunctionName": "my-fn", "Payload": b'{"a":1}'},
    "qualifier": {"FunctionName": "my-fn", "Qualifier": "prod", "Payload": b"{}"},
    "odd qualifier": {"FunctionName": "my-fn", "Qualifier": "$LATEST", "Payload": b"{}"},
    "name:alias": {"FunctionName": "my-fn:prod", "Payload": b"{}"},
    "arn": {"FunctionName": ARN, "Payload": b"{}"},
    "arn:version + qualifier": {"FunctionName": ARN + ":7", "Qualifier": "7", "Payload": b"{}"},
    "event": {"FunctionName": "my-fn", "InvocationType": "Event", "Payload": b'{"queued":true}'},
    "dry run, no payload": {"FunctionName": "my-fn", "InvocationType": "DryRun"},
    "log tail": {"FunctionName": "my-fn", "LogType": "Tail", "Payload": b"{}"},
    "client context": {"FunctionName": "my-fn", "ClientContext": "eyJjdXN0b20iOnsiYSI6MX19", "Payload": b"{}"},
    "binary payload": {"FunctionName": "my-fn", "Payload": bytes(range(256))},
    "unicode payload": {"FunctionName": "my-fn", "Payload": '{"v":"é ✓"}'.encode()},
}


@pytest.mark.parametrize("kw", INVOCATIONS.values(), ids=INVOCATIONS)
@pytest.mark.parametrize("region,token", [("us-east-1", None), ("eu-central-1", "session/token+==")])
def test_boto3_invoke_requests_verify(kw, region, token):
    request = boto3_invoke(region=region, token=token, **kw)
    assert verify(*request, credentials=CREDENTIALS) == KEY  # boto3 signed with the real clock


def test_boto3_signs_host_but_leaves_it_and_the_sdk_headers_to_later():
    # What the captured request shows: Host is signed (from the URL) yet not among the headers,
    # and amz-sdk-* and Content-Length are added after signing, unsigned.
    _, _, headers, _ = boto3_invoke(FunctionName="my-fn", Payload=b"{}", token="t")
    auth = dict(headers)["Authorization"]
    assert "SignedHeaders=host;x-amz-date;x-amz-security-token," in auth
    names = {k.lower() for k, _ in headers}
    assert {"amz-sdk-invocation-id", "amz-sdk-request", "content-length"} <= names


# --- (3) each mutation is refused with AWS Lambda's code ---------------------------------------


@pytest.fixture
def good():
    request = boto3_signed_base()
    assert check(request) == KEY
    return request


def boto3_signed_base():
    url = ENDPOINT + INVOKE.format("my-fn%3Aprod") + "?Qualifier=prod"
    headers = [("X-Amz-Invocation-Type", "RequestResponse"), ("X-Amz-Log-Type", "Tail")]
    return botocore_signed("POST", url, headers, b'{"n":1}', region="eu-west-1", token="tok")


def with_header(request, name, value):
    method, target, headers, body = request
    kept = [(k, v) for k, v in headers if k.lower() != name.lower()]
    return method, target, kept + ([(name, value)] if value is not None else []), body


def authorization(request):
    return next(v for k, v in request[2] if k == "Authorization")


MUTATIONS = {
    "body": lambda r: (r[0], r[1], r[2], b'{"n":2}'),
    "body emptied": lambda r: (r[0], r[1], r[2], b""),
    "signed header": lambda r: with_header(r, "X-Amz-Log-Type", "None"),
    "host": lambda r: with_header(r, "Host", "192.0.2.11:9001"),
    "session token": lambda r: with_header(r, "X-Amz-Security-Token", "other"),
    "path": lambda r: (r[0], r[1].replace("my-fn", "my-fm"), r[2], r[3]),
    "path encoding": lambda r: (r[0], r[1].replace("%3A", ":"), r[2], r[3]),
    "query": lambda r: (r[0], r[1].replace("prod", "dev"), r[2], r[3]),
    "query added": lambda r: (r[0], r[1] + "&x=1", r[2], r[3]),
    "method": lambda r: ("PUT", *r[1:]),
    "signature": lambda r: with_header(
        r,
        "Authorization",
        authorization(r)[:-1] + "0" if not authorization(r).endswith("0") else authorization(r)[:-1] + "1",
    ),
}


@pytest.mark.parametrize("mutate", MUTATIONS.values(), ids=MUTATIONS)
def test_a_changed_request_is_an_invalid_signature(good, mutate):
    err = refused(mutate(good))
    assert (err.code, err.status) == (INVALID, 403)
    assert err.message.startswith("The request signature we calculated does not match the signature you provided.")


def test_a_wrong_secret_is_an_invalid_signature(good):
    assert refused(good, credentials={KEY: SECRET + "x"}).code == INVALID


def test_an_unknown_key_id_is_unrecognized(good):
    err = refused(with_header(good, "Authorization", authorization(good).replace(KEY, "AKIDNOBODY")))
    assert (err.code, err.message) == (UNRECOGNIZED, "The security token included in the request is invalid.")
    assert refused(good, credentials={"AKIDOTHER": SECRET}).code == UNRECOGNIZED


def test_another_service_scope_is_invalid():
    err = refused(botocore_signed("POST", ENDPOINT + INVOKE.format("f"), body=b"{}", service="s3"))
    assert (err.code, err.message) == (INVALID, "Credential should be scoped to correct service: 'lambda'.")
    assert check(botocore_signed("POST", ENDPOINT + "/", service="execute-api"), service="execute-api") == KEY


def test_a_scope_date_other_than_x_amz_date_is_invalid(good):
    err = refused(with_header(good, "Authorization", authorization(good).replace("/20261122/", "/20261121/")))
    assert err.code == INVALID and "'20261121' != '20261122', from '20261122T131415Z'" in err.message


@pytest.mark.parametrize("offset_s,ok", [(-300, True), (300, True), (-301, False), (301, False)])
def test_the_clock_skew_window_is_inclusive(good, offset_s, ok):
    now = NOW + datetime.timedelta(seconds=offset_s)
    if ok:
        assert check(good, now=now) == KEY
    else:
        assert refused(good, now=now).code == INVALID


def test_an_old_signature_has_expired(good):
    err = refused(good, now=NOW + datetime.timedelta(minutes=6))
    assert (err.code, err.message) == (
        INVALID,
        "Signature expired: 20261122T131415Z is now earlier than 20261122T131515Z (20261122T132015Z - 5 min.)",
    )


def test_a_future_signature_is_not_yet_current(good):
    err = refused(good, now=NOW - datetime.timedelta(minutes=6))
    assert (err.code, err.message) == (
        INVALID,
        "Signature not yet current: 20261122T131415Z is still later than 20261122T131315Z (20261122T130815Z + 5 min.)",
    )
    assert (
        "20261122T131345Z (20261122T131315Z + 30 s.)"
        in refused(good, now=NOW - datetime.timedelta(seconds=60), max_skew_s=30).message
    )


def test_no_authorization_is_a_missing_token(good):
    err = refused(with_header(good, "Authorization", None))
    assert (err.code, err.message) == (MISSING, "Missing Authentication Token")


def test_an_authorization_that_is_not_sigv4_is_a_missing_token(good):
    assert refused(with_header(good, "Authorization", "Bearer abc")).code == MISSING
    assert refused(with_header(good, "Authorization", "AWS AKIDEXAMPLE:sig")).code == MISSING


def test_a_presigned_url_is_a_missing_token():
    req = AWSRequest(method="POST", url=ENDPOINT + INVOKE.format("f"), data=b"{}")
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4QueryAuth(BotoCredentials(KEY, SECRET), "lambda", "us-east-1").add_auth(req)
    assert "X-Amz-Signature=" in req.url
    err = refused(received("POST", req.url, req.headers, b"{}"))
    assert err.code == MISSING and "presigned" in err.message


def test_a_missing_x_amz_date_is_invalid(good):
    err = refused(with_header(good, "X-Amz-Date", None))
    assert err.code == INVALID and "x-amz-date" in err.message


def test_host_and_x_amz_date_must_be_signed(good):
    auth = authorization(good)
    for name in ("host;", "x-amz-date;"):
        err = refused(with_header(good, "Authorization", auth.replace(name, "", 1)))
        assert err.code == INVALID and f"'{name[:-1]}' must be a 'SignedHeader'" in err.message


def test_a_malformed_authorization_is_invalid(good):
    auth = authorization(good)
    for broken in (
        auth.split(", Signature=")[0],
        auth.replace("/aws4_request", "/aws4_other"),
        auth.replace("/eu-west-1/", "/"),
        auth.replace("x-amz-date;x-amz-invocation-type", "x-amz-invocation-type;x-amz-date"),
    ):
        assert refused(with_header(good, "Authorization", broken)).code == INVALID, broken


def test_two_authorization_headers_are_invalid(good):
    assert refused((*good[:2], good[2] + [("Authorization", authorization(good))], good[3])).code == INVALID


def test_an_unsigned_extra_x_amz_header_is_fine(good):
    assert check((*good[:2], good[2] + [("X-Amz-Extra", "1"), ("User-Agent", "x")], good[3])) == KEY


def test_a_content_sha256_that_is_not_the_body_is_invalid():
    for declared in (hashlib.sha256(b"other").hexdigest(), "UNSIGNED-PAYLOAD"):
        signed = botocore_signed("POST", ENDPOINT + INVOKE.format("f"), [("X-Amz-Content-SHA256", declared)], b"{}")
        err = refused(signed)
        assert err.code == INVALID and "x-amz-content-sha256" in err.message
    # The hash is checked even when the header itself was left unsigned.
    good_body = botocore_signed("POST", ENDPOINT + INVOKE.format("f"), body=b"{}")
    assert refused(with_header(good_body, "X-Amz-Content-SHA256", "0" * 64)).code == INVALID


def test_a_malformed_x_amz_date_is_invalid():
    for stamp in ("2026-11-22T13:14:15Z", "20261322T131415Z", "20261122T131415", "２0261122T131415Z"):
        headers = sigv4.sign(
            "POST",
            "/",
            "",
            {"Host": "h"},
            b"",
            access_key=KEY,
            secret_key=SECRET,
            token=None,
            region="r",
            service="lambda",
            now=NOW.timestamp(),
        )
        headers["X-Amz-Date"] = stamp
        auth = headers["Authorization"].replace("/20261122/", f"/{stamp[:8]}/")
        headers["Authorization"] = auth
        err = refused(("POST", "/", list(headers.items()), b""))
        assert err.code == INVALID, stamp


def test_now_must_be_timezone_aware(good):
    with pytest.raises(ValueError, match="timezone-aware"):
        check(good, now=NOW.replace(tzinfo=None))


# --- property: random botocore-signed requests verify, a one-byte body change does not ----------

SEGMENT_CHARS = "abcXYZ019-_.~:@!$&'()*+,;= %/é✓"


def random_request(rng):
    def text(n):
        return "".join(rng.choice(SEGMENT_CHARS) for _ in range(rng.randint(0, n)))

    path = "/" + "/".join(sigv4.quote(text(8), safe=rng.choice(["", ":@", "~"])) for _ in range(rng.randint(0, 4)))
    pairs = [f"{sigv4.quote(text(5))}={sigv4.quote(text(6))}" for _ in range(rng.randint(0, 5))]
    query = "&".join(pairs)
    headers = [
        (
            rng.choice(["X-Amz-Meta", "X-Custom", "Content-Type", "X-Amz-Client-Context"]),
            " ".join(text(6).replace("%", "") for _ in range(rng.randint(1, 3))).encode("ascii", "ignore").decode()
            or "v",
        )
        for _ in range(rng.randint(0, 4))
    ]
    body = rng.randbytes(rng.choice([0, 1, 2, 17, 300]))
    method = rng.choice(["GET", "POST", "PUT", "DELETE"])
    region = rng.choice(["us-east-1", "eu-west-2", "ap-northeast-1", "local"])
    token = rng.choice([None, "tok" + text(4).encode("ascii", "ignore").decode().replace(" ", "")])
    url = ENDPOINT + path + (f"?{query}" if query else "")
    return botocore_signed(method, url, headers, body, region=region, token=token)


@pytest.mark.parametrize("seed", range(200))
def test_random_botocore_requests_verify_and_a_body_byte_flip_fails(seed):
    rng = random.Random(seed)
    method, target, headers, body = request = random_request(rng)
    assert check(request) == KEY
    if body:
        i = rng.randrange(len(body))
        mutated = body[:i] + bytes([body[i] ^ (1 << rng.randrange(8))]) + body[i + 1 :]
    else:
        mutated = bytes([rng.randrange(256)])
    assert refused((method, target, headers, mutated)).code == INVALID


# --- the operator's credentials ----------------------------------------------------------------


def test_parse_credentials():
    assert parse_credentials("AK1:s1") == {"AK1": "s1"}
    assert parse_credentials(" AK1 : s1/x+y== ,\n AK2:s:2 ") == {"AK1": "s1/x+y==", "AK2": "s:2"}


@pytest.mark.parametrize("text,fragment", [
    ("", "none given"), ("   ", "none given"), ("AK1", "no ':'"), (":s", "empty access key id"),
    ("AK1:", "empty secret"), ("AK1:  ", "empty secret"), ("AK1:s,", "entry 2 is empty"), ("AK1:s,,AK2:t", "entry 2 is empty"),
    ("AK1:s,AK1:t", "given twice"), ("A K:s", "whitespace"), ("A/K:s", "'/'"), ("AK:s t", "whitespace"),
])  # fmt: skip
def test_parse_credentials_refuses_malformed_lists(text, fragment):
    with pytest.raises(ValueError, match="credentials") as info:
        parse_credentials(text)
    assert fragment in str(info.value)


@pytest.mark.parametrize("text", ["AK1:SEKRIT,AK1:SEKRIT", "AK1:SEK RIT", "AK1:SEKRIT,,", "A K:SEKRIT"])
def test_parse_credentials_never_echoes_a_secret(text):
    with pytest.raises(ValueError) as info:
        parse_credentials(text)
    assert "SEK" not in str(info.value)
