"""Tiny Lambda handlers for the Invoke API tests, served through LAMBDASMITH_EXTRA_FUNCTIONS.

Every call is appended as one JSON line to $INVOKE_TEST_LOG (when set), with the function, the
event, the request id and the serving process's pid, so tests can count attempts and see who ran
what. $INVOKE_TEST_STATE is a directory for per-payload counters (flaky) and gates.
"""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any


def _record(function: str, event: Any, context: Any, **extra: Any) -> None:
    path = os.environ.get("INVOKE_TEST_LOG")
    if not path:
        return
    line = {"function": function, "event": event, "requestId": context.aws_request_id, "pid": os.getpid(), **extra}
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")


def echo(event: Any, context: Any) -> Any:
    """Returns the event as it came."""
    _record("echo", event, context)
    return event


def boom(event: Any, context: Any) -> Any:
    _record("boom", event, context)
    raise ValueError("boom")


def flaky(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Fails the first `event["fail"]` calls for `event["id"]`, then succeeds (and records it)."""
    counter = os.path.join(os.environ["INVOKE_TEST_STATE"], f"flaky-{event['id']}")
    with open(counter, "a+", encoding="utf-8") as f:
        f.write("x")
        f.seek(0)
        calls = len(f.read())
    if calls <= int(event.get("fail", 2)):
        _record("flaky", event, context, outcome="failed", call=calls)
        raise RuntimeError(f"flaky failure {calls}")
    _record("flaky", event, context, outcome="applied", call=calls)
    return {"applied": event["id"], "calls": calls}


def chatty(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Prints `lines` lines tagged with `marker` (odd ones to stderr), pausing between them."""
    marker, lines = event.get("marker", "chatty"), int(event.get("lines", 3))
    for i in range(lines):
        print(f"{marker} line {i}", file=sys.stderr if i % 2 else sys.stdout, flush=True)
        if event.get("pause"):
            time.sleep(float(event["pause"]))
    return {"printed": lines}


def context_info(event: Any, context: Any) -> dict[str, Any]:
    """What the handler sees of its context."""
    cc = context.client_context
    return {
        "function_name": context.function_name,
        "aws_request_id": context.aws_request_id,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "function_version": context.function_version,
        "remaining_ms": context.get_remaining_time_in_millis(),
        "log_group_name": context.log_group_name,
        "client_custom": cc.custom if cc else None,
        "client_env": cc.env if cc else None,
        "client_app_title": cc.client.app_title if cc and cc.client else None,
    }


def gate(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Waits (bounded) until the file $INVOKE_TEST_STATE/gate-{id} exists, then records completion."""
    _record("gate", event, context, outcome="started")
    path = os.path.join(os.environ["INVOKE_TEST_STATE"], f"gate-{event['id']}")
    deadline = time.monotonic() + 30
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError("gate never opened")
        time.sleep(0.05)
    _record("gate", event, context, outcome="done")
    return {"done": event["id"]}


def unserialisable(event: Any, context: Any) -> Any:
    return {"when": object()}
