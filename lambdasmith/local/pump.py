"""What the Lambda SQS event source mapping does, on one machine.

Receive up to 10 messages (hidden for the visibility timeout), hand them to the function as an
SQS event, delete the ones it did not report in `batchItemFailures`; a raised error or an invalid
response fails the whole batch. Failed messages reappear when their visibility timeout passes and,
after `maxReceiveCount` receives, the queue moves them to its DLQ. Works on any queue backend.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Callable

    from lambdasmith.kit.queue.port import Message, Queue


def sqs_record(message: Message, queue_name: str, region: str) -> dict[str, Any]:
    """One record of an SQS event, shaped as Lambda delivers it."""
    return {
        "messageId": message.id,
        "receiptHandle": message.receipt,
        "body": message.body,
        "attributes": {
            "ApproximateReceiveCount": str(message.receive_count),
            "SentTimestamp": str(int(message.sent_at * 1000)),
            "SenderId": "000000000000",
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
        },
        "messageAttributes": {
            k: {"stringValue": v, "stringListValues": [], "binaryListValues": [], "dataType": "String"}
            for k, v in message.attributes.items()
        },
        "md5OfBody": hashlib.md5(message.body.encode("utf-8")).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region}:000000000000:{queue_name}",
        "awsRegion": region,
    }


def failed_ids(result: Any, ids: set[str]) -> set[str] | None:
    """The message ids a ReportBatchItemFailures response names; None when the response is
    invalid (Lambda then fails the whole batch)."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return None
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    out = set()
    for f in failures:
        ident = f.get("itemIdentifier") if isinstance(f, dict) else None
        if not isinstance(ident, str) or ident not in ids:
            return None
        out.add(ident)
    return out


class QueuePump:
    def __init__(
        self,
        queue: Queue,
        handler: Callable[[dict[str, Any], Any], Any],
        *,
        batch_size: int = 10,
        visibility_timeout_s: int = 30,
        wait_s: float = 1.0,
        region: str = "us-east-1",
        log: Callable[[str], None] | None = None,
    ):
        self.queue = queue
        self.handler = handler
        self.batch_size = batch_size
        self.visibility_timeout_s = visibility_timeout_s
        self.wait_s = wait_s
        self.region = region
        self.log = log or (lambda line: sys.stderr.write(line + "\n"))
        self.stopping = threading.Event()

    def run_once(self) -> int:
        """One receive → invoke → delete round; the number of messages received."""
        messages = self.queue.receive(self.batch_size, self.visibility_timeout_s, self.wait_s)
        if not messages:
            return 0
        event = {"Records": [sqs_record(m, self.queue.name, self.region) for m in messages]}
        ids = {m.id for m in messages}
        try:
            failed = failed_ids(self.handler(event, None), ids)
            if failed is None:
                self.log(f"pump {self.queue.name}: invalid batch response, whole batch failed")
                failed = ids
        except Exception as e:  # a function error fails the batch, as on Lambda
            self.log(f"pump {self.queue.name}: function error {type(e).__name__}: {e}")
            failed = ids
        done = [m.receipt for m in messages if m.id not in failed]
        if done:
            self.queue.delete_batch(done)
        self.log(f"pump {self.queue.name}: batch of {len(messages)}, {len(done)} done, {len(failed)} failed")
        return len(messages)

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.run_once()
            except Exception as e:  # keep pumping: a broken queue read must not kill the server
                self.log(f"pump {self.queue.name}: {type(e).__name__}: {e}")
                self.stopping.wait(1.0)

    def start(self) -> threading.Thread:
        t = threading.Thread(target=self.run, name=f"pump-{self.queue.name}", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self.stopping.set()


def main(argv: list[str] | None = None) -> int:
    """`python -m lambdasmith.local.pump QUEUE MODULE:FUNCTION`: pump one embedded queue (tests, demos)."""
    import argparse

    from lambdasmith.kit.backends import open_queue
    from lambdasmith.local.functions import load

    p = argparse.ArgumentParser(prog="python -m lambdasmith.local.pump")
    p.add_argument("queue")
    p.add_argument("handler")
    p.add_argument("--data-dir", default=os.environ.get("LAMBDASMITH_DATA_DIR", ".lambdasmith"))
    p.add_argument("--dlq")
    p.add_argument("--max-receive-count", type=int)
    p.add_argument("--visibility-timeout", type=int, default=30)
    args = p.parse_args(argv)
    q = open_queue(args.queue, data_dir=args.data_dir, dlq=args.dlq, max_receive_count=args.max_receive_count)
    pump = QueuePump(q, load(args.handler), visibility_timeout_s=args.visibility_timeout)
    print(f"pumping {args.queue} into {args.handler}", flush=True)
    pump.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
