"""The AWS deployments, checked offline: the SAM templates (cfn-lint and their shape against the
code), the build that makes their CodeUri, and the GitHub workflows that deploy them. Badges first,
then the wardrobe, then both workflows."""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import time
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import cfnlint.decode
import pytest
import yaml
from cfnlint.api import lint
from cfnlint.config import ManualArgs

from lambdasmith.badges.app import CORS_HEADERS
from lambdasmith.badges.config import BadgesConfig
from lambdasmith.badges.signature import sign_v1
from lambdasmith.badges.store import NONCES, ORGS, RESULTS
from lambdasmith.kit.aws_secrets import SsmSecrets
from lambdasmith.wardrobe.config import WardrobeConfig
from lambdasmith.wardrobe.store import WARDROBE

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "badges" / "template.yaml"
BUILD = ROOT / "deploy" / "build.py"
WORKFLOWS = {"badges": ROOT / ".github" / "workflows" / "deploy-badges.yml",
             "wardrobe": ROOT / ".github" / "workflows" / "deploy-wardrobe.yml"}
WARDROBE_TEMPLATE = ROOT / "deploy" / "wardrobe" / "template.yaml"
TABLE_IDS = {"ResultsTable": RESULTS, "NoncesTable": NONCES, "OrgSecretsTable": ORGS}
DYNAMODB_ACTIONS = {
    "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:Query",
    "dynamodb:BatchGetItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem",
}  # fmt: skip


def cfn_lint(text: str) -> list[str]:
    # Informational rules included; experimental ones (e.g. I4010's metadata blocks) are not.
    config = ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1"])
    return [str(m) for m in lint(text, config=config)]


@pytest.fixture(scope="module")
def template() -> dict:
    tpl, errors = cfnlint.decode.decode(str(TEMPLATE))
    assert not errors, errors
    return tpl


@pytest.fixture(scope="module")
def resources(template: dict) -> dict:
    return template["Resources"]


def props(resources: dict, name: str) -> dict:
    return resources[name]["Properties"]


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


def test_environment_selects_the_aws_backends_and_the_stack_tables(resources: dict) -> None:
    env = props(resources, "BadgesFunction")["Environment"]["Variables"]
    # Read the template's variables the way the function will: logical ids stand in for table names.
    config = BadgesConfig.from_env({k: v["Ref"] if isinstance(v, dict) else v for k, v in env.items()})
    assert config.table_backend == "dynamodb"
    assert config.secret_backend == "secretsmanager"
    assert (config.results_table, config.nonces_table, config.orgs_table) == ("ResultsTable", "NoncesTable",
                                                                              "OrgSecretsTable")
    assert config.data_dir == "/tmp/lambdasmith"
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


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


def resource_text(r) -> str:
    """A resource ARN as written: a plain string, !GetAtt X.Arn, or the template of a !Sub."""
    if isinstance(r, str):
        return r
    if "Fn::GetAtt" in r:
        return "${%s}" % ".".join(as_list(r["Fn::GetAtt"]))
    if "Fn::Sub" in r:
        return as_list(r["Fn::Sub"])[0]
    raise AssertionError(f"unexpected resource form {r!r}")


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


def key_schema(schema: list[dict]) -> tuple[str, str]:
    keys = {k["KeyType"]: k["AttributeName"] for k in schema}
    return keys["HASH"], keys["RANGE"]


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
    assert [h.lower() for h in key["HeadersConfig"]["Headers"]] == ["accept"]


def test_cloudfront_forwards_what_ingestion_needs(resources: dict) -> None:
    o = props(resources, "EdgeOriginRequestPolicy")["OriginRequestPolicyConfig"]
    assert o["QueryStringsConfig"]["QueryStringBehavior"] == "all"
    assert set(CORS_HEADERS) <= {h.lower() for h in o["HeadersConfig"]["Headers"]}
    assert "host" not in {h.lower() for h in o["HeadersConfig"]["Headers"]}
    behavior = props(resources, "EdgeDistribution")["DistributionConfig"]["DefaultCacheBehavior"]
    assert "POST" in behavior["AllowedMethods"] and "OPTIONS" in behavior["AllowedMethods"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["CachePolicyId"] == {"Ref": "EdgeCachePolicy"}
    assert behavior["OriginRequestPolicyId"] == {"Ref": "EdgeOriginRequestPolicy"}


def test_outputs(template: dict) -> None:
    out = template["Outputs"]
    assert {"ApiUrl", "CloudFrontUrl", "FunctionName", "ResultsTableName", "NoncesTableName",
            "OrgSecretsTableName"} <= set(out)
    assert out["CloudFrontUrl"]["Condition"] == "WithCloudFront"
    assert "Condition" not in out["ApiUrl"]


# ------------------------------------------------------------------ build


def load_build_module():
    spec = importlib.util.spec_from_file_location("deploy_build", BUILD)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_build(out: Path, *service: str) -> str:
    done = subprocess.run([sys.executable, str(BUILD), *service, "--out", str(out)], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("build")
    return out, run_build(out, "badges")


def test_build_without_a_service_builds_every_service(tmp_path: Path) -> None:
    """`make build` runs deploy/build.py without arguments: every template's CodeUri is made."""
    stdout = run_build(tmp_path)
    for name in ("badges", "wardrobe"):
        assert (tmp_path / f"{name}.zip").is_file() and (tmp_path / name / "lambdasmith").is_dir()
        assert f"{name}.zip" in stdout
    assert sorted(load_build_module().SERVICES) == ["badges", "wardrobe"]


def test_each_service_builds_from_its_own_templates_handlers() -> None:
    b = load_build_module()
    assert b.handler_modules(b.SERVICES["badges"].template) == ["lambdasmith.badges.app"]
    assert b.handler_modules(b.SERVICES["wardrobe"].template) == ["lambdasmith.wardrobe.api",
                                                                  "lambdasmith.wardrobe.worker"]
    for svc in b.SERVICES.values():
        fns = [r["Properties"] for r in cfnlint.decode.decode(str(svc.template))[0]["Resources"].values()
               if r["Type"] == "AWS::Serverless::Function"]
        assert (svc.template.parent / fns[0]["CodeUri"]).resolve() == ROOT / "build" / svc.name
        assert {f["CodeUri"] for f in fns} == {fns[0]["CodeUri"]}


def test_build_prints_what_it_shipped_and_the_zip_size(built: tuple[Path, str]) -> None:
    out, stdout = built
    assert "KB" in stdout and "6 MB" in stdout
    assert ("sources only" in stdout) or (".pyc compiled" in stdout)
    assert (out / "badges" / "lambdasmith" / "badges" / "app.py").is_file()


def test_zip_holds_our_code_only(built: tuple[Path, str]) -> None:
    out, _ = built
    with zipfile.ZipFile(out / "badges.zip") as zf:
        names = zf.namelist()
    on_disk = sorted(p.relative_to(out / "badges").as_posix() for p in (out / "badges").rglob("*") if p.is_file())
    assert names == on_disk  # sorted, and exactly the CodeUri directory
    assert all(n.startswith("lambdasmith/") for n in names)
    assert not [n for n in names if "tests/" in n or "site-packages" in n or n.endswith(".dist-info")]
    tag = "." + ("cpython-%d%d" % load_build_module().runtime_version()) + ".pyc"
    assert all(n.endswith(tag) for n in names if n.endswith(".pyc")), "only the runtime's bytecode"
    for rel in load_build_module().EXCLUDED:
        assert not [n for n in names if n == rel or n.startswith(rel)], rel
    # Only what the handler can import: the wardrobe and its kit modules stay out.
    assert not [n for n in names if n.startswith("lambdasmith/wardrobe/")]
    assert "lambdasmith/kit/jwt.py" not in names and "lambdasmith/kit/cursors.py" not in names


def snapshot(tmp_path: Path) -> Path:
    """A frozen copy of the package, so edits to the working tree mid-test don't look like drift."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "lambdasmith", src / "lambdasmith", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def test_build_is_deterministic(tmp_path: Path) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    first = b.build(tmp_path / "one", src_root=src)
    second = b.build(tmp_path / "two", src_root=src)
    assert first["zip"].read_bytes() == second["zip"].read_bytes()


def test_the_real_tree_ships_nothing_that_imports_an_excluded_module() -> None:
    b = load_build_module()
    assert b.excluded_imports(ROOT, b.shipped_sources(ROOT)) == []


def test_the_import_check_catches_an_excluded_import(tmp_path: Path) -> None:
    b = load_build_module()
    for rel, text in {
        "lambdasmith/__init__.py": "",
        "lambdasmith/badges/__init__.py": "",
        "lambdasmith/badges/app.py": "from . import store\ndef handler(e, c):\n    from lambdasmith.badges import push\n",
        "lambdasmith/badges/store.py": "from . import reports\n",
        "lambdasmith/badges/push.py": "",
        "lambdasmith/badges/reports.py": "",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    problems = b.excluded_imports(tmp_path, b.shipped_sources(tmp_path))
    assert problems == ["lambdasmith/badges/app.py: lambdasmith.badges.push",
                        "lambdasmith/badges/store.py: lambdasmith.badges.reports"]


# Serves events (JSON on stdin) with the built directory as the only non-stdlib code: -I ignores
# PYTHON* variables and the working directory, -S skips site-packages (where the dev tree is).
PROBE = r"""
import importlib.machinery, json, sys
sys.path.insert(0, sys.argv[1])
compiled = []
_to_code = importlib.machinery.SourceFileLoader.source_to_code
def spy(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return _to_code(self, data, path, *args, **kwargs)
importlib.machinery.SourceFileLoader.source_to_code = spy

from lambdasmith.badges.app import handler

out = {}
for name, ev in json.load(sys.stdin):
    r = handler(ev, None)
    out[name] = {"status": r["statusCode"], "headers": {k.lower(): v for k, v in r.get("headers", {}).items()},
                 "body": r.get("body", "")}
missing = []
for m in ("lambdasmith.local", "lambdasmith.cli", "lambdasmith.badges.push", "lambdasmith.badges.reports"):
    try:
        __import__(m)
    except ModuleNotFoundError:
        missing.append(m)
files = {n: getattr(m, "__file__", "") or "" for n, m in list(sys.modules.items())}
print(json.dumps({"responses": out, "missing": missing,
                  "files": sorted({f for n, f in files.items() if n.split(".")[0] == "lambdasmith"}),
                  "compiled": [p for p in compiled if "lambdasmith" in p],
                  "site": [n for n, f in files.items() if "site-packages" in f]}))
"""


def event(method: str, path: str, query: str = "", headers: dict | None = None, body: str | None = None) -> dict:
    """An HTTP API payload 2.0 event, as the $default route delivers it."""
    return {"version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": query,
            "headers": headers or {}, "body": body, "isBase64Encoded": False,
            "requestContext": {"http": {"method": method, "path": path, "sourceIp": "127.0.0.1"},
                               "requestId": "r1", "stage": "$default"}}


def probe(code_dir: Path, events: list[tuple[str, dict]], env: dict[str, str]) -> dict:
    done = subprocess.run([sys.executable, "-I", "-S", "-c", PROBE, str(code_dir)], input=json.dumps(events),
                          capture_output=True, text=True, env={"PATH": os.environ.get("PATH", ""), **env}, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_built_code_serves_requests_on_its_own(built: tuple[Path, str], tmp_path: Path) -> None:
    out, _ = built
    code = out / "badges"
    result = probe(code, [
        ("health", event("GET", "/health")),
        ("range", event("GET", "/badges/packages/nuget/x", "version=%5B1.0")),
        ("range_svg", event("GET", "/badges/packages/nuget/x.svg", "version=%5B1.0")),
        ("preflight", event("OPTIONS", "/tests/results/github/o/r/main", headers={
            "origin": "https://example.com", "access-control-request-method": "POST",
            "access-control-request-headers": "content-type, x-signature, x-evil"})),
    ], {"LAMBDASMITH_DATA_DIR": str(tmp_path)})
    r = result["responses"]
    assert r["health"]["status"] == 200 and json.loads(r["health"]["body"])["status"] == "Healthy"
    assert r["range"]["status"] == 400
    assert json.loads(r["range"]["body"])["error_details"][0]["error_code"] == "PACKAGE_RANGE_INVALID"
    assert r["range_svg"]["status"] == 400 and r["range_svg"]["headers"]["content-type"].startswith("image/svg+xml")
    pre = r["preflight"]
    assert pre["status"] == 204
    assert pre["headers"]["access-control-allow-origin"] == "*"
    assert pre["headers"]["access-control-max-age"] == "3600"
    assert "POST" in pre["headers"]["access-control-allow-methods"]
    assert "x-evil" not in pre["headers"].get("access-control-allow-headers", "")
    # It really ran the built tree, and the excluded modules are really gone.
    assert result["files"] and all(f.startswith(str(code)) for f in result["files"])
    assert result["site"] == []
    assert sorted(result["missing"]) == ["lambdasmith.badges.push", "lambdasmith.badges.reports",
                                         "lambdasmith.cli", "lambdasmith.local"]


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
    r = probe(built[0] / "badges", [
        ("post", event("POST", "/tests/results" + where, headers=signed, body=body)),
        ("replay", event("POST", "/tests/results" + where, headers=signed, body=body)),
        ("badge", event("GET", "/badges/tests" + where)),
    ], env)["responses"]
    assert r["post"]["status"] == 201, r["post"]
    assert r["replay"]["status"] == 400 and "NONCE_ALREADY_USED" in r["replay"]["body"]
    assert r["badge"]["status"] == 200 and json.loads(r["badge"]["body"])["message"] == "3 passed"
    # ...and it was DynamoDB that kept them, not a local file.
    assert ddb.scan(TableName=names["ResultsTable"])["Count"] == 1
    assert ddb.scan(TableName=names["NoncesTable"])["Items"][0]["SK"] == {"S": "n-" + run}


def test_bytecode_is_shipped_and_used_when_built_by_the_runtime_version(tmp_path: Path) -> None:
    # Pretend the runtime is this interpreter's version, so this machine compiles.
    b = load_build_module()
    here = "python%d.%d" % sys.version_info[:2]
    tpl = tmp_path / "template.yaml"
    tpl.write_text(TEMPLATE.read_text(encoding="utf-8").replace(
        "Runtime: python%d.%d" % b.runtime_version(), f"Runtime: {here}"), encoding="utf-8")
    src = snapshot(tmp_path)
    first = b.build(tmp_path / "one", src_root=src, template=tpl)
    second = b.build(tmp_path / "two", src_root=src, template=tpl)
    assert first["compiled_with"] and first["runtime"] == sys.version_info[:2]
    assert first["zip"].read_bytes() == second["zip"].read_bytes()
    code = first["dir"]
    sources = list(code.rglob("*.py"))
    pycs = list(code.rglob(f"*.{sys.implementation.cache_tag}.pyc"))
    assert sources and len(pycs) == len(sources)
    result = probe(code, [("health", event("GET", "/health"))], {"LAMBDASMITH_DATA_DIR": str(tmp_path / "data")})
    assert result["responses"]["health"]["status"] == 200
    assert result["compiled"] == [], "the handler path compiled sources despite shipped bytecode"


def test_sources_only_when_no_interpreter_matches_the_runtime(tmp_path: Path) -> None:
    b = load_build_module()
    tpl = tmp_path / "template.yaml"
    tpl.write_text(TEMPLATE.read_text(encoding="utf-8").replace(
        "Runtime: python%d.%d" % b.runtime_version(), "Runtime: python3.99"), encoding="utf-8")
    r = b.build(tmp_path / "out", template=tpl)
    assert r["compiled_with"] is None
    assert not list(r["dir"].rglob("*.pyc"))


# ------------------------------------------------------------------ workflow


@pytest.fixture(scope="module")
def workflow_text() -> str:
    return WORKFLOW.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def workflow(workflow_text: str) -> dict:
    return yaml.safe_load(workflow_text)


def test_workflow_deploys_with_oidc_and_no_stored_keys(workflow: dict, workflow_text: str) -> None:
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "test"
    assert deploy["permissions"] == {"id-token": "write", "contents": "read"}
    creds = [s for s in deploy["steps"] if s.get("uses", "").startswith("aws-actions/configure-aws-credentials@")]
    assert len(creds) == 1
    assert creds[0]["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
    lowered = workflow_text.lower()
    assert "aws-access-key-id" not in lowered and "aws-secret-access-key" not in lowered
    assert "secrets." not in lowered


def test_workflow_triggers_tests_first_then_builds_and_deploys(workflow: dict) -> None:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on["push"]["branches"] == ["main"] and on["push"]["paths"]
    assert "workflow_dispatch" in on
    assert any(s.get("run") == "make test" for s in workflow["jobs"]["test"]["steps"])
    runs = [s.get("run", "") for s in workflow["jobs"]["deploy"]["steps"]]
    build = runs.index("make build")
    deploy = next(i for i, r in enumerate(runs) if r.startswith("sam deploy"))
    assert build < deploy
    for flag in ("--template-file deploy/badges/template.yaml", "--capabilities CAPABILITY_IAM",
                 "--no-fail-on-empty-changeset", "--resolve-s3"):
        assert flag in runs[deploy]
    assert "/health" in runs[-1]


def test_workflow_scripts_take_expressions_only_through_env(workflow: dict) -> None:
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step
