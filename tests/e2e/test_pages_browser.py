"""The badges service's pages in a real browser: headless Chromium (Debian's package) driven by
Playwright, against `lambdasmith serve` over HTTP with a fake NuGet on loopback.

Every page load watches the console, uncaught exceptions and dialogs: a CSP violation, a script
error or an `alert` from injected markup fails the test.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from lambdasmith.badges.signature import sign_v2
from tests.e2e.test_badges_e2e import lambdasmith
from tests.support.browser import chromium
from tests.support.serving import Served, http
from tests.support.upstreams import FakeNuGet

pytestmark = pytest.mark.e2e

SECRET = "browser-test-secret-with-enough-entropy-0123456789"
XSS_BRANCH = "<img src=x onerror=alert(1)>"
# A 404 answer is logged by Chromium as a failed resource load: expected where a test asks for a missing badge.
NOT_FOUND_LOG = "Failed to load resource: the server responded with a status of 404"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    nuget = FakeNuGet({"Newtonsoft.Json": ["12.0.3", "13.0.3", "14.0.0-beta.1"], "Serilog": ["4.1.0"]}).start()
    data = str(tmp_path_factory.mktemp("pages-data"))
    r = lambdasmith("badges", "register-org", "acme", "--type", "testdata", "--secret", SECRET, data_dir=data)
    assert r.returncode == 0, r.stderr
    served = Served(data, ["badges"], {"NUGET_BASE_URL": nuget.url, "BADGES_UPSTREAM_CACHE_TTL": "0"}).start()
    base = served.urls["badges"]
    start = datetime.now(timezone.utc) - timedelta(hours=12)
    for i, (passed, failed, skipped) in enumerate([(40, 0, 2), (38, 2, 2), (39, 1, 2), (42, 0, 1), (42, 0, 1)]):
        post_run(base, "linux", "web", "main", passed, failed, skipped, start + timedelta(hours=i))
    post_run(base, "windows", "web", "main", 41, 0, 0, start)
    post_run(base, "linux", "web", XSS_BRANCH, 1, 0, 0, start)
    yield served
    served.stop()
    nuget.stop()


def post_run(base, platform, repo, branch, passed, failed, skipped, when):
    path = "/tests/results/" + "/".join(quote(p, safe="") for p in (platform, "acme", repo, branch))
    body = json.dumps({
        "platform": platform, "passed": passed, "failed": failed, "skipped": skipped,
        "total": passed + failed + skipped, "commit": "9f2c1e4b7a6d", "run_id": str(uuid.uuid4())[:8],
        "timestamp": when.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "url_html": "https://ci.example/runs/1",
        "workflow_run_url": "https://ci.example/runs/1/workflow",
    }).encode()  # fmt: skip
    ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    nonce = uuid.uuid4().hex
    headers = {"Content-Type": "application/json", "X-Nonce": nonce, "X-Timestamp": ts, "X-Signature-Version": "2",
               "X-Signature": sign_v2(SECRET, "POST", path, ts, nonce, body)}
    r = http("POST", base + path, headers, body)
    assert r.status == 201, r


@pytest.fixture(scope="module")
def browser():
    with chromium() as context:
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        yield context


class Watched:
    """A page whose console errors, uncaught exceptions and dialogs are recorded."""

    def __init__(self, context):
        self.page = context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))

    def unexpected(self, allowed: str | None = None) -> list[str]:
        return [e for e in self.errors if not (allowed and e.startswith(allowed))]


@pytest.fixture
def watched(browser):
    w = Watched(browser)
    yield w
    w.page.close()


def loaded(img) -> bool:
    return img.evaluate("i => i.complete && i.naturalWidth > 0")


def test_the_preview_follows_typing_and_loads(server, watched):
    base = server.urls["badges"]
    page = watched.page
    page.goto(base + "/")
    preview = page.locator("#preview")
    page.get_by_label("Package").fill("Newtonsoft.Json")
    page.wait_for_function("() => document.getElementById('preview').src.includes('/Newtonsoft.Json.svg')")
    page.wait_for_function("() => { const i = document.getElementById('preview'); return i.complete && i.naturalWidth > 0 }")
    assert preview.get_attribute("alt") == "badge preview: nuget Newtonsoft.Json"
    markdown = page.locator("#out-markdown").input_value()
    assert markdown == (f"[![nuget Newtonsoft.Json]({base}/badges/packages/nuget/Newtonsoft.Json.svg)]"
                        "(https://www.nuget.org/packages/Newtonsoft.Json)")
    page.get_by_label("Style").select_option("for-the-badge")
    page.get_by_label("Include prereleases").check()
    page.wait_for_function("() => document.getElementById('preview').src.endsWith('?prerelease=true&style=for-the-badge')")
    page.wait_for_function("() => { const i = document.getElementById('preview'); return i.complete && i.naturalHeight === 28 }")
    page.get_by_role("button", name="Copy Markdown").click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.locator("#out-markdown").input_value() and "style=for-the-badge" in copied
    assert page.locator("#preview-message").inner_text() == ""
    assert "package=Newtonsoft.Json" in page.url  # the address keeps the form, to share or bookmark
    assert watched.unexpected() == [] and watched.dialogs == []


def test_an_error_shows_the_error_badge_and_a_sentence(server, watched):
    page = watched.page
    page.goto(server.urls["badges"] + "/")
    page.get_by_label("Package").fill("No.Such.Package")
    page.wait_for_function("() => document.getElementById('preview-message').textContent.includes('not found')")
    assert page.locator("#preview-message").inner_text() == "Package 'No.Such.Package' not found."
    page.wait_for_function("() => { const i = document.getElementById('preview'); return i.complete && i.naturalWidth > 0 }")
    page.get_by_label("Package").fill("Newtonsoft.Json")
    page.get_by_label("Version range (NuGet syntax)").fill("[2.0,1.0]")
    page.wait_for_function("() => document.getElementById('preview-message').textContent.startsWith('Invalid version range')")
    assert watched.unexpected(allowed="Failed to load resource: the server responded with a status of 40") == []


def test_test_badges_and_github_fields(server, watched):
    base = server.urls["badges"]
    page = watched.page
    page.goto(base + "/")
    assert not page.get_by_label("Organisation (GitHub)").is_visible()
    page.get_by_label("Provider").select_option("github")
    assert page.get_by_label("Organisation (GitHub)").is_visible()
    page.get_by_label("Badge", exact=True).select_option("trend")
    assert not page.get_by_label("Package").is_visible()
    for label, value in (("Platform", "linux"), ("Repository owner", "acme"), ("Repository", "web"), ("Branch", "main")):
        page.get_by_label(label, exact=True).fill(value)
    page.wait_for_function("() => document.getElementById('preview').src.endsWith('/badges/tests/linux/acme/web/main/trend.svg')")
    page.wait_for_function("() => { const i = document.getElementById('preview'); return i.complete && i.naturalWidth > 0 }")
    assert not page.locator('[data-snippet="shields"]').is_visible()  # shields.io cannot draw a sparkline
    assert watched.unexpected() == []


@pytest.mark.parametrize("query", [
    {"package": "Newtonsoft.Json", "version": "[1.0, 2.0)", "label": "a & b", "color": "#e05d44", "logo": "dotnet"},
    {"kind": "tests", "platform": "linux", "owner": "acme", "repo": "web", "branch": "feature/x!*'()", "style": "plastic",
     "format": "percent"},
    {"kind": "trend", "platform": "linux", "owner": "acme", "repo": "web", "branch": "main", "logo": "github",
     "style": "social"},
    {"provider": "github", "org": "my org", "package": "Ünïcode.Pkg", "prerelease": "true", "labelColor": "grey"},
])
def test_script_and_server_build_the_same_snippets(server, watched, query):
    base = server.urls["badges"]
    from urllib.parse import urlencode

    url = base + "/?" + urlencode(query)
    served = http("GET", url).body.decode()
    expected = {k: re.search(rf'<textarea id="out-{k}"[^>]*>(.*?)</textarea>', served, re.S).group(1)
                for k in ("markdown", "html", "shields")}
    page = watched.page
    page.goto(url)
    page.wait_for_function("() => document.documentElement.classList.contains('js')")
    import html as htmllib

    for k, v in expected.items():
        assert page.locator(f"#out-{k}").input_value() == htmllib.unescape(v), k


def test_the_dashboard_shows_the_trend_for_posted_results(server, watched):
    base = server.urls["badges"]
    page = watched.page
    page.goto(base + "/")
    page.get_by_role("link", name="acme/web").click()
    page.wait_for_url(base + "/dashboard/acme/web")
    assert page.get_by_role("heading", level=1).inner_text() == "acme/web test results"
    chart = page.get_by_role("img", name="Test results of main on linux, oldest to newest")
    assert chart.is_visible()
    assert chart.locator("g.run").count() == 5
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 60
    for alt in ("tests badge for main on linux", "trend badge for main on linux"):
        assert loaded(page.get_by_alt_text(alt))
    latest = page.locator("section.branch", has_text="main on linux").locator("p.latest")
    assert latest.inner_text().startswith("PASSED: 42 passed, 0 failed, 1 skipped")
    page.get_by_text("The runs as a table").first.click()
    assert page.locator("section.branch", has_text="main on linux").locator("tbody tr").count() == 5
    page.goto(base + "/dashboard/ACME/Web")  # case-insensitive, like the API
    assert page.get_by_role("img", name="Test results of main on windows, oldest to newest").is_visible()
    assert watched.unexpected() == [] and watched.dialogs == []


def test_markup_in_a_branch_name_stays_text(server, watched):
    page = watched.page
    page.goto(server.urls["badges"] + "/dashboard/acme/web")
    heading = page.get_by_role("heading", name=f"{XSS_BRANCH} on linux")
    assert heading.is_visible() and heading.inner_text() == f"{XSS_BRANCH} on linux"
    assert page.locator('img[src="x"]').count() == 0
    assert loaded(page.get_by_alt_text(f"tests badge for {XSS_BRANCH} on linux"))
    page.wait_for_timeout(200)
    assert watched.dialogs == [] and watched.unexpected() == []


def test_a_repository_without_results_is_a_page_not_json(server, watched):
    page = watched.page
    response = page.goto(server.urls["badges"] + "/dashboard/acme/nothing-here")
    assert response.status == 404
    assert page.get_by_role("heading", level=1).inner_text() == "No test results for acme/nothing-here"
    assert watched.unexpected(allowed=NOT_FOUND_LOG) == []
