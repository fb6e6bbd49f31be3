"""The wardrobe end to end: `lambdasmith serve` in a subprocess (API on BASE+1, the queue pump
feeding the share worker), every route over real HTTP with real JWTs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.serving import Served, http

pytestmark = pytest.mark.e2e


def lambdasmith(*args: str, data_dir: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lambdasmith", *args, "--data-dir", data_dir],
                          capture_output=True, text=True, env={**os.environ, **(env or {})})


def mint(server: Served, user: str) -> str:
    r = lambdasmith("wardrobe", "token", user, data_dir=server.data_dir, env=server.env)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = str(tmp_path_factory.mktemp("wardrobe-data"))
    served = Served(data, ["wardrobe"], {"WARDROBE_VISIBILITY_TIMEOUT": "2"}).start()
    yield served
    served.stop()



@pytest.fixture(scope="module")
def api(server):
    return server.urls["wardrobe"]


@pytest.fixture
def user(server):
    name = "u" + uuid.uuid4().hex[:10]
    return name, {"Authorization": f"Bearer {mint(server, name)}", "Content-Type": "application/json"}


def item(item_id=None, **over):
    body = {"itemId": item_id or "i-" + uuid.uuid4().hex[:10], "name": "Wool coat", "category": "outerwear",
            "season": "Winter", "color": "navy", "brand": "Acme", "purchaseDate": "2025-10-01",
            "imageUrl": "https://img.example/coat.png"}
    body.update(over)
    return body


def create(api, user, body, headers=None):
    name, h = user
    return http("POST", f"{api}/users/{name}/items", {**h, **(headers or {})}, json.dumps(body))


# ---------------------------------------------------------------- create and idempotency


def test_create_then_idempotent_repeat_then_mismatch(api, user):
    body = item()
    first = create(api, user, body, {"Idempotency-Key": "k-1"})
    assert first.status == 201, first
    got = first.json()
    assert got["itemId"] == body["itemId"] and got["userId"] == user[0] and got["season"] == "winter"
    assert got["sharedCount"] == 0 and got["isPublic"] is False and got["createdAt"] == got["updatedAt"]
    again = create(api, user, body, {"Idempotency-Key": "k-1"})
    assert again.status == 200 and again.json() == got
    by_body_key = create(api, user, {**body, "idempotencyKey": "k-1"})
    assert by_body_key.status == 200 and by_body_key.json() == got
    mismatch = create(api, user, {**body, "name": "Another coat"}, {"Idempotency-Key": "k-1"})
    assert mismatch.status == 422 and mismatch.json()["error"] == "idempotency_key_reused"


def test_same_item_without_key_is_409(api, user):
    body = item()
    assert create(api, user, body).status == 201
    r = create(api, user, body)
    assert r.status == 409 and r.json()["error"] == "conflict"


def test_item_of_another_user_is_never_overwritten(api, server, user):
    body = item()
    assert create(api, user, body).status == 201
    mallory = "m" + uuid.uuid4().hex[:8]
    h = {"Authorization": f"Bearer {mint(server, mallory)}", "Content-Type": "application/json"}
    r = http("POST", f"{api}/users/{mallory}/items", h, json.dumps({**body, "name": "stolen"}))
    assert r.status == 409 and "another user" in r.json()["message"]
    mine = http("GET", f"{api}/users/{user[0]}/items", user[1]).json()["items"]
    assert [i["name"] for i in mine if i["itemId"] == body["itemId"]] == ["Wool coat"]


def test_20_concurrent_creates_with_one_key_make_one_item(api, user):
    body = item()
    with ThreadPoolExecutor(20) as pool:
        replies = list(pool.map(lambda _: create(api, user, body, {"Idempotency-Key": "race"}), range(20)))
    statuses = sorted(r.status for r in replies)
    assert statuses.count(201) == 1 and statuses.count(200) == 19, statuses
    assert len({json.dumps(r.json(), sort_keys=True) for r in replies}) == 1
    listed = http("GET", f"{api}/users/{user[0]}/items", user[1]).json()["items"]
    assert [i["itemId"] for i in listed] == [body["itemId"]]


# ---------------------------------------------------------------- auth


def test_auth_errors(api, server, user):
    name, h = user
    assert http("GET", f"{api}/users/{name}/items").json()["error"] == "unauthorized"
    for bad in ("Bearer", "Basic abc", "Bearer not.a.jwt", "Bearer " + h["Authorization"].split()[1][:-3] + "abc"):
        r = http("GET", f"{api}/users/{name}/items", {"Authorization": bad})
        assert r.status == 401 and r.json()["error"] == "unauthorized", bad
    none_alg = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + h["Authorization"].split(".")[1] + "."
    assert http("GET", f"{api}/users/{name}/items", {"Authorization": "Bearer " + none_alg}).status == 401
    other = "o" + uuid.uuid4().hex[:8]
    r = http("GET", f"{api}/users/{other}/items", h)
    assert r.status == 403 and r.json() == {"error": "forbidden", "message": "user mismatch"}
    assert http("GET", f"{api}/users/{name}/items", {"authorization": h["Authorization"]}).status == 200


# ---------------------------------------------------------------- validation


def test_validation_lists_every_problem(api, user):
    r = create(api, user, {"itemId": "", "name": "x" * 201, "season": "monsoon", "imageUrl": "ftp://x",
                           "purchaseDate": "2025-13-01", "color": 5})
    assert r.status == 400 and r.json()["error"] == "validation_failed"
    body = r.json()
    fields = [e["field"] for e in body["details"]]
    assert set(fields) == {"itemId", "name", "category", "season", "imageUrl", "purchaseDate", "color"}
    # `errors` are sentences, as Wdrbe's clients print them, in the same order as `details`
    assert body["errors"] == [e["message"] for e in body["details"]]
    assert all(isinstance(m, str) and m.startswith(f + " ") for m, f in zip(body["errors"], fields))
    assert "name must be 200 characters or fewer" in body["errors"]
    assert "category is required" in body["errors"]
    assert "season must be one of: spring, summer, autumn, fall, winter, all-season" in body["errors"]


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe", b"[1,2]", b""])
def test_bad_bodies_are_400(api, user, raw):
    r = http("POST", f"{api}/users/{user[0]}/items", user[1], raw)
    assert r.status == 400 and r.json()["error"] == "bad_request"


def test_huge_body_is_413(api, user):
    assert create(api, user, item(brand="x" * 70_000)).status == 413


def test_header_and_body_keys_must_agree(api, user):
    r = create(api, user, item(idempotencyKey="a"), {"Idempotency-Key": "b"})
    assert r.status == 400


# ---------------------------------------------------------------- listing


def test_list_with_every_filter_across_pages(api, user):
    name, h = user
    made = []
    for n in range(24):
        season = ["winter", "summer", "spring"][n % 3]
        category = "shoes" if n % 2 else "coats"
        body = item(f"it-{n:02d}", season=season, category=category)
        assert create(api, user, body).status == 201
        made.append(body)
        time.sleep(0.002)  # distinct timestamps make "newest first" observable

    def walk(query, limit):
        seen, cursor, pages = [], None, 0
        while True:
            q = f"{query}&limit={limit}" + (f"&cursor={cursor}" if cursor else "")
            r = http("GET", f"{api}/users/{name}/items?{q}", h)
            assert r.status == 200, r
            page = r.json()
            seen += page["items"]
            pages += 1
            if not page["hasMore"]:
                assert page["nextCursor"] is None
                return seen, pages
            assert len(page["items"]) == limit  # FIX: full pages despite the filter
            cursor = page["nextCursor"]

    for query, want in [
        ("season=winter&category=shoes", [b for b in made if b["season"] == "winter" and b["category"] == "shoes"]),
        ("category=coats", [b for b in made if b["category"] == "coats"]),
        ("season=SUMMER", [b for b in made if b["season"] == "summer"]),
        ("", made),
    ]:
        seen, pages = walk(query, 3)
        ids = [i["itemId"] for i in seen]
        assert ids == [b["itemId"] for b in reversed(want)], query  # newest first, no gaps, no repeats
        assert pages == max(1, -(-len(want) // 3)), query


def test_limit_is_clamped_and_validated(api, user):
    name, h = user
    for n in range(3):
        create(api, user, item(f"c-{n}"))
    for zero_or_less in ("0", "-1", "-0"):  # Wdrbe's reading: no usable limit → the default page of 20
        assert len(http("GET", f"{api}/users/{name}/items?limit={zero_or_less}", h).json()["items"]) == 3
    assert len(http("GET", f"{api}/users/{name}/items?limit=2", h).json()["items"]) == 2
    assert http("GET", f"{api}/users/{name}/items?limit=1000", h).status == 200
    for not_a_number in ("ten", "1.5", "--1", "-", "1e3"):
        assert http("GET", f"{api}/users/{name}/items?limit={not_a_number}", h).status == 400, not_a_number
    assert http("GET", f"{api}/users/{name}/items?season=monsoon", h).status == 400


def test_cursors_are_tamper_evident(api, server, user):
    name, h = user
    for n in range(4):
        create(api, user, item(f"t-{n}"))
    cursor = http("GET", f"{api}/users/{name}/items?limit=2", h).json()["nextCursor"]
    assert cursor
    body, mac = cursor.split(".")
    flipped = body[:-1] + ("A" if body[-1] != "A" else "B") + "." + mac
    assert http("GET", f"{api}/users/{name}/items?limit=2&cursor={flipped}", h).status == 400
    assert http("GET", f"{api}/users/{name}/items?limit=2&cursor=garbage", h).status == 400
    assert http("GET", f"{api}/users/{name}/items?limit=2&category=x&cursor={cursor}", h).status == 400
    other = "o" + uuid.uuid4().hex[:8]
    oh = {"Authorization": f"Bearer {mint(server, other)}"}
    r = http("GET", f"{api}/users/{other}/items?limit=2&cursor={cursor}", oh)
    assert r.status == 400 and "another user" in r.json()["message"]
    assert http("GET", f"{api}/users/{name}/items?limit=2&cursor={cursor}", h).status == 200


# ---------------------------------------------------------------- sharing and activities


def wait_for(check, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_share_goes_through_the_queue_to_the_worker(api, user):
    name, h = user
    body = item()
    create(api, user, body)
    r = http("POST", f"{api}/items/{body['itemId']}/share", h)
    assert r.status == 202
    assert r.json()["itemId"] == body["itemId"] and r.json()["status"] == "queued" and r.json()["eventId"]

    def shared():
        items = http("GET", f"{api}/users/{name}/items", h).json()["items"]
        return next((i for i in items if i["itemId"] == body["itemId"] and i["sharedCount"] == 1), None)

    got = wait_for(shared)
    assert got["isPublic"] is True and got["updatedAt"] > got["createdAt"]
    acts = http("GET", f"{api}/users/{name}/activities", h).json()["items"]
    assert [a["type"] for a in acts] == ["ItemShared", "ItemCreated"]
    assert acts[0]["requestId"] == r.json()["eventId"]


def test_a_page_walk_sees_every_item_once_while_items_are_shared(api, user):
    """Shares bump `updatedAt`; the listing order (newest created first) and the cursors must not
    move, or an item shared behind a walking client's cursor would jump ahead of it and be lost."""
    name, h = user
    made = [item(f"w-{n}") for n in range(6)]
    for body in made:
        assert create(api, user, body).status == 201
        time.sleep(0.002)
    first = http("GET", f"{api}/users/{name}/items?limit=2", h).json()
    seen = [i["itemId"] for i in first["items"]]
    for body in made[:2] + made[-1:]:  # the two oldest (not yet seen) and one already seen
        assert http("POST", f"{api}/items/{body['itemId']}/share", h).status == 202
    wait_for(lambda: sum(i["sharedCount"] for i in http("GET", f"{api}/users/{name}/items", h).json()["items"]) == 3)
    cursor = first["nextCursor"]
    while cursor:
        page = http("GET", f"{api}/users/{name}/items?limit=2&cursor={cursor}", h).json()
        seen += [i["itemId"] for i in page["items"]]
        cursor = page["nextCursor"]
    assert seen == [b["itemId"] for b in reversed(made)]


def test_two_shares_count_twice(api, user):
    name, h = user
    body = item()
    create(api, user, body)
    for _ in range(2):
        assert http("POST", f"{api}/items/{body['itemId']}/share", h).status == 202
    wait_for(lambda: any(i["sharedCount"] == 2 for i in http("GET", f"{api}/users/{name}/items", h).json()["items"]))


def test_share_errors(api, server, user):
    name, h = user
    assert http("POST", f"{api}/items/nope-{uuid.uuid4().hex}/share", h).status == 404
    body = item()
    create(api, user, body)
    other = "o" + uuid.uuid4().hex[:8]
    r = http("POST", f"{api}/items/{body['itemId']}/share", {"Authorization": f"Bearer {mint(server, other)}"})
    assert r.status == 403
    assert http("POST", f"{api}/items/{body['itemId']}/share").status == 401


def test_activities_page_newest_first(api, user):
    name, h = user
    for n in range(5):
        create(api, user, item(f"a-{n}"))
    seen, cursor = [], None
    while True:
        r = http("GET", f"{api}/users/{name}/activities?limit=2" + (f"&cursor={cursor}" if cursor else ""), h).json()
        seen += [a["itemId"] for a in r["items"]]
        cursor = r["nextCursor"]
        if not r["hasMore"]:
            break
    assert seen == [f"a-{n}" for n in reversed(range(5))]


def test_unknown_route_and_method(api, user):
    name, h = user
    assert http("GET", f"{api}/nope", h).status == 404
    r = http("DELETE", f"{api}/users/{name}/items", h)
    assert r.status == 405 and "GET" in r.headers["allow"]
