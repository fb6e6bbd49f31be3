"""The items table: each write lands together with its idempotency record, in one transaction.

    Item         PK=ITEM#{id}           SK=METADATA
    Idempotency  PK=IDEMPOTENCY#{key}   SK=RESULT     (the first result; ttl 24 h)
"""

from __future__ import annotations

import time

from lambdasmith.kit.table.port import (
    Absent,
    AllOf,
    AttrEquals,
    Delete,
    Exists,
    Put,
    TableSpec,
    TransactionCanceled,
    Write,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.kit.table.port import Table

ITEMS = TableSpec("items", ttl="ttl")
RESERVED = ("PK", "SK", "entity", "ttl")


class NotFound(Exception):
    pass


class Changed(Exception):
    """The item changed (or went) between our read and our write: read again."""


class KeyReused(Exception):
    """The idempotency key was first used for another action or payload."""


class AlreadyApplied(Exception):
    """The idempotency key was used before: `result` is what that first invocation returned."""

    def __init__(self, result: dict[str, Any]):
        super().__init__("already applied")
        self.result = result


def item_key(item_id: str) -> dict[str, str]:
    return {"PK": f"ITEM#{item_id}", "SK": "METADATA"}


def public(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in RESERVED}


class ItemsStore:
    def __init__(self, table: Table, idempotency_ttl_s: int):
        self.table = table
        self.idempotency_ttl_s = idempotency_ttl_s

    def previous(self, key: str, fingerprint: str = "") -> dict[str, Any] | None:
        """The first result recorded under `key`; KeyReused when it was recorded for another
        request (`fingerprint` of action and payload; records older than fingerprints match)."""
        row = self.table.get({"PK": f"IDEMPOTENCY#{key}", "SK": "RESULT"})
        if not row:
            return None
        if fingerprint and row.get("request") not in (None, fingerprint):
            raise KeyReused()
        return row["result"]

    def _record(self, key: str, result: dict[str, Any], fingerprint: str) -> Write:
        row = {"PK": f"IDEMPOTENCY#{key}", "SK": "RESULT", "entity": "Idempotency", "result": result,
               "request": fingerprint, "ttl": int(time.time()) + self.idempotency_ttl_s}  # fmt: skip
        return Write(self.table, Put(row, Absent()))

    def _commit(self, key: str, write: Write, result: dict[str, Any], fingerprint: str = "") -> None:
        """The write and the record of its result, together; Changed when the item's condition fails."""
        try:
            self.table.transact([self._record(key, result, fingerprint), write])
        except TransactionCanceled as e:
            if e.reasons[0] == "ConditionalCheckFailed":
                first = self.previous(key, fingerprint)
                if first is not None:
                    raise AlreadyApplied(first) from None
            if len(e.reasons) > 1 and e.reasons[1] == "ConditionalCheckFailed":
                raise Changed() from None
            raise

    def create(self, key: str, item: dict[str, Any], result: dict[str, Any], fingerprint: str = "") -> None:
        row = {**item_key(item["id"]), "entity": "Item", **item}
        self._commit(key, Write(self.table, Put(row, Absent())), result, fingerprint)

    def replace(self, key: str, item: dict[str, Any], version: int, result: dict[str, Any], fingerprint: str = "") -> None:
        """Write the merged item if it is still at `version` (optimistic concurrency)."""
        row = {**item_key(item["id"]), "entity": "Item", **item}
        condition = AllOf((Exists(), AttrEquals("version", version)))
        self._commit(key, Write(self.table, Put(row, condition)), result, fingerprint)

    def get(self, item_id: str) -> dict[str, Any] | None:
        row = self.table.get(item_key(item_id))
        return public(row) if row else None

    def delete(self, key: str, item_id: str, result: dict[str, Any], fingerprint: str = "") -> None:
        try:
            self._commit(key, Write(self.table, Delete(item_key(item_id), Exists())), result, fingerprint)
        except Changed:
            raise NotFound() from None
