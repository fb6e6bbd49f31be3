"""What the Lambda SQS event source mapping does, on one machine.

Receive up to 10 messages (hidden for the visibility timeout), hand them to the function as an
SQS event, delete the ones it did not report in `batchItemFailures`; a raised error or an invalid
response fails the whole batch. Failed messages reappear when their visibility timeout passes and,
after `maxReceiveCount` receives, the queue moves them to its DLQ. Works on any queue backend.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import time

from lambdasmith.local import invocation
from lambdasmith.local.invocation import ACCOUNT

__all__ = ["QueuePump", "failed_ids", "sqs_record"]

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
            "SenderId": ACCOUNT,
            "ApproximateFirstReceiveTimestamp": str(int(time.time() * 1000)),
        },
        "messageAttributes": {
            k: {"stringValue": v, "stringListValues": [], "binaryListValues": [], "dataType": "String"}
            for k, v in message.attributes.items()
        },
        "md5OfBody": hashlib.md5(message.body.encode("utf-8")).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region}:{ACCOUNT}:{queue_name}",
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
    """One event-source mapping: `handler` is the worker (an `invocation.Function`, or a bare
    handler, then named `function_name`), invoked through `lambdasmith.local.invocation` with
    a real context, as Lambda's poller would."""

    def __init__(
        self,
        queue: Queue,
        handler: invocation.Function | Callable[[dict[str, Any], Any], Any],
        *,
        function_name: str | None = None,
        batch_size: int = 10,
        visibility_timeout_s: int = 30,
        wait_s: float = 1.0,
        region: str | None = None,
        log: Callable[[str], None] | None = None,
    ):
        self.queue = queue
        if isinstance(handler, invocation.Function):
            self.function = handler
        else:
            self.function = invocation.Function(function_name or f"{queue.name}-worker", handler=handler)
        self.batch_size = batch_size
        self.visibility_timeout_s = visibility_timeout_s
        self.wait_s = wait_s
        self.region = region or invocation.region()
        self.log = log or (lambda line: sys.stderr.write(line + "\n"))
        self.stopping = threading.Event()
        self.thread: threading.Thread | None = None

    def run_once(self) -> int:
        """One receive → invoke → delete round; the number of messages received."""
        messages = self.queue.receive(self.batch_size, self.visibility_timeout_s, self.wait_s)
        if not messages:
            return 0
        event = {"Records": [sqs_record(m, self.queue.name, self.region) for m in messages]}
        ids = {m.id for m in messages}
        outcome = invocation.invoke(self.function, event, marshal=False, log=None)  # the pump keeps its own log
        if outcome.function_error:  # a function error fails the batch, as on Lambda
            self.log(f"pump {self.queue.name}: function error {outcome.error_type}: {outcome.error_message}")
            failed = ids
        else:
            reported = failed_ids(outcome.result, ids)
            if reported is None:
                self.log(f"pump {self.queue.name}: invalid batch response, whole batch failed")
            failed = ids if reported is None else reported
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
        self.thread = threading.Thread(target=self.run, name=f"pump-{self.queue.name}", daemon=True)
        self.thread.start()
        return self.thread

    def stop(self) -> None:
        self.stopping.set()


def main(argv: list[str] | None = None) -> int:
    """`python -m lambdasmith.local.pump QUEUE MODULE:FUNCTION`: pump one embedded queue (tests, demos)."""
    import argparse

    from lambdasmith.kit.backends import open_queue

    p = argparse.ArgumentParser(prog="python -m lambdasmith.local.pump")
    p.add_argument("queue")
    p.add_argument("handler")
    p.add_argument("--data-dir", default=os.environ.get("LAMBDASMITH_DATA_DIR", ".lambdasmith"))
    p.add_argument("--dlq")
    p.add_argument("--max-receive-count", type=int)
    p.add_argument("--visibility-timeout", type=int, default=30)
    args = p.parse_args(argv)
    q = open_queue(args.queue, data_dir=args.data_dir, dlq=args.dlq, max_receive_count=args.max_receive_count)
    worker = invocation.Function(args.handler.partition(":")[0], args.handler)
    worker.handler()  # imported before pumping: a bad handler stops here
    pump = QueuePump(q, worker, visibility_timeout_s=args.visibility_timeout)
    print(f"pumping {args.queue} into {args.handler}", flush=True)
    pump.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
