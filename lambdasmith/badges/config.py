"""Every knob of the badges service, read once from the environment (defaults work on one machine)."""

from __future__ import annotations

from lambdasmith.kit.backends import default_data_dir
from lambdasmith.kit.settings import Settings, integer, number, secure_url, text, url

__all__ = ["BadgesConfig"]


class BadgesConfig(Settings):
    """Each line: the field, its type, the environment variable behind it (if any), its default."""

    data_dir = text("LAMBDASMITH_DATA_DIR", ".lambdasmith", when_unset=default_data_dir)
    table_backend = text("LAMBDASMITH_TABLE_BACKEND", "sqlite")
    secret_backend = text("LAMBDASMITH_SECRET_BACKEND", "sqlite")
    results_table = text("BADGES_RESULTS_TABLE", "badges-test-results")
    nonces_table = text("BADGES_NONCES_TABLE", "badges-nonces")
    orgs_table = text("BADGES_ORGS_TABLE", "badges-org-secrets")
    nuget_base_url = url("NUGET_BASE_URL", "https://api.nuget.org")
    github_api_url = url("GITHUB_API_URL", "https://api.github.com")
    # Where users reach the service (e.g. the CloudFront or custom domain), for the absolute URLs
    # the builder page writes; empty: the request's own Host (what API Gateway sees without it).
    public_url = url("BADGES_PUBLIC_URL", "")
    # OIDC ingestion (NEW): whose tokens, for whom. Tests point the issuer at a fake on loopback.
    oidc_issuer = secure_url("BADGES_OIDC_ISSUER", "https://token.actions.githubusercontent.com", query=False)
    oidc_audience = text("BADGES_OIDC_AUDIENCE", "lambdasmith-badges")
    oidc_refetch_s = number("BADGES_OIDC_REFETCH_INTERVAL", 60.0)  # unknown `kid`s refetch the JWKS at most this often
    max_body_bytes = integer(default=64 * 1024)
    timestamp_max_age_s = integer(default=5 * 60)
    timestamp_max_skew_s = integer(default=60)
    nonce_ttl_s = integer(default=45 * 60)
    result_ttl_s = integer(default=730 * 24 * 3600)
    upstream_cache_ttl_s = number("BADGES_UPSTREAM_CACHE_TTL", 15 * 60)
    upstream_timeout_s = number(default=10.0)
    secret_cache_ttl_s = number(default=60.0)
