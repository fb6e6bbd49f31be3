"""Listing and removing registered orgs: what an operator needs and the service never does.

The table port has no scan (no request path needs one), so listing reads the orgs table the way
its backend allows: SQL on the embedded backend, a paginated Scan on DynamoDB. Secrets are never
read here: a listing shows the org, its type, whether it is v2-only and the secret's name."""

from __future__ import annotations

import json
from typing import Any

from lambdasmith.badges.store import BadgeStore

__all__ = ["list_orgs", "remove_org"]


def _rows(table: Any) -> list[dict[str, Any]]:
    from lambdasmith.kit.table.sqlite import SqliteTable

    if isinstance(table, SqliteTable):
        with table.db.read() as conn:
            rows = conn.execute("SELECT body FROM table_items WHERE tbl = ? AND pk LIKE 'ORG#%'", (table.name,))
            return [json.loads(body) for (body,) in rows]
    from lambdasmith.kit.table.dynamodb.marshal import unmarshal_item

    out: list[dict[str, Any]] = []
    start = None
    while True:
        payload: dict[str, Any] = {"TableName": table.name}
        if start:
            payload["ExclusiveStartKey"] = start
        resp = table.client.call("Scan", payload)
        out.extend(unmarshal_item(raw) for raw in resp.get("Items", []))
        start = resp.get("LastEvaluatedKey")
        if not start:
            return out


def list_orgs(store: BadgeStore) -> list[dict[str, Any]]:
    """Every registered (org, type), sorted: {org, type, v2_only, secret_name}."""
    found = []
    for row in _rows(store.orgs):
        if not str(row.get("PK", "")).startswith("ORG#"):
            continue
        org = row.get("Org") or str(row["PK"])[4:]
        kind = row.get("Type") or str(row.get("SK", "")).rpartition("#")[2]
        found.append({"org": org, "type": kind, "v2_only": bool(row.get("V2Only", False)),
                      "secret_name": row.get("SecretName", "")})  # fmt: skip
    return sorted(found, key=lambda r: (r["org"], r["type"]))


def remove_org(store: BadgeStore, org: str, kinds: tuple[str, ...]) -> list[str]:
    """Remove the org's registration and secret for each type; the types that were there."""
    removed = []
    for kind in kinds:
        row = store.orgs.delete({"PK": f"ORG#{org.lower()}", "SK": f"CONST#GITHUB#{kind}"})
        if row is not None:
            if row.get("SecretName"):
                store.secrets.delete(row["SecretName"])
            removed.append(kind)
    return removed
