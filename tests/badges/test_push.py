"""`lambdasmith badges push` and the report parsers, against a fake badges service on 127.0.0.1.

The fake service checks every signature with `lambdasmith.badges.signature`, so a request the
client signs wrongly is refused with 401 exactly as the real service would refuse it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest

from lambdasmith.badges import push
from lambdasmith.badges.reports import Counts, ReportError, parse_bytes, parse_file, parse_files
from lambdasmith.badges.signature import matches, sign_v1, sign_v2

SECRET = "s3cr3t-Te5t-data-🔑"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
TRX_NS = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"

JUNIT_NESTED = b"""<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="all" tests="99" failures="99">
  <testsuite name="outer">
    <testsuite name="inner">
      <testcase name="a"/>
      <testcase name="b"><failure message="boom"/></testcase>
      <testcase name="c"><error message="crash"/></testcase>
    </testsuite>
    <testcase name="d"><skipped/></testcase>
    <testcase name="e"><system-out>ok</system-out></testcase>
  </testsuite>
  <testsuite name="other">
    <testcase name="f"><failure/><skipped/></testcase>
  </testsuite>
</testsuites>
"""

JUNIT_SUITE = b"""<testsuite name="pytest" tests="3">
  <testcase classname="t" name="one"/>
  <testcase classname="t" name="two"><skipped message="later"/></testcase>
  <testcase classname="t" name="three"><system-err><![CDATA[<!DOCTYPE html><html></html>]]></system-err></testcase>
</testsuite>"""

JUNIT_TOTALS_ONLY = b"""<testsuites tests="99" failures="3" errors="1" skipped="2">
  <testsuite name="x" tests="12" failures="2" errors="1" skipped="1"/>
  <testsuite name="y" tests="8" failures="1" skipped="1"/>
</testsuites>"""


def trx(body: str) -> bytes:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<TestRun id="1" xmlns="{TRX_NS}">{body}</TestRun>'.encode()


TRX_COUNTERS = trx(
    "<ResultSummary outcome='Failed'><Counters total='20' executed='18' passed='10' failed='2' error='1'"
    " timeout='1' aborted='1' inconclusive='1' passedButRunAborted='1' notRunnable='0' notExecuted='2'"
    " disconnected='0' warning='1' completed='0' inProgress='0' pending='0'/></ResultSummary>"
)

TRX_RESULTS = trx(
    "<Results>"
    "<UnitTestResult testName='a' outcome='Passed'/>"
    "<UnitTestResult testName='b' outcome='Failed'/>"
    "<UnitTestResult testName='c' outcome='NotExecuted'/>"
    "<UnitTestResult testName='d' outcome='Timeout'/>"
    "<UnitTestResult testName='data' outcome='Passed'><InnerResults>"
    "<UnitTestResult testName='data (1)' outcome='Passed'/><UnitTestResult testName='data (2)' outcome='Passed'/>"
    "</InnerResults></UnitTestResult>"
    "</Results>"
)

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<testsuite><testcase name="&lol2;"/></testsuite>"""


# ---------------------------------------------------------------------------- reports


def test_junit_counts_testcases_in_nested_suites() -> None:
    # the root's attributes are wrong on purpose: testcases win over totals
    assert parse_bytes(JUNIT_NESTED) == Counts(passed=2, failed=3, skipped=1)


def test_junit_single_suite_root_and_doctype_inside_cdata_is_fine() -> None:
    counts = parse_bytes(JUNIT_SUITE)
    assert counts == Counts(passed=2, failed=0, skipped=1)
    assert counts.total == 3


def test_junit_without_testcases_uses_innermost_suite_attributes() -> None:
    assert parse_bytes(JUNIT_TOTALS_ONLY) == Counts(passed=14, failed=4, skipped=2)
    assert parse_bytes(b'<testsuite tests="5" failures="1" skipped="1"/>') == Counts(3, 1, 1)


def test_junit_attributes_that_do_not_add_up_are_an_error() -> None:
    with pytest.raises(ReportError, match="tests=2"):
        parse_bytes(b'<testsuite name="bad" tests="2" failures="2" skipped="1"/>', "r.xml")
    with pytest.raises(ReportError, match="whole number"):
        parse_bytes(b'<testsuite tests="many"/>')


def test_trx_counters_map_into_three_buckets() -> None:
    # passed 10 + passedButRunAborted 1 + warning 1; failed 2 + error 1 + timeout 1 + aborted 1;
    # skipped notExecuted 2 + inconclusive 1. total/executed are not added.
    assert parse_bytes(TRX_COUNTERS) == Counts(passed=12, failed=5, skipped=3)


def test_trx_without_counters_counts_top_level_results_once() -> None:
    assert parse_bytes(TRX_RESULTS) == Counts(passed=2, failed=2, skipped=1)


def test_trx_unknown_outcome_is_an_error() -> None:
    with pytest.raises(ReportError, match="unknown outcome 'Exploded'"):
        parse_bytes(trx("<Results><UnitTestResult testName='x' outcome='Exploded'/></Results>"))


def test_trx_in_utf16_with_bom_is_read() -> None:
    text = TRX_COUNTERS.decode().replace('encoding="UTF-8"', 'encoding="UTF-16"')
    assert parse_bytes(text.encode("utf-16")) == Counts(12, 5, 3)


def test_format_comes_from_the_root_element_not_the_file_name(tmp_path: Path) -> None:
    odd = tmp_path / "results.trx"
    odd.write_bytes(JUNIT_SUITE)
    assert parse_file(odd) == Counts(2, 0, 1)
    with pytest.raises(ReportError, match="expected a TRX report, found JUnit XML"):
        parse_file(odd, "trx")
    with pytest.raises(ReportError, match=r"not a JUnit or TRX report \(root element <html>\)"):
        parse_bytes(b"<html><body/></html>")


def test_several_files_are_summed(tmp_path: Path) -> None:
    (tmp_path / "a.xml").write_bytes(JUNIT_NESTED)
    (tmp_path / "b.trx").write_bytes(TRX_COUNTERS)
    total = parse_files([(tmp_path / "a.xml", "junit"), (tmp_path / "b.trx", None)])
    assert total == Counts(passed=14, failed=8, skipped=4)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16"])
def test_doctype_and_entities_are_refused_before_parsing(encoding: str) -> None:
    data = BILLION_LAUGHS.decode().encode(encoding)
    with pytest.raises(ReportError, match="lol.xml: DOCTYPE/ENTITY declarations are not allowed"):
        parse_bytes(data, "lol.xml")
    sneaky = (
        b"<?xml version='1.0'?>\n<!-- a comment first -->\n<?pi x?>\n"
        b"<!DOCTYPE x SYSTEM 'file:///etc/passwd'><testsuite/>"
    )
    with pytest.raises(ReportError, match="DOCTYPE"):
        parse_bytes(sneaky)


def test_malformed_and_unreadable_reports_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match=r"^broken.xml: malformed XML \(.*line 1"):
        parse_bytes(b"<testsuite><testcase></testsuite>", "broken.xml")
    with pytest.raises(ReportError, match="missing.xml: cannot read report"):
        parse_file(tmp_path / "missing.xml")


# ---------------------------------------------------------------------------- fake service


class FakeService:
    """Records requests; verifies signatures; answers from a script, then 201."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.script: list[tuple[int, dict[str, Any], dict[str, str]]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = dict(self.headers.items())
                version = headers.get("X-Signature-Version", "1")
                if version == "2":
                    expected = sign_v2(
                        SECRET, self.command, self.path, headers["X-Timestamp"], headers["X-Nonce"], body
                    )
                else:
                    expected = sign_v1(SECRET, body)
                verified = matches(headers.get("X-Signature", ""), expected)
                service.requests.append(
                    {"path": self.path, "headers": headers, "body": body, "verified": verified}
                )
                if not verified:
                    status, reply, extra = 401, {"message": "Invalid signature"}, {}
                elif service.script:
                    status, reply, extra = service.script.pop(0)
                else:
                    segments = [unquote(s) for s in self.path.split("/")[-4:]]
                    platform, owner, repo, branch = segments
                    payload = json.loads(body)
                    status, extra = 201, {}
                    reply = {
                        "test_result_id": payload["run_id"],
                        "repository": f"{owner}/{repo}/{platform}/{branch}",
                        "timestamp": datetime.now(timezone.utc).isoformat(),
                    }
                data = json.dumps(reply).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def payload(self, i: int = -1) -> dict[str, Any]:
        return json.loads(self.requests[i]["body"])


@pytest.fixture
def service():
    fake = FakeService()
    fake.thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests may themselves run on GitHub Actions: start from an environment with none of it."""
    for name in list(os.environ):
        if name.startswith(("GITHUB_", "BADGES_", "RUNNER_")) or name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(push, "RETRY_DELAYS", (0.0, 0.0))


@pytest.fixture
def junit(tmp_path: Path) -> Path:
    path = tmp_path / "junit.xml"
    path.write_bytes(JUNIT_NESTED)
    return path


EXPLICIT = [
    "--owner", "acme", "--repo", "widgets", "--branch", "main", "--platform", "linux",
    "--commit", "abc123", "--run-id", "42", "--workflow-run-url", "https://ci.example/runs/42",
]


def call(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = push.main(list(argv))
    out, err = capsys.readouterr()
    assert SECRET not in out + err
    assert "Traceback" not in err
    return code, out, err


# ---------------------------------------------------------------------------- run()


def test_v1_push_signs_the_body_and_sends_the_payload(service, junit, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BADGES_SECRET", SECRET)
    code, out, err = call(capsys, "--url", service.url, "--junit", str(junit), *EXPLICIT)
    assert (code, err) == (0, "")
    [req] = service.requests
    assert req["verified"]
    assert req["path"] == "/tests/results/linux/acme/widgets/main"
    assert "X-Signature-Version" not in req["headers"]
    assert req["headers"]["Content-Type"] == "application/json"
    assert TIMESTAMP.match(req["headers"]["X-Timestamp"])
    assert uuid.UUID(req["headers"]["X-Nonce"]).version == 4
    payload = service.payload()
    assert payload == {
        "platform": "linux", "passed": 2, "failed": 3, "skipped": 1, "total": 6,
        "url_html": "https://ci.example/runs/42", "timestamp": payload["timestamp"],
        "commit": "abc123", "run_id": "42", "workflow_run_url": "https://ci.example/runs/42",
    }
    assert TIMESTAMP.match(payload["timestamp"])
    assert out.count("\n") == 1
    assert "201" in out and "acme/widgets/linux/main" in out
    assert f"{service.url}/badges/tests/linux/acme/widgets/main" in out


def test_v2_signs_the_encoded_path_of_a_branch_with_a_slash(service, junit, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BADGES_SECRET", SECRET)
    argv = [a if a != "main" else "feature/x y" for a in EXPLICIT]
    code, out, _ = call(capsys, "--url", service.url + "/prod/", "--signature-version", "2",
                        str(junit), *argv, "--url-html", "https://example.org/report")
    assert code == 0
    [req] = service.requests
    assert req["path"] == "/prod/tests/results/linux/acme/widgets/feature%2Fx%20y"
    assert req["headers"]["X-Signature-Version"] == "2"
    assert req["verified"]
    # the v1 MAC of the same body would not pass: the signature really covers more than the body
    assert not matches(req["headers"]["X-Signature"], sign_v1(SECRET, req["body"]))
    assert service.payload()["url_html"] == "https://example.org/report"
    assert f"{service.url}/prod/badges/tests/linux/acme/widgets/feature%2Fx%20y" in out


def test_a_503_is_retried_with_a_fresh_nonce_and_timestamp(service, junit, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BADGES_SECRET", SECRET)
    service.script = [(503, {"message": "busy"}, {}), (429, {"message": "slow down"}, {"Retry-After": "0"})]
    code, out, err = call(capsys, "--url", service.url, "--signature-version", "2", str(junit), *EXPLICIT)
    assert code == 0
    assert len(service.requests) == 3
    assert all(r["verified"] for r in service.requests)
    nonces = {r["headers"]["X-Nonce"] for r in service.requests}
    assert len(nonces) == 3
    assert len({r["body"] for r in service.requests}) == 1
    assert "HTTP 503: busy" in err and "HTTP 429: slow down" in err
    assert "201" in out


def test_gives_up_after_two_retries(service, junit, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BADGES_SECRET", SECRET)
    service.script = [(500, {"message": "down"}, {})] * 5
    code, _, err = call(capsys, "--url", service.url, str(junit), *EXPLICIT)
    assert code == 1
    assert len(service.requests) == 3
    assert err.splitlines()[-1] == "badges push: error: HTTP 500: down (gave up after 3 attempts)"


def test_a_400_is_not_retried_and_the_message_is_shown(service, junit, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BADGES_SECRET", SECRET)
    detail = {"error_code": "INVALID_TEST_PAYLOAD", "property_name": "url_html"}
    service.script = [(400, {"message": "Invalid test payload", "error_details": [detail]}, {})]
    code, out, err = call(capsys, "--url", service.url, str(junit), *EXPLICIT)
    assert (code, out) == (1, "")
    assert len(service.requests) == 1
    assert err == "badges push: error: HTTP 400: Invalid test payload [INVALID_TEST_PAYLOAD:url_html]\n"


def test_a_wrong_secret_is_refused_by_the_service(service, junit, capsys) -> None:
    code, _, err = call(capsys, "--url", service.url, "--secret", "not-the-secret", str(junit), *EXPLICIT)
    assert code == 1
    assert service.requests[0]["verified"] is False
    assert "HTTP 401: Invalid signature" in err


def test_duplicate_after_a_lost_response_counts_as_recorded(service, junit, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BADGES_SECRET", SECRET)
    dup = {"message": "duplicate", "error_details": [{"error_code": "DUPLICATE_TEST_RESULT"}]}
    service.script = [(502, {"message": "gateway"}, {}), (409, dup, {})]
    code, out, _ = call(capsys, "--url", service.url, str(junit), *EXPLICIT)
    assert code == 0 and "already recorded" in out
    # a 409 on the first attempt is a real conflict
    service.script = [(409, dup, {})]
    code, _, err = call(capsys, "--url", service.url, str(junit), *EXPLICIT)
    assert code == 1 and "HTTP 409: duplicate" in err


def test_defaults_come_from_the_github_actions_environment(service, tmp_path, capsys, monkeypatch) -> None:
    reports = tmp_path / "reports" / "deep"
    reports.mkdir(parents=True)
    (reports / "unit.xml").write_bytes(JUNIT_SUITE)
    (tmp_path / "reports" / "integration.xml").write_bytes(JUNIT_NESTED)
    (tmp_path / "reports" / "dotnet.trx").write_bytes(TRX_COUNTERS)
    env = {
        "BADGES_URL": service.url, "BADGES_SECRET": SECRET, "GITHUB_REPOSITORY": "Acme/Widgets",
        "GITHUB_REF_NAME": "42/merge", "GITHUB_HEAD_REF": "feature/login", "RUNNER_OS": "macOS",
        "GITHUB_SHA": "deadbeef", "GITHUB_RUN_ID": "987654", "GITHUB_SERVER_URL": "https://github.example",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, out, err = call(capsys, "--junit", str(tmp_path / "reports" / "**" / "*.xml"),
                          "--trx", str(tmp_path / "reports" / "*.trx"))
    assert (code, err) == (0, "")
    [req] = service.requests
    assert req["path"] == "/tests/results/macos/Acme/Widgets/feature%2Flogin"
    run_url = "https://github.example/Acme/Widgets/actions/runs/987654"
    assert service.payload() == {
        "platform": "macos", "passed": 16, "failed": 8, "skipped": 5, "total": 29,
        "url_html": run_url, "timestamp": service.payload()["timestamp"],
        "commit": "deadbeef", "run_id": "987654", "workflow_run_url": run_url,
    }
    # on a push (not a pull request) GITHUB_HEAD_REF is empty and the ref name is the branch
    monkeypatch.setenv("GITHUB_HEAD_REF", "")
    monkeypatch.setenv("GITHUB_REF_NAME", "main")
    assert call(capsys, "--passed", "1")[0] == 0
    assert service.requests[-1]["path"] == "/tests/results/macos/Acme/Widgets/main"
    assert service.payload()["total"] == 1


def test_dry_run_sends_nothing_and_redacts_the_signature(service, junit, capsys, monkeypatch) -> None:
    monkeypatch.setenv("BADGES_SECRET", SECRET)
    code, out, _ = call(capsys, "--url", service.url, "--dry-run", "--signature-version", "2", str(junit), *EXPLICIT)
    assert code == 0
    assert service.requests == []
    head, _, body = out.partition("\n\n")
    assert head.splitlines()[0] == f"POST {service.url}/tests/results/linux/acme/widgets/main"
    assert "X-Signature: sha256=<redacted>" in head
    assert "X-Signature-Version: 2" in head
    assert re.search(r"^X-Nonce: [0-9a-f-]{36}$", head, re.M)
    assert json.loads(body)["total"] == 6
    # even a secret given on the command line is never echoed
    code, out, _ = call(capsys, "--url", service.url, "--dry-run", "--secret", SECRET, str(junit), *EXPLICIT)
    assert code == 0 and "<redacted>" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--url", "{url}"], "missing secret: set BADGES_SECRET"),
        (["--secret", SECRET], "missing --url (or BADGES_URL)"),
        (["--url", "ftp://x", "--secret", SECRET], "--url must be an http(s) base URL"),
        (["--url", "{url}", "--secret", SECRET, "--branch", ""], "missing --branch"),
        (["--url", "{url}", "--secret", SECRET, "--url-html", "/relative"], "--url-html must be an absolute"),
    ],
)
def test_usage_errors_exit_2_before_sending(service, junit, capsys, argv, message) -> None:
    argv = [a.replace("{url}", service.url) for a in argv]
    code, out, err = call(capsys, *EXPLICIT, *argv, str(junit))  # the last --branch wins
    assert (code, out) == (2, "")
    assert err.startswith(f"badges push: error: {message}") and err.count("\n") == 1
    assert service.requests == []


@pytest.mark.parametrize(
    "reports, message",
    [
        ([], "no test results"),
        (["--junit", "{tmp}/nothing/*.xml"], "no report file matches"),
        (["{tmp}/missing.xml"], "missing.xml: cannot read report"),
        (["{tmp}/bad.xml"], "bad.xml: malformed XML"),
        (["--trx", "{tmp}/ok.xml"], "expected a TRX report, found JUnit XML"),
        (["{tmp}/ok.xml", "--passed", "3"], "either report files or --passed"),
    ],
)
def test_report_problems_exit_2(service, tmp_path, capsys, reports, message) -> None:
    (tmp_path / "bad.xml").write_bytes(b"<testsuite>")
    (tmp_path / "ok.xml").write_bytes(JUNIT_SUITE)
    argv = [r.replace("{tmp}", str(tmp_path)) for r in reports]
    code, _, err = call(capsys, "--url", service.url, "--secret", SECRET, *EXPLICIT, *argv)
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert service.requests == []


def test_a_file_matched_twice_counts_once(service, junit, capsys) -> None:
    code, _, _ = call(capsys, "--url", service.url, "--secret", SECRET, *EXPLICIT,
                      str(junit), "--junit", str(junit.parent / "*.xml"))
    assert code == 0
    assert service.payload()["total"] == 6


def test_unreachable_service_exits_1_without_a_traceback(junit, capsys) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_address[1]
    closed.server_close()
    code, _, err = call(capsys, "--url", f"http://127.0.0.1:{port}", "--secret", SECRET, str(junit), *EXPLICIT)
    assert code == 1
    assert err.splitlines()[-1].startswith(f"badges push: error: cannot reach http://127.0.0.1:{port}/")
    assert "gave up after 3 attempts" in err


def test_a_redirect_is_not_followed(service, junit, capsys) -> None:
    service.script = [(308, {"message": "moved"}, {"Location": "https://elsewhere.example/"})]
    code, _, err = call(capsys, "--url", service.url, "--secret", SECRET, str(junit), *EXPLICIT)
    assert code == 1
    assert len(service.requests) == 1
    assert "HTTP 308: moved (redirect to https://elsewhere.example/" in err


def test_module_runs_standalone(tmp_path: Path, junit: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "BADGES_", "RUNNER_"))}
    env["BADGES_SECRET"] = SECRET
    result = subprocess.run(
        [sys.executable, "-m", "lambdasmith.badges.push", "--url", "http://127.0.0.1:9", "--dry-run",
         str(junit), *EXPLICIT],
        capture_output=True, text=True, env=env, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "POST http://127.0.0.1:9/tests/results/linux/acme/widgets/main" in result.stdout
    assert SECRET not in result.stdout + result.stderr
