"""NuGet versions and version ranges, as the badge query `version=` uses them.

NuGet orders versions by SemVer 2.0 precedence but allows 1 to 4 numeric parts, so `1.0`, `1.0.0`
and `1.0.0.0` are one version. Badges print a version exactly as upstream published it, so a
`Version` keeps its original text; ordering and equality use only its precedence.

Parsing is hand-written (no regex) so importing this module does no work.
"""

from __future__ import annotations

from lambdasmith.kit.numbers import whole_number
from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Iterable

MAX_RANGE_LENGTH = 256  # a query parameter; anything longer is not a range anyone meant

if TYPE_CHECKING:
    _Key = tuple[tuple[int, int, int, int], int, tuple[tuple[int, int | str], ...]]


def _identifiers_ok(text: str) -> bool:
    """Dot-separated, non-empty identifiers of ASCII letters, digits and hyphens."""
    for ident in text.split("."):
        if not ident or not ident.isascii() or not all(c.isalnum() or c == "-" for c in ident):
            return False
    return True


INT32_MAX = 2**31 - 1


def _int32(text: str) -> int | None:
    """A prerelease label NuGet compares as a number: what .NET's Int32.TryParse accepts (ASCII
    digits, an optional leading `-`, leading zeros, within Int32). Longer ones compare as text."""
    digits = text[1:] if text[:1] == "-" else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    significant = digits.lstrip("0")
    if len(significant) > 10:
        return None
    n = -int(significant or "0") if text[:1] == "-" else int(significant or "0")
    return n if -INT32_MAX - 1 <= n <= INT32_MAX else None


def _numeric_parts(text: str, low: int, high: int) -> tuple[int, ...] | None:
    parts = text.split(".")
    if not low <= len(parts) <= high:
        return None
    numbers = tuple(whole_number(p, max_digits=10) for p in parts)  # ASCII digits; NuGet's parts are Int32
    if any(n is None or n > INT32_MAX for n in numbers):
        return None
    return numbers  # type: ignore[return-value]  # no None left


class Version(Record):
    """A parsed NuGet version. Compares by precedence; `str()` is the text as published.

    Build metadata is ignored for ordering and equality, prerelease labels compare
    case-insensitively (as NuGet does), so `1.0.0-Beta+x` == `1.0.0-beta`.
    """

    __slots__ = ("sort_key", "release", "prerelease", "build", "text")

    sort_key: _Key
    release: tuple[int, int, int, int]
    prerelease: tuple[str, ...]
    build: str
    text: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.sort_key == other.sort_key

    def __hash__(self) -> int:
        return hash(self.sort_key)

    def __lt__(self, other: Version) -> bool:
        return self.sort_key < other.sort_key

    def __le__(self, other: Version) -> bool:
        return self.sort_key <= other.sort_key

    def __gt__(self, other: Version) -> bool:
        return self.sort_key > other.sort_key

    def __ge__(self, other: Version) -> bool:
        return self.sort_key >= other.sort_key

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    @property
    def prerelease_label(self) -> str:
        return ".".join(self.prerelease)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Version({self.text!r})"


def parse_version(s: str) -> Version | None:
    """NuGet SemVer 2.0 text → `Version`, or None when it is not one (no leading `v`, no spaces).

    Numeric prerelease identifiers with leading zeros are accepted and compared numerically:
    versions come from upstream feeds, and we would rather rank an odd one than drop it.
    """
    if not isinstance(s, str) or not s or not s.isascii():
        return None
    core, plus, build = s.partition("+")
    if plus and not _identifiers_ok(build):
        return None
    release_text, dash, pre_text = core.partition("-")
    if dash and not _identifiers_ok(pre_text):
        return None
    numbers = _numeric_parts(release_text, 1, 4)
    if numbers is None:
        return None
    major, minor, patch, revision = (numbers + (0, 0, 0))[:4]
    release = (major, minor, patch, revision)
    prerelease = tuple(pre_text.split(".")) if dash else ()
    labels = tuple((0, n) if (n := _int32(p)) is not None else (1, p.lower()) for p in prerelease)
    # A stable version (flag 1) outranks every prerelease (flag 0) of the same release.
    key: _Key = (release, 0 if prerelease else 1, labels)
    return Version(key, release, prerelease, build, s)


class Floating(Record):
    """A floating range such as `1.*`, `1.2.*`, `*`, `1.0.0-*`, `1.0.0-beta.*` or `1.*-*`.

    `fixed` are the leading numeric parts a version must share (all four when only the prerelease
    floats); `prerelease_prefix` is None when the prerelease does not float, else the text a
    prerelease label must start with (case-insensitive; `""` for `-*`).
    """

    __slots__ = ("fixed", "prerelease_prefix")

    fixed: tuple[int, ...]
    prerelease_prefix: str | None

    def contains(self, v: Version) -> bool:
        if v.release[: len(self.fixed)] != self.fixed:
            return False
        if self.prerelease_prefix is None or not v.is_prerelease:
            return True
        return v.prerelease_label.lower().startswith(self.prerelease_prefix.lower())


class VersionRange(Record):
    """A NuGet version range: bounds (`[1.0,2.0)`, `1.0` = ≥ 1.0, `[1.0]`) or a floating range.

    Floating ranges match by prefix, not by NuGet's restore rule (which treats `1.*` as ≥ 1.0 and
    merely *prefers* 1.x): a badge asking for `1.*` should never show 2.0.
    """

    __slots__ = ("min", "min_inclusive", "max", "max_inclusive", "floating", "text")
    _defaults = {"min": None, "min_inclusive": False, "max": None, "max_inclusive": False, "floating": None, "text": ""}

    min: Version | None
    min_inclusive: bool
    max: Version | None
    max_inclusive: bool
    floating: Floating | None
    text: str

    @property
    def implies_prerelease(self) -> bool:
        """True for floating-prerelease ranges (`1.0.0-*`, `1.0.0-rc.*`, `*-*`): asking for them
        only makes sense if prereleases may match, so they opt in even when `prerelease=false`."""
        return self.floating is not None and self.floating.prerelease_prefix is not None

    def contains(self, v: Version) -> bool:
        """Range membership only; whether prereleases are wanted is `best_match`'s decision."""
        if self.floating is not None:
            return self.floating.contains(v)
        if self.min is not None and (v < self.min or (v == self.min and not self.min_inclusive)):
            return False
        if self.max is not None and (v > self.max or (v == self.max and not self.max_inclusive)):
            return False
        return True

    def __str__(self) -> str:
        return self.text


def _bound(text: str, whole: str) -> Version | None:
    if not text:
        return None
    v = parse_version(text)
    if v is None:
        raise ValueError(f"invalid version {text!r} in range {whole!r}")
    return v


def _parse_floating(s: str) -> Floating:
    numeric, dash, pre = s.partition("-")
    prefix: str | None = None
    if dash:
        if pre.count("*") != 1 or not pre.endswith("*"):
            raise ValueError(f"invalid floating range {s!r}")
        prefix = pre[:-1]
        if prefix and not (prefix.isascii() and _identifiers_ok(prefix.removesuffix("."))):
            raise ValueError(f"invalid floating prerelease in {s!r}")
    if "*" in numeric:
        if numeric == "*":
            return Floating((), prefix)
        head = numeric.removesuffix(".*")
        fixed = _numeric_parts(head, 1, 3) if head != numeric and head.isascii() else None
        if fixed is None:
            raise ValueError(f"invalid floating range {s!r}")
        return Floating(fixed, prefix)
    if prefix is None:  # the only `*` sits after a `+` or elsewhere it cannot float
        raise ValueError(f"invalid floating range {s!r}")
    fixed = _numeric_parts(numeric, 1, 4) if numeric.isascii() else None
    if fixed is None:
        raise ValueError(f"invalid floating range {s!r}")
    return Floating((fixed + (0, 0, 0))[:4], prefix)


def parse_range(s: str) -> VersionRange:
    """Parse a NuGet range the way NuGet's `VersionRange.TryParse` does; ValueError when it would
    refuse it.

    That includes NuGet's corners: a range may match nothing and still be valid (`(1.0,1.0)`: the
    badge is then "not found", not a bad request), but bounds out of order (`[2.0,1.0]`) or a
    half-open single version (`[1.0,1.0)`) are invalid; the lower bound inside brackets may float
    (`[1.*,2.0)` means ≥ 1.0.0), the upper may not; a bound that is only blanks is no bound
    (`[ , ]` is every version) while `(,)` is invalid. Surrounding whitespace is ignored.
    """
    if not isinstance(s, str):
        raise ValueError("version range must be a string")
    text = s.strip()
    if not text:
        raise ValueError("empty version range")
    if len(text) > MAX_RANGE_LENGTH:
        raise ValueError("version range too long")
    if text[0] not in "[(":
        if "*" in text:
            return VersionRange(floating=_parse_floating(text), text=text)
        return VersionRange(min=_bound(text, text), min_inclusive=True, text=text)
    if len(text) < 2 or text[-1] not in ")]":
        raise ValueError(f"unbalanced version range {text!r}")
    lo_incl, hi_incl = text[0] == "[", text[-1] == "]"
    parts = text[1:-1].split(",")
    if len(parts) > 2:
        raise ValueError(f"a version range has at most two bounds: {text!r}")
    if not any(parts):
        raise ValueError(f"version range without bounds {text!r}")
    if len(parts) == 1 and not (lo_incl and hi_incl):
        raise ValueError(f"a single-version range must be written [x]: {text!r}")
    lo_text, hi_text = parts[0].strip(), parts[-1].strip()
    lo = _floating_min(_parse_floating(lo_text)) if "*" in lo_text else _bound(lo_text, text)
    hi = _bound(hi_text, text)
    if lo is not None and hi is not None and (lo > hi or (lo == hi and lo_incl != hi_incl)):
        raise ValueError(f"version range bounds out of order: {text!r}")
    return VersionRange(lo, lo_incl, hi, hi_incl, text=text)


def _floating_min(f: Floating) -> Version:
    """The lowest version a floating bound admits, as NuGet computes it: `1.*` → 1.0.0,
    `1.0.0-*` → 1.0.0-0, `1.0.0-rc.*` → 1.0.0-rc.0, `1.0.0-rc*` → 1.0.0-rc."""
    release = ".".join(str(n) for n in (f.fixed + (0, 0, 0))[: max(3, len(f.fixed))])
    prefix = f.prerelease_prefix
    if prefix is None:
        text = release
    else:
        text = f"{release}-{prefix}0" if prefix == "" or prefix.endswith(".") else f"{release}-{prefix}"
    v = parse_version(text)
    assert v is not None  # built from parts _parse_floating has checked
    return v


def best_match(
    versions: Iterable[str], range: VersionRange | None = None, prerelease: bool = False
) -> str | None:
    """The highest version (as published) that parses, is in `range` and is stable unless
    `prerelease` is true or the range is a floating-prerelease one (see `implies_prerelease`).

    Unparseable entries are skipped. Among versions of equal precedence (`1.0` and `1.0.0`) the
    first one listed wins.
    """
    allow_prerelease = prerelease or (range is not None and range.implies_prerelease)
    best: Version | None = None
    for text in versions:
        v = parse_version(text)
        if v is None or (v.is_prerelease and not allow_prerelease):
            continue
        if range is not None and not range.contains(v):
            continue
        if best is None or v > best:
            best = v
    return None if best is None else best.text
