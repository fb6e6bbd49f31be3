"""`lambdasmith serve`: every system on one machine, each on its own port.

    BASE+0  badges          (HTTP API, payload 2.0)
    BASE+1  wardrobe        (REST API, payload 1.0)
    BASE+2  shell           shell functions (Function URLs; lambdasmith.local.function_urls)
    BASE+3  invoke          (Lambda Invoke API for every function, sync and async)

Each request runs the same handler that runs on Lambda, in this process, on a thread, through
`lambdasmith.local.invocation`. The systems and their ports come from the service manifests
(`lambdasmith.services`): a service whose function has a port offset is a system (SYSTEMS);
endpoints of the platform itself (the Invoke API, the shell functions' URLs) are in PLATFORM.
Before a system is served, its service's local set-up hook runs (e.g. the wardrobe's JWT secret)
and its event-source mappings start pumping (the wardrobe's share queue → its worker).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import TYPE_CHECKING, Any, Callable

from lambdasmith.kit.sqlite import SYNCHRONOUS_ENV, synchronous
from lambdasmith.local import invocation
from lambdasmith.local.function_server import FunctionServer
from lambdasmith.manifest import FUNCTION_URL, PAYLOAD_VERSION
from lambdasmith.services import SERVICES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from lambdasmith.local.function_urls import FunctionUrlServer
    from lambdasmith.local.invoke import InvokeServer
    from lambdasmith.local.pump import QueuePump
    from lambdasmith.manifest import Function, Service

__all__ = ["PLATFORM", "SERVABLE", "SYSTEMS", "add_parser", "function_environment", "open_server", "serve", "start_pumps"]


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
    name: (int(fn.port_offset or 0), fn.handler, PAYLOAD_VERSION[fn.payload]) for name, (_, fn) in _SERVED.items()
}

PLATFORM: dict[str, int] = {
    # name: port offset of a platform endpoint that serves every function rather than one system
    "shell": _shell_offset(),  # Function URLs of the shell functions, /{function}/… (lambdasmith.local.function_urls)
    "invoke": 3,  # Lambda Invoke API (lambdasmith.local.invoke), with its async-invocation workers
}

SERVABLE = [*SYSTEMS, *PLATFORM]


def open_server(name: str, host: str, base_port: int, data_dir: str) -> FunctionServer | InvokeServer | FunctionUrlServer:
    """The HTTP server of one system or platform endpoint, bound to BASE+offset (any port for 0)."""
    offset = SYSTEMS[name][0] if name in SYSTEMS else PLATFORM[name]
    address = (host, base_port + offset if base_port else 0)
    if name == "invoke":
        from lambdasmith.local.function_urls import invoke_runners
        from lambdasmith.local.invoke import InvokeServer

        return InvokeServer(address, data_dir, runners=invoke_runners())  # its async workers stop in server_close
    if name == "shell":
        from lambdasmith.local.function_urls import FunctionUrlServer, shell_functions

        return FunctionUrlServer(address, shell_functions())
    svc, fn = _SERVED[name]
    function = invocation.Function(fn.name, fn.handler)
    function.handler()  # imported now, as before the first request (an import error stops serve)
    return FunctionServer(address, name, function, SYSTEMS[name][2])


def function_environment(data_dir: str, env: Mapping[str, str]) -> dict[str, str]:
    """What `serve` adds to its functions' environment: the data dir, and commits that survive
    power loss (`synchronous=FULL`) unless the operator chose otherwise — on one machine, a 2xx
    must mean the write is on disk."""
    return {"LAMBDASMITH_DATA_DIR": os.path.abspath(data_dir),
            SYNCHRONOUS_ENV: env.get(SYNCHRONOUS_ENV) or "FULL"}  # fmt: skip


def serve(systems: list[str], host: str, base_port: int, data_dir: str, ready: Callable[[dict[str, str]], None] | None = None) -> None:
    os.environ.update(function_environment(data_dir, os.environ))
    synchronous()  # a bad durability setting stops `serve` here, not the first write
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    # Before anything answers: a client may stop us as soon as its first request is served.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    servers = {name: open_server(name, host, base_port, os.environ["LAMBDASMITH_DATA_DIR"]) for name in systems}
    pumps = start_pumps(systems)
    urls = {name: s.url for name, s in servers.items()}
    print("lambdasmith serve — data in " + os.environ["LAMBDASMITH_DATA_DIR"], flush=True)
    for name, url in urls.items():
        print(f"  {name:<10} {url}", flush=True)
    if "wardrobe" in systems:
        print("  (a wardrobe token: lambdasmith wardrobe token USER)", flush=True)
    if ready:
        ready(urls)
    threads = [threading.Thread(target=s.serve_forever, name=name, daemon=True) for name, s in servers.items()]
    for t in threads:
        t.start()
    stop.wait()
    for p in pumps:
        p.stop()
    for s in servers.values():
        s.shutdown()
        s.server_close()
    if "shell" in systems or "invoke" in systems:
        from lambdasmith.local.function_urls import close_shell_functions

        close_shell_functions()  # the shell functions' bootstraps


def start_pumps(systems: list[str]) -> list[QueuePump]:
    """For each served system: its service's local set-up hook, then its event-source mappings
    (the wardrobe's share queue → its worker), each a pump on a thread."""
    pumps = []
    for name in systems:
        if name not in _SERVED:
            continue
        svc = _SERVED[name][0]
        config = invocation.resolve(svc.config).from_env() if svc.config else None
        if svc.local_setup:
            invocation.resolve(svc.local_setup)(config)
        for mapping in svc.event_sources:
            pump = open_pump(svc, mapping.queue, config)
            pump.start()
            pumps.append(pump)
    return pumps


def open_pump(svc: Service, queue: str, config: Any) -> QueuePump:
    """The local event-source mapping of `queue`: its queue (opened from the service's config),
    its worker and settings, from the manifest."""
    from lambdasmith.local.pump import QueuePump

    mapping = next(m for m in svc.event_sources if m.queue == queue)
    manifest = svc.function(mapping.function)
    worker = invocation.Function(manifest.name, manifest.handler)
    worker.handler()  # imported now, as the servers' handlers are
    return QueuePump(invocation.resolve(mapping.open_queue)(config), worker,
                     batch_size=mapping.batch_size, visibility_timeout_s=mapping.local_visibility(os.environ),
                     wait_s=float(mapping.batching_window_s))  # fmt: skip


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("serve", parents=[common], help="serve every system locally")
    p.add_argument("systems", nargs="*", metavar="SYSTEM", help=f"systems to serve (default: all of {', '.join(SERVABLE)})")
    p.add_argument("--host", default=os.environ.get("LAMBDASMITH_HOST", "127.0.0.1"))
    p.add_argument("--port", type=int, default=int(os.environ.get("LAMBDASMITH_PORT", "8000")),
                   help="base port (badges on BASE, wardrobe BASE+1, shell BASE+2, invoke API BASE+3); 0 = ephemeral")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    unknown = [s for s in args.systems if s not in SERVABLE]
    if unknown:
        print(f"lambdasmith serve: unknown system {unknown[0]!r} (one of {', '.join(SERVABLE)})", file=sys.stderr)
        return 2
    try:
        serve(args.systems or SERVABLE, args.host, args.port, args.data_dir)
    except (OSError, ValueError) as e:  # a port in use, a bad setting (e.g. of the invoke API)
        print(f"lambdasmith serve: {e}", file=sys.stderr)
        return 1
    return 0
