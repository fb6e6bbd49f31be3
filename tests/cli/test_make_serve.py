"""`make serve` installs only what serving needs, into its own environment, and honours PORT/HOST."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib

from tests.cli.support import ROOT

DEV_ONLY = {"boto3", "botocore", "moto", "cfn-lint", "awscli", "pytest"}


def runtime_closure() -> set[str]:
    """The packages `uv sync --frozen --no-dev` installs: lambdasmith's own dependencies in
    uv.lock, followed transitively (without the dev group or any extra)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    packages = {p["name"]: p for p in lock["package"]}
    todo, seen = ["lambdasmith"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(dep["name"] for dep in packages[name].get("dependencies", []))
    return seen


def test_serving_needs_no_test_toolchain():
    closure = runtime_closure()
    assert {"granian", "lambdasmith"} <= closure  # what serve does need is there
    assert not closure & DEV_ONLY, closure & DEV_ONLY


UV = shutil.which("true") or "/bin/true"  # any existing file: `make -n` only prints the commands


def make_n(*args: str) -> str:
    r = subprocess.run(["make", "-n", "-B", "serve", f"UV={UV}", *args], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "PORT": "", "HOST": ""})  # fmt: skip
    return (r.stdout + r.stderr).replace(UV, "uv")


def test_make_serve_uses_its_own_environment_without_dev_tools():
    out = make_n()
    assert "UV_PROJECT_ENVIRONMENT=.venv-serve uv sync --frozen --no-dev" in out
    assert "UV_PROJECT_ENVIRONMENT=.venv-serve uv run --frozen --no-dev --no-sync lambdasmith serve" in out
    assert ".venv " not in out.replace(".venv-serve", "")  # the test environment is left alone


def test_make_serve_passes_port_and_host():
    assert "lambdasmith serve --port 9000 --host 0.0.0.0" in make_n("PORT=9000", "HOST=0.0.0.0")
    assert "--port" not in make_n() and "--host" not in make_n()  # unset: serve's own defaults
