"""deploy/shell/template.yaml, checked offline: cfn-lint, provided.al2023 on arm64, the layers, the
Function URL, the environment, least privilege, and the release checks every other service's
functions get (tests/deploy/test_templates.py): live alias, canary, three alarms, params."""

from __future__ import annotations

import json
import re

import pytest

import tests.support.templates as support
from tests.deploy import test_templates as release
from tests.support.templates import EXAMPLES, ROOT, example_handlers

TEMPLATE = ROOT / "deploy" / "shell" / "template.yaml"
FUNCTION = "ShellFunction"


@pytest.fixture(scope="module")
def template() -> dict:
    return support.load_template("shell")


@pytest.fixture(scope="module")
def templates(template: dict) -> dict[str, dict]:
    return {"shell": template}


@pytest.fixture(scope="module")
def fn(template: dict) -> dict:
    return support.functions(template)[FUNCTION]


# ------------------------------------------------------------------ the template


def test_cfn_lint_reports_nothing() -> None:
    assert support.cfn_lint(TEMPLATE.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("Action: lambda:InvokeFunctionUrl", "Action: lambda:Invoke Url", "lambda:Invoke Url"),
    ("RetentionInDays: !Ref LogRetentionDays", "RetentionInDays: 2", "2"),
    ("Period: 60", "Period: 61", "61"),
])  # fmt: skip
def test_cfn_lint_catches_a_broken_template(old: str, new: str, expected: str) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    assert old in text
    assert any(expected in m for m in support.cfn_lint(text.replace(old, new, 1)))


def test_the_only_function_runs_a_chosen_example_on_provided_al2023_arm64(template: dict, fn: dict) -> None:
    assert list(support.functions(template)) == [FUNCTION]
    assert fn["Runtime"] == "provided.al2023"
    assert fn["Architectures"] == ["arm64"]
    assert fn["Handler"] == {"Ref": "ShellHandler"}
    handler = template["Parameters"]["ShellHandler"]
    assert handler["Default"] == "health.run"
    assert sorted(handler["AllowedValues"]) == sorted(f"{h}.run" for h in example_handlers())
    for name in example_handlers():  # each choice names a function its file defines
        assert re.search(r"^run\(\) \{", (EXAMPLES / f"{name}.sh").read_text(encoding="utf-8"), re.M), name
    # CodeUri is relative to the template: it must be what deploy/build.py writes.
    assert (TEMPLATE.parent / fn["CodeUri"]).resolve() == ROOT / "build" / "shell" / "function"


def test_the_function_uses_the_bootstrap_and_jq_layers_and_needs_no_python(template: dict, fn: dict) -> None:
    resources = template["Resources"]
    layers = fn["Layers"]
    assert layers[:2] == [{"Ref": "ShellBootstrapLayer"}, {"Ref": "ShellJqLayer"}]
    assert len(layers) == 3  # and the secrets extension, when a token is configured
    assert "PythonLayerArn" not in template["Parameters"]  # the bash bootstrap runs on the image as shipped
    for name, folder in (("ShellBootstrapLayer", "bootstrap-layer"), ("ShellJqLayer", "jq-layer")):
        layer = resources[name]
        assert layer["Type"] == "AWS::Serverless::LayerVersion"
        props = layer["Properties"]
        assert props["CompatibleRuntimes"] == ["provided.al2023"]
        assert props["CompatibleArchitectures"] == ["arm64"]
        assert (TEMPLATE.parent / props["ContentUri"]).resolve() == ROOT / "build" / "shell" / folder
    assert "bash and coreutils" in template["Description"]


def test_function_url_auth_type_comes_from_a_parameter_defaulting_to_iam(template: dict, fn: dict) -> None:
    url = fn["FunctionUrlConfig"]
    assert url["AuthType"] == {"Ref": "FunctionUrlAuthType"}
    p = template["Parameters"]["FunctionUrlAuthType"]
    assert sorted(p["AllowedValues"]) == ["AWS_IAM", "NONE"] and p["Default"] == "AWS_IAM"
    assert url["Cors"]["AllowOrigins"] == [{"Ref": "CorsAllowOrigin"}]
    assert set(url["Cors"]["AllowMethods"]) == {"GET", "POST"}
    assert fn["AutoPublishAlias"] == "live"  # SAM puts the URL on the alias
    assert template["Outputs"]["FunctionUrl"]["Value"] == {"Fn::GetAtt": ["ShellFunctionUrl", "FunctionUrl"]}


def test_a_public_url_is_granted_only_when_auth_type_is_none_and_only_on_the_alias(template: dict) -> None:
    assert template["Conditions"]["IsPublicUrl"] == {"Fn::Equals": [{"Ref": "FunctionUrlAuthType"}, "NONE"]}
    perms = {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::Lambda::Permission"}
    assert {r["Condition"] for r in perms.values()} == {"IsPublicUrl"}
    props = sorted((r["Properties"] for r in perms.values()), key=lambda p: p["Action"])
    assert [p["Action"] for p in props] == ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]
    assert all(p["FunctionName"] == {"Ref": f"{FUNCTION}.Alias"} and p["Principal"] == "*" for p in props)
    assert props[0]["InvokedViaFunctionUrl"] is True  # plain Invoke only through the URL
    assert props[1]["FunctionUrlAuthType"] == "NONE"


def test_the_token_is_read_from_secrets_manager_at_run_time_never_put_in_the_configuration(template: dict,
                                                                                          fn: dict) -> None:  # fmt: skip
    env = fn["Environment"]["Variables"]
    assert env["GITHUB_API_URL"] == {"Ref": "GitHubApiUrl"}
    assert template["Parameters"]["GitHubApiUrl"]["Default"] == "https://api.github.com"
    assert "GITHUB_TOKEN" not in env and "resolve:secretsmanager" not in json.dumps(template)
    assert env["GITHUB_TOKEN_SECRET"] == {"Fn::If": ["HasGitHubToken", {"Ref": "GitHubTokenSecretName"},
                                                     {"Ref": "AWS::NoValue"}]}  # fmt: skip
    # ...through AWS's secrets extension, a layer given with the secret (a rule insists on both)...
    assert {"Fn::If": ["HasSecretsExtension", {"Ref": "SecretsExtensionLayerArn"}, {"Ref": "AWS::NoValue"}]} in fn["Layers"]
    rule = template["Rules"]["TokenNeedsTheSecretsExtension"]
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "SecretsExtensionLayerArn"}, ""]}]}
    # ...with GetSecretValue on that one secret only, and only when there is one.
    policy = next(p for p in template["Resources"]["ShellFunctionRole"]["Properties"]["Policies"] if "Fn::If" in p)
    cond, grant, absent = policy["Fn::If"]
    assert cond == "HasGitHubToken" and absent == {"Ref": "AWS::NoValue"}
    (statement,) = grant["PolicyDocument"]["Statement"]
    assert statement["Action"] == "secretsmanager:GetSecretValue"
    assert statement["Resource"]["Fn::Sub"].endswith(":secret:${GitHubTokenSecretName}-??????")
    # No parameter carries the token itself.
    assert not [k for k in template["Parameters"] if "token" in k.lower() and "Secret" not in k]
    name = template["Parameters"]["GitHubTokenSecretName"]
    assert name["Default"] == "" and re.fullmatch(name["AllowedPattern"], "/shell/github-token")
    assert not re.fullmatch(name["AllowedPattern"], "x}}{{resolve:ssm:y")


def test_any_change_publishes_a_version_so_a_new_layer_reaches_live(fn: dict) -> None:
    assert fn["AutoPublishAlias"] == "live" and fn["AutoPublishAliasAllProperties"] is True


def test_logs_go_to_the_stack_log_group_with_retention_and_the_role_allows_nothing_else(
    template: dict, fn: dict
) -> None:
    resources = template["Resources"]
    assert fn["LoggingConfig"]["LogGroup"] == {"Ref": "ShellLogGroup"}
    group = resources["ShellLogGroup"]["Properties"]
    assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}
    assert fn["Role"] == {"Fn::GetAtt": ["ShellFunctionRole", "Arn"]}
    role = resources["ShellFunctionRole"]["Properties"]
    assert "ManagedPolicyArns" not in role
    statements = [s for p in role["Policies"] if "PolicyDocument" in p for s in p["PolicyDocument"]["Statement"]]
    assert [sorted(s["Action"]) for s in statements] == [["logs:CreateLogStream", "logs:PutLogEvents"]]
    assert "${ShellLogGroup}" in statements[0]["Resource"]["Fn::Sub"]


# ------------------------------------------------------------------ what tests/deploy/test_templates.py checks


def test_has_the_environment_parameter(templates: dict) -> None:
    release.test_each_template_has_an_environment_parameter(templates, "shell")


@pytest.mark.parametrize("environment", support.ENVIRONMENTS)
def test_published_through_live_with_the_environments_canary(templates: dict, environment: str) -> None:
    release.test_every_function_is_published_through_live_with_the_environments_canary(
        templates, "shell", FUNCTION, environment)


def test_the_deployment_lists_its_three_alarms_on_the_alias(templates: dict) -> None:
    release.test_each_deployment_lists_exactly_its_functions_three_alarms(templates, "shell", FUNCTION)


@pytest.mark.parametrize("kind", ["errors", "throttles"])
def test_one_error_or_throttle_fires_the_alarm(templates: dict, kind: str) -> None:
    release.test_one_error_or_throttle_in_a_minute_fires_the_alarm(templates, "shell", FUNCTION, kind)


def test_the_duration_alarm_fires_before_the_timeout(templates: dict) -> None:
    release.test_the_duration_alarm_fires_before_the_timeout_and_not_on_ordinary_runs(templates, "shell", FUNCTION)


def test_nothing_invokes_the_function_around_its_alias(templates: dict) -> None:
    release.test_nothing_invokes_a_function_around_its_alias(templates, "shell")


@pytest.mark.parametrize("environment", support.ENVIRONMENTS)
def test_params_files_cover_the_template(templates: dict, environment: str) -> None:
    release.test_params_files_cover_the_template_with_valid_values(templates, "shell", environment)


def test_both_environments_set_the_same_parameters() -> None:
    release.test_both_environments_set_the_same_parameters("shell")
