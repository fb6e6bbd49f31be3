"""Cold start first: a handler module's import path is the standard library and lambdasmith only."""

import json
import subprocess
import sys

import pytest

from lambdasmith.services import python_functions

# Every Python handler module of the service manifests (badges.app, wardrobe.api, wardrobe.worker, items.app).
HANDLERS = sorted({fn.module for fn in python_functions().values()})
# Kit modules no handler imports yet, held to the same rule so that any handler may.
KIT_MODULES = ["lambdasmith.kit.aws.sigv4_verify", "lambdasmith.kit.auth.rsa", "lambdasmith.kit.auth.oidc"]

PROBE = r"""
import json, sys, sysconfig
before = set(sys.modules)
import importlib
importlib.import_module(sys.argv[1])
std = sysconfig.get_paths()["stdlib"]
loaded = sorted(set(sys.modules) - before)
foreign = []
for name in loaded:
    mod = sys.modules.get(name)
    top = name.split(".")[0]
    path = getattr(mod, "__file__", None) or ""
    if top == "lambdasmith" or not path or path.startswith(std) and "site-packages" not in path:
        continue
    foreign.append(name)
print(json.dumps({"foreign": foreign, "loaded": loaded}))
"""


def probe(module: str) -> dict:
    out = subprocess.run([sys.executable, "-c", PROBE, module], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize("module", HANDLERS + KIT_MODULES)
def test_handler_imports_only_stdlib_and_lambdasmith(module):
    result = probe(module)
    assert result["foreign"] == [], f"{module} loads third-party modules: {result['foreign']}"


@pytest.mark.parametrize("module", HANDLERS + KIT_MODULES)
def test_handler_does_not_import_heavy_stdlib_modules_eagerly(module):
    # Each of these costs a cold start milliseconds on its own (bench/coldstart.py); the network
    # and storage ones load when a request first needs them, the rest never on the handler path.
    heavy = {
        "ssl",
        "http.client",
        "sqlite3",
        "socket",
        "xml.etree.ElementTree",
        "typing",
        "dataclasses",
        "email",
        "urllib.parse",
        "inspect",
        "asyncio",
        "logging",
        "uuid",
        "decimal",
    }
    assert not heavy & set(probe(module)["loaded"])


def test_the_guard_catches_a_third_party_import(tmp_path):
    # The probe itself must be able to fail: a module that imports pytest is flagged.
    (tmp_path / "leaky_handler.py").write_text("import pytest\n")
    out = subprocess.run(
        [sys.executable, "-c", PROBE, "leaky_handler"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert "pytest" in json.loads(out.stdout)["foreign"]
