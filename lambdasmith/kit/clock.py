"""UTC timestamps at millisecond precision, formatted from an epoch float with `time` alone.

Why a module of its own: the wardrobe and items stores, the badges ingest reply, the push CLI's
X-Timestamp and the JSON logger each wrote "UTC, three fractional digits" by hand (two of them
through `datetime`, which a handler should not load for this). The text is fixed width, so
ISO-8601 stamps sort as they read.
"""

from __future__ import annotations

import time

__all__ = ["utc_iso_ms", "utc_stamp_ms"]


def utc_stamp_ms(t: float, fmt: str = "%Y-%m-%dT%H:%M:%S", dot: str = ".", zone: str = "Z") -> str:
    """`t` (epoch seconds) as `strftime(fmt)` of its UTC second, `dot`, three digits of
    milliseconds (truncated), `zone`. Seconds and milliseconds come from one whole number of ms,
    so they never disagree near a second's edge."""
    ms = int(t * 1000)
    return time.strftime(fmt, time.gmtime(ms // 1000)) + f"{dot}{ms % 1000:03d}{zone}"


def utc_iso_ms(t: float | None = None) -> str:
    """ISO 8601, e.g. `2026-01-02T03:04:05.678Z`; now when `t` is None."""
    return utc_stamp_ms(time.time() if t is None else t)
