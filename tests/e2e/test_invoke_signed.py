"""The Invoke API with credentials (LAMBDASMITH_INVOKE_CREDENTIALS), as it must be run on a
non-loopback address: the AWS CLI and boto3, given the configured key, work unchanged; anyone
else gets the error AWS Lambda answers. Served on 0.0.0.0, reached over loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.support.serving import Served, http

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
AWS = Path(sys.executable).with_name("aws")
KEY, SECRET = "AKIDLOCALTEST", "local-secret-of-the-operator"


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("invoke-signed")
    env = {"LAMBDASMITH_INVOKE_CREDENTIALS": f"{KEY}:{SECRET},AKIDOTHER:other-secret",
           "LAMBDASMITH_EXTRA_FUNCTIONS": "echo=tests.support.invoke_functions:echo",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}  # fmt: skip
    served = Served(str(tmp / "data"), ["invoke"], env)
    served.start_args = ["--host", "0.0.0.0"]
    served.start()
    port = served.urls["invoke"].rsplit(":", 1)[1]
    yield f"http://127.0.0.1:{port}"
    assert served.stop() == 0


def client(api: str, key: str = KEY, secret: str = SECRET, region: str = "eu-west-1"):
    return boto3.client("lambda", endpoint_url=api, region_name=region, aws_access_key_id=key,
                        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1}))  # fmt: skip


def test_boto3_with_a_configured_key_invokes(api):
    for key, secret in ((KEY, SECRET), ("AKIDOTHER", "other-secret")):
        out = client(api, key, secret).invoke(FunctionName="echo", Payload=b'{"signed": true}', LogType="Tail")
        assert out["StatusCode"] == 200 and json.loads(out["Payload"].read()) == {"signed": True}
    out = client(api).invoke(FunctionName="arn:aws:lambda:eu-west-1:000000000000:function:echo:live", Payload=b"{}",
                             InvocationType="Event")  # fmt: skip
    assert out["StatusCode"] == 202


@pytest.mark.parametrize(("key", "secret", "code"), [
    (KEY, "wrong-secret", "InvalidSignatureException"),
    ("AKIDUNKNOWN", SECRET, "UnrecognizedClientException"),
])  # fmt: skip
def test_a_wrong_secret_or_an_unknown_key_is_refused(api, key, secret, code):
    with pytest.raises(ClientError) as e:
        client(api, key, secret).invoke(FunctionName="echo", Payload=b"{}")
    assert e.value.response["Error"]["Code"] == code
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unsigned_request_is_refused(api):
    r = http("POST", api + "/2015-03-31/functions/echo/invocations", body=b"{}")
    assert r.status == 403 and r.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"


def test_the_aws_cli_signs_with_the_configured_key(api, tmp_path):
    if not AWS.exists():
        pytest.fail(f"the AWS CLI is not installed at {AWS} (awscli is in the dev dependency group)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": KEY, "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
                "AWS_EC2_METADATA_DISABLED": "true", "AWS_MAX_ATTEMPTS": "1"})  # fmt: skip
    args = [str(AWS), "lambda", "invoke", "--endpoint-url", api, "--function-name", "echo", "--payload", '{"cli": 1}']
    done = subprocess.run([*args, "out.json"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "out.json").read_text()) == {"cli": 1}
    env["AWS_SECRET_ACCESS_KEY"] = "not-it"
    done = subprocess.run([*args, "bad.json"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=60)
    assert done.returncode != 0 and "InvalidSignatureException" in done.stderr
