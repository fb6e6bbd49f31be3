"""GET /dashboard/{owner}/{repo}: sections per platform and branch, the chart, paging, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from lambdasmith.badges.pages.dashboard import RUNS_PER_PAGE


def text(r) -> str:
    return r.body_bytes().decode()


def test_a_repository_without_results_is_a_404_page(pages):
    r = pages.get("/dashboard/nobody/nothing")
    assert r.status == 404 and r.headers["Content-Type"].startswith("text/html")
    assert r.headers["Cache-Control"] == "no-store" and "Content-Security-Policy" in r.headers
    assert "No test results for nobody/nothing" in text(r)


def test_one_section_per_platform_and_branch_with_latest_run(pages):
    pages.post_run(("linux", "acme", "app", "main"), 10, 0, 1)
    pages.post_run(("linux", "acme", "app", "main"), 9, 2, 0, commit="fedcba9876543210")
    pages.post_run(("windows", "acme", "app", "main"), 5)
    pages.post_run(("linux", "acme", "app", "feature/x"), 0)
    pages.post_run(("linux", "acme", "other", "main"), 1)
    r = pages.get("/dashboard/ACME/App")  # case-insensitive, like the API
    assert r.status == 200
    body = text(r)
    sections = re.findall(r'<section class="branch".*?</section>', body, re.S)
    assert [re.search(r"<h2[^>]*>(.*?)</h2>", s).group(1) for s in sections] == [
        "feature/x on linux", "main on linux", "main on windows"]
    feature, main, windows = sections
    assert "no tests" in feature
    assert '<strong class="verdict">failed</strong>: 9 passed, 2 failed, 0 skipped' in main
    assert 'href="https://github.com/acme/app/commit/fedcba9876543210"' in main and ">fedcba9<" in main
    assert 'href="https://ci.example/runs/2"' in main
    assert 'src="/badges/tests/linux/acme/app/feature%2Fx.svg"' in feature
    assert 'src="/badges/tests/linux/acme/app/main/trend.svg"' in main
    assert "other" not in body.split("<main", 1)[1].split("</main>")[0].replace("another", "")


def test_the_chart_is_svg_with_one_bar_group_per_run_and_accessible_text(pages):
    for passed, failed, skipped in ((10, 0, 0), (8, 2, 1), (0, 0, 4)):
        pages.post_run(("linux", "acme", "chart", "main"), passed, failed, skipped)
    body = text(pages.get("/dashboard/acme/chart"))
    svg = re.search(r'<svg class="chart".*?</svg>', body, re.S).group(0)
    root = ET.fromstring(svg.replace('<svg class="chart"', '<svg xmlns="http://www.w3.org/2000/svg" class="chart"', 1))
    ns = {"s": "http://www.w3.org/2000/svg"}
    assert root.get("role") == "img"
    title_id, desc_id = root.get("aria-labelledby").split()
    assert root.find("s:title", ns).get("id") == title_id and root.find("s:desc", ns).get("id") == desc_id
    desc = root.find("s:desc", ns).text
    assert desc.startswith("3 runs, 2 without failures, 1 with failures.") and "Latest: 0 passed, 0 failed, 4 skipped" in desc
    runs = root.findall("s:g[@class='run']", ns)
    assert [len(g.findall("s:rect", ns)) for g in runs] == [1, 3, 1]  # oldest first; empty parts not drawn
    assert [r.get("class") for r in runs[1].findall("s:rect", ns)] == ["passed", "failed", "skipped"]
    heights = [float(r.get("height")) for r in runs[1].findall("s:rect", ns)]
    assert abs(heights[0] - 4 * heights[1]) < 0.2 and abs(heights[1] - 2 * heights[2]) < 0.2  # 8 : 2 : 1 (0.1 px)
    assert "8 passed, 2 failed, 1 skipped" in runs[1].find("s:title", ns).text
    table = re.search(r"<table>.*?</table>", body, re.S).group(0)
    assert table.count("<tr") == 4  # header + 3 runs, newest first


def test_history_pages_back_with_older_runs_links(pages):
    for i in range(RUNS_PER_PAGE + 5):
        pages.post_run(("linux", "acme", "long", "main"), i + 1)
    first = text(pages.get("/dashboard/acme/long"))
    assert first.count('<g class="run">') == RUNS_PER_PAGE
    href = re.search(r'<p class="older"><a href="([^"]+)">', first).group(1).replace("&amp;", "&")
    query = dict(part.split("=", 1) for part in href.lstrip("?").split("&"))
    from urllib.parse import unquote

    older = pages.get("/dashboard/acme/long", {k: unquote(v) for k, v in query.items()})
    body = text(older)
    assert older.status == 200 and body.count('<g class="run">') == 5
    assert "<h1" in body and 'class="older"' not in body
    assert "5 passed, 0 failed" in body and "6 passed" not in body  # the five oldest runs


def test_a_damaged_cursor_is_a_400_page(pages):
    pages.post_run(("linux", "acme", "cur", "main"), 1)
    r = pages.get("/dashboard/acme/cur", {"platform": "linux", "branch": "main", "cursor": "garbage!"})
    assert r.status == 400 and "Invalid cursor" in text(r)


def test_data_stays_text_and_only_http_links_are_links(pages):
    evil = '<img src=x onerror=alert(1)>'
    pages.post_run(("linux", "acme", "xss", evil), 1, commit='"><script>alert(2)</script>')
    body = text(pages.get("/dashboard/acme/xss"))
    assert "<img src=x" not in body and "<script>alert" not in body
    assert "&lt;img src=x onerror=alert(1)&gt; on linux" in body
    assert 'src="/badges/tests/linux/acme/xss/%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.svg"' in body


def test_non_http_run_urls_are_not_links():
    from lambdasmith.badges.pages.html import http_url, link

    assert link("javascript:alert(1)", "run") == "run"
    assert link("data:text/html,x", "run") == "run"
    assert link("https://ci.example/a b", "run") == "run"
    assert link("//evil.example/x", "run") == "run"
    assert link("https://ci.example/run?a=1&b=<2>", "run 1") == \
        '<a href="https://ci.example/run?a=1&amp;b=&lt;2&gt;" rel="nofollow noopener">run 1</a>'
    assert http_url("HTTPS://ci.example/x") == "HTTPS://ci.example/x"
    assert http_url(None) is None and http_url(5) is None
