"""deploy/items/template.yaml against the code: function, table, DLQ, least-privileged role, and
the built code within that role on the template's table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from lambdasmith.items.config import ItemsConfig
from lambdasmith.items.store import ITEMS
from tests.support.templates import (
    AWS_CALL_SPY,
    BUILD,
    ROOT,
    as_list,
    cfn_lint,
    parameter_values,
    resolve,
    template_path,
)


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("MessageRetentionPeriod: 1209600", "MessageRetentionPeriod: 1209601", "1209601"),  # past SQS's 14 days
    ("ComparisonOperator: GreaterThanOrEqualToThreshold", "ComparisonOperator: AtLeast", "AtLeast"),
    ("!FindInMap [Deployment,", "!FindInMap [Deployments,", "Deployments"),  # the canary's mapping
    ("Tracing: Active", "Tracing: Always", "Always"),
])  # fmt: skip
def test_cfn_lint_catches_a_broken_items_template(old: str, new: str, expected: str) -> None:
    text = template_path("items").read_text(encoding="utf-8")
    assert old in text
    assert any(expected in m for m in cfn_lint(text.replace(old, new, 1)))


@pytest.fixture(scope="module")
def items(templates: dict[str, dict]) -> dict:
    return templates["items"]


def res(template: dict, name: str) -> dict:
    return template["Resources"][name]["Properties"]


def test_items_function_runs_the_items_handler_on_arm64_with_tracing(items: dict) -> None:
    fn = res(items, "ItemsFunction")
    assert fn["Handler"] == "lambdasmith.items.app.handler"
    assert (fn["Runtime"], fn["Architectures"]) == ("python3.13", ["arm64"])
    assert fn["Tracing"] == "Active"
    assert (template_path("items").parent / fn["CodeUri"]).resolve() == ROOT / "build" / "items"
    assert fn["Role"] == {"Fn::GetAtt": ["ItemsFunctionRole", "Arn"]}
    assert "Policies" not in fn and "Events" not in fn  # invoked directly
    assert fn["LoggingConfig"]["LogGroup"] == {"Ref": "ItemsLogGroup"}
    assert res(items, "ItemsLogGroup")["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_items_environment_selects_dynamodb_and_the_stack_table(items: dict) -> None:
    variables = res(items, "ItemsFunction")["Environment"]["Variables"]
    env = {k: resolve(v, items, parameter_values(items)) for k, v in variables.items()}
    config = ItemsConfig.from_env(env)
    assert (config.table_backend, config.table) == ("dynamodb", "name-of-ItemsTable")
    assert env["POWERTOOLS_SERVICE_NAME"] == "lambda-production-readiness"  # the template's dashboards
    assert env["POWERTOOLS_METRICS_NAMESPACE"] == "LambdaProductionReadiness"


def test_items_table_matches_the_store(items: dict) -> None:
    t = res(items, "ItemsTable")
    assert t["BillingMode"] == "PAY_PER_REQUEST"
    keys = {k["KeyType"]: k["AttributeName"] for k in t["KeySchema"]}
    assert (keys["HASH"], keys["RANGE"]) == (ITEMS.pk, ITEMS.sk) == ("PK", "SK")
    assert t["AttributeDefinitions"] == [{"AttributeName": "PK", "AttributeType": "S"},
                                         {"AttributeName": "SK", "AttributeType": "S"}]
    assert t["TimeToLiveSpecification"] == {"AttributeName": ITEMS.ttl, "Enabled": True} and ITEMS.ttl == "ttl"
    assert items["Resources"]["ItemsTable"]["DeletionPolicy"] == "Retain"


def test_failed_async_events_are_retried_twice_then_kept_14_days(items: dict) -> None:
    fn = res(items, "ItemsFunction")
    assert fn["DeadLetterQueue"] == {"Type": "SQS", "TargetArn": {"Fn::GetAtt": ["ItemsDeadLetterQueue", "Arn"]}}
    invoke = fn["EventInvokeConfig"]
    assert invoke["MaximumRetryAttempts"] == 2
    assert 60 <= invoke["MaximumEventAgeInSeconds"] <= 21600
    assert "DestinationConfig" not in invoke  # one failure path: the DLQ
    dlq = items["Resources"]["ItemsDeadLetterQueue"]
    assert dlq["Type"] == "AWS::SQS::Queue"
    assert dlq["Properties"]["MessageRetentionPeriod"] == 1209600
    assert dlq["Properties"]["SqsManagedSseEnabled"] is True
    assert dlq["DeletionPolicy"] == "Retain"


def statements(template: dict, role: str) -> list[dict]:
    r = res(template, role)
    assert "ManagedPolicyArns" not in r
    assert r["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    return [s for p in r["Policies"] for s in p["PolicyDocument"]["Statement"]]


def grants(template: dict, role: str) -> dict[str, set[str]]:
    """action -> the resources (as written, resolved against placeholder names) it is allowed on."""
    out: dict[str, set[str]] = {}
    values = {"AWS::Partition": "aws", "AWS::Region": "r", "AWS::AccountId": "1"}
    for s in statements(template, role):
        assert s["Effect"] == "Allow" and "Condition" not in s
        for a in as_list(s["Action"]):
            assert "*" not in a, a
            for r in as_list(s["Resource"]):
                text = r if isinstance(r, str) else (
                    f"arn-of-{r['Fn::GetAtt'][0]}" if "Fn::GetAtt" in r else resolve(r, template, values))
                out.setdefault(a, set()).add(text)
    return out


ITEM_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                "dynamodb:ConditionCheckItem"}  # fmt: skip


def test_items_role_is_least_privilege(items: dict) -> None:
    g = grants(items, "ItemsFunctionRole")
    assert {a for a in g if a.startswith("dynamodb:")} == ITEM_ACTIONS
    assert all(g[a] == {"arn-of-ItemsTable"} for a in ITEM_ACTIONS)
    assert {a: g[a] for a in g if a.startswith("sqs:")} == {"sqs:SendMessage": {"arn-of-ItemsDeadLetterQueue"}}
    log_group = "arn:aws:logs:r:1:log-group:name-of-ItemsLogGroup:*"
    assert {a: g[a] for a in g if a.startswith("logs:")} == {"logs:CreateLogStream": {log_group},
                                                             "logs:PutLogEvents": {log_group}}
    # X-Ray has no resource-level permissions: its two write actions, on "*", and nothing else.
    assert {a: g[a] for a in g if a.startswith("xray:")} == {"xray:PutTraceSegments": {"*"},
                                                             "xray:PutTelemetryRecords": {"*"}}
    assert {a.split(":")[0] for a in g} == {"dynamodb", "sqs", "logs", "xray"}


# Runs the built items code alone (-I -S: no site-packages, no dev tree), recording its AWS calls.
ITEMS_PROBE = AWS_CALL_SPY + r"""
from lambdasmith.items.app import handler
answers = []
for event in json.load(sys.stdin):
    if answers and "REPLACE-WITH-AN-ID" in json.dumps(event):
        created = json.loads(answers[0]["body"])["data"]["id"]
        event = json.loads(json.dumps(event).replace("REPLACE-WITH-AN-ID", created))
    answers.append(handler(event, None))
files = {n: getattr(m, "__file__", "") or "" for n, m in list(sys.modules.items())}
print(json.dumps({"answers": answers, "calls": calls,
                  "site": [n for n, f in files.items() if "site-packages" in f]}))
"""


def test_the_built_items_code_works_within_its_role_on_the_templates_table(
    items: dict, aws_env: None, tmp_path: Path
) -> None:
    """The sample events (create, update, delete, invalid) through the built code, with the
    template's environment, against the template's table on DynamoDB Local: every call it makes
    is one the role allows."""
    import boto3

    subprocess.run([sys.executable, str(BUILD), "items", "--out", str(tmp_path / "build")], check=True,
                   capture_output=True)  # fmt: skip
    table = f"release-items-{uuid.uuid4().hex[:10]}"
    t = res(items, "ItemsTable")
    boto3.client("dynamodb").create_table(TableName=table, **{k: t[k] for k in ("AttributeDefinitions", "KeySchema",
                                                                               "BillingMode")})  # fmt: skip
    variables = res(items, "ItemsFunction")["Environment"]["Variables"]
    env = {k: resolve(v, items, {**parameter_values(items), "ItemsTable": table}) for k, v in variables.items()}
    env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")}, LAMBDASMITH_DATA_DIR=str(tmp_path / "d"))
    events = [json.loads((ROOT / "events" / f"items-{name}.json").read_text()) for name in
              ("create", "update", "delete", "invalid")]  # fmt: skip
    done = subprocess.run([sys.executable, "-I", "-S", "-c", ITEMS_PROBE, str(tmp_path / "build" / "items")],
                          input=json.dumps(events), capture_output=True, text=True,
                          env={"PATH": os.environ.get("PATH", ""), **env}, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["site"] == []
    assert [a["statusCode"] for a in result["answers"]] == [200, 200, 200, 400], result["answers"]
    assert not (tmp_path / "d").exists(), "an embedded backend was used"
    g = grants(items, "ItemsFunctionRole")
    assert result["calls"]
    for action, target, _index in result["calls"]:
        assert target == table, (action, target)
        assert "arn-of-ItemsTable" in g.get(action, set()), f"the role does not allow {action}"
