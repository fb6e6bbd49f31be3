"""The one conformance suite every table backend passes unchanged.

A backend is a factory `tmp_path -> Backend` registered in BACKENDS; the tests see only the
port (`lambdasmith.kit.table.port`) through `backend.make_table(spec)`. Contract of a backend:

- `make_table(spec)` returns a handle on the table `spec.name` of this backend's own namespace
  (isolated per test), creating it on first use; later calls — from other threads, or from a
  child process forked after the first call — reach the same data;
- `close()` releases what the backend holds when the test ends.

A factory is called with the test's `tmp_path` and its `request`, so a backend that needs a
server asks for its fixture (`request.getfixturevalue`) only when that backend is in use.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Callable, Iterator, Protocol

import pytest

from lambdasmith.kit.aws.client import DYNAMODB, JsonClient
from lambdasmith.kit.sqlite import Database
from lambdasmith.kit.table.dynamodb.admin import create_table, delete_table
from lambdasmith.kit.table.dynamodb.table import DynamoTable
from lambdasmith.kit.table.port import Index, Table, TableSpec
from lambdasmith.kit.table.sqlite import SqliteTable

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


class DynamoBackend:
    """DynamoDB Local (one server per session): this test's tables carry a unique prefix,
    are created on first use and deleted at the end. One client per backend, so two backends
    are two namespaces a transaction cannot span, as two SQLite files are."""

    def __init__(self, endpoint: str):
        self.prefix = f"conf-{uuid.uuid4().hex[:12]}-"
        self.client = JsonClient(DYNAMODB, endpoint=endpoint)  # region, keys: aws_credentials
        self.created: list[str] = []

    @classmethod
    def for_test(cls, tmp_path: Path, request: pytest.FixtureRequest) -> "DynamoBackend":
        request.getfixturevalue("aws_credentials")
        return cls(request.getfixturevalue("dynamodb_local").endpoint)

    def make_table(self, spec: TableSpec) -> Table:
        name = self.prefix + spec.name
        if name not in self.created:
            create_table(spec, name, self.client)
            self.created.append(name)
        return DynamoTable(spec, name, self.client)

    def close(self) -> None:
        for name in self.created:
            delete_table(name, self.client)
        self.created.clear()


BACKENDS: dict[str, Callable[[Path, pytest.FixtureRequest], Backend]] = {
    "sqlite": lambda tmp_path, request: SqliteBackend(tmp_path),
    "dynamodb": DynamoBackend.for_test,
}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    made = BACKENDS[request.param](tmp_path / "a", request)
    yield made
    made.close()


@pytest.fixture
def other_backend(
    backend: Backend, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Backend]:
    """A second, unrelated instance of the same kind of backend."""
    made = BACKENDS[request.node.callspec.params["backend"]](tmp_path / "b", request)
    yield made
    made.close()


@pytest.fixture
def table(backend: Backend) -> Table:
    return backend.make_table(THINGS)


@pytest.fixture
def accounts(backend: Backend) -> Table:
    return backend.make_table(ACCOUNTS)
