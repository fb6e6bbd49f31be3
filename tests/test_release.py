"""The release pipeline, checked offline: every function of every template is published through
a `live` alias with a CodeDeploy canary chosen by the Environment parameter and rolled back by its
three alarms; event sources invoke that alias; the items stack (function, table, DLQ, role); the
parameter files of each environment; and .github/workflows/release.yml -- its order, OIDC, the
smoke tests against the sample events, and its deploy, smoke, finish and rollback scripts, run
here against stand-ins for the `aws` and `sam` commands."""

from __future__ import annotations

import ast
import fnmatch
import json
import operator
import os
import re
import shlex
import subprocess
import sys
import uuid
from pathlib import Path

import cfnlint.decode
import pytest
import yaml
from cfnlint.api import lint
from cfnlint.config import ManualArgs

from lambdasmith.items.config import ItemsConfig
from lambdasmith.items.store import ITEMS
from lambdasmith.services import python_functions
from tests.test_deploy import AWS_CALL_SPY

ROOT = Path(__file__).resolve().parents[1]
SERVICES = ("items", "badges", "wardrobe")
ENVIRONMENTS = ("staging", "production")
CANARY = {"staging": "Canary10Percent5Minutes", "production": "Canary10Percent10Minutes"}
WORKFLOWS = ROOT / ".github" / "workflows"
RELEASE = WORKFLOWS / "release.yml"
BUILD = ROOT / "deploy" / "build.py"


def template_path(service: str) -> Path:
    return ROOT / "deploy" / service / "template.yaml"


def load_template(service: str) -> dict:
    tpl, errors = cfnlint.decode.decode(str(template_path(service)))
    assert not errors, errors
    return json.loads(json.dumps(tpl))  # plain dicts and strs


@pytest.fixture(scope="module")
def templates() -> dict[str, dict]:
    return {s: load_template(s) for s in SERVICES}


def functions(template: dict) -> dict[str, dict]:
    return {n: r["Properties"] for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def all_functions(templates: dict[str, dict]) -> list[tuple[str, str]]:
    return [(s, f) for s in SERVICES for f in functions(templates[s])]


FUNCTIONS = [("items", "ItemsFunction"), ("badges", "BadgesFunction"), ("wardrobe", "ApiFunction"),
             ("wardrobe", "WorkerFunction")]  # fmt: skip


def test_the_function_list_is_every_function_of_every_template(templates: dict[str, dict]) -> None:
    assert sorted(all_functions(templates)) == sorted(FUNCTIONS)


# ------------------------------------------------------------------ resolving a template's values


def parameter_values(template: dict, overrides: dict[str, str] | None = None) -> dict[str, str]:
    values = {k: str(p["Default"]) for k, p in template["Parameters"].items() if "Default" in p}
    values.update(overrides or {})
    return values


def resolve(value, template: dict, values: dict[str, str]):
    """A property as CloudFormation would see it with `values`: Ref (parameters, and resource
    names standing in as "name-of-<id>"), Fn::FindInMap and Fn::Sub."""

    def name_of(ref: str) -> str:
        if ref in values:
            return values[ref]
        assert ref in template["Resources"], f"unknown Ref {ref}"
        return f"name-of-{ref}"

    if isinstance(value, dict) and len(value) == 1:
        (fn, arg), = value.items()
        if fn == "Ref":
            return name_of(arg)
        if fn == "Fn::FindInMap":
            mapping, first, second = (resolve(a, template, values) for a in arg)
            return template["Mappings"][mapping][str(first)][second]
        if fn == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            return re.sub(r"\$\{([\w:]+)\}", lambda m: name_of(m.group(1)), text)
    return value


def arithmetic(expression: str, names: dict[str, float]) -> float:
    """A CloudWatch metric-math expression of numbers, metric ids, + - * / and parentheses."""
    ops = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}

    def ev(node: ast.AST) -> float:
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](ev(node.left), ev(node.right))
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name):
            return names[node.id]
        raise AssertionError(f"unexpected {ast.dump(node)} in {expression!r}")

    return ev(ast.parse(expression, mode="eval").body)


# ------------------------------------------------------------------ cfn-lint


def cfn_lint(text: str) -> list[str]:
    config = ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1"])
    return [str(m) for m in lint(text, config=config)]


@pytest.mark.parametrize("service", SERVICES)
def test_cfn_lint_reports_nothing(service: str) -> None:
    assert cfn_lint(template_path(service).read_text(encoding="utf-8")) == []


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


# ------------------------------------------------------------------ the live alias and its canary


@pytest.mark.parametrize("service", SERVICES)
def test_each_template_has_an_environment_parameter(templates: dict[str, dict], service: str) -> None:
    p = templates[service]["Parameters"]["Environment"]
    assert p["Type"] == "String"
    assert sorted(p["AllowedValues"]) == sorted(ENVIRONMENTS)
    assert p.get("Default", "staging") in ENVIRONMENTS


@pytest.mark.parametrize(("service", "function"), FUNCTIONS)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_function_is_published_through_live_with_the_environments_canary(
    templates: dict[str, dict], service: str, function: str, environment: str
) -> None:
    template = templates[service]
    fn = functions(template)[function]
    assert fn["AutoPublishAlias"] == "live"
    preference = fn["DeploymentPreference"]
    assert preference.get("Enabled", True) is True
    values = parameter_values(template, {"Environment": environment})
    assert resolve(preference["Type"], template, values) == CANARY[environment]
    # CodeDeploy rolls back on the alarms (SAM's deployment groups always enable auto-rollback),
    # and no hook or role of ours replaces that.
    assert not {"Hooks", "Role", "TriggerConfigurations"} & set(preference)


def alarm_kind(alarm: dict) -> str:
    """errors | duration | throttles, from the Lambda metric the alarm watches."""
    if "MetricName" in alarm:
        assert alarm["Namespace"] == "AWS/Lambda"
        return alarm["MetricName"].lower()
    stats = [m["MetricStat"] for m in alarm["Metrics"] if "MetricStat" in m]
    assert len(stats) == 1 and stats[0]["Metric"]["Namespace"] == "AWS/Lambda"
    return stats[0]["Metric"]["MetricName"].lower()


def deployment_alarms(template: dict, function: str) -> dict[str, dict]:
    refs = functions(template)[function]["DeploymentPreference"]["Alarms"]
    assert all(set(r) == {"Ref"} for r in refs), refs
    alarms = {r["Ref"]: template["Resources"][r["Ref"]] for r in refs}
    assert {a["Type"] for a in alarms.values()} == {"AWS::CloudWatch::Alarm"}
    return {alarm_kind(a["Properties"]): a["Properties"] for a in alarms.values()}


OPERATORS = {"GreaterThanOrEqualToThreshold": operator.ge, "GreaterThanThreshold": operator.gt,
             "LessThanThreshold": operator.lt, "LessThanOrEqualToThreshold": operator.le}  # fmt: skip


def fires_on(alarm: dict, datapoint: float) -> bool:
    """Whether one one-minute datapoint puts the alarm in ALARM."""
    return OPERATORS[alarm["ComparisonOperator"]](datapoint, alarm["Threshold"])


def assert_alarms_at_once(alarm: dict) -> None:
    assert alarm["EvaluationPeriods"] == 1 and alarm.get("DatapointsToAlarm", 1) == 1
    assert alarm["TreatMissingData"] == "notBreaching"  # no traffic is no reason to roll back


def alias_dimensions(dimensions: list[dict], template: dict) -> dict[str, str]:
    values = parameter_values(template)
    return {d["Name"]: resolve(d["Value"], template, values) for d in dimensions}


@pytest.mark.parametrize(("service", "function"), FUNCTIONS)
def test_each_deployment_lists_exactly_its_functions_three_alarms(
    templates: dict[str, dict], service: str, function: str
) -> None:
    template = templates[service]
    alarms = deployment_alarms(template, function)
    assert sorted(alarms) == ["duration", "errors", "throttles"]
    live = {"FunctionName": f"name-of-{function}", "Resource": f"name-of-{function}:live"}
    for kind in ("errors", "throttles"):
        assert alias_dimensions(alarms[kind]["Dimensions"], template) == live, kind
    (stat,) = [m["MetricStat"] for m in alarms["duration"]["Metrics"] if "MetricStat" in m]
    assert alias_dimensions(stat["Metric"]["Dimensions"], template) == live
    # No other function's deployment shares them.
    others = [f for s, f in FUNCTIONS if (s, f) != (service, function) and s == service]
    for other in others:
        refs = {r["Ref"] for r in functions(template)[other]["DeploymentPreference"]["Alarms"]}
        assert not refs & {r["Ref"] for r in functions(template)[function]["DeploymentPreference"]["Alarms"]}


@pytest.mark.parametrize(("service", "function"), FUNCTIONS)
@pytest.mark.parametrize("kind", ["errors", "throttles"])
def test_one_error_or_throttle_in_a_minute_fires_the_alarm(
    templates: dict[str, dict], service: str, function: str, kind: str
) -> None:
    alarm = deployment_alarms(templates[service], function)[kind]
    assert (alarm["Statistic"], alarm["Period"]) == ("Sum", 60)
    assert_alarms_at_once(alarm)
    assert fires_on(alarm, 1) and fires_on(alarm, 5)
    assert not fires_on(alarm, 0)


def timeouts_to_check(template: dict, timeout) -> list[tuple[dict[str, str], int]]:
    """(parameter values, the function's timeout in seconds) for the default and other allowed timeouts."""
    if not isinstance(timeout, dict):
        return [({}, int(timeout))]
    p = template["Parameters"][timeout["Ref"]]
    allowed = p.get("AllowedValues") or sorted({p["MinValue"], p["Default"], p["MaxValue"]})
    return [({timeout["Ref"]: str(t)}, int(t)) for t in allowed]


@pytest.mark.parametrize(("service", "function"), FUNCTIONS)
def test_the_duration_alarm_fires_before_the_timeout_and_not_on_ordinary_runs(
    templates: dict[str, dict], service: str, function: str
) -> None:
    template = templates[service]
    alarm = deployment_alarms(template, function)["duration"]
    assert_alarms_at_once(alarm)
    (metric,) = [m for m in alarm["Metrics"] if "MetricStat" in m]
    (expression,) = [m for m in alarm["Metrics"] if "Expression" in m]
    assert metric["ReturnData"] is False and expression.get("ReturnData", True) is True
    assert metric["MetricStat"]["Stat"] in ("p99", "Maximum") and metric["MetricStat"]["Period"] == 60
    timeout = functions(template)[function]["Timeout"]
    for overrides, seconds in timeouts_to_check(template, timeout):
        text = resolve(expression["Expression"], template, parameter_values(template, overrides))
        # Duration is in milliseconds; the alarm fires under the timeout, at 80% of it or later.
        for ms, fires in ((seconds * 1000, True), (seconds * 900, True), (seconds * 500, False), (100, False)):
            assert fires_on(alarm, arithmetic(text, {metric["Id"]: ms})) is fires, (overrides, text, ms)


# ------------------------------------------------------------------ event sources invoke the alias


def references(value) -> list[str]:
    """Every logical id a property names: Ref, Fn::GetAtt, and ${...} in Fn::Sub."""
    found: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "Ref" and isinstance(v, str):
                found.append(v)
            elif k == "Fn::GetAtt":
                found.append(v[0] if isinstance(v, list) else v.split(".")[0])
            elif k == "Fn::Sub":
                text = v if isinstance(v, str) else v[0]
                found += [m.split(".")[0] if not m.endswith(".Alias") else m for m in re.findall(r"\$\{([\w.:]+)\}", text)]
                found += references(v[1] if isinstance(v, list) else {})
            else:
                found += references(v)
    elif isinstance(value, list):
        for v in value:
            found += references(v)
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_nothing_invokes_a_function_around_its_alias(templates: dict[str, dict], service: str) -> None:
    """A resource that invokes a function (an event source mapping, a permission, an invoke
    config...) names its `live` alias (`<Function>.Alias`), never the function itself: an
    unqualified invocation runs $LATEST, which the canary does not guard. Only the alarms (the
    function name is a metric dimension) and outputs may name the function."""
    template = templates[service]
    fns = set(functions(template))
    for name, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::CloudWatch::Alarm", "AWS::Serverless::Function"):
            continue
        bare = [r for r in references(resource.get("Properties", {})) if r in fns]
        assert bare == [], f"{name} names {bare} instead of its alias"


def test_the_worker_event_source_mapping_invokes_the_live_alias(templates: dict[str, dict]) -> None:
    mappings = [r["Properties"] for r in templates["wardrobe"]["Resources"].values()
                if r["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert [m["FunctionName"] for m in mappings] == [{"Ref": "WorkerFunction.Alias"}]


@pytest.mark.parametrize(("service", "function"), FUNCTIONS)
def test_sam_event_sources_ride_on_the_alias(templates: dict[str, dict], service: str, function: str) -> None:
    """SAM points the events of a function with AutoPublishAlias (API integrations and their
    invoke permissions) at the alias; every such event is of a kind SAM wires that way."""
    fn = functions(templates[service])[function]
    events = fn.get("Events", {})
    assert {e["Type"] for e in events.values()} <= {"Api", "HttpApi"}
    if events:
        assert fn["AutoPublishAlias"] == "live"
    expected = {"BadgesFunction": {"HttpApi"}, "ApiFunction": {"Api"}}.get(function, set())
    assert {e["Type"] for e in events.values()} == expected


@pytest.mark.parametrize(("service", "outputs"), [
    ("items", {"LiveAliasArn": "ItemsFunction"}),
    ("badges", {"LiveAliasArn": "BadgesFunction"}),
    ("wardrobe", {"ApiLiveAliasArn": "ApiFunction", "WorkerLiveAliasArn": "WorkerFunction"}),
])  # fmt: skip
def test_outputs_name_the_live_aliases(templates: dict[str, dict], service: str, outputs: dict[str, str]) -> None:
    for output, function in outputs.items():
        assert templates[service]["Outputs"][output]["Value"] == {"Ref": f"{function}.Alias"}


# ------------------------------------------------------------------ the items stack


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
    assert env["POWERTOOLS_SERVICE_NAME"] == "items"
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


def as_list(v) -> list:
    return v if isinstance(v, list) else [v]


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


# ------------------------------------------------------------------ parameter files


def params_file(service: str, environment: str) -> Path:
    return ROOT / "deploy" / service / f"params.{environment}.json"


@pytest.mark.parametrize("service", SERVICES)
@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_params_files_cover_the_template_with_valid_values(
    templates: dict[str, dict], service: str, environment: str
) -> None:
    entries = json.loads(params_file(service, environment).read_text(encoding="utf-8"))
    assert all(set(e) == {"ParameterKey", "ParameterValue"} for e in entries)  # CloudFormation's format
    assert all(isinstance(e["ParameterValue"], str) for e in entries)
    given = {e["ParameterKey"]: e["ParameterValue"] for e in entries}
    assert len(given) == len(entries), "a parameter twice"
    parameters = templates[service]["Parameters"]
    assert set(given) <= set(parameters), f"not in the template: {set(given) - set(parameters)}"
    assert {k for k, p in parameters.items() if "Default" not in p} <= set(given)
    assert given["Environment"] == environment
    for key, value in given.items():
        p = parameters[key]
        if "AllowedValues" in p:
            assert value in [str(v) for v in p["AllowedValues"]], key
        if "AllowedPattern" in p:
            assert re.fullmatch(p["AllowedPattern"], value), key
        if p["Type"] == "Number":
            assert p.get("MinValue", float("-inf")) <= float(value) <= p.get("MaxValue", float("inf")), key


@pytest.mark.parametrize("service", SERVICES)
def test_both_environments_set_the_same_parameters(service: str) -> None:
    keys = [{e["ParameterKey"] for e in json.loads(params_file(service, env).read_text())} for env in ENVIRONMENTS]
    assert keys[0] == keys[1]


def test_staging_and_production_do_not_share_the_jwt_secret() -> None:
    values = [{e["ParameterKey"]: e["ParameterValue"] for e in json.loads(params_file("wardrobe", env).read_text())}
              for env in ENVIRONMENTS]  # fmt: skip
    assert values[0]["JwtSecretParameterName"] != values[1]["JwtSecretParameterName"]


# ------------------------------------------------------------------ the release workflow


@pytest.fixture(scope="module")
def workflow_text() -> str:
    return RELEASE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def workflow(workflow_text: str) -> dict:
    return yaml.safe_load(workflow_text)


def step_index(steps: list[dict], predicate) -> int:
    found = [i for i, s in enumerate(steps) if predicate(s)]
    assert len(found) == 1, found
    return found[0]


def named(name: str):
    return lambda s: s.get("name") == name


def runs(fragment: str):
    return lambda s: fragment in s.get("run", "")


def uses(action: str):
    return lambda s: s.get("uses", "").startswith(action + "@")


def needs(job: dict) -> list[str]:
    return as_list(job.get("needs", []))


def test_the_release_is_the_only_deploying_workflow() -> None:
    """The per-service workflows are folded into release.yml: one pipeline, one production gate."""
    deploying = [p.name for p in WORKFLOWS.glob("*.y*ml") if "sam deploy" in p.read_text(encoding="utf-8")]
    assert deploying == ["release.yml"]


@pytest.mark.parametrize("path", sorted(WORKFLOWS.glob("*.y*ml")), ids=lambda p: p.name)
def test_no_workflow_stores_aws_keys(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    lowered = text.lower()
    assert "aws-access-key-id" not in lowered and "aws-secret-access-key" not in lowered
    assert "aws_access_key_id" not in lowered and "aws_secret_access_key" not in lowered
    assert "aws_session_token" not in lowered
    assert "secrets." not in lowered
    w = yaml.safe_load(text)
    for job in w["jobs"].values():
        for step in job.get("steps", []):
            if uses("aws-actions/configure-aws-credentials")(step):
                assert step["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
                assert job["permissions"]["id-token"] == "write"


def test_release_runs_on_main_and_on_demand_one_at_a_time(workflow: dict) -> None:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert on["push"]["branches"] == ["main"]
    assert {"lambdasmith/**", "deploy/**", "events/**", ".github/workflows/release.yml"} <= set(on["push"]["paths"])
    assert "workflow_dispatch" in on
    assert workflow["concurrency"] == {"group": "release", "cancel-in-progress": False}


def test_release_jobs_go_lint_test_build_staging_production(workflow: dict) -> None:
    jobs = workflow["jobs"]
    assert list(jobs) == ["lint", "test", "build", "staging", "production"]
    assert needs(jobs["lint"]) == []
    assert needs(jobs["test"]) == ["lint"]
    assert needs(jobs["build"]) == ["test"]
    assert needs(jobs["staging"]) == ["build"]
    assert needs(jobs["production"]) == ["staging"]
    assert any("ruff" in s.get("run", "") and " check" in s["run"] for s in jobs["lint"]["steps"])
    assert any("mypy" in s.get("run", "") for s in jobs["lint"]["steps"])
    assert any(s.get("run") == "make test" for s in jobs["test"]["steps"])


def test_build_job_builds_every_service_then_lints_every_template(workflow: dict) -> None:
    steps = workflow["jobs"]["build"]["steps"]
    build = step_index(steps, lambda s: s.get("run") == "python3 deploy/build.py all")
    lint_step = step_index(steps, runs("cfn-lint"))
    upload = step_index(steps, uses("actions/upload-artifact"))
    assert build < lint_step < upload
    command = shlex.split(steps[lint_step]["run"])
    patterns = [a for a in command if a.endswith(".yaml")]
    templates_linted = {t for t in ROOT.glob("deploy/*/template.yaml")
                        if any(fnmatch.fnmatch(t.relative_to(ROOT).as_posix(), p) for p in patterns)}
    # every template is linted, the shell stack (deployed by hand, see deploy/shell) included
    assert templates_linted == {template_path(s) for s in (*SERVICES, "shell")}
    # The same cfn-lint as the tests (uv.lock), so CI and this suite agree.
    locked = re.search(r'name = "cfn-lint"\nversion = "([^"]+)"', (ROOT / "uv.lock").read_text()).group(1)
    assert f"cfn-lint=={locked}" in command
    setup = [s for s in steps if uses("actions/setup-python")(s)]
    assert setup and setup[0]["with"]["python-version"] == load_template("items")["Resources"]["ItemsFunction"][
        "Properties"]["Runtime"].removeprefix("python")


DEPLOY_JOBS = ("staging", "production")


@pytest.mark.parametrize("job_name", DEPLOY_JOBS)
def test_deploy_jobs_assume_a_role_by_oidc(workflow: dict, job_name: str) -> None:
    job = workflow["jobs"][job_name]
    assert job["permissions"] == {"id-token": "write", "contents": "read"}
    assert workflow["permissions"] == {"contents": "read"}
    for other in ("lint", "test", "build"):
        assert "id-token" not in workflow["jobs"][other].get("permissions", {})
    steps = job["steps"]
    creds = step_index(steps, uses("aws-actions/configure-aws-credentials"))
    assert set(steps[creds]["with"]) == {"role-to-assume", "aws-region"}
    assert step_index(steps, named("deploy")) > creds


@pytest.mark.parametrize("job_name", DEPLOY_JOBS)
def test_deploy_then_smoke_then_finish_then_rollback_on_failure(workflow: dict, job_name: str) -> None:
    job = workflow["jobs"][job_name]
    assert job["environment"] == job_name
    assert job["env"]["ENVIRONMENT"] == job_name
    assert job["env"]["STACK_NAME"].endswith(f"-{job_name}")
    steps = job["steps"]
    order = [step_index(steps, named(n)) for n in ("deploy", "smoke test", "finish", "rollback")]
    assert order == sorted(order) and order[-1] == len(steps) - 1
    assert step_index(steps, uses("actions/download-artifact")) < order[0]
    rollback = steps[order[-1]]
    assert rollback["if"] == "failure()"
    assert [s for s in steps if "if" in s] == [rollback]
    assert "stop-deployment" in rollback["run"] and "--auto-rollback-enabled" in rollback["run"]
    deploy = steps[order[0]]["run"]
    for flag in ('--template-file "deploy/$SERVICE/template.yaml"', "--capabilities CAPABILITY_IAM",
                 "--no-fail-on-empty-changeset", "--resolve-s3", "--parameter-overrides",
                 '"deploy/$SERVICE/params.$ENVIRONMENT.json"'):  # fmt: skip
        assert flag in deploy, flag
    smoke = steps[order[1]]["run"]
    assert "aws lambda invoke" in smoke and "FunctionError" in smoke


def test_production_waits_for_staging_and_repeats_it_exactly(workflow: dict) -> None:
    staging, production = workflow["jobs"]["staging"], workflow["jobs"]["production"]
    assert production["environment"] == "production"  # required reviewers are set on it
    assert production["if"] == "github.ref == 'refs/heads/main'"
    assert production["steps"] == staging["steps"]
    assert production["strategy"] == staging["strategy"]
    assert staging["strategy"]["fail-fast"] is False  # never cancel a stack update midway
    differ = {k for k in staging["env"] if staging["env"][k] != production["env"].get(k)}
    assert differ == {"ENVIRONMENT", "STACK_NAME"}
    assert staging["env"]["STACK_NAME"].replace("-staging", "-production") == production["env"]["STACK_NAME"]


def test_scripts_take_expressions_only_through_env(workflow: dict) -> None:
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            assert "${{" not in step.get("run", ""), step


def smoke_lines(workflow: dict) -> dict[str, list[tuple[str, str, str]]]:
    matrix = workflow["jobs"]["staging"]["strategy"]["matrix"]["include"]
    return {m["service"]: [tuple(line.split()) for line in m["smoke"].splitlines() if line.strip()] for m in matrix}


def test_every_function_of_every_service_has_a_smoke_test(workflow: dict, templates: dict[str, dict]) -> None:
    lines = smoke_lines(workflow)
    spec = importlib_build()
    assert sorted(lines) == sorted(spec.SERVICES) == sorted(SERVICES)
    for service, tests in lines.items():
        assert sorted(t[0] for t in tests) == sorted(functions(templates[service])), service
        for _function, event, expected in tests:
            assert event.startswith("events/") and event.endswith(".json"), event
            assert expected == "-" or re.fullmatch(r"[1-5]\d\d", expected), expected


def importlib_build():
    import importlib.util

    spec = importlib.util.spec_from_file_location("deploy_build_release", BUILD)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# The handler of each function answers each sample event, in a process of its own.
ANSWER = r"""
import json, sys
from lambdasmith.local.invocation import load_handler as load

class Context:
    aws_request_id = "smoke-request"
    function_name = "smoke"
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:smoke:live"
    def get_remaining_time_in_millis(self):
        return 10000

answer = load(sys.argv[1])(json.load(open(sys.argv[2])), Context())
print(json.dumps(answer.get("statusCode", "-") if isinstance(answer, dict) else "-"))
"""

# The handler of each template function, by its logical id, from the service manifests.
HANDLERS = {fn.resource: fn.handler for fn in python_functions().values()}


def test_each_smoke_event_gets_the_expected_answer_from_its_handler(
    workflow: dict, templates: dict[str, dict], tmp_path: Path
) -> None:
    for service, tests in smoke_lines(workflow).items():
        for function, event, expected in tests:
            handler = functions(templates[service])[function]["Handler"]
            assert HANDLERS[function].replace(":", ".") == handler
            assert (ROOT / event).is_file(), f"missing sample {event}"
            env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LAMBDASMITH_"))}
            env["LAMBDASMITH_DATA_DIR"] = str(tmp_path / function)
            done = subprocess.run([sys.executable, "-c", ANSWER, HANDLERS[function], str(ROOT / event)], cwd=ROOT,
                                  capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert str(json.loads(done.stdout.strip().splitlines()[-1])) == expected, (function, event)


# ------------------------------------------------------------------ the step scripts, against stand-ins

# Stands in for `aws` and `sam`: logs each call (argv) and answers from rules, each
# {"cmd": "<service> <operation>" | "sam", "when": optional substring of the arguments,
#  "out": [answers: the next one each call, the last one for good], "rc": exit code};
# `lambda invoke` writes the rule's "payload" to its outfile.
FAKE_CLI = r"""#!/usr/bin/env python3
import json, os, sys
name = os.path.basename(sys.argv[0])
args = sys.argv[1:]
state_path = os.environ["FAKE_STATE"]
state = json.load(open(state_path))
with open(os.environ["FAKE_LOG"], "a") as log:
    log.write(json.dumps([name] + args) + "\n")
cmd = name if name != "aws" else " ".join(args[:2])
joined = " ".join(args)
for rule in state["rules"]:
    if rule["cmd"] == cmd and rule.get("when", "") in joined:
        break
else:
    if cmd == "cloudformation describe-stack-resource":
        print("fn-" + args[args.index("--logical-resource-id") + 1])
        sys.exit(0)
    sys.exit(0)
out = rule.get("out", [""])
answer = out[0]
if len(out) > 1:
    rule["out"] = out[1:]
    json.dump(state, open(state_path, "w"))
if cmd == "lambda invoke" and "payload" in rule:
    with open(args[-1], "w") as f:
        json.dump(rule["payload"], f)
if answer:
    print(answer, file=sys.stderr if rule.get("rc", 0) else sys.stdout)
sys.exit(rule.get("rc", 0))
"""


class Stage:
    """One deploy-job step's script, run by bash with stand-in `aws`, `sam` and `sleep`."""

    def __init__(self, workflow: dict, tmp_path: Path, service: str = "items", environment: str = "staging"):
        self.steps = {s.get("name"): s["run"] for s in workflow["jobs"][environment]["steps"] if "run" in s}
        self.tmp = tmp_path
        self.bin = tmp_path / "bin"
        self.bin.mkdir()
        for tool in ("aws", "sam"):
            (self.bin / tool).write_text(FAKE_CLI)
            (self.bin / tool).chmod(0o755)
        (self.bin / "sleep").write_text("#!/bin/sh\nexit 0\n")
        (self.bin / "sleep").chmod(0o755)
        self.runner_temp = tmp_path / "runner"
        self.runner_temp.mkdir()
        smoke = next(m["smoke"] for m in workflow["jobs"][environment]["strategy"]["matrix"]["include"]
                     if m["service"] == service)  # fmt: skip
        self.env = {"PATH": f"{self.bin}:{os.environ['PATH']}", "HOME": str(tmp_path), "RUNNER_TEMP": str(self.runner_temp),
                    "SERVICE": service, "ENVIRONMENT": environment, "SMOKE": smoke,
                    "STACK_NAME": f"lambdasmith-{service}-{environment}", "WARDROBE_ALARM_TOPIC_ARN": "",
                    "FAKE_STATE": str(tmp_path / "state.json"), "FAKE_LOG": str(tmp_path / "calls.log")}  # fmt: skip

    def run(self, step: str, rules: list[dict]) -> tuple[int, str, list[list[str]]]:
        (self.tmp / "state.json").write_text(json.dumps({"rules": rules}))
        log = self.tmp / "calls.log"
        log.write_text("")
        done = subprocess.run(["bash", "-e", "-c", self.steps[step]], cwd=ROOT, env=self.env, capture_output=True,
                              text=True, timeout=60)  # fmt: skip
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        return done.returncode, done.stdout + done.stderr, calls

    def temp(self, name: str) -> str:
        return (self.runner_temp / name).read_text()


CHANGE_SET = "arn:aws:cloudformation:us-east-1:123456789012:changeSet/samcli-deploy1795300000/0f0e-1"
SAM_CREATED = f"Waiting for changeset to be created..\n\nChangeset created successfully. {CHANGE_SET}\n"


def calls_of(calls: list[list[str]], cmd: str) -> list[list[str]]:
    return [c for c in calls if " ".join(c[:3]).startswith(cmd)]


def test_deploy_starts_the_change_set_and_waits_for_the_canary(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path)
    rc, out, calls = stage.run("deploy", [
        {"cmd": "sam", "out": [SAM_CREATED]},
        {"cmd": "cloudformation describe-change-set", "out": ["ItemsFunctionAliaslive"]},
        {"cmd": "cloudformation describe-stacks", "out": ["UPDATE_IN_PROGRESS"]},
        {"cmd": "lambda get-alias", "out": ["None", "None", "7"]},
    ])
    assert rc == 0, out
    (sam,) = calls_of(calls, "sam")
    assert "--no-execute-changeset" in sam and "--no-fail-on-empty-changeset" in sam
    overrides = sam[sam.index("--parameter-overrides") + 1:]
    overrides = overrides[:next(i for i, a in enumerate(overrides) if a.startswith("--"))]
    entries = json.loads(params_file("items", "staging").read_text())
    assert overrides == [f"{e['ParameterKey']}={e['ParameterValue']}" for e in entries]
    assert calls_of(calls, "aws cloudformation execute-change-set") == [
        ["aws", "cloudformation", "execute-change-set", "--change-set-name", CHANGE_SET]]
    (alias,) = {tuple(c) for c in calls_of(calls, "aws lambda get-alias")}
    assert "fn-ItemsFunction" in alias and "live" in alias
    assert stage.temp("canary") == "ItemsFunction 7\n"


def test_deploy_fails_when_the_stack_rolls_back_before_the_canary(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path)
    rc, out, _ = stage.run("deploy", [
        {"cmd": "sam", "out": [SAM_CREATED]},
        {"cmd": "cloudformation describe-change-set", "out": ["ItemsFunctionAliaslive"]},
        {"cmd": "cloudformation describe-stacks", "out": ["UPDATE_IN_PROGRESS", "UPDATE_IN_PROGRESS",
                                                         "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]},
        {"cmd": "lambda get-alias", "out": ["None"]},
    ])  # fmt: skip
    assert rc != 0 and "UPDATE_ROLLBACK_COMPLETE" in out
    assert stage.temp("canary") == ""


def test_deploy_of_a_new_stack_waits_for_it_without_a_canary(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path)
    rc, out, calls = stage.run("deploy", [
        {"cmd": "sam", "out": [SAM_CREATED]},
        {"cmd": "cloudformation describe-change-set", "out": [""]},  # the alias is added, not modified
        {"cmd": "cloudformation describe-stacks", "out": ["REVIEW_IN_PROGRESS", "CREATE_IN_PROGRESS",
                                                         "CREATE_COMPLETE"]},
    ])  # fmt: skip
    assert rc == 0, out
    assert not calls_of(calls, "aws lambda get-alias")
    assert stage.temp("canary") == ""
    assert "CREATE_COMPLETE" in out


def test_deploy_without_changes_deploys_nothing(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path)
    rc, out, calls = stage.run("deploy", [{"cmd": "sam", "out": ["No changes to deploy. Stack is up to date"]}])
    assert rc == 0, out
    assert not calls_of(calls, "aws cloudformation execute-change-set")
    assert stage.temp("change_set").strip() == ""
    rc, out, _ = stage.run("finish", [])
    assert rc == 0 and "nothing was deployed" in out


def test_a_failed_sam_deploy_fails_the_step(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path)
    rc, _, calls = stage.run("deploy", [{"cmd": "sam", "out": ["Error: Failed to create changeset"], "rc": 1}])
    assert rc != 0
    assert not calls_of(calls, "aws cloudformation execute-change-set")


def smoke_rules(payload: dict, meta: str = "200\tNone\t7") -> list[dict]:
    return [{"cmd": "lambda invoke", "out": [meta], "payload": payload}]


def test_smoke_invokes_the_canary_version_and_passes_on_a_good_answer(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path)
    (stage.runner_temp / "canary").write_text("ItemsFunction 7\n")
    rc, out, calls = stage.run("smoke test", smoke_rules({"statusCode": 200, "body": "{}"}))
    assert rc == 0, out
    (invoke,) = calls_of(calls, "aws lambda invoke")
    assert invoke[invoke.index("--function-name") + 1] == "fn-ItemsFunction"
    assert invoke[invoke.index("--qualifier") + 1] == "7"
    assert invoke[invoke.index("--payload") + 1] == "fileb://events/items-create.json"


def test_smoke_invokes_live_when_no_canary_runs(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path, service="wardrobe")
    (stage.runner_temp / "canary").write_text("")
    rc, out, calls = stage.run("smoke test", [
        {"cmd": "lambda invoke", "when": "fn-ApiFunction", "out": ["200\tNone\t3"], "payload": {"statusCode": 401}},
        {"cmd": "lambda invoke", "when": "fn-WorkerFunction", "out": ["200\tNone\t3"],
         "payload": {"batchItemFailures": []}},
    ])  # fmt: skip
    assert rc == 0, out
    invokes = calls_of(calls, "aws lambda invoke")
    assert [c[c.index("--qualifier") + 1] for c in invokes] == ["live", "live"]
    assert [c[c.index("--function-name") + 1] for c in invokes] == ["fn-ApiFunction", "fn-WorkerFunction"]


@pytest.mark.parametrize(("payload", "meta"), [
    ({"errorMessage": "boom", "errorType": "RuntimeError"}, "200\tUnhandled\t7"),  # the function raised
    ({"statusCode": 500, "body": "{}"}, "200\tNone\t7"),  # answered, but a server error
    ({"statusCode": 400, "body": "{}"}, "200\tNone\t7"),  # not what the sample should get
    ({"statusCode": 200}, "429\tNone\t7"),  # not invoked as asked
])  # fmt: skip
def test_smoke_fails_on_a_bad_answer(workflow: dict, tmp_path: Path, payload: dict, meta: str) -> None:
    stage = Stage(workflow, tmp_path)
    (stage.runner_temp / "canary").write_text("ItemsFunction 7\n")
    rc, out, _ = stage.run("smoke test", smoke_rules(payload, meta))
    assert rc != 0
    assert "smoke test of ItemsFunction failed" in out


def test_smoke_fails_when_the_invoke_itself_fails_and_still_tries_the_others(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path, service="wardrobe")
    (stage.runner_temp / "canary").write_text("")
    rc, out, calls = stage.run("smoke test", [
        {"cmd": "lambda invoke", "when": "fn-ApiFunction", "out": ["An error occurred (AccessDeniedException)"],
         "rc": 254},
        {"cmd": "lambda invoke", "when": "fn-WorkerFunction", "out": ["200\tNone\t3"],
         "payload": {"batchItemFailures": []}},
    ])  # fmt: skip
    assert rc != 0
    assert "smoke test of ApiFunction failed" in out and "smoke test of WorkerFunction failed" not in out
    assert len(calls_of(calls, "aws lambda invoke")) == 2


def test_smoke_fails_when_a_function_without_status_codes_raises(workflow: dict, tmp_path: Path) -> None:
    """The worker answers no statusCode: only FunctionError tells its failure apart."""
    stage = Stage(workflow, tmp_path, service="wardrobe")
    (stage.runner_temp / "canary").write_text("WorkerFunction 4\n")
    rc, out, _ = stage.run("smoke test", [
        {"cmd": "lambda invoke", "when": "fn-ApiFunction", "out": ["200\tNone\t3"], "payload": {"statusCode": 401}},
        {"cmd": "lambda invoke", "when": "fn-WorkerFunction", "out": ["200\tUnhandled\t4"],
         "payload": {"errorMessage": "boom", "errorType": "KeyError"}},
    ])  # fmt: skip
    assert rc != 0
    assert "smoke test of WorkerFunction failed" in out and "smoke test of ApiFunction failed" not in out


def test_finish_passes_when_the_canary_completes_and_fails_on_its_rollback(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path)
    (stage.runner_temp / "change_set").write_text(CHANGE_SET + "\n")
    rc, out, _ = stage.run("finish", [{"cmd": "cloudformation describe-stacks",
                                       "out": ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                                               "UPDATE_COMPLETE"]}])  # fmt: skip
    assert rc == 0, out
    rc, out, _ = stage.run("finish", [{"cmd": "cloudformation describe-stacks",
                                       "out": ["UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]}])
    assert rc != 0 and "UPDATE_ROLLBACK_COMPLETE" in out


def test_rollback_stops_each_deployment_in_flight_with_rollback(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path, service="wardrobe")
    rc, out, calls = stage.run("rollback", [
        {"cmd": "cloudformation describe-stack-resources", "when": "CodeDeploy::Application", "out": ["app-1"]},
        {"cmd": "cloudformation describe-stack-resources", "when": "CodeDeploy::DeploymentGroup",
         "out": ["dg-api\tdg-worker"]},
        {"cmd": "deploy list-deployments", "when": "dg-api", "out": ["d-API"]},
        {"cmd": "deploy list-deployments", "when": "dg-worker", "out": [""]},
        {"cmd": "cloudformation describe-stacks", "out": ["UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE"]},
    ])  # fmt: skip
    assert rc == 0, out
    listed = calls_of(calls, "aws deploy list-deployments")
    assert len(listed) == 2 and all("app-1" in c for c in listed)
    assert all({"InProgress", "Ready"} <= set(c) for c in listed)
    assert calls_of(calls, "aws deploy stop-deployment") == [
        ["aws", "deploy", "stop-deployment", "--deployment-id", "d-API", "--auto-rollback-enabled"]]
    assert "UPDATE_ROLLBACK_COMPLETE" in out


def test_rollback_with_nothing_in_flight_says_so(workflow: dict, tmp_path: Path) -> None:
    stage = Stage(workflow, tmp_path)
    rc, out, calls = stage.run("rollback", [
        {"cmd": "cloudformation describe-stack-resources", "when": "CodeDeploy::Application", "out": ["app-1"]},
        {"cmd": "cloudformation describe-stack-resources", "when": "CodeDeploy::DeploymentGroup", "out": ["dg-1"]},
        {"cmd": "deploy list-deployments", "out": [""]},
        {"cmd": "cloudformation describe-stacks", "out": ["UPDATE_COMPLETE"]},
    ])  # fmt: skip
    assert rc == 0, out
    assert not calls_of(calls, "aws deploy stop-deployment")
    assert "no deployment in flight" in out


@pytest.mark.parametrize("tool", ["ruff", "mypy"])
def test_lint_job_runs_the_locked_linters(workflow: dict, tool: str) -> None:
    """The lint job's ruff and mypy are uv.lock's, so the job and `make test` agree."""
    locked = re.search(rf'name = "{tool}"\nversion = "([^"]+)"', (ROOT / "uv.lock").read_text()).group(1)
    runs_of = [s["run"] for s in workflow["jobs"]["lint"]["steps"] if tool in s.get("run", "")]
    assert runs_of and all(f"{tool}=={locked}" in r for r in runs_of)
