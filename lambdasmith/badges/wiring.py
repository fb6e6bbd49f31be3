"""The badges store (its three tables and the organisations' secrets), opened from its config:
what the handler and the CLI share (the CLI never imports the HTTP module)."""

from __future__ import annotations

from lambdasmith.badges.store import BadgeStore

__all__ = ["open_store", "prepare_local"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdasmith.badges.config import BadgesConfig


def open_store(config: BadgesConfig) -> BadgeStore:
    from lambdasmith.badges.store import NONCES, ORGS, RESULTS
    from lambdasmith.kit.backends import open_secrets, open_table
    from lambdasmith.kit.secrets import CachedSecrets

    def table(spec, name):
        return open_table(spec, name, backend=config.table_backend, data_dir=config.data_dir)

    return BadgeStore(
        table(RESULTS, config.results_table),
        table(NONCES, config.nonces_table),
        table(ORGS, config.orgs_table),
        CachedSecrets(open_secrets(backend=config.secret_backend, data_dir=config.data_dir), ttl=config.secret_cache_ttl_s),
        nonce_ttl_s=config.nonce_ttl_s,
        result_ttl_s=config.result_ttl_s,
    )


def prepare_local(config: BadgesConfig) -> None:
    """Nothing to set up on one machine: the tables are made on first use."""
