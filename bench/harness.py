"""What every cold-start benchmark shares: a fresh process per run that imports a handler and
answers events, timed from outside, beside bare Python measured in the same run.

Bytecode is compiled first for every contender, as a deployment package ships it. Each process
ends with os._exit right after answering (bare Python too): a Lambda instance stays up after its
first response, so interpreter teardown is not part of a cold start.
"""

from __future__ import annotations

import compileall
import json
import site
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time, types
t0 = time.perf_counter()
module, events = sys.argv[1], json.loads(sys.argv[2])
mod = __import__(module, fromlist=["handler"])
ctx = types.SimpleNamespace(function_name="bench", memory_limit_in_mb=128, aws_request_id="r",
                            invoked_function_arn="arn:aws:lambda:us-east-1:000000000000:function:bench")
t1 = time.perf_counter()
for event in events:
    result = mod.handler(event, ctx)
    assert isinstance(result, dict) and result.get("statusCode", 200) < 400 and not result.get("batchItemFailures"), result
t2 = time.perf_counter()
sys.stderr.write(json.dumps({"import_ms": (t1 - t0) * 1e3, "requests_ms": (t2 - t1) * 1e3}) + "\n")
sys.stderr.flush()
import os
os._exit(0)
"""


def compile_everything() -> None:
    for d in [str(ROOT / "lambdasmith"), str(ROOT / "bench"), *site.getsitepackages()]:
        compileall.compile_dir(d, quiet=2, workers=0)


def run(cmd: list[str] | Callable[[int], list[str]], env: dict[str, str], runs: int) -> tuple[float, dict[str, float]]:
    """Median wall time (ms) of `runs` fresh processes, and the medians they report themselves.
    `cmd` may be a function of the run number, for events that must differ between runs."""
    walls, inner = [], []
    for i in range(runs):
        argv = cmd(i) if callable(cmd) else cmd
        t = time.perf_counter()
        p = subprocess.run(argv, env=env, capture_output=True, text=True)
        walls.append((time.perf_counter() - t) * 1e3)
        if p.returncode != 0:
            raise SystemExit(f"{argv[:3]} failed:\n{p.stderr[-2000:]}")
        lines = [line for line in p.stderr.splitlines() if line.startswith('{"import_ms"')]
        if lines:
            inner.append(json.loads(lines[-1]))
    parts = {k: statistics.median(x[k] for x in inner) for k in inner[0]} if inner else {}
    return statistics.median(walls), parts


def bare(env: dict[str, str], runs: int) -> float:
    return run([sys.executable, "-c", "import os; os._exit(0)"], env, runs)[0]


def handler_run(module: str, events: list[dict] | Callable[[int], list[dict]], env: dict[str, str],
                runs: int) -> tuple[float, dict[str, float]]:  # fmt: skip
    def argv(i: int) -> list[str]:
        return [sys.executable, "-c", CHILD, module, json.dumps(events(i) if callable(events) else events)]

    return run(argv, env, runs)


def table(title: str, rows: list, bare_ms: float) -> None:
    print(f"\n{title}\n")
    print(f"| {'contender':<40} | {'wall ms':>8} | {'over bare ms':>12} | {'import ms':>9} | {'requests ms':>11} |")
    print(f"|{'-' * 42}|{'-' * 9}:|{'-' * 13}:|{'-' * 10}:|{'-' * 12}:|")
    print(f"| {'bare python (start, exit)':<40} | {bare_ms:>8.1f} | {0:>12.1f} | {'':>9} | {'':>11} |")
    for name, wall, parts in rows:
        imp = f"{parts['import_ms']:.1f}" if parts else ""
        req = f"{parts['requests_ms']:.1f}" if parts else ""
        print(f"| {name:<40} | {wall:>8.1f} | {wall - bare_ms:>12.1f} | {imp:>9} | {req:>11} |")
