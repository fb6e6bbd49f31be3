"""The knobs of `lambdasmith serve`: defaults that suit one small VPS, bad values refused by name."""

from __future__ import annotations

import pytest

from lambdasmith.kit.settings import SettingError
from lambdasmith.local.serve_config import ServeConfig


def test_the_defaults():
    c = ServeConfig.from_env({}).check()
    assert c.head_timeout_s == 10 and c.body_timeout_s == 30 and c.max_connections == 1024 and c.drain_timeout_s == 30
    assert c.worker_count() >= 1 and c.proxies() == () and c.origins() == frozenset()


@pytest.mark.parametrize(("env", "named"), [
    ({"LAMBDASMITH_HEAD_TIMEOUT_S": "0"}, "LAMBDASMITH_HEAD_TIMEOUT_S"),
    ({"LAMBDASMITH_WORKERS": "-1"}, "LAMBDASMITH_WORKERS"),
    ({"LAMBDASMITH_WORKERS": "two"}, "LAMBDASMITH_WORKERS"),
    ({"LAMBDASMITH_MAX_CONNECTIONS": "0"}, "LAMBDASMITH_MAX_CONNECTIONS"),
    ({"LAMBDASMITH_LOG_FORMAT": "xml"}, "LAMBDASMITH_LOG_FORMAT"),
    ({"LAMBDASMITH_TRUSTED_PROXIES": "10.0.0.0/8, not-an-ip"}, "LAMBDASMITH_TRUSTED_PROXIES"),
])  # fmt: skip
def test_a_bad_value_is_refused_naming_its_variable(env, named):
    with pytest.raises(SettingError, match=named):
        ServeConfig.from_env(env).check()


def test_origins_and_proxies_are_normalised():
    c = ServeConfig.from_env({"LAMBDASMITH_INVOKE_ALLOWED_ORIGINS": "http://A.example/, https://b.example",
                              "LAMBDASMITH_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})  # fmt: skip
    assert c.origins() == {"http://a.example", "https://b.example"}
    assert [str(n) for n in c.proxies()] == ["127.0.0.1/32", "10.0.0.0/8"]


@pytest.mark.parametrize(("env", "console"), [({"LAMBDASMITH_LOG_FORMAT": "json", "POWERTOOLS_DEV": "true"}, False),
                                              ({"LAMBDASMITH_LOG_FORMAT": "console"}, True)])  # fmt: skip
def test_the_log_format_chosen_wins(env, console):
    assert ServeConfig.from_env(env).console() is console
