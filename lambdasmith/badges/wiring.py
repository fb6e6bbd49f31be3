"""The badges service's store, opened from its config: the one place that picks tables and secrets.

The handler (app.py) and the CLI both open the store here, so the CLI never imports the HTTP
module. Backends are imported only when a function runs (cold start: see kit/backends.py).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from lambdasmith.badges.config import BadgesConfig
    from lambdasmith.badges.store import BadgeStore
    from lambdasmith.kit.table.port import Table, TableSpec

__all__ = ["open_store", "prepare_local"]


def open_store(config: BadgesConfig) -> BadgeStore:
    from lambdasmith.badges.store import NONCES, ORGS, RESULTS, BadgeStore
    from lambdasmith.kit.backends import open_secrets, open_table
    from lambdasmith.kit.secrets.port import CachedSecrets

    def table(spec: TableSpec, name: str) -> Table:
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
    """On one machine, the embedded secrets are unlocked (key checked or made, old plaintext
    encrypted); tables are created on first use, orgs by `register-org`."""
    from lambdasmith.kit.backends import prepare_secrets

    prepare_secrets(backend=config.secret_backend, data_dir=config.data_dir)
