"""Test reports (JUnit XML, Visual Studio TRX) reduced to the counts a test badge needs.

The format is read from the root element, never the file name: CI tools name reports freely.

JUnit: `<testcase>` elements are counted wherever they sit (suites nest); a case with a `<failure>`
or `<error>` child failed, else one with `<skipped>` was skipped, else it passed. Reporters that
write only totals are read from the attributes of the innermost suites (outer suites repeat them).

TRX buckets (the names of `ResultSummary/Counters` attributes and of `UnitTestResult` outcomes):
- passed: passed, passedButRunAborted, warning, completed — the test itself succeeded;
- failed: failed, error, timeout, aborted, disconnected — the test did not succeed;
- skipped: notExecuted, notRunnable, inconclusive, pending, inProgress — no verdict.
`total` and `executed` are derived, not added. When a file has no Counters, the top-level
`UnitTestResult` outcomes are counted (data-driven inner results are not counted twice).

Documents with a DOCTYPE are refused before parsing: entity expansion (billion laughs) is the only
way such a report could hurt, and no test reporter writes one.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Literal

Kind = Literal["junit", "trx"]

TRX_BUCKETS: dict[str, str] = {
    "passed": "passed",
    "passedbutrunaborted": "passed",
    "warning": "passed",
    "completed": "passed",
    "failed": "failed",
    "error": "failed",
    "timeout": "failed",
    "aborted": "failed",
    "disconnected": "failed",
    "notexecuted": "skipped",
    "notrunnable": "skipped",
    "inconclusive": "skipped",
    "pending": "skipped",
    "inprogress": "skipped",
}

# Whitespace, processing instructions and comments may precede the root element (or a DOCTYPE).
_PROLOG = re.compile(rb"(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)


class ReportError(ValueError):
    """A report that cannot be read; the message names the file and fits on one line."""


@dataclass(frozen=True, slots=True)
class Counts:
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def total(self) -> int:
        return self.passed + self.failed + self.skipped

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.passed + other.passed, self.failed + other.failed, self.skipped + other.skipped)


def reject_doctype(data: bytes, name: str = "<report>") -> None:
    """Refuse a DOCTYPE (and so any ENTITY declaration, which can only live inside one).

    Only the prolog is inspected, so test output quoting `<!DOCTYPE html>` in a CDATA section is
    fine. NUL bytes are dropped first so that UTF-16/32 documents are inspected too.
    """
    text = data.replace(b"\x00", b"")
    for bom in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        if text.startswith(bom):
            text = text[len(bom) :]
            break
    rest = text[_PROLOG.match(text).end() :]  # type: ignore[union-attr]  # the pattern always matches
    if rest[:2] == b"<!":
        raise ReportError(f"{name}: DOCTYPE/ENTITY declarations are not allowed in test reports")


def parse_bytes(data: bytes, name: str = "<report>", expect: Kind | None = None) -> Counts:
    """Counts of one report; `expect` makes a --junit/--trx mix-up an error instead of a guess."""
    reject_doctype(data, name)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise ReportError(f"{name}: malformed XML ({exc})") from None
    tag = _local(root.tag)
    kind: Kind | None = "junit" if tag in ("testsuites", "testsuite") else "trx" if tag == "TestRun" else None
    if kind is None:
        raise ReportError(f"{name}: not a JUnit or TRX report (root element <{tag}>)")
    if expect is not None and kind != expect:
        raise ReportError(f"{name}: expected a {_LABEL[expect]} report, found {_LABEL[kind]} (<{tag}>)")
    return _junit(root, name) if kind == "junit" else _trx(root, name)


def parse_file(path: str | Path, expect: Kind | None = None) -> Counts:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ReportError(f"{path}: cannot read report ({exc.strerror or exc})") from None
    return parse_bytes(data, str(path), expect)


def parse_files(files: Iterable[tuple[str | Path, Kind | None]]) -> Counts:
    """The sum over several reports, e.g. one per test project or per shard."""
    total = Counts()
    for path, expect in files:
        total += parse_file(path, expect)
    return total


_LABEL: dict[Kind, str] = {"junit": "JUnit XML", "trx": "TRX"}


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _int_attr(elem: ET.Element, attr: str, name: str) -> int:
    raw = elem.get(attr)
    if raw is None or not raw.strip():
        return 0
    try:
        value = int(raw.strip())
    except ValueError:
        raise ReportError(f"{name}: <{_local(elem.tag)} {attr}={raw!r}> is not a whole number") from None
    if value < 0:
        raise ReportError(f"{name}: <{_local(elem.tag)} {attr}={raw!r}> is negative")
    return value


def _junit(root: ET.Element, name: str) -> Counts:
    cases = [e for e in root.iter() if _local(e.tag) == "testcase"]
    if cases:
        passed = failed = skipped = 0
        for case in cases:
            children = {_local(child.tag) for child in case}
            if children & {"failure", "error"}:
                failed += 1
            elif "skipped" in children:
                skipped += 1
            else:
                passed += 1
        return Counts(passed, failed, skipped)
    suites = [e for e in root.iter() if _local(e.tag) == "testsuite"]
    leaves = [s for s in suites if not any(_local(c.tag) == "testsuite" for c in s)] or [root]
    total = Counts()
    for suite in leaves:
        tests = _int_attr(suite, "tests", name)
        failed = _int_attr(suite, "failures", name) + _int_attr(suite, "errors", name)
        skipped = _int_attr(suite, "skipped", name)
        if failed + skipped > tests:
            raise ReportError(
                f"{name}: suite {suite.get('name', '?')!r} has tests={tests} but "
                f"{failed} failed/errors and {skipped} skipped"
            )
        total += Counts(tests - failed - skipped, failed, skipped)
    return total


def _trx(root: ET.Element, name: str) -> Counts:
    counters = next((e for e in root.iter() if _local(e.tag) == "Counters"), None)
    buckets = {"passed": 0, "failed": 0, "skipped": 0}
    if counters is not None:
        for attr in counters.attrib:
            bucket = TRX_BUCKETS.get(attr.lower())
            if bucket is not None:
                buckets[bucket] += _int_attr(counters, attr, name)
        return Counts(**buckets)
    results = next((e for e in root if _local(e.tag) == "Results"), None)
    for result in results if results is not None else ():
        if _local(result.tag) != "UnitTestResult":
            continue
        outcome = (result.get("outcome") or "").strip()
        bucket = TRX_BUCKETS.get(outcome.lower())
        if bucket is None:
            test = result.get("testName", "?")
            raise ReportError(f"{name}: test {test!r} has an unknown outcome {outcome!r}")
        buckets[bucket] += 1
    return Counts(**buckets)
