"""Create and delete DynamoDB tables for a `TableSpec` (tests, local set-up, `setup` commands).

Infrastructure as code owns the tables on AWS; these make the same shape (on-demand, string
keys, every GSI projecting ALL, TTL on) where nothing else does.
"""

from __future__ import annotations

import time

from lambdasmith.kit.aws import errors as aws
from lambdasmith.kit.table.dynamodb.client import default_client
from lambdasmith.kit.table.port import TableSpec, ValidationError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from lambdasmith.kit.aws.client import JsonClient

__all__ = ["create_table", "delete_table"]


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
