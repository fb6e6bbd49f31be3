"""The kit's HTTP layer: events in, routing, responses and caching out."""

import base64
import io
import json

import pytest

from lambdasmith.kit.http.events import BadEvent, parse_event, to_result
from lambdasmith.kit.http.responses import Response, cacheable, etag_of, if_none_match, json_response
from lambdasmith.kit.http.routing import App, HTTPError, Router
from lambdasmith.kit.observability.logs import Logger
from lambdasmith.kit.observability.metrics import Metrics
from lambdasmith.local.apigw import v2_event, v2_result


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


def test_gateway_result_rules():
    assert v2_result({"statusCode": 204}).status == 204
    r = v2_result({"statusCode": 200, "body": base64.b64encode(b"\xff").decode(), "isBase64Encoded": True,
                   "cookies": ["c=1"]})
    assert r.body == b"\xff" and ("Set-Cookie", "c=1") in r.headers
    plain = v2_result({"hello": "world"})
    assert plain.status == 200 and json.loads(plain.body) == {"hello": "world"}
    assert v2_result({"statusCode": "x"}).status == 502


# ---------------------------------------------------------------- routing


def make_app():
    router = Router()
    router.get("/items/{id}")(lambda req: json_response({"id": req.path_params["id"]}))
    router.post("/items/{id}")(lambda req: json_response({"posted": True}, 201))
    router.get("/items/latest")(lambda req: json_response({"latest": True}))
    router.get("/boom")(lambda req: 1 / 0)

    def fail(req):
        raise HTTPError(418, "teapot", code="TEA", field="pot")

    router.get("/fail")(fail)
    log = io.StringIO()
    app = App(router, logger=Logger("test", stream=log), cors_allow_headers=("content-type", "x-signature"))
    return app, log


def call(app, method, target, headers=(), body=b""):
    return app.handler(v2_event(method, target, list(headers), body))


def test_params_are_decoded_once_and_literals_are_case_insensitive():
    app, _ = make_app()
    res = call(app, "GET", "/ITEMS/feature%2Fx%2541")
    assert res["statusCode"] == 200
    assert json.loads(res["body"]) == {"id": "feature/x%41"}


def test_literal_route_wins_over_parameter():
    app, _ = make_app()
    assert json.loads(call(app, "GET", "/items/latest")["body"]) == {"latest": True}


def test_segment_count_must_match_and_unknown_path_is_404():
    app, _ = make_app()
    assert call(app, "GET", "/items/a/b")["statusCode"] == 404
    assert call(app, "GET", "/nothing")["statusCode"] == 404
    assert json.loads(call(app, "GET", "/nothing")["body"]) == {"message": "Not found"}


def test_wrong_method_is_405_with_allow():
    app, _ = make_app()
    res = call(app, "DELETE", "/items/1")
    assert res["statusCode"] == 405
    assert res["headers"]["Allow"] == "GET, POST, HEAD, OPTIONS"


def test_head_runs_get_without_body():
    app, _ = make_app()
    res = call(app, "HEAD", "/items/1")
    assert res["statusCode"] == 200 and res["body"] == ""
    assert res["headers"]["Content-Length"] == str(len('{"id":"1"}'))


def test_preflight_lists_methods_and_filters_headers():
    app, _ = make_app()
    res = call(app, "OPTIONS", "/items/1", [("Access-Control-Request-Headers", "Content-Type, X-Evil, x-signature"),
                                            ("Origin", "https://x")])
    assert res["statusCode"] == 204
    h = res["headers"]
    assert h["Access-Control-Allow-Origin"] == "*"
    assert h["Access-Control-Allow-Methods"] == "GET, POST, HEAD, OPTIONS"
    assert h["Access-Control-Allow-Headers"] == "content-type, x-signature"
    assert h["Access-Control-Max-Age"] == "3600"
    assert call(app, "OPTIONS", "/unknown/path")["statusCode"] == 204


def test_http_error_has_service_shape_and_unhandled_error_is_clean_500():
    app, log = make_app()
    res = call(app, "GET", "/fail")
    assert res["statusCode"] == 418
    assert json.loads(res["body"]) == {"message": "teapot", "error_details": [{"error_code": "TEA", "property_name": "pot"}]}
    res = call(app, "GET", "/boom")
    assert res["statusCode"] == 500
    assert "ZeroDivision" not in res["body"] and "Traceback" not in res["body"]
    line = json.loads(log.getvalue().splitlines()[-1])
    assert line["level"] == "ERROR" and line["exception_name"] == "ZeroDivisionError"


def test_bad_percent_encoding_is_400():
    app, _ = make_app()
    assert call(app, "GET", "/items/%ff%fe")["statusCode"] == 400


def test_garbage_event_is_400_not_exception():
    app, _ = make_app()
    assert app.handler({"nope": 1}, None)["statusCode"] == 400


# ---------------------------------------------------------------- caching


def test_etag_is_quoted_sha256_hex_and_304_keeps_cache_headers():
    body = '{"a":1}'
    tag = etag_of(body.encode())
    assert tag.startswith('"') and len(tag) == 66
    r = cacheable(json_response({"a": 1}), {}, "public, max-age=1", last_modified=0)
    assert r.status == 200 and r.headers["ETag"] == tag and r.headers["Last-Modified"] == "Thu, 01 Jan 1970 00:00:00 GMT"
    r304 = cacheable(json_response({"a": 1}), {"if-none-match": tag}, "public, max-age=1")
    assert r304.status == 304 and r304.body == b"" and r304.headers["Cache-Control"] == "public, max-age=1"
    assert r304.headers["ETag"] == tag


@pytest.mark.parametrize("header,match", [
    ('"abc"', True), ('W/"abc"', True), ('"x", "abc"', True), ("*", True),
    ('"abd"', False), ("", False), (None, False), ('abc', False),
])
def test_if_none_match_forms(header, match):
    assert if_none_match(header, '"abc"') is match


# ---------------------------------------------------------------- logs and metrics


def test_log_line_has_powertools_keys():
    out = io.StringIO()
    log = Logger("svc", stream=out)

    class Ctx:
        function_name, aws_request_id, memory_limit_in_mb, invoked_function_arn = "fn", "r-1", 128, "arn:x"

    log.bind(Ctx(), correlation_id="corr-1")
    log.info("hello", extra_key=5)
    line = json.loads(out.getvalue())
    for k in ("level", "location", "message", "timestamp", "service", "cold_start", "function_name",
              "function_request_id", "correlation_id"):
        assert k in line, k
    assert line["message"] == "hello" and line["extra_key"] == 5 and line["function_request_id"] == "r-1"
    assert line["location"].startswith("test_log_line_has_powertools_keys:")
    log.bind(Ctx())
    log.info("again")
    assert json.loads(out.getvalue().splitlines()[1])["cold_start"] is False


def test_log_level_filters():
    out = io.StringIO()
    Logger("svc", level="WARNING", stream=out).info("quiet")
    assert out.getvalue() == ""


def test_emf_document():
    out = io.StringIO()
    m = Metrics("NS", "svc", stream=out)
    m.add("Hits")
    m.add("Hits", 2)
    m.add("Latency", 3.5, "Milliseconds")
    m.flush()
    doc = json.loads(out.getvalue())
    cw = doc["_aws"]["CloudWatchMetrics"][0]
    assert cw["Namespace"] == "NS" and cw["Dimensions"] == [["service"]]
    assert {x["Name"]: x["Unit"] for x in cw["Metrics"]} == {"Hits": "Count", "Latency": "Milliseconds"}
    assert doc["Hits"] == [1, 2] and doc["Latency"] == 3.5 and doc["service"] == "svc"
    assert isinstance(doc["_aws"]["Timestamp"], int)
    m.flush()
    assert len(out.getvalue().splitlines()) == 1  # nothing new, nothing written


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


@pytest.mark.parametrize("key,msg", [(b"", b""), (b"k", b"msg"), (b"k" * 64, b"x" * 1000), (b"long" * 40, "é✓".encode())])
def test_builtin_digests_equal_hashlib_and_hmac(key, msg):
    import hashlib
    import hmac

    from lambdasmith.kit.digest import hmac_sha256, sha256_hex

    assert sha256_hex(msg) == hashlib.sha256(msg).hexdigest()
    assert hmac_sha256(key, msg) == hmac.new(key, msg, hashlib.sha256).digest()


@pytest.mark.parametrize("data", [b"", b"f", b"fo", b"foo", b"\xfb\xff\xbf", bytes(range(256))])
def test_b64url_round_trips_unpadded(data):
    import base64

    from lambdasmith.kit import b64url

    text = b64url.encode(data)
    assert text == base64.urlsafe_b64encode(data).decode().rstrip("=")
    assert b64url.decode(text) == data


@pytest.mark.parametrize("text", ["Zm9v=", "Zm+v", "Zm/v", "Zm9 v", "Z", "Zh", "Zm9vYk"])
def test_b64url_refuses_padding_foreign_characters_and_second_spellings(text):
    from lambdasmith.kit import b64url

    with pytest.raises(ValueError):
        b64url.decode(text)
