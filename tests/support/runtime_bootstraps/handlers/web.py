"""A test handler for Function URL serving: what it returns depends on the event's rawPath."""

import base64
import os


def run(event):
    path = event["rawPath"]
    if path == "/status":
        return {
            "statusCode": 201,
            "headers": {"X-Test": "yes", "Content-Type": "text/plain"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": "created",
        }
    if path == "/binary":
        return {
            "statusCode": 200,
            "headers": {"Content-Type": "application/octet-stream"},
            "body": base64.b64encode(bytes(range(256))).decode(),
            "isBase64Encoded": True,
        }
    if path == "/redirect":  # a handler that trusts its query: the header-injection shape
        to = (event.get("queryStringParameters") or {}).get("to", "/")
        return {"statusCode": 302, "headers": {"location": to}, "body": ""}
    if path == "/header-name":
        return {"statusCode": 200, "headers": {"bad name": "x"}, "body": "x"}
    if path == "/plain":
        return {"hello": "world", "n": 1}
    if path == "/text":
        return "just text"
    if path == "/fail":
        raise RuntimeError("handler failed")
    return {"event": event, "runtime": {"requestId": os.environ.get("TEST_RUNTIME_REQUEST_ID"),
                                        "traceId": os.environ.get("_X_AMZN_TRACE_ID")}}
