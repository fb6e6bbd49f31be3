"""The Lambda Runtime API emulator (lambdasmith.local.runtime_api) with the test bootstraps of
tests/support/runtime_bootstraps: a Python one (probes of the Runtime API itself, driven by the event) and
a bash + curl one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lambdasmith.local import peers
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


def test_the_response_limit_is_the_one_lambda_names():
    assert MAX_RESPONSE_BYTES == 6_291_556  # "… maximum allowed payload size (6291556 bytes)."


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


@pytest.mark.parametrize("linger", [0, 0.3])
def test_a_runtime_that_exits_after_answering_fails_nothing(emu, linger):
    """A one-shot bootstrap (or awslambdaric after a 413) ends between invocations: the next event,
    never handed to it, starts a fresh environment instead of failing with Runtime.ExitError. With
    `linger` the next invoke is queued while the old process still runs (the race)."""
    first = call(emu, {"probe": "answer_then_exit", "linger": linger})
    assert first.ok
    old = json.loads(first.payload)["pid"]
    for _ in range(3):
        after = call(emu, {"probe": "answer_then_exit", "linger": linger})
        assert after.ok, after.payload
        assert after.init_duration_ms is not None  # a cold start, as Lambda would make
        new = json.loads(after.payload)["pid"]
        assert new != old
        old = new


def test_a_runtime_that_never_asks_for_an_event_still_fails_with_exit_error(tmp_path, sink):
    """Only an environment that served events gets the fresh start: one that dies in its init is an
    ExitError, not an endless restart."""
    script = tmp_path / "dies.sh"
    script.write_text("#!/bin/sh\necho dying\nexit 7\n")
    script.chmod(0o755)
    with RuntimeEmulator("dies", [str(script)], "x.run", str(tmp_path), log=sink) as dies:
        result = dies.invoke(b"{}")
    assert not result.ok and result.error_type == "Runtime.ExitError"
    assert "exit status 7" in result.error_message


def test_a_timeout_the_runtime_reports_itself_keeps_the_environment(emu):
    pid = json.loads(call(emu, {"probe": "pid"}).payload)["pid"]
    reported = call(emu, {"probe": "report_timeout"})
    assert not reported.ok and reported.error_type == "Runtime.Timeout"
    after = call(emu, {"probe": "pid"})
    assert after.ok and json.loads(after.payload)["pid"] == pid and after.init_duration_ms is None


def test_the_qualifier_the_caller_used_reaches_the_runtime_in_the_function_arn(emu):
    plain = json.loads(call(emu, {"probe": "headers"}).payload)["headers"]
    live = json.loads(call(emu, {"probe": "headers"}, qualifier="live").payload)["headers"]
    assert plain["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:probe-fn")
    assert live["Lambda-Runtime-Invoked-Function-Arn"].endswith(":function:probe-fn:live")


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


# --- only the environment's own processes -------------------------------------------------------

# A handler that holds its environment at a gate: in init (GATE_INIT set: the queued event waits for
# `next`) or in the invocation (the event is handed out, its answer waits); the test opens the gate.
GATE_HANDLER = """
import os, time

def wait(name):
    open(os.path.join(os.environ["GATE_DIR"], name + ".reached"), "w").close()
    deadline = time.monotonic() + 15
    while not os.path.exists(os.path.join(os.environ["GATE_DIR"], name + ".open")) and time.monotonic() < deadline:
        time.sleep(0.01)

if os.environ.get("GATE_INIT"):
    wait("init")

def run(event):
    if not os.environ.get("GATE_INIT"):
        wait("invoke")
    return {"echo": event}
"""

# Another process of the machine: each (method, path, body) on a connection of its own.
FOREIGN = """
import http.client, json, os, sys
host, port = sys.argv[1].split(":")
replies = []
for method, path, body in json.loads(sys.argv[2]):
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        conn.request(method, "/2018-06-01/runtime/" + path, body=body)
        r = conn.getresponse()
        replies.append({"status": r.status, "headers": dict(r.getheaders()), "body": r.read().decode()})
    except Exception as e:
        replies.append({"error": repr(e)})
    conn.close()
print(json.dumps({"pid": os.getpid(), "replies": replies}))
"""


def foreign(emu: RuntimeEmulator, *calls: tuple[str, str, str | None]) -> tuple[int, list[dict]]:
    done = subprocess.run([sys.executable, "-c", FOREIGN, emu.address, json.dumps(calls)], capture_output=True,
                          timeout=30, check=True)  # fmt: skip
    out = json.loads(done.stdout)
    return out["pid"], out["replies"]


def wait_for(path: Path, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


@pytest.fixture
def gated(tmp_path, sink):
    (tmp_path / "gate.py").write_text(GATE_HANDLER)

    def start(**env: str) -> RuntimeEmulator:
        return RuntimeEmulator("gated", PY_BOOTSTRAP, "gate.run", str(tmp_path), env={"GATE_DIR": str(tmp_path), **env},
                               timeout_s=20, init_timeout_s=20, log=sink)  # fmt: skip

    return start


def in_background(fn) -> tuple[threading.Thread, list]:
    out: list = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    return thread, out


def refused(reply: dict) -> bool:
    return reply.get("status") == 403 and json.loads(reply["body"])["errorType"] == "AccessDenied"


@pytest.mark.skipif(not peers.available(), reason="needs Linux /proc")
def test_a_foreign_process_gets_403_and_no_event_while_one_waits_and_the_bootstrap_gets_it(gated, tmp_path, sink):
    with gated(GATE_INIT="1") as emu:
        thread, results = in_background(lambda: emu.invoke(b'{"secret": "s3cr3t"}', request_id="rid-pending"))
        wait_for(tmp_path / "init.reached")  # the event is queued; the bootstrap is not asking yet
        pid, replies = foreign(emu, ("GET", "invocation/next", None), ("GET", "invocation/next", None))
        assert all(refused(r) for r in replies), replies
        for reply in replies:
            assert "Lambda-Runtime-Aws-Request-Id" not in reply["headers"]
            assert "s3cr3t" not in reply["body"] and "rid-pending" not in json.dumps(reply)
            assert reply["headers"].get("Connection") == "close"
        (tmp_path / "init.open").touch()
        thread.join(20)
        (result,) = results
        assert result.ok and json.loads(result.payload) == {"echo": {"secret": "s3cr3t"}}
        assert result.request_id == "rid-pending"
    notes = [line for line in sink.lines if "Runtime API connection refused" in line]
    assert len(notes) == 2 and all(f"from pid {pid} (" in line for line in notes)
    assert all(sys.executable in line and "\\n" in line and line.isprintable() for line in notes)  # escaped
    assert not any("refused" in line for line in result.logs.splitlines())  # not the function's log


@pytest.mark.skipif(not peers.available(), reason="needs Linux /proc")
def test_a_foreign_answer_for_the_pending_request_id_is_refused(gated, tmp_path):
    with gated() as emu:
        thread, results = in_background(lambda: emu.invoke(b'{"n": 1}', request_id="rid-running"))
        wait_for(tmp_path / "invoke.reached")  # handed out, not answered
        error = json.dumps({"errorMessage": "hijacked", "errorType": "Hijack"})
        _, replies = foreign(emu, ("POST", "invocation/rid-running/response", '"hijacked"'),
                             ("POST", "invocation/rid-running/error", error),
                             ("POST", "init/error", error))  # fmt: skip
        assert all(refused(r) for r in replies), replies
        assert thread.is_alive()  # still waiting for the bootstrap's answer
        (tmp_path / "invoke.open").touch()
        thread.join(20)
        (result,) = results
        assert result.ok and json.loads(result.payload) == {"echo": {"n": 1}}
        assert emu.invoke(b'{"n": 2}').ok  # no init error was taken either (the gate stays open)


@pytest.mark.skipif(not peers.available(), reason="needs Linux /proc")
def test_a_keep_alive_connection_is_checked_once(emu, monkeypatch):
    calls = []
    real = peers.peer_inode
    monkeypatch.setattr(peers, "peer_inode", lambda sock: calls.append(1) or real(sock))
    for n in range(5):
        assert call(emu, {"probe": "pid", "n": n}).ok
    assert len(calls) == 1  # the Python bootstrap's one connection


def test_without_proc_every_peer_is_admitted_with_one_warning(emu, sink, monkeypatch):
    monkeypatch.setattr(peers, "available", lambda: False)
    assert call(emu, {"probe": "pid"}).ok
    _, replies = foreign(emu, ("POST", "invocation/no-such-id/response", "{}"))
    assert replies[0]["status"] == 400  # admitted: the request itself is answered
    assert call(emu, {"probe": "pid"}).ok
    warnings = [line for line in sink.lines if "Runtime API peers are not checked" in line]
    assert len(warnings) == 1
