"""The wardrobe's single table: keys, and every read and write the API and the worker make.

    entity        PK                 SK                          GSI1PK / GSI1SK                              GSI2PK / GSI2SK
    Item          ITEM#{itemId}      METADATA
    UserItem      USER#{userId}      ITEM#{itemId}               USER#{uid}#SEASON#{season} / ITEM#{createdAt}  USER#{uid} / ITEM#{createdAt}
    Idempotency   USER#{userId}      IDEMPOTENCY#{key}           (ttl: 24 h)
    Activity      USER#{userId}      ACTIVITY#{time-ordered id}
    AppliedEvent  ITEM#{itemId}      EVENT#{requestId}           (ttl: 15 d; the worker's exactly-once marker)

GSI2 is ours (NEW): the reference design lists items newest first but has only the per-season
GSI1, which cannot order a user's items across seasons.

The index sort keys are the creation time and never change (the reference keys them by
`updatedAt`, which a share bumps): an item shared while a client walks the pages would move from
behind its cursor to in front of it and be skipped. "Newest first" is newest created.
"""

from __future__ import annotations

import os
import time

from lambdasmith.kit.clock import utc_iso_ms
from lambdasmith.kit.retry import CONFLICT_ATTEMPTS, retry_conflict
from lambdasmith.kit.table.port import (
    Absent,
    Exists,
    Index,
    Patch,
    Put,
    SortKey,
    TableSpec,
    TransactionCanceled,
    Update,
    Write,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.kit.table.port import Table

WARDROBE = TableSpec(
    "wardrobe",
    indexes=(Index("GSI1", "GSI1PK", "GSI1SK"), Index("GSI2", "GSI2PK", "GSI2SK")),
    ttl="ttl",
)
SEASONS = ("spring", "summer", "autumn", "fall", "winter", "all-season")
ITEM_FIELDS = ("itemId", "userId", "name", "category", "season", "color", "brand", "purchaseDate", "imageUrl",
               "sharedCount", "isPublic", "createdAt", "updatedAt")  # fmt: skip
ACTIVITY_FIELDS = ("activityId", "type", "itemId", "userId", "requestId", "createdAt")


class ItemOwnedByOther(Exception):
    pass


class ItemExists(Exception):
    pass


class IdempotencyMismatch(Exception):
    pass


def item_key(item_id: str) -> dict[str, str]:
    return {"PK": f"ITEM#{item_id}", "SK": "METADATA"}


def user_item_key(user_id: str, item_id: str) -> dict[str, str]:
    return {"PK": f"USER#{user_id}", "SK": f"ITEM#{item_id}"}


def public(row: dict[str, Any], fields: tuple[str, ...] = ITEM_FIELDS) -> dict[str, Any]:
    return {f: row.get(f) for f in fields}


class WardrobeStore:
    def __init__(self, table: Table, *, idempotency_ttl_s: int = 24 * 3600, applied_event_ttl_s: int = 15 * 24 * 3600):
        self.table = table
        self.idempotency_ttl_s = idempotency_ttl_s
        self.applied_event_ttl_s = applied_event_ttl_s

    # ------------------------------------------------------------------ items

    def create(self, user_id: str, fields: dict[str, Any], idem_key: str | None, payload_hash: str) -> tuple[dict[str, Any], bool]:
        """Create an item, its per-user row, its idempotency record and an activity in one
        transaction. Returns (item, created); a repeat with the same key and payload returns the
        stored item with created False. Raises ItemOwnedByOther, ItemExists, IdempotencyMismatch."""
        t = self.table
        for attempt in range(CONFLICT_ATTEMPTS):
            now = utc_iso_ms()
            item = {**fields, "userId": user_id, "sharedCount": 0, "isPublic": False, "createdAt": now, "updatedAt": now}
            writes = [
                Write(t, Put({**item_key(item["itemId"]), "entity": "Item", **item}, Absent())),
                Write(t, Put({**user_item_key(user_id, item["itemId"]), "entity": "UserItem", **item,
                              **self._index_keys(user_id, item["season"], now)}, Absent())),
            ]  # fmt: skip
            if idem_key is not None:
                writes.append(Write(t, Put({
                    "PK": f"USER#{user_id}", "SK": f"IDEMPOTENCY#{idem_key}", "entity": "Idempotency",
                    "itemId": item["itemId"], "payloadHash": payload_hash, "item": item,
                    "ttl": int(time.time()) + self.idempotency_ttl_s,
                }, Absent())))  # fmt: skip
            writes.append(Write(t, Put(self._activity(user_id, "ItemCreated", item["itemId"], now))))
            try:
                t.transact(writes)
                return public(item), True
            except TransactionCanceled as e:
                reasons = e.reasons
                if idem_key is not None and reasons[2] == "ConditionalCheckFailed":
                    record = t.get({"PK": f"USER#{user_id}", "SK": f"IDEMPOTENCY#{idem_key}"})
                    if record is None:
                        continue  # expired between the write and this read: try afresh
                    if record["payloadHash"] != payload_hash:
                        raise IdempotencyMismatch() from None
                    current = t.get(item_key(record["itemId"]))
                    return public(current if current is not None else record["item"]), False
                if reasons[0] == "ConditionalCheckFailed" or reasons[1] == "ConditionalCheckFailed":
                    existing = t.get(item_key(item["itemId"]))
                    if existing is not None and existing.get("userId") != user_id:
                        raise ItemOwnedByOther() from None
                    raise ItemExists() from None
                if retry_conflict(reasons, attempt):
                    continue
                raise
        raise RuntimeError("create did not settle")  # pragma: no cover - loop always returns or raises

    def get_item(self, item_id: str) -> dict[str, Any] | None:
        row = self.table.get(item_key(item_id))
        return public(row) if row is not None else None

    def list_items(
        self, user_id: str, season: str | None, category: str | None, limit: int, start: str | None, read_budget: int
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Newest first. A page holds `limit` items whenever that many match (FIX): rows the
        category filter drops are read past. Returns (items, cursor of the storage layer or None)."""
        if season is not None:
            index, pk = "GSI1", f"USER#{user_id}#SEASON#{season}"
        else:
            index, pk = "GSI2", f"USER#{user_id}"

        def keep(row: dict[str, Any]) -> bool:
            return category is None or row.get("category") == category

        return _fill(self.table, pk, index, None, keep, limit, start, read_budget, ITEM_FIELDS)

    def activities(self, user_id: str, limit: int, start: str | None) -> tuple[list[dict[str, Any]], str | None]:
        return _fill(self.table, f"USER#{user_id}", None, SortKey.begins_with("ACTIVITY#"), lambda r: True,
                     limit, start, limit, ACTIVITY_FIELDS)  # fmt: skip

    # ------------------------------------------------------------------ sharing

    def apply_share(self, user_id: str, item_id: str, request_id: str) -> str:
        """Apply one share event exactly once in effect: 'applied', 'duplicate' or 'missing'."""
        t = self.table
        for attempt in range(CONFLICT_ATTEMPTS):
            item = t.get(item_key(item_id))
            if item is None:
                return "missing"
            if item.get("userId") != user_id:
                raise ValueError("share event names a user who does not own the item")
            now = utc_iso_ms()
            change = Update(set={"isPublic": True, "updatedAt": now}, add={"sharedCount": 1})  # sort keys stay
            writes = [
                Write(t, Put({"PK": f"ITEM#{item_id}", "SK": f"EVENT#{request_id}", "entity": "AppliedEvent",
                              "appliedAt": now, "ttl": int(time.time()) + self.applied_event_ttl_s}, Absent())),
                Write(t, Patch(item_key(item_id), change, Exists())),
                Write(t, Patch(user_item_key(user_id, item_id), change, Exists())),
                Write(t, Put(self._activity(user_id, "ItemShared", item_id, now, request_id))),
            ]  # fmt: skip
            try:
                t.transact(writes)
                return "applied"
            except TransactionCanceled as e:
                if e.reasons[0] == "ConditionalCheckFailed":
                    return "duplicate"
                if "ConditionalCheckFailed" in e.reasons[1:3]:
                    return "missing"  # deleted since we read it
                if retry_conflict(e.reasons, attempt):
                    continue
                raise
        raise RuntimeError("share did not settle")  # pragma: no cover

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _index_keys(user_id: str, season: str | None, created_at: str) -> dict[str, str]:
        return {"GSI1PK": f"USER#{user_id}#SEASON#{season or 'all-season'}", "GSI1SK": f"ITEM#{created_at}",
                "GSI2PK": f"USER#{user_id}", "GSI2SK": f"ITEM#{created_at}"}  # fmt: skip

    @staticmethod
    def _activity(user_id: str, kind: str, item_id: str, now: str, request_id: str | None = None) -> dict[str, Any]:
        activity_id = f"{now}#{os.urandom(4).hex()}"
        row = {"PK": f"USER#{user_id}", "SK": f"ACTIVITY#{activity_id}", "entity": "Activity", "activityId": activity_id,
               "type": kind, "itemId": item_id, "userId": user_id, "createdAt": now}  # fmt: skip
        if request_id is not None:
            row["requestId"] = request_id
        return row


def _fill(table: Table, pk: str, index: str | None, sk: SortKey | None, keep: Any, limit: int, start: str | None,
          read_budget: int, fields: tuple[str, ...]) -> tuple[list[dict[str, Any]], str | None]:  # fmt: skip
    """Read newest first until `limit` rows pass `keep`, reading exactly as many rows as are
    consumed so the storage cursor points right after the last row returned. The cursor is None
    when no further row passes (checked by reading ahead, within `read_budget`)."""
    found: list[dict[str, Any]] = []
    cursor, read = start, 0
    while len(found) < limit:
        page = table.query(pk, sk, index=index, limit=limit - len(found), descending=True, cursor=cursor)
        read += len(page.items)
        found.extend(public(r, fields) for r in page.items if keep(r))
        cursor = page.cursor
        if cursor is None:
            return found, None
        if read >= read_budget:
            return found, cursor  # a short page, honestly marked as having more
    probe = cursor
    while probe is not None and read < read_budget:
        page = table.query(pk, sk, index=index, limit=min(25, read_budget - read), descending=True, cursor=probe)
        read += len(page.items)
        if any(keep(r) for r in page.items):
            return found, cursor
        probe = page.cursor
    return found, (cursor if probe is not None else None)
