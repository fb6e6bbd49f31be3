"""A share worker that takes its time, for the test that kills a pump mid-batch.

`python -m lambdasmith.local.pump wardrobe-shares tests.support.wardrobe_slow_worker:handler …` runs it.
Each record goes through the real worker (`lambdasmith.wardrobe.worker.handler`, configured
from the environment like on Lambda) on its own; after each one a JSON line is appended to the
file named by WARDROBE_TEST_PROGRESS, then it sleeps WARDROBE_TEST_SLEEP_S seconds (default 0.3),
so a test can see how far a batch got and kill the process at a known point.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from lambdasmith.wardrobe import worker


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    progress = os.environ["WARDROBE_TEST_PROGRESS"]
    pause = float(os.environ.get("WARDROBE_TEST_SLEEP_S", "0.3"))
    failures: list[dict[str, str]] = []
    for record in event["Records"]:
        result = worker.handler({"Records": [record]}, context)
        failed = result["batchItemFailures"]
        failures.extend(failed)
        with open(progress, "a", encoding="utf-8") as f:
            f.write(json.dumps({"messageId": record["messageId"], "failed": bool(failed)}) + "\n")
        time.sleep(pause)
    return {"batchItemFailures": failures}
