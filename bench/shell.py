"""Shell runtime: cold start (the emulator spawns the bootstrap → first response posted) and warm
per-invocation latency of the `health` example, for our bash bootstrap (the default) and our
Python one beside a bash + curl bootstrap (bench/bash_bootstrap.sh, the AWS tutorial's approach)
and a minimal Go bootstrap (bench/go_bootstrap), measured in the same run.

    uv run python bench/shell.py [--runs 20] [--warm 200]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lambdasmith.local.apigw import v2_event  # noqa: E402
from lambdasmith.local.runtime_api import RuntimeEmulator  # noqa: E402

EXAMPLES = ROOT / "lambdasmith" / "shell" / "examples"
# The bootstrap's shebang runs `python3 -S`; name the interpreter itself (a venv or pyenv shim in
# front of it would be measured too). Debian's, where there is one: it is what a layer would ship.
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else os.path.join(sys.base_prefix, "bin", "python3")


def measure(name: str, bootstrap: list[str], runs: int, warm: int) -> tuple[float, float]:
    """(median cold ms, median warm ms) for the health example behind `bootstrap`."""
    event = v2_event("GET", "/", [("User-Agent", "bench")], b"")
    import json

    payload = json.dumps(event).encode()
    colds, warms = [], []
    for i in range(runs):
        emu = RuntimeEmulator(f"health-{name}", bootstrap, "health.run", str(EXAMPLES), timeout_s=10, log=lambda line: None)
        try:
            t = time.perf_counter()
            first = emu.invoke(payload)
            colds.append((time.perf_counter() - t) * 1000)
            assert first.ok, first.payload
            if i == 0:
                for _ in range(warm):
                    t = time.perf_counter()
                    assert emu.invoke(payload).ok
                    warms.append((time.perf_counter() - t) * 1000)
        finally:
            emu.close()
    return statistics.median(colds), statistics.median(warms)


def go_bootstrap() -> list[str] | None:
    """bench/go_bootstrap built with Debian's Go into .cache/bench (None, with a note, without Go)."""
    go = shutil.which("go")
    if go is None:
        print("no `go` on PATH (make bench-tools installs golang-go): the Go bootstrap is not measured")
        return None
    out = ROOT / ".cache" / "bench" / "go_bootstrap"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOCACHE": str(ROOT / ".cache" / "go-build"), "GOFLAGS": "-mod=mod", "CGO_ENABLED": "0"}
    subprocess.run([go, "build", "-o", str(out), "."], cwd=ROOT / "bench" / "go_bootstrap", env=env, check=True)
    return [str(out)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warm", type=int, default=200)
    args = ap.parse_args()
    runtime = ROOT / "lambdasmith" / "shell" / "runtime"
    rows = [("lambdasmith bash bootstrap (default: bash + coreutils, one kept-alive /dev/tcp connection)",
             measure("bash", [str(runtime / "bootstrap")], args.runs, args.warm)),
            ("lambdasmith Python bootstrap (bootstrap.py, stdlib, one kept-alive connection)",
             measure("python", [PYTHON, "-S", str(runtime / "bootstrap.py")], args.runs, args.warm)),
            ("bash + curl (AWS tutorial approach)",
             measure("tutorial", ["bash", str(ROOT / "bench" / "bash_bootstrap.sh")], args.runs, args.warm))]
    go = go_bootstrap()
    if go is not None:
        rows.append(("Go (net/http, bash -c per invocation; bench/go_bootstrap)", measure("go", go, args.runs, args.warm)))
    print(f"\nshell runtime, `health` example behind the Runtime API emulator; cold: median of {args.runs} fresh "
          f"bootstraps (spawn → first response posted), warm: median of {args.warm} invocations\n")
    print("| bootstrap | cold ms | warm ms per invocation |\n|---|---:|---:|")
    for name, (cold, warm) in rows:
        print(f"| {name} | {cold:.1f} | {warm:.2f} |")
    ours = rows[0][1]
    if go is not None:
        peer = rows[-1][1]
        print(f"\nvs Go: cold {ours[0] / peer[0]:.2f}× (goal ≤ 1.5), warm {ours[1] / peer[1]:.2f}× (goal ≤ 1)")
    tutorial = rows[2][1]
    print(f"vs bash + curl: cold {ours[0] / tutorial[0]:.2f}×, warm {ours[1] / tutorial[1]:.2f}×")


if __name__ == "__main__":
    main()
