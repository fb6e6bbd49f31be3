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
