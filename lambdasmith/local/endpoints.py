"""The endpoints `lambdasmith serve` answers, and what each one does with a request.

    BASE+offset  endpoint   what answers                                   body cap
    0            badges     the badges function, as its HTTP API (2.0)     the service's max_body_bytes
    1            wardrobe   the wardrobe API function, as its REST API (1.0)   the service's max_body_bytes
    2            shell      the shell functions' Function URLs, /{function}/…  6 MiB
    3            invoke     the Lambda Invoke API for every function        6 MiB

The systems (badges, wardrobe) and their offsets come from the service manifests; the platform's
own endpoints are PLATFORM. Each endpoint runs inside a server worker process behind
`lambdasmith.local.gateway`, which reads and bounds the request; `handle` runs on a handler
thread and turns the request into the same Lambda event as on AWS, and the result into a
response. `start`/`stop` run once per worker process (import the handler; start and stop the
async workers or the shell functions' bootstraps).

The Invoke API is guarded (`InvokeGuard`): a browser's request (it carries `Origin`) is refused
unless that origin is allowed, so a web page cannot invoke a function with a forged event; with
credentials configured, every request must carry an AWS Signature V4 made with one of them.
"""

from __future__ import annotations

import json
import os
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from lambdasmith.local import invocation
from lambdasmith.local.apigw import HttpResult, v1_event, v1_result, v2_event, v2_result
from lambdasmith.local.invocation import MAX_SYNC_PAYLOAD
from lambdasmith.manifest import FUNCTION_URL, PAYLOAD_VERSION
from lambdasmith.services import SERVICES

if TYPE_CHECKING:
    from lambdasmith.local.function_urls import ShellFunctions
    from lambdasmith.local.gateway import Request
    from lambdasmith.local.invoke import InvokeApi
    from lambdasmith.local.serve_config import ServeConfig
    from lambdasmith.manifest import Function, Service

__all__ = ["PLATFORM", "SERVABLE", "SYSTEMS", "Endpoint", "FunctionEndpoint", "InvokeEndpoint", "InvokeGuard",
           "ShellEndpoint", "open_endpoint", "port_offset", "served_system"]  # fmt: skip

SERVICE_BODY_CAP = 64 * 1024  # a service whose config declares no max_body_bytes


def _systems() -> dict[str, tuple[Service, Function]]:
    """Each service with a Python function served over HTTP (one per service), by service name."""
    out: dict[str, tuple[Service, Function]] = {}
    for svc in SERVICES:
        for fn in svc.functions:
            if fn.port_offset is not None and fn.runtime == "python":
                if svc.name in out:
                    raise ValueError(f"{svc.name}: more than one function with a port")
                out[svc.name] = (svc, fn)
    return out


def _shell_offset() -> int:
    """The one port of every Function URL (the first path segment names the function)."""
    offsets = {fn.port_offset for svc in SERVICES for fn in svc.functions if fn.payload == FUNCTION_URL}
    if len(offsets) != 1 or None in offsets:
        raise ValueError(f"the Function URLs need one port offset, not {sorted(offsets, key=str)}")
    return int(offsets.pop() or 0)


_SERVED = _systems()
SYSTEMS: dict[str, tuple[int, str, str]] = {
    # name: (port offset, "module:attribute" of the Lambda handler, API Gateway payload version)
    name: (int(fn.port_offset or 0), fn.handler, PAYLOAD_VERSION[fn.payload])
    for name, (_, fn) in _SERVED.items()
}

PLATFORM: dict[str, int] = {
    # name: port offset of a platform endpoint that serves every function rather than one system
    "shell": _shell_offset(),  # Function URLs of the shell functions, /{function}/… (lambdasmith.local.function_urls)
    "invoke": 3,  # Lambda Invoke API (lambdasmith.local.invoke), with its async-invocation workers
}

SERVABLE = [*SYSTEMS, *PLATFORM]


def port_offset(name: str) -> int:
    return SYSTEMS[name][0] if name in SYSTEMS else PLATFORM[name]


def served_system(name: str) -> tuple[Service, Function] | None:
    """The service and HTTP function of a system endpoint (None for a platform endpoint)."""
    return _SERVED.get(name)


def _json(status: int, doc: Any, headers: list[tuple[str, str]] | None = None) -> HttpResult:
    return HttpResult(status, [("Content-Type", "application/json"), *(headers or [])], json.dumps(doc).encode())


class Endpoint:
    """What the gateway needs of an endpoint. The defaults answer as API Gateway does."""

    name = "endpoint"
    max_body = MAX_SYNC_PAYLOAD

    def start(self) -> None:
        """Once per worker process, before the first request."""

    def stop(self) -> None:
        """Once per worker process, after the last request (bounded by the drain timeout)."""

    def admit(self, request: Request) -> HttpResult | None:
        """A refusal decided from the request head alone, before the body is read."""
        return None

    def handle(self, request: Request) -> HttpResult:
        raise NotImplementedError

    def error(self, status: int, message: str, request_id: str) -> HttpResult:
        """An answer of the gateway itself (413, 408, 501, 502…) in this endpoint's error shape."""
        return _json(status, {"message": message})


class FunctionEndpoint(Endpoint):
    """One Python function behind an API Gateway of payload version "1.0" (REST) or "2.0" (HTTP)."""

    def __init__(self, name: str, function: invocation.Function, payload: str, max_body: int) -> None:
        self.name, self.function, self.payload, self.max_body = name, function, payload, max_body

    def start(self) -> None:
        self.function.handler()  # imported now, not on the first request (an import error stops serve)

    def handle(self, request: Request) -> HttpResult:
        if self.payload == "1.0":
            event = v1_event(request.method, request.target, request.headers, request.body,
                             source_ip=request.client_ip, request_id=request.request_id)  # fmt: skip
        else:
            event = _v2_event(request)
        # The gateway takes the result as it is, and keeps its own log (the access log).
        outcome = invocation.invoke(self.function, event, request_id=request.request_id, marshal=False, log=None)
        if outcome.function_error:  # a handler that raises is a 502 at the gateway, as on AWS
            error = repr(outcome.exception) if outcome.exception is not None else outcome.error_message
            sys.stderr.write(json.dumps({"level": "ERROR", "service": self.name, "message": "handler raised",
                                         "error": error, "request_id": request.request_id}) + "\n")  # fmt: skip
            return self.error(502, "Internal Server Error", request.request_id)
        result = v1_result(outcome.result) if self.payload == "1.0" else v2_result(outcome.result)
        # API Gateway names the request in its answer: REST APIs as x-amzn-RequestId, HTTP APIs as apigw-requestid.
        result.headers.append(("x-amzn-RequestId" if self.payload == "1.0" else "apigw-requestid", request.request_id))
        return result


class ShellEndpoint(Endpoint):
    """The shell functions' Function URLs on one port: the first path segment names the function."""

    name = "shell"

    def __init__(self, functions: ShellFunctions | None = None) -> None:
        self._functions = functions

    @property
    def functions(self) -> ShellFunctions:
        if self._functions is None:
            from lambdasmith.local.function_urls import shell_functions

            self._functions = shell_functions()
        return self._functions

    def start(self) -> None:
        self.functions  # the configuration is read now: a broken one stops serve  # noqa: B018

    def stop(self) -> None:
        from lambdasmith.local.function_urls import close_shell_functions

        close_shell_functions()  # their bootstraps

    def handle(self, request: Request) -> HttpResult:
        from lambdasmith.local.function_urls import http_result, not_found
        from lambdasmith.local.runtime_api import new_trace_id

        path, sep, query = request.target.partition("?")
        name, _, rest = path.lstrip("/").partition("/")
        name, target = unquote(name), "/" + rest + sep + query
        emulator = self.functions.emulator(name) if name else None
        if emulator is None:
            return not_found(name, sorted(self.functions.functions))
        trace_id = request.header("x-amzn-trace-id") or new_trace_id()
        event = _v2_event(request, target, trace_id)
        # One request id for the event, the runtime's Lambda-Runtime-Aws-Request-Id and the access log.
        done = emulator.invoke(json.dumps(event).encode(), trace_id=trace_id, request_id=request.request_id)
        result = http_result(done)
        result.headers.append(("x-amzn-RequestId", request.request_id))  # as a Function URL names it
        return result


def _v2_event(request: Request, target: str | None = None, trace_id: str | None = None) -> dict[str, Any]:
    """The payload 2.0 event of a request, as an HTTP API or a Function URL front end makes it."""
    return v2_event(request.method, request.target if target is None else target, request.headers, request.body,
                    source_ip=request.client_ip, request_id=request.request_id, host=request.header("host") or "localhost",
                    protocol=request.protocol, forwarded=(request.scheme, request.port), trace_id=trace_id)  # fmt: skip


class InvokeGuard:
    """Who may call the Invoke API: no browser unless its origin is allowed; with credentials,
    only requests signed (SigV4) with one of them."""

    def __init__(self, allowed_origins: frozenset[str], credentials: dict[str, str]) -> None:
        self.allowed_origins = allowed_origins
        self.credentials = credentials

    @classmethod
    def from_config(cls, config: ServeConfig) -> InvokeGuard:
        creds: dict[str, str] = {}
        if config.invoke_credentials.strip():
            from lambdasmith.kit.aws.sigv4_verify import parse_credentials

            creds = parse_credentials(config.invoke_credentials)
        return cls(config.origins(), creds)

    def refuse_origin(self, request: Request) -> str | None:
        origin = request.header("origin")
        if origin is not None:
            if origin.strip().rstrip("/").lower() not in self.allowed_origins:
                return f"Origin {origin[:200]!r} is not allowed to call the Invoke API (LAMBDASMITH_INVOKE_ALLOWED_ORIGINS)"
        elif (request.header("sec-fetch-site") or "none") not in ("none", "same-origin"):
            return "A cross-site browser request may not call the Invoke API"
        return None

    def check_signature(self, request: Request) -> tuple[str, str] | None:
        """(error code, message) when the request is not signed by a known key; None when it is
        (or when no credentials are configured)."""
        if not self.credentials:
            return None
        from lambdasmith.kit.aws.sigv4_verify import SignatureError, verify

        try:
            verify(request.method, request.target, request.headers, request.body, credentials=self.credentials)
        except SignatureError as e:
            return e.code, e.message
        return None


class InvokeEndpoint(Endpoint):
    """The Lambda Invoke API (`lambdasmith.local.invoke`), behind its guard."""

    name = "invoke"

    def __init__(self, data_dir: str, guard: InvokeGuard, api: InvokeApi | None = None) -> None:
        self.data_dir, self.guard = data_dir, guard
        self._api = api

    @property
    def api(self) -> InvokeApi:
        if self._api is None:
            from lambdasmith.local.function_config import configuration
            from lambdasmith.local.function_urls import invoke_runners, shell_functions
            from lambdasmith.local.invoke import InvokeApi

            shell = shell_functions().functions
            configs = {name: configuration(name, runtime="provided.al2023", handler=fn.handler, memory_mb=fn.memory_mb,
                                           timeout_s=fn.timeout_s) for name, fn in shell.items()}  # fmt: skip
            self._api = InvokeApi(self.data_dir, runners=invoke_runners(), configs=configs)
        return self._api

    def start(self) -> None:
        self.api.start()

    def stop(self) -> None:
        self.api.close()  # running async events are put back for the next start
        from lambdasmith.local.function_urls import close_shell_functions

        close_shell_functions()

    def admit(self, request: Request) -> HttpResult | None:
        why = self.guard.refuse_origin(request)
        if why:
            return self._reply(403, "AccessDeniedException", why, request.request_id)
        return None

    def handle(self, request: Request) -> HttpResult:
        refused = self.guard.check_signature(request)
        if refused:
            return self._reply(403, refused[0], refused[1], request.request_id)
        headers: dict[str, str] = {}
        for k, v in request.headers:
            headers[k] = f"{headers[k]}, {v}" if k in headers else v
        return self.api.dispatch(request.method, request.target, headers, request.body, request.request_id)

    def error(self, status: int, message: str, request_id: str) -> HttpResult:
        if status == 413:
            from lambdasmith.local.invoke import TOO_LARGE

            return self._reply(413, "RequestTooLargeException", TOO_LARGE, request_id)
        error_type = {408: "RequestTimeoutException", 501: "UnknownOperationException"}.get(status, "ServiceException")
        return self._reply(status, error_type, message, request_id)

    def _reply(self, status: int, error_type: str, message: str, request_id: str) -> HttpResult:
        from lambdasmith.local.invoke import error_reply

        return error_reply(status, error_type, message, request_id)


def _service_body_cap(svc: Service) -> int:
    if not svc.config:
        return SERVICE_BODY_CAP
    config = invocation.resolve(svc.config).from_env()
    return int(getattr(config, "max_body_bytes", SERVICE_BODY_CAP))


def open_endpoint(name: str, config: ServeConfig, data_dir: str | None = None) -> Endpoint:
    """The endpoint called `name`, as a worker process serves it."""
    data_dir = data_dir or os.environ.get("LAMBDASMITH_DATA_DIR") or ""
    if name == "invoke":
        return InvokeEndpoint(data_dir, InvokeGuard.from_config(config))
    if name == "shell":
        return ShellEndpoint()
    served = served_system(name)
    if served is None:
        raise ValueError(f"no endpoint {name!r} (one of {', '.join(SERVABLE)})")
    svc, fn = served
    return FunctionEndpoint(name, invocation.Function(fn.name, fn.handler), SYSTEMS[name][2], _service_body_cap(svc))
