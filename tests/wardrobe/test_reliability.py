"""The share path's promises, end to end on the embedded backends: a real SQLite store and a
real SQLite queue (with its DLQ after 3 receives) in a temporary data directory, pumped by the
local stand-in for the Lambda event source mapping.

- partial batch failures: only the failed messages come back; after 3 receives they sit in the
  DLQ with their bodies intact; every other share is applied exactly once; nothing is lost;
- the same share delivered twice counts once;
- a function error fails the whole batch: everything is retried, then dead-lettered;
- a pump killed in the middle of a batch and restarted loses and doubles nothing;
- `lambdasmith wardrobe dlq list|redrive` shows and re-drives the dead letters;
- concurrent creates with one idempotency key make one item (threads and processes).

In-process tests step the queue's clock through visibility timeouts; the cross-process test
uses real time with short timeouts and bounded waits.
"""

from __future__ import annotations

import hashlib
import io
import json
import multiprocessing
import os
import queue as stdlib_queue
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from lambdasmith.kit.backends import DB_FILE
from lambdasmith.kit.observability.logs import Logger
from lambdasmith.kit.observability.metrics import Metrics
from lambdasmith.kit.queue.sqlite import SqliteQueue
from lambdasmith.kit.sqlite import Database
from lambdasmith.local.pump import QueuePump
from lambdasmith.wardrobe.config import WardrobeConfig
from lambdasmith.wardrobe.messages import build_share
from lambdasmith.wardrobe.store import IdempotencyMismatch, WardrobeStore
from lambdasmith.wardrobe.wiring import open_share_queue, open_store
from lambdasmith.wardrobe.worker import ShareWorker

ROOT = Path(__file__).resolve().parents[2]
SHARE_QUEUE = "wardrobe-shares"  # WardrobeConfig's defaults, which the CLI and the pump's handler use
DLQ = "wardrobe-shares-dlq"
MAX_RECEIVES = 3
VISIBILITY_S = 30
ENV_KNOBS = ("LAMBDASMITH_TABLE_BACKEND", "LAMBDASMITH_QUEUE_BACKEND", "LAMBDASMITH_SECRET_BACKEND",
             "WARDROBE_TABLE", "WARDROBE_SHARE_QUEUE", "WARDROBE_SHARE_DLQ", "WARDROBE_MAX_RECEIVE_COUNT")  # fmt: skip


class FakeClock:
    """Epoch seconds that move only when told to. Starts an hour in the past, so whatever it
    makes visible is visible to a real clock too (the CLI and other processes use one)."""

    def __init__(self) -> None:
        self.now = time.time() - 3600

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Env:
    """A data directory with the wardrobe's store and share queue (plus DLQ) in it."""

    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.config = WardrobeConfig.from_env()
        assert self.config.data_dir == str(data_dir)
        assert (self.config.share_queue, self.config.share_dlq, self.config.max_receive_count) == (SHARE_QUEUE, DLQ, MAX_RECEIVES)
        self.store = open_store(self.config)
        self.db = Database.open(data_dir / DB_FILE)
        self.clock = FakeClock()
        self.queue = SqliteQueue(self.db, SHARE_QUEUE, dlq=DLQ, max_receive_count=MAX_RECEIVES, clock=self.clock)
        self.dlq = SqliteQueue(self.db, DLQ, clock=self.clock)

    def worker(self) -> ShareWorker:
        return ShareWorker(self.store, Logger("wardrobe-worker", stream=io.StringIO()),
                           Metrics("Wdrbe", "wardrobe-worker", stream=io.StringIO()))  # fmt: skip

    def pump(self, handler: Callable[[dict[str, Any], Any], Any]) -> QueuePump:
        return QueuePump(self.queue, handler, visibility_timeout_s=VISIBILITY_S, wait_s=0, log=lambda line: None)

    def drain(self, pump: QueuePump, max_rounds: int = 12) -> int:
        """Pump until the source queue is empty, stepping the clock past the visibility timeout
        between rounds so failed messages come back (and are dead-lettered when their time
        comes). The number of rounds it took."""
        for rounds in range(1, max_rounds + 1):
            while pump.run_once():
                pass
            self.clock.advance(VISIBILITY_S + 1)  # whatever is still in flight is visible now
            if self.queue.approximate_count() == 0:
                return rounds
        pytest.fail(f"queue not drained after {max_rounds} rounds")

    def make_item(self, user: str, item_id: str) -> None:
        fields = {"itemId": item_id, "name": f"Item {item_id}", "category": "tops", "season": "winter",
                  "color": None, "brand": None, "purchaseDate": None, "imageUrl": None}  # fmt: skip
        _, created = self.store.create(user, fields, None, _digest(fields))
        assert created

    def shared(self, item_id: str) -> int:
        item = self.store.get_item(item_id)
        assert item is not None
        return item["sharedCount"]

    def share_activities(self, user: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            page, cursor = self.store.activities(user, 100, cursor)
            out.extend(a for a in page if a["type"] == "ItemShared")
            if cursor is None:
                return out


def _digest(fields: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(fields, sort_keys=True).encode("utf-8")).hexdigest()


def share_body(user: str, item: str, request_id: str) -> str:
    """A message as the API's share route enqueues it."""
    return build_share(user, item, request_id)


def receive_all(q: SqliteQueue) -> list[Any]:
    got: list[Any] = []
    for _ in range(100):
        batch = q.receive(10, VISIBILITY_S)
        if not batch:
            return got
        got.extend(batch)
    pytest.fail("queue never ran dry")


def messages_in(db: Database, name: str) -> int:
    """Every message of queue `name`, in flight or not (`approximate_count` counts visible ones
    only): read from the embedded backend's table, as a test of that backend may."""
    with db.read() as conn:
        return conn.execute("SELECT COUNT(*) FROM queue_messages WHERE queue = ?", (name,)).fetchone()[0]


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("LAMBDASMITH_DATA_DIR", str(data_dir))
    for name in ENV_KNOBS:
        monkeypatch.delenv(name, raising=False)
    e = Env(data_dir)
    yield e
    e.db.close()


# ---------------------------------------------------------------------------- partial failures


class PoisonWorker:
    """The real worker, except that messages about a poisoned item fail, every time.
    Records every delivery: message id -> the ApproximateReceiveCount of each."""

    def __init__(self, real: ShareWorker, poison: set[str]):
        self.real = real
        self.poison = poison
        self.deliveries: dict[str, list[str]] = defaultdict(list)
        self.bodies: dict[str, str] = {}
        self.batches: list[int] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        healthy, failures = [], []
        self.batches.append(len(event["Records"]))
        for r in event["Records"]:
            self.deliveries[r["messageId"]].append(r["attributes"]["ApproximateReceiveCount"])
            self.bodies[r["messageId"]] = r["body"]
            if json.loads(r["body"])["itemId"] in self.poison:
                failures.append({"itemIdentifier": r["messageId"]})
            else:
                healthy.append(r)
        result = self.real.handle({"Records": healthy}) if healthy else {"batchItemFailures": []}
        return {"batchItemFailures": result["batchItemFailures"] + failures}


POISON = {"p-hat", "p-belt"}
SHARES = {("alice", "coat"): 3, ("alice", "scarf"): 1, ("alice", "p-hat"): 2, ("bob", "boots"): 5,
          ("bob", "jeans"): 2, ("bob", "p-belt"): 1}  # fmt: skip


class Sent:
    def __init__(self, message_id: str, user: str, item: str, request_id: str, body: str):
        self.message_id, self.user, self.item, self.request_id, self.body = message_id, user, item, request_id, body


def enqueue_shares(env: Env, shares: dict[tuple[str, str], int], queue: Any = None) -> list[Sent]:
    """Create the items and send their shares (to `queue`, else the fake-clock share queue)
    interleaved, so batches mix items."""
    queue = queue or env.queue
    for user, item in shares:
        env.make_item(user, item)
    pending = {k: n for k, n in shares.items()}
    sent = []
    while any(pending.values()):
        for (user, item), n in pending.items():
            if n:
                rid = f"req-{item}-{n}"
                body = share_body(user, item, rid)
                sent.append(Sent(queue.send(body, {"type": "SHARE_ITEM"}), user, item, rid, body))
                pending[(user, item)] = n - 1
    return sent


def run_with_poison(env: Env) -> tuple[list[Sent], PoisonWorker]:
    sent = enqueue_shares(env, SHARES)
    worker = PoisonWorker(env.worker(), POISON)
    env.drain(env.pump(worker))
    return sent, worker


def test_poisoned_messages_go_to_the_dlq_after_3_receives_and_the_rest_apply_once(env: Env) -> None:
    sent, worker = run_with_poison(env)
    poisoned = [s for s in sent if s.item in POISON]
    healthy = [s for s in sent if s.item not in POISON]
    assert len(poisoned) == 3 and len(healthy) == 11
    assert max(worker.batches) == 10 and len(worker.batches) > 3  # real batches, several rounds

    # Poisoned: delivered exactly 3 times (receive counts 1, 2, 3), then moved to the DLQ.
    for s in poisoned:
        assert worker.deliveries[s.message_id] == ["1", "2", "3"], s.item
    # Healthy: delivered once and deleted, even when they shared a batch with a poisoned one.
    for s in healthy:
        assert worker.deliveries[s.message_id] == ["1"], s.item

    dead = receive_all(env.dlq)
    assert sorted(m.id for m in dead) == sorted(s.message_id for s in poisoned)
    by_id = {s.message_id: s for s in sent}
    for m in dead:
        assert m.body == by_id[m.id].body  # intact
        assert m.attributes == {"type": "SHARE_ITEM"}
        assert m.receive_count > MAX_RECEIVES  # SQS carries the count over to the DLQ

    for (user, item), n in SHARES.items():
        assert env.shared(item) == (0 if item in POISON else n), item
        assert env.store.get_item(item)["isPublic"] is (item not in POISON)  # type: ignore[index]

    # Nothing lost, nothing doubled: each share is applied once or waits in the DLQ, not both.
    applied = Counter(a["requestId"] for u in ("alice", "bob") for a in env.share_activities(u))
    assert set(applied.values()) == {1}
    dead_requests = {json.loads(m.body)["requestId"] for m in dead}
    assert set(applied) | dead_requests == {s.request_id for s in sent}
    assert not set(applied) & dead_requests
    assert messages_in(env.db, SHARE_QUEUE) == 0


def test_the_same_share_delivered_twice_counts_once(env: Env) -> None:
    env.make_item("alice", "coat")
    env.make_item("alice", "scarf")
    body = share_body("alice", "coat", "req-1")
    first, second = env.queue.send(body), env.queue.send(body)
    env.queue.send(share_body("alice", "scarf", "req-2"))
    assert first != second

    env.drain(env.pump(env.worker().handle))

    assert env.shared("coat") == 1 and env.shared("scarf") == 1
    shares = env.share_activities("alice")
    assert sorted((a["itemId"], a["requestId"]) for a in shares) == [("coat", "req-1"), ("scarf", "req-2")]
    # Both copies were successes (a duplicate is not retried) and are gone.
    assert messages_in(env.db, SHARE_QUEUE) == 0 and messages_in(env.db, DLQ) == 0


# ---------------------------------------------------------------------------- whole-batch failures


class FailingBatch:
    """Applies the batch with the real worker, then fails the whole of it: by raising, or by an
    answer Lambda rejects (which fails the batch just the same)."""

    def __init__(self, real: ShareWorker, how: str):
        self.real, self.how = real, how
        self.deliveries: dict[str, list[str]] = defaultdict(list)

    def __call__(self, event: dict[str, Any], context: Any) -> Any:
        for r in event["Records"]:
            self.deliveries[r["messageId"]].append(r["attributes"]["ApproximateReceiveCount"])
        self.real.handle(event)
        if self.how == "raises":
            raise RuntimeError("function crashed after doing its work")
        if self.how == "unknown-id":
            return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}
        return {"batchItemFailures": [{"id": event["Records"][0]["messageId"]}]}  # bad key name


@pytest.mark.parametrize("how", ["raises", "unknown-id", "bad-key"])
def test_a_failed_batch_is_retried_whole_then_dead_lettered(env: Env, how: str) -> None:
    sent = enqueue_shares(env, {("alice", "coat"): 6, ("bob", "boots"): 6})
    handler = FailingBatch(env.worker(), how)
    pump = env.pump(handler)

    while pump.run_once():
        pass
    assert {mid: counts for mid, counts in handler.deliveries.items()} == {s.message_id: ["1"] for s in sent}
    env.clock.advance(VISIBILITY_S + 1)
    assert env.queue.approximate_count() == len(sent)  # nothing was deleted

    env.drain(pump)

    for s in sent:
        assert handler.deliveries[s.message_id] == ["1", "2", "3"]
    dead = receive_all(env.dlq)
    assert sorted(m.body for m in dead) == sorted(s.body for s in sent)
    # Each delivery ran the real worker: the effects still happened once.
    assert env.shared("coat") == 6 and env.shared("boots") == 6
    assert len(env.share_activities("alice")) == 6 and len(env.share_activities("bob")) == 6


# ---------------------------------------------------------------------------- a pump killed mid-batch


class Procs:
    """Subprocesses a test starts: killed and reaped when it ends, whatever happened."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def pump(self, name: str, data_dir: Path, handler: str, visibility_s: int, extra_env: dict[str, str]) -> subprocess.Popen[bytes]:
        env = {k: v for k, v in os.environ.items() if k not in ENV_KNOBS}
        env.update(LAMBDASMITH_DATA_DIR=str(data_dir), LAMBDASMITH_TABLE_BACKEND="sqlite",
                   LAMBDASMITH_QUEUE_BACKEND="sqlite", PYTHONUNBUFFERED="1", **extra_env)  # fmt: skip
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
        log = self.log_dir / f"{name}.log"
        with open(log, "wb") as out:  # a file, not a pipe nobody reads: a full pipe would block the pump
            proc = subprocess.Popen(
                [sys.executable, "-m", "lambdasmith.local.pump", SHARE_QUEUE, handler, "--data-dir", str(data_dir),
                 "--dlq", DLQ, "--max-receive-count", str(MAX_RECEIVES), "--visibility-timeout", str(visibility_s)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        self.started.append((proc, log))
        return proc

    def check_alive(self) -> None:
        for proc, log in self.started:
            if proc.poll() is not None and proc.returncode != -signal.SIGKILL:
                pytest.fail(f"{log.name} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")

    def close(self) -> None:
        for proc, _ in self.started:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=10)


@pytest.fixture
def procs(tmp_path: Path) -> Iterator[Procs]:
    p = Procs(tmp_path)
    yield p
    p.close()


def wait_for(predicate: Callable[[], Any], timeout_s: float, what: str, procs: Procs | None = None) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if procs is not None:
            procs.check_alive()
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def test_a_pump_killed_mid_batch_and_restarted_loses_and_doubles_nothing(env: Env, procs: Procs, tmp_path: Path) -> None:
    shares = {("alice", "coat"): 7, ("alice", "scarf"): 5, ("alice", "hat"): 3, ("bob", "boots"): 6, ("bob", "jeans"): 4}
    sent = enqueue_shares(env, shares, open_share_queue(env.config))  # real time, as the pumps have
    assert len(sent) == 25

    progress = tmp_path / "progress.jsonl"
    slow = procs.pump("slow-pump", env.data_dir, "tests.support.wardrobe_slow_worker:handler", 2,
                      {"WARDROBE_TEST_PROGRESS": str(progress), "WARDROBE_TEST_SLEEP_S": "0.5"})  # fmt: skip
    # A batch of 10 takes 5 s here: killing it after 2 records lands in the middle of a batch.
    wait_for(lambda: len(_lines(progress)) >= 2, 30, "the slow pump to apply 2 shares", procs)
    slow.send_signal(signal.SIGKILL)
    slow.wait(timeout=10)

    done_before_kill = len(_lines(progress))
    applied_before_kill = sum(env.shared(item) for _, item in shares)
    left_after_kill = messages_in(env.db, SHARE_QUEUE)
    assert 2 <= done_before_kill < 25
    assert done_before_kill <= applied_before_kill <= done_before_kill + 1  # one may lack its line
    # Messages applied but never deleted: the batch the kill interrupted. They must come back.
    applied_in_flight = applied_before_kill + left_after_kill - 25
    assert applied_in_flight >= 1, "the kill did not land in the middle of a batch"

    fresh = procs.pump("fresh-pump", env.data_dir, "lambdasmith.wardrobe.worker:handler", 2, {})
    wait_for(lambda: messages_in(env.db, SHARE_QUEUE) == 0 and messages_in(env.db, DLQ) == 0, 30,
             "the restarted pump to empty the queue", procs)  # fmt: skip
    fresh.terminate()
    fresh.wait(timeout=10)

    expected = Counter(s.item for s in sent)
    assert {item: env.shared(item) for _, item in shares} == dict(expected)
    activities = env.share_activities("alice") + env.share_activities("bob")
    assert len(activities) == 25
    assert sorted(a["requestId"] for a in activities) == sorted(s.request_id for s in sent)
    assert Counter(a["itemId"] for a in activities) == expected
    assert messages_in(env.db, DLQ) == 0
    # The interrupted batch really came back, and exactly its applied shares were recognised.
    log = (tmp_path / "fresh-pump.log").read_text()
    assert log.count("duplicate share ignored") == applied_in_flight, log[-3000:]


# ---------------------------------------------------------------------------- the DLQ command


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_KNOBS and k != "LAMBDASMITH_DATA_DIR"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-m", "lambdasmith", "wardrobe", *args, "--data-dir", str(data_dir)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done


def test_dlq_list_shows_dead_letters_and_redrive_sends_them_back(env: Env) -> None:
    sent, _ = run_with_poison(env)
    poisoned = {s.message_id: s for s in sent if s.item in POISON}
    real_dlq = SqliteQueue(env.db, DLQ)
    real_source = SqliteQueue(env.db, SHARE_QUEUE)
    assert real_dlq.approximate_count() == len(poisoned) and real_source.approximate_count() == 0

    counts = None
    for _ in range(2):  # listing leaves them where they are, so a second listing shows them again
        listed = [json.loads(line) for line in cli(env.data_dir, "dlq", "list").stdout.splitlines()]
        # …and it does not count as a delivery: the receive counts stay what they were
        assert counts is None or {m["id"]: m["receive_count"] for m in listed} == counts
        counts = {m["id"]: m["receive_count"] for m in listed}
        assert {m["id"]: m["body"] for m in listed} == {mid: s.body for mid, s in poisoned.items()}
        assert all(m["attributes"] == {"type": "SHARE_ITEM"} for m in listed)
        assert real_dlq.approximate_count() == len(poisoned)
        assert messages_in(env.db, SHARE_QUEUE) == 0

    out = cli(env.data_dir, "dlq", "redrive").stdout
    assert f"re-drove {len(poisoned)} message(s) to {SHARE_QUEUE}" in out
    assert messages_in(env.db, DLQ) == 0
    assert real_source.approximate_count() == len(poisoned)
    assert cli(env.data_dir, "dlq", "list").stdout == ""

    # Now that the item is healthy, a worker applies each re-driven share once.
    worker = PoisonWorker(env.worker(), poison=set())
    pump = QueuePump(real_source, worker, visibility_timeout_s=VISIBILITY_S, wait_s=0, log=lambda line: None)
    while pump.run_once():
        pass
    # The same bodies, as new messages (new ids, receive count starting afresh).
    assert sorted(worker.bodies.values()) == sorted(s.body for s in poisoned.values())
    assert not set(worker.bodies) & set(poisoned)
    assert all(counts == ["1"] for counts in worker.deliveries.values())
    assert messages_in(env.db, SHARE_QUEUE) == 0 and messages_in(env.db, DLQ) == 0
    for (user, item), n in SHARES.items():
        assert env.shared(item) == n, item  # poisoned items caught up; the others did not move
    applied = Counter(a["requestId"] for u in ("alice", "bob") for a in env.share_activities(u))
    assert set(applied.values()) == {1} and set(applied) == {s.request_id for s in sent}


# ---------------------------------------------------------------------------- idempotent creates

ITEM = {"itemId": "coat-1", "name": "Wool coat", "category": "outerwear", "season": "winter",
        "color": "navy", "brand": None, "purchaseDate": "2024-11-02", "imageUrl": None}  # fmt: skip
THREADS = 20
PROCESSES = 8


def _create_many(store: WardrobeStore, payloads: list[dict[str, Any]]) -> list[Any]:
    barrier = threading.Barrier(len(payloads))
    results: list[Any] = [None] * len(payloads)

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            results[i] = store.create("alice", payloads[i], "idem-key-1", _digest(payloads[i]))
        except Exception as e:  # noqa: BLE001 - the test sorts outcomes out
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(payloads))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return results


def _item_created(env: Env) -> list[dict[str, Any]]:
    items, _ = env.store.activities("alice", 100, None)
    return [a for a in items if a["type"] == "ItemCreated"]


def test_concurrent_creates_with_one_key_and_payload_make_one_item(env: Env) -> None:
    results = _create_many(env.store, [dict(ITEM) for _ in range(THREADS)])
    assert not [r for r in results if isinstance(r, BaseException)]
    assert sorted(created for _, created in results) == [False] * (THREADS - 1) + [True]
    stored = env.store.get_item("coat-1")
    assert stored is not None
    assert all(item == stored for item, _ in results)  # every caller got the same item
    assert stored["name"] == "Wool coat" and stored["userId"] == "alice"
    listed, _ = env.store.list_items("alice", None, None, 100, None, 1000)
    assert [i["itemId"] for i in listed] == ["coat-1"]
    assert len(_item_created(env)) == 1


def test_concurrent_creates_with_one_key_and_different_payloads_have_one_winner(env: Env) -> None:
    payloads = [{**ITEM, "name": f"Wool coat {i}"} for i in range(THREADS)]
    results = _create_many(env.store, payloads)
    wins = [i for i, r in enumerate(results) if isinstance(r, tuple)]
    assert len(wins) == 1 and results[wins[0]][1] is True
    losers = [r for r in results if not isinstance(r, tuple)]
    assert len(losers) == THREADS - 1 and all(isinstance(r, IdempotencyMismatch) for r in losers)
    stored = env.store.get_item("coat-1")
    assert stored is not None and stored["name"] == payloads[wins[0]]["name"]
    assert len(_item_created(env)) == 1
    # The winner's payload is still accepted as a repeat.
    again, created = env.store.create("alice", payloads[wins[0]], "idem-key-1", _digest(payloads[wins[0]]))
    assert created is False and again == stored


def _create_in_child(barrier: Any, out: Any) -> None:
    try:
        store = open_store(WardrobeConfig.from_env())  # LAMBDASMITH_DATA_DIR came with the fork
        barrier.wait(timeout=30)
        item, created = store.create("alice", dict(ITEM), "idem-key-1", _digest(ITEM))
        out.put((os.getpid(), created, item))
    except BaseException as e:  # noqa: BLE001 - reported to the parent
        out.put((os.getpid(), "error", repr(e)))


def test_concurrent_creates_from_processes_make_one_item(env: Env) -> None:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs the fork start method")
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    children = [ctx.Process(target=_create_in_child, args=(barrier, out)) for _ in range(PROCESSES)]
    for p in children:
        p.start()
    results = []
    try:
        for _ in children:
            results.append(out.get(timeout=60))
    except stdlib_queue.Empty:
        pass
    finally:
        for p in children:
            p.join(timeout=10)
            if p.is_alive():
                p.kill()
                p.join(timeout=10)
    assert len(results) == PROCESSES, results
    assert [r for r in results if r[1] == "error"] == []
    assert sorted(created for _, created, _ in results) == [False] * (PROCESSES - 1) + [True]
    stored = env.store.get_item("coat-1")
    assert stored is not None and all(item == stored for _, _, item in results)
    assert len(_item_created(env)) == 1
    listed, _ = env.store.list_items("alice", None, None, 100, None, 1000)
    assert [i["itemId"] for i in listed] == ["coat-1"]
    assert [p.exitcode for p in children] == [0] * PROCESSES
