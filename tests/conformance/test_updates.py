"""UpdateItem semantics: create-if-missing, the four clauses, and what may not be updated."""

from __future__ import annotations

import pytest

from lambdasmith.kit.table.port import Table, Update, ValidationError

KEY = {"PK": "p", "SK": "s"}


def test_update_creates_a_missing_item_and_returns_it(table: Table) -> None:
    new = table.update(KEY, Update(set={"name": "n", "tags": ["x"]}))

    assert new == {**KEY, "name": "n", "tags": ["x"]}
    assert table.get(KEY) == new


def test_an_empty_update_creates_the_bare_key(table: Table) -> None:
    assert table.update(KEY, Update()) == KEY
    assert table.get(KEY) == KEY


def test_set_overwrites_and_keeps_other_attributes(table: Table) -> None:
    table.put({**KEY, "a": 1, "b": 2})

    assert table.update(KEY, Update(set={"a": "one", "c": None})) == {
        **KEY,
        "a": "one",
        "b": 2,
        "c": None,
    }


def test_set_if_absent_only_fills_missing_attributes(table: Table) -> None:
    table.put({**KEY, "created": "yesterday"})

    new = table.update(KEY, Update(set_if_absent={"created": "today", "owner": "me"}))

    assert new == {**KEY, "created": "yesterday", "owner": "me"}


def test_add_counts_from_a_missing_attribute_and_missing_item(table: Table) -> None:
    assert table.update(KEY, Update(add={"hits": 1}))["hits"] == 1
    assert table.update(KEY, Update(add={"hits": 41}))["hits"] == 42
    assert table.update(KEY, Update(add={"hits": -2, "score": 0.5})) == {
        **KEY,
        "hits": 40,
        "score": 0.5,
    }
    stored = table.get(KEY)
    assert stored is not None and type(stored["hits"]) is int


def test_add_to_a_non_number_is_rejected_and_changes_nothing(table: Table) -> None:
    table.put({**KEY, "name": "n", "flag": True})

    with pytest.raises(ValidationError):
        table.update(KEY, Update(add={"name": 1}))
    with pytest.raises(ValidationError):
        table.update(KEY, Update(set={"other": 1}, add={"flag": 1}))

    assert table.get(KEY) == {**KEY, "name": "n", "flag": True}


@pytest.mark.parametrize("operand", ["1", True, None, [1]], ids=["str", "bool", "null", "list"])
def test_add_needs_a_numeric_operand(table: Table, operand: object) -> None:
    with pytest.raises(ValidationError):
        table.update(KEY, Update(add={"n": operand}))  # type: ignore[dict-item]
    assert table.get(KEY) is None


def test_remove_drops_attributes_and_ignores_missing_ones(table: Table) -> None:
    table.put({**KEY, "a": 1, "b": 2, "c": 3})

    assert table.update(KEY, Update(remove=("a", "zzz"))) == {**KEY, "b": 2, "c": 3}
    assert table.get(KEY) == {**KEY, "b": 2, "c": 3}


def test_all_clauses_in_one_update(table: Table) -> None:
    table.put({**KEY, "gone": 1, "count": 1, "kept": "old"})

    new = table.update(
        KEY,
        Update(
            set={"name": "n"},
            set_if_absent={"kept": "new", "fresh": "new"},
            add={"count": 2},
            remove=("gone",),
        ),
    )

    assert new == {**KEY, "name": "n", "kept": "old", "fresh": "new", "count": 3}


@pytest.mark.parametrize(
    "update",
    [
        Update(set={"PK": "other"}),
        Update(set={"SK": "s"}),
        Update(set_if_absent={"SK": "t"}),
        Update(remove=("PK",)),
        Update(add={"SK": 1}),
    ],
    ids=["set-pk", "set-sk-same-value", "set-if-absent-sk", "remove-pk", "add-sk"],
)
def test_key_attributes_cannot_be_updated(table: Table, update: Update) -> None:
    table.put({**KEY, "a": 1})

    with pytest.raises(ValidationError):
        table.update(KEY, update)

    assert table.get(KEY) == {**KEY, "a": 1}


def test_an_attribute_may_appear_in_one_clause_only(table: Table) -> None:
    with pytest.raises(ValidationError):
        table.update(KEY, Update(set={"a": 1}, remove=("a",)))
    with pytest.raises(ValidationError):
        table.update(KEY, Update(set={"a": 1}, add={"a": 1}))

    assert table.get(KEY) is None


def test_update_respects_custom_key_names(accounts: Table) -> None:
    new = accounts.update({"id": "u1", "kind": "balance"}, Update(add={"cents": 250}))

    assert new == {"id": "u1", "kind": "balance", "cents": 250}
    assert accounts.get({"id": "u1", "kind": "balance"}) == new
    with pytest.raises(ValidationError):
        accounts.update({"PK": "u1", "SK": "balance"}, Update(add={"cents": 1}))


# The four rules the DynamoDB backend once checked on its own; the port's base class now checks
# them for every backend, before the backend sees the request.


@pytest.mark.parametrize(
    "update",
    [Update(set={"": 1}), Update(set_if_absent={"": 1}), Update(remove=(1,)), Update(add={"": 1})],  # type: ignore[arg-type]
    ids=["set-empty", "set-if-absent-empty", "remove-number", "add-empty"],
)
def test_update_attribute_names_must_be_non_empty_strings(table: Table, update: Update) -> None:
    with pytest.raises(ValidationError):
        table.update(KEY, update)
    assert table.get(KEY) is None


@pytest.mark.parametrize(
    "update",
    [
        Update(add={"GSI1PK": 1}),
        Update(set={"GSI1SK": ""}),
        Update(set={"GSI1PK": 5}),
        Update(set_if_absent={"GSI1PK": 5}),  # refused although the item's own value would stay
    ],
    ids=["add", "set-empty", "set-number", "set-if-absent-number"],
)
def test_index_key_attributes_in_an_update_must_be_strings(table: Table, update: Update) -> None:
    table.put({**KEY, "GSI1PK": "owner", "GSI1SK": "x"})

    with pytest.raises(ValidationError):
        table.update(KEY, update)

    assert table.get(KEY) == {**KEY, "GSI1PK": "owner", "GSI1SK": "x"}


@pytest.mark.parametrize(
    "value", [object(), "\ud800", {1: "x"}], ids=["object", "lone-surrogate", "map-with-number-key"]
)
def test_every_update_value_must_be_storable_even_one_not_written(table: Table, value: object) -> None:
    table.put({**KEY, "a": 1})

    with pytest.raises(ValidationError):
        table.update(KEY, Update(set_if_absent={"a": value}))  # `a` exists: nothing would be written

    assert table.get(KEY) == {**KEY, "a": 1}
