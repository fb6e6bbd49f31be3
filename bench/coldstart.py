"""Cold start of the badges handler: a fresh process imports the handler and answers one
test-badge request (seeded SQLite) and one NuGet badge (local fake NuGet), beside bare Python
and beside the same two requests through Powertools' resolver + boto3 (bench/powertools_badges.py).

    make bench      (or: uv run python bench/coldstart.py --runs 30)

Bytecode is compiled first for every contender, as a deployment package ships it. Each process
ends with os._exit right after answering (bare Python too): a Lambda instance stays up after its
first response, so interpreter teardown is not part of a cold start.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lambdasmith.local.apigw import v2_event  # noqa: E402
from tests.fakes.upstreams import FakeNuGet  # noqa: E402

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
module, events = sys.argv[1], json.loads(sys.argv[2])
mod = __import__(module, fromlist=["handler"])
t1 = time.perf_counter()
for event in events:
    result = mod.handler(event, None)
    assert result["statusCode"] == 200, result
t2 = time.perf_counter()
sys.stderr.write(json.dumps({"import_ms": (t1 - t0) * 1e3, "requests_ms": (t2 - t1) * 1e3}) + "\n")
sys.stderr.flush()
import os
os._exit(0)  # a Lambda instance answers and stays up: interpreter teardown is not cold start
"""


class Ctx:  # Powertools' inject_lambda_context reads these
    pass


def seed(data_dir: str) -> None:
    from lambdasmith.badges.app import open_store
    from lambdasmith.badges.config import BadgesConfig
    from lambdasmith.badges.store import Repo

    store = open_store(BadgesConfig.from_env({**os.environ, "LAMBDASMITH_DATA_DIR": data_dir}))
    result = {"platform": "linux", "passed": 120, "failed": 0, "skipped": 3, "total": 123,
              "url_html": "https://ci.example/1", "timestamp": "2026-11-01T00:00:00.000Z", "commit": "abc",
              "run_id": "1", "workflow_run_url": "https://ci.example/1", "ReceivedAt": int(time.time())}
    store.record(Repo.of("linux", "acme", "widgets", "main"), "seed-nonce", result, "2026-11-01T00:00:00.000000Z")


def run(cmd: list[str], env: dict[str, str], runs: int) -> tuple[float, dict[str, float]]:
    walls, inner = [], []
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run(cmd, env=env, capture_output=True, text=True)
        walls.append((time.perf_counter() - t) * 1e3)
        if p.returncode != 0:
            raise SystemExit(f"{cmd[:3]} failed:\n{p.stderr[-2000:]}")
        lines = [l for l in p.stderr.splitlines() if l.startswith('{"import_ms"')]
        if lines:
            inner.append(json.loads(lines[-1]))
    parts = {k: statistics.median(x[k] for x in inner) for k in inner[0]} if inner else {}
    return statistics.median(walls), parts


def table(title: str, rows: list, bare: float) -> None:
    print(f"\n{title}\n")
    print(f"| {'contender':<34} | {'wall ms':>8} | {'over bare ms':>12} | {'import ms':>9} | {'requests ms':>11} |")
    print(f"|{'-' * 36}|{'-' * 9}:|{'-' * 13}:|{'-' * 10}:|{'-' * 12}:|")
    for name, wall, parts in rows:
        imp = f"{parts['import_ms']:.1f}" if parts else ""
        req = f"{parts['requests_ms']:.1f}" if parts else ""
        print(f"| {name:<34} | {wall:>8.1f} | {wall - bare:>12.1f} | {imp:>9} | {req:>11} |")


def dynamodb_rows(py: str, env: dict, runs: int, bare: float) -> None:
    """The badges handler on DynamoDB (DynamoDB Local on loopback): our client vs boto3."""
    from tests import aws_servers

    server = aws_servers.dynamodb_local().start()
    try:
        ddb_env = {**env, "AWS_ENDPOINT_URL_DYNAMODB": server.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                   "AWS_SECRET_ACCESS_KEY": "testing", "LAMBDASMITH_TABLE_BACKEND": "dynamodb",
                   "BADGES_RESULTS_TABLE": "bench-results", "BADGES_NONCES_TABLE": "bench-nonces",
                   "BADGES_ORGS_TABLE": "bench-orgs", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent"}
        saved = dict(os.environ)
        os.environ.update(ddb_env)
        try:
            from lambdasmith.badges.store import NONCES, ORGS, RESULTS
            from lambdasmith.kit.dynamodb_table import create_table

            for spec, name in ((RESULTS, "bench-results"), (NONCES, "bench-nonces"), (ORGS, "bench-orgs")):
                create_table(spec, name)
            seed(tempfile.mkdtemp(prefix="coldstart-ddb-"))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        ev = json.dumps([v2_event("GET", "/badges/tests/linux/acme/widgets/main", [("User-Agent", "bench")], b"")])
        ours, ours_parts = run([py, "-c", CHILD, "lambdasmith.badges.app", ev], ddb_env, runs)
        peer, peer_parts = run([py, "-c", CHILD, "boto3_badges", ev], ddb_env, runs)
    finally:
        server.stop()
    table(f"cold start on DynamoDB (DynamoDB Local on loopback): import + 1 test badge; median of {runs} runs",
          [("lambdasmith handler, our AWS client", ours, ours_parts), ("same request through boto3", peer, peer_parts)], bare)
    print(f"\noverhead over bare Python: ours {ours - bare:.1f} ms; boto3 {peer - bare:.1f} ms; "
          f"ratio {(peer - bare) / max(ours - bare, 0.1):.1f}× (goal ≥ 5×)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=25)
    ap.add_argument("--no-dynamodb", action="store_true", help="skip the DynamoDB Local row (needs Java)")
    args = ap.parse_args()

    import site

    for d in [str(ROOT / "lambdasmith"), str(ROOT / "bench"), *site.getsitepackages()]:
        compileall.compile_dir(d, quiet=2, workers=0)

    nuget = FakeNuGet({"Newtonsoft.Json": ["12.0.3", "13.0.1", "13.0.3", "14.0.0-preview.1"]}).start()
    data_dir = tempfile.mkdtemp(prefix="coldstart-")
    seed(data_dir)
    events = [
        v2_event("GET", "/badges/tests/linux/acme/widgets/main", [("User-Agent", "bench")], b""),
        v2_event("GET", "/badges/packages/nuget/Newtonsoft.Json", [("User-Agent", "bench")], b""),
    ]
    env = {**os.environ, "LAMBDASMITH_DATA_DIR": data_dir, "NUGET_BASE_URL": nuget.url,
           "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "POWERTOOLS_METRICS_NAMESPACE": "bench", "PYTHONPATH": str(ROOT / "bench") + os.pathsep + str(ROOT)}
    py = sys.executable
    ev = json.dumps(events)
    rows = []
    bare, _ = run([py, "-c", "import os; os._exit(0)"], env, args.runs)
    rows.append(("bare python (start, exit)", bare, {}))
    ours, ours_parts = run([py, "-c", CHILD, "lambdasmith.badges.app", ev], env, args.runs)
    rows.append(("lambdasmith badges handler", ours, ours_parts))
    peer, peer_parts = run([py, "-c", CHILD.replace("mod.handler(event, None)", "mod.handler(event, ctx)")
                            .replace("for event in events:", "import types\nctx = types.SimpleNamespace(function_name='f', memory_limit_in_mb=128, invoked_function_arn='arn', aws_request_id='r')\nfor event in events:"),
                            "powertools_badges", ev], env, args.runs)
    rows.append(("Powertools resolver + boto3", peer, peer_parts))
    nuget.stop()

    table(f"cold start: fresh process, import + 1 test badge (SQLite) + 1 NuGet badge (local fake); median of {args.runs} runs",
          rows, bare)
    ratio = (peer - bare) / max(ours - bare, 0.1)
    print(f"\noverhead over bare Python: ours {ours - bare:.1f} ms (goal ≤ 40 ms); Powertools + boto3 {peer - bare:.1f} ms")
    print(f"ratio: Powertools + boto3 overhead / ours = {ratio:.1f}× (goal ≥ 10×)")
    if not args.no_dynamodb:
        dynamodb_rows(py, env, args.runs, bare)
    zip_path = ROOT / "build" / "badges.zip"
    if zip_path.exists():
        print(f"\nfunction zip: {zip_path.stat().st_size / 1024:.0f} KB (make build) — BadgeSmith's is ~6 MB")


if __name__ == "__main__":
    main()
