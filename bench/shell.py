"""Shell runtime: cold start (the emulator spawns the bootstrap → first response posted) and warm
per-invocation latency of the `health` example, for our Python bootstrap beside a bash + curl
bootstrap (bench/bash_bootstrap.sh, the AWS tutorial's approach), measured in the same run.

    uv run python bench/shell.py [--runs 20] [--warm 200]
"""

from __future__ import annotations

import argparse
import os
import statistics
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warm", type=int, default=200)
    args = ap.parse_args()
    ours = measure("python", [PYTHON, "-S", str(ROOT / "lambdasmith" / "shell" / "runtime" / "bootstrap")], args.runs, args.warm)
    bash = measure("bash", ["bash", str(ROOT / "bench" / "bash_bootstrap.sh")], args.runs, args.warm)
    print(f"\nshell runtime, `health` example behind the Runtime API emulator; cold: median of {args.runs} fresh "
          f"bootstraps (spawn → first response posted), warm: median of {args.warm} invocations\n")
    print("| bootstrap | cold ms | warm ms per invocation |\n|---|---:|---:|")
    print(f"| lambdasmith (Python stdlib, one kept-alive connection) | {ours[0]:.1f} | {ours[1]:.2f} |")
    print(f"| bash + curl (AWS tutorial approach) | {bash[0]:.1f} | {bash[1]:.2f} |")
    print(f"\ncold: ours / bash = {ours[0] / bash[0]:.2f} (goal ≤ 1); warm: ours / bash = {ours[1] / bash[1]:.2f} (goal ≤ 0.5)")
    size = (ROOT / "lambdasmith" / "shell" / "runtime" / "bootstrap").stat().st_size
    print(f"bootstrap file: {size} bytes")


if __name__ == "__main__":
    main()
