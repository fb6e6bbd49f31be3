"""Our Signature V4 equals botocore's SigV4Auth for the same request and clock."""

import datetime
from unittest import mock

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from lambdasmith.kit.aws import sigv4
from lambdasmith.kit.http.wire import split_url

NOW = datetime.datetime(2026, 11, 22, 13, 14, 15, tzinfo=datetime.timezone.utc)

REQUESTS = [
    # (method, url, headers, body, service, region, token)
    ("POST", "https://dynamodb.us-east-1.amazonaws.com/", {"Content-Type": "application/x-amz-json-1.0",
     "X-Amz-Target": "DynamoDB_20120810.GetItem"}, b'{"TableName":"t","Key":{"PK":{"S":"a"}}}', "dynamodb", "us-east-1", None),
    ("POST", "https://dynamodb.eu-west-1.amazonaws.com/", {"Content-Type": "application/x-amz-json-1.0",
     "X-Amz-Target": "DynamoDB_20120810.TransactWriteItems"}, '{"TransactItems":[{"Put":{"Item":{"v":{"S":"é ✓"}}}}]}'.encode(),
     "dynamodb", "eu-west-1", "IQoJb3JpZ2luX2VjE//session+token=="),
    ("POST", "http://127.0.0.1:8123/", {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "AmazonSQS.SendMessage"},
     b'{"QueueUrl":"http://q","MessageBody":"x"}', "sqs", "us-east-1", None),
    ("POST", "https://secretsmanager.ap-southeast-2.amazonaws.com/", {"Content-Type": "application/x-amz-json-1.1",
     "X-Amz-Target": "secretsmanager.GetSecretValue"}, b'{"SecretId":"badges/acme/testdata"}', "secretsmanager", "ap-southeast-2", "tok"),
    ("POST", "https://ssm.us-west-2.amazonaws.com/", {"Content-Type": "application/x-amz-json-1.1",
     "X-Amz-Target": "AmazonSSM.GetParameter", "X-Extra": "  spaced   out  value "}, b'{"Name":"/wardrobe/jwt","WithDecryption":true}',
     "ssm", "us-west-2", None),
    ("GET", "https://example.us-east-1.amazonaws.com/a%20b/c~d/%C3%A9", {"User-Agent": "not signed"}, b"", "execute-api", "us-east-1", None),
    ("GET", "https://example.us-east-1.amazonaws.com/path?b=2&a=1&a=0&c=x%2Fy", {}, b"", "execute-api", "us-east-1", None),
    # Dot segments and repeated slashes are removed before signing (botocore, and AWS but S3).
    ("GET", "https://example.us-east-1.amazonaws.com//a/./b/../c//d/", {}, b"", "execute-api", "us-east-1", None),
    ("PUT", "https://h.example.com:8443/x", {"Content-Type": "text/plain", "X-Amzn-Trace-Id": "Root=1-abc"}, b"\x00\xff" * 100,
     "lambda", "us-east-1", "t"),
    ("POST", "http://[::1]:9000/", {"X-Amz-Target": "DynamoDB_20120810.Query"}, b"{}", "dynamodb", "us-east-1", None),
]


def botocore_authorization(method, url, headers, body, service, region, token):
    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    creds = BotoCredentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
    with mock.patch("botocore.auth.get_current_datetime", return_value=NOW.replace(tzinfo=None)):
        SigV4Auth(creds, service, region).add_auth(req)
    return dict(req.headers)


@pytest.mark.parametrize("method,url,headers,body,service,region,token", REQUESTS)
def test_authorization_equals_botocore(method, url, headers, body, service, region, token):
    expected = botocore_authorization(method, url, headers, body, service, region, token)
    scheme, host, port, target = split_url(url)
    path, _, query = target.partition("?")
    host_header = host if port in (80, 443) else f"{host}:{port}"
    if ":" in host:
        host_header = f"[{host}]:{port}"
    ours = sigv4.sign(method, path, query, {"Host": host_header, **headers}, body,
                      access_key="AKIDEXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                      token=token, region=region, service=service, now=NOW.timestamp())
    assert ours["Authorization"] == expected["Authorization"]
    assert ours["X-Amz-Date"] == expected["X-Amz-Date"] == "20261122T131415Z"
    assert ours.get("X-Amz-Security-Token") == expected.get("X-Amz-Security-Token")


def test_a_changed_byte_changes_the_signature():
    args = dict(access_key="AK", secret_key="SK", token=None, region="us-east-1", service="dynamodb", now=NOW.timestamp())
    a = sigv4.sign("POST", "/", "", {"Host": "h"}, b'{"a":1}', **args)["Authorization"]
    b = sigv4.sign("POST", "/", "", {"Host": "h"}, b'{"a":2}', **args)["Authorization"]
    c = sigv4.sign("POST", "/", "", {"Host": "h2"}, b'{"a":1}', **args)["Authorization"]
    assert len({a, b, c}) == 3


def test_quote_is_rfc3986():
    assert sigv4.quote("a b/~é", safe="/") == "a%20b/~%C3%A9"
    assert sigv4.quote("*+!") == "%2A%2B%21"
