"""The peer for bench/coldstart.py: the same two badge requests served the way a typical
Powertools + boto3 Lambda does it (resolver, Logger, Metrics, boto3 clients made at init).

Benchmark-only (dev dependencies). Data comes from the same seeded SQLite file and the same fake
NuGet as our handler, so the difference measured is the framework and SDK, not the data path.
"""

import json
import os
import sqlite3
import urllib.request

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

logger = Logger(service="badges")
metrics = Metrics(namespace="BadgeSmith", service="badges")
app = APIGatewayHttpResolver()
session = boto3.session.Session(region_name=os.environ.get("AWS_REGION", "us-east-1"))
dynamodb = session.client("dynamodb")  # what a DynamoDB-backed handler creates at init
secrets = session.client("secretsmanager")
DB = os.path.join(os.environ["LAMBDASMITH_DATA_DIR"], "lambdasmith.db")
NUGET = os.environ["NUGET_BASE_URL"]
CACHE = "public, s-maxage=600, max-age=300, stale-while-revalidate=1200, stale-if-error=3600"


def badge(body: dict) -> Response:
    return Response(200, "application/json", json.dumps(body), {"Cache-Control": CACHE})


@app.get("/badges/tests/<platform>/<owner>/<repo>/<branch>")
def test_badge(platform, owner, repo, branch):
    key = f"LATEST#{owner.lower()}#{repo.lower()}#{platform.lower()}#{branch.lower()}"
    with sqlite3.connect(DB) as conn:
        row = conn.execute(
            "SELECT i.body FROM table_gsi g JOIN table_items i ON i.tbl = g.tbl AND i.pk = g.pk AND i.sk = g.sk"
            " WHERE g.tbl = ? AND g.idx = 'GSI1' AND g.gpk = ? ORDER BY g.gsk DESC LIMIT 1",
            ("badges-test-results", key),
        ).fetchone()
    item = json.loads(row[0])
    return badge({"schemaVersion": 1, "label": "tests", "message": f"{item['passed']} passed", "color": "brightgreen"})


@app.get("/badges/packages/nuget/<package>")
def nuget(package):
    with urllib.request.urlopen(f"{NUGET}/v3-flatcontainer/{package.lower()}/index.json", timeout=10) as r:
        versions = json.load(r)["versions"]
    stable = [v for v in versions if "-" not in v]
    best = max(stable, key=lambda v: tuple(int(x) for x in v.split(".")))
    return badge({"schemaVersion": 1, "label": "nuget", "message": best, "color": "blue", "namedLogo": "nuget"})


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event, context):
    return app.resolve(event, context)
