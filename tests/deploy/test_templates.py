"""What every template owes the release, checked offline: cfn-lint clean, every function published
through a `live` alias with a CodeDeploy canary chosen by the Environment parameter and rolled
back by its three alarms; event sources invoke that alias; the parameter files of each
environment. (The shell template runs these same checks from test_shell_template.py.)"""

from __future__ import annotations

import json
import operator
import re

import pytest

from tests.support.templates import (
    CANARY,
    ENVIRONMENTS,
    FUNCTIONS,
    SERVICES,
    all_functions,
    arithmetic,
    cfn_lint,
    functions,
    parameter_values,
    params_file,
    resolve,
    template_path,
)


def test_the_function_list_is_every_function_of_every_template(templates: dict[str, dict]) -> None:
    assert sorted(all_functions(templates)) == sorted(FUNCTIONS)


# ------------------------------------------------------------------ cfn-lint


@pytest.mark.parametrize("service", SERVICES)
def test_cfn_lint_reports_nothing(service: str) -> None:
    assert cfn_lint(template_path(service).read_text(encoding="utf-8")) == []


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


# ------------------------------------------------------------------ parameter files


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
