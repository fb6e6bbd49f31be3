"""lambdasmith.kit.http.responses: responses and caching (ETag, If-None-Match, 304)."""


import pytest

from lambdasmith.kit.http.responses import cacheable, etag_of, if_none_match, json_response


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
    ('"abd"', False), ("", False), (None, False), ("abd", False),
    ("abc", True), ('"ABC"', True), ("ABC", True), ('W/"AbC"', True),  # bare and upper-case, as BadgeSmith
])
def test_if_none_match_forms(header, match):
    assert if_none_match(header, '"abc"') is match
