"""Inputs the hostile sweep found answered with a 500, held at their root (issue 11)."""

from __future__ import annotations

import pytest

from lambdasmith.badges.ingest import parse_timestamp
from lambdasmith.badges.svg import normalize_color
from lambdasmith.badges.versions import parse_version


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "1969-12-31T23:59:59Z",
                                  "２０２６-01-01T00:00:00Z", "2026-01-01T00:00:00" + "0" * 100])  # fmt: skip
def test_timestamps_at_the_edge_of_the_calendar_are_not_timestamps(text):
    assert parse_timestamp(text) is None


def test_an_ordinary_timestamp_still_parses():
    assert parse_timestamp("2026-12-03T10:00:00+01:00").isoformat() == "2026-12-03T09:00:00+00:00"


@pytest.mark.parametrize("color", [f"rgb({'9' * 5000},0,0)", f"hsl({'9' * 5000},1%,1%)", "f" * 5000, "#" + "a" * 200])
def test_huge_colors_fall_back_to_the_default(color):
    assert normalize_color(color) is None


def test_huge_rgb_components_within_the_length_limit_clamp():
    assert normalize_color(f"rgb({'9' * 80},0,0)") == f"rgb({'9' * 80},0,0)"


@pytest.mark.parametrize("text", ["1." + "9" * 5000, "1.²", "1.0.0-" + "1" * 5000 + "x", "2147483648.0.0"])
def test_versions_with_huge_or_odd_numbers_are_refused_not_raised(text):
    try:
        version = parse_version(text)
    except ValueError:
        return
    assert version is None or str(version) == text


def test_a_path_parameter_cannot_forge_a_key_delimiter(tmp_path):
    from lambdasmith.badges.config import BadgesConfig
    from lambdasmith.badges.store import Repo, key_part
    from lambdasmith.badges.wiring import open_store

    store = open_store(BadgesConfig.from_env({"LAMBDASMITH_DATA_DIR": str(tmp_path)}))
    store.record(Repo.of("linux", "acme", "delim", "x#y"), "n1", {"passed": 1}, "20261203T000000000Z")
    assert store.latest(Repo.of("linux", "acme", "delim", "x#y"))["passed"] == 1
    assert store.latest(Repo.of("linux#x", "acme", "delim", "y")) is None
    assert store.latest(Repo.of("linux", "acme#delim", "", "x#y")) is None
    assert key_part("main") == "main" and key_part("feature/x") == "feature/x" and key_part("a%23") == "a%2523"


def test_an_x_timestamp_may_be_rfc_1123_as_badgesmith_accepts():
    from lambdasmith.badges.ingest import parse_header_timestamp

    assert parse_header_timestamp("Thu, 03 Dec 2026 07:00:00 GMT").isoformat() == "2026-12-03T07:00:00+00:00"
    assert parse_header_timestamp("2026-12-03T07:00:00Z").isoformat() == "2026-12-03T07:00:00+00:00"
    for bad in ("Thu, 31 Feb 2026 07:00:00 GMT", "Thu, 03 Dec 0001 07:00:00 GMT", "Thu, 03 Dec 2026 07:00:00 PST",
                "03 Dec 2026 07:00:00 GMT", "Thu, 03 Dec 2026 25:00:00 GMT"):  # fmt: skip
        assert parse_header_timestamp(bad) is None, bad
