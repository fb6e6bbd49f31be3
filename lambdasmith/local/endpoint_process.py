"""One endpoint of `lambdasmith serve` on granian: `python -m lambdasmith.local.endpoint_process
NAME HOST PORT`, started by `lambdasmith.local.serve` (one process per endpoint).

granian runs a supervisor here that forks the worker processes (LAMBDASMITH_WORKERS), each
with its own event loop, its `Gateway` and its endpoint; a worker that dies is started again.
SIGTERM (or SIGINT) makes the supervisor stop accepting and each worker finish the requests it
holds, up to LAMBDASMITH_DRAIN_TIMEOUT_S, then stop its endpoint (`Endpoint.stop`) and exit.

HTTP/1.1 only: with HTTP/2 allowed on a clear-text port, hyper waits on a fresh connection
without the head timeout, so an idle client could hold a connection for ever. TLS belongs to
the reverse proxy in front (docs/self-hosting.md).
"""

from __future__ import annotations

import sys
from typing import Any

from lambdasmith.local.serve_config import ServeConfig

__all__ = ["PARENT_PID_ENV", "die_with_parent", "fork_workers_with_default_signals", "load", "main", "run"]


PARENT_PID_ENV = "LAMBDASMITH_SERVE_PID"  # set by serve for its endpoint processes


def die_with_parent(parent: int) -> None:
    """Have the kernel send SIGTERM when the parent process ends, however it ends (Linux): a
    `serve` killed with SIGKILL must not leave its servers holding the ports, or a worker whose
    supervisor died serving on alone. `parent` is the pid the caller was started by, so a parent
    that ended before this call (while the child was still importing) is noticed too. Elsewhere,
    nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes
    import os
    import signal

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


def fork_workers_with_default_signals() -> None:
    """A worker is forked from granian's supervisor and so starts with the supervisor's SIGTERM
    and SIGINT handlers, which only set the *supervisor's* stop flag: a stop that reaches a worker
    before granian installs the worker's own handlers (while `load` imports and opens the
    endpoint) would be swallowed, and the supervisor would wait its whole kill timeout for it.
    So each fork child starts with the default actions (a worker still loading holds no request:
    ending it is right), and both signals stay blocked across the fork itself, so one that
    arrives in between is delivered after the reset, not lost."""
    import os
    import signal

    stops = {signal.SIGTERM, signal.SIGINT}

    def in_child() -> None:
        for sig in stops:
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, stops)

    os.register_at_fork(
        before=lambda: signal.pthread_sigmask(signal.SIG_BLOCK, stops),
        after_in_parent=lambda: signal.pthread_sigmask(signal.SIG_UNBLOCK, stops),
        after_in_child=in_child,
    )


def load(name: str) -> Any:
    """In each worker process: its endpoint behind its gateway, both made there (after the fork,
    from the environment: a module-level function, so any start method can carry it)."""
    import multiprocessing

    supervisor = multiprocessing.parent_process()
    if supervisor is not None and supervisor.pid is not None:
        die_with_parent(supervisor.pid)
    from lambdasmith.local.endpoints import open_endpoint
    from lambdasmith.local.gateway import Gateway

    config = ServeConfig.from_env()
    return Gateway(open_endpoint(name, config), config)


def run(name: str, host: str, port: int, config: ServeConfig) -> None:
    from granian.constants import HTTPModes, Interfaces, Loops
    from granian.http import HTTP1Settings
    from granian.log import LogLevels
    from granian.server import Server

    server = Server(
        name, address=host, port=port, interface=Interfaces.ASGI, workers=config.worker_count(),
        loop=Loops.auto,  # uvloop where installed (a dependency of serve), else asyncio
        http=HTTPModes.http1, websockets=False, backlog=config.backlog,
        backpressure=config.max_connections,
        http1_settings=HTTP1Settings(header_read_timeout=int(config.head_timeout_s * 1000), keep_alive=True),
        log_level=LogLevels.warning, respawn_failed_workers=True,
        workers_kill_timeout=max(1, round(config.drain_timeout_s)),
    )  # fmt: skip
    server.serve(target_loader=load, wrap_loader=True)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m lambdasmith.local.endpoint_process NAME HOST PORT", file=sys.stderr)
        return 2
    name, host, port = argv
    import os

    die_with_parent(int(os.environ.pop(PARENT_PID_ENV, "") or os.getppid()))  # not for its workers to inherit
    fork_workers_with_default_signals()
    run(name, host, int(port), ServeConfig.from_env().check())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
