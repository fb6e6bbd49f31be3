"""The wardrobe API's metrics: names from the Powertools variables; ItemsListed counts items."""

from __future__ import annotations

import json

from lambdasmith.local.apigw import v1_event
from lambdasmith.wardrobe import api as wardrobe_api
from lambdasmith.wardrobe.config import WardrobeConfig
from lambdasmith.wardrobe.wiring import mint_token


def test_items_listed_counts_the_items_a_page_returned(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "SyncApi")
    monkeypatch.delenv("POWERTOOLS_METRICS_NAMESPACE", raising=False)
    config = WardrobeConfig.from_env({"LAMBDASMITH_DATA_DIR": str(tmp_path)})
    auth = [("Authorization", f"Bearer {mint_token(config, 'alice')}"), ("Content-Type", "application/json")]
    app = wardrobe_api.create_app(config)
    for n in range(3):
        body = {"itemId": f"coat-{n}", "name": "Coat", "category": "outerwear", "season": "winter"}
        assert app.handler(v1_event("POST", "/users/alice/items", auth, json.dumps(body).encode()))["statusCode"] == 201
    capsys.readouterr()
    for target in ("/users/alice/items?limit=2", "/users/alice/items?season=summer"):
        assert app.handler(v1_event("GET", target, auth, b""))["statusCode"] == 200
    docs = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert [d["ItemsListed"] for d in docs] == [2, 0]  # items, not requests (as Wdrbe counts)
    assert {d["service"] for d in docs} == {"SyncApi"}
    assert {d["_aws"]["CloudWatchMetrics"][0]["Namespace"] for d in docs} == {"Wdrbe"}
