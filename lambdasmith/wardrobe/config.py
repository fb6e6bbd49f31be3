"""Every knob of the wardrobe service, read once from the environment (defaults work on one machine)."""

from __future__ import annotations

from lambdasmith.kit.backends import default_data_dir
from lambdasmith.kit.settings import Settings, integer, number, optional_text, text

__all__ = ["WardrobeConfig"]


class WardrobeConfig(Settings):
    """Each line: the field, its type, the environment variable behind it (if any), its default."""

    data_dir = text("LAMBDASMITH_DATA_DIR", ".lambdasmith", when_unset=default_data_dir)
    table_backend = text("LAMBDASMITH_TABLE_BACKEND", "sqlite")
    secret_backend = text("LAMBDASMITH_SECRET_BACKEND", "sqlite")
    queue_backend = text("LAMBDASMITH_QUEUE_BACKEND", "sqlite")
    table = text("WARDROBE_TABLE", "wardrobe")
    share_queue = text("WARDROBE_SHARE_QUEUE", "wardrobe-shares")  # a name, or the queue URL on SQS
    share_dlq = text("WARDROBE_SHARE_DLQ", "wardrobe-shares-dlq")  # embedded queue only; SQS has its RedrivePolicy
    max_receive_count = integer("WARDROBE_MAX_RECEIVE_COUNT", 3)  # embedded queue only
    jwt_secret_name = text("WARDROBE_JWT_SECRET_NAME", "wardrobe/jwt-secret")  # SSM: /wardrobe/jwt-secret
    jwt_issuer = optional_text("WARDROBE_JWT_ISSUER")  # checked when set
    jwt_audience = optional_text("WARDROBE_JWT_AUDIENCE")  # checked when set
    jwt_leeway_s = integer(default=120)
    secret_cache_ttl_s = number(default=300.0)
    idempotency_ttl_s = integer(default=24 * 3600)
    applied_event_ttl_s = integer(default=15 * 24 * 3600)  # longer than SQS can keep a message (14 days)
    max_body_bytes = integer(default=64 * 1024)
    list_read_budget = integer(default=2000)  # items read at most to fill one filtered page
