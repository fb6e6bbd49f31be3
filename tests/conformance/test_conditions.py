"""Conditional writes: each condition kind on put, update and delete, failing atomically."""

from __future__ import annotations

import pytest

from lambdasmith.kit.table.port import (
    Absent,
    AllOf,
    AttrAbsent,
    AttrEquals,
    Condition,
    ConditionFailed,
    Exists,
    Table,
    Update,
    ValidationError,
)

KEY = {"PK": "p", "SK": "s"}
STORED = {
    "PK": "p",
    "SK": "s",
    "version": 3,
    "state": "open",
    "flag": True,
    "ratio": 2,
    "tags": ["a", "b"],
    "meta": {"x": 1, "on": False},
}

CLOSE = Update(set={"state": "closed"}, add={"version": 1})


def test_put_if_absent_succeeds_once(table: Table) -> None:
    table.put({**KEY, "owner": "first"}, Absent())

    with pytest.raises(ConditionFailed):
        table.put({**KEY, "owner": "second"}, Absent())

    assert table.get(KEY) == {**KEY, "owner": "first"}


def test_put_if_exists_needs_the_item(table: Table) -> None:
    with pytest.raises(ConditionFailed):
        table.put({**KEY, "n": 1}, Exists())
    assert table.get(KEY) is None

    table.put({**KEY, "n": 1})
    table.put({**KEY, "n": 2}, Exists())
    assert table.get(KEY) == {**KEY, "n": 2}


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (AttrEquals("version", 3), True),
        (AttrEquals("version", 4), False),
        (AttrEquals("version", 3.0), True),  # numbers compare by value
        (AttrEquals("version", "3"), False),
        (AttrEquals("state", "open"), True),
        (AttrEquals("missing", None), False),
        (AttrEquals("flag", True), True),
        (AttrEquals("flag", 1), False),  # a boolean is never a number
        (AttrEquals("ratio", True), False),
        (AttrEquals("tags", ["a", "b"]), True),
        (AttrEquals("tags", ["b", "a"]), False),
        (AttrEquals("meta", {"on": False, "x": 1}), True),
        (AttrEquals("meta", {"on": 0, "x": 1}), False),
        (AttrAbsent("missing"), True),
        (AttrAbsent("state"), False),
        (Exists(), True),
        (Absent(), False),
        (AllOf((Exists(), AttrEquals("version", 3), AttrAbsent("deleted"))), True),
        (AllOf((Exists(), AttrEquals("version", 3), AttrAbsent("state"))), False),
        (AllOf((AttrEquals("state", "closed"), AttrEquals("version", 3))), False),
    ],
)
def test_conditions_against_an_existing_item(
    table: Table, condition: Condition, holds: bool
) -> None:
    table.put(dict(STORED))

    if holds:
        table.put({**STORED, "written": True}, condition)
        assert table.get(KEY) == {**STORED, "written": True}
    else:
        with pytest.raises(ConditionFailed):
            table.put({**STORED, "written": True}, condition)
        assert table.get(KEY) == STORED


@pytest.mark.parametrize(
    ("condition", "holds"),
    [
        (Absent(), True),
        (Exists(), False),
        (AttrAbsent("anything"), True),
        (AttrEquals("anything", None), False),
        (AllOf((Absent(), AttrAbsent("x"))), True),
        (AllOf((Absent(), Exists())), False),
    ],
)
def test_conditions_against_a_missing_item(
    table: Table, condition: Condition, holds: bool
) -> None:
    if holds:
        table.put({**KEY, "written": True}, condition)
        assert table.get(KEY) == {**KEY, "written": True}
    else:
        with pytest.raises(ConditionFailed):
            table.put({**KEY, "written": True}, condition)
        assert table.get(KEY) is None


def test_update_with_a_failing_condition_changes_nothing(table: Table) -> None:
    table.put(dict(STORED))

    with pytest.raises(ConditionFailed):
        table.update(KEY, CLOSE, AttrEquals("version", 2))

    assert table.get(KEY) == STORED


def test_update_with_a_holding_condition_applies(table: Table) -> None:
    table.put(dict(STORED))

    new = table.update(KEY, CLOSE, AttrEquals("version", 3))

    assert new == {**STORED, "state": "closed", "version": 4}
    assert table.get(KEY) == new


def test_update_conditioned_on_existence_does_not_create(table: Table) -> None:
    with pytest.raises(ConditionFailed):
        table.update(KEY, Update(set={"a": 1}), Exists())

    assert table.get(KEY) is None


def test_delete_with_a_failing_condition_keeps_the_item(table: Table) -> None:
    table.put(dict(STORED))

    with pytest.raises(ConditionFailed):
        table.delete(KEY, AttrEquals("state", "closed"))
    assert table.get(KEY) == STORED

    assert table.delete(KEY, AttrEquals("state", "open")) == STORED
    assert table.get(KEY) is None


def test_delete_of_a_missing_item_with_exists_fails(table: Table) -> None:
    with pytest.raises(ConditionFailed):
        table.delete(KEY, Exists())


@pytest.mark.parametrize(
    "condition",
    [AttrAbsent(""), AttrEquals("", 1), AttrAbsent(5), AttrEquals("a", object()), AttrEquals("a", "\ud800")],  # type: ignore[arg-type]
    ids=["absent-empty-name", "equals-empty-name", "absent-number-name", "equals-object", "equals-surrogate"],
)
def test_conditions_need_attribute_names_and_storable_values(table: Table, condition: Condition) -> None:
    with pytest.raises(ValidationError):
        table.put(KEY, condition=condition)
    with pytest.raises(ValidationError):
        table.update(KEY, Update(), condition=AllOf((Exists(), condition)))

    assert table.get(KEY) is None


@pytest.mark.parametrize("condition", ["version = 3", 42, Update()], ids=["text", "number", "update"])
def test_a_condition_must_be_a_condition(table: Table, condition: object) -> None:
    with pytest.raises(TypeError):
        table.put(KEY, condition=condition)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        table.delete(KEY, condition=condition)  # type: ignore[arg-type]
