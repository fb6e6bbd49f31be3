"""The one conformance suite every table backend passes unchanged.

A backend is a factory `tmp_path -> Backend` registered in BACKENDS; the tests see only the
port (`lambdasmith.kit.table`) through `backend.make_table(spec)`. Contract of a backend:

- `make_table(spec)` returns a handle on the table `spec.name` of this backend's own namespace
  (isolated per test), creating it on first use; later calls — from other threads, or from a
  child process forked after the first call — reach the same data;
- `close()` releases what the backend holds when the test ends.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator, Protocol

import pytest

from lambdasmith.kit.sqlite import Database
from lambdasmith.kit.sqlite_table import SqliteTable
from lambdasmith.kit.table import Index, Table, TableSpec

THINGS = TableSpec(
    "things",
    indexes=(Index("byOwner", "GSI1PK", "GSI1SK"),),
    ttl="expires",
)
# Custom key names, so a backend that assumes PK/SK fails somewhere.
ACCOUNTS = TableSpec("accounts", pk="id", sk="kind", ttl="expires")


class Backend(Protocol):
    def make_table(self, spec: TableSpec) -> Table: ...

    def close(self) -> None: ...


class SqliteBackend:
    """The embedded backend: one database file per test."""

    def __init__(self, tmp_path: Path):
        self.path = tmp_path / "state" / "lambdasmith.db"

    def make_table(self, spec: TableSpec) -> Table:
        return SqliteTable(Database.open(self.path), spec)

    def close(self) -> None:
        Database.open(self.path).close()


BACKENDS: dict[str, Callable[[Path], Backend]] = {
    "sqlite": SqliteBackend,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    made = BACKENDS[request.param](tmp_path / "a")
    yield made
    made.close()


@pytest.fixture
def other_backend(
    backend: Backend, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Backend]:
    """A second, unrelated instance of the same kind of backend."""
    made = BACKENDS[request.node.callspec.params["backend"]](tmp_path / "b")
    yield made
    made.close()


@pytest.fixture
def table(backend: Backend) -> Table:
    return backend.make_table(THINGS)


@pytest.fixture
def accounts(backend: Backend) -> Table:
    return backend.make_table(ACCOUNTS)
