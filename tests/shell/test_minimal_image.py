"""The default bootstrap on exactly what provided.al2023 ships: a PATH that holds only bash and
coreutils (no python, no curl, no jq), behind the Runtime API emulator."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from lambdasmith.local.function_urls import BOOTSTRAP
from lambdasmith.local.runtime_api import RuntimeEmulator

HANDLER = r"""
run() {
  local event
  event=$(cat)
  case $event in
    *fail*) echo "it failed: \"quoted\" \\ back" >&2; exit 3 ;;
    *slow*) sleep 30 ;;
    *tools*) printf '{"python":"%s","curl":"%s","jq":"%s"}' "$(command -v python3)" "$(command -v curl)" "$(command -v jq)" ;;
    *) printf '{"echo":%s,"pid":%d,"bytes":%d}' "$event" "$BASHPID" "$(printf %s "$event" | wc -c)" ;;
  esac
}
"""


def coreutils_binaries() -> list[Path]:
    listed = subprocess.run(["dpkg", "-L", "coreutils"], capture_output=True, text=True)
    if listed.returncode != 0:
        pytest.skip("no dpkg here to list coreutils' files")
    return [Path(p) for p in listed.stdout.split() if "/bin/" in p and os.access(p, os.X_OK) and Path(p).is_file()]


@pytest.fixture
def minimal_path(tmp_path: Path) -> str:
    """A directory of symlinks: bash and every coreutils program, nothing else."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in [Path(shutil.which("bash") or "/bin/bash"), *coreutils_binaries()]:
        link = bin_dir / program.name
        if not link.exists():
            link.symlink_to(program.resolve())
    assert not (bin_dir / "python3").exists() and not (bin_dir / "curl").exists()
    return str(bin_dir)


@pytest.fixture
def emu(tmp_path: Path, minimal_path: str):
    (tmp_path / "fn").mkdir()
    (tmp_path / "fn" / "handler.sh").write_text(HANDLER)
    with RuntimeEmulator("minimal", [str(BOOTSTRAP)], "handler.run", str(tmp_path / "fn"), env={"PATH": minimal_path},
                         timeout_s=2, log=lambda line: None) as emulator:  # fmt: skip
        yield emulator


def test_it_answers_with_only_bash_and_coreutils(emu):
    tools = json.loads(emu.invoke(b'"tools"').payload)
    assert tools == {"python": "", "curl": "", "jq": ""}  # none of them is there to lean on
    first = emu.invoke(b'{"n":1}')
    assert first.ok and json.loads(first.payload)["echo"] == {"n": 1}
    assert json.loads(first.payload)["bytes"] == 7


def test_errors_timeouts_and_a_healthy_environment_after_them(emu):
    failed = emu.invoke(b'"fail"')
    pid = emu.pid
    assert pid is not None and not failed.ok and failed.error_type == "Runtime.HandlerError"
    assert "it failed" in json.loads(failed.payload)["errorMessage"]  # escaped JSON, parsed back
    slow = emu.invoke(b'"slow"')
    assert not slow.ok and slow.error_type == "Runtime.Timeout"  # the bootstrap killed its handler itself
    after = emu.invoke(b'{"n":2}')
    assert after.ok and emu.pid == pid and after.init_duration_ms is None  # the same environment serves on


def test_a_binary_body_of_six_mib_round_trips(emu, tmp_path: Path):
    big = json.dumps("x" * (6 * 1024 * 1024 - 200)).encode()
    r = emu.invoke(big)
    assert r.ok and json.loads(r.payload)["bytes"] == len(big)
