"""AWS's own runtime interface client (awslambdaric, from PyPI) as the bootstrap of a Python
function behind our Runtime API emulator: the real client, not one of ours, decides what is
correct here (success, errors, the response limit, timeouts, crashes, its context, and the exit
it makes after a refused response)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lambdasmith.local.runtime_api import MAX_RESPONSE_BYTES, RuntimeEmulator

pytest.importorskip("awslambdaric")  # a dev dependency (pyproject.toml): present under `make test`

HANDLERS = Path(__file__).resolve().parents[1] / "support" / "runtime_bootstraps" / "handlers"
RIC = [sys.executable, "-m", "awslambdaric", "ric_handler.run"]  # as a Python image's entry point runs it
MIB = 1024 * 1024


@pytest.fixture
def ric():
    with RuntimeEmulator("ric-fn", RIC, "ric_handler.run", str(HANDLERS), timeout_s=2, memory_mb=256,
                         log=lambda text: None) as emulator:  # fmt: skip
        yield emulator


def call(emu: RuntimeEmulator, event: dict, **kw):
    return emu.invoke(json.dumps(event).encode(), **kw)


def test_a_result_is_the_response(ric):
    r = call(ric, {"kind": "echo", "n": 1})
    assert r.ok and json.loads(r.payload) == {"echo": {"kind": "echo", "n": 1}}
    assert r.init_duration_ms is not None and call(ric, {"kind": "echo"}).init_duration_ms is None  # warm


def test_a_raised_error_arrives_with_its_type_message_and_stack_trace(ric):
    r = call(ric, {"kind": "raise", "why": "no size"})
    assert not r.ok and r.error_type == "ValueError"
    doc = json.loads(r.payload)
    assert doc["errorMessage"] == "bad input: no size" and doc["errorType"] == "ValueError"
    assert any("ric_handler.py" in line and "in run" in line for line in doc["stackTrace"])
    assert call(ric, {"kind": "echo"}).ok  # the environment serves on


def test_the_context_is_lambdas(ric):
    r = call(ric, {"kind": "context"}, qualifier="live", trace_id="Root=1-00000000-000000000000000000000001;Sampled=1")
    ctx = json.loads(r.payload)
    assert ctx["requestId"] == r.request_id
    assert ctx["arn"].endswith(":function:ric-fn:live") and ctx["name"] == "ric-fn"
    assert (ctx["version"], str(ctx["memory"]), ctx["logGroup"]) == ("$LATEST", "256", "/aws/lambda/ric-fn")
    assert 0 < ctx["remainingMs"] <= 2000  # from Lambda-Runtime-Deadline-Ms
    assert ctx["traceId"] == "Root=1-00000000-000000000000000000000001;Sampled=1"


@pytest.mark.parametrize("size", [int(5.9 * MIB), MAX_RESPONSE_BYTES])
def test_a_response_within_the_limit_is_delivered_whole(ric, size):
    r = call(ric, {"kind": "size", "n": size})
    assert r.ok and len(r.payload) == size


def test_a_response_over_the_limit_fails_and_the_next_invocation_runs_in_a_fresh_environment(ric):
    before = json.loads(call(ric, {"kind": "context"}).payload)["pid"]
    r = call(ric, {"kind": "size", "n": int(6.1 * MIB)})
    assert not r.ok and r.error_type == "Function.ResponseSizeTooLarge"
    assert "6291556 bytes" in r.error_message
    # awslambdaric exits after the 413 it gets: that ends the environment between invocations,
    # which must fail nothing (the next event was never handed to it).
    after = call(ric, {"kind": "context"})
    assert after.ok, after.payload
    assert json.loads(after.payload)["pid"] != before and after.init_duration_ms is not None


def test_a_handler_past_its_timeout_is_a_runtime_timeout_then_a_fresh_start(ric):
    r = call(ric, {"kind": "sleep", "s": 10})
    assert not r.ok and r.error_type == "Runtime.Timeout"
    assert json.loads(r.payload)["errorMessage"] == "Task timed out after 2.00 seconds"
    again = call(ric, {"kind": "echo"})
    assert again.ok and again.init_duration_ms is not None


def test_a_crash_is_a_runtime_exit_error_then_a_fresh_start(ric):
    r = call(ric, {"kind": "crash", "code": 9})
    assert not r.ok and r.error_type == "Runtime.ExitError"
    assert "exit status 9" in r.error_message
    assert call(ric, {"kind": "echo"}).ok
