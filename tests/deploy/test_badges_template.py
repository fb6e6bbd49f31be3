"""deploy/badges/template.yaml, checked offline: cfn-lint, and its shape against the code (function,
HTTP API, IAM, tables, CloudFront, outputs); the built code on the template's tables and environment."""

from __future__ import annotations

import json
import os
import re
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest

from lambdasmith.badges.app import CORS_HEADERS
from lambdasmith.badges.config import BadgesConfig
from lambdasmith.badges.signature import sign_v1
from lambdasmith.badges.store import NONCES, ORGS, RESULTS
from tests.support.templates import (
    ROOT,
    as_list,
    cfn_lint,
    check_access_log,
    event,
    key_schema,
    load_template,
    probe,
    props,
    resource_text,
)

TEMPLATE = ROOT / "deploy" / "badges" / "template.yaml"


TABLE_IDS = {"ResultsTable": RESULTS, "NoncesTable": NONCES, "OrgSecretsTable": ORGS}
DYNAMODB_ACTIONS = {
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
    "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
}  # fmt: skip


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template("badges")


@pytest.fixture(scope="module")
def resources(template: dict) -> dict:
    return template["Resources"]


# ------------------------------------------------------------------ cfn-lint


def test_cfn_lint_reports_nothing() -> None:
    assert cfn_lint(TEMPLATE.read_text(encoding="utf-8")) == []


def test_cfn_lint_catches_a_broken_template() -> None:
    broken = TEMPLATE.read_text(encoding="utf-8").replace("PAY_PER_REQUEST", "PAY_AS_YOU_GO", 1)
    assert any("PAY_AS_YOU_GO" in m for m in cfn_lint(broken))


# ------------------------------------------------------------------ function and API


def test_function_runs_the_badges_handler_on_arm64(template: dict, resources: dict) -> None:
    fn = props(resources, "BadgesFunction")
    assert fn["Handler"] == "lambdasmith.badges.app.handler"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Runtime"] in ("python3.12", "python3.13")
    assert fn["Timeout"] == 15
    assert fn["MemorySize"] == {"Ref": "MemorySize"}
    assert template["Parameters"]["MemorySize"]["Default"] == 256
    # CodeUri is relative to the template: it must be what deploy/build.py writes.
    assert (TEMPLATE.parent / fn["CodeUri"]).resolve() == ROOT / "build" / "badges"


def test_environment_selects_the_aws_backends_and_the_stack_tables(template: dict, resources: dict) -> None:
    env = props(resources, "BadgesFunction")["Environment"]["Variables"]
    # Read the template's variables the way the function will: a parameter is its default, and
    # logical ids stand in for table names.
    defaults = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    config = BadgesConfig.from_env({k: defaults.get(v["Ref"], v["Ref"]) if isinstance(v, dict) and "Ref" in v else v
                                    for k, v in env.items() if not isinstance(v, dict) or "Ref" in v})  # fmt: skip
    assert config.table_backend == "dynamodb"
    assert config.secret_backend == "secretsmanager"
    assert (config.results_table, config.nonces_table, config.orgs_table) == ("ResultsTable", "NoncesTable",
                                                                              "OrgSecretsTable")
    assert config.data_dir == "/tmp/lambdasmith"
    assert config.oidc_issuer == "https://token.actions.githubusercontent.com"  # the function starts with it
    assert env["POWERTOOLS_SERVICE_NAME"] == "badges"
    assert {"NUGET_BASE_URL", "GITHUB_API_URL"} <= set(env)


def test_http_api_sends_every_request_to_the_function_as_payload_2(resources: dict) -> None:
    event = props(resources, "BadgesFunction")["Events"]["AnyRequest"]
    assert event["Type"] == "HttpApi"
    p = event["Properties"]
    assert (p["ApiId"], p["Path"], p["Method"], p["PayloadFormatVersion"]) == (
        {"Ref": "BadgesHttpApi"}, "$default", "ANY", "2.0")
    api = props(resources, "BadgesHttpApi")
    assert set(api["DefaultRouteSettings"]) == {"ThrottlingBurstLimit", "ThrottlingRateLimit"}
    # The function answers preflights itself (checked on the built code below); an API Gateway
    # CORS configuration would shadow it.
    assert "CorsConfiguration" not in api


# ------------------------------------------------------------------ IAM


def role_statements(resources: dict) -> list[dict]:
    role = props(resources, "BadgesFunctionRole")
    assert "ManagedPolicyArns" not in role, "managed policies grant more than the function needs"
    return [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]


def test_function_uses_the_least_privileged_role_of_this_template(resources: dict) -> None:
    fn = props(resources, "BadgesFunction")
    assert fn["Role"] == {"Fn::GetAtt": ["BadgesFunctionRole", "Arn"]}
    assert "Policies" not in fn  # SAM would add AWSLambdaBasicExecutionRole (logs on any group)


def test_no_wildcard_actions_or_resources_for_data(resources: dict) -> None:
    data = [s for s in role_statements(resources)
            if any(a.split(":")[0] in ("dynamodb", "secretsmanager") for a in as_list(s["Action"]))]
    assert data
    for s in data:
        assert s["Effect"] == "Allow"
        for a in as_list(s["Action"]):
            assert "*" not in a, f"wildcard action {a}"
        for r in as_list(s["Resource"]):
            assert resource_text(r) not in ("*", "arn:*"), f"wildcard resource in {s}"


def test_dynamodb_actions_cover_exactly_the_three_tables(resources: dict) -> None:
    dyn = [s for s in role_statements(resources) if any(a.startswith("dynamodb:") for a in as_list(s["Action"]))]
    assert {a for s in dyn for a in as_list(s["Action"])} == DYNAMODB_ACTIONS
    arns = {resource_text(r) for s in dyn for r in as_list(s["Resource"])}
    assert arns == {"${ResultsTable.Arn}", "${ResultsTable.Arn}/index/*", "${NoncesTable.Arn}",
                    "${OrgSecretsTable.Arn}"}


def test_secrets_are_readable_only_under_the_badges_prefix(resources: dict) -> None:
    sm = [s for s in role_statements(resources) if any(a.startswith("secretsmanager:") for a in as_list(s["Action"]))]
    assert {a for s in sm for a in as_list(s["Action"])} == {"secretsmanager:GetSecretValue"}
    arns = {resource_text(r) for s in sm for r in as_list(s["Resource"])}
    # the wildcard after the prefix matches the 6-character suffix Secrets Manager appends
    assert arns == {"arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:badges/*"}


def test_logs_go_to_the_stack_log_group_with_retention(template: dict, resources: dict) -> None:
    group = resources["BadgesLogGroup"]
    assert group["Type"] == "AWS::Logs::LogGroup"
    assert group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert template["Parameters"]["LogRetentionDays"]["Default"] == 30
    assert props(resources, "BadgesFunction")["LoggingConfig"]["LogGroup"] == {"Ref": "BadgesLogGroup"}
    logs = [s for s in role_statements(resources) if any(a.startswith("logs:") for a in as_list(s["Action"]))]
    assert {a for s in logs for a in as_list(s["Action"])} == {"logs:CreateLogStream", "logs:PutLogEvents"}
    for s in logs:
        for r in as_list(s["Resource"]):
            assert ":log-group:${BadgesLogGroup}:" in resource_text(r)


# ------------------------------------------------------------------ tables


@pytest.mark.parametrize("logical_id", sorted(TABLE_IDS))
def test_tables_match_the_keys_the_store_uses(resources: dict, logical_id: str) -> None:
    spec = TABLE_IDS[logical_id]
    t = props(resources, logical_id)
    assert t["BillingMode"] == "PAY_PER_REQUEST"
    assert t["SSESpecification"] == {"SSEEnabled": True}
    assert key_schema(t["KeySchema"]) == (spec.pk, spec.sk)
    indexes = {g["IndexName"]: g for g in t.get("GlobalSecondaryIndexes", [])}
    assert set(indexes) == {ix.name for ix in spec.indexes}
    for ix in spec.indexes:
        assert key_schema(indexes[ix.name]["KeySchema"]) == (ix.pk, ix.sk)
        assert indexes[ix.name]["Projection"] == {"ProjectionType": "ALL"}
    key_attrs = {spec.pk, spec.sk} | {a for ix in spec.indexes for a in (ix.pk, ix.sk)}
    assert {d["AttributeName"]: d["AttributeType"] for d in t["AttributeDefinitions"]} == dict.fromkeys(key_attrs, "S")
    if spec.ttl:
        assert t["TimeToLiveSpecification"] == {"AttributeName": spec.ttl, "Enabled": True}
    else:
        assert "TimeToLiveSpecification" not in t


def test_results_table_has_gsi1_and_ttl_on_expires_at(resources: dict) -> None:
    t = props(resources, "ResultsTable")
    assert [g["IndexName"] for g in t["GlobalSecondaryIndexes"]] == ["GSI1"]
    assert t["TimeToLiveSpecification"] == {"AttributeName": "ExpiresAt", "Enabled": True}
    assert props(resources, "NoncesTable")["TimeToLiveSpecification"]["AttributeName"] == "ExpiresAt"
    assert "TimeToLiveSpecification" not in props(resources, "OrgSecretsTable")


@pytest.mark.parametrize("logical_id", ["ResultsTable", "OrgSecretsTable"])
def test_durable_tables_are_recoverable_and_retained(resources: dict, logical_id: str) -> None:
    assert props(resources, logical_id)["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert resources[logical_id]["DeletionPolicy"] == "Retain"
    assert resources[logical_id]["UpdateReplacePolicy"] == "Retain"


# ------------------------------------------------------------------ CloudFront and outputs


def test_cloudfront_is_optional_and_off_by_default(template: dict, resources: dict) -> None:
    assert template["Parameters"]["EnableCloudFront"]["Default"] == "false"
    cf = [n for n, r in resources.items() if r["Type"].startswith("AWS::CloudFront::")]
    assert sorted(cf) == ["EdgeCachePolicy", "EdgeDistribution", "EdgeOriginRequestPolicy"]
    assert all(resources[n]["Condition"] == "WithCloudFront" for n in cf)


def test_cloudfront_caches_by_origin_cache_control_and_accept(resources: dict) -> None:
    c = props(resources, "EdgeCachePolicy")["CachePolicyConfig"]
    assert (c["MinTTL"], c["DefaultTTL"]) == (0, 0) and c["MaxTTL"] >= 600  # badges say s-maxage=600
    key = c["ParametersInCacheKeyAndForwardedToOrigin"]
    assert key["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    assert key["HeadersConfig"]["HeaderBehavior"] == "whitelist"
    assert [h.lower() for h in key["HeadersConfig"]["Headers"]] == ["accept", "authorization"]  # see below


def test_cloudfront_forwards_what_ingestion_needs(resources: dict) -> None:
    o = props(resources, "EdgeOriginRequestPolicy")["OriginRequestPolicyConfig"]
    assert o["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    # CloudFront forwards Authorization (OIDC ingestion) only through the cache policy, never an
    # origin request policy; a GET without one has the same cache key as before.
    cache_headers = {h.lower() for h in props(resources, "EdgeCachePolicy")["CachePolicyConfig"][
        "ParametersInCacheKeyAndForwardedToOrigin"]["HeadersConfig"]["Headers"]}
    assert set(CORS_HEADERS) - {"authorization"} <= {h.lower() for h in o["HeadersConfig"]["Headers"]}
    assert "authorization" in cache_headers and "authorization" not in {h.lower() for h in o["HeadersConfig"]["Headers"]}
    assert "host" not in {h.lower() for h in o["HeadersConfig"]["Headers"]}
    behavior = props(resources, "EdgeDistribution")["DistributionConfig"]["DefaultCacheBehavior"]
    assert "POST" in behavior["AllowedMethods"] and "OPTIONS" in behavior["AllowedMethods"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["CachePolicyId"] == {"Ref": "EdgeCachePolicy"}
    assert behavior["OriginRequestPolicyId"] == {"Ref": "EdgeOriginRequestPolicy"}


@pytest.mark.parametrize("value", ["https://token.actions.githubusercontent.com", "https://issuer.example/tenant",
                                   "http://token.actions.githubusercontent.com", "https://user@issuer.example",
                                   "https://issuer.example/?x=1", "https://issuer.example/#a", "ftp://issuer.example",
                                   "https://issuer example", "https://"])  # fmt: skip
def test_the_issuer_parameter_refuses_the_urls_the_function_would_not_start_with(template: dict, value: str) -> None:
    # CloudFormation refuses the stack update, instead of a function that cannot start. (The
    # pattern is Java's; what it uses reads the same in Python's re.)
    pattern = template["Parameters"]["OidcIssuer"]["AllowedPattern"]
    try:
        BadgesConfig.from_env({"BADGES_OIDC_ISSUER": value})
        starts = True
    except ValueError:
        starts = False
    assert bool(re.fullmatch(pattern, value)) is starts


def test_outputs(template: dict) -> None:
    out = template["Outputs"]
    assert {"ApiUrl", "CloudFrontUrl", "FunctionName", "ResultsTableName", "NoncesTableName",
            "OrgSecretsTableName"} <= set(out)
    assert out["CloudFrontUrl"]["Condition"] == "WithCloudFront"
    assert "Condition" not in out["ApiUrl"]


# ------------------------------------------------------------------ the built code on the stack's resources


def test_the_built_code_works_with_the_templates_tables_and_environment(
    built: tuple[Path, str], template: dict, resources: dict, aws_env: None, tmp_path: Path
) -> None:
    """What the stack runs, offline: the template's tables (DynamoDB Local), its environment
    variables and a secret under badges/ (moto), served by the built code without boto3."""
    import boto3

    run = uuid.uuid4().hex[:10]
    ddb, sm = boto3.client("dynamodb"), boto3.client("secretsmanager")
    names = {}
    for logical_id in TABLE_IDS:
        p = json.loads(json.dumps(props(resources, logical_id)))  # plain dicts for botocore
        names[logical_id] = f"deploy-{logical_id}-{run}"
        ddb.create_table(TableName=names[logical_id], **{k: p[k] for k in (
            "AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode") if k in p})
    org, key = f"acme{run}", "hmac-" + run
    secret_name = f"badges/{org}/testdata"
    sm.create_secret(Name=secret_name, SecretString=key)
    ddb.put_item(TableName=names["OrgSecretsTable"], Item={
        "PK": {"S": f"ORG#{org}"}, "SK": {"S": "CONST#GITHUB#testdata"}, "Org": {"S": org},
        "Type": {"S": "testdata"}, "SecretName": {"S": secret_name}, "V2Only": {"BOOL": False}})

    template_env = props(resources, "BadgesFunction")["Environment"]["Variables"]
    refs = {**{k: v["Default"] for k, v in template["Parameters"].items()}, **names}
    env = {k: str(refs[v["Ref"]]) if isinstance(v, dict) else v for k, v in template_env.items()}
    env.update({k: v for k, v in os.environ.items() if k.startswith("AWS_")}, LAMBDASMITH_DATA_DIR=str(tmp_path))

    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps({"platform": "linux", "passed": 3, "failed": 0, "skipped": 0, "total": 3,
                       "url_html": "https://example.com/run", "timestamp": now, "commit": "abc", "run_id": "1",
                       "workflow_run_url": "https://example.com/run"})
    signed = {"content-type": "application/json", "x-signature": sign_v1(key, body.encode()),
              "x-timestamp": now, "x-nonce": "n-" + run}
    where = f"/github/{org}/repo/main"
    # OIDC ingestion from the zip too: the token verifier ships and reaches a (fake) issuer.
    from tests.support.fake_oidc import FakeIssuer

    ddb.put_item(TableName=names["OrgSecretsTable"], Item={
        "PK": {"S": f"ORG#{org}"}, "SK": {"S": "CONST#GITHUB#oidc"}, "Org": {"S": org}, "Type": {"S": "oidc"},
        "Repos": {"L": []}, "Branches": {"L": []}})
    oidc_body = body.replace('"run_id": "1"', '"run_id": "2"').replace(now, now[:-1] + ".5Z")
    with FakeIssuer(repository=f"{org}/repo") as issuer:
        env["BADGES_OIDC_ISSUER"] = issuer.issuer
        bearer = {"content-type": "application/json", "authorization": "Bearer " + issuer.mint()}
        r = probe(built[0] / "badges", [
            ("post", event("POST", "/tests/results" + where, headers=signed, body=body)),
            ("replay", event("POST", "/tests/results" + where, headers=signed, body=body)),
            ("badge", event("GET", "/badges/tests" + where)),
            ("oidc", event("POST", "/tests/results" + where, headers=bearer, body=oidc_body)),
            ("builder", event("GET", "/")),
            ("dashboard", event("GET", f"/dashboard/{org}/repo")),
            ("css", event("GET", "/assets/site.css")),
            ("trend", event("GET", "/badges/tests" + where + "/trend.svg")),
        ], env)["responses"]
    assert r["post"]["status"] == 201, r["post"]
    assert r["replay"]["status"] == 400 and "NONCE_ALREADY_USED" in r["replay"]["body"]
    assert r["badge"]["status"] == 200 and json.loads(r["badge"]["body"])["message"] == "3 passed"
    assert r["oidc"]["status"] == 201, r["oidc"]
    assert r["builder"]["status"] == 200 and f"/dashboard/{org}/repo" in r["builder"]["body"]
    assert r["dashboard"]["status"] == 200 and '<svg class="chart"' in r["dashboard"]["body"]
    assert r["css"]["status"] == 200 and "font" in r["css"]["body"]
    assert r["trend"]["status"] == 200 and "<polyline" in r["trend"]["body"]
    # ...and it was DynamoDB that kept them, not a local file.
    keys = sorted((item["PK"]["S"], item["SK"]["S"].split("#")[0]) for item in ddb.scan(TableName=names["ResultsTable"])["Items"])
    # the result and the dashboards' two index items
    assert keys == [("REPOS", org), (f"TEST#{org}#repo", "BRANCH"), (f"TEST#{org}#repo", "RESULT"),
                    (f"TEST#{org}#repo", "RESULT")]
    assert ddb.scan(TableName=names["NoncesTable"])["Items"][0]["SK"] == {"S": "n-" + run}


def test_the_http_api_writes_a_json_access_log_to_a_log_group_with_retention(resources: dict) -> None:
    check_access_log(resources, resources["BadgesHttpApi"]["Properties"]["AccessLogSettings"], "BadgesAccessLogGroup",
                     {"requestId", "ip", "status", "routeKey", "responseLatency", "integrationError"})  # fmt: skip
