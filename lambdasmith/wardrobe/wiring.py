"""The wardrobe's store, share queue and JWT secret, opened from its config: what the API, the
share worker and the CLI share (the worker and the CLI never import the HTTP module)."""

from __future__ import annotations

__all__ = ["ensure_local_secret", "open_share_queue", "open_store", "prepare_local"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdasmith.kit.queue import Queue
    from lambdasmith.wardrobe.config import WardrobeConfig
    from lambdasmith.wardrobe.store import WardrobeStore


def open_store(config: WardrobeConfig) -> WardrobeStore:
    from lambdasmith.kit.backends import open_table
    from lambdasmith.wardrobe.store import WARDROBE, WardrobeStore

    table = open_table(WARDROBE, config.table, backend=config.table_backend, data_dir=config.data_dir)
    return WardrobeStore(table, idempotency_ttl_s=config.idempotency_ttl_s, applied_event_ttl_s=config.applied_event_ttl_s)


def open_share_queue(config: WardrobeConfig) -> Queue:
    from lambdasmith.kit.backends import open_queue

    return open_queue(config.share_queue, backend=config.queue_backend, data_dir=config.data_dir,
                      dlq=config.share_dlq, max_receive_count=config.max_receive_count)  # fmt: skip


def ensure_local_secret(config: WardrobeConfig) -> str:
    """On one machine, make the JWT secret on first use (on AWS it is an SSM parameter)."""
    import secrets as random_secrets

    from lambdasmith.kit.backends import open_secrets

    store = open_secrets(backend=config.secret_backend, data_dir=config.data_dir)
    value = store.get(config.jwt_secret_name)
    if not value:
        value = random_secrets.token_urlsafe(48)
        store.put(config.jwt_secret_name, value)
    return value


def prepare_local(config: WardrobeConfig) -> None:
    """Before `lambdasmith serve` serves the wardrobe: the JWT secret, when it lives on this machine."""
    if config.secret_backend == "sqlite":
        ensure_local_secret(config)
