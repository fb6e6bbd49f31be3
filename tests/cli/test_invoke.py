"""`lambdasmith invoke` runs shell functions as well as Python ones."""

from __future__ import annotations

import json

from tests.cli.support import clean_env, run


def test_a_shell_function_runs_behind_the_runtime_api(tmp_path):
    r = run("invoke", "health", "--data-dir", str(tmp_path / "d"), env=clean_env(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["statusCode"] == 200 and json.loads(result["body"])["status"] == "ok"
    assert r.stderr.count("START RequestId: ") == 1 and "REPORT RequestId: " in r.stderr


def test_an_unknown_function_lists_python_and_shell_ones(tmp_path):
    r = run("invoke", "nope", env=clean_env(tmp_path), cwd=tmp_path)
    assert r.returncode == 2
    assert r.stderr.startswith("invoke: no function 'nope' (one of ")
    for name in ("items", "badges", "health", "echo_request"):
        assert name in r.stderr


def test_a_python_function_still_runs(tmp_path):
    event = json.dumps({"requestContext": {"http": {"method": "GET"}}, "rawPath": "/nope", "headers": {}})
    r = run("invoke", "items", event, "--data-dir", str(tmp_path / "d"), env=clean_env(tmp_path), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "statusCode" in json.loads(r.stdout)
