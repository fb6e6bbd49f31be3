"""`lambdasmith badges reindex` on both backends: results stored before the dashboards' indexes
existed (simulated by deleting their index items) reach the pages again, and only those items
are written."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from lambdasmith.badges.store import REPOS_PK, Repo
from tests.badges.pages.conftest import Pages
from tests.e2e.test_badges_aws_e2e import aws_badges_env
from tests.e2e.test_badges_e2e import lambdasmith

pytestmark = pytest.mark.e2e

DAY = 86400


@pytest.fixture(params=["sqlite", "dynamodb"])
def backend(request, tmp_path, monkeypatch) -> dict[str, str]:
    env = {"LAMBDASMITH_DATA_DIR": str(tmp_path)}
    if request.param == "dynamodb":
        env.update(aws_badges_env(request.getfixturevalue("aws_backend_env")))
        r = lambdasmith("badges", "create-tables", data_dir=str(tmp_path), env=env)
        assert r.returncode == 0, r.stderr
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return env


def _pages(env: dict[str, str]) -> Pages:
    return Pages(env["LAMBDASMITH_DATA_DIR"], env)


def _text(response) -> str:
    return response.body_bytes().decode()


def _forget_indexes(pages: Pages, *places: tuple[str, str, str, str]) -> None:
    """What a store written before the indexes holds: the results, no index items."""
    for place in places:
        platform, owner, repo, branch = Repo.of(*place).keyed
        assert pages.store.results.delete({"PK": f"TEST#{owner}#{repo}", "SK": f"BRANCH#{platform}#{branch}"})
        pages.store.results.delete({"PK": REPOS_PK, "SK": f"{owner}#{repo}"})


def _reindex(env: dict[str, str]) -> str:
    r = lambdasmith("badges", "reindex", data_dir=env["LAMBDASMITH_DATA_DIR"], env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


def test_reindex_brings_old_results_back_to_the_pages_once(backend):
    pages = _pages(backend)
    odd = ("Linux#x64%", "Acme", "Rocket", "feature/a#b%2F")  # every delimiter a key escapes
    places = [("linux", "acme", "rocket", "main"), ("windows", "acme", "rocket", "main"), odd,
              ("linux", "other", "tool", "dev")]  # fmt: skip
    for place in places:
        pages.post_run(place, passed=9, failed=1)
    pages.post_run(places[0], passed=10)
    _forget_indexes(pages, *places)
    assert pages.get("/dashboard/acme/rocket").status == 404
    assert "/dashboard/acme/rocket" not in _text(pages.get("/"))

    assert _reindex(backend) == "reindex: 4 branch(es) and 2 repositories added to the pages"

    page = pages.get("/dashboard/Acme/Rocket")
    assert page.status == 200
    assert re.findall(r"<h2[^>]*>(.*?)</h2>", _text(page)) == [
        "main on linux", "feature/a#b%2f on linux#x64%", "main on windows"]
    assert "10 passed, 0 failed" in _text(page)  # the latest run of linux/main, not the first
    builder = _text(pages.get("/"))
    assert "/dashboard/acme/rocket" in builder and "/dashboard/other/tool" in builder
    assert _reindex(backend) == "reindex: 0 branch(es) and 0 repositories added to the pages"


def test_reindex_keeps_what_ingestion_wrote_and_skips_expired_results(backend):
    pages = _pages(backend)
    fresh, stale = ("linux", "acme", "kept", "main"), ("linux", "acme", "gone", "main")
    pages.post_run(fresh, passed=3)
    platform, owner, repo, branch = Repo.of(*fresh).keyed
    index_key = {"PK": f"TEST#{owner}#{repo}", "SK": f"BRANCH#{platform}#{branch}"}
    before = pages.store.results.get(index_key)
    long_ago = time.time() - 731 * DAY  # a result past its 730-day life, not yet swept
    where = Repo.of(*stale)
    pages.store.record(where, uuid.uuid4().hex, {"Passed": 1, "Failed": 0, "Skipped": 0, "Total": 1},
                       "2024-11-01T00:00:00.000Z", long_ago)  # fmt: skip
    assert _reindex(backend) == "reindex: 0 branch(es) and 0 repositories added to the pages"
    assert pages.store.results.get(index_key) == before
    assert pages.store.branches("acme", "gone") == []
