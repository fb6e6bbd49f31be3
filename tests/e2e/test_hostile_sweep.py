"""The hostile sweep (tests/support/sweep.py) against a running `lambdasmith serve`: every
route on every port, malformed, deep, huge, oddly encoded, edge timestamps, control characters.
No answer may be a 5xx except an upstream route's 502, and every request gets an answer."""

from __future__ import annotations

import time

import pytest

from tests.support.sweep import serving, sweep, table

pytestmark = pytest.mark.e2e


def test_no_hostile_request_gets_a_5xx(tmp_path, capsys):
    with serving(str(tmp_path)) as (urls, token):
        started = time.monotonic()
        counts, bad = sweep(urls, token)
        with capsys.disabled():
            print("\nhostile sweep:\n" + table(counts, time.monotonic() - started))
    assert sum(counts.values()) > 1500
    assert bad == [], "\n".join(map(str, bad[:30]))
