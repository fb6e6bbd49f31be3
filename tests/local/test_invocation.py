"""The one local invocation path (lambdasmith.local.invocation): names and ARNs, the context,
START/END/REPORT, error documents, init errors, limits; and that every entry point — the Invoke
API, `lambdasmith invoke`, the queue pump — takes the same names and hands out a real context."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from lambdasmith.kit.backends import open_queue
from lambdasmith.local import invocation
from lambdasmith.local.invocation import (
    ACCOUNT,
    LATEST,
    MAX_RESPONSE,
    Function,
    function_arn,
    invoke,
    parse_function_name,
    report_line,
)
from lambdasmith.local.pump import QueuePump

ROOT = Path(__file__).resolve().parents[2]
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function"

# Every form of FunctionName the Invoke API of AWS takes, and what it names.
NAMES = [
    ("items", ("items", None)),
    ("items:live", ("items", "live")),
    ("items:$LATEST", ("items", LATEST)),
    (f"{ACCOUNT}:function:items", ("items", None)),
    (f"{ACCOUNT}:function:items:7", ("items", "7")),
    (f"{ARN}:items", ("items", None)),
    (f"{ARN}:items:live", ("items", "live")),
    ("arn:aws-cn:lambda:cn-north-1:123456789012:function:my_fn-2:v1", ("my_fn-2", "v1")),
]
NOT_NAMES = ["", "items:", "a:b:c", f"{ACCOUNT}:layer:items", "arn:aws:lambda:us-east-1:1:function:x",
             f"arn:aws:lambda:us-east-1:{ACCOUNT}:layer:items", "items/x", "items:live:more", "fn name"]  # fmt: skip


@pytest.mark.parametrize(("raw", "parsed"), NAMES)
def test_every_name_form_aws_accepts(raw: str, parsed: tuple[str, str | None]) -> None:
    assert parse_function_name(raw) == parsed


@pytest.mark.parametrize("raw", NOT_NAMES)
def test_anything_else_names_no_function(raw: str) -> None:
    assert parse_function_name(raw) == ("", None)


def test_arns_use_the_local_account_and_the_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert function_arn("items") == f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:items"
    assert function_arn("items", "live").endswith(":function:items:live")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-south-1")
    assert invocation.region() == "ap-south-1"
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    assert invocation.region() == invocation.DEFAULT_REGION == "us-east-1"


# ---------------------------------------------------------------------------- one invocation


class Log(list):
    def __call__(self, text: str) -> None:
        self.append(text)

    @property
    def text(self) -> str:
        return "".join(self)


def seen(event: Any, context: Any) -> dict[str, Any]:
    return {"event": event, "name": context.function_name, "id": context.aws_request_id,
            "arn": context.invoked_function_arn, "version": context.function_version,
            "memory": context.memory_limit_in_mb, "remaining": context.get_remaining_time_in_millis(),
            "group": context.log_group_name, "stream": context.log_stream_name}  # fmt: skip


def test_the_handler_gets_a_real_context_and_the_log_gets_lambdas_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    log = Log()
    fn = Function("probe", "tests.local.test_invocation:seen", timeout_s=3)
    first = invoke(fn, {"a": 1}, request_id="r-1", qualifier="live", log=log)
    got = json.loads(first.payload)
    assert first.function_error is None and first.result == got and first.request_id == "r-1"
    assert got["event"] == {"a": 1} and got["name"] == "probe" and got["id"] == "r-1"
    assert got["arn"] == f"{ARN}:probe:live" and got["version"] == LATEST and got["memory"] == 128
    assert 0 < got["remaining"] <= 3000 and got["group"] == "/aws/lambda/probe"
    assert re.fullmatch(r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", got["stream"])
    start, end = log  # END and REPORT in one write
    assert start == "START RequestId: r-1 Version: $LATEST\n"
    assert end.startswith("END RequestId: r-1\nREPORT RequestId: r-1\tDuration: ")
    assert "\tInit Duration: " in end and first.init_ms is not None  # the cold start
    second = invoke(fn, {}, log=log)
    assert second.init_ms is None and "Init Duration" not in log[-1]
    assert json.loads(second.payload)["stream"] == got["stream"]  # one environment, one stream


def test_report_line() -> None:
    assert report_line("r", 0.2, 128, 40) == (
        "REPORT RequestId: r\tDuration: 0.20 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 40 MB\t\n"
    )
    assert report_line("r", 12.01, 256, 50, init_ms=3.456).endswith(
        "Billed Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 50 MB\tInit Duration: 3.46 ms\t\n"
    )


def boom(event: Any, context: Any) -> None:
    raise ValueError("no good")


def test_an_unhandled_error_is_lambdas_error_document_with_the_handlers_frames() -> None:
    log = Log()
    outcome = invoke(Function("boom", handler=boom), {}, request_id="r-2", log=log)
    doc = json.loads(outcome.payload)
    assert outcome.function_error == "Unhandled" and outcome.error_type == "ValueError"
    assert isinstance(outcome.exception, ValueError) and outcome.error_message == "no good"
    assert set(doc) == {"errorMessage", "errorType", "requestId", "stackTrace"}
    assert (doc["errorMessage"], doc["errorType"], doc["requestId"]) == ("no good", "ValueError", "r-2")
    assert len(doc["stackTrace"]) == 1 and "in boom" in doc["stackTrace"][0]  # not the platform's frames
    assert "[ERROR] ValueError: no good\nTraceback (most recent call last):\n" in log.text


@pytest.mark.parametrize(("result", "error_type"), [
    (object(), "Runtime.MarshalError"),
    ("x" * MAX_RESPONSE, "Function.ResponseSizeTooLarge"),
])  # fmt: skip
def test_a_result_lambda_cannot_return_is_an_error(result: Any, error_type: str) -> None:
    outcome = invoke(Function("r", handler=lambda e, c: result), {}, log=None)
    assert outcome.function_error == "Unhandled" and json.loads(outcome.payload)["errorType"] == error_type
    kept = invoke(Function("r", handler=lambda e, c: result), {}, log=None, marshal=False)  # a gateway's view
    assert kept.function_error is None and kept.result is result and kept.payload == b""


def test_a_system_exit_is_a_runtime_exit_error() -> None:
    outcome = invoke(Function("x", handler=lambda e, c: sys.exit(3)), {}, log=None)
    assert json.loads(outcome.payload)["errorType"] == "Runtime.ExitError"


@pytest.mark.parametrize(("ref", "error_type"), [
    ("tests.local.no_such_module:handler", "Runtime.ImportModuleError"),
    ("tests.local.test_invocation:no_such_handler", "Runtime.HandlerNotFound"),
    ("tests.local.test_invocation:NAMES", "Runtime.HandlerNotFound"),  # not callable
])  # fmt: skip
def test_a_handler_that_cannot_load_is_an_init_error_tried_again_next_time(ref: str, error_type: str) -> None:
    fn, log = Function("broken", ref), Log()
    for _ in range(2):
        outcome = invoke(fn, {}, request_id="r-3", log=log)
        doc = json.loads(outcome.payload)
        assert outcome.function_error == "Unhandled" and doc["errorType"] == error_type and doc["stackTrace"] == []
    assert f"[ERROR] {error_type}: " in log.text and "Traceback" not in log.text


def test_quiet_invocations_write_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    invoke(Function("q", handler=boom), {}, log=None)
    assert capsys.readouterr() == ("", "")
    invoke(Function("q", handler=lambda e, c: 1), {})  # the default: stderr
    assert "START RequestId: " in capsys.readouterr().err


# ---------------------------------------------------------------------------- every entry point


def test_the_invoke_api_takes_every_name_form(tmp_path: Path) -> None:
    from lambdasmith.local.invoke import InvokeApi

    server = InvokeApi(str(tmp_path), refs={"items": "tests.local.test_invocation:seen"})
    try:
        for raw, (name, qualifier) in NAMES:
            reply = server.dispatch("POST", f"/2015-03-31/functions/{quote(raw, safe='')}/invocations", {}, b"{}")
            if name != "items":
                assert reply.status == 404, raw
                continue
            assert reply.status == 200, (raw, reply.body)
            assert json.loads(reply.body)["arn"].endswith(":function:items" + (f":{qualifier}" if qualifier else ""))
        for raw in NOT_NAMES[1:]:
            if "/" in raw:
                continue
            reply = server.dispatch("POST", f"/2015-03-31/functions/{quote(raw, safe='')}/invocations", {}, b"{}")
            assert reply.status == 404, raw
    finally:
        server.close()


@pytest.mark.parametrize("name", ["badges", f"{ACCOUNT}:function:badges", f"{ACCOUNT}:function:badges:live",
                                  f"{ARN}:badges:live", "badges:live"])  # fmt: skip
def test_lambdasmith_invoke_takes_the_same_names(name: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "lambdasmith", "invoke", name, str(ROOT / "events" / "badges-health.json"),
                           "--data-dir", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["statusCode"] == 200
    assert "START RequestId: " in done.stderr and "\tInit Duration: " in done.stderr


def test_lambdasmith_invoke_refuses_what_names_no_function(tmp_path: Path) -> None:
    for name in ("a:b:c", f"{ACCOUNT}:layer:badges", "nope"):
        done = subprocess.run([sys.executable, "-m", "lambdasmith", "invoke", name, "--data-dir", str(tmp_path)],
                              capture_output=True, text=True, cwd=ROOT)  # fmt: skip
        assert done.returncode == 2 and "no function" in done.stderr, name


def test_the_pump_hands_the_worker_a_real_context(tmp_path: Path) -> None:
    contexts: list[Any] = []

    def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
        contexts.append(context)
        return {"batchItemFailures": []}

    queue = open_queue("work", backend="sqlite", data_dir=str(tmp_path))
    queue.send("hello")
    pump = QueuePump(queue, worker, function_name="the-worker", wait_s=0, log=lambda line: None)
    assert pump.run_once() == 1
    (ctx,) = contexts
    assert ctx.function_name == "the-worker" and ctx.aws_request_id
    assert ctx.invoked_function_arn.endswith(":function:the-worker") and ctx.get_remaining_time_in_millis() > 0
    assert queue.receive(10, 0) == []  # done, so deleted


def test_the_pump_fails_the_batch_on_a_function_error(tmp_path: Path) -> None:
    lines: list[str] = []
    queue = open_queue("work", backend="sqlite", data_dir=str(tmp_path))
    queue.send("hello")
    pump = QueuePump(queue, Function("w", handler=boom), visibility_timeout_s=0, wait_s=0, log=lines.append)
    assert pump.run_once() == 1
    assert "pump work: function error ValueError: no good" in lines
    assert [m.body for m in queue.receive(10, 30)] == ["hello"]  # back for another try
