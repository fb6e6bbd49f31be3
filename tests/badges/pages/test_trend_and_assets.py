"""The trend badge (GET …/{branch}/trend.svg) and the pages' assets (GET /assets/{name})."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from lambdasmith.badges import trend
from lambdasmith.badges.svg import normalize_color

NS = {"s": "http://www.w3.org/2000/svg"}
TREND = "/badges/tests/linux/acme/app/main/trend.svg"


def points(svg: str) -> list[tuple[float, float]]:
    line = ET.fromstring(svg).find("s:polyline", NS)
    return [tuple(map(float, p.split(","))) for p in line.get("points").split()]


@pytest.mark.parametrize(("run", "rate"), [
    ({"passed": 3, "failed": 1, "skipped": 9}, 75.0), ({"passed": 0, "failed": 0, "skipped": 2}, None),
    ({"passed": 5, "failed": 0}, 100.0), ({}, None),
])
def test_pass_rate_ignores_skipped(run, rate):
    assert trend.pass_rate(run) == rate


def test_the_figure_is_rounded_down_so_a_failure_never_reads_100():
    svg = trend.render([{"passed": 999, "failed": 1}], {})
    assert ">99%<" in svg and ">100%<" not in svg


def test_trend_badge_over_http(pages):
    for passed, failed in ((10, 0), (5, 5), (9, 1), (10, 0)):
        pages.post_run(("linux", "acme", "app", "main"), passed, failed)
    r = pages.get(TREND)
    assert r.status == 200 and r.headers["Content-Type"] == "image/svg+xml; charset=utf-8"
    svg = r.body_bytes().decode()
    root = ET.fromstring(svg)
    assert root.get("height") == "20" and root.find("s:title", NS).text.startswith("tests: 100%")
    ys = [y for _, y in points(svg)]
    assert ys[0] == ys[3] < ys[2] < ys[1]  # 100%, 50%, 90%, 100%: higher rate, higher on the badge
    assert r.headers["ETag"] and "max-age" in r.headers["Cache-Control"] and r.headers["Last-Modified"]
    assert pages.get(TREND, if_none_match=r.headers["ETag"]).status == 304
    assert '<rect x="' in svg and 'fill="#4c1"' not in svg


def test_runs_parameter_limits_the_line(pages):
    for i in range(8):
        pages.post_run(("linux", "acme", "app", "main"), 10, i % 2)
    assert len(points(pages.get(TREND, {"runs": "3"}).body_bytes().decode())) == 3
    assert len(points(pages.get(TREND, {"runs": "junk"}).body_bytes().decode())) == 8
    assert trend.runs_wanted({"runs": "1"}) == 2 and trend.runs_wanted({"runs": "9999"}) == trend.DEFAULT_RUNS
    assert trend.runs_wanted({"runs": "500"}) == trend.MAX_RUNS


def test_style_label_and_colors(pages):
    pages.post_run(("linux", "acme", "app", "main"), 1, 1)
    svg = pages.get(TREND, {"style": "flat-square", "label": "<ci>", "color": "blue", "labelColor": "#123"}).body_bytes().decode()
    assert 'shape-rendering="crispEdges"' in svg and "clipPath" not in svg
    assert "&lt;ci&gt;" in svg and 'fill="#007ec6"' in svg and 'fill="#123"' in svg
    assert ET.fromstring(svg) is not None


def test_a_branch_without_results_is_an_error_badge(pages):
    r = pages.get("/badges/tests/linux/acme/none/main/trend.svg")
    assert r.status == 404 and r.headers["Content-Type"].startswith("image/svg+xml")
    assert ET.fromstring(r.body_bytes().decode()) is not None


def test_runs_that_executed_nothing_are_left_out_of_the_line():
    runs = [{"passed": 1}, {"skipped": 3}, {"passed": 1, "failed": 1}]
    assert len(points(trend.render(runs, {}))) == 2
    svg = trend.render([{"skipped": 1}], {})
    assert ">no tests<" in svg and "<polyline" not in svg and f'fill="{normalize_color("lightgrey")}"' in svg


@pytest.mark.parametrize("name", ["site.css", "builder.js"])
def test_assets_are_served_with_versioned_immutable_urls(pages, name):
    from lambdasmith.badges.pages.html import ASSETS

    url = ASSETS[name].url
    path, version = url.split("?v=")
    r = pages.get(path, {"v": version})
    assert r.status == 200 and r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert pages.get(path, {"v": "old"}).headers["Cache-Control"] == "public, max-age=300"
    assert pages.get(path, if_none_match=r.headers["ETag"]).status == 304
    assert re.search(re.escape(url), pages.get("/").body_bytes().decode())


def test_unknown_assets_are_404(pages):
    assert pages.get("/assets/../app.py").status == 404
    assert pages.get("/assets/nope.js").status == 404
