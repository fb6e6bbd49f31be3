"""Blocking handlers, run off the server's event loop on a fixed set of threads.

The handlers (a Lambda handler, SQLite, an upstream fetch) block; the HTTP server's event loop
must not. `loop.run_in_executor` does this job but costs about as much as a small handler
(futures wrapped in futures, a lock per call): measured on one worker with a hello-world body,
it halves the requests per second. Here a request is one item on a `SimpleQueue` and one
`call_soon_threadsafe` back, which keeps the server within reach of its own ceiling.

Threads are started once, per process (after the server forked it), and never stop: they are
daemons, and a handler still running when the process ends ends with it.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from typing import Any, Callable, TypeVar

__all__ = ["Threads"]

T = TypeVar("T")


def _settle(future: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    if future.done():  # the request was given up meanwhile (client gone, server stopping)
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(value)


class Threads:
    """`await threads.run(fn, arg)`: fn(arg) on one of `count` threads, its result or exception back
    on the awaiting loop."""

    def __init__(self, count: int, name: str = "handler") -> None:
        self._queue: queue.SimpleQueue[tuple[asyncio.AbstractEventLoop, asyncio.Future[Any], Callable[[Any], Any], Any]]
        self._queue = queue.SimpleQueue()
        self._count, self._name = count, name
        self._started = False
        self._lock = threading.Lock()

    def _start(self) -> None:
        with self._lock:
            if not self._started:
                for i in range(self._count):
                    threading.Thread(target=self._work, name=f"{self._name}-{i}", daemon=True).start()
                self._started = True

    def _work(self) -> None:
        while True:
            loop, future, fn, arg = self._queue.get()
            try:
                value, error = fn(arg), None
            except BaseException as e:  # handed back to the awaiting request, which decides
                value, error = None, e
            try:
                loop.call_soon_threadsafe(_settle, future, value, error)
            except RuntimeError:  # the loop is closed: the server has stopped
                pass

    async def run(self, fn: Callable[[Any], T], arg: Any) -> T:
        if not self._started:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((loop, future, fn, arg))
        return await future
