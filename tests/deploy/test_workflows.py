""".github/workflows/release.yml, checked offline: its order, OIDC, the smoke tests against the
sample events, and its deploy, smoke, finish and rollback scripts, run here against stand-ins
for the `aws` and `sam` commands."""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from lambdasmith.services import python_functions
from tests.support.templates import (
    BUILD,
    RELEASE,
    ROOT,
    SERVICES,
    WORKFLOWS,
    as_list,
    functions,
    load_template,
    params_file,
    template_path,
)

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


def test_deploy_of_an_instant_update_does_not_wait_for_an_in_progress_it_never_sees(workflow: dict,
                                                                                   tmp_path: Path) -> None:  # fmt: skip
    stage = Stage(workflow, tmp_path)
    rc, out, calls = stage.run("deploy", [
        {"cmd": "sam", "out": [SAM_CREATED]},
        {"cmd": "cloudformation describe-change-set", "when": "ExecutionStatus", "out": ["AVAILABLE", "EXECUTE_COMPLETE"]},
        {"cmd": "cloudformation describe-change-set", "out": [""]},  # no alias moves
        {"cmd": "cloudformation describe-stacks", "out": ["UPDATE_COMPLETE"]},  # done before the first look
    ])  # fmt: skip
    assert rc == 0, out
    statuses = [c for c in calls_of(calls, "aws cloudformation describe-change-set") if "ExecutionStatus" in c]
    assert len(statuses) == 2  # started: no more polling
    assert len(calls_of(calls, "aws cloudformation describe-stacks")) == 1
    assert "UPDATE_COMPLETE" in out


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
    lock = re.search(rf'name = "{tool}"\nversion = "([^"]+)"', (ROOT / "uv.lock").read_text())
    assert lock, f"{tool} is not in uv.lock"
    runs_of = [s["run"] for s in workflow["jobs"]["lint"]["steps"] if tool in s.get("run", "")]
    assert runs_of and all(f"{tool}=={lock.group(1)}" in r for r in runs_of)
