"""OIDC ingestion and key rotation on the AWS backends: the same tests as test_badges_oidc.py,
against `lambdasmith serve` on DynamoDB (DynamoDB Local) and Secrets Manager (moto's server)."""

from __future__ import annotations

import pytest

from tests.e2e.test_badges_aws_e2e import badges_env  # noqa: F401  (the AWS backends' variables)
from tests.e2e.test_badges_e2e import lambdasmith
from tests.e2e.test_badges_oidc import (  # noqa: F401  (collected here, on the AWS backends)
    hmac_server,
    issuer,
    server,
    test_a_replayed_token_is_refused,
    test_a_valid_token_posts_and_the_badge_shows_it,
    test_orgs_list_shows_key_ids_and_oidc_rules_on_this_backend,
    test_the_orgs_repository_and_branch_lists_apply,
    test_two_active_keys_then_the_old_one_retired,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def backend_env(badges_env, tmp_path_factory):
    r = lambdasmith("badges", "create-tables", data_dir=str(tmp_path_factory.mktemp("unused")), env=badges_env)
    assert r.returncode == 0, r.stderr
    return badges_env
