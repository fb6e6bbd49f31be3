"""Every knob of the items processor, read once from the environment (defaults work on one machine)."""

from __future__ import annotations

from lambdasmith.kit.backends import default_data_dir
from lambdasmith.kit.settings import Settings, integer, text

__all__ = ["ItemsConfig"]


class ItemsConfig(Settings):
    """Each line: the field, its type, the environment variable behind it (if any), its default."""

    data_dir = text("LAMBDASMITH_DATA_DIR", ".lambdasmith", when_unset=default_data_dir)
    table_backend = text("LAMBDASMITH_TABLE_BACKEND", "sqlite")
    table = text("ITEMS_TABLE", "items")
    idempotency_ttl_s = integer("ITEMS_IDEMPOTENCY_TTL", 24 * 3600)
    max_name_chars = integer(default=200)
