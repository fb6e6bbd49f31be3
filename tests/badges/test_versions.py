"""NuGet versions and ranges: precedence per SemVer 2.0 as NuGet applies it, and every range form."""

import pytest

from lambdasmith.badges.versions import Version, VersionRange, best_match, parse_range, parse_version


def v(text: str) -> Version:
    parsed = parse_version(text)
    assert parsed is not None, text
    return parsed


# (lower, higher): each pair must order strictly.
ORDERED = [
    # SemVer 2.0 §11 example chain
    ("1.0.0-alpha", "1.0.0-alpha.1"),
    ("1.0.0-alpha.1", "1.0.0-alpha.beta"),
    ("1.0.0-alpha.beta", "1.0.0-beta"),
    ("1.0.0-beta", "1.0.0-beta.2"),
    ("1.0.0-beta.2", "1.0.0-beta.11"),
    ("1.0.0-beta.11", "1.0.0-rc.1"),
    ("1.0.0-rc.1", "1.0.0"),
    # numeric parts compare numerically
    ("1.0.0", "2.0.0"),
    ("2.0.0", "2.1.0"),
    ("2.1.0", "2.1.1"),
    ("1.9.0", "1.10.0"),
    ("1.0.9", "1.0.10"),
    ("0.9.9", "1.0.0"),
    # four-part versions
    ("1.0.0", "1.0.0.1"),
    ("1.0.0.1", "1.0.0.2"),
    ("1.0.0.9", "1.0.0.10"),
    ("1.0.0.99", "1.0.1"),
    ("1.0.0.1-beta", "1.0.0.1"),
    ("1.0.0", "1.0.0.1-alpha"),
    # prerelease identifiers
    ("1.0.0-1", "1.0.0-a"),  # numeric < alphanumeric
    ("1.0.0-2", "1.0.0-10"),
    ("1.0.0-rc.9", "1.0.0-rc.10"),
    ("1.0.0-beta", "1.0.0-beta.0"),  # more identifiers, equal prefix → higher
    ("1.0.0-a.b", "1.0.0-a.b.c"),
    ("1.0.0-beta-1", "1.0.0-beta-2"),
    ("1.0.0-beta9", "1.0.0-beta99"),  # alphanumeric: lexical, not numeric
    ("1.0.0-beta10", "1.0.0-beta9"),
    ("1.0.0-ALPHA", "1.0.0-beta"),  # case-insensitive, as NuGet compares labels
    ("1.0.0-alpha", "1.0.0-Beta"),
    ("1.0.0-X", "1.0.0-y"),
    ("1.0.0-99999", "1.0.0-alpha"),
    ("1.0.0-rc.1", "1.0.1-alpha"),
    ("1.0.0-rc.1+build.9", "1.0.0-rc.2+build.1"),
    ("1.0.0+zzz", "1.0.1+aaa"),
]


@pytest.mark.parametrize(("low", "high"), ORDERED)
def test_precedence(low, high):
    assert v(low) < v(high)
    assert v(high) > v(low)
    assert v(low) != v(high)
    assert max(v(low), v(high)) is not v(low)


def test_ordering_table_is_long_enough():
    assert len(ORDERED) >= 25


EQUAL = [
    ("1.0", "1.0.0"),
    ("1.0.0", "1.0.0.0"),
    ("1", "1.0.0.0"),
    ("1.0.0+build.1", "1.0.0+build.2"),  # build metadata ignored
    ("1.0.0+build", "1.0.0"),
    ("1.0.0-Beta", "1.0.0-beta"),  # labels compare case-insensitively
    ("1.0.0-RC.1+x", "1.0.0-rc.1"),
    ("1.01.0", "1.1.0"),  # NuGet accepts leading zeros in numeric parts
]


@pytest.mark.parametrize(("a", "b"), EQUAL)
def test_equal_precedence(a, b):
    assert v(a) == v(b)
    assert hash(v(a)) == hash(v(b))
    assert not v(a) < v(b) and not v(b) < v(a)


def test_sorting_a_shuffled_list_follows_precedence():
    chain = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
             "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.0.1", "1.0.1", "1.10.0", "2.0.0"]
    shuffled = [chain[i] for i in (5, 0, 11, 3, 8, 1, 10, 2, 7, 4, 9, 6)]
    assert [str(x) for x in sorted(v(s) for s in shuffled)] == chain


def test_str_keeps_the_text_as_published():
    assert str(v("1.0.0-Beta.1+sha.abc")) == "1.0.0-Beta.1+sha.abc"
    assert str(v("1.0")) == "1.0"


def test_parts():
    x = v("1.2.3.4-rc.1+meta")
    assert x.release == (1, 2, 3, 4)
    assert x.prerelease == ("rc", "1")
    assert x.build == "meta"
    assert x.is_prerelease
    assert not v("1.2").is_prerelease
    assert v("1.2").release == (1, 2, 0, 0)


@pytest.mark.parametrize("text", [
    "", "v1.0.0", "V1.0", "1.0.0.0.0", "1..0", ".1", "1.", "1.0.0-", "1.0.0+", "1.0.0-beta..1",
    "1.0.0-beta_1", "1.0.0-bêta", "1.0.0 ", " 1.0.0", "1.0.0-beta+", "a.b.c", "1.0.0-+x", "١.٠", "1.*", "-1.0",
    "1.0.0+build+more",
])
def test_invalid_versions_parse_to_none(text):
    assert parse_version(text) is None


def test_non_strings_are_not_versions():
    assert parse_version(None) is None  # type: ignore[arg-type]
    assert parse_version(1) is None  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- ranges


def contains(rng: str, version: str) -> bool:
    return parse_range(rng).contains(v(version))


@pytest.mark.parametrize(("rng", "inside", "outside"), [
    ("1.0", ["1.0.0", "1.0.0.1", "2.0", "99.0.0"], ["0.9.9", "1.0.0-rc.1"]),
    ("[1.0,2.0)", ["1.0", "1.5.0", "2.0.0-beta", "1.9.9.9"], ["0.9", "2.0.0", "2.0.1"]),
    ("(1.0,2.0)", ["1.0.0.1", "1.9"], ["1.0.0", "2.0"]),
    ("[1.0,2.0]", ["1.0", "2.0", "2.0.0.0"], ["2.0.0.1", "0.1"]),
    ("(1.0,2.0]", ["2.0"], ["1.0"]),
    ("(,2.0]", ["0.0.1", "2.0.0"], ["2.0.1"]),
    ("(,2.0)", ["1.99"], ["2.0"]),
    ("[1.0,)", ["1.0", "1000.0"], ["0.9.9"]),
    ("(1.0,)", ["1.0.0.1"], ["1.0"]),
    ("[1.0]", ["1.0", "1.0.0.0", "1.0.0+build"], ["1.0.0.1", "1.0.0-beta", "0.9"]),
    ("[1.0.0-beta,1.0.0]", ["1.0.0-beta", "1.0.0-rc.1", "1.0.0"], ["1.0.0-alpha"]),
    (" [ 1.0 , 2.0 ) ", ["1.0"], ["2.0"]),
    ("  1.2  ", ["1.2.0"], ["1.1.9"]),
])
def test_bounded_ranges(rng, inside, outside):
    for s in inside:
        assert contains(rng, s), f"{s} should be in {rng}"
    for s in outside:
        assert not contains(rng, s), f"{s} should not be in {rng}"


@pytest.mark.parametrize(("rng", "inside", "outside"), [
    ("*", ["0.0.1", "1.0", "99.1.2.3"], []),
    ("1.*", ["1.0", "1.2.3", "1.99.0.7", "1.5.0-beta"], ["2.0.0", "0.9", "10.0"]),
    ("1.2.*", ["1.2", "1.2.9", "1.2.9.9"], ["1.3.0", "1.20.0", "2.2.0"]),
    ("1.2.3.*", ["1.2.3", "1.2.3.4"], ["1.2.4"]),
    ("1.0.0-*", ["1.0.0-alpha", "1.0.0-rc.2", "1.0.0"], ["1.0.1-alpha", "0.9.0"]),
    ("1.0.0-beta.*", ["1.0.0-beta.1", "1.0.0-BETA.7", "1.0.0"], ["1.0.0-beta", "1.0.0-alpha.1", "1.0.0-rc.1"]),
    ("1.0.0-beta*", ["1.0.0-beta", "1.0.0-beta2", "1.0.0-beta.3"], ["1.0.0-alpha"]),
    ("*-*", ["1.0.0-alpha", "3.0"], []),
    ("1.*-*", ["1.4.0-rc.1", "1.0"], ["2.0.0-alpha"]),
])
def test_floating_ranges_match_by_prefix(rng, inside, outside):
    for s in inside:
        assert contains(rng, s), f"{s} should be in {rng}"
    for s in outside:
        assert not contains(rng, s), f"{s} should not be in {rng}"


def test_only_floating_prerelease_ranges_imply_prerelease():
    assert parse_range("1.0.0-*").implies_prerelease
    assert parse_range("1.0.0-rc.*").implies_prerelease
    assert parse_range("*-*").implies_prerelease
    assert not parse_range("1.*").implies_prerelease
    assert not parse_range("*").implies_prerelease
    assert not parse_range("[1.0.0-beta,2.0)").implies_prerelease


def test_range_keeps_its_text():
    assert str(parse_range(" [1.0,2.0) ")) == "[1.0,2.0)"


def test_exact_range_has_both_bounds_inclusive():
    r = parse_range("[1.2.3]")
    assert isinstance(r, VersionRange)
    assert r.min == r.max == v("1.2.3")
    assert r.min_inclusive and r.max_inclusive


@pytest.mark.parametrize("text", [
    "[1.0", "1.0]", "(1.0)", "(1.0]", "[1.0)", "[2.0,1.0]", "(2.0,1.0)", "[1.0,1.0)", "(1.0,1.0]", "abc", "1.**",
    "**", "1.*.*", "1.*.0", "", "   ", "[]", "()", "[,]", "(,)", "[1.0,2.0,3.0]", "1.*-beta", "1.0.0-be*ta",
    "1.0.0-*-*", "[1.0,2.*)", "[1.*]", "[1.0.0-beta*,1.0.0-alpha]", "-*", "1.2.3.4.*", "v1.0", "[v1.0,)", "1.0.0+*", "1.0.0-.*", "1.0.0-beta..*",
    "x" * 300,
])
def test_invalid_ranges_raise_value_error(text):
    with pytest.raises(ValueError):
        parse_range(text)


def test_exact_range_written_twice_is_accepted():
    assert contains("[1.0,1.0]", "1.0.0")


@pytest.mark.parametrize("rng", ["(1.0,1.0)", "(1.0.0, 1.0)"])
def test_a_range_nuget_accepts_may_match_nothing(rng):
    r = parse_range(rng)  # valid for NuGet, so a badge answers "not found", not "bad range"
    assert not any(r.contains(v(x)) for x in ("0.9", "1.0", "1.0.0-rc.1", "1.0.0.1", "2.0"))
    assert best_match(["0.9", "1.0", "1.0.1"], r) is None


@pytest.mark.parametrize(("rng", "inside", "outside"), [
    ("[1.*,2.0)", ["1.0.0", "1.9.9"], ["0.9.9", "2.0.0"]),  # a floating lower bound is its lowest version
    ("(1.0.*,2.0]", ["1.0.1", "2.0.0"], ["1.0.0", "2.0.1"]),
    ("[1.0.0-*,1.0.0]", ["1.0.0-0", "1.0.0-alpha", "1.0.0"], ["0.9.9", "1.0.1"]),
    ("[1.0.0-rc.*,)", ["1.0.0-rc.0", "1.0.0-rc.1", "1.0.0"], ["1.0.0-rc", "1.0.0-beta"]),
    ("[1.0.0-rc*,)", ["1.0.0-rc", "1.0.0-rc.1"], ["1.0.0-beta"]),
    ("[*,1.0)", ["0.0.0", "0.9.0"], ["1.0.0"]),
])
def test_floating_lower_bound_inside_brackets(rng, inside, outside):
    r = parse_range(rng)
    assert r.floating is None and not r.implies_prerelease  # bounds only, as NuGet's Satisfies
    assert all(r.contains(v(x)) for x in inside)
    assert not any(r.contains(v(x)) for x in outside)


@pytest.mark.parametrize("rng", ["[ , ]", "[ ]", "( ,)", "( , )"])
def test_blank_bounds_are_no_bounds(rng):
    r = parse_range(rng)  # NuGet: only an *empty* part list is "(,)"; blanks just leave a side open
    assert r.min is None and r.max is None
    assert r.contains(v("0.0.1")) and r.contains(v("99.0"))


@pytest.mark.parametrize(("label", "numeric"), [
    ("2147483647", True), ("2147483648", False), ("00000000002147483647", True), ("-1", True),
    ("-2147483648", True), ("-2147483649", False), ("-", False), ("1a", False),
])
def test_prerelease_numbers_are_what_int32_parses(label, numeric):
    # numeric labels sort before every text label, even "-" (which sorts below any digit as text);
    # one past Int32 is text, as in NuGet
    assert (v(f"1.0.0-{label}") < v("1.0.0--")) is numeric


def test_prerelease_labels_beyond_int32_compare_as_text():
    assert v("1.0.0-2147483647") < v("1.0.0-2147483648")  # number < text
    assert v("1.0.0-9999999999") > v("1.0.0-10000000000")  # text: "9" > "1"
    assert v("1.0.0-2147483648") == v("1.0.0-2147483648")


# ---------------------------------------------------------------------------- best match

VERSIONS = ["0.9.0", "1.0.0", "1.0.1", "1.1.0-beta.1", "1.1.0", "1.2.0-rc.1", "2.0.0-alpha", "not-a-version",
            "1.10.0", "2.0.0-beta.2"]


@pytest.mark.parametrize(("rng", "prerelease", "expected"), [
    (None, False, "1.10.0"),
    (None, True, "2.0.0-beta.2"),
    ("1.0", False, "1.10.0"),
    ("[1.0,1.1)", False, "1.0.1"),
    ("[1.0,1.1)", True, "1.1.0-beta.1"),  # a prerelease of the excluded max is below it
    ("[1.0,1.2)", True, "1.2.0-rc.1"),  # 1.2.0-rc.1 < 1.2.0
    ("(,1.0]", False, "1.0.0"),
    ("[1.0.0]", False, "1.0.0"),
    ("1.*", False, "1.10.0"),
    ("1.1.*", False, "1.1.0"),
    ("1.2.*", False, None),  # only a prerelease in 1.2
    ("1.2.*", True, "1.2.0-rc.1"),
    ("2.*", False, None),
    ("2.0.0-*", False, "2.0.0-beta.2"),  # a floating prerelease opts in to prereleases
    ("2.0.0-alpha*", False, "2.0.0-alpha"),
    ("*-*", False, "2.0.0-beta.2"),
    ("[3.0,)", True, None),
])
def test_best_match(rng, prerelease, expected):
    assert best_match(VERSIONS, parse_range(rng) if rng else None, prerelease) == expected


def test_best_match_returns_the_upstream_text_and_the_first_of_equals():
    assert best_match(["1.0", "1.0.0.0", "0.5"], None, False) == "1.0"
    assert best_match(["2.0.0-RC.1", "2.0.0-rc.1"], None, True) == "2.0.0-RC.1"


def test_best_match_skips_garbage_and_empty_input():
    assert best_match([], None, True) is None
    assert best_match(["", "latest", None, 7], None, True) is None  # type: ignore[list-item]


def test_floating_prerelease_prefers_the_release_once_published():
    assert best_match(["1.0.0-beta.1", "1.0.0-beta.2", "1.0.0"], parse_range("1.0.0-beta.*"), False) == "1.0.0"


def test_four_part_and_build_metadata_in_best_match():
    assert best_match(["1.0.0", "1.0.0.1", "1.0.0+zzz"], None, False) == "1.0.0.1"
    assert best_match(["1.0.0+b.2", "1.0.0+b.10"], None, False) == "1.0.0+b.2"
