"""A hostile sweep of every route on every port of a running `lambdasmith serve`: malformed,
deep, huge, oddly encoded and edge-of-the-calendar inputs a stranger can send, with and without
credentials. It counts the answers by status class; the contracts allow no 5xx except a 502 when
an upstream fails (the badges' NuGet/GitHub routes).

    python -m tests.support.sweep          # serve it all in a temp dir, sweep, print the table

`tests/e2e/test_hostile_sweep.py` runs it in `make test`.
"""

from __future__ import annotations

import base64
import json
import socket
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlsplit

DEEP = "[" * 3000
DEEP_OBJ = '{"a":' * 3000 + "1" + "}" * 3000
HUGE_DIGITS = "9" * 5000
EDGE_TIMESTAMPS = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "0000-00-00T00:00:00Z", "",
                   "1e30", "-1", "2026-02-30T00:00:00Z", "2026-12-03T25:61:61Z", "Thu, 01 Jan 1970 00:00:00 GMT",
                   "2026-12-03T00:00:00\x00Z", "９９９９-01-01T00:00:00Z"]  # fmt: skip
SEGMENTS = ["x", "", "a" * 5000, "..", "%2e%2e", "%00", "%0d%0aX-Evil:%201", "%C3%BC", "%F0%9F%98%80", "x%23y",
            "%", "%zz", "%1b%5b31m", "%ff%fe", "a%2Fb", "%20", "%7F", "CON", "x;y"]  # fmt: skip
BODIES: list[bytes] = [DEEP.encode(), DEEP_OBJ.encode(), b"{" * 100000, b"\xff\xfe\x00{", b"\xef\xbb\xbf{}",
                       "{}".encode("utf-16"), b"null", b"[]", b'"s"', b"1e999", b"NaN", b'{"a": NaN}',
                       b'{"a": ' + HUGE_DIGITS.encode() + b"}", b"{\"a\": \"\\ud800\"}", b"\x00" * 100,
                       b'{"' + b"k" * 60000 + b'": 1}', b"", b"{", b'{"timestamp": "0001-01-01T00:00:00+01:00"}']  # fmt: skip
QUERIES = ["limit=%C2%B2", f"limit={HUGE_DIGITS}", "limit=-1", "limit=0", "limit=abc", "limit=1e3", "limit=%00",
           "cursor=garbage", "cursor=" + base64.urlsafe_b64encode(DEEP.encode()).decode().rstrip("="),
           "cursor=" + base64.urlsafe_b64encode(DEEP_OBJ.encode()).decode().rstrip("="), "cursor=%ff",
           f"color=rgb({HUGE_DIGITS},0,0)", f"labelColor=hsl({HUGE_DIGITS},1%,1%)", "color=" + "f" * 5000,
           "style=%00", "style=" + "x" * 5000, "version=%5B%5B%5B", "version=" + "1." * 2000, "prerelease=maybe",
           "season=%00", "category=" + "x" * 5000, "label=%0d%0a", "a=1&a=2&a=3", "%zz=%zz",
           "logo=data:image/svg%2Bxml;base64," + "PHN2Zz4" * 3000, "logo=data:image/png;base64,%ff%fe%00",
           "logo=DATA:" + "%00" * 100, "logoColor=" + "x" * 5000]  # fmt: skip


def _jwt(header: object, payload: object) -> str:
    def part(doc: object) -> str:
        raw = doc if isinstance(doc, str) else json.dumps(doc)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    return f"{part(header)}.{part(payload)}.c2ln"


AUTHS = ["Bearer garbage", "Bearer " + "a" * 10000, "Bearer a.b.c", "Basic Zm9vOmJhcg==", "Bearer",
         "Bearer " + _jwt({"alg": "none", "typ": "JWT"}, {"sub": "u"}), "Bearer " + _jwt(DEEP, {"sub": "u"}),
         "Bearer " + _jwt({"alg": "HS256"}, DEEP_OBJ), "Bearer " + _jwt({"alg": "HS256"}, {"sub": "u", "exp": HUGE_DIGITS}),
         "Bearer " + _jwt({"alg": "RS256", "kid": "k" * 5000}, {"sub": "u"}), "Bearer " + _jwt({"alg": "RS256", "kid": DEEP_OBJ}, {}),
         "Bearer " + _jwt({"alg": "RS256", "kid": "no-such-key"}, DEEP_OBJ), "bEaReR \x1b[31m"]  # fmt: skip
HEADERS: list[dict[str, str]] = [
    *({"X-Timestamp": t, "X-Signature": "sha256=" + "0" * 64, "X-Nonce": "n" * 32} for t in EDGE_TIMESTAMPS),
    {"X-Signature": "x" * 10000}, {"X-Signature-Version": HUGE_DIGITS}, {"X-Nonce": "\x7f" * 10},
    {"If-None-Match": '"' + "a" * 5000 + '"'}, {"If-None-Match": "W/" * 1000}, {"Accept": "image/svg+xml;q=" + HUGE_DIGITS},
    {"Idempotency-Key": "k" * 10000}, {"Idempotency-Key": "\x01\x02"}, {"Content-Type": "application/json; charset=utf-7"},
    {"X-Amz-Client-Context": base64.b64encode(DEEP_OBJ.encode()).decode()}, {"X-Amz-Client-Context": "%%%"},
    {"X-Amz-Invocation-Type": "x" * 1000}, {"X-Amz-Log-Type": "\x1b[31m"}, {"X-Forwarded-For": "\x1b[31m, ::1"},
    {"Origin": "null"},
]  # fmt: skip


def routes(badges: str, wardrobe: str, invoke: str, shell: str) -> Iterator[tuple[str, str, str]]:
    """(method, base URL, path with a {} for the swept segment)."""
    for tail in ("/badges/packages/nuget/{}", "/badges/packages/nuget/{}.svg", "/badges/packages/github/{}/Pkg",
                 "/badges/packages/github/acme/{}", "/badges/tests/linux/{}/repo/main", "/badges/tests/linux/o/r/{}.svg",
                 "/tests/results/linux/o/r/{}", "/tests/results/{}/o/r/main/history", "/redirect/test-results/linux/o/{}/main",
                 "/{}", "/health/{}", "/dashboard/{}/repo", "/dashboard/o/{}", "/badges/tests/linux/o/r/{}/trend.svg",
                 "/assets/{}"):  # fmt: skip
        yield "GET", badges, tail
    yield "POST", badges, "/tests/results/linux/{}/r/main"
    for method, tail in (("GET", "/users/{}/items"), ("POST", "/users/{}/items"), ("POST", "/items/{}/share"),
                         ("GET", "/users/{}/activities"), ("GET", "/{}")):  # fmt: skip
        yield method, wardrobe, tail
    yield "POST", invoke, "/2015-03-31/functions/{}/invocations"
    yield "GET", invoke, "/2015-03-31/functions/{}/invocations"
    yield "GET", shell, "/{}/x"
    yield "GET", shell, "/echo_request/{}"


def requests(urls: dict[str, str], token: str) -> Iterator[tuple[str, str, str, dict[str, str], bytes | None]]:
    """(method, base, target, headers, body) for every hostile shape on every route."""
    good = {"Authorization": f"Bearer {token}"}
    known = {"badges": "x", "wardrobe": "bench", "invoke": "items", "shell": "echo_request"}
    for method, base, template in routes(urls["badges"], urls["wardrobe"], urls["invoke"], urls["shell"]):
        auth = good if base == urls["wardrobe"] else {}
        for segment in SEGMENTS:
            yield method, base, template.format(segment), auth, b"{}" if method == "POST" else None
        plain = template.format(next(v for k, v in known.items() if urls[k] == base))
        for query in QUERIES:
            yield method, base, plain + "?" + query, auth, b"{}" if method == "POST" else None
        for headers in [*HEADERS, *({"Authorization": a} for a in AUTHS)]:
            yield method, base, plain, {**auth, **headers}, b"{}" if method == "POST" else None
        if method == "POST":
            for body in BODIES:
                for content_type in ("application/json", "text/plain"):
                    yield method, base, plain, {**auth, "Content-Type": content_type}, body


def send(method: str, base: str, target: str, headers: dict[str, str], body: bytes | None) -> int:
    """One request; its status (0 when the server closed without an answer — hyper does that
    only for requests it cannot parse, which this corpus does not send)."""
    u = urlsplit(base)
    conn = HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.putrequest(method, target, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v.encode("latin-1", "replace"))
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        r = conn.getresponse()
        r.read()
        return r.status
    except (ConnectionError, socket.timeout):
        return 0
    finally:
        conn.close()


UPSTREAM_ROUTES = ("/badges/packages/nuget/", "/badges/packages/github/")


def sweep(urls: dict[str, str], token: str) -> tuple[Counter[str], list[tuple[int, str, str, str]]]:
    """Counts by status class, and every answer the contracts do not allow (5xx other than an
    upstream route's 502; no answer at all)."""
    counts: Counter[str] = Counter()
    bad = []
    corpus = list(requests(urls, token))
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda r: send(*r), corpus))
    for (method, base, target, headers, body), status in zip(corpus, statuses):
        counts[f"{status // 100}xx" if status else "no answer"] += 1
        upstream_502 = status == 502 and base == urls["badges"] and target.startswith(UPSTREAM_ROUTES)
        if status == 0 or (status >= 500 and not upstream_502):
            bad.append((status, method, base, target[:200] + " " + json.dumps(headers)[:200]))
    return counts, bad


def table(counts: Counter[str], seconds: float) -> str:
    total = sum(counts.values())
    rows = [f"| {k} | {v} |" for k, v in sorted(counts.items())]
    return "\n".join(["| answers | count |", "|---|---:|", *rows, f"| **total** | {total} ({seconds:.0f} s) |"])


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, serving(tmp) as (urls, token):
        started = time.monotonic()
        counts, bad = sweep(urls, token)
        print(table(counts, time.monotonic() - started))
        for entry in bad[:50]:
            print(entry)
    return 1 if bad else 0


@contextmanager
def serving(tmp: str) -> Iterator[tuple[dict[str, str], str]]:
    """Every system served from `tmp`, with fake upstreams (a package `x` on NuGet, a GitHub OIDC
    issuer, which the org `x` accepts tokens of), and a wardrobe token for the user `bench`."""
    import subprocess

    from tests.support.fake_oidc import FakeIssuer
    from tests.support.serving import Served
    from tests.support.upstreams import FakeGitHub, FakeNuGet

    nuget, github, issuer = FakeNuGet({"x": ["1.0.0"]}).start(), FakeGitHub().start(), FakeIssuer().start()
    data = str(Path(tmp) / "data")
    subprocess.run([sys.executable, "-m", "lambdasmith", "badges", "register-org", "x", "--type", "oidc", "--data-dir",
                    data], capture_output=True, check=True)  # fmt: skip
    served = Served(data, ["badges", "wardrobe", "shell", "invoke"],
                    {"NUGET_BASE_URL": nuget.url, "GITHUB_API_URL": github.url, "BADGES_OIDC_ISSUER": issuer.issuer}).start()
    try:
        token = subprocess.run([sys.executable, "-m", "lambdasmith", "wardrobe", "token", "bench", "--data-dir",
                                served.data_dir], capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
        yield served.urls, token
        assert served.stop() == 0
    finally:
        served.stop()
        nuget.stop()
        github.stop()
        issuer.stop()


if __name__ == "__main__":
    sys.exit(main())
