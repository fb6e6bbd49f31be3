"""ListFunctions and GetFunction on the local Invoke API, through boto3 and the AWS CLI, against
a `lambdasmith serve invoke` started here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tests.cli.support import clean_env
from tests.support.serving import Served

pytestmark = pytest.mark.e2e

AWS = Path(sys.executable).with_name("aws")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("discovery")
    served = Served(str(tmp / "data"), ["invoke"], clean_env(tmp, AWS_REGION="us-east-1")).start()
    yield served
    assert served.stop() == 0


@pytest.fixture(scope="module")
def client(server):
    return boto3.client("lambda", endpoint_url=server.urls["invoke"], region_name="us-east-1",
                        aws_access_key_id="local", aws_secret_access_key="local",
                        config=Config(retries={"max_attempts": 1}))  # fmt: skip


def test_list_functions_names_python_and_shell_functions(client):
    functions = {f["FunctionName"]: f for f in client.list_functions()["Functions"]}
    assert {"badges", "items", "wardrobe-api", "wardrobe-worker", "health", "echo_request"} <= set(functions)
    items, health = functions["items"], functions["health"]
    assert items["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:items"
    assert items["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}"
    assert items["Handler"] == "lambdasmith.items.app.handler"
    assert (items["MemorySize"], items["Timeout"], items["Version"]) == (128, 30, "$LATEST")
    assert (health["Runtime"], health["Handler"], health["Timeout"]) == ("provided.al2023", "health.run", 10)


def test_get_function_and_a_missing_one(client):
    got = client.get_function(FunctionName="health")
    assert got["Configuration"]["FunctionName"] == "health" and got["Configuration"]["State"] == "Active"
    assert client.get_function(FunctionName="arn:aws:lambda:us-east-1:000000000000:function:items")[
        "Configuration"]["FunctionName"] == "items"  # fmt: skip
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="function:nope"):
        client.get_function(FunctionName="nope")


def test_a_listed_shell_function_can_be_invoked(client):
    reply = client.invoke(FunctionName="health", Payload=b"{}")
    assert reply["StatusCode"] == 200 and json.loads(reply["Payload"].read())["statusCode"] == 200


@pytest.mark.skipif(not AWS.exists(), reason="the AWS CLI (a dev dependency) is not installed")
def test_aws_cli_list_functions(server, tmp_path):
    env = clean_env(tmp_path, AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local", AWS_DEFAULT_REGION="us-east-1")
    r = subprocess.run([str(AWS), "lambda", "list-functions", "--endpoint-url", server.urls["invoke"], "--output",
                        "json"], capture_output=True, text=True, env=env, timeout=60)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "items" in {f["FunctionName"] for f in json.loads(r.stdout)["Functions"]}
