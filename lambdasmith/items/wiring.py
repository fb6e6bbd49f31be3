"""The items store, opened from its config."""

from __future__ import annotations

__all__ = ["open_store", "prepare_local"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdasmith.items.config import ItemsConfig
    from lambdasmith.items.store import ItemsStore


def open_store(config: ItemsConfig) -> ItemsStore:
    from lambdasmith.items.store import ITEMS, ItemsStore
    from lambdasmith.kit.backends import open_table

    table = open_table(ITEMS, config.table, backend=config.table_backend, data_dir=config.data_dir)
    return ItemsStore(table, config.idempotency_ttl_s)


def prepare_local(config: ItemsConfig) -> None:
    """Nothing to set up on one machine: the table is made on first use."""
