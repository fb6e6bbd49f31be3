"""Badge SVGs laid out exactly as shields.io's badge-maker 6.0.0 draws them.

READMEs embed our badges next to shields.io ones, so widths, text positions and colors follow
badge-maker to the pixel in all five of its styles, with or without a logo (a data: URI drawn
14px high, as badge-maker places it): text is measured with its Verdana width tables (bold
Helvetica for the social style; `verdana.py`) and its integer/float arithmetic (JS number
semantics are reproduced where they change a result). The
only intended differences: characters that XML forbids (C0 controls, lone surrogates) are left
out of the markup where badge-maker would emit a broken document, and a color with surrounding
whitespace is read as the color without it.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Mapping
from functools import cache

from lambdasmith.badges import verdana

STYLES: frozenset[str] = frozenset({"flat", "flat-square", "plastic", "for-the-badge", "social"})

DEFAULT_COLOR = "#4b0"
DEFAULT_LABEL_COLOR = "#555"

# badge-maker's own palette: these names win over the CSS color of the same name.
BADGE_COLORS = {
    "brightgreen": "#4b0",
    "green": "#67ac09",
    "yellow": "#d8b800",
    "yellowgreen": "#95991a",
    "orange": "#ea7233",
    "red": "#dd4343",
    "blue": "#007ec6",
    "grey": "#555",
    "lightgrey": "#939393",
}
ALIASES = {
    "gray": "grey",
    "lightgray": "lightgrey",
    "critical": "red",
    "important": "orange",
    "success": "brightgreen",
    "informational": "blue",
    "inactive": "lightgrey",
}

# CSS named colors (the `color-name` package badge-maker validates against), name:rrggbb.
_CSS_NAMES = (
    "aliceblue:f0f8ff antiquewhite:faebd7 aqua:00ffff aquamarine:7fffd4 azure:f0ffff beige:f5f5dc "
    "bisque:ffe4c4 black:000000 blanchedalmond:ffebcd blue:0000ff blueviolet:8a2be2 brown:a52a2a "
    "burlywood:deb887 cadetblue:5f9ea0 chartreuse:7fff00 chocolate:d2691e coral:ff7f50 "
    "cornflowerblue:6495ed cornsilk:fff8dc crimson:dc143c cyan:00ffff darkblue:00008b "
    "darkcyan:008b8b darkgoldenrod:b8860b darkgray:a9a9a9 darkgreen:006400 darkgrey:a9a9a9 "
    "darkkhaki:bdb76b darkmagenta:8b008b darkolivegreen:556b2f darkorange:ff8c00 darkorchid:9932cc "
    "darkred:8b0000 darksalmon:e9967a darkseagreen:8fbc8f darkslateblue:483d8b darkslategray:2f4f4f "
    "darkslategrey:2f4f4f darkturquoise:00ced1 darkviolet:9400d3 deeppink:ff1493 deepskyblue:00bfff "
    "dimgray:696969 dimgrey:696969 dodgerblue:1e90ff firebrick:b22222 floralwhite:fffaf0 "
    "forestgreen:228b22 fuchsia:ff00ff gainsboro:dcdcdc ghostwhite:f8f8ff gold:ffd700 "
    "goldenrod:daa520 gray:808080 green:008000 greenyellow:adff2f grey:808080 honeydew:f0fff0 "
    "hotpink:ff69b4 indianred:cd5c5c indigo:4b0082 ivory:fffff0 khaki:f0e68c lavender:e6e6fa "
    "lavenderblush:fff0f5 lawngreen:7cfc00 lemonchiffon:fffacd lightblue:add8e6 lightcoral:f08080 "
    "lightcyan:e0ffff lightgoldenrodyellow:fafad2 lightgray:d3d3d3 lightgreen:90ee90 "
    "lightgrey:d3d3d3 lightpink:ffb6c1 lightsalmon:ffa07a lightseagreen:20b2aa lightskyblue:87cefa "
    "lightslategray:778899 lightslategrey:778899 lightsteelblue:b0c4de lightyellow:ffffe0 "
    "lime:00ff00 limegreen:32cd32 linen:faf0e6 magenta:ff00ff maroon:800000 mediumaquamarine:66cdaa "
    "mediumblue:0000cd mediumorchid:ba55d3 mediumpurple:9370db mediumseagreen:3cb371 "
    "mediumslateblue:7b68ee mediumspringgreen:00fa9a mediumturquoise:48d1cc mediumvioletred:c71585 "
    "midnightblue:191970 mintcream:f5fffa mistyrose:ffe4e1 moccasin:ffe4b5 navajowhite:ffdead "
    "navy:000080 oldlace:fdf5e6 olive:808000 olivedrab:6b8e23 orange:ffa500 orangered:ff4500 "
    "orchid:da70d6 palegoldenrod:eee8aa palegreen:98fb98 paleturquoise:afeeee palevioletred:db7093 "
    "papayawhip:ffefd5 peachpuff:ffdab9 peru:cd853f pink:ffc0cb plum:dda0dd powderblue:b0e0e6 "
    "purple:800080 rebeccapurple:663399 red:ff0000 rosybrown:bc8f8f royalblue:4169e1 "
    "saddlebrown:8b4513 salmon:fa8072 sandybrown:f4a460 seagreen:2e8b57 seashell:fff5ee "
    "sienna:a0522d silver:c0c0c0 skyblue:87ceeb slateblue:6a5acd slategray:708090 slategrey:708090 "
    "snow:fffafa springgreen:00ff7f steelblue:4682b4 tan:d2b48c teal:008080 thistle:d8bfd8 "
    "tomato:ff6347 turquoise:40e0d0 violet:ee82ee wheat:f5deb3 white:ffffff whitesmoke:f5f5f5 "
    "yellow:ffff00 yellowgreen:9acd32"
)

# What JavaScript's String.prototype.trim() and regex \s treat as white space.
_JS_SPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000\ufeff"
)

# Upper-case pairs newer than Python 3.11's Unicode 14 that node's ICU (Unicode 17) applies in
# toUpperCase(): (first, last, offset to the capital). Harmless once Python knows them too.
_NEWER_CAPITALS = (
    (0x019B, 0x019B, 0xA7DC - 0x019B),
    (0x0264, 0x0264, 0xA7CB - 0x0264),
    (0x1C8A, 0x1C8A, -1),
    (0xA7CD, 0xA7CD, -1),
    (0xA7CF, 0xA7CF, -1),
    (0xA7D3, 0xA7D3, -1),
    (0xA7D5, 0xA7D5, -1),
    (0xA7DB, 0xA7DB, -1),
    (0x10D70, 0x10D85, -0x20),
    (0x16EBB, 0x16ED3, -0x1B),
)

FONT_FAMILY = "Verdana,Geneva,DejaVu Sans,sans-serif"
SOCIAL_FONT_FAMILY = "Helvetica Neue,Helvetica,Arial,sans-serif"

DEFAULT_LOGO_WIDTH = 14  # badge-maker's logo is always 14px high; this is its default width
LOGO_HEIGHT = 14

Attrs = dict[str, str | float]


# --- colors -------------------------------------------------------------------------------


@cache
def _css_names() -> dict[str, tuple[int, int, int]]:
    pairs = (item.split(":") for item in _CSS_NAMES.split())
    return {name: (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)) for name, h in pairs}


def _color_syntax() -> dict[str, str]:
    """css-color-converter's grammar (JS regex semantics: ASCII digits, JS white space)."""
    s, d = "[\\t-\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff]", "[0-9]"
    alpha = rf"(?:0|1|0?\.{d}+|{d}+%)"
    comma, space, slash = f"{s}*,{s}*", f"{s}+", f"{s}*/{s}*"

    def rgb(num: str, sep: str, asep: str) -> str:
        return rf"rgba?\({s}*({num}){sep}({num}){sep}({num})(?:{asep}{alpha})?{s}*\)"

    return {
        "rgb": rgb(f"{d}+", comma, comma),
        "rgbperc": rgb(f"{d}+%", comma, comma),
        "rgbfn": rgb(f"{d}+", space, slash),
        "rgbpercfn": rgb(f"{d}+%", space, slash),
        "hsl": rf"hsla?\({s}*({d}+)(deg|rad|grad|turn)?{comma}({d}+)%{comma}({d}+)%(?:{comma}{alpha})?{s}*\)",
    }


_SYNTAX = {
    "bare_hex": r"(?:[0-9a-fA-F]{3}){1,2}",
    "hex": r"#(?:[0-9a-fA-F]{2}){3,4}|#[0-9a-fA-F]{3,4}",
    "illegal_xml": "[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]",
    "leading_int": r"-?[0-9]+",
    **_color_syntax(),
}


@cache
def _re(name: str) -> re.Pattern[str]:
    """Compiled on first use: a badge in hex colors never pays for the rgb()/hsl() grammar."""
    return re.compile(_SYNTAX[name])


def normalize_color(color: str | None) -> str | None:
    """The SVG fill for a badge color as badge-maker reads it, or None when it would ignore it.

    Accepts badge-maker's names and aliases, bare or `#` hex (3/4/6/8 digits with `#`, 3/6
    without), lowercase CSS color names and rgb()/rgba()/hsl()/hsla() in the forms it parses.
    """
    if color is None or len(color) > MAX_COLOR:
        return None  # no color of any form is that long: the default, before any parsing
    color = color.strip(_JS_SPACE)
    if color in BADGE_COLORS:
        return BADGE_COLORS[color]
    if color in ALIASES:
        return BADGE_COLORS[ALIASES[color]]
    if _re("bare_hex").fullmatch(color):
        return "#" + color.lower()
    if _rgb(color) is not None:
        return color.lower()
    return None


MAX_COLOR = 100  # characters of a color override; longer ones fall back to the default


def _rgb(color: str) -> tuple[float, float, float] | None:
    """Red, green, blue (0-255, possibly NaN) of a CSS color, as css-color-converter parses it."""
    named = _css_names().get(color)
    if named is not None:
        return named
    if _re("hex").fullmatch(color):
        h = color[1:]
        h = h if len(h) >= 6 else "".join(c * 2 for c in h)
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    for kind in ("rgb", "rgbperc", "rgbfn", "rgbpercfn"):
        m = _re(kind).fullmatch(color)
        if m:
            parts = (_digits(g.rstrip("%")) * 255 / 100 if g.endswith("%") else _digits(g) for g in m.groups())
            return _clamped(*parts)
    m = _re("hsl").fullmatch(color)
    if m:
        hue, unit, sat, light = m.groups()
        factor = {"deg": 1, "grad": 0.9, "rad": 180 / math.pi, "turn": 360}[unit or "deg"]
        degrees = _js_round(factor * _digits(hue) * 100000) / 100000  # css-unit-converter's 5 decimals
        return _clamped(*_hsl_to_rgb(degrees, _digits(sat), _digits(light)))
    return None


def _digits(text: str) -> float:
    try:
        return float(int(text))
    except (OverflowError, ValueError):  # beyond a float, or past int()'s digit limit
        return math.inf


def _js_round(x: float) -> float:
    """Math.round: halves go up."""
    if not math.isfinite(x):
        return x
    low = math.floor(x)
    return float(low + 1 if x - low >= 0.5 else low)


def _hsl_to_rgb(h: float, s: float, l: float) -> tuple[float, float, float]:
    if not (math.isfinite(h) and math.isfinite(s) and math.isfinite(l)):
        return math.nan, math.nan, math.nan
    hp, sp, lp = h / 60, s / 100, l / 100
    c = (1 - abs(2 * lp - 1)) * sp
    x = c * (1 - abs(math.fmod(hp, 2) - 1))
    m = lp - c / 2
    sextant = [(c, x, 0.0), (x, c, 0.0), (0.0, c, x), (0.0, x, c), (x, 0.0, c)]
    r, g, b = sextant[int(hp)] if hp < 5 else (c, 0.0, x)
    return (r + m) * 255, (g + m) * 255, (b + m) * 255


def _clamped(*values: float) -> tuple[float, float, float]:
    """css-color-converter keeps parseInt(v) clamped to 0..255; parseInt reads JS's number string."""
    out = []
    for v in values:
        m = _re("leading_int").match(_js_num(v))
        n = float(int(m.group())) if m else math.nan
        out.append(n if math.isnan(n) else max(min(n, 255.0), 0.0))
    return out[0], out[1], out[2]


def brightness(color: str) -> float:
    """badge-maker's brightness of a CSS color: 0 (black) to 1, to 2 decimals; 0 if unparsable.

    NaN for a color whose channels css-color-converter reads as NaN (no threshold compares true).
    """
    rgb = _rgb(color)
    if rgb is None:
        return 0.0
    value = (rgb[0] * 299 + rgb[1] * 587 + rgb[2] * 114) / 255000
    if math.isnan(value):
        return value
    num, den = value.as_integer_ratio()
    return (200 * num + den) // (2 * den) / 100  # toFixed(2): exact, halves up


def _text_colors(fill: str) -> tuple[str, str]:
    """(text, shadow) colors: dark text on light backgrounds, with badge-maker's threshold."""
    return ("#fff", "#010101") if brightness(fill) <= 0.69 else ("#333", "#ccc")


# --- text ---------------------------------------------------------------------------------


def _measure(text: str, font: str) -> float:
    """anafanafo's width: table widths summed in order; controls are 0, unknowns are an 'm'."""
    latin1 = verdana.latin1(font)  # most badges never need the full table decoded
    em = latin1[ord("m")] or 0.0
    total = 0.0
    for ch in text:
        cp = ord(ch)
        if cp <= 31 or cp == 127:
            continue
        if cp < 256:
            width = latin1[cp]
        else:
            starts, ends, widths = verdana.table(font)
            i = bisect_right(starts, cp) - 1
            width = widths[i] if i >= 0 and cp <= ends[i] else None
        total += em if width is None else width
    return total


def text_width(text: str) -> float:
    """Width of `text` in 11px Verdana as badge-maker measures it (before its rounding)."""
    return _measure(text, "NORMAL_11")


def preferred_width(text: str, font: str = "NORMAL_11") -> int:
    """Truncated, then bumped to odd "to increase chances of pixel grid alignment"."""
    width = int(_measure(text, font))
    return width + 1 if width % 2 == 0 else width


@cache
def _newer_capitals() -> dict[int, int]:
    return {cp: cp + delta for first, last, delta in _NEWER_CAPITALS for cp in range(first, last + 1)}


def _js_upper(text: str) -> str:
    """String.prototype.toUpperCase() as node 20 does it (full mappings, e.g. ß -> SS)."""
    return text.upper().translate(_newer_capitals())


def _js_capitalize(text: str) -> str:
    """charAt(0).toUpperCase() + slice(1): the first UTF-16 code unit only (an astral first
    character is half a surrogate pair there, which has no capital)."""
    if not text or ord(text[0]) > 0xFFFF:
        return text
    return _js_upper(text[0]) + text[1:]


def _js_length(text: str) -> int:
    """String.length: UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


# --- XML ----------------------------------------------------------------------------------


def _js_num(x: float) -> str:
    """Number-to-string as JavaScript prints it (shortest round-trip digits, JS exponent rules)."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == int(x) and abs(x) < 1e21:
        return str(int(x))
    sign = "-" if x < 0 else ""
    mantissa, _, exp = repr(abs(float(x))).partition("e")
    whole, _, frac = mantissa.partition(".")
    digits = (whole + frac).lstrip("0")
    trimmed = digits.rstrip("0")
    k = len(trimmed)
    n = k + int(exp or 0) - len(frac) + (len(digits) - k)  # value = 0.<trimmed> * 10**n
    if k <= n <= 21:
        return sign + trimmed + "0" * (n - k)
    if 0 < n <= 21:
        return sign + trimmed[:n] + "." + trimmed[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + trimmed
    e = n - 1
    return sign + trimmed[0] + ("." + trimmed[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def _esc(text: str) -> str:
    text = _re("illegal_xml").sub("", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("'", "&apos;")
    )


def _tag(name: str, attrs: Mapping[str, str | float], content: str | None = None) -> str:
    """One element; `content` is markup (already escaped), None makes it self-closing."""
    rendered = "".join(f' {k}="{_js_num(v) if isinstance(v, (int, float)) else _esc(v)}"' for k, v in attrs.items())
    return f"<{name}{rendered}/>" if content is None else f"<{name}{rendered}>{content}</{name}>"


def _document(width: float, height: int, accessible: str, body: str) -> str:
    attrs: Attrs = {"xmlns": "http://www.w3.org/2000/svg", "width": width, "height": height}
    attrs |= {"role": "img", "aria-label": accessible}
    return _tag("svg", attrs, _tag("title", {}, _esc(accessible)) + body)


def _foreground(font_size: int, texts: str) -> str:
    attrs: Attrs = {"fill": "#fff", "text-anchor": "middle", "font-family": FONT_FAMILY}
    attrs |= {"text-rendering": "geometricPrecision", "font-size": font_size}
    return _tag("g", attrs, texts)


def _image(x: float, badge_height: int, logo: str, width: float) -> str:
    """The logo, vertically centred: badge-maker's <image>, 14px high."""
    attrs: Attrs = {"x": x, "y": 0.5 * (badge_height - LOGO_HEIGHT), "width": width, "height": LOGO_HEIGHT}
    return _tag("image", {**attrs, "href": logo})


def _with_fill(attrs: Mapping[str, str | float], text_color: str) -> Mapping[str, str | float]:
    # The foreground group already fills with #fff, so only a dark fill is spelled out.
    return attrs if text_color == "#fff" else {**attrs, "fill": text_color}


# --- layouts ------------------------------------------------------------------------------

_BLUR = '<filter id="blur"><feGaussianBlur stdDeviation="16"/></filter>'
_STOPS = {
    "flat": '<stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/>',
    "plastic": (
        '<stop offset="0" stop-color="#fff" stop-opacity=".7"/>'
        '<stop offset=".1" stop-color="#aaa" stop-opacity=".1"/>'
        '<stop offset=".9" stop-color="#000" stop-opacity=".3"/>'
        '<stop offset="1" stop-color="#000" stop-opacity=".5"/>'
    ),
}


def _classic(
    style: str, label: str, message: str, color: str, label_color: str | None, logo: str | None, logo_width: float
) -> str:
    """flat, flat-square and plastic: one geometry, 20px (plastic 18px) high, 5px padding.

    A logo sits 5px from the left edge; before a label it takes its width plus a 3px gap from
    the label part, and without a label part it widens the message part instead.
    """
    height, y_shift, shadow = {
        "flat": (20, 0, True),
        "flat-square": (20, 0, False),
        "plastic": (18, -10, True),
    }[style]
    has_logo = bool(logo)
    logo_width = logo_width if has_logo else 0
    total_logo = logo_width + (3 if has_logo and label else 0)
    has_label = bool(label) or label_color is not None
    left_color = (label_color or DEFAULT_LABEL_COLOR) if has_label or has_logo else color
    label_width = preferred_width(label) if label else 0
    left = label_width + 10 + total_logo if has_label else 0
    message_width = preferred_width(message)
    message_margin = left - (1 if message else 0)
    if not has_label:
        message_margin = message_margin + total_logo + 5 if has_logo else message_margin + 1
    right: float = message_width + 10
    if has_logo and not has_label:
        right += total_logo + (4 if message else 0)
    width = left + right

    def text(margin: float, content: str, fill: str, text_width: int) -> str:
        if not content:
            return ""
        text_color, shadow_color = _text_colors(fill)
        x, y, length = 10 * (margin + 0.5 * text_width + 5), 140 + y_shift, 10 * text_width
        body = _esc(content)
        if not shadow:
            flat: Attrs = {"x": x, "y": y, "textLength": length, "transform": "scale(.1)"}
            return _tag("text", _with_fill(flat, text_color), body)
        blur: Attrs = {"x": x, "y": y + 10, "fill-opacity": ".8", "filter": "url(#blur)", "textLength": length}
        blurred = _tag("text", blur, body)
        faint = _tag("text", {"x": x, "y": y + 10, "fill-opacity": ".3", "textLength": length}, body)
        front = _tag("text", _with_fill({"x": x, "y": y, "textLength": length}, text_color), body)
        shadows = _tag("g", {"aria-hidden": "true", "fill": shadow_color}, blurred + faint)
        return _tag("g", {"transform": "scale(.1)"}, shadows + front)

    rects = _tag("rect", {"width": left, "height": height, "fill": left_color})
    rects += _tag("rect", {"x": left, "width": right, "height": height, "fill": color})
    texts = text(total_logo + 1, label, left_color, label_width) + text(message_margin, message, color, message_width)
    image = _image(5, height, logo, logo_width) if logo else ""
    foreground = _foreground(110, image + texts)
    if style == "flat-square":
        body = _tag("g", {"shape-rendering": "crispEdges"}, rects) + foreground
    else:
        radius = 3 if style == "flat" else 4
        gloss = _tag("rect", {"width": width, "height": height, "fill": "url(#s)"})
        body = (
            _BLUR
            + _tag("linearGradient", {"id": "s", "x2": 0, "y2": "100%"}, _STOPS[style])
            + _tag("clipPath", {"id": "r"}, _tag("rect", {"width": width, "height": height, "rx": radius}))
            + _tag("g", {"clip-path": "url(#r)"}, rects + gloss)
            + foreground
        )
    accessible = f"{label}: {message}" if label else message
    return _document(width, height, accessible, body)


def _for_the_badge(
    label: str, message: str, color: str, label_color: str | None, logo: str | None, logo_width: float
) -> str:
    """28px high, upper case, 10px Verdana (bold message), 1.25px letter spacing per code unit.

    A logo sits 9px from the left edge, 6px before the first text; it gets a label part of its
    own when there is a label or a label color, and otherwise widens the message part.
    """
    label, message = _js_upper(label), _js_upper(message)
    label_width = int(_measure(label, "NORMAL_10")) + 1.25 * _js_length(label) if label else 0
    message_width = int(_measure(message, "BOLD_10")) + 1.25 * _js_length(message) if message else 0
    has_label = bool(label)
    needs_label_part = has_label or (bool(logo) and label_color is not None)
    gutter = 6 - 9 if not label and not message else 6
    label_x = 9 + logo_width + gutter if logo else 12
    if needs_label_part:
        left = label_x + label_width + 12 if has_label else 2 * 9 + logo_width
        message_x = left + 12
        right = 24 + message_width
    elif logo:
        left, message_x = 0, 12 + logo_width + gutter
        right = 24 + logo_width + gutter + message_width
    else:
        left, message_x, right = 0, 12, 24 + message_width
    left_color = label_color or DEFAULT_LABEL_COLOR

    def text(min_x: float, content: str, fill: str, width: float, bold: bool) -> str:
        x = 10 * (min_x + 0.5 * width)
        attrs: Attrs = {"transform": "scale(.1)", "x": x, "y": 175, "textLength": 10 * width}
        if bold:
            attrs["font-weight"] = "bold"
        return _tag("text", _with_fill(attrs, _text_colors(fill)[0]), _esc(content))

    if needs_label_part:
        rects = _tag("rect", {"width": left, "height": 28, "fill": left_color})
        rects += _tag("rect", {"x": left, "width": right, "height": 28, "fill": color})
    else:
        rects = _tag("rect", {"width": right, "height": 28, "fill": color})
    texts = _image(9, 28, logo, logo_width) if logo else ""
    if has_label:
        texts += text(label_x, label, left_color, label_width, False)
    texts += text(message_x, message, color, message_width, True)
    body = _tag("g", {"shape-rendering": "crispEdges"}, rects) + _foreground(100, texts)
    accessible = f"{label}: {message}" if label else message
    return _document(left + right, 28, accessible, body)


_SOCIAL_STYLE = "a:hover #llink{fill:url(#b);stroke:#ccc}a:hover #rlink{fill:#4183c4}"
_SOCIAL_GRADIENTS = (
    '<linearGradient id="a" x2="0" y2="100%"><stop offset="0" stop-color="#fcfcfc" stop-opacity="0"/>'
    '<stop offset="1" stop-opacity=".1"/></linearGradient>'
    '<linearGradient id="b" x2="0" y2="100%"><stop offset="0" stop-color="#ccc" stop-opacity=".1"/>'
    '<stop offset="1" stop-opacity=".1"/></linearGradient>'
)


def _social(label: str, message: str, logo: str | None, logo_width: float) -> str:
    """GitHub-button look: a light label button (capitalised, bold 11px Helvetica) and, when
    there is a message, a speech bubble 6px to its right. Colors play no part."""
    label = _js_capitalize(label)
    logo_width = logo_width if logo else 0
    total_logo = logo_width + (3 if logo and label else 0)
    label_text = preferred_width(label, "HELVETICA_BOLD_11")  # 1 even for no label, like badge-maker
    message_text = preferred_width(message, "HELVETICA_BOLD_11")
    label_rect = label_text + total_logo + 2 * 5
    message_rect = message_text + 2 * 4
    button: Attrs = {"x": ".5", "y": ".5", "width": label_rect, "height": 19, "rx": 2}
    background = _tag("rect", {"stroke": "none", "fill": "#fcfcfc", **button})
    if message:
        main_x, notch_x = label_rect + 6 + 0.5, label_rect + 6
        background += _tag("rect", {"x": main_x, "y": ".5", "width": message_rect, "height": 19, "rx": 2, "fill": "#fafafa"})
        background += _tag("rect", {"x": notch_x, "y": 7.5, "width": ".5", "height": 5, "stroke": "#fafafa"})
        background += _tag("path", {"d": f"M{_js_num(main_x)} 6.5 l-3 3v1 l3 3", "fill": "#fafafa"})

    def text(x: float, content: str, width: int, front: Attrs) -> str:
        body = _esc(content)
        shadow: Attrs = {"aria-hidden": "true", "x": x, "y": 150, "fill": "#fff", "transform": "scale(.1)"}
        return _tag("text", {**shadow, "textLength": width}, body) + _tag(
            "text", {**front, "x": x, "y": 140, "transform": "scale(.1)", "textLength": width}, body
        )

    texts = _tag("rect", {"id": "llink", "stroke": "#d5d5d5", "fill": "url(#a)", **button})
    texts += text(10 * (total_logo + label_text / 2 + 5), label, 10 * label_text, {})
    if message:
        texts += text(10 * (label_rect + 6 + message_rect / 2), message, 10 * message_text, {"id": "rlink"})
    foreground: Attrs = {"aria-hidden": "true", "fill": "#333", "text-anchor": "middle"}
    foreground |= {"font-family": SOCIAL_FONT_FAMILY, "text-rendering": "geometricPrecision", "font-weight": 700}
    foreground |= {"font-size": "110px", "line-height": "14px"}
    body = (
        _tag("style", {}, _esc(_SOCIAL_STYLE))
        + _SOCIAL_GRADIENTS
        + _tag("g", {"stroke": "#d5d5d5"}, background)
        + (_image(5, 20, logo, logo_width) if logo else "")
        + _tag("g", foreground, texts)
    )
    accessible = f"{label}: {message}" if label else message
    return _document(label_rect + 1 + (6 + message_rect if message else 0), 20, accessible, body)


def render(
    label: str | None,
    message: str,
    color: str,
    *,
    style: str = "flat",
    label_color: str | None = None,
    logo: str | None = None,
    logo_width: float = DEFAULT_LOGO_WIDTH,
) -> str:
    """The badge as an SVG document; unknown colors fall back to badge-maker's defaults.

    `logo` is an image URI (normally a `data:` URI, see `logos.logo_data_uri`) drawn 14px high
    and `logo_width` wide, placed as badge-maker places it; None or "" draws no logo. The social
    style ignores both colors, as badge-maker does.

    Raises ValueError for a style outside STYLES (callers choose their own fallback) and for a
    logo width that is not a positive finite number.
    """
    if style not in STYLES:
        raise ValueError(f"unknown badge style {style!r}")
    if not (isinstance(logo_width, (int, float)) and math.isfinite(logo_width) and logo_width > 0):
        raise ValueError(f"logo width must be a positive number, not {logo_width!r}")
    label = (label or "").strip(_JS_SPACE)
    message = message.strip(_JS_SPACE)
    if style == "social":
        return _social(label, message, logo, logo_width)
    fill = normalize_color(color) or DEFAULT_COLOR
    left_fill = normalize_color(label_color)
    if style == "for-the-badge":
        return _for_the_badge(label, message, fill, left_fill, logo, logo_width)
    return _classic(style, label, message, fill, left_fill, logo, logo_width)


def escape_text(text: str) -> str:
    """Text for SVG content or an attribute value: XML-escaped, characters XML forbids left out."""
    return _esc(text)
