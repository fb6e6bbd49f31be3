"""lambdasmith.local.apigw: what the local gateway makes of a function's result."""

import base64
import json

from lambdasmith.local.apigw import v2_result


def test_gateway_result_rules():
    assert v2_result({"statusCode": 204}).status == 204
    r = v2_result({"statusCode": 200, "body": base64.b64encode(b"\xff").decode(), "isBase64Encoded": True,
                   "cookies": ["c=1"]})
    assert r.body == b"\xff" and ("Set-Cookie", "c=1") in r.headers
    plain = v2_result({"hello": "world"})
    assert plain.status == 200 and json.loads(plain.body) == {"hello": "world"}
    assert v2_result({"statusCode": "x"}).status == 502
