"""The trend badge (NEW: no anchor has one): a sparkline of the last runs' pass rate and the
latest figure, `tests | ╱╲_╱ 97%`, for a README that wants to show direction, not only state.

Pass rate is passed / (passed + failed): skipped tests are no verdict. A run that executed
nothing has no rate and is left out of the line. The figure is rounded down, so a run with any
failure never reads 100%.

The line is scaled to the window: from the lowest rate shown (but at least MIN_SPAN points below
100%) at the bottom to 100% at the top. A suite that moves between 97% and 100% shows that
movement, and one that wobbles by a tenth of a percent does not look like a crash.
"""

from __future__ import annotations

from math import floor

from lambdasmith.badges import svg

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Sequence

__all__ = ["DEFAULT_RUNS", "MAX_RUNS", "pass_rate", "percent", "rate_color", "runs_wanted", "render"]

DEFAULT_RUNS = 20
MAX_RUNS = 50
STYLES = ("flat", "flat-square")  # the 20px styles; any other style is drawn flat
MIN_SPAN = 5.0  # percentage points the line's height spans at least
_SLOT = 3  # px of sparkline per run
_HEIGHT = 20
_TOP, _BOTTOM = 4.0, 15.0  # y of 100% and of 0%
_FONT = "Verdana,Geneva,DejaVu Sans,sans-serif"


def pass_rate(run: Mapping[str, Any]) -> float | None:
    """Percentage of executed tests that passed, or None when the run executed none."""
    passed, failed = int(run.get("passed", 0)), int(run.get("failed", 0))
    executed = passed + failed
    return None if executed == 0 else 100.0 * passed / executed


def percent(rate: float | None) -> str:
    """`97%`, rounded down (a run with any failure never reads 100%); `no tests` for None."""
    return "no tests" if rate is None else f"{floor(rate)}%"


def rate_color(rate: float | None) -> str:
    if rate is None:
        return "lightgrey"
    for floor_, color in ((100, "brightgreen"), (95, "green"), (80, "yellowgreen"), (60, "yellow"), (40, "orange")):
        if rate >= floor_:
            return color
    return "red"


def runs_wanted(query: Mapping[str, str]) -> int:
    """`?runs=` within 2..MAX_RUNS; anything unreadable is the default (a README's image never breaks)."""
    raw = query.get("runs", "")
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 3:
        return DEFAULT_RUNS
    return min(max(int(raw), 2), MAX_RUNS)


def _text(x_center: float, text: str, width: int, shadow: bool) -> str:
    body = svg.escape_text(text)
    attrs = f'x="{x_center * 10:g}" textLength="{width * 10}" transform="scale(.1)"'
    front = f'<text {attrs} y="140">{body}</text>'
    if not shadow:
        return front
    return f'<text {attrs} y="150" fill="#010101" fill-opacity=".3" aria-hidden="true">{body}</text>' + front


def render(runs: Sequence[Mapping[str, Any]], query: Mapping[str, str], label: str = "tests") -> str:
    """The badge for `runs`, oldest first (the caller's slice of the history)."""
    rates = [pass_rate(r) for r in runs]
    latest = rates[-1] if rates else None
    figure = percent(latest)
    label = query["label"] if "label" in query else label
    style = query.get("style", "flat").lower()
    flat = style != "flat-square"
    color = svg.normalize_color(query.get("color")) or svg.normalize_color(rate_color(latest)) or "#9f9f9f"
    label_color = svg.normalize_color(query.get("labelColor") or query.get("labelcolor")) or svg.DEFAULT_LABEL_COLOR

    label_w = svg.preferred_width(label) if label else 0
    left = label_w + 10 if label else 0
    spark_w = _SLOT * max(len(runs), 2)
    figure_w = svg.preferred_width(figure)
    right = 5 + spark_w + 4 + figure_w + 5
    total = left + right

    points = [(i, r) for i, r in enumerate(rates) if r is not None]
    x0 = left + 5
    low = min([r for _, r in points] + [100.0 - MIN_SPAN])
    coords = [(x0 + (i + 0.5) * _SLOT, _BOTTOM - (_BOTTOM - _TOP) * (r - low) / (100.0 - low)) for i, r in points]
    if len(coords) == 1:
        coords = [(x0, coords[0][1]), (x0 + spark_w, coords[0][1])]
    line = ""
    if coords:
        pts = " ".join(f"{x:g},{y:.2f}" for x, y in coords)
        line = (f'<polyline points="{pts}" fill="none" stroke="#fff" stroke-width="1.4" '
                'stroke-linejoin="round" stroke-linecap="round"/>')
        line += f'<circle cx="{coords[-1][0]:g}" cy="{coords[-1][1]:.2f}" r="1.6" fill="#fff"/>'
    else:  # nothing executed in any run: a flat dotted line where the trend would be
        line = (f'<line x1="{x0}" y1="{_BOTTOM}" x2="{x0 + spark_w}" y2="{_BOTTOM}" stroke="#fff" '
                'stroke-width="1" stroke-dasharray="1,2"/>')

    shown = [r for r in rates if r is not None]
    summary = f"{label}: {figure}" + (f", pass rate over the last {len(runs)} runs from {floor(min(shown))}% to "
                                      f"{floor(max(shown))}%" if len(shown) > 1 else "")
    summary = summary.removeprefix(": ")
    rects = (f'<rect width="{left}" height="{_HEIGHT}" fill="{label_color}"/>' if left else "") + \
        f'<rect x="{left}" width="{right}" height="{_HEIGHT}" fill="{color}"/>'
    texts = (_text(left / 2, label, label_w, flat) if label else "") + \
        _text(left + right - 5 - figure_w / 2, figure, figure_w, flat)
    if flat:
        frame = (
            '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
            '<stop offset="1" stop-opacity=".1"/></linearGradient>'
            f'<clipPath id="r"><rect width="{total}" height="{_HEIGHT}" rx="3" fill="#fff"/></clipPath>'
            f'<g clip-path="url(#r)">{rects}<rect width="{total}" height="{_HEIGHT}" fill="url(#s)"/></g>'
        )
    else:
        frame = f'<g shape-rendering="crispEdges">{rects}</g>'
    fg = (f'<g fill="#fff" text-anchor="middle" font-family="{_FONT}" text-rendering="geometricPrecision" '
          f'font-size="110">{texts}</g>')
    title = svg.escape_text(summary)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{_HEIGHT}" role="img" '
            f'aria-label="{title}"><title>{title}</title>{frame}{fg}{line}</svg>')
