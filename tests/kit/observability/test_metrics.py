"""lambdasmith.kit.observability.metrics: CloudWatch embedded metric format documents."""

import io
import json

from lambdasmith.kit.observability.metrics import Metrics


def test_emf_document():
    out = io.StringIO()
    m = Metrics("NS", "svc", stream=out)
    m.add("Hits")
    m.add("Hits", 2)
    m.add("Latency", 3.5, "Milliseconds")
    m.flush()
    doc = json.loads(out.getvalue())
    cw = doc["_aws"]["CloudWatchMetrics"][0]
    assert cw["Namespace"] == "NS" and cw["Dimensions"] == [["service"]]
    assert {x["Name"]: x["Unit"] for x in cw["Metrics"]} == {"Hits": "Count", "Latency": "Milliseconds"}
    assert doc["Hits"] == [1, 2] and doc["Latency"] == 3.5 and doc["service"] == "svc"
    assert isinstance(doc["_aws"]["Timestamp"], int)
    m.flush()
    assert len(out.getvalue().splitlines()) == 1  # nothing new, nothing written


def test_names_resolve_as_in_powertools_argument_then_environment_then_default(monkeypatch):
    monkeypatch.delenv("POWERTOOLS_SERVICE_NAME", raising=False)
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    m = Metrics(default_namespace="Wdrbe", default_service="wardrobe")
    assert (m.namespace, m.service) == ("Wdrbe", "wardrobe")
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "SyncApi")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "Dashboards")
    m = Metrics(default_namespace="Wdrbe", default_service="wardrobe")
    assert (m.namespace, m.service, m.dimensions) == ("Dashboards", "SyncApi", {"service": "SyncApi"})
    assert (Metrics("NS", "svc").namespace, Metrics("NS", "svc").service) == ("NS", "svc")


def test_powertools_metrics_disabled_writes_nothing(monkeypatch):
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    out = io.StringIO()
    m = Metrics("NS", "svc", stream=out)
    m.add("Hits")
    m.flush()
    assert out.getvalue() == ""
