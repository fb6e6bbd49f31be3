"""What every end-to-end module shares: the guard against unhandled server errors, and the
environment that points a served system at the AWS servers on loopback."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def no_unhandled_errors(request):
    """Bad input gets a 4xx, never a 5xx: any unhandled error logged by the module's server
    during a test fails that test, with the server's own log lines."""
    if "server" not in request.fixturenames:
        yield
        return
    server = request.getfixturevalue("server")
    seen = len(server.output)
    yield
    errors = [line for line in server.output[seen:] if '"unhandled error"' in line]
    assert not errors, "server logged unhandled errors:\n" + "".join(errors)


@pytest.fixture(scope="module")
def aws_backend_env(dynamodb_local, moto_server, tmp_path_factory) -> dict[str, str]:
    """Fake credentials and every AWS endpoint on loopback; nothing of the developer's AWS setup."""
    home = tmp_path_factory.mktemp("aws-home")
    return {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_REGION": "us-east-1",
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "none"), "AWS_CONFIG_FILE": str(home / "none"),
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_local.endpoint,
        "AWS_ENDPOINT_URL_SQS": moto_server.endpoint,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": moto_server.endpoint,
        "AWS_ENDPOINT_URL_SSM": moto_server.endpoint,
    }
