"""The AWS deployments, checked offline: the SAM templates (cfn-lint and their shape against the
code) and the build that makes their CodeUri. Badges first, then the wardrobe. The release
pipeline (canary, alarms, params files, workflow) is tests/test_release.py's."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import cfnlint.decode
import pytest
from cfnlint.api import lint
from cfnlint.config import ManualArgs

from lambdasmith.badges.app import CORS_HEADERS
from lambdasmith.badges.config import BadgesConfig
from lambdasmith.badges.signature import sign_v1
from lambdasmith.badges.store import NONCES, ORGS, RESULTS
from lambdasmith.kit.secrets.aws import SsmSecrets
from lambdasmith.wardrobe.config import WardrobeConfig
from lambdasmith.wardrobe.store import WARDROBE

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "badges" / "template.yaml"
BUILD = ROOT / "deploy" / "build.py"
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
    for name in ("badges", "wardrobe", "items"):
        assert (tmp_path / f"{name}.zip").is_file() and (tmp_path / name / "lambdasmith").is_dir()
        assert f"{name}.zip" in stdout
    assert sorted(load_build_module().SERVICES) == ["badges", "items", "wardrobe"]


def test_each_service_builds_from_its_own_templates_handlers() -> None:
    b = load_build_module()
    assert b.handler_modules("badges") == ["lambdasmith.badges.app"]
    assert b.handler_modules("wardrobe") == ["lambdasmith.wardrobe.api", "lambdasmith.wardrobe.worker"]
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
    tag = "." + ("cpython-%d%d" % load_build_module().runtime_version(TEMPLATE)) + ".pyc"
    assert all(n.endswith(tag) for n in names if n.endswith(".pyc")), "only the runtime's bytecode"
    for rel in load_build_module().SERVICES["badges"].excluded:
        assert not [n for n in names if n == rel or n.startswith(rel)], rel
    # Only what the handler can import: the wardrobe and its kit modules stay out. (The table
    # port's cursors, kit/table/cursors.py, ship: every table backend encodes its pages there.)
    assert not [n for n in names if n.startswith("lambdasmith/wardrobe/")]
    assert "lambdasmith/kit/auth/jwt.py" not in names and "lambdasmith/kit/table/cursors.py" in names


def snapshot(tmp_path: Path) -> Path:
    """A frozen copy of the package, so edits to the working tree mid-test don't look like drift."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "lambdasmith", src / "lambdasmith", ignore=shutil.ignore_patterns("__pycache__"))
    return src


def test_build_is_deterministic(tmp_path: Path) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    first = b.build(tmp_path / "one", "badges", src_root=src)
    second = b.build(tmp_path / "two", "badges", src_root=src)
    assert first["zip"].read_bytes() == second["zip"].read_bytes()


def test_the_real_tree_ships_nothing_that_imports_an_excluded_module() -> None:
    b = load_build_module()
    assert b.excluded_imports(ROOT, b.shipped_sources(ROOT, "badges"), b.SERVICES["badges"].excluded) == []


def test_the_import_check_catches_an_excluded_import(tmp_path: Path) -> None:
    b = load_build_module()
    for rel, text in {
        "lambdasmith/__init__.py": "",
        "lambdasmith/badges/__init__.py": "",
        "lambdasmith/badges/app.py": "from . import store\n"
                                     "def handler(e, c):\n    from lambdasmith.badges import push\n",
        "lambdasmith/badges/store.py": "from . import reports\n",
        "lambdasmith/badges/push.py": "",
        "lambdasmith/badges/reports.py": "",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    problems = b.excluded_imports(tmp_path, b.shipped_sources(tmp_path, "badges"), b.SERVICES["badges"].excluded)
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
        "Runtime: python%d.%d" % b.runtime_version(TEMPLATE), f"Runtime: {here}"), encoding="utf-8")
    src = snapshot(tmp_path)
    first = b.build(tmp_path / "one", "badges", src_root=src, template=tpl)
    second = b.build(tmp_path / "two", "badges", src_root=src, template=tpl)
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
        "Runtime: python%d.%d" % b.runtime_version(TEMPLATE), "Runtime: python3.99"), encoding="utf-8")
    r = b.build(tmp_path / "out", "badges", template=tpl)
    assert r["compiled_with"] is None
    assert not list(r["dir"].rglob("*.pyc"))


# ================================================================== wardrobe
# ------------------------------------------------------------------ wardrobe: cfn-lint, functions, API

API_ROUTES = {("POST", "/users/{userId}/items"), ("GET", "/users/{userId}/items"),
              ("POST", "/items/{itemId}/share"), ("GET", "/users/{userId}/activities")}  # fmt: skip
ITEM_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"}
ESM_SQS_ACTIONS = {"sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"}
PARAMETER_ARN = "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter${JwtSecretParameterName}"


@pytest.fixture(scope="module")
def wtemplate() -> dict:
    tpl, errors = cfnlint.decode.decode(str(WARDROBE_TEMPLATE))
    assert not errors, errors
    return tpl


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
    assert [r["Type"] for r in wres.values() if "Api" in r["Type"]] == ["AWS::Serverless::Api"]


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
    # tests/test_release.py's.
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


# ------------------------------------------------------------------ wardrobe: build


@pytest.fixture(scope="module")
def built_wardrobe(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("build-wardrobe")
    return out, run_build(out, "wardrobe")


def test_wardrobe_zip_holds_only_what_its_handlers_import(built_wardrobe: tuple[Path, str]) -> None:
    out, stdout = built_wardrobe
    assert "wardrobe.zip" in stdout and "badges.zip" not in stdout
    with zipfile.ZipFile(out / "wardrobe.zip") as zf:
        names = zf.namelist()
    code = out / "wardrobe"
    assert names == sorted(p.relative_to(code).as_posix() for p in code.rglob("*") if p.is_file())
    assert {"lambdasmith/wardrobe/api.py", "lambdasmith/wardrobe/worker.py", "lambdasmith/wardrobe/store.py",
            "lambdasmith/kit/auth/jwt.py", "lambdasmith/kit/table/dynamodb/table.py", "lambdasmith/kit/queue/sqs.py",
            "lambdasmith/kit/secrets/aws.py"} <= set(names)
    assert not [n for n in names if n.startswith(("lambdasmith/badges/", "lambdasmith/local/"))]
    assert not {"lambdasmith/wardrobe/cli.py", "lambdasmith/cli.py", "lambdasmith/__main__.py"} & set(names)
    assert not [n for n in names if "site-packages" in n or n.endswith(".dist-info")]


def test_wardrobe_build_is_deterministic(tmp_path: Path) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    first = b.build(tmp_path / "one", "wardrobe", src_root=src)
    second = b.build(tmp_path / "two", "wardrobe", src_root=src)
    assert first["zip"].read_bytes() == second["zip"].read_bytes()


def test_the_real_tree_ships_no_excluded_module_in_any_service() -> None:
    b = load_build_module()
    for name, svc in b.SERVICES.items():
        assert b.excluded_imports(ROOT, b.shipped_sources(ROOT, name), svc.excluded) == [], name


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def test_a_service_ships_what_its_handlers_can_import_and_nothing_else(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "lambdasmith/__init__.py": "",
        "lambdasmith/kit/__init__.py": "",
        "lambdasmith/kit/used.py": "",
        "lambdasmith/kit/lazy.py": "from .deep import thing\n",
        "lambdasmith/kit/deep.py": "",
        "lambdasmith/kit/typing_only.py": "",
        "lambdasmith/kit/unused.py": "",
        "lambdasmith/badges/__init__.py": "",
        "lambdasmith/badges/widths.json": "{}",
        "lambdasmith/badges/app.py": "from lambdasmith.kit import used\nTYPE_CHECKING = False\nif TYPE_CHECKING:\n"
                                     "    from lambdasmith.kit.typing_only import T\n"
                                     "def handler(e, c):\n    from ..kit.lazy import f\n",
        "lambdasmith/wardrobe/__init__.py": "",
        "lambdasmith/wardrobe/api.py": "",
    })  # fmt: skip
    assert load_build_module().shipped_sources(tmp_path, "badges") == [
        "lambdasmith/__init__.py", "lambdasmith/badges/__init__.py", "lambdasmith/badges/app.py",
        "lambdasmith/badges/widths.json", "lambdasmith/kit/__init__.py", "lambdasmith/kit/deep.py",
        "lambdasmith/kit/lazy.py", "lambdasmith/kit/typing_only.py", "lambdasmith/kit/used.py"]


def test_the_wardrobe_build_refuses_to_ship_badges_code_or_a_missing_handler(tmp_path: Path) -> None:
    b = load_build_module()
    write_tree(tmp_path, {
        "lambdasmith/__init__.py": "",
        "lambdasmith/badges/__init__.py": "",
        "lambdasmith/badges/app.py": "",
        "lambdasmith/wardrobe/__init__.py": "",
        "lambdasmith/wardrobe/api.py": "def handler(e, c):\n    from lambdasmith.badges import app\n",
    })  # fmt: skip
    with pytest.raises(SystemExit, match="lambdasmith.wardrobe.worker"):
        b.shipped_sources(tmp_path, "wardrobe")
    (tmp_path / "lambdasmith/wardrobe/worker.py").write_text("from .api import handler as _\n")
    problems = b.excluded_imports(tmp_path, b.shipped_sources(tmp_path, "wardrobe"), b.SERVICES["wardrobe"].excluded)
    assert problems == ["lambdasmith/wardrobe/api.py: lambdasmith.badges",
                        "lambdasmith/wardrobe/api.py: lambdasmith.badges.app"]
    with pytest.raises(SystemExit, match="import excluded"):
        b.build(tmp_path / "out", "wardrobe", src_root=tmp_path)


# ------------------------------------------------------------------ wardrobe: the built code on the stack's resources

# Prepended to a probe that runs built code alone (-I -S): records every AWS call it makes as
# [IAM action, target (table, queue or parameter), index]; a transaction needs one per write.
AWS_CALL_SPY = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from lambdasmith.kit.aws import client as aws_client

calls = []
KINDS = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}
_call = aws_client.JsonClient.call
def spy(self, operation, payload):
    service = self.service.signing_name
    if operation == "TransactWriteItems":
        for entry in payload["TransactItems"]:
            (kind, body), = entry.items()
            calls.append([service + ":" + KINDS[kind], body["TableName"], None])
    else:
        target = payload.get("TableName") or payload.get("QueueUrl") or payload.get("Name")
        calls.append([service + ":" + operation, target, payload.get("IndexName")])
    return _call(self, operation, payload)
aws_client.JsonClient.call = spy
"""

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
