"""The embedded queue backend: SQS standard-queue semantics on the shared SQLite file.

Every queue of a data directory lives in one table, `queue_messages`, keyed by an increasing
sequence number (the order messages were sent in). A message row carries the time it becomes
visible (`visible_at`: send time + delay, then receive time + visibility timeout), how often it
was received, and the receipt handle of its latest receive.

- `receive` is one `BEGIN IMMEDIATE` transaction: it picks the oldest visible rows, bumps their
  receive count, pushes `visible_at` out by the visibility timeout and writes a fresh random
  receipt handle. No other thread or process can pick the same rows in between, and the old
  handle stops matching, so a consumer that overran its timeout cannot delete (or extend) the
  copy someone else received since;
- redrive happens in the same transaction: a row whose receive count already reached
  `max_receive_count` is re-labelled with the DLQ's name instead of being delivered. The DLQ is
  just another queue name in the same table, so the move is atomic and nothing can be lost;
- the messages are durable: they survive the process (WAL; power loss too with
  `LAMBDASMITH_SQLITE_SYNCHRONOUS=FULL`, the default under `lambdasmith serve`);
- `wait_s` long-polls: it re-checks every `poll_interval_s`, and at once when a thread of this
  process sends to the queue.

Time comes from `clock` (epoch seconds), so tests can step through visibility timeouts; only
the long-poll wait runs on the real monotonic clock.
"""

from __future__ import annotations

import json
import os
import threading
import time

from lambdasmith.kit.ids import uuid4
from lambdasmith.kit.queue.port import InvalidReceipt, Message, Queue, check_redrive

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Mapping

    from lambdasmith.kit.sqlite import Database

__all__ = ["SqliteQueue", "SCHEMA"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_messages (
    seq INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT,
    sent_at REAL NOT NULL,
    visible_at REAL NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_by_queue ON queue_messages (queue, seq);
CREATE INDEX IF NOT EXISTS queue_messages_visible ON queue_messages (queue, visible_at);
CREATE UNIQUE INDEX IF NOT EXISTS queue_messages_by_receipt ON queue_messages (receipt);
"""

_wakeups: dict[tuple[str, str], threading.Condition] = {}
_wakeups_lock = threading.Lock()


def _wakeup(path: str, name: str) -> threading.Condition:
    key = (path, name)
    cond = _wakeups.get(key)
    if cond is None:
        with _wakeups_lock:
            cond = _wakeups.setdefault(key, threading.Condition(threading.Lock()))
    return cond


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork time would stay held forever in the child.
    global _wakeups_lock
    _wakeups_lock = threading.Lock()
    _wakeups.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def _receipt() -> str:
    return os.urandom(24).hex()


class SqliteQueue(Queue):
    """Queue `name` in `db`; with `dlq` and `max_receive_count`, redrives to queue `dlq`."""

    poll_interval_s = 0.05

    def __init__(
        self,
        db: Database,
        name: str,
        *,
        dlq: str | None = None,
        max_receive_count: int | None = None,
        clock: Callable[[], float] = time.time,
    ):
        check_redrive(dlq, max_receive_count)
        if dlq == name:
            raise ValueError("a queue cannot be its own dead-letter queue")
        self.db = db
        self.name = name
        self.dlq = dlq
        self.max_receive_count = max_receive_count
        self.clock = clock
        db.ensure(SCHEMA)

    def __repr__(self) -> str:
        return f"SqliteQueue({self.db.path!r}, {self.name!r})"

    # -------------------------------------------------------------------- sending

    def _send(self, body: str, attributes: Mapping[str, str] | None, delay_s: int) -> str:
        return self._insert([(body, attributes, delay_s)])[0]

    def _send_batch(self, bodies: list[str]) -> list[str]:
        return self._insert([(body, None, 0) for body in bodies])

    def _insert(self, entries: list[tuple[str, Mapping[str, str] | None, int]]) -> list[str]:
        ids = []
        with self.db.write() as conn:
            now = self.clock()
            for body, attributes, delay_s in entries:
                mid = uuid4()
                conn.execute(
                    "INSERT INTO queue_messages (queue, id, body, attributes, sent_at, visible_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (self.name, mid, body, json.dumps(dict(attributes)) if attributes else None, now, now + delay_s),
                )
                ids.append(mid)
        self._notify(self.name)
        return ids

    def _notify(self, name: str) -> None:
        cond = _wakeup(self.db.path, name)
        with cond:
            cond.notify_all()

    # -------------------------------------------------------------------- receiving

    def _receive(self, max_messages: int, visibility_timeout_s: int, wait_s: float) -> list[Message]:
        got = self._receive_once(max_messages, visibility_timeout_s)
        if got or wait_s <= 0:
            return got
        deadline = time.monotonic() + wait_s
        cond = _wakeup(self.db.path, self.name)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            with cond:
                cond.wait(min(self.poll_interval_s, remaining))
            got = self._receive_once(max_messages, visibility_timeout_s)
            if got:
                return got

    def _receive_once(self, max_messages: int, visibility_timeout_s: int) -> list[Message]:
        out: list[Message] = []
        moved = False
        limit = self.max_receive_count
        with self.db.write() as conn:
            now = self.clock()
            last = -1
            while len(out) < max_messages:
                rows = conn.execute(
                    "SELECT seq, id, body, attributes, sent_at, receive_count FROM queue_messages"
                    " WHERE queue = ? AND seq > ? AND visible_at <= ? ORDER BY seq LIMIT ?",
                    (self.name, last, now, max_messages - len(out)),
                ).fetchall()
                if not rows:
                    break
                for seq, mid, body, attributes, sent_at, count in rows:
                    last = seq
                    if limit is not None and count >= limit:
                        # Delivering it would exceed max_receive_count: off to the DLQ, visible there.
                        conn.execute(
                            "UPDATE queue_messages SET queue = ?, visible_at = ?, receipt = NULL WHERE seq = ?",
                            (self.dlq, now, seq),
                        )
                        moved = True
                        continue
                    receipt = _receipt()
                    conn.execute(
                        "UPDATE queue_messages SET receive_count = ?, visible_at = ?, receipt = ? WHERE seq = ?",
                        (count + 1, now + visibility_timeout_s, receipt, seq),
                    )
                    attrs = json.loads(attributes) if attributes else {}
                    out.append(Message(mid, receipt, body, attrs, count + 1, sent_at))
        if moved and self.dlq is not None:
            self._notify(self.dlq)
        return out

    def peek(self, max_messages: int = 100) -> list[Message]:
        """Up to `max_messages` messages in send order, in flight or not, changing nothing: no
        receipt (`receipt` is ""), no receive counted, no visibility changed — for listing a
        queue (a DLQ) without consuming a delivery. SQLite only: SQS has no such operation."""
        with self.db.read() as conn:
            rows = conn.execute(
                "SELECT id, body, attributes, sent_at, receive_count FROM queue_messages"
                " WHERE queue = ? ORDER BY seq LIMIT ?",
                (self.name, max_messages),
            ).fetchall()
        return [Message(mid, "", body, json.loads(attributes) if attributes else {}, count, sent_at)
                for mid, body, attributes, sent_at, count in rows]  # fmt: skip

    # -------------------------------------------------------------------- after receiving

    def _delete_batch(self, receipts: list[str]) -> list[str]:
        failed: list[str] = []
        deleted: set[str] = set()
        with self.db.write() as conn:
            for receipt in receipts:
                if receipt in deleted:
                    continue  # the same receipt twice in one call: deleted once, fine
                cur = conn.execute("DELETE FROM queue_messages WHERE receipt = ? AND queue = ?", (receipt, self.name))
                if cur.rowcount:
                    deleted.add(receipt)
                else:
                    failed.append(receipt)
        return failed

    def _change_visibility(self, receipt: str, timeout_s: int) -> None:
        with self.db.write() as conn:
            cur = conn.execute(
                "UPDATE queue_messages SET visible_at = ? WHERE receipt = ? AND queue = ?",
                (self.clock() + timeout_s, receipt, self.name),
            )
            if not cur.rowcount:
                raise InvalidReceipt(f"receipt handle is unknown or stale for queue {self.name!r}")
        if timeout_s == 0:
            self._notify(self.name)

    # -------------------------------------------------------------------- the whole queue

    def approximate_count(self) -> int:
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM queue_messages WHERE queue = ? AND visible_at <= ?", (self.name, self.clock())
            ).fetchone()
        return row[0]

    def purge(self) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM queue_messages WHERE queue = ?", (self.name,))
