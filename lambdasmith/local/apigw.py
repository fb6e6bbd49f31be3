"""What API Gateway (HTTP API) and Function URLs do in front of a function, on one machine:
an HTTP request becomes a payload 2.0 event, the function's result becomes the HTTP response."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from lambdasmith.local.invocation import ACCOUNT

_TEXT_TYPES = ("application/json", "application/xml", "application/x-www-form-urlencoded", "text/")


def encode_body(body: bytes, content_type: str) -> tuple[str | None, bool]:
    """The event's `body` and `isBase64Encoded`: text types pass as text when they are UTF-8,
    anything else travels base64-encoded, as API Gateway sends it."""
    if not body:
        return None, False
    if any(content_type.lower().lstrip().startswith(t) for t in _TEXT_TYPES):  # media types ignore case
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def v2_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    host: str = "localhost",
    protocol: str = "HTTP/1.1",
    forwarded: tuple[str, int] | None = None,
    trace_id: str | None = None,
) -> dict[str, Any]:
    """The HTTP API / Function URL (payload 2.0) event for one HTTP request. `forwarded` is
    (scheme, port) of the listener: the front end then adds `x-forwarded-for` (the client's address
    after any the client sent), `x-forwarded-proto` and `x-forwarded-port`, as AWS's do; `trace_id`
    becomes `x-amzn-trace-id`."""
    path, _, query = target.partition("?")
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        n = name.lower()
        if n == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        merged[n] = f"{merged[n]},{value}" if n in merged else value
    if forwarded is not None:
        merged["x-forwarded-for"] = f"{merged['x-forwarded-for']}, {source_ip}" if "x-forwarded-for" in merged else source_ip
        merged["x-forwarded-proto"], merged["x-forwarded-port"] = forwarded[0], str(forwarded[1])
    if trace_id is not None:
        merged["x-amzn-trace-id"] = trace_id
    qs: dict[str, str] = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        qs[k] = f"{qs[k]},{v}" if k in qs else v
    encoded, binary = encode_body(body, merged.get("content-type", ""))
    now = time.time()
    request_id = request_id or str(uuid.uuid4())
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path or "/",
        "rawQueryString": query,
        "headers": merged,
        "requestContext": {
            "accountId": ACCOUNT,
            "apiId": "local",
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method.upper(),
                "path": path or "/",
                "protocol": protocol,
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": binary,
    }
    if cookies:
        event["cookies"] = cookies
    if qs:
        event["queryStringParameters"] = qs
    if encoded is not None:
        event["body"] = encoded
    return event


def v1_event(
    method: str,
    target: str,
    headers: list[tuple[str, str]],
    body: bytes,
    source_ip: str = "127.0.0.1",
    request_id: str | None = None,
    stage: str = "local",
) -> dict[str, Any]:
    """The REST API (payload 1.0) proxy event for one HTTP request."""
    path, _, query = target.partition("?")
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value  # REST API keeps the last value in `headers`
        multi.setdefault(name, []).append(value)
    qs_multi: dict[str, list[str]] = {}
    for k, v in parse_qsl(query, keep_blank_values=True):
        qs_multi.setdefault(k, []).append(v)
    encoded, binary = encode_body(body, next((v for k, v in headers if k.lower() == "content-type"), ""))
    now = time.time()
    user_agent = next((v for k, v in headers if k.lower() == "user-agent"), "")
    return {
        "resource": "/{proxy+}",
        "path": path or "/",
        "httpMethod": method.upper(),
        "headers": single or None,
        "multiValueHeaders": multi or None,
        "queryStringParameters": {k: v[-1] for k, v in qs_multi.items()} or None,
        "multiValueQueryStringParameters": qs_multi or None,
        "pathParameters": {"proxy": (path or "/").lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method.upper(),
            "path": f"/{stage}{path or '/'}",
            "requestId": request_id or str(uuid.uuid4()),
            "stage": stage,
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": source_ip, "userAgent": user_agent},
        },
        "body": encoded,
        "isBase64Encoded": binary,
    }


@dataclass
class HttpResult:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def v1_result(result: Any) -> HttpResult:
    """REST API proxy integration: a result without `statusCode` is a malformed response (502)."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return _bad_gateway("Malformed Lambda proxy response")
    return v2_result(result)


def v2_result(result: Any) -> HttpResult:
    """Interpret a function's return value the way HTTP API / Function URLs do (payload 2.0)."""
    if isinstance(result, dict) and "statusCode" in result:
        try:
            status = int(result["statusCode"])
        except (TypeError, ValueError):
            return _bad_gateway("statusCode is not a number")
        headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
        for k, vs in (result.get("multiValueHeaders") or {}).items():
            headers.extend((str(k), str(v)) for v in vs)
        headers.extend(("Set-Cookie", str(c)) for c in result.get("cookies") or [])
        raw = result.get("body")
        if raw is None:
            body = b""
        elif result.get("isBase64Encoded"):
            try:
                body = base64.b64decode(raw)
            except (ValueError, TypeError):
                return _bad_gateway("body is not valid base64")
        else:
            body = str(raw).encode("utf-8")
        return HttpResult(status, headers, body)
    # No statusCode: the whole result is a JSON body.
    text = result if isinstance(result, str) else json.dumps(result)
    return HttpResult(200, [("Content-Type", "application/json")], text.encode("utf-8"))


def _bad_gateway(why: str) -> HttpResult:
    body = json.dumps({"message": "Internal Server Error", "detail": why}).encode()
    return HttpResult(502, [("Content-Type", "application/json")], body)
