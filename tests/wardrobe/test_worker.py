"""The share worker (`ShareWorker.handle`) and the pump's SQS event shaping (`sqs_record`,
`failed_ids`), one batch at a time, on a real SQLite store in a temporary data directory."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from lambdasmith.kit.backends import DB_FILE
from lambdasmith.kit.clock import utc_iso_ms
from lambdasmith.kit.observability.logs import Logger
from lambdasmith.kit.observability.metrics import Metrics
from lambdasmith.kit.queue.port import Message
from lambdasmith.kit.sqlite import Database
from lambdasmith.local.pump import failed_ids, sqs_record
from lambdasmith.wardrobe.config import WardrobeConfig
from lambdasmith.wardrobe.store import WardrobeStore
from lambdasmith.wardrobe.wiring import open_store
from lambdasmith.wardrobe.worker import ShareWorker

ENV_KNOBS = ("LAMBDASMITH_TABLE_BACKEND", "LAMBDASMITH_QUEUE_BACKEND", "LAMBDASMITH_SECRET_BACKEND",
             "WARDROBE_TABLE", "WARDROBE_SHARE_QUEUE", "WARDROBE_SHARE_DLQ", "WARDROBE_MAX_RECEIVE_COUNT")  # fmt: skip


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[WardrobeStore]:
    data_dir = tmp_path / "data"
    monkeypatch.setenv("LAMBDASMITH_DATA_DIR", str(data_dir))
    for name in ENV_KNOBS:
        monkeypatch.delenv(name, raising=False)
    yield open_store(WardrobeConfig.from_env())
    Database.open(data_dir / DB_FILE).close()


def quiet_worker(store: WardrobeStore) -> ShareWorker:
    return ShareWorker(store, Logger("wardrobe-worker", stream=io.StringIO()), Metrics("Wdrbe", "wardrobe-worker", stream=io.StringIO()))


def make_item(store: WardrobeStore, user: str, item_id: str) -> None:
    fields = {"itemId": item_id, "name": f"Item {item_id}", "category": "tops", "season": "summer",
              "color": None, "brand": None, "purchaseDate": None, "imageUrl": None}  # fmt: skip
    _, created = store.create(user, fields, None, "hash")
    assert created


def share_body(user: Any, item: Any, request_id: Any, **overrides: Any) -> str:
    msg = {"type": "SHARE_ITEM", "userId": user, "itemId": item, "timestamp": utc_iso_ms(), "requestId": request_id}
    msg.update(overrides)
    return json.dumps({k: v for k, v in msg.items() if v is not None})


def record(message_id: str, body: Any) -> dict[str, Any]:
    return {"messageId": message_id, "receiptHandle": f"rh-{message_id}", "body": body, "attributes": {},
            "messageAttributes": {}, "eventSource": "aws:sqs"}  # fmt: skip


def event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def shares_of(store: WardrobeStore, user: str) -> list[dict[str, Any]]:
    items, _ = store.activities(user, 100, None)
    return [a for a in items if a["type"] == "ItemShared"]


# ---------------------------------------------------------------------------- the worker


def test_a_valid_batch_succeeds_and_applies_every_share(store: WardrobeStore) -> None:
    make_item(store, "alice", "coat")
    make_item(store, "alice", "scarf")
    make_item(store, "bob", "boots")
    before = store.get_item("coat")
    assert before is not None and before["sharedCount"] == 0 and before["isPublic"] is False

    result = quiet_worker(store).handle(event(
        record("m1", share_body("alice", "coat", "r1")),
        record("m2", share_body("alice", "coat", "r2")),
        record("m3", share_body("alice", "scarf", "r3")),
        record("m4", share_body("bob", "boots", "r4")),
    ))  # fmt: skip

    assert result == {"batchItemFailures": []}
    coat, scarf, boots = (store.get_item(i) for i in ("coat", "scarf", "boots"))
    assert coat is not None and scarf is not None and boots is not None
    assert (coat["sharedCount"], scarf["sharedCount"], boots["sharedCount"]) == (2, 1, 1)
    assert coat["isPublic"] is True and scarf["isPublic"] is True and boots["isPublic"] is True
    assert coat["updatedAt"] >= before["updatedAt"]
    alice = shares_of(store, "alice")
    assert sorted((a["itemId"], a["requestId"]) for a in alice) == [("coat", "r1"), ("coat", "r2"), ("scarf", "r3")]
    assert [(a["itemId"], a["requestId"], a["userId"]) for a in shares_of(store, "bob")] == [("boots", "r4", "bob")]
    # The per-user listing row carries the same counters as the item.
    listed, _ = store.list_items("alice", None, None, 10, None, 100)
    assert {i["itemId"]: i["sharedCount"] for i in listed} == {"coat": 2, "scarf": 1}
    assert all(i["isPublic"] for i in listed)


INVALID_BODIES = {
    "not-json": "this is {not json",
    "json-not-object": json.dumps(["SHARE_ITEM"]),
    "wrong-type": share_body("alice", "coat", "x1", type="UNSHARE_ITEM"),
    "no-type": share_body("alice", "coat", "x2", type=None),
    "no-user": share_body(None, "coat", "x3"),
    "no-item": share_body("alice", None, "x4"),
    "no-request": share_body("alice", "coat", None),
    "empty-user": share_body("", "coat", "x5"),
    "number-item": share_body("alice", 42, "x6"),
    "hash-in-user": share_body("ali#ce", "coat", "x7"),
    "hash-in-item": share_body("alice", "co#at", "x8"),
    "hash-in-request": share_body("alice", "coat", "x#9"),
    "not-the-owner": share_body("mallory", "coat", "x10"),
}


def test_invalid_messages_and_only_those_are_reported(store: WardrobeStore) -> None:
    make_item(store, "alice", "coat")
    records = [record(f"bad-{name}", body) for name, body in INVALID_BODIES.items()]
    records.insert(3, record("good-1", share_body("alice", "coat", "g1")))
    records.append(record("good-2", share_body("alice", "coat", "g2")))
    records.append(record("bad-no-body", None))

    result = quiet_worker(store).handle(event(*records))

    reported = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    assert sorted(reported) == sorted([f"bad-{name}" for name in INVALID_BODIES] + ["bad-no-body"])
    assert set(result["batchItemFailures"][0]) == {"itemIdentifier"}
    coat = store.get_item("coat")
    assert coat is not None and coat["sharedCount"] == 2 and coat["userId"] == "alice"
    assert sorted(a["requestId"] for a in shares_of(store, "alice")) == ["g1", "g2"]
    assert shares_of(store, "mallory") == []


def test_a_share_of_an_item_that_is_gone_is_skipped_not_reported(store: WardrobeStore) -> None:
    make_item(store, "alice", "coat")
    result = quiet_worker(store).handle(event(
        record("m1", share_body("alice", "deleted-item", "r1")),
        record("m2", share_body("alice", "coat", "r2")),
    ))  # fmt: skip
    assert result == {"batchItemFailures": []}
    assert store.get_item("deleted-item") is None  # not created by the share
    assert [a["itemId"] for a in shares_of(store, "alice")] == ["coat"]


def test_one_request_id_counts_once_within_a_batch_and_across_batches(store: WardrobeStore) -> None:
    make_item(store, "alice", "coat")
    worker = quiet_worker(store)
    body = share_body("alice", "coat", "req-same")
    first = worker.handle(event(record("m1", body), record("m2", share_body("alice", "coat", "req-same"))))
    again = worker.handle(event(record("m3", body)))
    other = worker.handle(event(record("m4", share_body("alice", "coat", "req-other")), record("m5", body)))

    assert first == again == other == {"batchItemFailures": []}  # a duplicate is a success, not a retry
    coat = store.get_item("coat")
    assert coat is not None and coat["sharedCount"] == 2
    assert sorted(a["requestId"] for a in shares_of(store, "alice")) == ["req-other", "req-same"]


def test_the_same_request_id_on_two_items_counts_for_each(store: WardrobeStore) -> None:
    # The marker is per item and requestId: one id reused on another item is another share.
    make_item(store, "alice", "coat")
    make_item(store, "alice", "scarf")
    result = quiet_worker(store).handle(event(
        record("m1", share_body("alice", "coat", "r")), record("m2", share_body("alice", "scarf", "r"))))  # fmt: skip
    assert result == {"batchItemFailures": []}
    assert [store.get_item(i)["sharedCount"] for i in ("coat", "scarf")] == [1, 1]  # type: ignore[index]


@pytest.mark.parametrize("bad_event", [{}, {"Records": None}, {"Records": "m1"}, {"records": []}, "Records", None, []])
def test_an_event_that_is_not_an_sqs_batch_raises(store: WardrobeStore, bad_event: Any) -> None:
    with pytest.raises(ValueError):
        quiet_worker(store).handle(bad_event)


def test_a_record_without_message_id_fails_the_whole_batch(store: WardrobeStore) -> None:
    make_item(store, "alice", "coat")
    with pytest.raises(ValueError):
        quiet_worker(store).handle(event({"body": share_body("alice", "coat", "r1")}))


def test_a_store_failure_fails_only_that_message(store: WardrobeStore) -> None:
    make_item(store, "alice", "coat")
    make_item(store, "alice", "scarf")

    class Flaky:
        def apply_share(self, user: str, item: str, request_id: str) -> str:
            if item == "scarf":
                raise OSError("disk on fire")
            return store.apply_share(user, item, request_id)

    worker = ShareWorker(Flaky(), Logger("w", stream=io.StringIO()), Metrics("Wdrbe", "w", stream=io.StringIO()))  # type: ignore[arg-type]
    result = worker.handle(event(record("m1", share_body("alice", "coat", "r1")), record("m2", share_body("alice", "scarf", "r2"))))
    assert result == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert [store.get_item(i)["sharedCount"] for i in ("coat", "scarf")] == [1, 0]  # type: ignore[index]


def _emf(out: str) -> list[dict[str, Any]]:
    docs = []
    for line in out.splitlines():
        try:
            doc = json.loads(line)
        except ValueError:
            continue
        if isinstance(doc, dict) and "_aws" in doc:
            docs.append(doc)
    return docs


def _total(value: Any) -> float:
    return sum(value) if isinstance(value, list) else value


def test_worker_metrics_are_printed_as_emf(store: WardrobeStore, capsys: pytest.CaptureFixture[str]) -> None:
    make_item(store, "alice", "coat")
    worker = ShareWorker(store, Logger("wardrobe-worker"), Metrics("Wdrbe", "wardrobe-worker"))  # stdout, as on Lambda
    worker.handle(event(record("pre", share_body("alice", "coat", "dup"))))
    capsys.readouterr()

    worker.handle(event(
        record("m1", share_body("alice", "coat", "r1")),
        record("m2", share_body("alice", "coat", "r2")),
        record("m3", share_body("alice", "gone", "r3")),
        record("m4", "not json"),
        record("m5", share_body("alice", "coat", "dup")),
        record("m6", share_body("mallory", "coat", "r6")),
    ))  # fmt: skip

    docs = _emf(capsys.readouterr().out)
    assert len(docs) == 1
    doc = docs[0]
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Wdrbe"
    assert isinstance(doc["_aws"]["Timestamp"], int)
    names = {m["Name"] for m in directive["Metrics"]}
    assert {"ShareEventsProcessed", "ItemNotFound", "BatchSize", "SuccessfulRecords", "FailedRecords"} <= names
    assert all(m["Unit"] == "Count" for m in directive["Metrics"])
    for dims in directive["Dimensions"]:
        assert all(d in doc for d in dims)
    assert _total(doc["ShareEventsProcessed"]) == 2
    assert _total(doc["ItemNotFound"]) == 1
    assert doc["BatchSize"] == 6
    assert doc["SuccessfulRecords"] == 4  # two applied, one skipped, one duplicate
    assert doc["FailedRecords"] == 2


def test_a_batch_without_failures_still_reports_zero_failed_records(store: WardrobeStore, capsys: pytest.CaptureFixture[str]) -> None:
    make_item(store, "alice", "coat")
    ShareWorker(store, Logger("w"), Metrics("Wdrbe", "w")).handle(event(record("m1", share_body("alice", "coat", "r1"))))
    (doc,) = _emf(capsys.readouterr().out)
    assert (doc["BatchSize"], doc["SuccessfulRecords"], doc["FailedRecords"], doc["ShareEventsProcessed"]) == (1, 1, 0, 1)
    assert "ItemNotFound" not in doc


# ---------------------------------------------------------------------------- the pump's event shape


def test_sqs_record_is_shaped_as_lambda_delivers_it() -> None:
    body = share_body("alice", "coat", "r1")
    msg = Message("0b8f6c1e-aaaa-4bbb-8ccc-000000000001", "receipt-1", body, {"type": "SHARE_ITEM"}, 2, 1_700_000_000.25)
    rec = sqs_record(msg, "wardrobe-shares", "eu-west-1")

    assert set(rec) == {"messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody",
                        "eventSource", "eventSourceARN", "awsRegion"}  # fmt: skip
    assert rec["messageId"] == msg.id
    assert rec["receiptHandle"] == "receipt-1"
    assert rec["body"] == body
    attrs = rec["attributes"]
    assert attrs["ApproximateReceiveCount"] == "2"
    assert attrs["SentTimestamp"] == "1700000000250"
    assert all(isinstance(v, str) for v in attrs.values())
    assert attrs["ApproximateFirstReceiveTimestamp"].isdigit() and attrs["SenderId"]
    assert rec["messageAttributes"] == {
        "type": {"stringValue": "SHARE_ITEM", "stringListValues": [], "binaryListValues": [], "dataType": "String"}
    }
    assert rec["md5OfBody"] == hashlib.md5(body.encode("utf-8")).hexdigest()
    assert rec["eventSource"] == "aws:sqs"
    assert rec["eventSourceARN"] == "arn:aws:sqs:eu-west-1:000000000000:wardrobe-shares"
    assert rec["awsRegion"] == "eu-west-1"
    json.dumps(rec)  # what Lambda hands over is JSON


def test_sqs_record_of_a_message_without_attributes() -> None:
    rec = sqs_record(Message("id-1", "rh", "héllo ✓", {}, 1, 0.0), "q", "us-east-1")
    assert rec["messageAttributes"] == {}
    assert rec["attributes"]["ApproximateReceiveCount"] == "1"
    assert rec["md5OfBody"] == hashlib.md5("héllo ✓".encode("utf-8")).hexdigest()


IDS = {"a", "b", "c"}


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": None}, set()),
        ({}, set()),
        (None, set()),
        ({"batchItemFailures": [{"itemIdentifier": "b"}]}, {"b"}),
        ({"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "c"}, {"itemIdentifier": "a"}]}, {"a", "c"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, None),  # unknown id
        ({"batchItemFailures": [{"itemIdentifier": "a"}, {"itemIdentifier": "zzz"}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": None}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": 1}]}, None),
        ({"batchItemFailures": [{"messageId": "a"}]}, None),  # missing itemIdentifier (bad key name)
        ({"batchItemFailures": [{}]}, None),
        ({"batchItemFailures": ["a"]}, None),
        ({"batchItemFailures": {"itemIdentifier": "a"}}, None),  # not a list
        ({"batchItemFailures": "a"}, None),
        ("ok", None),
        ([{"itemIdentifier": "a"}], None),
        (42, None),
    ],
)
def test_failed_ids(response: Any, expected: set[str] | None) -> None:
    assert failed_ids(response, IDS) == expected


def test_failed_ids_never_reports_ids_outside_the_batch() -> None:
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, set()) is None
    assert failed_ids({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}) == {"a"}



def test_an_invalid_message_is_a_warning_with_its_reason_not_a_stack_trace(store: WardrobeStore) -> None:
    out = io.StringIO()
    worker = ShareWorker(store, Logger("wardrobe-worker", stream=out), Metrics("Wdrbe", "wardrobe-worker", stream=io.StringIO()))
    result = worker.handle(event(record("bad", "[" * 3000), record("bad-2", "not json")))
    assert sorted(f["itemIdentifier"] for f in result["batchItemFailures"]) == ["bad", "bad-2"]
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert {line["level"] for line in lines} == {"WARNING"} and all("reason" in line for line in lines)
    assert "Traceback" not in out.getvalue() and "stack" not in out.getvalue().lower()
