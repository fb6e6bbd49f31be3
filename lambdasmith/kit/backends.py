"""Which backend serves each port: configuration only, read from the environment.

    LAMBDASMITH_TABLE_BACKEND   sqlite (default) | dynamodb
    LAMBDASMITH_SECRET_BACKEND  sqlite (default) | secretsmanager | ssm
    LAMBDASMITH_DATA_DIR        where the embedded backends keep their file
                                (default ./.lambdasmith; /tmp/lambdasmith on Lambda)

Backends are imported only when selected, so a handler never pays for one it does not use.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping

    from lambdasmith.kit.secrets import SecretStore
    from lambdasmith.kit.table import Table, TableSpec

DB_FILE = "lambdasmith.db"


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
        from lambdasmith.kit.sqlite_table import SqliteTable

        return SqliteTable(_database(data_dir), spec, name)
    raise ValueError(f"unknown table backend {backend!r} (LAMBDASMITH_TABLE_BACKEND)")


def open_secrets(*, backend: str = "sqlite", data_dir: str = ".lambdasmith") -> SecretStore:
    if backend == "sqlite":
        from lambdasmith.kit.secrets import SqliteSecrets

        return SqliteSecrets(_database(data_dir))
    raise ValueError(f"unknown secret backend {backend!r} (LAMBDASMITH_SECRET_BACKEND)")
