"""PackageSource against fake NuGet and GitHub servers: fetching, pagination, caching, stale-if-error."""

from __future__ import annotations

import pytest

from lambdasmith.badges import upstream as source_module
from lambdasmith.badges.upstream import (
    PackageNotFound,
    PackageSource,
    UpstreamAuthError,
    UpstreamUnavailable,
    VersionCache,
)
from lambdasmith.badges.versions import best_match
from lambdasmith.kit.http.upstream import UpstreamClient
from tests.support.upstreams import FakeGitHub, FakeNuGet, FakeProcess, FakeServer, Reply, Request, control

TTL = 900.0
NEWTONSOFT = ["12.0.1", "12.0.2", "13.0.1", "13.0.2-beta1", "13.0.3"]
ORG, TOKEN = "localstack-dotnet", "ghp_localstack"
OTHER_ORG, OTHER_TOKEN = "other-org", "ghp_other"
# 250 versions, oldest first, so the newest sits on page 3 of 100.
MANY = [f"1.{minor}.{patch}" for minor in range(25) for patch in range(10)]


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def nuget():
    with FakeNuGet({"Newtonsoft.Json": NEWTONSOFT, "Tiny": ["0.1.0"]}) as fake:
        yield fake


@pytest.fixture
def github():
    packages = {ORG: {"LocalStack.Client": MANY, "Shared.Name": ["1.0.0"]},
                OTHER_ORG: {"Shared.Name": ["9.9.9"]}}
    with FakeGitHub(packages, {ORG: TOKEN, OTHER_ORG: OTHER_TOKEN}) as fake:
        yield fake


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def make(nuget, github, clock, sleeps):
    def build(**kw) -> PackageSource:
        client = UpstreamClient("lambdasmith-badges-tests/1.0", sleep=sleeps, rng=lambda: 0.5)
        kw.setdefault("nuget_base", nuget.url)
        kw.setdefault("github_api", github.url)
        kw.setdefault("cache", VersionCache())
        return PackageSource(client, cache_ttl=TTL, clock=clock, **kw)

    return build


@pytest.fixture
def source(make):
    return make()


# ---------------------------------------------------------------------------- NuGet


def test_nuget_versions_are_fetched_with_the_id_lower_cased(source, nuget):
    found = source.nuget_versions("Newtonsoft.Json")
    assert found.versions == tuple(NEWTONSOFT)
    assert found.stale is False
    assert [r.path for r in nuget.log] == ["/v3-flatcontainer/newtonsoft.json/index.json"]
    assert nuget.log[0].headers["user-agent"] == "lambdasmith-badges-tests/1.0"


def test_nuget_unknown_package_is_not_found(source, nuget):
    with pytest.raises(PackageNotFound):
        source.nuget_versions("No.Such.Package")
    assert nuget.requests == 1


@pytest.mark.parametrize("bad", ["", "  ", "../secrets", "a/b", "a..b", ".hidden", "x" * 101, "naïve", "a b"])
def test_names_that_cannot_be_package_ids_never_reach_upstream(source, nuget, bad):
    with pytest.raises(PackageNotFound):
        source.nuget_versions(bad)
    assert nuget.requests == 0


def test_cache_hit_within_ttl_does_not_call_upstream(source, nuget, clock):
    first = source.nuget_versions("Newtonsoft.Json")
    clock.advance(TTL - 1)
    again = source.nuget_versions("newtonsoft.json")  # the same index whatever the case
    assert again.versions == first.versions and not again.stale
    assert nuget.requests == 1


def test_after_ttl_revalidates_with_if_none_match_and_304_keeps_the_cached_list(source, nuget, clock):
    source.nuget_versions("Newtonsoft.Json")
    etag = nuget.log[0].headers.get("if-none-match")
    assert etag is None
    clock.advance(TTL + 1)
    found = source.nuget_versions("Newtonsoft.Json")
    assert found.versions == tuple(NEWTONSOFT) and not found.stale
    assert nuget.requests == 2
    revalidation = nuget.log[1]
    assert revalidation.headers["if-none-match"].startswith('"')
    assert "if-modified-since" in revalidation.headers
    assert revalidation.status == 304
    assert found.checked_at == clock.now
    clock.advance(TTL - 1)  # the 304 made the entry fresh again
    source.nuget_versions("Newtonsoft.Json")
    assert nuget.requests == 2


def test_after_ttl_a_changed_index_replaces_the_cached_one(source, nuget, clock):
    source.nuget_versions("Newtonsoft.Json")
    nuget.set_versions("Newtonsoft.Json", [*NEWTONSOFT, "14.0.0"])
    clock.advance(TTL + 1)
    found = source.nuget_versions("Newtonsoft.Json")
    assert found.versions[-1] == "14.0.0"
    assert nuget.log[1].status == 200


class NuGetWithoutETags(FakeNuGet):
    def route(self, request: Request) -> Reply:
        reply = super().route(request)
        reply.headers = [(k, v) for k, v in reply.headers if k.lower() != "etag"]
        return reply


def test_revalidation_falls_back_to_if_modified_since(make, clock):
    with NuGetWithoutETags({"Tiny": ["0.1.0"]}) as fake:
        source = make(nuget_base=fake.url)
        source.nuget_versions("Tiny")
        clock.advance(TTL + 1)
        assert source.nuget_versions("Tiny").versions == ("0.1.0",)
        assert "if-none-match" not in fake.log[1].headers
        assert fake.log[1].headers["if-modified-since"]
        assert fake.log[1].status == 304


def test_stale_if_error_serves_the_cached_list_marked_stale(source, nuget, clock, sleeps):
    source.nuget_versions("Newtonsoft.Json")
    nuget.set_failure(500)
    clock.advance(TTL + 1)
    found = source.nuget_versions("Newtonsoft.Json")
    assert found.versions == tuple(NEWTONSOFT)
    assert found.stale is True
    assert nuget.requests == 1 + 4  # the client retried 3 times before giving up
    assert len(sleeps) == 3


def test_after_a_failure_upstream_is_left_alone_for_a_while_then_asked_again(source, nuget, clock):
    source.nuget_versions("Newtonsoft.Json")
    nuget.set_failure(503)
    clock.advance(TTL + 1)
    assert source.nuget_versions("Newtonsoft.Json").stale
    calls = nuget.requests
    clock.advance(source.failure_hold - 1)
    assert source.nuget_versions("Newtonsoft.Json").stale
    assert nuget.requests == calls  # held: no new attempt
    nuget.set_failure(None)
    clock.advance(2)
    found = source.nuget_versions("Newtonsoft.Json")
    assert not found.stale and found.versions == tuple(NEWTONSOFT)
    assert nuget.requests == calls + 1


def test_nothing_cached_and_500_is_upstream_unavailable(source, nuget):
    nuget.set_failure(500)
    with pytest.raises(UpstreamUnavailable):
        source.nuget_versions("Newtonsoft.Json")


def test_429_counts_as_an_upstream_failure(source, nuget, clock):
    source.nuget_versions("Tiny")
    nuget.set_failure(429)
    clock.advance(TTL + 1)
    assert source.nuget_versions("Tiny").stale


def test_unreachable_upstream_serves_stale_or_is_unavailable(make, clock):
    fake = FakeNuGet({"Tiny": ["0.1.0"]}).start()
    source = make(nuget_base=fake.url)
    source.nuget_versions("Tiny")
    fake.stop()  # connections now refused
    clock.advance(TTL + 1)
    found = source.nuget_versions("Tiny")
    assert found.stale and found.versions == ("0.1.0",)
    with pytest.raises(UpstreamUnavailable):
        source.nuget_versions("Newtonsoft.Json")


class Garbage(FakeServer):
    def route(self, request: Request) -> Reply:
        return Reply(200, b"<html>not json</html>", [("Content-Type", "text/html")])


def test_a_garbage_body_is_an_upstream_failure(make):
    with Garbage() as fake:
        with pytest.raises(UpstreamUnavailable):
            make(nuget_base=fake.url).nuget_versions("Tiny")


def test_404_after_ttl_forgets_the_cached_package(source, nuget, clock):
    source.nuget_versions("Tiny")
    nuget.set_packages({"Newtonsoft.Json": NEWTONSOFT})  # Tiny was deleted
    clock.advance(TTL + 1)
    with pytest.raises(PackageNotFound):
        source.nuget_versions("Tiny")
    nuget.set_failure(500)
    with pytest.raises(UpstreamUnavailable):  # nothing stale left to serve
        source.nuget_versions("Tiny")


def test_instances_share_the_module_cache_by_default(nuget, clock):
    client = UpstreamClient("t", sleep=lambda s: None)
    try:
        a = PackageSource(client, nuget_base=nuget.url, clock=clock)
        b = PackageSource(client, nuget_base=nuget.url, clock=clock)
        a.nuget_versions("Tiny")
        assert b.nuget_versions("Tiny").versions == ("0.1.0",)
        assert nuget.requests == 1
    finally:
        source_module.SHARED_CACHE.clear()


def test_the_cache_is_bounded():
    cache = VersionCache(limit=2)
    entry = source_module._Entry(("1.0.0",), None, None, 0.0)
    for key in ("a", "b", "c"):
        cache.put(("nuget", key, ""), entry)
    cache.get(("nuget", "b", ""))  # recently used: survives
    cache.put(("nuget", "d", ""), entry)
    assert len(cache) == 2
    assert cache.get(("nuget", "a", "")) is None and cache.get(("nuget", "c", "")) is None
    assert cache.get(("nuget", "b", "")) is entry


# ---------------------------------------------------------------------------- GitHub


def test_github_pagination_collects_every_page_with_the_token(source, github):
    found = source.github_versions(ORG, "LocalStack.Client", TOKEN)
    assert found.versions == tuple(MANY)
    assert best_match(found.versions, None, False) == "1.24.9"  # only on page 3
    assert github.requests == 3
    first, second, third = github.log
    assert first.path == f"/orgs/{ORG}/packages/nuget/localstack.client/versions"
    assert first.query == {"per_page": "100"}
    assert second.query == {"per_page": "100", "page": "2"} and third.query["page"] == "3"
    assert second.path.startswith("/organizations/")  # the Link URL was followed, not rebuilt
    for req in github.log:
        assert req.headers["authorization"] == f"Bearer {TOKEN}"
        assert req.headers["accept"] == "application/vnd.github+json"
        assert req.headers["x-github-api-version"] == "2022-11-28"
        assert req.status == 200


def test_github_cache_hit_and_revalidation_of_the_first_page(source, github, clock):
    source.github_versions(ORG, "LocalStack.Client", TOKEN)
    clock.advance(TTL - 1)
    assert source.github_versions(ORG, "LocalStack.Client", TOKEN).versions == tuple(MANY)
    assert github.requests == 3
    clock.advance(2)
    found = source.github_versions(ORG, "LocalStack.Client", TOKEN)
    assert found.versions == tuple(MANY) and not found.stale
    assert github.requests == 4  # one conditional request for page 1, answered 304
    assert github.log[-1].headers["if-none-match"].startswith('W/"')
    assert github.log[-1].status == 304


def test_github_changed_first_page_refetches_every_page(source, github, clock):
    source.github_versions(ORG, "LocalStack.Client", TOKEN)
    github.set_versions(ORG, "LocalStack.Client", ["0.0.1", *MANY])
    clock.advance(TTL + 1)
    found = source.github_versions(ORG, "LocalStack.Client", TOKEN)
    assert found.versions == ("0.0.1", *MANY)
    assert github.requests == 3 + 3


def test_github_stale_if_error(source, github, clock):
    source.github_versions(ORG, "Shared.Name", TOKEN)
    github.set_failure(502)
    clock.advance(TTL + 1)
    found = source.github_versions(ORG, "Shared.Name", TOKEN)
    assert found.stale and found.versions == ("1.0.0",)


def test_github_rate_limit_is_a_failure_not_an_auth_error(source, github, clock):
    source.github_versions(ORG, "Shared.Name", TOKEN)
    github.set_failure(403, retry_after="60")
    clock.advance(TTL + 1)
    assert source.github_versions(ORG, "Shared.Name", TOKEN).stale


def test_github_unknown_package_is_not_found(source):
    with pytest.raises(PackageNotFound):
        source.github_versions(ORG, "Nope", TOKEN)


def test_github_bad_token_is_an_auth_error(source, github):
    with pytest.raises(UpstreamAuthError):
        source.github_versions(ORG, "Shared.Name", "ghp_wrong")  # 401
    with pytest.raises(UpstreamAuthError):
        source.github_versions(ORG, "Shared.Name", OTHER_TOKEN)  # 403: another org's token
    with pytest.raises(UpstreamAuthError):
        source.github_versions(ORG, "Shared.Name", "")
    assert [r.status for r in github.log] == [401, 403]


def test_github_orgs_never_share_cache_entries(source, github):
    mine = source.github_versions(ORG, "Shared.Name", TOKEN)
    theirs = source.github_versions(OTHER_ORG, "Shared.Name", OTHER_TOKEN)
    assert (mine.versions, theirs.versions) == (("1.0.0",), ("9.9.9",))
    with pytest.raises(UpstreamAuthError):  # OTHER_ORG's list is cached, but not for ORG's token
        source.github_versions(OTHER_ORG, "Shared.Name", TOKEN)
    assert github.requests == 3


def test_github_cache_entries_belong_to_the_token_that_filled_them(source, github):
    source.github_versions(ORG, "Shared.Name", TOKEN)
    github.set_data(tokens={ORG: "ghp_rotated", OTHER_ORG: OTHER_TOKEN})
    assert source.github_versions(ORG, "Shared.Name", "ghp_rotated").versions == ("1.0.0",)
    assert github.requests == 2  # a new token is not served what the old one fetched
    keys = list(source._cache._entries)
    assert all(TOKEN not in part and "ghp_rotated" not in part for key in keys for part in key)


def test_github_token_rejected_after_ttl_forgets_the_cached_list(source, github, clock):
    source.github_versions(ORG, "Shared.Name", TOKEN)
    github.set_data(tokens={ORG: "ghp_rotated", OTHER_ORG: OTHER_TOKEN})
    clock.advance(TTL + 1)
    with pytest.raises(UpstreamAuthError):
        source.github_versions(ORG, "Shared.Name", TOKEN)
    github.set_failure(500)
    with pytest.raises(UpstreamUnavailable):
        source.github_versions(ORG, "Shared.Name", TOKEN)


def test_github_pages_are_capped(source, github, monkeypatch):
    monkeypatch.setattr(source_module, "MAX_PAGES", 2)
    found = source.github_versions(ORG, "LocalStack.Client", TOKEN)
    assert found.versions == tuple(MANY[:200])
    assert github.requests == 2


def test_github_failure_on_a_later_page_keeps_the_old_list(source, github, clock):
    source.github_versions(ORG, "LocalStack.Client", TOKEN)
    github.set_versions(ORG, "LocalStack.Client", ["2.0.0", *MANY])  # newest first changes page 1
    clock.advance(TTL + 1)

    original = github.route

    def fail_page_three(request: Request) -> Reply:
        if request.query.get("page") == "3":
            return Reply(500, b"{}")
        return original(request)

    github.route = fail_page_three  # type: ignore[method-assign]
    found = source.github_versions(ORG, "LocalStack.Client", TOKEN)
    assert found.stale and found.versions == tuple(MANY)
    assert [r.status for r in github.log[3:5]] == [200, 200]  # pages 1 and 2 changed, then page 3 failed


class LeakyGitHub(FakeGitHub):
    """Points its next link at another host, to check the token stays home."""

    elsewhere = ""

    def route(self, request: Request) -> Reply:
        reply = super().route(request)
        reply.headers = [(k, v.replace(self.url, self.elsewhere) if k == "Link" else v) for k, v in reply.headers]
        return reply


def test_github_token_is_never_sent_to_another_origin(make):
    with LeakyGitHub({ORG: {"LocalStack.Client": MANY}}, {ORG: TOKEN}) as leaky, FakeNuGet() as elsewhere:
        leaky.elsewhere = elsewhere.url
        with pytest.raises(UpstreamUnavailable):
            make(github_api=leaky.url).github_versions(ORG, "LocalStack.Client", TOKEN)
        assert elsewhere.requests == 0


# ---------------------------------------------------------------------------- fakes as processes


def test_fakes_run_as_subprocesses_with_a_control_endpoint(make, clock):
    data = {"nuget": {"packages": {"Newtonsoft.Json": NEWTONSOFT}},
            "github": {"tokens": {ORG: TOKEN}, "packages": {ORG: {"LocalStack.Client": MANY}}}}
    with FakeProcess("nuget", data) as nuget_proc, FakeProcess("github", data) as github_proc:
        source = make(nuget_base=nuget_proc.url, github_api=github_proc.url)
        assert source.nuget_versions("Newtonsoft.Json").versions == tuple(NEWTONSOFT)
        assert source.github_versions(ORG, "LocalStack.Client", TOKEN).versions == tuple(MANY)
        assert control(github_proc.url)["requests"] == 3

        nuget_proc.control({"fail": 500})
        clock.advance(TTL + 1)
        found = source.nuget_versions("Newtonsoft.Json")
        assert found.stale
        state = nuget_proc.control()
        assert state["requests"] == 5 and [e["status"] for e in state["log"]][-1] == 500

        nuget_proc.control({"fail": None, "reset": True,
                            "packages": {"Newtonsoft.Json": [*NEWTONSOFT, "14.0.0"]}})
        clock.advance(source.failure_hold + 1)
        assert source.nuget_versions("Newtonsoft.Json").versions[-1] == "14.0.0"
        assert nuget_proc.control()["requests"] == 1
