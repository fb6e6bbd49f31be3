"""The JSON-protocol client against a scripted loopback server: wire shape, typed errors,
retries, credential sources and endpoint resolution."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lambdasmith.kit.aws import errors
from lambdasmith.kit.aws.client import DYNAMODB, SECRETS_MANAGER, SQS, JsonClient, endpoint_for
from lambdasmith.kit.aws.credentials import (
    CredentialProvider,
    Credentials,
    NoCredentials,
    from_container,
    from_shared_file,
    region,
)


class Scripted:
    """Answers each request with the next (status, body, headers) of a script; records requests."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self._answer()

            def do_GET(self):
                self._answer()

            def _answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                outer.requests.append((self.command, self.path, dict(self.headers), self.rfile.read(n)))
                status, body, headers = outer.script.pop(0)
                raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class Fixed:
    def __init__(self, creds):
        self.creds = creds

    def get(self):
        return self.creds


def client(server, service=DYNAMODB, **kw):
    sleeps = []
    c = JsonClient(service, region="us-east-1", endpoint=server.url, credentials=Fixed(Credentials("AK", "SK", "TOK")),
                   sleep=sleeps.append, rng=lambda: 1.0, **kw)
    return c, sleeps


def test_call_sends_json_protocol_request():
    s = Scripted([(200, {"Item": {"PK": {"S": "a"}}}, None)])
    c, _ = client(s)
    assert c.call("GetItem", {"TableName": "t"}) == {"Item": {"PK": {"S": "a"}}}
    method, path, headers, body = s.requests[0]
    assert (method, path) == ("POST", "/")
    assert headers["X-Amz-Target"] == "DynamoDB_20120810.GetItem"
    assert headers["Content-Type"] == "application/x-amz-json-1.0"
    assert headers["X-Amz-Security-Token"] == "TOK"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AK/")
    assert "/us-east-1/dynamodb/aws4_request" in headers["Authorization"]
    assert json.loads(body) == {"TableName": "t"}
    s.close()


def test_json_1_1_services():
    s = Scripted([(200, {"SecretString": "x"}, None)])
    c, _ = client(s, SECRETS_MANAGER)
    c.call("GetSecretValue", {"SecretId": "n"})
    assert s.requests[0][2]["Content-Type"] == "application/x-amz-json-1.1"
    assert s.requests[0][2]["X-Amz-Target"] == "secretsmanager.GetSecretValue"
    s.close()


def test_conditional_check_failed_is_typed_and_not_retried():
    s = Scripted([(400, {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                         "message": "The conditional request failed"}, None)])
    c, sleeps = client(s)
    with pytest.raises(errors.ConditionalCheckFailed) as e:
        c.call("PutItem", {})
    assert e.value.status == 400 and "conditional" in e.value.message and sleeps == []
    s.close()


def test_transaction_canceled_carries_reasons():
    body = {"__type": "com.amazonaws.dynamodb.v20120810#TransactionCanceledException", "Message": "cancelled",
            "CancellationReasons": [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Message": "x"}]}
    s = Scripted([(400, body, None)])
    c, _ = client(s)
    with pytest.raises(errors.TransactionCanceled) as e:
        c.call("TransactWriteItems", {})
    assert e.value.reasons == [None, "ConditionalCheckFailed"]
    s.close()


def test_throttling_and_5xx_are_retried_with_backoff():
    s = Scripted([
        (400, {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"}, None),
        (500, {"__type": "InternalServerError"}, None),
        (503, b"<html>busy</html>", None),
        (200, {"ok": True}, None),
    ])
    c, sleeps = client(s, max_attempts=4)
    assert c.call("Query", {}) == {"ok": True}
    assert sleeps == [0.05, 0.1, 0.2]  # full jitter with rng=1.0: base * 2**n
    # every attempt is signed afresh (same second may give the same signature, but it is present)
    assert all("Authorization" in r[2] for r in s.requests)
    s.close()


def test_retries_run_out():
    s = Scripted([(400, {"__type": "ThrottlingException", "message": "slow down"}, None)] * 2)
    c, _ = client(s, max_attempts=2)
    with pytest.raises(errors.Throttled):
        c.call("Query", {})
    s.close()


def test_sqs_query_compatible_error_maps_to_resource_not_found():
    s = Scripted([(400, {"__type": "com.amazonaws.sqs#QueueDoesNotExist", "message": "nope"},
                   {"x-amzn-query-error": "AWS.SimpleQueueService.NonExistentQueue;Sender"})])
    c, _ = client(s, SQS)
    with pytest.raises(errors.ResourceNotFound):
        c.call("GetQueueUrl", {"QueueName": "q"})
    s.close()


def test_unknown_error_is_generic_aws_error():
    s = Scripted([(400, {"__type": "com.amazon.coral.validate#SomethingOdd", "message": "odd"}, None)])
    c, _ = client(s)
    with pytest.raises(errors.AwsError) as e:
        c.call("X", {})
    assert e.value.code == "SomethingOdd" and type(e.value) is errors.AwsError
    s.close()


def test_connection_refused_is_retried_then_raised():
    c = JsonClient(DYNAMODB, region="us-east-1", endpoint="http://127.0.0.1:9", credentials=Fixed(Credentials("a", "b")),
                   sleep=lambda s: None, max_attempts=2)
    with pytest.raises(OSError):
        c.call("ListTables", {})


def test_connections_are_reused():
    s = Scripted([(200, {}, None)] * 3)
    c, _ = client(s)
    for _ in range(3):
        c.call("ListTables", {})
    assert len(s.requests) == 3
    port = int(s.url.rsplit(":", 1)[1])
    assert len(c.pool._idle[("http", "127.0.0.1", port)]) == 1  # one connection served all three
    s.close()


# ---------------------------------------------------------------- credentials and endpoints


def test_env_credentials_with_session_token():
    p = CredentialProvider({"AWS_ACCESS_KEY_ID": "AK", "AWS_SECRET_ACCESS_KEY": "SK", "AWS_SESSION_TOKEN": "T"})
    assert p.get() == Credentials("AK", "SK", "T")
    assert "SK" not in repr(p.get())


def test_container_credentials_full_uri_with_token_file(tmp_path):
    s = Scripted([(200, {"AccessKeyId": "CAK", "SecretAccessKey": "CSK", "Token": "CT",
                         "Expiration": "2099-01-01T00:00:00Z"}, None)])
    token = tmp_path / "tok"
    token.write_text("secret-token\n")
    c = from_container({"AWS_CONTAINER_CREDENTIALS_FULL_URI": s.url + "/creds",
                        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": str(token)})
    assert (c.access_key, c.secret_key, c.token) == ("CAK", "CSK", "CT") and c.expires > 4e9
    assert s.requests[0][1] == "/creds" and s.requests[0][2]["Authorization"] == "secret-token"
    s.close()


def test_temporary_credentials_refresh_before_expiry():
    s = Scripted([(200, {"AccessKeyId": "A1", "SecretAccessKey": "S", "Token": "T", "Expiration": "2030-01-01T00:00:00Z"}, None),
                  (200, {"AccessKeyId": "A2", "SecretAccessKey": "S", "Token": "T", "Expiration": "2030-01-01T06:00:00Z"}, None)])
    clock = [1893456000 - 3600.0]  # one hour before the first expiry
    p = CredentialProvider({"AWS_CONTAINER_CREDENTIALS_FULL_URI": s.url}, clock=lambda: clock[0])
    assert p.get().access_key == "A1"
    assert p.get().access_key == "A1" and len(s.requests) == 1  # cached
    clock[0] = 1893456000 - 60  # within five minutes of expiry
    assert p.get().access_key == "A2"
    s.close()


def test_shared_credentials_file_and_profile(tmp_path):
    f = tmp_path / "credentials"
    f.write_text("[default]\naws_access_key_id = D\naws_secret_access_key = DS\n\n[dev]\naws_access_key_id = V\n"
                 "aws_secret_access_key = VS\naws_session_token = VT\n")
    assert from_shared_file({"AWS_SHARED_CREDENTIALS_FILE": str(f)}) == Credentials("D", "DS")
    assert from_shared_file({"AWS_SHARED_CREDENTIALS_FILE": str(f), "AWS_PROFILE": "dev"}) == Credentials("V", "VS", "VT")
    assert from_shared_file({"AWS_SHARED_CREDENTIALS_FILE": str(f), "AWS_PROFILE": "nope"}) is None


def test_no_credentials_anywhere(tmp_path):
    with pytest.raises(NoCredentials):
        CredentialProvider({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}).get()


def test_endpoint_and_region_resolution():
    env = {"AWS_ENDPOINT_URL": "http://all:1", "AWS_ENDPOINT_URL_DYNAMODB": "http://ddb:2/"}
    assert endpoint_for(DYNAMODB, "eu-west-1", env) == "http://ddb:2"
    assert endpoint_for(SQS, "eu-west-1", env) == "http://all:1"
    assert endpoint_for(SQS, "eu-west-1", {}) == "https://sqs.eu-west-1.amazonaws.com"
    assert region({"AWS_DEFAULT_REGION": "x"}) == "x" and region({"AWS_REGION": "y", "AWS_DEFAULT_REGION": "x"}) == "y"
    assert region({}) == "us-east-1"
