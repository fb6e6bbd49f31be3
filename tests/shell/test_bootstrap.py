"""The shell runtime's bootstraps against a fake Runtime API: the bash one (lambdasmith/shell/runtime/
bootstrap, the default) and the Python one (bootstrap.py beside it). Both run every behaviour test
(the `bootstrap_kind` fixture), so they keep one contract; where they differ by design, the test
says so.

`FakeRuntimeAPI` is a small Runtime API (2018-06-01) on 127.0.0.1: tests queue events, the
bootstrap (a real subprocess) takes them from `GET …/invocation/next` and posts its answers, which
the fake records with their headers. It counts accepted TCP connections, so keep-alive is visible.
tests/shell/test_examples.py uses it too.
"""

from __future__ import annotations

import ast
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOTSTRAP = ROOT / "lambdasmith" / "shell" / "runtime" / "bootstrap"  # bash
PY_BOOTSTRAP = ROOT / "lambdasmith" / "shell" / "runtime" / "bootstrap.py"
KINDS = ("bash", "python")
LIMIT = 6 * 1024 * 1024
PREFIX = "/2018-06-01/runtime"


def bootstrap_argv(kind: str) -> list[str]:
    """How each bootstrap is started when a test does not run it through its shebang."""
    return ["bash", str(BOOTSTRAP)] if kind == "bash" else [sys.executable, str(PY_BOOTSTRAP)]


def bootstrap_path(kind: str) -> Path:
    return BOOTSTRAP if kind == "bash" else PY_BOOTSTRAP


def require_tools(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} not on PATH: the shell runtime tests need them "
                    f"(apt-get install jq curl)", pytrace=False)


@dataclass
class Posted:
    """What the bootstrap posted for one request id (or for init)."""

    kind: str  # "response", "error" or "init-error"
    body: bytes
    headers: dict[str, str]

    @property
    def error(self) -> dict:
        return json.loads(self.body)


@dataclass
class Event:
    request_id: str
    payload: bytes
    deadline_ms: int | None
    trace_id: str | None


@dataclass
class FakeRuntimeAPI:
    close_each: bool = False  # answer with Connection: close (the bootstrap must reconnect)
    drop_each: bool = False  # close the connection after each answer, without saying so
    events: "queue.Queue[Event]" = field(default_factory=queue.Queue)
    posted: dict[str, list[Posted]] = field(default_factory=dict)
    init_errors: list[Posted] = field(default_factory=list)
    requests: list[tuple[str, str]] = field(default_factory=list)
    connections: int = 0
    first_next_at: float | None = None  # time.monotonic() of the first GET next

    def __post_init__(self) -> None:
        self.cond = threading.Condition()
        self.closed = threading.Event()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # headers and body go out in two writes: without this, Nagle + delayed ACK = 40 ms each
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with fake.cond:
                    fake.connections += 1

            def log_message(self, *args) -> None:
                pass

            def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                if fake.close_each:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                self.wfile.write(body)
                if fake.drop_each:
                    self.wfile.flush()
                    self.close_connection = True

            def do_GET(self) -> None:
                with fake.cond:
                    fake.requests.append(("GET", self.path))
                    if fake.first_next_at is None:
                        fake.first_next_at = time.monotonic()
                if self.path != PREFIX + "/invocation/next":
                    return self._answer(404, b"{}")
                while True:
                    if fake.closed.is_set():
                        self.close_connection = True
                        return
                    try:
                        event = fake.events.get(timeout=0.05)
                        break
                    except queue.Empty:
                        continue
                headers = {"Lambda-Runtime-Aws-Request-Id": event.request_id,
                           "Lambda-Runtime-Invoked-Function-Arn": "arn:aws:lambda:us-east-1:000000000000:function:f"}
                if event.deadline_ms is not None:
                    headers["Lambda-Runtime-Deadline-Ms"] = str(event.deadline_ms)
                if event.trace_id is not None:
                    headers["Lambda-Runtime-Trace-Id"] = event.trace_id
                self._answer(200, event.payload, headers)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {key.lower(): value for key, value in self.headers.items()}
                with fake.cond:
                    fake.requests.append(("POST", self.path))
                if self.path == PREFIX + "/init/error":
                    with fake.cond:
                        fake.init_errors.append(Posted("init-error", body, headers))
                        fake.cond.notify_all()
                    return self._answer(202, b'{"status":"OK"}')
                parts = self.path[len(PREFIX):].split("/")  # "", "invocation", id, kind
                if len(parts) != 4 or parts[3] not in ("response", "error"):
                    return self._answer(404, b"{}")
                if parts[3] == "response" and len(body) > LIMIT:
                    return self._answer(413, b'{"errorType":"RequestEntityTooLarge"}')
                with fake.cond:
                    fake.posted.setdefault(parts[2], []).append(Posted(parts[3], body, headers))
                    fake.cond.notify_all()
                self._answer(202, b'{"status":"OK"}')

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address) -> None:
                pass  # a bootstrap killed mid-request resets its connection: not news

        self.server = Server(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    @property
    def hostport(self) -> str:
        return "127.0.0.1:%d" % self.server.server_address[1]

    def push(self, payload: bytes, *, deadline_in_s: float | None = 30.0, trace_id: str | None = None,
             request_id: str | None = None) -> str:
        rid = request_id or str(uuid.uuid4())
        deadline = None if deadline_in_s is None else int((time.time() + deadline_in_s) * 1000)
        self.events.put(Event(rid, payload, deadline, trace_id))
        return rid

    def result(self, rid: str, timeout: float = 10.0) -> Posted:
        with self.cond:
            if not self.cond.wait_for(lambda: rid in self.posted, timeout):
                raise AssertionError(f"no answer for {rid} within {timeout} s")
            return self.posted[rid][0]

    def invoke(self, payload: bytes, timeout: float = 10.0, **kw) -> Posted:
        return self.result(self.push(payload, **kw), timeout)

    def close(self) -> None:
        self.closed.set()
        self.server.shutdown()
        self.server.server_close()


class Bootstrap:
    """The bootstrap as a subprocess; its stderr (the function's log) goes to a file."""

    def __init__(self, api: FakeRuntimeAPI, task_root: Path, handler: str = "handler.run",
                 env: dict[str, str] | None = None, argv: list[str] | None = None,
                 log_dir: Path | None = None, kind: str = "bash") -> None:
        self.log_path = (log_dir or task_root) / "bootstrap.log"
        self.log = open(self.log_path, "wb")
        full_env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "LANG": "C.UTF-8",
                    "AWS_LAMBDA_RUNTIME_API": api.hostport, "_HANDLER": handler,
                    "LAMBDA_TASK_ROOT": str(task_root)}
        full_env.update(env or {})
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(argv or bootstrap_argv(kind), env=full_env, cwd=task_root,
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def logs(self) -> bytes:
        self.log.flush()
        return self.log_path.read_bytes()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()  # the bootstrap kills its running handler's group on SIGTERM
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()


@pytest.fixture(params=KINDS)
def bootstrap_kind(request) -> str:
    return request.param


@pytest.fixture
def shell_runtime(tmp_path, bootstrap_kind):
    """start(handler_source, handler="handler.run", env=…, close_each=…, drop_each=…) -> (api, bootstrap)."""
    require_tools("bash")
    started: list[tuple[FakeRuntimeAPI, Bootstrap]] = []

    def start(source: str | None, handler: str = "handler.run", env: dict[str, str] | None = None,
              close_each: bool = False, argv: list[str] | None = None, drop_each: bool = False):
        if source is not None:
            (tmp_path / (handler.rpartition(".")[0] + ".sh")).write_text(source)
        api = FakeRuntimeAPI(close_each=close_each, drop_each=drop_each)
        boot = Bootstrap(api, tmp_path, handler, env, argv, kind=bootstrap_kind)
        started.append((api, boot))
        return api, boot

    yield start
    for api, boot in started:
        boot.stop()
        api.close()


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_until(check, timeout: float = 5.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.02)
    return check()


def children(pid: int) -> list[int]:
    out = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except FileNotFoundError:
            pass
    return out


# --- the file itself ---------------------------------------------------------------------------


def test_python_bootstrap_is_one_executable_stdlib_only_file():
    assert os.access(PY_BOOTSTRAP, os.X_OK)
    text = PY_BOOTSTRAP.read_text()
    assert text.startswith("#!/usr/bin/env -S python3 -S\n")  # no site: the bootstrap needs only the stdlib
    imported = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported, "the AST walk found no imports at all"
    assert imported <= set(sys.stdlib_module_names), imported - set(sys.stdlib_module_names)
    assert "lambdasmith" not in imported


def test_bash_bootstrap_is_one_executable_bash_file():
    assert os.access(BOOTSTRAP, os.X_OK)
    assert BOOTSTRAP.read_text().startswith("#!/bin/bash\n")
    checked = subprocess.run(["bash", "-n", str(BOOTSTRAP)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_python_startup_does_not_load_heavy_modules(shell_runtime, bootstrap_kind):
    # http.client alone (email.*) costs ~20 ms of a cold start; json only loads for error bodies.
    if bootstrap_kind != "python":
        pytest.skip("a Python bootstrap property")
    api, boot = shell_runtime("run() { cat; }\n", argv=[sys.executable, "-X", "importtime", str(PY_BOOTSTRAP)])
    assert api.invoke(b"x").body == b"x"
    loaded = {line.split("|")[-1].strip() for line in boot.logs().decode().splitlines() if "import time:" in line}
    assert "select" in loaded  # the probe sees the bootstrap's imports at all
    assert not loaded & {"http.client", "email.parser", "json", "subprocess", "urllib.parse", "threading"}


# --- invocations ---------------------------------------------------------------------------------


def test_event_on_stdin_stdout_is_the_response_stderr_is_the_log(shell_runtime):
    api, boot = shell_runtime('run() { echo "to the log" >&2; printf "got:"; cat; }\n')
    posted = api.invoke(b'{"a": 1}')
    assert (posted.kind, posted.body) == ("response", b'got:{"a": 1}')
    assert wait_until(lambda: b"to the log" in boot.logs())


def test_executable_runs_through_its_shebang(shell_runtime, bootstrap_kind):
    api, boot = shell_runtime("run() { printf ok; }\n", argv=[str(bootstrap_path(bootstrap_kind))])
    assert api.invoke(b"{}", timeout=20).body == b"ok"


def test_handler_error_message_is_escaped_json(shell_runtime):
    source = r"""run() {
  printf 'he said "hi"\nline2\ttab \\ backslash\n' >&2
  printf '\xff\xfe raw bytes\n' >&2
  exit 3
}
"""
    api, boot = shell_runtime(source)
    posted = api.invoke(b"{}")
    assert posted.kind == "error"
    assert posted.headers["lambda-runtime-function-error-type"] == "Runtime.HandlerError"
    posted.body.decode("ascii")  # non-UTF-8 bytes are escaped, never sent raw
    error = posted.error
    assert error["errorType"] == "Runtime.HandlerError"
    assert error["errorMessage"].startswith("exit status 3: ")
    assert 'he said "hi"\nline2\ttab \\ backslash\n' in error["errorMessage"]
    assert "\ufffd" in error["errorMessage"] and "raw bytes" in error["errorMessage"]
    # and the loop goes on
    assert api.invoke(b"{}").kind == "error"


def test_stderr_tail_is_bounded_while_all_of_stderr_reaches_the_log(shell_runtime):
    source = r"""run() {
  echo FIRST-MARKER >&2
  for i in $(seq 1 2000); do echo "line $i of noise noise noise noise noise noise" >&2; done
  echo LAST-MARKER >&2
  exit 1
}
"""
    api, boot = shell_runtime(source)
    message = api.invoke(b"{}").error["errorMessage"]
    assert message.startswith("exit status 1: ")
    assert message.endswith("LAST-MARKER")
    assert len(message) <= 4096 + 100
    assert "FIRST-MARKER" not in message
    logs = boot.logs()
    assert b"FIRST-MARKER" in logs and b"line 2000 of noise" in logs and b"LAST-MARKER" in logs


def test_missing_function_in_the_file(shell_runtime, bootstrap_kind):
    # By design they differ: the bash bootstrap sources the file at init, so it knows there; the
    # Python one starts a fresh bash per invocation and learns it from bash (exit status 127).
    api, boot = shell_runtime("other() { :; }\n")
    if bootstrap_kind == "bash":
        assert boot.proc.wait(timeout=10) == 1
        assert [p.headers["lambda-runtime-function-error-type"] for p in api.init_errors] == ["Runtime.HandlerNotFound"]
        assert "run" in api.init_errors[0].error["errorMessage"]
        return
    posted = api.invoke(b"{}")
    assert posted.error["errorType"] == "Runtime.HandlerError"
    assert posted.error["errorMessage"].startswith("exit status 127: ")


def test_missing_handler_file_is_an_init_error_and_exit_1(shell_runtime):
    api, boot = shell_runtime(None, handler="nowhere.run")
    assert boot.proc.wait(timeout=10) == 1
    assert len(api.init_errors) == 1
    posted = api.init_errors[0]
    assert posted.headers["lambda-runtime-function-error-type"] == "Runtime.NoSuchHandler"
    assert posted.error["errorType"] == "Runtime.NoSuchHandler"
    assert "nowhere.sh" in posted.error["errorMessage"]
    assert ("GET", PREFIX + "/invocation/next") not in api.requests


def test_default_handler_is_handler_run(shell_runtime, tmp_path):
    (tmp_path / "handler.sh").write_text("run() { printf default; }\n")
    api, boot = shell_runtime(None, env={"_HANDLER": ""})
    assert api.invoke(b"{}").body == b"default"


def test_deadline_kills_the_handler_process_group(shell_runtime, tmp_path):
    source = r"""run() {
  [[ $(cat) == again ]] && { printf again; return; }
  sleep 30 &
  echo $! > "$LAMBDA_TASK_ROOT/background.pid"
  echo $BASHPID > "$LAMBDA_TASK_ROOT/main.pid"
  echo "going to sleep" >&2
  sleep 30
}
"""
    api, boot = shell_runtime(source)
    started = time.monotonic()
    posted = api.invoke(b"{}", deadline_in_s=1.0, timeout=10)
    elapsed = time.monotonic() - started
    assert posted.kind == "error"
    assert posted.headers["lambda-runtime-function-error-type"] == "Runtime.Timeout"
    assert posted.error["errorType"] == "Runtime.Timeout"
    assert "going to sleep" in posted.error["errorMessage"]
    assert 0.7 < elapsed < 5
    for name in ("main.pid", "background.pid"):
        pid = int((tmp_path / name).read_text())
        assert wait_until(lambda: not alive(pid), 3), f"{name} {pid} survived the timeout"
    # the environment stays: the next invocation runs normally in the same bootstrap
    assert api.invoke(b"again").body == b"again"
    assert boot.proc.poll() is None and api.connections == 1


def test_a_handler_within_its_deadline_is_not_killed(shell_runtime):
    api, boot = shell_runtime("run() { sleep 0.3; printf done; }\n")
    assert api.invoke(b"{}", deadline_in_s=3.0).body == b"done"
    assert api.invoke(b"{}", deadline_in_s=None).body == b"done"  # no deadline header at all


def test_oversized_response_is_an_error_never_sent_half(shell_runtime):
    api, boot = shell_runtime('run() { head -c "$(cat)" /dev/zero; }\n')
    rid = api.push(str(LIMIT + 1).encode())
    posted = api.result(rid, timeout=20)
    assert posted.kind == "error"
    assert posted.error["errorType"] == "Runtime.ResponseTooLarge"
    assert str(LIMIT + 1) in posted.error["errorMessage"]
    assert [p.kind for p in api.posted[rid]] == ["error"]  # no response, whole or partial
    exact = api.invoke(str(LIMIT).encode(), timeout=20)
    assert exact.kind == "response" and exact.body == bytes(LIMIT)


def test_bodies_are_binary_safe(shell_runtime):
    api, boot = shell_runtime("run() { cat; }\n")
    payload = bytes(range(256)) * 16
    assert api.invoke(payload).body == payload


def test_big_event_in_and_big_response_out_at_once(shell_runtime):
    # The handler writes while the event is still coming in: no deadlock on full pipes.
    api, boot = shell_runtime("run() { cat; }\n")
    payload = os.urandom(3 * 1024 * 1024)
    assert api.invoke(payload, timeout=20).body == payload


def test_handler_that_ignores_a_big_event(shell_runtime):
    api, boot = shell_runtime("run() { printf ignored; }\n")
    assert api.invoke(b"x" * (2 * 1024 * 1024), timeout=20).body == b"ignored"


def test_trace_id_reaches_the_handler_env_and_does_not_leak(shell_runtime):
    api, boot = shell_runtime('run() { printf %s "${_X_AMZN_TRACE_ID-unset}"; }\n')
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    assert api.invoke(b"{}", trace_id=trace).body == trace.encode()
    assert api.invoke(b"{}").body == b"unset"


def test_one_connection_across_invocations(shell_runtime):
    api, boot = shell_runtime("run() { cat; }\n")
    for i in range(25):
        assert api.invoke(b"%d" % i).body == b"%d" % i
    assert api.connections == 1


def test_reconnects_when_the_api_closes_the_connection(shell_runtime):
    api, boot = shell_runtime("run() { cat; }\n", close_each=True)
    for i in range(5):
        assert api.invoke(b"%d" % i).body == b"%d" % i
    assert api.connections >= 10  # each next and each response on a new connection


@pytest.mark.timeout(60)
def test_thousand_invocations_no_leak_no_lost_response(shell_runtime):
    api, boot = shell_runtime("run() { cat; }\n")
    for i in range(5):  # warm up
        api.invoke(b"warm")
    fds_before = len(os.listdir(f"/proc/{boot.pid}/fd"))
    started = time.monotonic()
    for i in range(1000):
        payload = b"request %d %s" % (i, uuid.uuid4().hex.encode())
        rid = api.push(payload)
        posted = api.result(rid)
        assert (posted.kind, posted.body) == ("response", payload)
    elapsed = time.monotonic() - started
    fds_after = len(os.listdir(f"/proc/{boot.pid}/fd"))
    assert fds_after == fds_before
    assert all(len(answers) == 1 for answers in api.posted.values())
    assert len(api.posted) == 1005
    assert children(boot.pid) == []  # every handler reaped
    assert api.connections == 1
    assert elapsed < 30, f"1000 invocations took {elapsed:.1f} s"


def test_sigterm_to_the_bootstrap_kills_the_running_handler(shell_runtime, tmp_path):
    api, boot = shell_runtime('run() { echo $BASHPID > "$LAMBDA_TASK_ROOT/main.pid"; sleep 30; }\n')
    api.push(b"{}")
    assert wait_until(lambda: (tmp_path / "main.pid").exists() and (tmp_path / "main.pid").read_text(), 5)
    pid = int((tmp_path / "main.pid").read_text())
    boot.proc.send_signal(signal.SIGTERM)
    assert boot.proc.wait(timeout=5) != 0
    assert wait_until(lambda: not alive(pid), 3)


def test_bootstrap_exits_when_the_runtime_api_goes_away(shell_runtime):
    api, boot = shell_runtime("run() { cat; }\n")
    assert api.invoke(b"1").body == b"1"
    api.close()
    assert boot.proc.wait(timeout=10) == 1
    assert b"Runtime API unreachable" in boot.logs()


# --- through lambdasmith.local.runtime_api (the Runtime API emulator) ----------------------------


@pytest.fixture
def emulator(tmp_path, bootstrap_kind):
    from lambdasmith.local.runtime_api import RuntimeEmulator

    made = []

    def make(source: str, timeout_s: float = 10, handler: str = "handler.run", **kw):
        (tmp_path / (handler.rpartition(".")[0] + ".sh")).write_text(source)
        logs: list[str] = []
        emu = RuntimeEmulator("shell-fn", bootstrap_argv(bootstrap_kind), handler, str(tmp_path), timeout_s=timeout_s,
                              log=logs.append, **kw)
        made.append(emu)
        return emu, logs

    yield make
    for emu in made:
        emu.close()


def test_emulator_success_error_and_trace(emulator):
    emu, logs = emulator('run() { echo "log line" >&2; printf "%s|" "$_X_AMZN_TRACE_ID"; cat; }\n')
    trace = "Root=1-00000001-000000000000000000000001;Parent=0000000000000001;Sampled=1"
    result = emu.invoke(b'{"x": 1}', trace_id=trace)
    assert result.ok, result.payload
    assert result.payload == trace.encode() + b'|{"x": 1}'
    assert result.init_duration_ms is not None
    assert "log line" in result.logs
    again = emu.invoke(b"2")
    assert again.ok and again.payload.endswith(b"|2") and again.init_duration_ms is None  # same environment


def test_emulator_handler_error(emulator):
    emu, logs = emulator('run() { echo "bad \\"thing\\"" >&2; return 4; }\n')
    result = emu.invoke(b"{}")
    assert not result.ok
    assert result.error_type == "Runtime.HandlerError"
    assert result.error_message == 'exit status 4: bad "thing"'


def test_emulator_timeout_is_reported_by_the_bootstrap(emulator, tmp_path):
    emu, logs = emulator('run() { echo $BASHPID > "$LAMBDA_TASK_ROOT/main.pid"; sleep 30; }\n', timeout_s=1)
    started = time.monotonic()
    result = emu.invoke(b"{}")
    assert time.monotonic() - started < 5
    assert result.error_type == "Runtime.Timeout"
    assert "killed at its deadline" in result.error_message  # the bootstrap's report, not the emulator's
    pid = int((tmp_path / "main.pid").read_text())
    assert wait_until(lambda: not alive(pid), 3)
    emu_ok, _ = emulator("run() { printf fine; }\n", handler="other.run")
    assert emu_ok.invoke(b"{}").payload == b"fine"


def test_emulator_missing_handler_is_an_init_error(emulator, tmp_path, bootstrap_kind):
    from lambdasmith.local.runtime_api import RuntimeEmulator

    with RuntimeEmulator("shell-fn", bootstrap_argv(bootstrap_kind), "absent.run", str(tmp_path), log=lambda s: None) as emu:
        result = emu.invoke(b"{}")
    assert not result.ok
    assert result.error_type == "Runtime.NoSuchHandler"


def test_emulator_oversized_response(emulator):
    emu, logs = emulator("run() { head -c 6291457 /dev/zero; }\n")
    result = emu.invoke(b"{}")
    assert not result.ok
    assert result.error_type == "Runtime.ResponseTooLarge"
