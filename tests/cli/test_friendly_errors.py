"""One-line errors without tracebacks: missing AWS credentials, a busy port, a missing event
file, an out-of-range port, a bad setting."""

from __future__ import annotations

import socket

import pytest

from tests.cli.support import clean_env, run

NO_CREDENTIALS = ("lambdasmith: no AWS credentials in the environment, container endpoint or shared file: set "
                  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE); DynamoDB Local and other emulators "
                  "take any values\n")  # fmt: skip


@pytest.mark.parametrize("command", [("badges", "create-tables"), ("wardrobe", "create-tables"),
                                     ("badges", "orgs", "list")])  # fmt: skip
def test_missing_aws_credentials(tmp_path, command):
    env = clean_env(tmp_path, LAMBDASMITH_TABLE_BACKEND="dynamodb", AWS_REGION="us-east-1",
                    AWS_ENDPOINT_URL_DYNAMODB="http://127.0.0.1:9")  # fmt: skip
    r = run(*command, env=env, cwd=tmp_path)
    assert (r.returncode, r.stderr) == (1, NO_CREDENTIALS)


def test_a_busy_port_is_named_with_the_way_out(tmp_path):
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        # the busy port as invoke's (BASE+3): the message names that one
        r = run("serve", "invoke", "--port", str(port - 3), "--data-dir", str(tmp_path / "d"),
                env=clean_env(tmp_path), timeout=60)  # fmt: skip
    assert r.returncode == 1
    assert r.stderr == (f"lambdasmith serve: port {port} is already in use (cannot listen on http://127.0.0.1:{port}); "
                        "choose another base port with --port (or 0 for free ports)\n")  # fmt: skip


@pytest.mark.parametrize("value, message", [
    ("70000", "70000 is out of range: a port is 1..65535 (or 0 for any free port)"),
    ("-1", "-1 is out of range: a port is 1..65535 (or 0 for any free port)"),
    ("http", "'http' is not a port number (1..65535, or 0 for any free port)"),
])  # fmt: skip
def test_an_out_of_range_port_is_a_usage_error(tmp_path, value, message):
    r = run("serve", f"--port={value}", env=clean_env(tmp_path))
    assert r.returncode == 2
    assert r.stderr.splitlines()[-1] == f"lambdasmith serve: error: argument --port: {message}"


def test_a_bad_lambdasmith_port_is_reported_the_same_way(tmp_path):
    r = run("serve", env=clean_env(tmp_path, LAMBDASMITH_PORT="99999"))
    assert r.returncode == 2
    assert r.stderr.splitlines()[-1] == ("lambdasmith serve: error: argument --port: 99999 is out of range: "
                                         "a port is 1..65535 (or 0 for any free port)")  # fmt: skip


def test_an_issuer_that_is_not_https_stops_serve_before_it_answers(tmp_path):
    r = run("serve", "badges", "--port", "0", "--data-dir", str(tmp_path / "d"),
            env=clean_env(tmp_path, BADGES_OIDC_ISSUER="http://issuer.example"), timeout=60)  # fmt: skip
    assert (r.returncode, r.stdout) == (1, "")
    assert r.stderr == ("lambdasmith serve: BADGES_OIDC_ISSUER='http://issuer.example': expected an https URL "
                        "(http only on loopback) without query or fragment\n")  # fmt: skip


def test_a_missing_event_file_says_so(tmp_path):
    r = run("invoke", "items", "missing.json", "--data-dir", str(tmp_path / "d"), env=clean_env(tmp_path), cwd=tmp_path)
    assert (r.returncode, r.stdout) == (2, "")
    assert r.stderr == "invoke: the event file missing.json does not exist (EVENT is JSON text, a file, or - for stdin)\n"


def test_bad_json_text_and_a_bad_file_are_not_json(tmp_path):
    env = clean_env(tmp_path)
    r = run("invoke", "items", "{nope", "--data-dir", str(tmp_path / "d"), env=env, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("invoke: the event is not JSON: ")
    (tmp_path / "bad.json").write_text("{nope")
    r = run("invoke", "items", "bad.json", "--data-dir", str(tmp_path / "d"), env=env, cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("invoke: the event in bad.json is not JSON: ")
