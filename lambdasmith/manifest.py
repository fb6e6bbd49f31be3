"""The shape of a service manifest (`lambdasmith/<service>/service.py`): what a service is made of,
as data, in one place a newcomer can read.

A manifest names its functions (the local name → the handler that runs on Lambda, the event
payload the function is given, the port `lambdasmith serve` answers it on), the event-source
mappings that feed queues to workers, the tables, queues and secrets with the environment
variables that name them, the config class and the local set-up hook. Every place that needs
one of these reads the manifest — `serve`, the Invoke API, `lambdasmith invoke`, the queue pump,
the import guard, `deploy/build.py` — and tests/deploy/test_manifests.py holds each manifest
against its SAM template, so what runs locally and what is deployed cannot drift apart.

Pure data and the standard library only: `deploy/build.py` imports manifests with a bare
python3, and a handler never imports them (references are "module:attr" strings, loaded by
whoever runs them).
"""

from __future__ import annotations

from lambdasmith.kit.values import Record

__all__ = [
    "DIRECT",
    "FUNCTION_URL",
    "HTTP_API",
    "PAYLOAD_VERSION",
    "REST_API",
    "SQS",
    "EventSource",
    "Function",
    "Resource",
    "Service",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# What a function is given as its event (the `payload` of a Function).
HTTP_API = "apigateway-http"  # API Gateway HTTP API, payload format 2.0
REST_API = "apigateway-rest"  # API Gateway REST API, payload format 1.0
FUNCTION_URL = "function-url"  # a Lambda Function URL (payload 2.0)
DIRECT = "direct"  # invoked directly (Invoke API, sync or async); the event is the caller's JSON
SQS = "sqs"  # an SQS event (Records) from an event-source mapping

PAYLOAD_VERSION = {HTTP_API: "2.0", REST_API: "1.0", FUNCTION_URL: "2.0"}
"""The HTTP event payload format of each HTTP payload kind."""


class Function(Record):
    """One Lambda function of a service.

    name: what the local platform calls it (Invoke API, `lambdasmith invoke`, the pump);
    handler: "module:attr" of a Python handler, or "file.function" of a shell handler;
    runtime: "python" or "shell" (a custom runtime behind the Runtime API emulator);
    payload: the event kind (HTTP_API, REST_API, FUNCTION_URL, DIRECT, SQS);
    port_offset: BASE+offset where `lambdasmith serve` answers it over HTTP (None: not served so);
    resource: its logical id in the service's SAM template;
    env: the environment variables its template sets (the ones the function reads there);
    routes: its API Gateway routes, "METHOD /path" as the template declares them;
    local_env: defaults the local platform sets (shell functions, which have no config class);
    local_timeout_s: the local platform's timeout for it (shell functions; None: the default).
    """

    __slots__ = ("name", "handler", "runtime", "payload", "port_offset", "resource", "env", "routes", "local_env",
                 "local_timeout_s")  # fmt: skip
    _defaults: dict[str, Any] = {
        "runtime": "python",
        "port_offset": None,
        "env": (),
        "routes": (),
        "local_env": dict,
        "local_timeout_s": None,
    }

    if TYPE_CHECKING:
        name: str
        handler: str
        runtime: str
        payload: str
        port_offset: int | None
        resource: str
        env: tuple[str, ...]
        routes: tuple[str, ...]
        local_env: dict[str, str]
        local_timeout_s: float | None

    @property
    def module(self) -> str:
        """The handler's module (Python functions)."""
        return self.handler.partition(":")[0]

    @property
    def dotted(self) -> str:
        """The handler as a template's `Handler:` writes it (package.module.function)."""
        return self.handler.replace(":", ".")


class Resource(Record):
    """A table, queue or secret: its logical name in the service, the environment variable that
    names it (None: none does), and what the template points that variable at (a resource's or
    parameter's logical id; None: nothing in the template). For a table, `spec` is the
    "module:attr" of its TableSpec: the keys, indexes and TTL attribute the service uses
    (tests/deploy/test_manifest_tables.py holds it against the template's table)."""

    __slots__ = ("name", "env", "ref", "spec")
    _defaults: dict[str, Any] = {"env": None, "ref": None, "spec": None}

    if TYPE_CHECKING:
        name: str
        env: str | None
        ref: str | None
        spec: str | None


class EventSource(Record):
    """An SQS event-source mapping: the queue (a Resource name of the service) → the worker
    (a Function name), as the template's EventSourceMapping and the queue's settings declare it.

    batch_size, batching_window_s: the mapping's BatchSize and MaximumBatchingWindowInSeconds;
    visibility_timeout_s: the deployed queue's VisibilityTimeout (with the template's defaults);
    max_receive_count: receives before a message moves to the DLQ (the queue's RedrivePolicy);
    report_batch_item_failures: FunctionResponseTypes has ReportBatchItemFailures;
    resource: the mapping's logical id; queue_resource: the queue's;
    open_queue: "module:attr" that opens the queue from the service's config (the local pump);
    local_visibility_timeout_s: what the local pump hides a received batch for — shorter than on
    AWS so a failed message comes back while you watch — unless `local_visibility_env` is set.
    """

    __slots__ = ("queue", "function", "batch_size", "batching_window_s", "visibility_timeout_s", "max_receive_count",
                 "report_batch_item_failures", "resource", "queue_resource", "open_queue",
                 "local_visibility_timeout_s", "local_visibility_env")  # fmt: skip
    _defaults: dict[str, Any] = {"batch_size": 10, "batching_window_s": 0, "report_batch_item_failures": True,
                                 "local_visibility_env": None}  # fmt: skip

    if TYPE_CHECKING:
        queue: str
        function: str
        batch_size: int
        batching_window_s: int
        visibility_timeout_s: int
        max_receive_count: int
        report_batch_item_failures: bool
        resource: str
        queue_resource: str
        open_queue: str
        local_visibility_timeout_s: int
        local_visibility_env: str | None

    def local_visibility(self, env: Any) -> int:
        """The local pump's visibility timeout: the env override if set, else the manifest's."""
        raw = env.get(self.local_visibility_env) if self.local_visibility_env else None
        return int(raw) if raw else self.local_visibility_timeout_s


class Service(Record):
    """A service: its functions and what they use.

    name: the service (and its `lambdasmith serve` system, when a function has a port);
    template: its SAM template, relative to the repository root;
    package: its source folder ("lambdasmith/badges/"; None: no Python code);
    never_deployed: files of the package no deployed function may import (CLIs, CI clients);
    config: "module:Class" of its config (Class.from_env()); None: none;
    local_setup: "module:function" called with that config before `serve` serves it; None: none.
    """

    __slots__ = ("name", "template", "package", "functions", "event_sources", "tables", "queues", "secrets",
                 "never_deployed", "config", "local_setup")  # fmt: skip
    _defaults: dict[str, Any] = {"package": None, "event_sources": (), "tables": (), "queues": (), "secrets": (),
                                 "never_deployed": (), "config": None, "local_setup": None}  # fmt: skip

    if TYPE_CHECKING:
        name: str
        template: str
        package: str | None
        functions: tuple[Function, ...]
        event_sources: tuple[EventSource, ...]
        tables: tuple[Resource, ...]
        queues: tuple[Resource, ...]
        secrets: tuple[Resource, ...]
        never_deployed: tuple[str, ...]
        config: str | None
        local_setup: str | None

    def function(self, name: str) -> Function:
        for fn in self.functions:
            if fn.name == name:
                return fn
        raise KeyError(f"{self.name}: no function {name!r}")
