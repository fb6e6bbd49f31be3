"""The three service configs keep every variable and default they had; wiring and CLIs use them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from lambdasmith.badges.config import BadgesConfig
from lambdasmith.items.config import ItemsConfig
from lambdasmith.kit.settings import SettingError
from lambdasmith.wardrobe.config import WardrobeConfig

ROOT = Path(__file__).resolve().parents[1]


# The variables and defaults as they were before kit/settings.py (the templates set these names).
VARIABLES = {
    BadgesConfig: {
        "LAMBDASMITH_DATA_DIR": "data_dir", "LAMBDASMITH_TABLE_BACKEND": "table_backend",
        "LAMBDASMITH_SECRET_BACKEND": "secret_backend", "BADGES_RESULTS_TABLE": "results_table",
        "BADGES_NONCES_TABLE": "nonces_table", "BADGES_ORGS_TABLE": "orgs_table", "NUGET_BASE_URL": "nuget_base_url",
        "GITHUB_API_URL": "github_api_url", "BADGES_UPSTREAM_CACHE_TTL": "upstream_cache_ttl_s",
        "BADGES_PUBLIC_URL": "public_url", "BADGES_OIDC_ISSUER": "oidc_issuer", "BADGES_OIDC_AUDIENCE": "oidc_audience",
        "BADGES_OIDC_REFETCH_INTERVAL": "oidc_refetch_s",
    },
    WardrobeConfig: {
        "LAMBDASMITH_DATA_DIR": "data_dir", "LAMBDASMITH_TABLE_BACKEND": "table_backend",
        "LAMBDASMITH_SECRET_BACKEND": "secret_backend", "LAMBDASMITH_QUEUE_BACKEND": "queue_backend",
        "WARDROBE_TABLE": "table", "WARDROBE_SHARE_QUEUE": "share_queue", "WARDROBE_SHARE_DLQ": "share_dlq",
        "WARDROBE_MAX_RECEIVE_COUNT": "max_receive_count", "WARDROBE_JWT_SECRET_NAME": "jwt_secret_name",
        "WARDROBE_JWT_ISSUER": "jwt_issuer", "WARDROBE_JWT_AUDIENCE": "jwt_audience",
    },
    ItemsConfig: {
        "LAMBDASMITH_DATA_DIR": "data_dir", "LAMBDASMITH_TABLE_BACKEND": "table_backend", "ITEMS_TABLE": "table",
        "ITEMS_IDEMPOTENCY_TTL": "idempotency_ttl_s",
    },
}  # fmt: skip

DEFAULTS = {
    BadgesConfig: {
        "data_dir": ".lambdasmith", "table_backend": "sqlite", "secret_backend": "sqlite",
        "results_table": "badges-test-results", "nonces_table": "badges-nonces", "orgs_table": "badges-org-secrets",
        "nuget_base_url": "https://api.nuget.org", "github_api_url": "https://api.github.com",
        "max_body_bytes": 64 * 1024, "timestamp_max_age_s": 5 * 60, "timestamp_max_skew_s": 60,
        "nonce_ttl_s": 45 * 60, "result_ttl_s": 730 * 24 * 3600, "upstream_cache_ttl_s": 900.0,
        "upstream_timeout_s": 10.0, "secret_cache_ttl_s": 60.0, "public_url": "",
        "oidc_issuer": "https://token.actions.githubusercontent.com", "oidc_audience": "lambdasmith-badges",
        "oidc_refetch_s": 60.0,
    },
    WardrobeConfig: {
        "data_dir": ".lambdasmith", "table_backend": "sqlite", "secret_backend": "sqlite", "queue_backend": "sqlite",
        "table": "wardrobe", "share_queue": "wardrobe-shares", "share_dlq": "wardrobe-shares-dlq",
        "max_receive_count": 3, "jwt_secret_name": "wardrobe/jwt-secret", "jwt_issuer": None, "jwt_audience": None,
        "jwt_leeway_s": 120, "secret_cache_ttl_s": 300.0, "idempotency_ttl_s": 24 * 3600,
        "applied_event_ttl_s": 15 * 24 * 3600, "max_body_bytes": 64 * 1024, "list_read_budget": 2000,
    },
    ItemsConfig: {
        "data_dir": ".lambdasmith", "table_backend": "sqlite", "table": "items", "idempotency_ttl_s": 24 * 3600,
        "max_name_chars": 200,
    },
}  # fmt: skip


@pytest.mark.parametrize("config", list(VARIABLES), ids=lambda c: c.__name__)
def test_every_variable_and_default_is_kept(config):
    assert config.variables() == VARIABLES[config]
    built = config.from_env({})
    assert {n: getattr(built, n) for n in config.__slots__} == DEFAULTS[config]
    assert config() == built  # built by value, the same defaults


@pytest.mark.parametrize("config", list(VARIABLES), ids=lambda c: c.__name__)
def test_on_lambda_the_data_dir_is_tmp(config):
    assert config.from_env({"AWS_LAMBDA_FUNCTION_NAME": "f"}).data_dir == "/tmp/lambdasmith"
    assert config.from_env({"AWS_LAMBDA_FUNCTION_NAME": "f", "LAMBDASMITH_DATA_DIR": "/d"}).data_dir == "/d"


def test_values_read_as_before():
    b = BadgesConfig.from_env({"NUGET_BASE_URL": "http://nuget.test/", "BADGES_UPSTREAM_CACHE_TTL": "30"})
    assert (b.nuget_base_url, b.upstream_cache_ttl_s) == ("http://nuget.test", 30.0)
    w = WardrobeConfig.from_env({"WARDROBE_MAX_RECEIVE_COUNT": "5", "WARDROBE_JWT_ISSUER": "iss", "WARDROBE_JWT_AUDIENCE": ""})
    assert (w.max_receive_count, w.jwt_issuer, w.jwt_audience) == (5, "iss", None)
    assert ItemsConfig.from_env({"ITEMS_IDEMPOTENCY_TTL": "60"}).idempotency_ttl_s == 60
    with pytest.raises(SettingError, match="ITEMS_IDEMPOTENCY_TTL='a day'"):
        ItemsConfig.from_env({"ITEMS_IDEMPOTENCY_TTL": "a day"})


def _imported(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return names


@pytest.mark.parametrize("module, http", [
    ("wardrobe/worker.py", "lambdasmith.wardrobe.api"), ("wardrobe/cli.py", "lambdasmith.wardrobe.api"),
    ("badges/cli.py", "lambdasmith.badges.app"),
])  # fmt: skip
def test_workers_and_clis_open_resources_through_wiring_not_the_http_module(module, http):
    imported = _imported(ROOT / "lambdasmith" / module)
    assert http not in imported
    assert any(name.endswith(".wiring") or ".wiring." in name for name in imported)
