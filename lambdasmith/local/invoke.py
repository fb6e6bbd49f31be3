"""The Lambda Invoke API on one machine (`lambdasmith serve invoke`, BASE+3).

    POST /2015-03-31/functions/{FunctionName}/invocations[?Qualifier=…]

what `aws lambda invoke --endpoint-url …`, boto3 and the other SDKs call, for every function of
the registry (the Python functions of the service manifests, `lambdasmith.services`). FunctionName may be a name,
`name:qualifier`, a partial ARN (`ACCOUNT:function:name`) or a full ARN; qualifiers are accepted
and ignored (every call runs `$LATEST`).

- `X-Amz-Invocation-Type: RequestResponse` (default) runs the function on this request's thread:
  200 with the JSON result, or 200 with `X-Amz-Function-Error: Unhandled` and the error as Lambda's
  Python runtime shapes it (`errorMessage`, `errorType`, `requestId`, `stackTrace`);
  `X-Amz-Log-Type: Tail` adds `X-Amz-Log-Result`, the base64 of the last 4 KB of the invocation's
  log; `X-Amz-Client-Context` (base64 JSON) becomes `context.client_context`;
- `Event` answers 202 at once: the event is stored in the embedded queue `lambda-async-{function}`
  of the data directory, and a worker thread per function invokes it. A failed attempt is retried
  twice, the first retry after LAMBDASMITH_ASYNC_RETRY_DELAY seconds (default 1; AWS waits about
  a minute), the second after twice that (whole seconds: queue delays are); then the payload goes
  to the queue `{function}-dlq` with the attributes Lambda's DLQ messages carry (`RequestID`,
  `ErrorCode`, `ErrorMessage`).
  Queued events survive a restart; an event still running when the server stops is put back
  (at least once, like Lambda's own async delivery);
- `DryRun` answers 204 without running anything;
- an unknown function is a 404 `ResourceNotFoundException`, bad JSON a 400
  `InvalidRequestContentException`, a request over 6 MB (256 KB for `Event`) a 413
  `RequestTooLargeException`: the `x-amzn-ErrorType` header and `{"Type","message"}` body the
  SDKs and the CLI turn into those exceptions.

Each invocation runs through `lambdasmith.local.invocation`, which writes Lambda's `START` / `END` /
`REPORT` lines to stderr (`Init Duration` on the first one of a function: the time it took to
import its handler). Functions run on threads of
this process, so what a function prints is told apart by thread: `sys.stdout` and `sys.stderr` are
wrapped once by a proxy that writes through to the real stream and also appends to the capture of
the invocation running on the writing thread, if any.

Local-testing knob: LAMBDASMITH_EXTRA_FUNCTIONS="name=module:attr,name2=module:attr" adds
functions to the registry served here (a name given there replaces the registry's own).
"""

from __future__ import annotations

import base64
import heapq
import json
import math
import os
import sys
import threading
import time
from typing import Any, Callable, Mapping, TextIO
from urllib.parse import parse_qs, unquote

from lambdasmith.kit.backends import open_queue
from lambdasmith.kit.ids import uuid4
from lambdasmith.kit.queue.port import Message, Queue, message_size
from lambdasmith.local import invocation
from lambdasmith.local.apigw import HttpResult
from lambdasmith.local.invocation import (
    LATEST,
    MAX_ASYNC_PAYLOAD,
    MAX_SYNC_PAYLOAD,
    ClientContext,
    Outcome,
    decode_client_context,
    function_arn,
    parse_function_name,
)

__all__ = ["AsyncWorker", "Function", "InvokeApi", "Runner", "invoke", "registry"]

EXTRA_FUNCTIONS_ENV = "LAMBDASMITH_EXTRA_FUNCTIONS"
RETRY_DELAY_ENV = "LAMBDASMITH_ASYNC_RETRY_DELAY"

TAIL_BYTES = 4096
ATTEMPTS = 3  # an async event: the first try and two retries
DLQ_ERROR_BYTES = 1024  # ErrorMessage attribute, truncated (AWS keeps it short as well)
STOP_GRACE_S = 2.0  # how long a stopping server waits for running async invocations
IDLE_POLL_S = 5.0  # async workers re-read their queue this often when nothing woke them

TOO_LARGE = f"Request must be smaller than {MAX_SYNC_PAYLOAD} bytes for the InvokeFunction operation"

INVOKE_PREFIX = "/2015-03-31/functions/"
INVOKE_SUFFIX = "/invocations"


def registry(env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """The project's Python functions (from the service manifests) plus LAMBDASMITH_EXTRA_FUNCTIONS
    (`name=module:attr,…`)."""
    from lambdasmith.services import python_functions

    refs = {name: fn.handler for name, fn in python_functions().items()}
    for entry in (env.get(EXTRA_FUNCTIONS_ENV) or "").split(","):
        if not entry.strip():
            continue
        name, sep, ref = entry.strip().partition("=")
        if not sep or not name.strip() or ":" not in ref:
            raise ValueError(f"{EXTRA_FUNCTIONS_ENV}: {entry!r} is not name=module:attr")
        refs[name.strip()] = ref.strip()
    return refs


# ---------------------------------------------------------------------------- log capture


class _Capture:
    """What one invocation wrote; only the tail is kept (Tail returns the last 4 KB)."""

    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.size = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)
        if self.size > 4 * TAIL_BYTES and len(self.parts) > 1:
            kept = "".join(self.parts)[-TAIL_BYTES:]  # ≥ 4096 characters are ≥ 4096 bytes
            self.parts, self.size = [kept], len(kept)

    def tail(self) -> bytes:
        data = "".join(self.parts).encode("utf-8", "replace")[-TAIL_BYTES:]
        skip = 0
        while skip < min(3, len(data)) and data[skip] & 0xC0 == 0x80:  # no half character first
            skip += 1
        return data[skip:]


_capturing = threading.local()


class _ThreadTee:
    """`sys.stdout` / `sys.stderr` for every thread: writes reach the real stream, and also the
    capture of the invocation running on the writing thread."""

    def __init__(self, real: TextIO):
        self._real = real

    def write(self, text: str) -> int:
        n = self._real.write(text)
        capture: _Capture | None = getattr(_capturing, "capture", None)
        if capture is not None:
            capture.add(text)
        return n

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:  # flush, fileno, encoding, buffer, isatty, …
        return getattr(self._real, name)


def _ensure_tee() -> None:
    """Wrap the current sys.stdout/sys.stderr (once; again if someone replaced them since)."""
    if not isinstance(sys.stdout, _ThreadTee):
        sys.stdout = _ThreadTee(sys.stdout)
    if not isinstance(sys.stderr, _ThreadTee):
        sys.stderr = _ThreadTee(sys.stderr)


# ---------------------------------------------------------------------------- functions


Runner = Callable[[bytes, str, "str | None", "str | None"], Outcome]
"""A function with an execution environment of its own (a custom runtime behind the Runtime API
emulator): `run(raw event JSON, request id, client context JSON, qualifier)` → its outcome (the
qualifier the caller used reaches the runtime in its invoked-function ARN, as on Lambda). It writes
its own START / END / REPORT lines; the outcome's `log_tail` is its log."""


class Function(invocation.Function):
    """One function of the registry (`lambdasmith.local.invocation.Function`); with a `runner`,
    it runs there instead (`ref` is then only a label)."""

    def __init__(self, name: str, ref: str, runner: Runner | None = None):
        super().__init__(name, ref)
        self.runner = runner


def invoke(
    fn: Function,
    event: Any,
    *,
    request_id: str | None = None,
    qualifier: str | None = None,
    client_context: ClientContext | None = None,
    tail: bool = False,
    raw: bytes | None = None,
) -> Outcome:
    """Run `fn` on this thread (`lambdasmith.local.invocation.invoke`: START, the handler, END and
    REPORT on stderr), its log captured for `tail`. `raw`: the event as the caller sent it (what
    a function with a runner gets)."""
    _ensure_tee()
    request_id = request_id or uuid4()
    if fn.runner is not None:
        payload = raw if raw is not None else json.dumps(event).encode()
        outcome = fn.runner(payload, request_id, client_context.raw if client_context else None, qualifier)
        if not tail:
            outcome.log_tail = None
        return outcome
    capture = _Capture() if tail else None
    _capturing.capture = capture
    try:
        outcome = invocation.invoke(
            fn, event, request_id=request_id, qualifier=qualifier, client_context=client_context
        )
    finally:
        _capturing.capture = None
    if capture is not None:
        outcome.log_tail = capture.tail()
    return outcome


# ---------------------------------------------------------------------------- async invocations


def async_queue_name(function: str) -> str:
    return f"lambda-async-{function}"


def dlq_name(function: str) -> str:
    return f"{function}-dlq"


def retry_delay_s() -> float:
    raw = os.environ.get(RETRY_DELAY_ENV) or "1"
    try:
        delay = float(raw)
    except ValueError:
        delay = -1.0
    if not 0 <= delay <= 450:  # the second retry waits twice this; a queue delay is at most 15 min
        raise ValueError(f"{RETRY_DELAY_ENV} must be seconds within 0..450, not {raw!r}")
    return delay


class AsyncWorker:
    """Lambda's internal queue for one function: invoke each stored event, retry a failure twice
    (attempt n+1 waits n × the retry delay), then move it to the function's DLQ.

    The attempt number travels in the message's attributes, so an event put back at shutdown is
    not charged an attempt. Only this process sends to the queue, so it wakes the worker itself;
    the worker also re-reads the queue every IDLE_POLL_S (events left in flight by a killed server
    reappear after the visibility timeout).
    """

    def __init__(self, fn: Function, data_dir: str, retry_delay: float):
        self.fn = fn
        self.queue: Queue = open_queue(async_queue_name(fn.name), backend="sqlite", data_dir=data_dir)
        self.dlq: Queue = open_queue(dlq_name(fn.name), backend="sqlite", data_dir=data_dir)
        self.retry_delay = retry_delay
        self.visibility_s = 60  # > the 30 s function timeout of Context
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.due: list[float] = []  # when delayed retries become visible (monotonic; worker thread only)
        self.current: Message | None = None
        self.thread = threading.Thread(target=self.run, name=f"async-{fn.name}", daemon=True)

    def enqueue(self, body: str, attributes: dict[str, str]) -> None:
        self.queue.send(body, attributes)
        self.wake.set()

    def start(self) -> None:
        self.thread.start()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.wake.clear()  # before reading: an event sent after this read wakes the wait below
            try:
                messages = self.queue.receive(1, self.visibility_s)
            except Exception as e:  # a broken read must not end the worker
                sys.stderr.write(f"async {self.fn.name}: queue read failed: {type(e).__name__}: {e}\n")
                messages = []
            if messages:
                self.current = messages[0]
                try:
                    self.handle(messages[0])
                except Exception as e:
                    sys.stderr.write(f"async {self.fn.name}: {type(e).__name__}: {e}\n")
                finally:
                    self.current = None
                continue
            if not self.stopping.is_set():
                self.wake.wait(self._idle_wait())

    def _idle_wait(self) -> float:
        now = time.monotonic()
        while self.due and self.due[0] <= now:
            heapq.heappop(self.due)
        nxt = self.due[0] if self.due else now + IDLE_POLL_S
        return max(0.0, min(nxt, now + IDLE_POLL_S) - now)

    def handle(self, message: Message) -> None:
        attributes = message.attributes
        request_id = attributes.get("RequestID") or uuid4()
        attempt = int(attributes.get("Attempt") or 1)
        client_context = None
        if attributes.get("ClientContext"):
            try:
                client_context = decode_client_context(attributes["ClientContext"])
            except ValueError:
                pass  # checked when the event was accepted
        try:
            event = json.loads(message.body)
        except ValueError:  # not stored by us: nothing to retry
            self._dead_letter(message, request_id, "The stored event is not valid JSON")
            return
        outcome = invoke(self.fn, event, request_id=request_id, client_context=client_context,
                         raw=message.body.encode())  # fmt: skip
        if outcome.function_error is None:
            self.queue.delete_batch([message.receipt])
            return
        if self.stopping.is_set() and self.current is None:
            return  # put back by stop() meanwhile: it runs again after the restart
        if attempt < ATTEMPTS:
            delay = math.ceil(self.retry_delay * attempt)
            self.queue.send(message.body, {**attributes, "Attempt": str(attempt + 1)}, delay_s=delay)
            self.queue.delete_batch([message.receipt])
            heapq.heappush(self.due, time.monotonic() + delay + 0.05)
        else:  # the last attempt failed
            self._dead_letter(message, request_id, outcome.error_message)

    def _dead_letter(self, message: Message, request_id: str, error: str) -> None:
        """Off to the function's DLQ, with the attributes Lambda's DLQ messages carry."""
        error = error.encode()[:DLQ_ERROR_BYTES].decode("utf-8", "ignore") or "Unhandled"
        self.dlq.send(message.body, {"RequestID": request_id, "ErrorCode": "200", "ErrorMessage": error})
        self.queue.delete_batch([message.receipt])
        sys.stderr.write(f"async {self.fn.name}: {request_id} sent to {self.dlq.name}: {error}\n")

    def stop(self) -> None:
        self.stopping.set()
        self.wake.set()

    def put_back(self) -> None:
        """After the grace period: the event still running is made visible again for the next
        server (the invocation itself cannot be interrupted; it ends with the process)."""
        message = self.current
        if message is not None and self.thread.is_alive():
            self.current = None
            try:
                self.queue.change_visibility(message.receipt, 0)
            except Exception as e:
                sys.stderr.write(f"async {self.fn.name}: could not put back {message.id}: {e}\n")


# ---------------------------------------------------------------------------- the HTTP API


def error_reply(status: int, error_type: str, message: str, request_id: str) -> HttpResult:
    body = json.dumps({"Type": "User", "message": message}).encode()
    return HttpResult(status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", error_type),
                               ("x-amzn-RequestId", request_id)], body)  # fmt: skip


class InvokeApi:
    """The Invoke API for every function of the registry, with the async workers (started by
    `start`, stopped by `close`). No socket of its own: `lambdasmith.local.gateway` serves it
    (`lambdasmith.local.endpoints.InvokeEndpoint`), and a test can call `dispatch` directly."""

    def __init__(self, data_dir: str, refs: dict[str, str] | None = None, runners: Mapping[str, Runner] | None = None,
                 configs: Mapping[str, dict[str, Any]] | None = None):  # fmt: skip
        """`configs`: ListFunctions/GetFunction configurations of runner functions (by name);
        the Python functions' are made here."""
        from lambdasmith.local.function_config import configuration, python_runtime

        self.functions = {name: Function(name, ref) for name, ref in (refs or registry()).items()}
        for name, run in (runners or {}).items():  # e.g. the shell functions (lambdasmith.local.function_urls)
            self.functions.setdefault(name, Function(name, f"runtime-api:{name}", run))
        self.configs = {
            name: (configuration(name, runtime=python_runtime(), handler=fn.ref.replace(":", "."))
                   if fn.runner is None else (configs or {}).get(name)
                   or configuration(name, runtime="provided.al2023", handler=name))
            for name, fn in self.functions.items()
        }  # fmt: skip
        _ensure_tee()
        delay = retry_delay_s()
        self.workers = {name: AsyncWorker(fn, data_dir, delay) for name, fn in self.functions.items()}

    def start(self) -> None:
        for worker in self.workers.values():
            worker.start()

    def close(self) -> None:
        for worker in self.workers.values():
            worker.stop()
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self.workers.values():
            if worker.thread.is_alive():
                worker.thread.join(max(0.0, deadline - time.monotonic()))
        for worker in self.workers.values():
            worker.put_back()

    def dispatch(self, method: str, target: str, headers: dict[str, str], body: bytes,
                 request_id: str | None = None) -> HttpResult:  # fmt: skip
        """One HTTP request (headers by lower-case name) → its reply."""
        request_id = request_id or uuid4()
        path, _, query = target.partition("?")
        if method == "GET" and (path == INVOKE_PREFIX[:-1] or path.startswith(INVOKE_PREFIX)) \
                and not path.endswith(INVOKE_SUFFIX):  # fmt: skip
            return self._describe(path[len(INVOKE_PREFIX):], request_id)
        name = None
        if path.startswith(INVOKE_PREFIX) and path.endswith(INVOKE_SUFFIX):
            name = unquote(path[len(INVOKE_PREFIX) : -len(INVOKE_SUFFIX)])
        if not name or "/" in name:
            return error_reply(404, "UnknownOperationException", f"No such operation: {method} {path}", request_id)
        if method != "POST":
            reply = error_reply(405, "MethodNotAllowedException", f"{method} not allowed; use POST", request_id)
            reply.headers.append(("Allow", "POST"))
            return reply
        try:
            return self.invoke_function(name, query, headers, body, request_id)
        except Exception as e:  # our own failure, never the function's
            sys.stderr.write(f"invoke: internal error: {type(e).__name__}: {e}\n")
            return error_reply(500, "ServiceException", "Internal error", request_id)

    def _describe(self, rest: str, request_id: str) -> HttpResult:
        """GET …/functions/ (ListFunctions) or …/functions/{name} (GetFunction)."""
        from lambdasmith.local.function_config import get_function, list_functions

        rest = rest.rstrip("/")
        if not rest:
            reply: dict[str, Any] = list_functions(self.configs)
        else:
            name, qualifier = parse_function_name(unquote(rest))
            if name not in self.configs or qualifier not in (None, LATEST) or "/" in rest:
                return error_reply(404, "ResourceNotFoundException",
                                   f"Function not found: {function_arn(name or unquote(rest), qualifier)}", request_id)  # fmt: skip
            reply = get_function(self.configs[name])
        return HttpResult(200, [("Content-Type", "application/json"), ("x-amzn-RequestId", request_id)],
                          json.dumps(reply).encode())  # fmt: skip

    def invoke_function(
        self, raw_name: str, query: str, headers: dict[str, str], body: bytes, request_id: str
    ) -> HttpResult:
        name, qualifier = parse_function_name(raw_name)
        qualifier = qualifier or parse_qs(query).get("Qualifier", [""])[0] or None  # parse_qs drops blanks
        fn = self.functions.get(name)
        if fn is None:
            return error_reply(404, "ResourceNotFoundException",
                               f"Function not found: {function_arn(name or raw_name, qualifier)}", request_id)  # fmt: skip
        kind = headers.get("x-amz-invocation-type") or "RequestResponse"
        if kind not in ("RequestResponse", "Event", "DryRun"):
            return error_reply(
                400, "InvalidParameterValueException", f"Unsupported invocation type: {kind}", request_id
            )
        try:
            text = body.decode("utf-8") if body else "{}"
            event = json.loads(text)
        except (ValueError, RecursionError) as e:  # UnicodeDecodeError is one; RecursionError: nested too deep
            return error_reply(
                400, "InvalidRequestContentException", f"Could not parse request body into json: {e}", request_id
            )
        client_context = None
        raw_context = headers.get("x-amz-client-context")
        if raw_context:
            try:
                client_context = decode_client_context(raw_context)
            except ValueError as e:
                return error_reply(400, "InvalidRequestContentException", str(e), request_id)
        if kind == "DryRun":
            return HttpResult(204, [("x-amzn-RequestId", request_id)], b"")
        if kind == "Event":
            return self._enqueue(fn, text, event, raw_context, request_id)
        tail = headers.get("x-amz-log-type") == "Tail"
        outcome = invoke(fn, event, request_id=request_id, qualifier=qualifier, client_context=client_context, tail=tail,
                         raw=body or None)  # fmt: skip
        reply_headers = [("Content-Type", "application/json"), ("X-Amz-Executed-Version", LATEST),
                         ("x-amzn-RequestId", request_id)]  # fmt: skip
        if outcome.function_error:
            reply_headers.append(("X-Amz-Function-Error", outcome.function_error))
        if outcome.log_tail is not None:
            reply_headers.append(("X-Amz-Log-Result", base64.b64encode(outcome.log_tail).decode("ascii")))
        return HttpResult(200, reply_headers, outcome.payload)

    def _enqueue(self, fn: Function, text: str, event: Any, raw_context: str | None, request_id: str) -> HttpResult:
        attributes = {"RequestID": request_id, "Attempt": "1"}
        if raw_context:
            attributes["ClientContext"] = raw_context
        # Room for the DLQ's attributes too, so a failed event always fits its DLQ message.
        if message_size(text, attributes) + DLQ_ERROR_BYTES + 64 > MAX_ASYNC_PAYLOAD:
            return error_reply(413, "RequestTooLargeException",
                               f"Request must be smaller than {MAX_ASYNC_PAYLOAD} bytes for the InvokeFunction operation",
                               request_id)  # fmt: skip
        worker = self.workers[fn.name]
        try:
            worker.enqueue(text, attributes)
        except ValueError:  # characters a queue message may not carry: store the same event escaped
            worker.enqueue(json.dumps(event), attributes)
        return HttpResult(202, [("x-amzn-RequestId", request_id)], b"")
