"""Every knob of the wardrobe service, read once from the environment (defaults work on one machine)."""

from __future__ import annotations

import os

from lambdasmith.kit.backends import default_data_dir
from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping


class WardrobeConfig(Record):
    """Defaults work on one machine; the comment names the environment variable behind a knob."""

    _defaults = {
        "data_dir": ".lambdasmith",  # LAMBDASMITH_DATA_DIR
        "table_backend": "sqlite",  # LAMBDASMITH_TABLE_BACKEND
        "secret_backend": "sqlite",  # LAMBDASMITH_SECRET_BACKEND
        "queue_backend": "sqlite",  # LAMBDASMITH_QUEUE_BACKEND
        "table": "wardrobe",  # WARDROBE_TABLE
        "share_queue": "wardrobe-shares",  # WARDROBE_SHARE_QUEUE (name, or URL on SQS)
        "share_dlq": "wardrobe-shares-dlq",  # WARDROBE_SHARE_DLQ (embedded queue only; SQS has its RedrivePolicy)
        "max_receive_count": 3,  # WARDROBE_MAX_RECEIVE_COUNT (embedded queue only)
        "jwt_secret_name": "wardrobe/jwt-secret",  # WARDROBE_JWT_SECRET_NAME (SSM: /wardrobe/jwt-secret)
        "jwt_issuer": None,  # WARDROBE_JWT_ISSUER: checked when set
        "jwt_audience": None,  # WARDROBE_JWT_AUDIENCE: checked when set
        "jwt_leeway_s": 120,
        "secret_cache_ttl_s": 300.0,
        "idempotency_ttl_s": 24 * 3600,
        "applied_event_ttl_s": 15 * 24 * 3600,  # longer than SQS can keep a message (14 days)
        "max_body_bytes": 64 * 1024,
        "list_read_budget": 2000,  # items read at most to fill one filtered page
    }
    __slots__ = tuple(_defaults)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "WardrobeConfig":
        d = cls._defaults
        return cls(
            data_dir=default_data_dir(env),
            table_backend=env.get("LAMBDASMITH_TABLE_BACKEND", d["table_backend"]),
            secret_backend=env.get("LAMBDASMITH_SECRET_BACKEND", d["secret_backend"]),
            queue_backend=env.get("LAMBDASMITH_QUEUE_BACKEND", d["queue_backend"]),
            table=env.get("WARDROBE_TABLE", d["table"]),
            share_queue=env.get("WARDROBE_SHARE_QUEUE", d["share_queue"]),
            share_dlq=env.get("WARDROBE_SHARE_DLQ", d["share_dlq"]),
            max_receive_count=int(env.get("WARDROBE_MAX_RECEIVE_COUNT", d["max_receive_count"])),
            jwt_secret_name=env.get("WARDROBE_JWT_SECRET_NAME", d["jwt_secret_name"]),
            jwt_issuer=env.get("WARDROBE_JWT_ISSUER") or None,
            jwt_audience=env.get("WARDROBE_JWT_AUDIENCE") or None,
        )
