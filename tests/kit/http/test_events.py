"""lambdasmith.kit.http.events: API Gateway events (payload 1.0 and 2.0) in, results out, percent-decoding."""

import base64

import pytest

from lambdasmith.kit.http.events import BadEvent, parse_event, to_result
from lambdasmith.kit.http.responses import Response, json_response
from lambdasmith.local.apigw import v2_event


def v1_event(method="GET", path="/", headers=None, body=None, b64=False, query=None, mquery=None):
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": headers or {},
        "multiValueHeaders": {k: [v] for k, v in (headers or {}).items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": mquery,
        "pathParameters": None,
        "requestContext": {"resourcePath": "/{proxy+}", "httpMethod": method, "requestId": "rid-1",
                           "stage": "prod", "identity": {"sourceIp": "10.0.0.9", "userAgent": "ua"}},
        "body": body,
        "isBase64Encoded": b64,
    }


# ---------------------------------------------------------------- events


def test_v2_event_parses_into_request():
    ev = v2_event("post", "/a/b%2Fc?x=1&x=2&y=", [("X-Thing", "1"), ("x-thing", "2"), ("Cookie", "a=1; b=2")],
                  b'{"k":1}', source_ip="1.2.3.4", request_id="req")
    ev["headers"]["content-type"] = "application/json"
    r = parse_event(ev)
    assert r.method == "POST" and r.path == "/a/b%2Fc"
    assert r.query == {"x": "1", "y": ""} and r.query_multi["x"] == ["1", "2"]
    assert r.headers["x-thing"] == "1,2"
    assert r.cookies == ["a=1", "b=2"]
    assert r.body == b'{"k":1}' and r.request_id == "req" and r.source_ip == "1.2.3.4"


def test_v2_binary_body_round_trips_base64():
    raw = bytes(range(256))
    ev = v2_event("POST", "/", [("Content-Type", "application/octet-stream")], raw)
    assert ev["isBase64Encoded"] is True
    assert parse_event(ev).body == raw


def test_v1_event_parses_multi_values_and_identity():
    ev = v1_event("PUT", "/users/u1", headers={"Authorization": "Bearer t"}, body=base64.b64encode(b"hi").decode(),
                  b64=True, query={"a": "2"}, mquery={"a": ["1", "2"]})
    r = parse_event(ev)
    assert (r.method, r.version, r.body, r.source_ip) == ("PUT", "1.0", b"hi", "10.0.0.9")
    assert r.headers["authorization"] == "Bearer t"
    assert r.query_multi["a"] == ["1", "2"] and r.query["a"] == "1"


@pytest.mark.parametrize("event", [{}, {"foo": 1}, [], "x"])
def test_non_http_event_is_rejected(event):
    with pytest.raises(BadEvent):
        parse_event(event)


def test_bad_base64_body_is_a_bad_event():
    ev = v2_event("POST", "/", [], b"")
    ev.update(body="***not base64***", isBase64Encoded=True)
    with pytest.raises(BadEvent):
        parse_event(ev)


def test_result_shapes_for_both_payload_versions():
    resp = Response(201, b"\x00\x01", {"Content-Type": "application/octet-stream"}, cookies=["a=1"])
    v2 = to_result(resp, "2.0")
    assert v2["isBase64Encoded"] and base64.b64decode(v2["body"]) == b"\x00\x01" and v2["cookies"] == ["a=1"]
    v1 = to_result(json_response({"a": 1}), "1.0")
    assert v1["body"] == '{"a":1}' and v1["isBase64Encoded"] is False and "multiValueHeaders" in v1


# ---------------------------------------------------------------- percent-decoding


@pytest.mark.parametrize("raw,decoded", [
    ("feature%2Fx", "feature/x"), ("%C3%A9t%C3%A9", "été"), ("100%", "100%"), ("%zz%41", "%zzA"),
    ("a+b", "a+b"), ("%25", "%"), ("%e2%82%ac", "€"),
])
def test_percent_decode_matches_rfc3986(raw, decoded):
    from urllib.parse import unquote

    from lambdasmith.kit.http.events import percent_decode

    assert percent_decode(raw) == decoded == unquote(raw, errors="strict")


def test_percent_decode_rejects_invalid_utf8_and_query_replaces_it():
    from urllib.parse import parse_qsl

    from lambdasmith.kit.http.events import parse_query, percent_decode

    with pytest.raises(UnicodeDecodeError):
        percent_decode("%ff")
    qs = "a=1&b=&c&d=x+y%20z&e=%ff&&f=%3D%26"
    assert parse_query(qs) == parse_qsl(qs, keep_blank_values=True)
