"""`lambdasmith serve`: every system on one machine, each endpoint on its own port.

    BASE+0  badges          (HTTP API, payload 2.0)
    BASE+1  wardrobe        (REST API, payload 1.0)
    BASE+2  shell           shell functions (Function URLs; lambdasmith.local.function_urls)
    BASE+3  invoke          (Lambda Invoke API for every function, sync and async)

This process is the supervisor. It checks the configuration (`lambdasmith.local.serve_config`)
and the ports, runs each service's local set-up hook (e.g. the wardrobe's JWT secret), starts
the event-source mappings (the wardrobe's share queue → its worker) on threads here, and starts
one server process per endpoint (`lambdasmith.local.endpoint_process`: granian, with
LAMBDASMITH_WORKERS worker processes each). The URLs are printed once every endpoint answers.

SIGTERM or SIGINT: the pumps stop taking batches, the endpoints stop accepting and finish what
they hold, all within LAMBDASMITH_DRAIN_TIMEOUT_S; then the process exits 0. Nothing
acknowledged is lost either way: a 2xx is a committed write (`synchronous=FULL` by default), a
batch or an async event still running is delivered again after a restart.

The Invoke API runs any function with any event, so it refuses to listen on a non-loopback
address unless LAMBDASMITH_INVOKE_CREDENTIALS is set (every request must then be signed).
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from lambdasmith.kit.settings import SettingError
from lambdasmith.kit.sqlite import SYNCHRONOUS_ENV, synchronous
from lambdasmith.local import invocation, serve_registry
from lambdasmith.local.endpoint_process import PARENT_PID_ENV
from lambdasmith.local.endpoints import PLATFORM, SERVABLE, SYSTEMS, port_offset, served_system
from lambdasmith.local.serve_config import ServeConfig

if TYPE_CHECKING:
    from collections.abc import Mapping

    from lambdasmith.local.pump import QueuePump
    from lambdasmith.manifest import Service

__all__ = ["PLATFORM", "SERVABLE", "SYSTEMS", "add_parser", "function_environment", "serve", "start_pumps"]

STARTUP_TIMEOUT_S = 60.0  # for every endpoint to answer (each imports its handler in each worker)


def function_environment(data_dir: str, env: Mapping[str, str]) -> dict[str, str]:
    """What `serve` adds to its functions' environment: the data dir, and commits that survive
    power loss (`synchronous=FULL`) unless the operator chose otherwise — on one machine, a 2xx
    must mean the write is on disk."""
    return {"LAMBDASMITH_DATA_DIR": os.path.abspath(data_dir),
            SYNCHRONOUS_ENV: env.get(SYNCHRONOUS_ENV) or "FULL"}  # fmt: skip


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def check_invoke_guard(systems: list[str], host: str, config: ServeConfig) -> None:
    """The Invoke API on a non-loopback address only with credentials to check signatures against."""
    if config.invoke_credentials.strip():
        from lambdasmith.kit.aws.sigv4_verify import parse_credentials

        try:
            parse_credentials(config.invoke_credentials)
        except ValueError as e:
            raise SettingError(f"LAMBDASMITH_INVOKE_CREDENTIALS: {e}") from None
    elif "invoke" in systems and not is_loopback(host):
        others = " ".join(s for s in systems if s != "invoke")
        raise SettingError(
            f"the Invoke API runs any function with any event: it listens on {host} only with "
            "LAMBDASMITH_INVOKE_CREDENTIALS=KEY:SECRET (every request must then be SigV4-signed with it), "
            f"or leave it out: lambdasmith serve {others} --host {host}"
        )


def reserve_port(host: str, port: int) -> int:
    """Check that `port` is free on `host` (any free port for 0) and return it. A bind without
    SO_REUSEPORT: granian's own sockets share a port with each other, so only a bind that does
    not share can tell that another server already holds it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a port in TIME_WAIT after a restart is free
        try:
            s.bind((host, port))
        except OSError as e:
            why = f"cannot listen on {_url(host, port)}: {e.strerror}"
            if e.errno == errno.EADDRINUSE:
                why = (f"port {port} is already in use (cannot listen on {_url(host, port)}); "
                       "choose another base port with --port (or 0 for free ports)")  # fmt: skip
            raise OSError(e.errno, why) from None
        return int(s.getsockname()[1])


def _answers(host: str, port: int) -> bool:
    target = "127.0.0.1" if host in ("0.0.0.0", "") else "::1" if host == "::" else host
    try:
        with socket.create_connection((target, port), timeout=0.5):
            return True
    except OSError:
        return False


class StopRequest:
    """Set by SIGTERM/SIGINT, waited on by the supervisor's loops.

    Not a `threading.Event`: its `set()` takes the lock its `wait()` holds while it wakes, so a
    signal handler calling it on the waiting (main) thread can deadlock — serve would then never
    stop. A plain flag, polled between short sleeps, takes no lock."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: Any) -> None:
        self.requested = True

    def wait(self, timeout_s: float) -> bool:
        """Sleep up to `timeout_s`, returning early once stopping is requested; whether it is."""
        deadline = time.monotonic() + timeout_s
        while not self.requested and time.monotonic() < deadline:
            time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
        return self.requested


class Endpoints:
    """The endpoint server processes: started, watched, stopped."""

    def __init__(self) -> None:
        self.procs: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, host: str, port: int) -> None:
        cmd = [sys.executable, "-m", "lambdasmith.local.endpoint_process", name, host, str(port)]
        env = {**os.environ, PARENT_PID_ENV: str(os.getpid())}  # whom it must not outlive
        self.procs[name] = subprocess.Popen(cmd, env=env)

    def wait_ready(self, ports: dict[str, int], host: str, stop: StopRequest) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        waiting = dict(ports)
        while waiting and not stop.requested:
            for name in list(waiting):
                if self.procs[name].poll() is not None:
                    raise RuntimeError(
                        f"the {name} endpoint stopped while starting (exit {self.procs[name].returncode})"
                    )
                if _answers(host, waiting[name]):
                    del waiting[name]
            if time.monotonic() > deadline:
                raise RuntimeError(f"the {', '.join(waiting)} endpoint did not answer within {STARTUP_TIMEOUT_S:.0f} s")
            if waiting:
                stop.wait(0.05)

    def dead(self) -> str | None:
        return next((name for name, p in self.procs.items() if p.poll() is not None), None)

    def stop(self, within_s: float) -> None:
        """SIGTERM each (they drain), then SIGKILL what is still running after the bound."""
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + within_s
        for p in self.procs.values():
            try:
                p.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def serve(systems: list[str], host: str, base_port: int, data_dir: str) -> int:
    os.environ.update(function_environment(data_dir, os.environ))
    synchronous()  # a bad durability setting stops `serve` here, not the first write
    config = ServeConfig.from_env().check()
    check_invoke_guard(systems, host, config)
    stop = StopRequest()
    # Before anything answers: a client may stop us as soon as its first request is served.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ports = {name: reserve_port(host, base_port + port_offset(name) if base_port else 0) for name in systems}
    for name in systems:  # an import error stops serve here, before anything listens
        served = served_system(name)
        if served:
            invocation.Function(served[1].name, served[1].handler).handler()
    pumps = start_pumps(systems)
    endpoints = Endpoints()
    code = 0
    try:
        for name in systems:
            endpoints.start(name, host, ports[name])
        endpoints.wait_ready(ports, host, stop)
        if not stop.requested:
            serve_registry.record(data_dir, host, ports)  # the CLI warns when it writes elsewhere
            print("lambdasmith serve — data in " + os.environ["LAMBDASMITH_DATA_DIR"], flush=True)
            for name in systems:
                print(f"  {name:<10} {_url(host, ports[name])}", flush=True)
            if "badges" in systems:
                badges = _url(host, ports["badges"])
                print(f"  (the badge builder: {badges}/ ; a repository's results: {badges}/dashboard/OWNER/REPO)", flush=True)
            if "wardrobe" in systems:
                print("  (a wardrobe token: lambdasmith wardrobe token USER)", flush=True)
            if "shell" in systems:
                from lambdasmith.local.function_urls import HELPERS, SHELL_FUNCTIONS_ENV

                print(f"  (shell functions: /NAME/…; a new one: declare it in a JSON file named by {SHELL_FUNCTIONS_ENV},"
                      f" and source {HELPERS} in its .sh: docs/shell-runtime.md)", flush=True)  # fmt: skip
        while not stop.wait(0.5):
            dead = endpoints.dead()
            if dead:
                print(f"lambdasmith serve: the {dead} endpoint stopped (exit {endpoints.procs[dead].returncode}); stopping",
                      file=sys.stderr, flush=True)  # fmt: skip
                code = 1
                break
    except RuntimeError as e:
        print(f"lambdasmith serve: {e}", file=sys.stderr, flush=True)
        code = 1
    finally:
        serve_registry.remove()
        deadline = time.monotonic() + config.drain_timeout_s
        for p in pumps:
            p.stop()
        endpoints.stop(config.drain_timeout_s + 5)  # granian's own bound is the drain timeout
        for p in pumps:
            if p.thread is not None:
                p.thread.join(max(0.0, deadline - time.monotonic()))
    return code


def start_pumps(systems: list[str]) -> list[QueuePump]:
    """For each served system: its service's local set-up hook, then its event-source mappings
    (the wardrobe's share queue → its worker), each a pump on a thread."""
    pumps = []
    for name in systems:
        served = served_system(name)
        if served is None:
            continue
        svc = served[0]
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
    p.add_argument(
        "systems", nargs="*", metavar="SYSTEM", help=f"systems to serve (default: all of {', '.join(SERVABLE)})"
    )
    p.add_argument("--host", default=os.environ.get("LAMBDASMITH_HOST", "127.0.0.1"),
                   help="address to listen on (default $LAMBDASMITH_HOST or 127.0.0.1)")  # fmt: skip
    p.add_argument(
        "--port",
        type=port_number,
        default=os.environ.get("LAMBDASMITH_PORT", "8000"),  # a string: argparse checks it with port_number
        help="base port (badges on BASE, wardrobe BASE+1, shell BASE+2, invoke API BASE+3); 0 = ephemeral",
    )
    p.add_argument("--workers", type=int, default=None,
                   help="server processes per endpoint (default LAMBDASMITH_WORKERS, else one per CPU)")  # fmt: skip
    p.set_defaults(func=_run)


def port_number(text: str) -> int:
    """argparse's type for --port: a TCP port, 1..65535 (0: any free port); a clear error otherwise."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1..65535, or 0 for any free port)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is out of range: a port is 1..65535 (or 0 for any free port)")
    return value


def _run(args: argparse.Namespace) -> int:
    unknown = [s for s in args.systems if s not in SERVABLE]
    if unknown:
        print(f"lambdasmith serve: unknown system {unknown[0]!r} (one of {', '.join(SERVABLE)})", file=sys.stderr)
        return 2
    if not 0 <= args.port <= 65535 - 3:
        print(f"lambdasmith serve: --port {args.port}: expected 0..65532 (the base of four ports)", file=sys.stderr)
        return 2
    if args.workers is not None:
        os.environ["LAMBDASMITH_WORKERS"] = str(args.workers)
    try:
        return serve(args.systems or SERVABLE, args.host, args.port, args.data_dir)
    except OSError as e:  # a port in use: its own words, without "[Errno 98]"
        print(f"lambdasmith serve: {e.strerror or e}", file=sys.stderr)
        return 1
    except ValueError as e:  # a bad setting (SettingError is a ValueError)
        print(f"lambdasmith serve: {e}", file=sys.stderr)
        return 1
