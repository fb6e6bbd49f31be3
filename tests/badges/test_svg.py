"""SVG badges: unit behaviour, and parity with the real badge-maker 6.0.0 run under node.

The parity tests need node and the npm peers in .cache/node (`make node-tools` installs them).
When either is missing they fail, saying so; LAMBDASMITH_SKIP_NODE=1 skips them on purpose.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from lambdasmith.badges import helvetica_widths, logos, svg, verdana, verdana_widths

ROOT = Path(__file__).resolve().parents[2]
NODE_MODULES = ROOT / ".cache" / "node" / "node_modules"
ORACLE = ROOT / "tests" / "node" / "badge_oracle.mjs"
SVG_NS = "{http://www.w3.org/2000/svg}"
ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# (label, message) pairs rendered in every style by both implementations.
TEXTS = [
    ("build", "passing"),
    ("", "passing"),
    ("WWW", "iii"),
    ("iii", "WWW"),
    ("coverage", "97%"),
    ("version", "v1.2.3-beta.4+build.5"),
    ("a b  c", "x   y"),
    ("  padded  ", "\tmsg\n"),
    ("<script>", "&amp; \"quoted\" 'single'"),
    ("é", "ü"),
    ("Ärger", "Øresund"),
    ("日本語", "中文测试"),
    ("emoji", "😀🎉"),
    ("👩‍💻", "🇩🇪"),
    ("ß", "ŉ"),
    ("İstanbul", "ﬁx ı"),
    ("0123456789", "1,234.56"),
    ("!@#$%^&*()", "[]{}|\\/:;?"),
    ("~`_-+=", ".,"),
    ("license", "MIT"),
    ("downloads", "1.2M/month"),
    ("tests", "123 passed, 4 failed"),
    ("", ""),
    ("label", ""),
    ("", "m"),
    ("x" * 60, "W" * 60),
    ("Ωμέγα", "Кириллица"),
    ("עברית", "العربية"),
    ("हिन्दी", "ไทย"),
    ("\ufeffbom", "\u3000ideographic\u3000"),
    ("\x85nel\x85", "\x80c1"),
    ("tab\tin", "new\nline"),
    ("\U0001f600", "\U00010348 gothic"),
    ("ꭰ cherokee", "ǆ ǅ"),
]
# Markup XML forbids: badge-maker emits it raw (a broken document); we leave it out.
UNSAFE_TEXTS = [("a\x01b", "\x00nul\x1f"), ("\ud800lone", "x\udfff"), ("ctl\x7f", "\x0b\x0c")]
STYLES = ["flat", "flat-square", "plastic", "for-the-badge", "social"]
COLORS = [
    "brightgreen", "green", "yellowgreen", "yellow", "orange", "red", "blue", "lightgrey",
    "lightgray", "grey", "gray", "success", "important", "critical", "informational", "inactive",
    "abc", "ABC", "a1b2c3", "#abc", "#ABCDEF", "#abcd", "#abcdef80", "abcd", "#ab", "123456",
    "white", "pink", "rebeccapurple", "White", "Red", "transparent", "nonsense", "",
    "rgb(1,2,3)", "RGB(1,2,3)", "rgba(255, 255, 255, .5)", "rgb(50%, 50%, 50%)", "rgb(255 255 0)",
    "rgb(200 200 200 / 50%)", "rgb(999,999,999)", "rgb(1.5,2,3)", "hsl(120, 100%, 50%)",
    "hsla(60, 100%, 40%, 0.5)", "hsl(2rad, 50%, 50%)", "hsl(1turn, 100%, 90%)", "hsl(400grad,0%,70%)",
    "hsl(0, 0%, 69%)", "hsl(0, 0%, 70%)", "hsl(-1, 0%, 70%)", "#b0b0b0", "#b1b1b1", "#afafaf",
    "rgb(176, 176, 176)", "rgb(175,176,177)",
]  # fmt: skip


# Logos as makeBadge takes them (logoBase64): a built-in one as shields.io colours it, a PNG, and
# a URI with markup to escape.
LOGOS = [
    logos.logo_data_uri("nuget", None),
    logos.logo_data_uri("docker", "red", style="social"),
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg'>&amp;\"</svg>",
]
# (label, message) pairs drawn with each logo in every style, label color or not.
LOGO_TEXTS = [("build", "passing"), ("", "passing"), ("label", ""), ("", ""), ("ß", "日本語"), ("W" * 30, "i")]


def _spec(
    label: str,
    message: str,
    style: str = "flat",
    color: str = "",
    label_color: str | None = None,
    logo: str | None = None,
) -> dict:
    spec = {"label": label, "message": message, "style": style, "color": color}
    if label_color is not None:
        spec["labelColor"] = label_color
    if logo is not None:
        spec["logoBase64"] = logo
    return spec


BADGE_CASES = [_spec(label, message, style) for style in STYLES for label, message in TEXTS + UNSAFE_TEXTS]
BADGE_CASES += [_spec("label", "message", "flat", c, c) for c in COLORS]
BADGE_CASES += [_spec("", "x", style, "blue", "red") for style in STYLES]  # label color, no label
BADGE_CASES += [_spec("label", "x", "for-the-badge", "white", "yellow")]
BADGE_CASES += [
    _spec(label, message, style, "orange", label_color, logo)
    for style in STYLES
    for label, message in LOGO_TEXTS
    for label_color in (None, "red", "nonsense", "white")
    for logo in LOGOS
]
BADGE_CASES += [_spec("label", "message", style, "blue", None, "") for style in STYLES]  # "" is no logo
BADGE_CASES += [_spec(t, "x", "social") for t in ("\U00010428abc", "ǆemo", "ŉ", "ﬁle", "1st", "éé", "\ud800x")]

# For badge-maker's internal makeBadge, as shields.io's server calls it: logo widths other than 14.
INTERNAL_CASES = [
    {"label": label, "message": message, "style": style, "color": "blue", "logo": LOGOS[0], "logoWidth": width}
    | ({"labelColor": "#333"} if colored else {})
    for style in STYLES
    for label, message in (("build", "passing"), ("", "passing"), ("x", ""), ("", ""))
    for width in (1, 7, 20, 23.5, 40, 0.1)
    for colored in (False, True)
]


def _random_cases(count: int, seed: int = 2024) -> list[dict]:
    """Mixed-script text and every color syntax, to catch what the hand-picked cases miss."""
    rnd = random.Random(seed)
    blocks = [(0x20, 0x7F), (0xA0, 0x250), (0x370, 0x530), (0x590, 0x700), (0x900, 0xE80), (0x1E00, 0x2100),
              (0x3000, 0x3100), (0x4E00, 0x4F00), (0xAC00, 0xAC80), (0xFB00, 0xFB50), (0xFF00, 0xFFF0),
              (0x1F300, 0x1FA00), (0x10000, 0x10400), (0xE0000, 0xE0080)]  # fmt: skip
    newer = {0x19B, 0x264}  # their capitals depend on node's Unicode version

    def text() -> str:
        chars = [chr(rnd.randrange(*rnd.choice(blocks))) for _ in range(rnd.choice([0, 1, 2, 4, 9, 25]))]
        return "".join(c for c in chars if ord(c) not in newer)

    def color() -> str:
        hexdigits = "0123456789abcdefABCDEF"
        return rnd.choice([
            lambda: rnd.choice(COLORS),
            lambda: "".join(rnd.choice(hexdigits) for _ in range(rnd.choice([3, 4, 6, 8]))),
            lambda: "#" + "".join(rnd.choice(hexdigits) for _ in range(rnd.choice([3, 4, 6, 8]))),
            lambda: f"rgb({rnd.randrange(300)},{rnd.randrange(300)},{rnd.randrange(300)})",
            lambda: f"rgb({rnd.randrange(120)}% {rnd.randrange(120)}% {rnd.randrange(120)}%)",
            lambda: f"hsl({rnd.randrange(800)}{rnd.choice(['', 'deg', 'rad', 'grad', 'turn'])}, "
            f"{rnd.randrange(150)}%, {rnd.randrange(150)}%)",
        ])()

    styles = sorted(STYLES)
    cases = [_spec(text(), text(), rnd.choice(styles), color(), rnd.choice([None, color()])) for _ in range(count)]
    for spec in cases:
        logo = rnd.choice([None, None, *LOGOS])
        if logo is not None:
            spec["logoBase64"] = logo
    return cases


RANDOM_CASES = _random_cases(400)


def _ours(spec: dict) -> str:
    return svg.render(
        spec["label"],
        spec["message"],
        spec["color"],
        style=spec["style"],
        label_color=spec.get("labelColor"),
        logo=spec.get("logoBase64", spec.get("logo")),
        logo_width=spec.get("logoWidth", svg.DEFAULT_LOGO_WIDTH),
    )


def _require_node() -> str:
    if os.environ.get("LAMBDASMITH_SKIP_NODE") == "1":
        pytest.skip("LAMBDASMITH_SKIP_NODE=1: badge-maker parity not checked")
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not on PATH: the badge-maker parity tests need it (or set LAMBDASMITH_SKIP_NODE=1)")
    if not (NODE_MODULES / "badge-maker").is_dir() or not (NODE_MODULES / "anafanafo").is_dir():
        pytest.fail(
            f"badge-maker is not installed in {NODE_MODULES}: run `make node-tools` (or set LAMBDASMITH_SKIP_NODE=1)"
        )
    return node


@functools.cache
def _run_oracle(node: str) -> dict:
    fonts = ("11px Verdana", "10px Verdana", "bold 11px Helvetica")
    widths = [[text, font] for pair in TEXTS for text in pair for font in fonts]
    request = {"badges": BADGE_CASES + RANDOM_CASES, "internal": INTERNAL_CASES, "widths": widths}
    request = json.dumps(request | {"icons": sorted(logos.NAMES)})
    done = subprocess.run(
        [node, str(ORACLE), str(NODE_MODULES)], input=request.encode(), capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode(errors="replace")
    result = json.loads(done.stdout.decode("utf-8"))
    result["widths"] = {(text, font): width for (text, font), width in zip(widths, result["widths"])}
    return result


def oracle() -> dict:
    return _run_oracle(_require_node())


def parse(document: str) -> ET.Element:
    return ET.fromstring(document.encode("utf-8"))


def geometry(document: str) -> dict:
    """What the layout is made of: overall size, background part widths and the text placement."""
    root = parse(document)
    g = root.findall(f"{SVG_NS}g")
    parts = [r for r in root.iter(f"{SVG_NS}rect") if not r.get("fill", "").startswith("url(")]
    parts = [r for r in parts if r not in root.findall(f".//{SVG_NS}clipPath/{SVG_NS}rect")]
    texts = [t for t in g[-1].iter(f"{SVG_NS}text")] if g else []
    images = [(float(i.get("x")), float(i.get("y")), float(i.get("width"))) for i in root.iter(f"{SVG_NS}image")]
    return {
        "images": images,
        "width": float(root.get("width")),
        "height": float(root.get("height")),
        "parts": [(float(r.get("x", 0)), float(r.get("width")), r.get("fill")) for r in parts],
        "texts": [(float(t.get("x")), float(t.get("y")), float(t.get("textLength")), t.text or "") for t in texts],
    }


def _case_id(spec: dict) -> str:
    logo = "-logo" if spec.get("logoBase64") or spec.get("logo") else ""
    return f"{spec['style']}{logo}-{spec['label']!r}-{spec['message']!r}-{spec['color']!r}"[:60]


# --- unit behaviour -----------------------------------------------------------------------


def test_text_width_of_known_strings():
    assert svg.text_width("") == 0
    assert svg.text_width("m") == 10.7
    assert svg.text_width("W") == 10.88
    assert svg.text_width("i") == 3.02
    assert svg.text_width("build") == 26.699999999999996  # JS float sum, in order
    assert svg.text_width("passing") == 41.75
    assert svg.text_width("WWW") > svg.text_width("iii") * 3


def test_text_width_falls_back_like_anafanafo():
    # C0 controls and DEL count 0; code points absent from the table count as an 'm'.
    assert svg.text_width("a\x00\x1f\x7fb") == svg.text_width("ab")
    assert svg.text_width("\x80") == svg.text_width("m")  # C1 controls are not in the table
    assert svg.text_width("\U0001f600") == svg.text_width("m")


def test_width_table_is_cheap_to_import_and_decodes_sorted_ranges():
    probe = (
        "import sys; before = set(sys.modules)\n"
        "import lambdasmith.badges.svg, lambdasmith.badges.verdana as v\n"
        "print(v.table.cache_info().currsize, sorted(n for n in set(sys.modules) - before"
        " if n.split('.')[0] not in sys.stdlib_module_names and not n.startswith('lambdasmith')))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "0 []"  # nothing decoded at import, nothing third-party loaded
    starts, ends, widths = verdana.table("NORMAL_11")
    assert all(s <= e < n for s, e, n in zip(starts, ends, starts[1:]))
    assert len(starts) == len(widths) == 11241


@pytest.mark.parametrize("style", STYLES)
def test_every_style_renders_well_formed_accessible_svg(style):
    document = svg.render("build", "passing", "brightgreen", style=style)
    root = parse(document)
    assert root.tag == f"{SVG_NS}svg"
    label, message = {"for-the-badge": ("BUILD", "PASSING"), "social": ("Build", "passing")}.get(style, ("build", "passing"))
    assert root.get("role") == "img" and root.get("aria-label") == f"{label}: {message}"
    assert root.find(f"{SVG_NS}title").text == f"{label}: {message}"
    shown = {t.text for t in root.iter(f"{SVG_NS}text")}
    assert shown == {label, message}
    fills = {r.get("fill") for r in root.iter(f"{SVG_NS}rect")}
    assert ("#4b0" not in fills) if style == "social" else ("#4b0" in fills)  # social has no colors


@pytest.mark.parametrize("style", STYLES)
def test_markup_in_text_is_escaped(style):
    hostile = "<script>&\"'</script>"
    root = parse(svg.render(hostile, hostile, "red", style=style))
    expected = hostile.upper() if style == "for-the-badge" else hostile
    assert root.find(f"{SVG_NS}title").text == f"{expected}: {expected}"
    assert root.get("aria-label") == f"{expected}: {expected}"
    assert {t.text for t in root.iter(f"{SVG_NS}text")} == {expected}
    assert root.find(f".//{SVG_NS}script") is None


@pytest.mark.parametrize("style", STYLES)
def test_characters_xml_forbids_are_dropped_without_changing_the_layout(style):
    dirty = svg.render("a\x00b\x1b", "\ud800c\x08d\ufffe", "red", style=style)
    dirty.encode("utf-8")  # no lone surrogate left
    root = parse(dirty)
    assert root.find(f"{SVG_NS}title").text.lower() == "ab: cd"
    if style != "for-the-badge":  # (its letter spacing counts code units, so compare classics only)
        # Widths are still measured on the text as given: controls count 0, the rest like an 'm'.
        assert geometry(dirty)["width"] == geometry(svg.render("ab", "mcdm", "red", style=style))["width"]


def test_empty_label_leaves_only_the_message_part():
    g = geometry(svg.render(None, "passing", "blue"))
    assert g["parts"] == [(0, 0, "#007ec6"), (0, 51, "#007ec6")]
    assert g["width"] == 51
    assert parse(svg.render("", "passing", "blue")).get("aria-label") == "passing"


def test_layout_numbers_for_a_plain_badge():
    g = geometry(svg.render("build", "passing", "brightgreen"))
    assert g["width"] == 88 and g["height"] == 20
    assert g["parts"] == [(0, 37, "#555"), (37, 51, "#4b0")]
    assert [(x, y, length) for x, y, length, _ in g["texts"]] == [
        (195, 150, 270), (195, 150, 270), (195, 140, 270), (615, 150, 410), (615, 150, 410), (615, 140, 410),
    ]  # fmt: skip


def test_light_backgrounds_get_dark_text():
    root = parse(svg.render("a", "b", "white", style="flat-square", label_color="#333"))
    fills = [t.get("fill") for t in root.iter(f"{SVG_NS}text")]
    assert fills == [None, "#333"]  # white text inherits the group's #fff


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("brightgreen", "#4b0"), ("green", "#67ac09"), ("yellowgreen", "#95991a"), ("yellow", "#d8b800"),
        ("orange", "#ea7233"), ("red", "#dd4343"), ("blue", "#007ec6"), ("lightgrey", "#939393"),
        ("lightgray", "#939393"), ("grey", "#555"), ("gray", "#555"), ("success", "#4b0"),
        ("important", "#ea7233"), ("critical", "#dd4343"), ("informational", "#007ec6"), ("inactive", "#939393"),
        ("abc", "#abc"), ("ABC", "#abc"), ("#ABC", "#abc"), ("a1B2c3", "#a1b2c3"), ("#a1b2c3", "#a1b2c3"),
        ("#abcd", "#abcd"), ("abcd", None), ("#ab", None), ("ab", None), ("ggg", None), ("#ggg", None),
        ("white", "white"), ("White", None), ("transparent", None),
        ("rgb(1,2,3)", "rgb(1,2,3)"), ("rgba(1, 2, 3, .5)", "rgba(1, 2, 3, .5)"), ("RGB(1,2,3)", None),
        ("rgb(1.5,2,3)", None), ("hsl(120, 100%, 50%)", "hsl(120, 100%, 50%)"), ("hsl(120, 1, 5)", None),
        ("  red  ", "#dd4343"), ("", None), ("   ", None), (None, None), ("constructor", None), ("__proto__", None),
    ],
)  # fmt: skip
def test_normalize_color(given, expected):
    assert svg.normalize_color(given) == expected


def test_normalized_colors_normalize_to_themselves():
    for color in COLORS:
        once = svg.normalize_color(color)
        assert once is None or svg.normalize_color(once) == once


def test_invalid_colors_fall_back_to_badge_maker_defaults():
    g = geometry(svg.render("a", "b", "nonsense", label_color="nonsense"))
    assert [fill for _, _, fill in g["parts"]] == ["#555", "#4b0"]


def test_label_color_without_label_keeps_an_empty_label_part():
    g = geometry(svg.render("", "x", "blue", label_color="red"))
    assert g["parts"][0] == (0, 10, "#dd4343")


def test_upper_case_follows_node_unicode_data():
    # for-the-badge capitalises like JavaScript: full mappings, and pairs newer than Python 3.11.
    assert svg._js_upper("straße ǆ ƛ \U00010d70") == "STRASSE Ǆ \ua7dc \U00010d50"
    root = parse(svg.render("ß", "ƛ", "red", style="for-the-badge"))
    assert [t.text for t in root.iter(f"{SVG_NS}text")] == ["SS", "\ua7dc"]


def test_unknown_style_is_refused():
    with pytest.raises(ValueError):
        svg.render("a", "b", "red", style="neon")
    assert svg.STYLES == {"flat", "flat-square", "plastic", "for-the-badge", "social"}


# --- parity with badge-maker --------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(BADGE_CASES)), ids=[_case_id(s) for s in BADGE_CASES])
def test_geometry_matches_badge_maker(index):
    spec = BADGE_CASES[index]
    theirs = ILLEGAL_XML.sub("", oracle()["badges"][index])
    ours, reference = geometry(_ours(spec)), geometry(theirs)
    assert ours["width"] == pytest.approx(reference["width"], abs=0.01)
    assert [w for _, w, _ in ours["parts"]] == pytest.approx([w for _, w, _ in reference["parts"]], abs=0.01)
    assert [x for x, *_ in ours["texts"]] == pytest.approx([x for x, *_ in reference["texts"]], abs=0.01)
    assert ours == reference


@pytest.mark.parametrize("index", range(len(BADGE_CASES)), ids=[_case_id(s) for s in BADGE_CASES])
def test_svg_is_byte_identical_to_badge_maker(index):
    # Identical whenever badge-maker's output is well-formed; otherwise it equals badge-maker's
    # with the XML-forbidden characters removed.
    spec = BADGE_CASES[index]
    assert _ours(spec) == ILLEGAL_XML.sub("", oracle()["badges"][index])


@pytest.mark.parametrize("index", range(len(INTERNAL_CASES)), ids=[_case_id(s) for s in INTERNAL_CASES])
def test_logo_widths_are_laid_out_as_badge_makers_own_renderer_does(index):
    assert _ours(INTERNAL_CASES[index]) == oracle()["internal"][index]


def test_a_random_sample_is_byte_identical_to_badge_maker():
    theirs = oracle()["badges"][len(BADGE_CASES) :]
    assert len(theirs) == len(RANDOM_CASES) == 400
    differing = [spec for spec, svg_ in zip(RANDOM_CASES, theirs) if _ours(spec) != ILLEGAL_XML.sub("", svg_)]
    assert differing == []


@pytest.mark.parametrize("font", ["11px Verdana", "10px Verdana", "bold 11px Helvetica"])
def test_text_width_matches_anafanafo(font):
    widths = oracle()["widths"]
    table = {"11px Verdana": "NORMAL_11", "10px Verdana": "NORMAL_10", "bold 11px Helvetica": "HELVETICA_BOLD_11"}[font]
    for label, message in TEXTS:
        for text in (label, message):
            assert svg._measure(text, table) == widths[(text, font)], text


@functools.cache
def _generator():
    """tools/gen_widths.py, loaded as a module (it is a script, not part of the package)."""
    spec = importlib.util.spec_from_file_location("gen_widths", ROOT / "tools" / "gen_widths.py")
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    return gen


def test_committed_width_table_matches_the_npm_data():
    _require_node()
    gen = _generator()
    assert gen.main(["--check"]) == 0, "lambdasmith/badges/verdana_widths.py is stale: run tools/gen_widths.py"
    assert tuple(gen.FONTS) == verdana.FONTS
    for name, stem in gen.FONTS.items():
        ranges = json.loads((NODE_MODULES / "anafanafo" / "data" / f"{stem}.json").read_text())
        assert [list(r) for r in zip(*verdana.table(name))] == ranges


def test_width_encoding_round_trips_through_the_decoder():
    # Every token shape the generator writes: gaps (short and 4-digit long), single code points,
    # short runs (2..63), long runs (64+), and widths from 0 to the 2-digit maximum of 40.95 px.
    ranges = [[0, 0, 0.0], [1, 2, 0.01], [5, 67, 12.34], [68, 131, 40.95], [132, 132, 7.0],
              [200, 200 + 64**3 - 2, 3.5], [64**3 + 64**4 - 1, 64**3 + 64**4 - 1, 6.25]]
    encoded = _generator().encode(ranges)
    decoded = [[first, first + count - 1, width] for first, count, width in verdana.decode(encoded)]
    assert decoded == ranges
    assert verdana_widths.ALPHABET == _generator().ALPHABET


def test_width_data_module_holds_only_generated_constants():
    source = (ROOT / "lambdasmith" / "badges" / "verdana_widths.py").read_text()
    assert source.startswith("# Verdana advance widths") and "Generated by `python tools/gen_widths.py`" in source
    tree = ast.parse(source)
    assert all(isinstance(node, ast.Assign) for node in tree.body)  # no imports, no code
    assert {n for n in vars(verdana_widths) if not n.startswith("__")} == {"ALPHABET", *verdana.FONTS[:3]}
    social = (ROOT / "lambdasmith" / "badges" / "helvetica_widths.py").read_text()
    assert social.startswith("# Helvetica (bold, style=social) advance widths")
    assert all(isinstance(node, ast.Assign) for node in ast.parse(social).body)
    assert {n for n in vars(helvetica_widths) if not n.startswith("__")} == {"HELVETICA_BOLD_11"}
    assert verdana.latin1("HELVETICA_BOLD_11")[ord("m")] == 9.97
    assert verdana.latin1("NORMAL_11")[ord("m")] == 10.7
    with pytest.raises(KeyError):
        verdana.table("ALPHABET")


# --- social style and logos ---------------------------------------------------------------


def test_social_is_a_capitalised_button_and_bubble_without_colors():
    document = svg.render("build", "passing", "red", style="social", label_color="blue")
    assert document == svg.render("build", "passing", "green", style="social")  # colors play no part
    g = geometry(document)
    assert g["width"] == 93 and g["height"] == 20  # button 37 + 1, gutter 6, bubble 41 + 8
    assert g["texts"] == [
        (185, 150, 270, "Build"), (185, 140, 270, "Build"), (675, 150, 410, "passing"), (675, 140, 410, "passing"),
    ]  # fmt: skip
    assert 'font-family="Helvetica Neue,Helvetica,Arial,sans-serif"' in document
    no_message = geometry(svg.render("stars", "", "red", style="social"))
    assert no_message["width"] == geometry(svg.render("stars", "x", "red", style="social"))["parts"][0][1] + 1


def test_social_capitalises_the_first_utf16_unit_only():
    assert svg._js_capitalize("ßx") == "SSx" and svg._js_capitalize("ǆx") == "Ǆx"
    assert svg._js_capitalize("\U00010428x") == "\U00010428x"  # half a surrogate pair has no capital
    assert svg._js_capitalize("") == ""


@pytest.mark.parametrize(("style", "x", "y"), [("flat", 5, 3), ("flat-square", 5, 3), ("plastic", 5, 2),
                                               ("for-the-badge", 9, 7), ("social", 5, 3)])  # fmt: skip
def test_logo_is_placed_as_badge_maker_places_it(style, x, y):
    plain = svg.render("build", "passing", "blue", style=style)
    with_logo = svg.render("build", "passing", "blue", style=style, logo="data:image/png;base64,AAAA")
    assert geometry(with_logo)["images"] == [(x, y, 14)]
    assert '<image x="%s" y="%s" width="14" height="14" href="data:image/png;base64,AAAA"/>' % (x, y) in with_logo
    widened = geometry(with_logo)["width"] - geometry(plain)["width"]
    assert widened == 14 + 3  # the logo and its gap to the label (for-the-badge: 9 + 14 + 6 - 12)
    wide = svg.render("build", "passing", "blue", style=style, logo="data:x", logo_width=30)
    assert geometry(wide)["width"] == geometry(with_logo)["width"] + 16
    assert svg.render("build", "passing", "blue", style=style, logo="") == plain


def test_logo_uri_is_escaped_and_bad_logo_widths_are_refused():
    root = parse(svg.render("a", "b", "red", logo='data:x,"<&>'))
    assert root.find(f".//{SVG_NS}image").get("href") == 'data:x,"<&>'
    for width in (0, -1, math.inf, math.nan):
        with pytest.raises(ValueError):
            svg.render("a", "b", "red", logo="data:x", logo_width=width)


def test_helvetica_widths_load_only_for_a_social_badge():
    probe = (
        "import sys, lambdasmith.badges.svg as s\n"
        "s.render('a', 'b', 'red', style='for-the-badge', logo='data:x')\n"
        "print('lambdasmith.badges.helvetica_widths' in sys.modules, end=' ')\n"
        "s.render('a', 'b', 'red', style='social')\n"
        "print('lambdasmith.badges.helvetica_widths' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False True"
