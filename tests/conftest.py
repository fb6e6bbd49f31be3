"""Fixtures shared by the whole suite.

AWS servers on loopback (see tests/support/aws_servers.py), each started once per session and only
when a test asks for it:

- `dynamodb_local`: DynamoDB Local (needs Java 17+ and `make node-tools`);
- `moto_server`: moto's server, for SQS, Secrets Manager and SSM;
- `aws_credentials`: fake credentials and region, no endpoints (function-scoped);
- `moto_env`: `aws_credentials` plus the SQS, Secrets Manager and SSM endpoints of moto;
- `aws_env`: `moto_env` plus the DynamoDB endpoint of DynamoDB Local.

A server that cannot run here fails the tests that need it, with the reason, unless
LAMBDASMITH_SKIP_AWS=1 is set: then they are skipped. Servers are shared by the session, so
tests name their tables, queues, secrets and parameters uniquely.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.support import aws_servers
from tests.support.aws_servers import LocalServer, MotoServer, ServerUnavailable

FAKE_ACCESS_KEY_ID = "testing"  # alphanumeric: DynamoDB Local rejects other characters
FAKE_SECRET_ACCESS_KEY = "testing"
FAKE_REGION = "us-east-1"

_STARTED: list[LocalServer] = []  # the session's servers, for the run's summary


def _start(make: Callable[[], LocalServer]) -> LocalServer:
    try:
        server = make()
    except ServerUnavailable as exc:
        reason = str(exc)
    else:
        server.start()
        _STARTED.append(server)
        return server
    if os.environ.get("LAMBDASMITH_SKIP_AWS") == "1":
        pytest.skip(f"LAMBDASMITH_SKIP_AWS=1: {reason}")
    pytest.fail(reason, pytrace=False)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[LocalServer]:
    """DynamoDB Local, in memory and shared by every region and key; `.endpoint` is its URL."""
    server = _start(aws_servers.dynamodb_local)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    """moto's server (SQS, Secrets Manager, SSM, ...); `.endpoint` is its URL."""
    server = _start(aws_servers.moto_server)
    assert isinstance(server, MotoServer)
    yield server
    server.stop()


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials and region for botocore, with nothing of the developer's own AWS setup."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_SECRET_ACCESS_KEY)
    monkeypatch.setenv("AWS_REGION", FAKE_REGION)
    monkeypatch.setenv("AWS_DEFAULT_REGION", FAKE_REGION)  # the one botocore reads
    # No ~/.aws profile, config or instance metadata lookup can get in.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def moto_env(aws_credentials: None, moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    monkeypatch.setenv("AWS_ENDPOINT_URL_SQS", moto_server.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_server.endpoint)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", moto_server.endpoint)
    return moto_server


@pytest.fixture
def aws_env(moto_env: MotoServer, dynamodb_local: LocalServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials, us-east-1, and every service's endpoint on a loopback server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How long each AWS server this run started took to answer (information, not a check)."""
    started = [s for s in _STARTED if s.startup_seconds is not None]
    if started:
        terminalreporter.write_line(
            "AWS servers started: "
            + ", ".join(f"{s.name} in {s.startup_seconds:.2f}s" for s in started)
        )
