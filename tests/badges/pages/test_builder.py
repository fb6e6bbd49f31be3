"""GET /: the badge builder, as the server renders it (the browser test drives its script)."""

from __future__ import annotations

import html
import re

import pytest

from lambdasmith.badges.pages.builder import badge_urls
from lambdasmith.badges.pages.html import CSP

ORIGIN = "http://127.0.0.1:8000"


def test_builder_is_html_with_a_strict_policy(pages):
    r = pages.get("/")
    assert r.status == 200
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"
    assert r.headers["Content-Security-Policy"] == CSP
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "default-src 'none'" in CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["Cache-Control"] == "public, max-age=60" and r.headers["ETag"]
    body = r.body_bytes().decode()
    assert re.search(r'<script src="/assets/builder\.js\?v=[0-9a-f]{16}" defer></script>', body)
    assert not re.search(r"<script(?![^>]*\bsrc=)", body), "no inline script"
    assert not re.search(r"\son[a-z]+=", body), "no inline event handlers"
    assert not re.search(r"\sstyle=", body), "no inline styles"
    assert not re.search(r"(src|href)=\"(https?:)?//", body), "nothing from another origin"


def test_every_input_has_a_label(pages):
    body = pages.get("/").body_bytes().decode()
    ids = re.findall(r'<(?:input|select|textarea)[^>]* id="([^"]+)"', body)
    labels = set(re.findall(r'<label for="([^"]+)"', body))
    assert ids and set(ids) <= labels
    assert re.search(r'<label for="f-package">[^<]*Package', body)


def test_the_page_answers_304_to_its_etag(pages):
    first = pages.get("/")
    again = pages.get("/", if_none_match=first.headers["ETag"])
    assert again.status == 304 and again.body_bytes() == b""


def test_without_javascript_the_query_fills_the_preview_and_snippets(pages):
    r = pages.get("/", {"package": "Newtonsoft.Json", "version": "[13.0,14.0)", "style": "flat-square"})
    body = html.unescape(r.body_bytes().decode())
    image = f"{ORIGIN}/badges/packages/nuget/Newtonsoft.Json.svg?version=%5B13.0%2C14.0%29&style=flat-square"
    assert f'src="{image}"' in body
    assert f"[![nuget Newtonsoft.Json]({image})](https://www.nuget.org/packages/Newtonsoft.Json)" in body
    assert "https://img.shields.io/endpoint?url=http%3A%2F%2F127.0.0.1%3A8000%2Fbadges%2Fpackages%2Fnuget%2F" \
           "Newtonsoft.Json%3Fversion%3D%255B13.0%252C14.0%2529&style=flat-square" in body


@pytest.mark.parametrize(("values", "image", "target"), [
    ({"package": "Serilog"}, "/badges/packages/nuget/Serilog.svg", "https://www.nuget.org/packages/Serilog"),
    ({"package": "Serilog", "prerelease": "true", "style": "flat"}, "/badges/packages/nuget/Serilog.svg?prerelease=true",
     "https://www.nuget.org/packages/Serilog"),
    ({"provider": "github", "org": "acme", "package": "Acme.Lib", "label": "acme lib"},
     "/badges/packages/github/acme/Acme.Lib.svg?label=acme+lib", "https://github.com/orgs/acme/packages"),
    ({"kind": "tests", "platform": "linux", "owner": "acme", "repo": "app", "branch": "feature/x"},
     "/badges/tests/linux/acme/app/feature%2Fx.svg", f"{ORIGIN}/redirect/test-results/linux/acme/app/feature%2Fx"),
    ({"kind": "tests", "platform": "linux", "owner": "acme", "repo": "app", "branch": "main", "format": "percent",
      "logo": "github"}, "/badges/tests/linux/acme/app/main.svg?format=percent&logo=github",
     f"{ORIGIN}/redirect/test-results/linux/acme/app/main"),
    ({"kind": "trend", "platform": "linux", "owner": "acme", "repo": "app", "branch": "main", "color": "#f00",
      "logo": "github", "format": "percent"},
     "/badges/tests/linux/acme/app/main/trend.svg?color=%23f00", f"{ORIGIN}/redirect/test-results/linux/acme/app/main"),
])
def test_badge_urls(values, image, target):
    urls = badge_urls(values, ORIGIN)
    assert urls is not None
    assert urls["image"] == ORIGIN + image and urls["target"] == target
    assert urls["html"].startswith(f'<a href="{html.escape(target)}"><img src="{html.escape(ORIGIN + image)}"')
    assert (urls["shields"] == "") == (values.get("kind") == "trend")


@pytest.mark.parametrize("values", [{}, {"package": "  "}, {"provider": "github", "package": "x"},
                                    {"kind": "tests", "platform": "linux", "owner": "a", "repo": "b"}])
def test_incomplete_forms_have_no_urls(values):
    assert badge_urls(values, ORIGIN) is None


def test_query_values_are_escaped_in_the_form(pages):
    evil = '"><script>alert(1)</script>'
    body = pages.get("/", {"package": evil, "label": evil}).body_bytes().decode()
    assert "<script>alert(1)" not in body
    assert 'value="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in body


def test_repositories_with_results_are_linked(pages):
    assert "No repository has posted results yet" in pages.get("/").body_bytes().decode()
    pages.post_run(("linux", "Acme", "App", "main"), 3)
    pages.post_run(("windows", "acme", "app", "main"), 3)
    pages.post_run(("linux", "zeta", "<b>x</b>", "main"), 1)
    body = pages.get("/").body_bytes().decode()
    assert body.count('href="/dashboard/acme/app"') == 1
    assert '<a href="/dashboard/zeta/%3Cb%3Ex%3C%2Fb%3E">zeta/&lt;b&gt;x&lt;/b&gt;</a>' in body
