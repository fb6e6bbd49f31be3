"""The Lambda Runtime API (2018-06-01) on one machine, for functions on a custom runtime.

What AWS's Runtime Interface Emulator does: `RuntimeEmulator` serves the Runtime API on
127.0.0.1 (an ephemeral port), starts the function's `bootstrap` as a child process on the first
invoke (with `AWS_LAMBDA_RUNTIME_API` and the other variables Lambda sets), hands it one event at a
time and waits for its answer:

    GET  /2018-06-01/runtime/invocation/next          → 200, the event and its Lambda-Runtime-* headers
    POST /2018-06-01/runtime/invocation/{id}/response → 202; 400 unknown id; 403 answered; 413 > 6 MiB
    POST /2018-06-01/runtime/invocation/{id}/error    → 202
    POST /2018-06-01/runtime/init/error               → 202; the environment is reset

A bootstrap that exits while an invocation runs fails it with `Runtime.ExitError`; one that does
not answer before the deadline is killed (`Runtime.Timeout`); either way the next invoke starts a
fresh one (a cold start again). An init that does not ask for its first event within
`init_timeout_s` is killed as well (`Runtime.InitTimeout`). A bootstrap that exits *between*
invocations (after answering, as a one-shot bootstrap does, or awslambdaric after a 413) fails
nothing: the next event, never handed out, goes to a fresh environment. A `Runtime.Timeout` the
runtime reports itself (our bootstrap kills its handler first) leaves its environment running.

The bootstrap's stdout and stderr are forwarded line by line to the log sink (stderr by default),
between the `START` / `END` / `REPORT` lines of each invocation (`Init Duration` on the first one
after an init: from starting the bootstrap to its first `next`; `Max Memory Used`: the
bootstrap's peak RSS, /proc/PID/status VmHWM).

Only the environment's own processes may use the Runtime API: each connection's peer is looked up
once, on its first request (lambdasmith.local.peers), and one that is neither the bootstrap, nor one
of its descendants, nor this process gets a 403 `AccessDenied` and a closed connection; the refusal
is logged with the peer's PID and command line. Without /proc (not Linux) every peer is admitted,
with one warning.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import select
import socket
import subprocess
import sys
import termios
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

from lambdasmith.kit.ids import uuid4
from lambdasmith.local import peers
from lambdasmith.local.invocation import (
    LATEST,
    MAX_RESPONSE,
    end_line,
    function_arn,
    region,
    report_line,
    start_line,
)
from lambdasmith.local.servers import LocalServer

MAX_RESPONSE_BYTES = MAX_RESPONSE  # 6291556, the response limit Lambda's error names
MAX_ERROR_BYTES = 1024 * 1024
PREFIX = "/2018-06-01/runtime/"
KNOWN_IDS = 1000  # answered request ids remembered (a late second answer is a 403, not a 400)
LOG_SETTLE_S = 0.2  # how long END waits for the bootstrap's log lines already in the pipe
KILL_WAIT_S = 5.0

LogSink = Callable[[str], None]


@dataclass
class Invocation:
    """One invocation's outcome: the response body, or the error JSON the runtime posted."""

    request_id: str
    ok: bool
    payload: bytes
    error_type: str | None = None
    duration_ms: float = 0.0
    init_duration_ms: float | None = None
    max_memory_mb: int = 0
    logs: str = ""

    @property
    def error_message(self) -> str:
        try:
            return str(json.loads(self.payload).get("errorMessage") or self.error_type or "")
        except (ValueError, AttributeError):
            return self.error_type or ""


def error_json(error_type: str, message: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def _stderr_sink(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


class _Pending:
    """An invocation from queueing to its answer (fields guarded by the emulator's condition)."""

    def __init__(self, request_id: str, payload: bytes, client_context: str | None, trace_id: str,
                 function_arn: str):  # fmt: skip
        self.request_id = request_id
        self.payload = payload
        self.client_context = client_context
        self.trace_id = trace_id
        self.function_arn = function_arn  # with the qualifier the caller used
        self.timed_out = False  # by the emulator's clock (not a timeout the runtime reported)
        self.dispatched: float | None = None  # monotonic, when `next` handed it out
        self.deadline_ms = 0
        self.result: Invocation | None = None


class _Child:
    """One execution environment: the bootstrap process and the pumps of its output."""

    def __init__(self, argv: list[str], env: dict[str, str], cwd: str, sink: Callable[[str], None],
                 on_exit: Callable[[], None]):  # fmt: skip
        self.on_exit = on_exit
        self.started = time.monotonic()
        self.proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)  # fmt: skip
        self.init_ms: float | None = None  # set by the first `next`
        self.init_reported = False
        self.peak_mb = 0
        self.consumed = 0
        self.cond = threading.Condition()
        self.pumps = [threading.Thread(target=self._pump, args=(pipe, sink), daemon=True)
                      for pipe in (self.proc.stdout, self.proc.stderr)]  # fmt: skip
        for t in self.pumps:
            t.start()

    def _pump(self, pipe: Any, sink: Callable[[str], None]) -> None:
        # Wait for output without the lock, then read and sink it holding the lock: `settle`
        # takes the same lock, so it never sees a chunk that has left the pipe but not reached
        # the sink (which would let END overtake the function's last lines).
        fd = pipe.fileno()
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        partial = b""
        while True:
            poller.poll()
            with self.cond:
                try:
                    chunk = os.read(fd, 65536)  # readable: does not block
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                lines = (partial + chunk).split(b"\n")
                partial = lines.pop()
                for line in lines:
                    sink(line.decode("utf-8", "replace") + "\n")
                self.consumed += len(chunk)
                self.cond.notify_all()
        if partial:
            sink(partial.decode("utf-8", "replace") + "\n")
        pipe.close()
        if pipe is self.proc.stdout:  # the bootstrap has ended (or closed its stdout): reap, tell
            try:
                self.proc.wait(1.0)
            except subprocess.TimeoutExpired:
                pass
            self.on_exit()

    def settle(self, timeout: float) -> None:
        """Wait (bounded) until the lines already written to the pipes have reached the sink."""
        with self.cond:  # no pump is between reading a chunk and sinking it
            waiting = 0
            for pipe in (self.proc.stdout, self.proc.stderr):
                if pipe is None:  # not piped
                    continue
                try:
                    buf = bytearray(4)
                    fcntl.ioctl(pipe.fileno(), termios.FIONREAD, buf)
                    waiting += int.from_bytes(buf, sys.byteorder)
                except (OSError, ValueError):
                    pass
            target = self.consumed + waiting
            self.cond.wait_for(lambda: self.consumed >= target, timeout)

    def memory_mb(self) -> int:
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        self.peak_mb = max(self.peak_mb, math.ceil(int(line.split()[1]) / 1024))
        except (OSError, ValueError, IndexError):
            pass
        return self.peak_mb

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, 9)  # the bootstrap and whatever it started
            except OSError:
                self.proc.kill()
        try:
            self.proc.wait(KILL_WAIT_S)
        except subprocess.TimeoutExpired:
            pass
        for t in self.pumps:
            t.join(1.0)


class RuntimeEmulator:
    """One function's execution environment behind a Runtime API server; invocations run one
    at a time (callers on other threads wait their turn)."""

    def __init__(self, function_name: str, bootstrap: list[str], handler: str, task_root: str,
                 env: dict[str, str] | None = None, timeout_s: float = 30, memory_mb: int = 128, *,
                 init_timeout_s: float = 10, log: LogSink | None = None):  # fmt: skip
        self.function_name = function_name
        self.bootstrap = list(bootstrap)
        self.handler = handler
        self.task_root = os.path.abspath(task_root)  # also the bootstrap's working directory
        self.env = dict(env or {})
        self.timeout_s = timeout_s
        self.memory_mb = memory_mb
        self.init_timeout_s = init_timeout_s
        self._sink = log or _stderr_sink
        self._cond = threading.Condition()
        self._turn = threading.Lock()  # one invocation at a time
        self._queue: _Pending | None = None  # queued, not yet handed out
        self._ids: OrderedDict[str, _Pending] = OrderedDict()  # handed out (answered or not)
        self._child: _Child | None = None
        self._spawning = threading.Lock()  # held from starting a bootstrap until `_child` is it
        self._unchecked_warned = False  # no /proc: peers are admitted unchecked, said once
        self._generation = 0  # of the environment; a `next` from an older one gets nothing
        self._init_error: Invocation | None = None
        self._closed = False
        self._capture: list[str] | None = None
        self._server = _RuntimeServer(("127.0.0.1", 0), self)
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"runtime-api-{function_name}",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    # ------------------------------------------------------------------ public

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        assert isinstance(host, str)  # bound to a host name or IP text, never bytes
        return f"{host}:{port}"

    @property
    def function_arn(self) -> str:
        return function_arn(self.function_name)

    @property
    def pid(self) -> int | None:
        """The running bootstrap's process id, if one runs."""
        child = self._child
        return child.proc.pid if child is not None and child.proc.poll() is None else None

    def invoke(self, payload: bytes, *, client_context: str | None = None, trace_id: str | None = None,
               request_id: str | None = None, qualifier: str | None = None) -> Invocation:  # fmt: skip
        """Run one invocation. `qualifier` (a version or alias the caller named) is part of the
        invoked-function ARN the runtime is given."""
        with self._turn:
            if self._closed:
                raise RuntimeError(f"{self.function_name}: the runtime emulator is closed")
            request_id = request_id or uuid4()
            trace_id = trace_id or new_trace_id()
            self._capture = []
            self._log(start_line(request_id))
            pending = _Pending(request_id, payload, client_context, trace_id, function_arn(self.function_name, qualifier))
            result = self._run(pending)
            child = self._child
            if child is not None:
                child.settle(LOG_SETTLE_S)
                result.max_memory_mb = child.memory_mb()
                if child.init_ms is not None and not child.init_reported:
                    child.init_reported = True
                    result.init_duration_ms = child.init_ms
            if self._init_error is not None or pending.timed_out:
                self._reset()  # the next invoke starts a fresh environment (so after an exit: dead)
            self._init_error = None
            self._log(end_line(request_id))
            self._log(report_line(request_id, result.duration_ms, self.memory_mb, result.max_memory_mb,
                                  result.init_duration_ms))  # fmt: skip
            result.logs = "".join(self._capture)
            self._capture = None
            return result

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._reset()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(KILL_WAIT_S)

    def __enter__(self) -> RuntimeEmulator:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # ------------------------------------------------------------------ the invocation

    def _run(self, pending: _Pending) -> Invocation:
        for attempt in range(2):
            try:
                child = self._ensure_child()
            except OSError as e:  # no such bootstrap, not executable, …
                message = f"Couldn't start the bootstrap {self.bootstrap[0]!r}: {e.strerror or e}"
                self._log(message + "\n")
                return Invocation(pending.request_id, False, error_json("Runtime.InvalidEntrypoint", message),
                                  "Runtime.InvalidEntrypoint")  # fmt: skip
            with self._cond:
                self._wait(pending, child)
                self._queue = None
                if (attempt == 0 and pending.dispatched is None and pending.result is None
                        and child.init_ms is not None and child.proc.poll() is not None):  # fmt: skip
                    # It served earlier events and ended before asking for this one: it ended
                    # between invocations, which fails nothing. A fresh environment takes it.
                    continue
                result = pending.result
                if result is None:
                    # Not answered: a timeout or an exit. Later answers for this id are refused (403).
                    pending.result = result = self._unanswered(pending, child)
                return result
        raise AssertionError("unreachable: the second attempt always returns")  # pragma: no cover

    def _wait(self, pending: _Pending, child: _Child) -> None:
        """Queue `pending` and wait (holding the condition) until it is answered, its environment
        exits, or time runs out: the init limit until `next` takes it, then the function timeout."""
        self._queue = pending
        self._cond.notify_all()
        init_limit = time.monotonic() + self.init_timeout_s

        def settled() -> bool:
            return pending.result is not None or child.proc.poll() is not None

        while pending.dispatched is None and not settled():
            left = init_limit - time.monotonic()
            if left <= 0:
                break
            self._cond.wait(left)  # woken by `next`, an answer, or the bootstrap's exit
        if pending.dispatched is not None:
            deadline = pending.dispatched + self.timeout_s
            while not settled():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)

    def _unanswered(self, pending: _Pending, child: _Child) -> Invocation:
        since = pending.dispatched if pending.dispatched is not None else time.monotonic()
        duration = (time.monotonic() - since) * 1000
        code = child.proc.poll()
        if code is not None:
            message = f"RequestId: {pending.request_id} Error: Runtime exited with error: " + (
                f"exit status {code}" if code >= 0 else f"signal: {_signal_name(-code)}"
            )
            self._log(message + "\nRuntime.ExitError\n")
            return Invocation(pending.request_id, False, error_json("Runtime.ExitError", message), "Runtime.ExitError",
                              duration_ms=duration)  # fmt: skip
        pending.timed_out = True  # the environment is reset when the invocation ends
        if pending.dispatched is None:
            message = f"Init timed out after {_seconds(self.init_timeout_s)} seconds"
            kind = "Runtime.InitTimeout"
        else:
            message = f"Task timed out after {_seconds(self.timeout_s)} seconds"
            kind, duration = "Runtime.Timeout", self.timeout_s * 1000
        self._log(f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime())}Z {pending.request_id} {message}\n")
        return Invocation(pending.request_id, False, error_json(kind, message), kind, duration_ms=duration)

    def _ensure_child(self) -> _Child:
        child = self._child
        if child is not None and child.proc.poll() is None:
            return child
        if child is not None:
            child.kill()  # reap it, and drain its pipes
        env = {
            "PATH": os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin"),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "TZ": ":UTC",
            "AWS_REGION": region(),
            "AWS_DEFAULT_REGION": region(),
            "AWS_LAMBDA_RUNTIME_API": self.address,
            "_HANDLER": self.handler,
            "LAMBDA_TASK_ROOT": self.task_root,
            "LAMBDA_RUNTIME_DIR": os.path.dirname(os.path.abspath(self.bootstrap[-1])),
            "AWS_LAMBDA_FUNCTION_NAME": self.function_name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(self.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": LATEST,
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{self.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": time.strftime("%Y/%m/%d", time.gmtime())
            + f"/[{LATEST}]{uuid4().replace('-', '')}",
            **self.env,
        }
        with self._cond:
            self._ids.clear()
            self._generation += 1
            self._cond.notify_all()
        cwd = self.task_root if os.path.isdir(self.task_root) else os.getcwd()
        with self._spawning:  # a bootstrap that connects at once waits in `admits` for its PID
            self._child = child = _Child(self.bootstrap, env, cwd, self._log, self._wake)
        return child

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _reset(self) -> None:
        child, self._child = self._child, None
        with self._cond:
            self._generation += 1
            self._cond.notify_all()
        if child is not None:
            child.kill()

    # ------------------------------------------------------------------ logs

    def _log(self, text: str) -> None:
        capture = self._capture
        if capture is not None:
            capture.append(text)
        try:
            self._sink(text)
        except Exception:  # a broken sink must not break the invocation
            pass

    def _notice(self, text: str) -> None:
        """A line of the emulator's own about the Runtime API, not about an invocation: to the
        sink, not into the running invocation's logs."""
        try:
            self._sink(text)
        except Exception:
            pass

    # ------------------------------------------------------------------ the Runtime API (server threads)

    def admits(self, sock: socket.socket) -> bool:
        """Whether the peer of a Runtime API connection is this environment's bootstrap, one of
        its descendants, or this process; a refusal is logged."""
        if not peers.available():
            if not self._unchecked_warned:
                self._unchecked_warned = True
                self._notice(f"{self.function_name}: no /proc here: Runtime API peers are not checked "
                             "(any local process may connect)\n")  # fmt: skip
            return True
        with self._spawning:
            child = self._child
        root = child.proc.pid if child is not None else None
        inode = peers.peer_inode(sock)
        if inode is not None and peers.holder(inode, _candidates(root)) is not None:
            return True
        pid = None if inode is None else peers.holder(inode, peers.all_pids())  # refusals only: a full scan
        who = f"pid {pid} ({peers.cmdline(pid) or '?'})" if pid is not None else "a peer not found in /proc"
        tree = f"bootstrap pid {root}" if root is not None else "no bootstrap running"
        self._notice(f"{self.function_name}: Runtime API connection refused (403 AccessDenied) from {who}: "
                     f"not this environment's process ({tree})\n")  # fmt: skip
        return False

    def next_invocation(self, stop: Callable[[], bool]) -> _Pending | None:
        """Block until an invocation is queued; hand it out."""
        with self._cond:
            generation = self._generation
            while True:
                if self._closed or stop() or generation != self._generation:
                    return None
                pending = self._queue
                if pending is not None and pending.dispatched is None and pending.result is None:
                    now = time.monotonic()
                    child = self._child
                    if child is not None and child.init_ms is None:
                        child.init_ms = (now - child.started) * 1000
                    pending.dispatched = now
                    pending.deadline_ms = int(time.time() * 1000 + self.timeout_s * 1000)
                    self._ids[pending.request_id] = pending
                    while len(self._ids) > KNOWN_IDS:
                        self._ids.popitem(last=False)
                    self._cond.notify_all()
                    return pending
                self._cond.wait(1.0)

    def answer(self, request_id: str, result: Invocation) -> int:
        """A response or error for `request_id`: 202, 400 unknown, 403 answered already."""
        with self._cond:
            pending = self._ids.get(request_id)
            if pending is None:
                return 400
            if pending.result is not None:
                return 403
            assert pending.dispatched is not None
            result.duration_ms = (time.monotonic() - pending.dispatched) * 1000
            pending.result = result
            self._cond.notify_all()
            return 202

    def init_error(self, error_type: str, body: bytes) -> None:
        """The runtime could not start: the queued invocation fails with its error; the
        environment is reset when that invocation ends (the next invoke inits again)."""
        with self._cond:
            pending = self._queue
            result = Invocation(pending.request_id if pending else "", False, body, error_type)
            self._init_error = result
            if pending is not None and pending.result is None:
                pending.result = result
            self._cond.notify_all()


def _candidates(root: int | None) -> Iterator[int]:
    """The PIDs that may hold a Runtime API connection's other end, likeliest first: the bootstrap,
    its descendants (a shell bootstrap's curl; looked up only when the bootstrap is not it), and
    this process (in-process clients)."""
    own = os.getpid()
    if root is not None:
        yield root
        yield from sorted(peers.process_tree(root) - {root, own})
    yield own


def new_trace_id() -> str:
    """An X-Ray trace header, for an invocation whose caller sent none."""
    return f"Root=1-{int(time.time()):08x}-{uuid4().replace('-', '')[:24]};Parent={uuid4().replace('-', '')[:16]};Sampled=0"


def _seconds(s: float) -> str:
    return f"{s:.2f}"


def _signal_name(number: int) -> str:
    import signal

    try:
        return signal.Signals(number).name.lower().removeprefix("sig")
    except ValueError:
        return str(number)


def _error_result(request_id: str, header_type: str | None, body: bytes) -> Invocation:
    """An /error post → the invocation's error (type: header, else the body's errorType)."""
    error_type = header_type
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        text = body.decode("utf-8", "replace")
        parsed = {"errorMessage": text, "errorType": error_type or "Unhandled"}
        body = json.dumps(parsed).encode()
    error_type = error_type or str(parsed.get("errorType") or "Unhandled")
    return Invocation(request_id, False, body, error_type)


# ---------------------------------------------------------------------------- HTTP


class _RuntimeServer(LocalServer, ThreadingHTTPServer):
    def __init__(self, address: tuple[str, int], emulator: RuntimeEmulator):
        self.emulator = emulator
        self.stopping = False
        super().__init__(address, _RuntimeHandler)

    def shutdown(self) -> None:
        self.stopping = True
        super().shutdown()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # a bootstrap killed mid-request
        super().handle_error(request, client_address)


class _RuntimeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # the status line, headers and body go out without a stall
    server: _RuntimeServer
    admitted: bool | None = None  # this connection's verdict, taken on its first request

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        if self._admitted():
            return True
        self._drain_body(MAX_ERROR_BYTES)  # unread, it would reset the connection under the 403
        return self._refuse()

    def handle_expect_100(self) -> bool:
        if not self._admitted():
            return self._refuse()  # before "100 Continue": the body is never asked for
        return super().handle_expect_100()

    def _admitted(self) -> bool:
        if self.admitted is None:  # keep-alive: once per connection
            self.admitted = self.server.emulator.admits(self.connection)
        return self.admitted

    def _refuse(self) -> bool:
        self.close_connection = True
        self._reply(403, {"errorMessage": "Only the execution environment's own processes may use the Runtime API",
                          "errorType": "AccessDenied"})  # fmt: skip
        return False

    def do_GET(self) -> None:
        if self.path.split("?")[0] != PREFIX + "invocation/next":
            self._drain_body(MAX_ERROR_BYTES)
            return self._reply(404, {"errorMessage": "Not found", "errorType": "InvalidRequest"})
        emulator = self.server.emulator
        pending = emulator.next_invocation(lambda: self.server.stopping)
        if pending is None:
            self.close_connection = True
            return self._reply(503, {"errorMessage": "The runtime API is stopping", "errorType": "Shutdown"})
        headers = [
            ("Lambda-Runtime-Aws-Request-Id", pending.request_id),
            ("Lambda-Runtime-Deadline-Ms", str(pending.deadline_ms)),
            ("Lambda-Runtime-Invoked-Function-Arn", pending.function_arn),
            ("Lambda-Runtime-Trace-Id", pending.trace_id),
            ("Content-Type", "application/json"),
        ]
        if pending.client_context:
            headers.append(("Lambda-Runtime-Client-Context", pending.client_context))
        self._send(200, pending.payload, headers)

    def do_POST(self) -> None:
        emulator = self.server.emulator
        parts = self.path.split("?")[0][len(PREFIX) :].split("/") if self.path.startswith(PREFIX) else []
        if parts == ["init", "error"]:
            body = self._drain_body(MAX_ERROR_BYTES)
            if body is None:
                return self._reply(413, {"errorMessage": "Payload too large", "errorType": "RequestEntityTooLarge"})
            result = _error_result("", self.headers.get("Lambda-Runtime-Function-Error-Type"), body)
            emulator.init_error(result.error_type or "Runtime.Unknown", result.payload)
            return self._reply(202, {"status": "OK"})
        if len(parts) != 3 or parts[0] != "invocation" or parts[2] not in ("response", "error"):
            self._drain_body(MAX_ERROR_BYTES)
            return self._reply(404, {"errorMessage": "Not found", "errorType": "InvalidRequest"})
        request_id, kind = parts[1], parts[2]
        limit = MAX_RESPONSE_BYTES if kind == "response" else MAX_ERROR_BYTES
        body = self._drain_body(limit)
        if body is None:  # too large: the invocation fails, and this id is answered
            message = f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes)."
            status = emulator.answer(request_id, Invocation(request_id, False,
                                     error_json("Function.ResponseSizeTooLarge", message), "Function.ResponseSizeTooLarge"))  # fmt: skip
            if status == 202:
                status = 413
            return self._reply(status, _status_body(status, message))
        if kind == "response":
            result = Invocation(request_id, True, body)
        else:
            result = _error_result(request_id, self.headers.get("Lambda-Runtime-Function-Error-Type"), body)
        status = emulator.answer(request_id, result)
        self._reply(status, _status_body(status, ""))

    def _drain_body(self, limit: int) -> bytes | None:
        """The request body (Content-Length or chunked); None past `limit` (read away, or the
        connection closed when it is far too large)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks: list[bytes] = []
            size, over = 0, False
            while True:
                line = self.rfile.readline(65537)
                try:
                    n = int(line.split(b";")[0].strip() or b"0", 16)
                except ValueError:
                    self.close_connection = True
                    return None
                if n == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return None if over else b"".join(chunks)
                data = self.rfile.read(n)
                self.rfile.readline(3)
                size += len(data)
                if size > limit:
                    over = True
                    chunks = []
                elif not over:
                    chunks.append(data)
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            n = -1
        if n < 0 or n > 4 * limit + 1024:
            self.close_connection = True
            return None
        if n > limit:
            while n > 0:
                got = self.rfile.read(min(n, 1 << 16))
                if not got:
                    break
                n -= len(got)
            return None
        return self.rfile.read(n) if n else b""

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        self._send(status, json.dumps(body).encode(), [("Content-Type", "application/json")])

    def _send(self, status: int, body: bytes, headers: list[tuple[str, str]]) -> None:
        self.send_response_only(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _status_body(status: int, message: str) -> dict[str, Any]:
    if status == 202:
        return {"status": "OK"}
    if status == 400:
        return {"errorMessage": "Invalid request ID", "errorType": "InvalidRequestID"}
    if status == 403:
        return {"errorMessage": "Invalid state transition: the invocation is answered already",
                "errorType": "InvalidStateTransition"}  # fmt: skip
    return {"errorMessage": message, "errorType": "RequestEntityTooLarge"}
