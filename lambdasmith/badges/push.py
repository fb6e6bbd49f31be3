"""`lambdasmith badges push`: send a CI run's test counts to the badges service.

Every option defaults from the GitHub Actions environment, so a workflow step needs only the
service URL, the secret (both best passed as BADGES_URL / BADGES_SECRET) and the report files.
Outside Actions (GITHUB_ACTIONS is not `true`) the local git checkout fills what is left: owner
and repo from the GitHub origin remote, the current branch, HEAD; the platform is this machine's;
the run id is made from the commit and the time, and the run URL (which the service requires to
be an absolute URL) is the commit's page on GitHub. Every usage problem is reported at once.

With `--oidc` (or BADGES_OIDC=true) no secret is read: each attempt first asks GitHub for the
job's OIDC ID token (GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=AUD with the bearer
$ACTIONS_ID_TOKEN_REQUEST_TOKEN, which a job gets with `permissions: id-token: write`) and sends it
as `Authorization: Bearer`. The body and the path are the same as with HMAC.

Retries (connection errors, 5xx, 429) resend the same body under a fresh nonce and X-Timestamp, or
with OIDC under a freshly requested token (the server takes each token once, by its `jti`): the
server refuses a reused nonce, and an unchanged body timestamp means an attempt that did get
through before its response was lost shows up as 409 DUPLICATE_TEST_RESULT, counted as success.
The token request shares the attempt: a network error, 5xx or 429 from GitHub is retried like one
from the service, any other refusal ends the run.

Exit codes: 0 recorded, 1 the service (or GitHub's token endpoint) refused or could not be reached,
2 usage or report problem (with --oidc: the ACTIONS_ID_TOKEN_* variables are missing).
"""

from __future__ import annotations

import argparse
import glob
import http.client
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from typing import IO, Any, Sequence

from lambdasmith.badges.reports import Counts, Kind, ReportError, parse_files
from lambdasmith.badges.signature import sign_v1, sign_v2
from lambdasmith.kit.clock import utc_iso_ms
from lambdasmith.kit.ids import uuid4

RETRY_DELAYS: tuple[float, ...] = (1.0, 3.0)  # before the 2nd and 3rd attempt; len = retries
MAX_RETRY_AFTER = 30.0  # the server's timestamp window is 5 min; never wait out most of it
USER_AGENT = "lambdasmith-badges-push"
DEFAULT_AUDIENCE = "lambdasmith-badges"
TOKEN_URL_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL"
TOKEN_REQUEST_ENV = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
ID_TOKEN_PERMISSION = (
    f"--oidc needs {TOKEN_URL_ENV} and {TOKEN_REQUEST_ENV}, which GitHub Actions sets only when the job "
    "has `permissions: id-token: write`"
)
_NETWORK_ERRORS = (urllib.error.URLError, OSError, http.client.HTTPException)


class UsageError(Exception):
    """A problem with the arguments or the environment; exit code 2."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("reports", nargs="*", metavar="REPORT",
                        help="JUnit XML or TRX files or glob patterns; the format is detected")
    parser.add_argument("--url", help="base URL of the badges service [env BADGES_URL]")
    parser.add_argument("--secret",
                        help="the org's test-data secret [env BADGES_SECRET; prefer the variable, "
                             "a command-line value is visible to other processes]")
    parser.add_argument("--owner", help="repository owner [from GITHUB_REPOSITORY; outside CI the GitHub origin remote]")
    parser.add_argument("--repo", help="repository name [from GITHUB_REPOSITORY; outside CI the GitHub origin remote]")
    parser.add_argument("--branch",
                        help="branch [GITHUB_HEAD_REF, else GITHUB_REF_NAME; outside CI git's current branch]")
    parser.add_argument("--platform",
                        help="platform, e.g. linux [lower-cased RUNNER_OS; outside CI this machine's: linux, macos, "
                             "windows]")
    parser.add_argument("--commit", help="commit SHA [GITHUB_SHA; outside CI git's HEAD]")
    parser.add_argument("--run-id", help="CI run id [GITHUB_RUN_ID; outside CI local-COMMIT12-UNIXTIME]")
    parser.add_argument("--workflow-run-url",
                        help="link to the CI run [GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID; "
                             "outside CI https://github.com/OWNER/REPO/commit/COMMIT, as the service needs an "
                             "absolute URL]")
    parser.add_argument("--url-html", help="where the badge links to [the workflow run URL]")
    parser.add_argument("--junit", action="append", default=[], metavar="FILE",
                        help="JUnit XML report or glob pattern (repeatable)")
    parser.add_argument("--trx", action="append", default=[], metavar="FILE",
                        help="Visual Studio TRX report or glob pattern (repeatable)")
    parser.add_argument("--passed", type=_count, metavar="N", help="explicit count instead of reports")
    parser.add_argument("--failed", type=_count, metavar="N", help="explicit count instead of reports")
    parser.add_argument("--skipped", type=_count, metavar="N", help="explicit count instead of reports")
    parser.add_argument("--signature-version", type=int, choices=(1, 2), default=None,
                        help="1 = BadgeSmith (body only, the default); 2 = also binds method, path, "
                             "timestamp and nonce")
    parser.add_argument("--oidc", action="store_true",
                        help="authenticate with the job's GitHub Actions OIDC token instead of a secret; the "
                             "job needs `permissions: id-token: write` [env BADGES_OIDC=true]")
    parser.add_argument("--audience",
                        help=f"audience of the OIDC token, with --oidc [env BADGES_OIDC_AUDIENCE; default "
                             f"{DEFAULT_AUDIENCE}]")
    parser.add_argument("--timeout", type=_seconds, default=30.0, help="seconds per attempt (default 30)")
    parser.add_argument("--dry-run", action="store_true",
                        help="print the request (signature or token redacted) and send nothing")


@dataclass(frozen=True, slots=True)
class Oidc:
    """Where and how to ask GitHub for the job's ID token; a new one for every attempt."""

    token_url: str  # ACTIONS_ID_TOKEN_REQUEST_URL with &audience= appended
    audience: str
    request_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class Plan:
    """Everything resolved before the network: one body, reused by every attempt."""

    url: str
    path: str  # the request-target path as sent, which signature v2 covers
    badge_url: str
    secret: str = field(repr=False)  # empty with OIDC
    version: int
    body: bytes
    counts: Counts
    timeout: float
    oidc: Oidc | None = None


def run(args: argparse.Namespace) -> int:
    try:
        plan = _plan(args)
    except (UsageError, ReportError) as exc:
        for line in str(exc).splitlines():
            _fail(line, 2)
        return 2
    if args.dry_run:
        headers = _headers(plan, redact=True)
        print(f"POST {plan.url}")
        for name, value in headers.items():
            print(f"{name}: {value}")
        print()
        print(plan.body.decode("utf-8"))
        return 0
    return _send(plan)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="lambdasmith badges push", description="Send a CI run's test counts to the badges service."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))


# ---------------------------------------------------------------------------- resolution


def _plan(args: argparse.Namespace) -> Plan:
    """Every field resolved, or UsageError listing every problem at once (one per line)."""
    problems: list[str] = []
    base = _pick(args.url, "BADGES_URL")
    split = urllib.parse.urlsplit(base or "")
    if not base:
        problems.append("missing --url (or BADGES_URL): the badges service's base URL")
    elif split.scheme not in ("http", "https") or not split.netloc or split.query or split.fragment:
        problems.append(f"--url must be an http(s) base URL, got {base!r}")
    oidc = _oidc(args, problems)
    secret = "" if oidc else _pick(args.secret, "BADGES_SECRET")
    if not oidc and not secret and not _oidc_wanted(args):
        problems.append("missing secret: set BADGES_SECRET (or pass --secret)")

    in_ci = _env("GITHUB_ACTIONS") == "true"
    gh_repo = _env("GITHUB_REPOSITORY") or ""
    gh_owner, _, gh_name = gh_repo.partition("/")
    local = _LocalDefaults(in_ci)
    owner = _field(args.owner, gh_owner or local.get("owner"), "--owner (or GITHUB_REPOSITORY, or a GitHub "
                   "origin remote)", problems)  # fmt: skip
    repo = _field(args.repo, gh_name or local.get("repo"), "--repo (or GITHUB_REPOSITORY, or a GitHub origin remote)",
                  problems)  # fmt: skip
    branch = _field(args.branch, _env("GITHUB_HEAD_REF") or _env("GITHUB_REF_NAME") or local.get("branch"),
                    "--branch (or GITHUB_HEAD_REF / GITHUB_REF_NAME, or git's current branch)", problems)  # fmt: skip
    platform = _field(args.platform, (_env("RUNNER_OS") or "").lower() or (None if in_ci else _local_platform()),
                      "--platform (or RUNNER_OS)", problems)  # fmt: skip
    commit = _field(args.commit, _env("GITHUB_SHA") or local.get("commit"), "--commit (or GITHUB_SHA, or git's HEAD)",
                    problems)  # fmt: skip
    local_run = not in_ci and not _env("GITHUB_RUN_ID")
    # Outside CI both are derived from owner, repo and commit: a missing one is reported above.
    quiet: list[str] = [] if local_run else problems
    run_id = _field(args.run_id, _env("GITHUB_RUN_ID") or (_local_run_id(commit) if local_run and commit else None),
                    "--run-id (or GITHUB_RUN_ID)", quiet if args.run_id is None else problems)  # fmt: skip
    run_url = args.workflow_run_url or _github_run_url()
    if not run_url and local_run and owner and repo and commit:
        run_url = _commit_url(owner, repo, commit)
    run_url = _field(run_url, None, "--workflow-run-url (or GITHUB_REPOSITORY and GITHUB_RUN_ID)",
                     quiet if args.workflow_run_url is None else problems)  # fmt: skip
    url_html = args.url_html or run_url
    for flag, value in (("--workflow-run-url", run_url), ("--url-html", url_html)):
        parts = urllib.parse.urlsplit(value or "")
        if value and (parts.scheme not in ("http", "https") or not parts.netloc):
            problems.append(f"{flag} must be an absolute http(s) URL, got {value!r}")
    try:
        counts = _counts(args)
    except UsageError as e:
        problems.append(str(e))
    if problems:
        raise UsageError("\n".join(problems))
    assert base and (secret or oidc) and owner and repo and branch and platform and commit and run_id and url_html and run_url
    payload = {
        "platform": platform,
        "passed": counts.passed,
        "failed": counts.failed,
        "skipped": counts.skipped,
        "total": counts.total,
        "url_html": url_html,
        "timestamp": utc_iso_ms(),
        "commit": commit,
        "run_id": run_id,
        "workflow_run_url": run_url,
    }
    segments = "/".join(urllib.parse.quote(s, safe="") for s in (platform, owner, repo, branch))
    prefix = split.path.rstrip("/")
    root = urllib.parse.urlunsplit((split.scheme, split.netloc, prefix, "", ""))
    return Plan(
        url=f"{root}/tests/results/{segments}",
        path=f"{prefix}/tests/results/{segments}",
        badge_url=f"{root}/badges/tests/{segments}",
        secret=secret or "",
        version=args.signature_version or 1,
        body=json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8"),
        counts=counts,
        timeout=args.timeout,
        oidc=oidc,
    )


def _oidc_wanted(args: argparse.Namespace) -> bool:
    return bool(args.oidc) or (_env("BADGES_OIDC") or "").strip().lower() == "true"


def _oidc(args: argparse.Namespace, problems: list[str]) -> Oidc | None:
    """The token request's settings with --oidc / BADGES_OIDC=true, else None (problems appended)."""
    flag = (_env("BADGES_OIDC") or "").strip().lower()
    if flag not in ("", "true", "false"):
        problems.append(f"BADGES_OIDC must be true or false, got {flag!r}")
    if not _oidc_wanted(args):
        if args.audience is not None:
            problems.append("--audience only applies with --oidc")
        return None
    if args.secret is not None:
        problems.append("--oidc and --secret exclude each other: the OIDC token replaces the secret")
    if args.signature_version is not None:
        problems.append("--oidc and --signature-version exclude each other: an OIDC push is not signed")
    audience = (args.audience if args.audience is not None else _env("BADGES_OIDC_AUDIENCE") or DEFAULT_AUDIENCE)
    audience = audience.strip()
    if not audience:
        problems.append("--audience must not be blank")
    url, request_token = _env(TOKEN_URL_ENV), _env(TOKEN_REQUEST_ENV)
    if not (url and request_token):
        problems.append(ID_TOKEN_PERMISSION)
        return None
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(f"{TOKEN_URL_ENV} must be an absolute http(s) URL")
        return None
    if not _header_safe(request_token):
        problems.append(f"{TOKEN_REQUEST_ENV} is not a usable bearer token (it has spaces or control characters)")
        return None
    query = "audience=" + urllib.parse.quote(audience, safe="")
    token_url = url + ("&" if parts.query else "" if url.endswith("?") else "?") + query
    return Oidc(token_url=token_url, audience=audience, request_token=request_token)


def _header_safe(value: str) -> bool:
    return bool(value) and value.isprintable() and not any(c.isspace() for c in value)


def _counts(args: argparse.Namespace) -> Counts:
    explicit = (args.passed, args.failed, args.skipped)
    sources: list[tuple[str, Kind | None]] = [
        *((p, "junit") for p in args.junit),
        *((p, "trx") for p in args.trx),
        *((p, None) for p in args.reports),
    ]
    if any(v is not None for v in explicit):
        if sources:
            raise UsageError("give either report files or --passed/--failed/--skipped, not both")
        return Counts(*(v or 0 for v in explicit))
    if not sources:
        raise UsageError("no test results: pass --junit, --trx, report files or --passed/--failed/--skipped")
    files: dict[str, tuple[str, Kind | None]] = {}
    for pattern, kind in sources:
        for path in _expand(pattern):
            files.setdefault(os.path.realpath(path), (path, kind))  # a file given twice counts once
    return parse_files(files.values())


def _expand(pattern: str) -> list[str]:
    if not any(c in pattern for c in "*?["):
        return [pattern]  # a plain path: reading it reports a missing file by name
    matches = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    if not matches:
        raise UsageError(f"no report file matches {pattern!r}")
    return matches


class _LocalDefaults:
    """The local checkout's facts, read from git once and only when a field needs one (never in CI)."""

    def __init__(self, in_ci: bool):
        self.in_ci = in_ci
        self.checkout: Any = None

    def get(self, field: str) -> str | None:
        if self.in_ci:
            return None
        if self.checkout is None:
            from lambdasmith.badges.git_defaults import read_checkout

            self.checkout = read_checkout()
        return getattr(self.checkout, field)


def _field(flag: str | None, fallback: str | None, what: str, problems: list[str]) -> str | None:
    """A flag given (even blank) wins over every default; a blank or absent value is a problem."""
    value = flag if flag is not None else fallback
    if not value or not value.strip():
        problems.append(f"missing {what}")
        return None
    return value.strip()


def _local_platform() -> str | None:
    """RUNNER_OS's value for this machine, lower-cased as push sends it (linux, macos, windows)."""
    import platform

    return {"Linux": "linux", "Darwin": "macos", "Windows": "windows"}.get(platform.system())


def _local_run_id(commit: str) -> str:
    """Outside CI: one id per push, from the commit and the time (the service only needs it non-blank)."""
    return f"local-{commit[:12]}-{int(time.time())}"


def _commit_url(owner: str, repo: str, commit: str) -> str:
    server = (_env("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    return f"{server}/{owner}/{repo}/commit/{commit}"


def _github_run_url() -> str | None:
    repo, run_id = _env("GITHUB_REPOSITORY"), _env("GITHUB_RUN_ID")
    if not (repo and run_id):
        return None
    server = (_env("GITHUB_SERVER_URL") or "https://github.com").rstrip("/")
    return f"{server}/{repo}/actions/runs/{run_id}"


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


def _pick(value: str | None, env: str) -> str | None:
    return value if value else _env(env)


def _require(value: str | None, what: str) -> str:
    if not value or not value.strip():
        raise UsageError(f"missing {what}")
    return value.strip()


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


# ---------------------------------------------------------------------------- sending


def _headers(plan: Plan, redact: bool = False, token: str = "") -> dict[str, str]:
    """Fresh per attempt: the nonce (or the OIDC token) is single-use and the timestamp must be recent."""
    if plan.oidc is not None:
        return {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "User-Agent": USER_AGENT,
            "Authorization": f"Bearer {'<redacted>' if redact else token}",
        }
    timestamp, nonce = utc_iso_ms(), uuid4()
    if redact:
        signature = "sha256=<redacted>"
    elif plan.version == 2:
        signature = sign_v2(plan.secret, "POST", plan.path, timestamp, nonce, plan.body)
    else:
        signature = sign_v1(plan.secret, plan.body)
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": USER_AGENT,
        "X-Signature": signature,
        "X-Timestamp": timestamp,
        "X-Nonce": nonce,
    }
    if plan.version == 2:
        headers["X-Signature-Version"] = "2"
    return headers


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect would turn the POST into a body-less GET; surface it as an error instead."""

    def redirect_request(
        self, req: urllib.request.Request, fp: IO[bytes], code: int, msg: str, headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        return None


@dataclass(frozen=True, slots=True)
class _Retry:
    """An attempt that failed in a way worth another try (network error, 5xx, 429)."""

    problem: str
    retry_after: float | None = None


_OIDC_HINTS = {
    401: " (the service did not accept the job's OIDC token: is the org registered with "
         "`lambdasmith badges register-org ORG --type oidc`, and does --audience match the service's?)",
    403: " (the token's claims name the job's own repository and ref: --owner, --repo and --branch must "
         "match them)",
}


def _send(plan: Plan) -> int:
    opener = urllib.request.build_opener(_NoRedirect)
    attempts = len(RETRY_DELAYS) + 1
    outcome: int | _Retry = _Retry("")
    for attempt in range(attempts):
        if isinstance(outcome, _Retry) and attempt:
            delay = outcome.retry_after if outcome.retry_after is not None else RETRY_DELAYS[attempt - 1]
            delay = min(delay, MAX_RETRY_AFTER)
            print(f"badges push: attempt {attempt} failed ({outcome.problem}); retrying in {delay:g}s",
                  file=sys.stderr)
            time.sleep(delay)
        outcome = _attempt(plan, opener, attempt)
        if isinstance(outcome, int):
            return outcome
    assert isinstance(outcome, _Retry)
    return _fail(f"{outcome.problem} (gave up after {attempts} attempts)", 1)


def _attempt(plan: Plan, opener: urllib.request.OpenerDirector, attempt: int) -> int | _Retry:
    """One POST (with OIDC: preceded by a token request of its own); an exit code, or why to retry."""
    token = ""
    if plan.oidc is not None:
        got = _id_token(plan.oidc, opener, plan.timeout)
        if not isinstance(got, str):
            return got
        token = got
    request = urllib.request.Request(plan.url, data=plan.body, headers=_headers(plan, token=token), method="POST")
    retry_after: float | None = None
    location: str | None = None
    try:
        with opener.open(request, timeout=plan.timeout) as response:
            status, data = response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            status, data, retry_after = exc.code, _read_quietly(exc), _retry_after(exc.headers)
            location = exc.headers.get("Location") if exc.headers is not None else None
    except _NETWORK_ERRORS as exc:
        reason = getattr(exc, "reason", None) or exc
        return _Retry(_redact(f"cannot reach {plan.url}: {reason}", token))
    if status == 201:
        return _succeeded(plan, data)
    if status == 409 and attempt > 0 and "DUPLICATE_TEST_RESULT" in _error_codes(data):
        print(f"already recorded by an earlier attempt; badge: {plan.badge_url}")
        return 0
    problem = _redact(_describe(status, data), token)
    if 300 <= status < 400 and location:
        problem += f" (redirect to {location}; put the final URL in --url)"
    if plan.oidc is not None:
        problem += _OIDC_HINTS.get(status, "")
    if status == 429 or status >= 500:
        return _Retry(problem, retry_after)
    return _fail(problem, 1)


def _id_token(oidc: Oidc, opener: urllib.request.OpenerDirector, timeout: float) -> str | int | _Retry:
    """A new ID token from GitHub's endpoint, as @actions/core's getIDToken asks for one."""
    headers = {"Authorization": f"Bearer {oidc.request_token}", "Accept": "application/json",
               "User-Agent": USER_AGENT}  # fmt: skip
    request = urllib.request.Request(oidc.token_url, headers=headers, method="GET")
    what = "cannot get the job's OIDC token from GitHub"
    try:
        with opener.open(request, timeout=timeout) as response:
            status, data = response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            status, data, retry_after = exc.code, _read_quietly(exc), _retry_after(exc.headers)
        problem = _redact(f"{what}: {_describe(status, data)}", oidc.request_token)
        if status == 429 or status >= 500:
            return _Retry(problem, retry_after)
        return _fail(problem, 1)
    except _NETWORK_ERRORS as exc:
        reason = getattr(exc, "reason", None) or exc
        host = urllib.parse.urlsplit(oidc.token_url).netloc
        return _Retry(_redact(f"{what}: cannot reach {host}: {reason}", oidc.request_token))
    value = _json(data).get("value")
    if status != 200 or not isinstance(value, str) or not _header_safe(value):
        return _fail(f'{what}: HTTP {status} without a token (expected {{"value": "<jwt>"}})', 1)
    return value


def _redact(text: str, token: str) -> str:
    """A message quoting a server's answer never carries a token on to the log."""
    return text.replace(token, "<redacted>") if token else text


def _succeeded(plan: Plan, data: bytes) -> int:
    repository = _json(data).get("repository") or "?"
    c = plan.counts
    print(f"201 recorded {c.passed} passed, {c.failed} failed, {c.skipped} skipped "
          f"for {repository}; badge: {plan.badge_url}")
    return 0


def _describe(status: int, data: bytes) -> str:
    """One line from the service's `{"message", "error_details"?}` error body."""
    body = _json(data)
    message = body.get("message")
    if not isinstance(message, str) or not message:
        text = data.decode("utf-8", "replace").strip()
        message = text[:200] or http.client.responses.get(status, "")
    message = " ".join(message.split())
    details = body.get("error_details")
    if isinstance(details, list):
        parts = []
        for d in details:
            if isinstance(d, dict):
                parts.append(":".join(str(d[k]) for k in ("error_code", "property_name") if d.get(k)))
        if any(parts):
            message += f" [{', '.join(p for p in parts if p)}]"
    return f"HTTP {status}: {message}"


def _read_quietly(exc: urllib.error.HTTPError) -> bytes:
    """An error's body is only for the message; a broken one must not hide the status."""
    try:
        return exc.read()
    except (OSError, http.client.HTTPException):
        return b""


def _error_codes(data: bytes) -> set[str]:
    details = _json(data).get("error_details")
    if not isinstance(details, list):
        return set()
    return {str(d.get("error_code")) for d in details if isinstance(d, dict)}


def _json(data: bytes) -> dict:
    try:
        value = json.loads(data)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _retry_after(headers: Message | None) -> float | None:
    raw = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(raw)) if raw else None
    except ValueError:
        return None  # an HTTP-date: fall back to our own backoff


def _fail(message: str, code: int) -> int:
    print(f"badges push: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
