"""One SQLite file shared by every embedded port (tables, secrets, queues) of a process.

Why this shape:
- WAL lets readers run while one writer commits. How a commit reaches the disk is the knob
  `LAMBDASMITH_SQLITE_SYNCHRONOUS`: `NORMAL` (the library's default) survives a crash of the
  process but may lose the last commits on power loss; `FULL` fsyncs each commit, so an
  acknowledged write survives power loss too (`lambdasmith serve` defaults to it);
- every write goes through `BEGIN IMMEDIATE`, which takes the file's write lock *before* the
  first read, so a read-check-write sequence is atomic against other threads and processes;
- a `sqlite3.Connection` must not be shared by threads that use it at the same time, so each
  thread gets its own (and a forked child opens fresh ones instead of touching its parent's);
- within one process, writers queue on a lock rather than on SQLite's sleeping busy handler,
  which keeps thread contention cheap; the busy timeout still covers other processes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import weakref
from contextlib import contextmanager

TYPE_CHECKING = False  # typing and pathlib cost cold-start milliseconds; checkers only
if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["BUSY_TIMEOUT_S", "SYNCHRONOUS_ENV", "Database", "synchronous"]

BUSY_TIMEOUT_S = 30.0
SYNCHRONOUS_ENV = "LAMBDASMITH_SQLITE_SYNCHRONOUS"
_SYNCHRONOUS_MODES = ("NORMAL", "FULL", "EXTRA")


def synchronous() -> str:
    """The commit durability asked for by the environment (see the module docstring)."""
    mode = (os.environ.get(SYNCHRONOUS_ENV) or "NORMAL").upper()
    if mode not in _SYNCHRONOUS_MODES:
        raise ValueError(f"{SYNCHRONOUS_ENV}={mode!r}: expected one of {', '.join(_SYNCHRONOUS_MODES)}")
    return mode

_registry: dict[str, "Database"] = {}
_registry_lock = threading.Lock()
_every: "weakref.WeakSet[Database]" = weakref.WeakSet()
# Connections inherited through fork: never used or closed in the child (SQLite forbids both),
# only kept alive so that garbage collection does not close them behind the parent's back.
_inherited: list[sqlite3.Connection] = []


class Database:
    """A SQLite file opened for concurrent use; `Database.open` shares one per path."""

    def __init__(self, path: str | os.PathLike[str]):
        if str(path) == ":memory:":
            raise ValueError("Database needs a file: each thread opens its own connection")
        self.path = os.path.realpath(path)
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        # Secrets share this file: readable by its owner only (WAL and SHM files inherit the mode).
        os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._schemas: set[str] = set()
        self._schema_lock = threading.Lock()
        _every.add(self)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> "Database":
        """The process-wide instance for this file, so every port shares its transactions."""
        resolved = os.path.realpath(path)
        with _registry_lock:
            db = _registry.get(resolved)
            if db is None:
                db = _registry[resolved] = cls(resolved)
            return db

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        local = self._local
        conn: sqlite3.Connection | None = getattr(local, "conn", None)
        if conn is not None and local.pid == os.getpid():
            return conn
        if conn is not None:
            _inherited.append(conn)
        conn = self._connect()
        local.conn, local.pid = conn, os.getpid()
        return conn

    def _connect(self) -> sqlite3.Connection:
        # check_same_thread is off because confinement is ours (thread-local) and a thread's
        # connection may be finalised by whichever thread collects it.
        conn = sqlite3.connect(
            self.path,
            timeout=BUSY_TIMEOUT_S,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous()}")
        return conn

    def ensure(self, ddl: str) -> None:
        """Run idempotent schema statements (`CREATE … IF NOT EXISTS`) once per instance."""
        if ddl in self._schemas:
            return
        with self._schema_lock:
            if ddl not in self._schemas:
                # A connection of its own: executescript would commit a caller's transaction.
                conn = self._connect()
                try:
                    conn.executescript(ddl)
                finally:
                    conn.close()
                self._schemas.add(ddl)

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Autocommit reads: each statement sees one committed snapshot."""
        yield self.connection()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic transaction holding the write lock from its first statement.

        Nested use on the same thread joins the outer transaction.
        """
        conn = self.connection()
        nested = conn.in_transaction  # a local, so the check after a failure reads it afresh
        if nested:
            yield conn
            return
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                # Also after a failed COMMIT: a transaction left open would swallow later writes.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        """Close this thread's connection and forget the shared instance.

        Other threads' connections close when those threads end.
        """
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local = threading.local()
        with _registry_lock:
            if _registry.get(self.path) is self:
                del _registry[self.path]


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork time would stay held forever in the child.
    global _registry_lock
    _registry_lock = threading.Lock()
    for db in list(_every):
        db._write_lock = threading.Lock()
        db._schema_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
