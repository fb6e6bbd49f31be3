"""Single-item reads and writes: values survive the trip, keys are validated, sizes capped."""

from __future__ import annotations

import pytest

from lambdasmith.kit.table.port import (
    MAX_ITEM_BYTES,
    ItemTooLarge,
    Table,
    Update,
    ValidationError,
)

EVERY_TYPE = {
    "PK": "p#1",
    "SK": "s#1",
    "text": "héllo 😀 ～",
    "empty": "",
    "zero": 0,
    "negative": -42,
    "big": 2**53 + 1,
    "fraction": 1.5,
    "small": -0.25,
    "yes": True,
    "no": False,
    "nothing": None,
    "list": [1, "two", 3.5, False, None, [], {"x": [1]}],
    "empty_list": [],
    "map": {"nested": {"deep": ["a", 1, True]}, "n": 7, "none": None},
    "empty_map": {},
}


def test_put_then_get_round_trips_every_value_type(table: Table) -> None:
    table.put(dict(EVERY_TYPE))

    got = table.get({"PK": "p#1", "SK": "s#1"})

    assert got == EVERY_TYPE
    for name in ("zero", "negative", "big"):
        assert type(got[name]) is int, name
    assert got["yes"] is True and got["no"] is False and got["nothing"] is None
    assert type(got["list"][3]) is bool and type(got["map"]["n"]) is int


def test_get_of_a_missing_item_is_none(table: Table) -> None:
    assert table.get({"PK": "p#1", "SK": "nope"}) is None


def test_put_replaces_the_whole_item(table: Table) -> None:
    table.put({"PK": "p", "SK": "s", "a": 1, "b": 2})
    table.put({"PK": "p", "SK": "s", "a": 3})

    assert table.get({"PK": "p", "SK": "s"}) == {"PK": "p", "SK": "s", "a": 3}


def test_items_handed_in_or_out_are_not_aliased_with_storage(table: Table) -> None:
    item = {"PK": "p", "SK": "s", "tags": ["a"]}
    table.put(item)
    item["tags"].append("changed-after-put")

    got = table.get({"PK": "p", "SK": "s"})
    assert got is not None
    got["tags"].append("changed-after-get")

    assert table.get({"PK": "p", "SK": "s"}) == {"PK": "p", "SK": "s", "tags": ["a"]}


def test_delete_returns_the_old_item_and_removes_it(table: Table) -> None:
    table.put({"PK": "p", "SK": "s", "n": 1})

    assert table.delete({"PK": "p", "SK": "s"}) == {"PK": "p", "SK": "s", "n": 1}
    assert table.get({"PK": "p", "SK": "s"}) is None
    assert table.delete({"PK": "p", "SK": "s"}) is None


def test_items_with_the_same_key_in_two_tables_are_separate(table: Table, accounts: Table) -> None:
    table.put({"PK": "x", "SK": "y", "in": "things"})
    accounts.put({"id": "x", "kind": "y", "in": "accounts"})

    assert table.get({"PK": "x", "SK": "y"}) == {"PK": "x", "SK": "y", "in": "things"}
    assert accounts.get({"id": "x", "kind": "y"}) == {"id": "x", "kind": "y", "in": "accounts"}


def test_partition_and_sort_keys_are_distinct(table: Table) -> None:
    table.put({"PK": "a", "SK": "b", "v": 1})
    table.put({"PK": "b", "SK": "a", "v": 2})

    assert table.get({"PK": "a", "SK": "b"})["v"] == 1  # type: ignore[index]
    assert table.get({"PK": "b", "SK": "a"})["v"] == 2  # type: ignore[index]


@pytest.mark.parametrize(
    "item",
    [
        {"SK": "s"},
        {"PK": "p"},
        {"PK": "", "SK": "s"},
        {"PK": "p", "SK": ""},
        {"PK": 1, "SK": "s"},
        {"PK": "p", "SK": None},
        {"PK": ["p"], "SK": "s"},
        {"PK": "p", "SK": "s", "GSI1PK": 5, "GSI1SK": "x"},
        {"PK": "p", "SK": "s", "GSI1PK": "o", "GSI1SK": ""},
    ],
    ids=[
        "no-pk",
        "no-sk",
        "empty-pk",
        "empty-sk",
        "int-pk",
        "null-sk",
        "list-pk",
        "int-gsi-pk",
        "empty-gsi-sk",
    ],
)
def test_put_rejects_bad_keys(table: Table, item: dict) -> None:
    with pytest.raises(ValidationError):
        table.put(item)
    assert table.get({"PK": "p", "SK": "s"}) is None


@pytest.mark.parametrize(
    "key",
    [
        {"PK": "p"},
        {"SK": "s"},
        {"PK": "p", "SK": 3},
        {"PK": "p", "SK": "s", "extra": 1},
    ],
    ids=["no-sk", "no-pk", "int-sk", "extra-attribute"],
)
def test_reads_and_deletes_reject_bad_keys(table: Table, key: dict) -> None:
    with pytest.raises(ValidationError):
        table.get(key)
    with pytest.raises(ValidationError):
        table.delete(key)
    with pytest.raises(ValidationError):
        table.update(key, Update(set={"a": 1}))


def test_an_item_just_under_400_kb_is_stored(table: Table) -> None:
    item = {"PK": "p", "SK": "s", "blob": "x" * (MAX_ITEM_BYTES - 100)}
    table.put(item)

    assert table.get({"PK": "p", "SK": "s"}) == item


def test_an_item_over_400_kb_is_rejected(table: Table) -> None:
    with pytest.raises(ItemTooLarge):
        table.put({"PK": "p", "SK": "s", "blob": "x" * MAX_ITEM_BYTES})

    assert table.get({"PK": "p", "SK": "s"}) is None


def test_an_update_that_grows_an_item_over_400_kb_is_rejected(table: Table) -> None:
    half = {"PK": "p", "SK": "s", "a": "x" * (MAX_ITEM_BYTES // 2)}
    table.put(half)

    with pytest.raises(ItemTooLarge):
        table.update({"PK": "p", "SK": "s"}, Update(set={"b": "y" * (MAX_ITEM_BYTES // 2)}))

    assert table.get({"PK": "p", "SK": "s"}) == half


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), {1: "int-named map attribute"}, object()],
    ids=["nan", "infinity", "int-map-key", "object"],
)
def test_values_outside_the_model_are_rejected(table: Table, value: object) -> None:
    with pytest.raises(ValidationError):
        table.put({"PK": "p", "SK": "s", "v": value})

    assert table.get({"PK": "p", "SK": "s"}) is None
