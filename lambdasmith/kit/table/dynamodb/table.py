"""The table port on DynamoDB, spoken through our own JSON-protocol client (no SDK).

What the port promises beyond plain DynamoDB, and how it is kept here:

- TTL is exact: DynamoDB deletes expired items only eventually, so every read drops items
  whose TTL attribute (a number, epoch seconds) is in the past, and every condition is
  compiled with the expiry folded in (`Absent()` holds for an expired item, `Exists()` does
  not). An update of an expired item starts from the bare key, as if the item were absent:
  the UpdateItem carries a "not expired" guard, and when the guard is what failed the item is
  replaced with a conditional PutItem.
- Query pages are full: a FilterExpression applies after DynamoDB's `Limit`, so a page is
  filled by querying on until `limit` live items (plus one, to know whether more follow) are in
  hand; the cursor is built from the last item returned, never from DynamoDB's
  LastEvaluatedKey, so nothing is skipped.
- Transactions report one reason per write in DynamoDB's vocabulary, including for the
  re-planned writes above and for DynamoDB Local, which reports some per-item validation
  failures as a request error instead of a cancellation.

Reads of the table are strongly consistent. Queries on a GSI are eventually consistent on AWS
(DynamoDB does not offer otherwise): an item written a moment ago may be missing from, or
stale in, an index query. DynamoDB Local updates indexes immediately.

Requests arrive checked by the port's base class (`table.port.Table`); this module only does
DynamoDB's side: requests (`expressions`, `marshal`), retries, and errors turned into the port's.
"""

from __future__ import annotations

import time

from lambdasmith.kit.aws import errors as aws
from lambdasmith.kit.retry import full_jitter
from lambdasmith.kit.table.dynamodb.client import default_client
from lambdasmith.kit.table.dynamodb.expressions import (
    Expression,
    compile_condition,
    compile_update,
    sort_key_expr,
    unexpired_expr,
)
from lambdasmith.kit.table.dynamodb.marshal import marshal_item, number, unmarshal_item
from lambdasmith.kit.table.port import (
    Absent,
    AllOf,
    Check,
    Condition,
    ConditionFailed,
    Delete,
    Exists,
    Item,
    ItemTooLarge,
    Page,
    Patch,
    Planned,
    Put,
    ResourceNotFound,
    SortKey,
    Table,
    TableSpec,
    Throttled,
    TransactionCanceled,
    Update,
    ValidationError,
    check_stored,
    evaluate,
)

TYPE_CHECKING = False  # typing costs a cold start milliseconds; only type checkers need these
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    from lambdasmith.kit.aws.client import JsonClient
    from lambdasmith.kit.table.port import Write

__all__ = [
    "DynamoTable",
    "BATCH_GET_MAX",
    "BATCH_WRITE_MAX",
    "BATCH_ATTEMPTS",
    "TRANSACT_ATTEMPTS",
    "REPLACE_ATTEMPTS",
    "BACKOFF_BASE",
    "BACKOFF_CAP",
]

BATCH_GET_MAX = 100  # keys per BatchGetItem
BATCH_WRITE_MAX = 25  # requests per BatchWriteItem
BATCH_ATTEMPTS = 8  # requests per chunk before what stays unprocessed raises Throttled
TRANSACT_ATTEMPTS = 6  # TransactWriteItems calls per transact (conflicts, re-planned patches)
REPLACE_ATTEMPTS = 6  # UpdateItem/PutItem rounds of an update racing an expiring item
BACKOFF_BASE = 0.05
BACKOFF_CAP = 2.0

_TRANSIENT_REASONS = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"}
)


# ---------------------------------------------------------------------------- the table


class DynamoTable(Table):
    """One DynamoDB table (`name` is its physical name) described by `spec`.

    `client` defaults to the shared client for the region and endpoint of the environment
    (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB), built on first use. Tables meet in a transaction
    only when they share one client object, i.e. one account, region and endpoint.
    """

    backend_scope = "one DynamoDB client (endpoint)"

    def __init__(
        self,
        spec: TableSpec,
        name: str,
        client: JsonClient | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.spec = spec
        self.name = name
        self._client = client
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"DynamoTable({self.name!r})"

    @property
    def client(self) -> JsonClient:
        if self._client is None:
            self._client = default_client()
        return self._client

    def _same_backend(self, other: Table) -> bool:
        return isinstance(other, DynamoTable) and other.client is self.client

    def _key(self, pk: str, sk: str) -> Item:
        return {self.spec.pk: pk, self.spec.sk: sk}

    # ------------------------------------------------------------------------ single items

    def _get(self, pk: str, sk: str) -> Item | None:
        k = self._key(pk, sk)
        resp = self._call(
            "GetItem", {"TableName": self.name, "Key": marshal_item(k), "ConsistentRead": True}
        )
        return self._visible(resp.get("Item"), time.time())

    def _put(self, item: Item, condition: Condition | None) -> None:
        raw = marshal_item(item)
        x = Expression()
        request: dict[str, Any] = {"TableName": self.name, "Item": raw}
        cond = compile_condition(self.spec, condition, x, time.time())
        if cond is not None:
            request["ConditionExpression"] = cond
        self._call("PutItem", x.into(request), f"put into {self.name!r}")

    def _update(self, pk: str, sk: str, update: Update, condition: Condition | None) -> Item:
        k = self._key(pk, sk)
        what = f"update in {self.name!r}"
        for _ in range(REPLACE_ATTEMPTS):
            now = time.time()
            x = Expression()
            request: dict[str, Any] = {
                "TableName": self.name,
                "Key": marshal_item(k),
                "ReturnValues": "ALL_NEW",
            }
            expression = compile_update(update, x)
            if expression is not None:
                request["UpdateExpression"] = expression
            cond = compile_condition(self.spec, condition, x, now)
            if self.spec.ttl is not None:
                # An expired item must not be updated in place: the update starts afresh.
                guard = unexpired_expr(self.spec, x, now)
                cond = guard if cond is None else f"({cond} AND {guard})"
                request["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            if cond is not None:
                request["ConditionExpression"] = cond
            try:
                resp = self._call("UpdateItem", x.into(request), raw_condition_failure=True)
                return unmarshal_item(resp.get("Attributes") or marshal_item(k))
            except aws.ConditionalCheckFailed as e:
                old = e.body.get("Item")
                if not old or not self.spec.expired(unmarshal_item(old), now):
                    raise ConditionFailed(what) from None
            # The stored item has expired, so it counts as absent: replace it, if the caller's
            # condition holds for a missing item, unless someone writes it meanwhile.
            if not evaluate(condition, None):
                raise ConditionFailed(what)
            fresh = update.apply(None, k)
            check_stored(self.spec, fresh)
            raw = marshal_item(fresh)
            x = Expression()
            request = {"TableName": self.name, "Item": raw}
            cond = compile_condition(self.spec, AllOf((Absent(), condition)), x, time.time())
            request["ConditionExpression"] = cond
            try:
                self._call("PutItem", x.into(request), raw_condition_failure=True)
                return unmarshal_item(raw)
            except aws.ConditionalCheckFailed:
                continue  # revived by another writer: update that item instead
        raise ConditionFailed(f"{what}: the item kept changing")

    def _delete(self, pk: str, sk: str, condition: Condition | None) -> Item | None:
        k = self._key(pk, sk)
        now = time.time()
        x = Expression()
        request: dict[str, Any] = {
            "TableName": self.name,
            "Key": marshal_item(k),
            "ReturnValues": "ALL_OLD",
        }
        cond = compile_condition(self.spec, condition, x, now)
        if cond is not None:
            request["ConditionExpression"] = cond
        resp = self._call("DeleteItem", x.into(request), f"delete from {self.name!r}")
        return self._visible(resp.get("Attributes"), now)

    # ------------------------------------------------------------------------ queries

    def _query(
        self,
        pk: str,
        sk: SortKey | None,
        index: str | None,
        limit: int,
        descending: bool,
        start: dict[str, str] | None,
    ) -> Page:
        """See the module docstring on GSIs (eventually consistent on AWS) and on full pages."""
        ipk, isk = self.spec.index(index)
        names = self.cursor_names(index)
        exclusive = None if start is None else self._to_cursor(start)
        now = time.time()
        x = Expression()
        key_cond = f"{x.name(ipk)} = {x.value(pk)}"
        if sk is not None:
            sort = sort_key_expr(sk, isk, x)
            if sort is not None:
                key_cond += " AND " + sort
        request: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": key_cond,
            "ScanIndexForward": not descending,
        }
        if index is None:
            request["ConsistentRead"] = True
        else:
            request["IndexName"] = index
        if self.spec.ttl is not None:
            request["FilterExpression"] = unexpired_expr(self.spec, x, now)
        x.into(request)

        # One item past `limit` tells whether another page exists, as the SQLite backend does.
        want = limit + 1
        found: list[dict[str, Any]] = []
        while len(found) < want:
            page_request = dict(request, Limit=want - len(found))
            if exclusive is not None:
                page_request["ExclusiveStartKey"] = exclusive
            resp = self._call("Query", page_request)
            found.extend(
                raw for raw in resp.get("Items") or [] if not self._expired_raw(raw, now)
            )
            exclusive = resp.get("LastEvaluatedKey")
            if not exclusive:
                break
        if len(found) <= limit:
            return Page([unmarshal_item(raw) for raw in found], None)
        found = found[:limit]
        last = found[-1]
        return Page([unmarshal_item(raw) for raw in found], self._cursor({n: last[n]["S"] for n in names}))

    def _to_cursor(self, at: dict[str, str]) -> dict[str, Any]:
        # Marshalled, as DynamoDB's ExclusiveStartKey.
        return {n: {"S": v} for n, v in at.items()}

    def _from_cursor(self, raw: dict[str, Any]) -> dict[str, Any]:
        key = {}
        for n, v in raw.items():
            if not isinstance(v, dict) or list(v) != ["S"]:
                raise ValidationError("malformed cursor")
            key[n] = v["S"]
        return key

    # ------------------------------------------------------------------------ batches

    def _batch_get(self, wanted: list[tuple[str, str]]) -> list[Item]:
        pk, sk = self.spec.pk, self.spec.sk
        now = time.time()
        found: list[Item] = []
        for i in range(0, len(wanted), BATCH_GET_MAX):
            chunk = [{pk: {"S": a}, sk: {"S": b}} for a, b in wanted[i : i + BATCH_GET_MAX]]
            pending: dict[str, Any] = {self.name: {"Keys": chunk, "ConsistentRead": True}}
            attempt = 0
            while pending:
                resp = self._call("BatchGetItem", {"RequestItems": pending})
                for raw in (resp.get("Responses") or {}).get(self.name) or []:
                    item = self._visible(raw, now)
                    if item is not None:
                        found.append(item)
                pending = {t: v for t, v in (resp.get("UnprocessedKeys") or {}).items() if v}
                if pending:
                    attempt += 1
                    self._pause_or_give_up(attempt, f"batch_get on {self.name!r}: keys left unprocessed")
        return found

    def _batch_put(self, items: list[Item]) -> None:
        # Keys are unique here (the port keeps a repeated key's last item): DynamoDB refuses
        # a batch holding one key twice.
        requests = [{"PutRequest": {"Item": marshal_item(item)}} for item in items]
        for i in range(0, len(requests), BATCH_WRITE_MAX):
            pending: dict[str, Any] = {self.name: requests[i : i + BATCH_WRITE_MAX]}
            attempt = 0
            while pending:
                resp = self._call("BatchWriteItem", {"RequestItems": pending})
                pending = {t: v for t, v in (resp.get("UnprocessedItems") or {}).items() if v}
                if pending:
                    attempt += 1
                    self._pause_or_give_up(attempt, f"batch_put on {self.name!r}: items left unprocessed")

    # ------------------------------------------------------------------------ transactions

    def transact(self, writes: Sequence[Write], *, client_token: str | None = None, **options: Any) -> None:
        """All or nothing (TransactWriteItems). `client_token` makes a retry of the same call
        idempotent for ten minutes (DynamoDB's ClientRequestToken)."""
        super().transact(writes, client_token=client_token, **options)

    def _transact(self, plan: list[Planned], *, client_token: str | None = None, **options: Any) -> None:
        if options:
            raise TypeError(f"unexpected transaction options: {', '.join(options)}")
        client = self.client
        # _same_backend admitted DynamoTables only (on this client).
        writes = [(_dynamo(p.table), p.op, p.key()) for p in plan]
        # A Patch goes out as an Update guarded against expiry ("live" form) or, when the item
        # is absent or expired, as a conditional Put of the fresh item ("fresh" form).
        fresh = [False] * len(writes)
        reasons: list[str | None] = []
        replanned: set[int] = set()
        for attempt in range(1, TRANSACT_ATTEMPTS + 1):
            now = time.time()
            request: dict[str, Any] = {
                "TransactItems": [
                    table._transact_item(op, key, fresh[i], now)
                    for i, (table, op, key) in enumerate(writes)
                ]
            }
            if client_token is not None:
                request["ClientRequestToken"] = client_token
            try:
                client.call("TransactWriteItems", request)
                return
            except aws.TransactionCanceled as e:
                raw_reasons = list(e.body.get("CancellationReasons") or [])
                raw_reasons += [{}] * (len(writes) - len(raw_reasons))
                reasons = [_reason(r) for r in raw_reasons]
            except aws.ValidationFailed as e:
                # DynamoDB Local reports e.g. an ADD to text as a request error; AWS cancels.
                found = self._diagnose(writes)
                if any(r is not None for r in found):
                    raise TransactionCanceled(found) from None
                raise ValidationError(e.message or e.code) from None
            except aws.Throttled as e:
                raise Throttled(str(e)) from None
            except aws.ResourceNotFound as e:
                raise ResourceNotFound(str(e)) from None

            if any(r in _TRANSIENT_REASONS for r in reasons):
                if attempt < TRANSACT_ATTEMPTS:
                    self._backoff(attempt)
                    continue
                raise TransactionCanceled(reasons)
            replanned = set()
            for i, (table, op, key) in enumerate(writes):
                if reasons[i] != "ConditionalCheckFailed" or not isinstance(op, Patch):
                    continue
                current = table._visible(raw_reasons[i].get("Item"), now)
                if evaluate(op.condition, current):
                    # Only the form was wrong (the item expired, vanished or came back).
                    fresh[i] = current is None
                    reasons[i] = None
                    replanned.add(i)
            if any(r is not None for r in reasons) or not replanned:
                raise TransactionCanceled(reasons)
        # Out of attempts: what kept changing under a patch is reported as a conflict.
        raise TransactionCanceled(
            ["TransactionConflict" if i in replanned else r for i, r in enumerate(reasons)]
        )

    def _transact_item(self, op: Any, key: Item, fresh: bool, now: float) -> dict[str, Any]:
        x = Expression()
        body: dict[str, Any] = {"TableName": self.name}
        condition = op.condition
        if isinstance(op, Put):
            kind = "Put"
            body["Item"] = marshal_item(op.item)
        elif isinstance(op, Delete):
            kind = "Delete"
            body["Key"] = marshal_item(key)
        elif isinstance(op, Check):
            kind = "ConditionCheck"
            body["Key"] = marshal_item(key)
        elif fresh:
            kind = "Put"
            body["Item"] = marshal_item(op.update.apply(None, key))
            condition = AllOf((Absent(), condition))
            body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        else:
            expression = compile_update(op.update, x)
            body["Key"] = marshal_item(key)
            body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            if expression is None:
                # TransactWriteItems requires an UpdateExpression: an empty update of a live
                # item changes nothing, so it is a check that the item is there.
                kind = "ConditionCheck"
                condition = AllOf((Exists(), condition))
            else:
                kind = "Update"
                body["UpdateExpression"] = expression
        cond = compile_condition(self.spec, condition, x, now)
        if kind == "Update" and self.spec.ttl is not None:
            guard = unexpired_expr(self.spec, x, now)
            cond = guard if cond is None else f"({cond} AND {guard})"
        if cond is None and kind == "ConditionCheck":  # AllOf(()): a check that always holds
            n = x.name(self.spec.pk)
            cond = f"(attribute_exists({n}) OR attribute_not_exists({n}))"
        if cond is not None:
            body["ConditionExpression"] = cond
        return {kind: x.into(body)}

    def _diagnose(self, plan: list[tuple[DynamoTable, Any, Item]]) -> list[str | None]:
        """Each write's reason, judged on the items as they are now (the request was refused
        as a whole, so nothing was written): as the SQLite backend reports them."""
        reasons: list[str | None] = []
        for table, op, key in plan:
            current = table.get(key)
            reason = None
            if not evaluate(op.condition, current):
                reason = "ConditionalCheckFailed"
            elif isinstance(op, Patch):
                try:
                    check_stored(table.spec, op.update.apply(current, key))
                except ValidationError:
                    reason = "ValidationError"
            reasons.append(reason)
        return reasons

    # ------------------------------------------------------------------------ internals

    def _call(
        self,
        operation: str,
        payload: dict[str, Any],
        what: str | None = None,
        *,
        raw_condition_failure: bool = False,
    ) -> dict[str, Any]:
        """One request, with AWS errors turned into the port's."""
        try:
            return self.client.call(operation, payload)
        except aws.ConditionalCheckFailed:
            if raw_condition_failure:
                raise
            raise ConditionFailed(what or operation) from None
        except aws.ValidationFailed as e:
            message = e.message or e.code
            if "size" in message and "exceed" in message:
                raise ItemTooLarge(message) from None
            raise ValidationError(message) from None
        except aws.ResourceNotFound as e:
            raise ResourceNotFound(f"{self.name}: {e.message or e.code}") from None
        except aws.Throttled as e:
            raise Throttled(str(e)) from None

    def _backoff(self, attempt: int) -> None:
        self._sleep(full_jitter(attempt, BACKOFF_BASE, BACKOFF_CAP))

    def _pause_or_give_up(self, attempt: int, left_over: str) -> None:
        """A batch call left work unprocessed (DynamoDB's throttling of batches): wait, or
        raise Throttled once BATCH_ATTEMPTS calls have not finished it."""
        if attempt >= BATCH_ATTEMPTS:
            raise Throttled(left_over)
        self._backoff(attempt)

    def _visible(self, raw: dict[str, Any] | None, now: float) -> Item | None:
        if not raw:
            return None
        item = unmarshal_item(raw)
        return None if self.spec.expired(item, now) else item

    def _expired_raw(self, raw: dict[str, Any], now: float) -> bool:
        if self.spec.ttl is None:
            return False
        exp = raw.get(self.spec.ttl)
        if not exp:
            return False
        return "N" in exp and number(exp["N"]) <= now


# ---------------------------------------------------------------------------- helpers


def _dynamo(table: Table) -> DynamoTable:
    if not isinstance(table, DynamoTable):  # pragma: no cover - _same_backend refuses it first
        raise ValidationError("a transaction must stay within one DynamoDB client")
    return table


def _reason(raw: dict[str, Any]) -> str | None:
    code = (raw or {}).get("Code")
    return None if code in (None, "None") else str(code)
