"""Cold start of the badges handler: a fresh process imports the handler and answers one
test-badge request (seeded SQLite) and one NuGet badge (local fake NuGet), beside bare Python
and beside the same two requests through Powertools' resolver + boto3 (bench/powertools_badges.py).

    make bench      (or: uv run python bench/coldstart.py --runs 30)

How processes are run and timed: bench/harness.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import bare, compile_everything, handler_run, table  # noqa: E402
from lambdasmith.local.apigw import v2_event  # noqa: E402
from tests.support.upstreams import FakeNuGet  # noqa: E402


def seed(data_dir: str) -> None:
    from lambdasmith.badges.config import BadgesConfig
    from lambdasmith.badges.store import Repo
    from lambdasmith.badges.wiring import open_store

    store = open_store(BadgesConfig.from_env(os.environ, data_dir=data_dir))
    result = {"platform": "linux", "passed": 120, "failed": 0, "skipped": 3, "total": 123,
              "url_html": "https://ci.example/1", "timestamp": "2026-11-01T00:00:00.000Z", "commit": "abc",
              "run_id": "1", "workflow_run_url": "https://ci.example/1", "ReceivedAt": int(time.time())}
    store.record(Repo.of("linux", "acme", "widgets", "main"), "seed-nonce", result, "2026-11-01T00:00:00.000000Z")


def dynamodb_rows(env: dict, runs: int, bare_ms: float) -> None:
    """The badges handler on DynamoDB (DynamoDB Local on loopback): our client vs boto3."""
    from tests.support import aws_servers

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
            from lambdasmith.kit.table.dynamodb.admin import create_table

            for spec, name in ((RESULTS, "bench-results"), (NONCES, "bench-nonces"), (ORGS, "bench-orgs")):
                create_table(spec, name)
            seed(tempfile.mkdtemp(prefix="coldstart-ddb-"))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        events = [v2_event("GET", "/badges/tests/linux/acme/widgets/main", [("User-Agent", "bench")], b"")]
        ours, ours_parts = handler_run("lambdasmith.badges.app", events, ddb_env, runs)
        peer, peer_parts = handler_run("boto3_badges", events, ddb_env, runs)
    finally:
        server.stop()
    table(f"cold start on DynamoDB (DynamoDB Local on loopback): import + 1 test badge; median of {runs} runs",
          [("lambdasmith handler, our AWS client", ours, ours_parts), ("same request through boto3", peer, peer_parts)],
          bare_ms)
    print(f"\noverhead over bare Python: ours {ours - bare_ms:.1f} ms; boto3 {peer - bare_ms:.1f} ms; "
          f"ratio {(peer - bare_ms) / max(ours - bare_ms, 0.1):.1f}× (goal ≥ 5×)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=25)
    ap.add_argument("--no-dynamodb", action="store_true", help="skip the DynamoDB Local row (needs Java)")
    args = ap.parse_args()
    compile_everything()

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
    bare_ms = bare(env, args.runs)
    ours, ours_parts = handler_run("lambdasmith.badges.app", events, env, args.runs)
    peer, peer_parts = handler_run("powertools_badges", events, env, args.runs)
    nuget.stop()

    table(f"cold start: fresh process, import + 1 test badge (SQLite) + 1 NuGet badge (local fake); median of {args.runs} runs",
          [("lambdasmith badges handler", ours, ours_parts), ("Powertools resolver + boto3", peer, peer_parts)], bare_ms)
    ratio = (peer - bare_ms) / max(ours - bare_ms, 0.1)
    print(f"\noverhead over bare Python: ours {ours - bare_ms:.1f} ms (goal ≤ 40 ms); Powertools + boto3 {peer - bare_ms:.1f} ms")
    print(f"ratio: Powertools + boto3 overhead / ours = {ratio:.1f}× (goal ≥ 10×)")
    if not args.no_dynamodb:
        dynamodb_rows(env, args.runs, bare_ms)
    zip_path = ROOT / "build" / "badges.zip"
    if zip_path.exists():
        print(f"\nfunction zip: {zip_path.stat().st_size / 1024:.0f} KB (make build) — BadgeSmith's is ~6 MB")


if __name__ == "__main__":
    main()
