"""Listing and removing registered orgs: what an operator needs and the service never does.

Listing reads the whole orgs table (`kit.table.scan`: the port has none, no request path needs
one). Secrets are never read here: a listing shows the org, its type, whether it is v2-only and
its secrets' names and key ids."""

from __future__ import annotations

from typing import Any

from lambdasmith.badges.store import BadgeStore
from lambdasmith.kit.table.scan import scan

__all__ = ["list_orgs", "remove_org"]


def list_orgs(store: BadgeStore) -> list[dict[str, Any]]:
    """Every registration, sorted: {org, type, repo, v2_only, detail}; `detail` names the secrets
    with their key ids (newest first), or an OIDC registration's restrictions."""
    found = []
    for row in scan(store.orgs, "ORG#"):
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
