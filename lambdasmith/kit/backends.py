"""Which backend serves each port: configuration only, read from the environment.

    LAMBDASMITH_TABLE_BACKEND   sqlite (default) | dynamodb
    LAMBDASMITH_SECRET_BACKEND  sqlite (default) | secretsmanager | ssm
    LAMBDASMITH_QUEUE_BACKEND   sqlite (default) | sqs  (for sqs a queue is named by URL or name)
    LAMBDASMITH_DATA_DIR        where the embedded backends keep their file
                                (default ./.lambdasmith; /tmp/lambdasmith on Lambda)
    LAMBDASMITH_SECRETS_KEY_FILE  the key the embedded secret backend encrypts with
                                (default <data dir>/secrets.key, beside the file, not in it)

Backends are imported only when selected, so a handler never pays for one it does not use.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping

    from lambdasmith.kit.queue.port import Queue
    from lambdasmith.kit.secrets.port import SecretStore
    from lambdasmith.kit.table.port import Table, TableSpec

__all__ = ["DB_FILE", "KEY_FILE_ENV", "default_data_dir", "open_table", "open_secrets", "prepare_secrets", "open_queue"]

DB_FILE = "lambdasmith.db"
KEY_FILE_ENV = "LAMBDASMITH_SECRETS_KEY_FILE"


def default_data_dir(env: Mapping[str, str] = os.environ) -> str:
    if env.get("LAMBDASMITH_DATA_DIR"):
        return env["LAMBDASMITH_DATA_DIR"]
    if env.get("AWS_LAMBDA_FUNCTION_NAME"):
        return "/tmp/lambdasmith"  # the only writable place on Lambda
    return ".lambdasmith"


def _database(data_dir: str):
    from lambdasmith.kit.sqlite import Database

    return Database.open(os.path.join(data_dir, DB_FILE))


def open_table(spec: TableSpec, name: str, *, backend: str = "sqlite", data_dir: str = ".lambdasmith") -> Table:
    if backend == "sqlite":
        from lambdasmith.kit.table.sqlite import SqliteTable

        return SqliteTable(_database(data_dir), spec, name)
    if backend == "dynamodb":
        from lambdasmith.kit.table.dynamodb.table import DynamoTable

        return DynamoTable(spec, name)  # the client comes from the environment, on first use
    raise ValueError(f"unknown table backend {backend!r} (LAMBDASMITH_TABLE_BACKEND)")


def open_secrets(*, backend: str = "sqlite", data_dir: str = ".lambdasmith", prefix: str = "",
                 key_file: str | None = None) -> SecretStore:  # fmt: skip
    """`prefix` goes before every name on AWS (SSM names also get a leading `/`: see secrets.aws).

    sqlite: values are encrypted with the key in `key_file`, else $LAMBDASMITH_SECRETS_KEY_FILE, else
    `secrets.key` in the data dir; the file is made on first use (see secrets.sqlite).
    """
    if backend == "sqlite":
        from lambdasmith.kit.secrets.sqlite import SqliteSecrets

        return SqliteSecrets(_database(data_dir), key_file or os.environ.get(KEY_FILE_ENV) or None)
    if backend == "secretsmanager":
        from lambdasmith.kit.secrets.aws import SecretsManagerSecrets

        return SecretsManagerSecrets(prefix=prefix)
    if backend == "ssm":
        from lambdasmith.kit.secrets.aws import SsmSecrets

        return SsmSecrets(prefix=prefix)
    raise ValueError(f"unknown secret backend {backend!r} (LAMBDASMITH_SECRET_BACKEND)")


def prepare_secrets(*, backend: str = "sqlite", data_dir: str = ".lambdasmith") -> None:
    """Before serving on one machine: the embedded store's key is read (or made) and rows left in
    plain text by an older version are encrypted, so a bad key file stops `serve` at start. Nothing
    for the AWS backends."""
    if backend == "sqlite":
        from lambdasmith.kit.secrets.sqlite import SqliteSecrets

        store = open_secrets(backend=backend, data_dir=data_dir)
        assert isinstance(store, SqliteSecrets)
        store.unlock()


def open_queue(
    name: str,
    *,
    backend: str | None = None,
    data_dir: str | None = None,
    dlq: str | None = None,
    max_receive_count: int | None = None,
) -> Queue:
    """Queue `name`: backend from LAMBDASMITH_QUEUE_BACKEND unless given, data_dir likewise.

    sqlite: `dlq` and `max_receive_count` set the redrive (the DLQ is queue `dlq` of the same
    file). sqs: `name` is the queue URL (or name); redrive is the queue's own RedrivePolicy, so
    `dlq` and `max_receive_count` are not used.
    """
    backend = backend or os.environ.get("LAMBDASMITH_QUEUE_BACKEND") or "sqlite"
    if backend == "sqlite":
        from lambdasmith.kit.queue.sqlite import SqliteQueue

        return SqliteQueue(_database(data_dir or default_data_dir()), name, dlq=dlq, max_receive_count=max_receive_count)
    if backend == "sqs":
        from lambdasmith.kit.queue.sqs import SqsQueue

        return SqsQueue(name)
    raise ValueError(f"unknown queue backend {backend!r} (LAMBDASMITH_QUEUE_BACKEND)")
