"""Where package badges get their versions: the NuGet flat container and GitHub Packages.

A badge is requested far more often than a package is published, and upstreams rate-limit and
fail, so each version index is cached in memory per URL — Lambda keeps module state between warm
invocations. An entry is fresh for `cache_ttl`; after that it is revalidated with its ETag /
Last-Modified, and a 304 costs no body. When upstream fails and we hold any copy, however old, we
serve it marked stale (stale-if-error) rather than break every README that shows the badge.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from lambdasmith.kit.http.upstream import UpstreamClient, UpstreamError, UpstreamResponse, parse_link_header
from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

MAX_PAGES = 50  # GitHub pages of 100: 5,000 versions is more than any package we badge
MAX_CACHE_ENTRIES = 1024  # package ids come from public URLs; keep memory bounded
GITHUB_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}

Key = tuple[str, str, str]  # (provider, first URL, token fingerprint or "")


class PackageNotFound(Exception):
    """Upstream has no such package (or the name cannot be a package id)."""


class UpstreamAuthError(Exception):
    """GitHub refused the organisation's token (401, or 403 that is not a rate limit)."""


class UpstreamUnavailable(Exception):
    """Upstream failed (transport error, 5xx, 429, rate limit, garbage) and nothing is cached."""


class Versions(Record):
    """Version strings as upstream published them; `stale` means upstream failed and this is the
    last copy we had; `checked_at` is when upstream last confirmed it (clock seconds)."""

    __slots__ = ("versions", "stale", "checked_at")

    versions: tuple[str, ...]
    stale: bool
    checked_at: float


class _Entry(Record):
    __slots__ = ("versions", "etag", "last_modified", "checked_at", "failed_at")
    _defaults = {"failed_at": None}

    versions: tuple[str, ...]
    etag: str | None
    last_modified: str | None
    checked_at: float
    failed_at: float | None


class VersionCache:
    """A bounded, thread-safe LRU of version indexes, keyed by (provider, first URL, credential).

    A GitHub URL names its org, and the credential part is a SHA-256 fingerprint of the token that
    filled the entry (never the token), so cached private data is only served to the same token.
    """

    def __init__(self, limit: int = MAX_CACHE_ENTRIES) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._entries: OrderedDict[Key, _Entry] = OrderedDict()

    def get(self, key: Key) -> _Entry | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
            return entry

    def put(self, key: Key, entry: _Entry) -> None:
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.limit:
                self._entries.popitem(last=False)

    def pop(self, key: Key) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


SHARED_CACHE = VersionCache()  # survives between warm invocations of one Lambda instance


def _name_ok(name: str) -> bool:
    """NuGet's id rule `\\w+([.-]\\w+)*` (ASCII), at most 100 characters; GitHub org names fit it.

    Checking before building a URL keeps `..` and `/` out of upstream paths."""
    if not 1 <= len(name) <= 100 or not name.isascii():
        return False
    after_separator = True
    for c in name:
        if c.isalnum() or c == "_":
            after_separator = False
        elif c in ".-" and not after_separator:
            after_separator = True
        else:
            return False
    return not after_separator


class PackageSource:
    """Version lists of NuGet and GitHub Packages (NuGet) packages, cached; see the module doc.

    After a failed refresh the stale copy is served without asking upstream again for
    `failure_hold` seconds, so an outage does not make every badge request wait out retries.
    """

    def __init__(
        self,
        client: UpstreamClient,
        nuget_base: str = "https://api.nuget.org",
        github_api: str = "https://api.github.com",
        cache_ttl: float = 900,
        clock: Callable[[], float] = time.time,
        cache: VersionCache | None = None,
        failure_hold: float = 30.0,
    ) -> None:
        self.client = client
        self.nuget_base = nuget_base.rstrip("/")
        self.github_api = github_api.rstrip("/")
        self.cache_ttl = cache_ttl
        self.failure_hold = failure_hold
        self._clock = clock
        self._cache = SHARED_CACHE if cache is None else cache

    # ------------------------------------------------------------------------------ NuGet

    def nuget_versions(self, package_id: str) -> Versions:
        """`GET {nuget_base}/v3-flatcontainer/{id-lowercase}/index.json`."""
        pid = package_id.strip()
        if not _name_ok(pid):
            raise PackageNotFound(package_id)
        url = f"{self.nuget_base}/v3-flatcontainer/{pid.lower()}/index.json"

        def refresh(entry: _Entry | None, now: float) -> _Entry:
            resp = self._get(url, _conditional(entry))
            if resp.status == 304 and entry is not None:
                return _revalidated(entry, resp, now)
            if resp.status == 404:
                raise PackageNotFound(package_id)
            if resp.status != 200:
                raise UpstreamUnavailable(f"NuGet answered {resp.status} for {pid}")
            doc = _json(resp)
            found = doc.get("versions") if isinstance(doc, dict) else None
            if not isinstance(found, list):
                raise UpstreamUnavailable(f"NuGet index of {pid} has no version list")
            return _Entry(tuple(v for v in found if isinstance(v, str)), resp.headers.get("etag"),
                          resp.headers.get("last-modified"), now)

        return self._lookup(("nuget", url, ""), refresh)

    # ------------------------------------------------------------------------------ GitHub

    def github_versions(self, org: str, package: str, token: str) -> Versions:
        """All versions of an org's NuGet package on GitHub Packages, following `Link: rel=next`.

        The combined list is cached under the first page's URL and revalidated with the first
        page's validators: a 304 there keeps the whole cached list. GitHub lists newest first, so
        a new version changes page 1; a change confined to later pages (a deleted old version)
        shows once the entry is refetched for another reason. Org and package are lower-cased
        in the URL, as BadgeSmith does (GitHub matches them case-insensitively).
        """
        if not token:
            raise UpstreamAuthError(f"no token for organisation {org}")
        org_name, pkg = org.strip().lower(), package.strip().lower()
        if not (_name_ok(org_name) and _name_ok(pkg)):
            raise PackageNotFound(f"{org}/{package}")
        first = f"{self.github_api}/orgs/{org_name}/packages/nuget/{pkg}/versions?per_page=100"
        auth = dict(GITHUB_HEADERS, Authorization=f"Bearer {token}")

        def refresh(entry: _Entry | None, now: float) -> _Entry:
            resp = self._get(first, {**auth, **_conditional(entry)})
            if resp.status == 304 and entry is not None:
                return _revalidated(entry, resp, now)
            versions = self._github_page(resp, org_name, pkg)
            etag, last_modified = resp.headers.get("etag"), resp.headers.get("last-modified")
            for _ in range(MAX_PAGES - 1):
                url = parse_link_header(resp.headers.get("link", "")).get("next")
                if url is None:
                    break
                if not _same_origin(url, self.github_api):
                    # Never hand the org's token to a host other than the API's.
                    raise UpstreamUnavailable(f"GitHub pagination left {self.github_api}: {url}")
                resp = self._get(url, auth)
                versions += self._github_page(resp, org_name, pkg)
            return _Entry(tuple(versions), etag, last_modified, now)

        return self._lookup(("github", first, _fingerprint(token)), refresh)

    @staticmethod
    def _github_page(resp: UpstreamResponse, org: str, package: str) -> list[str]:
        if resp.status == 404:
            raise PackageNotFound(f"{org}/{package}")
        rate_limited = resp.headers.get("x-ratelimit-remaining") == "0" or "retry-after" in resp.headers
        if resp.status in (401, 403) and not rate_limited:
            raise UpstreamAuthError(f"GitHub answered {resp.status} for {org}/{package}")
        if resp.status != 200:
            raise UpstreamUnavailable(f"GitHub answered {resp.status} for {org}/{package}")
        doc = _json(resp)
        if not isinstance(doc, list):
            raise UpstreamUnavailable(f"GitHub versions of {org}/{package} are not a list")
        return [e["name"] for e in doc if isinstance(e, dict) and isinstance(e.get("name"), str)]

    # ------------------------------------------------------------------------------ cache

    def _lookup(self, key: Key, refresh: Callable[[_Entry | None, float], _Entry]) -> Versions:
        now = self._clock()
        entry = self._cache.get(key)
        if entry is not None:
            if now - entry.checked_at < self.cache_ttl:
                return Versions(entry.versions, False, entry.checked_at)
            if entry.failed_at is not None and now - entry.failed_at < self.failure_hold:
                return Versions(entry.versions, True, entry.checked_at)
        try:
            fresh = refresh(entry, now)
        except UpstreamUnavailable:
            if entry is None:
                raise
            self._cache.put(key, _Entry(entry.versions, entry.etag, entry.last_modified, entry.checked_at, now))
            return Versions(entry.versions, True, entry.checked_at)
        except (PackageNotFound, UpstreamAuthError):
            self._cache.pop(key)  # deleted, or no longer ours to see: forget it
            raise
        self._cache.put(key, fresh)
        return Versions(fresh.versions, False, fresh.checked_at)

    def _get(self, url: str, headers: dict[str, str]) -> UpstreamResponse:
        try:
            return self.client.get(url, headers)
        except UpstreamError as exc:
            raise UpstreamUnavailable(str(exc)) from exc


def _fingerprint(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode("utf-8")).hexdigest()[:32]


def _conditional(entry: _Entry | None) -> dict[str, str]:
    headers: dict[str, str] = {}
    if entry is not None:
        if entry.etag:
            headers["If-None-Match"] = entry.etag
        if entry.last_modified:
            headers["If-Modified-Since"] = entry.last_modified
    return headers


def _revalidated(entry: _Entry, resp: UpstreamResponse, now: float) -> _Entry:
    etag = resp.headers.get("etag") or entry.etag
    last_modified = resp.headers.get("last-modified") or entry.last_modified
    return _Entry(entry.versions, etag, last_modified, now)


def _json(resp: UpstreamResponse) -> Any:
    try:
        return resp.json()
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise UpstreamUnavailable(f"upstream sent invalid JSON: {exc}") from exc


def _same_origin(url: str, base: str) -> bool:
    from urllib.parse import urlsplit

    def origin(u: str) -> tuple[str, str | None, int]:
        parts = urlsplit(u)
        scheme = parts.scheme.lower()
        return scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80)

    return origin(url) == origin(base)
