"""Helpers of the deploy tests (tests/deploy/): the templates (load, cfn-lint, resolve a value),
deploy/build.py (load it, run it) and the probes that run built code alone."""

from __future__ import annotations

import ast
import importlib.util
import json
import operator
import os
import re
import subprocess
import sys
from pathlib import Path

import cfnlint.decode
from cfnlint.api import lint
from cfnlint.config import ManualArgs

ROOT = Path(__file__).resolve().parents[2]
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


def functions(template: dict) -> dict[str, dict]:
    return {n: r["Properties"] for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


def all_functions(templates: dict[str, dict]) -> list[tuple[str, str]]:
    return [(s, f) for s in SERVICES for f in functions(templates[s])]


FUNCTIONS = [("items", "ItemsFunction"), ("badges", "BadgesFunction"), ("wardrobe", "ApiFunction"),
             ("wardrobe", "WorkerFunction")]  # fmt: skip


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
    # Informational rules included; experimental ones (e.g. I4010's metadata blocks) are not.
    config = ManualArgs(include_checks=["I"], regions=["us-east-1", "eu-west-1"])
    return [str(m) for m in lint(text, config=config)]


# ------------------------------------------------------------------ deploy/build.py


def load_build_module():
    spec = importlib.util.spec_from_file_location("deploy_build", BUILD)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def run_build(out: Path, *service: str) -> str:
    done = subprocess.run([sys.executable, str(BUILD), *service, "--out", str(out)], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return done.stdout


# ------------------------------------------------------------------ running built code alone


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


# ------------------------------------------------------------------ reading templates


def props(resources: dict, name: str) -> dict:
    return resources[name]["Properties"]


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


def key_schema(schema: list[dict]) -> tuple[str, str]:
    keys = {k["KeyType"]: k["AttributeName"] for k in schema}
    return keys["HASH"], keys["RANGE"]


def params_file(service: str, environment: str) -> Path:
    return ROOT / "deploy" / service / f"params.{environment}.json"


EXAMPLES = ROOT / "lambdasmith" / "shell" / "examples"


def example_handlers() -> list[str]:
    return sorted(p.stem for p in EXAMPLES.glob("*.sh"))


def check_access_log(resources: dict, settings: dict, group: str, fields: set[str]) -> None:
    """An API stage's access log: JSON lines of `$context` values (at least `fields`) into the log
    group `group` of the same template, which keeps them LogRetentionDays."""
    import json

    assert settings["DestinationArn"] == {"Fn::GetAtt": [group, "Arn"]}
    values = json.loads(settings["Format"])  # valid JSON once API Gateway fills in the $context values
    assert fields <= set(values) and all(v.startswith("$context.") for v in values.values())
    assert resources[group]["Type"] == "AWS::Logs::LogGroup"
    assert resources[group]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}
