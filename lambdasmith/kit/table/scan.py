"""Reading every item of a table, for operator commands only (listing registrations, rebuilding
an index).

The table port has no scan on purpose: no request path may need one, since on DynamoDB a scan
reads, and bills, the whole table. The few operator commands that must see everything read it
the way its backend allows: SQL on the embedded backend, a paginated Scan on DynamoDB. Expired
items are left out, as every read of the port leaves them out."""

from __future__ import annotations

import json
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Iterator

    from lambdasmith.kit.table.port import Item, Table

__all__ = ["scan"]


def scan(table: Table, pk_prefix: str = "") -> Iterator[Item]:
    """Every live item whose partition key starts with `pk_prefix`, in no particular order."""
    now = time.time()
    items = _sqlite_rows(table, pk_prefix) if _is_sqlite(table) else _dynamodb_rows(table, pk_prefix)
    for item in items:
        if str(item.get(table.spec.pk, "")).startswith(pk_prefix) and not table.spec.expired(item, now):
            yield item


def _is_sqlite(table: Table) -> bool:
    from lambdasmith.kit.table.sqlite import SqliteTable

    return isinstance(table, SqliteTable)


def _sqlite_rows(table: Any, pk_prefix: str) -> Iterator[Item]:
    with table.db.read() as conn:
        rows = conn.execute("SELECT body FROM table_items WHERE tbl = ? AND substr(pk, 1, ?) = ?",
                            (table.name, len(pk_prefix), pk_prefix)).fetchall()  # fmt: skip
    for (body,) in rows:
        yield json.loads(body)


def _dynamodb_rows(table: Any, pk_prefix: str) -> Iterator[Item]:
    from lambdasmith.kit.table.dynamodb.marshal import unmarshal_item

    payload: dict[str, Any] = {"TableName": table.name}
    if pk_prefix:  # still reads the whole table; only what comes back is less
        payload.update(FilterExpression="begins_with(#pk, :prefix)", ExpressionAttributeNames={"#pk": table.spec.pk},
                       ExpressionAttributeValues={":prefix": {"S": pk_prefix}})  # fmt: skip
    while True:
        resp = table.client.call("Scan", payload)
        for raw in resp.get("Items", []):
            yield unmarshal_item(raw)
        start = resp.get("LastEvaluatedKey")
        if not start:
            return
        payload["ExclusiveStartKey"] = start
