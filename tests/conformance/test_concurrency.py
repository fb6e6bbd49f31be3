"""Atomicity under contention, from threads and from separate processes.

The process tests fork: each child inherits the `backend` object and opens its own table
handle with `make_table`, so nothing has to be pickled and a backend only has to survive
being used after fork (open fresh connections in the child), which real servers need too.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from typing import Any, Callable

import pytest

from lambdasmith.kit.table.port import (
    Absent,
    AttrEquals,
    ConditionFailed,
    Patch,
    Table,
    TableSpec,
    TransactionCanceled,
    Update,
    Write,
)

COUNTER = {"PK": "counter", "SK": "hits"}


def _run_threads(n: int, work: Callable[[int], Any]) -> list[Any]:
    """Start `n` threads together; return their results, re-raising the first failure."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except BaseException as e:  # noqa: BLE001 - surfaced below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return results


def test_atomic_counter_from_eight_threads(table: Table) -> None:
    def work(_: int) -> list[int]:
        return [table.update(COUNTER, Update(add={"n": 1}))["n"] for _ in range(50)]

    seen = [n for ns in _run_threads(8, work) for n in ns]

    assert table.get(COUNTER) == {**COUNTER, "n": 400}
    assert sorted(seen) == list(range(1, 401)), "two increments observed the same value"


def test_one_winner_of_a_conditional_put_race_between_threads(table: Table) -> None:
    key = {"PK": "lock", "SK": "leader"}

    def work(i: int) -> bool:
        try:
            table.put({**key, "owner": i}, Absent())
            return True
        except ConditionFailed:
            return False

    won = _run_threads(16, work)

    assert won.count(True) == 1
    assert table.get(key) == {**key, "owner": won.index(True)}


def test_optimistic_locking_loses_no_update(table: Table) -> None:
    key = {"PK": "doc", "SK": "1"}
    table.put({**key, "version": 0, "log": []})

    def work(i: int) -> int:
        retries = 0
        for step in range(10):
            while True:
                doc = table.get(key)
                assert doc is not None
                new = {**doc, "version": doc["version"] + 1, "log": doc["log"] + [f"{i}.{step}"]}
                try:
                    table.put(new, AttrEquals("version", doc["version"]))
                    break
                except ConditionFailed:
                    retries += 1
        return retries

    _run_threads(6, work)

    doc = table.get(key)
    assert doc is not None and doc["version"] == 60
    assert sorted(doc["log"]) == sorted(f"{i}.{s}" for i in range(6) for s in range(10))


def test_transfers_in_transactions_conserve_the_total(accounts: Table) -> None:
    a, b = {"id": "a", "kind": "balance"}, {"id": "b", "kind": "balance"}
    accounts.put({**a, "cents": 1000})
    accounts.put({**b, "cents": 1000})

    take = Update(add={"cents": -1})

    def work(i: int) -> int:
        src, dst = (a, b) if i % 2 else (b, a)
        done = 0
        for _ in range(25):
            have = accounts.get(src)
            assert have is not None
            try:
                accounts.transact(
                    [
                        Write(accounts, Patch(src, take, AttrEquals("cents", have["cents"]))),
                        Write(accounts, Patch(dst, Update(add={"cents": 1}))),
                    ]
                )
                done += 1
            except TransactionCanceled as e:
                assert e.reasons == ["ConditionalCheckFailed", None]
        return done

    moved = _run_threads(8, work)

    total_a = accounts.get(a)["cents"]  # type: ignore[index]
    total_b = accounts.get(b)["cents"]  # type: ignore[index]
    assert total_a + total_b == 2000
    to_a = sum(m for i, m in enumerate(moved) if i % 2 == 0)
    to_b = sum(m for i, m in enumerate(moved) if i % 2 == 1)
    assert total_a == 1000 + to_a - to_b


# ---------------------------------------------------------------------------- processes

PROCESSES = 4
RACE_KEYS = 10
PROCESS_INCREMENTS = 50


def _fork() -> Any:
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("needs the fork start method")
    return multiprocessing.get_context("fork")


def _race_in_child(backend: Any, spec: TableSpec, me: int, barrier: Any, out: Any) -> None:
    table = backend.make_table(spec)
    won = []
    for k in range(RACE_KEYS):
        barrier.wait(timeout=30)  # every round starts together, so every key is contended
        try:
            table.put({"PK": "race", "SK": f"k{k}", "owner": me}, Absent())
            won.append(k)
        except ConditionFailed:
            pass
    out.put((me, won))


def _count_in_child(backend: Any, spec: TableSpec, me: int, barrier: Any, out: Any) -> None:
    table = backend.make_table(spec)
    barrier.wait(timeout=30)
    seen = [table.update(COUNTER, Update(add={"n": 1}))["n"] for _ in range(PROCESS_INCREMENTS)]
    out.put((me, seen))


def _in_processes(backend: Any, spec: TableSpec, target: Callable[..., None]) -> dict[int, Any]:
    ctx = _fork()
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [
        ctx.Process(target=target, args=(backend, spec, i, barrier, out)) for i in range(PROCESSES)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)  # results are a few hundred bytes: they fit the queue's pipe
    for p in procs:
        if p.is_alive():
            p.kill()
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    results: dict[int, Any] = {}
    try:
        for _ in procs:
            me, value = out.get(timeout=5)
            results[me] = value
    except queue.Empty:
        pass
    assert sorted(results) == list(range(PROCESSES))
    return results


def test_one_winner_of_a_conditional_put_race_between_processes(backend: Any, table: Table) -> None:
    won = _in_processes(backend, table.spec, _race_in_child)

    for k in range(RACE_KEYS):
        winners = [me for me, keys in won.items() if k in keys]
        assert len(winners) == 1, f"key k{k} won by {winners}"
        assert table.get({"PK": "race", "SK": f"k{k}"}) == {
            "PK": "race",
            "SK": f"k{k}",
            "owner": winners[0],
        }


def test_atomic_counter_from_several_processes(backend: Any, table: Table) -> None:
    seen = _in_processes(backend, table.spec, _count_in_child)

    total = PROCESSES * PROCESS_INCREMENTS
    assert table.get(COUNTER) == {**COUNTER, "n": total}
    assert sorted(n for ns in seen.values() for n in ns) == list(range(1, total + 1))
