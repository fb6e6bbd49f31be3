"""Items processor. Lambda entry point: `lambdasmith.items.app.handler` (invoked directly).

    {"action": "create", "data": {"name": …, …}}      → a new item with a generated id
    {"action": "update", "data": {"id": …, …}}        → fields merged into the stored item
    {"action": "delete", "data": {"id": …}}           → removed (a missing id is a 404)

Optional: "correlationId" (or headers X-Correlation-ID), "idempotencyKey", "source".
Client errors are answered (400/404, never a 500 body); an unexpected failure is raised, so
Lambda counts an error, the alarm fires and an async invocation is retried and then dead-lettered.
"""

from __future__ import annotations

import json

from lambdasmith.items.config import ItemsConfig
from lambdasmith.kit.clock import utc_iso_ms
from lambdasmith.kit.digest import json_sha256
from lambdasmith.kit.ids import uuid4
from lambdasmith.kit.jsonread import nested_deeper
from lambdasmith.kit.observability.logs import Logger
from lambdasmith.kit.observability.metrics import Metrics

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.items.store import ItemsStore

ACTIONS = ("create", "update", "delete")
MANAGED = ("id", "createdAt", "updatedAt", "version", "PK", "SK", "entity", "ttl")
UPDATE_RETRIES = 5


MAX_DATA_DEPTH = 32  # DynamoDB's own nesting limit: both backends refuse the same items


class ClientError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _usable_id(value: Any) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 128 and value.isprintable() else None


def correlation_id(event: Any, context: Any) -> str:
    """The caller's X-Correlation-ID / correlationId when usable, else the request id."""
    if isinstance(event, dict):
        headers = event.get("headers")
        if isinstance(headers, dict):
            for k, v in headers.items():
                if isinstance(k, str) and k.lower() == "x-correlation-id" and _usable_id(v):
                    return v
        if _usable_id(event.get("correlationId")):
            return event["correlationId"]
    return getattr(context, "aws_request_id", None) or uuid4()


def answer(status: int, body: dict[str, Any], cid: str) -> dict[str, Any]:
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json", "X-Correlation-ID": cid},
        "body": json.dumps(body, separators=(",", ":"), ensure_ascii=False),
    }


class ItemsProcessor:
    def __init__(self, config: ItemsConfig, store: ItemsStore, logger: Logger, metrics: Metrics):
        self.config = config
        self.store = store
        self.logger = logger
        self.metrics = metrics

    def handle(self, event: Any, context: Any = None) -> dict[str, Any]:
        cid = correlation_id(event, context)
        self.logger.bind(context, correlation_id=cid)
        self.metrics.add("InvocationCount")
        try:
            result = self._process(event, context, cid)
            self.metrics.add("SuccessCount")
            return result
        except ClientError as e:
            self.metrics.add("ErrorCount")
            self.logger.warning("rejected", status=e.status, error=e.message)
            return answer(e.status, {"success": False, "error": e.message, "correlationId": cid}, cid)
        except Exception as e:  # raised on purpose: Lambda must count it (error alarm, async retries, DLQ)
            self.metrics.add("ErrorCount")
            self.logger.exception("unexpected failure", e)
            raise
        finally:
            self.metrics.add_metadata("correlation_id", cid)
            self.metrics.flush()

    def _process(self, event: Any, context: Any, cid: str) -> dict[str, Any]:
        from lambdasmith.items.store import AlreadyApplied, KeyReused

        if not isinstance(event, dict):
            raise ClientError(400, "event must be a JSON object")
        action = event.get("action")
        if action not in ACTIONS:
            raise ClientError(400, "action is required" if action is None else f"unknown action {action!r}: use create, update or delete")
        data = event.get("data")
        if not isinstance(data, dict):
            raise ClientError(400, "data must be an object")
        if nested_deeper(data, MAX_DATA_DEPTH):  # before anything walks it (sizes, the store)
            raise ClientError(400, f"data nests deeper than {MAX_DATA_DEPTH} levels")
        key = _usable_id(event.get("idempotencyKey")) or getattr(context, "aws_request_id", None) or uuid4()
        # A key stands for one request: the same action with the same data. Used again for
        # another, it is the client's mistake (422), never the first request's answer.
        fingerprint = json_sha256([action, data])
        try:
            first = self.store.previous(key, fingerprint)
            if first is not None:
                self.logger.info("idempotent repeat", idempotency_key=key)
                return first
            return getattr(self, f"_{action}")(data, key, fingerprint, cid)
        except AlreadyApplied as e:  # a concurrent twin committed first
            return e.result
        except KeyReused:
            raise ClientError(422, "idempotencyKey was already used for another action or payload") from None

    def _fields(self, data: dict[str, Any], need_name: bool) -> dict[str, Any]:
        bad = [k for k in data if k in MANAGED and k != "id"]
        if bad:
            raise ClientError(400, f"{', '.join(sorted(bad))} cannot be set: the processor manages it")
        fields = {k: v for k, v in data.items() if k != "id"}
        if need_name or "name" in fields:
            name = fields.get("name")
            if not isinstance(name, str) or not name.strip():
                raise ClientError(400, "data.name is required and must be a non-blank string")
            if len(name) > self.config.max_name_chars:
                raise ClientError(400, f"data.name must be at most {self.config.max_name_chars} characters")
        return fields

    def _id(self, data: dict[str, Any]) -> str:
        item_id = _usable_id(data.get("id"))
        if item_id is None:
            raise ClientError(400, "data.id is required: a string of 1 to 128 printable characters")
        return item_id

    def _success(self, item_id: str, name: Any, status: str, when: str, cid: str) -> dict[str, Any]:
        data: dict[str, Any] = {"id": item_id, "status": status, "timestamp": when}
        if name is not None:
            data["name"] = name
        return answer(200, {"success": True, "data": data, "correlationId": cid}, cid)

    def _create(self, data: dict[str, Any], key: str, fingerprint: str, cid: str) -> dict[str, Any]:
        fields = self._fields(data, need_name=True)
        when = utc_iso_ms()
        item = {**fields, "id": uuid4(), "createdAt": when, "updatedAt": when, "version": 1}
        result = self._success(item["id"], item["name"], "created", when, cid)
        self._store_write(lambda: self.store.create(key, item, result, fingerprint))
        self.logger.info("item created", item_id=item["id"])
        return result

    def _update(self, data: dict[str, Any], key: str, fingerprint: str, cid: str) -> dict[str, Any]:
        from lambdasmith.items.store import Changed

        item_id, fields = self._id(data), self._fields(data, need_name=False)
        for _ in range(UPDATE_RETRIES):
            current = self.store.get(item_id)
            if current is None:
                raise ClientError(404, f"item {item_id} not found")
            when = utc_iso_ms()
            merged = {**current, **fields, "updatedAt": when, "version": int(current.get("version", 0)) + 1}
            result = self._success(item_id, merged.get("name"), "updated", when, cid)
            version = int(current.get("version", 0))
            try:
                self._store_write(lambda: self.store.replace(key, merged, version, result, fingerprint))
            except Changed:
                continue  # someone else updated it meanwhile: merge again
            self.logger.info("item updated", item_id=item_id)
            return result
        raise RuntimeError(f"item {item_id} kept changing during the update")

    def _delete(self, data: dict[str, Any], key: str, fingerprint: str, cid: str) -> dict[str, Any]:
        from lambdasmith.items.store import NotFound

        item_id = self._id(data)
        result = self._success(item_id, None, "deleted", utc_iso_ms(), cid)
        try:
            self._store_write(lambda: self.store.delete(key, item_id, result, fingerprint))
        except NotFound:
            raise ClientError(404, f"item {item_id} not found") from None
        self.logger.info("item deleted", item_id=item_id)
        return result

    @staticmethod
    def _store_write(write: Any) -> None:
        """Table validation errors (too large, bad values) are the caller's; anything else is ours."""
        from lambdasmith.kit.table.port import ValidationError

        try:
            write()
        except ValidationError as e:
            raise ClientError(400, f"item rejected: {e}") from None


_processor: ItemsProcessor | None = None


def handler(event: Any, context: Any = None) -> dict[str, Any]:
    global _processor
    if _processor is None:
        from lambdasmith.items.wiring import open_store

        config = ItemsConfig.from_env()
        _processor = ItemsProcessor(config, open_store(config), Logger(default_service="items"),
                                    Metrics(default_namespace="LambdaProductionReadiness", default_service="items"))
    return _processor.handle(event, context)
