"""TTL: an item past its expiry is gone for every read and absent for every condition,
whether or not anything has deleted it yet. Expiry times are far in the past or future."""

from __future__ import annotations

import time
from typing import Any

import pytest

from lambdasmith.kit.table.port import (
    Absent,
    AttrAbsent,
    AttrEquals,
    Check,
    ConditionFailed,
    Exists,
    Put,
    Table,
    TableSpec,
    TransactionCanceled,
    Update,
    Write,
)

PAST = int(time.time()) - 3600
FUTURE = int(time.time()) + 86400 * 365

KEY = {"PK": "p", "SK": "s"}


def _expired(table: Table, sk: str = "s", **extra: object) -> dict:
    item = {"PK": "p", "SK": sk, "expires": PAST, "GSI1PK": "o", "GSI1SK": sk, **extra}
    table.put(item)
    return item


def test_expired_items_are_invisible_to_reads(table: Table) -> None:
    _expired(table, "gone")
    live = {"PK": "p", "SK": "live", "expires": FUTURE, "GSI1PK": "o", "GSI1SK": "live"}
    table.put(live)

    assert table.get({"PK": "p", "SK": "gone"}) is None
    assert table.get({"PK": "p", "SK": "live"}) == live
    assert table.query("p").items == [live]
    assert table.query("o", index="byOwner").items == [live]
    assert table.batch_get([{"PK": "p", "SK": "gone"}, {"PK": "p", "SK": "live"}]) == [live]


def test_a_fractional_expiry_counts(table: Table) -> None:
    table.put({**KEY, "expires": time.time() - 60.5})

    assert table.get(KEY) is None


@pytest.mark.parametrize("value", ["1970", True, None, [PAST]], ids=["str", "bool", "null", "list"])
def test_a_non_numeric_ttl_never_expires(table: Table, value: object) -> None:
    table.put({**KEY, "expires": value})

    assert table.get(KEY) == {**KEY, "expires": value}


def test_ttl_only_applies_to_tables_that_declare_it(backend: Any) -> None:
    plain = backend.make_table(TableSpec("plain"))
    plain.put({**KEY, "expires": PAST})

    assert plain.get(KEY) == {**KEY, "expires": PAST}


def test_paging_skips_expired_items(table: Table) -> None:
    for i in range(10):
        table.put({"PK": "p", "SK": f"{i:02d}", "expires": PAST if i % 3 == 0 else FUTURE})

    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = table.query("p", limit=2, cursor=cursor)
        seen += [item["SK"] for item in page.items]
        cursor = page.cursor
        if cursor is None:
            break

    assert seen == [f"{i:02d}" for i in range(10) if i % 3 != 0]


def test_an_expired_item_is_absent_to_conditions(table: Table) -> None:
    _expired(table, state="open")

    with pytest.raises(ConditionFailed):
        table.put({**KEY, "n": 1}, Exists())
    with pytest.raises(ConditionFailed):
        table.put({**KEY, "n": 1}, AttrEquals("state", "open"))
    table.put({**KEY, "n": 1}, AttrAbsent("state"))

    assert table.get(KEY) == {**KEY, "n": 1}


def test_put_if_absent_succeeds_over_an_expired_item(table: Table) -> None:
    _expired(table)

    table.put({**KEY, "owner": "new"}, Absent())

    assert table.get(KEY) == {**KEY, "owner": "new"}


def test_update_over_an_expired_item_starts_afresh(table: Table) -> None:
    _expired(table, hits=5, stale="yes")

    new = table.update(KEY, Update(add={"hits": 1}), Absent())

    assert new == {**KEY, "hits": 1}
    assert table.get(KEY) == new


def test_delete_of_an_expired_item_returns_nothing(table: Table) -> None:
    _expired(table)

    with pytest.raises(ConditionFailed):
        table.delete(KEY, Exists())
    assert table.delete(KEY) is None


def test_an_update_can_expire_an_item(table: Table) -> None:
    table.put({**KEY, "GSI1PK": "o", "GSI1SK": "s"})

    table.update(KEY, Update(set={"expires": PAST}))

    assert table.get(KEY) is None
    assert table.query("o", index="byOwner").items == []


def test_transactions_see_expired_items_as_absent(table: Table) -> None:
    _expired(table)

    with pytest.raises(TransactionCanceled) as e:
        table.transact(
            [Write(table, Check(KEY, Exists())), Write(table, Put({"PK": "p", "SK": "t"}))]
        )
    assert e.value.reasons == ["ConditionalCheckFailed", None]

    table.transact([Write(table, Put({**KEY, "v": 2}, Absent()))])
    assert table.get(KEY) == {**KEY, "v": 2}
