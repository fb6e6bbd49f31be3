"""The Lambda Runtime API emulator (lambdasmith.local.runtime_api) with the test bootstraps of
tests/support/runtime_bootstraps: a Python one (probes of the Runtime API itself, driven by the event) and
a bash + curl one."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from lambdasmith.local.runtime_api import MAX_RESPONSE_BYTES, RuntimeEmulator

BOOTSTRAPS = Path(__file__).resolve().parents[1] / "support" / "runtime_bootstraps"
PY_BOOTSTRAP = [sys.executable, str(BOOTSTRAPS / "python_bootstrap.py")]


class Sink:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, text: str) -> None:
        with self.lock:
            self.parts.append(text)

    @property
    def lines(self) -> list[str]:
        return "".join(self.parts).splitlines()


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def emu(sink: Sink):
    emulator = RuntimeEmulator("probe-fn", PY_BOOTSTRAP, "probe.run", str(BOOTSTRAPS / "handlers"),
                               env={"MY_SETTING": "on"}, timeout_s=3, memory_mb=256, log=sink)  # fmt: skip
    yield emulator
    emulator.close()


def call(emu: RuntimeEmulator, event: dict, **kw):
    return emu.invoke(json.dumps(event).encode(), **kw)


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as f:
            return "State:\tZ" not in f.read()
    except OSError:
        return False


def wait_dead(pid: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.02)
    return False


def test_next_hands_out_the_event_with_the_runtime_headers_and_environment(emu):
    before = time.time() * 1000
    result = call(emu, {"probe": "headers"}, client_context='{"custom":{"k":"v"}}', trace_id="Root=1-abc-def;Sampled=1")
    assert result.ok, result.payload
    seen = json.loads(result.payload)
    headers = seen["headers"]
    assert headers["Lambda-Runtime-Aws-Request-Id"] == result.request_id
    deadline = int(headers["Lambda-Runtime-Deadline-Ms"])
    assert before + 3000 - 1000 < deadline <= time.time() * 1000 + 3000
    assert headers["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:probe-fn")
    assert headers["Lambda-Runtime-Invoked-Function-Arn"].startswith("arn:aws:lambda:")
    assert headers["Lambda-Runtime-Trace-Id"] == "Root=1-abc-def;Sampled=1"
    assert headers["Lambda-Runtime-Client-Context"] == '{"custom":{"k":"v"}}'
    env = seen["env"]
    assert env["AWS_LAMBDA_RUNTIME_API"] == emu.address and emu.address.startswith("127.0.0.1:")
    assert env["_HANDLER"] == "probe.run"
    assert env["LAMBDA_TASK_ROOT"] == str(BOOTSTRAPS / "handlers")
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "probe-fn"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_REGION"]
    assert env["MY_SETTING"] == "on" and seen["has_path"]


def test_trace_id_is_generated_when_not_given(emu):
    headers = json.loads(call(emu, {"probe": "headers"}).payload)["headers"]
    assert headers["Lambda-Runtime-Trace-Id"].startswith("Root=1-")
    assert "Lambda-Runtime-Client-Context" not in headers


def test_response_is_the_invocation_payload(emu):
    result = call(emu, {"a": [1, 2]})
    assert result.ok and result.error_type is None
    assert json.loads(result.payload) == {"echo": {"a": [1, 2]}}
    assert result.duration_ms > 0


def test_answer_for_an_unknown_request_id_is_400(emu):
    assert json.loads(call(emu, {"probe": "unknown"}).payload) == {"unknown": 400}


def test_second_answer_for_one_id_is_403_and_the_first_wins(emu):
    first = call(emu, {"probe": "twice"})
    assert first.ok and first.payload == b'"first"'
    report = json.loads(call(emu, {"probe": "report"}).payload)
    assert report["twice"] == 403 and report["twice_error"] == 403


def test_response_over_6_mib_is_413_and_fails_the_invocation(emu):
    result = call(emu, {"probe": "size", "n": MAX_RESPONSE_BYTES + 1})
    assert not result.ok and result.error_type == "Function.ResponseSizeTooLarge"
    report = json.loads(call(emu, {"probe": "report"}).payload)
    assert report == {"size": 413, "size_after": 403}


def test_response_of_exactly_6_mib_is_accepted(emu):
    result = call(emu, {"probe": "size", "n": MAX_RESPONSE_BYTES})
    assert result.ok and len(result.payload) == MAX_RESPONSE_BYTES
    assert json.loads(call(emu, {"probe": "report"}).payload)["size"] == 202


def test_error_post_is_202_and_the_invocation_fails_with_its_type(emu):
    result = call(emu, {"probe": "error"})
    assert not result.ok and result.error_type == "MyError"
    assert json.loads(result.payload) == {"errorMessage": "it broke", "errorType": "MyError", "stackTrace": ["line 1"]}
    assert result.error_message == "it broke"
    assert json.loads(call(emu, {"probe": "report"}).payload)["error"] == 202


def test_handler_exception_becomes_an_error(emu, tmp_path, sink):
    (tmp_path / "bad.py").write_text("def run(event):\n    raise KeyError('nope')\n")
    with RuntimeEmulator("bad", PY_BOOTSTRAP, "bad.run", str(tmp_path), log=sink) as bad:
        result = bad.invoke(b"{}")
    assert not result.ok and result.error_type == "KeyError"
    assert "nope" in json.loads(result.payload)["errorMessage"]


def test_init_error_fails_the_invocation_kills_the_bootstrap_and_the_next_invoke_inits_again(tmp_path, sink):
    marker = tmp_path / "fail-once"
    marker.write_text("x")
    env = {"INIT_FAIL_MARKER": str(marker), "INIT_ERROR_LINGER": "1"}  # the bootstrap would stay: we must kill it
    with RuntimeEmulator("initfail", PY_BOOTSTRAP, "probe.run", str(BOOTSTRAPS / "handlers"), env=env, log=sink) as emu:
        started = time.monotonic()
        failed = emu.invoke(b'{"probe":"pid"}')
        assert time.monotonic() - started < 5
        assert not failed.ok and failed.error_type == "Runtime.NoSuchHandler"
        assert json.loads(failed.payload)["errorType"] == "Runtime.NoSuchHandler"
        assert emu.pid is None  # the environment is reset
        failed_pid = int((tmp_path / "fail-once.pid").read_text())
        assert wait_dead(failed_pid)  # it lingered after posting the error: the emulator killed it
        ok = emu.invoke(b'{"probe":"pid"}')
        assert ok.ok, ok.payload
        assert ok.init_duration_ms is not None  # a new init
        pid = json.loads(ok.payload)["pid"]
        assert pid != failed_pid and alive(pid)


def test_crash_fails_the_invocation_with_exit_error_and_the_next_invoke_restarts(emu):
    pid = json.loads(call(emu, {"probe": "pid"}).payload)["pid"]
    started = time.monotonic()
    crashed = call(emu, {"probe": "crash", "code": 3})
    assert time.monotonic() - started < 2  # noticed at once, not at the deadline
    assert not crashed.ok and crashed.error_type == "Runtime.ExitError"
    assert "exit status 3" in json.loads(crashed.payload)["errorMessage"]
    after = call(emu, {"probe": "pid"})
    assert after.ok and json.loads(after.payload)["pid"] != pid
    assert after.init_duration_ms is not None


def test_timeout_kills_the_bootstrap_and_the_next_invoke_inits_again(sink):
    with RuntimeEmulator("slow", PY_BOOTSTRAP, "probe.run", str(BOOTSTRAPS / "handlers"), timeout_s=1, log=sink) as emu:
        pid = json.loads(emu.invoke(b'{"probe":"pid"}').payload)["pid"]
        started = time.monotonic()
        result = emu.invoke(b'{"probe":"sleep","s":10}')
        elapsed = time.monotonic() - started
        assert 0.9 < elapsed < 4
        assert not result.ok and result.error_type == "Runtime.Timeout"
        assert json.loads(result.payload)["errorMessage"] == "Task timed out after 1.00 seconds"
        assert wait_dead(pid)
        again = emu.invoke(b'{"probe":"pid"}')
        assert again.ok and json.loads(again.payload)["pid"] != pid
        assert again.init_duration_ms is not None
    assert any("Task timed out after 1.00 seconds" in line for line in sink.lines)


def test_start_end_report_lines_with_init_duration_only_after_an_init(emu, sink):
    first = call(emu, {"probe": "log"})
    second = call(emu, {"probe": "log"})
    assert first.init_duration_ms is not None and first.init_duration_ms > 0
    assert second.init_duration_ms is None
    lines = sink.lines
    for result in (first, second):
        rid = result.request_id
        start = lines.index(f"START RequestId: {rid} Version: $LATEST")
        end = lines.index(f"END RequestId: {rid}")
        report = lines[end + 1]
        assert start < end
        assert {"to stdout", "to stderr"} <= set(lines[start + 1 : end])  # forwarded without a prefix
        assert report.startswith(f"REPORT RequestId: {rid}\tDuration: ")
        fields = dict(f.split(": ", 1) for f in report.split("\t")[1:] if f)
        assert fields["Memory Size"] == "256 MB"
        assert int(fields["Max Memory Used"].removesuffix(" MB")) > 0  # VmHWM of the bootstrap
        assert int(fields["Billed Duration"].removesuffix(" ms")) >= 1
        assert ("Init Duration" in fields) is (result is first)
        assert result.logs.startswith(f"START RequestId: {rid}") and "to stdout" in result.logs


def test_100_sequential_invocations_on_one_bootstrap_process(emu):
    pids = set()
    for n in range(100):
        result = call(emu, {"probe": "pid", "n": n})
        assert result.ok
        body = json.loads(result.payload)
        assert body["n"] == n
        pids.add(body["pid"])
    assert len(pids) == 1


def test_concurrent_callers_are_served_one_at_a_time(emu):
    results = []

    def one(n: int) -> None:
        results.append(call(emu, {"probe": "pid", "n": n}))

    threads = [threading.Thread(target=one, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert len(results) == 8 and all(r.ok for r in results)
    assert sorted(json.loads(r.payload)["n"] for r in results) == list(range(8))
    assert len({json.loads(r.payload)["pid"] for r in results}) == 1


def test_missing_bootstrap_is_an_invalid_entrypoint(tmp_path, sink):
    with RuntimeEmulator("none", [str(tmp_path / "no-bootstrap")], "x.run", str(tmp_path), log=sink) as emu:
        result = emu.invoke(b"{}")
    assert not result.ok and result.error_type == "Runtime.InvalidEntrypoint"


def test_close_stops_the_bootstrap(sink):
    emu = RuntimeEmulator("closing", PY_BOOTSTRAP, "probe.run", str(BOOTSTRAPS / "handlers"), log=sink)
    pid = json.loads(emu.invoke(b'{"probe":"pid"}').payload)["pid"]
    emu.close()
    assert wait_dead(pid)
    with pytest.raises(RuntimeError):
        emu.invoke(b"{}")


@pytest.mark.skipif(not os.path.exists("/usr/bin/curl") and not os.path.exists("/bin/curl"), reason="needs curl")
def test_bash_and_curl_bootstrap(tmp_path, sink):
    bootstrap = [str(BOOTSTRAPS / "bash_bootstrap.sh")]
    with RuntimeEmulator("bash-fn", bootstrap, "echo.run", str(tmp_path), log=sink) as emu:
        results = [emu.invoke(json.dumps({"k": n}).encode()) for n in range(3)]
    assert [json.loads(r.payload) for r in results] == [{"echo": {"k": n}, "handler": "echo.run"} for n in range(3)]
    assert [r.init_duration_ms is not None for r in results] == [True, False, False]
    assert f"bash bootstrap got {results[1].request_id}" in sink.lines
