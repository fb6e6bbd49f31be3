"""Every knob of the items processor, read once from the environment (defaults work on one machine)."""

from __future__ import annotations

import os

from lambdasmith.kit.backends import default_data_dir
from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping


class ItemsConfig(Record):
    """Defaults work on one machine; the comment names the environment variable behind a knob."""

    _defaults = {
        "data_dir": ".lambdasmith",  # LAMBDASMITH_DATA_DIR
        "table_backend": "sqlite",  # LAMBDASMITH_TABLE_BACKEND
        "table": "items",  # ITEMS_TABLE
        "idempotency_ttl_s": 24 * 3600,  # ITEMS_IDEMPOTENCY_TTL
        "max_name_chars": 200,
    }
    __slots__ = tuple(_defaults)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "ItemsConfig":
        d = cls._defaults
        return cls(
            data_dir=default_data_dir(env),
            table_backend=env.get("LAMBDASMITH_TABLE_BACKEND", d["table_backend"]),
            table=env.get("ITEMS_TABLE", d["table"]),
            idempotency_ttl_s=int(env.get("ITEMS_IDEMPOTENCY_TTL", d["idempotency_ttl_s"])),
        )
