"""Packaging of the bash runtime, checked offline: deploy/build.py's shell artifacts (function zip,
bootstrap layer, jq layer; deterministic, modes kept) and deploy/shell/template.yaml (cfn-lint,
provided.al2023 on arm64, the layers, the Function URL, the environment, least privilege, and the
release checks every other service's functions get: live alias, canary, three alarms, params)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import tests.test_release as release

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "deploy" / "build.py"
TEMPLATE = ROOT / "deploy" / "shell" / "template.yaml"
EXAMPLES = ROOT / "lambdasmith" / "shell" / "examples"
FUNCTION = "ShellFunction"


def load_build_module():
    spec = importlib.util.spec_from_file_location("deploy_build_shell", BUILD)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def template() -> dict:
    return release.load_template("shell")


@pytest.fixture(scope="module")
def templates(template: dict) -> dict[str, dict]:
    return {"shell": template}


@pytest.fixture(scope="module")
def fn(template: dict) -> dict:
    return release.functions(template)[FUNCTION]


def example_handlers() -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.sh"))


# ------------------------------------------------------------------ the template


def test_cfn_lint_reports_nothing() -> None:
    assert release.cfn_lint(TEMPLATE.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("Action: lambda:InvokeFunctionUrl", "Action: lambda:Invoke Url", "lambda:Invoke Url"),
    ("RetentionInDays: !Ref LogRetentionDays", "RetentionInDays: 2", "2"),
    ("Period: 60", "Period: 61", "61"),
])  # fmt: skip
def test_cfn_lint_catches_a_broken_template(old: str, new: str, expected: str) -> None:
    text = TEMPLATE.read_text(encoding="utf-8")
    assert old in text
    assert any(expected in m for m in release.cfn_lint(text.replace(old, new, 1)))


def test_the_only_function_runs_a_chosen_example_on_provided_al2023_arm64(template: dict, fn: dict) -> None:
    assert list(release.functions(template)) == [FUNCTION]
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


def test_the_function_uses_the_bootstrap_and_jq_layers_and_an_optional_python_layer(template: dict, fn: dict) -> None:
    resources = template["Resources"]
    layers = fn["Layers"]
    assert layers[:2] == [{"Ref": "ShellBootstrapLayer"}, {"Ref": "ShellJqLayer"}]
    assert layers[2] == {"Fn::If": ["HasPythonLayer", {"Ref": "PythonLayerArn"}, {"Ref": "AWS::NoValue"}]}
    assert template["Conditions"]["HasPythonLayer"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "PythonLayerArn"}, ""]}]}
    python = template["Parameters"]["PythonLayerArn"]
    assert python["Default"] == ""
    pattern = python["AllowedPattern"]
    assert re.fullmatch(pattern, "") and re.fullmatch(pattern, "arn:aws:lambda:eu-west-1:123456789012:layer:py:3")
    assert not re.fullmatch(pattern, "python3")
    for name, folder in (("ShellBootstrapLayer", "bootstrap-layer"), ("ShellJqLayer", "jq-layer")):
        layer = resources[name]
        assert layer["Type"] == "AWS::Serverless::LayerVersion"
        props = layer["Properties"]
        assert props["CompatibleRuntimes"] == ["provided.al2023"]
        assert props["CompatibleArchitectures"] == ["arm64"]
        assert (TEMPLATE.parent / props["ContentUri"]).resolve() == ROOT / "build" / "shell" / folder
    assert "python3" in template["Description"] and "PythonLayerArn" in template["Description"]


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


def test_environment_has_the_api_url_and_the_token_from_secrets_manager(template: dict, fn: dict) -> None:
    env = fn["Environment"]["Variables"]
    assert env["GITHUB_API_URL"] == {"Ref": "GitHubApiUrl"}
    assert template["Parameters"]["GitHubApiUrl"]["Default"] == "https://api.github.com"
    cond, secret, absent = env["GITHUB_TOKEN"]["Fn::If"]
    assert cond == "HasGitHubToken" and absent == {"Ref": "AWS::NoValue"}
    assert secret == {"Fn::Sub": "{{resolve:secretsmanager:${GitHubTokenSecretName}:SecretString}}"}
    # No parameter carries the token itself.
    assert not [k for k in template["Parameters"] if "token" in k.lower() and "Secret" not in k]
    name = template["Parameters"]["GitHubTokenSecretName"]
    assert name["Default"] == "" and re.fullmatch(name["AllowedPattern"], "/shell/github-token")
    assert not re.fullmatch(name["AllowedPattern"], "x}}{{resolve:ssm:y")


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
    statements = [s for p in role["Policies"] for s in p["PolicyDocument"]["Statement"]]
    assert [sorted(s["Action"]) for s in statements] == [["logs:CreateLogStream", "logs:PutLogEvents"]]
    assert "${ShellLogGroup}" in statements[0]["Resource"]["Fn::Sub"]


# ------------------------------------------------------------------ what tests/test_release.py checks


def test_has_the_environment_parameter(templates: dict) -> None:
    release.test_each_template_has_an_environment_parameter(templates, "shell")


@pytest.mark.parametrize("environment", release.ENVIRONMENTS)
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


@pytest.mark.parametrize("environment", release.ENVIRONMENTS)
def test_params_files_cover_the_template(templates: dict, environment: str) -> None:
    release.test_params_files_cover_the_template_with_valid_values(templates, "shell", environment)


def test_both_environments_set_the_same_parameters() -> None:
    release.test_both_environments_set_the_same_parameters("shell")


# ------------------------------------------------------------------ the build


def snapshot(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "lambdasmith" / "shell", src / "lambdasmith" / "shell",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    return src


def fake_elf(path: Path, machine: int) -> Path:
    """A file with an ELF header for `machine` (0xB7 aarch64, 0x3E x86-64), little-endian."""
    path.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(11) + machine.to_bytes(2, "little") + b"rest of jq")
    return path


def mode(zf: zipfile.ZipFile, name: str) -> int:
    return zf.getinfo(name).external_attr >> 16


def test_build_makes_three_deterministic_zips(tmp_path: Path) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    jq = fake_elf(tmp_path / "jq", 0xB7)
    first = b.build_shell(tmp_path / "one", src_root=src, jq=str(jq))
    second = b.build_shell(tmp_path / "two", src_root=src, jq=str(jq))
    assert sorted(first["zips"]) == ["bootstrap-layer", "function", "jq-layer"]
    for kind, path in first["zips"].items():
        assert path.read_bytes() == second["zips"][kind].read_bytes(), kind
    assert first["zips"]["function"].name == "shell-function.zip"
    assert first["zips"]["bootstrap-layer"].name == "shell-bootstrap-layer.zip"
    assert first["zips"]["jq-layer"].name == "shell-jq-layer.zip"
    assert "aarch64" in first["jq"] and "NOT" not in first["jq"]


def test_the_bootstrap_layer_holds_the_executable_bootstrap_at_its_root(tmp_path: Path) -> None:
    r = load_build_module().build_shell(tmp_path, src_root=snapshot(tmp_path), jq="")
    with zipfile.ZipFile(r["zips"]["bootstrap-layer"]) as zf:
        assert zf.namelist() == ["bootstrap"]
        assert stat.S_ISREG(mode(zf, "bootstrap")) and stat.S_IMODE(mode(zf, "bootstrap")) == 0o755
        assert zf.read("bootstrap") == (ROOT / "lambdasmith/shell/runtime/bootstrap").read_bytes()
    assert r["bootstrap_size"] == (ROOT / "lambdasmith/shell/runtime/bootstrap").stat().st_size
    assert r["bootstrap_size"] < 64 * 1024


def test_the_function_zip_holds_the_handlers_and_helpers_at_its_root_and_nothing_else(tmp_path: Path) -> None:
    src = snapshot(tmp_path)
    (src / "lambdasmith/shell/examples/notes.txt").write_text("not a handler")
    r = load_build_module().build_shell(tmp_path, src_root=src, jq="")
    with zipfile.ZipFile(r["zips"]["function"]) as zf:
        names = zf.namelist()
        assert names == sorted([f"{h}.sh" for h in example_handlers()] + ["helpers.sh"])
        assert all(stat.S_IMODE(mode(zf, n)) == 0o644 for n in names)
        assert zf.read("helpers.sh") == (ROOT / "lambdasmith/shell/runtime/helpers.sh").read_bytes()
    on_disk = sorted(p.relative_to(r["dir"] / "function").as_posix() for p in (r["dir"] / "function").rglob("*"))
    assert on_disk == names  # the CodeUri directory is the zip


def test_the_jq_layer_puts_an_executable_jq_in_bin_and_flags_a_wrong_architecture(tmp_path: Path) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    r = b.build_shell(tmp_path / "out", src_root=src, jq=str(fake_elf(tmp_path / "jq", 0x3E)))
    with zipfile.ZipFile(r["zips"]["jq-layer"]) as zf:
        assert zf.namelist() == ["bin/jq"]
        assert stat.S_IMODE(mode(zf, "bin/jq")) == 0o755
        assert zf.read("bin/jq") == (tmp_path / "jq").read_bytes()
    assert "x86-64" in r["jq"] and "NOT arm64" in r["jq"]
    assert b.elf_machine(tmp_path / "jq") == "x86-64"
    assert b.elf_machine(BUILD) == "not ELF"


def test_without_jq_the_jq_layer_is_skipped_and_a_stale_one_removed(tmp_path: Path) -> None:
    b = load_build_module()
    src = snapshot(tmp_path)
    b.build_shell(tmp_path, src_root=src, jq=str(fake_elf(tmp_path / "jq", 0xB7)))
    assert (tmp_path / "shell-jq-layer.zip").is_file()
    r = b.build_shell(tmp_path, src_root=src, jq=str(tmp_path / "missing-jq"))
    assert sorted(r["zips"]) == ["bootstrap-layer", "function"]
    assert "skipped" in r["jq"]
    assert not (tmp_path / "shell-jq-layer.zip").exists() and not (tmp_path / "shell" / "jq-layer").exists()


def test_the_command_builds_shell_prints_sizes_and_skips_a_missing_jq(tmp_path: Path) -> None:
    bare = tmp_path / "bin"  # a PATH without jq
    bare.mkdir()
    done = subprocess.run([sys.executable, str(BUILD), "shell", "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, check=True, env={"PATH": str(bare)})  # fmt: skip
    out = done.stdout
    assert re.search(r"bootstrap \d+\.\d KB", out)
    assert re.search(r"shell-function\.zip: \d+\.\d KB", out)
    assert re.search(r"shell-bootstrap-layer\.zip: \d+\.\d KB", out)
    assert "jq layer: skipped" in out and "shell-jq-layer.zip" not in out
    assert not (tmp_path / "out" / "badges.zip").exists()  # only the shell


@pytest.mark.skipif(shutil.which("jq") is None, reason="no jq on this machine")
def test_all_builds_the_shell_with_this_machines_jq_and_keeps_the_others_modes(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BUILD), "all", "--out", str(tmp_path)],
                          capture_output=True, text=True, check=True)  # fmt: skip
    for name in ("shell-function", "shell-bootstrap-layer", "shell-jq-layer", "badges", "items", "wardrobe"):
        assert (tmp_path / f"{name}.zip").is_file() and f"{name}.zip: " in done.stdout, name
    with zipfile.ZipFile(tmp_path / "shell-jq-layer.zip") as zf:
        assert zf.read("bin/jq") == Path(shutil.which("jq")).read_bytes()
    for name in ("badges", "items", "wardrobe"):  # the Python services' zips are as before: 0o644 only
        with zipfile.ZipFile(tmp_path / f"{name}.zip") as zf:
            assert {i.external_attr >> 16 for i in zf.infolist()} == {0o100644}, name
