"""The secret port on AWS: Secrets Manager or SSM Parameter Store (SecureString).

Both follow `lambdasmith.kit.secrets.port.SecretStore`: `get` → value or None, `put` → True when the
stored value changed (it reads first, so writing the same value again is a no-op), `delete` →
gone, and deleting a missing secret is not an error.

Names: a secret name such as `badges/acme/testdata` is used as is by Secrets Manager (slashes are
allowed there), after `prefix`. SSM treats names with slashes as a hierarchy that must start
with `/`, so `SsmSecrets` maps `prefix + name` to `/` + that, unless it already starts with `/`:
`badges/acme/testdata` → `/badges/acme/testdata`, and with `prefix="/prod/"` →
`/prod/badges/acme/testdata`. Standard SSM parameters hold values of up to 4 KB.
"""

from __future__ import annotations

import os

from lambdasmith.kit.aws import errors

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdasmith.kit.aws.client import JsonClient

__all__ = ["SecretsManagerSecrets", "SsmSecrets"]


def _request_token() -> str:
    """An idempotency token (32-64 characters), so a retried write does not add a version."""
    return os.urandom(16).hex()


class SecretsManagerSecrets:
    def __init__(self, client: JsonClient | None = None, prefix: str = ""):
        if client is None:
            from lambdasmith.kit.aws.client import SECRETS_MANAGER, JsonClient

            client = JsonClient(SECRETS_MANAGER)
        self.client = client
        self.prefix = prefix

    def secret_id(self, name: str) -> str:
        return self.prefix + name

    def get(self, name: str) -> str | None:
        try:
            result = self.client.call("GetSecretValue", {"SecretId": self.secret_id(name)})
        except errors.ResourceNotFound:
            return None
        return result.get("SecretString")

    def put(self, name: str, value: str) -> bool:
        current = self.get(name)
        if current == value:
            return False
        sid = self.secret_id(name)
        if current is None:
            try:
                self.client.call("CreateSecret", {"Name": sid, "SecretString": value, "ClientRequestToken": _request_token()})
                return True
            except errors.AwsError as e:
                # Created by someone else meanwhile, or it exists with a binary value only.
                if e.code != "ResourceExistsException":
                    raise
        self.client.call("PutSecretValue", {"SecretId": sid, "SecretString": value, "ClientRequestToken": _request_token()})
        return True

    def delete(self, name: str) -> None:
        try:
            self.client.call("DeleteSecret", {"SecretId": self.secret_id(name), "ForceDeleteWithoutRecovery": True})
        except errors.ResourceNotFound:
            pass


class SsmSecrets:
    def __init__(self, client: JsonClient | None = None, prefix: str = ""):
        if client is None:
            from lambdasmith.kit.aws.client import SSM, JsonClient

            client = JsonClient(SSM)
        self.client = client
        self.prefix = prefix

    def parameter_name(self, name: str) -> str:
        full = self.prefix + name
        return full if full.startswith("/") else "/" + full

    def get(self, name: str) -> str | None:
        try:
            result = self.client.call("GetParameter", {"Name": self.parameter_name(name), "WithDecryption": True})
        except errors.ResourceNotFound:
            return None
        return (result.get("Parameter") or {}).get("Value")

    def put(self, name: str, value: str) -> bool:
        if self.get(name) == value:
            return False
        self.client.call(
            "PutParameter",
            {"Name": self.parameter_name(name), "Value": value, "Type": "SecureString", "Overwrite": True},
        )
        return True

    def delete(self, name: str) -> None:
        try:
            self.client.call("DeleteParameter", {"Name": self.parameter_name(name)})
        except errors.ResourceNotFound:
            pass
