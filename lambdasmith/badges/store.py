"""The badges service's three tables, their keys, and the operations on them.

    test results  PK=TEST#{owner}#{repo}  SK=RESULT#{platform}#{branch}#{timestamp}
                  GSI1PK=LATEST#{owner}#{repo}#{platform}#{branch}  GSI1SK={timestamp}   TTL 730 d
      branches    PK=TEST#{owner}#{repo}  SK=BRANCH#{platform}#{branch}                  TTL 730 d
      repos       PK=REPOS  SK={owner}#{repo}                                            TTL 730 d
    nonces        PK=NONCE#{owner}/{repo}/{platform}/{branch}  SK={nonce}               TTL 45 min
    org secrets   PK=ORG#{org}  SK=CONST#GITHUB#{package|testdata}  SecretName → secret store
                  PK=ORG#{org}  SK=CONST#GITHUB#testdata#REPO#{repo}  a repository's own keys (NEW)
                  PK=ORG#{org}  SK=CONST#GITHUB#oidc  Repos, Branches: OIDC ingestion allowed (NEW)

A signing registration holds up to two active keys (`Keys`, newest first: secret name and key
id), so CI can switch keys without a failed run; a repository's own registration, when it has one,
is the only one that signs for it (the org's keys then do not).

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

KINDS = ("package", "testdata", "oidc")
SECRET_KINDS = ("package", "testdata")
MAX_ACTIVE_KEYS = 2
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


class OidcPolicy(Record):
    """An org that accepts OIDC-authenticated ingestion; empty tuples mean no restriction."""

    __slots__ = ("org", "repos", "branches")

    org: str
    repos: tuple[str, ...]
    branches: tuple[str, ...]

    def allows(self, repo: str, branch: str) -> bool:
        from fnmatch import fnmatchcase

        if self.repos and repo.lower() not in self.repos:
            return False
        return not self.branches or any(fnmatchcase(branch.lower(), pattern) for pattern in self.branches)


def key_id(secret: str) -> str:
    """A secret's short public name (12 hex digits of its SHA-256), to tell keys apart in listings
    and `--retire-secret` without showing them; the keys are high-entropy, so it reveals nothing."""
    from lambdasmith.kit.digest import sha256_hex

    return sha256_hex(secret.encode("utf-8"))[:12]


def _keys(row: dict[str, Any]) -> list[dict[str, str]]:
    """The registration's active keys, newest first (rows before key rotation have one)."""
    keys = row.get("Keys")
    if isinstance(keys, list) and keys:
        return [dict(k) for k in keys]
    return [{"SecretName": row["SecretName"], "KeyId": str(row.get("KeyId", ""))}] if row.get("SecretName") else []


def _index_items(where: Repo, expires_at: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """The dashboards' index items for a branch's results: its branch item and its repo item."""
    names = {"owner": where.owner, "repo": where.repo, "ExpiresAt": expires_at}
    platform, owner, repo, branch = where.keyed
    return ({"PK": f"TEST#{owner}#{repo}", "SK": f"BRANCH#{platform}#{branch}", "platform": where.platform,
             "branch": where.branch, **names},
            {"PK": REPOS_PK, "SK": f"{owner}#{repo}", **names})  # fmt: skip


def _result_place(item: dict[str, Any]) -> Repo | None:
    """Where a stored result belongs, from the item itself (None for the index items). Its owner,
    repo and branch are attributes; the platform is only in the sort key,
    `RESULT#{platform}#{branch}#{timestamp}`, between two known ends."""
    sk, ts = str(item.get("SK", "")), str(item.get("GSI1SK", ""))
    if not sk.startswith("RESULT#") or not ts or not all(isinstance(item.get(k), str) for k in ("owner", "repo", "branch")):
        return None
    tail = f"#{key_part(item['branch'])}#{ts}"
    if not sk.endswith(tail) or len(sk) <= len("RESULT#") + len(tail):
        return None
    platform = sk[len("RESULT#"):-len(tail)].replace("%23", "#").replace("%25", "%")
    return Repo(platform, item["owner"], item["repo"], item["branch"])


def _sk(kind: str, repo: str | None) -> str:
    return f"CONST#GITHUB#{kind}" + (f"#REPO#{key_part(repo.lower())}" if repo else "")


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
        branch_item, repo_item = _index_items(where, item["ExpiresAt"])
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

    def reindex(self) -> tuple[int, int]:
        """Write the dashboards' index items that are missing: results stored before the indexes
        existed have none, so their repository would show on no dashboard until it posts again.
        Reads the whole results table (an operator's command, never a request's); writes only
        absent items, so it is safe beside live ingestion and idempotent. Returns (branch items,
        repo items) written."""
        from lambdasmith.kit.table.port import ConditionFailed
        from lambdasmith.kit.table.scan import scan

        newest: dict[Repo, int] = {}  # each branch's latest expiry: its index lives as long
        for item in scan(self.results, "TEST#"):
            where = _result_place(item)
            if where is not None:
                newest[where] = max(newest.get(where, 0), int(item.get("ExpiresAt") or 0))
        written = [0, 0]
        for where, expires_at in sorted(newest.items(), key=lambda e: e[1], reverse=True):
            for i, index_item in enumerate(_index_items(where, expires_at)):
                try:
                    self.results.put(index_item, Absent())
                    written[i] += 1
                except ConditionFailed:
                    pass  # there already: kept by `record`, or by a newer branch of the repo
        return written[0], written[1]

    def repositories(self, limit: int = MAX_LISTED) -> list[tuple[str, str]]:
        """(owner, repo) of the repositories that have results, by name; at most `limit`."""
        page = self.results.query(REPOS_PK, limit=limit)
        return [(r["owner"], r["repo"]) for r in page.items]

    # -------------------------------------------------------------- orgs

    def org_secret(self, org: str, kind: str) -> OrgSecret | None:
        """The org's newest active secret of a kind."""
        found = self.secrets_of(org, kind)
        return found[0] if found else None

    def secrets_of(self, org: str, kind: str, repo: str | None = None) -> list[OrgSecret]:
        """The active secrets of one registration (the org's, or a repository's own), newest first."""
        return self._secrets_in(org, kind, self.registration(org, kind, repo))

    def signing_secrets(self, owner: str, repo: str) -> list[OrgSecret]:
        """The keys that may sign results for a repository: its own when it has a registration,
        else its org's."""
        own = self.registration(owner, "testdata", repo)
        return self._secrets_in(owner, "testdata", own if own is not None else self.registration(owner, "testdata"))

    def _secrets_in(self, org: str, kind: str, row: dict[str, Any] | None) -> list[OrgSecret]:
        if row is None:
            return []
        out = []
        for k in _keys(row):
            value = self.secrets.get(k["SecretName"])
            if value is not None:
                out.append(OrgSecret(org.lower(), kind, k["SecretName"], value, bool(row.get("V2Only", False))))
        return out

    def registration(self, org: str, kind: str, repo: str | None = None) -> dict[str, Any] | None:
        return self.orgs.get({"PK": f"ORG#{org.lower()}", "SK": _sk(kind, repo)})

    def register_org(
        self, org: str, kind: str, secret: str, *, secret_name: str | None = None, v2_only: bool = False,
        repo: str | None = None,
    ) -> bool:
        """Register `secret` as the one active key (replacing any). Idempotent: True when anything changed."""
        if kind not in SECRET_KINDS:
            raise ValueError(f"type must be one of {', '.join(SECRET_KINDS)}")
        if not org.strip() or not secret:
            raise ValueError("org and secret must not be empty")
        if repo is not None and kind != "testdata":
            raise ValueError("only testdata keys can belong to one repository")
        org = org.strip().lower()
        name = secret_name or f"badges/{org}/" + (f"{repo.lower()}/" if repo else "") + kind
        key = {"PK": f"ORG#{org}", "SK": _sk(kind, repo)}
        current = self.orgs.get(key)
        wanted = {**key, "Org": org, "Type": kind, "SecretName": name, "V2Only": v2_only,
                  "Keys": [{"SecretName": name, "KeyId": key_id(secret)}]}
        if repo:
            wanted["Repo"] = repo.lower()
        changed = self.secrets.put(name, secret)
        if current != wanted:
            self.orgs.put(wanted)
            for old in _keys(current or {}):
                if old["SecretName"] != name:
                    self.secrets.delete(old["SecretName"])
            changed = True
        return changed

    def add_secret(self, org: str, secret: str, *, repo: str | None = None, v2_only: bool | None = None) -> bool:
        """A second active testdata key beside the current one (rotation, step 1). True when added."""
        org = org.strip().lower()
        current = self.registration(org, "testdata", repo)
        if current is None:
            return self.register_org(org, "testdata", secret, repo=repo, v2_only=bool(v2_only))
        keys = _keys(current)
        kid = key_id(secret)
        if any(self._key_id(k) == kid for k in keys):
            return False
        if len(keys) >= MAX_ACTIVE_KEYS:
            raise ValueError(f"{MAX_ACTIVE_KEYS} keys are active; retire one first (--retire-secret)")
        name = f"badges/{org}/" + (f"{repo.lower()}/" if repo else "") + f"testdata-{kid}"
        self.secrets.put(name, secret)
        row = {**current, "Keys": [{"SecretName": name, "KeyId": kid}] + keys, "SecretName": name}
        if v2_only is not None:
            row["V2Only"] = v2_only
        self.orgs.put(row)
        return True

    def retire_secret(self, org: str, kid: str | None = None, *, repo: str | None = None) -> str:
        """Stop accepting one key (rotation, step 2): the one named by `kid`, else the older of
        two. At least one key stays active. Returns the retired key's id."""
        org = org.strip().lower()
        current = self.registration(org, "testdata", repo)
        keys = _keys(current or {})
        if current is None or not keys:
            raise ValueError("no testdata registration" + (f" for repository {repo}" if repo else ""))
        if len(keys) < 2:
            raise ValueError("only one key is active: retiring it would stop ingestion (orgs remove does that)")
        ids = [self._key_id(k) for k in keys]
        if kid is None:
            index = len(keys) - 1
        elif kid.lower() in ids:
            index = ids.index(kid.lower())
        else:
            raise ValueError(f"no active key {kid}; active: {', '.join(ids)}")
        gone = keys.pop(index)
        self.orgs.put({**current, "Keys": keys, "SecretName": keys[0]["SecretName"]})
        self.secrets.delete(gone["SecretName"])
        return ids[index]

    def active_keys(self, row: dict[str, Any]) -> list[tuple[str, str]]:
        """A registration's active keys as (secret name, key id), newest first: what a listing
        may show of them."""
        return [(k["SecretName"], self._key_id(k)) for k in _keys(row)]

    def unregister(self, org: str, kind: str, repo: str | None = None) -> bool:
        """Remove one registration (the org's, or one repository's) and its secrets. True when
        it was there."""
        row = self.orgs.delete({"PK": f"ORG#{org.lower()}", "SK": _sk(kind, repo)})
        if row is None:
            return False
        for key in _keys(row):
            self.secrets.delete(key["SecretName"])
        return True

    def _key_id(self, key: dict[str, str]) -> str:
        if key.get("KeyId"):
            return key["KeyId"]
        value = self.secrets.get(key["SecretName"])
        return key_id(value) if value is not None else ""

    def register_oidc(self, org: str, repos: tuple[str, ...] = (), branches: tuple[str, ...] = ()) -> bool:
        """Accept OIDC-authenticated ingestion for the org (no secret). Idempotent: True when changed."""
        if not org.strip():
            raise ValueError("org must not be empty")
        org = org.strip().lower()
        key = {"PK": f"ORG#{org}", "SK": _sk("oidc", None)}
        wanted = {**key, "Org": org, "Type": "oidc", "Repos": sorted({r.lower() for r in repos}),
                  "Branches": sorted({b.lower() for b in branches})}
        if self.orgs.get(key) == wanted:
            return False
        self.orgs.put(wanted)
        return True

    def oidc_policy(self, org: str) -> OidcPolicy | None:
        row = self.registration(org, "oidc")
        if row is None:
            return None
        return OidcPolicy(row["Org"], tuple(row.get("Repos") or ()), tuple(row.get("Branches") or ()))


