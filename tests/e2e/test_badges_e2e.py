"""The badges service end to end: `lambdasmith serve` in a subprocess, fake NuGet and GitHub
upstreams on loopback, every route and every error of the spec over real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from lambdasmith.badges.signature import sign_v1, sign_v2
from tests.support.serving import Served, http
from tests.support.upstreams import FakeGitHub, FakeNuGet

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
SECRET = "test-data-secret-ü"  # non-ASCII on purpose: the key is its UTF-8 bytes
V2_SECRET = "v2-only-secret"
TOKEN = "ghp_faketoken"
BADGE_CACHE = "public, s-maxage=600, max-age=300, stale-while-revalidate=1200, stale-if-error=3600"
TEST_CACHE = "public, s-maxage=30, max-age=30, stale-while-revalidate=30, stale-if-error=3600"

NUGET = {
    "Newtonsoft.Json": ["12.0.3", "13.0.1", "13.0.2-beta.1", "13.0.3", "14.0.0-preview.1"],
    "Flaky.Pkg": ["1.0.0"],
}
GITHUB_VERSIONS = [f"1.{i}.0" for i in range(249)] + ["2.0.0"]  # 250 versions: the newest on page 3


def lambdasmith(*args: str, data_dir: str, env: dict | None = None, input: str | None = None):
    return subprocess.run([sys.executable, "-m", "lambdasmith", *args, "--data-dir", data_dir],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, input=input)


def register_orgs(data_dir: str, env: dict | None = None) -> None:
    """The orgs every e2e test uses, registered through the operator command."""
    for args in (["acme", "--type", "testdata", "--secret", SECRET],
                 ["acme", "--type", "package", "--secret", TOKEN],
                 ["strict", "--type", "testdata", "--secret", V2_SECRET, "--v2-only"]):
        r = lambdasmith("badges", "register-org", *args, "--allow-weak", data_dir=data_dir, env=env)
        assert r.returncode == 0, r.stderr


@pytest.fixture(scope="module")
def upstreams():
    nuget = FakeNuGet(NUGET).start()
    github = FakeGitHub({"acme": {"Acme.Lib": GITHUB_VERSIONS}}, {"acme": TOKEN}).start()
    yield nuget, github
    nuget.stop()
    github.stop()


@pytest.fixture(scope="module")
def server(upstreams, tmp_path_factory):
    nuget, github = upstreams
    data = str(tmp_path_factory.mktemp("badges-data"))
    register_orgs(data)
    env = {"NUGET_BASE_URL": nuget.url, "GITHUB_API_URL": github.url, "BADGES_UPSTREAM_CACHE_TTL": "0"}
    served = Served(data, ["badges"], env).start()
    yield served
    served.stop()


@pytest.fixture
def base(server):
    return server.urls["badges"]



def now_iso(delta: float = 0) -> str:
    t = datetime.now(timezone.utc) + timedelta(seconds=delta)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def payload(passed=10, failed=0, skipped=0, ts=None, **over):
    body = {
        "platform": "linux", "passed": passed, "failed": failed, "skipped": skipped,
        "total": sum(x for x in (passed, failed, skipped) if type(x) is int), "url_html": "https://ci.example/runs/1",
        "timestamp": ts or now_iso(), "commit": "abc123", "run_id": str(uuid.uuid4()),
        "workflow_run_url": "https://ci.example/runs/1/workflow",
    }
    body.update(over)
    return json.dumps(body).encode()


def post(base, path, body: bytes, secret=SECRET, nonce=None, ts=None, version=1, headers=None, sig=None):
    nonce = nonce or str(uuid.uuid4())
    ts = ts or now_iso()
    h = {"Content-Type": "application/json", "X-Nonce": nonce, "X-Timestamp": ts}
    if version == 2:
        h["X-Signature-Version"] = "2"
        h["X-Signature"] = sig or sign_v2(secret, "POST", path, ts, nonce, body)
    else:
        h["X-Signature"] = sig or sign_v1(secret, body)
    h.update(headers or {})
    return http("POST", base + path, h, body)


def fresh_branch() -> str:
    return "b-" + uuid.uuid4().hex[:8]


# ---------------------------------------------------------------- health, routing, CORS


def test_health(base):
    r = http("GET", base + "/health")
    assert r.status == 200 and r.json()["status"] == "Healthy"
    datetime.fromisoformat(r.json()["time_stamp"].replace("Z", "+00:00"))
    assert r.headers["cache-control"] == "no-store, no-cache, must-revalidate"
    assert r.headers["pragma"] == "no-cache" and r.headers["expires"] == "0"


def test_unknown_path_404_and_wrong_method_405(base):
    r = http("GET", base + "/nope")
    assert r.status == 404 and "message" in r.json()
    r = http("DELETE", base + "/health")
    assert r.status == 405 and r.headers["allow"] == "GET, HEAD, OPTIONS"
    r = http("PUT", base + "/tests/results/linux/acme/repo/main", body=b"{}")
    assert r.status == 405 and "POST" in r.headers["allow"] and "GET" in r.headers["allow"]


def test_cors_preflight(base):
    r = http("OPTIONS", base + "/tests/results/linux/acme/repo/main",
             {"Origin": "https://x", "Access-Control-Request-Method": "POST",
              "Access-Control-Request-Headers": "content-type, x-signature, x-evil, X-Nonce, x-timestamp"})
    assert r.status == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-headers"] == "content-type, x-signature, x-nonce, x-timestamp"
    assert set(r.headers["access-control-allow-methods"].split(", ")) >= {"GET", "POST", "OPTIONS"}
    assert r.headers["access-control-max-age"] == "3600"


def test_malformed_percent_encoding_is_400(base):
    assert http("GET", base + "/badges/packages/nuget/%ff%fe").status == 400


# ---------------------------------------------------------------- NuGet badges


def test_nuget_badge_latest_stable(base):
    r = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json")
    assert r.status == 200, r
    assert r.json() == {"schemaVersion": 1, "label": "nuget", "message": "13.0.3", "color": "blue", "namedLogo": "nuget"}
    assert r.headers["cache-control"] == BADGE_CACHE
    assert r.headers["etag"].startswith('"') and len(r.headers["etag"]) == 66
    assert r.headers["content-type"].startswith("application/json")


def test_nuget_badge_304_on_if_none_match(base):
    r = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json")
    again = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json", {"If-None-Match": f'"x", W/{r.headers["etag"]}'})
    assert again.status == 304 and again.body == b""
    assert again.headers["etag"] == r.headers["etag"] and again.headers["cache-control"] == BADGE_CACHE
    star = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json", {"If-None-Match": "*"})
    assert star.status == 304


@pytest.mark.parametrize("query,message,color", [
    ("prerelease=true", "14.0.0-preview.1", "orange"),
    ("prerelease=TRUE", "14.0.0-preview.1", "orange"),
    ("prerelease=yes", "13.0.3", "blue"),
    ("version=%5B12.0%2C13.0.3%29", "13.0.1", "blue"),  # [12.0,13.0.3)
    ("version=12.*", "12.0.3", "blue"),
    ("version=%5B13.0.1%5D", "13.0.1", "blue"),
    ("version=13.0.2-beta.1&prerelease=true", "14.0.0-preview.1", "orange"),
])
def test_nuget_ranges_and_prerelease(base, query, message, color):
    r = http("GET", base + f"/badges/packages/nuget/newtonsoft.json?{query}")
    assert r.status == 200, r
    assert (r.json()["message"], r.json()["color"]) == (message, color)


def test_nuget_errors(base):
    r = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json?version=%5B1.0")
    assert r.status == 400 and r.json()["error_details"][0]["error_code"] == "PACKAGE_RANGE_INVALID"
    assert r.json()["error_details"][0]["property_name"] == "versionRange"  # BadgeSmith's name
    r = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json?version=%281.0%2C1.0%29")  # (1.0,1.0)
    assert r.status == 404 and r.json()["error_details"][0]["error_code"] == "VERSION_NOT_FOUND"  # valid, empty
    r = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json?version=%20%20")  # blank: no range
    assert r.status == 200 and r.json()["message"] == "13.0.3"
    assert http("GET", base + "/badges/packages/nuget/No.Such.Package").status == 404
    r = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json?version=%5B99.0%2C%29")
    assert r.status == 404
    r = http("GET", base + "/badges/packages/nuget/acme/Newtonsoft.Json")
    assert r.status == 400 and r.json()["error_details"][0]["error_code"] == "ORG_NOT_APPLICABLE"
    r = http("GET", base + "/badges/packages/npm/left-pad")
    assert r.status == 400 and r.json()["error_details"][0]["error_code"] == "INVALID_PROVIDER"


def test_literal_segments_are_case_insensitive(base):
    r = http("GET", base + "/BADGES/Packages/NuGet/Newtonsoft.Json")
    assert r.status == 200 and r.json()["message"] == "13.0.3"


def test_head_has_headers_but_no_body(base):
    r = http("HEAD", base + "/badges/packages/nuget/Newtonsoft.Json")
    assert r.status == 200 and r.body == b"" and r.headers["etag"]


def test_stale_if_error_then_502_without_cache(base, upstreams):
    nuget, _ = upstreams
    assert http("GET", base + "/badges/packages/nuget/Flaky.Pkg").status == 200  # now cached
    nuget.set_failure(500)
    try:
        stale = http("GET", base + "/badges/packages/nuget/Flaky.Pkg")
        assert stale.status == 200 and stale.json()["message"] == "1.0.0"
        assert "max-age=60" in stale.headers["cache-control"]  # look again soon
        never_cached = http("GET", base + "/badges/packages/nuget/Never.Cached")
        assert never_cached.status == 502 and "message" in never_cached.json()
    finally:
        nuget.set_failure(None)


# ---------------------------------------------------------------- GitHub badges


def test_github_badge_follows_pagination(base, upstreams):
    _, github = upstreams
    r = http("GET", base + "/badges/packages/github/Acme/Acme.Lib")
    assert r.status == 200, r
    assert r.json() == {"schemaVersion": 1, "label": "github", "message": "2.0.0", "color": "green", "namedLogo": "github"}
    auth = [e["headers"].get("authorization") for e in github.state()["log"]]
    assert auth and all(a == f"Bearer {TOKEN}" for a in auth)


def test_github_errors(base):
    r = http("GET", base + "/badges/packages/github/Acme.Lib")
    assert r.status == 400 and r.json()["error_details"][0]["error_code"] == "ORG_REQUIRED"
    assert http("GET", base + "/badges/packages/github/unknown-org/Acme.Lib").status == 401
    assert http("GET", base + "/badges/packages/github/acme/No.Such").status == 404


# ---------------------------------------------------------------- ingestion


# BadgeSmith's own ingestion script, unmodified, read from its repository at test time (never
# copied into ours): a snapshot where the project's tools keep it, or LAMBDASMITH_BADGESMITH_REPO.
BADGESMITH_REPO = Path(os.environ.get("LAMBDASMITH_BADGESMITH_REPO")
                       or HERE.parents[2] / ".mirror" / "localstack-dotnet+badge-smith" / "repo")  # fmt: skip


def badgesmith_file(path: str) -> str | None:
    for where in (["--git-dir", str(BADGESMITH_REPO)], ["-C", str(BADGESMITH_REPO)]):
        done = subprocess.run(["git", *where, "show", f"HEAD:{path}"], capture_output=True, text=True)
        if done.returncode == 0:
            return done.stdout
    return None


def test_badgesmiths_own_ingestion_script_posts_unmodified(base, tmp_path):
    script = badgesmith_file("scripts/test-ingestion.sh")
    if script is None:
        pytest.skip(f"BadgeSmith's repository is not at {BADGESMITH_REPO} (set LAMBDASMITH_BADGESMITH_REPO)")
    (tmp_path / "test-ingestion.sh").write_text(script)
    branch = fresh_branch().lower()  # the script lower-cases the path's parts itself
    body = tmp_path / "payload.json"
    body.write_bytes(payload(passed=12, failed=1))
    done = subprocess.run(["bash", str(tmp_path / "test-ingestion.sh"), "--base-url", base, "--owner", "Acme",
                           "--repo", "Gadgets", "--platform", "Linux", "--branch", branch, "--secret", SECRET,
                           "--payload-file", str(body)], cwd=tmp_path, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "(HTTP 201)" in done.stdout
    badge = http("GET", base + f"/badges/tests/linux/acme/gadgets/{branch}")
    assert badge.status == 200 and badge.json()["message"] == "12 passed, 1 failed"


def test_ingest_signed_like_badgesmith_then_badge_and_redirect(base, tmp_path):
    branch = fresh_branch()
    body = tmp_path / "body.json"
    body.write_bytes(payload(passed=40, failed=2, skipped=1, url_html="https://ci.example/run/77"))
    url = base + f"/tests/results/linux/acme/widgets/{branch}"
    out = subprocess.run([str(HERE / "sign_like_badgesmith.sh"), url, SECRET, str(body)], capture_output=True, text=True)
    assert out.stdout == "201", out.stderr
    created = json.loads(out.stderr)
    assert created["repository"] == f"acme/widgets/linux/{branch}"
    assert created["test_result_id"] == json.loads(body.read_bytes())["run_id"]

    badge = http("GET", base + f"/badges/tests/linux/acme/widgets/{branch}")
    assert badge.status == 200
    assert badge.json() == {"schemaVersion": 1, "label": "tests", "message": "40 passed, 2 failed", "color": "yellow"}
    assert badge.headers["cache-control"] == TEST_CACHE and badge.headers["last-modified"].endswith("GMT")

    redirect = http("GET", base + f"/redirect/test-results/linux/acme/widgets/{branch}")
    assert redirect.status == 302 and redirect.headers["location"] == "https://ci.example/run/77"
    assert redirect.headers["cache-control"] == TEST_CACHE and redirect.headers["etag"]


@pytest.mark.parametrize("passed,failed,message,color", [
    (12, 0, "12 passed", "brightgreen"),
    (3, 5, "5 failed", "red"),
    (5, 5, "5 passed, 5 failed", "yellow"),
])
def test_test_badge_colors(base, passed, failed, message, color):
    branch = fresh_branch()
    path = f"/tests/results/linux/acme/colors/{branch}"
    assert post(base, path, payload(passed, failed)).status == 201
    r = http("GET", base + f"/badges/tests/linux/acme/colors/{branch}").json()
    assert (r["message"], r["color"]) == (message, color)


def test_latest_is_highest_timestamp_and_history_pages(base):
    branch = fresh_branch()
    path = f"/tests/results/linux/acme/hist/{branch}"
    stamps = ["2026-01-0%dT10:00:00Z" % d for d in (3, 1, 5, 2, 4)]
    for i, ts in enumerate(stamps):
        assert post(base, path, payload(passed=i, ts=ts)).status == 201
    latest = http("GET", base + path).json()
    assert latest["timestamp"].startswith("2026-01-05") and latest["passed"] == 2
    seen, cursor = [], None
    while True:
        r = http("GET", base + path + "/history?limit=2" + (f"&cursor={cursor}" if cursor else ""))
        assert r.status == 200
        seen += [i["timestamp"][:10] for i in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == ["2026-01-05", "2026-01-04", "2026-01-03", "2026-01-02", "2026-01-01"]
    assert http("GET", base + path + "/history?cursor=garbage").status == 400


def test_timestamps_with_offsets_are_normalised(base):
    branch = fresh_branch()
    path = f"/tests/results/linux/acme/tz/{branch}"
    assert post(base, path, payload(passed=1, ts="2026-03-01T12:00:00+02:00")).status == 201  # 10:00Z
    assert post(base, path, payload(passed=2, ts="2026-03-01T11:00:00Z")).status == 201
    assert http("GET", base + path).json()["passed"] == 2
    # the same instant written another way is the same result
    r = post(base, path, payload(passed=3, ts="2026-03-01T13:00:00+02:00"))
    assert r.status == 409 and r.json()["error_details"][0]["error_code"] == "DUPLICATE_TEST_RESULT"


def test_case_insensitive_and_encoded_branch(base):
    path = "/tests/results/Linux/ACME/Widgets/Feature%2FMixed"
    assert post(base, path, payload(passed=7)).status == 201
    for url in ("/badges/tests/linux/acme/widgets/feature%2Fmixed", "/badges/tests/LINUX/Acme/WIDGETS/FEATURE%2FMIXED"):
        r = http("GET", base + url)
        assert r.status == 200 and r.json()["message"] == "7 passed", url
    assert http("GET", base + "/tests/results/linux/acme/widgets/feature%2Fmixed").json()["repository"] == \
        "acme/widgets/linux/feature/mixed"


def test_replayed_nonce_is_rejected(base):
    path = f"/tests/results/linux/acme/replay/{fresh_branch()}"
    nonce = str(uuid.uuid4())
    assert post(base, path, payload(), nonce=nonce).status == 201
    r = post(base, path, payload(), nonce=nonce)
    assert r.status == 400 and r.json()["error_details"][0]["error_code"] == "NONCE_ALREADY_USED"


def test_unsigned_request_cannot_burn_a_nonce(base):
    path = f"/tests/results/linux/acme/burn/{fresh_branch()}"
    nonce = str(uuid.uuid4())
    body = payload()
    assert post(base, path, body, nonce=nonce, sig="sha256=" + "0" * 64).status == 401
    assert post(base, path, body, nonce=nonce).status == 201


def test_tampered_body_is_401(base):
    path = f"/tests/results/linux/acme/tamper/{fresh_branch()}"
    body = payload(passed=1, failed=9)
    sig = sign_v1(SECRET, body)
    forged = body.replace(b'"failed": 9', b'"failed": 0').replace(b'"passed": 1', b'"passed": 10')
    assert forged != body
    assert post(base, path, forged, sig=sig).status == 401
    assert post(base, path, body, sig=sig.upper().replace("SHA256=", "SHA256=")).status == 201  # hex case-insensitive


# The clock is read when the test runs, not at collection: minutes can pass in between.
@pytest.mark.parametrize("ts", [lambda: now_iso(-6 * 60), lambda: now_iso(+2 * 60), "yesterday", "2026-13-45T99:00:00Z",
                                "2026-01-01"], ids=["6-minutes-ago", "2-minutes-ahead", "yesterday", "2026-13-45T99:00:00Z",
                                                    "2026-01-01"])  # fmt: skip
def test_timestamp_window(base, ts):
    r = post(base, f"/tests/results/linux/acme/window/{fresh_branch()}", payload(), ts=ts() if callable(ts) else ts)
    assert r.status == 400 and r.json()["error_details"][0]["error_code"] == "INVALID_TIMESTAMP"


@pytest.mark.parametrize("missing", ["X-Signature", "X-Timestamp", "X-Nonce"])
def test_missing_header_is_400(base, missing):
    body = payload()
    h = {"X-Signature": sign_v1(SECRET, body), "X-Timestamp": now_iso(), "X-Nonce": str(uuid.uuid4())}
    del h[missing]
    r = http("POST", base + f"/tests/results/linux/acme/hdr/{fresh_branch()}", h, body)
    assert r.status == 400 and r.json()["error_details"][0]["property_name"] == missing


def test_unknown_org_is_401(base):
    assert post(base, "/tests/results/linux/nobody/repo/main", payload()).status == 401


@pytest.mark.parametrize("body", [b"{not json", b"\xff\xfe\x00garbage", b""])
def test_signed_invalid_json_is_400(base, body):
    r = post(base, f"/tests/results/linux/acme/badjson/{fresh_branch()}", body)
    assert r.status == 400 and r.json()["error_details"][0]["error_code"] == "INVALID_JSON"


@pytest.mark.parametrize("change,field", [
    ({"passed": -1}, "passed"), ({"passed": "10"}, "passed"), ({"failed": 1.5}, "failed"),
    ({"skipped": True}, "skipped"), ({"total": 99}, "total"), ({"platform": "  "}, "platform"),
    ({"url_html": "javascript:alert(1)"}, "url_html"), ({"workflow_run_url": "/relative"}, "workflow_run_url"),
    ({"timestamp": "soon"}, "timestamp"), ({"commit": None}, "commit"), ({"run_id": 5}, "run_id"),
    ({"passed": 2**40, "total": 2**40}, "passed"),
])
def test_invalid_payload_names_the_field(base, change, field):
    r = post(base, f"/tests/results/linux/acme/badpay/{fresh_branch()}", payload(**change))
    assert r.status == 400, r
    detail = r.json()["error_details"][0]
    assert (detail["error_code"], detail["property_name"]) == ("INVALID_TEST_PAYLOAD", field)


def test_json_array_body_is_invalid_payload(base):
    r = post(base, f"/tests/results/linux/acme/arr/{fresh_branch()}", b"[1,2]")
    assert r.status == 400 and r.json()["error_details"][0]["error_code"] == "INVALID_TEST_PAYLOAD"


def test_70_kib_body_is_413(base):
    body = payload(commit="x" * 70 * 1024)
    r = post(base, f"/tests/results/linux/acme/big/{fresh_branch()}", body)
    assert r.status == 413


def test_32_concurrent_requests_with_one_nonce_store_exactly_one(base):
    path = f"/tests/results/linux/acme/race/{fresh_branch()}"
    nonce = str(uuid.uuid4())
    bodies = [payload(passed=i, ts=f"2026-02-01T00:00:{i:02d}Z") for i in range(32)]
    with ThreadPoolExecutor(32) as pool:
        replies = list(pool.map(lambda b: post(base, path, b, nonce=nonce), bodies))
    statuses = sorted(r.status for r in replies)
    assert statuses.count(201) == 1, statuses
    assert statuses.count(400) == 31
    history = http("GET", base + path + "/history?limit=100").json()["items"]
    assert len(history) == 1


def test_no_5xx_under_garbage(base):
    cases = [
        ("POST", "/tests/results/linux/acme/x/main", {"X-Signature": "garbage", "X-Timestamp": now_iso(), "X-Nonce": "n"}, b"{}"),
        ("POST", "/tests/results/linux/acme/x/main", {"X-Signature": "sha256=zz", "X-Timestamp": "\u00e9t\u00e9".encode().decode("latin-1"), "X-Nonce": "n"}, b"{}"),
        ("GET", "/badges/tests/linux/acme/x/" + "a" * 3000, {}, None),
        ("GET", "/badges/packages/nuget/x?version=" + "%5B" * 500, {}, None),
        ("GET", "/badges/packages/nuget/%00", {}, None),
        ("GET", "/tests/results/linux/acme/x/main/history?limit=abc", {}, None),
        ("GET", "/tests/results/linux/acme/x/main/history?limit=-5", {}, None),
    ]
    for method, path, headers, body in cases:
        r = http(method, base + path, headers, body)
        assert 400 <= r.status < 500, (path, r)


# ---------------------------------------------------------------- signature v2


def test_signature_v2_accepted_and_bound_to_path(base):
    branch = fresh_branch()
    path = f"/tests/results/linux/strict/lib/{branch}"
    assert post(base, path, payload(), secret=V2_SECRET, version=2).status == 201
    # a captured v2 request replayed onto another branch fails: the path is under the MAC
    body, nonce, ts = payload(), str(uuid.uuid4()), now_iso()
    sig = sign_v2(V2_SECRET, "POST", path, ts, nonce, body)
    other = f"/tests/results/linux/strict/lib/{branch}-other"
    assert post(base, other, body, secret=V2_SECRET, version=2, nonce=nonce, ts=ts, sig=sig).status == 401
    # v2-only orgs refuse v1
    assert post(base, path, payload(), secret=V2_SECRET, version=1).status == 401
    # orgs that are not v2-only accept both
    assert post(base, f"/tests/results/linux/acme/v2/{branch}", payload(), version=2).status == 201


# ---------------------------------------------------------------- SVG


def svg_width(svg: bytes) -> float:
    return float(ET.fromstring(svg).get("width"))


def test_badge_as_svg_by_suffix_and_accept(base):
    r = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json.svg")
    assert r.status == 200 and r.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(r.body)
    assert root.tag.endswith("svg") and "13.0.3" in r.body.decode()
    by_accept = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json", {"Accept": "image/svg+xml"})
    assert by_accept.body == r.body and by_accept.headers["vary"] == "Accept"


def test_svg_overrides_and_escaping(base):
    r = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json.svg?style=for-the-badge&label=%3Cb%3E%26&color=ff00aa")
    assert r.status == 200
    text = r.body.decode()
    ET.fromstring(r.body)  # still well-formed with markup in the label
    assert "<b>" not in text and "#ff00aa" in text.lower()
    flat = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json.svg")
    assert svg_width(r.body) != svg_width(flat.body)
    bogus = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json.svg?style=bogus&color=notacolor")
    assert bogus.status == 200 and bogus.body == flat.body  # defaults, not a broken image


@pytest.mark.parametrize("label", ["tests", "build status", "WWW iii", "café ünïcode", "测试", "a&b<c>"])
@pytest.mark.parametrize("style", ["flat", "flat-square", "plastic", "for-the-badge", "social"])
def test_served_svg_equals_badge_makers(base, label, style):
    """The image the server sends is the one shields.io's badge-maker draws for the same badge
    (with the NuGet logo a NuGet badge carries, as shields.io would draw it)."""
    import shutil
    from urllib.parse import quote

    from lambdasmith.badges import logos

    node_modules = Path(__file__).resolve().parents[2] / ".cache" / "node" / "node_modules"
    if os.environ.get("LAMBDASMITH_SKIP_NODE") == "1":
        pytest.skip("LAMBDASMITH_SKIP_NODE=1")
    assert shutil.which("node") and (node_modules / "badge-maker").is_dir(), "run `make node-tools`"
    served = http("GET", base + f"/badges/packages/nuget/Newtonsoft.Json.svg?style={style}&label={quote(label)}")
    assert served.status == 200
    spec = {"label": label, "message": "13.0.3", "color": "blue", "style": style}
    spec["logoBase64"] = logos.logo_data_uri("nuget", None, style=style)
    oracle = subprocess.run(["node", str(HERE.parent / "node" / "badge_oracle.mjs"), str(node_modules)],
                            input=json.dumps({"badges": [spec]}), capture_output=True, text=True, timeout=60)
    assert oracle.returncode == 0, oracle.stderr
    assert served.body.decode() == json.loads(oracle.stdout)["badges"][0]


@pytest.mark.parametrize("encode", [False, True], ids=["as-written", "percent-encoded"])
def test_a_custom_logo_reaches_the_image_written_either_way(base, encode):
    """`logo=data:image/svg+xml;base64,…` in a README is often not percent-encoded; its `+`
    signs then arrive as spaces, which shields.io reads back, and so do we."""
    import base64
    from urllib.parse import quote

    image = base64.b64encode(b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><path d="M0 0h24v24H0z"/>'
                             b"<!-- ~~~~~~>>> -->" * 3 + b"</svg>").decode()  # fmt: skip
    uri = "data:image/svg+xml;base64," + image
    assert "+" in image  # the case the spaces break
    r = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json.svg?logo=" + (quote(uri, safe="") if encode else uri))
    assert r.status == 200
    assert [i.get("href") for i in ET.fromstring(r.body).iter("{http://www.w3.org/2000/svg}image")] == [uri]


def test_svg_error_badge(base):
    r = http("GET", base + "/badges/tests/linux/acme/none/nothing.svg")
    assert r.status == 404 and r.headers["content-type"].startswith("image/svg+xml")
    assert ET.fromstring(r.body).get("aria-label") == "tests: no results"


@pytest.mark.parametrize(("path", "label", "message"), [
    ("/badges/packages/nuget/No.Such.Pkg", "nuget", "not found"),
    ("/badges/packages/nuget/Newtonsoft.Json?version=%5B99.0%2C%5D", "nuget", "no matching version"),
    ("/badges/packages/nuget/Newtonsoft.Json?version=%5B2.0%2C1.0%5D", "nuget", "invalid range"),
    ("/badges/packages/github/nobody/Some.Pkg", "github", "no token"),
    ("/badges/tests/linux/acme/none/nothing", "tests", "no results"),
])
def test_error_badges_say_what_failed_with_their_own_label(base, path, label, message):
    svg_path = path.replace("?", ".svg?", 1) if "?" in path else path + ".svg"
    image = http("GET", base + svg_path)
    assert image.status >= 400 and ET.fromstring(image.body).get("aria-label") == f"{label}: {message}"
    plain = http("GET", base + path)
    assert plain.status == image.status and "error_details" in plain.json()  # BadgeSmith's error body, unchanged
    sep = "&" if "?" in path else "?"
    shields = http("GET", base + path + sep + "shields=1")
    assert shields.status == 200 and shields.headers["cache-control"] == "public, max-age=60"
    assert shields.json() == {"schemaVersion": 1, "label": label, "message": message,
                              "color": "lightgrey" if image.status == 404 else "red", "isError": True}


def test_test_badge_formats_and_no_tests(base):
    branch = fresh_branch()
    path = f"/tests/results/linux/acme/formats/{branch}"
    assert post(base, path, payload(37, 3, 2)).status == 201
    badge = f"/badges/tests/linux/acme/formats/{branch}"
    assert http("GET", base + badge + "?format=percent").json()["message"] == "92%, 2 skipped"
    assert http("GET", base + badge + "?format=full").json()["message"] == "37 passed, 3 failed, 2 skipped"
    assert http("GET", base + badge + "?format=nonsense").json()["message"] == "37 passed, 3 failed"
    empty = fresh_branch()
    assert post(base, f"/tests/results/linux/acme/formats/{empty}", payload(0, 0, 4)).status == 201
    r = http("GET", base + f"/badges/tests/linux/acme/formats/{empty}").json()
    assert (r["message"], r["color"]) == ("no tests, 4 skipped", "lightgrey")


@pytest.mark.parametrize(("asked", "seconds"), [("600", 600), ("5", 30), ("999999", 86400)])
def test_cache_seconds_is_bounded_and_reaches_json_and_headers(base, asked, seconds):
    r = http("GET", base + f"/badges/packages/nuget/Newtonsoft.Json?cacheSeconds={asked}")
    assert r.status == 200 and r.json()["cacheSeconds"] == seconds
    assert r.headers["cache-control"] == (f"public, s-maxage={seconds}, max-age={seconds}, "
                                          f"stale-while-revalidate={seconds}, stale-if-error=3600")
    assert "cacheSeconds" not in http("GET", base + "/badges/packages/nuget/Newtonsoft.Json?cacheSeconds=x").json()


# ---------------------------------------------------------------- CI client and durability


def test_push_command_posts_junit_results(base, tmp_path):
    branch = fresh_branch()
    junit = tmp_path / "results.xml"
    junit.write_text(
        '<testsuites><testsuite name="s">'
        '<testcase name="a"/><testcase name="b"/><testcase name="c"><failure/></testcase>'
        '<testcase name="d"><skipped/></testcase></testsuite></testsuites>'
    )
    env = {"BADGES_URL": base, "BADGES_SECRET": SECRET, "GITHUB_REPOSITORY": "Acme/PushRepo",
           "GITHUB_REF_NAME": branch, "RUNNER_OS": "Linux", "GITHUB_SHA": "deadbeef", "GITHUB_RUN_ID": "42",
           "GITHUB_SERVER_URL": "https://github.com", "GITHUB_HEAD_REF": ""}
    for version in ("1", "2"):
        r = subprocess.run([sys.executable, "-m", "lambdasmith", "badges", "push", str(junit), "--signature-version", version],
                           capture_output=True, text=True, env={**os.environ, **env})
        if version == "1":
            assert r.returncode == 0, r.stderr
            assert SECRET not in r.stdout + r.stderr
        else:  # same run timestamp differs, so a second push is a new result
            assert r.returncode == 0, r.stderr
    badge = http("GET", base + f"/badges/tests/linux/acme/pushrepo/{branch}").json()
    assert badge["message"] == "2 passed, 1 failed"
    bad = subprocess.run([sys.executable, "-m", "lambdasmith", "badges", "push", str(junit)], capture_output=True,
                         text=True, env={**os.environ, **env, "BADGES_SECRET": "wrong"})
    assert bad.returncode == 1 and "Traceback" not in bad.stderr


def test_data_survives_restart(server):
    base = server.urls["badges"]
    branch = fresh_branch()
    assert post(base, f"/tests/results/linux/acme/durable/{branch}", payload(passed=5)).status == 201
    server.restart()
    base = server.urls["badges"]
    assert http("GET", base + f"/badges/tests/linux/acme/durable/{branch}").json()["message"] == "5 passed"


# ---------------------------------------------------------------- last: what the log holds


def test_no_secret_or_token_ever_reaches_the_log(server, base):
    """After every test above (good and bad signatures, GitHub badges with the org's token),
    neither the HMAC secrets nor the GitHub token appear in anything serve wrote."""
    bad = http("POST", base + "/tests/results/linux/acme/repo/main", body=b"{}",
               headers={"X-Signature": "sha256=" + "0" * 64, "X-Timestamp": now_iso(), "X-Nonce": uuid.uuid4().hex})  # fmt: skip
    assert bad.status in (400, 401)
    assert http("GET", base + "/badges/packages/github/acme/Acme.Lib").status == 200
    text = "".join(server.output)
    assert "access" in text  # the log is there to be read
    for secret in (SECRET, V2_SECRET, TOKEN):
        assert secret not in text and secret.encode("utf-8").hex() not in text
        assert secret not in bad.body.decode("utf-8", "replace")


@pytest.mark.parametrize("versions", [["1." + "9" * 5000], ["1.0.0-" + "9" * 5000], ["²"], ["x" * 100000]])
def test_an_upstream_index_with_absurd_versions_is_never_a_500(base, upstreams, versions):
    nuget, _ = upstreams
    name = f"Absurd.{uuid.uuid4().hex[:8]}"
    nuget.set_versions(name, versions)
    r = http("GET", base + f"/badges/packages/nuget/{name}")
    assert r.status in (200, 404, 502) and r.status != 500, r


def test_package_badges_carry_last_modified_and_revalidate_from_bare_or_upper_case_etags(base):
    first = http("GET", base + "/badges/packages/nuget/Newtonsoft.Json")
    assert first.status == 200 and first.headers["last-modified"].endswith(" GMT")
    tag = first.headers["etag"].strip('"')
    for sent in (tag, tag.upper(), f'"{tag.upper()}"', f'W/"{tag}"'):
        assert http("GET", base + "/badges/packages/nuget/Newtonsoft.Json", headers={"If-None-Match": sent}).status == 304, sent


def test_a_cors_preflight_varies_on_what_it_was_asked(base):
    r = http("OPTIONS", base + "/tests/results/linux/acme/repo/main",
             headers={"Origin": "https://ci.example", "Access-Control-Request-Method": "POST",
                      "Access-Control-Request-Headers": "x-signature"})  # fmt: skip
    assert r.status == 204
    assert {v.strip().lower() for v in r.headers["vary"].split(",")} >= {"access-control-request-method", "access-control-request-headers"}


@pytest.mark.parametrize("version", [1, 2])
def test_an_rfc_1123_x_timestamp_is_accepted_within_the_window(base, version):
    from email.utils import formatdate

    ts = formatdate(usegmt=True)  # "Thu, 03 Dec 2026 07:00:00 GMT"
    path = f"/tests/results/linux/acme/rfc1123/{fresh_branch()}"
    assert post(base, path, payload(), ts=ts, version=version).status == 201
    old = formatdate(datetime.now(timezone.utc).timestamp() - 3600, usegmt=True)
    assert post(base, path, payload(), ts=old, version=version).status == 400
