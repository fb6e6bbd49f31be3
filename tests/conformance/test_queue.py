"""The one conformance suite every queue backend passes: SQLite (embedded) and SQS (moto).

Time: SQLite runs on a fake clock (`queue_backend.advance` moves it); SQS on the real one, so
timeouts there are a second long and waits are bounded polls, never timing assertions.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from lambdasmith.kit.queue.port import (
    MAX_MESSAGE_BYTES,
    InvalidReceipt,
    Message,
    MessageTooLarge,
    Queue,
    QueueError,
)
from tests.conformance.queue_backends import QueueBackend, queue_backend  # noqa: F401  (fixture)


@pytest.fixture
def queue(queue_backend: QueueBackend) -> Queue:
    return queue_backend.make_queue("work")


def drain(q: Queue, visibility: int = 300, max_rounds: int = 60) -> list[Message]:
    """Receive until two receives in a row find nothing visible (bounded)."""
    got: list[Message] = []
    empty = 0
    for _ in range(max_rounds):
        batch = q.receive(10, visibility)
        if batch:
            got.extend(batch)
            empty = 0
        else:
            empty += 1
            if empty == 2:
                return got
    raise AssertionError(f"queue still not empty after {max_rounds} receives")


def receive_eventually(backend: QueueBackend, q: Queue, visibility: int = 300, rounds: int = 40) -> list[Message]:
    """Poll for messages expected to (re)appear: at once on SQLite, within ~4 s on SQS."""
    for _ in range(rounds):
        got = q.receive(10, visibility)
        if got:
            return got
        backend.advance(0.1)
    return []


# ---------------------------------------------------------------------------- basics


def test_send_receive_delete(queue: Queue):
    mid = queue.send("hello")
    [m] = queue.receive(10, 300)
    assert (m.id, m.body, m.receive_count, m.attributes) == (mid, "hello", 1, {})
    assert queue.delete_batch([m.receipt]) == []
    assert drain(queue) == []
    assert queue.approximate_count() == 0


def test_receive_from_an_empty_queue(queue: Queue):
    assert queue.receive() == []


def test_body_and_attributes_round_trip(queue: Queue):
    body = '{"requestId": "r-1", "text": "Grüße ✓ 𝄞"}\n\ttabbed'
    attributes = {"requestId": "r-1", "kind": "ItemShared", "note": "ünïcødé ✓"}
    mid = queue.send(body, attributes)
    [m] = queue.receive(1, 300)
    assert (m.id, m.body, m.attributes) == (mid, body, attributes)
    assert abs(m.sent_at - time.time()) < 600  # epoch seconds, not milliseconds


def test_message_ids_are_unique(queue: Queue):
    ids = [queue.send(f"m{i}") for i in range(5)]
    assert len(set(ids)) == 5
    assert {m.id for m in drain(queue)} == set(ids)


def test_approximate_count_counts_visible_messages(queue: Queue):
    for i in range(3):
        queue.send(f"m{i}")
    assert queue.approximate_count() == 3
    queue.receive(1, 300)
    assert queue.approximate_count() == 2


def test_purge(queue: Queue):
    queue.send("a")
    queue.send("b")
    queue.purge()
    assert queue.approximate_count() == 0
    assert queue.receive() == []


def test_queues_are_separate(queue_backend: QueueBackend):
    a, b = queue_backend.make_queue("a"), queue_backend.make_queue("b")
    a.send("for a")
    assert b.receive() == []
    assert [m.body for m in a.receive()] == ["for a"]


def test_messages_survive_reopening(queue_backend: QueueBackend, queue: Queue):
    mid = queue.send("durable", {"k": "v"})
    again = queue_backend.reopen(queue)
    [m] = again.receive(1, 300)
    assert (m.id, m.body, m.attributes) == (mid, "durable", {"k": "v"})


# ---------------------------------------------------------------------------- visibility


def test_received_message_is_hidden_then_reappears(queue_backend: QueueBackend, queue: Queue):
    mid = queue.send("x")
    [first] = queue.receive(10, 1)
    assert queue.receive(10, 1) == []
    assert queue.approximate_count() == 0
    queue_backend.advance(1.2)
    [again] = receive_eventually(queue_backend, queue)
    assert again.id == mid
    assert again.receive_count == 2
    assert again.receipt != first.receipt


def test_receive_count_increments_on_each_receive(queue: Queue):
    mid = queue.send("x")
    counts = []
    for _ in range(3):
        [m] = queue.receive(1, 300)
        assert m.id == mid
        counts.append(m.receive_count)
        queue.change_visibility(m.receipt, 0)  # visible again at once
    assert counts == [1, 2, 3]


def test_change_visibility_extends_and_releases(queue_backend: QueueBackend, queue: Queue):
    mid = queue.send("x")
    [m] = queue.receive(1, 1)
    queue.change_visibility(m.receipt, 300)  # the worker needs longer
    queue_backend.advance(1.5)
    assert queue.receive(10, 300) == []
    queue.change_visibility(m.receipt, 0)  # give it back
    [again] = receive_eventually(queue_backend, queue)
    assert again.id == mid


def test_zero_visibility_timeout_leaves_the_message_visible(queue: Queue):
    mid = queue.send("x")
    [m] = queue.receive(1, 0)
    assert m.id == mid
    [again] = queue.receive(1, 300)
    assert again.id == mid and again.receive_count == 2


def test_delay_hides_a_new_message(queue_backend: QueueBackend, queue: Queue):
    mid = queue.send("later", delay_s=1)
    assert queue.receive(10, 300) == []
    assert queue.approximate_count() == 0
    queue_backend.advance(1.2)
    [m] = receive_eventually(queue_backend, queue)
    assert (m.id, m.receive_count) == (mid, 1)


def test_a_deleted_message_does_not_reappear(queue_backend: QueueBackend, queue: Queue):
    queue.send("x")
    [m] = queue.receive(1, 1)
    assert queue.delete_batch([m.receipt]) == []
    queue_backend.advance(1.5)
    assert drain(queue) == []


# ---------------------------------------------------------------------------- receipts


@pytest.fixture
def stale_case(queue_backend: QueueBackend, queue: Queue) -> tuple[Message, Message]:
    """A message received once (first), timed out, and received again (second)."""
    queue.send("contested")
    [first] = queue.receive(1, 1)
    queue_backend.advance(1.2)
    [second] = receive_eventually(queue_backend, queue, visibility=300)
    assert second.id == first.id and second.receipt != first.receipt
    return first, second


def test_stale_receipt_cannot_delete_the_redelivered_message(
    queue_backend: QueueBackend, queue: Queue, stale_case: tuple[Message, Message], request: pytest.FixtureRequest
):
    if queue_backend.kind == "sqs":
        # SQS: a stale delete "succeeds" and deletes nothing. moto instead deletes the message
        # by any receipt handle it ever had; strict, so a moto that fixes this is noticed.
        request.applymarker(pytest.mark.xfail(strict=True, reason="moto deletes by any past receipt handle"))
    first, second = stale_case
    queue.delete_batch([first.receipt])
    # Still there for its current holder: it can hand it back, and it is delivered again.
    queue.change_visibility(second.receipt, 0)
    [third] = queue.receive(1, 300)
    assert third.id == first.id and third.receive_count == 3


def test_stale_receipt_is_reported(queue_backend: QueueBackend, queue: Queue, request: pytest.FixtureRequest):
    if not queue_backend.detects_stale_receipts:
        pytest.skip(f"{queue_backend.kind} answers a stale delete with success (and deletes nothing)")
    first, second = request.getfixturevalue("stale_case")
    assert queue.delete_batch([first.receipt]) == [first.receipt]
    with pytest.raises(InvalidReceipt):
        queue.change_visibility(first.receipt, 0)
    assert queue.delete_batch([second.receipt]) == []


def test_delete_batch_reports_only_the_receipts_it_could_not_delete(queue: Queue):
    for i in range(3):
        queue.send(f"m{i}")
    a, b, c = queue.receive(3, 300)
    bogus = "not-a-receipt-handle"
    assert queue.delete_batch([a.receipt, bogus, c.receipt]) == [bogus]
    queue.change_visibility(b.receipt, 0)
    assert [m.id for m in drain(queue)] == [b.id]


def test_delete_batch_of_more_than_ten(queue: Queue):
    queue.send_batch([f"m{i}" for i in range(13)])
    got = drain(queue)
    assert len(got) == 13
    assert queue.delete_batch([m.receipt for m in got]) == []
    assert queue.delete_batch([]) == []


def test_change_visibility_with_an_unknown_receipt(queue: Queue):
    queue.send("x")
    with pytest.raises(InvalidReceipt):
        queue.change_visibility("not-a-receipt-handle", 0)


# ---------------------------------------------------------------------------- batches and limits


def test_receive_returns_at_most_ten(queue: Queue):
    ids = queue.send_batch([f"m{i}" for i in range(25)])
    assert len(ids) == len(set(ids)) == 25
    first = queue.receive(10, 300)
    second = queue.receive(3, 300)
    assert 1 <= len(first) <= 10 and len(second) <= 3
    got = first + second + drain(queue)
    assert Counter(m.id for m in got).most_common(1)[0][1] == 1
    assert sorted(m.id for m in got) == sorted(ids)


@pytest.mark.parametrize("n", [0, 11])
def test_receive_count_out_of_range(queue: Queue, n: int):
    with pytest.raises(ValueError):
        queue.receive(n)


def test_message_of_exactly_256_kib(queue: Queue):
    body = "x" * MAX_MESSAGE_BYTES
    queue.send(body)
    [m] = queue.receive(1, 300)
    assert m.body == body


@pytest.mark.parametrize(
    "body, attributes",
    [
        ("x" * (MAX_MESSAGE_BYTES + 1), None),
        ("é" * (MAX_MESSAGE_BYTES // 2) + "x", None),  # fewer characters than the limit, more bytes
        ("x" * (MAX_MESSAGE_BYTES - 10), {"requestId": "abc"}),  # attributes count too
    ],
    ids=["ascii", "utf8", "attributes"],
)
def test_message_over_256_kib_is_refused(queue: Queue, body: str, attributes: dict[str, str] | None):
    with pytest.raises(MessageTooLarge) as caught:
        queue.send(body, attributes)
    assert isinstance(caught.value, QueueError)
    if attributes is None:
        with pytest.raises(MessageTooLarge):
            queue.send_batch(["small", body])
    assert queue.approximate_count() == 0  # nothing of a refused batch was sent


@pytest.mark.parametrize("body", ["", "nul \x00 inside", "bell \x07"])
def test_bodies_sqs_refuses_are_refused_everywhere(queue: Queue, body: str):
    with pytest.raises(ValueError):
        queue.send(body)


# ---------------------------------------------------------------------------- redrive


def test_redrive_moves_a_message_after_max_receive_count(queue_backend: QueueBackend):
    source = queue_backend.make_queue("src", dlq="dead", max_receive_count=3)
    dlq = queue_backend.make_queue("dead")
    mid = source.send("poison", {"requestId": "r-9"})
    counts = []
    for _ in range(3):
        [m] = source.receive(1, 0)  # fails each time: visible again at once
        counts.append(m.receive_count)
    assert counts == [1, 2, 3]
    assert source.receive(10, 0) == []  # the receive that would exceed 3 moved it instead
    [dead] = receive_eventually(queue_backend, dlq)
    assert (dead.id, dead.body, dead.attributes) == (mid, "poison", {"requestId": "r-9"})
    assert drain(source) == []


def test_redrive_loses_nothing(queue_backend: QueueBackend):
    """Consumers fail the odd messages, delete the even ones on their second delivery: every
    message ends up deleted or in the DLQ, none is delivered more than max_receive_count times."""
    source = queue_backend.make_queue("src", dlq="dead", max_receive_count=3)
    dlq = queue_backend.make_queue("dead")
    ids = source.send_batch([f"m{i}" for i in range(12)])
    index = {mid: i for i, mid in enumerate(ids)}
    deliveries: Counter[str] = Counter()
    deleted: set[str] = set()
    empty = 0
    for _ in range(100):
        batch = source.receive(10, 0)
        if not batch:
            empty += 1
            if empty == 3:
                break
            continue
        empty = 0
        for m in batch:
            deliveries[m.id] += 1
            if index[m.id] % 2 == 0 and m.receive_count == 2:
                assert source.delete_batch([m.receipt]) == []
                deleted.add(m.id)
    else:
        raise AssertionError("the source queue never ran dry")
    dead = drain(dlq)
    assert max(deliveries.values()) <= 3
    assert deleted == {mid for mid in ids if index[mid] % 2 == 0}
    assert sorted(m.id for m in dead) == sorted(mid for mid in ids if index[mid] % 2 == 1)
    assert {m.body for m in dead} == {f"m{i}" for i in range(1, 12, 2)}
    assert all(deliveries[mid] == 3 for mid in ids if index[mid] % 2 == 1)
    assert deleted | {m.id for m in dead} == set(ids)


# ---------------------------------------------------------------------------- concurrency


def test_concurrent_receivers_never_share_an_invisible_message(queue_backend: QueueBackend, queue: Queue):
    if queue_backend.kind == "sqs":
        # Standard SQS queues promise at-least-once delivery, and moto's receive is not atomic
        # across its server threads (about one run in six hands a message to two receivers).
        pytest.skip("sqs: at-least-once delivery; moto's concurrent receive can duplicate")
    ids = queue.send_batch([f"m{i}" for i in range(60)])
    got: list[list[str]] = [[] for _ in range(8)]
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def consume(slot: list[str]) -> None:
        try:
            start.wait()
            empty = 0
            while empty < 2:
                batch = queue.receive(3, 300)
                slot.extend(m.id for m in batch)
                empty = 0 if batch else empty + 1
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=consume, args=(slot,)) for slot in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors
    assert not any(t.is_alive() for t in threads)
    every = [mid for slot in got for mid in slot]
    duplicates = [mid for mid, n in Counter(every).items() if n > 1]
    assert duplicates == []
    assert sorted(every) == sorted(ids)


def test_long_poll_returns_a_message_sent_while_waiting(queue: Queue):
    result: list[Message] = []
    poller = threading.Thread(target=lambda: result.extend(queue.receive(1, 300, wait_s=10)))
    poller.start()
    time.sleep(0.3)  # let the poll begin (not required for correctness: it would find it anyway)
    mid = queue.send("wake up")
    poller.join(timeout=30)
    assert not poller.is_alive()
    assert [m.id for m in result] == [mid]


def test_long_poll_on_an_empty_queue_returns_nothing(queue: Queue):
    assert queue.receive(1, 300, wait_s=1) == []


# ---------------------------------------------------------------------------- configuration


def test_open_queue_picks_the_backend_from_the_environment(tmp_path, monkeypatch):
    from lambdasmith.kit.backends import open_queue
    from lambdasmith.kit.queue.sqlite import SqliteQueue
    from lambdasmith.kit.queue.sqs import SqsQueue

    monkeypatch.delenv("LAMBDASMITH_QUEUE_BACKEND", raising=False)
    q = open_queue("jobs", data_dir=str(tmp_path), dlq="jobs-dlq", max_receive_count=3)
    assert isinstance(q, SqliteQueue) and (q.dlq, q.max_receive_count) == ("jobs-dlq", 3)
    q.send("x")
    assert [m.body for m in open_queue("jobs", data_dir=str(tmp_path)).receive()] == ["x"]
    monkeypatch.setenv("LAMBDASMITH_QUEUE_BACKEND", "sqs")
    assert isinstance(open_queue("https://sqs.eu-west-1.amazonaws.com/123456789012/jobs"), SqsQueue)
    with pytest.raises(ValueError):
        open_queue("jobs", backend="kafka")
    q.db.close()


def test_a_sqlite_peek_changes_nothing(tmp_path):
    from lambdasmith.kit.queue.sqlite import SqliteQueue
    from lambdasmith.kit.sqlite import Database

    q = SqliteQueue(Database(str(tmp_path / "q.db")), "peeked")
    q.send("a", {"k": "v"})
    q.send("b")
    first = q.receive(1, visibility_timeout_s=60)
    for _ in range(3):
        peeked = q.peek()
        assert [(m.body, m.attributes, m.receipt, m.receive_count) for m in peeked] == [("a", {"k": "v"}, "", 1),
                                                                                       ("b", {}, "", 0)]  # fmt: skip
    assert q.approximate_count() == 1  # "a" still in flight, "b" still visible
    assert q.delete_batch([first[0].receipt]) == []
