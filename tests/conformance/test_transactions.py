"""Transactions: all or nothing across tables, one reason per operation, DynamoDB's limits."""

from __future__ import annotations

from typing import Any

import pytest

from lambdasmith.kit.table.port import (
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_ITEMS,
    Absent,
    AttrEquals,
    Check,
    Delete,
    Exists,
    Patch,
    Put,
    Table,
    TableSpec,
    TransactionCanceled,
    Update,
    ValidationError,
    Write,
)

ALICE = {"id": "alice", "kind": "balance"}
BOB = {"id": "bob", "kind": "balance"}


def _seed(accounts: Table) -> None:
    accounts.put({**ALICE, "cents": 100, "version": 1})
    accounts.put({**BOB, "cents": 0, "version": 1})


def test_a_transaction_applies_every_kind_of_write_across_two_tables(
    table: Table, accounts: Table
) -> None:
    _seed(accounts)
    table.put({"PK": "old", "SK": "s"})

    table.transact(
        [
            Write(
                accounts,
                Patch(ALICE, Update(add={"cents": -30, "version": 1}), AttrEquals("version", 1)),
            ),
            Write(accounts, Patch(BOB, Update(add={"cents": 30}))),
            Write(table, Put({"PK": "ledger", "SK": "t1", "amount": 30}, Absent())),
            Write(table, Delete({"PK": "old", "SK": "s"}, Exists())),
            Write(accounts, Check({"id": "bank", "kind": "open"}, Absent())),
        ]
    )

    assert accounts.get(ALICE) == {**ALICE, "cents": 70, "version": 2}
    assert accounts.get(BOB) == {**BOB, "cents": 30, "version": 1}
    assert table.get({"PK": "ledger", "SK": "t1"}) == {"PK": "ledger", "SK": "t1", "amount": 30}
    assert table.get({"PK": "old", "SK": "s"}) is None
    assert accounts.get({"id": "bank", "kind": "open"}) is None


def test_a_patch_in_a_transaction_creates_a_missing_item(accounts: Table) -> None:
    carol = {"id": "carol", "kind": "balance"}

    accounts.transact([Write(accounts, Patch(carol, Update(add={"cents": 5})))])

    assert accounts.get(carol) == {**carol, "cents": 5}


def test_one_failing_condition_cancels_everything(table: Table, accounts: Table) -> None:
    _seed(accounts)
    table.put({"PK": "keep", "SK": "s"})

    with pytest.raises(TransactionCanceled) as e:
        table.transact(
            [
                Write(table, Put({"PK": "ledger", "SK": "t1"}, Absent())),
                Write(accounts, Patch(ALICE, Update(add={"cents": -30}))),
                Write(table, Delete({"PK": "keep", "SK": "s"})),
                Write(accounts, Patch(BOB, Update(add={"cents": 30}), AttrEquals("version", 7))),
            ]
        )

    assert e.value.reasons == [None, None, None, "ConditionalCheckFailed"]
    assert table.get({"PK": "ledger", "SK": "t1"}) is None
    assert table.get({"PK": "keep", "SK": "s"}) == {"PK": "keep", "SK": "s"}
    assert accounts.get(ALICE) == {**ALICE, "cents": 100, "version": 1}
    assert accounts.get(BOB) == {**BOB, "cents": 0, "version": 1}


def test_reasons_mark_every_failing_position(table: Table, accounts: Table) -> None:
    _seed(accounts)
    table.put({"PK": "taken", "SK": "s"})

    with pytest.raises(TransactionCanceled) as e:
        table.transact(
            [
                Write(accounts, Check(ALICE, AttrEquals("cents", 100))),
                Write(table, Put({"PK": "taken", "SK": "s", "v": 2}, Absent())),
                Write(table, Put({"PK": "free", "SK": "s"}, Absent())),
                Write(accounts, Check(BOB, AttrEquals("cents", 100))),
                Write(accounts, Delete({"id": "nobody", "kind": "balance"}, Exists())),
            ]
        )

    failed = "ConditionalCheckFailed"
    assert e.value.reasons == [None, failed, None, failed, failed]
    assert table.get({"PK": "free", "SK": "s"}) is None
    assert table.get({"PK": "taken", "SK": "s"}) == {"PK": "taken", "SK": "s"}


def test_a_patch_that_cannot_apply_cancels_with_a_validation_reason(
    table: Table, accounts: Table
) -> None:
    _seed(accounts)
    big = {"id": "big", "kind": "doc"}
    accounts.put({**big, "text": "x" * (MAX_ITEM_BYTES // 2)})
    grow = Update(set={"more": "y" * (MAX_ITEM_BYTES // 2)})

    with pytest.raises(TransactionCanceled) as e:
        table.transact(
            [
                Write(table, Put({"PK": "a", "SK": "s"})),
                Write(accounts, Patch(ALICE, Update(add={"kind_of": 1}))),
                Write(accounts, Patch(big, grow)),
                Write(accounts, Patch(BOB, Update(add={"version": 1}))),
            ]
        )

    assert e.value.reasons == [None, None, "ValidationError", None]
    assert table.get({"PK": "a", "SK": "s"}) is None
    assert accounts.get(ALICE) == {**ALICE, "cents": 100, "version": 1}


def test_an_add_to_text_in_a_transaction_cancels_it(accounts: Table) -> None:
    accounts.put({"id": "t", "kind": "doc", "name": "n"})

    with pytest.raises(TransactionCanceled) as e:
        accounts.transact(
            [
                Write(accounts, Patch({"id": "t", "kind": "doc"}, Update(add={"name": 1}))),
                Write(accounts, Put({"id": "u", "kind": "doc"})),
            ]
        )

    assert e.value.reasons == ["ValidationError", None]
    assert accounts.get({"id": "u", "kind": "doc"}) is None


def test_a_failing_check_alone_cancels_the_writes(table: Table, accounts: Table) -> None:
    with pytest.raises(TransactionCanceled) as e:
        table.transact(
            [Write(table, Put({"PK": "a", "SK": "s"})), Write(accounts, Check(ALICE, Exists()))]
        )

    assert e.value.reasons == [None, "ConditionalCheckFailed"]
    assert table.get({"PK": "a", "SK": "s"}) is None


def _puts(table: Table, n: int) -> list[Write]:
    return [Write(table, Put({"PK": "p", "SK": f"{i:03d}"})) for i in range(n)]


def test_a_transaction_of_exactly_the_limit_is_applied(table: Table) -> None:
    table.transact(_puts(table, MAX_TRANSACTION_ITEMS))

    assert len(table.query("p", limit=1000).items) == MAX_TRANSACTION_ITEMS


def test_a_transaction_over_the_limit_is_rejected(table: Table) -> None:
    with pytest.raises(ValidationError):
        table.transact(_puts(table, MAX_TRANSACTION_ITEMS + 1))

    assert table.query("p").items == []


@pytest.mark.parametrize(
    "second",
    [
        Put({"PK": "p", "SK": "s", "v": 2}),
        Check({"PK": "p", "SK": "s"}, Absent()),
        Delete({"PK": "p", "SK": "s"}),
        Patch({"PK": "p", "SK": "s"}, Update(add={"n": 1})),
    ],
    ids=["put", "check", "delete", "patch"],
)
def test_touching_one_item_twice_is_rejected(table: Table, second: Any) -> None:
    with pytest.raises(ValidationError):
        table.transact([Write(table, Put({"PK": "p", "SK": "s", "v": 1})), Write(table, second)])

    assert table.get({"PK": "p", "SK": "s"}) is None


def test_two_handles_on_one_table_are_still_one_table(backend: Any, table: Table) -> None:
    again = backend.make_table(table.spec)

    with pytest.raises(ValidationError):
        table.transact(
            [Write(table, Put({"PK": "p", "SK": "s"})), Write(again, Put({"PK": "p", "SK": "s"}))]
        )


def test_the_same_key_in_two_tables_is_two_items(table: Table, backend: Any) -> None:
    twin = backend.make_table(TableSpec("twin", indexes=table.spec.indexes))

    table.transact(
        [
            Write(table, Put({"PK": "p", "SK": "s", "t": 1})),
            Write(twin, Put({"PK": "p", "SK": "s", "t": 2})),
        ]
    )

    assert table.get({"PK": "p", "SK": "s"}) == {"PK": "p", "SK": "s", "t": 1}
    assert twin.get({"PK": "p", "SK": "s"}) == {"PK": "p", "SK": "s", "t": 2}


def test_tables_of_unrelated_backends_cannot_share_a_transaction(
    table: Table, other_backend: Any
) -> None:
    elsewhere = other_backend.make_table(table.spec)

    with pytest.raises(ValidationError):
        table.transact(
            [
                Write(table, Put({"PK": "a", "SK": "s"})),
                Write(elsewhere, Put({"PK": "b", "SK": "s"})),
            ]
        )

    assert table.get({"PK": "a", "SK": "s"}) is None
    assert elsewhere.get({"PK": "b", "SK": "s"}) is None


def test_an_invalid_write_rejects_the_transaction_before_anything_is_written(table: Table) -> None:
    ok = Write(table, Put({"PK": "ok", "SK": "s"}))

    with pytest.raises(ValidationError):
        table.transact([ok, Write(table, Put({"PK": "no-sort-key"}))])
    with pytest.raises(ValidationError):
        table.transact([ok, Write(table, Patch({"PK": "x", "SK": "s"}, Update(set={"PK": "y"})))])
    with pytest.raises(ValidationError):
        table.transact([ok, Write(table, Put({"PK": "big", "SK": "s", "b": "x" * MAX_ITEM_BYTES}))])

    assert table.get({"PK": "ok", "SK": "s"}) is None


def test_an_empty_transaction_does_nothing(table: Table) -> None:
    table.transact([])

    assert table.query("p").items == []


@pytest.mark.parametrize(
    "write",
    [Put({"id": "alice", "kind": "balance"}), "put", None],
    ids=["bare-operation", "text", "none"],
)
def test_a_transaction_holds_writes_only(accounts: Table, write: Any) -> None:
    with pytest.raises(ValidationError):
        accounts.transact([Write(accounts, Put({**BOB, "cents": 1})), write])

    assert accounts.get(BOB) is None
