"""The wardrobe's store, share queue and secrets, opened from its config.

The API handler, the share worker and the CLI all open their resources here, so neither the
worker nor the CLI imports the HTTP module. Backends are imported only when a function runs
(cold start: see kit/backends.py).
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from lambdasmith.kit.queue.port import Queue
    from lambdasmith.kit.secrets.port import SecretStore
    from lambdasmith.wardrobe.config import WardrobeConfig
    from lambdasmith.wardrobe.store import WardrobeStore

__all__ = ["ensure_local_secret", "mint_token", "open_secrets", "open_share_queue", "open_store", "prepare_local"]


def open_store(config: WardrobeConfig) -> WardrobeStore:
    from lambdasmith.kit.backends import open_table
    from lambdasmith.wardrobe.store import WARDROBE, WardrobeStore

    table = open_table(WARDROBE, config.table, backend=config.table_backend, data_dir=config.data_dir)
    return WardrobeStore(table, idempotency_ttl_s=config.idempotency_ttl_s, applied_event_ttl_s=config.applied_event_ttl_s)


def open_share_queue(config: WardrobeConfig) -> Queue:
    from lambdasmith.kit.backends import open_queue

    return open_queue(config.share_queue, backend=config.queue_backend, data_dir=config.data_dir,
                      dlq=config.share_dlq, max_receive_count=config.max_receive_count)  # fmt: skip


def open_secrets(config: WardrobeConfig) -> SecretStore:
    """The API's secrets, cached for `secret_cache_ttl_s` (a warm Lambda skips the network)."""
    from lambdasmith.kit import backends
    from lambdasmith.kit.secrets.port import CachedSecrets

    return CachedSecrets(backends.open_secrets(backend=config.secret_backend, data_dir=config.data_dir),
                         ttl=config.secret_cache_ttl_s)  # fmt: skip


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
    """Before serving on one machine: the JWT secret exists when secrets are embedded (sqlite)."""
    if config.secret_backend == "sqlite":
        ensure_local_secret(config)


def mint_token(config: WardrobeConfig, user: str, ttl_s: int = 24 * 3600) -> str:
    """A token for `user` signed with the local secret (made on first use): for trying the API."""
    from lambdasmith.kit.auth import jwt

    now = int(time.time())
    claims: dict[str, Any] = {"sub": user, "iat": now, "exp": now + ttl_s}
    if config.jwt_issuer:
        claims["iss"] = config.jwt_issuer
    if config.jwt_audience:
        claims["aud"] = config.jwt_audience
    return jwt.encode(claims, ensure_local_secret(config))
