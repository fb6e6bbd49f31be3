"""One Lambda invocation on this machine: the one path every local entry point takes.

`lambdasmith serve` (an HTTP request of an API Gateway system), the Invoke API (BASE+3, sync and
async), `lambdasmith invoke` and the queue pump all run a function through `invoke` here, so
they agree on what Lambda's Python runtime does around a handler:

- the handler is imported on the first invocation (the cold start, timed for `Init Duration`);
  a failed import is Lambda's `Runtime.ImportModuleError` / `Runtime.UserCodeSyntaxError` /
  `Runtime.HandlerNotFound`, and is tried again on the next invocation;
- the handler gets a real context (`Context`: request id, ARN with the qualifier the caller used,
  remaining time, log group and stream, client context);
- `START` / `END` / `REPORT` lines (formatted by `start_line`, `end_line`, `report_line`, which
  the Runtime API emulator of custom runtimes uses as well);
- an unhandled error is Lambda's error document (`errorMessage`, `errorType`, `requestId`,
  `stackTrace`: the handler's frames only); a result that is not JSON is `Runtime.MarshalError`,
  one over 6 MB `Function.ResponseSizeTooLarge`;
- function names are parsed the way the Invoke API accepts them (`parse_function_name`): a
  name, `name:qualifier`, a partial ARN `ACCOUNT:function:name[:qualifier]`, a full ARN;
- the platform's constants: the account, `$LATEST`, the region, the payload limits.

What differs between the entry points is only what they do with the outcome: an HTTP response,
an Invoke API reply, the result on stdout, a batch to delete.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import math
import os
import re
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

__all__ = [
    "ACCOUNT",
    "DEFAULT_MEMORY_MB",
    "DEFAULT_REGION",
    "DEFAULT_TIMEOUT_S",
    "LATEST",
    "MAX_ASYNC_PAYLOAD",
    "MAX_CLIENT_CONTEXT",
    "MAX_RESPONSE",
    "MAX_SYNC_PAYLOAD",
    "Client",
    "ClientContext",
    "Context",
    "Function",
    "InitError",
    "Outcome",
    "decode_client_context",
    "end_line",
    "error_document",
    "error_payload",
    "function_arn",
    "invoke",
    "load_handler",
    "max_memory_mb",
    "parse_function_name",
    "region",
    "report_line",
    "resolve",
    "start_line",
]

ACCOUNT = "000000000000"  # the account of every local ARN
LATEST = "$LATEST"  # every local invocation runs the unpublished version
DEFAULT_REGION = "us-east-1"
DEFAULT_MEMORY_MB = 128
DEFAULT_TIMEOUT_S = 30.0
MAX_SYNC_PAYLOAD = 6 * 1024 * 1024  # 6291456: Lambda's synchronous request limit
MAX_ASYNC_PAYLOAD = 256 * 1024  # Event invocations: what one queue message holds (MAX_MESSAGE_BYTES)
# A synchronous response: 6 MiB and 100 bytes, the figure Lambda's own error names ("Response
# payload size exceeded maximum allowed payload size (6291556 bytes).").
MAX_RESPONSE = 6_291_556
MAX_CLIENT_CONTEXT = 3583  # bytes of base64, as Lambda limits it

LambdaHandler = Callable[[Any, Any], Any]

# What the Invoke API's FunctionName accepts (AWS's own pattern): an optional `arn:aws:lambda:`,
# region and account, an optional `function:`, the name, an optional qualifier.
_FUNCTION_NAME = re.compile(
    r"(?:arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-\d):(?P<arn_account>\d{12}):function:"
    r"|(?P<account>\d{12}):function:)?"
    r"(?P<name>[a-zA-Z0-9_-]{1,140})(?::(?P<qualifier>\$LATEST|[a-zA-Z0-9_-]{1,128}))?"
)


def region(env: Mapping[str, str] = os.environ) -> str:
    return env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION


def function_arn(name: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region()}:{ACCOUNT}:function:{name}"
    return f"{arn}:{qualifier}" if qualifier else arn


def parse_function_name(raw: str) -> tuple[str, str | None]:
    """`name`, `name:q`, `ACCOUNT:function:name[:q]`, `arn:aws:lambda:REGION:ACCOUNT:function:name[:q]`
    → (name, q); ("", None) for anything else (no function has that name)."""
    m = _FUNCTION_NAME.fullmatch(raw)
    if m is None:
        return "", None
    return m["name"], m["qualifier"]


# ---------------------------------------------------------------------------- the context


class Client:
    """`context.client_context.client`, as the Python runtime builds it."""

    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __init__(self, fields: dict[str, Any]):
        for name in self.__slots__:
            setattr(self, name, fields.get(name))


class ClientContext:
    """`context.client_context`: the caller's `X-Amz-Client-Context`, decoded."""

    __slots__ = ("client", "custom", "env", "raw")

    def __init__(self, fields: dict[str, Any]):
        self.raw = json.dumps(fields)  # as a custom runtime gets it (Lambda-Runtime-Client-Context)
        client = fields.get("client")
        self.client = Client(client) if isinstance(client, dict) else None
        self.custom = fields.get("custom")
        self.env = fields.get("env")


def decode_client_context(raw: str) -> ClientContext:
    """`X-Amz-Client-Context`: base64 of a JSON object, or ValueError."""
    if len(raw) > MAX_CLIENT_CONTEXT:
        raise ValueError(f"Client context must be at most {MAX_CLIENT_CONTEXT} bytes")
    try:
        fields = json.loads(base64.b64decode(raw, validate=True))
        if isinstance(fields, dict):
            return ClientContext(fields)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise ValueError("Client context must be a valid Base64-encoded JSON object.") from None
    if not isinstance(fields, dict):
        raise ValueError("Client context must be a valid Base64-encoded JSON object.")
    return ClientContext(fields)


@dataclass
class Context:
    """The Lambda context object, as handlers read it."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = DEFAULT_MEMORY_MB
    timeout_s: float = DEFAULT_TIMEOUT_S
    function_version: str = LATEST
    log_group_name: str = ""
    log_stream_name: str = ""
    client_context: ClientContext | None = None
    identity: Any = None
    qualifier: str | None = None  # of the name or ARN the caller used
    started: float = field(default_factory=time.monotonic)

    @property
    def invoked_function_arn(self) -> str:
        return function_arn(self.function_name, self.qualifier)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_s - (time.monotonic() - self.started)) * 1000))


# ---------------------------------------------------------------------------- log lines


def start_line(request_id: str) -> str:
    return f"START RequestId: {request_id} Version: {LATEST}\n"


def end_line(request_id: str) -> str:
    return f"END RequestId: {request_id}\n"


def report_line(request_id: str, duration_ms: float, memory_mb: int, max_memory_used_mb: int,
                init_ms: float | None = None) -> str:  # fmt: skip
    """Lambda's REPORT line (billed in whole milliseconds, at least one)."""
    report = (f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
              f"Billed Duration: {max(1, math.ceil(duration_ms))} ms\tMemory Size: {memory_mb} MB\t"
              f"Max Memory Used: {max_memory_used_mb} MB")  # fmt: skip
    if init_ms is not None:
        report += f"\tInit Duration: {init_ms:.2f} ms"
    return report + "\t\n"


def max_memory_mb() -> int:
    """This process's peak resident memory (the functions share it), 0 where it cannot be read."""
    try:
        import resource
    except ImportError:  # not on this platform
        return 0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss // (1024 * 1024) if sys.platform == "darwin" else rss // 1024


# ---------------------------------------------------------------------------- errors


def error_document(error_type: str, message: str, stack: list[str], request_id: str | None = None) -> dict[str, Any]:
    """The error Lambda's Python runtime answers for an unhandled exception or a failed init."""
    doc: dict[str, Any] = {"errorMessage": message, "errorType": error_type}
    if request_id is not None:
        doc["requestId"] = request_id
    doc["stackTrace"] = stack
    return doc


def error_payload(request_id: str, error_type: str, message: str, stack: list[str]) -> bytes:
    return json.dumps(error_document(error_type, message, stack, request_id)).encode()


class InitError(Exception):
    """The handler could not be loaded; Lambda's errorType for it (`Runtime.…`)."""

    def __init__(self, error_type: str, message: str):
        super().__init__(message)
        self.error_type = error_type


def resolve(ref: str) -> Any:
    """What "module:attr" names (a handler, a config class, a hook), imported."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def load_handler(ref: str) -> LambdaHandler:
    """The handler of "module:attr", imported; InitError as Lambda's runtime reports a failure."""
    module, _, attr = ref.partition(":")
    try:
        handler = getattr(importlib.import_module(module), attr, None)
    except ImportError as e:
        raise InitError("Runtime.ImportModuleError", f"Unable to import module '{module}': {e}") from None
    except SyntaxError as e:
        raise InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module}': {e}") from None
    except Exception as e:  # the module raised while it was imported
        raise InitError(type(e).__name__, f"Unable to import module '{module}': {e}") from None
    if not callable(handler):
        raise InitError("Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module}'")
    return handler


# ---------------------------------------------------------------------------- functions


class Function:
    """One function: its handler, imported on the first invocation (the cold start) from `ref`
    ("module:attr"), or given ready as `handler`; one execution environment, so one log stream."""

    def __init__(self, name: str, ref: str = "", *, handler: LambdaHandler | None = None,
                 memory_mb: int = DEFAULT_MEMORY_MB, timeout_s: float = DEFAULT_TIMEOUT_S):  # fmt: skip
        self.name = name
        self.ref = ref
        self.memory_mb = memory_mb
        self.timeout_s = timeout_s
        self._handler = handler
        self._lock = threading.Lock()
        self.log_stream = _log_stream() if handler is not None else ""  # named when the environment starts

    def handler(self) -> tuple[LambdaHandler, float | None]:
        """The handler, and the init time in ms when this call loaded it."""
        handler = self._handler
        if handler is not None:
            return handler, None
        with self._lock:
            if self._handler is not None:
                return self._handler, None
            started = time.perf_counter()
            handler = load_handler(self.ref)
            self._handler = handler
            self.log_stream = _log_stream()
            return handler, (time.perf_counter() - started) * 1000


def _log_stream() -> str:
    return time.strftime("%Y/%m/%d", time.gmtime()) + f"/[{LATEST}]{uuid.uuid4().hex}"


@dataclass
class Outcome:
    """One invocation's answer: the handler's result (and its JSON payload when marshalled), or
    the function error (`Unhandled`) with Lambda's error document as the payload."""

    request_id: str
    payload: bytes
    function_error: str | None = None
    error_message: str = ""
    log_tail: bytes | None = None
    init_ms: float | None = None
    duration_ms: float = 0.0
    result: Any = None
    error_type: str | None = None
    exception: BaseException | None = None


def _stderr(text: str) -> None:
    sys.stderr.write(text)  # looked up on each call: whatever sys.stderr is then


def invoke(
    fn: Function,
    event: Any,
    *,
    request_id: str | None = None,
    qualifier: str | None = None,
    client_context: ClientContext | None = None,
    marshal: bool = True,
    log: Callable[[str], Any] | None = _stderr,
) -> Outcome:
    """Run `fn` on this thread as Lambda would. `log` gets START, the error report, END and
    REPORT (None: nothing is written); `marshal` makes the JSON payload (and its errors) of the
    result — without it the caller takes `result` as it is (an HTTP gateway, the pump)."""
    request_id = request_id or str(uuid.uuid4())
    if log is not None:
        log(start_line(request_id))
    outcome = _run(fn, event, request_id, qualifier, client_context, marshal)
    if log is not None:
        if outcome.function_error:
            doc = json.loads(outcome.payload)
            text = f"[ERROR] {doc['errorType']}: {doc['errorMessage']}\n"
            if not isinstance(outcome.exception, InitError):
                text += "Traceback (most recent call last):\n" + "".join(doc["stackTrace"])
            log(text)
        log(end_line(request_id) + report_line(request_id, outcome.duration_ms, fn.memory_mb, max_memory_mb(),
                                               outcome.init_ms))  # fmt: skip
    return outcome


def _run(fn: Function, event: Any, request_id: str, qualifier: str | None, client_context: ClientContext | None,
         marshal: bool) -> Outcome:  # fmt: skip
    try:
        handler, init_ms = fn.handler()
    except InitError as e:
        return Outcome(request_id, error_payload(request_id, e.error_type, str(e), []), "Unhandled", str(e),
                       error_type=e.error_type, exception=e)  # fmt: skip
    ctx = Context(
        fn.name,
        aws_request_id=request_id,
        memory_limit_in_mb=fn.memory_mb,
        timeout_s=fn.timeout_s,
        log_group_name=f"/aws/lambda/{fn.name}",
        log_stream_name=fn.log_stream,
        client_context=client_context,
        qualifier=qualifier,
    )
    started = time.perf_counter()
    exception: BaseException | None = None
    stack: list[str]
    try:
        result = handler(event, ctx)
        if not marshal:
            return Outcome(request_id, b"", init_ms=init_ms, duration_ms=(time.perf_counter() - started) * 1000,
                           result=result)  # fmt: skip
        try:
            payload = json.dumps(result).encode()
        except (TypeError, ValueError) as e:
            error_type, message, stack, exception = "Runtime.MarshalError", f"Unable to marshal response: {e}", [], e
        else:
            if len(payload) > MAX_RESPONSE:
                error_type, stack = "Function.ResponseSizeTooLarge", []
                message = f"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE} bytes)."
            else:
                duration = (time.perf_counter() - started) * 1000
                return Outcome(request_id, payload, init_ms=init_ms, duration_ms=duration, result=result)
    except (Exception, SystemExit) as e:
        # The handler's own frames only: drop this function's frame, the first of the traceback.
        tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
        stack = traceback.format_list(traceback.extract_tb(tb))
        error_type = "Runtime.ExitError" if isinstance(e, SystemExit) else type(e).__name__
        message = str(e) if not isinstance(e, SystemExit) else f"Runtime exited with error: exit status {e.code}"
        exception = e
    duration = (time.perf_counter() - started) * 1000
    return Outcome(
        request_id, error_payload(request_id, error_type, message, stack), "Unhandled", message or error_type,
        init_ms=init_ms, duration_ms=duration, error_type=error_type, exception=exception,
    )  # fmt: skip
