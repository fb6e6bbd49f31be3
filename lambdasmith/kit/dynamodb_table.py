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

Numbers travel as decimal strings: ints exactly, floats as `repr`; a number read back is an
int when its string is integral, so a float with an integral value (3.0) comes back as 3.
"""

from __future__ import annotations

import binascii
import json
import time

from lambdasmith.kit.aws import errors as aws
from lambdasmith.kit.table import (
    MAX_ITEM_BYTES,
    MAX_TRANSACTION_ITEMS,
    Absent,
    AllOf,
    AttrAbsent,
    AttrEquals,
    Check,
    Condition,
    ConditionFailed,
    Delete,
    Exists,
    Item,
    ItemTooLarge,
    Page,
    Patch,
    Put,
    ResourceNotFound,
    SortKey,
    TableSpec,
    Throttled,
    TransactionCanceled,
    Update,
    ValidationError,
    Write,
    check_item,
    decode_cursor as decode_cursor_key,
    encode_cursor,
    evaluate,
    item_size,
    key_of,
)

TYPE_CHECKING = False  # typing costs a cold start milliseconds; only type checkers need these
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from typing import Any

    from lambdasmith.kit.aws.client import JsonClient

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

_clients: dict[tuple[str, str], JsonClient] = {}


def default_client() -> JsonClient:
    """The process's DynamoDB client for the region and endpoint in the environment.

    Shared, so tables opened separately (`open_table`) can still meet in one transaction.
    """
    from lambdasmith.kit.aws.client import DYNAMODB, JsonClient, endpoint_for
    from lambdasmith.kit.aws.credentials import region as env_region

    region = env_region()
    where = (region, endpoint_for(DYNAMODB, region))
    client = _clients.get(where)
    if client is None:
        client = _clients.setdefault(where, JsonClient(DYNAMODB, region=region, endpoint=where[1]))
    return client


# ---------------------------------------------------------------------------- marshalling

_INF = float("inf")


def marshal(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB AttributeValue."""
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bool):
        return {"BOOL": bool(value)}
    if value is None:
        return {"NULL": True}
    if isinstance(value, int):
        try:
            return {"N": str(int(value))}
        except ValueError:  # beyond Python's int-to-text limit, and far beyond DynamoDB's
            raise ValidationError("number too large for DynamoDB") from None
    if isinstance(value, float):
        if value != value or value in (_INF, -_INF):
            raise ValidationError("NaN and infinity are not numbers DynamoDB stores")
        return {"N": repr(float(value))}
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValidationError("map attribute names must be strings")
            out[k] = marshal(v)
        return {"M": out}
    if isinstance(value, (list, tuple)):
        return {"L": [marshal(v) for v in value]}
    if isinstance(value, (bytes, bytearray)):
        return {"B": binascii.b2a_base64(bytes(value), newline=False).decode("ascii")}
    raise ValidationError(f"unsupported attribute value type {type(value).__name__}")


def unmarshal(av: dict[str, Any]) -> Any:
    """One DynamoDB AttributeValue as a Python value (sets, which we never write, as lists)."""
    for tag, v in av.items():
        if tag == "S":
            return v
        if tag == "N":
            return _number(v)
        if tag == "BOOL":
            return bool(v)
        if tag == "NULL":
            return None
        if tag == "M":
            return {k: unmarshal(x) for k, x in v.items()}
        if tag == "L":
            return [unmarshal(x) for x in v]
        if tag == "B":
            return binascii.a2b_base64(v)
        if tag == "SS":
            return list(v)
        if tag == "NS":
            return [_number(x) for x in v]
        if tag == "BS":
            return [binascii.a2b_base64(x) for x in v]
    raise ValueError(f"unknown AttributeValue {av!r}")


def _number(text: str) -> int | float:
    if "." in text or "e" in text or "E" in text:
        return float(text)
    return int(text)


def marshal_item(item: Item) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise ValidationError("an item must be a dict")
    out = {}
    for k, v in item.items():
        if not isinstance(k, str):
            raise ValidationError("attribute names must be strings")
        out[k] = marshal(v)
    return out


def unmarshal_item(raw: dict[str, Any]) -> Item:
    return {k: unmarshal(v) for k, v in raw.items()}


# ---------------------------------------------------------------------------- expressions


class Expression:
    """Placeholders of one request: `#n0`… for attribute names, `:v0`… for values."""

    __slots__ = ("names", "values", "_name_of", "_const")

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self._name_of: dict[str, str] = {}
        self._const: dict[str, str] = {}

    def name(self, attr: str) -> str:
        ph = self._name_of.get(attr)
        if ph is None:
            if not isinstance(attr, str) or not attr:
                raise ValidationError(f"attribute names must be non-empty strings: {attr!r}")
            ph = self._name_of[attr] = f"#n{len(self.names)}"
            self.names[ph] = attr
        return ph

    def value(self, value: Any) -> str:
        ph = f":v{len(self.values)}"
        self.values[ph] = marshal(value)
        return ph

    def const(self, label: str, value: Any) -> str:
        """A value used in several places of one request (the clock, a type name)."""
        ph = self._const.get(label)
        if ph is None:
            ph = self._const[label] = self.value(value)
        return ph

    def into(self, request: dict[str, Any]) -> dict[str, Any]:
        if self.names:
            request["ExpressionAttributeNames"] = self.names
        if self.values:
            request["ExpressionAttributeValues"] = self.values
        return request


def expired_expr(spec: TableSpec, x: Expression, now: float) -> str:
    """True where the item's TTL attribute is a number not after `now` (TableSpec.expired)."""
    assert spec.ttl is not None
    t = x.name(spec.ttl)
    return f"(attribute_type({t}, {x.const('N', 'N')}) AND {t} <= {x.const('now', now)})"


def unexpired_expr(spec: TableSpec, x: Expression, now: float) -> str:
    """The negation of `expired_expr`; also true for a missing item."""
    assert spec.ttl is not None
    t = x.name(spec.ttl)
    return f"(NOT attribute_type({t}, {x.const('N', 'N')}) OR {t} > {x.const('now', now)})"


def compile_condition(
    spec: TableSpec, condition: Condition | None, x: Expression, now: float
) -> str | None:
    """A ConditionExpression agreeing with `table.evaluate`, TTL included; None: always true."""
    ttl = spec.ttl is not None
    match condition:
        case None:
            return None
        case Absent():
            e = f"attribute_not_exists({x.name(spec.pk)})"
            return f"({e} OR {expired_expr(spec, x, now)})" if ttl else e
        case Exists():
            e = f"attribute_exists({x.name(spec.pk)})"
            return f"({e} AND {unexpired_expr(spec, x, now)})" if ttl else e
        case AttrEquals(attr, value):
            _check_value(value)
            # `=` is false for a missing attribute and across types (a BOOL is never a number).
            e = f"{x.name(attr)} = {x.value(value)}"
            return f"({e} AND {unexpired_expr(spec, x, now)})" if ttl else e
        case AttrAbsent(attr):
            e = f"attribute_not_exists({x.name(attr)})"
            return f"({e} OR {expired_expr(spec, x, now)})" if ttl else e
        case AllOf(conditions):
            parts = [compile_condition(spec, c, x, now) for c in conditions]
            kept = [p for p in parts if p is not None]
            if not kept:
                return None
            return kept[0] if len(kept) == 1 else "(" + " AND ".join(kept) + ")"
    raise TypeError(f"not a condition: {condition!r}")


def compile_update(update: Update, x: Expression) -> str | None:
    """An UpdateExpression: SET (with if_not_exists), ADD, REMOVE; None for an empty update."""
    sets = [f"{x.name(a)} = {x.value(v)}" for a, v in update.set.items()]
    for a, v in update.set_if_absent.items():
        n = x.name(a)
        sets.append(f"{n} = if_not_exists({n}, {x.value(v)})")
    adds = [f"{x.name(a)} {x.value(v)}" for a, v in update.add.items()]
    removes = [x.name(a) for a in update.remove]
    clauses = []
    if sets:
        clauses.append("SET " + ", ".join(sets))
    if adds:
        clauses.append("ADD " + ", ".join(adds))
    if removes:
        clauses.append("REMOVE " + ", ".join(removes))
    return " ".join(clauses) or None


def sort_key_expr(cond: SortKey, attr: str, x: Expression) -> str | None:
    """The sort-key half of a KeyConditionExpression (None: no restriction)."""
    if not isinstance(cond, SortKey):
        raise ValidationError(f"not a SortKey: {cond!r}")
    op, value = cond.op, cond.value
    if op in ("=", "<", "<=", ">", ">="):
        _check_text(value, "sort-key value")
        return f"{x.name(attr)} {op} {x.value(value)}"
    if op == "begins_with":
        if not isinstance(value, str):
            raise ValidationError("begins_with needs a string prefix")
        if not value:
            return None  # every string begins with "", and DynamoDB refuses an empty key value
        _check_text(value, "sort-key prefix")
        return f"begins_with({x.name(attr)}, {x.value(value)})"
    if op == "between":
        if not isinstance(value, (tuple, list)) or len(value) != 2:
            raise ValidationError("between needs a (low, high) pair")
        low, high = value
        _check_text(low, "sort-key low bound")
        _check_text(high, "sort-key high bound")
        if low.encode() > high.encode():
            raise ValidationError("between needs low <= high")
        return f"{x.name(attr)} BETWEEN {x.value(low)} AND {x.value(high)}"
    raise ValidationError(f"unknown sort-key operator {op!r}")


# ---------------------------------------------------------------------------- the table


class DynamoTable:
    """One DynamoDB table (`name` is its physical name) described by `spec`.

    `client` defaults to the shared client for the region and endpoint of the environment
    (AWS_REGION, AWS_ENDPOINT_URL_DYNAMODB), built on first use. Tables meet in a transaction
    only when they share one client object, i.e. one account, region and endpoint.
    """

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

    # ------------------------------------------------------------------------ single items

    def get(self, key: Item) -> Item | None:
        k = self._key(key)
        resp = self._call(
            "GetItem", {"TableName": self.name, "Key": marshal_item(k), "ConsistentRead": True}
        )
        return self._visible(resp.get("Item"), time.time())

    def put(self, item: Item, condition: Condition | None = None) -> None:
        raw = self._prepare(item)
        x = Expression()
        request: dict[str, Any] = {"TableName": self.name, "Item": raw}
        cond = compile_condition(self.spec, condition, x, time.time())
        if cond is not None:
            request["ConditionExpression"] = cond
        self._call("PutItem", x.into(request), f"put into {self.name!r}")

    def update(self, key: Item, update: Update, condition: Condition | None = None) -> Item:
        k = self._key(key)
        self._check_update(update)
        if item_size({**k, **update.set, **update.add}) > MAX_ITEM_BYTES:  # too big in any case
            raise ItemTooLarge(f"item exceeds {MAX_ITEM_BYTES} bytes")
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
            raw = self._prepare(fresh)
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

    def delete(self, key: Item, condition: Condition | None = None) -> Item | None:
        k = self._key(key)
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

    def query(
        self,
        pk: str,
        sk: SortKey | None = None,
        *,
        index: str | None = None,
        limit: int = 100,
        descending: bool = False,
        cursor: str | None = None,
    ) -> Page:
        """Items of one partition in sort-key order; see the module docstring on GSIs
        (eventually consistent on AWS) and on full pages."""
        _check_text(pk, "partition key")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValidationError("limit must be an integer >= 1")
        try:
            ipk, isk = self.spec.index(index)
        except KeyError as e:
            raise ValidationError(str(e)) from None
        names = self._cursor_names(index)
        start = decode_cursor(cursor, names, ipk, pk)

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
            if start is not None:
                page_request["ExclusiveStartKey"] = start
            resp = self._call("Query", page_request)
            found.extend(
                raw for raw in resp.get("Items") or [] if not self._expired_raw(raw, now)
            )
            start = resp.get("LastEvaluatedKey")
            if not start:
                break
        if len(found) <= limit:
            return Page([unmarshal_item(raw) for raw in found], None)
        found = found[:limit]
        last = found[-1]
        return Page([unmarshal_item(raw) for raw in found], encode_cursor({n: last[n] for n in names}))

    # ------------------------------------------------------------------------ batches

    def batch_get(self, keys: Iterable[Item]) -> list[Item]:
        wanted = list(dict.fromkeys(self._key_pair(k) for k in keys))
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
                    if attempt >= BATCH_ATTEMPTS:
                        raise Throttled(f"batch_get on {self.name!r}: keys left unprocessed")
                    self._backoff(attempt)
        return found

    def batch_put(self, items: Iterable[Item]) -> None:
        # Validate everything before writing anything; a repeated key keeps its last item
        # (DynamoDB refuses a batch holding one key twice).
        prepared: dict[tuple[str, str], dict[str, Any]] = {}
        for item in items:
            raw = self._prepare(item)
            prepared[(item[self.spec.pk], item[self.spec.sk])] = raw
        requests = [{"PutRequest": {"Item": raw}} for raw in prepared.values()]
        for i in range(0, len(requests), BATCH_WRITE_MAX):
            pending: dict[str, Any] = {self.name: requests[i : i + BATCH_WRITE_MAX]}
            attempt = 0
            while pending:
                resp = self._call("BatchWriteItem", {"RequestItems": pending})
                pending = {t: v for t, v in (resp.get("UnprocessedItems") or {}).items() if v}
                if pending:
                    attempt += 1
                    if attempt >= BATCH_ATTEMPTS:
                        raise Throttled(f"batch_put on {self.name!r}: items left unprocessed")
                    self._backoff(attempt)

    # ------------------------------------------------------------------------ transactions

    def transact(self, writes: Sequence[Write], *, client_token: str | None = None) -> None:
        """All or nothing (TransactWriteItems). `client_token` makes a retry of the same call
        idempotent for ten minutes (DynamoDB's ClientRequestToken)."""
        writes = list(writes)
        if not writes:
            return
        if len(writes) > MAX_TRANSACTION_ITEMS:
            raise ValidationError(f"a transaction holds at most {MAX_TRANSACTION_ITEMS} writes")
        client = self.client
        plan = [self._plan(w, client) for w in writes]
        seen: set[tuple[str, str, str]] = set()
        for table, _, key in plan:
            ident = (table.name, key[table.spec.pk], key[table.spec.sk])
            if ident in seen:
                raise ValidationError("a transaction may touch each item only once")
            seen.add(ident)

        # A Patch goes out as an Update guarded against expiry ("live" form) or, when the item
        # is absent or expired, as a conditional Put of the fresh item ("fresh" form).
        fresh = [False] * len(plan)
        reasons: list[str | None] = []
        replanned: set[int] = set()
        for attempt in range(1, TRANSACT_ATTEMPTS + 1):
            now = time.time()
            request: dict[str, Any] = {
                "TransactItems": [
                    table._transact_item(op, key, fresh[i], now)
                    for i, (table, op, key) in enumerate(plan)
                ]
            }
            if client_token is not None:
                request["ClientRequestToken"] = client_token
            try:
                client.call("TransactWriteItems", request)
                return
            except aws.TransactionCanceled as e:
                raw_reasons = list(e.body.get("CancellationReasons") or [])
                raw_reasons += [{}] * (len(plan) - len(raw_reasons))
                reasons = [_reason(r) for r in raw_reasons]
            except aws.ValidationFailed as e:
                # DynamoDB Local reports e.g. an ADD to text as a request error; AWS cancels.
                found = self._diagnose(plan)
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
            for i, (table, op, key) in enumerate(plan):
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

    def _plan(self, write: Write, client: Any) -> tuple[DynamoTable, Any, Item]:
        """Validate one transaction write up front, before anything is sent."""
        if not isinstance(write, Write):
            raise ValidationError(f"not a Write: {write!r}")
        table, op = write.table, write.op
        if not isinstance(table, DynamoTable) or table.client is not client:
            raise ValidationError("a transaction must stay within one DynamoDB client (endpoint)")
        if isinstance(op, Put):
            table._prepare(op.item)
            return table, op, key_of(table.spec, op.item)
        if isinstance(op, Patch):
            table._check_update(op.update)
        elif isinstance(op, Check):
            if op.condition is None:
                raise ValidationError("a Check needs a condition")
        elif not isinstance(op, Delete):
            raise ValidationError(f"not a transaction operation: {op!r}")
        _check_condition(op.condition)
        return table, op, table._key(op.key)

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
                    check_item(table.spec, op.update.apply(current, key))
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
        import random

        self._sleep(random.random() * min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))

    def _visible(self, raw: dict[str, Any] | None, now: float) -> Item | None:
        if not raw:
            return None
        item = unmarshal_item(raw)
        return None if self.spec.expired(item, now) else item

    def _expired_raw(self, raw: dict[str, Any], now: float) -> bool:
        if self.spec.ttl is None:
            return False
        exp = raw.get(self.spec.ttl)
        return bool(exp) and "N" in exp and _number(exp["N"]) <= now

    def _key(self, key: Item) -> Item:
        pk, sk = self._key_pair(key)
        return {self.spec.pk: pk, self.spec.sk: sk}

    def _key_pair(self, key: Item) -> tuple[str, str]:
        if not isinstance(key, dict):
            raise ValidationError("a key must be a dict")
        k = key_of(self.spec, key)
        if len(key) != len(k):
            raise ValidationError(f"a key holds only {self.spec.pk!r} and {self.spec.sk!r}")
        pk, sk = k[self.spec.pk], k[self.spec.sk]
        _check_text(pk, self.spec.pk)
        _check_text(sk, self.spec.sk)
        return pk, sk

    def _prepare(self, item: Item) -> dict[str, Any]:
        """Validate an item to be stored (keys, index keys, 400 KB); its marshalled form."""
        if not isinstance(item, dict) or not all(isinstance(k, str) for k in item):
            raise ValidationError("an item must be a dict with string attribute names")
        try:
            check_item(self.spec, item)
        except (TypeError, ValueError) as e:  # e.g. text that is not valid Unicode
            raise ValidationError(f"unsupported attribute value: {e}") from None
        return marshal_item(item)

    def _check_update(self, update: Update) -> None:
        if not isinstance(update, Update):
            raise ValidationError(f"not an Update: {update!r}")
        if isinstance(update.remove, str):
            raise ValidationError("Update.remove is a sequence of attribute names")
        clauses = (update.set, update.set_if_absent, update.add, update.remove)
        named = [a for clause in clauses for a in clause]
        if len(named) != len(set(named)):
            raise ValidationError("an attribute may appear in one update clause only")
        if not all(isinstance(a, str) and a for a in named):
            raise ValidationError("attribute names must be non-empty strings")
        for a in (self.spec.pk, self.spec.sk):
            if a in named:
                raise ValidationError(f"cannot update key attribute {a!r}")
        for a, v in update.add.items():
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise ValidationError(f"ADD needs a number for {a!r}")
        index_keys = {a for ix in self.spec.indexes for a in (ix.pk, ix.sk)}
        for a in index_keys.intersection(update.add):
            raise ValidationError(f"index key attribute {a!r} must be a non-empty string")
        for clause in (update.set, update.set_if_absent):
            for a in index_keys.intersection(clause):
                if not isinstance(clause[a], str) or not clause[a]:
                    raise ValidationError(f"index key attribute {a!r} must be a non-empty string")
        for clause in (update.set, update.set_if_absent, update.add):
            for v in clause.values():
                _check_value(v)

    def _cursor_names(self, index: str | None) -> set[str]:
        names = {self.spec.pk, self.spec.sk}
        if index is not None:
            names.update(self.spec.index(index))
        return names


# ---------------------------------------------------------------------------- tables


def create_table(
    spec: TableSpec,
    name: str,
    client: JsonClient | None = None,
    *,
    timeout: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Create the table of `spec` as `name` (on-demand, keys S/S, each GSI projecting ALL),
    wait until it and its indexes are ACTIVE, and turn TTL on if the spec has one.

    Idempotent: an existing table is accepted when its key schema matches, and TTL that is
    already on is left alone. For tests and setup commands; AWS errors pass through as
    `lambdasmith.kit.aws.errors` exceptions.
    """
    client = client or default_client()
    attributes = [spec.pk, spec.sk] + [a for ix in spec.indexes for a in (ix.pk, ix.sk)]
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in dict.fromkeys(attributes)
        ],
        "KeySchema": _key_schema(spec.pk, spec.sk),
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": ix.name,
                "KeySchema": _key_schema(ix.pk, ix.sk),
                "Projection": {"ProjectionType": "ALL"},
            }
            for ix in spec.indexes
        ]
    try:
        client.call("CreateTable", request)
    except aws.AwsError as e:
        if e.code != "ResourceInUseException":
            raise
    description = _wait_until_active(client, name, timeout, sleep)
    if description.get("KeySchema") != request["KeySchema"]:
        raise ValidationError(f"table {name!r} exists with another key schema")
    present = {ix.get("IndexName") for ix in description.get("GlobalSecondaryIndexes") or []}
    missing = [ix.name for ix in spec.indexes if ix.name not in present]
    if missing:
        raise ValidationError(f"table {name!r} exists without the indexes {missing}")
    if spec.ttl is not None:
        _enable_ttl(client, name, spec.ttl)


def delete_table(
    name: str,
    client: JsonClient | None = None,
    *,
    timeout: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
) -> bool:
    """Delete the table and wait until it is gone; False if there was none."""
    client = client or default_client()
    try:
        client.call("DeleteTable", {"TableName": name})
    except aws.ResourceNotFound:
        return False
    deadline = time.monotonic() + timeout
    while True:
        try:
            client.call("DescribeTable", {"TableName": name})
        except aws.ResourceNotFound:
            return True
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {name!r} still exists after {timeout:.0f}s")
        sleep(0.5)


def _key_schema(pk: str, sk: str) -> list[dict[str, str]]:
    return [{"AttributeName": pk, "KeyType": "HASH"}, {"AttributeName": sk, "KeyType": "RANGE"}]


def _wait_until_active(
    client: Any, name: str, timeout: float, sleep: Callable[[float], None]
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        table = client.call("DescribeTable", {"TableName": name}).get("Table") or {}
        indexes = table.get("GlobalSecondaryIndexes") or []
        if table.get("TableStatus") == "ACTIVE" and all(
            ix.get("IndexStatus", "ACTIVE") == "ACTIVE" for ix in indexes
        ):
            return table
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {name!r} not ACTIVE after {timeout:.0f}s")
        sleep(delay)
        delay = min(delay * 2, 2.0)


def _enable_ttl(client: Any, name: str, attribute: str) -> None:
    try:
        now = client.call("DescribeTimeToLive", {"TableName": name}).get("TimeToLiveDescription")
    except aws.AwsError as e:
        if e.code == "UnknownOperationException":  # an emulator without TTL: reads filter anyway
            return
        raise
    now = now or {}
    if now.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"):
        if now.get("AttributeName") != attribute:
            raise ValidationError(
                f"table {name!r} has TTL on {now.get('AttributeName')!r}, not {attribute!r}"
            )
        return
    try:
        client.call(
            "UpdateTimeToLive",
            {
                "TableName": name,
                "TimeToLiveSpecification": {"Enabled": True, "AttributeName": attribute},
            },
        )
    except aws.ValidationFailed as e:
        if "already enabled" not in (e.message or "").lower():  # a race with another setup
            raise


# ---------------------------------------------------------------------------- cursors

def decode_cursor(
    cursor: str | None, names: set[str], pk_name: str, pk: str
) -> dict[str, Any] | None:
    """The ExclusiveStartKey inside a cursor, checked against the query it resumes."""
    if cursor is None:
        return None
    key = decode_cursor_key(cursor, names)
    for v in key.values():
        if not isinstance(v, dict) or list(v) != ["S"] or not isinstance(v["S"], str) or not v["S"]:
            raise ValidationError("malformed cursor")
        _check_text(v["S"], "cursor key")
    if key[pk_name]["S"] != pk:
        raise ValidationError("cursor belongs to another partition")
    return key


# ---------------------------------------------------------------------------- helpers


def _reason(raw: dict[str, Any]) -> str | None:
    code = (raw or {}).get("Code")
    return None if code in (None, "None") else str(code)


def _check_text(value: Any, what: str) -> None:
    if not isinstance(value, str) or not value:
        raise ValidationError(f"{what} must be a non-empty string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(f"{what} is not valid Unicode text") from None


def _check_value(value: Any) -> None:
    """A value in an expression: representable, and valid Unicode text throughout."""
    try:
        item_size({"v": value})
    except (TypeError, ValueError) as e:
        raise ValidationError(f"unsupported attribute value: {e}") from None


def _check_condition(condition: Any) -> None:
    if condition is not None and not isinstance(
        condition, (Absent, Exists, AttrEquals, AttrAbsent, AllOf)
    ):
        raise TypeError(f"not a condition: {condition!r}")
