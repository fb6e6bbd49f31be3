"""deploy/wardrobe/template.yaml, checked offline: cfn-lint, functions, REST API, queue and worker,
table, alarms, IAM, outputs; the built code on the stack's resources within its roles."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from lambdasmith.kit.secrets.aws import SsmSecrets
from lambdasmith.wardrobe.config import WardrobeConfig
from lambdasmith.wardrobe.store import WARDROBE
from tests.support.templates import (
    AWS_CALL_SPY,
    ROOT,
    as_list,
    cfn_lint,
    check_access_log,
    key_schema,
    load_template,
    props,
    resource_text,
)

WARDROBE_TEMPLATE = ROOT / "deploy" / "wardrobe" / "template.yaml"


# ------------------------------------------------------------------ wardrobe: cfn-lint, functions, API

API_ROUTES = {("POST", "/users/{userId}/items"), ("GET", "/users/{userId}/items"),
              ("POST", "/items/{itemId}/share"), ("GET", "/users/{userId}/activities"),
              ("GET", "/openapi.json")}  # fmt: skip
ITEM_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
ESM_SQS_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}
PARAMETER_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${JwtSecretParameterName}"


@pytest.fixture(scope="module")
def template() -> dict:
    """The badges template: the wardrobe's functions run the same Python runtime as its function."""
    return load_template("badges")


@pytest.fixture(scope="module")
def wtemplate() -> dict:
    return load_template("wardrobe")


@pytest.fixture(scope="module")
def wres(wtemplate: dict) -> dict:
    return wtemplate["Resources"]


def default(template: dict, parameter: str):
    return template["Parameters"][parameter]["Default"]


def resolve_env(template: dict, variables: dict, refs: dict[str, str]) -> dict[str, str]:
    """A function's variables as it will see them: Refs through `refs`, else parameter defaults
    (and a resource's logical id standing in for its name)."""
    values = {**dict(zip(template["Resources"], template["Resources"])),
              **{k: str(v.get("Default", "")) for k, v in template["Parameters"].items()}, **refs}
    return {k: values[v["Ref"]] if isinstance(v, dict) else v for k, v in variables.items()}


def test_wardrobe_cfn_lint_reports_nothing() -> None:
    assert cfn_lint(WARDROBE_TEMPLATE.read_text(encoding="utf-8")) == []


def test_wardrobe_cfn_lint_catches_a_broken_template() -> None:
    broken = WARDROBE_TEMPLATE.read_text(encoding="utf-8").replace(
        "[ReportBatchItemFailures]", "[ReportBatchItemFailure]", 1)
    assert any("ReportBatchItemFailure'" in m for m in cfn_lint(broken))


@pytest.mark.parametrize(("logical_id", "handler", "memory", "timeout"), [
    ("ApiFunction", "lambdasmith.wardrobe.api.handler", "ApiMemorySize", "ApiTimeout"),
    ("WorkerFunction", "lambdasmith.wardrobe.worker.handler", "WorkerMemorySize", "WorkerTimeout"),
])  # fmt: skip
def test_wardrobe_functions_run_their_handlers_on_arm64(
    template: dict, wtemplate: dict, wres: dict, logical_id: str, handler: str, memory: str, timeout: str
) -> None:
    fn = props(wres, logical_id)
    assert fn["Handler"] == handler
    module, _, attr = handler.rpartition(".")
    assert callable(getattr(importlib.import_module(module), attr))
    assert fn["Architectures"] == ["arm64"]
    assert fn["Runtime"] == props(template["Resources"], "BadgesFunction")["Runtime"] == "python3.13"
    assert (fn["MemorySize"], fn["Timeout"]) == ({"Ref": memory}, {"Ref": timeout})
    assert default(wtemplate, memory) == 256
    assert (WARDROBE_TEMPLATE.parent / fn["CodeUri"]).resolve() == ROOT / "build" / "wardrobe"
    # its own least-privileged role (no SAM policies: they would add AWSLambdaBasicExecutionRole)
    assert fn["Role"] == {"Fn::GetAtt": [f"{logical_id}Role", "Arn"]}
    assert "Policies" not in fn


def test_api_timeout_fits_the_rest_integration_timeout(wtemplate: dict) -> None:
    p = wtemplate["Parameters"]["ApiTimeout"]
    assert p["MaxValue"] <= 29 and p["MinValue"] <= p["Default"] <= p["MaxValue"]


def test_wardrobe_api_environment_selects_the_aws_backends_and_the_stack_resources(
    wtemplate: dict, wres: dict
) -> None:
    env = props(wres, "ApiFunction")["Environment"]["Variables"]
    config = WardrobeConfig.from_env(resolve_env(wtemplate, env, {}))
    assert (config.table_backend, config.secret_backend, config.queue_backend) == ("dynamodb", "ssm", "sqs")
    assert (config.table, config.share_queue) == ("WardrobeTable", "ShareQueue")
    assert env["WARDROBE_SHARE_QUEUE"] == {"Ref": "ShareQueue"}  # a queue's Ref is its URL: no GetQueueUrl needed
    assert config.data_dir == "/tmp/lambdasmith"
    assert (config.jwt_issuer, config.jwt_audience) == (None, None)  # empty defaults: not checked
    overridden = resolve_env(wtemplate, env, {"JwtIssuer": "https://id.example", "JwtAudience": "wardrobe"})
    assert (WardrobeConfig.from_env(overridden).jwt_issuer, WardrobeConfig.from_env(overridden).jwt_audience) == (
        "https://id.example", "wardrobe")
    # The parameter the role may read is the one the SSM backend asks for, default or not; the
    # default is the contract's secret name `wardrobe/jwt-secret` under SSM's leading slash.
    assert default(wtemplate, "JwtSecretParameterName") == "/" + WardrobeConfig._defaults["jwt_secret_name"]
    for name in (default(wtemplate, "JwtSecretParameterName"), "/prod/wardrobe/jwt"):
        seen = WardrobeConfig.from_env(resolve_env(wtemplate, env, {"JwtSecretParameterName": name}))
        assert SsmSecrets(client=object()).parameter_name(seen.jwt_secret_name) == name
        assert re.fullmatch(wtemplate["Parameters"]["JwtSecretParameterName"]["AllowedPattern"], name)
    assert not re.fullmatch(wtemplate["Parameters"]["JwtSecretParameterName"]["AllowedPattern"], "wardrobe/jwt")


def test_wardrobe_worker_environment_has_the_table_and_nothing_secret(wtemplate: dict, wres: dict) -> None:
    env = props(wres, "WorkerFunction")["Environment"]["Variables"]
    config = WardrobeConfig.from_env(resolve_env(wtemplate, env, {}))
    assert (config.table_backend, config.table) == ("dynamodb", "WardrobeTable")
    assert not [k for k in env if k.startswith("WARDROBE_JWT")]


def test_wardrobe_rest_api_routes_are_the_apps_routes(wres: dict, tmp_path: Path) -> None:
    events = props(wres, "ApiFunction")["Events"]
    assert {e["Type"] for e in events.values()} == {"Api"}  # REST API: proxy integration, payload 1.0
    assert all(e["Properties"]["RestApiId"] == {"Ref": "WardrobeApi"} for e in events.values())
    routes = {(e["Properties"]["Method"].upper(), e["Properties"]["Path"]) for e in events.values()}
    assert {r for r in routes if r[0] != "OPTIONS"} == API_ROUTES
    # ...which are exactly what the function routes; preflights reach it on each of their paths.
    from lambdasmith.wardrobe.api import create_app

    app = create_app(WardrobeConfig.from_env({"LAMBDASMITH_DATA_DIR": str(tmp_path)}))
    assert {(r.method, r.template) for r in app.router.routes} == API_ROUTES
    assert {p for m, p in routes if m == "OPTIONS"} == {p for _, p in API_ROUTES}
    assert [r["Type"] for r in wres.values() if "Api" in r["Type"] and r["Type"] != "AWS::ApiGateway::Account"] == [
        "AWS::Serverless::Api"]  # one API (the Account resource is the account's log role setting)


def test_wardrobe_rest_api_has_a_throttled_stage(wtemplate: dict, wres: dict) -> None:
    api = props(wres, "WardrobeApi")
    assert api["StageName"] == {"Ref": "StageName"} and default(wtemplate, "StageName") == "prod"
    assert api["MethodSettings"] == [{"ResourcePath": "/*", "HttpMethod": "*",
                                      "ThrottlingRateLimit": {"Ref": "ThrottlingRateLimit"},
                                      "ThrottlingBurstLimit": {"Ref": "ThrottlingBurstLimit"}}]
    assert default(wtemplate, "ThrottlingRateLimit") <= default(wtemplate, "ThrottlingBurstLimit")
    assert "OpenApiVersion" in api  # without it SAM adds a second stage named "Stage"
    # The function checks the bearer token (401/403 bodies of the contract) and answers CORS.
    assert "Auth" not in api and "Cors" not in api


# ------------------------------------------------------------------ wardrobe: queue and worker


def event_source_mapping(wres: dict) -> dict:
    mappings = [r["Properties"] for r in wres.values() if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert len(mappings) == 1
    return mappings[0]


def test_worker_reads_the_share_queue_reporting_partial_batch_failures(wres: dict) -> None:
    esm = event_source_mapping(wres)
    assert esm["EventSourceArn"] == {"Fn::GetAtt": ["ShareQueue", "Arn"]}
    # the worker's `live` alias (SAM's name for it), so the canary shifts share events too
    assert esm["FunctionName"] == {"Ref": "WorkerFunction.Alias"}
    assert esm["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert esm["BatchSize"] == 10
    assert 0 < esm["MaximumBatchingWindowInSeconds"] <= 5
    assert "Events" not in props(wres, "WorkerFunction")  # no second mapping made by SAM


def test_share_queue_moves_a_message_to_the_dlq_after_3_receives(wres: dict) -> None:
    queue, dlq = props(wres, "ShareQueue"), props(wres, "ShareDeadLetterQueue")
    assert queue["RedrivePolicy"] == {"deadLetterTargetArn": {"Fn::GetAtt": ["ShareDeadLetterQueue", "Arn"]},
                                      "maxReceiveCount": 3}
    assert queue["RedrivePolicy"]["maxReceiveCount"] == WardrobeConfig._defaults["max_receive_count"]  # as locally
    assert dlq["MessageRetentionPeriod"] == 14 * 24 * 3600 and "RedrivePolicy" not in dlq
    assert queue["MessageRetentionPeriod"] <= dlq["MessageRetentionPeriod"]
    assert queue["SqsManagedSseEnabled"] is True and dlq["SqsManagedSseEnabled"] is True
    assert wres["ShareDeadLetterQueue"]["DeletionPolicy"] == "Retain"  # failed shares outlive the stack
    # A redelivered share never counts twice: the worker's applied-event marker outlives any message.
    assert WardrobeConfig._defaults["applied_event_ttl_s"] > dlq["MessageRetentionPeriod"]


def test_share_queue_visibility_timeout_is_at_least_six_worker_timeouts(wtemplate: dict, wres: dict) -> None:
    assert props(wres, "WorkerFunction")["Timeout"] == {"Ref": "WorkerTimeout"}
    assert props(wres, "ShareQueue")["VisibilityTimeout"] == {
        "Fn::FindInMap": ["WorkerQueue", {"Ref": "WorkerTimeout"}, "VisibilityTimeout"]}
    timeouts = wtemplate["Parameters"]["WorkerTimeout"]["AllowedValues"]
    assert default(wtemplate, "WorkerTimeout") in timeouts
    table = wtemplate["Mappings"]["WorkerQueue"]
    assert set(table) == {str(t) for t in timeouts}  # every allowed timeout has its visibility timeout
    window = event_source_mapping(wres)["MaximumBatchingWindowInSeconds"]
    for t in timeouts:
        assert 6 * t + window <= table[str(t)]["VisibilityTimeout"] <= 12 * 3600, t


# ------------------------------------------------------------------ wardrobe: table


def test_wardrobe_table_matches_the_store(wres: dict) -> None:
    t = props(wres, "WardrobeTable")
    assert t["BillingMode"] == "PAY_PER_REQUEST"
    assert key_schema(t["KeySchema"]) == (WARDROBE.pk, WARDROBE.sk) == ("PK", "SK")
    indexes = {g["IndexName"]: g for g in t["GlobalSecondaryIndexes"]}
    assert set(indexes) == {ix.name for ix in WARDROBE.indexes} == {"GSI1", "GSI2"}
    for ix in WARDROBE.indexes:
        assert key_schema(indexes[ix.name]["KeySchema"]) == (ix.pk, ix.sk) == (f"{ix.name}PK", f"{ix.name}SK")
        assert indexes[ix.name]["Projection"] == {"ProjectionType": "ALL"}
    key_attrs = {WARDROBE.pk, WARDROBE.sk} | {a for ix in WARDROBE.indexes for a in (ix.pk, ix.sk)}
    assert {d["AttributeName"]: d["AttributeType"] for d in t["AttributeDefinitions"]} == dict.fromkeys(key_attrs, "S")
    assert t["TimeToLiveSpecification"] == {"AttributeName": WARDROBE.ttl, "Enabled": True}
    assert WARDROBE.ttl == "ttl"
    assert t["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert t["SSESpecification"] == {"SSEEnabled": True}
    assert wres["WardrobeTable"]["DeletionPolicy"] == wres["WardrobeTable"]["UpdateReplacePolicy"] == "Retain"


# ------------------------------------------------------------------ wardrobe: alarms


def test_the_four_alarms_watch_the_right_metrics(wtemplate: dict, wres: dict) -> None:
    # The operational alarms; the canary's (in the functions' DeploymentPreference) are
    # tests/deploy/test_templates.py's.
    canary = {a["Ref"] for r in wres.values() if r["Type"] == "AWS::Serverless::Function"
              for a in r["Properties"].get("DeploymentPreference", {}).get("Alarms", [])}
    alarms = {n: r["Properties"] for n, r in wres.items() if r["Type"] == "AWS::CloudWatch::Alarm" and n not in canary}
    expected = {
        "ApiErrorsAlarm": ("AWS/Lambda", "Errors", "Sum", {"FunctionName": {"Ref": "ApiFunction"}}),
        "WorkerErrorsAlarm": ("AWS/Lambda", "Errors", "Sum", {"FunctionName": {"Ref": "WorkerFunction"}}),
        "DeadLetterAlarm": ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "Maximum",
                            {"QueueName": {"Fn::GetAtt": ["ShareDeadLetterQueue", "QueueName"]}}),
        # the REST API's metrics are by name and stage: the alarm must name them as the API does
        "Api5xxAlarm": ("AWS/ApiGateway", "5XXError", "Sum",
                        {"ApiName": props(wres, "WardrobeApi")["Name"], "Stage": {"Ref": "StageName"}}),
    }
    assert set(alarms) == set(expected)
    for name, (namespace, metric, statistic, dimensions) in expected.items():
        a = alarms[name]
        assert (a["Namespace"], a["MetricName"], a["Statistic"]) == (namespace, metric, statistic), name
        assert {d["Name"]: d["Value"] for d in a["Dimensions"]} == dimensions, name
        assert (a["Threshold"], a["ComparisonOperator"]) == (0, "GreaterThanThreshold"), name
        assert a["TreatMissingData"] == "notBreaching", name
        assert a["Period"] % 60 == 0 and 60 <= a["Period"] * a["EvaluationPeriods"] <= 900, name
        for actions in ("AlarmActions", "OKActions"):
            assert a[actions] == {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    assert default(wtemplate, "AlarmTopicArn") == ""
    assert wtemplate["Conditions"]["HasAlarmTopic"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}


# ------------------------------------------------------------------ wardrobe: IAM


def statements_of(wres: dict, role: str) -> list[dict]:
    r = props(wres, role)
    assert "ManagedPolicyArns" not in r, "managed policies grant more than the function needs"
    assert r["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]
    return [s for p in r["Policies"] for s in p["PolicyDocument"]["Statement"]]


def actions_on(statements: list[dict], service: str) -> set[str]:
    return {a for s in statements for a in as_list(s["Action"]) if a.startswith(service + ":")}


def resources_for(statements: list[dict], service: str) -> set[str]:
    return {resource_text(r) for s in statements if any(a.startswith(service + ":") for a in as_list(s["Action"]))
            for r in as_list(s["Resource"])}  # fmt: skip


@pytest.mark.parametrize("role", ["ApiFunctionRole", "WorkerFunctionRole"])
def test_wardrobe_roles_have_no_wildcards_for_data(wres: dict, role: str) -> None:
    statements = statements_of(wres, role)
    for s in statements:
        assert s["Effect"] == "Allow"
        for a in as_list(s["Action"]):
            assert "*" not in a, f"wildcard action {a}"
        if any(a.split(":")[0] in ("dynamodb", "sqs", "ssm") for a in as_list(s["Action"])):
            for r in as_list(s["Resource"]):
                # one of this stack's resources or the secret parameter; the only star: "any index"
                text = resource_text(r)
                assert text.startswith(("${WardrobeTable.", "${ShareQueue.")) or text == PARAMETER_ARN, text
                assert "*" not in text.removesuffix("/index/*"), text


def test_api_role_reads_writes_and_sends_but_cannot_consume(wres: dict) -> None:
    st = statements_of(wres, "ApiFunctionRole")
    assert actions_on(st, "dynamodb") == ITEM_ACTIONS | {"dynamodb:Query"}
    assert resources_for(st, "dynamodb") == {"${WardrobeTable.Arn}", "${WardrobeTable.Arn}/index/*"}
    assert actions_on(st, "sqs") == {"sqs:SendMessage"}
    assert not actions_on(st, "sqs") & ESM_SQS_ACTIONS  # cannot receive or delete share events
    assert resources_for(st, "sqs") == {"${ShareQueue.Arn}"}
    assert actions_on(st, "ssm") == {"ssm:GetParameter"}
    assert resources_for(st, "ssm") == {PARAMETER_ARN}
    # Decrypting the SecureString: only through SSM and only this parameter's value.
    kms = [s for s in st if actions_on([s], "kms")]
    assert len(kms) == 1 and as_list(kms[0]["Action"]) == ["kms:Decrypt"]
    cond = kms[0]["Condition"]["StringEquals"]
    assert resource_text(cond["kms:ViaService"]) == "ssm.${AWS::Region}.${AWS::URLSuffix}"
    assert resource_text(cond["kms:EncryptionContext:PARAMETER_ARN"]) == PARAMETER_ARN
    assert resource_text(kms[0]["Resource"]) == "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/*"


def test_worker_role_consumes_and_writes_but_cannot_send_query_or_read_secrets(wres: dict) -> None:
    st = statements_of(wres, "WorkerFunctionRole")
    assert actions_on(st, "dynamodb") == ITEM_ACTIONS
    assert resources_for(st, "dynamodb") == {"${WardrobeTable.Arn}"}
    assert actions_on(st, "sqs") == ESM_SQS_ACTIONS  # what the event source mapping's poller needs
    assert "sqs:SendMessage" not in actions_on(st, "sqs")
    assert resources_for(st, "sqs") == {"${ShareQueue.Arn}"}  # SQS itself moves messages to the DLQ
    assert not actions_on(st, "ssm") and not actions_on(st, "kms")


@pytest.mark.parametrize(("function", "group"), [("ApiFunction", "ApiLogGroup"), ("WorkerFunction", "WorkerLogGroup")])
def test_each_wardrobe_function_logs_to_its_own_group(wres: dict, function: str, group: str) -> None:
    assert props(wres, function)["LoggingConfig"]["LogGroup"] == {"Ref": group}
    assert wres[group]["Type"] == "AWS::Logs::LogGroup"
    assert props(wres, group)["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    st = statements_of(wres, f"{function}Role")
    assert actions_on(st, "logs") == {"logs:CreateLogStream", "logs:PutLogEvents"}
    assert resources_for(st, "logs") == {
        f"arn:${{AWS::Partition}}:logs:${{AWS::Region}}:${{AWS::AccountId}}:log-group:${{{group}}}:*"}
    names = {resource_text(props(wres, g)["LogGroupName"]) for g in ("ApiLogGroup", "WorkerLogGroup")}
    assert len(names) == 2


def test_wardrobe_outputs(wtemplate: dict) -> None:
    out = wtemplate["Outputs"]
    assert {"ApiUrl", "TableName", "ShareQueueName", "ShareQueueUrl", "ShareDeadLetterQueueName",
            "ApiFunctionName", "WorkerFunctionName"} <= set(out)
    assert resource_text(out["ApiUrl"]["Value"]).startswith("https://${WardrobeApi}.execute-api.")
    assert resource_text(out["ApiUrl"]["Value"]).endswith("/${StageName}")


# ------------------------------------------------------------------ wardrobe: the built code on the stack's resources


WARDROBE_PROBE = AWS_CALL_SPY + r"""
if sys.argv[2] == "api":
    from lambdasmith.wardrobe.api import handler
else:
    from lambdasmith.wardrobe.worker import handler
results = {name: handler(ev, None) for name, ev in json.load(sys.stdin)}
missing = []
for m in ("lambdasmith.badges", "lambdasmith.local", "lambdasmith.wardrobe.cli"):
    try:
        __import__(m)
    except ModuleNotFoundError:
        missing.append(m)
files = {n: getattr(m, "__file__", "") or "" for n, m in list(sys.modules.items())}
print(json.dumps({"results": results, "calls": calls, "missing": missing,
                  "files": sorted({f for n, f in files.items() if n.split(".")[0] == "lambdasmith"}),
                  "site": [n for n, f in files.items() if "site-packages" in f]}))
"""


def rest_event(method: str, resource: str, params: dict[str, str], token: str | None = None,
               body: str | None = None, query: dict[str, str] | None = None) -> dict:  # fmt: skip
    """A REST API proxy event (payload 1.0), as API Gateway sends it for `resource`."""
    path = resource
    for k, v in params.items():
        path = path.replace("{%s}" % k, v)
    headers = {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "X-Forwarded-Proto": "https"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        headers["Content-Type"] = "application/json"
    multi_query = {k: [v] for k, v in (query or {}).items()} or None
    return {"resource": resource, "path": path, "httpMethod": method, "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": query, "multiValueQueryStringParameters": multi_query, "pathParameters": params,
            "stageVariables": None, "body": body, "isBase64Encoded": False,
            "requestContext": {"resourcePath": resource, "httpMethod": method, "path": f"/prod{path}", "stage": "prod",
                               "requestId": str(uuid.uuid4()), "identity": {"sourceIp": "127.0.0.1"}}}  # fmt: skip


def hs256(claims: dict, secret: str) -> str:
    """A token as an identity provider would mint it (stdlib only, independent of the code under test)."""
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(claims).encode())
    return signing_input + "." + b64(hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest())


def test_the_built_wardrobe_serves_the_stack_within_its_roles(
    built_wardrobe: tuple[Path, str], wtemplate: dict, wres: dict, aws_env: None, tmp_path: Path
) -> None:
    """The stack offline: the template's table (DynamoDB Local), queue with its redrive and the
    SecureString parameter (moto), the functions' environment, and the built code alone. Every
    AWS call each function makes must be allowed by its own role, on the resource it touched."""
    import boto3

    run = uuid.uuid4().hex[:10]
    ddb, sqs, ssm = boto3.client("dynamodb"), boto3.client("sqs"), boto3.client("ssm")
    table = f"deploy-wardrobe-{run}"
    t = json.loads(json.dumps(props(wres, "WardrobeTable")))
    ddb.create_table(TableName=table, **{k: t[k] for k in (
        "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")})
    dlq_url = sqs.create_queue(QueueName=f"deploy-shares-dlq-{run}")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    visibility = wtemplate["Mappings"]["WorkerQueue"][str(default(wtemplate, "WorkerTimeout"))]["VisibilityTimeout"]
    redrive = {"deadLetterTargetArn": dlq_arn,
               "maxReceiveCount": props(wres, "ShareQueue")["RedrivePolicy"]["maxReceiveCount"]}
    queue_url = sqs.create_queue(QueueName=f"deploy-shares-{run}", Attributes={
        "VisibilityTimeout": str(visibility), "RedrivePolicy": json.dumps(redrive)})["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    parameter, secret = f"/deploy-{run}/wardrobe/jwt-secret", "secret-" + run * 4
    ssm.put_parameter(Name=parameter, Value=secret, Type="SecureString")

    refs = {"WardrobeTable": table, "ShareQueue": queue_url, "JwtSecretParameterName": parameter}
    aws = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}

    def invoke(function: str, which: str, events: list) -> dict:
        env = resolve_env(wtemplate, props(wres, function)["Environment"]["Variables"], refs)
        env.update(aws, LAMBDASMITH_DATA_DIR=str(tmp_path / which))
        done = subprocess.run([sys.executable, "-I", "-S", "-c", WARDROBE_PROBE, str(built_wardrobe[0] / "wardrobe"),
                               which], input=json.dumps(events), capture_output=True, text=True,
                              env={"PATH": os.environ.get("PATH", ""), **env}, timeout=120)  # fmt: skip
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["site"] == [] and all(f.startswith(str(built_wardrobe[0])) for f in result["files"])
        assert result["missing"] == ["lambdasmith.badges", "lambdasmith.local", "lambdasmith.wardrobe.cli"]
        assert not (tmp_path / which).exists(), "an embedded backend was used"
        return result

    user, item_id = f"user-{run}", f"item-{run}"
    now = int(time.time())
    token = hs256({"sub": user, "iat": now, "exp": now + 600}, secret)
    item = json.dumps({"itemId": item_id, "name": "Linen shirt", "category": "tops", "season": "summer"})
    items, share = "/users/{userId}/items", "/items/{itemId}/share"
    api = invoke("ApiFunction", "api", [
        ("unauthenticated", rest_event("GET", items, {"userId": "x"})),
        ("create", rest_event("POST", items, {"userId": user}, token, item)),
        ("season", rest_event("GET", items, {"userId": user}, token, query={"season": "summer"})),
        ("newest", rest_event("GET", items, {"userId": user}, token)),
        ("share", rest_event("POST", share, {"itemId": item_id}, token)),
        ("activities", rest_event("GET", "/users/{userId}/activities", {"userId": user}, token)),
    ])
    r = api["results"]
    assert r["unauthenticated"]["statusCode"] == 401  # what the release smoke test expects of it
    assert json.loads(r["unauthenticated"]["body"])["error"] == "unauthorized"
    assert r["create"]["statusCode"] == 201, r["create"]
    for listing in ("season", "newest"):
        assert [i["itemId"] for i in json.loads(r[listing]["body"])["items"]] == [item_id], r[listing]
    assert r["share"]["statusCode"] == 202, r["share"]
    assert r["activities"]["statusCode"] == 200, r["activities"]

    # What the event source mapping does: receive a batch, hand it over, delete what succeeded.
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    assert len(messages) == 1

    def record(message_id: str, body: str) -> dict:
        return {"messageId": message_id, "receiptHandle": "rh-" + message_id, "body": body,
                "attributes": {"ApproximateReceiveCount": "1"}, "messageAttributes": {},
                "eventSource": "aws:sqs", "eventSourceARN": queue_arn, "awsRegion": "us-east-1"}

    body = messages[0]["Body"]
    batch = {"Records": [record(messages[0]["MessageId"], body), record(f"again-{run}", body),
                         record(f"bad-{run}", "{}")]}
    worker = invoke("WorkerFunction", "worker", [("batch", batch)])
    assert worker["results"]["batch"] == {"batchItemFailures": [{"itemIdentifier": f"bad-{run}"}]}
    stored = ddb.get_item(TableName=table, Key={"PK": {"S": f"ITEM#{item_id}"}, "SK": {"S": "METADATA"}})["Item"]
    assert stored["sharedCount"] == {"N": "1"}  # the redelivered copy did not count again

    arns = {table: "${WardrobeTable.Arn}", queue_url: "${ShareQueue.Arn}", parameter: PARAMETER_ARN}

    def allowed(role: str, action: str, target: str, index: str | None) -> bool:
        arn = arns[target] + ("/index/*" if index else "")
        return any(action in as_list(s["Action"]) and arn in {resource_text(x) for x in as_list(s["Resource"])}
                   for s in statements_of(wres, role))  # fmt: skip

    for role, calls in (("ApiFunctionRole", api["calls"]), ("WorkerFunctionRole", worker["calls"])):
        assert calls
        denied = [c for c in calls if not allowed(role, *c)]
        assert denied == [], f"{role} would be refused {denied}"
    assert {c[2] for c in api["calls"]} >= {"GSI1", "GSI2"}  # the index grant is used
    assert {c[0] for c in api["calls"] if c[0].startswith("sqs:")} == {"sqs:SendMessage"}
    assert ["ssm:GetParameter", parameter, None] in api["calls"]  # the secret came from SSM
    assert {c[0].split(":")[0] for c in worker["calls"]} == {"dynamodb"}


def test_the_rest_api_writes_a_json_access_log_to_a_log_group_with_retention(wres: dict) -> None:
    api = wres["WardrobeApi"]["Properties"]
    check_access_log(wres, api["AccessLogSetting"], "ApiAccessLogGroup",
                     {"requestId", "ip", "status", "path", "responseLatency", "error"})  # fmt: skip
    # REST API logs need the account's API Gateway role; the stack sets it unless told the account has one,
    # and the stage waits for it (a stage variable referencing it, as a DependsOn cannot be conditional).
    assert wres["ApiGatewayAccount"]["Condition"] == wres["ApiGatewayLogRole"]["Condition"] == "CreatesApiGatewayLogRole"
    assert api["Variables"]["accountLogRole"]["Fn::If"][1] == {"Ref": "ApiGatewayAccount"}
