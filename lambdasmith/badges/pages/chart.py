"""The dashboard's trend chart: one stacked bar per run (passed, failed, skipped), oldest on the
left, drawn by the server as inline SVG so it reads without JavaScript.

A failure must be seen at a glance even in a suite of thousands, so a failed part is never drawn
shorter than MIN_FAILED px, and a run with failures has a red mark above its bar; the exact
counts are in each bar's tooltip and in the table. For assistive technology the chart is one image with a title and a summary (`role="img"`,
`aria-labelledby`); each bar's own `<title>` is its tooltip, and the page lists the same runs in
a table beside it.
"""

from __future__ import annotations

from lambdasmith.badges.pages.html import esc
from lambdasmith.badges.trend import pass_rate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Mapping, Sequence

__all__ = ["COLORS", "count", "render", "summary"]

COLORS = {"passed": "#3fa34d", "failed": "#d64545", "skipped": "#a0a0a0"}
WIDTH, HEIGHT = 640, 180
MIN_FAILED = 3.0
_PLOT_TOP, _PLOT_BOTTOM, _PLOT_LEFT, _PLOT_RIGHT = 12, 150, 44, 632


def count(run: Mapping[str, Any], key: str) -> int:
    """A run's `passed`, `failed` or `skipped`; 0 for anything but a positive whole number."""
    value = run.get(key, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def summary(runs: Sequence[Mapping[str, Any]]) -> str:
    """One sentence about the runs (oldest first), for the chart's description."""
    if not runs:
        return "No runs."
    clean = sum(1 for r in runs if count(r, "failed") == 0)
    latest = runs[-1]
    rates = [r for r in (pass_rate(run) for run in runs) if r is not None]
    rate = f" Pass rate from {min(rates):.0f}% to {max(rates):.0f}%." if rates else ""
    return (
        f"{len(runs)} runs, {clean} without failures, {len(runs) - clean} with failures.{rate} Latest: "
        f"{count(latest, 'passed')} passed, {count(latest, 'failed')} failed, {count(latest, 'skipped')} skipped."
    )


def render(runs: Sequence[Mapping[str, Any]], chart_id: str, caption: str) -> str:
    """The chart of `runs` (oldest first); `chart_id` makes its element ids unique on the page."""
    tallest = max((count(r, "passed") + count(r, "failed") + count(r, "skipped") for r in runs), default=0)
    scale = (_PLOT_BOTTOM - _PLOT_TOP) / tallest if tallest else 0.0
    slot = (_PLOT_RIGHT - _PLOT_LEFT) / max(len(runs), 1)
    bar = max(min(slot * 0.7, 40), 1)
    bars = []
    for i, run in enumerate(runs):
        x = _PLOT_LEFT + i * slot + (slot - bar) / 2
        y = float(_PLOT_BOTTOM)
        rects = []
        for key in ("passed", "failed", "skipped"):
            h = count(run, key) * scale
            if h <= 0:
                continue
            if key == "failed":
                h = max(h, MIN_FAILED)
            y -= h
            rects.append(f'<rect class="{key}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{COLORS[key]}"/>')
        if count(run, "failed"):
            rects.append(f'<circle class="failed-mark" cx="{x + bar / 2:.1f}" cy="{max(y - 5, 3):.1f}" r="2.5" '
                         f'fill="{COLORS["failed"]}"/>')
        when = esc(run.get("timestamp", ""))
        tip = (f"{when}: {count(run, 'passed')} passed, {count(run, 'failed')} failed, "
               f"{count(run, 'skipped')} skipped")
        bars.append(f'<g class="run"><title>{tip}</title>{"".join(rects)}</g>')
    axis = (
        f'<line x1="{_PLOT_LEFT}" y1="{_PLOT_BOTTOM}" x2="{_PLOT_RIGHT}" y2="{_PLOT_BOTTOM}" stroke="#888"/>'
        f'<text x="{_PLOT_LEFT - 6}" y="{_PLOT_TOP + 4}" text-anchor="end">{tallest}</text>'
        f'<text x="{_PLOT_LEFT - 6}" y="{_PLOT_BOTTOM}" text-anchor="end">0</text>'
    )
    if runs:
        first, last = esc(str(runs[0].get("timestamp", ""))[:10]), esc(str(runs[-1].get("timestamp", ""))[:10])
        axis += (f'<text x="{_PLOT_LEFT}" y="{_PLOT_BOTTOM + 18}">{first}</text>'
                 f'<text x="{_PLOT_RIGHT}" y="{_PLOT_BOTTOM + 18}" text-anchor="end">{last}</text>')
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'font-family="sans-serif" font-size="11" fill="#444">'
        f'<title id="{title_id}">{esc(caption)}</title><desc id="{desc_id}">{esc(summary(runs))}</desc>'
        f'{axis}{"".join(bars)}</svg>'
    )
