"""Bad input to the Invoke API is a 400, never a 500: JSON nested too deep for the parser."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from lambdasmith.local.invoke import InvokeApi

TARGET = "/2015-03-31/functions/echo/invocations"


def _api(tmp_path: Path) -> InvokeApi:
    return InvokeApi(str(tmp_path), refs={"echo": "json:dumps"})


def test_a_body_nested_3000_deep_is_invalid_request_content(tmp_path: Path) -> None:
    reply = _api(tmp_path).dispatch("POST", TARGET, {}, b"[" * 3000)
    assert reply.status == 400
    assert ("x-amzn-ErrorType", "InvalidRequestContentException") in reply.headers


def test_a_client_context_nested_3000_deep_is_invalid_request_content(tmp_path: Path) -> None:
    context = base64.b64encode(b'{"a":' + b"[" * 1290 + b"]" * 1290 + b"}").decode()
    assert len(context) <= 3583  # under the size limit: the depth is what is wrong
    reply = _api(tmp_path).dispatch("POST", TARGET, {"x-amz-client-context": context}, b"{}")
    assert reply.status == 400, json.loads(reply.body)
    assert ("x-amzn-ErrorType", "InvalidRequestContentException") in reply.headers
