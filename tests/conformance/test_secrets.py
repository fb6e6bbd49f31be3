"""The one conformance suite every secret backend passes: SQLite, Secrets Manager, SSM (moto).

The AWS backends get a per-test name prefix: moto's server is shared by the session.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import pytest

from lambdasmith.kit.sqlite import Database

if TYPE_CHECKING:
    from lambdasmith.kit.secrets.port import SecretStore  # a Protocol for type checkers only


def _sqlite(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SecretStore]:
    from lambdasmith.kit.secrets.sqlite import SqliteSecrets

    path = tmp_path / "state" / "lambdasmith.db"
    yield SqliteSecrets(Database.open(path))
    Database.open(path).close()


def _secretsmanager(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SecretStore]:
    from lambdasmith.kit.secrets.aws import SecretsManagerSecrets

    request.getfixturevalue("moto_env")
    yield SecretsManagerSecrets(prefix=f"t{os.urandom(5).hex()}/")


def _ssm(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SecretStore]:
    from lambdasmith.kit.secrets.aws import SsmSecrets

    request.getfixturevalue("moto_env")
    yield SsmSecrets(prefix=f"t{os.urandom(5).hex()}/")


SECRET_BACKENDS = {"sqlite": _sqlite, "secretsmanager": _secretsmanager, "ssm": _ssm}


@pytest.fixture(params=sorted(SECRET_BACKENDS))
def secrets(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SecretStore]:
    yield from SECRET_BACKENDS[request.param](tmp_path, request)


def test_missing_secret_is_none(secrets: SecretStore):
    assert secrets.get("never-stored") is None


def test_put_then_get(secrets: SecretStore):
    assert secrets.put("hmac-key", "s3cr3t") is True
    assert secrets.get("hmac-key") == "s3cr3t"


def test_put_of_the_same_value_changes_nothing(secrets: SecretStore):
    assert secrets.put("hmac-key", "s3cr3t") is True
    assert secrets.put("hmac-key", "s3cr3t") is False
    assert secrets.get("hmac-key") == "s3cr3t"


def test_put_of_a_new_value_replaces_it(secrets: SecretStore):
    secrets.put("hmac-key", "old")
    assert secrets.put("hmac-key", "new") is True
    assert secrets.get("hmac-key") == "new"


def test_delete(secrets: SecretStore):
    secrets.put("hmac-key", "s3cr3t")
    secrets.delete("hmac-key")
    assert secrets.get("hmac-key") is None


def test_delete_of_a_missing_secret_is_quiet(secrets: SecretStore):
    secrets.delete("never-stored")
    assert secrets.get("never-stored") is None


def test_put_after_delete_stores_again(secrets: SecretStore):
    secrets.put("hmac-key", "first")
    secrets.delete("hmac-key")
    assert secrets.put("hmac-key", "second") is True
    assert secrets.get("hmac-key") == "second"


@pytest.mark.parametrize(
    "value",
    ["Grüße, 世界 ✓ 𝄞", "line one\nline two\ttabbed", '{"kid": "k1", "pem": "-----BEGIN KEY-----\\nabc"}'],
    ids=["unicode", "whitespace", "json"],
)
def test_values_round_trip_exactly(secrets: SecretStore, value: str):
    assert secrets.put("value", value) is True
    assert secrets.get("value") == value


def test_names_with_slashes_are_separate_secrets(secrets: SecretStore):
    secrets.put("badges/acme/testdata", "token-a")
    secrets.put("badges/acme/other", "token-b")
    secrets.put("badges/zeta/testdata", "token-c")
    assert secrets.get("badges/acme/testdata") == "token-a"
    assert secrets.get("badges/acme/other") == "token-b"
    assert secrets.get("badges/zeta/testdata") == "token-c"
    assert secrets.get("badges/acme") is None
    secrets.delete("badges/acme/testdata")
    assert secrets.get("badges/acme/testdata") is None
    assert secrets.get("badges/acme/other") == "token-b"


# ---------------------------------------------------------------------------- what AWS holds


def test_ssm_stores_a_hierarchical_secure_string(moto_env):
    import boto3

    from lambdasmith.kit.secrets.aws import SsmSecrets

    prefix = f"t{os.urandom(5).hex()}/"
    SsmSecrets(prefix=prefix).put("badges/acme/testdata", "token-a")
    ssm = boto3.client("ssm", endpoint_url=moto_env.endpoint)
    param = ssm.get_parameter(Name=f"/{prefix}badges/acme/testdata", WithDecryption=True)["Parameter"]
    assert (param["Type"], param["Value"]) == ("SecureString", "token-a")


def test_secrets_manager_stores_the_name_as_given(moto_env):
    import boto3

    from lambdasmith.kit.secrets.aws import SecretsManagerSecrets

    prefix = f"t{os.urandom(5).hex()}/"
    SecretsManagerSecrets(prefix=prefix).put("badges/acme/testdata", "token-a")
    sm = boto3.client("secretsmanager", endpoint_url=moto_env.endpoint)
    assert sm.get_secret_value(SecretId=f"{prefix}badges/acme/testdata")["SecretString"] == "token-a"


def test_open_secrets_selects_each_backend(tmp_path, monkeypatch):
    from lambdasmith.kit.backends import open_secrets
    from lambdasmith.kit.secrets.aws import SecretsManagerSecrets, SsmSecrets
    from lambdasmith.kit.secrets.sqlite import SqliteSecrets

    monkeypatch.setenv("AWS_REGION", "us-east-1")
    assert isinstance(open_secrets(backend="sqlite", data_dir=str(tmp_path)), SqliteSecrets)
    assert isinstance(open_secrets(backend="secretsmanager"), SecretsManagerSecrets)
    ssm = open_secrets(backend="ssm", prefix="prod/")
    assert isinstance(ssm, SsmSecrets) and ssm.parameter_name("badges/acme/testdata") == "/prod/badges/acme/testdata"
    with pytest.raises(ValueError):
        open_secrets(backend="vault")
    Database.open(tmp_path / "lambdasmith.db").close()
