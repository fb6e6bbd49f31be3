"""Items: cold start of the processor beside bare Python, and the local platform's overhead —
synchronous invocations per second through the Invoke API (`lambdasmith serve invoke`, one
keep-alive connection) beside calling the handler in-process, in the same run.

    uv run python bench/items.py [--runs 25] [--seconds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
import tempfile
import time
import types
import uuid
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import bare, compile_everything, handler_run, table  # noqa: E402
from tests.support.serving import Served  # noqa: E402


def create_event(tag: str) -> dict:
    return {"action": "create", "data": {"name": "Widget", "color": "red"}, "idempotencyKey": f"{tag}-{uuid.uuid4().hex}"}


def in_process(seconds: float) -> float:
    from lambdasmith.items.app import handler

    ctx = types.SimpleNamespace(aws_request_id=None, function_name="items")
    n, deadline = 0, time.perf_counter() + seconds
    with contextlib.redirect_stdout(io.StringIO()):
        while time.perf_counter() < deadline:
            assert handler(create_event("inproc"), ctx)["statusCode"] == 200
            n += 1
    return n / seconds


def over_invoke_api(url: str, seconds: float) -> float:
    host, port = url.removeprefix("http://").split(":")
    conn = HTTPConnection(host, int(port), timeout=30)
    n, deadline = 0, time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        conn.request("POST", "/2015-03-31/functions/items/invocations", body=json.dumps(create_event("api")))
        r = conn.getresponse()
        payload = r.read()
        assert r.status == 200 and not r.getheader("X-Amz-Function-Error"), payload
        n += 1
    conn.close()
    return n / seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=25)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    compile_everything()
    data_dir = tempfile.mkdtemp(prefix="bench-items-")
    env = {**os.environ, "LAMBDASMITH_DATA_DIR": data_dir, "PYTHONPATH": str(ROOT)}
    bare_ms = bare(env, args.runs)
    cold, parts = handler_run("lambdasmith.items.app", lambda i: [create_event(f"cold{i}")], env, args.runs)
    table(f"items cold start: fresh process, 1 create (embedded SQLite); median of {args.runs} runs",
          [("items handler: 1 create", cold, parts)], bare_ms)

    os.environ["LAMBDASMITH_DATA_DIR"] = tempfile.mkdtemp(prefix="bench-items-inproc-")
    direct = in_process(args.seconds)
    served = Served(tempfile.mkdtemp(prefix="bench-items-api-"), ["invoke"], {"PYTHONPATH": str(ROOT)}).start()
    try:
        api = over_invoke_api(served.urls["invoke"], args.seconds)
    finally:
        served.stop()
    print(f"\nsync invocations of `items` (create), {args.seconds:.0f} s each, same run\n")
    print("| path | invocations/s |\n|---|---:|")
    print(f"| handler called in-process | {direct:.0f} |")
    print(f"| Invoke API over one keep-alive connection | {api:.0f} |")
    print(f"\nplatform overhead per invocation: {1000 / api - 1000 / direct:.2f} ms "
          f"({api / direct:.0%} of in-process throughput)")


if __name__ == "__main__":
    main()
