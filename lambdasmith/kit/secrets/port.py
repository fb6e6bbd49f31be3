"""The secret port: named string secrets (org tokens, HMAC keys, JWT keys), and a read cache.

Backends: `secrets.sqlite` (a table in the data directory's SQLite file, mode 0600) and
`secrets.aws` (Secrets Manager or SSM Parameter Store), each imported only when selected.
`SecretStore` is what they share: `get` → value or None, `put` → True when it changed anything,
`delete` (of a missing secret too).

The embedded backend encrypts every value with a key kept outside the SQLite file; its two
failures are the errors below (defined here, so a caller catches them without importing it).
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Callable, Protocol

    class SecretStore(Protocol):
        def get(self, name: str) -> str | None: ...

        def put(self, name: str, value: str) -> bool:
            """Store a value; True when it changed anything."""
            ...

        def delete(self, name: str) -> None: ...

else:

    class SecretStore:
        """At run time only a name: the port is the Protocol above, read by type checkers."""


__all__ = ["SecretStore", "CachedSecrets", "SecretKeyError", "SecretDecryptError"]


class SecretKeyError(Exception):
    """The key file of the embedded backend cannot be used (too open a mode, malformed, unreadable)."""


class SecretDecryptError(Exception):
    """A stored value failed authentication: another key, or the value was changed or moved."""


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
