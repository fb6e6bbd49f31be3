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
    """Every registration, sorted: {org, type, repo, v2_only, detail}; `detail` names the secrets
    with their key ids (newest first), or an OIDC registration's restrictions."""
    found = []
    for row in _rows(store.orgs):
        if not str(row.get("PK", "")).startswith("ORG#"):
            continue
        org = row.get("Org") or str(row["PK"])[4:]
        kind = row.get("Type") or str(row.get("SK", "")).split("#")[2]
        if kind == "oidc":
            repos, branches = ",".join(row.get("Repos") or ()) or "any", ",".join(row.get("Branches") or ()) or "any"
            detail = f"repositories={repos} branches={branches}"
        else:
            detail = ", ".join(f"{name} [{kid}]" for name, kid in store.active_keys(row))
        found.append({"org": org, "type": kind, "repo": row.get("Repo") or "", "v2_only": bool(row.get("V2Only", False)),
                      "detail": detail})  # fmt: skip
    return sorted(found, key=lambda r: (r["org"], r["type"], r["repo"]))


def remove_org(store: BadgeStore, org: str, kinds: tuple[str, ...], repo: str | None = None) -> list[str]:
    """Remove the org's (or one repository's) registration and secrets for each type; the types
    that were there."""
    return [kind for kind in kinds if store.unregister(org, kind, repo)]
