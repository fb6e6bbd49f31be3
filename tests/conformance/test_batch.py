"""Batch reads and writes beyond DynamoDB's per-request limits (100 gets, 25 puts)."""

from __future__ import annotations

import pytest

from lambdasmith.kit.table.port import Table, ValidationError


def _items(n: int) -> list[dict]:
    return [
        {"PK": f"p#{i % 3}", "SK": f"s#{i:04d}", "n": i, "GSI1PK": "all", "GSI1SK": f"{i:04d}"}
        for i in range(n)
    ]


def test_batch_put_and_batch_get_beyond_request_limits(table: Table) -> None:
    items = _items(130)

    table.batch_put(items)
    got = table.batch_get([{"PK": i["PK"], "SK": i["SK"]} for i in items])

    assert sorted(got, key=lambda i: i["n"]) == items
    assert table.get({"PK": "p#1", "SK": "s#0127"}) == items[127]
    assert len(table.query("all", index="byOwner", limit=500).items) == 130


def test_batch_get_leaves_out_missing_keys(table: Table) -> None:
    table.batch_put(_items(3))

    got = table.batch_get([{"PK": "p#0", "SK": "s#0000"}, {"PK": "p#0", "SK": "nope"}])

    assert got == [_items(1)[0]]


def test_batch_get_returns_a_repeated_key_once(table: Table) -> None:
    table.batch_put(_items(2))

    got = table.batch_get([{"PK": "p#0", "SK": "s#0000"}] * 3)

    assert got == [_items(1)[0]]


def test_batch_put_of_a_repeated_key_keeps_the_last_item(table: Table) -> None:
    table.batch_put([{"PK": "p", "SK": "s", "v": 1}, {"PK": "p", "SK": "s", "v": 2}])

    assert table.get({"PK": "p", "SK": "s"}) == {"PK": "p", "SK": "s", "v": 2}


def test_batch_put_replaces_existing_items(table: Table) -> None:
    table.put({"PK": "p", "SK": "s", "old": True})

    table.batch_put([{"PK": "p", "SK": "s", "new": True}])

    assert table.get({"PK": "p", "SK": "s"}) == {"PK": "p", "SK": "s", "new": True}


def test_batch_put_with_one_invalid_item_writes_nothing(table: Table) -> None:
    items = _items(40)
    items[33] = {"PK": "p#0"}

    with pytest.raises(ValidationError):
        table.batch_put(items)

    assert table.batch_get([{"PK": i["PK"], "SK": i["SK"]} for i in _items(40)]) == []


def test_batch_get_rejects_an_invalid_key(table: Table) -> None:
    with pytest.raises(ValidationError):
        table.batch_get([{"PK": "p", "SK": "s"}, {"PK": "p"}])


def test_empty_batches(table: Table) -> None:
    table.batch_put([])

    assert table.batch_get([]) == []


def test_batches_accept_any_iterable(table: Table) -> None:
    table.batch_put(item for item in _items(30))

    assert len(table.batch_get({"PK": i["PK"], "SK": i["SK"]} for i in _items(30))) == 30
