"""Built-in named logos (logos.py) and render_svg's logo, logoColor and style=social handling.

The icon data is checked against the simple-icons npm package (a test peer in .cache/node, see
test_svg.py for when node is missing); the rest needs nothing but Python.
"""

from __future__ import annotations

import base64
import xml.etree.ElementTree as ET

import pytest

from lambdasmith.badges import logos, svg
from lambdasmith.badges.shields import Badge, render_svg
from tests.badges.test_svg import SVG_NS, oracle

SIMPLE_ICONS_SVG = '<svg role="img" viewBox="0 0 24 24" xmlns="http://www.w3.org/2000/svg"><title>{}</title><path d="{}"/></svg>'


def decoded(uri: str) -> str:
    prefix = "data:image/svg+xml;base64,"
    assert uri.startswith(prefix)
    return base64.b64decode(uri[len(prefix) :]).decode("utf-8")


def fill_of(uri: str) -> str | None:
    return ET.fromstring(decoded(uri)).get("fill")


def test_the_built_in_set():
    assert {"nuget", "github", "dotnet", "githubactions", "docker", "npm", "python"} <= logos.NAMES
    for name in logos.NAMES:
        root = ET.fromstring(decoded(logos.logo_data_uri(name)))
        assert root.get("viewBox") == "0 0 24 24" and root.find(f"{SVG_NS}path").get("d")


def test_icons_are_simple_icons_own():
    icons = oracle()["icons"]
    assert set(icons) == logos.NAMES
    for name, (title, brand, path) in logos.ICONS.items():
        assert (title, brand) == (icons[name]["title"], icons[name]["hex"]), name
        assert icons[name]["svg"] == SIMPLE_ICONS_SVG.format(title, path), name
        # shields.io puts the fill on simple-icons' root element, and base64-encodes the result.
        fill = logos.default_fill(name)
        assert decoded(logos.logo_data_uri(name)) == icons[name]["svg"].replace("<svg", f'<svg fill="{fill}"', 1)


@pytest.mark.parametrize(
    ("name", "style", "fill"),
    [
        ("nuget", "flat", "whitesmoke"),  # dark brand color (brightness 0.22) on the dark label
        ("github", "for-the-badge", "whitesmoke"),
        ("npm", "plastic", "whitesmoke"),  # 0.39
        ("python", "flat", "#3776AB"),  # 0.41: above shields' 0.4, keeps its brand color
        ("docker", "flat-square", "#2496ED"),
        ("nuget", "social", "#004880"),  # the social button is light: brand colors stay
        ("github", "social", "#181717"),
    ],
)
def test_default_fill_follows_shields(name, style, fill):
    assert fill_of(logos.logo_data_uri(name, None, style=style)) == fill


def test_light_brand_colors_turn_dark_on_the_social_button(monkeypatch):
    monkeypatch.setitem(logos.ICONS, "nuget", ("NuGet", "FFFFFF", "M0 0h24v24H0z"))
    assert logos.default_fill("nuget", "social") == "#333"
    assert logos.default_fill("nuget", "flat") == "#FFFFFF"


@pytest.mark.parametrize(
    ("color", "fill"),
    [("red", "#dd4343"), ("white", "white"), ("fff", "#fff"), ("#ABC", "#abc"), ("rgb(1,2,3)", "rgb(1,2,3)"),
     ("success", "#4b0"), ("nonsense", "whitesmoke"), ("", "whitesmoke"), (None, "whitesmoke")],
)  # fmt: skip
def test_logo_color_is_read_like_a_badge_color(color, fill):
    assert fill_of(logos.logo_data_uri("nuget", color)) == fill


def test_names_are_case_insensitive_and_titles_work_too():
    nuget = logos.logo_data_uri("nuget")
    assert logos.logo_data_uri("NuGet") == logos.logo_data_uri("NUGET") == nuget
    assert logos.slug_of(".NET") == "dotnet" and logos.slug_of("Node.js") == "nodedotjs"
    assert logos.slug_of("GitHub Actions") == logos.slug_of("github-actions") == "githubactions"


@pytest.mark.parametrize("name", ["", None, "nope", "nuget ", "data:image/png;base64,AAAA", "__proto__", "x" * 5000])
def test_unknown_names_are_no_logo(name):
    assert logos.logo_data_uri(name) is None
    assert logos.logo_data_uri(name, "red", style="social") is None


# --- render_svg ---------------------------------------------------------------------------


NUGET = Badge("nuget", "13.0.3", "blue", "nuget")


def images(document: str) -> list[str]:
    return [i.get("href") for i in ET.fromstring(document).iter(f"{SVG_NS}image")]


def test_the_badges_own_named_logo_is_drawn():
    assert images(render_svg(NUGET, {})) == [logos.logo_data_uri("nuget")]
    assert images(render_svg(Badge("tests", "1 passed", "brightgreen"), {})) == []
    expected = svg.render("nuget", "13.0.3", "blue", logo=logos.logo_data_uri("nuget"))
    assert render_svg(NUGET, {}) == expected


def test_logo_query_overrides_or_removes_it():
    assert images(render_svg(NUGET, {"logo": "docker"})) == [logos.logo_data_uri("docker")]
    assert images(render_svg(Badge("tests", "1 passed", "brightgreen"), {"logo": "github"})) == [
        logos.logo_data_uri("github")
    ]
    plain = svg.render("nuget", "13.0.3", "blue")
    assert render_svg(NUGET, {"logo": ""}) == plain
    assert render_svg(NUGET, {"logo": "no-such-logo"}) == plain  # unknown: no logo, still an image
    assert render_svg(NUGET, {"logo": "data:image/png;base64,AAAA"}) == plain  # not a PNG: no logo


PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
SVG = base64.b64encode(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24">'
                       b'<circle cx="12" cy="12" r="10" fill="#f80"/></svg>').decode()


@pytest.mark.parametrize("given, drawn", [
    ("data:image/png;base64," + PNG, "data:image/png;base64," + PNG),
    ("data:image/svg+xml;base64," + SVG, "data:image/svg+xml;base64," + SVG),
    # a URL written without percent-encoding: the query parser made each "+" a space
    ("data:image/svg xml;base64," + SVG.replace("+", " "), "data:image/svg+xml;base64," + SVG),
    ("data:image/png;base64," + PNG.replace("+", " "), "data:image/png;base64," + PNG),
    ("DATA:Image/PNG;base64," + PNG.rstrip("="), "data:image/png;base64," + PNG),  # case, missing padding
])  # fmt: skip
def test_a_custom_logo_is_drawn_as_shields_draws_one(given, drawn):
    assert logos.custom_logo(given) == drawn
    assert render_svg(NUGET, {"logo": given}) == svg.render("nuget", "13.0.3", "blue", logo=drawn)
    assert render_svg(NUGET, {"logo": given, "logoColor": "red"}) == render_svg(NUGET, {"logo": given})  # not recolored


@pytest.mark.parametrize("given", [
    "data:image/svg+xml;utf8,<svg onload='alert(1)'/>",  # not base64
    "data:text/html;base64," + base64.b64encode(b"<svg><script>alert(1)</script></svg>").decode(),
    "data:image/svg+xml;base64," + base64.b64encode(b"<html><script>alert(1)</script></html>").decode(),
    "data:image/png;base64," + SVG,  # an SVG claiming to be a PNG
    "data:image/svg+xml;base64,PHN2Zz4*",  # not the base64 alphabet
    "data:image/svg+xml;base64,\"/><script>alert(1)</script>",
    "data:image/svg+xml;base64,", "data:image/png", "data:,", "data:",
    "data:image/png;base64," + "A" * 8192,  # too big for a URL
])  # fmt: skip
def test_anything_else_given_as_a_data_uri_is_no_logo(given):
    assert logos.custom_logo(given) is None
    assert render_svg(NUGET, {"logo": given}) == svg.render("nuget", "13.0.3", "blue")


def test_logo_color_query():
    assert images(render_svg(NUGET, {"logoColor": "orange"})) == [logos.logo_data_uri("nuget", "orange")]
    assert images(render_svg(NUGET, {"logocolor": "fff"})) == [logos.logo_data_uri("nuget", "fff")]
    assert images(render_svg(NUGET, {"logoColor": "bogus"})) == [logos.logo_data_uri("nuget")]
    assert images(render_svg(NUGET, {"logo": "github", "logoColor": "red"})) == [logos.logo_data_uri("github", "red")]


def test_social_style_query():
    social = render_svg(NUGET, {"style": "Social", "color": "red", "labelColor": "green"})
    assert social == svg.render("nuget", "13.0.3", "blue", style="social", logo=logos.logo_data_uri("nuget", style="social"))
    assert images(social) == [logos.logo_data_uri("nuget", None, style="social")]  # brand-colored logo
    assert ET.fromstring(social).get("aria-label") == "Nuget: 13.0.3"
    assert render_svg(NUGET, {"style": "neon"}) == render_svg(NUGET, {})  # unknown style: flat
