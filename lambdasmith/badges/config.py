"""Every knob of the badges service, read once from the environment (defaults work on one machine)."""

from __future__ import annotations

import os

from lambdasmith.kit.backends import default_data_dir
from lambdasmith.kit.values import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Mapping


class BadgesConfig(Record):
    """Defaults work on one machine; the comment names the environment variable behind a knob."""

    _defaults = {
        "data_dir": ".lambdasmith",  # LAMBDASMITH_DATA_DIR
        "table_backend": "sqlite",  # LAMBDASMITH_TABLE_BACKEND
        "secret_backend": "sqlite",  # LAMBDASMITH_SECRET_BACKEND
        "results_table": "badges-test-results",  # BADGES_RESULTS_TABLE
        "nonces_table": "badges-nonces",  # BADGES_NONCES_TABLE
        "orgs_table": "badges-org-secrets",  # BADGES_ORGS_TABLE
        "nuget_base_url": "https://api.nuget.org",  # NUGET_BASE_URL
        "github_api_url": "https://api.github.com",  # GITHUB_API_URL
        "max_body_bytes": 64 * 1024,
        "timestamp_max_age_s": 5 * 60,
        "timestamp_max_skew_s": 60,
        "nonce_ttl_s": 45 * 60,
        "result_ttl_s": 730 * 24 * 3600,
        "upstream_cache_ttl_s": 15 * 60,  # BADGES_UPSTREAM_CACHE_TTL
        "upstream_timeout_s": 10.0,
        "secret_cache_ttl_s": 60.0,
    }
    __slots__ = tuple(_defaults)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "BadgesConfig":
        d = cls._defaults
        return cls(
            data_dir=default_data_dir(env),
            table_backend=env.get("LAMBDASMITH_TABLE_BACKEND", d["table_backend"]),
            secret_backend=env.get("LAMBDASMITH_SECRET_BACKEND", d["secret_backend"]),
            results_table=env.get("BADGES_RESULTS_TABLE", d["results_table"]),
            nonces_table=env.get("BADGES_NONCES_TABLE", d["nonces_table"]),
            orgs_table=env.get("BADGES_ORGS_TABLE", d["orgs_table"]),
            nuget_base_url=env.get("NUGET_BASE_URL", d["nuget_base_url"]).rstrip("/"),
            github_api_url=env.get("GITHUB_API_URL", d["github_api_url"]).rstrip("/"),
            upstream_cache_ttl_s=float(env.get("BADGES_UPSTREAM_CACHE_TTL", d["upstream_cache_ttl_s"])),
        )
