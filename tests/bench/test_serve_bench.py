"""bench/serve.py measures like against like: `lambdasmith serve` and the FastAPI peer answer its
three routes with the same status, body and validators, from the same seeded data dir (the
variant of the peer that runs on the event loop too)."""

from __future__ import annotations

import json

import pytest

from bench import serve as bench
from tests.support.upstreams import FakeNuGet

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    """Serve's answers after the bench's seeding, and what the peer needs to answer the same."""
    nuget = FakeNuGet(bench.NUGET_DATA).start()
    work = tmp_path_factory.mktemp("bench-serve")
    data_dir = str(work / "data")
    env, token = bench.prepare(data_dir, 1, nuget.url)
    server, urls = bench.start_ours(data_dir, env, work)
    try:
        bench.seed(urls, token)
        yield env, token, bench.answers(urls, token), work
    finally:
        server.stop()
        nuget.stop()


def test_serve_answers_the_seeded_data(ours):
    _, _, answers, _ = ours
    bodies = {label: json.loads(body) for label, (status, _, body) in answers.items() if status == 200}
    assert bodies["NuGet badge (cached)"]["message"] == "13.0.3"
    assert bodies["test badge"]["message"] == "120 passed"
    page = bodies["wardrobe page (20 items)"]
    assert [i["itemId"] for i in page["items"]] == [f"item-{n:03d}" for n in reversed(range(bench.ITEMS))]


@pytest.mark.parametrize("run_on_loop", [False, True], ids=["thread-pool", "event-loop"])
def test_peer_answers_like_serve(ours, run_on_loop):
    env, token, expected, work = ours
    peer, urls = bench.start_peer(1, env, work, run_on_loop)
    try:
        got = bench.answers(urls, token)
    finally:
        peer.stop()
    assert bench.differences(expected, got) == []
