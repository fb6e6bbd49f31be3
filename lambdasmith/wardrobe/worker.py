"""Share worker: SQS batches in, partial batch failures out.
Lambda entry point: `lambdasmith.wardrobe.worker.handler` (event source mapping with
ReportBatchItemFailures).

Per message: an invalid message fails (it is retried, then lands in the DLQ: nothing is lost
silently); an item that is gone is skipped; otherwise the share is applied exactly once in effect
(an applied-event marker per requestId is written in the same transaction, so a redelivered
message never counts twice).
"""

from __future__ import annotations

from lambdasmith.kit.observability.logs import Logger
from lambdasmith.kit.observability.metrics import Metrics
from lambdasmith.wardrobe.config import WardrobeConfig
from lambdasmith.wardrobe.messages import InvalidMessage, parse_share

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.wardrobe.store import WardrobeStore


class ShareWorker:
    def __init__(self, store: WardrobeStore, logger: Logger, metrics: Metrics):
        self.store = store
        self.logger = logger
        self.metrics = metrics

    def handle(self, event: dict[str, Any], context: Any = None) -> dict[str, Any]:
        records = event.get("Records") if isinstance(event, dict) else None
        if not isinstance(records, list):
            raise ValueError("not an SQS event")  # the whole batch fails, and is retried
        self.logger.bind(context)
        failures = []
        for record in records:
            message_id = record.get("messageId") if isinstance(record, dict) else None
            if not message_id:
                raise ValueError("a record has no messageId")  # cannot report it alone
            try:
                user, item, request_id = parse_share(record.get("body"))
                outcome = self.store.apply_share(user, item, request_id)
            except InvalidMessage as e:  # the message's fault, not ours: no stack trace
                self.logger.warning("invalid share message", reason=str(e), message_id=message_id)
                failures.append({"itemIdentifier": message_id})
                continue
            except Exception as e:  # this message fails; the others go on
                self.logger.exception("share failed", e, message_id=message_id)
                failures.append({"itemIdentifier": message_id})
                continue
            if outcome == "missing":
                self.metrics.add("ItemNotFound")
                self.logger.info("item gone, share skipped", item_id=item, request_id=request_id)
            elif outcome == "applied":
                self.metrics.add("ShareEventsProcessed")
            else:
                self.logger.info("duplicate share ignored", item_id=item, request_id=request_id)
        self.metrics.add("BatchSize", len(records))
        self.metrics.add("SuccessfulRecords", len(records) - len(failures))
        self.metrics.add("FailedRecords", len(failures))
        self.metrics.flush()
        return {"batchItemFailures": failures}


_worker: ShareWorker | None = None


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    global _worker
    if _worker is None:
        from lambdasmith.wardrobe.wiring import open_store

        _worker = ShareWorker(open_store(WardrobeConfig.from_env()), Logger(default_service="wardrobe-worker"),
                              Metrics(default_namespace="Wdrbe", default_service="wardrobe-worker"))
    return _worker.handle(event, context)
