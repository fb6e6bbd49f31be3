"""The secret port: named string secrets (org tokens, HMAC keys, JWT keys).

Embedded backend: a table in the data directory's SQLite file (file mode 0600). On AWS:
Secrets Manager or SSM Parameter Store (next to this module, imported only when selected).
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Protocol

    from lambdasmith.kit.sqlite import Database

    class SecretStore(Protocol):
        def get(self, name: str) -> str | None: ...

        def put(self, name: str, value: str) -> bool:
            """Store a value; True when it changed anything."""
            ...

        def delete(self, name: str) -> None: ...


class SqliteSecrets:
    def __init__(self, db: Database):
        self.db = db
        db.ensure("CREATE TABLE IF NOT EXISTS secrets (name TEXT PRIMARY KEY, value TEXT NOT NULL)")

    def get(self, name: str) -> str | None:
        with self.db.read() as conn:
            row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
        return row[0] if row else None

    def put(self, name: str, value: str) -> bool:
        with self.db.write() as conn:
            row = conn.execute("SELECT value FROM secrets WHERE name = ?", (name,)).fetchone()
            if row and row[0] == value:
                return False
            conn.execute("INSERT OR REPLACE INTO secrets (name, value) VALUES (?, ?)", (name, value))
            return True

    def delete(self, name: str) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM secrets WHERE name = ?", (name,))


class CachedSecrets:
    """Caches found values for `ttl` seconds (a Lambda's warm invocations skip the network).

    Misses are not cached, so a secret registered a moment ago is found on the next request.
    """

    def __init__(self, store: SecretStore, ttl: float = 300, clock: Callable[[], float] = time.monotonic):
        self.store = store
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[float, str]] = {}

    def get(self, name: str) -> str | None:
        hit = self._cache.get(name)
        now = self.clock()
        if hit and now - hit[0] < self.ttl:
            return hit[1]
        value = self.store.get(name)
        if value is None:
            self._cache.pop(name, None)
        else:
            self._cache[name] = (now, value)
        return value

    def put(self, name: str, value: str) -> bool:
        self._cache.pop(name, None)
        return self.store.put(name, value)

    def delete(self, name: str) -> None:
        self._cache.pop(name, None)
        self.store.delete(name)
