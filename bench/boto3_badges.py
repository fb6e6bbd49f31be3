"""The boto3 peer for the DynamoDB row of bench/coldstart.py: the same test-badge request
(latest result through the results table's GSI1) made with boto3, as a plain handler.
Benchmark-only (dev dependencies)."""

import json
import os

import boto3

dynamodb = boto3.client("dynamodb", region_name=os.environ["AWS_REGION"])
TABLE = os.environ["BADGES_RESULTS_TABLE"]


def handler(event, context):
    _, _, _, platform, owner, repo, branch = event["rawPath"].split("/")
    out = dynamodb.query(
        TableName=TABLE, IndexName="GSI1", KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": "LATEST#" + f"{owner}#{repo}#{platform}#{branch}".lower()}},
        ScanIndexForward=False, Limit=1,
    )
    item = out["Items"][0]
    body = {"schemaVersion": 1, "label": "tests", "message": f"{item['passed']['N']} passed", "color": "brightgreen"}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
