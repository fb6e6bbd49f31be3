"""The badges service's three tables, their keys, and the operations on them.

    test results  PK=TEST#{owner}#{repo}  SK=RESULT#{platform}#{branch}#{timestamp}
                  GSI1PK=LATEST#{owner}#{repo}#{platform}#{branch}  GSI1SK={timestamp}   TTL 730 d
      branches    PK=TEST#{owner}#{repo}  SK=BRANCH#{platform}#{branch}                  TTL 730 d
      repos       PK=REPOS  SK={owner}#{repo}                                            TTL 730 d
    nonces        PK=NONCE#{owner}/{repo}/{platform}/{branch}  SK={nonce}               TTL 45 min
    org secrets   PK=ORG#{org}  SK=CONST#GITHUB#{package|testdata}  SecretName → secret store

Owner, repo, platform, branch and org are lower-cased before they become keys (FIX: BadgeSmith
only finds all-lowercase URLs), and `%` and `#` in them are percent-escaped (`key_part`; and `/` in the nonce key) so
that no path parameter can forge a key delimiter. Timestamps are UTC in one fixed-width format so that they sort.

The branch and repo items are the dashboards' indexes (which platforms and branches a repository
has, which repositories have results), written in the same transaction as each result and kept
alive by it: a repository that stops posting drops out when its last result expires.
"""

from __future__ import annotations

import time

from lambdasmith.kit.retry import CONFLICT_ATTEMPTS, retry_conflict
from lambdasmith.kit.table.port import (
    Absent,
    Index,
    Page,
    Put,
    SortKey,
    Table,
    TableSpec,
    TransactionCanceled,
    Write,
)
from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.kit.secrets.port import SecretStore

RESULTS = TableSpec("test-results", indexes=(Index("GSI1", "GSI1PK", "GSI1SK"),), ttl="ExpiresAt")
NONCES = TableSpec("nonces", ttl="ExpiresAt")
ORGS = TableSpec("org-secrets")

KINDS = ("package", "testdata")
REPOS_PK = "REPOS"
MAX_LISTED = 200  # branches of a repository, or repositories, that a page lists


class Repo(Record):
    """Where a result belongs; every part lower-cased."""

    __slots__ = ("platform", "owner", "repo", "branch")

    platform: str
    owner: str
    repo: str
    branch: str

    @classmethod
    def of(cls, platform: str, owner: str, repo: str, branch: str) -> "Repo":
        return cls(platform.lower(), owner.lower(), repo.lower(), branch.lower())

    @property
    def display(self) -> str:
        return f"{self.owner}/{self.repo}/{self.platform}/{self.branch}"

    @property
    def keyed(self) -> tuple[str, str, str, str]:
        """(platform, owner, repo, branch) as key components (`key_part`)."""
        return key_part(self.platform), key_part(self.owner), key_part(self.repo), key_part(self.branch)

    @property
    def latest_key(self) -> str:
        platform, owner, repo, branch = self.keyed
        return f"LATEST#{owner}#{repo}#{platform}#{branch}"


def key_part(text: str) -> str:
    """A path parameter as a key component: `%` and `#` percent-escaped, so no component can
    forge the `#` delimiter (a branch `x#y` of platform `linux` is not the branch `y` of platform
    `linux#x`). Components without them — `feature/x` included, so every result stored before
    this rule — are unchanged. The nonce key, delimited by `/`, escapes `/` too (`_nonce_part`):
    nonces live 45 minutes, so no stored one is lost to the change."""
    if "%" in text or "#" in text:
        return text.replace("%", "%25").replace("#", "%23")
    return text


def _nonce_part(text: str) -> str:
    return key_part(text).replace("/", "%2F")


class OrgSecret(Record):
    __slots__ = ("org", "kind", "secret_name", "value", "v2_only")
    _defaults = {"v2_only": False}

    org: str
    kind: str
    secret_name: str
    value: str
    v2_only: bool


class NonceUsed(Exception):
    pass


class DuplicateResult(Exception):
    pass


class BadgeStore:
    def __init__(
        self,
        results: Table,
        nonces: Table,
        orgs: Table,
        secrets: SecretStore,
        *,
        nonce_ttl_s: int = 45 * 60,
        result_ttl_s: int = 730 * 24 * 3600,
    ):
        self.nonce_ttl_s = nonce_ttl_s
        self.result_ttl_s = result_ttl_s
        self.results = results
        self.nonces = nonces
        self.orgs = orgs
        self.secrets = secrets

    # -------------------------------------------------------------- results

    def record(self, where: Repo, nonce: str, result: dict[str, Any], ts_key: str, now: float | None = None) -> None:
        """Burn the nonce and store the result in one transaction: both happen or neither.

        Raises NonceUsed or DuplicateResult (same repo/platform/branch/timestamp).
        """
        now = time.time() if now is None else now
        nonce_item = {
            "PK": "NONCE#" + "/".join(map(_nonce_part, (where.owner, where.repo, where.platform, where.branch))),
            "SK": nonce,
            "ExpiresAt": int(now) + self.nonce_ttl_s,
            "UsedAt": int(now),
        }
        item = {
            "PK": "TEST#{1}#{2}".format(*where.keyed),
            "SK": "RESULT#{0}#{3}#".format(*where.keyed) + ts_key,
            "GSI1PK": where.latest_key,
            "GSI1SK": ts_key,
            "ExpiresAt": int(now) + self.result_ttl_s,
            "owner": where.owner,
            "repo": where.repo,
            "branch": where.branch,
            **result,
        }
        expires = {"ExpiresAt": int(now) + self.result_ttl_s}
        names = {"owner": where.owner, "repo": where.repo}
        branch_item = {"PK": item["PK"], "SK": "BRANCH#{0}#{3}".format(*where.keyed),
                       "platform": where.platform, "branch": where.branch, **names, **expires}
        repo_item = {"PK": REPOS_PK, "SK": "{1}#{2}".format(*where.keyed), **names, **expires}
        writes = [
            Write(self.nonces, Put(nonce_item, Absent())),
            Write(self.results, Put(item, Absent())),
            Write(self.results, Put(branch_item)),
            Write(self.results, Put(repo_item)),
        ]
        for attempt in range(CONFLICT_ATTEMPTS):
            try:
                self.results.transact(writes)
                return
            except TransactionCanceled as e:
                if e.reasons[0] == "ConditionalCheckFailed":
                    raise NonceUsed() from None
                if len(e.reasons) > 1 and e.reasons[1] == "ConditionalCheckFailed":
                    raise DuplicateResult() from None
                if not retry_conflict(e.reasons, attempt):  # a concurrent transaction on the same nonce
                    raise

    def latest(self, where: Repo) -> dict[str, Any] | None:
        page = self.results.query(where.latest_key, index="GSI1", limit=1, descending=True)
        return page.items[0] if page.items else None

    def history(self, where: Repo, limit: int = 20, cursor: str | None = None) -> Page:
        return self.results.query(where.latest_key, index="GSI1", limit=limit, descending=True, cursor=cursor)

    def branches(self, owner: str, repo: str) -> list[Repo]:
        """Every platform and branch of a repository that has results, sorted by platform, branch."""
        pk = "TEST#{}#{}".format(key_part(owner.lower()), key_part(repo.lower()))
        found: list[Repo] = []
        cursor = None
        while len(found) < MAX_LISTED:
            page = self.results.query(pk, SortKey.begins_with("BRANCH#"), limit=100, cursor=cursor)
            found += [Repo(r["platform"], r["owner"], r["repo"], r["branch"]) for r in page.items]
            cursor = page.cursor
            if cursor is None:
                break
        return sorted(found[:MAX_LISTED], key=lambda r: (r.platform, r.branch))

    def repositories(self, limit: int = MAX_LISTED) -> list[tuple[str, str]]:
        """(owner, repo) of the repositories that have results, by name; at most `limit`."""
        page = self.results.query(REPOS_PK, limit=limit)
        return [(r["owner"], r["repo"]) for r in page.items]

    # -------------------------------------------------------------- orgs

    def org_secret(self, org: str, kind: str) -> OrgSecret | None:
        row = self.orgs.get({"PK": f"ORG#{org.lower()}", "SK": f"CONST#GITHUB#{kind}"})
        if row is None:
            return None
        value = self.secrets.get(row["SecretName"])
        if value is None:
            return None
        return OrgSecret(org.lower(), kind, row["SecretName"], value, bool(row.get("V2Only", False)))

    def register_org(
        self, org: str, kind: str, secret: str, *, secret_name: str | None = None, v2_only: bool = False
    ) -> bool:
        """Idempotent: True when anything changed."""
        if kind not in KINDS:
            raise ValueError(f"type must be one of {', '.join(KINDS)}")
        if not org.strip() or not secret:
            raise ValueError("org and secret must not be empty")
        org = org.strip().lower()
        name = secret_name or f"badges/{org}/{kind}"
        key = {"PK": f"ORG#{org}", "SK": f"CONST#GITHUB#{kind}"}
        wanted = {**key, "Org": org, "Type": kind, "SecretName": name, "V2Only": v2_only}
        changed = self.secrets.put(name, secret)
        if self.orgs.get(key) != wanted:
            self.orgs.put(wanted)
            changed = True
        return changed


