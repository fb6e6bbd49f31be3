"""The DynamoDB table backend beyond the conformance suite: marshalling, compiled expressions,
cursors, batch retries (with a scripted client), and against DynamoDB Local the table setup and
the paths only DynamoDB needs (expired items re-planned in transactions, empty patches)."""

from __future__ import annotations

import base64
import json
import os
import random
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, Iterator

import pytest

from lambdasmith.kit.aws import errors as aws
from lambdasmith.kit.aws.client import DYNAMODB, JsonClient
from lambdasmith.kit.backends import open_table
from lambdasmith.kit.table.cursors import (
    decode_cursor,
    encode_cursor,
)
from lambdasmith.kit.table.dynamodb.admin import (
    create_table,
    delete_table,
)
from lambdasmith.kit.table.dynamodb.expressions import (
    Expression,
    compile_condition,
    compile_update,
    sort_key_expr,
)
from lambdasmith.kit.table.dynamodb.marshal import (
    marshal,
    marshal_item,
    unmarshal,
    unmarshal_item,
)
from lambdasmith.kit.table.dynamodb.table import (
    BACKOFF_BASE,
    BACKOFF_CAP,
    BATCH_ATTEMPTS,
    DynamoTable,
)
from lambdasmith.kit.table.port import (
    Absent,
    AllOf,
    AttrAbsent,
    AttrEquals,
    Check,
    ConditionFailed,
    Exists,
    Index,
    ItemTooLarge,
    Patch,
    Put,
    SortKey,
    TableSpec,
    Throttled,
    TransactionCanceled,
    Update,
    ValidationError,
    Write,
)

PLAIN = TableSpec("plain")
THINGS = TableSpec("things", indexes=(Index("byOwner", "GSI1PK", "GSI1SK"),), ttl="expires")
NOW = 1_700_000_000.5
PAST = int(time.time()) - 3600
FUTURE = int(time.time()) + 86400 * 365


# ---------------------------------------------------------------------------- marshalling


def test_marshal_uses_dynamodb_json() -> None:
    assert marshal("") == {"S": ""}
    assert marshal(42) == {"N": "42"}
    assert marshal(-0.25) == {"N": "-0.25"}
    assert marshal(2**70) == {"N": str(2**70)}
    assert marshal(True) == {"BOOL": True}
    assert marshal(None) == {"NULL": True}
    assert marshal(b"\x00\x01\xff") == {"B": "AAH/"}
    assert marshal(("a", 1)) == {"L": [{"S": "a"}, {"N": "1"}]}
    assert marshal({"k": [False]}) == {"M": {"k": {"L": [{"BOOL": False}]}}}


def test_nested_values_round_trip() -> None:
    item = {
        "PK": "p",
        "SK": "s",
        "empty": "",
        "text": "héllo 😀",
        "ints": [0, -42, 2**53 + 1, 10**30],
        "floats": [1.5, -0.25, 1e-7, 0.1 + 0.2, 123456.789],
        "flags": {"yes": True, "no": False, "none": None},
        "deep": {"a": [{"b": [[], {}, [b"\x00raw"]]}]},
        "bytes": b"\xde\xad\xbe\xef",
    }

    back = unmarshal_item(json.loads(json.dumps(marshal_item(item))))

    assert back == item
    assert [type(n) for n in back["ints"]] == [int] * 4
    assert [type(n) for n in back["floats"]] == [float] * 5
    assert back["flags"]["yes"] is True and back["flags"]["none"] is None
    assert type(back["bytes"]) is bytes


def test_numbers_read_back_as_int_only_when_integral() -> None:
    assert unmarshal({"N": "7"}) == 7 and type(unmarshal({"N": "7"})) is int
    assert unmarshal({"N": "-12345678901234567890"}) == -12345678901234567890
    assert type(unmarshal({"N": "3.0"})) is float
    assert unmarshal({"N": "1E+2"}) == 100.0 and type(unmarshal({"N": "1E+2"})) is float
    assert unmarshal({"N": "0.0000001"}) == 1e-7


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), -float("inf"), {1: "x"}, {"ok": object()}, {"s"}],
    ids=["nan", "inf", "-inf", "int-key", "object", "set"],
)
def test_values_outside_the_model_are_rejected(value: object) -> None:
    with pytest.raises(ValidationError):
        marshal(value)


# ---------------------------------------------------------------------------- expressions


def _compiled(spec: TableSpec, condition: Any) -> tuple[str | None, dict, dict]:
    x = Expression()
    expr = compile_condition(spec, condition, x, NOW)
    return expr, x.names, x.values


def test_conditions_without_ttl() -> None:
    assert _compiled(PLAIN, None) == (None, {}, {})
    assert _compiled(PLAIN, Absent()) == ("attribute_not_exists(#n0)", {"#n0": "PK"}, {})
    assert _compiled(PLAIN, Exists()) == ("attribute_exists(#n0)", {"#n0": "PK"}, {})
    assert _compiled(PLAIN, AttrEquals("state", "open")) == (
        "#n0 = :v0",
        {"#n0": "state"},
        {":v0": {"S": "open"}},
    )
    assert _compiled(PLAIN, AttrAbsent("a.b")) == ("attribute_not_exists(#n0)", {"#n0": "a.b"}, {})
    assert _compiled(PLAIN, AllOf((Exists(), AttrEquals("v", 3)))) == (
        "(attribute_exists(#n0) AND #n1 = :v0)",
        {"#n0": "PK", "#n1": "v"},
        {":v0": {"N": "3"}},
    )


def test_empty_and_nested_all_of() -> None:
    assert _compiled(PLAIN, AllOf(())) == (None, {}, {})
    assert _compiled(PLAIN, AllOf((AllOf(()), Absent())))[0] == "attribute_not_exists(#n0)"


def test_ttl_is_folded_into_every_condition() -> None:
    expired = "(attribute_type(#n1, :v0) AND #n1 <= :v1)"
    live = "(NOT attribute_type(#n1, :v0) OR #n1 > :v1)"
    clock = {":v0": {"S": "N"}, ":v1": {"N": repr(NOW)}}

    assert _compiled(THINGS, Absent()) == (
        f"(attribute_not_exists(#n0) OR {expired})",
        {"#n0": "PK", "#n1": "expires"},
        clock,
    )
    assert _compiled(THINGS, Exists()) == (
        f"(attribute_exists(#n0) AND {live})",
        {"#n0": "PK", "#n1": "expires"},
        clock,
    )
    expr, names, values = _compiled(THINGS, AttrEquals("state", "open"))
    assert expr == "(#n0 = :v0 AND (NOT attribute_type(#n1, :v1) OR #n1 > :v2))"
    assert names == {"#n0": "state", "#n1": "expires"}
    assert values[":v0"] == {"S": "open"} and values[":v2"] == {"N": repr(NOW)}
    expr, _, _ = _compiled(THINGS, AttrAbsent("state"))
    assert expr == "(attribute_not_exists(#n0) OR (attribute_type(#n1, :v0) AND #n1 <= :v1))"


def test_the_clock_and_type_values_are_shared_within_one_expression() -> None:
    expr, names, values = _compiled(THINGS, AllOf((Exists(), AttrAbsent("x"))))

    assert len(values) == 2 and list(names.values()).count("expires") == 1
    assert expr is not None and expr.count(":v1") == 2


def test_an_unmarshallable_condition_value_is_rejected() -> None:
    with pytest.raises(ValidationError):
        _compiled(PLAIN, AttrEquals("v", float("nan")))
    with pytest.raises(TypeError):
        _compiled(PLAIN, "attribute_exists(PK)")


def test_update_expression_has_every_clause() -> None:
    x = Expression()
    update = Update(set={"a": 1}, set_if_absent={"b": "x"}, add={"n": -2}, remove=("gone",))

    assert compile_update(update, x) == (
        "SET #n0 = :v0, #n1 = if_not_exists(#n1, :v1) ADD #n2 :v2 REMOVE #n3"
    )
    assert x.names == {"#n0": "a", "#n1": "b", "#n2": "n", "#n3": "gone"}
    assert x.values == {":v0": {"N": "1"}, ":v1": {"S": "x"}, ":v2": {"N": "-2"}}
    assert compile_update(Update(), Expression()) is None


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (SortKey.eq("a"), "#n0 = :v0"),
        (SortKey.lt("a"), "#n0 < :v0"),
        (SortKey.le("a"), "#n0 <= :v0"),
        (SortKey.gt("a"), "#n0 > :v0"),
        (SortKey.ge("a"), "#n0 >= :v0"),
        (SortKey.begins_with("a"), "begins_with(#n0, :v0)"),
        (SortKey.between("a", "b"), "#n0 BETWEEN :v0 AND :v1"),
        (SortKey.begins_with(""), None),
    ],
)
def test_sort_key_expressions(condition: SortKey, expected: str | None) -> None:
    assert sort_key_expr(condition, "SK", Expression()) == expected


# ---------------------------------------------------------------------------- cursors


class Scripted:
    """A stand-in for JsonClient: answers each call with the next scripted response (a dict,
    or an exception to raise) and records what was asked."""

    def __init__(self, *responses: Any, endpoint: str = "http://scripted"):
        self.responses = list(responses)
        self.calls: list[tuple[str, dict]] = []
        self.endpoint = endpoint

    def call(self, operation: str, payload: dict) -> dict:
        self.calls.append((operation, json.loads(json.dumps(payload))))
        response = self.responses.pop(0) if self.responses else {}
        if isinstance(response, BaseException):
            raise response
        return response


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def test_a_cursor_round_trips_and_resumes_the_query() -> None:
    key = {"PK": {"S": "p"}, "SK": {"S": "b"}}
    cursor = encode_cursor(key)
    client = Scripted({"Items": []})
    table = DynamoTable(PLAIN, "tbl", client)  # type: ignore[arg-type]

    assert decode_cursor(cursor, {"PK", "SK"}) == key
    table.query("p", cursor=cursor)
    assert client.calls[0][1]["ExclusiveStartKey"] == key


@pytest.mark.parametrize(
    "cursor",
    [
        _b64(json.dumps({"PK": {"S": "q"}, "SK": {"S": "b"}}).encode()),  # another partition
        _b64(json.dumps({"PK": "p", "SK": "b"}).encode()),  # not marshalled
        _b64(json.dumps({"PK": {"S": "p"}, "SK": {"N": "1"}}).encode()),  # not a string key
        _b64(json.dumps({"PK": {"S": "p"}, "SK": {"S": ""}}).encode()),  # empty key
        _b64(json.dumps({"PK": {"S": "p"}, "SK": {"S": "b", "N": "1"}}).encode()),
        _b64(json.dumps({"PK": {"S": "p"}, "SK": {"S": "b"}, "x": {"S": "y"}}).encode()),
        encode_cursor({"PK": {"S": "p"}, "SK": {"S": "b"}})[:-2],  # truncated
        encode_cursor({"PK": {"S": "p"}, "SK": {"S": "b"}}) + "!",
        "a+b/",
    ],
)
def test_tampered_cursors_are_rejected_before_any_request(cursor: str) -> None:
    client = Scripted()
    table = DynamoTable(PLAIN, "tbl", client)  # type: ignore[arg-type]

    with pytest.raises(ValidationError):
        table.query("p", cursor=cursor)
    assert client.calls == []


def test_an_index_cursor_carries_both_keys_and_fits_only_its_index() -> None:
    table_key = {"PK": {"S": "t"}, "SK": {"S": "meta"}}
    index_cursor = encode_cursor({**table_key, "GSI1PK": {"S": "o"}, "GSI1SK": {"S": "x"}})
    table = DynamoTable(THINGS, "tbl", Scripted({"Items": []}, {"Items": []}))  # type: ignore[arg-type]

    table.query("o", index="byOwner", cursor=index_cursor)
    with pytest.raises(ValidationError):
        table.query("o", cursor=index_cursor)
    with pytest.raises(ValidationError):
        table.query("o", index="byOwner", cursor=encode_cursor(table_key))


def test_a_page_is_filled_across_requests_and_the_cursor_is_the_last_item_returned() -> None:
    def raw(sk: str, expires: int | None = None) -> dict:
        item = {"PK": "p", "SK": sk} if expires is None else {"PK": "p", "SK": sk, "expires": expires}
        return marshal_item(item)

    client = Scripted(
        # The filter already dropped expired items, so DynamoDB returns short pages.
        {"Items": [raw("a")], "LastEvaluatedKey": raw("c")},
        {"Items": [raw("d"), raw("e")], "LastEvaluatedKey": raw("e")},
    )
    table = DynamoTable(THINGS, "tbl", client)  # type: ignore[arg-type]

    page = table.query("p", limit=2)

    assert [i["SK"] for i in page.items] == ["a", "d"]
    assert [c[1]["Limit"] for c in client.calls] == [3, 2]
    assert client.calls[1][1]["ExclusiveStartKey"] == raw("c")
    assert decode_cursor(page.cursor, {"PK", "SK"}) == raw("d")
    assert client.calls[0][1]["ConsistentRead"] is True
    assert "attribute_type" in client.calls[0][1]["FilterExpression"]


# ---------------------------------------------------------------------------- batches


def _items(n: int) -> list[dict]:
    return [{"PK": "p", "SK": f"{i:03d}", "n": i} for i in range(n)]


def test_unprocessed_items_are_retried_after_a_jittered_backoff() -> None:
    items = _items(3)
    left = {"tbl": [{"PutRequest": {"Item": marshal_item(items[1])}}]}
    client = Scripted({"UnprocessedItems": left}, {"UnprocessedItems": {}})
    slept: list[float] = []
    table = DynamoTable(PLAIN, "tbl", client, sleep=slept.append)  # type: ignore[arg-type]

    table.batch_put(items)

    assert [op for op, _ in client.calls] == ["BatchWriteItem", "BatchWriteItem"]
    assert len(client.calls[0][1]["RequestItems"]["tbl"]) == 3
    assert client.calls[1][1] == {"RequestItems": left}
    assert len(slept) == 1 and 0 <= slept[0] <= BACKOFF_CAP


@pytest.mark.parametrize("draw", [1.0, 0.5])
def test_items_left_unprocessed_too_long_raise_throttled(
    draw: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(random, "random", lambda: draw)  # the jitter's draw, pinned
    left = {"tbl": [{"PutRequest": {"Item": marshal_item(_items(1)[0])}}]}
    client = Scripted(*[{"UnprocessedItems": left}] * (BATCH_ATTEMPTS + 5))
    slept: list[float] = []
    table = DynamoTable(PLAIN, "tbl", client, sleep=slept.append)  # type: ignore[arg-type]

    with pytest.raises(Throttled):
        table.batch_put(_items(1))

    assert len(client.calls) == BATCH_ATTEMPTS
    ceilings = [min(BACKOFF_CAP, BACKOFF_BASE * 2**n) for n in range(1, BATCH_ATTEMPTS)]
    assert slept == pytest.approx([draw * c for c in ceilings])  # full jitter of a growing cap


def test_batch_put_chunks_by_25_after_collapsing_repeated_keys() -> None:
    client = Scripted()
    table = DynamoTable(PLAIN, "tbl", client)  # type: ignore[arg-type]

    table.batch_put(_items(60) + [{"PK": "p", "SK": "000", "n": "last"}])

    sizes = [len(p["RequestItems"]["tbl"]) for _, p in client.calls]
    assert sizes == [25, 25, 10]
    first = client.calls[0][1]["RequestItems"]["tbl"][0]["PutRequest"]["Item"]
    assert first["n"] == {"S": "last"}


def test_unprocessed_keys_are_retried_and_chunks_hold_100() -> None:
    keys = [{"PK": "p", "SK": f"{i:03d}"} for i in range(150)]
    found = [marshal_item({**k, "n": 1}) for k in keys[:2]]
    client = Scripted(
        {"Responses": {"tbl": found[:1]}, "UnprocessedKeys": {"tbl": {"Keys": [marshal_item(keys[1])], "ConsistentRead": True}}},
        {"Responses": {"tbl": found[1:]}},
        {"Responses": {"tbl": []}},
    )
    table = DynamoTable(PLAIN, "tbl", client, sleep=lambda s: None)  # type: ignore[arg-type]

    got = table.batch_get(keys)

    assert got == [{**keys[0], "n": 1}, {**keys[1], "n": 1}]
    assert [len(p["RequestItems"]["tbl"]["Keys"]) for _, p in client.calls] == [100, 1, 50]
    assert all(p["RequestItems"]["tbl"]["ConsistentRead"] for _, p in client.calls)


# ---------------------------------------------------------------------------- errors and transactions


def _canceled(*codes: str) -> aws.TransactionCanceled:
    body = {"CancellationReasons": [{"Code": c} for c in codes]}
    return aws.TransactionCanceled("TransactionCanceledException", "", 400, body)


def test_cancellation_reasons_come_back_in_the_ports_vocabulary() -> None:
    client = Scripted(_canceled("None", "ConditionalCheckFailed"))
    table = DynamoTable(PLAIN, "tbl", client)  # type: ignore[arg-type]

    with pytest.raises(TransactionCanceled) as e:
        table.transact(
            [Write(table, Put({"PK": "a", "SK": "s"})), Write(table, Check({"PK": "b", "SK": "s"}, Exists()))]
        )

    assert e.value.reasons == [None, "ConditionalCheckFailed"]
    sent = client.calls[0][1]["TransactItems"]
    assert set(sent[0]) == {"Put"} and sent[0]["Put"]["TableName"] == "tbl"
    assert sent[1]["ConditionCheck"]["ConditionExpression"] == "attribute_exists(#n0)"


def test_a_conflicting_transaction_is_retried() -> None:
    client = Scripted(_canceled("TransactionConflict", "None"), {})
    table = DynamoTable(PLAIN, "tbl", client, sleep=lambda s: None)  # type: ignore[arg-type]

    table.transact(
        [Write(table, Put({"PK": "a", "SK": "s"})), Write(table, Put({"PK": "b", "SK": "s"}))],
        client_token="tok-1",
    )

    assert len(client.calls) == 2
    assert client.calls[1][1]["ClientRequestToken"] == "tok-1"


def test_tables_on_different_clients_cannot_share_a_transaction() -> None:
    one, two = Scripted(), Scripted()
    a = DynamoTable(PLAIN, "tbl", one)  # type: ignore[arg-type]
    b = DynamoTable(PLAIN, "tbl2", two)  # type: ignore[arg-type]

    with pytest.raises(ValidationError):
        a.transact([Write(a, Put({"PK": "a", "SK": "s"})), Write(b, Put({"PK": "a", "SK": "s"}))])
    assert one.calls == [] and two.calls == []


def test_service_errors_become_port_errors() -> None:
    table = DynamoTable(
        PLAIN,
        "tbl",
        Scripted(  # type: ignore[arg-type]
            aws.ConditionalCheckFailed("ConditionalCheckFailedException", "", 400),
            aws.ValidationFailed("ValidationException", "Item size has exceeded the maximum allowed size", 400),
            aws.ValidationFailed("ValidationException", "Number overflow", 400),
        ),
    )
    with pytest.raises(ConditionFailed):
        table.put({"PK": "a", "SK": "s"}, Absent())
    with pytest.raises(ItemTooLarge):
        table.put({"PK": "a", "SK": "s"})
    with pytest.raises(ValidationError):
        table.put({"PK": "a", "SK": "s"})


# ---------------------------------------------------------------------------- fork


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_reuse_the_parents_pool() -> None:
    client = JsonClient(DYNAMODB, region="us-east-1", endpoint="http://127.0.0.1:9")
    parent_pool = client.pool
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child reports and leaves without running the parent's cleanup
        try:
            ok = client.pool is not parent_pool and client.pool is client.pool
            os.write(write, b"fresh" if ok else b"reused")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 16)
    os.close(read)
    os.waitpid(pid, 0)

    assert answer == b"fresh"
    assert client.pool is parent_pool  # the parent keeps its connections


def test_an_endpoint_with_a_path_is_posted_to_that_path_once() -> None:
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.handle_request)
    thread.start()
    try:
        endpoint = f"http://127.0.0.1:{server.server_port}/dynamo"
        client = JsonClient(DYNAMODB, region="us-east-1", endpoint=endpoint, credentials=_Fixed())
        assert client.call("ListTables", {}) == {}
    finally:
        thread.join(5)
        server.server_close()

    assert seen == ["/dynamo"]  # the path that was signed, not /dynamo/dynamo


class _Fixed:
    def get(self) -> Any:
        from lambdasmith.kit.aws.credentials import Credentials

        return Credentials("testing", "testing")


# ---------------------------------------------------------------------------- DynamoDB Local


@pytest.fixture
def local(dynamodb_local: Any, aws_credentials: None) -> Iterator[JsonClient]:
    yield JsonClient(DYNAMODB, endpoint=dynamodb_local.endpoint)


@pytest.fixture
def names(local: JsonClient) -> Iterator[list[str]]:
    made: list[str] = []
    yield made
    for name in made:
        delete_table(name, local)


def _new_table(local: JsonClient, names: list[str], spec: TableSpec = THINGS) -> DynamoTable:
    name = f"unit-{uuid.uuid4().hex[:12]}-{spec.name}"
    names.append(name)
    create_table(spec, name, local)
    return DynamoTable(spec, name, local)


def test_create_table_is_idempotent_with_index_and_ttl(local: JsonClient, names: list[str]) -> None:
    table = _new_table(local, names)
    create_table(THINGS, table.name, local)  # again: fine

    described = local.call("DescribeTable", {"TableName": table.name})["Table"]
    assert described["TableStatus"] == "ACTIVE"
    assert described["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    [index] = described["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "byOwner"
    assert index["Projection"]["ProjectionType"] == "ALL"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["GSI1PK", "GSI1SK"]
    ttl = local.call("DescribeTimeToLive", {"TableName": table.name})["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}


def test_create_table_refuses_an_existing_table_of_another_shape(local: JsonClient, names: list[str]) -> None:
    table = _new_table(local, names)

    with pytest.raises(ValidationError):
        create_table(TableSpec("other", pk="id", sk="kind"), table.name, local)
    with pytest.raises(ValidationError):
        create_table(TableSpec("x", indexes=(Index("byOther", "A", "B"),), ttl="expires"), table.name, local)


def test_delete_table_reports_whether_there_was_one(local: JsonClient) -> None:
    name = f"unit-{uuid.uuid4().hex[:12]}-gone"
    create_table(PLAIN, name, local)

    assert delete_table(name, local) is True
    assert delete_table(name, local) is False


def test_bytes_survive_dynamodb(local: JsonClient, names: list[str]) -> None:
    table = _new_table(local, names)
    table.put({"PK": "p", "SK": "s", "blob": b"\x00\xff", "nested": [b"x"]})

    assert table.get({"PK": "p", "SK": "s"}) == {"PK": "p", "SK": "s", "blob": b"\x00\xff", "nested": [b"x"]}


@pytest.mark.parametrize("ttl", ["1970", True, [PAST]], ids=["str", "bool", "list"])
def test_conditions_treat_a_non_numeric_ttl_as_live(local: JsonClient, names: list[str], ttl: object) -> None:
    table = _new_table(local, names)
    key = {"PK": "p", "SK": "s"}
    table.put({**key, "expires": ttl, "state": "open"})

    with pytest.raises(ConditionFailed):
        table.put({**key, "n": 1}, Absent())
    table.put({**key, "expires": ttl, "state": "open", "n": 1}, AllOf((Exists(), AttrEquals("state", "open"))))
    assert table.update(key, Update(add={"n": 1}), Exists())["n"] == 2


def test_a_page_stays_full_past_many_expired_items(local: JsonClient, names: list[str]) -> None:
    table = _new_table(local, names)
    table.batch_put([{"PK": "p", "SK": f"a{i:02d}", "expires": PAST} for i in range(30)])
    table.batch_put([{"PK": "p", "SK": f"b{i}", "expires": FUTURE} for i in range(3)])

    first = table.query("p", limit=2)
    rest = table.query("p", limit=2, cursor=first.cursor)

    assert [i["SK"] for i in first.items] == ["b0", "b1"]
    assert [i["SK"] for i in rest.items] == ["b2"] and rest.cursor is None


def test_a_transaction_patch_of_an_expired_item_starts_afresh(local: JsonClient, names: list[str]) -> None:
    table = _new_table(local, names)
    key = {"PK": "p", "SK": "s"}
    table.put({**key, "expires": PAST, "hits": 5, "stale": "yes"})

    table.transact([Write(table, Patch(key, Update(add={"hits": 1}), AttrAbsent("stale")))])

    assert table.get(key) == {**key, "hits": 1}


def test_a_transaction_patch_of_an_expired_item_still_checks_its_condition(
    local: JsonClient, names: list[str]
) -> None:
    table = _new_table(local, names)
    key = {"PK": "p", "SK": "s"}
    table.put({**key, "expires": PAST, "v": 1})

    with pytest.raises(TransactionCanceled) as e:
        table.transact(
            [
                Write(table, Patch(key, Update(add={"v": 1}), AttrEquals("v", 1))),
                Write(table, Put({"PK": "q", "SK": "s"})),
            ]
        )

    assert e.value.reasons == ["ConditionalCheckFailed", None]
    assert table.get({"PK": "q", "SK": "s"}) is None


def test_an_empty_patch_in_a_transaction(local: JsonClient, names: list[str]) -> None:
    table = _new_table(local, names)
    live, missing, expired = ({"PK": "p", "SK": s} for s in ("live", "missing", "expired"))
    table.put({**live, "keep": 1})
    table.put({**expired, "expires": PAST, "stale": 1})

    table.transact([Write(table, Patch(k, Update())) for k in (live, missing, expired)])

    assert table.get(live) == {**live, "keep": 1}
    assert table.get(missing) == missing
    assert table.get(expired) == expired


def test_open_table_on_dynamodb_uses_the_environment(
    dynamodb_local: Any, aws_credentials: None, monkeypatch: pytest.MonkeyPatch, local: JsonClient, names: list[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", dynamodb_local.endpoint)
    made = _new_table(local, names)
    other = _new_table(local, names, PLAIN)

    table = open_table(THINGS, made.name, backend="dynamodb")
    plain = open_table(PLAIN, other.name, backend="dynamodb")
    table.transact([Write(table, Put({"PK": "a", "SK": "s"})), Write(plain, Put({"PK": "a", "SK": "s"}))])

    assert isinstance(table, DynamoTable)
    assert made.get({"PK": "a", "SK": "s"}) == {"PK": "a", "SK": "s"}
    assert other.get({"PK": "a", "SK": "s"}) == {"PK": "a", "SK": "s"}
