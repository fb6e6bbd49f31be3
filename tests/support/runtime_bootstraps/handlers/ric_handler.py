"""A Python handler for AWS's own runtime client (awslambdaric) behind the Runtime API emulator:
what it does depends on the event's "kind" (tests/local/test_awslambdaric.py)."""

import os
import time


def run(event, context):
    kind = event.get("kind")
    if kind == "echo":
        return {"echo": event}
    if kind == "raise":
        raise ValueError("bad input: " + str(event.get("why")))
    if kind == "size":  # a JSON string of n-2 characters: n bytes once encoded
        return "x" * (event["n"] - 2)
    if kind == "sleep":
        time.sleep(event["s"])
        return "woke"
    if kind == "crash":
        os._exit(event.get("code", 3))
    if kind == "context":
        return {"requestId": context.aws_request_id, "arn": context.invoked_function_arn,
                "name": context.function_name, "version": context.function_version,
                "memory": context.memory_limit_in_mb, "logGroup": context.log_group_name,
                "remainingMs": context.get_remaining_time_in_millis(), "traceId": os.environ.get("_X_AMZN_TRACE_ID"),
                "pid": os.getpid()}
    raise KeyError(kind)
