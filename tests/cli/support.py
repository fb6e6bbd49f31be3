"""Running `python -m lambdasmith …` as a user would: a subprocess with a clean environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Variables a developer's shell or CI may set that would change what a command does.
_FOREIGN = ("GITHUB_", "BADGES_", "RUNNER_", "LAMBDASMITH_", "AWS_", "XDG_RUNTIME_DIR")


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN)}
    env["LAMBDASMITH_RUNTIME_DIR"] = str(tmp / "runtime")  # no real `serve` registry leaks in
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(tmp / "no-aws-credentials")
    env["AWS_CONFIG_FILE"] = str(tmp / "no-aws-config")
    env.update(extra)
    return env


def run(*args: str, env: dict[str, str], cwd: Path | None = None, input: str | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:  # fmt: skip
    r = subprocess.run([sys.executable, "-m", "lambdasmith", *args], capture_output=True, text=True, env=env,
                       cwd=cwd, input=input, timeout=timeout)  # fmt: skip
    assert "Traceback" not in r.stderr, r.stderr
    return r
