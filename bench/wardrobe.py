"""Wardrobe: cold start of the API handler (one list request) and of the share worker (one batch
of 10) beside bare Python, and list-page throughput in-process, warm.

    uv run python bench/wardrobe.py [--runs 25]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.harness import bare, compile_everything, handler_run, table  # noqa: E402
from lambdasmith.local.apigw import v1_event  # noqa: E402
from lambdasmith.local.pump import sqs_record  # noqa: E402


def seed(data_dir: str, items: int) -> str:
    os.environ["LAMBDASMITH_DATA_DIR"] = data_dir
    from lambdasmith.wardrobe.config import WardrobeConfig
    from lambdasmith.wardrobe.wiring import mint_token, open_store

    config = WardrobeConfig.from_env()
    store = open_store(config)
    for n in range(items):
        fields = {"itemId": f"item-{n:04d}", "name": f"Item {n}", "category": ["coats", "shoes", "hats", "bags"][n % 4],
                  "season": ["winter", "summer", "spring"][n % 3], "color": None, "brand": None,
                  "purchaseDate": None, "imageUrl": None}  # fmt: skip
        store.create("bench", fields, None, "h")
    return mint_token(config, "bench")


def share_batch(run: int) -> list[dict]:
    from lambdasmith.kit.queue.port import Message

    records = []
    for n in range(10):
        body = json.dumps({"type": "SHARE_ITEM", "userId": "bench", "itemId": f"item-{n:04d}",
                           "timestamp": "2026-11-22T00:00:00.000Z", "requestId": f"run{run}-{n}-{uuid.uuid4().hex}"})
        m = Message(f"m-{run}-{n}", f"r-{run}-{n}", body, {}, 1, time.time())
        records.append(sqs_record(m, "wardrobe-shares", "us-east-1"))
    return [{"Records": records}]


def throughput(token: str, query: str, seconds: float = 2.0) -> float:
    from lambdasmith.wardrobe.api import create_app
    from lambdasmith.wardrobe.config import WardrobeConfig

    app = create_app(WardrobeConfig.from_env())
    event = v1_event("GET", f"/users/bench/items?{query}", [("Authorization", f"Bearer {token}")], b"")
    import contextlib
    import io

    n, deadline = 0, time.perf_counter() + seconds
    with contextlib.redirect_stdout(io.StringIO()):  # the EMF lines would dominate the timing
        while time.perf_counter() < deadline:
            assert app.handler(event)["statusCode"] == 200
            n += 1
    return n / seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=25)
    ap.add_argument("--items", type=int, default=400)
    args = ap.parse_args()
    compile_everything()
    data_dir = tempfile.mkdtemp(prefix="bench-wardrobe-")
    token = seed(data_dir, args.items)
    env = {**os.environ, "LAMBDASMITH_DATA_DIR": data_dir, "PYTHONPATH": str(ROOT)}
    bare_ms = bare(env, args.runs)
    list_event = [v1_event("GET", "/users/bench/items?limit=20", [("Authorization", f"Bearer {token}")], b"")]
    api, api_parts = handler_run("lambdasmith.wardrobe.api", list_event, env, args.runs)
    worker, worker_parts = handler_run("lambdasmith.wardrobe.worker", share_batch, env, args.runs)
    table(f"wardrobe cold start: fresh process, embedded SQLite backends; median of {args.runs} runs",
          [("API handler: 1 list request (limit 20)", api, api_parts),
           ("share worker: 1 batch of 10 shares", worker, worker_parts)], bare_ms)  # fmt: skip

    print(f"\nlist-page throughput in-process, warm, {args.items} items, limit 20\n")
    print("| query | pages/s |\n|---|---:|")
    for label, query in (("no filter (GSI2, newest first)", "limit=20"),
                         ("season=winter (GSI1)", "limit=20&season=winter"),
                         ("category=hats (1 in 4 kept: reads past the rest)", "limit=20&category=hats"),
                         ("season=winter&category=hats (1 in 12 kept)", "limit=20&season=winter&category=hats")):
        print(f"| {label} | {throughput(token, query):.0f} |")


if __name__ == "__main__":
    main()
