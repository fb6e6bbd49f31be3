"""Queue backends for the queue conformance suite (`test_queue.py` imports the fixture).

A backend is a factory `(tmp_path, request) -> QueueBackend` registered in QUEUE_BACKENDS; the
tests see only the port (`lambdasmith.kit.queue.port`). Contract of a backend:

- `make_queue(name, dlq=None, max_receive_count=None)` returns a handle on queue `name` of this
  backend's own namespace (isolated per test), creating it — and its DLQ, with the redrive
  policy — on first use; `make_queue(dlq)` afterwards returns a handle on that DLQ;
- `reopen(queue)` returns a fresh handle on the same queue, as a restarted process would get;
- `advance(seconds)` lets that much time pass for visibility timeouts and delays: a fake clock
  for SQLite, a real sleep for SQS (so SQS tests keep such waits to a second or two);
- `detects_stale_receipts`: whether a delete with a stale receipt handle is reported as failed
  (SQS answers success and deletes nothing, so it cannot be).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterator, Protocol

import pytest

from lambdasmith.kit.queue.port import Queue
from lambdasmith.kit.queue.sqlite import SqliteQueue
from lambdasmith.kit.sqlite import Database


class QueueBackend(Protocol):
    kind: str
    detects_stale_receipts: bool

    def make_queue(self, name: str, dlq: str | None = None, max_receive_count: int | None = None) -> Queue: ...

    def reopen(self, queue: Queue) -> Queue: ...

    def advance(self, seconds: float) -> None: ...

    def close(self) -> None: ...


class FakeClock:
    """Epoch seconds that move only when told to; starts at the real time."""

    def __init__(self) -> None:
        self.now = time.time()
        self._lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


class SqliteQueueBackend:
    kind = "sqlite"
    detects_stale_receipts = True

    def __init__(self, tmp_path: Path, request: pytest.FixtureRequest):
        self.path = tmp_path / "state" / "lambdasmith.db"
        self.clock = FakeClock()
        self.redrive: dict[str, tuple[str, int]] = {}

    def make_queue(self, name: str, dlq: str | None = None, max_receive_count: int | None = None) -> Queue:
        if dlq is not None and max_receive_count is not None:
            self.redrive[name] = (dlq, max_receive_count)
        dlq, max_receive_count = self.redrive.get(name, (None, None))
        return SqliteQueue(
            Database.open(self.path), name, dlq=dlq, max_receive_count=max_receive_count, clock=self.clock
        )

    def reopen(self, queue: Queue) -> Queue:
        Database.open(self.path).close()  # this thread's connection and the shared instance
        return self.make_queue(queue.name)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)

    def close(self) -> None:
        Database.open(self.path).close()


class SqsQueueBackend:
    """moto's server over real HTTP; queue names get a per-test prefix (the server is shared)."""

    kind = "sqs"
    detects_stale_receipts = False

    def __init__(self, tmp_path: Path, request: pytest.FixtureRequest):
        request.getfixturevalue("moto_env")
        self.prefix = "t" + os.urandom(5).hex() + "-"
        self.urls: dict[str, str] = {}

    def make_queue(self, name: str, dlq: str | None = None, max_receive_count: int | None = None) -> Queue:
        from lambdasmith.kit.queue.sqs import SqsQueue, create_queue

        if name not in self.urls:
            self.urls[name] = create_queue(
                self.prefix + name,
                dlq_name=None if dlq is None else self.prefix + dlq,
                max_receive_count=max_receive_count,
            )
            if dlq is not None:
                self.urls[dlq] = SqsQueue(self.prefix + dlq).url  # GetQueueUrl
        return SqsQueue(self.urls[name])

    def reopen(self, queue: Queue) -> Queue:
        from lambdasmith.kit.aws.client import SQS, JsonClient
        from lambdasmith.kit.queue.sqs import SqsQueue

        # By name, on a client of its own: nothing carried over but the queue itself.
        return SqsQueue(self.prefix + queue.name.removeprefix(self.prefix), JsonClient(SQS, timeout=30))

    def advance(self, seconds: float) -> None:
        time.sleep(seconds)

    def close(self) -> None:
        pass


QUEUE_BACKENDS: dict[str, Callable[[Path, pytest.FixtureRequest], QueueBackend]] = {
    "sqlite": SqliteQueueBackend,
    "sqs": SqsQueueBackend,
}


@pytest.fixture(params=sorted(QUEUE_BACKENDS))
def queue_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[QueueBackend]:
    made = QUEUE_BACKENDS[request.param](tmp_path, request)
    yield made
    made.close()
