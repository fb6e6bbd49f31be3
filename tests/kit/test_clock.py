"""kit.clock: UTC millisecond stamps from an epoch float."""

import time
from datetime import UTC, datetime

import pytest

from lambdasmith.kit.clock import utc_iso_ms, utc_stamp_ms


@pytest.mark.parametrize(
    ("t", "text"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (1767323045.678, "2026-01-02T03:04:05.678Z"),
        (1767323045.0009, "2026-01-02T03:04:05.000Z"),  # truncated, not rounded
        (1767323045.9999, "2026-01-02T03:04:05.999Z"),
    ],
)
def test_iso_ms(t, text):
    assert utc_iso_ms(t) == text


def test_agrees_with_datetime_to_the_millisecond():
    for t in (1700000000.25, 1735689599.999, 951782400.5):
        dt = datetime.fromtimestamp(t, UTC)
        assert utc_iso_ms(t) == dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_now_by_default(monkeypatch):
    monkeypatch.setattr(time, "time", lambda: 86400.5)
    assert utc_iso_ms() == "1970-01-02T00:00:00.500Z"


def test_other_shapes_of_the_same_stamp():
    assert utc_stamp_ms(1767323045.678, "%Y-%m-%d %H:%M:%S", ",", "+0000") == "2026-01-02 03:04:05,678+0000"


def test_fixed_width_so_text_order_is_time_order():
    stamps = [utc_iso_ms(t) for t in (1.0, 9.5, 10.001, 1e9, 1767323045.678)]
    assert sorted(stamps) == stamps and len({len(s) for s in stamps}) == 1
