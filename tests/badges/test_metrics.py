"""The badges handler's metrics: names from the Powertools variables, one count per ingested run."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

import pytest

from lambdasmith.badges import app as badges_app
from lambdasmith.badges.config import BadgesConfig
from lambdasmith.badges.signature import sign_v2
from lambdasmith.badges.wiring import open_store
from lambdasmith.local.apigw import v2_event

SECRET = "metrics-secret"
PATH = "/tests/results/linux/acme/metrics/main"


def _ingest(app, body: bytes) -> int:
    ts = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    nonce = uuid.uuid4().hex
    headers = [("content-type", "application/json"), ("x-nonce", nonce), ("x-timestamp", ts),
               ("x-signature-version", "2"), ("x-signature", sign_v2(SECRET, "POST", PATH, ts, nonce, body))]  # fmt: skip
    return app.handler(v2_event("POST", PATH, headers, body))["statusCode"]


@pytest.mark.parametrize(("env", "namespace", "service"), [
    ({}, "BadgeSmith", "badges"),
    ({"POWERTOOLS_SERVICE_NAME": "badge-api", "POWERTOOLS_METRICS_NAMESPACE": "Ours"}, "Ours", "badge-api"),
])
def test_an_ingested_run_is_counted_under_the_configured_names(tmp_path, monkeypatch, capsys, env, namespace, service):
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = BadgesConfig.from_env({"LAMBDASMITH_DATA_DIR": str(tmp_path)})
    open_store(config).register_org("acme", "testdata", SECRET)
    app = badges_app.create_app(config)
    capsys.readouterr()
    run = {"platform": "linux", "passed": 3, "failed": 0, "skipped": 0, "total": 3, "commit": "abc",
           "run_id": "1", "timestamp": "2026-12-03T00:00:00Z", "url_html": "https://ci.example/1",
           "workflow_run_url": "https://ci.example/runs/1"}  # fmt: skip
    assert _ingest(app, json.dumps(run).encode()) == 201
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(docs) == 1 and docs[0]["TestResultsIngested"] == 1
    assert docs[0]["service"] == service and docs[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == namespace
